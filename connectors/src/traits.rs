//! The traits every ERP and storefront connector implements.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use mlc_domain::mapping::{ErpCreditNote, ErpCustomer, ErpItemState, ErpOrder};
use mlc_domain::model::{Customer, Email, Order, Refund, Sku};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::ConnectorError;

/// An ERP: where orders, customers and credit notes go, and where prices and
/// stock come from.
#[async_trait]
pub trait Erp: Send + Sync {
    /// The system's name for messages, e.g. "Sage 300".
    fn system(&self) -> &'static str;

    /// Reads something cheap with the credentials: proves URL, company and
    /// credentials are right, or says in the ERP's words what is wrong.
    async fn ping(&self) -> Result<(), ConnectorError>;

    /// The number of the ERP customer with this e-mail address, if any.
    async fn find_customer_by_email(&self, email: &Email)
        -> Result<Option<String>, ConnectorError>;

    /// Whether a customer with this number exists.
    async fn customer_exists(&self, number: &str) -> Result<bool, ConnectorError>;

    /// Creates the customer under `customer.number`; returns that number.
    async fn create_customer(&self, customer: &ErpCustomer) -> Result<String, ConnectorError>;

    /// Updates the existing customer `customer.number` (name, contact,
    /// address, phone, e-mail).
    async fn update_customer(&self, customer: &ErpCustomer) -> Result<(), ConnectorError>;

    /// Whether the item number exists in the ERP's item master.
    async fn item_exists(&self, item_number: &str) -> Result<bool, ConnectorError>;

    /// The ERP document number of the order posted with this reference, if
    /// any: the check before every create.
    async fn find_order(&self, reference: &str) -> Result<Option<String>, ConnectorError>;

    /// The exact request [`Erp::post_order`] would send, not sent.
    fn prepare_order(&self, order: &ErpOrder) -> Result<PreparedRequest, ConnectorError>;

    /// Creates the order; returns the ERP's document number. Callers look
    /// with [`Erp::find_order`] first whenever an earlier post of the same
    /// order may have been sent.
    async fn post_order(&self, order: &ErpOrder) -> Result<String, ConnectorError>;

    /// The ERP number of the credit note posted with this reference, if any.
    async fn find_credit_note(&self, reference: &str) -> Result<Option<String>, ConnectorError>;

    /// Creates the credit note; returns the ERP's document number.
    async fn post_credit_note(&self, note: &ErpCreditNote) -> Result<String, ConnectorError>;

    /// Every item whose record, price or quantities changed on or after
    /// `since` (all items when `None`), with its current price (on
    /// `price_list`, when given) and quantity available at `locations` (all
    /// when empty). Reads every page.
    async fn items_changed_since(
        &self,
        since: Option<NaiveDate>,
        price_list: Option<&str>,
        locations: &[String],
    ) -> Result<Vec<ErpItemState>, ConnectorError>;
}

/// A web store: where orders, refunds and customers come from, and where
/// prices and stock go.
#[async_trait]
pub trait Storefront: Send + Sync {
    /// The system's name for messages, e.g. "WooCommerce".
    fn system(&self) -> &'static str;

    /// Reads something cheap with the credentials.
    async fn ping(&self) -> Result<(), ConnectorError>;

    /// One order by its id in the store.
    async fn order(&self, source_id: &str) -> Result<Order, ConnectorError>;

    /// Every order modified after `after`, oldest first, all pages: the
    /// backfill of what webhooks missed.
    async fn orders_modified_after(
        &self,
        after: DateTime<Utc>,
    ) -> Result<Vec<Order>, ConnectorError>;

    /// The refunds of an order, with their lines.
    async fn refunds(&self, order_source_id: &str) -> Result<Vec<Refund>, ConnectorError>;

    /// One customer by its id in the store.
    async fn customer(&self, source_id: &str) -> Result<Customer, ConnectorError>;

    /// The store's products with these SKUs (those that exist).
    async fn products_by_sku(&self, skus: &[Sku]) -> Result<Vec<ChannelProduct>, ConnectorError>;

    /// Applies the updates, in the store's largest allowed batches.
    async fn update_products(&self, updates: &[ProductUpdate]) -> Result<(), ConnectorError>;

    /// The webhooks registered on the store.
    async fn webhooks(&self) -> Result<Vec<ChannelWebhook>, ConnectorError>;

    /// Registers a webhook for `topic` delivering to `delivery_url`, signed
    /// with `secret`.
    async fn create_webhook(
        &self,
        topic: &str,
        delivery_url: &str,
        secret: &str,
    ) -> Result<ChannelWebhook, ConnectorError>;

    /// Sets a disabled or paused webhook active again.
    async fn activate_webhook(&self, id: &str) -> Result<ChannelWebhook, ConnectorError>;
}

/// A product of the store, as far as price and stock sync needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChannelProduct {
    /// The store's product (or variation) id.
    pub id: String,
    /// For a variation, its parent product's id.
    pub parent_id: Option<String>,
    /// Its SKU.
    pub sku: Sku,
    /// Its regular price, if set.
    pub price: Option<Decimal>,
    /// Its stock quantity, if stock is managed.
    pub stock_quantity: Option<Decimal>,
}

/// A change to push to one product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProductUpdate {
    /// The product as the store knows it.
    pub product: ChannelProduct,
    /// The new regular price, if it changes.
    pub price: Option<Decimal>,
    /// The new stock quantity, if it changes.
    pub stock_quantity: Option<Decimal>,
}

/// A webhook registered on a store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChannelWebhook {
    /// The store's webhook id.
    pub id: String,
    /// Its topic, e.g. `order.created`.
    pub topic: String,
    /// Where it delivers.
    pub delivery_url: String,
    /// Whether it delivers.
    pub status: WebhookStatus,
}

/// Whether a store delivers a webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookStatus {
    /// Delivering.
    Active,
    /// Paused by the merchant.
    Paused,
    /// Disabled by the store after too many failed deliveries.
    Disabled,
}

/// An HTTP request as a connector would send it, for `preview`: credentials
/// are never included.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PreparedRequest {
    /// HTTP method.
    pub method: String,
    /// Full URL.
    pub url: String,
    /// Headers, with `Authorization` shown as `<redacted>`.
    pub headers: Vec<(String, String)>,
    /// The JSON body.
    pub body: serde_json::Value,
}
