//! Contract tests for the Sage 100 simulator, from `shared/systems/sage.md`
//! §3 and the Sage 100 seed page: eBusiness Web Services (SOAP 1.1, WSDL,
//! `Logon` + `companyCode` on every call, SOAP Faults) and the local agent
//! (JSON behind an API key), over real HTTP.

use mlc_sandbox::{Sandbox, SandboxOptions, Seed};
use serde_json::{json, Value};

const NS: &str = "http://sage.com/ebusinesswebservices";

async fn demo() -> Sandbox {
    Sandbox::start(SandboxOptions {
        seed: Seed::Demo,
        ..Default::default()
    })
    .await
    .unwrap()
}

fn manifest(sandbox: &Sandbox) -> Value {
    sandbox.manifest()["sage100"].clone()
}

fn control(sandbox: &Sandbox, path: &str) -> String {
    format!("http://{}/_sandbox/sage100{path}", sandbox.addr())
}

/// The text of the first `<name>` (any prefix) in `xml`.
fn tag(xml: &str, name: &str) -> Option<String> {
    let mut rest = xml;
    loop {
        let at = rest.find('<')?;
        rest = &rest[at + 1..];
        let end = rest.find(['>', ' ', '/'])?;
        let found = &rest[..end];
        let local = found.rsplit(':').next().unwrap_or(found);
        if local == name {
            let open_end = rest.find('>')?;
            if rest[..open_end].ends_with('/') {
                return Some(String::new());
            }
            let body = &rest[open_end + 1..];
            let close = body.find(&format!("</{found}>"))?;
            return Some(body[..close].to_string());
        }
    }
}

fn logon(m: &Value) -> String {
    format!(
        "<logon><Username>{}</Username><Password>{}</Password></logon><companyCode>{}</companyCode>",
        m["username"].as_str().unwrap(),
        m["password"].as_str().unwrap().replace('&', "&amp;"),
        m["company_code"].as_str().unwrap()
    )
}

/// Posts one SOAP 1.1 call; returns the status and body.
async fn soap(url: &str, operation: &str, inner: &str) -> (u16, String) {
    let envelope = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\
         <soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:e=\"{NS}\">\
         <soapenv:Body><e:{operation}>{}</e:{operation}></soapenv:Body></soapenv:Envelope>",
        inner.replace('<', "<e:").replace("<e:/", "</e:")
    );
    let response = reqwest::Client::new()
        .post(url)
        .header("Content-Type", "text/xml; charset=utf-8")
        .header(
            "SOAPAction",
            format!("\"{NS}/IeBusinessWebService/{operation}\""),
        )
        .body(envelope)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

fn fault_string(body: &str) -> String {
    assert!(tag(body, "Fault").is_some(), "not a SOAP Fault: {body}");
    tag(body, "faultstring").unwrap_or_default()
}

#[tokio::test]
async fn the_wsdl_is_published_at_the_service_url() {
    let sandbox = demo().await;
    let m = manifest(&sandbox);
    let base = m["base_url"].as_str().unwrap();
    assert_eq!(m["wsdl_url"], format!("{base}?wsdl"));
    let response = reqwest::get(m["wsdl_url"].as_str().unwrap()).await.unwrap();
    assert_eq!(response.status(), 200);
    let wsdl = response.text().await.unwrap();
    for op in [
        "GetContractInformation",
        "GetSalesOrder",
        "CreateSalesOrder",
        "UpdateSalesOrder",
        "GetNextSalesOrderNo",
        "GetSalesOrderTemplate",
        "PreviewSalesOrder",
        "GetCustomer",
        "CreateCustomer",
        "UpdateCustomer",
        "GetNextCustomerNo",
    ] {
        assert!(
            wsdl.contains(&format!("<wsdl:operation name=\"{op}\">")),
            "{op}"
        );
    }
    // The names end in No, not Number (facts §3.1).
    assert!(!wsdl.contains("SalesOrderNumber"));
    assert!(wsdl.contains("name=\"Logon\""));
    assert!(wsdl.contains(&format!("<soap:address location=\"{base}\"/>")));
    sandbox.stop().await;
}

