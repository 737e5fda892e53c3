//! Webhook intake: `POST /webhooks/{instance}`.
//!
//! Checks, in this order, each answered with a JSON `{"code", "detail"}` on
//! refusal:
//! 1. the instance is configured, else 404 `unknown_instance`;
//! 2. the body is within the instance's limit, else 413 `body_too_large`
//!    (a too large `Content-Length` is refused unread; a body streamed past
//!    the limit is refused as soon as it passes it);
//! 3. an unsigned WooCommerce ping (`webhook_id=N`, no signature) is answered
//!    200 and recorded as `PingReceived`;
//! 4. the signature (`X-WC-Webhook-Signature`, HMAC-SHA256 of the raw body)
//!    is checked in constant time before anything parses the body, else 401
//!    `bad_signature`;
//! 5. by topic (`X-WC-Webhook-Topic`): `order.created` / `order.updated`
//!    become `ReceiveOrder` on `{instance}/order/{id}`,
//!    `customer.created` / `customer.updated` become `ReceiveCustomer` on
//!    `{instance}/customer/{id}`; a body that does not decode is 400
//!    `malformed_payload`, a command the document refuses 422 `refused`.
//!    Other topics are answered 200 and ignored.
//!
//! A delivery is answered 2xx only once its event is durable (the
//! [`CommandBus`] answers after the commit); a repeat of a delivery (same
//! `modified_at`) appends nothing and is answered 200 too. Every refusal is
//! recorded as a `DeliveryRejected` event on `{instance}/delivery/{uuid}`
//! (`_unknown/delivery/{uuid}` for an unknown instance) and touches no
//! document. When the event store is down the answer is 503
//! `store_unavailable`: WooCommerce does not redeliver a failed delivery, it
//! only counts it toward disabling the webhook (disabled after more than 5
//! consecutive failures), so the order poller's backfill is what recovers it.

use std::collections::HashMap;
use std::sync::Arc;

use actix_web::http::header::{HeaderMap, CONTENT_LENGTH};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDateTime, Utc};
use futures::StreamExt;
use mlc_connectors::woocommerce::webhook::{
    is_ping, parse_customer, parse_order, verify_signature, SIGNATURE_HEADER,
};
use mlc_domain::customer::{CustomerCommand, CustomerDocument};
use mlc_domain::delivery::{delivery_stream_id, DeliveryCommand, WebhookDelivery};
use mlc_domain::model::{DocumentId, InstanceId};
use mlc_domain::order::{OrderCommand, OrderDocument};
use mlc_store::{CommandBus, CommandBusOptions, CommandError, EventStore};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use sha2::{Digest, Sha256};
use tracing::Instrument;

/// The largest body accepted unless an instance says otherwise: 1 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

/// The header naming a WooCommerce delivery's topic, e.g. `order.created`.
pub const TOPIC_HEADER: &str = "X-WC-Webhook-Topic";

/// The channel whose webhooks an instance receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// WooCommerce: HMAC-SHA256 signatures, `X-WC-Webhook-*` headers.
    WooCommerce,
}

/// How one instance's webhooks are received.
#[derive(Clone)]
pub struct IntakeConfig {
    /// Whose webhooks these are.
    pub channel: Channel,
    /// The secret the channel signs deliveries with.
    pub webhook_secret: SecretString,
    /// The largest body accepted, in bytes.
    pub max_body_bytes: usize,
}

impl IntakeConfig {
    /// A WooCommerce intake with the default body limit.
    pub fn woocommerce(webhook_secret: SecretString) -> IntakeConfig {
        IntakeConfig {
            channel: Channel::WooCommerce,
            webhook_secret,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }
}

impl std::fmt::Debug for IntakeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntakeConfig")
            .field("channel", &self.channel)
            .field("webhook_secret", &"***")
            .field("max_body_bytes", &self.max_body_bytes)
            .finish()
    }
}

/// Why the intake could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    /// A registry key is not a valid instance id.
    #[error("instance {name:?} cannot receive webhooks: {source}")]
    InvalidInstance {
        /// The name given.
        name: String,
        /// What is wrong with it.
        source: mlc_domain::model::ValidationError,
    },
}

struct Instance {
    id: InstanceId,
    config: IntakeConfig,
}

