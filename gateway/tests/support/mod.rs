//! A gateway with the operator API over a fresh database, and tokens of
//! every role, for the auth and OpenAPI tests.

use std::collections::HashMap;
use std::net::SocketAddr;

use mlc_actors::operator::Operator;
use mlc_domain::customer::CustomerDocument;
use mlc_domain::order::OrderDocument;
use mlc_gateway::auth::{Role, TokenStore};
use mlc_gateway::{Gateway, GatewayState};
use mlc_projections::DocumentsView;
use mlc_store::testing::TestDatabase;
use mlc_store::{CommandBus, CommandBusOptions, EventStore};
use tokio_util::sync::CancellationToken;

// Each test file uses part of it.
#[allow(dead_code)]
pub struct Server {
    _db: TestDatabase,
    pub store: EventStore,
    /// `http://127.0.0.1:port`
    pub base: String,
    /// A live token of each role.
    pub token: HashMap<Role, String>,
    /// A revoked admin token.
    pub revoked: String,
    pub http: reqwest::Client,
    shutdown: CancellationToken,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl Server {
    pub async fn start(backend: &str) -> Server {
        let db = TestDatabase::of(backend).await;
        let store = db.store().await;
        let view = DocumentsView::new(store.clone());
        let orders =
            CommandBus::<OrderDocument>::start(store.clone(), CommandBusOptions::default());
        let customers =
            CommandBus::<CustomerDocument>::start(store.clone(), CommandBusOptions::default());
        let operator = Operator::new(store.clone(), view, orders, customers, HashMap::new());
        let state = GatewayState {
            store: store.clone(),
            subscriptions: vec![],
            webhooks: None,
            operator: Some(operator),
        };
        let gateway = Gateway::bind(SocketAddr::from(([127, 0, 0, 1], 0)), state).unwrap();
        let base = format!("http://{}", gateway.local_addr());
        let shutdown = CancellationToken::new();
        tokio::spawn(gateway.run(shutdown.clone()));
        let tokens = TokenStore::new(store.clone());
        let mut token = HashMap::new();
        for role in [Role::Viewer, Role::Operator, Role::Admin] {
            let (_, secret) = tokens.create(role, &format!("test-{role}")).await.unwrap();
            token.insert(role, secret);
        }
        let (info, revoked) = tokens.create(Role::Admin, "revoked").await.unwrap();
        tokens.revoke(&info.id).await.unwrap();
        Server {
            _db: db,
            store,
            base,
            token,
            revoked,
            http: reqwest::Client::new(),
            shutdown,
        }
    }

    /// The OpenAPI document as served.
    pub async fn openapi(&self) -> String {
        let response = self
            .http
            .get(format!("{}/api/openapi.json", self.base))
            .bearer_auth(&self.token[&Role::Viewer])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        response.text().await.unwrap()
    }

    /// Calls `method path` (a JSON `{}` body on POST and DELETE) with
    /// `token`: the status and the JSON answer.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
    ) -> (u16, serde_json::Value) {
        let url = format!("{}{path}", self.base);
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self.http.request(method.clone(), url);
        if method != reqwest::Method::GET {
            request = request.json(&serde_json::json!({}));
        }
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (
            status,
            response.json().await.unwrap_or(serde_json::Value::Null),
        )
    }
}

/// `path` with its `{parameters}` filled in with values that reach the
/// route's handler.
pub fn concrete(path: &str) -> String {
    path.replace(
        "{id}",
        if path.starts_with("/api/v1/documents/") {
            "shop/order/1"
        } else {
            "t1"
        },
    )
    .replace("{name}", "shop")
    .replace("{job}", "j1")
}

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name("sqlite").await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name("postgres").await;
                }
            )*
        }
    };
}
pub(crate) use on_both_backends;