#[tokio::test]
async fn contract_information_gives_the_null_date_time() {
    let sandbox = demo().await;
    let base = manifest(&sandbox)["base_url"].as_str().unwrap().to_string();
    let (status, body) = soap(&base, "GetContractInformation", "").await;
    assert_eq!(status, 200, "{body}");
    assert!(tag(&body, "ContractVersion")
        .unwrap()
        .parse::<i32>()
        .is_ok());
    assert!(!tag(&body, "AssemblyVersion").unwrap().is_empty());
    assert!(tag(&body, "NullDateTime").unwrap().contains('T'));
    sandbox.stop().await;
}

#[tokio::test]
async fn every_call_signs_on_with_its_logon_and_company() {
    let sandbox = demo().await;
    let m = manifest(&sandbox);
    let base = m["base_url"].as_str().unwrap();
    let args = format!(
        "{}<arDivisionNo>01</arDivisionNo><customerNo>0002000</customerNo>",
        logon(&m)
    );
    let (status, body) = soap(base, "GetCustomer", &args).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(tag(&body, "CustomerNo").unwrap(), "0002000");
    assert_eq!(tag(&body, "ARDivisionNo").unwrap(), "01");
    assert!(tag(&body, "EmailAddress").unwrap().contains('@'));
    assert!(tag(&body, "CustomerName").unwrap().chars().count() <= 30);

    // Wrong password: a SOAP Fault (HTTP 500, s:Client).
    let wrong = args.replace(m["password"].as_str().unwrap(), "nope");
    let (status, body) = soap(base, "GetCustomer", &wrong).await;
    assert_eq!(status, 500);
    assert!(
        tag(&body, "faultcode").unwrap().ends_with("Client"),
        "{body}"
    );
    assert!(
        fault_string(&body).contains("user name or password"),
        "{body}"
    );

    // Unknown company code.
    let other = args.replace(
        "<companyCode>ABC</companyCode>",
        "<companyCode>XYZ</companyCode>",
    );
    let (status, body) = soap(base, "GetCustomer", &other).await;
    assert_eq!(status, 500);
    assert!(fault_string(&body).contains("XYZ"), "{body}");

    // No logon at all.
    let (status, body) = soap(base, "GetCustomer", "<companyCode>ABC</companyCode>").await;
    assert_eq!(status, 500);
    assert!(!fault_string(&body).is_empty());

    // Unknown customer.
    let missing = args.replace("0002000", "NOSUCH");
    let (status, body) = soap(base, "GetCustomer", &missing).await;
    assert_eq!(status, 500);
    assert!(fault_string(&body).contains("NOSUCH"), "{body}");
    sandbox.stop().await;
}

#[tokio::test]
async fn web_services_must_be_enabled_at_system_company_and_user_level() {
    let sandbox = demo().await;
    let m = manifest(&sandbox);
    let base = m["base_url"].as_str().unwrap();
    let client = reqwest::Client::new();
    let args = format!(
        "{}<arDivisionNo>01</arDivisionNo><customerNo>0002001</customerNo>",
        logon(&m)
    );
    for setting in ["system_web_services", "company_web_services"] {
        client
            .post(control(&sandbox, "/settings"))
            .json(&json!({ setting: false }))
            .send()
            .await
            .unwrap();
        let (status, body) = soap(base, "GetCustomer", &args).await;
        assert_eq!(status, 500, "{setting}");
        assert!(fault_string(&body).contains("not enabled"), "{body}");
        client
            .post(control(&sandbox, "/settings"))
            .json(&json!({ setting: true }))
            .send()
            .await
            .unwrap();
    }
    let user = json!([{
        "username": m["username"], "password": m["password"], "web_services_enabled": false
    }]);
    client
        .post(control(&sandbox, "/users"))
        .json(&user)
        .send()
        .await
        .unwrap();
    let (status, body) = soap(base, "GetCustomer", &args).await;
    assert_eq!(status, 500);
    assert!(
        fault_string(&body).contains("not enabled for Web Services"),
        "{body}"
    );

    // Role tasks: a user without Sales Order Create cannot create.
    let user = json!([{
        "username": m["username"], "password": m["password"],
        "denied_tasks": ["sales_order_create"]
    }]);
    client
        .post(control(&sandbox, "/users"))
        .json(&user)
        .send()
        .await
        .unwrap();
    let (status, _) = soap(base, "GetCustomer", &args).await;
    assert_eq!(status, 200);
    let (status, body) = soap(base, "GetNextSalesOrderNo", &logon(&m)).await;
    assert_eq!(status, 500);
    assert!(fault_string(&body).contains("security rights"), "{body}");
    sandbox.stop().await;
}

