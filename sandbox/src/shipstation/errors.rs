//! Errors in each version's shape: V1 `{"message": "..."}` (facts §4.4,
//! the subscribe operation's 400/401/500); V2 the ShipEngine envelope
//! `{"request_id", "errors": [{"error_source", "error_type", "error_code",
//! "message"}]}` (facts §4.5: bodies carry `error_source`).

use std::fmt;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::{json, Value};

/// A V1 error: `{"message"}` with a status.
#[derive(Debug, Clone)]
pub struct V1Error {
    /// HTTP status.
    pub status: StatusCode,
    /// The message.
    pub message: String,
}

impl V1Error {
    /// An error with `status` and `message`.
    pub fn new(status: u16, message: impl Into<String>) -> V1Error {
        V1Error {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            message: message.into(),
        }
    }

    /// 400 with `message`.
    pub fn bad(message: impl Into<String>) -> V1Error {
        V1Error::new(400, message)
    }

    /// 404 with `message`.
    pub fn not_found(message: impl Into<String>) -> V1Error {
        V1Error::new(404, message)
    }
}

impl fmt::Display for V1Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.status, self.message)
    }
}

impl ResponseError for V1Error {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status).json(json!({ "message": self.message }))
    }
}

/// A V2 error in the ShipEngine envelope.
#[derive(Debug, Clone)]
pub struct V2Error {
    /// HTTP status.
    pub status: StatusCode,
    /// `security`, `validation`, `system`, `business_rules`...
    pub error_type: &'static str,
    /// `unauthorized`, `invalid_field_value`, `not_found`...
    pub error_code: &'static str,
    /// The message.
    pub message: String,
    /// The field at fault, for validation errors.
    pub field_name: Option<String>,
}

impl V2Error {
    /// An error with all parts.
    pub fn new(
        status: u16,
        error_type: &'static str,
        error_code: &'static str,
        message: impl Into<String>,
    ) -> V2Error {
        V2Error {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            error_type,
            error_code,
            message: message.into(),
            field_name: None,
        }
    }

    /// 400 `validation`/`invalid_field_value` for `field`.
    pub fn invalid(field: &str, message: impl Into<String>) -> V2Error {
        let mut e = V2Error::new(400, "validation", "invalid_field_value", message);
        e.field_name = Some(field.to_string());
        e
    }

    /// 404 `business_rules`/`not_found`.
    pub fn not_found(message: impl Into<String>) -> V2Error {
        V2Error::new(404, "business_rules", "not_found", message)
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        let mut error = json!({
            "error_source": "shipstation",
            "error_type": self.error_type,
            "error_code": self.error_code,
            "message": self.message,
        });
        if let Some(field) = &self.field_name {
            error["field_name"] = field.clone().into();
        }
        json!({ "request_id": uuid::Uuid::new_v4().to_string(), "errors": [error] })
    }
}

impl fmt::Display for V2Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status, self.error_code, self.message)
    }
}

impl ResponseError for V2Error {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status).json(self.body())
    }
}

/// An error for the core's injected faults, which do not know the version:
/// the V1 `message` plus the V2 `request_id`/`errors` envelope, so that a
/// client of either version finds the member it reads.
pub fn error_response(status: StatusCode, message: &str) -> HttpResponse {
    let (error_type, error_code) = match status.as_u16() {
        401 => ("security", "unauthorized"),
        404 => ("business_rules", "not_found"),
        429 => ("system", "rate_limit_exceeded"),
        s if s >= 500 => ("system", "unspecified"),
        _ => ("validation", "invalid_field_value"),
    };
    let mut body = V2Error::new(status.as_u16(), error_type, error_code, message).body();
    body["message"] = message.into();
    HttpResponse::build(status).json(body)
}

/// 404 for a V1 path the API does not serve.
pub async fn v1_not_found() -> HttpResponse {
    V1Error::not_found("No HTTP resource was found that matches the request URI.").error_response()
}

/// 404 for a V2 path the API does not serve.
pub async fn v2_not_found() -> HttpResponse {
    V2Error::not_found("The requested resource was not found.").error_response()
}
