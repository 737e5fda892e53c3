//! Contract tests of the Sage X3 simulator, written from
//! shared/systems/sage.md §2 (section and source tags cited) and README
//! rule 3 (Basic for api1, connected-app JWT for GraphQL, the seed's
//! client credentials as an option).

use jsonwebtoken::{encode, EncodingKey, Header};
use mlc_sandbox::{Sandbox, SandboxOptions, Seed};
use reqwest::StatusCode;
use serde_json::{json, Value};

struct X3 {
    sandbox: Sandbox,
    client: reqwest::Client,
    /// The Syracuse root, `.../sagex3/`.
    base: String,
    m: Value,
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

impl X3 {
    async fn start(seed: Seed) -> X3 {
        let sandbox = Sandbox::start(SandboxOptions {
            seed,
            ..SandboxOptions::default()
        })
        .await
        .unwrap();
        let m = sandbox.manifest()["sagex3"].clone();
        let base = m["base_url"].as_str().unwrap().to_string();
        assert!(base.ends_with('/'), "{base}");
        X3 {
            sandbox,
            client: reqwest::Client::new(),
            base,
            m,
        }
    }

    fn s(&self, k: &str) -> String {
        self.m[k]
            .as_str()
            .unwrap_or_else(|| panic!("manifest {k}"))
            .to_string()
    }

    /// `{base}api1/x3/erp/{ENDPOINT}/{rest}` (facts §2.1 [X3-Q]).
    fn api1_url(&self, rest: &str) -> String {
        format!("{}api1/x3/erp/{}/{rest}", self.base, self.s("endpoint"))
    }

    async fn send(
        &self,
        req: reqwest::RequestBuilder,
    ) -> (StatusCode, Value, reqwest::header::HeaderMap) {
        let r = req.send().await.unwrap();
        let status = r.status();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::Null),
            headers,
        )
    }

    async fn get_url(&self, url: &str) -> (StatusCode, Value) {
        let (s, b, _) = self
            .send(
                self.client
                    .get(url)
                    .basic_auth(self.s("user"), Some(self.s("password"))),
            )
            .await;
        (s, b)
    }

    async fn api1(&self, rest: &str) -> (StatusCode, Value) {
        self.get_url(&self.api1_url(rest)).await
    }

    async fn api1_post(&self, rest: &str, body: &Value) -> (StatusCode, Value) {
        let (s, b, _) = self
            .send(
                self.client
                    .post(self.api1_url(rest))
                    .basic_auth(self.s("user"), Some(self.s("password")))
                    .json(body),
            )
            .await;
        (s, b)
    }

    /// A connected-app JWT as the public sample signs it (facts §2.2 [TIMO]).
    fn jwt_with(&self, claims: Value, secret: &str) -> String {
        encode(
            &Header::default(),
            &claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap()
    }

    fn jwt(&self) -> String {
        let t = now();
        self.jwt_with(
            json!({ "iss": self.s("client_id"), "sub": self.s("user"), "aud": "", "iat": t, "exp": t + 300 }),
            &self.s("secret"),
        )
    }

    async fn gql_with(
        &self,
        token: Option<&str>,
        endpoint: Option<&str>,
        query: &str,
        variables: Value,
    ) -> (StatusCode, Value) {
        let mut req = self
            .client
            .post(format!("{}xtrem/api", self.base))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(e) = endpoint {
            req = req.header("x-xtrem-endpoint", e);
        }
        let (s, b, _) = self.send(req).await;
        (s, b)
    }

    async fn gql(&self, query: &str) -> (StatusCode, Value) {
        self.gql_with(
            Some(&self.jwt()),
            Some(&self.s("endpoint")),
            query,
            json!({}),
        )
        .await
    }

    async fn control(&self, path: &str, body: Value) -> Value {
        let r = self
            .client
            .post(format!(
                "http://{}/_sandbox/sagex3/{path}",
                self.sandbox.addr()
            ))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{path}: {}", r.status());
        r.json().await.unwrap_or(Value::Null)
    }

    async fn variants(&self, body: Value) {
        self.control("variants", body).await;
    }
}

