//! Bulk exports of organizations: every published organization matching the filters, across
//! chunks, in CSV, HXL and NDJSON; RFC 4180 round trips; no contact person, ever.

use serde_json::{Value, json};

use crate::harness::{TestApp, assert_problem};

const SECRETS: [&str; 3] = ["marie.secret@example.org", "+509 3700 1234", "Marie Joseph"];

async fn fixture(app: &TestApp) -> (Value, Value) {
    let owner = app.token("owner@example.org").await;
    let tricky = app
        .create_organization(
            &owner,
            json!({"name": "Fundación \"Rumiñahui\", Madrid", "kind": "diaspora-organization",
                   "status": "published", "description": "Psicólogos\nen línea, y kits",
                   "origin_countries": ["EC"], "languages": ["es", "qu"],
                   "public_phone": "+34 911 000 000",
                   "capabilities": [{"sector": "health-mhpss", "support_types": ["professional-expertise"]}]}),
        )
        .await;
    let formula = app
        .create_organization(
            &owner,
            json!({"name": "=HYPERLINK(\"http://evil.example\")", "kind": "national-ngo",
                   "status": "published", "origin_countries": ["HT"]}),
        )
        .await;
    app.create_organization(
        &owner,
        json!({"name": "Draft group", "kind": "diaspora-organization", "origin_countries": ["HT"]}),
    )
    .await;
    let res = app
        .post_as(
            &format!(
                "/v1/organizations/{}/contacts",
                tricky["id"].as_str().unwrap()
            ),
            &owner,
            &json!({"name": "Marie Joseph", "email": "marie.secret@example.org",
                    "phone": "+509 3700 1234", "consent_basis": "consent",
                    "consent_obtained_at": "2026-03-01T10:00:00Z", "purpose": "export"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    (tricky, formula)
}

fn records(bytes: &[u8]) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes)
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

async fn download(app: &TestApp, query: &str, media_type: &str, file: &str) -> Vec<u8> {
    let res = app.get(&format!("/v1/export/organizations?{query}")).await;
    assert_eq!(res.status(), 200, "{query}");
    assert_eq!(res.headers()["content-type"], media_type);
    assert_eq!(
        res.headers()["content-disposition"],
        format!("attachment; filename=\"{file}\"").as_str()
    );
    let bytes = res.bytes().await.unwrap().to_vec();
    let text = String::from_utf8_lossy(&bytes);
    for secret in SECRETS {
        assert!(!text.contains(secret), "{secret} leaked into {query}");
    }
    bytes
}

#[tokio::test]
async fn exports_round_trip_in_every_format_without_contact_persons() {
    let app = TestApp::spawn().await;
    let (tricky, formula) = fixture(&app).await;

    let csv = download(
        &app,
        "format=csv",
        "text/csv; charset=utf-8",
        "organizations.csv",
    )
    .await;
    assert!(csv.windows(2).any(|w| w == b"\r\n"), "CRLF line ends");
    let rows = records(&csv);
    assert_eq!(rows[0][0], "ID");
    assert_eq!(rows[0][2], "Name");
    // The two published organizations (the draft is not there), each found by its id: their
    // order depends on the database's collation ("=" first in C, ignored in en_US).
    assert_eq!(rows.len(), 3);
    let row = |org: &Value| {
        rows.iter()
            .find(|r| r[0] == org["id"].as_str().unwrap())
            .unwrap()
            .clone()
    };
    assert_eq!(row(&formula)[2], "'=HYPERLINK(\"http://evil.example\")");
    let t = row(&tricky);
    assert_eq!(t[2], "Fundación \"Rumiñahui\", Madrid");
    assert_eq!(t[5], "Psicólogos\nen línea, y kits");
    assert_eq!(t[9], "ECU");
    assert_eq!(t[11], "health-mhpss");
    assert_eq!(t[13], "es qu");
    assert_eq!(
        t[16], "'+34 911 000 000",
        "a phone starting with + is neutralised"
    );
    assert_eq!(t[17], "no");

    let hxl = download(
        &app,
        "format=hxl",
        "text/csv; charset=utf-8",
        "organizations.hxl.csv",
    )
    .await;
    let rows = records(&hxl);
    assert_eq!(rows[1][0], "#org+id");
    assert!(rows[1].iter().all(|tag| tag.starts_with('#')));
    assert_eq!(rows[1].len(), rows[0].len());
    assert_eq!(rows.len(), 4);

    let ndjson = download(
        &app,
        "format=ndjson",
        "application/x-ndjson",
        "organizations.ndjson",
    )
    .await;
    let lines: Vec<Value> = String::from_utf8(ndjson)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    // Each line is the organization as its own route shows it.
    let own: Value = app
        .get(&format!(
            "/v1/organizations/{}",
            tricky["id"].as_str().unwrap()
        ))
        .await
        .json()
        .await
        .unwrap();
    assert!(lines.contains(&own));

    // Discovery's filters apply; bad ones are 400s.
    let rows = records(
        &download(
            &app,
            "format=csv&origin_country=ht",
            "text/csv; charset=utf-8",
            "organizations.csv",
        )
        .await,
    );
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1][0], formula["id"].as_str().unwrap());
    // An unknown format or code: a 400 naming the parameter, as everywhere.
    for query in ["format=xml", "format=csv&sector=astrology"] {
        let res = app.get(&format!("/v1/export/organizations?{query}")).await;
        let body = assert_problem(res, 400, "validation_failed").await;
        let name = if query.contains("sector") {
            "sector"
        } else {
            "format"
        };
        assert!(body["detail"].as_str().unwrap().contains(name), "{body}");
    }
    // No format: CSV.
    let res = app.get("/v1/export/organizations").await;
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
}

