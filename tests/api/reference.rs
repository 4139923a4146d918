//! Reference data: countries, languages, sectors, kinds of support and organization.

use serde_json::Value;

use crate::harness::{TestApp, assert_problem};
use diaspora_directory::domain::reference::{
    M49_REGIONS, ORGANIZATION_KIND_CODES, SECTOR_CODES, SUPPORT_TYPE_CODES,
};

async fn list(app: &TestApp, path: &str) -> Value {
    let res = app.get(path).await;
    assert_eq!(res.status(), 200, "{path}");
    assert_eq!(
        res.headers()["content-type"].to_str().unwrap(),
        "application/json"
    );
    assert!(
        !res.headers().contains_key("link"),
        "a complete list has no next link"
    );
    let body: Value = res.json().await.unwrap();
    assert!(body["next_cursor"].is_null(), "{path}: one page");
    assert_eq!(
        body["total"].as_u64().unwrap() as usize,
        body["data"].as_array().unwrap().len(),
        "{path}: total counts the items"
    );
    body
}

fn codes(body: &Value) -> Vec<String> {
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["code"].as_str().unwrap().to_owned())
        .collect()
}

fn find<'a>(body: &'a Value, code: &str) -> &'a Value {
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["code"] == code)
        .unwrap_or_else(|| panic!("{code} missing"))
}

#[tokio::test]
async fn every_iso_country_is_listed_with_its_m49_regions() {
    let app = TestApp::spawn().await;
    let body = list(&app, "/v1/countries").await;
    assert_eq!(body["total"], 249);
    let hti = find(&body, "HTI");
    assert_eq!(hti["alpha2"], "HT");
    assert_eq!(hti["numeric"], "332");
    assert_eq!(hti["name"], "Haiti");
    assert_eq!(hti["region"], "Americas");
    assert_eq!(hti["sub_region"], "Latin America and the Caribbean");
    assert_eq!(hti["intermediate_region"], "Caribbean");
    let pak = find(&body, "PAK");
    assert_eq!(pak["alpha2"], "PK");
    assert_eq!(pak["numeric"], "586");
    assert_eq!(pak["region"], "Asia");
    assert_eq!(pak["sub_region"], "Southern Asia");
    // M49 puts Antarctica in no region.
    assert!(find(&body, "ATA")["region"].is_null());
    let all = codes(&body);
    let mut sorted = all.clone();
    sorted.sort();
    assert_eq!(all, sorted, "ordered by alpha-3 code");
    for c in body["data"].as_array().unwrap() {
        assert_eq!(c["code"].as_str().unwrap().len(), 3);
        assert_eq!(c["alpha2"].as_str().unwrap().len(), 2);
        assert_eq!(c["numeric"].as_str().unwrap().len(), 3);
    }
    // Every country except Antarctica has a region from the static list the API validates with.
    let with_region = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["region"].is_string())
        .count();
    assert_eq!(with_region, 248);
}

