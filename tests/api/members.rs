//! Members: owners manage owners and editors; editors edit; the last owner stays.

use serde_json::{Value, json};

use crate::harness::{TestApp, assert_problem};

async fn organization(app: &TestApp, token: &str) -> String {
    let org = app
        .create_organization(
            token,
            json!({"name": "Team", "kind": "national-ngo", "status": "published"}),
        )
        .await;
    format!("/v1/organizations/{}", org["id"].as_str().unwrap())
}

#[tokio::test]
async fn owners_add_editors_who_edit_but_cannot_manage_members_or_archive() {
    let app = TestApp::spawn().await;
    let owner = app.token("owner@example.org").await;
    let editor_account = app.register("editor@example.org").await;
    let editor = app.login("editor@example.org").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = organization(&app, &owner).await;

    let res = app
        .post_as(
            &format!("{path}/members"),
            &owner,
            &json!({"email": " Editor@Example.org ", "role": "editor"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let member: Value = res.json().await.unwrap();
    assert_eq!(member["user_id"], editor_account["id"]);
    assert_eq!(member["role"], "editor");

    let res = app.patch_as(&path, &editor, &json!({"city": "Lyon"})).await;
    assert_eq!(res.status(), 200);
    let res = app
        .post_as(
            &format!("{path}/members"),
            &editor,
            &json!({"email": "owner@example.org", "role": "editor"}),
        )
        .await;
    assert_problem(res, 403, "forbidden").await;
    assert_problem(app.delete_as(&path, &editor).await, 403, "forbidden").await;
    let owner_id = app
        .get_as("/v1/me", &owner)
        .await
        .json::<Value>()
        .await
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = app
        .delete_as(&format!("{path}/members/{owner_id}"), &editor)
        .await;
    assert_problem(res, 403, "forbidden").await;

    let list: Value = app
        .get_as(&format!("{path}/members"), &editor)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 2);
    let me: Value = app.get_as("/v1/me", &editor).await.json().await.unwrap();
    assert_eq!(me["memberships"][0]["role"], "editor");

    // An editor may leave.
    let editor_id = editor_account["id"].as_str().unwrap();
    let res = app
        .delete_as(&format!("{path}/members/{editor_id}"), &editor)
        .await;
    assert_eq!(res.status(), 204);
    let res = app.patch_as(&path, &editor, &json!({"city": "Nice"})).await;
    assert_problem(res, 403, "forbidden").await;
}

#[tokio::test]
async fn the_last_owner_can_neither_leave_nor_be_demoted() {
    let app = TestApp::spawn().await;
    let owner_account = app.register("owner@example.org").await;
    let owner = app.login("owner@example.org").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let second = app.token("second@example.org").await;
    let path = organization(&app, &owner).await;
    let owner_id = owner_account["id"].as_str().unwrap();

    let res = app
        .delete_as(&format!("{path}/members/{owner_id}"), &owner)
        .await;
    assert_problem(res, 409, "conflict").await;
    let res = app
        .post_as(
            &format!("{path}/members"),
            &owner,
            &json!({"email": "owner@example.org", "role": "editor"}),
        )
        .await;
    assert_problem(res, 409, "conflict").await;

    // With a second owner, the first may go.
    let res = app
        .post_as(
            &format!("{path}/members"),
            &owner,
            &json!({"email": "second@example.org", "role": "owner"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let res = app
        .delete_as(&format!("{path}/members/{owner_id}"), &owner)
        .await;
    assert_eq!(res.status(), 204);
    let list: Value = app
        .get_as(&format!("{path}/members"), &second)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 1);
    assert_eq!(list["data"][0]["role"], "owner");
}

#[tokio::test]
async fn two_owners_leaving_at_once_leave_one_behind() {
    let app = TestApp::spawn().await;
    let a = app.register("a@example.org").await;
    let a_token = app.login("a@example.org").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let b = app.register("b@example.org").await;
    let b_token = app.login("b@example.org").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = organization(&app, &a_token).await;
    app.post_as(
        &format!("{path}/members"),
        &a_token,
        &json!({"email": "b@example.org", "role": "owner"}),
    )
    .await;
    let a_path = format!("{path}/members/{}", a["id"].as_str().unwrap());
    let b_path = format!("{path}/members/{}", b["id"].as_str().unwrap());
    let a_leaves = app.delete_as(&a_path, &a_token);
    let b_leaves = app.delete_as(&b_path, &b_token);
    let (ra, rb) = tokio::join!(a_leaves, b_leaves);
    let mut statuses = [ra.status().as_u16(), rb.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [204, 409]);
}

#[tokio::test]
async fn members_are_listed_only_to_insiders_and_unknown_emails_are_named() {
    let app = TestApp::spawn().await;
    let owner = app.token("owner@example.org").await;
    let stranger = app.token("stranger@example.org").await;
    let moderator = app.moderator_token("mod@example.org").await;
    let path = organization(&app, &owner).await;

    assert_problem(
        app.get(&format!("{path}/members")).await,
        401,
        "unauthorized",
    )
    .await;
    assert_problem(
        app.get_as(&format!("{path}/members"), &stranger).await,
        403,
        "forbidden",
    )
    .await;
    assert_eq!(
        app.get_as(&format!("{path}/members"), &moderator)
            .await
            .status(),
        200
    );
    let res = app
        .post_as(
            &format!("{path}/members"),
            &stranger,
            &json!({"email": "stranger@example.org", "role": "owner"}),
        )
        .await;
    assert_problem(res, 403, "forbidden").await;

    let res = app
        .post_as(
            &format!("{path}/members"),
            &owner,
            &json!({"email": "nobody@example.org", "role": "editor"}),
        )
        .await;
    let body = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "email");
    let res = app
        .post_as(
            &format!("{path}/members"),
            &owner,
            &json!({"email": "stranger@example.org", "role": "admin"}),
        )
        .await;
    assert_problem(res, 422, "validation_failed").await;
}

#[tokio::test]
async fn an_editor_cannot_archive_through_patch_either() {
    let app = TestApp::spawn().await;
    let owner = app.token("owner@example.org").await;
    let editor = app.token("editor@example.org").await;
    let path = organization(&app, &owner).await;
    app.post_as(
        &format!("{path}/members"),
        &owner,
        &json!({"email": "editor@example.org", "role": "editor"}),
    )
    .await;
    let res = app
        .patch_as(&path, &editor, &json!({"status": "archived"}))
        .await;
    assert_problem(res, 403, "forbidden").await;
    assert_eq!(app.get(&path).await.status(), 200, "still public");
    // Once the owner archived it, the editor cannot bring it back either.
    assert_eq!(app.delete_as(&path, &owner).await.status(), 204);
    let res = app
        .patch_as(&path, &editor, &json!({"status": "published"}))
        .await;
    assert_problem(res, 403, "forbidden").await;
}

#[tokio::test]
async fn looking_up_accounts_by_adding_members_is_throttled() {
    let app = TestApp::spawn().await;
    let owner = app.token("owner@example.org").await;
    let path = organization(&app, &owner).await;
    for i in 0..30 {
        let res = app
            .post_as(
                &format!("{path}/members"),
                &owner,
                &json!({"email": format!("probe{i}@example.org"), "role": "editor"}),
            )
            .await;
        assert_eq!(res.status(), 422, "probe {i}");
    }
    let res = app
        .post_as(
            &format!("{path}/members"),
            &owner,
            &json!({"email": "probe-last@example.org", "role": "editor"}),
        )
        .await;
    assert!(res.headers().contains_key("retry-after"));
    assert_problem(res, 429, "rate_limited").await;
}