#[tokio::test]
async fn customers_are_created_read_and_updated() {
    let sandbox = demo().await;
    let m = manifest(&sandbox);
    let base = m["base_url"].as_str().unwrap();
    let (status, body) = soap(
        base,
        "GetNextCustomerNo",
        &format!("{}<arDivisionNo>01</arDivisionNo>", logon(&m)),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let next = tag(&body, "GetNextCustomerNoResult").unwrap();
    assert_eq!(next, "0002300");

    let customer = "<customer><ARDivisionNo>01</ARDivisionNo><CustomerNo>WEB0001</CustomerNo>\
        <CustomerName>Ada Lovelace</CustomerName><City>Irvine</City><State>CA</State>\
        <EmailAddress>ada@example.com</EmailAddress></customer>";
    let (status, body) = soap(base, "CreateCustomer", &format!("{}{customer}", logon(&m))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(tag(&body, "CreateCustomerResult").unwrap(), "WEB0001");
    // Creating it again is refused.
    let (status, body) = soap(base, "CreateCustomer", &format!("{}{customer}", logon(&m))).await;
    assert_eq!(status, 500);
    assert!(fault_string(&body).contains("already exists"));

    let update = "<customer><ARDivisionNo>01</ARDivisionNo><CustomerNo>WEB0001</CustomerNo>\
        <TelephoneNo>(949) 555-0000</TelephoneNo></customer>";
    let (status, body) = soap(base, "UpdateCustomer", &format!("{}{update}", logon(&m))).await;
    assert_eq!(status, 200, "{body}");
    let get = format!(
        "{}<arDivisionNo>01</arDivisionNo><customerNo>WEB0001</customerNo>",
        logon(&m)
    );
    let (_, body) = soap(base, "GetCustomer", &get).await;
    assert_eq!(tag(&body, "TelephoneNo").unwrap(), "(949) 555-0000");
    assert_eq!(tag(&body, "EmailAddress").unwrap(), "ada@example.com");

    // A name longer than its 30-character column is refused...
    let long = "<customer><CustomerNo>WEB0002</CustomerNo><CustomerName>A name that is far too long for Sage</CustomerName></customer>";
    let (status, body) = soap(base, "CreateCustomer", &format!("{}{long}", logon(&m))).await;
    assert_eq!(status, 500);
    assert!(fault_string(&body).contains("CustomerName"), "{body}");
    // ...or cut, in the truncate variant.
    reqwest::Client::new()
        .post(control(&sandbox, "/settings"))
        .json(&json!({"truncate_long_values": true}))
        .send()
        .await
        .unwrap();
    let (status, body) = soap(base, "CreateCustomer", &format!("{}{long}", logon(&m))).await;
    assert_eq!(status, 200, "{body}");
    let get = get.replace("WEB0001", "WEB0002");
    let (_, body) = soap(base, "GetCustomer", &get).await;
    assert_eq!(tag(&body, "CustomerName").unwrap().chars().count(), 30);
    sandbox.stop().await;
}

const ORDER: &str = "<salesOrder><SalesOrderNo>{NO}</SalesOrderNo><OrderDate>2025-03-01T00:00:00</OrderDate>\
    <ARDivisionNo>01</ARDivisionNo><CustomerNo>0002005</CustomerNo><CustomerPONo>WEB-5001</CustomerPONo>\
    <Lines><SalesOrderLine><ItemCode>A1-100/0</ItemCode><QuantityOrdered>2</QuantityOrdered><UnitPrice>10.25</UnitPrice></SalesOrderLine>\
    <SalesOrderLine><ItemCode>A2-150/0</ItemCode><QuantityOrdered>1</QuantityOrdered></SalesOrderLine></Lines></salesOrder>";

#[tokio::test]
async fn sales_orders_are_created_with_a_number_and_read_back() {
    let sandbox = demo().await;
    let m = manifest(&sandbox);
    let base = m["base_url"].as_str().unwrap();
    let (status, body) = soap(base, "GetNextSalesOrderNo", &logon(&m)).await;
    assert_eq!(status, 200, "{body}");
    let number = tag(&body, "GetNextSalesOrderNoResult").unwrap();
    assert_eq!(number.len(), 7);

    let order = ORDER.replace("{NO}", &number);
    let (status, body) = soap(base, "CreateSalesOrder", &format!("{}{order}", logon(&m))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(tag(&body, "CreateSalesOrderResult").unwrap(), number);

    let get = format!("{}<salesOrderNo>{number}</salesOrderNo>", logon(&m));
    let (status, body) = soap(base, "GetSalesOrder", &get).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(tag(&body, "SalesOrderNo").unwrap(), number);
    assert_eq!(tag(&body, "CustomerPONo").unwrap(), "WEB-5001");
    assert_eq!(tag(&body, "OrderDate").unwrap(), "2025-03-01T00:00:00");
    assert_eq!(tag(&body, "ItemCode").unwrap(), "A1-100/0");
    assert_eq!(tag(&body, "ExtensionAmt").unwrap(), "20.5");
    assert_eq!(body.matches("<SalesOrderLine>").count(), 2);

    // The same number again is refused: a retry after a lost answer is
    // found by GetSalesOrder first (the seed's GET-before-create).
    let (status, body) = soap(base, "CreateSalesOrder", &format!("{}{order}", logon(&m))).await;
    assert_eq!(status, 500);
    assert!(fault_string(&body).contains("already exists"));

    // A blank number takes the next one.
    let blank = ORDER.replace("{NO}", "");
    let (status, body) = soap(base, "CreateSalesOrder", &format!("{}{blank}", logon(&m))).await;
    assert_eq!(status, 200, "{body}");
    assert_ne!(tag(&body, "CreateSalesOrderResult").unwrap(), number);

    // An unknown item, a missing order.
    let bad = ORDER.replace("{NO}", "").replace("A2-150/0", "ZZ-999/9");
    let (status, body) = soap(base, "CreateSalesOrder", &format!("{}{bad}", logon(&m))).await;
    assert_eq!(status, 500);
    assert!(fault_string(&body).contains("ZZ-999/9"));
    let (status, body) = soap(
        base,
        "GetSalesOrder",
        &format!("{}<salesOrderNo>9999999</salesOrderNo>", logon(&m)),
    )
    .await;
    assert_eq!(status, 500);
    assert!(fault_string(&body).contains("9999999"));

    // Update: the comment changes, the lines stay.
    let update = format!("<salesOrder><SalesOrderNo>{number}</SalesOrderNo><Comment>Leave at door</Comment></salesOrder>");
    let (status, body) = soap(base, "UpdateSalesOrder", &format!("{}{update}", logon(&m))).await;
    assert_eq!(status, 200, "{body}");
    let (_, body) = soap(base, "GetSalesOrder", &get).await;
    assert_eq!(tag(&body, "Comment").unwrap(), "Leave at door");
    assert_eq!(body.matches("<SalesOrderLine>").count(), 2);

    // The accepted writes are in the received log.
    let received: Value = reqwest::get(format!(
        "http://{}/_sandbox/sage100/received",
        sandbox.addr()
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let creates = received
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| {
            w["body"]
                .as_str()
                .unwrap_or("")
                .contains("CreateSalesOrder>")
        })
        .count();
    assert_eq!(creates, 2);
    sandbox.stop().await;
}

#[tokio::test]
async fn preview_and_template_do_not_write() {
    let sandbox = demo().await;
    let m = manifest(&sandbox);
    let base = m["base_url"].as_str().unwrap();
    let (status, body) = soap(base, "GetSalesOrderTemplate", &logon(&m)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(tag(&body, "ARDivisionNo").unwrap(), "01");
    let before = reqwest::get(control(&sandbox, "/orders"))
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let order = ORDER.replace("{NO}", "");
    let (status, body) = soap(base, "PreviewSalesOrder", &format!("{}{order}", logon(&m))).await;
    assert_eq!(status, 200, "{body}");
    assert!(tag(&body, "NonTaxableAmt").unwrap().parse::<f64>().unwrap() > 20.5);
    let after = reqwest::get(control(&sandbox, "/orders"))
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(
        before.as_array().unwrap().len(),
        after.as_array().unwrap().len()
    );
    sandbox.stop().await;
}

#[tokio::test]
async fn faults_can_hide_everything_behind_an_exception_occurred() {
    let sandbox = demo().await;
    let m = manifest(&sandbox);
    let base = m["base_url"].as_str().unwrap();
    reqwest::Client::new()
        .post(control(&sandbox, "/settings"))
        .json(&json!({"hide_fault_details": true}))
        .send()
        .await
        .unwrap();
    let (status, body) = soap(
        base,
        "GetSalesOrder",
        &format!("{}<salesOrderNo>9999999</salesOrderNo>", logon(&m)),
    )
    .await;
    assert_eq!(status, 500);
    assert_eq!(fault_string(&body), "An exception occurred.");
    sandbox.stop().await;
}

#[tokio::test]
async fn injected_faults_are_soap_faults() {
    let sandbox = demo().await;
    let m = manifest(&sandbox);
    let base = m["base_url"].as_str().unwrap();
    reqwest::Client::new()
        .post(format!("http://{}/_sandbox/faults", sandbox.addr()))
        .json(&json!({"system": "sage100", "type": "status", "status": 503, "times": 1}))
        .send()
        .await
        .unwrap();
    let (status, body) = soap(base, "GetNextSalesOrderNo", &logon(&m)).await;
    assert_eq!(status, 503);
    assert_eq!(fault_string(&body), "An exception occurred.");
    let (status, _) = soap(base, "GetNextSalesOrderNo", &logon(&m)).await;
    assert_eq!(status, 200);
    sandbox.stop().await;
}

#[tokio::test]
async fn the_binding_is_soap_1_1_and_the_action_must_match() {
    let sandbox = demo().await;
    let m = manifest(&sandbox);
    let base = m["base_url"].as_str().unwrap();
    let client = reqwest::Client::new();
    let response = client
        .post(base)
        .header("Content-Type", "application/soap+xml; charset=utf-8")
        .body("<Envelope/>")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);
    let response = client
        .post(base)
        .header("Content-Type", "text/xml; charset=utf-8")
        .header("SOAPAction", "\"urn:other/GetCustomer\"")
        .body(format!("<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body><GetNextSalesOrderNo xmlns=\"{NS}\">{}</GetNextSalesOrderNo></s:Body></s:Envelope>", logon(&m)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 500);
    assert!(fault_string(&response.text().await.unwrap()).contains("ContractFilter"));
    sandbox.stop().await;
}

#[tokio::test]
async fn a_stopped_app_pool_answers_503() {
    let sandbox = demo().await;
    let m = manifest(&sandbox);
    reqwest::Client::new()
        .post(control(&sandbox, "/settings"))
        .json(&json!({"app_pool_running": false}))
        .send()
        .await
        .unwrap();
    let (status, body) = soap(
        m["base_url"].as_str().unwrap(),
        "GetNextSalesOrderNo",
        &logon(&m),
    )
    .await;
    assert_eq!(status, 503);
    assert!(body.contains("Service Unavailable"));
    sandbox.stop().await;
}

// ---- the local agent (facts §3.2) ----

/// A client that trusts the agent's self-signed certificate, as an
/// integrator configures it after installing the agent.
fn agent_client(m: &Value) -> reqwest::Client {
    let pem = m["agent_certificate_pem"].as_str().unwrap();
    reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes()).unwrap())
        .build()
        .unwrap()
}

fn agent(m: &Value, path: &str) -> reqwest::RequestBuilder {
    agent_client(m)
        .get(format!("{}{path}", m["agent_base_url"].as_str().unwrap()))
        .header(
            m["agent_api_key_header"].as_str().unwrap(),
            m["agent_api_key"].as_str().unwrap(),
        )
}

#[tokio::test]
async fn the_agent_needs_its_api_key() {
    let sandbox = demo().await;
    let m = manifest(&sandbox);
    assert_eq!(m["agent_api_key_header"], "X-API-Key");
    let url = format!("{}/items", m["agent_base_url"].as_str().unwrap());
    assert!(url.starts_with("https://"), "{url}");
    let response = agent_client(&m).get(&url).send().await.unwrap();
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["success"], false);
    assert_eq!(body["errorCode"], "UNAUTHORIZED");
    let response = agent_client(&m)
        .get(&url)
        .header("X-API-Key", "wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let response = agent(&m, "/health").send().await.unwrap();
    assert_eq!(response.status(), 200);
    sandbox.stop().await;
}

#[tokio::test]
async fn the_agent_pages_items_prices_and_inventory() {
    let sandbox = demo().await;
    let m = manifest(&sandbox);
    let mut seen = 0;
    let mut page = 1;
    loop {
        let body: Value = agent(&m, &format!("/items?page={page}&pageSize=150"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(body["totalCount"], 400);
        let items = body["items"].as_array().unwrap();
        seen += items.len();
        if items.len() < 150 {
            break;
        }
        page += 1;
    }
    assert_eq!((seen, page), (400, 3));
    let item: Value = agent(&m, "/items/A1-100%2F0")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(item["itemCode"], "A1-100/0");
    assert!(item["standardUnitPrice"].as_f64().unwrap() > 0.0);
    assert!(item["itemCodeDesc"].is_string());
    let response = agent(&m, "/items/NOPE").send().await.unwrap();
    assert_eq!(response.status(), 404);

    // A price change bumps DateUpdated: a poll from then finds only it.
    let client = reqwest::Client::new();
    client
        .post(control(&sandbox, "/clock"))
        .json(&json!({"now": "2030-05-01T12:00:00"}))
        .send()
        .await
        .unwrap();
    client
        .post(control(&sandbox, "/prices"))
        .json(&json!([{"ItemCode": "A3-120/0", "StandardUnitPrice": 99.5}]))
        .send()
        .await
        .unwrap();
    client
        .post(control(&sandbox, "/quantities"))
        .json(&json!([{"ItemCode": "A4-101/0", "WarehouseCode": "000", "QuantityOnHand": 7}]))
        .send()
        .await
        .unwrap();
    let prices: Value = agent(&m, "/prices?updatedSince=2030-05-01T00:00:00")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        prices["prices"],
        json!([{"itemCode": "A3-120/0", "standardUnitPrice": 99.5,
        "suggestedRetailPrice": prices["prices"][0]["suggestedRetailPrice"],
        "dateUpdated": "2030-05-01", "timeUpdated": "12:00:00"}])
    );
    let stock: Value = agent(&m, "/inventory?updatedSince=2030-05-01")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let rows = stock["inventory"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["itemCode"], "A4-101/0");
    assert_eq!(rows[0]["warehouseCode"], "000");
    assert_eq!(rows[0]["quantityOnHand"], 7.0);
    sandbox.stop().await;
}

#[tokio::test]
async fn the_agent_finds_customers_and_creates_sales_orders() {
    let sandbox = demo().await;
    let m = manifest(&sandbox);
    let email = sandbox.world().sage100().customers[7]["EmailAddress"]
        .as_str()
        .unwrap()
        .to_string();
    let found: Value = agent(&m, &format!("/customers/search?email={email}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(found["totalCount"], 1);
    let number = found["customers"][0]["customerNumber"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(number, "01-0002007");
    assert_eq!(found["customers"][0]["arDivisionNo"], "01", "{found}");

    let url = format!("{}/sales-orders", m["agent_base_url"].as_str().unwrap());
    let client = agent_client(&m);
    let post = |body: Value| {
        client
            .post(&url)
            .header("X-API-Key", m["agent_api_key"].as_str().unwrap())
            .json(&body)
            .send()
    };
    let bad = post(json!({"CustomerNumber": number, "PONumber": "WEB-1",
        "Lines": [{"ItemCode": "A1-100/0", "Quantity": 1}, {"ItemCode": "BAD-1", "Quantity": 1}]}))
    .await
    .unwrap();
    assert_eq!(bad.status(), 400);
    let bad: Value = bad.json().await.unwrap();
    assert_eq!(bad["errorCode"], "INVALID_ITEM");
    assert_eq!(bad["invalidItems"], json!(["BAD-1"]));

    let ok: Value = post(
        json!({"customerNumber": number, "poNumber": "WEB-2", "warehouseCode": "001",
        "lines": [{"itemCode": "A1-100/0", "quantity": 3, "unitPrice": 5}]}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(ok["success"], true, "{ok}");
    let order_no = ok["salesOrderNumber"].as_str().unwrap();
    let order: Value = agent(&m, &format!("/sales-orders/{order_no}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(order["customerPONo"], "WEB-2");
    assert_eq!(order["lines"][0]["extensionAmt"], 15.0);
    assert_eq!(order["lines"][0]["warehouseCode"], "001");
    sandbox.stop().await;
}

#[tokio::test]
async fn the_agent_json_case_and_external_access_are_switchable() {
    let sandbox = demo().await;
    let m = manifest(&sandbox);
    let client = reqwest::Client::new();
    client
        .post(control(&sandbox, "/settings"))
        .json(&json!({"agent_json_case": "pascal"}))
        .send()
        .await
        .unwrap();
    let item: Value = agent(&m, "/item?itemCode=A1-100/0")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(item["ItemCode"], "A1-100/0");
    client
        .post(control(&sandbox, "/settings"))
        .json(&json!({"allow_external_access": false}))
        .send()
        .await
        .unwrap();
    let response = agent(&m, "/items").send().await.unwrap();
    assert_eq!(response.status(), 500);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["ErrorCode"], "COM_ERROR");
    sandbox.stop().await;
}

#[tokio::test]
async fn an_empty_company_has_no_data_and_reset_restores_the_demo() {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let m = manifest(&sandbox);
    let body: Value = agent(&m, "/items")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["totalCount"], 0);
    reqwest::Client::new()
        .post(control(&sandbox, "/reset"))
        .json(&json!({"seed": "demo"}))
        .send()
        .await
        .unwrap();
    let body: Value = agent(&m, "/customers/search")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["totalCount"], 300);
    sandbox.stop().await;
}

#[tokio::test]
async fn ssl_can_be_required_as_iis_does() {
    let sandbox = demo().await;
    let m = manifest(&sandbox);
    let base = m["base_url"].as_str().unwrap();
    reqwest::Client::new()
        .post(control(&sandbox, "/settings"))
        .json(&json!({"require_ssl": true}))
        .send()
        .await
        .unwrap();
    let (status, body) = soap(base, "GetNextSalesOrderNo", &logon(&m)).await;
    assert_eq!(status, 403);
    assert!(body.contains("403.4"));
    let response = reqwest::Client::new()
        .get(format!("{base}?wsdl"))
        .header("X-Forwarded-Proto", "https")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("location=\"https://"));
    sandbox.stop().await;
}

#[tokio::test]
async fn other_paths_are_iis_404s() {
    let sandbox = demo().await;
    let response = reqwest::get(format!(
        "http://{}/sage100/SageWebServices/other.svc",
        sandbox.addr()
    ))
    .await
    .unwrap();
    assert_eq!(response.status(), 404);
    sandbox.stop().await;
}

#[tokio::test]
async fn the_logon_user_member_is_switchable() {
    let sandbox = demo().await;
    let m = manifest(&sandbox);
    let base = m["base_url"].as_str().unwrap();
    reqwest::Client::new()
        .post(control(&sandbox, "/settings"))
        .json(&json!({"logon_user_element": "UserName"}))
        .send()
        .await
        .unwrap();
    let wsdl = reqwest::get(format!("{base}?wsdl"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(wsdl.contains("name=\"UserName\""));
    let (status, _) = soap(base, "GetNextSalesOrderNo", &logon(&m)).await;
    assert_eq!(status, 500, "<Username> is no longer read");
    let renamed = logon(&m).replace("Username>", "UserName>");
    let (status, body) = soap(base, "GetNextSalesOrderNo", &renamed).await;
    assert_eq!(status, 200, "{body}");
    sandbox.stop().await;
}

#[tokio::test]
async fn a_lost_answer_after_the_write_is_found_by_get_before_create() {
    let sandbox = demo().await;
    let m = manifest(&sandbox);
    let base = m["base_url"].as_str().unwrap();
    reqwest::Client::new()
        .post(format!("http://{}/_sandbox/faults", sandbox.addr()))
        .json(&json!({"system": "sage100", "type": "drop_after_write", "times": 1}))
        .send()
        .await
        .unwrap();
    // The stable number a web order maps to (the seed).
    let order = ORDER.replace("{NO}", "W001234");
    let envelope = format!(
        "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body><CreateSalesOrder xmlns=\"{NS}\">{}{order}</CreateSalesOrder></s:Body></s:Envelope>",
        logon(&m)
    );
    let lost = async {
        reqwest::Client::new()
            .post(base)
            .header("Content-Type", "text/xml; charset=utf-8")
            .body(envelope)
            .send()
            .await?
            .text()
            .await
    }
    .await;
    assert!(lost.is_err(), "the answer was lost");
    let (status, body) = soap(
        base,
        "GetSalesOrder",
        &format!("{}<salesOrderNo>W001234</salesOrderNo>", logon(&m)),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(tag(&body, "CustomerPONo").unwrap(), "WEB-5001");
    // The order is on the books: its quantities are committed.
    let stock: Value = agent(&m, "/inventory?itemCode=A1-100/0&warehouseCode=000")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stock["inventory"][0]["quantityOnSalesOrder"], 2.0);
    sandbox.stop().await;
}

#[tokio::test]
async fn the_agent_answers_over_https_only_with_its_own_certificate() {
    let sandbox = demo().await;
    let m = manifest(&sandbox);
    let url = format!("{}/health", m["agent_base_url"].as_str().unwrap());
    let key = m["agent_api_key"].as_str().unwrap();
    // A client that does not trust the self-signed certificate cannot connect.
    let untrusted = reqwest::Client::new()
        .get(&url)
        .header("X-API-Key", key)
        .send()
        .await;
    assert!(
        untrusted.is_err(),
        "a self-signed certificate must not be trusted by default"
    );
    // The same path over plain HTTP is refused.
    let plain = format!("http://{}/sage100/agent/api/v1/health", sandbox.addr());
    let response = reqwest::Client::new()
        .get(&plain)
        .header("X-API-Key", key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errorCode"], "HTTPS_REQUIRED");
    assert_eq!(agent(&m, "/health").send().await.unwrap().status(), 200);
    sandbox.stop().await;
}
