//! Needs and offers: members post them for their organization; everyone reads those of
//! published organizations; each is matched against the other side (and needs against
//! organizations' profiles), with a score and reasons; expiry needs no one to act.

use serde_json::{Value, json};

use crate::harness::{TestApp, assert_problem};

struct Scene {
    crisis: String,
    crisis_slug: String,
    moderator: String,
    /// An NGO that needs things.
    ngo_owner: String,
    ngo: String,
    /// A diaspora group that offers things.
    group_owner: String,
    group: String,
}

async fn scene(app: &TestApp) -> Scene {
    let moderator = app.moderator_token("mod@example.org").await;
    let res = app
        .post_as(
            "/v1/crises",
            &moderator,
            &json!({"name": "Haiti earthquake 2021", "glide": "EQ-2021-000116-HTI", "type": "EQ",
                    "countries": ["HTI"], "started_on": "2021-08-14"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let crisis: Value = res.json().await.unwrap();
    let ngo_owner = app.token("ngo@example.org").await;
    let group_owner = app.token("group@example.org").await;
    let ngo = app
        .create_organization(
            &ngo_owner,
            json!({"name": "Hôpital Saint-Antoine", "kind": "national-ngo", "status": "published",
                   "operating_countries": ["HTI"],
                   "capabilities": [{"sector": "health", "support_types": ["professional-expertise"]}]}),
        )
        .await;
    let group = app
        .create_organization(
            &group_owner,
            json!({"name": "Asosyasyon Sante Dyaspora", "kind": "diaspora-organization",
                   "status": "published", "origin_countries": ["HTI"], "languages": ["ht", "fr"],
                   "capabilities": [{"sector": "health-mhpss", "support_types": ["telehealth-helpline"]}]}),
        )
        .await;
    Scene {
        crisis: crisis["id"].as_str().unwrap().to_owned(),
        crisis_slug: crisis["slug"].as_str().unwrap().to_owned(),
        moderator,
        ngo_owner,
        ngo: ngo["id"].as_str().unwrap().to_owned(),
        group_owner,
        group: group["id"].as_str().unwrap().to_owned(),
    }
}

async fn post(app: &TestApp, side: &str, token: &str, body: Value) -> Value {
    let res = app.post_as(&format!("/v1/{side}"), token, &body).await;
    assert_eq!(res.status(), 201, "posting to /v1/{side}: {body}");
    res.json().await.unwrap()
}

async fn get_json(app: &TestApp, path: &str) -> Value {
    let res = app.get(path).await;
    assert_eq!(res.status(), 200, "{path}");
    res.json().await.unwrap()
}

fn ids(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect()
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn members_post_needs_and_offers_and_everyone_reads_them() {
    let app = TestApp::spawn().await;
    let s = scene(&app).await;
    let res = app
        .post_as(
            "/v1/needs",
            &s.ngo_owner,
            &json!({"organization_id": s.ngo, "crisis_id": s.crisis, "country": "ht",
                    "admin1": "Grand'Anse", "sectors": ["health-mhpss"],
                    "support_types": ["professional-expertise"], "languages": ["hat", "fr"],
                    "title": "Creole-speaking psychologists", "description": "For the Jérémie hospital.",
                    "quantity": "3 psychologists, 10 hours a week"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(res.headers().contains_key("etag"));
    let need: Value = res.json().await.unwrap();
    assert_eq!(location, format!("/v1/needs/{}", id(&need)));
    assert_eq!(need["country"], "HTI");
    assert_eq!(need["languages"], json!(["ht", "fr"]));
    assert_eq!(need["status"], "open");
    assert_eq!(need["crisis_id"], s.crisis.as_str());

    // Anyone reads it, by id and in the list of needs; it is not an offer.
    let read = get_json(&app, &location).await;
    assert_eq!(read, need);
    assert_eq!(ids(&get_json(&app, "/v1/needs").await), [id(&need)]);
    assert_eq!(get_json(&app, "/v1/offers").await["total"], 0);
    assert_problem(
        app.get(&format!("/v1/offers/{}", id(&need))).await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.get("/v1/needs/not-a-uuid").await,
        400,
        "validation_failed",
    )
    .await;

    // The crisis counts it.
    let crisis = get_json(&app, &format!("/v1/crises/{}", s.crisis_slug)).await;
    assert_eq!(crisis["open_needs"], 1);
    assert_eq!(crisis["open_offers"], 0);

    // A change by a member, honouring If-Match; then a removal.
    let res = app
        .request(reqwest::Method::PATCH, &location, Some(&s.ngo_owner))
        .header("if-match", "\"0-open\"")
        .json(&json!({"quantity": null}))
        .send()
        .await
        .unwrap();
    assert_problem(res, 412, "precondition_failed").await;
    let res = app
        .patch_as(
            &location,
            &s.ngo_owner,
            &json!({"status": "fulfilled", "quantity": null}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let changed: Value = res.json().await.unwrap();
    assert_eq!(changed["status"], "fulfilled");
    assert_eq!(changed["quantity"], Value::Null);
    assert_eq!(changed["title"], need["title"]);
    // No longer open: gone from the default list and the crisis's count.
    assert_eq!(get_json(&app, "/v1/needs").await["total"], 0);
    assert_eq!(
        ids(&get_json(&app, "/v1/needs?status=fulfilled").await),
        [id(&need)]
    );
    let crisis = get_json(&app, &format!("/v1/crises/{}", s.crisis)).await;
    assert_eq!(crisis["open_needs"], 0);

    let offer = post(
        &app,
        "offers",
        &s.group_owner,
        json!({"organization_id": s.group, "country": "HTI", "sectors": ["health"],
               "title": "Online consultations", "description": "Doctors of the diaspora, by video."}),
    )
    .await;
    assert_eq!(offer["status"], "open");
    let res = app
        .delete_as(&format!("/v1/offers/{}", id(&offer)), &s.group_owner)
        .await;
    assert_eq!(res.status(), 204);
    assert_problem(
        app.get(&format!("/v1/offers/{}", id(&offer))).await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn only_an_organizations_members_write_its_needs_and_offers() {
    let app = TestApp::spawn().await;
    let s = scene(&app).await;
    let body = json!({"organization_id": s.ngo, "country": "HTI", "sectors": ["wash"],
                      "title": "Water tanks", "description": "Ten 5,000-litre tanks."});
    // Anonymous: 401. A member of another organization: 403, for a need and for an offer.
    let res = app
        .request(reqwest::Method::POST, "/v1/needs", None)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_problem(res, 401, "unauthorized").await;
    for side in ["needs", "offers"] {
        let res = app
            .post_as(&format!("/v1/{side}"), &s.group_owner, &body)
            .await;
        assert_problem(res, 403, "forbidden").await;
    }
    let need = post(&app, "needs", &s.ngo_owner, body.clone()).await;
    let path = format!("/v1/needs/{}", id(&need));
    // The other organization's member can read it but not change or remove it.
    let res = app
        .patch_as(&path, &s.group_owner, &json!({"status": "withdrawn"}))
        .await;
    assert_problem(res, 403, "forbidden").await;
    let res = app.delete_as(&path, &s.group_owner).await;
    assert_problem(res, 403, "forbidden").await;
    // Nor move it to their own organization, or set fields the server owns.
    let res = app
        .patch_as(&path, &s.ngo_owner, &json!({"organization_id": s.group}))
        .await;
    assert_problem(res, 422, "validation_failed").await;
    let res = app
        .post_as(
            "/v1/needs",
            &s.ngo_owner,
            &json!({"organization_id": s.ngo, "country": "HTI", "sectors": ["wash"],
                    "title": "Water", "description": "Tanks", "status": "fulfilled"}),
        )
        .await;
    assert_problem(res, 422, "validation_failed").await;
    assert_eq!(get_json(&app, &path).await["status"], "open");
    // A moderator may (abuse is removed without the organization's help).
    let res = app
        .patch_as(&path, &s.moderator, &json!({"status": "withdrawn"}))
        .await;
    assert_eq!(res.status(), 200);
    let res = app.delete_as(&path, &s.moderator).await;
    assert_eq!(res.status(), 204);
}

#[tokio::test]
async fn bad_postings_name_every_bad_field() {
    let app = TestApp::spawn().await;
    let s = scene(&app).await;
    // The Dominican Republic is not a country of this crisis; the last day has passed; the
    // sector and language codes are unknown; the title is blank.
    let res = app
        .post_as(
            "/v1/offers",
            &s.group_owner,
            &json!({"organization_id": s.group, "crisis_id": s.crisis, "country": "DO",
                    "sectors": ["astrology"], "languages": ["xx"], "title": " ",
                    "description": "Help", "valid_until": "2020-01-01"}),
        )
        .await;
    let body = assert_problem(res, 422, "validation_failed").await;
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&"languages[0]"), "{fields:?}");
    assert!(fields.contains(&"title"), "{fields:?}");
    assert!(fields.contains(&"valid_until"), "{fields:?}");
    assert!(body["errors"].as_array().unwrap().iter().any(|e| {
        e["field"] == "country"
            && e["message"]
                .as_str()
                .unwrap()
                .contains("not a country of this crisis")
    }));
    // An unknown crisis; no sector at all.
    let res = app
        .post_as(
            "/v1/offers",
            &s.group_owner,
            &json!({"organization_id": s.group, "crisis_id": "00000000-0000-4000-8000-000000000000",
                    "country": "HT", "sectors": [], "title": "Help", "description": "Help"}),
        )
        .await;
    let body = assert_problem(res, 422, "validation_failed").await;
    assert!(body["detail"].as_str().unwrap().contains("crisis_id"));
    // A date PostgreSQL cannot store, on a posting whose last day is not checked against
    // today: a 422, not a 500.
    let offer = post(
        &app,
        "offers",
        &s.group_owner,
        json!({"organization_id": s.group, "country": "HT", "sectors": ["health"],
               "title": "Help", "description": "Help"}),
    )
    .await;
    let res = app
        .patch_as(
            &format!("/v1/offers/{}", id(&offer)),
            &s.group_owner,
            &json!({"status": "withdrawn", "valid_until": "-5000-01-01"}),
        )
        .await;
    let body = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "valid_until");
    // Bad list parameters are 400s that name the parameter.
    for query in [
        "sector=astrology",
        "crisis=no-such-crisis",
        "status=lost",
        "country=XX",
        "language=xx",
        "limit=0",
        "cursor=garbage",
    ] {
        let res = app.get(&format!("/v1/offers?{query}")).await;
        let body = assert_problem(res, 400, "validation_failed").await;
        let name = query.split('=').next().unwrap();
        assert!(
            body["detail"].as_str().unwrap().contains(name),
            "{query}: {body}"
        );
    }
}

#[tokio::test]
async fn drafts_postings_are_seen_by_their_members_only() {
    let app = TestApp::spawn().await;
    let s = scene(&app).await;
    let owner = app.token("draft@example.org").await;
    let draft = app
        .create_organization(
            &owner,
            json!({"name": "Not yet public", "kind": "diaspora-organization"}),
        )
        .await;
    let offer = post(
        &app,
        "offers",
        &owner,
        json!({"organization_id": draft["id"], "country": "HTI", "sectors": ["education"],
               "title": "Tutors", "description": "Online tutoring in Creole."}),
    )
    .await;
    let path = format!("/v1/offers/{}", id(&offer));
    let res = app.get_as(&path, &owner).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "private, no-store");
    assert_eq!(app.get_as(&path, &s.moderator).await.status(), 200);
    assert_problem(app.get(&path).await, 404, "not_found").await;
    assert_problem(app.get_as(&path, &s.ngo_owner).await, 404, "not_found").await;
    assert_problem(app.get(&format!("{path}/matches")).await, 404, "not_found").await;
    assert_eq!(get_json(&app, "/v1/offers").await["total"], 0);
    // Once the organization is published, its offer is public.
    let res = app
        .patch_as(
            &format!("/v1/organizations/{}", draft["id"].as_str().unwrap()),
            &owner,
            &json!({"status": "published"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let res = app.get(&path).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-cache");
    assert_eq!(ids(&get_json(&app, "/v1/offers").await), [id(&offer)]);
    // Suspended, its members can no longer post or change its offers; a moderator can.
    app.sql(&format!(
        "UPDATE organizations SET status = 'suspended' WHERE id = '{}'",
        draft["id"].as_str().unwrap()
    ))
    .await;
    let res = app
        .patch_as(&path, &owner, &json!({"status": "withdrawn"}))
        .await;
    let body = assert_problem(res, 403, "forbidden").await;
    assert!(body["detail"].as_str().unwrap().contains("suspended"));
    let res = app
        .post_as(
            "/v1/offers",
            &owner,
            &json!({"organization_id": draft["id"], "country": "HTI", "sectors": ["education"],
                    "title": "More tutors", "description": "Online."}),
        )
        .await;
    assert_problem(res, 403, "forbidden").await;
    let res = app
        .patch_as(&path, &s.moderator, &json!({"status": "withdrawn"}))
        .await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn lists_filter_by_every_criterion_and_page() {
    let app = TestApp::spawn().await;
    let s = scene(&app).await;
    let mhpss = post(
        &app,
        "offers",
        &s.group_owner,
        json!({"organization_id": s.group, "crisis_id": s.crisis, "country": "HTI",
               "sectors": ["health-mhpss"], "support_types": ["telehealth-helpline"],
               "languages": ["ht"], "title": "Écoute psychologique",
               "description": "A helpline in Creole, every evening."}),
    )
    .await;
    let shelter = post(
        &app,
        "offers",
        &s.group_owner,
        json!({"organization_id": s.group, "country": "DOM", "sectors": ["shelter"],
               "support_types": ["in-kind"], "languages": ["es"], "title": "Tents",
               "description": "Family tents in a warehouse in Santo Domingo."}),
    )
    .await;
    let tutoring = post(
        &app,
        "offers",
        &s.group_owner,
        json!({"organization_id": s.group, "country": "HTI", "sectors": ["education"],
               "support_types": ["tutoring-education"], "languages": ["fr"],
               "title": "Tutors", "description": "Maths and French, online."}),
    )
    .await;
    let cases: [(&str, Vec<&Value>); 9] = [
        ("", vec![&tutoring, &shelter, &mhpss]),
        (&format!("crisis={}", s.crisis_slug), vec![&mhpss]),
        ("country=DO", vec![&shelter]),
        // A parent sector finds its children.
        ("sector=health", vec![&mhpss]),
        ("sector=shelter,education", vec![&tutoring, &shelter]),
        ("support_type=in-kind", vec![&shelter]),
        ("language=hat", vec![&mhpss]),
        // Word prefixes, accents ignored.
        ("q=ecou", vec![&mhpss]),
        (&format!("organization_id={}", s.ngo), vec![]),
    ];
    for (query, expected) in cases {
        let page = get_json(&app, &format!("/v1/offers?{query}")).await;
        let expected: Vec<String> = expected.into_iter().map(id).collect();
        assert_eq!(ids(&page), expected, "{query}");
        assert_eq!(page["total"], expected.len(), "{query}");
    }
    // Pages of one, newest first, with cursors.
    let mut seen = Vec::new();
    let mut url = "/v1/offers?limit=1".to_owned();
    loop {
        let page = get_json(&app, &url).await;
        assert_eq!(page["total"], 3);
        seen.extend(ids(&page));
        match page["next_cursor"].as_str() {
            Some(cursor) => url = format!("/v1/offers?limit=1&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, [id(&tutoring), id(&shelter), id(&mhpss)]);
}

#[tokio::test]
async fn an_open_posting_expires_after_its_last_day_without_anyone_acting() {
    let app = TestApp::spawn().await;
    let s = scene(&app).await;
    let today = chrono::Utc::now().date_naive();
    let need = post(
        &app,
        "needs",
        &s.ngo_owner,
        json!({"organization_id": s.ngo, "crisis_id": s.crisis, "country": "HTI",
               "sectors": ["health"], "title": "Insulin", "description": "Cold chain needed.",
               "valid_until": today.to_string()}),
    )
    .await;
    assert_eq!(need["status"], "open");
    let path = format!("/v1/needs/{}", id(&need));
    let etag = app.get(&path).await.headers()["etag"].clone();
    // Its last day passes.
    app.sql(&format!(
        "UPDATE postings SET valid_until = '{}' WHERE id = '{}'",
        today - chrono::Days::new(1),
        id(&need)
    ))
    .await;
    let res = app.get(&path).await;
    assert_ne!(res.headers()["etag"], etag, "the tag follows the status");
    let read: Value = res.json().await.unwrap();
    assert_eq!(read["status"], "expired");
    assert_eq!(get_json(&app, "/v1/needs").await["total"], 0);
    assert_eq!(
        ids(&get_json(&app, "/v1/needs?status=expired").await),
        [id(&need)]
    );
    let crisis = get_json(&app, &format!("/v1/crises/{}", s.crisis)).await;
    assert_eq!(crisis["open_needs"], 0);
    // An expired need is matched by no offer.
    let offer = post(
        &app,
        "offers",
        &s.group_owner,
        json!({"organization_id": s.group, "country": "HTI", "sectors": ["health"],
               "title": "Insulin pens", "description": "From a pharmacy in Montréal."}),
    )
    .await;
    let matches = get_json(&app, &format!("/v1/offers/{}/matches", id(&offer))).await;
    assert_eq!(matches["total"], 0);
    // Fixing a typo in it keeps it expired, with no new last day asked for.
    let res = app
        .patch_as(
            &path,
            &s.ngo_owner,
            &json!({"title": "Insulin (cold chain)"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let fixed: Value = res.json().await.unwrap();
    assert_eq!(fixed["status"], "expired");
    // Reopening it takes a new last day.
    let res = app
        .patch_as(&path, &s.ngo_owner, &json!({"status": "open"}))
        .await;
    let body = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "valid_until");
    let res = app
        .patch_as(
            &path,
            &s.ngo_owner,
            &json!({"status": "open", "valid_until": (today + chrono::Days::new(30)).to_string()}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let reopened: Value = res.json().await.unwrap();
    assert_eq!(reopened["status"], "open");
    let matches = get_json(&app, &format!("/v1/offers/{}/matches", id(&offer))).await;
    assert_eq!(ids(&matches_postings(&matches)), [id(&need)]);
}

/// The postings of a match page, as a page of postings.
fn matches_postings(page: &Value) -> Value {
    json!({"data": page["data"].as_array().unwrap().iter().filter_map(|m| m.get("posting").cloned()).collect::<Vec<_>>()})
}

fn reasons(m: &Value) -> Vec<(String, Value)> {
    m["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["criterion"].as_str().unwrap().to_owned(),
                r["matched"].clone(),
            )
        })
        .collect()
}

#[tokio::test]
async fn needs_and_offers_match_in_a_stated_order_with_reasons() {
    let app = TestApp::spawn().await;
    let s = scene(&app).await;
    let need = post(
        &app,
        "needs",
        &s.ngo_owner,
        json!({"organization_id": s.ngo, "crisis_id": s.crisis, "country": "HTI",
               "sectors": ["health"], "support_types": ["telehealth-helpline"],
               "languages": ["ht", "fr"], "title": "Telehealth for Jérémie",
               "description": "Doctors and psychologists by phone."}),
    )
    .await;
    // The group is verified; its offer meets every criterion (a child sector meets `health`).
    app.sql(&format!(
        "UPDATE organizations SET verification_status = 'verified', verified_at = now(), \
         verified_until = now() + interval '1 year' WHERE id = '{}'",
        s.group
    ))
    .await;
    let best = post(
        &app,
        "offers",
        &s.group_owner,
        json!({"organization_id": s.group, "crisis_id": s.crisis, "country": "HTI",
               "sectors": ["health-mhpss"], "support_types": ["telehealth-helpline"],
               "languages": ["ht", "fr"], "title": "Helpline", "description": "Every evening."}),
    )
    .await;
    // Two unverified organizations' offers with the same, lower score: by name.
    let mut tied = Vec::new();
    for name in ["Zanmi Sante", "Alyans Medikal"] {
        let owner = app.token(&format!("{}@example.org", name.len())).await;
        let org = app
            .create_organization(
                &owner,
                json!({"name": name, "kind": "diaspora-organization", "status": "published"}),
            )
            .await;
        let offer = post(
            &app,
            "offers",
            &owner,
            json!({"organization_id": org["id"], "country": "HTI", "sectors": ["health"],
                   "languages": ["fr"], "title": "Doctors", "description": "By video."}),
        )
        .await;
        tied.push((owner, offer));
    }
    // Not matches: another country, another sector, withdrawn, the NGO's own offer.
    let other = &tied[0].0;
    let other_org = tied[0].1["organization_id"].clone();
    for body in [
        json!({"country": "DOM", "sectors": ["health"]}),
        json!({"country": "HTI", "sectors": ["education"]}),
    ] {
        let mut body = body;
        body["organization_id"] = other_org.clone();
        body["title"] = json!("Other");
        body["description"] = json!("Other");
        post(&app, "offers", other, body).await;
    }
    let withdrawn = post(
        &app,
        "offers",
        other,
        json!({"organization_id": other_org, "country": "HTI", "sectors": ["health"],
               "title": "Withdrawn", "description": "No longer."}),
    )
    .await;
    let res = app
        .patch_as(
            &format!("/v1/offers/{}", id(&withdrawn)),
            other,
            &json!({"status": "withdrawn"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    post(
        &app,
        "offers",
        &s.ngo_owner,
        json!({"organization_id": s.ngo, "country": "HTI", "sectors": ["health"],
               "title": "Own", "description": "Our own offer."}),
    )
    .await;
    // A draft organization's offer would be the best match, but is not public.
    let hidden_owner = app.token("hidden@example.org").await;
    let hidden = app
        .create_organization(
            &hidden_owner,
            json!({"name": "AAA Draft", "kind": "diaspora-organization",
                   "origin_countries": ["HTI"], "languages": ["ht", "fr"],
                   "capabilities": [{"sector": "health", "support_types": ["telehealth-helpline"]}]}),
        )
        .await;
    post(
        &app,
        "offers",
        &hidden_owner,
        json!({"organization_id": hidden["id"], "crisis_id": s.crisis, "country": "HTI",
               "sectors": ["health"], "support_types": ["telehealth-helpline"],
               "languages": ["ht", "fr"], "title": "Hidden", "description": "Not public."}),
    )
    .await;
    // An organization with no offer whose profile ties with the two offers (country, sector,
    // half the languages): offers come first, though its name sorts first.
    let aide_owner = app.token("aide@example.org").await;
    app.create_organization(
        &aide_owner,
        json!({"name": "Aide Médicale", "kind": "diaspora-organization", "status": "published",
               "operating_countries": ["HTI"], "languages": ["fr"],
               "capabilities": [{"sector": "health-mhpss", "support_types": ["funding"]}]}),
    )
    .await;
    // An organization with no offer whose profile fits, engaged in the crisis.
    let clinic_owner = app.token("clinic@example.org").await;
    let clinic = app
        .create_organization(
            &clinic_owner,
            json!({"name": "Klinik Lakay", "kind": "diaspora-organization", "status": "published",
                   "origin_countries": ["HTI"], "languages": ["ht"],
                   "capabilities": [{"sector": "health", "support_types": ["in-kind"]}]}),
        )
        .await;
    let res = app
        .post_as(
            &format!("/v1/crises/{}/engagements", s.crisis),
            &clinic_owner,
            &json!({"organization_id": clinic["id"], "sectors": ["health"], "country": "HTI",
                    "status": "ongoing"}),
        )
        .await;
    assert_eq!(res.status(), 201);

    let path = format!("/v1/needs/{}/matches", id(&need));
    let page = get_json(&app, &path).await;
    let data = page["data"].as_array().unwrap();
    let order: Vec<(String, String, f64)> = data
        .iter()
        .map(|m| {
            (
                m["kind"].as_str().unwrap().to_owned(),
                m["organization"]["name"].as_str().unwrap().to_owned(),
                m["score"].as_f64().unwrap(),
            )
        })
        .collect();
    // Scores: weights over what the need names (country .30, sectors .25, support .15,
    // languages .15, crisis .10, verified .05 = 1).
    // best: everything = 1. The tied offers: country, sector, half the languages = .625.
    // The clinic: country, sector, half the languages, engaged in the crisis = .725.
    // The group has an offer, so its profile is not listed again.
    assert_eq!(
        order,
        [
            ("offer".into(), "Asosyasyon Sante Dyaspora".into(), 1.0),
            ("organization".into(), "Klinik Lakay".into(), 0.725),
            ("offer".into(), "Alyans Medikal".into(), 0.625),
            ("offer".into(), "Zanmi Sante".into(), 0.625),
            ("organization".into(), "Aide Médicale".into(), 0.625),
        ]
    );
    assert_eq!(page["total"], 5);
    // Nor does the crisis count the draft's offer.
    let crisis = get_json(&app, &format!("/v1/crises/{}", s.crisis)).await;
    assert_eq!(crisis["open_offers"], 1);
    assert_eq!(crisis["open_needs"], 1);
    assert_eq!(data[0]["posting"]["id"], id(&best).as_str());
    assert_eq!(
        reasons(&data[0]),
        [
            ("country".into(), json!(["HTI"])),
            ("sectors".into(), json!(["health"])),
            ("support_types".into(), json!(["telehealth-helpline"])),
            ("languages".into(), json!(["ht", "fr"])),
            ("crisis".into(), json!([s.crisis])),
            ("verified".into(), json!([])),
        ]
    );
    assert!(data[1].get("posting").is_none());
    assert_eq!(data[1]["organization"]["id"], clinic["id"]);
    assert_eq!(
        reasons(&data[1]),
        [
            ("country".into(), json!(["HTI"])),
            ("sectors".into(), json!(["health"])),
            ("languages".into(), json!(["ht"])),
            ("crisis".into(), json!([s.crisis])),
        ]
    );
    // The same order on every call; `limit` cuts it.
    assert_eq!(get_json(&app, &path).await, page);
    let first = get_json(&app, &format!("{path}?limit=1")).await;
    assert_eq!(first["data"].as_array().unwrap().len(), 1);
    assert_eq!(first["total"], 5);

    // From the offer's side: the need, with the reasons the offer names.
    let page = get_json(&app, &format!("/v1/offers/{}/matches", id(&best))).await;
    assert_eq!(page["total"], 1);
    let m = &page["data"][0];
    assert_eq!(m["kind"], "need");
    assert_eq!(m["posting"]["id"], id(&need).as_str());
    assert_eq!(m["organization"]["id"], s.ngo.as_str());
    // A `health` need meets an offer of its child `health-mhpss`; the NGO is unverified.
    assert_eq!(
        reasons(m),
        [
            ("country".into(), json!(["HTI"])),
            ("sectors".into(), json!(["health-mhpss"])),
            ("support_types".into(), json!(["telehealth-helpline"])),
            ("languages".into(), json!(["ht", "fr"])),
            ("crisis".into(), json!([s.crisis])),
        ]
    );
    assert_eq!(m["score"], 0.95);
}

#[tokio::test]
async fn an_introduction_may_cite_the_need_and_offer_it_follows_from() {
    let app = TestApp::spawn().await;
    let s = scene(&app).await;
    let need = post(
        &app,
        "needs",
        &s.ngo_owner,
        json!({"organization_id": s.ngo, "country": "HTI", "sectors": ["health"],
               "title": "Insulin", "description": "Cold chain needed."}),
    )
    .await;
    let offer = post(
        &app,
        "offers",
        &s.group_owner,
        json!({"organization_id": s.group, "country": "HTI", "sectors": ["health"],
               "title": "Insulin pens", "description": "From Montréal."}),
    )
    .await;
    let path = format!("/v1/organizations/{}/contact-requests", s.ngo);
    // The need cited as an offer, and the other way round: each names the wrong side.
    let res = app
        .post_as(
            &path,
            &s.group_owner,
            &json!({"from_organization_id": s.group, "subject": "Insulin", "message": "We can help.",
                    "need_id": offer["id"], "offer_id": need["id"]}),
        )
        .await;
    let body = assert_problem(res, 422, "validation_failed").await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("need_id, offer_id")
    );
    // A third organization's need cannot be cited.
    let third_owner = app.token("third@example.org").await;
    let third = app
        .create_organization(
            &third_owner,
            json!({"name": "Third", "kind": "national-ngo", "status": "published"}),
        )
        .await;
    let theirs = post(
        &app,
        "needs",
        &third_owner,
        json!({"organization_id": third["id"], "country": "HTI", "sectors": ["health"],
               "title": "Theirs", "description": "Not this request's."}),
    )
    .await;
    let res = app
        .post_as(
            &path,
            &s.group_owner,
            &json!({"from_organization_id": s.group, "subject": "Insulin", "message": "We can help.",
                    "need_id": theirs["id"]}),
        )
        .await;
    let body = assert_problem(res, 422, "validation_failed").await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("another organization's need")
    );
    let res = app
        .post_as(
            &path,
            &s.group_owner,
            &json!({"from_organization_id": s.group, "subject": "Insulin", "message": "We can help.",
                    "need_id": need["id"], "offer_id": offer["id"]}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let request: Value = res.json().await.unwrap();
    assert_eq!(request["need_id"], need["id"]);
    assert_eq!(request["offer_id"], offer["id"]);
    // The receiving side sees the citations too.
    let read = app
        .get_as(
            &format!("/v1/contact-requests/{}", id(&request)),
            &s.ngo_owner,
        )
        .await;
    let read: Value = read.json().await.unwrap();
    assert_eq!(read["need_id"], need["id"]);
}
