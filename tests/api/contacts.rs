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

/// Consent is reviewed: a person whose consent was obtained (or last confirmed) longer ago than
/// the review period is listed as due until an owner confirms it.
#[tokio::test]
async fn consent_older_than_the_review_period_is_due_until_an_owner_confirms_it() {
    let app = TestApp::spawn().await;
    let owner = app.token("owner@example.org").await;
    let path = published(&app, &owner, "Sante").await;
    let now = chrono::Utc::now();
    let mut ids = Vec::new();
    for (name, obtained) in [
        ("Old consent", Some(now - chrono::Duration::days(400))),
        ("Recent consent", Some(now - chrono::Duration::days(10))),
        ("Public role", None),
    ] {
        let mut body = marie();
        body["name"] = json!(name);
        match obtained {
            Some(at) => body["consent_obtained_at"] = json!(at.to_rfc3339()),
            None => {
                body["consent_basis"] = json!("public-role");
                body["consent_obtained_at"] = Value::Null;
            }
        }
        let res = app
            .post_as(&format!("{path}/contacts"), &owner, &body)
            .await;
        assert_eq!(res.status(), 201, "{name}");
        let contact: Value = res.json().await.unwrap();
        assert_eq!(
            contact["consent_review_due"],
            name == "Old consent",
            "{name}"
        );
        ids.push(contact["id"].as_str().unwrap().to_owned());
    }
    let names = |page: &Value| -> Vec<String> {
        page["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let list = |query: &'static str| {
        let app = &app;
        let owner = owner.clone();
        let path = path.clone();
        async move {
            let res = app.get_as(&format!("{path}/contacts{query}"), &owner).await;
            assert_eq!(res.status(), 200, "{query}");
            res.json::<Value>().await.unwrap()
        }
    };
    assert_eq!(names(&list("?due_for_review=true").await), ["Old consent"]);
    assert_eq!(
        names(&list("?due_for_review=false").await),
        ["Recent consent", "Public role"]
    );
    assert_eq!(names(&list("").await).len(), 3);
    let res = app
        .get_as(&format!("{path}/contacts?due_for_review=maybe"), &owner)
        .await;
    assert_eq!(res.status(), 400);

    // An editor may not confirm; an owner may, and the person is no longer due.
    let editor = app.token("editor@example.org").await;
    let res = app
        .post_as(
            &format!("{path}/members"),
            &owner,
            &json!({"email": "editor@example.org", "role": "editor"}),
        )
        .await;
    assert!(res.status().is_success());
    let confirm = format!("{path}/contacts/{}/consent-review", ids[0]);
    assert_problem(
        app.post_as(&confirm, &editor, &json!({})).await,
        403,
        "forbidden",
    )
    .await;
    let res = app
        .request(Method::POST, &confirm, Some(&owner))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let confirmed: Value = res.json().await.unwrap();
    assert_eq!(confirmed["consent_review_due"], false);
    let reviewed: chrono::DateTime<chrono::Utc> = confirmed["consent_reviewed_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((chrono::Utc::now() - reviewed).num_seconds() < 60);
    assert_eq!(
        names(&list("?due_for_review=true").await),
        Vec::<String>::new()
    );
    let res = app
        .request(
            Method::POST,
            &format!("{path}/contacts/00000000-0000-4000-8000-000000000000/consent-review"),
            Some(&owner),
        )
        .send()
        .await
        .unwrap();
    assert_problem(res, 404, "not_found").await;
}
