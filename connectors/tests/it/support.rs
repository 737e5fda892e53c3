//! A sandbox per test, the connectors built from its manifest, and its
//! control routes.

use std::time::Duration;

use mlc_connectors::sage300::{Sage300, Sage300Settings};
use mlc_sandbox::{Sandbox, SandboxOptions, Seed};
use secrecy::SecretString;
use serde_json::Value;

/// Starts a demo sandbox on an OS-chosen port.
pub async fn sandbox() -> Sandbox {
    Sandbox::start(SandboxOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        seed: Seed::Demo,
    })
    .await
    .expect("sandbox starts")
}

/// The Sage 300 settings the manifest gives.
pub fn sage_settings(sb: &Sandbox) -> Sage300Settings {
    let m = &sb.manifest()["sage300"];
    let mut s = Sage300Settings::new(
        m["base_url"].as_str().unwrap().parse().unwrap(),
        m["company"].as_str().unwrap(),
        m["username"].as_str().unwrap(),
        SecretString::from(m["password"].as_str().unwrap().to_owned()),
    );
    s.timeout = Duration::from_secs(5);
    s
}

/// The Sage 300 connector on the sandbox.
pub fn sage(sb: &Sandbox) -> Sage300 {
    Sage300::new(sage_settings(sb)).unwrap()
}

/// Calls to the sandbox's control routes.
pub struct Control {
    http: reqwest::Client,
    root: String,
}

impl Control {
    /// For this sandbox.
    pub fn new(sb: &Sandbox) -> Self {
        Control {
            http: reqwest::Client::new(),
            root: format!("http://{}/_sandbox", sb.addr()),
        }
    }

    /// `method path` with a JSON body; the JSON answer (null when empty).
    pub async fn call(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let response = self
            .http
            .request(method, format!("{}{path}", self.root))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert!(status.is_success(), "{path}: {status} {text}");
        if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap()
        }
    }

    /// `POST path`.
    pub async fn post(&self, path: &str, body: Value) -> Value {
        self.call(reqwest::Method::POST, path, body).await
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Value {
        let response = self
            .http
            .get(format!("{}{path}", self.root))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{path}");
        response.json().await.unwrap()
    }

    /// Adds a fault rule.
    pub async fn fault(&self, rule: Value) {
        self.post("/faults", rule).await;
    }
}

/// The WooCommerce settings the manifest gives (plain HTTP: OAuth 1.0a).
pub fn woo_settings(sb: &Sandbox) -> mlc_connectors::woocommerce::WooCommerceSettings {
    let m = &sb.manifest()["woocommerce"];
    mlc_connectors::woocommerce::WooCommerceSettings {
        base_url: m["base_url"].as_str().unwrap().parse().unwrap(),
        consumer_key: SecretString::from(m["consumer_key"].as_str().unwrap().to_owned()),
        consumer_secret: SecretString::from(m["consumer_secret"].as_str().unwrap().to_owned()),
        timeout: Duration::from_secs(5),
    }
}

/// The WooCommerce connector on the sandbox.
pub fn woo(sb: &Sandbox) -> mlc_connectors::woocommerce::WooCommerce {
    mlc_connectors::woocommerce::WooCommerce::new(woo_settings(sb)).unwrap()
}
