//! Discovery: which published organizations a query asks for, in which order, from where.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::text::SearchText;

/// Values per filter (a comma list) at most.
pub const MAX_FILTER_VALUES: usize = 50;
/// Values listed per facet at most (the most frequent).
pub const MAX_FACET_VALUES: i64 = 50;

/// A list query, every code already canonical (alpha-3, ISO 639 codes, sectors expanded to
/// their children). Empty lists are no filter; within a list values are OR'ed, and filters are
/// AND'ed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrganizationFilter {
    pub kinds: Vec<String>,
    pub origin_countries: Vec<String>,
    pub operating_countries: Vec<String>,
    pub residence_countries: Vec<String>,
    /// Any of the three roles.
    pub countries: Vec<String>,
    pub sectors: Vec<String>,
    pub support_types: Vec<String>,
    pub languages: Vec<String>,
    /// `Some(true)`: verified and not expired; `Some(false)`: anything else.
    pub verified: Option<bool>,
    pub q: Option<SearchText>,
    pub updated_since: Option<DateTime<Utc>>,
    /// Only organizations with an engagement in this crisis.
    pub crisis: Option<Uuid>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Sort {
    /// Best match first (needs `q`).
    Relevance,
    Name,
    UpdatedDesc,
    CreatedDesc,
    /// Verified first, then by name.
    VerifiedThenName,
}

impl Sort {
    pub fn parse(raw: &str) -> Option<Sort> {
        match raw {
            "relevance" => Some(Sort::Relevance),
            "name" => Some(Sort::Name),
            "-updated_at" => Some(Sort::UpdatedDesc),
            "-created_at" => Some(Sort::CreatedDesc),
            _ => None,
        }
    }
}

/// Where a page starts: the sort key of the last row of the previous page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum After {
    Relevance(f64, Uuid),
    Name(String, Uuid),
    Updated(DateTime<Utc>, Uuid),
    Created(DateTime<Utc>, Uuid),
    /// `0` verified, `1` not; then the name.
    VerifiedThenName(i32, String, Uuid),
}

impl After {
    pub fn sort(&self) -> Sort {
        match self {
            After::Relevance(..) => Sort::Relevance,
            After::Name(..) => Sort::Name,
            After::Updated(..) => Sort::UpdatedDesc,
            After::Created(..) => Sort::CreatedDesc,
            After::VerifiedThenName(..) => Sort::VerifiedThenName,
        }
    }
}

/// The facets a list can count.
pub const FACETS: [&str; 7] = [
    "kind",
    "origin_country",
    "operating_country",
    "residence_country",
    "sector",
    "support_type",
    "language",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FacetCount {
    pub value: String,
    pub count: i64,
}
