//! An account's own data: exported whole on request, and erased without a trace of its e-mail
//! while the audit log keeps its id as a pseudonym; never leaving an organization ownerless.

use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Text};
use diesel_async::RunQueryDsl;
use serde_json::{Value, json};

use crate::harness::{PASSWORD, TestApp, assert_problem};

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The tables in which any column's text holds `needle`.
async fn tables_holding(app: &TestApp, needle: &str) -> Vec<String> {
    let mut conn = app.db.connect().await;
    let tables: Vec<Name> = diesel::sql_query(
        "SELECT table_name::text AS name FROM information_schema.tables \
          WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1",
    )
    .load(&mut conn)
    .await
    .unwrap();
    let mut found = Vec::new();
    for t in tables {
        let count: Count = diesel::sql_query(format!(
            "SELECT count(*) AS n FROM \"{}\" AS t WHERE t::text ILIKE '%' || $1 || '%'",
            t.name
        ))
        .bind::<Text, _>(needle)
        .get_result(&mut conn)
        .await
        .unwrap();
        if count.n > 0 {
            found.push(t.name);
        }
    }
    found
}

#[tokio::test]
async fn the_export_holds_everything_stored_about_the_caller() {
    let app = TestApp::spawn().await;
    let token = app.token("jean@example.org").await;
    let org = app
        .create_organization(
            &token,
            json!({"name": "Jean's group", "kind": "diaspora-organization", "status": "published"}),
        )
        .await;
    let other_owner = app.token("other@example.org").await;
    let other = app
        .create_organization(
            &other_owner,
            json!({"name": "Other", "kind": "national-ngo", "status": "published"}),
        )
        .await;
    let res = app
        .post_as(
            &format!(
                "/v1/organizations/{}/contact-requests",
                other["id"].as_str().unwrap()
            ),
            &token,
            &json!({"from_organization_id": org["id"], "subject": "Hello", "message": "Let us talk."}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let request: Value = res.json().await.unwrap();
    // Declined: the decision notifies Jean's group, and Jean reads it.
    let res = app
        .request(
            reqwest::Method::POST,
            &format!(
                "/v1/contact-requests/{}/decline",
                request["id"].as_str().unwrap()
            ),
            Some(&other_owner),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let notices: Value = app
        .get_as("/v1/notifications", &token)
        .await
        .json()
        .await
        .unwrap();
    let notice = notices["data"][0]["id"].as_str().unwrap().to_owned();
    let res = app
        .request(
            reqwest::Method::POST,
            &format!("/v1/notifications/{notice}/read"),
            Some(&token),
        )
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());

    // The other owner adds Jean to their organization: the audit entry is about Jean.
    let res = app
        .post_as(
            &format!(
                "/v1/organizations/{}/members",
                other["id"].as_str().unwrap()
            ),
            &other_owner,
            &json!({"email": "jean@example.org", "role": "editor"}),
        )
        .await;
    assert!(res.status().is_success(), "{}", res.status());

    let res = app.get_as("/v1/me/export", &token).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "private, no-store");
    let export: Value = res.json().await.unwrap();
    assert_eq!(export["account"]["email"], "jean@example.org");
    assert_eq!(export["memberships"][0]["organization_id"], org["id"]);
    assert_eq!(export["memberships"][0]["role"], "owner");
    assert_eq!(export["contact_requests"][0]["subject"], "Hello");
    assert_eq!(export["contact_requests"][0]["message"], "Let us talk.");
    assert!(!export["audit_log"].as_array().unwrap().is_empty());
    assert_eq!(export["sessions"].as_array().unwrap().len(), 1);
    // The other rows that name Jean: the organization Jean created. (The other owner decided
    // the request: that is theirs.)
    let records: Vec<(&str, &str, &str)> = export["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["kind"].as_str().unwrap(),
                r["id"].as_str().unwrap(),
                r["role"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        records,
        [("organization", org["id"].as_str().unwrap(), "created")]
    );
    assert_eq!(export["read_marks"][0]["notification_id"], notice.as_str());
    assert_eq!(export["read_marks"].as_array().unwrap().len(), 1);
    let about: Vec<(&str, &str)> = export["audit_log_about"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["organization_id"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(about, [("member.added", other["id"].as_str().unwrap())]);
    // Only the caller's: nothing of the other account.
    assert!(!export.to_string().contains("other@example.org"));
    let theirs: Value = app
        .get_as("/v1/me/export", &other_owner)
        .await
        .json()
        .await
        .unwrap();
    let decided = theirs["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "contact_request")
        .unwrap();
    assert_eq!(decided["id"], request["id"]);
    assert_eq!(decided["role"], "decided");
    let res = app
        .request(reqwest::Method::GET, "/v1/me/export", None)
        .send()
        .await
        .unwrap();
    assert_problem(res, 401, "unauthorized").await;
}

#[tokio::test]
async fn erasure_leaves_no_trace_of_the_email_and_keeps_the_audit_log() {
    let app = TestApp::spawn().await;
    let email = "marie.erase@example.org";
    app.register(email).await;
    let pair = app.login(email).await;
    let token = pair["access_token"].as_str().unwrap().to_owned();
    let refresh = pair["refresh_token"].as_str().unwrap().to_owned();
    let org = app
        .create_organization(
            &token,
            json!({"name": "Shared group", "kind": "diaspora-organization", "status": "published"}),
        )
        .await;
    let org_id = org["id"].as_str().unwrap().to_owned();

    // The last owner cannot leave: 409, naming the organization; nothing changes.
    let res = app.delete_as("/v1/me", &token).await;
    let body = assert_problem(res, 409, "conflict").await;
    assert!(body["detail"].as_str().unwrap().contains("Shared group"));
    assert_eq!(app.get_as("/v1/me", &token).await.status(), 200);

    // With a second owner, the account can go.
    let second = app.token("second@example.org").await;
    let res = app
        .post_as(
            &format!("/v1/organizations/{org_id}/members"),
            &token,
            &json!({"email": "second@example.org", "role": "owner"}),
        )
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    let user_id: Value = app.get_as("/v1/me", &token).await.json().await.unwrap();
    let user_id = user_id["id"].as_str().unwrap().to_owned();
    let audit_before = app
        .scalar(&format!(
            "SELECT count(*) AS n FROM audit_log WHERE actor_id = '{user_id}'"
        ))
        .await;
    assert!(audit_before > 0);
    assert_eq!(tables_holding(&app, email).await, ["users"]);

    let res = app.delete_as("/v1/me", &token).await;
    assert_eq!(res.status(), 204);

    // No table holds the e-mail any more; the audit rows remain, under the same id.
    assert_eq!(tables_holding(&app, email).await, Vec::<String>::new());
    // Its name too (the other accounts keep theirs).
    assert_eq!(
        app.scalar(&format!(
            "SELECT count(*) AS n FROM users WHERE id = '{user_id}' \
                 AND display_name = 'Erased account' AND erased_at IS NOT NULL"
        ),)
            .await,
        1
    );
    assert_eq!(
        app.scalar(&format!(
            "SELECT count(*) AS n FROM audit_log WHERE actor_id = '{user_id}'"
        ),)
            .await,
        audit_before
    );
    assert_eq!(
        app.scalar(&format!(
            "SELECT count(*) AS n FROM organization_members WHERE user_id = '{user_id}'"
        ),)
            .await,
        0
    );
    // The old tokens are worthless, the password signs nobody in, and the e-mail is free.
    assert_problem(app.get_as("/v1/me", &token).await, 401, "unauthorized").await;
    let res = app
        .post_as(
            "/v1/organizations",
            &token,
            &json!({"name": "Ghost", "kind": "diaspora-organization"}),
        )
        .await;
    assert_problem(res, 401, "unauthorized").await;
    let res = app
        .post_json("/v1/auth/refresh", &json!({"refresh_token": refresh}))
        .await;
    assert_problem(res, 401, "unauthorized").await;
    let res = app
        .post_json(
            "/v1/auth/login",
            &json!({"email": email, "password": PASSWORD}),
        )
        .await;
    assert_problem(res, 401, "unauthorized").await;
    assert_problem(app.delete_as("/v1/me", &token).await, 401, "unauthorized").await;
    app.register(email).await;
    // The organization still has its other owner.
    let res = app
        .get_as(&format!("/v1/organizations/{org_id}/members"), &second)
        .await;
    let members: Value = res.json().await.unwrap();
    assert_eq!(members["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn an_archived_organization_does_not_hold_its_last_owner_back() {
    let app = TestApp::spawn().await;
    let token = app.token("leaving@example.org").await;
    let org = app
        .create_organization(
            &token,
            json!({"name": "Wound down", "kind": "diaspora-organization", "status": "published"}),
        )
        .await;
    let path = format!("/v1/organizations/{}", org["id"].as_str().unwrap());
    assert_problem(app.delete_as("/v1/me", &token).await, 409, "conflict").await;
    let res = app.delete_as(&path, &token).await;
    assert!(res.status().is_success(), "archiving: {}", res.status());
    assert_eq!(app.delete_as("/v1/me", &token).await.status(), 204);
    assert_eq!(
        tables_holding(&app, "leaving@example.org").await,
        Vec::<String>::new()
    );
}
