//! The Sage 100 simulator, written from `shared/systems/sage.md` §3 and the
//! Sage 100 seed page:
//!
//! - **eBusiness Web Services** (§3.1): a SOAP 1.1 service with its WSDL at
//!   `{base}?wsdl` ([`BASE_PATH`]; the real path is UNVERIFIED). Stateless:
//!   every call carries a `Logon` (`Username`, `Password`) and a
//!   `companyCode` (the seed: "no token to refresh"). Customers and sales
//!   orders only (the seed: eBWS "covers only Sales Orders and Customers").
//!   Errors are SOAP Faults ([`soap`]).
//! - **The local agent** (§3.2): a JSON service wrapping the BOI, as the
//!   facts' UAFMiddleware example does, under `/sage100/agent/api/v1/` with
//!   an `X-API-Key` header: items, prices and warehouse quantities (which
//!   eBWS does not cover), customers and sales orders ([`agent`]). The real
//!   agent is HTTPS with an often self-signed certificate; the sandbox
//!   serves plain HTTP and does not simulate TLS.
//!
//! Sage 100 has no webhooks: changes are found by polling `DateUpdated`
//! (the seed). Controls are in [`control`].

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use crate::{Seed, World};

pub mod agent;
pub mod control;
pub mod model;
pub mod ops;
pub mod seed;
pub mod soap;
pub mod wsdl;
pub mod xml;

pub use model::Record;

/// The path under `/sage100` that a client takes as its base URL: the eBWS
/// service address (its WSDL is at `?wsdl`). The real path is UNVERIFIED
/// (facts §3.1, "configure it").
pub const BASE_PATH: &str = "/SageWebServices/eBusinessWebService.svc";

/// Where the local agent's API lives under `/sage100`.
pub const AGENT_PATH: &str = "/agent/api/v1";

/// The header that carries the agent's API key (decision: the facts name an
/// "agent API key" but not its header).
pub const API_KEY_HEADER: &str = "X-API-Key";

/// The WSDL's target namespace (decision: the real one is not in the facts).
pub const NAMESPACE: &str = "http://sage.com/ebusinesswebservices";

/// The demo company code (the facts' BOI sample uses `ABC`, Sage's demo
/// company).
pub const COMPANY_CODE: &str = "ABC";
/// The dedicated eBWS login (facts §3.1: one service login, because the
/// object cache is per user name).
pub const USERNAME: &str = "websvc";
/// Its password.
pub const PASSWORD: &str = "Web$ervice1";
/// The agent's API key.
pub const AGENT_API_KEY: &str = "s100-agent-7f3c9a1e5b2d4c68";
/// The AR division used when a request names none (facts §3.2: `"01"`).
pub const DEFAULT_DIVISION: &str = "01";
/// The warehouse used when an order names none.
pub const DEFAULT_WAREHOUSE: &str = "000";

/// The variant switches and the enablement levels, `GET`/`POST
/// /_sandbox/sage100/settings`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Library Master > System Configuration > Enable Web Services (facts
    /// §3.1: three levels; a missing one fails every call).
    pub system_web_services: bool,
    /// Company Maintenance > Enable Web Services.
    pub company_web_services: bool,
    /// The eBWS application pool is running; stopped (for maintenance,
    /// facts §3.1 [S100-CACHE]) every SOAP request is IIS's HTTP 503.
    pub app_pool_running: bool,
    /// Every fault says only "An exception occurred." (facts §3.1: eBWS hides
    /// unexpected exceptions; on, business and logon faults are hidden too).
    pub hide_fault_details: bool,
    /// A string longer than its column is cut instead of refused with a
    /// fault (decision: refused by default, as the BOI's `nSetValue` fails).
    pub truncate_long_values: bool,
    /// Company Maintenance > "Allow External Access" (facts §3.2): off, the
    /// agent's BOI session fails (`COM_ERROR`).
    pub allow_external_access: bool,
    /// The agent's JSON property names: `camel` (ASP.NET Core's default,
    /// `customerNo`) or `pascal` (as the facts write the C# models,
    /// `CustomerNo`). Input is matched case-insensitively either way.
    pub agent_json_case: JsonCase,
    /// Records per agent page, default (a client may ask up to 500).
    pub agent_page_size: usize,
    /// Refuse eBWS calls that did not come over HTTPS (facts §3.1: "must
    /// be used over SSL"), as IIS's 403.4. The sandbox listens on plain
    /// HTTP, so HTTPS means `X-Forwarded-Proto: https`. Off by default.
    pub require_ssl: bool,
    /// The `Logon` member that carries the user name (facts §3.1: the
    /// member names are UNVERIFIED): `Username` (default) or `UserName`.
    /// The WSDL advertises it and only it is read.
    pub logon_user_element: LogonUserElement,
}

