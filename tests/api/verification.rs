//! Verification: owners ask, moderators decide, approvals last a year.

use serde_json::{Value, json};

use crate::harness::{TestApp, assert_problem};

async fn setup(app: &TestApp) -> (String, String, String) {
    let owner = app.token("owner@example.org").await;
    let moderator = app.moderator_token("mod@example.org").await;
    let org = app
        .create_organization(
            &owner,
            json!({"name": "To Verify", "kind": "diaspora-organization", "status": "published"}),
        )
        .await;
    (owner, moderator, org["id"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn owners_ask_and_moderators_approve_for_a_year() {
    let app = TestApp::spawn().await;
    let (owner, moderator, id) = setup(&app).await;
    let ask = format!("/v1/organizations/{id}/verification-requests");
    let decide = format!("/v1/admin/organizations/{id}/verification");

    let res = app.post_as(&ask, &owner, &json!({})).await;
    assert_eq!(res.status(), 201);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["status"], "pending");
    let public: Value = app
        .get(&format!("/v1/organizations/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(public["verification"]["status"], "pending");
    assert_problem(app.post_as(&ask, &owner, &json!({})).await, 409, "conflict").await;

    // The owner cannot decide.
    let res = app
        .post_as(&decide, &owner, &json!({"decision": "approve"}))
        .await;
    assert_problem(res, 403, "forbidden").await;

    let res = app
        .post_as(
            &decide,
            &moderator,
            &json!({"decision": "approve", "note": "Checked the EIN"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let org: Value = res.json().await.unwrap();
    assert_eq!(org["verification"]["status"], "verified");
    let until = chrono::DateTime::parse_from_rfc3339(
        org["verification"]["verified_until"].as_str().unwrap(),
    )
    .unwrap();
    let days = (until.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_days();
    assert!((364..=365).contains(&days), "{days}");

    // Nothing pending any more; a fresh approval is not due for renewal.
    let res = app
        .post_as(
            &decide,
            &moderator,
            &json!({"decision": "reject", "note": "x"}),
        )
        .await;
    assert_problem(res, 409, "conflict").await;
    assert_problem(app.post_as(&ask, &owner, &json!({})).await, 409, "conflict").await;

    let log: Value = app
        .get_as(
            &format!("/v1/admin/audit-log?organization_id={id}"),
            &moderator,
        )
        .await
        .json()
        .await
        .unwrap();
    let decided = log["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "verification.decided")
        .expect("the decision is audited")
        .clone();
    assert_eq!(decided["as_moderator"], true);
    assert_eq!(decided["details"]["decision"], "approve");
    assert!(
        log["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "verification.requested")
    );
}

#[tokio::test]
async fn an_expired_verification_reads_as_unverified() {
    let app = TestApp::spawn().await;
    let (owner, moderator, id) = setup(&app).await;
    app.post_as(
        &format!("/v1/organizations/{id}/verification-requests"),
        &owner,
        &json!({}),
    )
    .await;
    let res = app
        .post_as(
            &format!("/v1/admin/organizations/{id}/verification"),
            &moderator,
            &json!({"decision": "approve"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    app.sql(&format!(
        "UPDATE organizations SET verified_at = now() - interval '400 days', \
         verified_until = now() - interval '35 days' WHERE id = '{id}'"
    ))
    .await;
    let org: Value = app
        .get(&format!("/v1/organizations/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(org["verification"]["status"], "unverified");
    // And it may be asked for again.
    let res = app
        .post_as(
            &format!("/v1/organizations/{id}/verification-requests"),
            &owner,
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), 201);
}

#[tokio::test]
async fn a_rejection_needs_a_note_and_only_owners_ask() {
    let app = TestApp::spawn().await;
    let (owner, moderator, id) = setup(&app).await;
    let editor = app.token("editor@example.org").await;
    app.post_as(
        &format!("/v1/organizations/{id}/members"),
        &owner,
        &json!({"email": "editor@example.org", "role": "editor"}),
    )
    .await;
    let stranger = app.token("stranger@example.org").await;
    let ask = format!("/v1/organizations/{id}/verification-requests");
    assert_problem(
        app.post_as(&ask, &editor, &json!({})).await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        app.post_as(&ask, &stranger, &json!({})).await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(app.post_json(&ask, &json!({})).await, 401, "unauthorized").await;
    assert_eq!(app.post_as(&ask, &owner, &json!({})).await.status(), 201);

    let decide = format!("/v1/admin/organizations/{id}/verification");
    let res = app
        .post_as(&decide, &moderator, &json!({"decision": "reject"}))
        .await;
    let body = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "note");
    let res = app
        .post_as(
            &decide,
            &moderator,
            &json!({"decision": "reject", "note": "No registration found"}),
        )
        .await;
    let org: Value = res.json().await.unwrap();
    assert_eq!(org["verification"]["status"], "rejected");
    assert_eq!(org["verification"]["verified_until"], Value::Null);
}

#[tokio::test]
async fn a_moderator_does_not_decide_on_their_own_organization_nor_a_suspended_one_ask() {
    let app = TestApp::spawn().await;
    let (owner, moderator, suspended_id) = setup(&app).await;
    let org = app
        .create_organization(
            &moderator,
            json!({"name": "Moderator's Own", "kind": "other", "status": "published"}),
        )
        .await;
    let id = org["id"].as_str().unwrap();
    let res = app
        .post_as(
            &format!("/v1/organizations/{id}/verification-requests"),
            &moderator,
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let res = app
        .post_as(
            &format!("/v1/admin/organizations/{id}/verification"),
            &moderator,
            &json!({"decision": "approve"}),
        )
        .await;
    assert_problem(res, 403, "forbidden").await;

    let res = app
        .patch_as(
            &format!("/v1/organizations/{suspended_id}"),
            &moderator,
            &json!({"status": "suspended"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let res = app
        .post_as(
            &format!("/v1/organizations/{suspended_id}/verification-requests"),
            &owner,
            &json!({}),
        )
        .await;
    assert_problem(res, 403, "forbidden").await;
}
