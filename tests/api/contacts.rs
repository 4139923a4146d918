//! Private contact persons: consent basis and purpose required; seen by members and
//! moderators only; never in a profile.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{TestApp, assert_problem};

fn marie() -> Value {
    json!({
        "name": "Marie Joseph",
        "role": "Coordinator",
        "email": "Marie.Joseph@example.org",
        "phone": "+509 3700 0000",
        "languages": ["ht", "fr"],
        "consent_basis": "consent",
        "consent_obtained_at": "2026-03-01T10:00:00Z",
        "purpose": "Coordinates medical supply shipments with partner NGOs"
    })
}

async fn published(app: &TestApp, token: &str, name: &str) -> String {
    let org = app
        .create_organization(
            token,
            json!({"name": name, "kind": "diaspora-organization", "status": "published"}),
        )
        .await;
    format!("/v1/organizations/{}", org["id"].as_str().unwrap())
}

#[tokio::test]
async fn members_keep_contacts_with_their_consent_basis_and_purpose() {
    let app = TestApp::spawn().await;
    let owner = app.token("owner@example.org").await;
    let path = published(&app, &owner, "Sante").await;

    let res = app
        .post_as(&format!("{path}/contacts"), &owner, &marie())
        .await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.headers()["cache-control"], "private, no-store");
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let contact: Value = res.json().await.unwrap();
    assert_eq!(contact["email"], "marie.joseph@example.org");
    assert_eq!(contact["consent_basis"], "consent");
    assert_eq!(
        location,
        format!("{path}/contacts/{}", contact["id"].as_str().unwrap())
    );

    let read = app.get_as(&location, &owner).await;
    let tag = read.headers()["etag"].to_str().unwrap().to_owned();
    let read: Value = read.json().await.unwrap();
    assert_eq!(read, contact);

    let res = app
        .request(Method::PATCH, &location, Some(&owner))
        .header("if-match", &tag)
        .json(&json!({"role": null, "purpose": "Press contact"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let updated: Value = res.json().await.unwrap();
    assert_eq!(updated["role"], Value::Null);
    assert_eq!(updated["purpose"], "Press contact");
    assert_eq!(updated["name"], "Marie Joseph");
    let res = app
        .request(Method::PATCH, &location, Some(&owner))
        .header("if-match", &tag)
        .json(&json!({"purpose": "Stale"}))
        .send()
        .await
        .unwrap();
    assert_problem(res, 412, "precondition_failed").await;

    let list: Value = app
        .get_as(&format!("{path}/contacts"), &owner)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 1);

    assert_eq!(app.delete_as(&location, &owner).await.status(), 204);
    assert_problem(app.get_as(&location, &owner).await, 404, "not_found").await;
}

#[tokio::test]
async fn a_contact_without_consent_basis_or_purpose_is_refused() {
    let app = TestApp::spawn().await;
    let owner = app.token("owner@example.org").await;
    let path = published(&app, &owner, "Sante").await;
    for missing in ["consent_basis", "purpose"] {
        let mut body = marie();
        body.as_object_mut().unwrap().remove(missing);
        let res = app
            .post_as(&format!("{path}/contacts"), &owner, &body)
            .await;
        let problem = assert_problem(res, 422, "validation_failed").await;
        assert!(
            problem["detail"].as_str().unwrap().contains(missing),
            "{problem}"
        );
    }
    let mut body = marie();
    body["purpose"] = json!("   ");
    body["consent_basis"] = json!("consent");
    body.as_object_mut().unwrap().remove("consent_obtained_at");
    body["languages"] = json!(["zz"]);
    let res = app
        .post_as(&format!("{path}/contacts"), &owner, &body)
        .await;
    let problem = assert_problem(res, 422, "validation_failed").await;
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    for f in ["purpose", "consent_obtained_at", "languages[0]"] {
        assert!(fields.contains(&f), "{f} in {fields:?}");
    }
    let mut body = marie();
    body["consent_obtained_at"] = json!("-5000-01-01T00:00:00Z");
    let res = app
        .post_as(&format!("{path}/contacts"), &owner, &body)
        .await;
    let problem = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "consent_obtained_at");
    let mut body = marie();
    body["consent_basis"] = json!("because");
    let res = app
        .post_as(&format!("{path}/contacts"), &owner, &body)
        .await;
    assert_problem(res, 422, "validation_failed").await;
}

#[tokio::test]
async fn contacts_are_private_to_members_and_moderators() {
    let app = TestApp::spawn().await;
    let owner = app.token("owner@example.org").await;
    let other_org_owner = app.token("other@example.org").await;
    let moderator = app.moderator_token("mod@example.org").await;
    let path = published(&app, &owner, "Sante").await;
    published(&app, &other_org_owner, "Other").await;
    let res = app
        .post_as(&format!("{path}/contacts"), &owner, &marie())
        .await;
    let contact: Value = res.json().await.unwrap();
    let one = format!("{path}/contacts/{}", contact["id"].as_str().unwrap());

    assert_problem(
        app.get(&format!("{path}/contacts")).await,
        401,
        "unauthorized",
    )
    .await;
    assert_problem(app.get(&one).await, 401, "unauthorized").await;
    for res in [
        app.get_as(&format!("{path}/contacts"), &other_org_owner)
            .await,
        app.get_as(&one, &other_org_owner).await,
        app.patch_as(&one, &other_org_owner, &json!({"purpose": "x"}))
            .await,
        app.delete_as(&one, &other_org_owner).await,
        app.post_as(&format!("{path}/contacts"), &other_org_owner, &marie())
            .await,
    ] {
        assert_problem(res, 403, "forbidden").await;
    }
    let res = app.get_as(&format!("{path}/contacts"), &moderator).await;
    assert_eq!(res.status(), 200);

    // Never part of the profile, for anyone.
    for token in [None, Some(owner.as_str()), Some(moderator.as_str())] {
        let res = app.request(Method::GET, &path, token).send().await.unwrap();
        let text = res.text().await.unwrap();
        assert!(!text.contains("Marie"), "{text}");
        assert!(!text.contains("marie.joseph"), "{text}");
    }
    let me = app.get_as("/v1/me", &owner).await.text().await.unwrap();
    assert!(!me.contains("Marie"));
}

#[tokio::test]
async fn a_drafts_contacts_do_not_exist_for_strangers() {
    let app = TestApp::spawn().await;
    let owner = app.token("owner@example.org").await;
    let stranger = app.token("stranger@example.org").await;
    let org = app
        .create_organization(&owner, json!({"name": "Draft", "kind": "other"}))
        .await;
    let path = format!("/v1/organizations/{}/contacts", org["id"].as_str().unwrap());
    assert_problem(app.get_as(&path, &stranger).await, 404, "not_found").await;
}