/// The webhook intake: the instances that receive webhooks and the command
/// buses their deliveries go through. Cheap to clone.
#[derive(Clone)]
pub struct WebhookIntake {
    instances: Arc<HashMap<String, Instance>>,
    orders: CommandBus<OrderDocument>,
    customers: CommandBus<CustomerDocument>,
    deliveries: CommandBus<WebhookDelivery>,
}

impl std::fmt::Debug for WebhookIntake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&String> = self.instances.keys().collect();
        names.sort();
        f.debug_struct("WebhookIntake")
            .field("instances", &names)
            .finish()
    }
}

impl WebhookIntake {
    /// Starts the command buses (on the current tokio runtime) for the
    /// instances of `registry` (instance name to its intake).
    pub fn start(
        store: &EventStore,
        registry: HashMap<String, IntakeConfig>,
        options: CommandBusOptions,
    ) -> Result<WebhookIntake, IntakeError> {
        let instances = registry
            .into_iter()
            .map(|(name, config)| match InstanceId::new(&name) {
                Ok(id) => Ok((name, Instance { id, config })),
                Err(source) => Err(IntakeError::InvalidInstance { name, source }),
            })
            .collect::<Result<HashMap<_, _>, _>>()?;
        Ok(WebhookIntake {
            instances: Arc::new(instances),
            orders: CommandBus::start(store.clone(), options.clone()),
            customers: CommandBus::start(store.clone(), options.clone()),
            deliveries: CommandBus::start(store.clone(), options),
        })
    }

    /// The registry of every WooCommerce instance of `config`, with the
    /// default body limit.
    pub fn registry_from_config(config: &mlc_config::Config) -> HashMap<String, IntakeConfig> {
        config
            .instances
            .iter()
            .filter_map(|(name, instance)| match &instance.channel {
                mlc_config::ChannelConnection::WooCommerce(woo) => Some((
                    name.clone(),
                    IntakeConfig::woocommerce(woo.webhook_secret.clone()),
                )),
                _ => None,
            })
            .collect()
    }

    /// The order command bus, for other components of the process that
    /// receive orders (the poller's backfill) to share its batching.
    pub fn orders(&self) -> &CommandBus<OrderDocument> {
        &self.orders
    }

    /// The customer command bus, to share likewise: one bus per aggregate
    /// type keeps each document on one writer (two buses writing the same
    /// documents stay correct, but conflict and fall back to one by one).
    pub fn customers(&self) -> &CommandBus<CustomerDocument> {
        &self.customers
    }
}

/// Registers `POST /webhooks/{instance}` on `cfg`.
pub fn configure(cfg: &mut web::ServiceConfig, intake: WebhookIntake) {
    cfg.app_data(web::Data::new(intake))
        .route("/webhooks/{instance}", web::post().to(receive));
}

/// A JSON answer: `{"code", "detail"}` for refusals, a status otherwise.
#[derive(Serialize)]
struct Problem<'a> {
    code: &'a str,
    detail: String,
}

#[derive(Serialize)]
struct Accepted<'a> {
    status: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    document: Option<String>,
    events: usize,
}

fn accepted(status: &str, document: Option<String>, events: usize) -> HttpResponse {
    HttpResponse::Ok().json(Accepted {
        status,
        document,
        events,
    })
}

/// A refusal before or while decoding: answered with `status` and recorded
/// as `DeliveryRejected`.
struct Refusal {
    status: StatusCode,
    code: &'static str,
    detail: String,
}

impl Refusal {
    fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Refusal {
        Refusal {
            status,
            code,
            detail: detail.into(),
        }
    }
}

/// The body as read, and whether reading stopped at the limit.
struct Body {
    bytes: web::BytesMut,
    /// The size announced (Content-Length) or read, whichever is larger.
    size: usize,
}

