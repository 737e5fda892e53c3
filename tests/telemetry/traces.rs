//! One trace from webhook receipt to the Sage 300 POST, received over
//! OTLP/HTTP (protobuf) by an in-process collector.

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpResponse, HttpServer};
use mlc_store::testing::TestDatabase;
use mlc_workload::{FaultProfile, Workload};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value;
use prost::Message;

use crate::{config_for, sage_order_posts, sandbox, wait_for_webhooks, Options, Service};

/// A span as received: its trace, name, parent and string attributes.
#[derive(Debug, Clone)]
struct ReceivedSpan {
    trace_id: String,
    span_id: String,
    parent_span_id: String,
    name: String,
    attributes: HashMap<String, String>,
}

type Spans = Arc<Mutex<Vec<ReceivedSpan>>>;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `POST /v1/traces`: decodes an OTLP export request and keeps its spans.
async fn collect(body: web::Bytes, spans: web::Data<Spans>) -> HttpResponse {
    let Ok(request) = ExportTraceServiceRequest::decode(body.as_ref()) else {
        return HttpResponse::BadRequest().finish();
    };
    let mut kept = spans.lock().unwrap();
    for span in request
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .flat_map(|s| &s.spans)
    {
        let attributes = span
            .attributes
            .iter()
            .filter_map(|kv| {
                let value = match kv.value.as_ref()?.value.as_ref()? {
                    any_value::Value::StringValue(s) => s.clone(),
                    any_value::Value::IntValue(i) => i.to_string(),
                    any_value::Value::BoolValue(b) => b.to_string(),
                    any_value::Value::DoubleValue(d) => d.to_string(),
                    _ => return None,
                };
                Some((kv.key.clone(), value))
            })
            .collect();
        kept.push(ReceivedSpan {
            trace_id: hex(&span.trace_id),
            span_id: hex(&span.span_id),
            parent_span_id: hex(&span.parent_span_id),
            name: span.name.clone(),
            attributes,
        });
    }
    HttpResponse::Ok()
        .content_type("application/x-protobuf")
        .body(ExportTraceServiceResponse::default().encode_to_vec())
}

/// Starts the collector on a port the OS picks; returns its base URL.
fn start_collector(spans: Spans) -> (String, actix_web::dev::ServerHandle) {
    let data = web::Data::new(spans);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(web::PayloadConfig::new(64 * 1024 * 1024))
            .route("/v1/traces", web::post().to(collect))
    })
    .workers(1)
    .disable_signals()
    .bind("127.0.0.1:0")
    .unwrap();
    let addr = server.addrs()[0];
    let server = server.run();
    let handle = server.handle();
    tokio::spawn(server);
    (format!("http://{addr}"), handle)
}

