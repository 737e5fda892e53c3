//! The dashboard in a real headless Chromium (Debian's `chromium` and
//! `chromium-driver`, driven over WebDriver with fantoccini), against the
//! service started in-process on SQLite and PostgreSQL: the real order worker posts to the
//! in-process Sage 300 sandbox through the real connector.
//!
//! One story, in order: sign in with an operator token; find an order by its
//! WooCommerce number and read its timeline; replay a parked order (after
//! mapping its SKU) and watch it become posted without reloading; preview a
//! bulk replay and run it; sign in as a viewer: no replay button, and both
//! the dashboard and the API refuse a replay with 403.
//!
//! Screenshots (PNG, 1366x768) of the overview, the failure queue, a document
//! timeline and the bulk replay preview are saved to
//! `target/artifacts/screenshots/`.

use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use fantoccini::{Client, ClientBuilder, Locator};
use mlc_actors::operator::{InstanceOps, Operator};
use mlc_actors::orders::{OrderWorker, OrderWorkerDeps, OrderWorkerHandle, RetrySettings};
use mlc_connectors::sage300::{Sage300, Sage300Settings};
use mlc_connectors::woocommerce::{WooCommerce, WooCommerceSettings};
use mlc_connectors::{Erp, Storefront};
use mlc_domain::customer::CustomerDocument;
use mlc_domain::mapping::MappingRules;
use mlc_domain::model::{InstanceId, Order};
use mlc_domain::order::{OrderCommand, OrderDocument};
use mlc_gateway::auth::{Role, TokenStore};
use mlc_gateway::{Gateway, GatewayState};
use mlc_projections::DocumentsView;
use mlc_sandbox::{Sandbox, SandboxOptions, Seed};
use mlc_store::testing::TestDatabase;
use mlc_store::{CommandBus, CommandBusOptions, EventFilter, EventStore, SubscriptionOptions};
use secrecy::SecretString;
use serde_json::{json, Map, Value};
use tokio_util::sync::CancellationToken;

const INSTANCE: &str = "woo-main";
/// Orders of the story: one that posts, one parked then replayed alone,
/// two parked then replayed in bulk, one parked that stays (for the viewer).
const POSTED: &str = "1042";
const SINGLE: &str = "1043";
const BULK: [&str; 2] = ["1044", "1045"];
const STAYS: &str = "1046";
/// An order that arrives while the overview is open (the live view).
const LIVE: &str = "1047";

fn chromedriver() -> PathBuf {
    let path = std::env::var_os("MLC_CHROMEDRIVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromedriver"));
    assert!(
        path.exists(),
        "chromedriver not found at {}: the browser tests need Debian's `chromium` and \
         `chromium-driver` (scripts/test installs them; or `apt-get install -y chromium \
         chromium-driver`, or set MLC_CHROMEDRIVER)",
        path.display()
    );
    path
}

fn screenshots_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let dir = target.join("artifacts/screenshots");
    std::fs::create_dir_all(&dir).expect("create target/artifacts/screenshots");
    dir
}

