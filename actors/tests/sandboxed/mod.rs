//! One instance wired to an in-process sandbox over real HTTP: the real
//! Sage 300 and WooCommerce connectors, a fresh event store per test, and
//! small helpers to drive the sandbox's control API.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use mlc_connectors::sage300::{Sage300, Sage300Settings};
use mlc_connectors::woocommerce::{WooCommerce, WooCommerceSettings};
use mlc_connectors::{Erp, Storefront};
use mlc_domain::integration::{Integration, IntegrationCommand};
use mlc_domain::model::InstanceId;
use mlc_sandbox::{Sandbox, SandboxOptions, Seed, System};
use mlc_store::testing::TestDatabase;
use mlc_store::{EventFilter, EventStore, StoredEvent};
use secrecy::SecretString;
use serde_json::Value;

/// The instance every test drives.
pub const INSTANCE: &str = "woo-main";

/// A sandbox, a store and the instance's connectors.
pub struct World {
    pub sandbox: Sandbox,
    pub store: EventStore,
    pub erp: Arc<dyn Erp>,
    pub storefront: Arc<dyn Storefront>,
    pub http: reqwest::Client,
    _db: TestDatabase,
}

impl World {
    /// An empty sandbox, a fresh database of `backend` and a configured instance.
    pub async fn start(backend: &str) -> World {
        let sandbox = Sandbox::start(SandboxOptions {
            listen: "127.0.0.1:0".parse().unwrap(),
            seed: Seed::Empty,
        })
        .await
        .expect("sandbox starts");
        let db = TestDatabase::of(backend).await;
        let store = db.store().await;
        store
            .cqrs::<Integration>(vec![], ())
            .execute(
                INSTANCE,
                IntegrationCommand::Configure {
                    instance: instance(),
                    fingerprint: "test".into(),
                },
            )
            .await
            .expect("configure the instance");
        let (erp, storefront) = connectors(&sandbox);
        World {
            sandbox,
            store,
            erp,
            storefront,
            http: reqwest::Client::new(),
            _db: db,
        }
    }

    /// `{sandbox}/_sandbox/{path}`.
    pub fn control(&self, path: &str) -> String {
        format!("http://{}/_sandbox/{path}", self.sandbox.addr())
    }

