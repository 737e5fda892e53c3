//! The HTTP surface of ml-connector (actix-web): health and readiness, and
//! the webhook intake ([`webhooks`]); the operator API, the dashboard and
//! `/metrics` join it as they are built.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod api;
pub mod auth;
pub mod dashboard;
pub mod metrics;
pub mod openapi;
pub mod webhooks;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use actix_web::{web, App, HttpResponse, HttpServer};
use mlc_store::{EventStore, SubscriptionStatus};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

/// What the HTTP handlers share.
#[derive(Clone)]
pub struct GatewayState {
    /// The event store.
    pub store: EventStore,
    /// Live status of every subscription this process runs.
    pub subscriptions: Vec<Arc<Mutex<SubscriptionStatus>>>,
    /// The webhook intake (`POST /webhooks/{instance}`); `None` serves no
    /// webhook route.
    pub webhooks: Option<webhooks::WebhookIntake>,
    /// The operator API (`/api/v1`, see [`api`]); `None` serves no API route.
    pub operator: Option<mlc_actors::operator::Operator>,
}

impl GatewayState {
    /// The API tokens, kept in the store's database: what the API's
    /// [`auth::RequireRole`] checks and what the dashboard verifies a
    /// sign-in token with ([`auth::TokenStore::verify`]).
    pub fn tokens(&self) -> auth::TokenStore {
        auth::TokenStore::new(self.store.clone())
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why binding failed.
        source: std::io::Error,
    },
    /// The server stopped with an error.
    #[error("HTTP server failed: {0}")]
    Server(#[source] std::io::Error),
}

/// A bound, not yet running, HTTP server.
pub struct Gateway {
    server: actix_web::dev::Server,
    addr: SocketAddr,
    /// Cancelled when the server stops: ends the dashboard's live streams.
    closing: CancellationToken,
}

impl Gateway {
    /// Binds `addr` (port 0 picks a free port) with the gateway's routes.
    pub fn bind(addr: SocketAddr, state: GatewayState) -> Result<Gateway, GatewayError> {
        Gateway::bind_with_connectivity(addr, state, api::Connectivity::default())
    }

    /// [`Gateway::bind`], with the instances' connectors that `POST
    /// /api/v1/instances/{name}/check` pings.
    pub fn bind_with_connectivity(
        addr: SocketAddr,
        state: GatewayState,
        connectivity: api::Connectivity,
    ) -> Result<Gateway, GatewayError> {
        let intake = state.webhooks.clone();
        let operator = state
            .operator
            .clone()
            .map(|operator| api::Api::new(state.store.clone(), operator, connectivity));
        let closing = CancellationToken::new();
        let dashboard = state.operator.clone().map(|operator| {
            dashboard::Dashboard::new(state.store.clone(), operator, state.tokens())
                .with_closing(closing.clone())
        });
        let tokens = web::Data::new(state.tokens());
        let data = web::Data::new(state);
        let server = HttpServer::new(move || {
            let intake = intake.clone();
            let operator = operator.clone();
            App::new()
                .app_data(data.clone())
                .app_data(tokens.clone())
                .configure(routes)
                .configure(move |cfg| {
                    if let Some(intake) = intake {
                        webhooks::configure(cfg, intake);
                    }
                })
                .configure(move |cfg| {
                    if let Some(operator) = operator {
                        api::configure(cfg, operator);
                    }
                })
                .configure(|cfg| {
                    if let Some(dashboard) = dashboard.clone() {
                        dashboard::configure(cfg, dashboard);
                    }
                })
        })
        // Signals are the binary's: it stops every component in order.
        .disable_signals()
        .workers(2)
        .bind(addr)
        .map_err(|source| GatewayError::Bind { addr, source })?;
        let addr = server.addrs().first().copied().unwrap_or(addr);
        Ok(Gateway {
            server: server.run(),
            addr,
            closing,
        })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves until `shutdown` is cancelled, then lets requests in flight
    /// finish.
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), GatewayError> {
        let handle = self.server.handle();
        let closing = self.closing.clone();
        let stop = tokio::spawn(async move {
            shutdown.cancelled().await;
            closing.cancel();
            handle.stop(true).await;
        });
        let result = self.server.await.map_err(GatewayError::Server);
        stop.abort();
        result
    }
}

fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz));
    metrics::configure(cfg);
}

/// Alive: the process answers.
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

#[derive(Serialize)]
struct Readiness {
    status: &'static str,
    store: String,
    subscriptions: Vec<SubscriptionStatus>,
}

/// Ready: the store answers and no subscription is stuck on a failure.
async fn readyz(state: web::Data<GatewayState>) -> HttpResponse {
    let subscriptions: Vec<SubscriptionStatus> = state
        .subscriptions
        .iter()
        .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).clone())
        .collect();
    let store = match state.store.head().await {
        Ok(_) => "ok".to_string(),
        Err(error) => {
            tracing::warn!(%error, "readiness: the event store does not answer");
            "unreachable".to_string()
        }
    };
    let ready = store == "ok" && subscriptions.iter().all(|s| s.stuck_at.is_none());
    let body = Readiness {
        status: if ready { "ready" } else { "not ready" },
        store,
        subscriptions,
    };
    if ready {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}
