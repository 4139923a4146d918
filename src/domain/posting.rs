//! Needs and offers ("postings"): what an organization needs in a place, or can give there,
//! and how well the other side's postings and organizations answer it.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::matching::Reason;
use super::organization::{KnownCodes, Validator};
use super::reference::{SECTOR_CODES, SUPPORT_TYPE_CODES};
use super::text::SearchText;
use crate::error::FieldError;

pub mod limits {
    pub const TITLE: usize = 200;
    pub const DESCRIPTION: usize = 5000;
    pub const QUANTITY: usize = 200;
    pub const ADMIN1: usize = 100;
    pub const SECTORS: usize = 16;
    pub const LANGUAGES: usize = 30;
}

/// Which side of the exchange a posting is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    Need,
    Offer,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Need => "need",
            Side::Offer => "offer",
        }
    }

    pub fn parse(raw: &str) -> Option<Side> {
        [Side::Need, Side::Offer]
            .into_iter()
            .find(|s| s.as_str() == raw)
    }

    /// The side that answers this one: offers answer needs and needs answer offers.
    pub fn other(self) -> Side {
        match self {
            Side::Need => Side::Offer,
            Side::Offer => Side::Need,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    Open,
    Fulfilled,
    Withdrawn,
    Expired,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Open,
        Status::Fulfilled,
        Status::Withdrawn,
        Status::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Fulfilled => "fulfilled",
            Status::Withdrawn => "withdrawn",
            Status::Expired => "expired",
        }
    }

    pub fn parse(raw: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == raw)
    }
}

/// The status a posting reads as on `today` (UTC): an open one whose `valid_until` has passed
/// is expired, without anyone having to mark it.
pub fn status_on(stored: Status, valid_until: Option<NaiveDate>, today: NaiveDate) -> Status {
    match (stored, valid_until) {
        (Status::Open, Some(last_day)) if last_day < today => Status::Expired,
        (status, _) => status,
    }
}

/// What an organization posts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostingInput {
    pub organization_id: Uuid,
    pub crisis_id: Option<Uuid>,
    pub country: String,
    pub admin1: Option<String>,
    pub sectors: Vec<String>,
    pub support_types: Vec<String>,
    pub languages: Vec<String>,
    pub title: String,
    pub description: String,
    pub quantity: Option<String>,
    pub status: Status,
    pub valid_until: Option<NaiveDate>,
}

