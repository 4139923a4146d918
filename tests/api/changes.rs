//! The change feed: a mirror that applies it in order equals the directory; transactions that
//! commit out of order are neither missed nor repeated; bad cursors are 400s.

use std::collections::BTreeMap;

use diesel_async::RunQueryDsl;
use serde_json::{Value, json};

use crate::harness::{TestApp, assert_problem};

/// A mirror of the public directory, built only from the feed.
#[derive(Default)]
struct Mirror {
    entities: BTreeMap<(String, String), Value>,
    cursor: Option<String>,
    /// Every change read, as (entity, id, op, cursor): to check none comes twice.
    seen: Vec<(String, String, String, String)>,
    /// The raw text of every page, to search for personal data.
    text: String,
}

impl Mirror {
    /// Reads the feed from the last cursor to its end, `page` changes at a time.
    async fn sync(&mut self, app: &TestApp, page: usize) {
        loop {
            let url = match &self.cursor {
                Some(c) => format!("/v1/changes?limit={page}&since={c}"),
                None => format!("/v1/changes?limit={page}"),
            };
            let res = app.get(&url).await;
            assert_eq!(res.status(), 200, "{url}");
            let text = res.text().await.unwrap();
            self.text.push_str(&text);
            let body: Value = serde_json::from_str(&text).unwrap();
            for change in body["data"].as_array().unwrap() {
                let key = (
                    change["entity"].as_str().unwrap().to_owned(),
                    change["id"].as_str().unwrap().to_owned(),
                );
                let op = change["op"].as_str().unwrap().to_owned();
                self.seen.push((
                    key.0.clone(),
                    key.1.clone(),
                    op.clone(),
                    change["cursor"].as_str().unwrap().to_owned(),
                ));
                if op == "delete" {
                    assert!(change.get("data").is_none());
                    self.entities.remove(&key);
                } else {
                    self.entities.insert(key, change["data"].clone());
                }
            }
            if let Some(c) = body["next_cursor"].as_str() {
                self.cursor = Some(c.to_owned());
            }
            if !body["has_more"].as_bool().unwrap() {
                break;
            }
        }
    }
}

