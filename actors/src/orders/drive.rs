//! Driving one document one step further, and recording what happened.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use chrono::Utc;
use cqrs_es::Aggregate;
use mlc_connectors::{ConcurrencyLimited, ConnectorError, Erp};
use mlc_domain::customer::{CustomerCommand, CustomerDocument, CustomerDocumentStatus};
use mlc_domain::mapping::{
    map_credit_note, map_customer, map_order, new_customer_number, MappingError, MappingRules,
};
use mlc_domain::model::{Customer, Sku};
use mlc_domain::order::{
    OrderCommand, OrderDocument, OrderDocumentStatus, OrderEvent, RefundRecord,
};
use mlc_projections::DocumentRow;
use mlc_store::{CommandBus, EventStore, Executed};
use serde_json::{json, Map, Value};

use super::loads::StreamLoader;
use super::worker::{OrderWorkerDeps, OrderWorkerError};
use super::{telemetry, RetrySettings};
use tracing::Instrument;

/// How long a document whose step failed without a durable record (the
/// customer lookup, the event store) is left alone.
const HOLD_AFTER_ERROR: Duration = Duration::from_secs(5);

/// How long an e-mail address's ERP customer number is trusted without
/// asking the ERP again. A returning customer's orders then cost one ERP
/// call (the post) instead of two; a customer renumbered or deleted in the
/// ERP in the meantime is seen when a post is refused (the entry is dropped).
const CUSTOMER_CACHE_TTL: Duration = Duration::from_secs(15 * 60);

/// Entries of the customer cache past which expired ones are swept.
const CUSTOMER_CACHE_SWEEP: usize = 100_000;

/// What driving one document left behind, for the worker loop.
pub(crate) struct Outcome {
    /// The document's version after the step (0 when unknown).
    pub version: u64,
    /// Leave the document alone this long, even if the read model lists it.
    pub hold: Option<Duration>,
}

/// The outside call of a step, for the audit trail: what was asked and what
/// came back, in words, never with credentials.
struct Call {
    request: String,
    response: String,
}

impl Call {
    fn new(request: impl Into<String>, response: impl Into<String>) -> Self {
        Call {
            request: request.into(),
            response: response.into(),
        }
    }
}

pub(crate) struct Driver {
    store: EventStore,
    /// The documents driven at once load together.
    loader: StreamLoader,
    orders: CommandBus<OrderDocument>,
    customers: CommandBus<CustomerDocument>,
    erp: Arc<dyn Erp>,
    rules: Arc<RwLock<MappingRules>>,
    retry: RetrySettings,
    /// ERP item numbers known to exist (identity mapping of SKUs).
    known_items: Mutex<HashSet<String>>,
    /// One lock per customer key, so two orders of one new customer create it once.
    customer_locks: KeyLocks,
    /// One lock per SKU, so that orders arriving together ask the ERP about
    /// an item once.
    item_locks: KeyLocks,
    /// ERP customer numbers by e-mail address, as last found or created.
    known_customers: Mutex<HashMap<String, (String, std::time::Instant)>>,
    /// What this turn's commands appended, per order document, so that the
    /// driver brings its copy up to date without loading it again.
    executed: Mutex<HashMap<String, Vec<Executed>>>,
}

impl Driver {
    pub(crate) fn new(deps: &OrderWorkerDeps, rules: Arc<RwLock<MappingRules>>) -> Self {
        Driver {
            store: deps.store.clone(),
            loader: StreamLoader::start(deps.store.clone()),
            orders: deps.bus.clone(),
            customers: deps.customers.clone(),
            erp: Arc::new(ConcurrencyLimited::new(deps.erp.clone(), deps.concurrency)),
            rules,
            retry: deps.retry,
            known_items: Mutex::default(),
            customer_locks: KeyLocks::default(),
            item_locks: KeyLocks::default(),
            known_customers: Mutex::default(),
            executed: Mutex::default(),
        }
    }

