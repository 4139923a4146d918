//! Engagements: who does what where in a crisis (the 3W).

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::organization::{KnownCodes, Validator};
use super::reference::{SECTOR_CODES, SUPPORT_TYPE_CODES};
use crate::error::FieldError;

pub mod limits {
    pub const ADMIN1: usize = 100;
    pub const DESCRIPTION: usize = 2000;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    Planned,
    Ongoing,
    Completed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Planned => "planned",
            Status::Ongoing => "ongoing",
            Status::Completed => "completed",
        }
    }

    pub fn parse(raw: &str) -> Option<Status> {
        [Status::Planned, Status::Ongoing, Status::Completed]
            .into_iter()
            .find(|s| s.as_str() == raw)
    }
}

/// What an organization declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngagementInput {
    pub organization_id: Uuid,
    pub sectors: Vec<String>,
    pub support_types: Vec<String>,
    pub country: String,
    pub admin1: Option<String>,
    pub description: Option<String>,
    pub status: Status,
    pub started_on: Option<NaiveDate>,
    pub ended_on: Option<NaiveDate>,
}

impl EngagementInput {
    /// Checks and normalises every field; the country must be one of the crisis's.
    pub fn validate(
        self,
        known: &KnownCodes,
        crisis_countries: &[String],
    ) -> Result<EngagementInput, Vec<FieldError>> {
        let mut v = Validator::default();
        let sectors = v.codes("sectors", &self.sectors, &SECTOR_CODES);
        if self.sectors.is_empty() {
            v.error("sectors", "name at least one sector");
        }
        let support_types = v.codes("support_types", &self.support_types, &SUPPORT_TYPE_CODES);
        let country = v.country_within("country", &self.country, known, crisis_countries);
        let admin1 = v.optional_line("admin1", self.admin1.as_deref(), limits::ADMIN1);
        let description = v.optional_text(
            "description",
            self.description.as_deref(),
            limits::DESCRIPTION,
        );
        v.date("started_on", self.started_on);
        v.date("ended_on", self.ended_on);
        if let (Some(start), Some(end)) = (self.started_on, self.ended_on)
            && end < start
        {
            v.error("ended_on", "must not be before started_on");
        }
        v.finish(EngagementInput {
            sectors,
            support_types,
            country,
            admin1,
            description,
            ..self
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Engagement {
    pub id: Uuid,
    pub seq: i64,
    pub crisis_id: Uuid,
    pub input: EngagementInput,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a list of a crisis's engagements asks for.
#[derive(Debug, Clone, Default)]
pub struct EngagementFilter {
    /// Sectors, each with its children.
    pub sectors: Vec<String>,
    pub countries: Vec<String>,
    pub organization_kinds: Vec<String>,
    pub statuses: Vec<Status>,
}

/// One row of the 3W matrix: an organization, a sector, a place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreeWRow {
    pub organization_id: Uuid,
    pub organization_name: String,
    pub organization_acronym: Option<String>,
    pub organization_kind: String,
    pub sector: String,
    pub country: String,
    pub admin1: Option<String>,
    /// Every kind of support the organization gives there, in that sector.
    pub support_types: Vec<String>,
    /// The most current of its engagements' statuses (ongoing, then planned, then completed).
    pub status: Status,
    pub started_on: Option<NaiveDate>,
    pub ended_on: Option<NaiveDate>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_country_must_be_one_of_the_crisis() {
        let mut known = KnownCodes::default();
        for (k, c) in [("HT", "HTI"), ("HTI", "HTI"), ("DO", "DOM"), ("DOM", "DOM")] {
            known.countries.insert(k.to_owned(), c.to_owned());
        }
        let input = EngagementInput {
            organization_id: Uuid::nil(),
            sectors: vec!["health".into()],
            support_types: vec![],
            country: "do".into(),
            admin1: None,
            description: None,
            status: Status::Ongoing,
            started_on: None,
            ended_on: None,
        };
        let errors = input
            .clone()
            .validate(&known, &["HTI".to_owned()])
            .unwrap_err();
        assert_eq!(errors[0].field, "country");
        assert!(errors[0].message.contains("not a country of this crisis"));
        let ok = EngagementInput {
            country: "ht".into(),
            ..input
        }
        .validate(&known, &["HTI".to_owned()])
        .unwrap();
        assert_eq!(ok.country, "HTI");
    }
}
