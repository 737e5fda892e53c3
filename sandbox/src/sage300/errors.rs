//! Sage 300's OData error body and the codes it documents (facts §1.7):
//! `{"error":{"code":"RecordNotFound","message":{"lang":"en-US","value":"..."}}}`.
//! Clients are told to decide on `error.code`, not on the HTTP status.

use actix_web::http::{header, StatusCode};
use actix_web::HttpResponse;

/// An error answered in Sage 300's shape.
#[derive(Debug, Clone, PartialEq)]
pub struct SageError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The documented `error.code` (e.g. `RecordNotFound`).
    pub code: &'static str,
    /// `error.message.value`.
    pub message: String,
}

impl SageError {
    /// An error with this status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> SageError {
        SageError {
            status,
            code,
            message: message.into(),
        }
    }

    /// 404 `RecordNotFound`, with the message the Developer Reference shows.
    pub fn record_not_found() -> SageError {
        SageError::new(
            StatusCode::NOT_FOUND,
            "RecordNotFound",
            "A Record cannot be found for the specified entity key",
        )
    }

    /// 404 `ResourceNotFound`: no such module or entity set.
    pub fn resource_not_found(what: &str) -> SageError {
        SageError::new(
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            format!("The requested resource '{what}' was not found."),
        )
    }

    /// 400 `InvalidParameters`: a bad query option.
    pub fn invalid_parameters(message: impl Into<String>) -> SageError {
        SageError::new(StatusCode::BAD_REQUEST, "InvalidParameters", message)
    }

    /// 400 `InvalidPayload`: the body is not the entity's JSON.
    pub fn invalid_payload(message: impl Into<String>) -> SageError {
        SageError::new(StatusCode::BAD_REQUEST, "InvalidPayload", message)
    }

    /// 400 `InvalidEntityKey`: the key in the URL does not fit the entity.
    pub fn invalid_key(message: impl Into<String>) -> SageError {
        SageError::new(StatusCode::BAD_REQUEST, "InvalidEntityKey", message)
    }

    /// 405 `MethodNotAllowed`: e.g. PATCH on OEOrders (facts §1.3).
    pub fn method_not_allowed(method: &str, set: &str) -> SageError {
        SageError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            format!("The requested HTTP method {method} is not supported for {set}."),
        )
    }

    /// 409 `FieldInvalid`: a business rule refused a field (seen in the
    /// field on OE order POSTs, facts §1.7 [ARIOX]). Permanent.
    pub fn field_invalid(message: impl Into<String>) -> SageError {
        SageError::new(StatusCode::CONFLICT, "FieldInvalid", message)
    }

    /// 409 `General`: a business-layer error (facts §1.7).
    pub fn general(message: impl Into<String>) -> SageError {
        SageError::new(StatusCode::CONFLICT, "General", message)
    }

    /// 409 `RecordDuplicate`: insert with an existing key (facts §1.7, §1.8 b).
    pub fn duplicate(message: impl Into<String>) -> SageError {
        SageError::new(StatusCode::CONFLICT, "RecordDuplicate", message)
    }

    /// 401 `Unauthorized`.
    pub fn unauthorized(message: impl Into<String>) -> SageError {
        SageError::new(StatusCode::UNAUTHORIZED, "Unauthorized", message)
    }

    /// 500 `InternalServerError`.
    pub fn internal(message: impl Into<String>) -> SageError {
        SageError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            message,
        )
    }

    /// The response.
    pub fn into_response(self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        if self.status == StatusCode::UNAUTHORIZED {
            // IIS answers a refused Basic login with a challenge.
            response.insert_header((header::WWW_AUTHENTICATE, "Basic realm=\"Sage300WebApi\""));
        }
        response.json(body(self.code, &self.message))
    }
}

impl From<SageError> for HttpResponse {
    fn from(error: SageError) -> HttpResponse {
        error.into_response()
    }
}

/// The OData error body.
pub fn body(code: &str, message: &str) -> serde_json::Value {
    serde_json::json!({
        "error": {
            "code": code,
            "message": { "lang": "en-US", "value": message }
        }
    })
}

/// The documented code that goes with a status, for errors that come
/// without one (injected faults).
pub fn code_for(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "InvalidParameters",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "ResourceNotFound",
        405 => "MethodNotAllowed",
        409 => "General",
        429 => "TooManyRequests",
        _ => "InternalServerError",
    }
}

/// An error in Sage 300's OData shape, its code chosen from the status.
pub fn error_response(status: StatusCode, message: &str) -> HttpResponse {
    SageError::new(status, code_for(status), message).into_response()
}
