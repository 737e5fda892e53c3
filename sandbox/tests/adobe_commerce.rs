//! Contract tests of the Adobe Commerce (Magento 2) simulator, written from
//! `shared/systems/commerce.md` §0 and §3 (not from the implementation):
//! real HTTP against a started sandbox; every API request is signed here
//! with OAuth 1.0a as the facts give it (RFC 5849 base string, key
//! `percent(consumer_secret)&percent(access_token_secret)`).

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use hmac::{Hmac, Mac};
use mlc_sandbox::{Sandbox, SandboxOptions, Seed, System};
use reqwest::Method;
use serde_json::{json, Value};
use sha2::Sha256;

/// RFC 3986 unreserved kept, everything else `%XX`.
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A sort key comparing digit runs by value, the rest as text.
fn natural_key(s: &str) -> Vec<(u8, u64, String)> {
    let mut out = Vec::new();
    let mut run = String::new();
    let mut digits = false;
    for c in s.chars() {
        if !run.is_empty() && c.is_ascii_digit() != digits {
            out.push(if digits {
                (0, run.parse().unwrap(), String::new())
            } else {
                (1, 0, std::mem::take(&mut run))
            });
            run.clear();
        }
        digits = c.is_ascii_digit();
        run.push(c);
    }
    if !run.is_empty() {
        out.push(if digits {
            (0, run.parse().unwrap(), String::new())
        } else {
            (1, 0, run)
        });
    }
    out
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// How to sign one request.
#[derive(Clone)]
struct Sig {
    method: &'static str,
    timestamp: i64,
    nonce: Option<String>,
    /// Sign with this URL instead of the one requested.
    url: Option<String>,
    /// Replace the computed signature.
    signature: Option<String>,
    /// Leave these `oauth_*` parameters out.
    omit: Vec<&'static str>,
    token: Option<String>,
    consumer_key: Option<String>,
    version: Option<&'static str>,
    /// Order the parameters as PHP's `strnatcmp` does (Magento's signer).
    natural: bool,
}

impl Default for Sig {
    fn default() -> Self {
        Sig {
            method: "HMAC-SHA256",
            timestamp: unix_now(),
            nonce: None,
            url: None,
            signature: None,
            omit: Vec::new(),
            token: None,
            consumer_key: None,
            version: None,
            natural: false,
        }
    }
}

struct Store {
    sandbox: Sandbox,
    client: reqwest::Client,
    base: String,
    control: String,
    ck: String,
    cs: String,
    at: String,
    ats: String,
}

impl Store {
    async fn start(seed: Seed) -> Store {
        let sandbox = Sandbox::start(SandboxOptions {
            seed,
            ..SandboxOptions::default()
        })
        .await
        .unwrap();
        let manifest = sandbox.manifest();
        let c = &manifest["adobe_commerce"];
        let base = c["base_url"]
            .as_str()
            .unwrap()
            .trim_end_matches('/')
            .to_string();
        assert_eq!(
            base,
            sandbox
                .base_url(System::AdobeCommerce)
                .trim_end_matches('/')
        );
        let s = |k: &str| c[k].as_str().unwrap().to_string();
        Store {
            control: format!("http://{}/_sandbox/adobe_commerce", sandbox.addr()),
            ck: s("consumer_key"),
            cs: s("consumer_secret"),
            at: s("access_token"),
            ats: s("access_token_secret"),
            client: reqwest::Client::new(),
            base,
            sandbox,
        }
    }

    /// The `Authorization: OAuth ...` header for `method url?query`.
    fn oauth_header(
        &self,
        method: &Method,
        url: &str,
        query: &[(&str, String)],
        sig: &Sig,
    ) -> String {
        let nonce = sig
            .nonce
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
        let token = sig.token.clone().unwrap_or_else(|| self.at.clone());
        let mut oauth: Vec<(&str, String)> = vec![
            (
                "oauth_consumer_key",
                sig.consumer_key.clone().unwrap_or_else(|| self.ck.clone()),
            ),
            ("oauth_nonce", nonce),
            ("oauth_signature_method", sig.method.to_string()),
            ("oauth_timestamp", sig.timestamp.to_string()),
            ("oauth_token", token),
            ("oauth_version", sig.version.unwrap_or("1.0").to_string()),
        ];
        oauth.retain(|(k, _)| !sig.omit.contains(k));
        let mut params: Vec<(String, String)> = oauth
            .iter()
            .chain(query.iter())
            .map(|(k, v)| (enc(k), enc(v)))
            .collect();
        if sig.natural {
            params.sort_by_key(|(k, _)| natural_key(k));
        } else {
            params.sort();
        }
        let normalized = params
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&");
        let base_url = sig.url.clone().unwrap_or_else(|| url.to_string());
        let base = format!(
            "{}&{}&{}",
            method.as_str(),
            enc(&base_url),
            enc(&normalized)
        );
        let key = format!("{}&{}", enc(&self.cs), enc(&self.ats));
        let raw = if sig.method == "HMAC-SHA1" {
            let mut mac = Hmac::<sha1::Sha1>::new_from_slice(key.as_bytes()).unwrap();
            mac.update(base.as_bytes());
            mac.finalize().into_bytes().to_vec()
        } else {
            let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).unwrap();
            mac.update(base.as_bytes());
            mac.finalize().into_bytes().to_vec()
        };
        let signature = sig
            .signature
            .clone()
            .unwrap_or_else(|| base64::engine::general_purpose::STANDARD.encode(raw));
        if !sig.omit.contains(&"oauth_signature") {
            oauth.push(("oauth_signature", signature));
        }
        let parts: Vec<String> = oauth
            .iter()
            .map(|(k, v)| format!("{k}=\"{}\"", enc(v)))
            .collect();
        format!("OAuth {}", parts.join(","))
    }

    /// A signed request to `{base}/rest/{path}` with `query` pairs.
    fn signed(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        sig: &Sig,
    ) -> reqwest::RequestBuilder {
        let url = format!("{}/rest/{path}", self.base);
        let header = self.oauth_header(&method, &url, query, sig);
        let qs = query
            .iter()
            .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
            .collect::<Vec<_>>()
            .join("&");
        let full = if qs.is_empty() {
            url
        } else {
            format!("{url}?{qs}")
        };
        self.client
            .request(method, full)
            .header("Authorization", header)
            .header("Accept", "application/json")
    }

    async fn get(&self, path: &str, query: &[(&str, String)]) -> (u16, Value) {
        let r = self
            .signed(Method::GET, path, query, &Sig::default())
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn send(&self, method: Method, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .signed(method, path, &[], &Sig::default())
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn control(&self, method: Method, path: &str, body: Value) -> Value {
        let r = self
            .client
            .request(method, format!("{}{path}", self.control))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "control {path}: {}", r.status());
        r.json().await.unwrap_or(Value::Null)
    }
}

fn q(pairs: &[(&str, &str)]) -> Vec<(&'static str, String)> {
    pairs
        .iter()
        .map(|(k, v)| (&*Box::leak(k.to_string().into_boxed_str()), v.to_string()))
        .collect()
}

fn is_magento_date(v: &Value) -> bool {
    let s = v.as_str().unwrap_or_default();
    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").is_ok()
}

async fn seed_basics(store: &Store) {
    store
        .control(
            Method::POST,
            "/products",
            json!([
                {"sku": "A1-100/0", "name": "Mug", "price": 12.5, "qty": 40},
                {"sku": "A1-101/0", "name": "Bottle", "price": 20, "qty": 10},
            ]),
        )
        .await;
    store
        .control(
            Method::POST,
            "/customers",
            json!({"email": "jane@example.com", "firstname": "Jane", "lastname": "Doe"}),
        )
        .await;
}

#[tokio::test]
async fn manifest_names_the_four_oauth_credentials() {
    let store = Store::start(Seed::Empty).await;
    let m = store.sandbox.manifest();
    let c = &m["adobe_commerce"];
    for k in [
        "consumer_key",
        "consumer_secret",
        "access_token",
        "access_token_secret",
    ] {
        assert_eq!(c[k].as_str().unwrap().len(), 32, "{k}");
    }
    assert_eq!(c["store_code"], "default");
    assert!(store.base.ends_with("/adobe_commerce"));
}

#[tokio::test]
async fn signed_requests_with_sha256_and_sha1_are_accepted() {
    let store = Store::start(Seed::Empty).await;
    seed_basics(&store).await;
    // SKU with a slash: URL-encoded as %2F (facts §3.4).
    let (status, p) = store.get("default/V1/products/A1-100%2F0", &[]).await;
    assert_eq!(status, 200, "{p}");
    assert_eq!(p["sku"], "A1-100/0");
    assert_eq!(p["price"], json!(12.5));
    assert_eq!(p["extension_attributes"]["stock_item"]["qty"], json!(40));
    let sha1 = Sig {
        method: "HMAC-SHA1",
        ..Sig::default()
    };
    let r = store
        .signed(Method::GET, "V1/products/A1-101%2F0", &[], &sha1)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn sha256_only_variant_refuses_sha1() {
    let store = Store::start(Seed::Empty).await;
    seed_basics(&store).await;
    store
        .control(
            Method::PUT,
            "/settings",
            json!({"signature_methods": "sha256_only"}),
        )
        .await;
    let sha1 = Sig {
        method: "HMAC-SHA1",
        ..Sig::default()
    };
    let r = store
        .signed(Method::GET, "V1/products/A1-101%2F0", &[], &sha1)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["message"], "Signature method %1 is not supported");
    assert_eq!(body["parameters"], json!(["HMAC-SHA1"]));
    let (status, _) = store.get("V1/products/A1-101%2F0", &[]).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn refusals_come_in_magento_shape() {
    let store = Store::start(Seed::Empty).await;
    let criteria = q(&[("searchCriteria[pageSize]", "5")]);
    // No credentials: a guest, refused by the ACL (facts §3.2).
    let r = store
        .client
        .get(format!(
            "{}/rest/default/V1/orders?searchCriteria[pageSize]=5",
            store.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body,
        json!({"message": "The consumer isn't authorized to access %resources.",
               "parameters": {"resources": "Magento_Sales::actions_view"}})
    );
    // A wrong signature.
    let bad = Sig {
        signature: Some("AAAA".into()),
        ..Sig::default()
    };
    let r = store
        .signed(Method::GET, "default/V1/orders", &criteria, &bad)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["message"],
        "The signature is invalid. Verify and try again."
    );
    // Signed over another URL (e.g. the query left out of the base string
    // is the same mistake: the parameters differ).
    let other = Sig {
        url: Some(format!("{}/rest/V1/orders", store.base)),
        ..Sig::default()
    };
    let r = store
        .signed(Method::GET, "default/V1/orders", &criteria, &other)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // A required parameter missing.
    let missing = Sig {
        omit: vec!["oauth_nonce"],
        ..Sig::default()
    };
    let r = store
        .signed(Method::GET, "default/V1/orders", &criteria, &missing)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["message"],
        "\"%fieldName\" is required. Enter and try again."
    );
    assert_eq!(body["parameters"]["fieldName"], "oauth_nonce");
    // The wrong token.
    let token = Sig {
        token: Some("x".repeat(32)),
        ..Sig::default()
    };
    let r = store
        .signed(Method::GET, "default/V1/orders", &criteria, &token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn nonce_and_timestamp_rules() {
    let store = Store::start(Seed::Empty).await;
    let criteria = q(&[("searchCriteria[pageSize]", "5")]);
    let once = Sig {
        nonce: Some("the-same-nonce".into()),
        ..Sig::default()
    };
    let r = store
        .signed(Method::GET, "V1/orders", &criteria, &once)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = store
        .signed(Method::GET, "V1/orders", &criteria, &once)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["message"],
        "The nonce is already being used by the consumer with ID %1"
    );
    // Far in the future.
    let future = Sig {
        timestamp: unix_now() + 3600,
        ..Sig::default()
    };
    let r = store
        .signed(Method::GET, "V1/orders", &criteria, &future)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["message"],
        "Incorrect timestamp value in the oauth_timestamp parameter"
    );
    // An old timestamp passes by default, not with a maximum age.
    let old = Sig {
        timestamp: unix_now() - 3600,
        ..Sig::default()
    };
    let r = store
        .signed(Method::GET, "V1/orders", &criteria, &old)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    store
        .control(
            Method::PUT,
            "/settings",
            json!({"max_timestamp_age_secs": 900}),
        )
        .await;
    let old = Sig {
        timestamp: unix_now() - 3600,
        ..Sig::default()
    };
    let r = store
        .signed(Method::GET, "V1/orders", &criteria, &old)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn integration_token_as_bearer_only_when_enabled() {
    let store = Store::start(Seed::Empty).await;
    let url = format!("{}/rest/V1/orders?searchCriteria[pageSize]=1", store.base);
    let r = store
        .client
        .get(&url)
        .bearer_auth(&store.at)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "disabled by default since 2.4.4");
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["message"],
        "The consumer isn't authorized to access %resources."
    );
    store
        .control(
            Method::PUT,
            "/settings",
            json!({"integration_as_bearer": true}),
        )
        .await;
    let r = store
        .client
        .get(&url)
        .bearer_auth(&store.at)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn admin_token_flow() {
    let store = Store::start(Seed::Empty).await;
    let c = store.sandbox.manifest()["adobe_commerce"].clone();
    let url = format!("{}/rest/V1/integration/admin/token", store.base);
    let r = store
        .client
        .post(&url)
        .json(&json!({"username": c["admin_username"], "password": "wrong"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = store
        .client
        .post(&url)
        .json(&json!({"username": c["admin_username"], "password": c["admin_password"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let token: Value = r.json().await.unwrap();
    let token = token.as_str().expect("the token is a JSON string");
    let r = store
        .client
        .get(format!(
            "{}/rest/V1/orders?searchCriteria[pageSize]=1",
            store.base
        ))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn revoked_token_is_refused() {
    let store = Store::start(Seed::Empty).await;
    store
        .control(Method::PUT, "/integration", json!({"revoked": true}))
        .await;
    let (status, body) = store
        .get("V1/orders", &q(&[("searchCriteria[pageSize]", "1")]))
        .await;
    assert_eq!(status, 401);
    assert_eq!(body["message"], "Access token has been revoked");
}

#[tokio::test]
async fn search_criteria_is_required() {
    let store = Store::start(Seed::Empty).await;
    let (status, body) = store.get("V1/orders", &[]).await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"message": "\"%fieldName\" is required. Enter and try again.",
               "parameters": {"fieldName": "searchCriteria"}})
    );
    // An empty searchCriteria returns everything.
    let (status, body) = store.get("V1/orders", &q(&[("searchCriteria", "")])).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["total_count"], 0);
}

#[tokio::test]
async fn orders_page_to_the_last_page_and_past_it() {
    let store = Store::start(Seed::Demo).await;
    let mut seen = Vec::new();
    let mut page = 1;
    let total;
    loop {
        let (status, body) = store
            .get(
                "default/V1/orders",
                &q(&[
                    ("searchCriteria[pageSize]", "25"),
                    ("searchCriteria[currentPage]", &page.to_string()),
                    ("searchCriteria[sortOrders][0][field]", "entity_id"),
                    ("searchCriteria[sortOrders][0][direction]", "ASC"),
                ]),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["search_criteria"]["page_size"], 25);
        assert_eq!(body["search_criteria"]["current_page"], page);
        let items = body["items"].as_array().unwrap();
        seen.extend(items.iter().map(|o| o["entity_id"].as_u64().unwrap()));
        let t = body["total_count"].as_u64().unwrap();
        if (page * 25) as u64 >= t {
            total = t;
            break;
        }
        page += 1;
    }
    assert_eq!(total, 60);
    assert_eq!(seen.len(), 60);
    assert_eq!(seen, (1..=60).collect::<Vec<u64>>());
    // Past the end: the last page again (facts §3.7 pain point 1).
    let past = q(&[
        ("searchCriteria[pageSize]", "25"),
        ("searchCriteria[currentPage]", "9"),
    ]);
    let (_, body) = store.get("V1/orders", &past).await;
    let ids: Vec<u64> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["entity_id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, (51..=60).collect::<Vec<u64>>());
    assert_eq!(body["total_count"], 60);
    // The fixed behaviour, as a variant: nothing.
    store
        .control(Method::PUT, "/settings", json!({"past_end": "empty"}))
        .await;
    let (_, body) = store.get("V1/orders", &past).await;
    assert_eq!(body["items"], json!([]));
    assert_eq!(body["total_count"], 60);
}

#[tokio::test]
async fn polling_by_updated_at_with_a_space_in_the_value() {
    let store = Store::start(Seed::Demo).await;
    let (status, body) = store
        .get(
            "default/V1/orders",
            &q(&[
                (
                    "searchCriteria[filter_groups][0][filters][0][field]",
                    "updated_at",
                ),
                (
                    "searchCriteria[filter_groups][0][filters][0][value]",
                    "2025-01-01 00:00:00",
                ),
                (
                    "searchCriteria[filter_groups][0][filters][0][condition_type]",
                    "gt",
                ),
                ("searchCriteria[sortOrders][0][field]", "updated_at"),
                ("searchCriteria[sortOrders][0][direction]", "ASC"),
                ("searchCriteria[pageSize]", "100"),
            ]),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let items = body["items"].as_array().unwrap();
    assert!(!items.is_empty());
    assert_eq!(body["total_count"].as_u64().unwrap() as usize, items.len());
    let dates: Vec<&str> = items
        .iter()
        .map(|o| o["updated_at"].as_str().unwrap())
        .collect();
    assert!(dates.iter().all(|d| *d > "2025-01-01 00:00:00"));
    assert!(dates.windows(2).all(|w| w[0] <= w[1]));
    let f = &body["search_criteria"]["filter_groups"][0]["filters"][0];
    assert_eq!(f["field"], "updated_at");
    assert_eq!(f["value"], "2025-01-01 00:00:00");
    assert_eq!(f["condition_type"], "gt");
}

#[tokio::test]
async fn filters_in_a_group_are_or_groups_are_and() {
    let store = Store::start(Seed::Demo).await;
    let (_, all) = store
        .get(
            "V1/customers/search",
            &q(&[("searchCriteria[pageSize]", "1")]),
        )
        .await;
    assert_eq!(all["total_count"], 300);
    let first = &all["items"][0];
    let email = first["email"].as_str().unwrap();
    // By e-mail.
    let (status, body) = store
        .get(
            "V1/customers/search",
            &q(&[
                (
                    "searchCriteria[filter_groups][0][filters][0][field]",
                    "email",
                ),
                ("searchCriteria[filter_groups][0][filters][0][value]", email),
            ]),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["total_count"], 1);
    let c = &body["items"][0];
    for k in [
        "id",
        "group_id",
        "default_billing",
        "default_shipping",
        "created_at",
        "updated_at",
        "created_in",
        "email",
        "firstname",
        "lastname",
        "store_id",
        "website_id",
        "addresses",
    ] {
        assert!(c.get(k).is_some(), "customer.{k}");
    }
    assert!(c["id"].is_u64());
    assert!(c["addresses"][0]["street"].is_array());
    // OR within a group: two SKUs.
    let (_, body) = store
        .get(
            "V1/products",
            &q(&[
                ("searchCriteria[filter_groups][0][filters][0][field]", "sku"),
                (
                    "searchCriteria[filter_groups][0][filters][0][value]",
                    "A1-100/0",
                ),
                ("searchCriteria[filter_groups][0][filters][1][field]", "sku"),
                (
                    "searchCriteria[filter_groups][0][filters][1][value]",
                    "A2-150/0",
                ),
            ]),
        )
        .await;
    assert_eq!(body["total_count"], 2);
    // AND across groups: like A1-% and price >= 100 narrows.
    let (_, a1) = store
        .get(
            "V1/products",
            &q(&[
                ("searchCriteria[filter_groups][0][filters][0][field]", "sku"),
                (
                    "searchCriteria[filter_groups][0][filters][0][value]",
                    "A1-%",
                ),
                (
                    "searchCriteria[filter_groups][0][filters][0][condition_type]",
                    "like",
                ),
                ("searchCriteria[pageSize]", "1"),
            ]),
        )
        .await;
    assert_eq!(a1["total_count"], 100);
    let (_, narrowed) = store
        .get(
            "V1/products",
            &q(&[
                ("searchCriteria[filter_groups][0][filters][0][field]", "sku"),
                (
                    "searchCriteria[filter_groups][0][filters][0][value]",
                    "A1-%",
                ),
                (
                    "searchCriteria[filter_groups][0][filters][0][condition_type]",
                    "like",
                ),
                (
                    "searchCriteria[filter_groups][1][filters][0][field]",
                    "price",
                ),
                ("searchCriteria[filter_groups][1][filters][0][value]", "100"),
                (
                    "searchCriteria[filter_groups][1][filters][0][condition_type]",
                    "gteq",
                ),
            ]),
        )
        .await;
    let n = narrowed["total_count"].as_u64().unwrap();
    assert!(n > 0 && n < 100, "{n}");
    assert!(narrowed["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["price"].as_f64().unwrap() >= 100.0));
}

#[tokio::test]
async fn order_json_has_the_documented_fields_and_types() {
    let store = Store::start(Seed::Empty).await;
    seed_basics(&store).await;
    let placed = store
        .control(
            Method::POST,
            "/orders",
            json!({"customer_email": "jane@example.com",
                   "lines": [{"sku": "A1-100/0", "qty": 2}, {"sku": "A1-101/0", "qty": 1}],
                   "shipping_amount": 5, "tax_percent": 10}),
        )
        .await;
    let id = placed["entity_id"].as_u64().unwrap();
    let (status, o) = store.get(&format!("default/V1/orders/{id}"), &[]).await;
    assert_eq!(status, 200);
    assert!(o["entity_id"].is_u64());
    assert!(o["increment_id"].is_string());
    assert_eq!(o["state"], "processing");
    assert_eq!(o["customer_email"], "jane@example.com");
    assert_eq!(o["customer_firstname"], "Jane");
    // 2 x 12.50 + 20 = 45; tax 4.50; shipping 5 => 54.50.
    assert_eq!(o["subtotal"], json!(45));
    assert_eq!(o["tax_amount"], json!(4.5));
    assert_eq!(o["shipping_amount"], json!(5));
    assert_eq!(o["grand_total"], json!(54.5));
    assert_eq!(o["base_grand_total"], json!(54.5));
    assert_eq!(o["total_paid"], json!(54.5));
    assert!(o["base_currency_code"].is_string());
    assert!(o["order_currency_code"].is_string());
    assert!(is_magento_date(&o["created_at"]) && is_magento_date(&o["updated_at"]));
    let items = o["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    for k in [
        "item_id",
        "order_id",
        "product_id",
        "product_type",
        "sku",
        "name",
        "qty_ordered",
        "qty_invoiced",
        "qty_shipped",
        "qty_refunded",
        "qty_canceled",
        "price",
        "base_price",
        "original_price",
        "price_incl_tax",
        "row_total",
        "base_row_total",
        "row_total_incl_tax",
        "tax_amount",
        "discount_amount",
        "store_id",
        "created_at",
        "updated_at",
    ] {
        assert!(items[0].get(k).is_some(), "item.{k}");
    }
    assert_eq!(items[0]["sku"], "A1-100/0");
    assert_eq!(items[0]["row_total"], json!(25));
    let b = &o["billing_address"];
    assert_eq!(b["address_type"], "billing");
    assert!(b["street"].is_array());
    for k in [
        "city",
        "country_id",
        "email",
        "firstname",
        "lastname",
        "postcode",
        "region",
        "region_code",
        "region_id",
        "telephone",
        "entity_id",
        "parent_id",
    ] {
        assert!(b.get(k).is_some(), "billing_address.{k}");
    }
    let ship = &o["extension_attributes"]["shipping_assignments"][0]["shipping"]["address"];
    assert_eq!(ship["address_type"], "shipping");
    assert!(o["payment"].is_object());
    assert!(o["status_histories"].is_array());
    assert!(o.get("shipping_address").is_none());
    // Unknown order.
    let (status, body) = store.get("default/V1/orders/999", &[]).await;
    assert_eq!(status, 404);
    assert!(body["message"].is_string());
}

#[tokio::test]
async fn refund_creates_a_credit_memo() {
    let store = Store::start(Seed::Empty).await;
    seed_basics(&store).await;
    let placed = store
        .control(
            Method::POST,
            "/orders",
            json!({"customer_email": "jane@example.com",
                   "lines": [{"sku": "A1-100/0", "qty": 2}, {"sku": "A1-101/0", "qty": 1}],
                   "shipping_amount": 5}),
        )
        .await;
    let id = placed["entity_id"].as_u64().unwrap();
    let item = placed["items"][0]["item_id"].as_u64().unwrap();
    // One mug, no shipping: 12.50.
    let (status, memo) = store
        .send(
            Method::POST,
            &format!("default/V1/order/{id}/refund"),
            json!({"items": [{"order_item_id": item, "qty": 1}], "notify": false,
                   "arguments": {"shipping_amount": 0}}),
        )
        .await;
    assert_eq!(status, 200, "{memo}");
    let memo_id = memo.as_u64().expect("the credit memo id");
    let (_, m) = store.get(&format!("V1/creditmemo/{memo_id}"), &[]).await;
    assert_eq!(m["order_id"], id);
    assert_eq!(m["grand_total"], json!(12.5));
    let (_, o) = store.get(&format!("V1/orders/{id}"), &[]).await;
    assert_eq!(o["total_refunded"], json!(12.5));
    assert_eq!(o["items"][0]["qty_refunded"], json!(1));
    assert_eq!(o["state"], "processing");
    // More than is left.
    let (status, body) = store
        .send(
            Method::POST,
            &format!("default/V1/order/{id}/refund"),
            json!({"items": [{"order_item_id": item, "qty": 5}]}),
        )
        .await;
    assert_eq!(status, 400);
    assert!(body["message"].is_string());
    // Everything left closes the order.
    let (status, _) = store
        .send(Method::POST, &format!("V1/order/{id}/refund"), json!({}))
        .await;
    assert_eq!(status, 200);
    let (_, o) = store.get(&format!("V1/orders/{id}"), &[]).await;
    assert_eq!(o["state"], "closed");
    assert_eq!(o["total_refunded"], o["grand_total"]);
    let (_, list) = store
        .get(
            "V1/creditmemos",
            &q(&[
                (
                    "searchCriteria[filter_groups][0][filters][0][field]",
                    "order_id",
                ),
                (
                    "searchCriteria[filter_groups][0][filters][0][value]",
                    &id.to_string(),
                ),
            ]),
        )
        .await;
    assert_eq!(list["total_count"], 2);
    // A control refund works the same way.
    let placed = store
        .control(
            Method::POST,
            "/orders",
            json!({"customer_email": "jane@example.com", "lines": [{"sku": "A1-101/0", "qty": 1}]}),
        )
        .await;
    let id2 = placed["entity_id"].as_u64().unwrap();
    let memo = store
        .control(
            Method::POST,
            &format!("/orders/{id2}/refund"),
            json!({"items": [{"sku": "A1-101/0", "qty": 1}], "shipping_amount": 0}),
        )
        .await;
    assert_eq!(memo["grand_total"], json!(20));
    // Unpaid orders cannot be refunded.
    let unpaid = store
        .control(
            Method::POST,
            "/orders",
            json!({"lines": [{"sku": "A1-101/0", "qty": 1}], "paid": false}),
        )
        .await;
    assert_eq!(unpaid["state"], "new");
    let (status, body) = store
        .send(
            Method::POST,
            &format!("V1/order/{}/refund", unpaid["entity_id"]),
            json!({}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["message"],
        "The order does not allow a creditmemo to be created."
    );
}

#[tokio::test]
async fn price_and_stock_updates_by_sku() {
    let store = Store::start(Seed::Demo).await;
    let (status, p) = store
        .send(
            Method::PUT,
            "default/V1/products/A2-150%2F0",
            json!({"product": {"sku": "A2-150/0", "price": 42.99}}),
        )
        .await;
    assert_eq!(status, 200, "{p}");
    assert_eq!(p["price"], json!(42.99));
    let (status, id) = store
        .send(
            Method::PUT,
            "default/V1/products/A2-150%2F0/stockItems/1",
            json!({"stockItem": {"qty": 7, "is_in_stock": true}}),
        )
        .await;
    assert_eq!(status, 200);
    assert!(id.is_u64());
    let (_, s) = store.get("V1/stockItems/A2-150%2F0", &[]).await;
    assert_eq!(s["qty"], json!(7));
    // MSI source items.
    let (status, _) = store
        .send(
            Method::POST,
            "V1/inventory/source-items",
            json!({"sourceItems": [{"sku": "A2-150/0", "source_code": "default", "quantity": 3, "status": 1}]}),
        )
        .await;
    assert_eq!(status, 200);
    let (_, p) = store.get("V1/products/A2-150%2F0", &[]).await;
    assert_eq!(p["price"], json!(42.99));
    assert_eq!(p["extension_attributes"]["stock_item"]["qty"], json!(3));
    // An unencoded slash makes another path.
    let (status, body) = store.get("V1/products/A2-150/0", &[]).await;
    assert_eq!(status, 404);
    assert_eq!(body["message"], "Request does not match any route.");
    let (status, body) = store.get("V1/products/NOPE", &[]).await;
    assert_eq!(status, 404);
    assert!(body["message"].as_str().unwrap().contains("product"));
    // The write was recorded by the core.
    let received: Value = store
        .client
        .get(format!(
            "http://{}/_sandbox/adobe_commerce/received",
            store.sandbox.addr()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(received.as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn control_price_and_stock_changes_show_in_the_api() {
    let store = Store::start(Seed::Empty).await;
    seed_basics(&store).await;
    store
        .control(
            Method::PUT,
            "/products/A1-100%2F0",
            json!({"price": 9.95, "qty": 3}),
        )
        .await;
    let (_, p) = store.get("V1/products/A1-100%2F0", &[]).await;
    assert_eq!(p["price"], json!(9.95));
    assert_eq!(p["extension_attributes"]["stock_item"]["qty"], json!(3));
}

#[tokio::test]
async fn store_scoped_urls() {
    let store = Store::start(Seed::Empty).await;
    seed_basics(&store).await;
    for path in [
        "V1/products/A1-100%2F0",
        "default/V1/products/A1-100%2F0",
        "all/V1/products/A1-100%2F0",
    ] {
        let (status, _) = store.get(path, &[]).await;
        assert_eq!(status, 200, "{path}");
    }
    let (status, body) = store.get("nosuchstore/V1/products/A1-100%2F0", &[]).await;
    assert_eq!(status, 404);
    assert_eq!(body["message"], "Request does not match any route.");
    store
        .control(Method::POST, "/stores", json!({"code": "fr"}))
        .await;
    let (status, _) = store.get("fr/V1/products/A1-100%2F0", &[]).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn https_behind_a_proxy_signs_an_https_url() {
    let store = Store::start(Seed::Empty).await;
    seed_basics(&store).await;
    let url = format!("{}/rest/V1/products/A1-100%2F0", store.base);
    let https = url.replacen("http://", "https://", 1);
    let sig = Sig {
        url: Some(https),
        ..Sig::default()
    };
    let r = store
        .signed(Method::GET, "V1/products/A1-100%2F0", &[], &sig)
        .header("X-Forwarded-Proto", "https")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn opt_in_rate_limit_answers_429() {
    let store = Store::start(Seed::Empty).await;
    seed_basics(&store).await;
    // No limit by default (facts §0.6).
    for _ in 0..5 {
        let (status, _) = store.get("V1/products/A1-100%2F0", &[]).await;
        assert_eq!(status, 200);
    }
    store
        .control(
            Method::PUT,
            "/settings",
            json!({"rate_limit": {"limit": 2, "window_secs": 60}}),
        )
        .await;
    for _ in 0..2 {
        let (status, _) = store.get("V1/products/A1-100%2F0", &[]).await;
        assert_eq!(status, 200);
    }
    let r = store
        .signed(Method::GET, "V1/products/A1-100%2F0", &[], &Sig::default())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().get("retry-after").is_some());
    let body: Value = r.json().await.unwrap();
    assert_eq!(body, json!({"message": "Too Many Requests", "trace": null}));
}

#[tokio::test]
async fn injected_faults_use_magento_shape() {
    let store = Store::start(Seed::Empty).await;
    let r = store
        .client
        .post(format!("http://{}/_sandbox/faults", store.sandbox.addr()))
        .json(&json!({"system": "adobe_commerce", "type": "status", "status": 503, "times": 1}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let (status, body) = store
        .get("V1/orders", &q(&[("searchCriteria[pageSize]", "1")]))
        .await;
    assert_eq!(status, 503);
    assert!(body["message"].is_string());
}

#[tokio::test]
async fn input_limits_variant_caps_page_size() {
    let store = Store::start(Seed::Demo).await;
    let (status, body) = store
        .get("V1/products", &q(&[("searchCriteria[pageSize]", "500")]))
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["items"].as_array().unwrap().len(), 400);
    store
        .control(
            Method::PUT,
            "/settings",
            json!({"input_limit_enabled": true}),
        )
        .await;
    let (status, body) = store
        .get("V1/products", &q(&[("searchCriteria[pageSize]", "500")]))
        .await;
    assert_eq!(status, 400);
    assert!(body["message"].is_string());
    // Default page size 20 when none is given.
    let (_, body) = store
        .get("V1/products", &q(&[("searchCriteria", "")]))
        .await;
    assert_eq!(body["items"].as_array().unwrap().len(), 20);
    assert_eq!(body["total_count"], 400);
}

#[tokio::test]
async fn fields_projection() {
    let store = Store::start(Seed::Demo).await;
    let (status, body) = store
        .get(
            "V1/orders",
            &q(&[
                ("searchCriteria[pageSize]", "2"),
                ("fields", "items[increment_id,entity_id],total_count"),
            ]),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["total_count"], 60);
    assert!(body.get("search_criteria").is_none());
    let first = body["items"][0].as_object().unwrap();
    assert_eq!(first.len(), 2);
    assert!(first.contains_key("increment_id") && first.contains_key("entity_id"));
}

#[tokio::test]
async fn invoices_list_for_polling() {
    let store = Store::start(Seed::Demo).await;
    let (status, body) = store
        .get(
            "default/V1/invoices",
            &q(&[
                (
                    "searchCriteria[filter_groups][0][filters][0][field]",
                    "created_at",
                ),
                (
                    "searchCriteria[filter_groups][0][filters][0][value]",
                    "2016-07-01 00:00:00",
                ),
                (
                    "searchCriteria[filter_groups][0][filters][0][condition_type]",
                    "gt",
                ),
            ]),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let n = body["total_count"].as_u64().unwrap();
    assert!(n > 0 && n < 60, "unpaid demo orders have no invoice: {n}");
    let inv = &body["items"][0];
    assert!(inv["order_id"].is_u64());
    assert!(inv["grand_total"].is_number());
}

#[tokio::test]
async fn unknown_consumer_and_wrong_version_are_refused() {
    let store = Store::start(Seed::Empty).await;
    let criteria = q(&[("searchCriteria[pageSize]", "1")]);
    let stranger = Sig {
        consumer_key: Some("k".repeat(32)),
        ..Sig::default()
    };
    let r = store
        .signed(Method::GET, "V1/orders", &criteria, &stranger)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert!(body["message"].is_string());
    let version = Sig {
        version: Some("2.0"),
        ..Sig::default()
    };
    let r = store
        .signed(Method::GET, "V1/orders", &criteria, &version)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["parameters"], json!(["2.0"]));
}

#[tokio::test]
async fn demo_catalog_uses_the_erp_item_numbers() {
    let store = Store::start(Seed::Demo).await;
    let (_, body) = store
        .get(
            "V1/products",
            &q(&[
                ("searchCriteria[sortOrders][0][field]", "sku"),
                ("searchCriteria[pageSize]", "400"),
            ]),
        )
        .await;
    assert_eq!(body["total_count"], 400);
    let skus: Vec<&str> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["sku"].as_str().unwrap())
        .collect();
    assert_eq!(skus.first(), Some(&"A1-100/0"));
    assert_eq!(skus.last(), Some(&"A4-199/0"));
    assert!(body["items"][0]["price"].is_number());
    let (_, customers) = store
        .get(
            "V1/customers/search",
            &q(&[("searchCriteria[pageSize]", "1")]),
        )
        .await;
    assert!(customers["total_count"].as_u64().unwrap() >= 200);
    assert!(customers["items"][0]["email"]
        .as_str()
        .unwrap()
        .contains('@'));
}

#[tokio::test]
async fn parameter_order_variants() {
    let store = Store::start(Seed::Demo).await;
    // Eleven filter groups: `[10]` and `[2]` order differently byte-wise
    // and naturally.
    let mut pairs = Vec::new();
    for g in 0..11 {
        pairs.push((
            format!("searchCriteria[filter_groups][{g}][filters][0][field]"),
            "entity_id".to_string(),
        ));
        pairs.push((
            format!("searchCriteria[filter_groups][{g}][filters][0][value]"),
            "0".to_string(),
        ));
        pairs.push((
            format!("searchCriteria[filter_groups][{g}][filters][0][condition_type]"),
            "gt".to_string(),
        ));
    }
    pairs.push(("searchCriteria[pageSize]".to_string(), "1".to_string()));
    let query: Vec<(&str, String)> = pairs
        .iter()
        .map(|(k, v)| (&*Box::leak(k.clone().into_boxed_str()), v.clone()))
        .collect();
    let rfc = Sig::default();
    let natural = Sig {
        natural: true,
        ..Sig::default()
    };
    let status = |sig: Sig| {
        let r = store.signed(Method::GET, "V1/orders", &query, &sig);
        async move { r.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(status(rfc.clone()).await, 200);
    assert_eq!(status(natural.clone()).await, 401);
    store
        .control(Method::PUT, "/settings", json!({"param_sort": "natural"}))
        .await;
    assert_eq!(status(Sig::default()).await, 401);
    assert_eq!(
        status(Sig {
            natural: true,
            ..Sig::default()
        })
        .await,
        200
    );
}

#[tokio::test]
async fn comments_shipping_and_content_type() {
    let store = Store::start(Seed::Empty).await;
    seed_basics(&store).await;
    let placed = store
        .control(
            Method::POST,
            "/orders",
            json!({"customer_email": "jane@example.com", "lines": [{"sku": "A1-100/0", "qty": 1}],
                   "created_at": "2025-03-01 10:00:00"}),
        )
        .await;
    let id = placed["entity_id"].as_u64().unwrap();
    assert_eq!(placed["updated_at"], "2025-03-01 10:00:00");
    let (status, ok) = store
        .send(
            Method::POST,
            &format!("V1/orders/{id}/comments"),
            json!({"statusHistory": {"comment": "Posted to the ERP", "is_customer_notified": 0}}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(ok, json!(true));
    let (_, o) = store.get(&format!("V1/orders/{id}"), &[]).await;
    assert_eq!(o["status_histories"][0]["comment"], "Posted to the ERP");
    assert!(o["updated_at"].as_str().unwrap() > "2025-03-01 10:00:00");
    let shipped = store
        .control(
            Method::PUT,
            &format!("/orders/{id}"),
            json!({"shipped": true}),
        )
        .await;
    assert_eq!(shipped["state"], "complete");
    assert_eq!(shipped["items"][0]["qty_shipped"], json!(1));
    // A body without Content-Type is refused.
    let r = store
        .signed(Method::PUT, "V1/products/A1-100%2F0", &[], &Sig::default())
        .body(r#"{"product":{"price":1}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["message"], "Content-Type header is empty.");
}

#[tokio::test]
async fn invoice_and_ship_an_order() {
    let store = Store::start(Seed::Empty).await;
    seed_basics(&store).await;
    let placed = store
        .control(
            Method::POST,
            "/orders",
            json!({"lines": [{"sku": "A1-100/0", "qty": 2}], "paid": false}),
        )
        .await;
    let id = placed["entity_id"].as_u64().unwrap();
    assert_eq!(placed["status"], "pending");
    assert!(placed.get("total_paid").is_none());
    let (status, invoice) = store
        .send(
            Method::POST,
            &format!("V1/order/{id}/invoice"),
            json!({"capture": true}),
        )
        .await;
    assert_eq!(status, 200, "{invoice}");
    assert!(invoice.is_u64());
    let (status, _) = store
        .send(Method::POST, &format!("V1/order/{id}/invoice"), json!({}))
        .await;
    assert_eq!(status, 400);
    let item = placed["items"][0]["item_id"].as_u64().unwrap();
    let (status, shipment) = store
        .send(
            Method::POST,
            &format!("V1/order/{id}/ship"),
            json!({"items": [{"order_item_id": item, "qty": 2}],
                   "tracks": [{"track_number": "1Z999", "title": "UPS", "carrier_code": "ups"}]}),
        )
        .await;
    assert_eq!(status, 200, "{shipment}");
    assert!(shipment.is_u64());
    let (_, o) = store.get(&format!("V1/orders/{id}"), &[]).await;
    assert_eq!(o["state"], "complete");
    assert_eq!(o["total_paid"], o["grand_total"]);
    assert_eq!(o["items"][0]["qty_shipped"], json!(2));
}

#[tokio::test]
async fn customers_changed_since_a_time() {
    let store = Store::start(Seed::Demo).await;
    let changed = store
        .control(Method::PUT, "/customers/5", json!({"lastname": "Changed"}))
        .await;
    let since = "2026-01-01 00:00:00";
    assert!(changed["updated_at"].as_str().unwrap() > since);
    let (status, body) = store
        .get(
            "V1/customers/search",
            &q(&[
                (
                    "searchCriteria[filter_groups][0][filters][0][field]",
                    "updated_at",
                ),
                ("searchCriteria[filter_groups][0][filters][0][value]", since),
                (
                    "searchCriteria[filter_groups][0][filters][0][condition_type]",
                    "gteq",
                ),
            ]),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["total_count"], 1);
    assert_eq!(body["items"][0]["id"], 5);
    assert_eq!(body["items"][0]["lastname"], "Changed");
    let (status, c) = store.get("V1/customers/5", &[]).await;
    assert_eq!(status, 200);
    assert_eq!(c["lastname"], "Changed");
    let (status, _) = store.get("V1/customers/99999", &[]).await;
    assert_eq!(status, 404);
}