#[tokio::test]
async fn a_country_is_found_by_alpha2_or_alpha3_in_any_case() {
    let app = TestApp::spawn().await;
    for code in ["HTI", "hti", "Hti", "HT", "ht", "hT"] {
        let res = app.get(&format!("/v1/countries/{code}")).await;
        assert_eq!(res.status(), 200, "{code}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["code"], "HTI", "{code}");
        assert_eq!(body["region"], "Americas");
    }
    let body: Value = app.get("/v1/countries/pk").await.json().await.unwrap();
    assert_eq!(body["code"], "PAK");
    assert_eq!(body["region"], "Asia");
}

#[tokio::test]
async fn an_unknown_country_code_is_a_404_problem() {
    let app = TestApp::spawn().await;
    for code in ["ZZZ", "zz", "XK"] {
        let body = assert_problem(
            app.get(&format!("/v1/countries/{code}")).await,
            404,
            "not_found",
        )
        .await;
        assert!(body["detail"].as_str().unwrap().contains("/v1/countries"));
    }
}

#[tokio::test]
async fn a_malformed_country_code_is_a_400_naming_the_parameter() {
    let app = TestApp::spawn().await;
    for code in ["H1", "HAITI", "H", "%C3%89T", "%20HT"] {
        let body = assert_problem(
            app.get(&format!("/v1/countries/{code}")).await,
            400,
            "validation_failed",
        )
        .await;
        assert_eq!(body["errors"][0]["field"], "code", "{code}");
    }
}

#[tokio::test]
async fn countries_filter_by_any_level_of_m49_region() {
    let app = TestApp::spawn().await;
    let americas = codes(&list(&app, "/v1/countries?region=Americas").await);
    assert!(americas.contains(&"HTI".to_owned()) && americas.contains(&"ECU".to_owned()));
    assert!(!americas.contains(&"PAK".to_owned()));
    let caribbean = codes(&list(&app, "/v1/countries?region=Caribbean").await);
    assert!(caribbean.contains(&"HTI".to_owned()));
    assert!(!caribbean.contains(&"ECU".to_owned()));
    let south_asia = codes(&list(&app, "/v1/countries?region=Southern%20Asia").await);
    assert!(south_asia.contains(&"PAK".to_owned()) && south_asia.contains(&"AFG".to_owned()));
    assert!(!south_asia.contains(&"SYR".to_owned()));
    assert!(
        caribbean.len() < americas.len(),
        "an intermediate region is narrower"
    );
}

#[tokio::test]
async fn an_unknown_region_is_a_400_listing_the_valid_ones() {
    let app = TestApp::spawn().await;
    let body = assert_problem(
        app.get("/v1/countries?region=Atlantis").await,
        400,
        "validation_failed",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "region");
    assert!(body["detail"].as_str().unwrap().contains("Caribbean"));
    // Names are M49's, exactly; a near miss gets a suggestion.
    let body = assert_problem(
        app.get("/v1/countries?region=caribbean").await,
        400,
        "validation_failed",
    )
    .await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("did you mean \"Caribbean\"")
    );
    assert_problem(
        app.get("/v1/countries?region=").await,
        400,
        "validation_failed",
    )
    .await;
}

#[tokio::test]
async fn country_search_ignores_accents_and_case_and_matches_codes() {
    let app = TestApp::spawn().await;
    let ivory = codes(&list(&app, "/v1/countries?q=cote%20d").await);
    assert_eq!(ivory, vec!["CIV"]);
    let aland = codes(&list(&app, "/v1/countries?q=ALAND%20IS").await);
    assert_eq!(aland, vec!["ALA"]);
    let by_alpha2 = codes(&list(&app, "/v1/countries?q=ht").await);
    assert_eq!(by_alpha2[0], "HTI", "the exact code comes first");
    let by_numeric = codes(&list(&app, "/v1/countries?q=332").await);
    assert_eq!(by_numeric, vec!["HTI"]);
    let combined = codes(&list(&app, "/v1/countries?q=guinea&region=Western%20Africa").await);
    assert_eq!(combined, vec!["GIN", "GNB"]);
    // LIKE wildcards are literal.
    assert_eq!(list(&app, "/v1/countries?q=%25").await["total"], 0);
    // A blank search is no filter.
    assert_eq!(list(&app, "/v1/countries?q=%20").await["total"], 249);
}

#[tokio::test]
async fn search_text_with_control_characters_is_rejected() {
    let app = TestApp::spawn().await;
    for path in [
        "/v1/countries?q=ha%00iti",
        "/v1/languages?q=%1Bx",
        // Leading control characters are refused too, not trimmed away.
        "/v1/languages?q=%0B%0Dx",
        "/v1/countries?q=%0A",
    ] {
        let body = assert_problem(app.get(path).await, 400, "validation_failed").await;
        assert_eq!(body["errors"][0]["field"], "q");
    }
    let long = "a".repeat(201);
    assert_problem(
        app.get(&format!("/v1/countries?q={long}")).await,
        400,
        "validation_failed",
    )
    .await;
}

