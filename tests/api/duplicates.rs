//! Likely duplicates, for moderators: each candidate with the reasons it looks like one.

use serde_json::{Value, json};

use crate::harness::{TestApp, assert_problem};

fn reasons(candidate: &Value) -> Vec<String> {
    candidate["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["criterion"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn moderators_see_likely_duplicates_with_their_reasons() {
    let app = TestApp::spawn().await;
    let moderator = app.moderator_token("mod@example.org").await;
    let owner = app.token("owner@example.org").await;
    let original = app
        .create_organization(
            &owner,
            json!({"name": "Haitian Health Network", "acronym": "HHN",
                   "kind": "diaspora-organization", "status": "published",
                   "residence_country": "US", "website": "https://www.hhn.example/about",
                   "identifiers": [{"scheme": "us-ein", "value": "12-3456789"}]}),
        )
        .await;
    let id = original["id"].as_str().unwrap();
    let mut made = std::collections::HashMap::new();
    for (key, body) in [
        (
            "identifier",
            json!({"name": "HHN Foundation Inc", "kind": "diaspora-organization",
                   "identifiers": [{"scheme": "US-EIN", "value": "12-3456789"}]}),
        ),
        (
            "domain",
            json!({"name": "Completely different", "kind": "diaspora-organization",
                   "website": "http://hhn.example/"}),
        ),
        (
            "name",
            json!({"name": "Haitian Health Netwrk", "kind": "diaspora-organization",
                   "residence_country": "US"}),
        ),
        (
            "unrelated",
            json!({"name": "Pakistani Teachers Abroad", "kind": "diaspora-organization",
                   "residence_country": "US"}),
        ),
    ] {
        let org = app.create_organization(&owner, body).await;
        made.insert(key, org["id"].as_str().unwrap().to_owned());
    }
    let path = format!("/v1/admin/organizations/{id}/duplicates");
    let res = app.get_as(&path, &moderator).await;
    assert_eq!(res.status(), 200);
    let page: Value = res.json().await.unwrap();
    let data = page["data"].as_array().unwrap();
    let by_id = |key: &str| {
        data.iter()
            .find(|c| c["id"] == made[key].as_str())
            .unwrap_or_else(|| panic!("{key} missing: {page}"))
    };
    assert_eq!(reasons(by_id("identifier")), ["identifier"]);
    assert_eq!(
        by_id("identifier")["reasons"][0]["detail"],
        "US-EIN:12-3456789"
    );
    assert_eq!(reasons(by_id("domain")), ["website_domain"]);
    assert_eq!(by_id("domain")["reasons"][0]["detail"], "hhn.example");
    assert_eq!(
        reasons(by_id("name")),
        ["similar_name", "residence_country"]
    );
    // The same country of residence alone is no reason; nor is the organization itself.
    assert!(data.iter().all(|c| c["id"] != made["unrelated"].as_str()));
    assert!(data.iter().all(|c| c["id"] != id));
    assert_eq!(page["total"], 3);
    // Strongest first: an identifier outweighs a domain, which outweighs a similar name.
    let order: Vec<&str> = data.iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(
        order,
        [
            made["identifier"].as_str(),
            made["domain"].as_str(),
            made["name"].as_str()
        ]
    );

    // Moderators only.
    assert_problem(app.get_as(&path, &owner).await, 403, "forbidden").await;
    assert_problem(app.get(&path).await, 401, "unauthorized").await;
    let res = app
        .get_as(
            "/v1/admin/organizations/00000000-0000-4000-8000-000000000000/duplicates",
            &moderator,
        )
        .await;
    assert_problem(res, 404, "not_found").await;
}
