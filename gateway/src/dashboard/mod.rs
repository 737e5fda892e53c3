//! The web dashboard for the back office, served by the gateway under `/`:
//! server-rendered HTML ([`maud`]), one small hand-written stylesheet and a
//! little vanilla JavaScript compiled into the binary — no build step.
//!
//! | route | page |
//! |---|---|
//! | `GET /signin`, `POST /signin` | sign in with an API token |
//! | `POST /signout` | sign out (ends the session) |
//! | `GET /` | overview: every instance's health and throughput |
//! | `GET /failures` | the failure queue: parked and retrying documents |
//! | `GET /failures/bulk` | bulk replay preview (what would be replayed) |
//! | `POST /failures/bulk` | bulk replay (operator) |
//! | `GET /documents?q=` | search by WooCommerce order number, ERP number, customer |
//! | `GET /documents/{id}` | one document and its timeline from webhook to ERP |
//! | `POST /documents/{id}/replay` | replay one document (operator) |
//! | `GET /live` | Server-Sent Events: `change` whenever new events are stored |
//! | `GET /assets/dashboard.{css,js}` | the stylesheet and script |
//!
//! Sign-in takes a token made with `ml-connector tokens create`, checks it
//! with [`TokenStore::verify`] and opens a server-side session (see
//! [`session`]): a random id in an `HttpOnly; SameSite=Strict` cookie
//! (`Secure` when the request came over HTTPS, directly or through a proxy
//! that says so in `X-Forwarded-Proto`/`Forwarded`). Every form that changes
//! something carries the session's CSRF token, checked on POST. Viewers see
//! no replay buttons and the POST routes refuse them with 403.

mod documents;
mod error;
mod failures;
mod layout;
mod live;
mod overview;
pub mod session;
mod signin;
mod words;

use std::time::Duration;

use actix_web::{web, HttpResponse};
use mlc_actors::operator::Operator;
use mlc_projections::{CountersView, DocumentsView, FailuresView, HealthView};
use mlc_store::EventStore;
use tokio_util::sync::CancellationToken;

use crate::auth::TokenStore;
pub use error::DashboardError;
pub use session::Sessions;

const CSS: &str = include_str!("assets/dashboard.css");
const JS: &str = include_str!("assets/dashboard.js");

/// What the dashboard's pages read and do. Cheap to clone.
#[derive(Clone)]
pub struct Dashboard {
    pub(crate) store: EventStore,
    pub(crate) operator: Operator,
    pub(crate) tokens: TokenStore,
    pub(crate) sessions: Sessions,
    pub(crate) documents: DocumentsView,
    pub(crate) failures: FailuresView,
    pub(crate) health: HealthView,
    pub(crate) counters: CountersView,
    pub(crate) closing: CancellationToken,
    pub(crate) erp: String,
}

impl Dashboard {
    /// The dashboard over `store`'s read models, the shared `operator` and
    /// the API `tokens`; sessions last [`session::SESSION_LIFETIME`].
    pub fn new(store: EventStore, operator: Operator, tokens: TokenStore) -> Dashboard {
        Dashboard {
            documents: DocumentsView::new(store.clone()),
            failures: FailuresView::new(store.clone()),
            health: HealthView::new(store.clone()),
            counters: CountersView::new(store.clone()),
            store,
            operator,
            tokens,
            sessions: Sessions::new(session::SESSION_LIFETIME),
            closing: CancellationToken::new(),
            erp: "Sage 300".to_owned(),
        }
    }

    /// Ends the live streams when `closing` is cancelled (so that a graceful
    /// shutdown does not wait for open browser tabs).
    pub fn with_closing(mut self, closing: CancellationToken) -> Dashboard {
        self.closing = closing;
        self
    }

    /// How long a session lasts (default [`session::SESSION_LIFETIME`]).
    pub fn with_session_lifetime(mut self, lifetime: Duration) -> Dashboard {
        self.sessions = Sessions::new(lifetime);
        self
    }
}

/// Serves the dashboard's routes.
pub fn configure(cfg: &mut web::ServiceConfig, dashboard: Dashboard) {
    cfg.app_data(web::Data::new(dashboard))
        .app_data(web::FormConfig::default().limit(16 * 1024))
        .route("/", web::get().to(overview::page))
        .route("/signin", web::get().to(signin::form))
        .route("/signin", web::post().to(signin::submit))
        .route("/signout", web::post().to(signin::sign_out))
        .route("/failures", web::get().to(failures::queue))
        .route("/failures/bulk", web::get().to(failures::bulk_preview))
        .route("/failures/bulk", web::post().to(failures::bulk_run))
        .route("/documents", web::get().to(documents::search))
        .route("/documents/{id:.*}", web::get().to(documents::show))
        .route("/documents/{id:.*}", web::post().to(documents::act))
        .route("/live", web::get().to(live::stream))
        .route("/assets/dashboard.css", web::get().to(css))
        .route("/assets/dashboard.js", web::get().to(js));
}

async fn css() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=300"))
        .body(CSS)
}

async fn js() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=300"))
        .body(JS)
}

/// An HTML page with the dashboard's security headers.
pub(crate) fn html(status: actix_web::http::StatusCode, markup: maud::Markup) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("X-Frame-Options", "DENY"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Referrer-Policy", "same-origin"))
        .insert_header((
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        ))
        .body(markup.into_string())
}

/// A `303 See Other` to `location` (after a form).
pub(crate) fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header(("Location", location))
        .insert_header(("Cache-Control", "no-store"))
        .finish()
}
