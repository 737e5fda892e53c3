//! The operator verbs, once for the HTTP API and the CLI: list documents,
//! show a document's timeline, replay, rewind, replay in bulk, and preview
//! what would be sent to the ERP.
//!
//! [`Operator`] only translates: the documents' aggregates decide (a posted
//! order refuses a replay, in its own words), the `documents` read model
//! lists, and the instance's ERP connector prepares the request a preview
//! shows. Every command is recorded with who asked (`requested_by`) and why.

mod catch_up;
mod error;
mod preview;
mod summary;

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use mlc_connectors::{Erp, PreparedRequest};
use mlc_domain::customer::{CustomerCommand, CustomerDocument};
use mlc_domain::mapping::{ErpOrder, MappingRules};
use mlc_domain::model::{DocumentId, DocumentKind};
use mlc_domain::order::{OrderCommand, OrderDocument};
use mlc_projections::{DocumentFilter, DocumentPage, DocumentRow, DocumentsView, Page};
use mlc_store::{CommandBus, EventFilter, EventStore, Executed, StoredEvent};
use serde::Serialize;
use serde_json::{json, Map, Value};

pub use catch_up::catch_up_documents;
pub use error::OperatorError;
pub use preview::NEW_CUSTOMER;

/// Statuses an order document can be listed by.
pub const ORDER_STATUSES: [&str; 6] = [
    "received",
    "customer_resolved",
    "posted",
    "failed",
    "retry_scheduled",
    "parked",
];

/// Statuses a customer document can be listed by.
pub const CUSTOMER_STATUSES: [&str; 4] = ["pending", "synced", "retry_scheduled", "parked"];

/// Documents a bulk replay shows as a sample.
const SAMPLE: usize = 20;

/// Commands a bulk replay keeps in flight at once (the command bus batches them).
const BULK_IN_FLIGHT: usize = 256;

/// What the operator needs of one instance: its ERP connector and mapping,
/// for previews.
#[derive(Clone)]
pub struct InstanceOps {
    /// The instance's ERP connector.
    pub erp: Arc<dyn Erp>,
    /// The instance's mapping rules.
    pub rules: MappingRules,
}

/// The operator verbs over the store, the read model and the command buses.
/// Cheap to clone.
#[derive(Clone)]
pub struct Operator {
    inner: Arc<Inner>,
}

struct Inner {
    store: EventStore,
    documents: DocumentsView,
    orders: CommandBus<OrderDocument>,
    customers: CommandBus<CustomerDocument>,
    instances: HashMap<String, InstanceOps>,
}

/// One event of a document, for people.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimelineEntry {
    /// The event's sequence in the document's stream, from 1.
    pub sequence: u64,
    /// The event's type, e.g. `PostedToErp`.
    pub event_type: String,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
    /// Its position in the store's global order.
    pub global_position: i64,
    /// One readable line, e.g. "Posted to Sage 300 as ORD000123 (attempt 2)".
    pub summary: String,
    /// The event as stored.
    pub payload: Value,
    /// Its metadata as stored (who or what caused it).
    pub metadata: Value,
}

/// A document and its whole story.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Timeline {
    /// The document as the read model shows it (computed from the events
    /// when the read model has not caught up yet).
    pub document: DocumentRow,
    /// Every event, in sequence order.
    pub events: Vec<TimelineEntry>,
}

/// Which documents a bulk replay takes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BulkFilter {
    /// Only this instance's documents.
    pub instance: Option<String>,
    /// Only documents in this status; `None` means `parked`.
    pub status: Option<String>,
    /// Only documents whose last reason contains this text (any case).
    pub reason_contains: Option<String>,
    /// Only this kind (`order` or `customer`).
    pub kind: Option<String>,
}

/// A document a bulk replay could not replay, and the aggregate's reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BulkRefusal {
    /// The document id.
    pub id: String,
    /// Why.
    pub reason: String,
}

