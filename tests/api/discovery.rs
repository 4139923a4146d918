//! Discovery: filters, full text, sorts, cursor paging and facets over published organizations.

use diaspora_directory::db::discovery::{Plan, explain_filter, explain_ordered_page};
use diaspora_directory::domain::discovery::{OrganizationFilter, Sort};
use diaspora_directory::domain::text::SearchText;
use serde_json::{Value, json};

use crate::harness::{TestApp, assert_problem};

async fn publish(app: &TestApp, token: &str, mut body: Value) -> Value {
    body["status"] = json!("published");
    app.create_organization(token, body).await
}

fn names(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap().to_owned())
        .collect()
}

async fn list(app: &TestApp, query: &str) -> Value {
    let res = app.get(&format!("/v1/organizations?{query}")).await;
    assert_eq!(res.status(), 200, "{query}");
    res.json().await.unwrap()
}

/// A small directory: three diaspora organizations, an NGO, and a draft.
async fn directory(app: &TestApp) -> String {
    let token = app.token("owner@example.org").await;
    publish(
        app,
        &token,
        json!({
            "name": "Fundación Rumiñahui", "kind": "diaspora-organization",
            "description": "Psicólogos y kits de alimentos para familias ecuatorianas",
            "origin_countries": ["EC"], "operating_countries": ["EC"], "residence_country": "ES",
            "languages": ["es", "qu"],
            "capabilities": [{"sector": "health-mhpss", "support_types": ["professional-expertise"]},
                             {"sector": "food-security", "support_types": ["in-kind"]}]
        }),
    )
    .await;
    publish(
        app,
        &token,
        json!({
            "name": "Asosyasyon Sante Dyaspora", "kind": "diaspora-organization",
            "description": "Konsiltasyon medikal sou entènèt an kreyòl",
            "origin_countries": ["HT"], "operating_countries": ["HT", "DO"], "residence_country": "US",
            "languages": ["ht", "fr", "en"],
            "capabilities": [{"sector": "health", "support_types": ["telehealth-helpline"],
                              "description": "Téléconsultations pour Port-au-Prince"}]
        }),
    )
    .await;
    publish(
        app,
        &token,
        json!({
            "name": "Pakistan Doctors Abroad", "kind": "diaspora-organization",
            "origin_countries": ["PK"], "operating_countries": ["PK"], "residence_country": "GB",
            "languages": ["ur", "en"],
            "capabilities": [{"sector": "health", "support_types": ["telehealth-helpline", "funding"]}]
        }),
    )
    .await;
    publish(
        app,
        &token,
        json!({
            "name": "Relief Partners International", "kind": "international-ngo",
            "operating_countries": ["HT", "PK"], "residence_country": "CH",
            "languages": ["en", "fr"],
            "capabilities": [{"sector": "shelter", "support_types": ["logistics-transport"]}]
        }),
    )
    .await;
    app.create_organization(
        &token,
        json!({"name": "Haiti Draft Group", "kind": "diaspora-organization", "origin_countries": ["HT"]}),
    )
    .await;
    token
}

