//! Injected faults, per system and per route: latency, error statuses,
//! timeouts, dropped connections, 429 storms, malformed bodies, webhook
//! delivery failures, and the timeout or dropped connection *after* the
//! write was applied (the case that makes a blind retry post twice).
//!
//! `POST /_sandbox/faults` with a [`FaultRule`] (without `id`) adds one;
//! `GET` lists them; `DELETE /_sandbox/faults` removes all,
//! `DELETE /_sandbox/faults/{id}` one.

use std::sync::Mutex;
use std::time::Duration;

use actix_web::body::BoxBody;
use actix_web::dev::{Payload, Service, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::{System, World};

/// What goes wrong.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FaultKind {
    /// Answer `ms` milliseconds late.
    Latency {
        /// The delay.
        ms: u64,
    },
    /// Answer with this status (5xx or 4xx) in the system's error shape;
    /// nothing is applied.
    Status {
        /// The status code.
        status: u16,
    },
    /// Hang for `ms` milliseconds (longer than the client waits), then
    /// answer 504; nothing is applied.
    Timeout {
        /// How long to hang.
        #[serde(default = "default_timeout_ms")]
        ms: u64,
    },
    /// Drop the connection; nothing is applied.
    Drop,
    /// Answer 429 with `Retry-After`.
    RateLimit {
        /// Seconds in `Retry-After`.
        #[serde(default = "one")]
        retry_after_secs: u64,
    },
    /// Answer 200 with a body that is not valid JSON; nothing is applied.
    Malformed,
    /// Apply the write, then hang for `ms` and answer 504.
    TimeoutAfterWrite {
        /// How long to hang.
        #[serde(default = "default_timeout_ms")]
        ms: u64,
    },
    /// Apply the write, then drop the connection.
    DropAfterWrite,
    /// Outgoing webhook deliveries of the system fail: the receiver is
    /// treated as having answered `status` (0 for a connection failure).
    DeliveryFailure {
        /// The status to pretend.
        #[serde(default)]
        status: u16,
    },
}

fn default_timeout_ms() -> u64 {
    30_000
}

fn one() -> u64 {
    1
}

fn always() -> f64 {
    1.0
}

/// A fault and where it applies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultRule {
    /// Assigned by the sandbox.
    #[serde(default)]
    pub id: u64,
    /// The system whose routes (or deliveries) fail.
    pub system: System,
    /// Only requests with this method (any when absent).
    #[serde(default)]
    pub method: Option<String>,
    /// Only requests whose path (after the system prefix) contains this.
    #[serde(default)]
    pub path_contains: Option<String>,
    /// What goes wrong.
    #[serde(flatten)]
    pub kind: FaultKind,
    /// Chance per matching request, 0 to 1 (default 1).
    #[serde(default = "always")]
    pub probability: f64,
    /// Matching requests it applies to, then it is spent (unlimited when absent).
    #[serde(default)]
    pub times: Option<u32>,
}

/// The rules in force.
#[derive(Debug, Default)]
pub struct Faults {
    rules: Mutex<(u64, Vec<FaultRule>)>,
}

impl Faults {
    /// Adds a rule; returns its id.
    pub fn add(&self, mut rule: FaultRule) -> u64 {
        let mut rules = self.lock();
        rules.0 += 1;
        rule.id = rules.0;
        rules.1.push(rule);
        rules.0
    }

    /// The rules in force.
    pub fn list(&self) -> Vec<FaultRule> {
        self.lock().1.clone()
    }

    /// Removes rule `id`; false when there is none.
    pub fn remove(&self, id: u64) -> bool {
        let mut rules = self.lock();
        let before = rules.1.len();
        rules.1.retain(|r| r.id != id);
        rules.1.len() != before
    }

    /// Removes every rule.
    pub fn clear(&self) {
        self.lock().1.clear();
    }

    /// The faults that strike this request (a rule with `times` is used up
    /// one per strike).
    pub fn strike(&self, system: System, method: &str, path: &str) -> Vec<FaultKind> {
        self.strike_where(system, |rule| {
            !matches!(rule.kind, FaultKind::DeliveryFailure { .. })
                && rule
                    .method
                    .as_deref()
                    .is_none_or(|m| m.eq_ignore_ascii_case(method))
                && rule
                    .path_contains
                    .as_deref()
                    .is_none_or(|p| path.contains(p))
        })
    }

