//! Errors in BigCommerce's shapes. v3 (§2.1): `{"status", "title", "type",
//! "errors": {...}}`. v2: a JSON array of `{"status", "message"}` (the
//! facts do not give v2's shape; this is the one v2 clients parse).

use std::fmt;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::{json, Value};

/// The `type` of v3 errors (§2.1).
pub const ERROR_TYPE: &str = "/api-docs/getting-started/api-status-codes";

/// Which API answered (decides the error shape).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// `/v2/...`.
    V2,
    /// `/v3/...`.
    V3,
}

/// A BigCommerce REST error.
#[derive(Debug, Clone)]
pub struct BcError {
    /// The API version whose shape is answered.
    pub api: Api,
    /// HTTP status.
    pub status: StatusCode,
    /// `title` (v3) or `message` (v2).
    pub title: String,
    /// v3 `errors` members (field → reason).
    pub errors: serde_json::Map<String, Value>,
}

impl BcError {
    /// An error with `status` and `title`.
    pub fn new(api: Api, status: u16, title: impl Into<String>) -> BcError {
        BcError {
            api,
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            title: title.into(),
            errors: serde_json::Map::new(),
        }
    }

    /// 404 of a missing resource.
    pub fn not_found(api: Api) -> BcError {
        BcError::new(api, 404, "The requested resource was not found.")
    }

    /// 422 with one field error.
    pub fn invalid(api: Api, field: &str, reason: impl Into<String>) -> BcError {
        let reason = reason.into();
        let mut e = BcError::new(api, 422, reason.clone());
        e.errors.insert(field.to_string(), reason.into());
        e
    }

    /// Adds a field error.
    pub fn with(mut self, field: &str, reason: impl Into<String>) -> BcError {
        self.errors
            .insert(field.to_string(), Value::String(reason.into()));
        self
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        match self.api {
            Api::V2 => json!([{ "status": self.status.as_u16(), "message": self.title }]),
            Api::V3 => json!({
                "status": self.status.as_u16(),
                "title": self.title,
                "type": ERROR_TYPE,
                "errors": self.errors,
            }),
        }
    }
}

impl fmt::Display for BcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.status, self.title)
    }
}

impl ResponseError for BcError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status).json(self.body())
    }
}

/// An error in the v3 shape for `status` (used by the core for injected
/// faults).
pub fn error_response(status: StatusCode, message: &str) -> HttpResponse {
    BcError::new(Api::V3, status.as_u16(), message).error_response()
}

/// 404 for a v2 path the API does not serve.
pub async fn no_route_v2() -> HttpResponse {
    BcError::not_found(Api::V2).error_response()
}

/// 404 for a v3 path (or any other path) the API does not serve.
pub async fn no_route_v3() -> HttpResponse {
    BcError::not_found(Api::V3).error_response()
}
