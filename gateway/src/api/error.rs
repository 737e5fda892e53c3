//! The API's error answer: one HTTP status per kind, a JSON `{"code", "detail"}`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use mlc_actors::operator::OperatorError;
use serde::Serialize;

/// An API refusal. `detail` is the operator's message (never a secret).
#[derive(Debug, thiserror::Error)]
#[error("{code}: {detail}")]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    detail: String,
}

impl ApiError {
    /// A malformed request (bad JSON, bad query, missing field): 400 `invalid`.
    pub fn invalid(detail: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code: "invalid",
            detail: detail.into(),
        }
    }

    /// No token, or an unknown or revoked one: 401 `unauthorized`.
    pub fn unauthorized(detail: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::UNAUTHORIZED,
            code: "unauthorized",
            detail: detail.into(),
        }
    }

    /// The token's role is too weak: 403 `forbidden`.
    pub fn forbidden(detail: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::FORBIDDEN,
            code: "forbidden",
            detail: detail.into(),
        }
    }

    /// Nothing with this name or id: 404 `not_found`.
    pub fn not_found(detail: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::NOT_FOUND,
            code: "not_found",
            detail: detail.into(),
        }
    }

    /// The request conflicts with the current state: 409 `refused`.
    pub fn refused(detail: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::CONFLICT,
            code: "refused",
            detail: detail.into(),
        }
    }

    /// A dependency (database, outside system) does not answer: 503 `unavailable`.
    pub fn unavailable(detail: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: "unavailable",
            detail: detail.into(),
        }
    }

    /// The error's code (`invalid`, `unauthorized`, ...).
    pub fn code(&self) -> &'static str {
        self.code
    }
}

impl From<OperatorError> for ApiError {
    fn from(e: OperatorError) -> Self {
        let status = match &e {
            OperatorError::NotFound(_) => StatusCode::NOT_FOUND,
            OperatorError::Refused(_) => StatusCode::CONFLICT,
            OperatorError::Invalid(_) => StatusCode::BAD_REQUEST,
            OperatorError::Unmapped(_) => StatusCode::UNPROCESSABLE_ENTITY,
            OperatorError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        };
        ApiError {
            status,
            code: e.code(),
            detail: e.to_string(),
        }
    }
}

#[derive(Serialize)]
struct Problem<'a> {
    code: &'a str,
    detail: &'a str,
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status).json(Problem {
            code: self.code,
            detail: &self.detail,
        })
    }
}