#[tokio::test]
async fn every_iso_639_1_language_and_living_639_3_language_is_listed() {
    let app = TestApp::spawn().await;
    let body = list(&app, "/v1/languages").await;
    assert_eq!(body["total"], 7074);
    let two_letter = codes(&body).iter().filter(|c| c.len() == 2).count();
    assert_eq!(two_letter, 184, "all of ISO 639-1");
    // ISO 639-1 as ISO 639-2 lists it: the collective `bh` is in, the withdrawn `sh` is not
    // (Serbo-Croatian goes by its 639-3 code).
    assert_eq!(find(&body, "bh")["alpha3"], "bih");
    assert!(!codes(&body).contains(&"sh".to_owned()));
    assert_eq!(find(&body, "hbs")["name"], "Serbo-Croatian");
    let ht = find(&body, "ht");
    assert_eq!(ht["alpha3"], "hat");
    assert_eq!(ht["name"], "Haitian");
    assert_eq!(ht["alternate_names"], serde_json::json!(["Haitian Creole"]));
    assert_eq!(find(&body, "ur")["name"], "Urdu");
    assert_eq!(find(&body, "qu")["is_macrolanguage"], true);
    // Languages without a 639-1 code go by 639-3.
    assert_eq!(find(&body, "prs")["name"], "Dari");
    assert_eq!(find(&body, "rhg")["name"], "Rohingya");
    // 639-3 is never used where 639-1 exists.
    assert!(!codes(&body).contains(&"hat".to_owned()));
}

#[tokio::test]
async fn languages_are_searchable_by_name_alternate_name_or_code() {
    let app = TestApp::spawn().await;
    let creole = codes(&list(&app, "/v1/languages?q=haitian%20creole").await);
    assert_eq!(creole, vec!["ht"]);
    // An exact ISO 639-3 code finds its language (and names that contain the letters).
    let hat = codes(&list(&app, "/v1/languages?q=HAT").await);
    assert_eq!(hat[0], "ht");
    assert!(hat.contains(&"had".to_owned()));
    assert_eq!(codes(&list(&app, "/v1/languages?q=es").await)[0], "es");
    let quechua = codes(&list(&app, "/v1/languages?q=quechua").await);
    assert!(quechua.contains(&"qu".to_owned()) && quechua.len() > 10);
}

