//! Signing in with an API token, and out.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::{html, Markup};
use serde::Deserialize;

use super::layout::{self, Nav};
use super::session::{self, SignedIn};
use super::{Dashboard, DashboardError};

/// Query of `GET /signin`.
#[derive(Debug, Deserialize)]
pub(crate) struct SignInQuery {
    next: Option<String>,
}

/// Body of `POST /signin`.
#[derive(Deserialize)]
pub(crate) struct SignInForm {
    token: String,
    next: Option<String>,
}

/// Body of the forms that only carry the CSRF token.
#[derive(Debug, Deserialize)]
pub(crate) struct CsrfForm {
    csrf: String,
}

pub(crate) async fn form(query: web::Query<SignInQuery>) -> HttpResponse {
    super::html(
        StatusCode::OK,
        page(query.into_inner().next.as_deref(), None),
    )
}

pub(crate) async fn submit(
    req: HttpRequest,
    dashboard: web::Data<Dashboard>,
    form: web::Form<SignInForm>,
) -> Result<HttpResponse, DashboardError> {
    let form = form.into_inner();
    let next = local(form.next.as_deref());
    let principal = dashboard
        .tokens
        .verify(form.token.trim())
        .await
        .map_err(|error| {
            tracing::warn!(%error, "dashboard: cannot verify a token");
            DashboardError::Unavailable("the token store does not answer".into())
        })?;
    let Some(principal) = principal else {
        tracing::info!("dashboard: sign-in refused (unknown or revoked token)");
        return Ok(super::html(
            StatusCode::UNAUTHORIZED,
            page(
                Some(next),
                Some("That token is not valid (unknown or revoked). Check it and try again."),
            ),
        ));
    };
    tracing::info!(token_id = %principal.token_id, role = %principal.role, "dashboard: signed in");
    let id = dashboard.sessions.open(principal);
    let cookie = dashboard.sessions.cookie(&req, id);
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", next))
        .insert_header(("Cache-Control", "no-store"))
        .cookie(cookie)
        .finish())
}

pub(crate) async fn sign_out(
    dashboard: web::Data<Dashboard>,
    user: SignedIn,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, DashboardError> {
    user.check_csrf(&form.csrf)?;
    dashboard.sessions.close(user.session_id());
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", "/signin"))
        .cookie(session::removal())
        .finish())
}

/// `next` when it is a path of this site, else `/`.
fn local(next: Option<&str>) -> &str {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n,
        _ => "/",
    }
}

fn page(next: Option<&str>, problem: Option<&str>) -> Markup {
    let body = html! {
        section.card.signin {
            h1 { "Sign in" }
            p.muted { "Paste the access token you were given. Ask an administrator for one "
                "(they make it with " code { "ml-connector tokens create" } ")." }
            @if let Some(problem) = problem {
                p.alert.bad role="alert" { (problem) }
            }
            form method="post" action="/signin" {
                label for="token" { "Access token" }
                input id="token" type="password" name="token" required autocomplete="off"
                    autofocus placeholder="mlc_…";
                input type="hidden" name="next" value=(local(next));
                button.primary type="submit" { "Sign in" }
            }
        }
    };
    layout::page("Sign in", None, Nav::None, false, body)
}
