//! The switches between documented variants (shared/systems/README.md rule 2)
//! and the sandbox's own decisions where the facts are silent (rule 4).
//! Read and changed through `GET`/`POST /_sandbox/sage300/variants`.

use serde::{Deserialize, Serialize};

/// How the feed names its annotations (facts §1.6: the Developer Reference
/// sample shows `odata.count: "625"`, 2017+ servers and production code use
/// `@odata.count`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CountStyle {
    /// `@odata.context`, `@odata.count` (a number), `@odata.nextLink`.
    #[default]
    V4,
    /// `odata.context`, `odata.count` (a string, as in the sample),
    /// `odata.nextLink`.
    V3,
}

/// Which `$filter` date literals are accepted (facts §1.6: the Developer
/// Reference writes `datetime'2015-12-31T12:00'`, the Postman collection the
/// bare v4 `2016-12-31T12:00:00Z`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DateLiterals {
    /// Both forms.
    #[default]
    Both,
    /// Only `datetime'...'`; a bare ISO literal is a 400.
    V3,
    /// Only bare ISO; `datetime'...'` is a 400.
    V4,
}

/// How dates are written in answers (facts §1.6: the samples show
/// `"2010-08-18T00:00:00"`; `Edm.DateTimeOffset` in v4 carries an offset).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DateStyle {
    /// `2010-08-18T00:00:00Z`.
    #[default]
    Offset,
    /// `2010-08-18T00:00:00`, as in the samples.
    Local,
}

/// Which requests must carry `Content-Type: application/json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ContentTypeRule {
    /// Every request, GET included; a missing header gives HTTP 500
    /// (facts §1.2, §5).
    #[default]
    All,
    /// Only requests with a body (POST, PUT, PATCH).
    Body,
    /// Never checked.
    None,
}

/// The variant options in force.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Variants {
    /// Annotation names of feeds.
    pub count_style: CountStyle,
    /// Accepted `$filter` date literals.
    pub date_literals: DateLiterals,
    /// How dates are written.
    pub date_style: DateStyle,
    /// Which requests need `Content-Type: application/json`.
    pub content_type: ContentTypeRule,
    /// Records per page, default and maximum (facts §1.6: 100, raised with
    /// `PageSize` in `Web.config`).
    pub page_size: usize,
    /// Whether a full page carries a next link (`@odata.nextLink`;
    /// UNVERIFIED in the facts, so switchable; clients page until a short
    /// page either way).
    pub next_link: bool,
    /// Status of a successful POST: 201 or 200 (UNVERIFIED, facts §6).
    pub post_status: u16,
    /// Whether `IC/ICItemLocations` exists (UNVERIFIED and version-dependent,
    /// facts §1.3; when off it answers 404 `ResourceNotFound`).
    pub item_locations: bool,
    /// `AllowWebApiAccessForAdmin` (facts §1.2): when off, ADMIN is refused
    /// with 403 `Forbidden`.
    pub allow_admin: bool,
    /// Whether a price or stock change through the control API also bumps
    /// the item's own `DateLastMaintained` (decision: off, since the price
    /// and the location quantities are other records, ICPRIC and ICILOC).
    pub touch_item_on_change: bool,
    /// The database is unreachable: every request answers 500 `DBLinkError`
    /// (a retryable 5xx), until switched back.
    pub offline: bool,
}

impl Default for Variants {
    fn default() -> Self {
        Variants {
            count_style: CountStyle::V4,
            date_literals: DateLiterals::Both,
            date_style: DateStyle::Offset,
            content_type: ContentTypeRule::All,
            page_size: 100,
            next_link: true,
            post_status: 201,
            item_locations: true,
            allow_admin: false,
            touch_item_on_change: false,
            offline: false,
        }
    }
}