/// The name of the user-name member of `Logon`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum LogonUserElement {
    /// `<Username>`.
    #[default]
    Username,
    /// `<UserName>`.
    UserName,
}

impl LogonUserElement {
    /// The element name.
    pub fn name(self) -> &'static str {
        match self {
            LogonUserElement::Username => "Username",
            LogonUserElement::UserName => "UserName",
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            system_web_services: true,
            company_web_services: true,
            app_pool_running: true,
            hide_fault_details: false,
            truncate_long_values: false,
            allow_external_access: true,
            agent_json_case: JsonCase::Camel,
            agent_page_size: 100,
            require_ssl: false,
            logon_user_element: LogonUserElement::Username,
        }
    }
}

/// Property-name style of the agent's JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum JsonCase {
    /// `customerNo`.
    #[default]
    Camel,
    /// `CustomerNo`.
    Pascal,
}

/// A Sage 100 user (User Maintenance).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// User logon (matched case-insensitively).
    pub username: String,
    /// Password (case-sensitive).
    pub password: String,
    /// User Maintenance > Enable Web Services.
    #[serde(default = "yes")]
    pub web_services_enabled: bool,
    /// Role tasks this user lacks, of `customer_view`, `customer_create`,
    /// `customer_modify`, `sales_order_view`, `sales_order_create`,
    /// `sales_order_modify` (facts §3.1: Create/Modify/Remove/View tasks).
    #[serde(default)]
    pub denied_tasks: Vec<String>,
}

fn yes() -> bool {
    true
}

/// A CI_Item record (read through the agent).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// `ItemCode` (the store's SKU).
    pub item_code: String,
    /// `ItemCodeDesc`.
    pub item_code_desc: String,
    /// `ItemType` (`1` regular).
    pub item_type: String,
    /// `ProductLine`.
    pub product_line: String,
    /// `StandardUnitOfMeasure`.
    pub standard_unit_of_measure: String,
    /// `StandardUnitPrice` (USD).
    pub standard_unit_price: f64,
    /// `SuggestedRetailPrice`.
    pub suggested_retail_price: f64,
    /// `StandardUnitCost`.
    pub standard_unit_cost: f64,
    /// `Weight` (lb).
    pub weight: f64,
    /// `InactiveItem` (`Y`/`N`).
    pub inactive_item: String,
    /// `DateCreated` + `TimeCreated`.
    pub created: NaiveDateTime,
    /// `DateUpdated` + `TimeUpdated` (bumped by a price change).
    pub updated: NaiveDateTime,
}

/// An IM_ItemWarehouse record: an item's quantities in one warehouse.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemWarehouse {
    /// `ItemCode`.
    pub item_code: String,
    /// `WarehouseCode`.
    pub warehouse_code: String,
    /// `QuantityOnHand`.
    pub quantity_on_hand: f64,
    /// `QuantityOnSalesOrder` (raised by each order line).
    pub quantity_on_sales_order: f64,
    /// `DateUpdated` + `TimeUpdated` (UNVERIFIED columns, facts §3.2).
    pub updated: NaiveDateTime,
}

/// The simulated Sage 100 installation: one company.
#[derive(Debug, Clone)]
pub struct State {
    /// Variants and enablement.
    pub settings: Settings,
    /// The company code.
    pub company_code: String,
    /// The users.
    pub users: Vec<User>,
    /// The agent's API key.
    pub agent_api_key: String,
    /// A fixed clock (tests), else the real time (UTC).
    pub now: Option<NaiveDateTime>,
    /// Warehouses: code and description.
    pub warehouses: Vec<(String, String)>,
    /// AR customers (eBWS `Customer` fields).
    pub customers: Vec<Record>,
    /// CI items.
    pub items: Vec<Item>,
    /// IM item-warehouse quantities.
    pub quantities: Vec<ItemWarehouse>,
    /// SO sales orders (eBWS `SalesOrder` fields).
    pub orders: Vec<Record>,
    /// The last sales order number handed out.
    pub last_sales_order_no: u64,
}

