//! Errors in Magento's web API shape (facts §3.2, §3.6): `{"message",
//! "parameters"}` where `message` keeps its `%1`/`%name` placeholders and
//! `parameters` fills them (a list for `%1`, an object for names); several
//! input errors come as `{"message": "One or more input exceptions have
//! occurred.", "errors": [{"message", "parameters"}, ...]}`.

use std::fmt;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::{json, Value};

/// A Magento web API error.
#[derive(Debug, Clone)]
pub struct MageError {
    /// HTTP status.
    pub status: StatusCode,
    /// The message, placeholders unfilled.
    pub message: String,
    /// What fills the placeholders (`[..]` or `{..}`), if any.
    pub parameters: Option<Value>,
    /// Individual input errors (`InputException::getErrors`).
    pub errors: Vec<(String, Option<Value>)>,
    /// The 429 body has `"trace": null` (facts §3.6).
    pub trace_null: bool,
}

impl MageError {
    /// An error with `status` and `message`.
    pub fn new(status: u16, message: impl Into<String>) -> MageError {
        MageError {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            message: message.into(),
            parameters: None,
            errors: Vec::new(),
            trace_null: false,
        }
    }

    /// With `parameters`.
    pub fn with(mut self, parameters: Value) -> MageError {
        self.parameters = Some(parameters);
        self
    }

    /// 401: the caller is not authorized for the route's ACL resource (facts
    /// §3.2), what Magento answers a guest (no or unusable credentials).
    pub fn not_authorized(resource: &str) -> MageError {
        MageError::new(401, "The consumer isn't authorized to access %resources.")
            .with(json!({ "resources": resource }))
    }

    /// 404 for a path (and method) the web API does not serve.
    pub fn no_route() -> MageError {
        MageError::new(404, "Request does not match any route.")
    }

    /// 404 for a missing sales entity (order, invoice, credit memo).
    pub fn no_entity() -> MageError {
        MageError::new(
            404,
            "The entity that was requested doesn't exist. Verify the entity and try again.",
        )
    }

    /// 404 for a missing product.
    pub fn no_product() -> MageError {
        MageError::new(
            404,
            "The product that was requested doesn't exist. Verify the product and try again.",
        )
    }

    /// 400 `"%fieldName" is required. Enter and try again.`
    pub fn required(field: &str) -> MageError {
        MageError::new(400, "\"%fieldName\" is required. Enter and try again.")
            .with(json!({ "fieldName": field }))
    }

    /// 400 for a value the field does not take.
    pub fn invalid(field: &str, value: &str) -> MageError {
        MageError::new(
            400,
            "Invalid value of \"%value\" provided for the %fieldName field.",
        )
        .with(json!({ "fieldName": field, "value": value }))
    }

    /// An `InputException` from one or more errors: one keeps its own
    /// message, several become "One or more input exceptions have occurred."
    pub fn input(status: u16, mut errors: Vec<MageError>) -> MageError {
        if errors.len() == 1 {
            let mut e = errors.remove(0);
            e.status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
            return e;
        }
        let mut e = MageError::new(status, "One or more input exceptions have occurred.");
        e.errors = errors
            .into_iter()
            .map(|e| (e.message, e.parameters))
            .collect();
        e
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        let mut body = json!({ "message": self.message });
        if let Some(p) = &self.parameters {
            body["parameters"] = p.clone();
        }
        if !self.errors.is_empty() {
            body["errors"] = self
                .errors
                .iter()
                .map(|(m, p)| {
                    let mut e = json!({ "message": m });
                    if let Some(p) = p {
                        e["parameters"] = p.clone();
                    }
                    e
                })
                .collect();
        }
        if self.trace_null {
            body["trace"] = Value::Null;
        }
        body
    }
}

impl fmt::Display for MageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.status, self.message)
    }
}

impl ResponseError for MageError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status).json(self.body())
    }
}

/// An error in Magento's shape for `status` (used by the core for injected
/// faults). A 429 is the rate limiter's body (facts §3.6); a 5xx is
/// Magento's generic "Internal Error" unless a message is given.
pub fn error_response(status: StatusCode, message: &str) -> HttpResponse {
    let mut e = MageError::new(status.as_u16(), message);
    if status == StatusCode::TOO_MANY_REQUESTS {
        e.message = "Too Many Requests".into();
        e.trace_null = true;
    }
    e.error_response()
}
