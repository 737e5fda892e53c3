//! Who may call, and how a request must look (facts §1.2):
//! `Authorization: Basic base64(user:password)` on every request (no
//! session needed), credentials sent upper-case (the seed's rule, kept by
//! shared/systems/README.md rule 3: a lower-case pair is refused with 401),
//! ADMIN refused unless `AllowWebApiAccessForAdmin`, and
//! `Content-Type: application/json` required (missing: HTTP 500).

use actix_web::http::{header, StatusCode};
use actix_web::HttpRequest;
use base64::Engine;

use super::errors::SageError;
use super::variants::ContentTypeRule;
use super::State;

/// The Sage 300 user ADMIN and its sample password.
pub const ADMIN: (&str, &str) = ("ADMIN", "ADMIN");

fn basic(req: &HttpRequest) -> Option<(String, String)> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

/// Checks the database link, the credentials, the content type and the
/// company of one request, in that order.
pub fn check(
    req: &HttpRequest,
    state: &State,
    company: &str,
    has_body: bool,
) -> Result<(), SageError> {
    if state.variants.offline {
        return Err(SageError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "DBLinkError",
            "Cannot open the database: the database server is not available.",
        ));
    }
    let Some((user, password)) = basic(req) else {
        return Err(SageError::unauthorized(
            "Authorization has been denied for this request.",
        ));
    };
    if user == ADMIN.0 && password == ADMIN.1 {
        if !state.variants.allow_admin {
            return Err(SageError::new(
                StatusCode::FORBIDDEN,
                "Forbidden",
                "The ADMIN user is not allowed to use the Web API (AllowWebApiAccessForAdmin).",
            ));
        }
    } else if user != state.username || password != state.password {
        // A lower-case (or otherwise wrong) pair does not sign on.
        return Err(SageError::unauthorized(
            "Authorization has been denied for this request.",
        ));
    }
    let needs_type = match state.variants.content_type {
        ContentTypeRule::All => true,
        ContentTypeRule::Body => has_body,
        ContentTypeRule::None => false,
    };
    if needs_type {
        let ok = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.trim()
                    .to_ascii_lowercase()
                    .starts_with("application/json")
            });
        if !ok {
            // Facts §1.2: leaving out Content-Type gives HTTP 500, even on GET.
            return Err(SageError::internal(
                "An error has occurred. The request must have Content-Type: application/json.",
            ));
        }
    }
    // Decision (facts silent): an unknown company cannot be signed on to;
    // 401 with `SessionError`, permanent.
    if !company.eq_ignore_ascii_case(&state.company) {
        return Err(SageError::new(
            StatusCode::UNAUTHORIZED,
            "SessionError",
            format!("Cannot sign on to company {company}: the company does not exist."),
        ));
    }
    Ok(())
}
