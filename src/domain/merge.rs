//! Merging two profiles of the same organization (duplicates a moderator merges): what the
//! survivor says wins, and it gains what only the merged one knew.

use super::organization::{AlternateName, Capability, Identifier, Profile};

/// Appends the items of `extra` that `list` lacks (by `same`), keeping both orders.
fn union_by<T: Clone>(list: &mut Vec<T>, extra: &[T], same: impl Fn(&T, &T) -> bool) {
    for item in extra {
        if !list.iter().any(|have| same(have, item)) {
            list.push(item.clone());
        }
    }
}

fn union(list: &mut Vec<String>, extra: &[String]) {
    union_by(list, extra, |a, b| a == b);
}

fn same_name(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

/// The survivor's profile after absorbing `merged`'s:
/// - single values (description, city, website, counts...) are the survivor's, or the merged
///   one's where the survivor has none; the kind is always the survivor's;
/// - the merged one's name, acronym and alternate names become alternate names, so searches
///   for them still find the survivor;
/// - countries, languages, challenges, interests and identifiers are the union of both;
/// - capabilities are joined by sector: a sector both declare gets the union of their kinds of
///   support (and the survivor's description, else the merged one's).
///
/// The result may exceed the profile's limits (twenty capabilities, ...): validate it.
pub fn absorb(survivor: &Profile, merged: &Profile) -> Profile {
    let mut out = survivor.clone();
    let fill = |have: &mut Option<String>, other: &Option<String>| {
        if have.is_none() {
            have.clone_from(other);
        }
    };
    fill(&mut out.description, &merged.description);
    fill(&mut out.residence_country, &merged.residence_country);
    fill(&mut out.city, &merged.city);
    fill(&mut out.website, &merged.website);
    fill(&mut out.public_email, &merged.public_email);
    fill(&mut out.public_phone, &merged.public_phone);
    out.founded_year = out.founded_year.or(merged.founded_year);
    out.members_count = out.members_count.or(merged.members_count);
    out.volunteers_count = out.volunteers_count.or(merged.volunteers_count);
    if out.acronym.is_none() {
        out.acronym.clone_from(&merged.acronym);
    }

    let mut names: Vec<AlternateName> = std::iter::once(&merged.name)
        .chain(merged.acronym.iter())
        .map(|name| AlternateName {
            name: name.clone(),
            language: None,
        })
        .chain(merged.alternate_names.iter().cloned())
        .collect();
    names.retain(|a| {
        !same_name(&a.name, &out.name)
            && !out
                .acronym
                .as_deref()
                .is_some_and(|ac| same_name(ac, &a.name))
    });
    union_by(&mut out.alternate_names, &names, |a, b| {
        same_name(&a.name, &b.name)
    });

    union(&mut out.origin_countries, &merged.origin_countries);
    union(&mut out.operating_countries, &merged.operating_countries);
    union(&mut out.languages, &merged.languages);
    union(&mut out.challenges, &merged.challenges);
    union(&mut out.interests, &merged.interests);
    union_by(
        &mut out.identifiers,
        &merged.identifiers,
        |a: &Identifier, b| {
            a.scheme.eq_ignore_ascii_case(&b.scheme) && same_name(&a.value, &b.value)
        },
    );

    for theirs in &merged.capabilities {
        match out
            .capabilities
            .iter_mut()
            .find(|c| c.sector == theirs.sector)
        {
            Some(ours) => {
                union(&mut ours.support_types, &theirs.support_types);
                if ours.description.is_none() {
                    ours.description.clone_from(&theirs.description);
                }
            }
            None => out.capabilities.push(Capability::clone(theirs)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn capability(sector: &str, support: &[&str], description: Option<&str>) -> Capability {
        Capability {
            sector: sector.to_owned(),
            support_types: support.iter().map(|s| (*s).to_owned()).collect(),
            description: description.map(str::to_owned),
        }
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn the_survivor_wins_and_gains_what_only_the_merged_one_knew() {
        let survivor = Profile {
            name: "Haitian Health Network".to_owned(),
            acronym: Some("HHN".to_owned()),
            kind: "diaspora-organization".to_owned(),
            city: Some("Miami".to_owned()),
            origin_countries: strings(&["HTI"]),
            languages: strings(&["ht", "fr"]),
            capabilities: vec![capability("health", &["in-kind"], None)],
            identifiers: vec![Identifier {
                scheme: "US-EIN".to_owned(),
                value: "12-3456789".to_owned(),
            }],
            ..Profile::default()
        };
        let merged = Profile {
            name: "Haitian Health Netwrk".to_owned(),
            acronym: Some("hhn".to_owned()),
            kind: "national-ngo".to_owned(),
            description: Some("Clinics and supplies".to_owned()),
            city: Some("Boston".to_owned()),
            founded_year: Some(2010),
            origin_countries: strings(&["HTI", "DOM"]),
            languages: strings(&["en", "ht"]),
            alternate_names: vec![AlternateName {
                name: "Rezo Sante Ayisyen".to_owned(),
                language: Some("ht".to_owned()),
            }],
            capabilities: vec![
                capability("health", &["telehealth-helpline", "in-kind"], Some("Tele")),
                capability("education", &["tutoring-education"], None),
            ],
            identifiers: vec![
                Identifier {
                    scheme: "us-ein".to_owned(),
                    value: "12-3456789".to_owned(),
                },
                Identifier {
                    scheme: "XI-IATI".to_owned(),
                    value: "XI-IATI-HHN".to_owned(),
                },
            ],
            ..Profile::default()
        };
        let out = absorb(&survivor, &merged);
        assert_eq!(out.name, "Haitian Health Network");
        assert_eq!(out.kind, "diaspora-organization");
        assert_eq!(out.city.as_deref(), Some("Miami"));
        assert_eq!(out.description.as_deref(), Some("Clinics and supplies"));
        assert_eq!(out.founded_year, Some(2010));
        assert_eq!(out.origin_countries, strings(&["HTI", "DOM"]));
        assert_eq!(out.languages, strings(&["ht", "fr", "en"]));
        // The old name is kept for search; its acronym equals the survivor's, so it is not.
        let names: Vec<&str> = out
            .alternate_names
            .iter()
            .map(|a| a.name.as_str())
            .collect();
        assert_eq!(names, ["Haitian Health Netwrk", "Rezo Sante Ayisyen"]);
        assert_eq!(
            out.capabilities,
            vec![
                capability("health", &["in-kind", "telehealth-helpline"], Some("Tele")),
                capability("education", &["tutoring-education"], None),
            ]
        );
        let ids: Vec<&str> = out.identifiers.iter().map(|i| i.value.as_str()).collect();
        assert_eq!(ids, ["12-3456789", "XI-IATI-HHN"]);
    }

    #[test]
    fn absorbing_a_copy_changes_nothing() {
        let profile = Profile {
            name: "Pakistani Teachers Abroad".to_owned(),
            kind: "diaspora-organization".to_owned(),
            alternate_names: vec![AlternateName {
                name: "PTA".to_owned(),
                language: None,
            }],
            capabilities: vec![capability("education", &["tutoring-education"], None)],
            ..Profile::default()
        };
        assert_eq!(absorb(&profile, &profile), profile);
    }
}