    /// The status an outgoing delivery of `system` to `url` is to fail
    /// with, if a delivery fault strikes (0: connection failure).
    pub fn strike_delivery(&self, system: System, url: &str) -> Option<u16> {
        self.strike_where(system, |rule| {
            matches!(rule.kind, FaultKind::DeliveryFailure { .. })
                && rule
                    .path_contains
                    .as_deref()
                    .is_none_or(|p| url.contains(p))
        })
        .into_iter()
        .find_map(|kind| match kind {
            FaultKind::DeliveryFailure { status } => Some(status),
            _ => None,
        })
    }

    fn strike_where(&self, system: System, applies: impl Fn(&FaultRule) -> bool) -> Vec<FaultKind> {
        let mut rules = self.lock();
        let mut rng = rand::rng();
        let mut struck = Vec::new();
        for rule in rules.1.iter_mut().filter(|r| r.system == system) {
            if rule.times == Some(0)
                || !applies(rule)
                || !rng.random_bool(rule.probability.clamp(0.0, 1.0))
            {
                continue;
            }
            if let Some(times) = rule.times.as_mut() {
                *times -= 1;
            }
            struck.push(rule.kind.clone());
        }
        rules.1.retain(|r| r.times != Some(0));
        struck
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (u64, Vec<FaultRule>)> {
        self.rules.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Wraps every route of `system`: applies the faults that strike, and
/// records each accepted write in the received log.
pub async fn guard<S>(
    system: System,
    mut req: ServiceRequest,
    service: &S,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error>
where
    S: Service<ServiceRequest, Response = ServiceResponse<BoxBody>, Error = actix_web::Error>,
{
    let world = req
        .app_data::<web::Data<World>>()
        .cloned()
        .expect("the world is app data");
    let method = req.method().as_str().to_string();
    let prefix = format!("/{}", system.prefix());
    let path = req.uri().path_and_query().map_or("", |p| p.as_str());
    let path = path.strip_prefix(&prefix).unwrap_or(path).to_string();
    // SOAP services take every operation on one path: a rule's
    // `path_contains` may name the operation in the SOAPAction instead.
    let soap_action = req
        .headers()
        .get("SOAPAction")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .trim_matches('"')
        .to_string();
    let target = if soap_action.is_empty() {
        path.clone()
    } else {
        format!("{path} {soap_action}")
    };
    let struck = world.faults.strike(system, &method, &target);

    let mut after_write = None;
    for fault in struck {
        match fault {
            FaultKind::Latency { ms } => tokio::time::sleep(Duration::from_millis(ms)).await,
            FaultKind::Status { status } => {
                let status =
                    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                let response = world.error_response(system, status, "injected fault");
                return Ok(req.into_response(response));
            }
            FaultKind::Timeout { ms } => {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                let response =
                    world.error_response(system, StatusCode::GATEWAY_TIMEOUT, "injected timeout");
                return Ok(req.into_response(response));
            }
            FaultKind::Drop => return Ok(req.into_response(dropped())),
            FaultKind::RateLimit { retry_after_secs } => {
                let mut response = world.error_response(
                    system,
                    StatusCode::TOO_MANY_REQUESTS,
                    "too many requests",
                );
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, retry_after_secs.into());
                return Ok(req.into_response(response));
            }
            FaultKind::Malformed => {
                let response = HttpResponse::Ok()
                    .content_type("application/json")
                    .body("{\"truncated\": [1, 2,");
                return Ok(req.into_response(response));
            }
            kind @ (FaultKind::TimeoutAfterWrite { .. } | FaultKind::DropAfterWrite) => {
                after_write = Some(kind)
            }
            FaultKind::DeliveryFailure { .. } => {}
        }
    }

    let body = if matches!(method.as_str(), "POST" | "PUT" | "PATCH" | "DELETE") {
        let bytes = req.extract::<web::Bytes>().await?;
        req.set_payload(Payload::from(bytes.clone()));
        // Reads carried by POST (SOAP Get operations, GraphQL queries) are
        // not writes: the received log counts what reached the system.
        (!is_read_by_post(&soap_action, &bytes)).then_some(bytes)
    } else {
        None
    };
    let response = service.call(req).await?;
    if let Some(body) = &body {
        if response.status().is_success() {
            world
                .received
                .record(system, &method, &path, body, response.status().as_u16());
        }
    }
    match after_write {
        Some(FaultKind::TimeoutAfterWrite { ms }) if body.is_some() => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            let timeout = world.error_response(
                system,
                StatusCode::GATEWAY_TIMEOUT,
                "injected timeout after the write",
            );
            Ok(response.into_response(timeout))
        }
        Some(FaultKind::DropAfterWrite) if body.is_some() => Ok(response.into_response(dropped())),
        _ => Ok(response),
    }
}

/// Whether a POST only reads: a SOAP operation named `Get...`, `Preview...`
/// or `...Template`, or a GraphQL document without a mutation.
fn is_read_by_post(soap_action: &str, body: &[u8]) -> bool {
    if !soap_action.is_empty() {
        let operation = soap_action.rsplit(['/', ':']).next().unwrap_or_default();
        return operation.starts_with("Get")
            || operation.starts_with("Preview")
            || operation.ends_with("Template");
    }
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(document) => match document.get("query").and_then(|q| q.as_str()) {
            Some(query) => !query.trim_start().starts_with("mutation"),
            None => false,
        },
        Err(_) => false,
    }
}

/// A response whose body breaks off: the connection is closed before the
/// answer is complete, as when a network or proxy drops it.
fn dropped() -> HttpResponse {
    let broken = futures::stream::once(async {
        Err::<web::Bytes, actix_web::Error>(actix_web::error::ErrorInternalServerError(
            "connection dropped by the sandbox",
        ))
    });
    HttpResponse::Ok()
        .content_type("application/json")
        .streaming(broken)
}

/// The middleware that runs [`guard`] around every route of one system.
pub struct Guard(pub System);

impl<S> actix_web::dev::Transform<S, ServiceRequest> for Guard
where
    S: Service<ServiceRequest, Response = ServiceResponse<BoxBody>, Error = actix_web::Error>
        + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = actix_web::Error;
    type Transform = GuardService<S>;
    type InitError = ();
    type Future = std::future::Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        std::future::ready(Ok(GuardService {
            system: self.0,
            service: std::rc::Rc::new(service),
        }))
    }
}