/// Reads the body up to `limit` bytes; past it, stops and says so.
async fn read_body(
    headers: &HeaderMap,
    payload: &mut web::Payload,
    limit: usize,
) -> Result<Body, (Body, Refusal)> {
    let announced = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let too_large = |size: usize| {
        Refusal::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("the body has {size} bytes; this instance accepts at most {limit}"),
        )
    };
    if let Some(size) = announced.filter(|size| *size > limit) {
        let body = Body {
            bytes: web::BytesMut::new(),
            size,
        };
        return Err((body, too_large(size)));
    }
    let mut bytes = web::BytesMut::with_capacity(announced.unwrap_or(4096).min(limit));
    while let Some(chunk) = payload.next().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(error) => {
                let size = bytes.len();
                return Err((
                    Body { bytes, size },
                    Refusal::new(
                        StatusCode::BAD_REQUEST,
                        "unreadable_body",
                        format!("the body could not be read: {error}"),
                    ),
                ));
            }
        };
        if bytes.len() + chunk.len() > limit {
            let size = bytes.len() + chunk.len();
            // Only the part within the limit is kept for the digest.
            let room = limit - bytes.len();
            bytes.extend_from_slice(&chunk[..room]);
            return Err((Body { bytes, size }, too_large(size)));
        }
        bytes.extend_from_slice(&chunk);
    }
    let size = bytes.len();
    Ok(Body { bytes, size })
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn sha256_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let digest = Sha256::digest(bytes);
    let mut hex = String::with_capacity(64);
    for byte in digest {
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

/// Context stored with every event a delivery causes: never a secret.
fn metadata(
    delivery: &uuid::Uuid,
    topic: Option<&str>,
    headers: &HeaderMap,
) -> serde_json::Map<String, serde_json::Value> {
    let mut m = serde_json::Map::new();
    m.insert("source".into(), "webhook".into());
    m.insert("delivery".into(), delivery.to_string().into());
    if let Some(topic) = topic {
        m.insert("topic".into(), topic.into());
    }
    if let Some(id) = header(headers, "X-WC-Webhook-ID") {
        m.insert("webhook_id".into(), id.into());
    }
    if let Some(id) = header(headers, "X-WC-Webhook-Delivery-ID") {
        m.insert("channel_delivery_id".into(), id.into());
    }
    trace_context(&mut m);
    m
}

/// Puts the current span's trace and span ids (hex) into `m` as `trace_id`
/// and `span_id`, when a trace is being recorded: the order worker continues
/// that trace when it drives the document.
fn trace_context(m: &mut serde_json::Map<String, serde_json::Value>) {
    use opentelemetry::trace::TraceContextExt;
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    let context = tracing::Span::current().context();
    let span = context.span();
    let span_context = span.span_context();
    if span_context.is_valid() {
        m.insert(
            "trace_id".into(),
            span_context.trace_id().to_string().into(),
        );
        m.insert("span_id".into(), span_context.span_id().to_string().into());
    }
}

/// `POST /webhooks/{instance}`: counted in `mlc_webhooks_received_total`
/// (and `mlc_webhooks_refused_total` when answered 4xx/5xx), traced as the
/// root span `webhook receipt` whose trace id goes into the metadata of the
/// events it records.
async fn receive(
    request: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    intake: web::Data<WebhookIntake>,
) -> HttpResponse {
    let name = path.into_inner();
    let instance = if intake.instances.contains_key(&name) {
        name.clone()
    } else {
        "_unknown".to_owned()
    };
    let topic = header(request.headers(), TOPIC_HEADER)
        .unwrap_or("none")
        .to_owned();
    crate::metrics::webhook_received(&instance, &topic);
    let span = tracing::info_span!(
        parent: None,
        "webhook receipt",
        otel.name = "webhook receipt",
        otel.kind = "server",
        instance = %instance,
        topic = %topic,
        http.response.status_code = tracing::field::Empty,
    );
    let response = receive_traced(request, name, payload, intake)
        .instrument(span.clone())
        .await;
    let status = response.status().as_u16();
    span.record("http.response.status_code", status);
    if status >= 400 {
        crate::metrics::webhook_refused(&instance, status);
    }
    response
}

async fn receive_traced(
    request: HttpRequest,
    name: String,
    mut payload: web::Payload,
    intake: web::Data<WebhookIntake>,
) -> HttpResponse {
    let received_at = Utc::now();
    let delivery = uuid::Uuid::now_v7();
    let headers = request.headers();
    let topic = header(headers, TOPIC_HEADER);
    let Some(instance) = intake.instances.get(&name) else {
        let (body, _) = match read_body(headers, &mut payload, DEFAULT_MAX_BODY_BYTES).await {
            Ok(body) => (body, None),
            Err((body, refusal)) => (body, Some(refusal)),
        };
        let refusal = Refusal::new(
            StatusCode::NOT_FOUND,
            "unknown_instance",
            "no instance of that name receives webhooks here",
        );
        tracing::warn!(instance = %name, %delivery, "webhook for an unknown instance refused");
        return reject(&intake, None, delivery, topic, &body, refusal, received_at).await;
    };
    let body = match read_body(headers, &mut payload, instance.config.max_body_bytes).await {
        Ok(body) => body,
        Err((body, refusal)) => {
            return reject(
                &intake,
                Some(&instance.id),
                delivery,
                topic,
                &body,
                refusal,
                received_at,
            )
            .await
        }
    };
    let signature = header(headers, SIGNATURE_HEADER);
    if signature.is_none() {
        if let Some(webhook_id) = is_ping(&body.bytes) {
            return record_ping(&intake, &instance.id, delivery, webhook_id, received_at).await;
        }
    }
    let secret = instance.config.webhook_secret.expose_secret().as_bytes();
    if let Err(error) = verify_signature(secret, &body.bytes, signature.unwrap_or("")) {
        let refusal = Refusal::new(StatusCode::UNAUTHORIZED, "bad_signature", error.to_string());
        return reject(
            &intake,
            Some(&instance.id),
            delivery,
            topic,
            &body,
            refusal,
            received_at,
        )
        .await;
    }
    let outcome = match topic {
        Some("order.created" | "order.updated") => {
            receive_order(
                &intake,
                instance,
                &body,
                received_at,
                delivery,
                topic,
                headers,
            )
            .await
        }
        Some("customer.created" | "customer.updated") => {
            receive_customer(
                &intake,
                instance,
                &body,
                received_at,
                delivery,
                topic,
                headers,
            )
            .await
        }
        other => {
            tracing::info!(instance = %name, topic = other.unwrap_or("(none)"), %delivery, "webhook topic not handled: ignored");
            Ok(accepted("ignored", None, 0))
        }
    };
    match outcome {
        Ok(response) => response,
        Err(refusal) => {
            reject(
                &intake,
                Some(&instance.id),
                delivery,
                topic,
                &body,
                refusal,
                received_at,
            )
            .await
        }
    }
}

/// What to answer when a document command did not take effect: a refusal to
/// record, or an answer as is (the store is down).
fn command_failed<E: std::error::Error>(
    error: CommandError<E>,
    document: &str,
) -> Result<HttpResponse, Refusal> {
    match error {
        CommandError::Refused(refusal) => Err(Refusal::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "refused",
            format!("{document}: {refusal}"),
        )),
        CommandError::Store(_) | CommandError::Stopped => {
            tracing::error!(document, %error, "webhook not recorded: the event store failed");
            Ok(store_unavailable())
        }
    }
}

