use super::*;

#[test]
fn odata_strings_double_quotes() {
    assert_eq!(odata_string("O'Brien"), "'O''Brien'");
    assert_eq!(odata_string("a''b"), "'a''''b'");
}

fn err(status: u16, body: &str) -> ConnectorError {
    let call = OutsideCall {
        method: "POST",
        path: "/x".into(),
    };
    decode_error(call, status, &HeaderMap::new(), body.as_bytes())
}

#[test]
fn errors_decode_on_code_and_status() {
    let body = |code: &str, msg: &str| {
        format!(r#"{{"error":{{"code":"{code}","message":{{"lang":"en-US","value":"{msg}"}}}}}}"#)
    };
    match err(409, &body("FieldInvalid", "Item number X does not exist.")) {
        ConnectorError::Refused {
            status,
            code,
            message,
            retryable,
            ..
        } => {
            assert_eq!(status, 409);
            assert_eq!(code.as_deref(), Some("FieldInvalid"));
            assert_eq!(message, "Item number X does not exist.");
            assert!(!retryable);
        }
        other => panic!("{other:?}"),
    }
    assert!(err(500, &body("DBLinkError", "db down")).is_retryable());
    assert!(err(
        409,
        &body("General", "The record is locked by another user.")
    )
    .is_retryable());
    assert!(!err(400, &body("InvalidParameters", "bad")).is_retryable());
    assert!(matches!(
        err(401, &body("Unauthorized", "no")),
        ConnectorError::Unauthorized { status: 401, .. }
    ));
    assert!(matches!(
        err(403, &body("Forbidden", "no")),
        ConnectorError::Unauthorized { status: 403, .. }
    ));
    let e = err(504, "");
    assert!(e.outcome_unknown() && e.is_retryable(), "{e}");
    let e = err(500, "<html>IIS</html>");
    assert!(e.is_retryable());
    assert!(e.to_string().contains("<html>IIS</html>"), "{e}");
}

#[test]
fn settings_are_checked() {
    let ok = Sage300Settings::new(
        Url::parse("http://h/Sage300WebApi/v1.0/-").unwrap(),
        "SAMLTD",
        "webapi",
        SecretString::from("pw"),
    );
    let client = Sage300::new(ok.clone()).unwrap();
    assert_eq!(
        client.url("OE/OEOrders", &[]).as_str(),
        "http://h/Sage300WebApi/v1.0/-/SAMLTD/OE/OEOrders"
    );
    let mut bad = ok.clone();
    bad.reference_field = "OrderReference eq 'x' or 1".into();
    assert!(matches!(
        Sage300::new(bad),
        Err(ConnectorError::Invalid { .. })
    ));
    let mut bad = ok;
    bad.company = "SAM/LTD".into();
    assert!(Sage300::new(bad).is_err());
    assert!(!format!("{client:?}").contains("pw"));
}