#[tokio::test(flavor = "multi_thread")]
async fn one_trace_spans_webhook_receipt_to_the_sage_300_post() {
    let spans: Spans = Arc::default();
    let (collector, collector_handle) = start_collector(spans.clone());
    let (sandbox, control) = sandbox().await;
    let manifest = sandbox.manifest();
    let woo = &manifest["woocommerce"];
    let db = TestDatabase::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let config = config_for(
        &manifest,
        &Options {
            consumer_key: crate::s(woo, "consumer_key").to_owned(),
            consumer_secret: crate::s(woo, "consumer_secret").to_owned(),
            webhook_secret: "traces-webhook-secret".into(),
            log_level: "warn",
            otlp_endpoint: Some(collector.clone()),
        },
    )
    // The order must arrive by its webhook, whose trace this test follows:
    // a backfill poll between the order's creation and its delivery (likely
    // on a loaded machine) would record it first, without that trace.
    .replace("order_backfill = \"2s\"", "order_backfill = \"1h\"");
    let service = Service::start(
        dir.path(),
        &config,
        &db.url,
        Stdio::null(),
        &[("OTEL_BSP_SCHEDULE_DELAY", "100")],
    );
    wait_for_webhooks(&control).await;

    let workload = Workload {
        orders: 1,
        concurrency: 1,
        new_customer_ratio: 0.0,
        refund_ratio: 0.0,
        customer_edit_ratio: 0.0,
        erp_change_ratio: 0.0,
        faults: FaultProfile::None,
        seed: 3,
        run_tag: "traces".into(),
    };
    let ledger = workload
        .run(&control, Arc::new(AtomicUsize::new(0)))
        .await
        .unwrap();
    assert!(ledger.errors.is_empty(), "{:?}", ledger.errors);
    let order_id = ledger.orders[0].id;

    // The trace: a `webhook receipt` span and a Sage 300 POST of the order
    // with the same trace id.
    let deadline = Instant::now() + Duration::from_secs(30);
    let (trace_id, receipt, post) = loop {
        let found = {
            let spans = spans.lock().unwrap();
            spans
                .iter()
                .filter(|s| s.name == "webhook receipt")
                .find_map(|receipt| {
                    spans
                        .iter()
                        .find(|s| {
                            s.trace_id == receipt.trace_id
                                && s.name == "sage300 POST"
                                && s.attributes
                                    .get("url.path")
                                    .is_some_and(|p| p.contains("OE/OEOrders"))
                        })
                        // Its parent ends (and is exported) after it.
                        .filter(|post| spans.iter().any(|s| s.span_id == post.parent_span_id))
                        .map(|post| (receipt.trace_id.clone(), receipt.clone(), post.clone()))
                })
        };
        if let Some(found) = found {
            break found;
        }
        if Instant::now() > deadline {
            let posts = sage_order_posts(&control).await;
            let names: Vec<String> = spans
                .lock()
                .unwrap()
                .iter()
                .filter(|s| !s.name.ends_with(" GET"))
                .map(|s| {
                    format!(
                        "{} {} {} parent {} {:?} {:?}",
                        s.trace_id,
                        s.span_id,
                        s.name,
                        s.parent_span_id,
                        s.attributes.get("url.path"),
                        s.attributes.get("document")
                    )
                })
                .collect();
            panic!(
                "no trace spans webhook -> Sage 300 POST ({} OEOrders POSTs in the sandbox); spans received:\n{}",
                posts,
                names.join("\n")
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(
        receipt.parent_span_id, "",
        "the webhook receipt is the root"
    );
    assert_eq!(
        receipt.attributes.get("instance").map(String::as_str),
        Some("shop")
    );
    assert_eq!(
        post.attributes.get("system").map(String::as_str),
        Some("sage300")
    );
    assert_eq!(
        post.attributes
            .get("http.response.status_code")
            .map(String::as_str),
        Some("201"),
        "{post:?}"
    );
    // The POST sits under the `drive order` span, whose parent is the receipt.
    let drive = {
        let spans = spans.lock().unwrap();
        spans
            .iter()
            .find(|s| s.span_id == post.parent_span_id)
            .cloned()
    }
    .expect("the POST's parent span was exported");
    assert_eq!(drive.name, "drive order");
    assert_eq!(drive.parent_span_id, receipt.span_id);
    assert_eq!(
        drive.attributes.get("document").map(String::as_str),
        Some(format!("shop/order/{order_id}").as_str())
    );

    // The OrderReceived event carries that trace id.
    let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
    let metadata: String = sqlx::query_scalar(
        "SELECT metadata FROM events WHERE event_type = 'OrderReceived' AND aggregate_id = ?",
    )
    .bind(format!("shop/order/{order_id}"))
    .fetch_one(&pool)
    .await
    .unwrap();
    let metadata: serde_json::Value = serde_json::from_str(&metadata).unwrap();
    assert_eq!(metadata["trace_id"], trace_id.as_str(), "{metadata}");
    assert_eq!(metadata["span_id"], receipt.span_id.as_str(), "{metadata}");
    pool.close().await;

    service.stop();
    collector_handle.stop(false).await;
    sandbox.stop().await;
}