/// The api1 error body (decision recorded in the module: `$severity`,
/// `$message`, and `$diagnoses[]`).
fn assert_api1_error(body: &Value) {
    assert_eq!(body["$severity"], "error", "{body}");
    assert!(
        body["$message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert_eq!(body["$diagnoses"][0]["$severity"], "error", "{body}");
}

/// Facts §2.2 [X3-ERR]: `{"errors":[{"message":...}],"extensions":{}}`.
fn assert_gql_error(body: &Value, contains: &str) {
    let m = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(m.contains(contains), "{body}");
    assert_eq!(body["extensions"], json!({}), "{body}");
}

const CUSTOMERS: &str = "BPCUSTOMER?representation=BPCUSTOMER.$query";

#[tokio::test]
async fn api1_basic_auth_is_required() {
    let x3 = X3::start(Seed::Demo).await;
    let (status, body) = x3.api1(CUSTOMERS).await;
    assert_eq!(status, 200, "{body}");
    for req in [
        x3.client.get(x3.api1_url(CUSTOMERS)),
        x3.client
            .get(x3.api1_url(CUSTOMERS))
            .basic_auth(x3.s("user"), Some("wrong")),
        x3.client.get(x3.api1_url(CUSTOMERS)).bearer_auth(x3.jwt()),
    ] {
        let (status, body, headers) = x3.send(req).await;
        assert_eq!(status, 401);
        assert!(headers["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic"));
        assert_api1_error(&body);
    }
    x3.sandbox.stop().await;
}

#[tokio::test]
async fn api1_query_pages_by_key_to_the_last_page() {
    let x3 = X3::start(Seed::Demo).await;
    // §2.1: default count 20, `$links.$next.$url` with key=gt. until absent.
    let (status, mut page) = x3.api1(CUSTOMERS).await;
    assert_eq!(status, 200);
    assert_eq!(page["$itemsPerPage"], 20);
    let mut codes: Vec<String> = Vec::new();
    let mut pages = 0;
    loop {
        pages += 1;
        for r in page["$resources"].as_array().unwrap() {
            assert!(r["BPCNUM"].is_string() && r["BPCNAM"].is_string(), "{r}");
            assert!(r["CREDATTIM"].as_str().unwrap().ends_with('Z'));
            codes.push(r["BPCNUM"].as_str().unwrap().to_string());
        }
        assert!(page["$links"]["$last"]["$url"]
            .as_str()
            .unwrap()
            .contains("key=lt"));
        let Some(next) = page["$links"]["$next"]["$url"].as_str() else {
            break;
        };
        assert!(next.contains("key=gt."), "{next}");
        assert_eq!(page["$links"]["$next"]["$method"], "GET");
        let (status, body) = x3.get_url(next).await;
        assert_eq!(status, 200);
        page = body;
    }
    assert_eq!(pages, 15);
    assert_eq!(codes.len(), 300);
    let mut sorted = codes.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(
        sorted, codes,
        "keyset pages are in key order without repeats"
    );

    // The server caps count and says so in $itemsPerPage (§2.1, §5).
    let (_, page) = x3.api1(&format!("{CUSTOMERS}&count=1000")).await;
    assert_eq!(page["$itemsPerPage"], 200);
    assert_eq!(page["$resources"].as_array().unwrap().len(), 200);
    x3.variants(json!({ "max_count": 1000 })).await;
    let (_, page) = x3.api1(&format!("{CUSTOMERS}&count=1000")).await;
    assert_eq!(page["$resources"].as_array().unwrap().len(), 300);
    assert!(page["$links"].get("$next").is_none());

    // key=gt.<last> from the facts' example form.
    let (_, page) = x3.api1(&format!("{CUSTOMERS}&count=5&key=gt.US295")).await;
    let got: Vec<&str> = page["$resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["BPCNUM"].as_str().unwrap())
        .collect();
    assert_eq!(got, ["US296", "US297", "US298", "US299", "US300"]);
    assert!(page["$links"].get("$next").is_none());
    x3.sandbox.stop().await;
}

#[tokio::test]
async fn api1_order_by_both_forms_and_paging_under_an_order() {
    let x3 = X3::start(Seed::Demo).await;
    for spec in ["BPCNAM desc, BPCNUM asc", "BPCNAM Desc;BPCNUM"] {
        let mut url = x3.api1_url(&format!(
            "{CUSTOMERS}&count=50&orderBy={}",
            spec.replace(' ', "%20")
        ));
        let mut all: Vec<(String, String)> = Vec::new();
        loop {
            let (status, page) = x3.get_url(&url).await;
            assert_eq!(status, 200, "{spec}: {page}");
            for r in page["$resources"].as_array().unwrap() {
                all.push((
                    r["BPCNAM"].as_str().unwrap().into(),
                    r["BPCNUM"].as_str().unwrap().into(),
                ));
            }
            match page["$links"]["$next"]["$url"].as_str() {
                Some(next) => url = next.to_string(),
                None => break,
            }
        }
        assert_eq!(all.len(), 300, "{spec}");
        let mut expected = all.clone();
        expected.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        assert_eq!(all, expected, "{spec}");
    }
    // Each form alone, when the target accepts only one (variant).
    x3.variants(json!({ "order_by_style": "comma" })).await;
    let (status, _) = x3
        .api1(&format!("{CUSTOMERS}&orderBy=BPCNAM%20desc,BPCNUM"))
        .await;
    assert_eq!(status, 200);
    let (status, _) = x3
        .api1(&format!("{CUSTOMERS}&orderBy=BPCNAM%20desc;BPCNUM"))
        .await;
    assert_ne!(status, 200);
    x3.variants(json!({ "order_by_style": "semicolon" })).await;
    let (status, _) = x3
        .api1(&format!("{CUSTOMERS}&orderBy=BPCNAM;BPCNUM%20Desc"))
        .await;
    assert_eq!(status, 200);
    // Only properties on the query facet (§2.1).
    let (status, body) = x3.api1(&format!("{CUSTOMERS}&orderBy=NOSUCH")).await;
    assert_eq!(status, 500);
    assert_api1_error(&body);
    x3.sandbox.stop().await;
}

#[tokio::test]
async fn api1_where_predicates_and_errors() {
    let x3 = X3::start(Seed::Demo).await;
    // §2.1 [X3-Q]: `left(BPCNAM,4) eq 'Test'`.
    let (status, page) = x3
        .api1(&format!(
            "{CUSTOMERS}&count=200&where=left(BPCNAM,4)%20eq%20'Oliv'"
        ))
        .await;
    assert_eq!(status, 200, "{page}");
    let rows = page["$resources"].as_array().unwrap();
    assert!(!rows.is_empty());
    assert!(rows
        .iter()
        .all(|r| r["BPCNAM"].as_str().unwrap().starts_with("Oliv")));
    // E-mail lookup (decision: WEB holds the default address's e-mail).
    let email = rows[0]["WEB"].as_str().unwrap().to_string();
    let (_, page) = x3
        .api1(&format!("{CUSTOMERS}&where=WEB%20eq%20'{email}'"))
        .await;
    assert_eq!(page["$resources"].as_array().unwrap().len(), 1);
    // §2.1 [PUB-X3DATE]: @...@ date literals with `and`.
    let (status, page) = x3
        .api1(&format!("{CUSTOMERS}&count=200&where=CREDATTIM%20ge%20@2025-01-06T13:00:00Z@%20and%20CRY%20eq%20'CA'"))
        .await;
    assert_eq!(status, 200, "{page}");
    let n = page["$resources"].as_array().unwrap().len();
    assert!(n > 0 && n < 300, "{n}");
    // An empty result is 200 with an empty $resources.
    let (status, page) = x3
        .api1(&format!("{CUSTOMERS}&where=BPCNUM%20eq%20'NONE'"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(page["$resources"], json!([]));
    // Unknown property in where: HTTP 500 (§2.1 [X3-GETQ]).
    let (status, body) = x3
        .api1(&format!("{CUSTOMERS}&where=NOSUCH%20eq%20'x'"))
        .await;
    assert_eq!(status, 500);
    assert_api1_error(&body);
    // REPR must belong to CLASS (§2.1).
    let (status, body) = x3.api1("BPCUSTOMER?representation=SOH.$query").await;
    assert_eq!(status, 400);
    assert_api1_error(&body);
    let (status, _) = x3.api1("BPCUSTOMER").await;
    assert_eq!(status, 400, "representation is required");
    let (status, body) = x3
        .api1("NOSUCHCLASS?representation=NOSUCHCLASS.$query")
        .await;
    assert_eq!(status, 404);
    assert_api1_error(&body);
    x3.sandbox.stop().await;
}

#[tokio::test]
async fn api1_details_with_children_and_composite_keys() {
    let x3 = X3::start(Seed::Demo).await;
    let (status, c) = x3
        .api1("BPCUSTOMER('US001')?representation=BPCUSTOMER.$details")
        .await;
    assert_eq!(status, 200, "{c}");
    assert_eq!(c["BPCNUM"], "US001");
    assert!(c["$uuid"].is_string() && c["$etag"].is_string(), "{c}");
    // §2.1 [X3-DET]: sales orders embed SOHSOP[] with ITMREF.
    let (_, orders) = x3.api1("SORDER?representation=SOH.$query&count=1").await;
    let number = orders["$resources"][0]["SOHNUM"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, o) = x3
        .api1(&format!("SORDER('{number}')?representation=SOH.$details"))
        .await;
    assert_eq!(status, 200, "{o}");
    assert!(o["SOHSOP"][0]["ITMREF"].as_str().unwrap().starts_with('A'));
    assert!(o["SOHSOP"][0]["QTY"].is_number());
    // Composite keys joined with `~`.
    let (status, s) = x3
        .api1("ITMMVT('A1-100%2F0~NA011')?representation=ITMMVT.$details")
        .await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["STOFCY"], "NA011");
    assert_eq!(s["ITMREF"], "A1-100/0", "a `/` in a key is sent as %2F");
    assert!(s["PHYSTO"].is_number());
    let (status, body) = x3
        .api1("BPCUSTOMER('NOPE')?representation=BPCUSTOMER.$details")
        .await;
    assert_eq!(status, 404);
    assert_api1_error(&body);
    // Products: the demo SKUs with a price.
    let (_, items) = x3
        .api1("ITMMASTER?representation=ITMMASTER.$query&count=1")
        .await;
    assert_eq!(items["$resources"][0]["ITMREF"], "A1-100/0");
    assert!(items["$resources"][0]["BASPRI"].is_number());
    x3.sandbox.stop().await;
}

#[tokio::test]
async fn api1_template_prototype_and_create() {
    let x3 = X3::start(Seed::Demo).await;
    // §2.1 [X3-CRE].
    let (status, t) = x3.api1("SORDER/$template?representation=SOH.$create").await;
    assert_eq!(status, 200, "{t}");
    assert!(t["SOHSOP"].is_array());
    let (status, p) = x3.api1("SORDER/$prototypes('SOH.$create')").await;
    assert_eq!(status, 200, "{p}");
    assert_eq!(p["$properties"]["BPCORD"]["$isMandatory"], true);
    assert!(p["$properties"]["ORDDAT"]["$type"].is_string());
    assert!(p["$properties"]["BPCORD"]["$maxLength"].is_number());

    let order = json!({
        "BPCORD": "US002", "ORDDAT": "2025-03-04", "CUSORDREF": "WOO-1001",
        "SOHSOP": [{ "ITMREF": "A1-100/0", "QTY": 2 }, { "ITMREF": "A2-150/0", "QTY": 1, "GROPRI": 9.5 }]
    });
    let (status, created) = x3
        .api1_post("SORDER?representation=SOH.$create", &order)
        .await;
    assert_eq!(status, 201, "{created}");
    let number = created["SOHNUM"].as_str().unwrap().to_string();
    assert_eq!(created["SOHSOP"].as_array().unwrap().len(), 2);
    assert_eq!(created["SOHSOP"][1]["GROPRI"], 9.5);
    let (_, found) = x3
        .api1("SORDER?representation=SOH.$query&where=CUSORDREF%20eq%20'WOO-1001'")
        .await;
    assert_eq!(found["$resources"][0]["SOHNUM"], number.as_str());

    let invoice = json!({ "BPCINV": "US002", "SOHNUM": number, "CUSORDREF": "WOO-1001",
        "SID": [{ "ITMREF": "A1-100/0", "QTY": 2 }] });
    let (status, inv) = x3
        .api1_post("SIH?representation=SIH.$create", &invoice)
        .await;
    assert_eq!(status, 201, "{inv}");
    assert!(inv["NUM"].is_string() && inv["AMTATI"].is_number());

    let bad = json!({ "BPCORD": "US002", "SOHSOP": [{ "ITMREF": "NO-SUCH", "QTY": 1 }] });
    let (status, body) = x3
        .api1_post("SORDER?representation=SOH.$create", &bad)
        .await;
    assert_eq!(status, 400);
    assert_api1_error(&body);

    let customer = json!({ "BPCNUM": "WEB0001", "BPCNAM": "Ada Lovelace", "WEB": "ada@example.com", "CRY": "GB" });
    let (status, c) = x3
        .api1_post("BPCUSTOMER?representation=BPCUSTOMER.$create", &customer)
        .await;
    assert_eq!(status, 201, "{c}");
    assert_eq!(c["WEB"], "ada@example.com");
    let (status, body) = x3
        .api1_post("BPCUSTOMER?representation=BPCUSTOMER.$create", &customer)
        .await;
    assert_eq!(status, 409);
    assert_api1_error(&body);
    let (status, _) = x3
        .api1_post("BPCUSTOMER?representation=BPCUSTOMER.$query", &customer)
        .await;
    assert_eq!(status, 400);
    x3.sandbox.stop().await;
}

#[tokio::test]
async fn price_and_stock_changes_bump_the_update_stamps() {
    let x3 = X3::start(Seed::Demo).await;
    x3.control("clock", json!({ "now": "2030-01-15T10:00:00Z" }))
        .await;
    x3.control("prices", json!([{ "ITMREF": "A1-105/0", "BASPRI": 99.5 }]))
        .await;
    x3.control(
        "stock",
        json!([{ "ITMREF": "A2-110/0", "STOFCY": "NA021", "PHYSTO": 3 }]),
    )
    .await;
    let since = "where=UPDDATTIM%20ge%20@2030-01-15T00:00:00Z@";
    let (_, items) = x3
        .api1(&format!(
            "ITMMASTER?representation=ITMMASTER.$query&{since}"
        ))
        .await;
    let items = items["$resources"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["BASPRI"], 99.5);
    assert_eq!(items[0]["UPDDATTIM"], "2030-01-15T10:00:00Z");
    let (_, stock) = x3
        .api1(&format!("ITMMVT?representation=ITMMVT.$query&{since}"))
        .await;
    assert_eq!(stock["$resources"][0]["ITMREF"], "A2-110/0");
    assert_eq!(stock["$resources"][0]["PHYSTO"], 3.0);
    // GraphQL shows the same change through its delta field (default `_updateStamp`).
    let (status, body) = x3
        .gql("{ xtremX3MasterData { product { query(filter: \"{_updateStamp: {$gte: '2030-01-15T00:00:00Z'}}\") { edges { node { code basePrice _updateStamp } } } } } }")
        .await;
    assert_eq!(status, 200, "{body}");
    let edges = &body["data"]["xtremX3MasterData"]["product"]["query"]["edges"];
    assert_eq!(edges.as_array().unwrap().len(), 1, "{body}");
    assert_eq!(
        edges[0]["node"]["basePrice"], "99.5",
        "decimals are strings"
    );

    // UPDDATTIM may be missing from the facet (UNVERIFIED): then it is an unknown property.
    x3.variants(json!({ "expose_upddattim": false })).await;
    let (status, _) = x3
        .api1(&format!(
            "ITMMASTER?representation=ITMMASTER.$query&{since}"
        ))
        .await;
    assert_eq!(status, 500);
    let (_, page) = x3
        .api1("ITMMASTER?representation=ITMMASTER.$query&count=1")
        .await;
    assert!(page["$resources"][0].get("UPDDATTIM").is_none());
    x3.sandbox.stop().await;
}

#[tokio::test]
async fn the_collaboration_envelope_variant() {
    let x3 = X3::start(Seed::Demo).await;
    let (_, page) = x3.api1(CUSTOMERS).await;
    assert!(page.get("$totalResults").is_none());
    x3.variants(json!({ "collaboration_envelope": true })).await;
    let (_, page) = x3.api1(CUSTOMERS).await;
    assert_eq!(page["$totalResults"], 300);
    assert_eq!(page["$startIndex"], 1);
    assert!(page["$url"].is_string() && page["$descriptor"].is_string());
    x3.sandbox.stop().await;
}

#[tokio::test]
async fn graphql_connected_app_jwt_rules() {
    let x3 = X3::start(Seed::Demo).await;
    let q = "{ xtremX3Structure { country { query { edges { node { code } } } } } }";
    let endpoint = x3.s("endpoint");
    let (status, body) = x3.gql(q).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["data"]["xtremX3Structure"]["country"]["query"]["edges"][0]["node"]["code"]
            .is_string()
    );

    let t = now();
    let id = x3.s("client_id");
    let secret = x3.s("secret");
    let unauthorised = json!({ "message": "Unauthorised" });
    let cases = [
        ("no token", None),
        (
            "wrong secret",
            Some(x3.jwt_with(
                json!({ "iss": id, "iat": t, "exp": t + 300 }),
                "not-the-secret",
            )),
        ),
        (
            "expired",
            Some(x3.jwt_with(
                json!({ "iss": id, "iat": t - 400, "exp": t - 100 }),
                &secret,
            )),
        ),
        (
            "unknown issuer",
            Some(x3.jwt_with(
                json!({ "iss": "someone", "iat": t, "exp": t + 300 }),
                &secret,
            )),
        ),
        (
            "another user",
            Some(x3.jwt_with(
                json!({ "iss": id, "sub": "intruder", "iat": t, "exp": t + 300 }),
                &secret,
            )),
        ),
        (
            "longer than tokens validity",
            Some(x3.jwt_with(json!({ "iss": id, "iat": t, "exp": t + 3600 }), &secret)),
        ),
    ];
    for (case, token) in cases {
        let (status, body) = x3
            .gql_with(token.as_deref(), Some(&endpoint), q, json!({}))
            .await;
        assert_eq!(status, 401, "{case}");
        assert_eq!(body, unauthorised, "{case}");
    }
    // sub and aud are optional (the sample sets aud '' and sub only with a user).
    let plain = x3.jwt_with(json!({ "iss": id, "iat": t, "exp": t + 300 }), &secret);
    assert_eq!(
        x3.gql_with(Some(&plain), Some(&endpoint), q, json!({}))
            .await
            .0,
        200
    );

    // A token issued in the future: "error 21" (facts §2.2 [TIMO]).
    let future = x3.jwt_with(
        json!({ "iss": id, "iat": t + 120, "exp": t + 420 }),
        &secret,
    );
    let (status, body) = x3
        .gql_with(Some(&future), Some(&endpoint), q, json!({}))
        .await;
    assert_eq!(status, 401);
    assert_eq!(body["message"], "Unauthorised");
    assert_eq!(body["code"], 21);
    x3.variants(json!({ "clock_skew_secs": 300 })).await;
    assert_eq!(
        x3.gql_with(Some(&future), Some(&endpoint), q, json!({}))
            .await
            .0,
        200
    );

    // The endpoint header is required.
    let (status, body) = x3.gql_with(Some(&x3.jwt()), None, q, json!({})).await;
    assert_eq!(status, 400);
    assert_gql_error(&body, "x-xtrem-endpoint");
    let (status, _) = x3
        .gql_with(Some(&x3.jwt()), Some("OTHER"), q, json!({}))
        .await;
    assert_eq!(status, 400);

    // A disabled connected app is refused.
    let r = x3
        .client
        .put(format!(
            "http://{}/_sandbox/sagex3/apps/{id}",
            x3.sandbox.addr()
        ))
        .json(&json!({ "active": false }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(x3.gql(q).await.0, 401);
    x3.sandbox.stop().await;
}

#[tokio::test]
async fn graphql_current_schema_queries_and_paging() {
    let x3 = X3::start(Seed::Demo).await;
    // Facts §2.2: filter and orderBy are strings holding Mongo-style objects.
    let (status, body) = x3
        .gql("query { xtremX3MasterData { customer { query(filter: \"{code :'US003'}\", orderBy: \"{code:-1}\") { edges { node { code isActive companyName defaultAddress { email countryName } } } } } } }")
        .await;
    assert_eq!(status, 200, "{body}");
    let node = &body["data"]["xtremX3MasterData"]["customer"]["query"]["edges"][0]["node"];
    assert_eq!(node["code"], "US003");
    assert_eq!(node["isActive"], true);
    assert!(node["defaultAddress"]["email"]
        .as_str()
        .unwrap()
        .contains('@'));

    let (_, body) = x3
        .gql("query { xtremX3MasterData { customer { read(_id: \"US003\") { isActive code } } } }")
        .await;
    assert_eq!(
        body["data"]["xtremX3MasterData"]["customer"]["read"]["code"],
        "US003"
    );

    // Relay paging with first/after to the last page.
    let mut after: Option<String> = None;
    let mut codes = Vec::new();
    loop {
        let args = match &after {
            Some(a) => format!("first: 50, after: {}", Value::String(a.clone())),
            None => "first: 50".into(),
        };
        let (status, body) = x3
            .gql(&format!("{{ x3MasterData {{ product {{ query({args}, orderBy: \"{{code: -1}}\") {{ edges {{ node {{ code }} }} pageInfo {{ endCursor hasNextPage startCursor hasPreviousPage }} }} }} }} }}"))
            .await;
        assert_eq!(status, 200, "{body}");
        let q = &body["data"]["x3MasterData"]["product"]["query"];
        for e in q["edges"].as_array().unwrap() {
            codes.push(e["node"]["code"].as_str().unwrap().to_string());
        }
        let end = q["pageInfo"]["endCursor"].as_str().unwrap().to_string();
        assert!(
            end.starts_with('[') && end.contains("]#"),
            "cursor like [\"AE020\"]#73: {end}"
        );
        if !q["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = Some(end);
    }
    assert_eq!(codes.len(), 400);
    assert_eq!(codes[0], "A4-199/0");
    let mut sorted = codes.clone();
    sorted.sort();
    sorted.reverse();
    assert_eq!(codes, sorted);

    // Nested reference filter and $in (facts §2.2).
    let (status, body) = x3
        .gql("{ xtremX3Sales { salesOrder { query(first: 100, filter: \"{ soldToCustomer: { defaultAddress: { countryName: { $in: ['Canada','France'] } } } }\") { totalCount edges { node { id soldToCustomer { code } lines { edges { node { lineNumber product { code } quantityInSalesUnitOrdered grossPrice } } } } } } } } }")
        .await;
    assert_eq!(status, 200, "{body}");
    let q = &body["data"]["xtremX3Sales"]["salesOrder"]["query"];
    assert!(q["totalCount"].as_u64().unwrap() > 0);
    assert_eq!(
        q["edges"][0]["node"]["lines"]["edges"][0]["node"]["lineNumber"],
        1000
    );

    // Unknown fields: 400 in the documented shape (facts §2.2 [X3-ERR]).
    let (status, body) = x3
        .gql("{ xtremX3MasterDat { customer { query { edges { node { code } } } } } }")
        .await;
    assert_eq!(status, 400);
    assert_gql_error(&body, "Cannot query field \"xtremX3MasterDat\" on type \"Query\". Did you mean \"xtremX3MasterData\"?");
    let (status, body) = x3
        .gql("{ xtremX3MasterData { customer { query { edges { node { nosuch } } } } } }")
        .await;
    assert_eq!(status, 400);
    assert_gql_error(&body, "Cannot query field \"nosuch\"");
    let (status, body) = x3
        .gql("{ xtremX3MasterData { customer { query { edges { node { code } } } }")
        .await;
    assert_eq!(status, 400);
    assert_gql_error(&body, "Syntax Error");
    x3.sandbox.stop().await;
}

#[tokio::test]
async fn graphql_mutations_create_orders_invoices_and_customers() {
    let x3 = X3::start(Seed::Demo).await;
    // Decimals as strings, enums bare (facts §2.2 example).
    let create = "mutation ($ref: String) { xtremX3Sales { salesOrder { create(data: {salesSite: \"NA011\", soldToCustomer: \"US004\", currency: \"USD\", category: normal, orderDate: \"2025-06-15\", customerOrderReference: $ref, lines: [{lineNumber: 1000, grossPrice: \"22.0\", product: \"A3-120/0\", salesUnit: \"UN\", quantityInSalesUnitOrdered: \"1.0\"}]}) { id customerOrderReference lines { edges { node { lineNumber sequenceNumber product { code } } } } } } } }";
    let (status, body) = x3
        .gql_with(
            Some(&x3.jwt()),
            Some(&x3.s("endpoint")),
            create,
            json!({ "ref": "WOO-77" }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let order = &body["data"]["xtremX3Sales"]["salesOrder"]["create"];
    let id = order["id"].as_str().unwrap().to_string();
    assert_eq!(order["customerOrderReference"], "WOO-77");
    assert_eq!(
        order["lines"]["edges"][0]["node"]["product"]["code"],
        "A3-120/0"
    );
    let (_, found) = x3
        .api1(&format!("SORDER('{id}')?representation=SOH.$details"))
        .await;
    assert_eq!(found["CUSORDREF"], "WOO-77");

    let (status, body) = x3
        .gql(&format!("mutation {{ xtremX3Sales {{ salesInvoice {{ create(data: {{billToCustomer: \"US004\", salesOrder: \"{id}\", lines: [{{product: \"A3-120/0\", quantityInSalesUnit: \"1\", grossPrice: \"22.0\"}}]}}) {{ id totalAmountIncludingTax }} }} }} }}"))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"]["xtremX3Sales"]["salesInvoice"]["create"]["totalAmountIncludingTax"],
        "22"
    );

    let (status, body) = x3
        .gql("mutation { xtremX3MasterData { customer { create(data: {code: \"WEB9\", companyName: \"Grace Hopper\", defaultAddress: {email: \"grace@example.com\", country: \"US\"}}) { code defaultAddress { email } } } } }")
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, c) = x3
        .api1("BPCUSTOMER('WEB9')?representation=BPCUSTOMER.$details")
        .await;
    assert_eq!(c["WEB"], "grace@example.com");

    // A refused create: errors[] (status 200 by default, 400 as a variant).
    let bad = "mutation { xtremX3Sales { salesOrder { create(data: {soldToCustomer: \"NOPE\", lines: [{product: \"A1-100/0\", quantityInSalesUnitOrdered: \"1\"}]}) { id } } } }";
    let (status, body) = x3.gql(bad).await;
    assert_eq!(status, 200);
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("NOPE"),
        "{body}"
    );
    assert!(body["data"]["xtremX3Sales"].is_null());
    x3.variants(json!({ "business_error_status": 400 })).await;
    assert_eq!(x3.gql(bad).await.0, 400);
    // An unknown input field is a request error.
    let (status, body) = x3
        .gql("mutation { xtremX3Sales { salesOrder { create(data: {soldToCustomer: \"US004\", bogus: 1}) { id } } } }")
        .await;
    assert_eq!(status, 400);
    assert_gql_error(&body, "bogus");
    // Read-only endpoint (the Sage sandbox, facts §2.2 [X3-SANDBOX]).
    x3.variants(json!({ "mutations": false })).await;
    assert_eq!(x3.gql(create).await.0, 400);
    x3.sandbox.stop().await;
}

#[tokio::test]
async fn graphql_legacy_schema_variant() {
    let x3 = X3::start(Seed::Demo).await;
    x3.variants(json!({ "schema": "legacy" })).await;
    // Facts §2.2 [X3-GQL-SO] shape.
    let (status, body) = x3
        .gql("{ sage { x3Sales { salesOrder(filter: \"{orderDate: {$gt: '2025-01-10'}}\", orderBy: \"{ orderDate: 1 }\") { edges { node { id orderDate } } } } } }")
        .await;
    assert_eq!(status, 200, "{body}");
    let edges = body["data"]["sage"]["x3Sales"]["salesOrder"]["edges"]
        .as_array()
        .unwrap()
        .clone();
    assert!(!edges.is_empty());
    let dates: Vec<&str> = edges
        .iter()
        .map(|e| e["node"]["orderDate"].as_str().unwrap())
        .collect();
    assert!(dates.iter().all(|d| *d > "2025-01-10"));
    assert!(dates.windows(2).all(|w| w[0] <= w[1]));
    let (status, body) = x3
        .gql("mutation { sage { x3Sales { salesOrder { create(data: {id: \"GRAPHQLDEMO\", salesSite: \"NA011\", soldToCustomer: \"US005\", currency: \"USD\", category: normal, orderDate: \"2018-06-15\", lines: [{lineNumber: 1000, grossPrice: \"22.0\", product: \"A1-100/0\", salesUnit: \"UN\", quantityInSalesUnitOrdered: \"1.0\"}]}) { id lines { edges { node { lineNumber sequenceNumber product { code } } } } } } } } }")
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"]["sage"]["x3Sales"]["salesOrder"]["create"]["id"],
        "GRAPHQLDEMO"
    );
    // The current schema's roots are not there, and the reverse.
    let (status, body) = x3
        .gql("{ sage { x3XXXX { salesOrder { edges { node { id } } } } } }")
        .await;
    assert_eq!(status, 400);
    assert_gql_error(&body, "on type \"sageQuery\"");
    let (status, _) = x3
        .gql("{ xtremX3MasterData { customer { query { edges { node { code } } } } } }")
        .await;
    assert_eq!(status, 400);
    x3.sandbox.stop().await;
}

#[tokio::test]
async fn graphql_delta_field_variants() {
    let x3 = X3::start(Seed::Demo).await;
    for (variant, name) in [
        ("_updateStamp", "_updateStamp"),
        ("updatedDate", "updatedDate"),
        ("modifiedDateTime", "modifiedDateTime"),
    ] {
        x3.variants(json!({ "delta_field": variant })).await;
        let (status, body) = x3
            .gql(&format!(
                "{{ xtremX3MasterData {{ customer {{ read(_id: \"US001\") {{ {name} }} }} }} }}"
            ))
            .await;
        assert_eq!(status, 200, "{variant}: {body}");
        assert!(body["data"]["xtremX3MasterData"]["customer"]["read"][name]
            .as_str()
            .unwrap()
            .ends_with('Z'));
        // Only the chosen name exists.
        let other = if name == "updatedDate" {
            "modifiedDateTime"
        } else {
            "updatedDate"
        };
        let (status, _) = x3
            .gql(&format!(
                "{{ xtremX3MasterData {{ customer {{ read(_id: \"US001\") {{ {other} }} }} }} }}"
            ))
            .await;
        assert_eq!(status, 400, "{variant}");
    }
    x3.sandbox.stop().await;
}

#[tokio::test]
async fn client_credentials_option() {
    let x3 = X3::start(Seed::Demo).await;
    let token_url = format!("{}v1/token", x3.base);
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", x3.m["client_id"].as_str().unwrap()),
        ("client_secret", x3.m["secret"].as_str().unwrap()),
    ];
    let r = x3.client.post(&token_url).form(&form).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let token: Value = r.json().await.unwrap();
    assert_eq!(token["expires_in"], 300, "5-minute tokens (seed page)");
    let access = token["access_token"].as_str().unwrap().to_string();
    let r = x3
        .client
        .post(format!("{}v1/service/{}/api", x3.base, x3.s("endpoint")))
        .bearer_auth(&access)
        .json(&json!({ "query": "{ xtremX3MasterData { customer { read(_id: \"US001\") { code } } } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (status, body, _) = x3
        .send(x3.client.post(&token_url).form(&[
            ("grant_type", "password"),
            ("client_id", "a"),
            ("client_secret", "b"),
        ]))
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["$message"], "Invalid grant type");
    let (status, body, _) = x3
        .send(
            x3.client
                .post(&token_url)
                .form(&[("grant_type", "client_credentials")]),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["$message"], "Missing required request parameters");
    let wrong = [form[0], form[1], ("client_secret", "nope")];
    let (status, body, _) = x3.send(x3.client.post(&token_url).form(&wrong)).await;
    assert_eq!(status, 401);
    assert_eq!(body, json!({ "message": "Unauthorised" }));
    x3.variants(json!({ "client_credentials": false })).await;
    assert_eq!(
        x3.client
            .post(&token_url)
            .form(&form)
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let (status, _) = x3
        .gql_with(
            Some(&access),
            Some(&x3.s("endpoint")),
            "{ __typename }",
            json!({}),
        )
        .await;
    assert_eq!(
        status, 401,
        "issued tokens stop working with the option off"
    );
    x3.sandbox.stop().await;
}

#[tokio::test]
async fn injected_faults_and_the_manifest() {
    let x3 = X3::start(Seed::Empty).await;
    for k in ["user", "password", "endpoint", "client_id", "secret"] {
        assert!(x3.m[k].as_str().is_some_and(|v| !v.is_empty()), "{k}");
    }
    let (status, page) = x3.api1(CUSTOMERS).await;
    assert_eq!(status, 200);
    assert_eq!(page["$resources"], json!([]));
    x3.sandbox.world().faults.add(
        serde_json::from_value(
            json!({ "system": "sagex3", "type": "status", "status": 503, "times": 1 }),
        )
        .unwrap(),
    );
    let (status, body) = x3.api1(CUSTOMERS).await;
    assert_eq!(status, 503);
    assert_api1_error(&body);
    // The facts give X3 no rate limit; an injected one answers 429 in X3's shape.
    x3.sandbox.world().faults.add(
        serde_json::from_value(
            json!({ "system": "sagex3", "type": "rate_limit", "retry_after_secs": 4, "times": 1 }),
        )
        .unwrap(),
    );
    let (status, body, headers) = x3
        .send(
            x3.client
                .get(x3.api1_url(CUSTOMERS))
                .basic_auth(x3.s("user"), Some(x3.s("password"))),
        )
        .await;
    assert_eq!(status, 429);
    assert_eq!(headers["retry-after"], "4");
    assert_api1_error(&body);
    // Writes are logged by the core.
    let customer = json!({ "BPCNUM": "C1", "BPCNAM": "One" });
    assert_eq!(
        x3.api1_post("BPCUSTOMER?representation=BPCUSTOMER.$create", &customer)
            .await
            .0,
        201
    );
    let received: Value = reqwest::get(format!(
        "http://{}/_sandbox/sagex3/received",
        x3.sandbox.addr()
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(received.as_array().unwrap().len(), 1);
    x3.sandbox.stop().await;
}

#[tokio::test]
async fn customers_are_updated_through_api1_and_graphql() {
    let x3 = X3::start(Seed::Demo).await;
    x3.control("clock", json!({ "now": "2031-02-03T04:05:06Z" }))
        .await;
    let (status, c, _) = x3
        .send(
            x3.client
                .put(x3.api1_url("BPCUSTOMER('US010')?representation=BPCUSTOMER.$edit"))
                .basic_auth(x3.s("user"), Some(x3.s("password")))
                .json(&json!({ "WEB": "new@example.com", "CTY": "Montreal" })),
        )
        .await;
    assert_eq!(status, 200, "{c}");
    assert_eq!(c["WEB"], "new@example.com");
    assert_eq!(c["UPDDATTIM"], "2031-02-03T04:05:06Z");
    assert!(
        c["BPCNAM"].as_str().is_some_and(|n| !n.is_empty()),
        "other fields kept"
    );
    let (status, body) = x3
        .gql("mutation { xtremX3MasterData { customer { update(_id: \"US010\", data: {companyName: \"Renamed Ltd\", defaultAddress: {zip: \"H2X 1Y4\"}}) { code companyName defaultAddress { zip email } } } } }")
        .await;
    assert_eq!(status, 200, "{body}");
    let u = &body["data"]["xtremX3MasterData"]["customer"]["update"];
    assert_eq!(u["companyName"], "Renamed Ltd");
    assert_eq!(u["defaultAddress"]["email"], "new@example.com");
    let (_, c) = x3
        .api1("BPCUSTOMER('US010')?representation=BPCUSTOMER.$details")
        .await;
    assert_eq!(c["POSCOD"], "H2X 1Y4");
    x3.sandbox.stop().await;
}

#[tokio::test]
async fn previous_and_last_links_and_graphql_over_get() {
    let x3 = X3::start(Seed::Demo).await;
    let (_, first) = x3.api1(&format!("{CUSTOMERS}&count=10")).await;
    assert!(first["$links"].get("$previous").is_none());
    let (_, second) = x3
        .get_url(first["$links"]["$next"]["$url"].as_str().unwrap())
        .await;
    let (_, back) = x3
        .get_url(second["$links"]["$previous"]["$url"].as_str().unwrap())
        .await;
    assert_eq!(back["$resources"], first["$resources"]);
    let (_, last) = x3
        .get_url(first["$links"]["$last"]["$url"].as_str().unwrap())
        .await;
    assert_eq!(last["$resources"][9]["BPCNUM"], "US300");
    assert!(last["$links"].get("$next").is_none());

    let r = x3
        .client
        .get(format!("{}xtrem/api", x3.base))
        .query(&[(
            "query",
            "{ xtremX3MasterData { customer { read(_id: \"US001\") { code } } } }",
        )])
        .bearer_auth(x3.jwt())
        .header("x-xtrem-endpoint", x3.s("endpoint"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["data"]["xtremX3MasterData"]["customer"]["read"]["code"],
        "US001"
    );
    x3.sandbox.stop().await;
}

#[tokio::test]
async fn the_older_url_form() {
    let x3 = X3::start(Seed::Demo).await;
    // Facts §2.1 [X3-REQ]: `.../api1/x3/$$prod/DEMO.BPCUSTOMER?representation=BPCUSTOMER.$query&count=20&orderBy=BPCNAM desc`.
    let url = format!(
        "{}api1/x3/$$prod/{}.BPCUSTOMER?representation=BPCUSTOMER.$query&count=20&orderBy=BPCNAM%20desc",
        x3.base,
        x3.s("endpoint")
    );
    let (status, page) = x3.get_url(&url).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["$resources"].as_array().unwrap().len(), 20);
    let (status, _) = x3
        .get_url(&format!(
            "{}api1/x3/$$prod/NOSUCH.BPCUSTOMER?representation=BPCUSTOMER.$query",
            x3.base
        ))
        .await;
    assert_eq!(status, 404);
    x3.sandbox.stop().await;
}