impl Mirror {
    /// Syncs until the mirror has read every change in the database. The feed holds back
    /// changes while any older transaction in the cluster is still writing (another test's,
    /// here), so one pass may stop short of the end for a moment.
    async fn catch_up(&mut self, app: &TestApp, page: usize) {
        for _ in 0..200 {
            self.sync(app, page).await;
            let total = app.scalar("SELECT count(*) FROM changes").await;
            if self.seen.len() as i64 == total {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!(
            "the feed did not catch up: {} changes read",
            self.seen.len()
        );
    }
}

/// Every item of a paged list.
async fn all(app: &TestApp, path: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut url = format!("{path}{sep}limit=100");
    loop {
        let res = app.get(&url).await;
        assert_eq!(res.status(), 200, "{url}");
        let page: Value = res.json().await.unwrap();
        items.extend(page["data"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => url = format!("{path}{sep}limit=100&cursor={c}"),
            None => return items,
        }
    }
}

/// The public directory, as its own routes list it.
async fn directory(app: &TestApp) -> BTreeMap<(String, String), Value> {
    let mut out = BTreeMap::new();
    let mut put = |entity: &str, v: Value| {
        out.insert((entity.to_owned(), v["id"].as_str().unwrap().to_owned()), v);
    };
    for org in all(app, "/v1/organizations").await {
        put("organization", org);
    }
    let crises = all(app, "/v1/crises").await;
    for crisis in &crises {
        let id = crisis["id"].as_str().unwrap();
        for e in all(app, &format!("/v1/crises/{id}/engagements")).await {
            put("engagement", e);
        }
    }
    for crisis in crises {
        put("crisis", crisis);
    }
    let every = "status=open,fulfilled,withdrawn,expired";
    for need in all(app, &format!("/v1/needs?{every}")).await {
        put("need", need);
    }
    for offer in all(app, &format!("/v1/offers?{every}")).await {
        put("offer", offer);
    }
    out
}

async fn created(res: reqwest::Response) -> Value {
    assert_eq!(res.status(), 201, "{}", res.url());
    res.json().await.unwrap()
}

#[tokio::test]
async fn a_mirror_built_from_the_feed_equals_the_directory() {
    let app = TestApp::spawn().await;
    let mut mirror = Mirror::default();
    mirror.catch_up(&app, 3).await;
    assert!(mirror.entities.is_empty());

    let moderator = app.moderator_token("mod@example.org").await;
    let owner = app.token("owner@example.org").await;
    let published = |name: &str| {
        json!({"name": name, "kind": "diaspora-organization", "status": "published",
               "origin_countries": ["HTI"],
               "capabilities": [{"sector": "health", "support_types": ["funding"]}]})
    };
    let a = app.create_organization(&owner, published("Alpha")).await;
    let b = app
        .create_organization(
            &owner,
            json!({"name": "Bravo", "kind": "diaspora-organization"}),
        )
        .await;
    let c = app.create_organization(&owner, published("Charlie")).await;
    // A contact person: personal data that must never reach the feed.
    let res = app
        .post_as(
            &format!("/v1/organizations/{}/contacts", a["id"].as_str().unwrap()),
            &owner,
            &json!({"name": "Marie Joseph", "email": "marie.secret@example.org",
                    "phone": "+509 3700 1234", "consent_basis": "consent",
                    "consent_obtained_at": "2026-03-01T10:00:00Z", "purpose": "feed"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let crisis = created(
        app.post_as(
            "/v1/crises",
            &moderator,
            &json!({"name": "Quake", "type": "EQ", "countries": ["HTI"], "started_on": "2021-08-14"}),
        )
        .await,
    )
    .await;
    let crisis_path = format!("/v1/crises/{}", crisis["id"].as_str().unwrap());
    mirror.catch_up(&app, 3).await;

    let mut engagements = Vec::new();
    for org in [&a, &b, &c] {
        engagements.push(
            created(
                app.post_as(
                    &format!("{crisis_path}/engagements"),
                    &owner,
                    &json!({"organization_id": org["id"], "sectors": ["health"], "country": "HTI",
                            "status": "ongoing"}),
                )
                .await,
            )
            .await,
        );
    }
    let mut postings = Vec::new();
    for (side, org) in [("needs", &a), ("offers", &b), ("offers", &c), ("needs", &a)] {
        postings.push(
            created(
                app.post_as(
                    &format!("/v1/{side}"),
                    &owner,
                    &json!({"organization_id": org["id"], "country": "HTI", "sectors": ["health"],
                            "title": "Insulin", "description": "Cold chain."}),
                )
                .await,
            )
            .await,
        );
    }
    let res = app
        .patch_as(&crisis_path, &moderator, &json!({"name": "Quake 2021"}))
        .await;
    assert_eq!(res.status(), 200);
    mirror.catch_up(&app, 3).await;

    // Updates, a publication (Bravo's engagement and offer appear), an archive (Charlie's
    // disappear), a withdrawal and two deletions.
    for (path, body) in [
        (
            format!("/v1/organizations/{}", a["id"].as_str().unwrap()),
            json!({"name": "Alpha Sante"}),
        ),
        (
            format!("/v1/organizations/{}", b["id"].as_str().unwrap()),
            json!({"status": "published"}),
        ),
        (
            format!("/v1/needs/{}", postings[0]["id"].as_str().unwrap()),
            json!({"status": "withdrawn"}),
        ),
    ] {
        let res = app.patch_as(&path, &owner, &body).await;
        assert_eq!(res.status(), 200, "{path}");
    }
    for path in [
        format!("/v1/organizations/{}", c["id"].as_str().unwrap()),
        format!(
            "{crisis_path}/engagements/{}",
            engagements[0]["id"].as_str().unwrap()
        ),
        format!("/v1/needs/{}", postings[3]["id"].as_str().unwrap()),
    ] {
        let res = app.delete_as(&path, &owner).await;
        assert!(res.status().is_success(), "{path}: {}", res.status());
    }
    mirror.catch_up(&app, 3).await;

    // A merge: Delta's engagement and offer move to Alpha (same ids, new organization), Delta
    // leaves the public view, and Alpha's profile absorbs Delta's name.
    let d = app.create_organization(&owner, published("Delta")).await;
    created(
        app.post_as(
            &format!("{crisis_path}/engagements"),
            &owner,
            &json!({"organization_id": d["id"], "sectors": ["health"], "country": "HTI",
                    "status": "planned"}),
        )
        .await,
    )
    .await;
    created(
        app.post_as(
            "/v1/offers",
            &owner,
            &json!({"organization_id": d["id"], "country": "HTI", "sectors": ["health"],
                    "title": "Nurses", "description": "Night shifts."}),
        )
        .await,
    )
    .await;
    mirror.catch_up(&app, 3).await;
    let res = app
        .post_as(
            &format!(
                "/v1/admin/organizations/{}/merge",
                d["id"].as_str().unwrap()
            ),
            &moderator,
            &json!({"into": a["id"]}),
        )
        .await;
    assert_eq!(res.status(), 200);
    mirror.catch_up(&app, 3).await;
    let alpha = (
        "organization".to_owned(),
        a["id"].as_str().unwrap().to_owned(),
    );
    assert_eq!(
        mirror.entities[&alpha]["alternate_names"][0]["name"], "Delta",
        "the survivor's update reached the mirror"
    );

    let expected = directory(&app).await;
    assert_eq!(
        mirror.entities.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>()
    );
    for (key, value) in &expected {
        assert_eq!(&mirror.entities[key], value, "{key:?}");
    }
    // What the mirror holds, to be sure the comparison compared something.
    let kinds: Vec<&str> = expected.keys().map(|(e, _)| e.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "crisis",
            "engagement",
            "engagement",
            "need",
            "offer",
            "offer",
            "organization",
            "organization"
        ]
    );
    // Nothing came twice, and the contact person never came at all.
    let mut cursors: Vec<&String> = mirror.seen.iter().map(|s| &s.3).collect();
    cursors.sort();
    cursors.dedup();
    assert_eq!(cursors.len(), mirror.seen.len());
    for secret in ["marie.secret@example.org", "+509 3700 1234", "Marie Joseph"] {
        assert!(
            !mirror.text.contains(secret),
            "{secret} leaked into the feed"
        );
    }
    // Polling again at the end gives nothing new and keeps the cursor.
    let cursor = mirror.cursor.clone().unwrap();
    let res = app.get(&format!("/v1/changes?since={cursor}")).await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["data"], json!([]));
    assert_eq!(body["next_cursor"], cursor.as_str());
    assert_eq!(body["has_more"], false);
}

/// Two transactions overlap: the one that began writing first commits last. A feed built on a
/// sequence alone would hand out the second's change, move the cursor past the first's, and
/// miss it for ever.
#[tokio::test]
async fn transactions_that_commit_out_of_order_are_neither_missed_nor_repeated() {
    let app = TestApp::spawn().await;
    let moderator = app.moderator_token("mod@example.org").await;
    created(
        app.post_as(
            "/v1/crises",
            &moderator,
            &json!({"name": "Before", "type": "FL", "countries": ["PAK"], "started_on": "2022-06-14"}),
        )
        .await,
    )
    .await;
    let mut mirror = Mirror::default();

    // Needs: writes to organizations, engagements and crises also take the discovery
    // generation's row lock (migrations 000006 and 000011), which serialises such transactions.
    let owner = app.token("owner@example.org").await;
    let org = app
        .create_organization(
            &owner,
            json!({"name": "Poster", "kind": "national-ngo", "status": "published"}),
        )
        .await;
    let org = org["id"].as_str().unwrap().to_owned();
    let insert = |title: &str| {
        format!(
            "INSERT INTO postings (side, organization_id, country, sectors, title, description, status) \
             VALUES ('need', '{org}', 'PAK', ARRAY['shelter'], '{title}', 'Tents.', 'open')"
        )
    };
    mirror.catch_up(&app, 10).await;
    assert_eq!(mirror.seen.len(), 2, "the crisis and the organization");
    let mut conns = [
        app.db.connect().await,
        app.db.connect().await,
        app.db.connect().await,
    ];
    // (connection: 0 the first, 1 the second, 2 one that rolls back; statement). A lock that
    // serialised them would make the second wait for the first: fail then, do not hang.
    for conn in &mut conns {
        diesel::sql_query("SET lock_timeout = '5s'")
            .execute(conn)
            .await
            .unwrap();
    }
    for (n, sql) in [
        (0, "BEGIN".to_owned()),
        (0, insert("first")),
        (1, "BEGIN".to_owned()),
        (1, insert("second")),
        (1, "COMMIT".to_owned()),
        (2, "BEGIN".to_owned()),
        (2, insert("rolled-back")),
        (2, "ROLLBACK".to_owned()),
    ] {
        diesel::sql_query(sql).execute(&mut conns[n]).await.unwrap();
    }
    // The second has committed, but the first, which began writing before it, is still open:
    // nothing is listed past it yet.
    mirror.sync(&app, 10).await;
    assert_eq!(mirror.seen.len(), 2, "{:?}", mirror.seen);
    diesel::sql_query("COMMIT")
        .execute(&mut conns[0])
        .await
        .unwrap();
    mirror.catch_up(&app, 1).await;
    let titles: Vec<&str> = mirror.seen[2..]
        .iter()
        .map(|(entity, id, op, _)| {
            assert_eq!((entity.as_str(), op.as_str()), ("need", "create"));
            mirror.entities[&(entity.clone(), id.clone())]["title"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(titles, ["first", "second"]);
    mirror.sync(&app, 10).await;
    assert_eq!(mirror.seen.len(), 4, "nothing twice, nothing rolled back");
}

#[tokio::test]
async fn bad_cursors_and_limits_are_400s() {
    let app = TestApp::spawn().await;
    for query in [
        "since=garbage",
        // Well formed, but no change has this position.
        "since=Y2hhbmdlczo5OTk5OTk6OTk5OTk5",
        "limit=0",
        "limit=1001",
    ] {
        let res = app.get(&format!("/v1/changes?{query}")).await;
        let body = assert_problem(res, 400, "validation_failed").await;
        let name = query.split('=').next().unwrap();
        assert!(
            body["detail"].as_str().unwrap().contains(name),
            "{query}: {body}"
        );
    }
    // An empty feed from the start: nothing, and no cursor to poll from yet.
    let body: Value = app.get("/v1/changes").await.json().await.unwrap();
    assert_eq!(body["data"], json!([]));
    assert_eq!(body["next_cursor"], Value::Null);
}

/// A need written while its organization is being published: the need's trigger share-locks
/// the organization, so the publication waits for it and its cascade lists the need. Without
/// the lock, the need's trigger would see a draft and the publication's cascade would not see
/// the uncommitted need: the feed would never list it.
#[tokio::test]
async fn a_posting_written_while_its_organization_is_published_is_not_lost() {
    let app = TestApp::spawn().await;
    let owner = app.token("owner@example.org").await;
    let org = app
        .create_organization(
            &owner,
            json!({"name": "Soon public", "kind": "national-ngo"}),
        )
        .await;
    let org = org["id"].as_str().unwrap().to_owned();
    let mut writer = app.db.connect().await;
    let mut publisher = app.db.connect().await;
    for sql in [
        "BEGIN".to_owned(),
        format!(
            "INSERT INTO postings (side, organization_id, country, sectors, title, description, status) \
             VALUES ('need', '{org}', 'HTI', ARRAY['health'], 'Raced', 'In flight.', 'open')"
        ),
    ] {
        diesel::sql_query(sql).execute(&mut writer).await.unwrap();
    }
    let publish = format!("UPDATE organizations SET status = 'published' WHERE id = '{org}'");
    let published = tokio::spawn(async move {
        diesel::sql_query("SET lock_timeout = '10s'")
            .execute(&mut publisher)
            .await
            .unwrap();
        diesel::sql_query(publish).execute(&mut publisher).await
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    diesel::sql_query("COMMIT")
        .execute(&mut writer)
        .await
        .unwrap();
    published.await.unwrap().unwrap();
    let mut mirror = Mirror::default();
    mirror.catch_up(&app, 10).await;
    let needs: Vec<&Value> = mirror
        .entities
        .iter()
        .filter(|((entity, _), _)| entity == "need")
        .map(|(_, v)| v)
        .collect();
    assert_eq!(needs.len(), 1, "{:?}", mirror.seen);
    assert_eq!(needs[0]["title"], "Raced");

    // Deleted outright in SQL (no API does it), the organization takes its need with it, and
    // the feed says so.
    app.sql(&format!("DELETE FROM organizations WHERE id = '{org}'"))
        .await;
    mirror.catch_up(&app, 10).await;
    assert!(mirror.entities.is_empty(), "{:?}", mirror.entities);
}