/// What a bulk replay did, or would do on a dry run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BulkReport {
    /// Whether nothing was changed.
    pub dry_run: bool,
    /// Documents the filter selected.
    pub matched: u64,
    /// Documents replayed (0 on a dry run).
    pub replayed: u64,
    /// Documents whose replay was refused or failed.
    pub refused: Vec<BulkRefusal>,
    /// The first 20 documents selected.
    pub sample: Vec<DocumentRow>,
}

/// What posting an order document would send to the ERP now; nothing is sent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Preview {
    /// The document id.
    pub document_id: String,
    /// The order mapped to the ERP's model with the instance's rules.
    pub erp_order: ErpOrder,
    /// The exact request, `Authorization` redacted.
    pub request: PreparedRequest,
    /// What the operator should know (an unresolved customer, a posted order).
    pub notes: Vec<String>,
}

impl Operator {
    /// The operator over `store`, its `documents` read model, the two command
    /// buses, and the ERP connector and mapping of each instance by name.
    pub fn new(
        store: EventStore,
        documents: DocumentsView,
        orders: CommandBus<OrderDocument>,
        customers: CommandBus<CustomerDocument>,
        instances: HashMap<String, InstanceOps>,
    ) -> Operator {
        Operator {
            inner: Arc::new(Inner {
                store,
                documents,
                orders,
                customers,
                instances,
            }),
        }
    }

    /// The documents matching `filter`, most recently changed first. An
    /// unknown kind or status is [`OperatorError::Invalid`].
    pub async fn list(
        &self,
        filter: &DocumentFilter,
        page: Page,
    ) -> Result<DocumentPage, OperatorError> {
        check_kind_and_status(filter.kind.as_deref(), filter.status.as_deref())?;
        Ok(self.inner.documents.list(filter, page).await?)
    }

    /// The document `id` and every event of it, each with a readable line.
    pub async fn timeline(&self, id: &str) -> Result<Timeline, OperatorError> {
        let document_id = parse_id(id)?;
        let events = self.events(id).await?;
        let Some(last) = events.last() else {
            return Err(not_found(id));
        };
        let last_sequence = u64::try_from(last.sequence).unwrap_or_default();
        let document = match self.inner.documents.get(id).await? {
            Some(row) if row.version >= last_sequence => row,
            _ => row_from_events(&document_id, &events)?,
        };
        let erp = self.erp_name(document_id.instance().as_str());
        let events = events.iter().map(|e| entry(e, erp)).collect();
        Ok(Timeline { document, events })
    }

    /// Asks to drive document `id` again from its recorded order (or
    /// profile), attempts reset: for parked or failed documents. Returns
    /// the events recorded.
    pub async fn replay(
        &self,
        id: &str,
        by: &str,
        reason: &str,
    ) -> Result<Vec<TimelineEntry>, OperatorError> {
        let document_id = parse_id(id)?;
        let metadata = metadata(by);
        let executed = match document_id.kind() {
            DocumentKind::Order => self
                .inner
                .orders
                .execute(
                    id,
                    OrderCommand::RequestReplay {
                        requested_by: by.to_owned(),
                        reason: reason.to_owned(),
                    },
                    metadata,
                )
                .await
                .map_err(|e| error::order_refusal(id, e))?,
            DocumentKind::Customer => self
                .inner
                .customers
                .execute(
                    id,
                    CustomerCommand::RequestReplay {
                        requested_by: by.to_owned(),
                        reason: reason.to_owned(),
                    },
                    metadata,
                )
                .await
                .map_err(|e| error::customer_refusal(id, e))?,
            other => return Err(unsupported(other, "replayed")),
        };
        tracing::info!(document = %id, requested_by = %by, %reason, "operator: replay requested");
        self.recorded(&document_id, &executed).await
    }

