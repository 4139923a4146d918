//! Directory statistics: exact counts over published organizations only, current after every
//! change, and no personal data.

use serde_json::{Value, json};

use crate::harness::TestApp;

fn counts(stats: &Value, list: &str) -> Vec<(String, i64)> {
    stats[list]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["value"].as_str().unwrap().to_owned(),
                c["organizations"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, i64)]) -> Vec<(String, i64)> {
    list.iter().map(|(v, n)| ((*v).to_owned(), *n)).collect()
}

async fn stats(app: &TestApp) -> (Value, String) {
    let res = app.get("/v1/stats").await;
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    (serde_json::from_str(&text).unwrap(), text)
}

#[tokio::test]
async fn stats_count_published_organizations_and_follow_every_change() {
    let app = TestApp::spawn().await;
    let (empty, _) = stats(&app).await;
    assert_eq!(empty["organizations"], 0);
    assert_eq!(empty["by_kind"], json!([]));

    let owner = app.token("owner@example.org").await;
    let moderator = app.moderator_token("mod@example.org").await;
    let alpha = app
        .create_organization(
            &owner,
            json!({"name": "Alpha", "kind": "diaspora-organization", "status": "published",
                   "origin_countries": ["HT"], "operating_countries": ["HT", "DO"],
                   "languages": ["ht", "fr"],
                   "capabilities": [{"sector": "health", "support_types": ["funding", "in-kind"]},
                                    {"sector": "education", "support_types": ["funding"]}],
                   "challenges": ["funding", "logistics"], "interests": ["partnerships"]}),
        )
        .await;
    app.create_organization(
        &owner,
        json!({"name": "Bravo", "kind": "national-ngo", "status": "published",
               "origin_countries": ["HT"], "languages": ["fr"], "challenges": ["funding"]}),
    )
    .await;
    let draft = app
        .create_organization(
            &owner,
            json!({"name": "Charlie", "kind": "diaspora-organization",
                   "origin_countries": ["PK"], "languages": ["ur"]}),
        )
        .await;
    let res = app
        .post_as(
            &format!(
                "/v1/organizations/{}/contacts",
                alpha["id"].as_str().unwrap()
            ),
            &owner,
            &json!({"name": "Marie Joseph", "email": "marie.secret@example.org",
                    "phone": "+509 3700 1234", "consent_basis": "consent",
                    "consent_obtained_at": "2026-03-01T10:00:00Z", "purpose": "stats"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let mut crises = Vec::new();
    for (name, status) in [("Quake", "active"), ("Old flood", "closed")] {
        let res = app
            .post_as(
                "/v1/crises",
                &moderator,
                &json!({"name": name, "type": "EQ", "countries": ["HTI"],
                        "started_on": "2021-08-14", "status": status}),
            )
            .await;
        assert_eq!(res.status(), 201);
        crises.push(res.json::<Value>().await.unwrap());
    }
    for org in [&alpha, &draft] {
        let res = app
            .post_as(
                &format!(
                    "/v1/crises/{}/engagements",
                    crises[0]["id"].as_str().unwrap()
                ),
                &owner,
                &json!({"organization_id": org["id"], "sectors": ["health"], "country": "HTI",
                        "status": "ongoing"}),
            )
            .await;
        assert_eq!(res.status(), 201);
    }

    let (s, text) = stats(&app).await;
    assert_eq!(s["organizations"], 2);
    assert_eq!(
        counts(&s, "by_kind"),
        pairs(&[("diaspora-organization", 1), ("national-ngo", 1)])
    );
    assert_eq!(counts(&s, "by_origin_country"), pairs(&[("HTI", 2)]));
    assert_eq!(
        counts(&s, "by_operating_country"),
        pairs(&[("DOM", 1), ("HTI", 1)])
    );
    assert_eq!(
        counts(&s, "by_sector"),
        pairs(&[("education", 1), ("health", 1)])
    );
    assert_eq!(
        counts(&s, "by_support_type"),
        pairs(&[("funding", 1), ("in-kind", 1)])
    );
    assert_eq!(counts(&s, "by_language"), pairs(&[("fr", 2), ("ht", 1)]));
    assert_eq!(
        counts(&s, "challenges"),
        pairs(&[("funding", 2), ("logistics", 1)])
    );
    assert_eq!(counts(&s, "interests"), pairs(&[("partnerships", 1)]));
    // Only the active crisis, and only the published organization engaged in it.
    let active = s["active_crises"].as_array().unwrap();
    assert_eq!(active.len(), 1);
    assert_eq!(active[0]["id"], crises[0]["id"]);
    assert_eq!(active[0]["engaged_organizations"], 1);
    for secret in ["marie.secret@example.org", "+509 3700 1234", "Marie Joseph"] {
        assert!(!text.contains(secret), "{secret} leaked into the stats");
    }

    // Publishing the draft and closing the crisis show at once, through the API or in SQL.
    let res = app
        .patch_as(
            &format!("/v1/organizations/{}", draft["id"].as_str().unwrap()),
            &owner,
            &json!({"status": "published"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let (s, _) = stats(&app).await;
    assert_eq!(s["organizations"], 3);
    assert_eq!(
        counts(&s, "by_origin_country"),
        pairs(&[("HTI", 2), ("PAK", 1)])
    );
    assert_eq!(s["active_crises"][0]["engaged_organizations"], 2);
    app.sql(&format!(
        "UPDATE crises SET status = 'closed' WHERE id = '{}'",
        crises[0]["id"].as_str().unwrap()
    ))
    .await;
    let (s, _) = stats(&app).await;
    assert_eq!(s["active_crises"], json!([]));
}