    fn rules(&self) -> MappingRules {
        self.rules.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Drives the document of `row` as far as it goes now. Errors are logged
    /// and the document is held back for a while.
    pub(crate) async fn drive(&self, row: &DocumentRow) -> Outcome {
        let result = match row.kind.as_str() {
            "order" => self.drive_order(&row.id).await,
            "customer" => self.drive_customer(&row.id).await,
            _ => Ok(Outcome {
                version: row.version,
                hold: None,
            }),
        };
        result.unwrap_or_else(|e| {
            tracing::warn!(document = %row.id, error = %e, "order worker: step failed; trying again later");
            Outcome {
                version: 0,
                hold: Some(HOLD_AFTER_ERROR),
            }
        })
    }

    // --- Orders

    /// Drives an order in a span that continues the trace of the webhook
    /// that brought it (the latest event with a `trace_id`).
    async fn drive_order(&self, id: &str) -> Result<Outcome, OrderWorkerError> {
        self.take_executed(id); // left by a turn that failed half-way
        let (document, parent) = self.load_traced::<OrderDocument>(id).await?;
        self.drive_order_steps(id, document)
            .instrument(telemetry::drive_span(id, parent))
            .await
    }

    async fn drive_order_steps(
        &self,
        id: &str,
        mut document: OrderDocument,
    ) -> Result<Outcome, OrderWorkerError> {
        let mut hold = None;
        // Whether the next post is the document's first possible one: this
        // turn resolved the customer of a document that never had one. A
        // post is only ever sent after a resolution is durable, so nothing
        // of this order can be in the ERP yet, and the look-up by reference
        // (GET before create) is skipped. Any later turn (a retry, a restart,
        // a replay, a rewind) looks first.
        let mut first_post = false;
        // At most a few steps per turn: resolve, post, credit notes.
        for _ in 0..4 {
            let Some(status) = document.status() else {
                break;
            };
            let cause = format!("{status} at version {}", document.version());
            let progressed = match status {
                OrderDocumentStatus::Received => {
                    let never_resolved = document.erp_customer_id().is_none();
                    match self.resolve_customer(id, &document, &cause).await? {
                        Some(wait) => {
                            hold = Some(wait);
                            false
                        }
                        None => {
                            first_post = never_resolved;
                            true
                        }
                    }
                }
                OrderDocumentStatus::CustomerResolved => {
                    self.post(id, &document, &cause, !first_post).await?;
                    first_post = false;
                    true
                }
                OrderDocumentStatus::RetryScheduled => {
                    let due = document
                        .scheduled_retry()
                        .is_none_or(|r| r.not_before <= Utc::now());
                    if due {
                        self.post(id, &document, &cause, true).await?;
                    }
                    due
                }
                OrderDocumentStatus::Failed => {
                    self.after_failure(id, &document, &cause).await?;
                    true
                }
                OrderDocumentStatus::Posted => {
                    self.credit_notes(id, &document, &cause).await?;
                    false
                }
                OrderDocumentStatus::Parked => false,
            };
            if !progressed {
                break;
            }
            document = self.advance(id, document).await?;
            if matches!(
                document.status(),
                Some(OrderDocumentStatus::RetryScheduled | OrderDocumentStatus::Parked)
            ) {
                break;
            }
        }
        Ok(Outcome {
            version: document.version(),
            hold,
        })
    }

    /// Finds or creates the order's ERP customer. `Some(wait)` when it could
    /// not be done now (a retryable failure, not recorded on the order).
    async fn resolve_customer(
        &self,
        id: &str,
        document: &OrderDocument,
        cause: &str,
    ) -> Result<Option<Duration>, OrderWorkerError> {
        let Some(order) = document.order() else {
            return Ok(None);
        };
        let customer = &order.customer;
        let lock = self.customer_lock(customer);
        let _guard = lock.lock().await;
        match self.find_or_create_customer(customer).await {
            Ok((number, created, call)) => {
                let command = if created {
                    OrderCommand::CreateCustomer {
                        erp_customer_id: number,
                    }
                } else {
                    OrderCommand::MatchCustomer {
                        erp_customer_id: number,
                    }
                };
                self.order_command(id, command, cause, call).await?;
                Ok(None)
            }
            Err(Failure::Mapping(e)) => {
                let call = Call::new("choose an ERP customer number", e.to_string());
                self.park(id, e.to_string(), cause, call).await?;
                Ok(None)
            }
            Err(Failure::Connector(e, _)) if !e.is_retryable() => {
                let reason = format!("resolving the customer: {e}");
                let call = Call::new("resolve the customer", e.to_string());
                self.park(id, reason, cause, call).await?;
                Ok(None)
            }
            Err(Failure::Connector(e, _)) => {
                tracing::warn!(document = id, error = %e, "order worker: customer lookup failed; trying again later");
                Ok(Some(self.retry.backoff(1, e.retry_after())))
            }
        }
    }

    fn customer_lock(&self, customer: &Customer) -> Arc<tokio::sync::Mutex<()>> {
        let key = customer
            .email
            .as_ref()
            .map(|e| e.as_str().to_owned())
            .or_else(|| customer.source_id.clone())
            .unwrap_or_default();
        self.customer_locks.of(key)
    }

    /// The ERP number of `customer`: found by e-mail, or (already) created
    /// under its stable number. `true` when this call created it.
    async fn find_or_create_customer(
        &self,
        customer: &Customer,
    ) -> Result<(String, bool, Call), Failure> {
        if let Some(number) = self.cached_customer(customer) {
            let call = Call::new(
                "find customer by e-mail (known)",
                format!(
                    "{number} (found or created within the last {} minutes)",
                    CUSTOMER_CACHE_TTL.as_secs() / 60
                ),
            );
            return Ok((number, false, call));
        }
        let found = self.find_or_create_uncached(customer).await?;
        self.remember_customer(customer, &found.0);
        Ok(found)
    }

    /// The cached ERP number of `customer`'s e-mail address, if fresh.
    fn cached_customer(&self, customer: &Customer) -> Option<String> {
        let email = customer.email.as_ref()?;
        let cache = self
            .known_customers
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        cache
            .get(email.as_str())
            .filter(|(_, at)| at.elapsed() < CUSTOMER_CACHE_TTL)
            .map(|(number, _)| number.clone())
    }

    fn remember_customer(&self, customer: &Customer, number: &str) {
        let Some(email) = &customer.email else {
            return;
        };
        let mut cache = self
            .known_customers
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if cache.len() >= CUSTOMER_CACHE_SWEEP {
            cache.retain(|_, (_, at)| at.elapsed() < CUSTOMER_CACHE_TTL);
        }
        cache.insert(
            email.as_str().to_owned(),
            (number.to_owned(), std::time::Instant::now()),
        );
    }

    fn forget_customer(&self, customer: &Customer) {
        if let Some(email) = &customer.email {
            self.known_customers
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(email.as_str());
        }
    }

    /// [`Driver::find_or_create_customer`], asking the ERP.
    async fn find_or_create_uncached(
        &self,
        customer: &Customer,
    ) -> Result<(String, bool, Call), Failure> {
        let erp = &self.erp;
        if let Some(email) = &customer.email {
            let found = erp
                .find_customer_by_email(email)
                .await
                .map_err(|e| Failure::Connector(e, format!("find customer by e-mail {email}")))?;
            if let Some(number) = found {
                let call = Call::new(
                    format!("find customer by e-mail {email}"),
                    format!("found {number}"),
                );
                return Ok((number, false, call));
            }
        }
        let number = new_customer_number(customer).map_err(Failure::Mapping)?;
        // A create that timed out after the ERP wrote it must not be repeated.
        let exists = erp
            .customer_exists(&number)
            .await
            .map_err(|e| Failure::Connector(e, format!("customer {number} exists?")))?;
        if exists {
            let call = Call::new(
                format!("customer {number} exists?"),
                "yes (created before)".to_owned(),
            );
            return Ok((number, false, call));
        }
        let erp_customer = map_customer(customer, &number, &self.rules());
        let created = erp
            .create_customer(&erp_customer)
            .await
            .map_err(|e| Failure::Connector(e, format!("create customer {number}")))?;
        let call = Call::new(
            format!("create customer {number} ({})", erp_customer.name),
            format!("created {created}"),
        );
        Ok((created, true, call))
    }

    /// One post attempt; with `look_first`, GET before create.
    async fn post(
        &self,
        id: &str,
        document: &OrderDocument,
        cause: &str,
        look_first: bool,
    ) -> Result<(), OrderWorkerError> {
        let (Some(order), Some(customer)) = (document.order(), document.erp_customer_id()) else {
            return Ok(());
        };
        let attempt = document.attempts() + 1;
        let rules = self.rules();
        let skus: Vec<&Sku> = order.lines.iter().map(|l| &l.sku).collect();
        let erp_order = match self
            .mapped(&rules, &skus, |resolve| {
                map_order(order, customer, &rules, resolve)
            })
            .await
        {
            Ok(erp_order) => erp_order,
            Err(Failure::Mapping(e)) => {
                let call = Call::new("map the order lines", e.to_string());
                return self.park(id, e.to_string(), cause, call).await;
            }
            Err(Failure::Connector(e, request)) => {
                return self.post_failed(id, attempt, e, request, cause).await;
            }
        };
        let reference = erp_order.reference.clone();
        let found = if look_first {
            match self.erp.find_order(&reference).await {
                Ok(found) => found,
                Err(e) => {
                    let request = format!("find order by reference {reference}");
                    return self.post_failed(id, attempt, e, request, cause).await;
                }
            }
        } else {
            None
        };
        let found_before = found.is_some();
        let (number, call) = match found {
            Some(number) => (
                number.clone(),
                Call::new(
                    format!("find order by reference {reference}"),
                    format!("found {number} (posted before)"),
                ),
            ),
            None => {
                let request = format!(
                    "post order {reference} for customer {customer}, {} lines",
                    erp_order.lines.len()
                );
                match self.erp.post_order(&erp_order).await {
                    Ok(number) => (
                        number.clone(),
                        Call::new(request, format!("created {number}")),
                    ),
                    Err(e) => {
                        if !e.is_retryable() {
                            // Perhaps the customer is gone: ask the ERP next time.
                            self.forget_customer(&order.customer);
                        }
                        return self.post_failed(id, attempt, e, request, cause).await;
                    }
                }
            }
        };
        self.order_command(
            id,
            OrderCommand::RecordPosted {
                erp_document_number: number,
                posted_at: Utc::now(),
                attempt,
            },
            cause,
            call,
        )
        .await?;
        telemetry::post(
            id,
            if found_before {
                "already_posted"
            } else {
                "posted"
            },
        );
        Ok(())
    }

    /// Records a failed attempt, then schedules the next or parks.
    async fn post_failed(
        &self,
        id: &str,
        attempt: u32,
        error: ConnectorError,
        request: String,
        cause: &str,
    ) -> Result<(), OrderWorkerError> {
        let reason = error.to_string();
        let retryable = error.is_retryable();
        let call = Call::new(request, reason.clone());
        self.order_command(
            id,
            OrderCommand::RecordPostFailed {
                attempt,
                reason: reason.clone(),
                retryable,
                failed_at: Utc::now(),
            },
            cause,
            call,
        )
        .await?;
        telemetry::post(id, "failed");
        self.schedule_or_park(id, attempt, retryable, reason, error.retry_after(), cause)
            .await
    }

    /// A failure is recorded but nothing was decided after it (the worker
    /// stopped in between): decide now.
    async fn after_failure(
        &self,
        id: &str,
        document: &OrderDocument,
        cause: &str,
    ) -> Result<(), OrderWorkerError> {
        let Some(failure) = document.last_failure() else {
            return Ok(());
        };
        self.schedule_or_park(
            id,
            failure.attempt,
            failure.retryable,
            failure.reason.clone(),
            None,
            cause,
        )
        .await
    }

    async fn schedule_or_park(
        &self,
        id: &str,
        attempt: u32,
        retryable: bool,
        reason: String,
        retry_after: Option<Duration>,
        cause: &str,
    ) -> Result<(), OrderWorkerError> {
        if retryable && !self.retry.is_last(attempt) {
            let wait = self.retry.backoff(attempt, retry_after);
            let not_before = Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default();
            let call = Call::new("(none)", format!("next attempt in {} ms", wait.as_millis()));
            self.order_command(
                id,
                OrderCommand::ScheduleRetry {
                    attempt: attempt + 1,
                    not_before,
                },
                cause,
                call,
            )
            .await?;
            telemetry::retry(id);
            Ok(())
        } else {
            let reason = if retryable {
                format!("gave up after {attempt} attempts: {reason}")
            } else {
                reason
            };
            self.park(id, reason, cause, Call::new("(none)", "parked"))
                .await
        }
    }

    async fn park(
        &self,
        id: &str,
        reason: String,
        cause: &str,
        call: Call,
    ) -> Result<(), OrderWorkerError> {
        self.order_command(id, OrderCommand::Park { reason }, cause, call)
            .await?;
        telemetry::parked(id);
        Ok(())
    }

    /// One credit note per pending refund that is due.
    async fn credit_notes(
        &self,
        id: &str,
        document: &OrderDocument,
        cause: &str,
    ) -> Result<(), OrderWorkerError> {
        let (Some(order), Some(order_number), Some(customer)) = (
            document.order(),
            document.erp_document_number(),
            document.erp_customer_id(),
        ) else {
            return Ok(());
        };
        let now = Utc::now();
        let due: Vec<&RefundRecord> = document
            .pending_refunds()
            .filter(|r| r.not_before.is_none_or(|t| t <= now))
            .collect();
        let rules = self.rules();
        for record in due {
            let refund = &record.refund;
            let attempt = record.attempts + 1;
            // A refund without lines may credit every line of the order
            // (a full refund): check those items too.
            let skus: Vec<&Sku> = if refund.lines.is_empty() {
                order.lines.iter().map(|l| &l.sku).collect()
            } else {
                refund.lines.iter().map(|l| &l.sku).collect()
            };
            let mapped = self
                .mapped(&rules, &skus, |resolve| {
                    map_credit_note(order, refund, order_number, customer, &rules, resolve)
                })
                .await;
            let note = match mapped {
                Ok(note) => note,
                Err(Failure::Mapping(e)) => {
                    let call = Call::new("map the refund lines", e.to_string());
                    self.credit_note_failed(
                        id,
                        &refund.source_id,
                        attempt,
                        e.to_string(),
                        false,
                        None,
                        cause,
                        call,
                    )
                    .await?;
                    continue;
                }
                Err(Failure::Connector(e, request)) => {
                    let call = Call::new(request, e.to_string());
                    self.credit_note_failed(
                        id,
                        &refund.source_id,
                        attempt,
                        e.to_string(),
                        e.is_retryable(),
                        e.retry_after(),
                        cause,
                        call,
                    )
                    .await?;
                    continue;
                }
            };
            let find = format!("find credit note by reference {}", note.reference);
            let found = match self.erp.find_credit_note(&note.reference).await {
                Ok(found) => found,
                Err(e) => {
                    let call = Call::new(find, e.to_string());
                    self.credit_note_failed(
                        id,
                        &refund.source_id,
                        attempt,
                        e.to_string(),
                        e.is_retryable(),
                        e.retry_after(),
                        cause,
                        call,
                    )
                    .await?;
                    continue;
                }
            };
            let (number, call) = match found {
                Some(number) => {
                    let call = Call::new(find, format!("found {number} (posted before)"));
                    (number, call)
                }
                None => {
                    let request = format!(
                        "post credit note {} of {} for order {order_number}",
                        note.reference, note.amount
                    );
                    match self.erp.post_credit_note(&note).await {
                        Ok(number) => {
                            let call = Call::new(request, format!("created {number}"));
                            (number, call)
                        }
                        Err(e) => {
                            let call = Call::new(request, e.to_string());
                            self.credit_note_failed(
                                id,
                                &refund.source_id,
                                attempt,
                                e.to_string(),
                                e.is_retryable(),
                                e.retry_after(),
                                cause,
                                call,
                            )
                            .await?;
                            continue;
                        }
                    }
                }
            };
            self.order_command(
                id,
                OrderCommand::RecordCreditNotePosted {
                    refund_id: refund.source_id.clone(),
                    erp_document_number: number,
                    posted_at: Utc::now(),
                },
                cause,
                call,
            )
            .await?;
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn credit_note_failed(
        &self,
        id: &str,
        refund_id: &str,
        attempt: u32,
        reason: String,
        retryable: bool,
        retry_after: Option<Duration>,
        cause: &str,
        call: Call,
    ) -> Result<(), OrderWorkerError> {
        let wait = self.retry.backoff(attempt, retry_after);
        self.order_command(
            id,
            OrderCommand::RecordCreditNoteFailed {
                refund_id: refund_id.to_owned(),
                attempt,
                reason,
                retryable,
                failed_at: Utc::now(),
                max_attempts: self.retry.max_attempts,
                not_before: Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default(),
            },
            cause,
            call,
        )
        .await
    }

    /// Runs `map` with a resolver that knows which of `skus` exist as ERP
    /// items (asking the ERP about those not mapped explicitly and not yet
    /// known to exist).
    async fn mapped<T>(
        &self,
        rules: &MappingRules,
        skus: &[&Sku],
        map: impl FnOnce(&dyn Fn(&Sku) -> Option<String>) -> Result<T, MappingError>,
    ) -> Result<T, Failure> {
        for sku in skus {
            let sku = sku.as_str();
            if rules.skus.contains_key(sku) || self.is_known(sku) {
                continue;
            }
            let lock = self.item_locks.of(sku.to_owned());
            let _guard = lock.lock().await;
            if self.is_known(sku) {
                continue; // another order asked meanwhile
            }
            match self.erp.item_exists(sku).await {
                Ok(true) => {
                    self.known_items
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(sku.to_owned());
                }
                Ok(false) => {} // the mapping reports it, naming the SKU
                Err(e) => return Err(Failure::Connector(e, format!("item {sku} exists?"))),
            }
        }
        let resolve = |sku: &Sku| self.is_known(sku.as_str()).then(|| sku.as_str().to_owned());
        map(&resolve).map_err(Failure::Mapping)
    }

    fn is_known(&self, sku: &str) -> bool {
        self.known_items
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(sku)
    }

    // --- Customers

    async fn drive_customer(&self, id: &str) -> Result<Outcome, OrderWorkerError> {
        let document: CustomerDocument = self.load(id).await?;
        let version = document.version();
        let due = match document.status() {
            Some(CustomerDocumentStatus::Pending) => true,
            Some(CustomerDocumentStatus::RetryScheduled) => {
                document.not_before().is_none_or(|t| t <= Utc::now())
            }
            _ => false,
        };
        let Some(customer) = document.customer().filter(|_| due) else {
            return Ok(Outcome {
                version,
                hold: None,
            });
        };
        let cause = format!(
            "{} at version {version}",
            document.status().map_or("new".into(), |s| s.to_string())
        );
        let attempt = document.attempts() + 1;
        let lock = self.customer_lock(customer);
        let _guard = lock.lock().await;
        let command = match self
            .sync_customer(customer, document.erp_customer_id())
            .await
        {
            Ok((number, created, call)) => (
                CustomerCommand::RecordErpSynced {
                    erp_customer_id: number,
                    created,
                    synced_version: document.content_version(),
                    synced_at: Utc::now(),
                },
                call,
            ),
            Err(failure) => {
                let (reason, retryable, retry_after, call) = match failure {
                    Failure::Mapping(e) => (
                        e.to_string(),
                        false,
                        None,
                        Call::new("map the customer", e.to_string()),
                    ),
                    Failure::Connector(e, request) => (
                        e.to_string(),
                        e.is_retryable(),
                        e.retry_after(),
                        Call::new(request, e.to_string()),
                    ),
                };
                let wait = self.retry.backoff(attempt, retry_after);
                (
                    CustomerCommand::RecordSyncFailed {
                        attempt,
                        reason,
                        retryable,
                        failed_at: Utc::now(),
                        max_attempts: self.retry.max_attempts,
                        not_before: Utc::now()
                            + chrono::Duration::from_std(wait).unwrap_or_default(),
                    },
                    call,
                )
            }
        };
        let (command, call) = command;
        let name = command_name_customer(&command);
        let executed = self
            .customers
            .execute(id, command, metadata(&cause, &call))
            .await
            .map_err(|e| OrderWorkerError::Command {
                id: id.to_owned(),
                command: name,
                detail: e.to_string(),
            })?;
        Ok(Outcome {
            version: executed.version,
            hold: None,
        })
    }

    /// Updates the ERP customer found by e-mail (or known from an earlier
    /// sync), else creates it under its stable number.
    async fn sync_customer(
        &self,
        customer: &Customer,
        known: Option<&str>,
    ) -> Result<(String, bool, Call), Failure> {
        let rules = self.rules();
        let mut existing = known.map(str::to_owned);
        if existing.is_none() {
            if let Some(email) = &customer.email {
                existing = self.erp.find_customer_by_email(email).await.map_err(|e| {
                    Failure::Connector(e, format!("find customer by e-mail {email}"))
                })?;
            }
        }
        if let Some(number) = existing {
            let erp_customer = map_customer(customer, &number, &rules);
            self.erp
                .update_customer(&erp_customer)
                .await
                .map_err(|e| Failure::Connector(e, format!("update customer {number}")))?;
            self.remember_customer(customer, &number);
            let call = Call::new(format!("update customer {number}"), "updated");
            return Ok((number, false, call));
        }
        let (number, created, call) = self.find_or_create_customer(customer).await?;
        if !created {
            // It exists under its stable number (an earlier create): bring it up to date.
            let erp_customer = map_customer(customer, &number, &rules);
            self.erp
                .update_customer(&erp_customer)
                .await
                .map_err(|e| Failure::Connector(e, format!("update customer {number}")))?;
        }
        Ok((number, created, call))
    }

    // --- Commands and loading

    async fn order_command(
        &self,
        id: &str,
        command: OrderCommand,
        cause: &str,
        call: Call,
    ) -> Result<(), OrderWorkerError> {
        let name = command_name(&command);
        tracing::debug!(document = id, command = name, request = %call.request, response = %call.response, "order worker");
        let executed = self
            .orders
            .execute(id, command, metadata(cause, &call))
            .await
            .map_err(|e| OrderWorkerError::Command {
                id: id.to_owned(),
                command: name,
                detail: e.to_string(),
            })?;
        self.executed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(id.to_owned())
            .or_default()
            .push(executed);
        Ok(())
    }

    fn take_executed(&self, id: &str) -> Vec<Executed> {
        self.executed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id)
            .unwrap_or_default()
    }

    /// `document` after the commands of this step: their events applied to
    /// it when they directly follow its version (nothing else was appended
    /// in between), else loaded again.
    async fn advance(
        &self,
        id: &str,
        mut document: OrderDocument,
    ) -> Result<OrderDocument, OrderWorkerError> {
        let executed = self.take_executed(id);
        if executed.is_empty() {
            return self.load(id).await;
        }
        for step in executed {
            if step.version != document.version() + step.payloads.len() as u64 {
                return self.load(id).await;
            }
            for payload in step.payloads {
                let event: OrderEvent = payload.parse().map_err(|e| OrderWorkerError::Decode {
                    id: id.to_owned(),
                    detail: e.to_string(),
                })?;
                document.apply(event);
            }
        }
        Ok(document)
    }

    async fn load<A: Aggregate>(&self, id: &str) -> Result<A, OrderWorkerError> {
        Ok(self.load_traced(id).await?.0)
    }

    /// The aggregate, and the span context of the latest event that
    /// carries one in its metadata.
    async fn load_traced<A: Aggregate>(
        &self,
        id: &str,
    ) -> Result<(A, Option<opentelemetry::trace::SpanContext>), OrderWorkerError> {
        let stream = match self.loader.load(A::TYPE, id).await {
            Some(stream) => stream,
            None => self
                .store
                .load_streams(A::TYPE, &[id])
                .await?
                .remove(id)
                .unwrap_or_default(),
        };
        let mut aggregate = A::default();
        let mut trace = None;
        for event in stream {
            if event.metadata.contains("trace_id") {
                trace = telemetry::stored_span_context(&event.metadata).or(trace);
            }
            let payload = event
                .payload_as::<A::Event>()
                .map_err(|e| OrderWorkerError::Decode {
                    id: id.to_owned(),
                    detail: e.to_string(),
                })?;
            aggregate.apply(payload);
        }
        Ok((aggregate, trace))
    }
}

/// A step that could not be done.
enum Failure {
    /// The document cannot be mapped; retrying does not help.
    Mapping(MappingError),
    /// The outside call failed; the request it was.
    Connector(ConnectorError, String),
}

fn metadata(cause: &str, call: &Call) -> Map<String, Value> {
    let Value::Object(map) = json!({
        "actor": "order-worker",
        "cause": cause,
        "request": call.request,
        "response": call.response,
    }) else {
        unreachable!("a JSON object literal");
    };
    map
}

fn command_name(command: &OrderCommand) -> &'static str {
    match command {
        OrderCommand::ReceiveOrder { .. } => "ReceiveOrder",
        OrderCommand::MatchCustomer { .. } => "MatchCustomer",
        OrderCommand::CreateCustomer { .. } => "CreateCustomer",
        OrderCommand::RecordPosted { .. } => "RecordPosted",
        OrderCommand::RecordPostFailed { .. } => "RecordPostFailed",
        OrderCommand::ScheduleRetry { .. } => "ScheduleRetry",
        OrderCommand::Park { .. } => "Park",
        OrderCommand::RequestReplay { .. } => "RequestReplay",
        OrderCommand::Rewind { .. } => "Rewind",
        OrderCommand::RecordRefund { .. } => "RecordRefund",
        OrderCommand::RecordCreditNotePosted { .. } => "RecordCreditNotePosted",
        OrderCommand::RecordCreditNoteFailed { .. } => "RecordCreditNoteFailed",
    }
}

fn command_name_customer(command: &CustomerCommand) -> &'static str {
    match command {
        CustomerCommand::ReceiveCustomer { .. } => "ReceiveCustomer",
        CustomerCommand::RecordErpSynced { .. } => "RecordErpSynced",
        CustomerCommand::RecordSyncFailed { .. } => "RecordSyncFailed",
        CustomerCommand::RequestReplay { .. } => "RequestReplay",
    }
}

/// Async locks by key, made on first use; unused ones are dropped once there
/// are many.
#[derive(Default)]
struct KeyLocks(Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>);

impl KeyLocks {
    fn of(&self, key: String) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if locks.len() > 10_000 {
            locks.retain(|_, lock| Arc::strong_count(lock) > 1);
        }
        locks.entry(key).or_default().clone()
    }
}