    /// Moves order document `id` back to how it stood after event
    /// `to_sequence`, to drive it again from there. A posted order refuses.
    pub async fn rewind(
        &self,
        id: &str,
        to_sequence: u64,
        by: &str,
        reason: &str,
    ) -> Result<Vec<TimelineEntry>, OperatorError> {
        let document_id = parse_id(id)?;
        if document_id.kind() != DocumentKind::Order {
            return Err(OperatorError::Invalid(format!(
                "only order documents can be rewound; '{id}' is a {} document (replay it instead)",
                document_id.kind().as_str()
            )));
        }
        let executed = self
            .inner
            .orders
            .execute(
                id,
                OrderCommand::Rewind {
                    to_sequence,
                    requested_by: by.to_owned(),
                    reason: reason.to_owned(),
                },
                metadata(by),
            )
            .await
            .map_err(|e| error::order_refusal(id, e))?;
        tracing::info!(document = %id, to_sequence, requested_by = %by, %reason, "operator: rewound");
        self.recorded(&document_id, &executed).await
    }

    /// Replays every document `filter` selects (parked ones by default), or
    /// on a dry run only says which it would: nothing is changed. A refusal
    /// is reported and the rest go on.
    pub async fn bulk_replay(
        &self,
        filter: &BulkFilter,
        dry_run: bool,
        by: &str,
        reason: &str,
    ) -> Result<BulkReport, OperatorError> {
        let status = filter.status.clone().unwrap_or_else(|| "parked".to_owned());
        check_kind_and_status(filter.kind.as_deref(), Some(&status))?;
        if !dry_run && reason.trim().is_empty() {
            return Err(OperatorError::Invalid("reason must not be blank".into()));
        }
        let matched = self.select(filter, status).await?;
        let sample: Vec<DocumentRow> = matched.iter().take(SAMPLE).cloned().collect();
        let mut report = BulkReport {
            dry_run,
            matched: matched.len() as u64,
            replayed: 0,
            refused: Vec::new(),
            sample,
        };
        if dry_run {
            return Ok(report);
        }
        for chunk in matched.chunks(BULK_IN_FLIGHT) {
            let outcomes = futures::future::join_all(
                chunk
                    .iter()
                    .map(|row| async move { (row, self.replay(&row.id, by, reason).await) }),
            )
            .await;
            for (row, outcome) in outcomes {
                match outcome {
                    Ok(_) => report.replayed += 1,
                    Err(e @ OperatorError::Unavailable(_)) => return Err(e),
                    Err(e) => report.refused.push(BulkRefusal {
                        id: row.id.clone(),
                        reason: e.to_string(),
                    }),
                }
            }
        }
        tracing::info!(
            matched = report.matched,
            replayed = report.replayed,
            refused = report.refused.len(),
            requested_by = %by,
            "operator: bulk replay"
        );
        Ok(report)
    }

    /// What posting order document `id` would send to its instance's ERP
    /// now: the order mapped with the instance's rules, items resolved
    /// through the ERP, and the exact request. Nothing is sent.
    pub async fn preview(&self, id: &str) -> Result<Preview, OperatorError> {
        let document_id = parse_id(id)?;
        if document_id.kind() != DocumentKind::Order {
            return Err(OperatorError::Invalid(format!(
                "only order documents can be previewed; '{id}' is a {} document",
                document_id.kind().as_str()
            )));
        }
        let instance = document_id.instance().as_str();
        let ops = self.inner.instances.get(instance).ok_or_else(|| {
            OperatorError::NotFound(format!(
                "instance '{instance}' has no ERP connection configured here"
            ))
        })?;
        let document: OrderDocument = self.load(id).await?;
        if document.version() == 0 {
            return Err(not_found(id));
        }
        preview::preview(id, &document, ops).await
    }

    /// Every event of aggregate `id`, in order.
    async fn events(&self, id: &str) -> Result<Vec<StoredEvent>, OperatorError> {
        const PAGE: usize = 1000;
        let filter = EventFilter {
            aggregate_id: Some(id.to_owned()),
            ..Default::default()
        };
        let mut events = Vec::new();
        let mut after = 0;
        loop {
            let page = self.inner.store.list(&filter, after, PAGE).await?;
            let full = page.len() == PAGE;
            if let Some(last) = page.last() {
                after = last.position.global;
            }
            events.extend(page);
            if !full {
                break;
            }
        }
        events.sort_by_key(|e| e.sequence);
        Ok(events)
    }

