//! The switches between documented variants (shared/systems/README.md rule 2)
//! and the sandbox's own decisions where the facts are silent (rule 4).
//! Read and changed through `GET`/`POST /_sandbox/sagex3/variants`.

use serde::{Deserialize, Serialize};

/// Which GraphQL schema generation is served (facts §2.2: "two schema
/// generations; check which one the target exposes").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Schema {
    /// V12 2022R4+ "xtrem": `xtremX3MasterData { customer { query(...) { edges { node } } } }`.
    #[default]
    Current,
    /// The older docs: `sage { x3Sales { salesOrder(filter: ...) { edges { node } } } }`.
    Legacy,
}

/// The name of the GraphQL change-detection field (facts §2.2: UNVERIFIED
/// among `updatedDate`, `modifiedDateTime`, `_updateStamp`; the seed page
/// names the first two). Only the chosen name is in the schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum DeltaField {
    /// `_updateStamp` (the xtrem system property; default).
    #[default]
    #[serde(rename = "_updateStamp")]
    UpdateStamp,
    /// `updatedDate`.
    #[serde(rename = "updatedDate")]
    UpdatedDate,
    /// `modifiedDateTime`.
    #[serde(rename = "modifiedDateTime")]
    ModifiedDateTime,
}

impl DeltaField {
    /// The field name.
    pub fn name(self) -> &'static str {
        match self {
            DeltaField::UpdateStamp => "_updateStamp",
            DeltaField::UpdatedDate => "updatedDate",
            DeltaField::ModifiedDateTime => "modifiedDateTime",
        }
    }
}

/// The variant options in force.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Variants {
    /// api1 page size when `count` is absent (facts §2.1: default 20).
    pub default_count: usize,
    /// The cap on `count` (facts §2.1: "the server may cap it";
    /// `$itemsPerPage` reports the size used).
    pub max_count: usize,
    /// `orderBy` separators accepted: `comma` (`A desc, B asc`, [X3-Q]),
    /// `semicolon` (`A;B Desc`, [X3-REQ]) or `both` (default).
    pub order_by_style: OrderByStyle,
    /// Collaboration-endpoint envelope (facts §2.1 [X3-GETQ]): adds `$url`,
    /// `$descriptor`, `$startIndex` and `$totalResults` to query answers.
    pub collaboration_envelope: bool,
    /// Whether the `$query` facets expose `UPDDATTIM` (facts §2.1: the
    /// audit column is UNVERIFIED; when off, only `CREDATTIM` is there and
    /// `where=UPDDATTIM ...` is a 500 like any unknown property).
    pub expose_upddattim: bool,
    /// The GraphQL schema generation.
    pub schema: Schema,
    /// The GraphQL delta field name.
    pub delta_field: DeltaField,
    /// Whether GraphQL mutations run (facts §2.2: Sage's sandbox is
    /// read-only; when off a mutation is refused).
    pub mutations: bool,
    /// HTTP status of a GraphQL answer carrying business errors in
    /// `errors[]` (facts §2.2: 200 as in standard GraphQL is UNVERIFIED;
    /// 400 is the other choice).
    pub business_error_status: u16,
    /// GraphQL page size when `first` is absent (decision: 20, as api1).
    pub graphql_default_first: usize,
    /// Seconds a JWT's `iat` may lie in the future before "error 21"
    /// (facts §2.2 [TIMO]: a token issued in the future is refused; default
    /// 0, so clients must back-date `iat` against skew themselves).
    pub clock_skew_secs: i64,
    /// The connected app's "Tokens validity" in seconds (facts §2.2,
    /// example 600): a JWT whose `exp - iat` exceeds it is refused.
    pub tokens_validity_secs: i64,
    /// Serve the seed page's OAuth2 client-credentials token route
    /// (`POST /v1/token`, 5-minute tokens). UNVERIFIED for X3 (facts §2.2
    /// [UNIFIED]); kept as a harmless option (README rule 3).
    pub client_credentials: bool,
}

/// How `orderBy` separates its keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum OrderByStyle {
    /// `,` or `;`.
    #[default]
    Both,
    /// Only `,` ([X3-Q]).
    Comma,
    /// Only `;` ([X3-REQ]).
    Semicolon,
}

impl Default for Variants {
    fn default() -> Self {
        Variants {
            default_count: 20,
            max_count: 200,
            order_by_style: OrderByStyle::Both,
            collaboration_envelope: false,
            expose_upddattim: true,
            schema: Schema::Current,
            delta_field: DeltaField::UpdateStamp,
            mutations: true,
            business_error_status: 200,
            graphql_default_first: 20,
            clock_skew_secs: 0,
            tokens_validity_secs: 600,
            client_credentials: true,
        }
    }
}
