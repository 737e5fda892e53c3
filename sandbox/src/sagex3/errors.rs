//! Sage X3's error bodies.
//!
//! - GraphQL / gateway (facts §2.2 [X3-ERR]): 400
//!   `{"errors":[{"message":...}],"extensions":{}}`; 401
//!   `{"message":"Unauthorised"}`; 500
//!   `{"$severity":"error","$dataCode":"InternalServerError","$message":"","$source":"Gateway"}`.
//! - api1 (Syracuse): the facts give no body (UNVERIFIED, §2.1 "Create").
//!   Decision: the gateway's `$severity`/`$dataCode`/`$message` fields plus
//!   Syracuse's `$diagnoses` array with the same message, so a client
//!   reading either finds it. Injected faults use this shape too.

use actix_web::http::{header, StatusCode};
use actix_web::HttpResponse;
use serde_json::{json, Value};

/// The `$dataCode` that goes with a status.
pub fn data_code(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "BadRequest",
        401 => "Unauthorised",
        403 => "Forbidden",
        404 => "NotFound",
        405 => "MethodNotAllowed",
        409 => "Conflict",
        429 => "TooManyRequests",
        501 => "NotImplemented",
        503 => "ServiceUnavailable",
        504 => "GatewayTimeout",
        _ => "InternalServerError",
    }
}

/// An api1 (Syracuse) error body.
pub fn api1_body(status: StatusCode, message: &str) -> Value {
    json!({
        "$severity": "error",
        "$dataCode": data_code(status),
        "$message": message,
        "$source": "Syracuse",
        "$diagnoses": [{ "$severity": "error", "$message": message }],
    })
}

/// An api1 error response; a 401 carries the Basic challenge.
pub fn api1(status: StatusCode, message: &str) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    if status == StatusCode::UNAUTHORIZED {
        response.insert_header((header::WWW_AUTHENTICATE, "Basic realm=\"Syracuse\""));
    }
    response.json(api1_body(status, message))
}

/// The gateway's 401 (facts §2.2 [X3-ERR]): token missing, bad or expired.
pub fn unauthorised() -> HttpResponse {
    HttpResponse::Unauthorized().json(json!({ "message": "Unauthorised" }))
}

/// A refused JWT issued in the future: "error 21" (facts §2.2 [TIMO]). The
/// shape is not documented; decision: the 401 body with `code: 21` and a
/// reason added.
pub fn error_21(reason: &str) -> HttpResponse {
    HttpResponse::Unauthorized().json(json!({
        "message": "Unauthorised",
        "code": 21,
        "details": reason,
    }))
}

/// The gateway's `$severity` shape (facts §2.2 [X3-ERR]), used for the
/// token route's 400/403 messages ("Invalid grant type", ...).
pub fn gateway(status: StatusCode, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({
        "$severity": "error",
        "$dataCode": data_code(status),
        "$message": message,
        "$source": "Gateway",
    }))
}

/// A GraphQL request error (facts §2.2 [X3-ERR] 400 shape).
pub fn graphql(status: StatusCode, messages: &[String]) -> HttpResponse {
    let errors: Vec<Value> = messages.iter().map(|m| json!({ "message": m })).collect();
    HttpResponse::build(status).json(json!({ "errors": errors, "extensions": {} }))
}

/// An error in X3's shape, for the core's injected faults.
pub fn error_response(status: StatusCode, message: &str) -> HttpResponse {
    api1(status, message)
}