    /// The aggregate `id` folded from its events.
    async fn load<A: Aggregate>(&self, id: &str) -> Result<A, OperatorError> {
        let mut streams = self.inner.store.load_streams(A::TYPE, &[id]).await?;
        let mut aggregate = A::default();
        for event in streams.remove(id).unwrap_or_default() {
            aggregate.apply(event.payload_as().map_err(|e| corrupt(&event, e))?);
        }
        Ok(aggregate)
    }

    /// The events a command appended, as timeline entries.
    async fn recorded(
        &self,
        id: &DocumentId,
        executed: &Executed,
    ) -> Result<Vec<TimelineEntry>, OperatorError> {
        let Some(first) = executed.positions.first() else {
            return Ok(Vec::new());
        };
        let filter = EventFilter {
            aggregate_id: Some(id.to_string()),
            ..Default::default()
        };
        let events = self
            .inner
            .store
            .list(&filter, first - 1, executed.positions.len())
            .await?;
        let erp = self.erp_name(id.instance().as_str());
        Ok(events.iter().map(|e| entry(e, erp)).collect())
    }

    /// Every row `filter` selects, in the read model's order.
    async fn select(
        &self,
        filter: &BulkFilter,
        status: String,
    ) -> Result<Vec<DocumentRow>, OperatorError> {
        let list_filter = DocumentFilter {
            instance: filter.instance.clone(),
            status: Some(status),
            kind: filter.kind.clone(),
            search: None,
        };
        let needle = filter
            .reason_contains
            .as_deref()
            .map(str::to_lowercase)
            .filter(|n| !n.is_empty());
        let mut rows = Vec::new();
        let mut page = Page {
            offset: 0,
            limit: 1000,
        };
        loop {
            let found = self.inner.documents.list(&list_filter, page).await?;
            let count = found.items.len() as u64;
            rows.extend(found.items.into_iter().filter(|row| {
                match &needle {
                    None => true,
                    Some(needle) => row
                        .last_reason
                        .as_deref()
                        .is_some_and(|r| r.to_lowercase().contains(needle)),
                }
            }));
            page.offset += count;
            if count < page.limit || page.offset >= found.total {
                break;
            }
        }
        Ok(rows)
    }

    fn erp_name(&self, instance: &str) -> &'static str {
        self.inner
            .instances
            .get(instance)
            .map(|ops| ops.erp.system())
            .unwrap_or("the ERP")
    }
}

fn parse_id(id: &str) -> Result<DocumentId, OperatorError> {
    DocumentId::from_str(id).map_err(|e| {
        OperatorError::Invalid(format!(
            "'{id}' is not a document id ({{instance}}/{{kind}}/{{source_id}}): {e}"
        ))
    })
}

fn not_found(id: &str) -> OperatorError {
    OperatorError::NotFound(format!("no document '{id}'"))
}

fn unsupported(kind: DocumentKind, verb: &str) -> OperatorError {
    OperatorError::Invalid(format!(
        "{} documents cannot be {verb}; only order and customer documents",
        kind.as_str()
    ))
}

fn corrupt(event: &StoredEvent, e: serde_json::Error) -> OperatorError {
    tracing::error!(document = %event.aggregate_id, sequence = event.sequence, error = %e, "operator: an event cannot be read");
    OperatorError::Unavailable(format!(
        "event {} of '{}' cannot be read: {e}",
        event.sequence, event.aggregate_id
    ))
}

/// Who caused an operator's command, stored with its events.
fn metadata(by: &str) -> Map<String, Value> {
    let Value::Object(map) = json!({ "cause": "operator", "requested_by": by }) else {
        unreachable!("a JSON object literal")
    };
    map
}

