//! `ml-connector documents`: the operator verbs from the command line, over
//! the same [`Operator`] as the HTTP API, with the event store opened
//! directly. The `documents` read model is brought up to date before
//! anything is read; commands are recorded as requested by `cli:$USER`.

use anyhow::bail;
use clap::{Args, Subcommand};
use mlc_actors::operator::{
    catch_up_documents, BulkFilter, Operator, OperatorError, Timeline, TimelineEntry,
};
use mlc_domain::customer::CustomerDocument;
use mlc_domain::order::OrderDocument;
use mlc_projections::{DocumentFilter, DocumentRow, DocumentsView, Page};
use mlc_store::{CommandBus, CommandBusOptions};
use std::collections::HashMap;
use std::io::Write;

use crate::settings::Settings;

/// Options of `documents`.
#[derive(Debug, Clone, Args)]
pub struct DocumentsArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: DocumentsCommand,
}

/// `documents` subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum DocumentsCommand {
    /// List order and customer documents, most recently changed first.
    List {
        /// Only this instance's documents.
        #[arg(long, value_name = "NAME")]
        instance: Option<String>,
        /// Only documents in this status (orders: received, customer_resolved,
        /// posted, failed, retry_scheduled, parked; customers: pending,
        /// synced, retry_scheduled, parked).
        #[arg(long)]
        status: Option<String>,
        /// Only this kind: order or customer.
        #[arg(long)]
        kind: Option<String>,
        /// Text found in the id, the channel or ERP number, or the customer.
        #[arg(long, value_name = "TEXT")]
        search: Option<String>,
        /// At most this many documents.
        #[arg(long, value_name = "N", default_value_t = 50)]
        limit: u64,
        /// JSON (`{"items": [...], "total"}`) instead of columns.
        #[arg(long)]
        json: bool,
    },
    /// Show a document and its timeline, one line per event.
    Show {
        /// The document id, e.g. shop-eu/order/1042.
        id: String,
        /// JSON (`{"document", "events"}`, with each event's payload) instead.
        #[arg(long)]
        json: bool,
    },
    /// Drive a parked or failed document again from its recorded order
    /// (or profile), attempts reset.
    Replay {
        /// The document id.
        id: String,
        /// Why (recorded with the replay).
        #[arg(long, default_value = "replayed from the command line")]
        reason: String,
    },
    /// Move an order document back to how it stood after event SEQ, to
    /// drive it again from there (see `documents show` for the sequences).
    Rewind {
        /// The document id.
        id: String,
        /// The event sequence to go back to.
        #[arg(long = "to", value_name = "SEQ")]
        to: u64,
        /// Why (recorded with the rewind).
        #[arg(long, default_value = "rewound from the command line")]
        reason: String,
    },
    /// Replay every document a filter selects (parked ones by default).
    ReplayAll {
        /// Only this instance's documents.
        #[arg(long, value_name = "NAME")]
        instance: Option<String>,
        /// Only documents in this status.
        #[arg(long, default_value = "parked")]
        status: String,
        /// Only documents whose last reason contains this text (any case).
        #[arg(long, value_name = "TEXT")]
        reason_contains: Option<String>,
        /// Only this kind: order or customer.
        #[arg(long)]
        kind: Option<String>,
        /// Only say what would be replayed; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Why (recorded with each replay).
        #[arg(long, default_value = "replayed in bulk from the command line")]
        reason: String,
    },
    /// Show what posting an order document would send to the ERP now (the
    /// mapped order and the exact request, credentials redacted); nothing
    /// is sent.
    Preview {
        /// The document id.
        id: String,
        /// JSON (`{"document_id", "erp_order", "request", "notes"}`) instead.
        #[arg(long)]
        json: bool,
    },
}

