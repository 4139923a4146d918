//! Engagements and the 3W matrix: members declare what their organization does where in a
//! crisis; everyone reads the matrix as JSON, CSV or HXL, organization-level data only.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{TestApp, assert_problem};

struct Scene {
    crisis: String,
    path: String,
    moderator: String,
    owner_a: String,
    org_a: String,
    owner_b: String,
    org_b: String,
}

async fn scene(app: &TestApp) -> Scene {
    let moderator = app.moderator_token("mod@example.org").await;
    let res = app
        .post_as(
            "/v1/crises",
            &moderator,
            &json!({"name": "Haiti earthquake 2021", "glide": "EQ-2021-000116-HTI", "type": "EQ",
                    "countries": ["HTI", "DOM"], "started_on": "2021-08-14"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let crisis: Value = res.json().await.unwrap();
    let owner_a = app.token("a@example.org").await;
    let owner_b = app.token("b@example.org").await;
    let org_a = app
        .create_organization(
            &owner_a,
            json!({"name": "Fundación \"Rumiñahui\", Madrid", "acronym": "FR",
                   "kind": "diaspora-organization", "status": "published"}),
        )
        .await;
    let org_b = app
        .create_organization(
            &owner_b,
            json!({"name": "=HYPERLINK(\"http://evil.example\")", "kind": "national-ngo",
                   "status": "published"}),
        )
        .await;
    Scene {
        path: format!("/v1/crises/{}", crisis["id"].as_str().unwrap()),
        crisis: crisis["id"].as_str().unwrap().to_owned(),
        moderator,
        owner_a,
        org_a: org_a["id"].as_str().unwrap().to_owned(),
        owner_b,
        org_b: org_b["id"].as_str().unwrap().to_owned(),
    }
}

async fn declare(app: &TestApp, token: &str, path: &str, body: Value) -> reqwest::Response {
    app.post_as(&format!("{path}/engagements"), token, &body)
        .await
}

async fn declared(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let res = declare(app, token, path, body).await;
    assert_eq!(res.status(), 201);
    res.json().await.unwrap()
}

fn csv_records(text: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

#[tokio::test]
async fn members_declare_engagements_and_the_3w_shows_them_in_every_format() {
    let app = TestApp::spawn().await;
    let s = scene(&app).await;
    // A contact person that no export may carry.
    let res = app
        .post_as(
            &format!("/v1/organizations/{}/contacts", s.org_a),
            &s.owner_a,
            &json!({"name": "Marie Joseph", "email": "marie.secret@example.org",
                    "phone": "+509 3700 1234", "consent_basis": "consent",
                    "consent_obtained_at": "2026-03-01T10:00:00Z", "purpose": "3W"}),
        )
        .await;
    assert_eq!(res.status(), 201);

    let first = declared(
        &app,
        &s.owner_a,
        &s.path,
        json!({"organization_id": s.org_a, "sectors": ["health-mhpss", "wash"],
               "support_types": ["in-kind"], "country": "ht", "admin1": "Sud",
               "status": "ongoing", "started_on": "2021-08-20"}),
    )
    .await;
    assert_eq!(first["country"], "HTI");
    assert_eq!(first["crisis_id"], s.crisis.as_str());
    // Same organization, sector and place: merged into one 3W row.
    declared(
        &app,
        &s.owner_a,
        &s.path,
        json!({"organization_id": s.org_a, "sectors": ["wash"], "support_types": ["funding"],
               "country": "HTI", "admin1": "Sud", "status": "planned"}),
    )
    .await;
    declared(
        &app,
        &s.owner_b,
        &s.path,
        json!({"organization_id": s.org_b, "sectors": ["shelter"], "country": "DOM",
               "status": "completed", "started_on": "2021-09-01", "ended_on": "2021-12-01"}),
    )
    .await;

    // The list, with filters (a parent sector matches its children).
    let list = |query: &str| {
        let url = format!("{}/engagements?{query}", s.path);
        let app = &app;
        async move {
            let res = app.get(&url).await;
            assert_eq!(res.status(), 200, "{url}");
            res.json::<Value>().await.unwrap()
        }
    };
    assert_eq!(list("").await["total"], 3);
    assert_eq!(list("sector=health").await["total"], 1);
    assert_eq!(list("country=DO").await["total"], 1);
    assert_eq!(list("organization_kind=national-ngo").await["total"], 1);
    assert_eq!(list("status=planned,ongoing").await["total"], 2);
    for bad in ["sector=astrology", "country=XX", "status=maybe"] {
        assert_problem(
            app.get(&format!("{}/engagements?{bad}", s.path)).await,
            400,
            "validation_failed",
        )
        .await;
    }

    // JSON: one row per organization × sector × place.
    let three_w: Value = app
        .get(&format!("{}/3w", s.path))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(three_w["total"], 3);
    let rows = three_w["data"].as_array().unwrap();
    let summary: Vec<(String, String, String)> = rows
        .iter()
        .map(|r| {
            (
                r["organization_name"].as_str().unwrap().to_owned(),
                r["sector"].as_str().unwrap().to_owned(),
                r["country"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                "=HYPERLINK(\"http://evil.example\")".into(),
                "shelter".into(),
                "DOM".into()
            ),
            (
                "Fundación \"Rumiñahui\", Madrid".into(),
                "health-mhpss".into(),
                "HTI".into()
            ),
            (
                "Fundación \"Rumiñahui\", Madrid".into(),
                "wash".into(),
                "HTI".into()
            ),
        ]
    );
    let wash = &rows[2];
    assert_eq!(wash["support_types"], json!(["funding", "in-kind"]));
    assert_eq!(wash["status"], "ongoing");
    assert_eq!(wash["admin1"], "Sud");
    assert_eq!(wash["started_on"], "2021-08-20");
    let paged: Value = app
        .get(&format!("{}/3w?limit=2", s.path))
        .await
        .json()
        .await
        .unwrap();
    let cursor = paged["next_cursor"].as_str().unwrap();
    let rest: Value = app
        .get(&format!("{}/3w?limit=2&cursor={cursor}", s.path))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rest["data"][0], rows[2]);
    assert!(rest["next_cursor"].is_null());

    // CSV: RFC 4180, the same rows, the formula neutralised.
    let res = app.get(&format!("{}/3w?format=csv", s.path)).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    assert_eq!(
        res.headers()["content-disposition"],
        "attachment; filename=\"3w-haiti-earthquake-2021.csv\""
    );
    let text = res.text().await.unwrap();
    assert!(text.contains("\r\n"), "CRLF line ends");
    let records = csv_records(&text);
    assert_eq!(records.len(), 4);
    assert_eq!(records[0][0], "Organization");
    assert_eq!(records[1][0], "'=HYPERLINK(\"http://evil.example\")");
    assert_eq!(records[2][0], "Fundación \"Rumiñahui\", Madrid");
    assert_eq!(
        records[3],
        [
            "Fundación \"Rumiñahui\", Madrid",
            "FR",
            "diaspora-organization",
            "wash",
            "HTI",
            "Sud",
            "funding in-kind",
            "ongoing",
            "2021-08-20",
            ""
        ]
    );

    // HXL: the hashtag row under the header.
    let res = app.get(&format!("{}/3w?format=hxl", s.path)).await;
    assert_eq!(
        res.headers()["content-disposition"],
        "attachment; filename=\"3w-haiti-earthquake-2021.hxl.csv\""
    );
    let hxl = res.text().await.unwrap();
    let records = csv_records(&hxl);
    assert_eq!(
        records[1],
        [
            "#org+name",
            "#org+acronym",
            "#org+type",
            "#sector+cluster",
            "#country+code",
            "#adm1+name",
            "#activity+type",
            "#status",
            "#date+start",
            "#date+end"
        ]
    );
    assert_eq!(records.len(), 5);

    // Organization-level data only.
    for body in [&text, &hxl, &three_w.to_string()] {
        assert!(!body.contains("marie.secret@example.org"));
        assert!(!body.contains("3700 1234"));
        assert!(!body.contains("Marie Joseph"));
    }
    assert_problem(
        app.get(&format!("{}/3w?format=csv&limit=5", s.path)).await,
        400,
        "validation_failed",
    )
    .await;
    assert_problem(
        app.get(&format!("{}/3w?format=pdf", s.path)).await,
        400,
        "validation_failed",
    )
    .await;
}

#[tokio::test]
async fn only_members_or_moderators_write_an_organizations_engagements() {
    let app = TestApp::spawn().await;
    let s = scene(&app).await;
    let body = json!({"organization_id": s.org_b, "sectors": ["shelter"], "country": "HTI",
                      "status": "planned"});
    // A member of A cannot declare for B; nor can anyone anonymous.
    assert_problem(
        declare(&app, &s.owner_a, &s.path, body.clone()).await,
        403,
        "forbidden",
    )
    .await;
    let res = app
        .post_json(&format!("{}/engagements", s.path), &body)
        .await;
    assert_problem(res, 401, "unauthorized").await;
    // Outside the crisis's countries; unknown sectors; dates backwards.
    let res = declare(
        &app,
        &s.owner_b,
        &s.path,
        json!({"organization_id": s.org_b, "sectors": ["shelter", "astrology"], "country": "ECU",
               "status": "planned", "started_on": "2021-09-01", "ended_on": "2021-08-01"}),
    )
    .await;
    let problem = assert_problem(res, 422, "validation_failed").await;
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["sectors[1]", "country", "ended_on"]);
    assert_problem(
        declare(&app, &s.owner_b, "/v1/crises/nowhere", body.clone()).await,
        404,
        "not_found",
    )
    .await;
    // A moderator may declare for any organization, but it must exist.
    let res = declare(
        &app,
        &s.moderator,
        &s.path,
        json!({"organization_id": "00000000-0000-4000-8000-000000000000", "sectors": ["shelter"],
               "country": "HTI", "status": "planned"}),
    )
    .await;
    let problem = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "organization_id");

    let engagement = declared(&app, &s.owner_b, &s.path, body.clone()).await;
    let one = format!(
        "{}/engagements/{}",
        s.path,
        engagement["id"].as_str().unwrap()
    );
    let res = app
        .patch_as(&one, &s.owner_a, &json!({"status": "ongoing"}))
        .await;
    assert_problem(res, 403, "forbidden").await;
    assert_problem(app.delete_as(&one, &s.owner_a).await, 403, "forbidden").await;
    // The organization is not changed by an update.
    let res = app
        .patch_as(&one, &s.owner_b, &json!({"organization_id": s.org_a}))
        .await;
    assert_problem(res, 422, "validation_failed").await;

    let res = app
        .request(Method::PATCH, &one, Some(&s.owner_b))
        .header("if-match", "\"1\"")
        .json(&json!({"status": "ongoing", "admin1": "Ouest"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["etag"], "\"2\"");
    let updated: Value = res.json().await.unwrap();
    assert_eq!(updated["status"], "ongoing");
    assert_eq!(updated["admin1"], "Ouest");
    assert_eq!(updated["sectors"], json!(["shelter"]), "left out, kept");
    let res = app
        .request(Method::DELETE, &one, Some(&s.owner_b))
        .header("if-match", "\"1\"")
        .send()
        .await
        .unwrap();
    assert_problem(res, 412, "precondition_failed").await;
    // A moderator may correct it.
    let res = app
        .patch_as(&one, &s.moderator, &json!({"admin1": null}))
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(app.delete_as(&one, &s.owner_b).await.status(), 204);
    assert_problem(app.delete_as(&one, &s.owner_b).await, 404, "not_found").await;
    let three_w: Value = app
        .get(&format!("{}/3w", s.path))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(three_w["total"], 0);
}

#[tokio::test]
async fn only_published_organizations_appear() {
    let app = TestApp::spawn().await;
    let s = scene(&app).await;
    declared(
        &app,
        &s.owner_a,
        &s.path,
        json!({"organization_id": s.org_a, "sectors": ["education"], "country": "HTI",
               "status": "ongoing"}),
    )
    .await;
    let res = app
        .patch_as(
            &format!("/v1/organizations/{}", s.org_a),
            &s.owner_a,
            &json!({"status": "draft"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let list: Value = app
        .get(&format!("{}/engagements", s.path))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 0);
    let csv = app
        .get(&format!("{}/3w?format=csv", s.path))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(csv_records(&csv).len(), 1, "the header only: {csv}");
}

/// Discovery hooks: the organizations engaged in a crisis, and the crisis's counts.
#[tokio::test]
async fn discovery_finds_the_organizations_engaged_in_a_crisis() {
    let app = TestApp::spawn().await;
    let s = scene(&app).await;
    for (token, org, sectors) in [
        (&s.owner_a, &s.org_a, json!(["health", "wash"])),
        (&s.owner_b, &s.org_b, json!(["wash"])),
    ] {
        declared(
            &app,
            token,
            &s.path,
            json!({"organization_id": org, "sectors": sectors, "country": "HTI", "status": "ongoing"}),
        )
        .await;
    }
    // Engaged twice in the same sector: counted once.
    declared(
        &app,
        &s.owner_b,
        &s.path,
        json!({"organization_id": s.org_b, "sectors": ["wash"], "country": "DOM", "status": "planned"}),
    )
    .await;
    // Not engaged (yet).
    let other_owner = app.token("c@example.org").await;
    let other_org = app
        .create_organization(
            &other_owner,
            json!({"name": "Elsewhere", "kind": "other", "status": "published"}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let read = app.get(&s.path).await;
    let tag = read.headers()["etag"].to_str().unwrap().to_owned();
    let crisis: Value = read.json().await.unwrap();
    assert_eq!(
        crisis["engaged_organizations"],
        json!({"total": 2, "by_sector": [{"sector": "wash", "organizations": 2},
                                         {"sector": "health", "organizations": 1}]})
    );
    let found: Value = app
        .get("/v1/organizations?crisis=haiti-earthquake-2021&sort=name")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(found["total"], 2);
    let ids: Vec<&str> = found["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&s.org_a.as_str()) && ids.contains(&s.org_b.as_str()));
    // Combined with the other filters (which read the profiles).
    let ngos: Value = app
        .get(&format!(
            "/v1/organizations?crisis={}&kind=national-ngo",
            s.crisis
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ngos["total"], 1);
    assert_eq!(ngos["data"][0]["id"], s.org_b.as_str());
    // A new engagement changes the counts: the crisis's ETag, and the cached totals.
    declared(
        &app,
        &other_owner,
        &s.path,
        json!({"organization_id": other_org, "sectors": ["education"], "country": "HTI",
               "status": "planned"}),
    )
    .await;
    let read = app.get(&s.path).await;
    assert_ne!(read.headers()["etag"].to_str().unwrap(), tag);
    let crisis: Value = read.json().await.unwrap();
    assert_eq!(crisis["engaged_organizations"]["total"], 3);
    let found: Value = app
        .get("/v1/organizations?crisis=haiti-earthquake-2021&sort=name")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(found["total"], 3);
    assert_problem(
        app.get("/v1/organizations?crisis=nowhere").await,
        400,
        "validation_failed",
    )
    .await;
}