    /// POSTs `body` to a control route; panics unless it succeeds.
    pub async fn post(&self, path: &str, body: Value) -> Value {
        let response = self
            .http
            .post(self.control(path))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert!(status.is_success(), "POST {path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// GETs a control route as JSON.
    pub async fn get(&self, path: &str) -> Value {
        self.http
            .get(self.control(path))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Writes the store accepted, as `/_sandbox/woocommerce/received` lists them.
    pub async fn woo_writes(&self) -> Vec<Value> {
        match self.get("woocommerce/received").await {
            Value::Array(writes) => writes,
            other => panic!("received log: {other}"),
        }
    }

    /// GETs `wp-json/wc/v3/{path}` through the store's REST API.
    pub async fn woo_api(&self, path: &str, query: &[(&str, &str)]) -> Value {
        let manifest = self.sandbox.manifest();
        let woo = &manifest["woocommerce"];
        let base = self.sandbox.base_url(System::Woocommerce);
        let mut query: Vec<(&str, &str)> = query.to_vec();
        query.push(("consumer_key", woo["consumer_key"].as_str().unwrap()));
        query.push(("consumer_secret", woo["consumer_secret"].as_str().unwrap()));
        let response = self
            .http
            .get(format!("{base}wp-json/wc/v3/{path}"))
            .header("X-Forwarded-Proto", "https")
            .query(&query)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert!(status.is_success(), "GET {path}: {status} {text}");
        serde_json::from_str(&text).unwrap()
    }

    /// The store's product with `sku`.
    pub async fn product(&self, sku: &str) -> Value {
        let found = self.woo_api("products", &[("sku", sku)]).await;
        found
            .as_array()
            .and_then(|a| a.first())
            .cloned()
            .unwrap_or_else(|| panic!("no product {sku}: {found}"))
    }

    /// Every event of the instance, optionally of one type.
    pub async fn events(&self, event_type: Option<&str>) -> Vec<StoredEvent> {
        self.store
            .list(
                &EventFilter {
                    instance: Some(INSTANCE.into()),
                    aggregate_id: None,
                    event_type: event_type.map(str::to_owned),
                },
                0,
                100_000,
            )
            .await
            .unwrap()
    }

    /// The instance's `Integration` aggregate.
    pub async fn integration(&self) -> Integration {
        let mut integration = Integration::default();
        for event in self
            .store
            .list(
                &EventFilter {
                    instance: None,
                    aggregate_id: Some(INSTANCE.into()),
                    event_type: None,
                },
                0,
                100_000,
            )
            .await
            .unwrap()
        {
            use cqrs_es::Aggregate;
            integration.apply(event.payload_as().unwrap());
        }
        integration
    }

    pub async fn stop(self) {
        self.sandbox.stop().await;
    }
}

pub fn instance() -> InstanceId {
    InstanceId::new(INSTANCE).unwrap()
}

/// The real connectors, pointed at the sandbox with its manifest's credentials.
pub fn connectors(sandbox: &Sandbox) -> (Arc<dyn Erp>, Arc<dyn Storefront>) {
    let manifest = sandbox.manifest();
    let sage = &manifest["sage300"];
    let mut settings = Sage300Settings::new(
        sage["base_url"].as_str().unwrap().parse().unwrap(),
        sage["company"].as_str().unwrap(),
        sage["username"].as_str().unwrap(),
        SecretString::from(sage["password"].as_str().unwrap().to_owned()),
    );
    settings.timeout = Duration::from_secs(10);
    let erp: Arc<dyn Erp> = Arc::new(Sage300::new(settings).expect("Sage 300 connector"));
    let woo = &manifest["woocommerce"];
    let storefront: Arc<dyn Storefront> = Arc::new(
        WooCommerce::new(WooCommerceSettings {
            base_url: woo["base_url"].as_str().unwrap().parse().unwrap(),
            consumer_key: SecretString::from(woo["consumer_key"].as_str().unwrap().to_owned()),
            consumer_secret: SecretString::from(
                woo["consumer_secret"].as_str().unwrap().to_owned(),
            ),
            timeout: Duration::from_secs(10),
        })
        .expect("WooCommerce connector"),
    );
    (erp, storefront)
}

/// Waits until `check` holds, polling for up to 10 seconds.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..200 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

/// A webhook receiver that answers every request 200 and counts them: the
/// stand-in for our gateway, so deliveries succeed once no fault is set.
pub struct Receiver {
    pub url: String,
    pub count: Arc<std::sync::atomic::AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks/{INSTANCE}", listener.local_addr().unwrap());
        let count = Arc::new(AtomicUsize::new(0));
        let counted = count.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let counted = counted.clone();
                tokio::spawn(async move {
                    // Read the head and the body announced by Content-Length.
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 8192];
                    loop {
                        let Ok(n) = socket.read(&mut chunk).await else {
                            return;
                        };
                        if n == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                        let text = String::from_utf8_lossy(&buf).to_string();
                        if let Some(end) = text.find("\r\n\r\n") {
                            let length = text[..end]
                                .lines()
                                .find_map(|l| {
                                    let (k, v) = l.split_once(':')?;
                                    k.eq_ignore_ascii_case("content-length")
                                        .then(|| v.trim().parse::<usize>().ok())?
                                })
                                .unwrap_or(0);
                            if buf.len() >= end + 4 + length {
                                break;
                            }
                        }
                    }
                    counted.fetch_add(1, Ordering::SeqCst);
                    let _ = socket
                        .write_all(
                            b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                        )
                        .await;
                });
            }
        });
        Receiver { url, count, task }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}
