//! Errors in WooCommerce's (WordPress REST) shape: `{"code", "message",
//! "data": {"status"}}` (facts §1.1).

use std::fmt;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::{json, Value};

/// A WooCommerce REST error.
#[derive(Debug, Clone)]
pub struct WcError {
    /// HTTP status, also repeated in `data.status`.
    pub status: StatusCode,
    /// Machine code, e.g. `woocommerce_rest_authentication_error`.
    pub code: String,
    /// Human message.
    pub message: String,
    /// Extra members of `data` (e.g. `params` of `rest_invalid_param`).
    pub data: Option<Value>,
}

impl WcError {
    /// An error with `status`, `code` and `message`.
    pub fn new(status: u16, code: impl Into<String>, message: impl Into<String>) -> WcError {
        WcError {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            code: code.into(),
            message: message.into(),
            data: None,
        }
    }

    /// WordPress's schema validation error: 400 `rest_invalid_param`.
    pub fn invalid_param(name: &str, reason: impl Into<String>) -> WcError {
        let mut e = WcError::new(
            400,
            "rest_invalid_param",
            format!("Invalid parameter(s): {name}"),
        );
        e.data = Some(json!({ "params": { name: reason.into() } }));
        e
    }

    /// 401 `woocommerce_rest_authentication_error` (facts §1.2).
    pub fn auth(message: impl Into<String>) -> WcError {
        WcError::new(401, "woocommerce_rest_authentication_error", message)
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        let mut data = json!({ "status": self.status.as_u16() });
        if let Some(Value::Object(extra)) = &self.data {
            for (k, v) in extra {
                data[k] = v.clone();
            }
        }
        json!({ "code": self.code, "message": self.message, "data": data })
    }
}

impl fmt::Display for WcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.status, self.message)
    }
}

impl ResponseError for WcError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status).json(self.body())
    }
}

/// An error in WooCommerce's shape for `status`, with a code chosen from the
/// status (used by the core for injected faults).
pub fn error_response(status: StatusCode, message: &str) -> HttpResponse {
    let code = match status.as_u16() {
        400 => "rest_invalid_param",
        401 => "woocommerce_rest_authentication_error",
        403 => "rest_forbidden",
        404 => "rest_no_route",
        413 => "woocommerce_rest_request_entity_too_large",
        429 => "woocommerce_rest_too_many_requests",
        501 => "rest_not_implemented",
        s if s >= 500 => "internal_server_error",
        _ => "woocommerce_rest_error",
    };
    WcError::new(status.as_u16(), code, message).error_response()
}

/// 404 `rest_no_route` for any path the REST API does not serve.
pub async fn no_route() -> HttpResponse {
    WcError::new(
        404,
        "rest_no_route",
        "No route was found matching the URL and request method.",
    )
    .error_response()
}
