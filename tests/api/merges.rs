//! Merging duplicates: a moderator merges one organization into another; everything moves to the
//! survivor, and the merged one's id and slug answer 308 to it on every route.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{TestApp, assert_problem};

async fn ok(res: reqwest::Response) -> Value {
    assert_eq!(res.status(), 200, "{}", res.url());
    res.json().await.unwrap()
}

async fn created(res: reqwest::Response) -> Value {
    assert_eq!(res.status(), 201, "{}", res.url());
    res.json().await.unwrap()
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

fn location(res: &reqwest::Response) -> String {
    res.headers()["location"].to_str().unwrap().to_owned()
}

async fn merge(app: &TestApp, token: &str, from: &str, into: &str) -> reqwest::Response {
    app.post_as(
        &format!("/v1/admin/organizations/{from}/merge"),
        token,
        &json!({"into": into}),
    )
    .await
}

async fn contact(app: &TestApp, token: &str, org: &str, name: &str) {
    created(
        app.post_as(
            &format!("/v1/organizations/{org}/contacts"),
            token,
            &json!({"name": name, "email": "nurse@example.org", "consent_basis": "consent",
                    "consent_obtained_at": "2026-03-01T10:00:00Z", "purpose": "Introductions"}),
        )
        .await,
    )
    .await;
}

async fn ask(app: &TestApp, token: &str, from: &str, to: &str) -> String {
    id(&created(
        app.post_as(
            &format!("/v1/organizations/{to}/contact-requests"),
            token,
            &json!({"from_organization_id": from, "subject": "Nurses",
                    "message": "Could your nurses help in Jeremie?"}),
        )
        .await,
    )
    .await)
}

async fn add_member(app: &TestApp, token: &str, org: &str, email: &str, role: &str) {
    let res = app
        .post_as(
            &format!("/v1/organizations/{org}/members"),
            token,
            &json!({"email": email, "role": role}),
        )
        .await;
    assert!(res.status().is_success(), "{}", res.status());
}

#[tokio::test]
async fn a_merge_moves_everything_to_the_survivor_and_redirects_the_merged_id_and_slug() {
    let app = TestApp::spawn().await;
    let moderator = app.moderator_token("mod@example.org").await;
    let dup_owner = app.token("dup@example.org").await;
    app.token("both@example.org").await;
    let survivor_owner = app.token("survivor@example.org").await;
    let third_owner = app.token("third@example.org").await;

    let dup = app
        .create_organization(
            &dup_owner,
            json!({"name": "Haitian Nurses Abroad", "acronym": "HNA",
                   "kind": "diaspora-organization", "status": "published",
                   "origin_countries": ["HTI", "DOM"], "city": "Boston",
                   "capabilities": [{"sector": "health", "support_types": ["volunteers"]},
                                    {"sector": "education", "support_types": ["tutoring-education"]}],
                   "identifiers": [{"scheme": "US-EIN", "value": "98-7654321"}]}),
        )
        .await;
    let survivor = app
        .create_organization(
            &survivor_owner,
            json!({"name": "Haitian Health Network", "kind": "diaspora-organization",
                   "status": "published", "origin_countries": ["HTI"], "city": "Miami",
                   "capabilities": [{"sector": "health", "support_types": ["in-kind"]}]}),
        )
        .await;
    let third = app
        .create_organization(
            &third_owner,
            json!({"name": "Relief Partners", "kind": "international-ngo", "status": "published"}),
        )
        .await;
    let fourth = app
        .create_organization(
            &third_owner,
            json!({"name": "Clinic Friends", "kind": "national-ngo", "status": "published"}),
        )
        .await;
    let (dup_id, survivor_id) = (id(&dup), id(&survivor));
    let dup_slug = dup["slug"].as_str().unwrap().to_owned();
    let survivor_slug = survivor["slug"].as_str().unwrap().to_owned();

    // A member of both: owner of the duplicate, editor of the survivor.
    add_member(&app, &dup_owner, &dup_id, "both@example.org", "owner").await;
    add_member(
        &app,
        &survivor_owner,
        &survivor_id,
        "both@example.org",
        "editor",
    )
    .await;
    contact(&app, &dup_owner, &dup_id, "Nadia Pierre").await;

    // Its engagement, need and offer.
    let crisis = created(
        app.post_as(
            "/v1/crises",
            &moderator,
            &json!({"name": "Quake", "type": "EQ", "countries": ["HTI"], "started_on": "2021-08-14"}),
        )
        .await,
    )
    .await;
    let engagement = created(
        app.post_as(
            &format!("/v1/crises/{}/engagements", id(&crisis)),
            &dup_owner,
            &json!({"organization_id": dup_id, "sectors": ["health"], "country": "HTI",
                    "status": "ongoing"}),
        )
        .await,
    )
    .await;
    let mut postings = Vec::new();
    for side in ["needs", "offers"] {
        postings.push(
            created(
                app.post_as(
                    &format!("/v1/{side}"),
                    &dup_owner,
                    &json!({"organization_id": dup_id, "country": "HTI", "sectors": ["health"],
                            "title": "Nurses", "description": "Night shifts."}),
                )
                .await,
            )
            .await,
        );
    }

    // Requests: an accepted one with a third organization (moves, thread and all); a pending
    // one with a fourth that already has one pending with the survivor (stays); one between
    // the two (stays).
    let accepted = ask(&app, &third_owner, &id(&third), &dup_id).await;
    let res = app
        .request(
            Method::POST,
            &format!("/v1/contact-requests/{accepted}/accept"),
            Some(&dup_owner),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    created(
        app.post_as(
            &format!("/v1/contact-requests/{accepted}/messages"),
            &dup_owner,
            &json!({"body": "Welcome, here are our nurses."}),
        )
        .await,
    )
    .await;
    // The partner looks at the duplicate's contact persons: a release on record.
    ok(app
        .get_as(
            &format!("/v1/organizations/{dup_id}/contacts"),
            &third_owner,
        )
        .await)
    .await;
    let res = app
        .request(
            Method::POST,
            &format!("/v1/organizations/{dup_id}/verification-requests"),
            Some(&dup_owner),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let pending_dup = ask(&app, &dup_owner, &dup_id, &id(&fourth)).await;
    ask(&app, &survivor_owner, &survivor_id, &id(&fourth)).await;
    let between = ask(&app, &dup_owner, &dup_id, &survivor_id).await;

    // The merge.
    let res = merge(&app, &moderator, &dup_id, &survivor_id).await;
    let body = ok(res).await;
    assert_eq!(body["merged"], json!({"id": dup_id, "slug": dup_slug}));
    assert_eq!(
        body["moved"],
        json!({"members": 2, "contacts": 1, "engagements": 1, "needs": 1, "offers": 1,
               "contact_requests": 1})
    );
    assert_eq!(body["contact_requests_left"], 2);
    assert_eq!(body["contact_requests_closed"], 2);
    let into = &body["into"];
    assert_eq!(into["id"], survivor_id.as_str());
    assert_eq!(into["name"], "Haitian Health Network");
    assert_eq!(into["city"], "Miami");
    assert_eq!(into["acronym"], "HNA");
    assert_eq!(into["origin_countries"], json!(["HTI", "DOM"]));
    assert_eq!(
        into["alternate_names"],
        json!([{"name": "Haitian Nurses Abroad", "language": null}])
    );
    assert_eq!(
        into["capabilities"],
        json!([{"sector": "health", "support_types": ["in-kind", "volunteers"], "description": null},
               {"sector": "education", "support_types": ["tutoring-education"], "description": null}])
    );
    assert_eq!(
        into["identifiers"],
        json!([{"scheme": "US-EIN", "value": "98-7654321"}])
    );

    // The merged id and slug answer 308 on every route, keeping the rest of the path and the
    // query; the survivor answers there. Public reads are tried anonymously too (elsewhere
    // anonymous callers get 401 first).
    for (method, path, expected, public) in [
        (
            Method::GET,
            format!("/v1/organizations/{dup_id}"),
            format!("/v1/organizations/{survivor_id}"),
            true,
        ),
        (
            Method::GET,
            format!("/v1/organizations/{dup_slug}"),
            format!("/v1/organizations/{survivor_slug}"),
            true,
        ),
        (
            Method::GET,
            format!("/v1/organizations/{dup_id}/contacts?due_for_review=false"),
            format!("/v1/organizations/{survivor_id}/contacts?due_for_review=false"),
            false,
        ),
        (
            Method::GET,
            format!("/v1/admin/organizations/{dup_id}/duplicates"),
            format!("/v1/admin/organizations/{survivor_id}/duplicates"),
            false,
        ),
    ] {
        let tokens = if public {
            vec![None, Some(moderator.as_str())]
        } else {
            vec![Some(moderator.as_str())]
        };
        for token in tokens {
            let res = app
                .request(method.clone(), &path, token)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 308, "{method} {path}");
            assert_eq!(location(&res), expected, "{method} {path}");
        }
    }
    // Writes are not redirected (a client would repeat a DELETE or PATCH meant for the
    // duplicate on the survivor): a 409 names the survivor, and nothing changes.
    for (method, path, token, body) in [
        (
            Method::PATCH,
            format!("/v1/organizations/{dup_id}"),
            &dup_owner,
            Some(json!({"city": "Nowhere"})),
        ),
        (
            Method::DELETE,
            format!("/v1/organizations/{dup_id}"),
            &dup_owner,
            None,
        ),
        (
            Method::POST,
            format!("/v1/admin/organizations/{dup_id}/verification"),
            &moderator,
            Some(json!({"decision": "approve"})),
        ),
    ] {
        let mut req = app.request(method.clone(), &path, Some(token));
        if let Some(body) = body {
            req = req.json(&body);
        }
        let problem = assert_problem(req.send().await.unwrap(), 409, "conflict").await;
        assert!(
            problem["detail"].as_str().unwrap().contains(&survivor_id),
            "{method} {path}: {problem}"
        );
    }
    let now = ok(app.get(&format!("/v1/organizations/{survivor_slug}")).await).await;
    assert_eq!(now["city"], "Miami");
    assert_eq!(now["status"], "published");
    assert_eq!(now["verification"]["status"], "unverified");

    // Gone from public view and search; the survivor is found by the merged one's name.
    let found = ok(app.get("/v1/organizations?q=nurses%20abroad").await).await;
    let ids: Vec<&str> = found["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [survivor_id.as_str()]);

    // Members: the merged one's owner is now the survivor's; the member of both keeps the
    // higher role.
    let members = ok(app
        .get_as(
            &format!("/v1/organizations/{survivor_id}/members"),
            &dup_owner,
        )
        .await)
    .await;
    let mut roles: Vec<(String, String)> = members["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["email"].as_str().unwrap().to_owned(),
                m["role"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    roles.sort();
    assert_eq!(
        roles,
        [
            ("both@example.org".to_owned(), "owner".to_owned()),
            ("dup@example.org".to_owned(), "owner".to_owned()),
            ("survivor@example.org".to_owned(), "owner".to_owned()),
        ]
    );

    // The engagement, need and offer now belong to the survivor.
    let listed = ok(app
        .get(&format!("/v1/crises/{}/engagements", id(&crisis)))
        .await)
    .await;
    let e = &listed["data"][0];
    assert_eq!(e["id"], id(&engagement).as_str());
    assert_eq!(e["organization_id"], survivor_id.as_str());
    for (side, posting) in ["needs", "offers"].iter().zip(&postings) {
        let p = ok(app.get(&format!("/v1/{side}/{}", id(posting))).await).await;
        assert_eq!(p["organization_id"], survivor_id.as_str(), "{side}");
    }

    // The accepted introduction is now with the survivor: the third organization sees the
    // survivor's contact persons (the moved one among them), and the thread is intact.
    let contacts = ok(app
        .get_as(
            &format!("/v1/organizations/{survivor_id}/contacts"),
            &third_owner,
        )
        .await)
    .await;
    let names: Vec<&str> = contacts["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Nadia Pierre"]);
    let request = ok(app
        .get_as(&format!("/v1/contact-requests/{accepted}"), &third_owner)
        .await)
    .await;
    assert_eq!(request["to_organization_id"], survivor_id.as_str());
    let thread = ok(app
        .get_as(
            &format!("/v1/contact-requests/{accepted}/messages"),
            &survivor_owner,
        )
        .await)
    .await;
    assert_eq!(
        thread["data"][0]["author_organization_id"],
        survivor_id.as_str()
    );
    // The requests that could not move stayed with the merged organization, withdrawn; their
    // other sides still see them, and were told.
    for (left, reader) in [(&pending_dup, &third_owner), (&between, &survivor_owner)] {
        let r = ok(app
            .get_as(&format!("/v1/contact-requests/{left}"), reader)
            .await)
        .await;
        assert_eq!(r["from_organization_id"], dup_id.as_str());
        assert_eq!(r["status"], "withdrawn");
        let notices = ok(app.get_as("/v1/notifications?limit=100", reader).await).await;
        assert!(
            notices["data"].as_array().unwrap().iter().any(|n| {
                n["contact_request_id"] == left.as_str() && n["kind"] == "contact_request.withdrawn"
            }),
            "{notices}"
        );
    }
    // The duplicate's notification of the accepted request moved with it.
    let notices = ok(app
        .get_as("/v1/notifications?limit=100", &survivor_owner)
        .await)
    .await;
    assert!(
        notices["data"].as_array().unwrap().iter().any(|n| {
            n["contact_request_id"] == accepted.as_str()
                && n["organization_id"] == survivor_id.as_str()
                && n["kind"] == "contact_request.received"
        }),
        "{notices}"
    );
    // So did the record of the partner's look at the contact persons.
    let releases = ok(app
        .get_as(
            &format!("/v1/organizations/{survivor_id}/contact-releases"),
            &survivor_owner,
        )
        .await)
    .await;
    let release = &releases["data"][0];
    assert_eq!(release["viewer_organization_id"], id(&third).as_str());
    assert_eq!(release["contact_request_id"], accepted.as_str());
    // The duplicate's open verification request was closed.
    assert_eq!(
        app.scalar(&format!(
            "SELECT count(*) FROM verification_requests \
              WHERE organization_id = '{dup_id}' AND decision IS NULL"
        ))
        .await,
        0
    );

    // The audit log of both records the merge.
    for (org, action, subject) in [
        (&dup_id, "organization.merged", &survivor_id),
        (&survivor_id, "organization.absorbed", &dup_id),
    ] {
        let log = ok(app
            .get_as(
                &format!("/v1/admin/audit-log?organization_id={org}"),
                &moderator,
            )
            .await)
        .await;
        let entry = &log["data"][0];
        assert_eq!(entry["action"], action);
        assert_eq!(entry["subject_id"], subject.as_str());
        assert_eq!(entry["details"]["moved"]["engagements"], 1);
    }

    // Merged once, never again: 409 naming the survivor; nothing merges into it; and it is no
    // longer anyone's duplicate.
    let problem = assert_problem(
        merge(&app, &moderator, &dup_id, &id(&third)).await,
        409,
        "conflict",
    )
    .await;
    assert!(problem["detail"].as_str().unwrap().contains(&survivor_id));
    let problem = assert_problem(
        merge(&app, &moderator, &id(&third), &dup_id).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "into");
    let duplicates = ok(app
        .get_as(
            &format!("/v1/admin/organizations/{survivor_id}/duplicates"),
            &moderator,
        )
        .await)
    .await;
    assert!(
        duplicates["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["id"] != dup_id.as_str())
    );
}

#[tokio::test]
async fn a_survivor_merged_later_takes_the_earlier_redirects_with_it() {
    let app = TestApp::spawn().await;
    let moderator = app.moderator_token("mod@example.org").await;
    let owner = app.token("owner@example.org").await;
    let mut ids = Vec::new();
    for name in ["First", "Second", "Third"] {
        ids.push(id(&app
            .create_organization(
                &owner,
                json!({"name": name, "kind": "diaspora-organization", "status": "published"}),
            )
            .await));
    }
    ok(merge(&app, &moderator, &ids[0], &ids[1]).await).await;
    ok(merge(&app, &moderator, &ids[1], &ids[2]).await).await;
    for merged in &ids[..2] {
        let res = app.get(&format!("/v1/organizations/{merged}")).await;
        assert_eq!(res.status(), 308);
        assert_eq!(location(&res), format!("/v1/organizations/{}", ids[2]));
    }
    // A survivor that is not public is not revealed: reads of the merged one stay 404, and
    // writes are refused without naming it.
    let draft = id(&app
        .create_organization(
            &owner,
            json!({"name": "Fourth", "kind": "diaspora-organization"}),
        )
        .await);
    ok(merge(&app, &moderator, &ids[2], &draft).await).await;
    for merged in &ids {
        let res = app.get(&format!("/v1/organizations/{merged}")).await;
        assert_problem(res, 404, "not_found").await;
    }
    let problem = assert_problem(
        app.patch_as(
            &format!("/v1/organizations/{}", ids[0]),
            &owner,
            &json!({"city": "Lyon"}),
        )
        .await,
        409,
        "conflict",
    )
    .await;
    assert!(!problem["detail"].as_str().unwrap().contains(&draft));
    // Nor is a duplicate that was never public: its id and slug stay 404 for reads and writes.
    let hidden = app
        .create_organization(
            &owner,
            json!({"name": "Hidden draft", "kind": "diaspora-organization"}),
        )
        .await;
    let shown = id(&app
        .create_organization(
            &owner,
            json!({"name": "Shown", "kind": "diaspora-organization", "status": "published"}),
        )
        .await);
    ok(merge(&app, &moderator, &id(&hidden), &shown).await).await;
    let by_id = format!("/v1/organizations/{}", id(&hidden));
    for path in [
        by_id.clone(),
        format!("/v1/organizations/{}", hidden["slug"].as_str().unwrap()),
    ] {
        assert_problem(app.get(&path).await, 404, "not_found").await;
    }
    let res = app
        .patch_as(&by_id, &moderator, &json!({"city": "Lyon"}))
        .await;
    assert_problem(res, 404, "not_found").await;
    // An unknown id is still a plain 404.
    let res = app
        .get("/v1/organizations/7d1f1d5e-0000-4000-8000-000000000000")
        .await;
    assert_problem(res, 404, "not_found").await;
}

#[tokio::test]
async fn only_moderators_merge_and_every_refusal_says_why() {
    let app = TestApp::spawn().await;
    let moderator = app.moderator_token("mod@example.org").await;
    let owner = app.token("owner@example.org").await;
    // The duplicate has as many alternate names as a profile may: with its own name added
    // to the survivor's, the joined profile would have one too many.
    let alternate_names: Value = (1..=20)
        .map(|n| json!({"name": format!("Alpha {n}")}))
        .collect();
    let a = id(&app
        .create_organization(
            &owner,
            json!({"name": "Alpha", "kind": "diaspora-organization", "status": "published",
                   "alternate_names": alternate_names}),
        )
        .await);
    let b = id(&app
        .create_organization(
            &owner,
            json!({"name": "Bravo", "kind": "diaspora-organization", "status": "published"}),
        )
        .await);
    let archived = id(&app
        .create_organization(
            &owner,
            json!({"name": "Charlie", "kind": "diaspora-organization"}),
        )
        .await);
    let res = app
        .delete_as(&format!("/v1/organizations/{archived}"), &owner)
        .await;
    assert_eq!(res.status(), 204);
    let path = format!("/v1/admin/organizations/{a}/merge");

    let res = app
        .request(Method::POST, &path, None)
        .json(&json!({"into": b}))
        .send()
        .await
        .unwrap();
    assert_problem(res, 401, "unauthorized").await;
    assert_problem(merge(&app, &owner, &a, &b).await, 403, "forbidden").await;
    // A moderator who is a member of either leaves it to another.
    for (email, org) in [("in-b@example.org", &b), ("in-a@example.org", &a)] {
        let member_moderator = app.moderator_token(email).await;
        app.sql(&format!(
            "INSERT INTO organization_members (organization_id, user_id, role) \
             SELECT '{org}', id, 'editor' FROM users WHERE email = '{email}'"
        ))
        .await;
        assert_problem(
            merge(&app, &member_moderator, &a, &b).await,
            403,
            "forbidden",
        )
        .await;
    }

    let res = merge(&app, &moderator, "not-a-uuid", &b).await;
    assert_problem(res, 400, "validation_failed").await;
    let res = merge(&app, &moderator, "7d1f1d5e-0000-4000-8000-000000000000", &b).await;
    assert_problem(res, 404, "not_found").await;
    for (into, field_message) in [
        (a.clone(), "is this organization"),
        (
            "7d1f1d5e-0000-4000-8000-000000000000".to_owned(),
            "names no organization",
        ),
        (archived.clone(), "is archived"),
    ] {
        let problem = assert_problem(
            merge(&app, &moderator, &a, &into).await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(problem["errors"][0]["field"], "into");
        assert!(
            problem["errors"][0]["message"]
                .as_str()
                .unwrap()
                .starts_with(field_message),
            "{problem}"
        );
    }
    let res = app
        .post_as(
            &path,
            &moderator,
            &json!({"into": b, "status": "published"}),
        )
        .await;
    assert_problem(res, 422, "validation_failed").await;

    let problem = assert_problem(
        merge(&app, &moderator, &a, &b).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(
        problem["errors"][0]["field"], "alternate_names",
        "{problem}"
    );
    let res = app
        .patch_as(
            &format!("/v1/organizations/{a}"),
            &owner,
            &json!({"alternate_names": []}),
        )
        .await;
    assert_eq!(res.status(), 200);
    // Together they would have 22 contact persons; one organization may have 20.
    app.sql(&format!(
        "INSERT INTO organization_contacts (organization_id, name, consent_basis, purpose) \
         SELECT o, 'Person ' || n, 'consent', 'Test' \
           FROM unnest(ARRAY['{a}', '{b}']::uuid[]) o, generate_series(1, 11) n"
    ))
    .await;
    let problem = assert_problem(
        merge(&app, &moderator, &a, &b).await,
        422,
        "validation_failed",
    )
    .await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("22 contact persons"),
        "{problem}"
    );
    // Nothing moved.
    let res = app.get(&format!("/v1/organizations/{a}")).await;
    assert_eq!(res.status(), 200);
}

/// Sends `request`, which must end up waiting on the organizations' row locks while a merge of
/// `dup` into `survivor`, played by hand in SQL, holds them; then commits the merge and returns
/// the response.
async fn held_by_a_merge(
    app: &TestApp,
    dup: &str,
    survivor: &str,
    request: reqwest::RequestBuilder,
) -> reqwest::Response {
    use diesel_async::RunQueryDsl;
    let mut merger = app.db.connect().await;
    for sql in [
        "BEGIN".to_owned(),
        format!(
            "SELECT 1 FROM organizations WHERE id IN ('{dup}', '{survivor}') \
              ORDER BY id FOR NO KEY UPDATE"
        ),
    ] {
        diesel::sql_query(sql).execute(&mut merger).await.unwrap();
    }
    let response = tokio::spawn(request.send());
    app.wait_for_lock_waiters(1, "the request never waited for the merge")
        .await;
    for sql in [
        format!(
            "UPDATE organizations SET status = 'archived', merged_into = '{survivor}', \
                    merged_was_public = true WHERE id = '{dup}'"
        ),
        "COMMIT".to_owned(),
    ] {
        diesel::sql_query(sql).execute(&mut merger).await.unwrap();
    }
    response.await.unwrap().unwrap()
}

/// A write that checked the organization before a merge committed, and writes after, fails
/// (409) rather than leave a row on the merged organization, where nobody could reach it: an
/// engagement (a trigger refuses it) and a contact request (its writer locks the recipient).
#[tokio::test]
async fn a_write_racing_a_merge_fails_instead_of_stranding_its_row() {
    let app = TestApp::spawn().await;
    let moderator = app.moderator_token("mod@example.org").await;
    let owner = app.token("owner@example.org").await;
    let other = app.token("other@example.org").await;
    let mut orgs = Vec::new();
    for (token, name) in [
        (&owner, "Duplicate"),
        (&owner, "Survivor"),
        (&owner, "Second duplicate"),
        (&other, "Partner"),
        (&owner, "Third duplicate"),
    ] {
        orgs.push(id(&app
            .create_organization(
                token,
                json!({"name": name, "kind": "diaspora-organization", "status": "published"}),
            )
            .await));
    }
    let crisis = id(&created(
        app.post_as(
            "/v1/crises",
            &moderator,
            &json!({"name": "Quake", "type": "EQ", "countries": ["HTI"], "started_on": "2021-08-14"}),
        )
        .await,
    )
    .await);

    let engagement = app
        .request(
            Method::POST,
            &format!("/v1/crises/{crisis}/engagements"),
            Some(&owner),
        )
        .json(
            &json!({"organization_id": orgs[0], "sectors": ["health"], "country": "HTI",
                      "status": "ongoing"}),
        );
    let res = held_by_a_merge(&app, &orgs[0], &orgs[1], engagement).await;
    let problem = assert_problem(res, 409, "conflict").await;
    assert!(problem["detail"].as_str().unwrap().contains("merged"));

    let request = app
        .request(
            Method::POST,
            &format!("/v1/organizations/{}/contact-requests", orgs[2]),
            Some(&other),
        )
        .json(
            &json!({"from_organization_id": orgs[3], "subject": "Nurses",
                      "message": "Could your nurses help?"}),
        );
    let res = held_by_a_merge(&app, &orgs[2], &orgs[1], request).await;
    let problem = assert_problem(res, 409, "conflict").await;
    assert!(problem["detail"].as_str().unwrap().contains("merged"));

    // A partner's look at contact persons: what it would see is not shown, since its record
    // could not be kept where the survivor's owners read it.
    contact(&app, &owner, &orgs[4], "Nadia Pierre").await;
    let accepted = ask(&app, &other, &orgs[3], &orgs[4]).await;
    let res = app
        .request(
            Method::POST,
            &format!("/v1/contact-requests/{accepted}/accept"),
            Some(&owner),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let view = app.request(
        Method::GET,
        &format!("/v1/organizations/{}/contacts", orgs[4]),
        Some(&other),
    );
    let res = held_by_a_merge(&app, &orgs[4], &orgs[1], view).await;
    let problem = assert_problem(res, 409, "conflict").await;
    assert!(!problem.to_string().contains("Nadia"));

    for (table, column, org) in [
        ("engagements", "organization_id", &orgs[0]),
        ("contact_requests", "to_organization_id", &orgs[2]),
        ("contact_releases", "organization_id", &orgs[4]),
    ] {
        assert_eq!(
            app.scalar(&format!(
                "SELECT count(*) FROM {table} WHERE {column} = '{org}'"
            ))
            .await,
            0,
            "{table}"
        );
    }
}