fn store_unavailable() -> HttpResponse {
    HttpResponse::ServiceUnavailable().json(Problem {
        code: "store_unavailable",
        detail: "the event store is unavailable; nothing was recorded".into(),
    })
}

async fn receive_order(
    intake: &WebhookIntake,
    instance: &Instance,
    body: &Body,
    received_at: DateTime<Utc>,
    delivery: uuid::Uuid,
    topic: Option<&str>,
    headers: &HeaderMap,
) -> Result<HttpResponse, Refusal> {
    let malformed =
        |detail: String| Refusal::new(StatusCode::BAD_REQUEST, "malformed_payload", detail);
    let order = parse_order(&body.bytes).map_err(|e| malformed(e.to_string()))?;
    let id = DocumentId::order(instance.id.clone(), order.source_id.clone())
        .map_err(|e| malformed(e.to_string()))?
        .to_string();
    let command = OrderCommand::ReceiveOrder {
        instance: instance.id.clone(),
        order: Box::new(order),
        received_at,
    };
    record(
        &intake.orders,
        id,
        command,
        metadata(&delivery, topic, headers),
    )
    .await
}

/// The one field of a customer the canonical model does not carry.
#[derive(serde::Deserialize)]
struct CustomerModified<'a> {
    #[serde(borrow, default)]
    date_modified_gmt: Option<std::borrow::Cow<'a, str>>,
}