#[tokio::test]
async fn an_export_reads_every_chunk_once_in_name_order() {
    use diesel_async::RunQueryDsl;
    let app = TestApp::spawn().await;
    let mut conn = app.db.connect().await;
    // More than two chunks (500 each), some with equal names to test the (name, id) key.
    diesel::sql_query(
        "INSERT INTO organizations (slug, name, kind, status, origin_countries) \
         SELECT 'org-' || i, 'Org ' || lpad((i % 700)::text, 4, '0'), 'national-ngo', \
                CASE WHEN i % 10 = 0 THEN 'draft' ELSE 'published' END, ARRAY['HTI'] \
           FROM generate_series(1, 1300) i",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let text = String::from_utf8(
        download(
            &app,
            "format=ndjson",
            "application/x-ndjson",
            "organizations.ndjson",
        )
        .await,
    )
    .unwrap();
    let keys: Vec<(String, String)> = text
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (
                v["name"].as_str().unwrap().to_owned(),
                v["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(keys.len(), 1170, "1,300 less the 130 drafts");
    let mut sorted = keys.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(keys, sorted, "in (name, id) order, none twice");
}

/// Two exports stream at once; a third is told to come back (429 with Retry-After) rather than
/// queued, and the two finish. The two are held mid-way by a lock on `organizations`.
#[tokio::test]
async fn a_third_concurrent_export_is_429_and_the_first_two_finish() {
    use diesel_async::RunQueryDsl;
    let app = TestApp::spawn().await;
    fixture(&app).await;
    let mut locker = app.db.connect().await;
    for sql in ["BEGIN", "LOCK TABLE organizations IN ACCESS EXCLUSIVE MODE"] {
        diesel::sql_query(sql).execute(&mut locker).await.unwrap();
    }
    let url = app.url("/v1/export/organizations?format=ndjson");
    let streams: Vec<_> = (0..2)
        .map(|_| tokio::spawn(app.client.get(url.clone()).send()))
        .collect();
    // Both hold their permit, waiting on the lock.
    app.wait_for_lock_waiters(2, "the two exports never reached the database")
        .await;
    let res = app.get("/v1/export/organizations?format=csv").await;
    assert_eq!(res.headers()["retry-after"], "5");
    let problem = assert_problem(res, 429, "rate_limited").await;
    assert!(problem["detail"].as_str().unwrap().contains("retry"));

    diesel::sql_query("COMMIT")
        .execute(&mut locker)
        .await
        .unwrap();
    for stream in streams {
        let res = stream.await.unwrap().unwrap();
        assert_eq!(res.status(), 200);
        let body = res.text().await.unwrap();
        assert_eq!(body.lines().count(), 2, "both published organizations");
    }
    // The permits came back: an export works again.
    let res = app.get("/v1/export/organizations?format=csv").await;
    assert_eq!(res.status(), 200);
}