#[tokio::test]
async fn sectors_form_a_tree_of_iasc_clusters_with_hdx_codes() {
    let app = TestApp::spawn().await;
    let body = list(&app, "/v1/sectors").await;
    assert_eq!(
        codes(&body),
        vec![
            "cccm",
            "early-recovery",
            "education",
            "emergency-telecommunications",
            "food-security",
            "health",
            "logistics",
            "nutrition",
            "protection",
            "shelter",
            "wash"
        ]
    );
    let protection = find(&body, "protection");
    assert_eq!(protection["hdx_code"], "PRO");
    let children: Vec<(String, String)> = protection["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            assert_eq!(c["parent_code"], "protection");
            (
                c["code"].as_str().unwrap().to_owned(),
                c["hdx_code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        children,
        [
            ("protection-child", "PRO-CPN"),
            ("protection-gbv", "PRO-GBV"),
            ("protection-hlp", "PRO-HLP"),
            ("protection-mine-action", "PRO-MIN"),
        ]
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
    );
    let health = find(&body, "health");
    assert_eq!(health["hdx_code"], "HEA");
    assert_eq!(health["children"][0]["code"], "health-mhpss");
    assert!(health["children"][0]["hdx_code"].is_null());
    assert_eq!(find(&body, "wash")["hdx_code"], "WSH");
    assert_eq!(find(&body, "cccm")["hdx_code"], "CCM");
}

#[tokio::test]
async fn support_types_are_the_contracts_list() {
    let app = TestApp::spawn().await;
    let body = list(&app, "/v1/support-types").await;
    assert_eq!(
        codes(&body),
        vec![
            "funding",
            "in-kind",
            "professional-expertise",
            "volunteers",
            "translation-interpretation",
            "tutoring-education",
            "telehealth-helpline",
            "local-knowledge-networks",
            "information-advocacy",
            "logistics-transport",
            "training-capacity-building"
        ]
    );
    for t in body["data"].as_array().unwrap() {
        assert!(!t["name"].as_str().unwrap().is_empty());
        assert!(!t["description"].as_str().unwrap().is_empty());
    }
}

#[tokio::test]
async fn organization_kinds_carry_iati_codes() {
    let app = TestApp::spawn().await;
    let body = list(&app, "/v1/organization-kinds").await;
    assert_eq!(
        codes(&body),
        vec![
            "diaspora-organization",
            "international-ngo",
            "national-ngo",
            "un-agency",
            "government",
            "red-cross-red-crescent",
            "private-sector",
            "academic",
            "faith-based",
            "foundation",
            "other"
        ]
    );
    let iati = |code: &str| find(&body, code)["iati_code"].as_str().unwrap().to_owned();
    assert_eq!(iati("government"), "10");
    assert_eq!(iati("international-ngo"), "21");
    assert_eq!(iati("national-ngo"), "22");
    assert_eq!(iati("un-agency"), "40");
    assert_eq!(iati("foundation"), "60");
    assert_eq!(iati("private-sector"), "70");
    assert_eq!(iati("academic"), "80");
    assert_eq!(iati("other"), "90");
    assert_eq!(find(&body, "red-cross-red-crescent")["hdx_code"], "445");
}

#[tokio::test]
async fn the_static_region_list_matches_the_seeded_countries() {
    let app = TestApp::spawn().await;
    let mut conn = app.db.connect().await;
    let seeded = diaspora_directory::db::reference::region_names(&mut conn)
        .await
        .unwrap();
    let mut expected: Vec<String> = M49_REGIONS.iter().map(|s| s.to_string()).collect();
    expected.sort();
    let mut seeded_sorted = seeded.clone();
    seeded_sorted.sort();
    assert_eq!(seeded_sorted, expected);
}

/// Requests are validated against static code lists (which the OpenAPI document shows as
/// enums); they must be exactly what the migrations seeded.
#[tokio::test]
async fn the_static_code_lists_match_the_seeded_reference_data() {
    let app = TestApp::spawn().await;
    fn codes(list: &serde_json::Value, out: &mut Vec<String>) {
        for item in list.as_array().unwrap() {
            out.push(item["code"].as_str().unwrap().to_owned());
            if let Some(children) = item.get("children") {
                codes(children, out);
            }
        }
    }
    for (path, expected) in [
        ("/v1/sectors", &SECTOR_CODES[..]),
        ("/v1/support-types", &SUPPORT_TYPE_CODES[..]),
        ("/v1/organization-kinds", &ORGANIZATION_KIND_CODES[..]),
    ] {
        let body: serde_json::Value = app.get(path).await.json().await.unwrap();
        let mut seeded = Vec::new();
        codes(&body["data"], &mut seeded);
        seeded.sort();
        let mut expected: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
        expected.sort();
        assert_eq!(seeded, expected, "{path}");
    }
}

#[tokio::test]
async fn reference_lists_may_be_cached_by_clients() {
    let app = TestApp::spawn().await;
    for (path, cache) in [
        ("/v1/countries", "public, max-age=3600"),
        ("/v1/sectors", "public, max-age=3600"),
        // Its organization counts change as profiles are published.
        ("/v1/countries/HTI", "public, max-age=60"),
    ] {
        let res = app.get(path).await;
        assert_eq!(
            res.headers()["cache-control"].to_str().unwrap(),
            cache,
            "{path}"
        );
    }
}

#[tokio::test]
async fn a_country_counts_the_published_organizations_of_each_kind_it_is_origin_operation_or_home_of()
 {
    let app = TestApp::spawn().await;
    let token = app.token("owner@example.org").await;
    for (name, kind, status, origin, operating, residence) in [
        (
            "Dyaspora A",
            "diaspora-organization",
            "published",
            "HT",
            "HT",
            "US",
        ),
        (
            "Dyaspora B",
            "diaspora-organization",
            "published",
            "HTI",
            "DO",
            "CA",
        ),
        ("NGO C", "international-ngo", "published", "FR", "HTI", "FR"),
        (
            "Draft D",
            "diaspora-organization",
            "draft",
            "HT",
            "HT",
            "HT",
        ),
    ] {
        app.create_organization(
            &token,
            serde_json::json!({
                "name": name, "kind": kind, "status": status,
                "origin_countries": [origin], "operating_countries": [operating],
                "residence_country": residence
            }),
        )
        .await;
    }
    let haiti: serde_json::Value = app.get("/v1/countries/ht").await.json().await.unwrap();
    assert_eq!(haiti["code"], "HTI");
    let counts = &haiti["organization_counts"];
    assert_eq!(
        counts["diaspora-organization"],
        serde_json::json!({"origin": 2, "operating": 1, "residence": 0})
    );
    assert_eq!(
        counts["international-ngo"],
        serde_json::json!({"origin": 0, "operating": 1, "residence": 0})
    );
    assert_eq!(
        counts.as_object().unwrap().len(),
        11,
        "every kind, zeros included"
    );
    let usa: serde_json::Value = app.get("/v1/countries/USA").await.json().await.unwrap();
    assert_eq!(
        usa["organization_counts"]["diaspora-organization"]["residence"],
        1
    );
}