#[tokio::test]
async fn filters_combine_with_and_and_comma_lists_with_or_over_published_organizations_only() {
    let app = TestApp::spawn().await;
    directory(&app).await;

    let all = list(&app, "").await;
    assert_eq!(all["total"], 4, "the draft never appears");
    assert!(!names(&all).contains(&"Haiti Draft Group".to_owned()));

    assert_eq!(
        names(&list(&app, "origin_country=ht").await),
        ["Asosyasyon Sante Dyaspora"]
    );
    assert_eq!(list(&app, "origin_country=HTI,pak").await["total"], 2);
    // AND across filters.
    assert_eq!(
        names(&list(&app, "origin_country=HT,PK&language=ur").await),
        ["Pakistan Doctors Abroad"]
    );
    // `country` is any of the three roles.
    let haiti = names(&list(&app, "country=HT").await);
    assert_eq!(haiti.len(), 2, "{haiti:?}");
    assert!(haiti.contains(&"Relief Partners International".to_owned()));
    assert_eq!(
        names(&list(&app, "residence_country=ESP").await),
        ["Fundación Rumiñahui"]
    );
    assert_eq!(
        names(&list(&app, "kind=international-ngo").await),
        ["Relief Partners International"]
    );
    // A parent sector matches its children: health finds the MHPSS capability too.
    assert_eq!(list(&app, "sector=health").await["total"], 3);
    assert_eq!(
        names(&list(&app, "sector=health-mhpss").await),
        ["Fundación Rumiñahui"]
    );
    assert_eq!(
        list(&app, "sector=health&support_type=telehealth-helpline").await["total"],
        2
    );
    assert_eq!(
        list(&app, "language=hat").await["total"],
        1,
        "639-3 accepted"
    );
    assert_eq!(list(&app, "verified=true").await["total"], 0);
    assert_eq!(list(&app, "verified=false").await["total"], 4);
    assert_eq!(
        list(&app, "updated_since=2999-01-01T00:00:00Z").await["total"],
        0
    );
    assert_eq!(
        list(&app, "updated_since=2000-01-01T00:00:00Z").await["total"],
        4
    );
}

#[tokio::test]
async fn an_unknown_code_is_a_400_naming_its_parameter_never_an_empty_result() {
    let app = TestApp::spawn().await;
    for (query, field) in [
        ("origin_country=XX", "origin_country"),
        ("country=HT,ZZZ", "country"),
        ("language=zz", "language"),
        ("sector=healthcare", "sector"),
        ("kind=club", "kind"),
        ("support_type=beer", "support_type"),
        ("facets=colour", "facets"),
        ("facets=", "facets"),
        ("kind=other,,national-ngo", "kind"),
        ("verified=yes", "verified"),
        ("updated_since=yesterday", "updated_since"),
        ("updated_since=-5000-01-01T00:00:00Z", "updated_since"),
        ("sort=popularity", "sort"),
        ("limit=101", "limit"),
        ("colour=red", "colour"),
    ] {
        let res = app.get(&format!("/v1/organizations?{query}")).await;
        let body = assert_problem(res, 400, "validation_failed").await;
        assert_eq!(body["errors"][0]["field"], field, "{query}");
    }
}

#[tokio::test]
async fn full_text_ignores_accents_works_in_every_language_and_forgives_typos_in_names() {
    let app = TestApp::spawn().await;
    directory(&app).await;
    for (q, expected) in [
        ("ruminahui", "Fundación Rumiñahui"),
        ("RUMIÑAHUI", "Fundación Rumiñahui"),
        ("fundacion rumi", "Fundación Rumiñahui"),
        ("psicologos", "Fundación Rumiñahui"),
        ("kreyol", "Asosyasyon Sante Dyaspora"),
        ("teleconsultations", "Asosyasyon Sante Dyaspora"),
        ("Ruminahi", "Fundación Rumiñahui"),
        ("Pakistan Doctor", "Pakistan Doctors Abroad"),
    ] {
        let page = list(&app, &format!("q={}", urlencode(q))).await;
        assert_eq!(
            names(&page).first().map(String::as_str),
            Some(expected),
            "q={q}: {:?}",
            names(&page)
        );
    }
    assert_eq!(list(&app, "q=zzzzqqqq").await["total"], 0);
    // Letters that unaccent turns into tsquery syntax (ʻ into ', ⑴ into (1)) are just text.
    for q in ["ʻOhana", "⑴", "ŉ", "a:b", "'", "&|!()"] {
        let res = app
            .get(&format!("/v1/organizations?q={}", urlencode(q)))
            .await;
        assert_eq!(res.status(), 200, "q={q}");
    }
    // Search combines with filters.
    assert_eq!(list(&app, "q=sante&origin_country=PK").await["total"], 0);
}