fn check_kind_and_status(kind: Option<&str>, status: Option<&str>) -> Result<(), OperatorError> {
    let statuses: Vec<&str> = match kind {
        None => ORDER_STATUSES
            .iter()
            .chain(CUSTOMER_STATUSES.iter())
            .copied()
            .collect(),
        Some("order") => ORDER_STATUSES.to_vec(),
        Some("customer") => CUSTOMER_STATUSES.to_vec(),
        Some(other) => {
            return Err(OperatorError::Invalid(format!(
                "unknown kind '{other}': expected order or customer"
            )))
        }
    };
    match status {
        Some(status) if !statuses.contains(&status) => {
            let mut known = statuses;
            known.sort_unstable();
            known.dedup();
            Err(OperatorError::Invalid(format!(
                "unknown status '{status}': expected one of {}",
                known.join(", ")
            )))
        }
        _ => Ok(()),
    }
}

fn entry(event: &StoredEvent, erp: &str) -> TimelineEntry {
    TimelineEntry {
        sequence: u64::try_from(event.sequence).unwrap_or_default(),
        event_type: event.event_type.clone(),
        recorded_at: event.recorded_at,
        global_position: event.position.global,
        summary: summary::summarize(event, erp),
        payload: serde_json::from_str(&event.payload).unwrap_or(Value::Null),
        metadata: serde_json::from_str(&event.metadata).unwrap_or(Value::Null),
    }
}

/// The row of a document the read model has not caught up with, computed
/// from its events the way the read model computes it.
fn row_from_events(id: &DocumentId, events: &[StoredEvent]) -> Result<DocumentRow, OperatorError> {
    let last = events.last().ok_or_else(|| not_found(&id.to_string()))?;
    let mut row = DocumentRow {
        id: id.to_string(),
        instance: id.instance().as_str().to_owned(),
        kind: id.kind().as_str().to_owned(),
        status: String::new(),
        channel_number: None,
        erp_number: None,
        customer: None,
        erp_customer: None,
        attempts: 0,
        last_reason: None,
        not_before: None,
        version: u64::try_from(last.sequence).unwrap_or_default(),
        received_at: None,
        updated_at: last.recorded_at,
        refunds_pending: 0,
    };
    match id.kind() {
        DocumentKind::Order => {
            let mut d = OrderDocument::default();
            for e in events {
                d.apply(e.payload_as().map_err(|err| corrupt(e, err))?);
            }
            row.status = d
                .status()
                .and_then(|s| serde_json::to_value(s).ok())
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            row.channel_number = d.order().map(|o| o.number.clone());
            row.erp_number = d.erp_document_number().map(str::to_owned);
            row.customer = d.order().and_then(|o| customer_label(&o.customer));
            row.erp_customer = d.erp_customer_id().map(str::to_owned);
            row.attempts = d.attempts();
            row.last_reason = d
                .park_reason()
                .map(str::to_owned)
                .or_else(|| d.last_failure().map(|f| f.reason.clone()));
            row.not_before = d.scheduled_retry().map(|r| r.not_before);
            row.received_at = d.received_at();
            row.refunds_pending = d.pending_refunds().count() as u32;
        }
        DocumentKind::Customer => {
            let mut d = CustomerDocument::default();
            for e in events {
                d.apply(e.payload_as().map_err(|err| corrupt(e, err))?);
            }
            row.status = d
                .status()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default();
            row.channel_number = d.customer().and_then(|c| c.source_id.clone());
            row.erp_number = d.erp_customer_id().map(str::to_owned);
            row.customer = d.customer().and_then(customer_label);
            row.erp_customer = d.erp_customer_id().map(str::to_owned);
            row.attempts = d.attempts();
            row.last_reason = d
                .park_reason()
                .map(str::to_owned)
                .or_else(|| d.last_failure().map(|f| f.reason.clone()));
            row.not_before = d.not_before();
            row.received_at = d.received_at();
        }
        other => return Err(unsupported(other, "shown")),
    }
    Ok(row)
}

fn customer_label(customer: &mlc_domain::model::Customer) -> Option<String> {
    if let Some(email) = &customer.email {
        return Some(email.as_str().to_owned());
    }
    let name = format!("{} {}", customer.first_name, customer.last_name)
        .trim()
        .to_owned();
    (!name.is_empty()).then_some(name)
}
