//! Crises: the emergencies organizations coordinate around, named as humanitarian tools name
//! them (GLIDE numbers and hazard codes, ISO 3166-1 alpha-3 countries).

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::organization::{KnownCodes, Validator};
use crate::error::FieldError;

pub mod limits {
    pub const NAME: usize = 200;
    pub const DESCRIPTION: usize = 5000;
    pub const COUNTRIES: usize = 30;
}

/// GLIDE's hazard codes (glidenumber.net), with their names.
pub const HAZARD_TYPES: [(&str, &str); 27] = [
    ("AC", "Technological disaster"),
    ("AV", "Snow avalanche"),
    ("CE", "Complex emergency"),
    ("CW", "Cold wave"),
    ("DR", "Drought"),
    ("EC", "Extratropical cyclone"),
    ("EP", "Epidemic"),
    ("EQ", "Earthquake"),
    ("ET", "Extreme temperature"),
    ("FA", "Famine"),
    ("FF", "Flash flood"),
    ("FL", "Flood"),
    ("FR", "Fire"),
    ("HT", "Heat wave"),
    ("IN", "Insect infestation"),
    ("LS", "Landslide"),
    ("MS", "Mud slide"),
    ("OT", "Other"),
    ("SL", "Slide"),
    ("SS", "Storm surge"),
    ("ST", "Severe local storm"),
    ("TC", "Tropical cyclone"),
    ("TO", "Tornado"),
    ("TS", "Tsunami"),
    ("VO", "Volcano"),
    ("VW", "Violent wind"),
    ("WF", "Wild fire"),
];

pub fn hazard_codes() -> Vec<&'static str> {
    HAZARD_TYPES.iter().map(|(code, _)| *code).collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Active,
    Closed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Closed => "closed",
        }
    }

    pub fn parse(raw: &str) -> Option<Status> {
        [Status::Active, Status::Closed]
            .into_iter()
            .find(|s| s.as_str() == raw)
    }
}

/// What a crisis says about itself: what moderators write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrisisInput {
    pub name: String,
    pub glide: Option<String>,
    pub hazard: String,
    pub countries: Vec<String>,
    pub started_on: NaiveDate,
    pub ended_on: Option<NaiveDate>,
    pub status: Status,
    pub description: Option<String>,
}

/// A GLIDE number, `TT-YYYY-NNNNNN-CCC` (`EQ-2021-000116-HTI`): checked for shape, for a hazard
/// code from GLIDE's list equal to the crisis's `hazard`, and for a country among `countries`.
/// Returned upper-cased.
pub fn glide(raw: &str, hazard: &str, countries: &[String]) -> Result<String, String> {
    let upper = raw.trim().to_ascii_uppercase();
    let shape = || {
        format!(
            "{raw:?} is not a GLIDE number: the form is TT-YYYY-NNNNNN-CCC, e.g. EQ-2021-000116-HTI"
        )
    };
    let parts: Vec<&str> = upper.split('-').collect();
    let [tt, yyyy, number, ccc] = parts.as_slice() else {
        return Err(shape());
    };
    let letters = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_uppercase());
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    if !(letters(tt, 2) && digits(yyyy, 4) && digits(number, 6) && letters(ccc, 3)) {
        return Err(shape());
    }
    if !hazard_codes().contains(tt) {
        return Err(format!(
            "{raw:?}: {tt} is not a GLIDE hazard code (one of {})",
            hazard_codes().join(", ")
        ));
    }
    if *tt != hazard {
        return Err(format!(
            "{raw:?} is a GLIDE number for hazard {tt}, but the crisis's type is {hazard}"
        ));
    }
    if !countries.iter().any(|c| c == ccc) {
        return Err(format!(
            "{raw:?} names country {ccc}, which is not one of the crisis's countries"
        ));
    }
    Ok(upper)
}

impl CrisisInput {
    /// Checks and normalises every field; every bad one at once.
    pub fn validate(self, known: &KnownCodes) -> Result<CrisisInput, Vec<FieldError>> {
        let mut v = Validator::default();
        let name = v.required_line("name", &self.name, limits::NAME);
        let hazard = v.code("type", &self.hazard.to_ascii_uppercase(), &hazard_codes());
        let countries = v.countries("countries", &self.countries, limits::COUNTRIES, known);
        if self.countries.is_empty() {
            v.error("countries", "name at least one affected country");
        }
        let glide = match self.glide.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(raw) => match glide(raw, &hazard, &countries) {
                Ok(g) => Some(g),
                Err(why) => {
                    v.error("glide", why);
                    None
                }
            },
        };
        v.date("started_on", Some(self.started_on));
        v.date("ended_on", self.ended_on);
        if let Some(end) = self.ended_on
            && end < self.started_on
        {
            v.error("ended_on", "must not be before started_on");
        }
        let description = v.optional_text(
            "description",
            self.description.as_deref(),
            limits::DESCRIPTION,
        );
        v.finish(CrisisInput {
            name,
            glide,
            hazard,
            countries,
            description,
            ..self
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crisis {
    pub id: Uuid,
    pub seq: i64,
    pub slug: String,
    pub input: CrisisInput,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a list of crises asks for.
#[derive(Debug, Clone, Default)]
pub struct CrisisFilter {
    pub status: Option<Status>,
    /// Alpha-3 codes: crises affecting any of them.
    pub countries: Vec<String>,
    pub hazards: Vec<String>,
    /// Words in the name, GLIDE number or description (accents and case ignored).
    pub q: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hti() -> Vec<String> {
        vec!["HTI".to_owned()]
    }

    #[test]
    fn a_glide_number_is_shaped_typed_and_placed() {
        assert_eq!(
            glide(" eq-2021-000116-hti ", "EQ", &hti()),
            Ok("EQ-2021-000116-HTI".to_owned())
        );
        for bad in [
            "EQ-2021-116-HTI",
            "EQ2021000116HTI",
            "EQ-21-000116-HTI",
            "EQ-2021-000116-HT",
            "EQ-2021-000116-HTI-X",
            "",
        ] {
            assert!(
                glide(bad, "EQ", &hti()).unwrap_err().contains("TT-YYYY"),
                "{bad}"
            );
        }
        assert!(
            glide("ZZ-2021-000116-HTI", "EQ", &hti())
                .unwrap_err()
                .contains("not a GLIDE hazard code")
        );
        assert!(
            glide("FL-2021-000116-HTI", "EQ", &hti())
                .unwrap_err()
                .contains("type is EQ")
        );
        assert!(
            glide("EQ-2021-000116-DOM", "EQ", &hti())
                .unwrap_err()
                .contains("not one of the crisis's countries")
        );
    }
}