#[tokio::test]
async fn a_name_match_ranks_above_a_description_match() {
    let app = TestApp::spawn().await;
    let token = app.token("owner@example.org").await;
    publish(
        &app,
        &token,
        json!({"name": "Helping Hands", "kind": "other", "description": "We work with Haiti partners"}),
    )
    .await;
    publish(
        &app,
        &token,
        json!({"name": "Haiti Partners Network", "kind": "other"}),
    )
    .await;
    let page = list(&app, "q=haiti%20partners").await;
    assert_eq!(names(&page), ["Haiti Partners Network", "Helping Hands"]);
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn cursor_paging_walks_the_set_once_even_while_organizations_are_added() {
    let app = TestApp::spawn().await;
    let token = app.token("owner@example.org").await;
    for name in ["Alpha", "Bravo", "Charlie", "Delta", "Echo"] {
        publish(&app, &token, json!({"name": name, "kind": "other"})).await;
    }
    let mut seen = Vec::new();
    let mut path = "/v1/organizations?sort=name&limit=2".to_owned();
    let mut pages = 0;
    loop {
        let res = app.get(&path).await;
        let link = res
            .headers()
            .get("link")
            .map(|l| l.to_str().unwrap().to_owned());
        let page: Value = res.json().await.unwrap();
        assert_eq!(page["total"].as_i64().unwrap(), 5 + i64::from(pages > 0));
        seen.extend(names(&page));
        pages += 1;
        if pages == 1 {
            // Added mid-walk, before the cursor's position: not seen, and nothing repeats.
            publish(&app, &token, json!({"name": "Aardvark", "kind": "other"})).await;
        }
        match (page["next_cursor"].as_str(), link) {
            (Some(cursor), Some(link)) => {
                assert!(link.ends_with("; rel=\"next\""));
                assert!(link.contains(&urlencode(cursor)), "{link}");
                path = format!(
                    "/v1/organizations?sort=name&limit=2&cursor={}",
                    urlencode(cursor)
                );
            }
            (None, None) => break,
            other => panic!("cursor and Link disagree: {other:?}"),
        }
    }
    assert_eq!(seen, ["Alpha", "Bravo", "Charlie", "Delta", "Echo"]);
    assert_eq!(pages, 3);
}

#[tokio::test]
async fn a_forged_or_foreign_cursor_is_a_400() {
    let app = TestApp::spawn().await;
    let token = app.token("owner@example.org").await;
    for name in ["Alpha", "Bravo", "Charlie"] {
        publish(&app, &token, json!({"name": name, "kind": "other"})).await;
    }
    let page = list(&app, "sort=name&limit=1").await;
    let cursor = page["next_cursor"].as_str().unwrap().to_owned();
    // The same cursor with other filters, or another sort, or altered.
    for query in [
        format!("sort=name&limit=1&kind=other&cursor={cursor}"),
        format!("sort=-created_at&limit=1&cursor={cursor}"),
        format!("sort=name&limit=1&cursor={}x", &cursor[..cursor.len() - 1]),
        "cursor=not-a-cursor".to_owned(),
    ] {
        let res = app.get(&format!("/v1/organizations?{query}")).await;
        let body = assert_problem(res, 400, "validation_failed").await;
        assert_eq!(body["errors"][0]["field"], "cursor");
    }
    // The limit may change between pages.
    let res = app
        .get(&format!(
            "/v1/organizations?sort=name&limit=5&cursor={cursor}"
        ))
        .await;
    assert_eq!(res.status(), 200);
    let rest: Value = res.json().await.unwrap();
    assert_eq!(names(&rest), ["Bravo", "Charlie"]);
}

#[tokio::test]
async fn facets_count_the_whole_filtered_set_not_the_page() {
    let app = TestApp::spawn().await;
    directory(&app).await;
    let page = list(
        &app,
        "limit=1&sector=health&facets=kind,origin_country,language,sector",
    )
    .await;
    assert_eq!(page["data"].as_array().unwrap().len(), 1);
    let facets = &page["facets"];
    assert_eq!(
        facets["kind"],
        json!([{"value": "diaspora-organization", "count": 3}])
    );
    let en = facets["language"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["value"] == "en")
        .unwrap();
    assert_eq!(en["count"], 2);
    assert_eq!(facets["origin_country"].as_array().unwrap().len(), 3);
    assert!(list(&app, "").await.get("facets").is_none());
}

#[tokio::test]
async fn verified_organizations_come_first_by_default_and_expired_ones_do_not_count() {
    let app = TestApp::spawn().await;
    let token = app.token("owner@example.org").await;
    let moderator = app.moderator_token("mod@example.org").await;
    for name in ["Alpha", "Zulu"] {
        publish(&app, &token, json!({"name": name, "kind": "other"})).await;
    }
    let zulu = publish(&app, &token, json!({"name": "Yankee", "kind": "other"})).await;
    let id = zulu["id"].as_str().unwrap();
    app.post_as(
        &format!("/v1/organizations/{id}/verification-requests"),
        &token,
        &json!({}),
    )
    .await;
    app.post_as(
        &format!("/v1/admin/organizations/{id}/verification"),
        &moderator,
        &json!({"decision": "approve"}),
    )
    .await;
    assert_eq!(names(&list(&app, "").await), ["Yankee", "Alpha", "Zulu"]);
    assert_eq!(names(&list(&app, "verified=true").await), ["Yankee"]);
    // Page by page, across the step from verified to unverified, in both orders.
    assert_eq!(walk(&app, "").await, ["Yankee", "Alpha", "Zulu"]);
    assert_eq!(walk(&app, "sort=name").await, ["Alpha", "Yankee", "Zulu"]);
    assert_eq!(walk(&app, "verified=false").await, ["Alpha", "Zulu"]);
    app.sql(&format!(
        "UPDATE organizations SET verified_until = now() - interval '1 day' WHERE id = '{id}'"
    ))
    .await;
    assert_eq!(names(&list(&app, "").await), ["Alpha", "Yankee", "Zulu"]);
    assert_eq!(list(&app, "verified=true").await["total"], 0);
}

/// Names in the order a walk with one organization per page sees them.
async fn walk(app: &TestApp, query: &str) -> Vec<String> {
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = list(
            app,
            &match &cursor {
                Some(c) => format!("{query}&limit=1&cursor={}", urlencode(c)),
                None => format!("{query}&limit=1"),
            },
        )
        .await;
        seen.extend(names(&page));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return seen,
        }
        assert!(seen.len() < 100, "the walk does not end: {seen:?}");
    }
}

