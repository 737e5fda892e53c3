//! Why a dashboard page could not be shown, as a page a person can read.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use maud::html;
use mlc_actors::operator::OperatorError;

use super::layout::{self, Nav};

/// A dashboard refusal or failure; each kind has one HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum DashboardError {
    /// Not signed in (or the session ended): 303 to the sign-in page.
    #[error("sign in first")]
    SignIn {
        /// Where to go back to after signing in.
        next: String,
    },
    /// The user's role is too weak: 403.
    #[error("{0}")]
    Forbidden(String),
    /// A form without this session's CSRF token: 403.
    #[error("this form has expired")]
    Csrf,
    /// No such document: 404.
    #[error("{0}")]
    NotFound(String),
    /// The operator refused or failed (its own words).
    #[error(transparent)]
    Operator(#[from] OperatorError),
    /// A read model or the token store does not answer: 503.
    #[error("{0}")]
    Unavailable(String),
}

impl DashboardError {
    /// A read model that could not be read.
    pub(crate) fn read(error: impl std::fmt::Display) -> DashboardError {
        tracing::warn!(%error, "dashboard: a read model does not answer");
        DashboardError::Unavailable("the read models do not answer".into())
    }
}

impl ResponseError for DashboardError {
    fn status_code(&self) -> StatusCode {
        match self {
            DashboardError::SignIn { .. } => StatusCode::SEE_OTHER,
            DashboardError::Forbidden(_) | DashboardError::Csrf => StatusCode::FORBIDDEN,
            DashboardError::NotFound(_) => StatusCode::NOT_FOUND,
            DashboardError::Operator(e) => match e {
                OperatorError::NotFound(_) => StatusCode::NOT_FOUND,
                OperatorError::Refused(_) => StatusCode::CONFLICT,
                OperatorError::Invalid(_) => StatusCode::BAD_REQUEST,
                OperatorError::Unmapped(_) => StatusCode::UNPROCESSABLE_ENTITY,
                OperatorError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            },
            DashboardError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let DashboardError::SignIn { next } = self {
            let query = next_query(next);
            return super::see_other(&format!("/signin{query}"));
        }
        let (title, text) = match self {
            DashboardError::Forbidden(text) => ("Not allowed", text.clone()),
            DashboardError::Csrf => (
                "This form has expired",
                "Go back, reload the page and try again.".to_owned(),
            ),
            DashboardError::NotFound(text) => ("Not found", text.clone()),
            DashboardError::Operator(OperatorError::Refused(text)) => {
                ("That cannot be done now", text.clone())
            }
            DashboardError::Operator(e) => ("That did not work", e.to_string()),
            DashboardError::Unavailable(text) => (
                "The service is not answering",
                format!("{text}. Try again in a moment."),
            ),
            DashboardError::SignIn { .. } => unreachable!("answered above"),
        };
        let body = html! {
            section.card.problem {
                h1 { (title) }
                p { (text) }
                p { a href="/" { "Overview" } " · " a href="/failures" { "Failure queue" } }
            }
        };
        super::html(
            self.status_code(),
            layout::page(title, None, Nav::None, false, body),
        )
    }
}

/// `?next=...` for a local path, or nothing.
fn next_query(next: &str) -> String {
    if next == "/" || !next.starts_with('/') || next.starts_with("//") {
        return String::new();
    }
    let mut out = String::from("?next=");
    for b in next.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
