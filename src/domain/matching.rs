//! Matching: how well an organization fits a need, and why.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::organization::Organization;

/// How many candidates are scored at most (the best by a coarse score in SQL).
pub const MAX_CANDIDATES: i64 = 500;

/// What a humanitarian actor is looking for. Codes are canonical; `sector_families` maps each
/// requested sector to itself and its children (a request for `health` is met by
/// `health-mhpss`).
#[derive(Debug, Clone, Default)]
pub struct Need {
    /// Countries of origin asked for (`origin_country`).
    pub origin_countries: Vec<String>,
    /// Countries in any role (`country`).
    pub countries: Vec<String>,
    pub sector_families: Vec<(String, Vec<String>)>,
    pub support_types: Vec<String>,
    pub languages: Vec<String>,
    /// Preferred countries of residence (nice to have).
    pub residence_countries: Vec<String>,
}

/// One criterion an organization met, with the values that met it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    pub criterion: &'static str,
    pub matched: Vec<String>,
}

/// Weights of the criteria; a score is the weighted share of the criteria asked for that
/// are met, from 0 to 1.
const COUNTRY: f64 = 0.35;
const SECTORS: f64 = 0.25;
const SUPPORT: f64 = 0.2;
const LANGUAGES: f64 = 0.15;
const RESIDENCE: f64 = 0.05;

fn matched(wanted: &[String], has: &[String]) -> Vec<String> {
    wanted.iter().filter(|w| has.contains(w)).cloned().collect()
}

fn share(matched: usize, wanted: usize) -> f64 {
    if wanted == 0 {
        0.0
    } else {
        matched as f64 / wanted as f64
    }
}

impl Need {
    pub fn is_empty(&self) -> bool {
        self.origin_countries.is_empty()
            && self.countries.is_empty()
            && self.sector_families.is_empty()
            && self.support_types.is_empty()
            && self.languages.is_empty()
            && self.residence_countries.is_empty()
    }

    /// Every sector code that meets some requested sector.
    pub fn all_sectors(&self) -> Vec<String> {
        self.sector_families
            .iter()
            .flat_map(|(_, family)| family.iter().cloned())
            .collect()
    }

    /// The score (0 to 1, three decimals) and the reasons, or `None` when nothing matches.
    pub fn score(&self, org: &Organization) -> Option<(f64, Vec<Reason>)> {
        let p = &org.profile;
        let mut reasons = Vec::new();
        let (mut got, mut max) = (0.0, 0.0);
        if !self.origin_countries.is_empty() {
            max += COUNTRY;
            let m = matched(&self.origin_countries, &p.origin_countries);
            got += COUNTRY * share(m.len(), self.origin_countries.len());
            if !m.is_empty() {
                reasons.push(Reason {
                    criterion: "origin_country",
                    matched: m,
                });
            }
        }
        if !self.countries.is_empty() {
            max += COUNTRY;
            // Origin counts most, then operations, then residence.
            let roles: [(&'static str, Vec<String>, f64); 3] = [
                ("origin_country", p.origin_countries.clone(), 1.0),
                ("operating_country", p.operating_countries.clone(), 0.8),
                (
                    "residence_country",
                    p.residence_country.iter().cloned().collect(),
                    0.5,
                ),
            ];
            let mut best = 0.0f64;
            for (criterion, has, weight) in roles {
                let m = matched(&self.countries, &has);
                if !m.is_empty() {
                    best = best.max(weight * share(m.len(), self.countries.len()));
                    reasons.push(Reason {
                        criterion,
                        matched: m,
                    });
                }
            }
            got += COUNTRY * best;
        }
        if !self.sector_families.is_empty() {
            max += SECTORS;
            let sectors: Vec<String> = p.capabilities.iter().map(|c| c.sector.clone()).collect();
            let m: Vec<String> = self
                .sector_families
                .iter()
                .filter(|(_, family)| family.iter().any(|s| sectors.contains(s)))
                .map(|(wanted, _)| wanted.clone())
                .collect();
            got += SECTORS * share(m.len(), self.sector_families.len());
            if !m.is_empty() {
                reasons.push(Reason {
                    criterion: "sectors",
                    matched: m,
                });
            }
        }
        if !self.support_types.is_empty() {
            max += SUPPORT;
            let offered: Vec<String> = p
                .capabilities
                .iter()
                .flat_map(|c| c.support_types.iter().cloned())
                .collect();
            let m = matched(&self.support_types, &offered);
            got += SUPPORT * share(m.len(), self.support_types.len());
            if !m.is_empty() {
                reasons.push(Reason {
                    criterion: "support_types",
                    matched: m,
                });
            }
        }
        if !self.languages.is_empty() {
            max += LANGUAGES;
            let m = matched(&self.languages, &p.languages);
            got += LANGUAGES * share(m.len(), self.languages.len());
            if !m.is_empty() {
                reasons.push(Reason {
                    criterion: "languages",
                    matched: m,
                });
            }
        }
        if !self.residence_countries.is_empty() {
            max += RESIDENCE;
            let has: Vec<String> = p.residence_country.iter().cloned().collect();
            let m = matched(&self.residence_countries, &has);
            got += RESIDENCE * share(m.len().min(1), 1);
            if !m.is_empty() {
                reasons.push(Reason {
                    criterion: "residence_countries",
                    matched: m,
                });
            }
        }
        if reasons.is_empty() || max == 0.0 {
            return None;
        }
        Some(((got / max * 1000.0).round() / 1000.0, reasons))
    }
}

/// Ranks scored organizations: best fit first; at equal fit verified ones first, then by name.
pub fn rank(
    mut scored: Vec<(Organization, f64, Vec<Reason>)>,
    now: DateTime<Utc>,
) -> Vec<(Organization, f64, Vec<Reason>)> {
    let verified: HashMap<uuid::Uuid, bool> = scored
        .iter()
        .map(|(o, _, _)| (o.id, o.verification.is_verified_at(now)))
        .collect();
    scored.sort_by(|(a, sa, _), (b, sb, _)| {
        sb.total_cmp(sa)
            .then_with(|| verified[&b.id].cmp(&verified[&a.id]))
            .then_with(|| a.profile.name.cmp(&b.profile.name))
            .then_with(|| a.id.cmp(&b.id))
    });
    scored
}