impl State {
    /// The company: demo data with [`Seed::Demo`] (see [`seed`]), none with
    /// [`Seed::Empty`] (the warehouses and the users are setup, kept).
    pub fn new(seed: Seed) -> State {
        let mut state = State {
            settings: Settings::default(),
            company_code: COMPANY_CODE.into(),
            users: vec![User {
                username: USERNAME.into(),
                password: PASSWORD.into(),
                web_services_enabled: true,
                denied_tasks: Vec::new(),
            }],
            agent_api_key: AGENT_API_KEY.into(),
            now: None,
            warehouses: vec![
                ("000".into(), "Central Warehouse".into()),
                ("001".into(), "East Warehouse".into()),
                ("002".into(), "West Warehouse".into()),
            ],
            customers: Vec::new(),
            items: Vec::new(),
            quantities: Vec::new(),
            orders: Vec::new(),
            last_sales_order_no: 0,
        };
        if seed == Seed::Demo {
            seed::populate(&mut state);
        }
        state
    }

    /// The current time.
    pub fn now(&self) -> NaiveDateTime {
        self.now.unwrap_or_else(|| chrono::Utc::now().naive_utc())
    }

    /// The current time as an `xs:dateTime`.
    pub fn now_text(&self) -> String {
        self.now().format("%Y-%m-%dT%H:%M:%S").to_string()
    }

    /// An item by code (case-insensitive, as Sage upper-cases item codes).
    pub fn item(&self, code: &str) -> Option<&Item> {
        self.items
            .iter()
            .find(|i| i.item_code.eq_ignore_ascii_case(code.trim()))
    }

    /// A customer by division and number.
    pub fn customer(&self, division: &str, number: &str) -> Option<&Record> {
        self.customers.iter().find(|c| {
            model::text(c, "ARDivisionNo") == division
                && model::text(c, "CustomerNo").eq_ignore_ascii_case(number.trim())
        })
    }

    /// A sales order by number.
    pub fn order(&self, number: &str) -> Option<&Record> {
        let number = ops::normalize_order_no(number);
        self.orders
            .iter()
            .find(|o| model::text(o, "SalesOrderNo") == number)
    }
}

/// The eBWS service and the agent's API, under `/sage100`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(BASE_PATH, web::get().to(soap::get))
        .route(BASE_PATH, web::post().to(soap::post))
        .service(web::scope(AGENT_PATH).configure(agent::routes))
        .route("/{tail:.*}", web::route().to(soap::not_found));
}

/// The control routes, under `/_sandbox/sage100` (see [`control`]).
pub fn control_routes(cfg: &mut web::ServiceConfig) {
    control::routes(cfg);
}

/// What a client needs besides the base URL (the eBWS service address):
/// the `Logon` and `companyCode` of every SOAP call, the WSDL's address,
/// and the agent's base URL and API key.
pub fn credentials(world: &World) -> serde_json::Value {
    let state = world.sage100();
    let base = world.base_url(crate::System::Sage100);
    let user = state.users.first();
    serde_json::json!({
        "username": user.map(|u| u.username.as_str()).unwrap_or_default(),
        "password": user.map(|u| u.password.as_str()).unwrap_or_default(),
        "company_code": state.company_code,
        "wsdl_url": format!("{base}?wsdl"),
        // The agent is reached over HTTPS only, with the self-signed
        // certificate a local install presents (facts §3.2).
        "agent_base_url": format!("{}/{}{AGENT_PATH}", world.tls_base(), crate::System::Sage100.prefix()),
        "agent_certificate_pem": world.tls_certificate_pem(),
        "agent_api_key": state.agent_api_key,
        "agent_api_key_header": API_KEY_HEADER,
    })
}

/// An error in eBWS's shape: a SOAP Fault saying "An exception occurred."
/// (facts §3.1), with `status` as the HTTP status.
pub fn error_response(status: StatusCode, message: &str) -> HttpResponse {
    let _ = message;
    let code = if status.is_client_error() {
        "Client"
    } else {
        "Server"
    };
    soap::Fault {
        code,
        message: soap::EXCEPTION_OCCURRED.into(),
        status,
    }
    .into_response()
}
