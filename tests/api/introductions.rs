//! Introductions: an NGO finds a diaspora organization, asks to be introduced, is accepted; both
//! then see each other's contact persons (each view recorded) and exchange messages. Every
//! refusal on the way, the daily cap, and concurrent decisions.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{TEST_CONTACT_REQUESTS_PER_DAY, TestApp, assert_problem};

async fn organization(app: &TestApp, token: &str, body: Value) -> String {
    let mut body = body;
    if body.get("status").is_none() {
        body["status"] = json!("published");
    }
    app.create_organization(token, body).await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn add_contact(app: &TestApp, token: &str, org: &str, name: &str) -> String {
    let res = app
        .post_as(
            &format!("/v1/organizations/{org}/contacts"),
            token,
            &json!({"name": name, "email": "person@example.org", "consent_basis": "consent",
                    "consent_obtained_at": "2026-03-01T10:00:00Z", "purpose": "Introductions"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn ask(app: &TestApp, token: &str, from: &str, to: &str) -> reqwest::Response {
    app.post_as(
        &format!("/v1/organizations/{to}/contact-requests"),
        token,
        &json!({"from_organization_id": from, "subject": "Telehealth volunteers",
                "message": "Could your doctors run consultations in Creole?", "sector": "health"}),
    )
    .await
}

async fn sent(app: &TestApp, token: &str, from: &str, to: &str) -> String {
    let res = ask(app, token, from, to).await;
    assert_eq!(res.status(), 201);
    res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn act(app: &TestApp, token: &str, request: &str, action: &str) -> reqwest::Response {
    app.request(
        Method::POST,
        &format!("/v1/contact-requests/{request}/{action}"),
        Some(token),
    )
    .send()
    .await
    .unwrap()
}

async fn json_of(res: reqwest::Response) -> Value {
    assert_eq!(res.status(), 200, "{}", res.url());
    res.json().await.unwrap()
}

fn kinds(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap().to_owned())
        .collect()
}

/// Two published organizations, each with an owner and a contact person.
struct Pair {
    ngo: String,
    ngo_owner: String,
    diaspora: String,
    diaspora_owner: String,
    diaspora_contact: String,
    ngo_contact: String,
}

async fn pair(app: &TestApp) -> Pair {
    let ngo_owner = app.token("coordinator@ngo.example").await;
    let diaspora_owner = app.token("president@diaspora.example").await;
    let ngo = organization(
        app,
        &ngo_owner,
        json!({"name": "Health Cluster Partner", "kind": "international-ngo"}),
    )
    .await;
    let diaspora = organization(
        app,
        &diaspora_owner,
        json!({"name": "Asosyasyon Sante Dyaspora", "kind": "diaspora-organization",
               "origin_countries": ["HT"], "languages": ["ht"],
               "capabilities": [{"sector": "health", "support_types": ["telehealth-helpline"]}]}),
    )
    .await;
    let diaspora_contact = add_contact(app, &diaspora_owner, &diaspora, "Marie Joseph").await;
    let ngo_contact = add_contact(app, &ngo_owner, &ngo, "Sam Field").await;
    Pair {
        ngo,
        ngo_owner,
        diaspora,
        diaspora_owner,
        diaspora_contact,
        ngo_contact,
    }
}

#[tokio::test]
async fn an_ngo_finds_asks_is_accepted_and_both_sides_see_contacts_and_talk() {
    let app = TestApp::spawn().await;
    let p = pair(&app).await;

    // Found through discovery.
    let found = json_of(
        app.get("/v1/organizations?origin_country=HT&sector=health&language=ht")
            .await,
    )
    .await;
    assert_eq!(found["data"][0]["id"], p.diaspora.as_str());

    // Before any introduction the contacts are private.
    let contacts = format!("/v1/organizations/{}/contacts", p.diaspora);
    assert_problem(app.get_as(&contacts, &p.ngo_owner).await, 403, "forbidden").await;

    let res = ask(&app, &p.ngo_owner, &p.ngo, &p.diaspora).await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.headers()["cache-control"], "private, no-store");
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let request: Value = res.json().await.unwrap();
    let id = request["id"].as_str().unwrap().to_owned();
    assert_eq!(location, format!("/v1/contact-requests/{id}"));
    assert_eq!(request["status"], "pending");
    assert_eq!(request["from_organization_name"], "Health Cluster Partner");
    assert_eq!(request["to_organization_name"], "Asosyasyon Sante Dyaspora");
    assert_eq!(request["sector"], "health");
    assert!(request["decided_at"].is_null());

    // Both sides see it, in their own box; the receiving side is notified.
    let inbox = json_of(
        app.get_as("/v1/contact-requests?box=inbox", &p.diaspora_owner)
            .await,
    )
    .await;
    assert_eq!(inbox["total"], 1);
    assert_eq!(inbox["data"][0]["id"], id.as_str());
    let outbox = json_of(
        app.get_as("/v1/contact-requests?box=outbox", &p.ngo_owner)
            .await,
    )
    .await;
    assert_eq!(outbox["data"][0]["id"], id.as_str());
    assert_eq!(
        json_of(
            app.get_as("/v1/contact-requests?box=inbox", &p.ngo_owner)
                .await
        )
        .await["total"],
        0
    );
    let unread = json_of(
        app.get_as("/v1/notifications?unread=true", &p.diaspora_owner)
            .await,
    )
    .await;
    assert_eq!(kinds(&unread), ["contact_request.received"]);
    assert_eq!(unread["data"][0]["contact_request_id"], id.as_str());
    assert_eq!(unread["data"][0]["read"], false);
    assert_eq!(
        json_of(app.get_as(&location, &p.ngo_owner).await).await,
        request
    );

    // No thread until accepted.
    let thread = format!("{location}/messages");
    let res = app
        .post_as(&thread, &p.ngo_owner, &json!({"body": "Hello?"}))
        .await;
    assert_problem(res, 409, "conflict").await;

    let accepted = json_of(act(&app, &p.diaspora_owner, &id, "accept").await).await;
    assert_eq!(accepted["status"], "accepted");
    assert!(accepted["decided_at"].is_string());
    let ngo_news = json_of(app.get_as("/v1/notifications", &p.ngo_owner).await).await;
    assert_eq!(kinds(&ngo_news), ["contact_request.accepted"]);

    // Each side now sees the other's contact persons; each view is recorded.
    let theirs = json_of(app.get_as(&contacts, &p.ngo_owner).await).await;
    assert_eq!(theirs["data"][0]["id"], p.diaspora_contact.as_str());
    assert_eq!(theirs["data"][0]["name"], "Marie Joseph");
    let one = app
        .get_as(&format!("{contacts}/{}", p.diaspora_contact), &p.ngo_owner)
        .await;
    assert_eq!(one.status(), 200);
    let ours = json_of(
        app.get_as(
            &format!("/v1/organizations/{}/contacts", p.ngo),
            &p.diaspora_owner,
        )
        .await,
    )
    .await;
    assert_eq!(ours["data"][0]["id"], p.ngo_contact.as_str());
    // Reading is all a partner may do.
    let res = app
        .request(
            Method::PATCH,
            &format!("{contacts}/{}", p.diaspora_contact),
            Some(&p.ngo_owner),
        )
        .json(&json!({"role": "x"}))
        .send()
        .await
        .unwrap();
    assert_problem(res, 403, "forbidden").await;

    let releases = json_of(
        app.get_as(
            &format!("/v1/organizations/{}/contact-releases", p.diaspora),
            &p.diaspora_owner,
        )
        .await,
    )
    .await;
    assert_eq!(
        releases["total"], 2,
        "the list and the single read: {releases}"
    );
    let latest = &releases["data"][0];
    assert_eq!(latest["contact_request_id"], id.as_str());
    assert_eq!(latest["viewer_organization_id"], p.ngo.as_str());
    assert_eq!(latest["as_moderator"], false);
    assert_eq!(latest["contact_ids"], json!([p.diaspora_contact]));
    let ngo_releases = json_of(
        app.get_as(
            &format!("/v1/organizations/{}/contact-releases", p.ngo),
            &p.ngo_owner,
        )
        .await,
    )
    .await;
    assert_eq!(ngo_releases["total"], 1);
    assert_eq!(
        ngo_releases["data"][0]["viewer_organization_id"],
        p.diaspora.as_str()
    );

    // A thread, oldest first, each message notifying the other side.
    for (token, body) in [
        (&p.ngo_owner, "Thank you! Who should our doctors call?"),
        (&p.diaspora_owner, "Marie coordinates: call her on Monday."),
        (&p.ngo_owner, "  Will do.  "),
    ] {
        let res = app.post_as(&thread, token, &json!({"body": body})).await;
        assert_eq!(res.status(), 201);
        assert_eq!(res.headers()["cache-control"], "private, no-store");
    }
    let first = json_of(
        app.get_as(&format!("{thread}?limit=2"), &p.diaspora_owner)
            .await,
    )
    .await;
    assert_eq!(first["total"], 3);
    let bodies = |page: &Value| -> Vec<String> {
        page["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["body"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        bodies(&first),
        [
            "Thank you! Who should our doctors call?",
            "Marie coordinates: call her on Monday."
        ]
    );
    assert_eq!(first["data"][0]["author_organization_id"], p.ngo.as_str());
    assert_eq!(
        first["data"][1]["author_organization_id"],
        p.diaspora.as_str()
    );
    let cursor = first["next_cursor"].as_str().unwrap();
    let rest = json_of(
        app.get_as(
            &format!("{thread}?limit=2&cursor={cursor}"),
            &p.diaspora_owner,
        )
        .await,
    )
    .await;
    assert_eq!(bodies(&rest), ["Will do."]);
    assert!(rest["next_cursor"].is_null());
    let news = json_of(
        app.get_as("/v1/notifications?unread=true", &p.diaspora_owner)
            .await,
    )
    .await;
    assert_eq!(
        kinds(&news),
        [
            "message.received",
            "message.received",
            "contact_request.received"
        ]
    );

    // Marked read, one at a time.
    let oldest = news["data"][2]["id"].as_str().unwrap();
    let res = act_path(
        &app,
        &p.diaspora_owner,
        &format!("/v1/notifications/{oldest}/read"),
    )
    .await;
    assert_eq!(res.status(), 204);
    let res = act_path(
        &app,
        &p.diaspora_owner,
        &format!("/v1/notifications/{oldest}/read"),
    )
    .await;
    assert_eq!(res.status(), 204, "marking twice is harmless");
    let news = json_of(
        app.get_as("/v1/notifications?unread=true", &p.diaspora_owner)
            .await,
    )
    .await;
    assert_eq!(news["total"], 2);
    let all = json_of(app.get_as("/v1/notifications", &p.diaspora_owner).await).await;
    assert_eq!(all["total"], 3);
    assert_eq!(all["data"][2]["read"], true);
    assert!(all["data"][2]["read_at"].is_string());
}

async fn act_path(app: &TestApp, token: &str, path: &str) -> reqwest::Response {
    app.request(Method::POST, path, Some(token))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_bystander_sees_nothing_of_an_introduction() {
    let app = TestApp::spawn().await;
    let p = pair(&app).await;
    let id = sent(&app, &p.ngo_owner, &p.ngo, &p.diaspora).await;
    assert_eq!(
        act(&app, &p.diaspora_owner, &id, "accept").await.status(),
        200
    );
    let bystander = app.token("someone@elsewhere.example").await;
    let theirs = organization(
        &app,
        &bystander,
        json!({"name": "Bystander Relief", "kind": "national-ngo"}),
    )
    .await;
    let request = format!("/v1/contact-requests/{id}");
    assert_problem(app.get_as(&request, &bystander).await, 404, "not_found").await;
    assert_problem(
        app.get_as(&format!("{request}/messages"), &bystander).await,
        404,
        "not_found",
    )
    .await;
    let res = app
        .post_as(
            &format!("{request}/messages"),
            &bystander,
            &json!({"body": "hi"}),
        )
        .await;
    assert_problem(res, 404, "not_found").await;
    assert_problem(
        act(&app, &bystander, &id, "withdraw").await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.get_as(
            &format!("/v1/organizations/{}/contacts", p.diaspora),
            &bystander,
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        app.get_as(
            &format!("/v1/organizations/{}/contact-releases", p.diaspora),
            &bystander,
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    let lists = json_of(app.get_as("/v1/contact-requests", &bystander).await).await;
    assert_eq!(lists["total"], 0);
    let news = json_of(app.get_as("/v1/notifications", &bystander).await).await;
    assert_eq!(news["total"], 0);
    // Nor can they mark someone else's notification read.
    let theirs_news = json_of(app.get_as("/v1/notifications", &p.diaspora_owner).await).await;
    let foreign = theirs_news["data"][0]["id"].as_str().unwrap();
    assert_problem(
        act_path(
            &app,
            &bystander,
            &format!("/v1/notifications/{foreign}/read"),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    // A moderator is no party either, but may read contacts: recorded as such.
    let moderator = app.moderator_token("mod@example.org").await;
    assert_problem(app.get_as(&request, &moderator).await, 404, "not_found").await;
    assert_eq!(
        app.get_as(
            &format!("/v1/organizations/{}/contacts", p.diaspora),
            &moderator
        )
        .await
        .status(),
        200
    );
    let releases = json_of(
        app.get_as(
            &format!("/v1/organizations/{}/contact-releases", p.diaspora),
            &p.diaspora_owner,
        )
        .await,
    )
    .await;
    assert_eq!(releases["data"][0]["as_moderator"], true);
    assert!(releases["data"][0]["contact_request_id"].is_null());
    // An editor is a member, not an owner: no release log.
    let editor = app.token("editor@diaspora.example").await;
    let res = app
        .post_as(
            &format!("/v1/organizations/{}/members", p.diaspora),
            &p.diaspora_owner,
            &json!({"email": "editor@diaspora.example", "role": "editor"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    assert_problem(
        app.get_as(
            &format!("/v1/organizations/{}/contact-releases", p.diaspora),
            &editor,
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    // Their own organization changes nothing.
    let lists = json_of(
        app.get_as(&format!("/v1/organizations/{theirs}"), &bystander)
            .await,
    )
    .await;
    assert_eq!(lists["id"], theirs.as_str());
}

#[tokio::test]
async fn every_refusal_says_why() {
    let app = TestApp::spawn().await;
    let p = pair(&app).await;
    let stranger = app.token("stranger@example.org").await;

    // Asking on behalf of an organization one does not belong to.
    assert_problem(
        ask(&app, &stranger, &p.ngo, &p.diaspora).await,
        403,
        "forbidden",
    )
    .await;
    // Asking itself; bad fields, all named.
    let res = app
        .post_as(
            &format!("/v1/organizations/{}/contact-requests", p.ngo),
            &p.ngo_owner,
            &json!({"from_organization_id": p.ngo, "subject": " ", "message": "",
                    "sector": "astrology", "crisis_id": "00000000-0000-4000-8000-000000000000"}),
        )
        .await;
    let body = assert_problem(res, 422, "validation_failed").await;
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "subject",
            "message",
            "from_organization_id",
            "sector",
            "crisis_id"
        ]
    );
    // Unknown fields are refused (no mass assignment of status or sides).
    let res = app
        .post_as(
            &format!("/v1/organizations/{}/contact-requests", p.diaspora),
            &p.ngo_owner,
            &json!({"from_organization_id": p.ngo, "subject": "s", "message": "m", "status": "accepted"}),
        )
        .await;
    assert_problem(res, 422, "validation_failed").await;
    // A draft cannot be asked; nor an organization that does not exist.
    let draft = organization(
        &app,
        &stranger,
        json!({"name": "Not Yet", "kind": "other", "status": "draft"}),
    )
    .await;
    assert_problem(
        ask(&app, &p.ngo_owner, &p.ngo, &draft).await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        ask(
            &app,
            &p.ngo_owner,
            &p.ngo,
            "00000000-0000-4000-8000-000000000000",
        )
        .await,
        404,
        "not_found",
    )
    .await;
    // Anonymous callers are not members of anything.
    let res = app
        .post_json(
            &format!("/v1/organizations/{}/contact-requests", p.diaspora),
            &json!({"from_organization_id": p.ngo, "subject": "s", "message": "m"}),
        )
        .await;
    assert_problem(res, 401, "unauthorized").await;

    // One pending request per pair, whichever side asks.
    let id = sent(&app, &p.ngo_owner, &p.ngo, &p.diaspora).await;
    assert_problem(
        ask(&app, &p.ngo_owner, &p.ngo, &p.diaspora).await,
        409,
        "conflict",
    )
    .await;
    assert_problem(
        ask(&app, &p.diaspora_owner, &p.diaspora, &p.ngo).await,
        409,
        "conflict",
    )
    .await;

    // Each side only takes its own decisions.
    assert_problem(
        act(&app, &p.ngo_owner, &id, "accept").await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        act(&app, &p.ngo_owner, &id, "decline").await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        act(&app, &p.diaspora_owner, &id, "withdraw").await,
        403,
        "forbidden",
    )
    .await;

    // Withdrawn: final, and a new request may be sent.
    let withdrawn = json_of(act(&app, &p.ngo_owner, &id, "withdraw").await).await;
    assert_eq!(withdrawn["status"], "withdrawn");
    assert_problem(
        act(&app, &p.ngo_owner, &id, "withdraw").await,
        409,
        "conflict",
    )
    .await;
    assert_problem(
        act(&app, &p.diaspora_owner, &id, "accept").await,
        409,
        "conflict",
    )
    .await;
    let news = json_of(app.get_as("/v1/notifications", &p.diaspora_owner).await).await;
    assert_eq!(
        kinds(&news),
        ["contact_request.withdrawn", "contact_request.received"]
    );
    let again = sent(&app, &p.ngo_owner, &p.ngo, &p.diaspora).await;
    let declined = json_of(act(&app, &p.diaspora_owner, &again, "decline").await).await;
    assert_eq!(declined["status"], "declined");
    // Declined: no contacts, no thread.
    assert_problem(
        app.get_as(
            &format!("/v1/organizations/{}/contacts", p.diaspora),
            &p.ngo_owner,
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    let res = app
        .post_as(
            &format!("/v1/contact-requests/{again}/messages"),
            &p.ngo_owner,
            &json!({"body": "Please?"}),
        )
        .await;
    assert_problem(res, 409, "conflict").await;
    let statuses = json_of(
        app.get_as(
            "/v1/contact-requests?box=outbox&status=declined",
            &p.ngo_owner,
        )
        .await,
    )
    .await;
    assert_eq!(statuses["total"], 1);
    assert_eq!(statuses["data"][0]["id"], again.as_str());
    let res = app
        .get_as("/v1/contact-requests?status=lost", &p.ngo_owner)
        .await;
    assert_problem(res, 400, "validation_failed").await;

    // Messages: never blank, bounded.
    let third = sent(&app, &p.ngo_owner, &p.ngo, &p.diaspora).await;
    assert_eq!(
        act(&app, &p.diaspora_owner, &third, "accept")
            .await
            .status(),
        200
    );
    let thread = format!("/v1/contact-requests/{third}/messages");
    for body in [json!({"body": " \n "}), json!({"body": "x".repeat(5001)})] {
        let res = app.post_as(&thread, &p.ngo_owner, &body).await;
        assert_problem(res, 422, "validation_failed").await;
    }
    assert_problem(
        app.get_as("/v1/contact-requests/not-a-uuid", &p.ngo_owner)
            .await,
        400,
        "validation_failed",
    )
    .await;
}

#[tokio::test]
async fn an_organization_may_send_only_so_many_requests_a_day() {
    let app = TestApp::spawn().await;
    let owner = app.token("busy@ngo.example").await;
    let ngo = organization(
        &app,
        &owner,
        json!({"name": "Busy NGO", "kind": "national-ngo"}),
    )
    .await;
    let other = app.token("groups@diaspora.example").await;
    let cap = usize::try_from(TEST_CONTACT_REQUESTS_PER_DAY).unwrap();
    let mut targets = Vec::new();
    for i in 0..=cap {
        targets.push(
            organization(
                &app,
                &other,
                json!({"name": format!("Group {i}"), "kind": "diaspora-organization"}),
            )
            .await,
        );
    }
    for target in &targets[..cap] {
        assert_eq!(ask(&app, &owner, &ngo, target).await.status(), 201);
    }
    let res = ask(&app, &owner, &ngo, &targets[cap]).await;
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=86_400).contains(&retry), "{retry}");
    let body = assert_problem(res, 429, "rate_limited").await;
    assert!(body["detail"].as_str().unwrap().contains("24 hours"));
    // Withdrawing does not give the quota back; a day later it is back.
    app.sql("UPDATE contact_requests SET created_at = now() - interval '25 hours'")
        .await;
    assert_eq!(ask(&app, &owner, &ngo, &targets[cap]).await.status(), 201);
}

/// Two decisions at once: exactly one wins, the other is told the request was decided.
#[tokio::test]
async fn concurrent_decisions_have_one_winner() {
    let app = TestApp::spawn().await;
    let p = pair(&app).await;
    let second = app.token("treasurer@diaspora.example").await;
    let res = app
        .post_as(
            &format!("/v1/organizations/{}/members", p.diaspora),
            &p.diaspora_owner,
            &json!({"email": "treasurer@diaspora.example", "role": "editor"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    for round in 0..4 {
        let id = sent(&app, &p.ngo_owner, &p.ngo, &p.diaspora).await;
        // Two accepts, or an accept against a withdrawal.
        let (a, b) = if round % 2 == 0 {
            tokio::join!(
                act(&app, &p.diaspora_owner, &id, "accept"),
                act(&app, &second, &id, "accept")
            )
        } else {
            tokio::join!(
                act(&app, &p.diaspora_owner, &id, "accept"),
                act(&app, &p.ngo_owner, &id, "withdraw")
            )
        };
        let mut statuses = [a.status().as_u16(), b.status().as_u16()];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 409], "round {round}");
        let final_status = json_of(
            app.get_as(&format!("/v1/contact-requests/{id}"), &p.ngo_owner)
                .await,
        )
        .await["status"]
            .clone();
        let winner = if a.status() == 200 { a } else { b };
        let won: Value = winner.json().await.unwrap();
        assert_eq!(won["status"], final_status);
        // Exactly one notification of the decision.
        let decided = json_of(
            app.get_as("/v1/notifications?limit=100", &p.ngo_owner)
                .await,
        )
        .await["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| {
                n["contact_request_id"] == id.as_str() && n["kind"] == "contact_request.accepted"
            })
            .count();
        assert_eq!(
            decided,
            usize::from(final_status == "accepted"),
            "round {round}"
        );
    }
}

/// Two organizations asking each other at the same moment: one request, one 409, no deadlock.
#[tokio::test]
async fn crossed_requests_make_one_request() {
    let app = TestApp::spawn().await;
    let p = pair(&app).await;
    for round in 0..3 {
        let (a, b) = tokio::join!(
            ask(&app, &p.ngo_owner, &p.ngo, &p.diaspora),
            ask(&app, &p.diaspora_owner, &p.diaspora, &p.ngo)
        );
        let mut statuses = [a.status().as_u16(), b.status().as_u16()];
        statuses.sort_unstable();
        assert_eq!(statuses, [201, 409], "round {round}");
        let winner: Value = if a.status() == 201 {
            a.json().await.unwrap()
        } else {
            b.json().await.unwrap()
        };
        let id = winner["id"].as_str().unwrap();
        let token = if winner["from_organization_id"] == p.ngo.as_str() {
            &p.ngo_owner
        } else {
            &p.diaspora_owner
        };
        assert_eq!(act(&app, token, id, "withdraw").await.status(), 200);
    }
}

/// A suspended organization loses what its introductions released.
#[tokio::test]
async fn a_suspended_partner_no_longer_reads_contacts() {
    let app = TestApp::spawn().await;
    let p = pair(&app).await;
    let id = sent(&app, &p.ngo_owner, &p.ngo, &p.diaspora).await;
    assert_eq!(
        act(&app, &p.diaspora_owner, &id, "accept").await.status(),
        200
    );
    let contacts = format!("/v1/organizations/{}/contacts", p.diaspora);
    assert_eq!(app.get_as(&contacts, &p.ngo_owner).await.status(), 200);
    app.sql(&format!(
        "UPDATE organizations SET status = 'suspended' WHERE id = '{}'",
        p.ngo
    ))
    .await;
    assert_problem(app.get_as(&contacts, &p.ngo_owner).await, 403, "forbidden").await;
}

/// Each member has their own read marks.
#[tokio::test]
async fn read_marks_are_per_member() {
    let app = TestApp::spawn().await;
    let p = pair(&app).await;
    let editor = app.token("editor@diaspora.example").await;
    let res = app
        .post_as(
            &format!("/v1/organizations/{}/members", p.diaspora),
            &p.diaspora_owner,
            &json!({"email": "editor@diaspora.example", "role": "editor"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    sent(&app, &p.ngo_owner, &p.ngo, &p.diaspora).await;
    let news = json_of(app.get_as("/v1/notifications?unread=true", &editor).await).await;
    assert_eq!(news["total"], 1);
    let id = news["data"][0]["id"].as_str().unwrap();
    assert_eq!(
        act_path(&app, &editor, &format!("/v1/notifications/{id}/read"))
            .await
            .status(),
        204
    );
    assert_eq!(
        json_of(app.get_as("/v1/notifications?unread=true", &editor).await).await["total"],
        0
    );
    assert_eq!(
        json_of(
            app.get_as("/v1/notifications?unread=true", &p.diaspora_owner)
                .await
        )
        .await["total"],
        1
    );
    // The sender's side was not notified of its own request.
    assert_eq!(
        json_of(app.get_as("/v1/notifications", &p.ngo_owner).await).await["total"],
        0
    );
}