/// Runs a `documents` subcommand.
pub async fn run(settings: &Settings, args: &DocumentsArgs) -> anyhow::Result<()> {
    let store = settings.open_store().await?;
    let view = DocumentsView::new(store.clone());
    catch_up_documents(&store, &view)
        .await
        .map_err(operator_error)?;
    // Previews need the instance's ERP connector; the other commands only
    // use it to name the ERP in timelines.
    let instances = match (
        &args.command,
        crate::service::operator_instances(&settings.config),
    ) {
        (_, Ok(instances)) => instances,
        (DocumentsCommand::Preview { .. }, Err(e)) => return Err(e),
        (_, Err(_)) => HashMap::new(),
    };
    let operator = Operator::new(
        store.clone(),
        view,
        CommandBus::<OrderDocument>::start(store.clone(), CommandBusOptions::default()),
        CommandBus::<CustomerDocument>::start(store.clone(), CommandBusOptions::default()),
        instances,
    );
    let by = format!(
        "cli:{}",
        std::env::var("USER")
            .ok()
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| "unknown".into())
    );
    let result = command(&operator, &args.command, &by).await;
    store.close().await;
    result
}

async fn command(operator: &Operator, command: &DocumentsCommand, by: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match command {
        DocumentsCommand::List {
            instance,
            status,
            kind,
            search,
            limit,
            json,
        } => {
            let filter = DocumentFilter {
                instance: instance.clone(),
                status: status.clone(),
                kind: kind.clone(),
                search: search.clone(),
            };
            let page = operator
                .list(
                    &filter,
                    Page {
                        offset: 0,
                        limit: *limit,
                    },
                )
                .await
                .map_err(operator_error)?;
            if *json {
                writeln!(out, "{}", serde_json::to_string_pretty(&page)?)?;
            } else {
                print_rows(&mut out, &page.items)?;
                writeln!(out, "{} of {} document(s)", page.items.len(), page.total)?;
            }
        }
        DocumentsCommand::Show { id, json } => {
            let timeline = operator.timeline(id).await.map_err(operator_error)?;
            if *json {
                writeln!(out, "{}", serde_json::to_string_pretty(&timeline)?)?;
            } else {
                print_timeline(&mut out, &timeline)?;
            }
        }
        DocumentsCommand::Replay { id, reason } => {
            let entries = operator
                .replay(id, by, reason)
                .await
                .map_err(|e| refused(id, "replay", e))?;
            print_recorded(&mut out, id, &entries)?;
        }
        DocumentsCommand::Rewind { id, to, reason } => {
            let entries = operator
                .rewind(id, *to, by, reason)
                .await
                .map_err(|e| refused(id, "rewind", e))?;
            print_recorded(&mut out, id, &entries)?;
        }
        DocumentsCommand::ReplayAll {
            instance,
            status,
            reason_contains,
            kind,
            dry_run,
            reason,
        } => {
            let filter = BulkFilter {
                instance: instance.clone(),
                status: Some(status.clone()),
                reason_contains: reason_contains.clone(),
                kind: kind.clone(),
            };
            let report = operator
                .bulk_replay(&filter, *dry_run, by, reason)
                .await
                .map_err(operator_error)?;
            if *dry_run {
                writeln!(
                    out,
                    "dry run: {} document(s) would be replayed; nothing was changed",
                    report.matched
                )?;
            } else {
                writeln!(
                    out,
                    "replayed {} of {} document(s)",
                    report.replayed, report.matched
                )?;
            }
            if !report.sample.is_empty() {
                print_rows(&mut out, &report.sample)?;
                if report.matched > report.sample.len() as u64 {
                    writeln!(
                        out,
                        "... and {} more",
                        report.matched - report.sample.len() as u64
                    )?;
                }
            }
            for refusal in &report.refused {
                writeln!(out, "refused {}: {}", refusal.id, refusal.reason)?;
            }
            if !report.refused.is_empty() {
                bail!(
                    "{} of {} document(s) were refused",
                    report.refused.len(),
                    report.matched
                );
            }
        }
        DocumentsCommand::Preview { id, json } => {
            let preview = operator.preview(id).await.map_err(operator_error)?;
            if *json {
                writeln!(out, "{}", serde_json::to_string_pretty(&preview)?)?;
            } else {
                for note in &preview.notes {
                    writeln!(out, "note: {note}")?;
                }
                writeln!(out, "{} {}", preview.request.method, preview.request.url)?;
                for (name, value) in &preview.request.headers {
                    writeln!(out, "{name}: {value}")?;
                }
                writeln!(out)?;
                writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&preview.request.body)?
                )?;
                writeln!(out, "(not sent)")?;
            }
        }
    }
    Ok(())
}