impl PostingInput {
    /// Checks and normalises every field. When the posting is about a crisis, its country
    /// must be one of the crisis's (`crisis_countries`). An open posting must hold until
    /// `today` at least.
    pub fn validate(
        self,
        known: &KnownCodes,
        crisis_countries: Option<&[String]>,
        today: NaiveDate,
    ) -> Result<PostingInput, Vec<FieldError>> {
        let mut v = Validator::default();
        let country = match crisis_countries {
            Some(allowed) => v.country_within("country", &self.country, known, allowed),
            None => v.country("country", &self.country, known),
        };
        let admin1 = v.optional_line("admin1", self.admin1.as_deref(), limits::ADMIN1);
        if self.sectors.is_empty() {
            v.error("sectors", "name at least one sector");
        }
        let sectors = if v.max_items("sectors", self.sectors.len(), limits::SECTORS) {
            v.codes("sectors", &self.sectors, &SECTOR_CODES)
        } else {
            Vec::new()
        };
        let support_types = v.codes("support_types", &self.support_types, &SUPPORT_TYPE_CODES);
        let languages = v.languages("languages", &self.languages, limits::LANGUAGES, known);
        let title = v.required_line("title", &self.title, limits::TITLE);
        let description = v.required_text("description", &self.description, limits::DESCRIPTION);
        let quantity = v.optional_line("quantity", self.quantity.as_deref(), limits::QUANTITY);
        v.date("valid_until", self.valid_until);
        if self.status == Status::Open
            && let Some(last_day) = self.valid_until
            && last_day < today
        {
            v.error(
                "valid_until",
                format!(
                    "{last_day} has passed: an open posting must hold until today ({today}) or later"
                ),
            );
        }
        v.finish(PostingInput {
            country,
            admin1,
            sectors,
            support_types,
            languages,
            title,
            description,
            quantity,
            ..self
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posting {
    pub id: Uuid,
    pub seq: i64,
    pub side: Side,
    pub input: PostingInput,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Posting {
    pub fn status_on(&self, today: NaiveDate) -> Status {
        status_on(self.input.status, self.input.valid_until, today)
    }
}

/// What a list of needs or offers asks for. Only published organizations' postings are listed.
#[derive(Debug, Clone)]
pub struct PostingFilter {
    pub side: Side,
    pub crisis: Option<Uuid>,
    pub organization: Option<Uuid>,
    pub countries: Vec<String>,
    /// Sectors, each requested one with its children.
    pub sectors: Vec<String>,
    pub support_types: Vec<String>,
    pub languages: Vec<String>,
    /// Statuses as read today (an open posting past `valid_until` is expired).
    pub statuses: Vec<Status>,
    pub q: Option<SearchText>,
    pub today: NaiveDate,
}

/// What is known of a counterpart (a posting of the other side, or an organization) when it
/// is scored against a posting.
#[derive(Debug, Clone, Default)]
pub struct Counterpart {
    /// The places it relates to: a posting's country; an organization's countries of origin,
    /// operation and residence.
    pub countries: Vec<String>,
    pub sectors: Vec<String>,
    pub support_types: Vec<String>,
    pub languages: Vec<String>,
    /// Whether it is about the posting's crisis (a posting citing it, an organization engaged
    /// in it).
    pub in_crisis: bool,
    pub verified: bool,
}

/// Weights of the criteria. A score is the weighted share of the criteria that apply which are
/// met, from 0 to 1. Support types, languages and crisis apply only when the posting names
/// them.
const COUNTRY: f64 = 0.30;
const SECTORS: f64 = 0.25;
const SUPPORT: f64 = 0.15;
const LANGUAGES: f64 = 0.15;
const CRISIS: f64 = 0.10;
const VERIFIED: f64 = 0.05;

/// How well `c` answers `posting`, and why; `None` unless it relates to the posting's country
/// and meets at least one of its sectors. `families` holds each of the posting's sectors with
/// its relatives (parent and children), which also meet it.
pub fn score(
    posting: &PostingInput,
    families: &[(String, Vec<String>)],
    c: &Counterpart,
) -> Option<(f64, Vec<Reason>)> {
    if !c.countries.contains(&posting.country) {
        return None;
    }
    let sectors: Vec<String> = families
        .iter()
        .filter(|(_, family)| family.iter().any(|s| c.sectors.contains(s)))
        .map(|(wanted, _)| wanted.clone())
        .collect();
    if sectors.is_empty() {
        return None;
    }
    let mut got = COUNTRY + SECTORS * share(sectors.len(), families.len());
    let mut max = COUNTRY + SECTORS + VERIFIED;
    let mut reasons = vec![
        Reason {
            criterion: "country",
            matched: vec![posting.country.clone()],
        },
        Reason {
            criterion: "sectors",
            matched: sectors,
        },
    ];
    let lists: [(&'static str, &[String], &[String], f64); 2] = [
        (
            "support_types",
            &posting.support_types,
            &c.support_types,
            SUPPORT,
        ),
        ("languages", &posting.languages, &c.languages, LANGUAGES),
    ];
    for (criterion, wanted, has, weight) in lists {
        if wanted.is_empty() {
            continue;
        }
        max += weight;
        let matched: Vec<String> = wanted.iter().filter(|w| has.contains(w)).cloned().collect();
        if !matched.is_empty() {
            got += weight * share(matched.len(), wanted.len());
            reasons.push(Reason { criterion, matched });
        }
    }
    if let Some(crisis) = posting.crisis_id {
        max += CRISIS;
        if c.in_crisis {
            got += CRISIS;
            reasons.push(Reason {
                criterion: "crisis",
                matched: vec![crisis.to_string()],
            });
        }
    }
    if c.verified {
        got += VERIFIED;
        reasons.push(Reason {
            criterion: "verified",
            matched: Vec::new(),
        });
    }
    Some(((got / max * 1000.0).round() / 1000.0, reasons))
}

fn share(matched: usize, wanted: usize) -> f64 {
    if wanted == 0 {
        0.0
    } else {
        matched as f64 / wanted as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> KnownCodes {
        let mut known = KnownCodes::default();
        for (k, c) in [("HT", "HTI"), ("HTI", "HTI"), ("DO", "DOM"), ("DOM", "DOM")] {
            known.countries.insert(k.to_owned(), c.to_owned());
        }
        for (k, c) in [("ht", "ht"), ("hat", "ht"), ("fr", "fr")] {
            known.languages.insert(k.to_owned(), c.to_owned());
        }
        known
    }

    fn need() -> PostingInput {
        PostingInput {
            organization_id: Uuid::nil(),
            crisis_id: None,
            country: "HTI".into(),
            admin1: None,
            sectors: vec!["health".into()],
            support_types: vec!["in-kind".into()],
            languages: vec!["ht".into(), "fr".into()],
            title: "Insulin".into(),
            description: "For the Jérémie hospital".into(),
            quantity: None,
            status: Status::Open,
            valid_until: None,
        }
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn an_open_posting_past_its_last_day_reads_as_expired() {
        let today = day("2026-11-23");
        assert_eq!(
            status_on(Status::Open, Some(day("2026-11-22")), today),
            Status::Expired
        );
        assert_eq!(
            status_on(Status::Open, Some(day("2026-11-23")), today),
            Status::Open
        );
        assert_eq!(status_on(Status::Open, None, today), Status::Open);
        assert_eq!(
            status_on(Status::Fulfilled, Some(day("2020-01-01")), today),
            Status::Fulfilled
        );
    }

    #[test]
    fn validation_names_every_bad_field() {
        let today = day("2026-11-23");
        let bad = PostingInput {
            country: "XX".into(),
            sectors: vec![],
            languages: vec!["zz".into()],
            title: " ".into(),
            valid_until: Some(day("2026-11-01")),
            ..need()
        };
        let errors = bad.validate(&known(), None, today).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["country", "sectors", "languages[0]", "title", "valid_until"]
        );
        // Outside the crisis's countries.
        let errors = PostingInput {
            country: "do".into(),
            ..need()
        }
        .validate(&known(), Some(&["HTI".to_owned()]), today)
        .unwrap_err();
        assert!(errors[0].message.contains("not a country of this crisis"));
        // A withdrawn posting may keep a past last day.
        let ok = PostingInput {
            status: Status::Withdrawn,
            valid_until: Some(day("2026-11-01")),
            languages: vec!["hat".into()],
            ..need()
        }
        .validate(&known(), None, today)
        .unwrap();
        assert_eq!(ok.languages, ["ht"]);
    }

    #[test]
    fn scores_weigh_what_the_posting_asks_for() {
        let families = vec![(
            "health".to_owned(),
            vec!["health".to_owned(), "health-mhpss".to_owned()],
        )];
        let full = Counterpart {
            countries: vec!["HTI".into()],
            sectors: vec!["health-mhpss".into()],
            support_types: vec!["in-kind".into()],
            languages: vec!["ht".into(), "fr".into()],
            in_crisis: false,
            verified: true,
        };
        let (score, reasons) = super::score(&need(), &families, &full).unwrap();
        assert_eq!(score, 1.0);
        let criteria: Vec<&str> = reasons.iter().map(|r| r.criterion).collect();
        assert_eq!(
            criteria,
            [
                "country",
                "sectors",
                "support_types",
                "languages",
                "verified"
            ]
        );
        // Half the languages, unverified: (0.30 + 0.25 + 0.15 + 0.075) / 0.90.
        let partial = Counterpart {
            languages: vec!["fr".into()],
            verified: false,
            ..full.clone()
        };
        assert_eq!(super::score(&need(), &families, &partial).unwrap().0, 0.861);
        // Another country, or no sector in common: no match at all.
        let elsewhere = Counterpart {
            countries: vec!["DOM".into()],
            ..full.clone()
        };
        assert!(super::score(&need(), &families, &elsewhere).is_none());
        let other_sector = Counterpart {
            sectors: vec!["education".into()],
            ..full.clone()
        };
        assert!(super::score(&need(), &families, &other_sector).is_none());
        // A crisis, once named, counts.
        let crisis = Uuid::new_v4();
        let in_crisis = PostingInput {
            crisis_id: Some(crisis),
            ..need()
        };
        let (without, _) = super::score(&in_crisis, &families, &full).unwrap();
        assert_eq!(without, 0.9);
        let (with, reasons) = super::score(
            &in_crisis,
            &families,
            &Counterpart {
                in_crisis: true,
                ..full
            },
        )
        .unwrap();
        assert_eq!(with, 1.0);
        assert!(
            reasons
                .iter()
                .any(|r| r.criterion == "crisis" && r.matched == [crisis.to_string()])
        );
    }
}