fn customer_modified_at(body: &[u8]) -> Option<DateTime<Utc>> {
    let wire: CustomerModified = serde_json::from_slice(body).ok()?;
    let text = wire.date_modified_gmt?;
    NaiveDateTime::parse_from_str(&text, "%Y-%m-%dT%H:%M:%S")
        .ok()
        .map(|t| t.and_utc())
}

async fn receive_customer(
    intake: &WebhookIntake,
    instance: &Instance,
    body: &Body,
    received_at: DateTime<Utc>,
    delivery: uuid::Uuid,
    topic: Option<&str>,
    headers: &HeaderMap,
) -> Result<HttpResponse, Refusal> {
    let malformed =
        |detail: String| Refusal::new(StatusCode::BAD_REQUEST, "malformed_payload", detail);
    let customer = parse_customer(&body.bytes).map_err(|e| malformed(e.to_string()))?;
    let source_id = customer
        .source_id
        .clone()
        .ok_or_else(|| malformed("customer: the body has no id".into()))?;
    let id = DocumentId::customer(instance.id.clone(), source_id)
        .map_err(|e| malformed(e.to_string()))?
        .to_string();
    let command = CustomerCommand::ReceiveCustomer {
        instance: instance.id.clone(),
        customer: Box::new(customer),
        modified_at: customer_modified_at(&body.bytes),
        received_at,
    };
    record(
        &intake.customers,
        id,
        command,
        metadata(&delivery, topic, headers),
    )
    .await
}

/// Executes a delivery's command and answers once its event is durable
/// (`duplicate` when it changed nothing).
async fn record<A>(
    bus: &CommandBus<A>,
    id: String,
    command: A::Command,
    metadata: serde_json::Map<String, serde_json::Value>,
) -> Result<HttpResponse, Refusal>
where
    A: cqrs_es::Aggregate + 'static,
    A::Command: Clone + Send + Sync + 'static,
    A::Error: Send + 'static,
    A::Services: Default + 'static,
{
    match bus.execute(&id, command, metadata).await {
        Ok(done) => Ok(accepted(
            if done.is_duplicate() {
                "duplicate"
            } else {
                "recorded"
            },
            Some(id),
            done.events(),
        )),
        Err(error) => command_failed(error, &id),
    }
}

async fn record_ping(
    intake: &WebhookIntake,
    instance: &InstanceId,
    delivery: uuid::Uuid,
    webhook_id: u64,
    received_at: DateTime<Utc>,
) -> HttpResponse {
    let id = delivery_stream_id(Some(instance), delivery);
    let command = DeliveryCommand::RecordPing {
        webhook_id,
        received_at,
    };
    let mut meta = serde_json::Map::new();
    meta.insert("source".into(), "webhook".into());
    match intake.deliveries.execute(&id, command, meta).await {
        Ok(_) => {
            tracing::info!(instance = %instance, webhook_id, "webhook ping received");
            accepted("ping", Some(id), 1)
        }
        Err(error) => {
            tracing::error!(%error, "webhook ping not recorded: the event store failed");
            store_unavailable()
        }
    }
}

/// Records `refusal` as `DeliveryRejected` and answers it.
async fn reject(
    intake: &WebhookIntake,
    instance: Option<&InstanceId>,
    delivery: uuid::Uuid,
    topic: Option<&str>,
    body: &Body,
    refusal: Refusal,
    received_at: DateTime<Utc>,
) -> HttpResponse {
    let id = delivery_stream_id(instance, delivery);
    tracing::warn!(
        delivery = %id,
        status = refusal.status.as_u16(),
        code = refusal.code,
        detail = %refusal.detail,
        "webhook refused"
    );
    let command = DeliveryCommand::RecordRejection {
        status: refusal.status.as_u16(),
        reason: format!("{}: {}", refusal.code, refusal.detail),
        topic: topic.map(str::to_string),
        size: body.size,
        body_sha256: sha256_hex(&body.bytes),
        received_at,
    };
    let mut meta = serde_json::Map::new();
    meta.insert("source".into(), "webhook".into());
    if let Err(error) = intake.deliveries.execute(&id, command, meta).await {
        // The refusal stands whether or not it could be recorded.
        tracing::error!(delivery = %id, %error, "webhook refusal not recorded");
    }
    HttpResponse::build(refusal.status).json(Problem {
        code: refusal.code,
        detail: refusal.detail,
    })
}