fn operator_error(e: OperatorError) -> anyhow::Error {
    anyhow::anyhow!(e)
}

fn refused(id: &str, verb: &str, e: OperatorError) -> anyhow::Error {
    match e {
        OperatorError::Refused(reason) => anyhow::anyhow!("{verb} of {id} refused: {reason}"),
        other => anyhow::anyhow!(other),
    }
}

fn print_rows(out: &mut impl Write, rows: &[DocumentRow]) -> std::io::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let width = rows.iter().map(|r| r.id.len()).max().unwrap_or(2).max(2);
    writeln!(
        out,
        "{:<width$}  {:<17}  {:<10}  {:<12}  {:>8}  {:<20}  REASON",
        "ID", "STATUS", "CHANNEL", "ERP", "ATTEMPTS", "UPDATED"
    )?;
    for r in rows {
        writeln!(
            out,
            "{:<width$}  {:<17}  {:<10}  {:<12}  {:>8}  {:<20}  {}",
            r.id,
            r.status,
            r.channel_number.as_deref().unwrap_or("-"),
            r.erp_number.as_deref().unwrap_or("-"),
            r.attempts,
            r.updated_at.format("%Y-%m-%d %H:%M:%S"),
            r.last_reason.as_deref().unwrap_or("")
        )?;
    }
    Ok(())
}

fn print_timeline(out: &mut impl Write, timeline: &Timeline) -> std::io::Result<()> {
    let d = &timeline.document;
    writeln!(out, "{} ({} {}, {})", d.id, d.instance, d.kind, d.status)?;
    let field = |name: &str, value: Option<&str>| value.map(|v| format!("  {name}: {v}\n"));
    for line in [
        field("channel number", d.channel_number.as_deref()),
        field("customer", d.customer.as_deref()),
        field("ERP customer", d.erp_customer.as_deref()),
        field("ERP number", d.erp_number.as_deref()),
        field("last reason", d.last_reason.as_deref()),
    ]
    .into_iter()
    .flatten()
    {
        write!(out, "{line}")?;
    }
    if d.attempts > 0 {
        writeln!(out, "  attempts: {}", d.attempts)?;
    }
    if let Some(t) = d.not_before {
        writeln!(out, "  next attempt: {}", t.format("%Y-%m-%d %H:%M:%S UTC"))?;
    }
    if d.refunds_pending > 0 {
        writeln!(out, "  refunds pending: {}", d.refunds_pending)?;
    }
    writeln!(out)?;
    for e in &timeline.events {
        print_entry(out, e)?;
    }
    Ok(())
}

fn print_entry(out: &mut impl Write, e: &TimelineEntry) -> std::io::Result<()> {
    writeln!(
        out,
        "{:>4}  {}  {:<24}  {}",
        e.sequence,
        e.recorded_at.format("%Y-%m-%d %H:%M:%S"),
        e.event_type,
        e.summary
    )
}

fn print_recorded(
    out: &mut impl Write,
    id: &str,
    entries: &[TimelineEntry],
) -> std::io::Result<()> {
    if entries.is_empty() {
        return writeln!(out, "{id}: nothing to record (already so)");
    }
    writeln!(out, "{id}:")?;
    for e in entries {
        print_entry(out, e)?;
    }
    Ok(())
}