/// Totals and facets are cached per filter, but a change to any organization, through the API
/// or straight in the database (another server, a script), is counted at once.
#[tokio::test]
async fn totals_and_facets_follow_every_change() {
    let app = TestApp::spawn().await;
    directory(&app).await;
    let token = app.token("another@example.org").await;
    let query = "origin_country=HT&facets=sector";
    let sector_count = |page: &Value, code: &str| -> i64 {
        page["facets"]["sector"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["value"] == code)
            .map_or(0, |v| v["count"].as_i64().unwrap())
    };
    let before = list(&app, query).await;
    let total = before["total"].as_i64().unwrap();
    let education = sector_count(&before, "education");
    // Asked twice, unchanged: the same counts (from the cache).
    assert_eq!(list(&app, query).await, before);
    let org = publish(
        &app,
        &token,
        json!({"name": "Lekòl Dyaspora", "kind": "diaspora-organization", "origin_countries": ["HT"],
               "capabilities": [{"sector": "education", "support_types": ["in-kind"]}]}),
    )
    .await;
    let after = list(&app, query).await;
    assert_eq!(after["total"].as_i64().unwrap(), total + 1);
    assert_eq!(sector_count(&after, "education"), education + 1);
    // Changed behind the server's back.
    let id = org["id"].as_str().unwrap();
    app.sql(&format!(
        "UPDATE organizations SET status = 'draft' WHERE id = '{id}'"
    ))
    .await;
    let again = list(&app, query).await;
    assert_eq!(again["total"].as_i64().unwrap(), total);
    assert_eq!(sector_count(&again, "education"), education);
}