/// [`Guard`] around one service.
pub struct GuardService<S> {
    system: System,
    service: std::rc::Rc<S>,
}

impl<S> Service<ServiceRequest> for GuardService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<BoxBody>, Error = actix_web::Error>
        + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = actix_web::Error;
    type Future = futures::future::LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    actix_web::dev::forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let service = self.service.clone();
        let system = self.system;
        Box::pin(async move { guard(system, req, &*service).await })
    }
}

#[cfg(test)]
mod tests {
    use super::is_read_by_post;

    #[test]
    fn soap_gets_and_graphql_queries_only_read() {
        assert!(is_read_by_post(
            "\"http://sage.com/ebusinesswebservices/IeBusinessWebService/GetCustomer\""
                .trim_matches('"'),
            b""
        ));
        assert!(is_read_by_post(
            "http://x/IeBusinessWebService/GetSalesOrderTemplate",
            b""
        ));
        assert!(!is_read_by_post(
            "http://x/IeBusinessWebService/CreateSalesOrder",
            b""
        ));
        assert!(is_read_by_post(
            "",
            br#"{"query": "{ xtremX3Sales { salesOrder { query { totalCount } } } }"}"#
        ));
        assert!(is_read_by_post("", br#"{"query": "query Orders { a }"}"#));
        assert!(!is_read_by_post("", br#"{"query": "mutation { xtremX3Sales { salesOrder { create(data: {}) { _id } } } }"}"#));
        assert!(!is_read_by_post("", br#"{"OrderReference": "WC-1"}"#));
        assert!(!is_read_by_post("", b"webhook_id=3"));
    }
}