/// chromedriver on a free port, killed on drop.
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    async fn start() -> Driver {
        let path = chromedriver();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(&path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", path.display()));
        let url = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Ok(r) = http.get(format!("{url}/status")).send().await {
                if r.status().is_success() {
                    break;
                }
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not answer at {url}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Driver { child, url }
    }

    async fn browser(&self) -> Client {
        let mut caps = Map::new();
        let mut options = json!({
            "args": [
                "--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                "--disable-gpu", "--window-size=1366,768", "--lang=en-GB",
            ],
        });
        if std::path::Path::new("/usr/bin/chromium").exists() {
            options["binary"] = json!("/usr/bin/chromium");
        }
        caps.insert("goog:chromeOptions".into(), options);
        // fantoccini's rustls needs a process-wide crypto provider; ring is
        // the workspace's.
        let _ = rustls::crypto::ring::default_provider().install_default();
        ClientBuilder::rustls()
            .expect("TLS roots")
            .capabilities(caps)
            .connect(&self.url)
            .await
            .expect("a Chromium session through chromedriver")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The service in-process: sandbox, store, read models, order worker,
/// operator, gateway (API and dashboard).
struct Service {
    sandbox: Option<Sandbox>,
    store: EventStore,
    orders: CommandBus<OrderDocument>,
    worker: OrderWorkerHandle,
    tokens: TokenStore,
    url: String,
    shutdown: CancellationToken,
    _db: TestDatabase,
}

impl Service {
    async fn start(backend: &str) -> Service {
        let sandbox = Sandbox::start(SandboxOptions {
            listen: "127.0.0.1:0".parse().unwrap(),
            seed: Seed::Demo,
        })
        .await
        .expect("sandbox starts");
        let db = TestDatabase::of(backend).await;
        let store = db.store().await;
        let shutdown = CancellationToken::new();
        let documents = DocumentsView::new(store.clone());
        for spec in mlc_projections::all_with_documents(documents.clone()) {
            let subscription = spec.subscription(SubscriptionOptions {
                poll_interval: Duration::from_millis(50),
                ..Default::default()
            });
            tokio::spawn(subscription.run(shutdown.clone()));
        }
        let orders = CommandBus::start(store.clone(), CommandBusOptions::default());
        let customers =
            CommandBus::<CustomerDocument>::start(store.clone(), CommandBusOptions::default());
        let erp: Arc<dyn Erp> = Arc::new(sage(&sandbox));
        let storefront: Arc<dyn Storefront> = Arc::new(woo(&sandbox));
        let worker = OrderWorker::start(
            OrderWorkerDeps {
                store: store.clone(),
                bus: orders.clone(),
                customers: customers.clone(),
                documents: documents.clone(),
                instance: InstanceId::new(INSTANCE).unwrap(),
                erp: erp.clone(),
                storefront,
                rules: MappingRules::default(),
                retry: RetrySettings {
                    max_attempts: 4,
                    initial_backoff: Duration::from_millis(100),
                    max_backoff: Duration::from_millis(400),
                    jitter: 0.1,
                },
                concurrency: 4,
                poll_interval: Duration::from_millis(50),
            },
            shutdown.clone(),
        );
        let operator = Operator::new(
            store.clone(),
            documents,
            orders.clone(),
            customers,
            HashMap::from([(
                INSTANCE.to_owned(),
                InstanceOps {
                    erp,
                    rules: MappingRules::default(),
                },
            )]),
        );
        let state = GatewayState {
            store: store.clone(),
            subscriptions: vec![],
            webhooks: None,
            operator: Some(operator),
        };
        let tokens = state.tokens();
        let gateway = Gateway::bind(SocketAddr::from(([127, 0, 0, 1], 0)), state).unwrap();
        let url = format!("http://{}", gateway.local_addr());
        tokio::spawn(gateway.run(shutdown.clone()));
        Service {
            sandbox: Some(sandbox),
            store,
            orders,
            worker,
            tokens,
            url,
            shutdown,
            _db: db,
        }
    }

    fn sandbox(&self) -> &Sandbox {
        self.sandbox.as_ref().expect("sandbox running")
    }

    async fn demo_email(&self) -> String {
        let customers: Value = reqwest::get(format!(
            "http://{}/_sandbox/sage300/customers",
            self.sandbox().addr()
        ))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        let first = &customers.as_array().expect("customers")[0];
        ["Email", "email"]
            .iter()
            .find_map(|k| first[*k].as_str())
            .expect("a demo customer with an e-mail")
            .to_owned()
    }

    async fn receive(&self, number: &str, sku: &str, email: &str) -> String {
        let id = format!("{INSTANCE}/order/{number}");
        self.orders
            .execute(
                &id,
                OrderCommand::ReceiveOrder {
                    instance: InstanceId::new(INSTANCE).unwrap(),
                    order: order(number, sku, email),
                    received_at: Utc::now(),
                },
                Map::new(),
            )
            .await
            .unwrap();
        id
    }

    async fn has_event(&self, id: &str, event_type: &str) -> bool {
        let filter = EventFilter {
            aggregate_id: Some(id.to_owned()),
            ..Default::default()
        };
        self.store
            .list(&filter, 0, 1000)
            .await
            .unwrap()
            .iter()
            .any(|e| e.event_type == event_type)
    }

    async fn wait_for_event(&self, id: &str, event_type: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !self.has_event(id, event_type).await {
            assert!(Instant::now() < deadline, "{id} never had {event_type}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(sandbox) = self.sandbox.take() {
            sandbox.stop().await;
        }
    }
}

fn sage(sandbox: &Sandbox) -> Sage300 {
    let m = &sandbox.manifest()["sage300"];
    let mut settings = Sage300Settings::new(
        m["base_url"].as_str().unwrap().parse().unwrap(),
        m["company"].as_str().unwrap(),
        m["username"].as_str().unwrap(),
        SecretString::from(m["password"].as_str().unwrap().to_owned()),
    );
    settings.timeout = Duration::from_secs(2);
    Sage300::new(settings).unwrap()
}

fn woo(sandbox: &Sandbox) -> WooCommerce {
    let m = &sandbox.manifest()["woocommerce"];
    WooCommerce::new(WooCommerceSettings {
        base_url: m["base_url"].as_str().unwrap().parse().unwrap(),
        consumer_key: SecretString::from(m["consumer_key"].as_str().unwrap().to_owned()),
        consumer_secret: SecretString::from(m["consumer_secret"].as_str().unwrap().to_owned()),
        timeout: Duration::from_secs(5),
    })
    .unwrap()
}

/// WooCommerce order `number`: 2 x `sku` at 12.50 CAD, built through the
/// domain's serde.
fn order(number: &str, sku: &str, email: &str) -> Box<Order> {
    let money = |amount: &str| json!({"amount": amount, "currency": "CAD"});
    Box::new(
        serde_json::from_value(json!({
            "source_id": number,
            "number": format!("#{number}"),
            "status": "processing",
            "currency": "CAD",
            "customer": {
                "source_id": "41", "email": email, "first_name": "Ada",
                "last_name": "Lovelace", "company": null, "phone": null, "billing_address": null,
                "shipping_address": null, "group": null,
            },
            "billing_address": null,
            "shipping_address": null,
            "lines": [{
                "line_id": "1", "sku": sku, "name": "Stapler", "quantity": "2",
                "unit_price": money("12.50"), "tax": money("0.00"), "total": money("25.00"),
            }],
            "shipping_total": money("0.00"),
            "tax_total": money("0.00"),
            "discount_total": money("0.00"),
            "grand_total": money("25.00"),
            "created_at": "2026-11-30T09:00:00Z",
            "modified_at": "2026-11-30T09:00:00Z",
            "payment_method": null,
            "notes": null,
        }))
        .expect("a canonical order"),
    )
}

// --- Browser helpers.

/// The first element matching `css`, waiting up to 10 s.
async fn find(client: &Client, css: &str) -> fantoccini::elements::Element {
    client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css} on the page: {e}"))
}

/// Waits until the text of `css` contains `text` (the page may change by
/// itself: the live view).
async fn wait_text(client: &Client, css: &str, text: &str, within: Duration) -> String {
    let deadline = Instant::now() + within;
    let mut last = String::new();
    loop {
        if let Ok(element) = client.find(Locator::Css(css)).await {
            if let Ok(t) = element.text().await {
                if t.contains(text) {
                    return t;
                }
                last = t;
            }
        }
        assert!(
            Instant::now() < deadline,
            "{css} never said “{text}”; it says “{last}”"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Saves a screenshot of the page (the SQLite run's only, so that the two
/// runs do not write the same files).
async fn screenshot(client: &Client, backend: &str, name: &str) {
    if backend != "sqlite" {
        return;
    }
    let png = client.screenshot().await.expect("a screenshot");
    let path = screenshots_dir().join(format!("{name}.png"));
    std::fs::write(&path, png).expect("write the screenshot");
    eprintln!("screenshot: {}", path.display());
}

async fn sign_in(client: &Client, url: &str, token: &str) {
    client.goto(&format!("{url}/")).await.unwrap();
    // Not signed in: the sign-in page.
    let field = find(client, "input#token").await;
    assert!(client.current_url().await.unwrap().path() == "/signin");
    field.send_keys(token).await.unwrap();
    find(client, "form button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    wait_text(client, "h1", "Overview", Duration::from_secs(20)).await;
}

async fn sign_out(client: &Client) {
    find(client, ".user form button")
        .await
        .click()
        .await
        .unwrap();
    find(client, "input#token").await;
}

/// POSTs a replay of `id` from the page, as a form would, with the page's
/// CSRF token: the answer's status.
async fn post_replay_from_page(client: &Client, id: &str) -> u64 {
    let script = r#"
        const done = arguments[arguments.length - 1];
        const csrf = document.querySelector('.user input[name=csrf]').value;
        fetch('/documents/' + arguments[0] + '/replay', {
            method: 'POST', redirect: 'manual',
            headers: {'Content-Type': 'application/x-www-form-urlencoded'},
            body: new URLSearchParams({csrf: csrf, reason: 'try'}).toString(),
        }).then(r => done(r.status), e => done(String(e)));
    "#;
    let status = client
        .execute_async(script, vec![json!(id)])
        .await
        .expect("the script runs");
    status
        .as_u64()
        .unwrap_or_else(|| panic!("fetch failed: {status}"))
}

/// Over plain HTTP: pages and the live stream send strangers to the sign-in
/// page, a wrong token is refused, and the session cookie is `HttpOnly`,
/// `SameSite=Strict`, and `Secure` behind an HTTPS proxy.
async fn check_session_cookie(url: &str, token: &str) {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for path in ["/", "/failures", "/documents?q=1042", "/live"] {
        let r = http.get(format!("{url}{path}")).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 303, "GET {path} without a session");
        let location = r.headers()["location"].to_str().unwrap();
        assert!(location.starts_with("/signin"), "{path} -> {location}");
    }
    let wrong = http
        .post(format!("{url}/signin"))
        .form(&[("token", "mlc_not-a-token"), ("next", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status().as_u16(), 401);
    assert!(wrong.headers().get("set-cookie").is_none());
    assert!(wrong
        .text()
        .await
        .unwrap()
        .contains("That token is not valid"));
    for (proto, secure) in [(None, false), (Some("https"), true)] {
        let mut request = http
            .post(format!("{url}/signin"))
            .form(&[("token", token), ("next", "/failures")]);
        if let Some(proto) = proto {
            request = request.header("X-Forwarded-Proto", proto);
        }
        let r = request.send().await.unwrap();
        assert_eq!(r.status().as_u16(), 303);
        assert_eq!(r.headers()["location"], "/failures");
        let cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
        assert!(cookie.starts_with("mlc_session="), "{cookie}");
        assert!(cookie.contains("HttpOnly"), "{cookie}");
        assert!(cookie.contains("SameSite=Strict"), "{cookie}");
        assert_eq!(cookie.contains("Secure"), secure, "{cookie}");
        assert!(!cookie.contains(token), "the token is in the cookie");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dashboard_in_chromium_sqlite() {
    browser_story("sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dashboard_in_chromium_postgres() {
    browser_story("postgres").await;
}

async fn browser_story(backend: &str) {
    let started = Instant::now();
    let driver = Driver::start().await;
    let service = Service::start(backend).await;
    let url = service.url.clone();

    // Seed: one order posts, four park on SKUs Sage 300 does not know.
    let email = service.demo_email().await;
    let posted = service.receive(POSTED, "A1-100/0", &email).await;
    let single = service.receive(SINGLE, "WEB-ONLY-1", &email).await;
    let mut bulk = Vec::new();
    for number in BULK {
        bulk.push(service.receive(number, "WEB-ONLY-2", &email).await);
    }
    let stays = service.receive(STAYS, "WEB-ONLY-3", &email).await;
    service.wait_for_event(&posted, "PostedToErp").await;
    for id in bulk.iter().chain([&single, &stays]) {
        service.wait_for_event(id, "Parked").await;
    }
    // The cause is fixed for three of them: their SKUs are mapped now.
    service.worker.set_rules(MappingRules {
        skus: [
            ("WEB-ONLY-1".to_owned(), "A1-101/0".to_owned()),
            ("WEB-ONLY-2".to_owned(), "A1-100/0".to_owned()),
        ]
        .into(),
        ..Default::default()
    });

    let (_, operator_token) = service
        .tokens
        .create(Role::Operator, "back office")
        .await
        .unwrap();
    let (_, viewer_token) = service
        .tokens
        .create(Role::Viewer, "accountant")
        .await
        .unwrap();

    check_session_cookie(&url, &operator_token).await;

    let client = driver.browser().await;

    // Sign in with a token: the overview.
    sign_in(&client, &url, &operator_token).await;
    let card = wait_text(
        &client,
        &format!("section.instance[data-instance='{INSTANCE}']"),
        "Need attention",
        Duration::from_secs(20),
    )
    .await;
    assert!(card.contains(INSTANCE), "{card}");
    // The read models caught up: four need attention.
    wait_text(
        &client,
        ".pagehead .alert",
        "4 document(s) need attention",
        Duration::from_secs(20),
    )
    .await;
    screenshot(&client, backend, "overview").await;

    // The live view: an order arriving now shows up on the open overview
    // without a reload (a reload would lose the mark put on the page).
    client
        .execute("document.body.dataset.mark = 'same-page'", vec![])
        .await
        .unwrap();
    let live = service.receive(LIVE, "A1-100/0", &email).await;
    wait_text(
        &client,
        "#content table.list",
        &format!("Order #{LIVE}"),
        Duration::from_secs(20),
    )
    .await;
    let mark = client
        .execute("return document.body.dataset.mark || null", vec![])
        .await
        .unwrap();
    assert_eq!(mark, json!("same-page"), "the page was reloaded");
    service.wait_for_event(&live, "PostedToErp").await;

    // Find an order by its WooCommerce number: its page and timeline.
    let search = find(&client, "input#search").await;
    search.send_keys(POSTED).await.unwrap();
    find(&client, "form.search button")
        .await
        .click()
        .await
        .unwrap();
    wait_text(
        &client,
        "h1",
        &format!("Order #{POSTED}"),
        Duration::from_secs(20),
    )
    .await;
    let sentence = wait_text(
        &client,
        "#status-sentence",
        "Posted to Sage 300 as",
        Duration::from_secs(20),
    )
    .await;
    let erp_number = find(&client, "#erp-number").await.text().await.unwrap();
    assert!(sentence.contains(&erp_number), "{sentence} / {erp_number}");
    let timeline = find(&client, "ol.timeline").await.text().await.unwrap();
    for line in [
        format!("Order #{POSTED} received"),
        "Customer matched to Sage 300 customer".to_owned(),
        format!("Posted to Sage 300 as {erp_number}"),
    ] {
        assert!(
            timeline.contains(&line),
            "timeline lacks “{line}”:\n{timeline}"
        );
    }
    screenshot(&client, backend, "document_timeline").await;

    // The failure queue lists the parked orders with their reasons.
    client.goto(&format!("{url}/failures")).await.unwrap();
    let queue = wait_text(
        &client,
        "#failures",
        "SKU 'WEB-ONLY-3' is not mapped",
        Duration::from_secs(20),
    )
    .await;
    for number in [SINGLE, BULK[0], BULK[1], STAYS] {
        assert!(queue.contains(&format!("Order #{number}")), "{queue}");
    }
    screenshot(&client, backend, "failure_queue").await;

    // Replay a parked order from its page; the page turns to posted by
    // itself (live view, no reload).
    find(&client, &format!("tr[data-id='{single}'] a"))
        .await
        .click()
        .await
        .unwrap();
    wait_text(
        &client,
        "#status-sentence",
        "Needs attention: SKU 'WEB-ONLY-1' is not mapped",
        Duration::from_secs(20),
    )
    .await;
    find(&client, "#replay").await.click().await.unwrap();
    // Back on the order's page, with the replay in its history; the post
    // follows, shown by the live view.
    wait_text(
        &client,
        "ol.timeline",
        "Replay requested by dashboard:back office",
        Duration::from_secs(20),
    )
    .await;
    service.wait_for_event(&single, "PostedToErp").await;
    wait_text(
        &client,
        "#status-sentence",
        "Posted to Sage 300 as",
        Duration::from_secs(20),
    )
    .await;
    assert!(service.has_event(&single, "PostedToErp").await);

    // Bulk replay: the preview first (nothing changes), then the run.
    client.goto(&format!("{url}/failures")).await.unwrap();
    find(&client, "#bulk input[name=reason_contains]")
        .await
        .send_keys("WEB-ONLY-2")
        .await
        .unwrap();
    find(&client, "#bulk-preview").await.click().await.unwrap();
    let matched = find(&client, "#matched").await.text().await.unwrap();
    assert_eq!(
        matched, "2",
        "the preview selects the two orders of WEB-ONLY-2"
    );
    let preview = find(&client, "#preview").await.text().await.unwrap();
    for number in BULK {
        assert!(preview.contains(&format!("Order #{number}")), "{preview}");
    }
    assert!(!preview.contains(&format!("Order #{STAYS}")), "{preview}");
    for id in &bulk {
        assert!(
            !service.has_event(id, "ReplayRequested").await,
            "a preview changed {id}"
        );
    }
    screenshot(&client, backend, "bulk_replay_preview").await;
    find(&client, "#bulk-run").await.click().await.unwrap();
    let replayed = find(&client, "#replayed").await.text().await.unwrap();
    assert_eq!(replayed, "2");
    for id in &bulk {
        service.wait_for_event(id, "PostedToErp").await;
    }
    // The queue now holds only the order whose SKU is still unmapped.
    client.goto(&format!("{url}/failures")).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let rows = client
            .find_all(Locator::Css("#failures tbody tr"))
            .await
            .unwrap();
        if rows.len() == 1 {
            assert_eq!(rows[0].attr("data-id").await.unwrap(), Some(stays.clone()));
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the queue still has {} rows",
            rows.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
        client.refresh().await.unwrap();
    }
    sign_out(&client).await;

    // A viewer: no replay button anywhere, and replays are refused.
    sign_in(&client, &url, &viewer_token).await;
    client.goto(&format!("{url}/failures")).await.unwrap();
    wait_text(
        &client,
        "#failures",
        &format!("Order #{STAYS}"),
        Duration::from_secs(20),
    )
    .await;
    assert!(client
        .find_all(Locator::Css("form.replay"))
        .await
        .unwrap()
        .is_empty());
    client
        .goto(&format!("{url}/documents/{stays}"))
        .await
        .unwrap();
    wait_text(
        &client,
        "#status-sentence",
        "Needs attention",
        Duration::from_secs(20),
    )
    .await;
    assert!(client
        .find_all(Locator::Css("#replay"))
        .await
        .unwrap()
        .is_empty());
    let page = find(&client, "#content").await.text().await.unwrap();
    assert!(page.contains("An operator can replay"), "{page}");
    screenshot(&client, backend, "viewer_document").await;
    assert_eq!(post_replay_from_page(&client, &stays).await, 403);
    let api = reqwest::Client::new()
        .post(format!("{url}/api/v1/documents/{stays}/replay"))
        .bearer_auth(&viewer_token)
        .json(&json!({"reason": "try"}))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status().as_u16(), 403, "the API lets a viewer replay");
    assert!(!service.has_event(&stays, "ReplayRequested").await);

    // A form without the session's CSRF token is refused, even for an operator.
    sign_out(&client).await;
    sign_in(&client, &url, &operator_token).await;
    client
        .goto(&format!("{url}/documents/{stays}"))
        .await
        .unwrap();
    find(&client, "#replay").await;
    let status = client
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
               fetch('/documents/' + arguments[0] + '/replay', {method: 'POST', redirect: 'manual',
                 headers: {'Content-Type': 'application/x-www-form-urlencoded'},
                 body: 'csrf=forged&reason=try'}).then(r => done(r.status));"#,
            vec![json!(stays)],
        )
        .await
        .unwrap();
    assert_eq!(status, json!(403));
    assert!(!service.has_event(&stays, "ReplayRequested").await);

    // The queue's own Replay button replays and comes back to the queue
    // (this order's SKU is still unmapped, so it parks again).
    client.goto(&format!("{url}/failures")).await.unwrap();
    find(
        &client,
        &format!("tr[data-id='{stays}'] form.replay button"),
    )
    .await
    .click()
    .await
    .unwrap();
    service.wait_for_event(&stays, "ReplayRequested").await;
    wait_text(&client, "h1", "Failure queue", Duration::from_secs(20)).await;
    assert_eq!(client.current_url().await.unwrap().path(), "/failures");

    client.close().await.unwrap();
    drop(driver);
    service.stop().await;
    eprintln!("browser story on {backend} took {:?}", started.elapsed());
}