/// Every filter is served by an index: over a few thousand vacuumed and analysed rows (GIN
/// indexes are costed from their statistics, which VACUUM brings up to date), with sequential
/// scans priced out, each filter's column appears in an index condition of the plan (an
/// unindexed filter would show up only as a `Filter:` over some other index's full scan).
#[tokio::test]
async fn every_filter_is_index_backed() {
    use diesel_async::RunQueryDsl;
    let app = TestApp::spawn().await;
    let mut conn = app.db.connect().await;
    // Each value the cases below ask for is in 1% of the rows, as a real filter would be.
    diesel::sql_query(
        "INSERT INTO organizations (slug, name, kind, status, origin_countries, operating_countries, \
             residence_country, languages, capabilities, description, updated_at) \
         SELECT 'org-' || i, 'Org ' || i, \
             CASE WHEN i % 100 = 0 THEN 'diaspora-organization' ELSE 'national-ngo' END, 'published', \
             ARRAY[CASE WHEN i % 100 = 1 THEN 'HTI' ELSE 'PAK' END], \
             ARRAY[CASE WHEN i % 100 = 2 THEN 'HTI' ELSE 'ECU' END], \
             CASE WHEN i % 100 = 3 THEN 'USA' ELSE 'ESP' END, \
             ARRAY[CASE WHEN i % 100 = 4 THEN 'ht' ELSE 'es' END], \
             jsonb_build_array(jsonb_build_object( \
                 'sector', CASE WHEN i % 100 = 5 THEN 'health' ELSE 'shelter' END, \
                 'support_types', jsonb_build_array(CASE WHEN i % 100 = 6 THEN 'funding' ELSE 'in-kind' END))), \
             CASE WHEN i % 100 = 7 THEN 'Community kitchen' ELSE 'Logistics ' || md5(i::text) END, \
             now() - make_interval(mins => i) \
         FROM generate_series(1, 5000) i",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    // 1% of them engaged in a crisis.
    let crisis = uuid::Uuid::new_v4();
    for sql in [
        format!(
            "INSERT INTO crises (id, slug, name, hazard, countries, started_on, status) \
             VALUES ('{crisis}', 'quake', 'Quake', 'EQ', ARRAY['HTI'], '2021-08-14', 'active')"
        ),
        format!(
            "INSERT INTO engagements (crisis_id, organization_id, sectors, country, status) \
             SELECT '{crisis}', id, ARRAY['health'], 'HTI', 'ongoing' FROM organizations \
              WHERE slug LIKE '%8'"
        ),
    ] {
        diesel::sql_query(sql).execute(&mut conn).await.unwrap();
    }
    for sql in [
        "VACUUM ANALYZE organizations",
        "VACUUM ANALYZE engagements",
        "SET enable_seqscan = off",
    ] {
        diesel::sql_query(sql).execute(&mut conn).await.unwrap();
    }
    let codes = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let cases = [
        (
            OrganizationFilter {
                origin_countries: codes(&["HTI"]),
                ..Default::default()
            },
            "origin_countries",
        ),
        (
            OrganizationFilter {
                operating_countries: codes(&["HTI"]),
                ..Default::default()
            },
            "operating_countries",
        ),
        (
            OrganizationFilter {
                residence_countries: codes(&["USA"]),
                ..Default::default()
            },
            "residence_country",
        ),
        (
            OrganizationFilter {
                countries: codes(&["HTI"]),
                ..Default::default()
            },
            "origin_countries",
        ),
        (
            OrganizationFilter {
                sectors: codes(&["health", "health-mhpss"]),
                ..Default::default()
            },
            "sectors",
        ),
        (
            OrganizationFilter {
                support_types: codes(&["funding"]),
                ..Default::default()
            },
            "support_types",
        ),
        (
            OrganizationFilter {
                languages: codes(&["ht"]),
                ..Default::default()
            },
            "languages",
        ),
        (
            OrganizationFilter {
                kinds: codes(&["diaspora-organization"]),
                ..Default::default()
            },
            "kind",
        ),
        (
            OrganizationFilter {
                verified: Some(true),
                ..Default::default()
            },
            "verified",
        ),
        (
            OrganizationFilter {
                q: SearchText::parse_optional("community").unwrap(),
                ..Default::default()
            },
            "search_document",
        ),
        (
            OrganizationFilter {
                updated_since: Some(chrono::Utc::now() - chrono::Duration::minutes(30)),
                ..Default::default()
            },
            "updated_at",
        ),
        (
            OrganizationFilter {
                crisis: Some(crisis),
                ..Default::default()
            },
            "crisis_id",
        ),
    ];
    for (filter, column) in cases {
        let plan = explain_filter(&mut conn, &filter).await.unwrap();
        // A condition on the column, or (for `verified`) a partial index of verified
        // organizations only.
        let indexed = plan.lines().any(|l| {
            (l.contains("Index Cond") || l.contains("Recheck Cond")) && l.contains(column)
                || l.contains("using organizations_published_verified") && column == "verified"
        });
        assert!(indexed, "{column} is not index-backed:\n{plan}");
        assert!(!plan.contains("Seq Scan on organizations"), "{plan}");
    }
}

/// When matches are many, the default order (verified first, then by name) and the name order
/// are read by walking the name indexes, which carry the filtered columns: PostgreSQL stops
/// after a page of matches instead of reading every match from the table and sorting. When
/// they are few, they are collected through the filters' indexes and sorted, and no name index
/// is walked (which would read most of it).
#[tokio::test]
async fn pages_are_read_in_index_order() {
    use diesel_async::RunQueryDsl;
    let app = TestApp::spawn().await;
    let mut conn = app.db.connect().await;
    // A broad filter (half the rows), a fifth of them verified.
    diesel::sql_query(
        "INSERT INTO organizations (slug, name, kind, status, origin_countries, languages, \
             capabilities, verification_status, verified_at, verified_until) \
         SELECT 'org-' || i, 'Org ' || md5(i::text), 'diaspora-organization', 'published', \
             ARRAY[CASE WHEN i % 2 = 0 THEN 'HTI' ELSE 'PAK' END], ARRAY['fr'], \
             jsonb_build_array(jsonb_build_object('sector', \
                 CASE WHEN i % 3 = 0 THEN 'health' ELSE 'shelter' END, 'support_types', '[\"funding\"]'::jsonb)), \
             CASE WHEN i % 5 = 0 THEN 'verified' ELSE 'unverified' END, \
             CASE WHEN i % 5 = 0 THEN now() END, CASE WHEN i % 5 = 0 THEN now() + interval '1 year' END \
         FROM generate_series(1, 20000) i",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    diesel::sql_query("VACUUM ANALYZE organizations")
        .execute(&mut conn)
        .await
        .unwrap();
    let filter = OrganizationFilter {
        origin_countries: vec!["HTI".to_owned()],
        ..Default::default()
    };
    assert_eq!(Plan::for_total(&filter, 10_000), Plan::Walk);
    let plan = explain_ordered_page(&mut conn, &filter, Sort::VerifiedThenName, 21, Plan::Walk)
        .await
        .unwrap();
    for index in [
        "Index Only Scan using organizations_published_verified_name_idx",
        "Index Only Scan using organizations_published_name_idx",
    ] {
        assert!(plan.contains(index), "no {index}:\n{plan}");
    }
    assert!(!plan.contains("Bitmap"), "{plan}");
    let plan = explain_ordered_page(&mut conn, &filter, Sort::Name, 21, Plan::Walk)
        .await
        .unwrap();
    assert!(
        plan.contains("Index Only Scan using organizations_published_name_idx"),
        "{plan}"
    );
    // `verified=true` needs no walk of the unverified organizations.
    let verified = OrganizationFilter {
        verified: Some(true),
        ..filter.clone()
    };
    let plan = explain_ordered_page(&mut conn, &verified, Sort::VerifiedThenName, 21, Plan::Walk)
        .await
        .unwrap();
    assert!(!plan.contains("organizations_published_name_idx"), "{plan}");
    // Few matches: collected through the filters' indexes.
    let rare = OrganizationFilter {
        origin_countries: vec!["HTI".to_owned()],
        languages: vec!["fr".to_owned()],
        sectors: vec!["health".to_owned()],
        updated_since: Some(chrono::Utc::now() + chrono::Duration::days(1)),
        ..Default::default()
    };
    assert_eq!(Plan::for_total(&rare, 0), Plan::Collect);
    let plan = explain_ordered_page(&mut conn, &rare, Sort::VerifiedThenName, 21, Plan::Collect)
        .await
        .unwrap();
    assert!(
        !plan.contains("Index Only Scan using organizations_published_"),
        "{plan}"
    );
    assert!(
        plan.contains("organizations_published_updated_idx"),
        "{plan}"
    );
}

/// The name index carries every filtered column; the largest profile the limits allow must
/// still fit in an index entry, or it could never be published.
#[tokio::test]
async fn the_largest_profile_can_be_published() {
    let app = TestApp::spawn().await;
    let token = app.token("big@example.org").await;
    let codes = |body: &Value, len: usize| -> Vec<String> {
        body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["code"].as_str().unwrap().to_owned())
            .filter(|c| c.len() == len)
            .collect()
    };
    let countries = codes(&list_json(&app, "/v1/countries?limit=100").await, 3);
    let languages = codes(&list_json(&app, "/v1/languages?limit=100").await, 3);
    assert!(countries.len() >= 50 && languages.len() >= 30);
    // Characters that take four bytes each, all different (nothing to compress).
    let long = |n: u32, from: u32| -> String {
        (0..n)
            .filter_map(|i| char::from_u32(0x20000 + from + i))
            .collect()
    };
    let sectors = diaspora_directory::domain::reference::SECTOR_CODES;
    let support = diaspora_directory::domain::reference::SUPPORT_TYPE_CODES;
    // Texts that are not indexed here are left short: the request body has its own limit.
    let capabilities: Vec<Value> = sectors
        .iter()
        .map(|s| json!({"sector": s, "support_types": support}))
        .collect();
    let org = publish(
        &app,
        &token,
        json!({
            "name": long(200, 0), "acronym": long(30, 300), "kind": "diaspora-organization",
            "origin_countries": &countries[..20], "operating_countries": &countries[..50],
            "residence_country": &countries[0], "languages": &languages[..30],
            "capabilities": capabilities,
        }),
    )
    .await;
    let page = list(
        &app,
        &format!("origin_country={}&sector=health", countries[0]),
    )
    .await;
    assert_eq!(page["data"][0]["id"], org["id"]);
}

async fn list_json(app: &TestApp, path: &str) -> Value {
    let res = app.get(path).await;
    assert_eq!(res.status(), 200, "{path}");
    res.json().await.unwrap()
}

#[tokio::test]
async fn matches_rank_by_fit_and_say_why() {
    let app = TestApp::spawn().await;
    directory(&app).await;
    let res = app
        .post_json(
            "/v1/matches",
            &json!({"origin_country": "ht", "sectors": ["health"], "support_types": ["telehealth-helpline"], "languages": ["ht"]}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    let data = body["data"].as_array().unwrap();
    assert_eq!(data.len(), 1, "only organizations from Haiti: {body}");
    assert_eq!(body["total"], 1);
    let best = &data[0];
    assert_eq!(best["organization"]["name"], "Asosyasyon Sante Dyaspora");
    assert_eq!(best["score"], 1.0);
    let criteria: Vec<&str> = best["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["criterion"].as_str().unwrap())
        .collect();
    assert_eq!(
        criteria,
        ["origin_country", "sectors", "support_types", "languages"]
    );

    // Any role: operating in Haiti counts, below origin.
    let body: Value = app
        .post_json(
            "/v1/matches",
            &json!({"country": "HTI", "sectors": ["health"]}),
        )
        .await
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["organization"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["Asosyasyon Sante Dyaspora", "Relief Partners International"]
    );
    let second = &body["data"][1];
    assert!(second["score"].as_f64().unwrap() < body["data"][0]["score"].as_f64().unwrap());
    assert_eq!(second["reasons"][0]["criterion"], "operating_country");

    // Without a country, any criterion qualifies; a parent sector is met by its child.
    let body: Value = app
        .post_json(
            "/v1/matches",
            &json!({"sectors": ["health"], "languages": ["qu"]}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        body["data"][0]["organization"]["name"],
        "Fundación Rumiñahui"
    );
    assert_eq!(
        body["data"][0]["reasons"][0],
        json!({"criterion": "sectors", "matched": ["health"]})
    );
    assert_eq!(body["total"], 3);

    // A preferred residence named twice counts once: scores stay within 0..1.
    let body: Value = app
        .post_json(
            "/v1/matches",
            &json!({"residence_countries": ["ES", "ESP", "es"]}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["data"][0]["score"], 1.0);
    assert_eq!(body["data"][0]["reasons"][0]["matched"], json!(["ESP"]));
}

#[tokio::test]
async fn at_equal_fit_verified_organizations_come_first() {
    let app = TestApp::spawn().await;
    let token = app.token("owner@example.org").await;
    let moderator = app.moderator_token("mod@example.org").await;
    let same = |name: &str| {
        json!({"name": name, "kind": "diaspora-organization", "origin_countries": ["SO"],
               "capabilities": [{"sector": "wash", "support_types": ["in-kind"]}]})
    };
    publish(&app, &token, same("Aaa Somali Water")).await;
    let verified = publish(&app, &token, same("Zzz Somali Water")).await;
    let id = verified["id"].as_str().unwrap();
    app.post_as(
        &format!("/v1/organizations/{id}/verification-requests"),
        &token,
        &json!({}),
    )
    .await;
    app.post_as(
        &format!("/v1/admin/organizations/{id}/verification"),
        &moderator,
        &json!({"decision": "approve"}),
    )
    .await;
    let body: Value = app
        .post_json(
            "/v1/matches",
            &json!({"origin_country": "SOM", "sectors": ["wash"]}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["data"][0]["organization"]["name"], "Zzz Somali Water");
    assert_eq!(body["data"][0]["score"], body["data"][1]["score"]);
}

#[tokio::test]
async fn a_need_must_name_valid_criteria() {
    let app = TestApp::spawn().await;
    for (body, field) in [
        (json!({}), "body"),
        (json!({"origin_country": "XX"}), "origin_country"),
        (
            json!({"country": "HT", "languages": ["zz"]}),
            "languages[0]",
        ),
        (json!({"sectors": ["healthcare"]}), "sectors[0]"),
        (
            json!({"residence_countries": ["US", "QQ"]}),
            "residence_countries[1]",
        ),
        (json!({"origin_country": "HT", "limit": 0}), "limit"),
        (
            json!({"sectors": ["health", "wash", "cccm", "education", "nutrition", "shelter", "logistics",
                               "protection", "early-recovery", "food-security", "health-mhpss",
                               "protection-gbv", "protection-hlp", "protection-child",
                               "protection-mine-action", "emergency-telecommunications", "health"]}),
            "sectors",
        ),
    ] {
        let res = app.post_json("/v1/matches", &body).await;
        let problem = assert_problem(res, 422, "validation_failed").await;
        let fields: Vec<&str> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert!(fields.contains(&field), "{body}: {fields:?}");
    }
}
