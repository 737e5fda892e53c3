//! Typed ids of the documents an instance moves: `{instance}/{kind}/{source_id}`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{InstanceId, ValidationError};

/// Longest source id accepted; generous, as source systems use numbers, GUIDs
/// or composite keys.
const MAX_SOURCE_ID_LEN: usize = 200;

/// The kind of document an id points at; it is the middle part of a [`DocumentId`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DocumentKind {
    /// A sales order from a channel.
    Order,
    /// A customer.
    Customer,
    /// An item (product).
    Item,
    /// A shipment from a fulfilment system.
    Shipment,
}

impl DocumentKind {
    /// Every kind, in a stable order.
    pub const ALL: [DocumentKind; 4] = [
        DocumentKind::Order,
        DocumentKind::Customer,
        DocumentKind::Item,
        DocumentKind::Shipment,
    ];

    /// The kind as it appears in ids.
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::Order => "order",
            DocumentKind::Customer => "customer",
            DocumentKind::Item => "item",
            DocumentKind::Shipment => "shipment",
        }
    }
}

impl fmt::Display for DocumentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DocumentKind {
    type Err = ValidationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DocumentKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == s)
            .ok_or_else(|| {
                ValidationError::new(
                    "document kind",
                    s,
                    "must be one of order, customer, item, shipment",
                )
            })
    }
}

/// The stable id of one document of one instance, written
/// `{instance}/{kind}/{source_id}`, e.g. `woo-main/order/1042`.
///
/// It is the aggregate id of the document's stream. The source id is the id the
/// source system gave the document; it may itself contain '/', as parsing
/// splits off only the first two parts.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DocumentId {
    instance: InstanceId,
    kind: DocumentKind,
    source_id: String,
}

impl DocumentId {
    /// Builds an id, validating the source id (non-empty, no surrounding
    /// whitespace, no control characters, at most 200 characters).
    pub fn new(
        instance: InstanceId,
        kind: DocumentKind,
        source_id: impl Into<String>,
    ) -> Result<Self, ValidationError> {
        let source_id = source_id.into();
        let problem = |p: String| Err(ValidationError::new("source id", &source_id, p));
        if source_id.is_empty() {
            return problem("must not be empty".into());
        }
        if source_id.trim() != source_id {
            return problem("must not start or end with whitespace".into());
        }
        if source_id.chars().any(char::is_control) {
            return problem("must not contain control characters".into());
        }
        let len = source_id.chars().count();
        if len > MAX_SOURCE_ID_LEN {
            return problem(format!(
                "must be at most {MAX_SOURCE_ID_LEN} characters, got {len}"
            ));
        }
        Ok(Self {
            instance,
            kind,
            source_id,
        })
    }

    /// The id of order `source_id` of `instance`.
    pub fn order(
        instance: InstanceId,
        source_id: impl Into<String>,
    ) -> Result<Self, ValidationError> {
        Self::new(instance, DocumentKind::Order, source_id)
    }

    /// The id of customer `source_id` of `instance`.
    pub fn customer(
        instance: InstanceId,
        source_id: impl Into<String>,
    ) -> Result<Self, ValidationError> {
        Self::new(instance, DocumentKind::Customer, source_id)
    }

    /// The id of item `source_id` of `instance`.
    pub fn item(
        instance: InstanceId,
        source_id: impl Into<String>,
    ) -> Result<Self, ValidationError> {
        Self::new(instance, DocumentKind::Item, source_id)
    }

    /// The id of shipment `source_id` of `instance`.
    pub fn shipment(
        instance: InstanceId,
        source_id: impl Into<String>,
    ) -> Result<Self, ValidationError> {
        Self::new(instance, DocumentKind::Shipment, source_id)
    }

    /// The instance whose namespace holds the document.
    pub fn instance(&self) -> &InstanceId {
        &self.instance
    }

    /// What kind of document this is.
    pub fn kind(&self) -> DocumentKind {
        self.kind
    }

    /// The id the source system gave the document.
    pub fn source_id(&self) -> &str {
        &self.source_id
    }
}

impl fmt::Display for DocumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.instance, self.kind, self.source_id)
    }
}

impl FromStr for DocumentId {
    type Err = ValidationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut parts = s.splitn(3, '/');
        let (Some(instance), Some(kind), Some(source_id)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return Err(ValidationError::new(
                "document id",
                s,
                "must look like '{instance}/{kind}/{source_id}'",
            ));
        };
        let instance = InstanceId::new(instance)?;
        let kind = kind.parse()?;
        Self::new(instance, kind, source_id)
    }
}

impl TryFrom<String> for DocumentId {
    type Error = ValidationError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<DocumentId> for String {
    fn from(id: DocumentId) -> Self {
        id.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instance() -> InstanceId {
        InstanceId::new("woo-main").unwrap()
    }

    #[test]
    fn formats_and_parses_back() {
        for kind in DocumentKind::ALL {
            let id = DocumentId::new(instance(), kind, "1042").unwrap();
            let text = id.to_string();
            assert_eq!(text, format!("woo-main/{kind}/1042"));
            let parsed: DocumentId = text.parse().unwrap();
            assert_eq!(parsed, id);
            assert_eq!(parsed.instance().as_str(), "woo-main");
            assert_eq!(parsed.kind(), kind);
            assert_eq!(parsed.source_id(), "1042");
        }
    }

    #[test]
    fn source_id_may_contain_slashes() {
        let id: DocumentId = "x3/shipment/2026/05/A 1".parse().unwrap();
        assert_eq!(id.source_id(), "2026/05/A 1");
        assert_eq!(id.to_string(), "x3/shipment/2026/05/A 1");
    }

    #[test]
    fn parse_errors_name_the_problem() {
        let cases = [
            (
                "woo-main/order",
                "must look like '{instance}/{kind}/{source_id}'",
            ),
            ("woo-main", "must look like"),
            ("Woo/order/1", "invalid instance id 'Woo'"),
            ("woo/invoice/1", "invalid document kind 'invoice'"),
            ("woo/order/", "invalid source id '': must not be empty"),
            ("woo/order/ 1", "must not start or end with whitespace"),
        ];
        for (input, expected) in cases {
            let err = input.parse::<DocumentId>().unwrap_err();
            assert!(err.to_string().contains(expected), "{input:?}: {err}");
        }
        let long = DocumentId::order(instance(), "9".repeat(201)).unwrap_err();
        assert!(long.problem().contains("at most 200"), "{long}");
    }

    #[test]
    fn serializes_as_its_text_form() {
        let id = DocumentId::order(instance(), "7").unwrap();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, "\"woo-main/order/7\"");
        assert_eq!(serde_json::from_str::<DocumentId>(&json).unwrap(), id);
        assert!(serde_json::from_str::<DocumentId>("\"woo-main/nope/7\"").is_err());
    }
}
