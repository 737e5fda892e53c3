//! Removing secrets from what the audit trail stores.

use serde_json::Value;

/// What a redacted value is replaced with.
const REDACTED: &str = "[redacted]";

/// Whether a key names a secret: it contains (ignoring case) `password`,
/// `passwd`, `secret`, `token`, `authorization`, `consumer_key`, `api_key`,
/// `apikey` or `signature`.
pub fn is_secret_key(key: &str) -> bool {
    const WORDS: [&str; 9] = [
        "password",
        "passwd",
        "secret",
        "token",
        "authorization",
        "consumer_key",
        "api_key",
        "apikey",
        "signature",
    ];
    let key = key.to_ascii_lowercase().replace('-', "_");
    WORDS.iter().any(|w| key.contains(w))
}

/// Removes every object key that names a secret ([`is_secret_key`]), at any
/// depth, and redacts secrets written inside strings ([`redact_text`]).
pub fn strip_secrets(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|key, _| !is_secret_key(key));
            for v in map.values_mut() {
                strip_secrets(v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(strip_secrets),
        Value::String(s) => {
            if let Some(clean) = redact(s) {
                *s = clean;
            }
        }
        _ => {}
    }
}

/// `text` with the values of secret parameters (`consumer_secret=..`,
/// `password: ..`) and the credentials after `Basic ` or `Bearer ` replaced
/// by `[redacted]`.
pub fn redact_text(text: &str) -> String {
    redact(text).unwrap_or_else(|| text.to_owned())
}

/// The redacted text, or `None` when nothing needed redacting.
fn redact(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut changed = false;
    let mut rest = text;
    while let Some(at) = rest.find(['=', ':', ' ']) {
        let (head, tail) = rest.split_at(at);
        let separator = &tail[..1];
        let key_start = head
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .map_or(0, |i| i + 1);
        let key = &head[key_start..];
        let credential_scheme = separator == " "
            && (key.eq_ignore_ascii_case("basic") || key.eq_ignore_ascii_case("bearer"));
        let secret_param = separator != " " && !key.is_empty() && is_secret_key(key);
        out.push_str(head);
        out.push_str(separator);
        rest = &tail[1..];
        if credential_scheme || secret_param {
            let skip = rest.len() - rest.trim_start_matches(' ').len();
            out.push_str(&rest[..skip]);
            rest = &rest[skip..];
            let end = rest
                .find(|c: char| c.is_whitespace() || matches!(c, '&' | '"' | '\'' | ',' | ';'))
                .unwrap_or(rest.len());
            if end > 0 {
                out.push_str(REDACTED);
                changed = true;
            }
            let value = &rest[..end];
            rest = &rest[end..];
            if value.eq_ignore_ascii_case("basic") || value.eq_ignore_ascii_case("bearer") {
                // `Authorization: Basic QUJD`: the credential follows the scheme.
                let after = rest.trim_start_matches(' ');
                let end = after
                    .find(|c: char| c.is_whitespace() || matches!(c, '&' | '"' | '\'' | ',' | ';'))
                    .unwrap_or(after.len());
                rest = &after[end..];
            }
        }
    }
    out.push_str(rest);
    changed.then_some(out)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn secret_keys_are_removed_at_any_depth() {
        let mut metadata = json!({
            "actor": "order-worker",
            "cause": "received at version 1",
            "Authorization": "Basic V0VCQVBJOnNlY3JldA==",
            "password": "sage-password",
            "request": {
                "method": "POST",
                "url": "https://shop.example/wp-json/wc/v3/orders",
                "headers": {"X-WC-Webhook-Signature": "abc", "Content-Type": "application/json"},
                "consumer_key": "ck_1",
                "consumerSecret": "cs_1",
                "access_token": "t",
                "items": [{"api-key": "k", "sku": "A1"}]
            },
            "response": "201 Created",
        });
        strip_secrets(&mut metadata);
        assert_eq!(
            metadata,
            json!({
                "actor": "order-worker",
                "cause": "received at version 1",
                "request": {
                    "method": "POST",
                    "url": "https://shop.example/wp-json/wc/v3/orders",
                    "headers": {"Content-Type": "application/json"},
                    "items": [{"sku": "A1"}]
                },
                "response": "201 Created",
            })
        );
    }

    #[test]
    fn secrets_inside_text_are_redacted() {
        assert_eq!(
            redact_text(
                "GET /orders?consumer_key=ck_1&consumer_secret=cs_2&page=2 Authorization: Basic QUJD"
            ),
            "GET /orders?consumer_key=[redacted]&consumer_secret=[redacted]&page=2 \
             Authorization: [redacted]"
        );
        assert_eq!(redact_text("Bearer abc.def"), "Bearer [redacted]");
        assert_eq!(
            redact_text("password: hunter2, user: x"),
            "password: [redacted], user: x"
        );
        assert_eq!(redact_text("post order 1042: 201"), "post order 1042: 201");
        let mut value = json!({"request": "POST /x?token=abc"});
        strip_secrets(&mut value);
        assert_eq!(value, json!({"request": "POST /x?token=[redacted]"}));
    }
}
