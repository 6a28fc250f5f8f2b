//! Invite links: made through `/api/invites`, used at `/join/<code>`, with expiry, use
//! limits and revocation; a link that no longer works creates nothing.

use crate::common;
use crate::onboarding::{account, first_user, fresh};

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use common::*;
use kanect::config::{Config, Signup};
use rocket::futures::future::join_all;
use rocket::http::Status;
use rocket::local::asynchronous::LocalResponse;
use serde_json::{json, Value};

fn from(last: u8) -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(192, 0, 2, last)), 42000)
}

fn fields<'a>(list: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    list.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// Makes an invite as `person`: the 201 answer.
async fn invite(person: &Person<'_>, body: Value) -> Value {
    let response = person.send("POST", "/api/invites", body).await;
    assert_eq!(response.status(), Status::Created);
    response.into_json().await.expect("JSON")
}

/// Signs `name` up through the invite at `path`, from `address`.
async fn join<'a>(
    app: &'a TestApp,
    path: &str,
    name: &str,
    address: SocketAddr,
) -> LocalResponse<'a> {
    // The open form's own page; an invite's is the sign-in page (it may not answer 200).
    let page = if path == "/signup" { path } else { "/login" };
    let visitor = app.visitor(page).await;
    visitor
        .post_form_from(address, path, &fields(&account(name)))
        .await
}

async fn users(app: &TestApp) -> i64 {
    app.count("SELECT count(*) FROM users").await
}

#[rocket::async_test]
async fn an_invite_link_signs_a_member_up_and_shows_its_code_only_once() {
    let app = fresh().await;
    let root = first_user(&app, "root").await;
    let made = invite(&root, json!({ "note": "for Bob" })).await;
    let code = made["code"].as_str().expect("code").to_owned();
    assert!(code.len() >= 22, "128 bits or more: {code}");
    assert!(
        code.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
        "URL-safe: {code}"
    );
    let path = made["path"].as_str().expect("path").to_owned();
    assert_eq!(path, format!("/join/{code}"));
    assert_eq!(made["note"], "for Bob");
    assert_eq!(made["uses"], 0);
    assert_eq!(made["max_uses"], Value::Null);
    assert_eq!(made["revoked"], false);
    assert_eq!(made["usable"], true);
    let days = app
        .count("SELECT (expires_at - created_at) / 86400000 FROM invites")
        .await;
    assert_eq!(days, 7, "a week by default");
    // The database keeps a hash only; the list never shows the code again.
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM invites WHERE note LIKE '%{code}%'"
        ))
        .await,
        0
    );
    let listed = root.get_json("/api/invites", Status::Ok).await;
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
    assert!(listed[0].get("code").is_none(), "{listed}");

    let page = app.client.get(path.clone()).dispatch().await;
    assert_eq!(page.status(), Status::Ok);
    let html = unescape(&page.into_string().await.unwrap_or_default());
    assert!(html.contains(&format!("action=\"{path}\"")), "{html}");
    assert!(html.contains("id_password2"), "the sign-up form's fields");

    let response = join(&app, &path, "bob", from(1)).await;
    assert_eq!(response.status(), Status::SeeOther);
    let bob = app.person_from(response, "bob").await;
    let me = bob.get_json("/api/me", Status::Ok).await;
    assert_eq!(me["role"], "member");
    let listed = root.get_json("/api/invites", Status::Ok).await;
    assert_eq!(listed[0]["uses"], 1);
    // And the two can chat.
    let chat = bob.chat_with("root").await;
    bob.say(chat, "hello root").await;
    let history = root.history(chat, "").await;
    assert!(history.to_string().contains("hello root"), "{history}");
}

#[rocket::async_test]
async fn a_wrong_used_up_revoked_or_expired_invite_is_a_clear_410_and_creates_nothing() {
    let app = fresh().await;
    let root = first_user(&app, "root").await;
    let once = invite(&root, json!({ "max_uses": 1 })).await;
    let once = once["path"].as_str().expect("path").to_owned();
    assert_eq!(
        join(&app, &once, "first", from(2)).await.status(),
        Status::SeeOther
    );
    let revoked = invite(&root, json!({})).await;
    let id = revoked["id"].as_i64().expect("id");
    let response = root
        .send("DELETE", &format!("/api/invites/{id}"), Value::Null)
        .await;
    assert_eq!(response.status(), Status::NoContent);
    let revoked = revoked["path"].as_str().expect("path").to_owned();
    let expired = invite(&root, json!({})).await;
    app.sql(&format!(
        "UPDATE invites SET expires_at = 1 WHERE id = {}",
        expired["id"]
    ))
    .await;
    let expired = expired["path"].as_str().expect("path").to_owned();
    let before = users(&app).await;
    for path in [
        once.as_str(),
        revoked.as_str(),
        expired.as_str(),
        "/join/not-a-real-code",
        &format!("/join/{}", "x".repeat(500)),
    ] {
        let page = app.client.get(path.to_owned()).dispatch().await;
        assert_eq!(page.status(), Status::Gone, "GET {path}");
        let html = page.into_string().await.unwrap_or_default();
        assert!(html.contains("invite link does not work"), "{html}");
        let response = join(&app, path, "mallory", from(3)).await;
        assert_eq!(response.status(), Status::Gone, "POST {path}");
    }
    assert_eq!(users(&app).await, before, "nothing created");
    let listed = root.get_json("/api/invites", Status::Ok).await;
    assert!(listed
        .as_array()
        .expect("list")
        .iter()
        .all(|i| i["usable"] == false));
}

#[rocket::async_test]
async fn two_people_racing_for_the_last_use_one_wins() {
    let app = fresh().await;
    let root = first_user(&app, "root").await;
    let made = invite(&root, json!({ "max_uses": 2 })).await;
    let path = made["path"].as_str().expect("path").to_owned();
    let racers = ["ann", "ben", "cat", "dan", "eli"];
    let answers = join_all(racers.map(|name| join(&app, &path, name, from(4)))).await;
    let won = answers
        .iter()
        .filter(|r| r.status() == Status::SeeOther)
        .count();
    assert_eq!(won, 2, "two uses, two sign-ups");
    assert!(answers
        .iter()
        .all(|r| matches!(r.status(), Status::SeeOther | Status::Gone)));
    assert_eq!(users(&app).await, 3);
    assert_eq!(app.count("SELECT uses FROM invites").await, 2);
}

#[rocket::async_test]
async fn sign_ups_through_an_invite_are_not_limited_per_address() {
    let app = fresh().await;
    let root = first_user(&app, "root").await;
    let made = invite(&root, json!({})).await;
    let path = made["path"].as_str().expect("path").to_owned();
    let office = kanect::auth::throttle::SIGN_UPS + 3;
    for i in 0..office {
        let name = format!("office{i}");
        let response = join(&app, &path, &name, from(5)).await;
        assert_eq!(response.status(), Status::SeeOther, "{name}");
    }
    // Open sign-up keeps its limit per address.
    let open = TestApp::with(|c| c.signup = Signup::Open).await;
    for i in 0..kanect::auth::throttle::SIGN_UPS {
        let response = join(&open, "/signup", &format!("open{i}"), from(6)).await;
        assert_eq!(response.status(), Status::SeeOther, "open sign-up {i}");
    }
    let response = join(&open, "/signup", "onetoomany", from(6)).await;
    assert_eq!(response.status(), Status::TooManyRequests);
}

#[rocket::async_test]
async fn who_may_invite_and_revoke() {
    let app = TestApp::with(|c| {
        c.signup = Signup::Invite;
        c.members_can_invite = false;
    })
    .await;
    let root = first_user(&app, "root").await;
    let made = invite(&root, json!({})).await;
    let response = join(&app, made["path"].as_str().expect("path"), "bob", from(7)).await;
    let bob = app.person_from(response, "bob").await;
    let response = bob.send("POST", "/api/invites", json!({})).await;
    expect_error(response, Status::Forbidden, "forbidden").await;
    // Someone else's invite is not found, and stays usable.
    let id = made["id"].as_i64().expect("id");
    let response = bob
        .send("DELETE", &format!("/api/invites/{id}"), Value::Null)
        .await;
    expect_error(response, Status::NotFound, "not_found").await;
    assert_eq!(bob.get_json("/api/invites", Status::Ok).await, json!([]));
    for odd in ["0", "-1", "99999", "abc"] {
        let response = root
            .send("DELETE", &format!("/api/invites/{odd}"), Value::Null)
            .await;
        assert!(
            matches!(
                response.status(),
                Status::NotFound | Status::UnprocessableEntity
            ),
            "{odd}: {}",
            response.status()
        );
    }
    // Members may invite by default.
    let open = fresh().await;
    let root = first_user(&open, "root").await;
    let made = invite(&root, json!({})).await;
    let response = join(&open, made["path"].as_str().expect("path"), "bob", from(8)).await;
    let bob = open.person_from(response, "bob").await;
    invite(&bob, json!({ "note": "for Carol", "expires_in_days": 1 })).await;
    // Anonymous callers cannot.
    let response = open.anonymous("POST", "/api/invites").await;
    assert_eq!(response.status(), Status::Unauthorized);
}

#[rocket::async_test]
async fn invite_fields_are_checked() {
    let app = fresh().await;
    let root = first_user(&app, "root").await;
    for (body, field) in [
        (json!({ "note": "x".repeat(201) }), "note"),
        (json!({ "note": "a\u{0007}b" }), "note"),
        (json!({ "expires_in_days": 0 }), "expires_in_days"),
        (json!({ "expires_in_days": 31 }), "expires_in_days"),
        (json!({ "max_uses": 0 }), "max_uses"),
        (json!({ "max_uses": 1001 }), "max_uses"),
    ] {
        let response = root.send("POST", "/api/invites", body.clone()).await;
        let error = expect_invalid(response, field).await;
        assert!(error.to_string().contains(field), "{body}: {error}");
    }
    let response = root
        .send("POST", "/api/invites", json!({ "admin": true }))
        .await;
    assert_eq!(response.status(), Status::UnprocessableEntity);
    assert_eq!(app.count("SELECT count(*) FROM invites").await, 0);
}

#[rocket::async_test]
async fn closed_sign_up_has_no_join_page_and_no_invites() {
    let app = TestApp::with(|c| c.signup = Signup::Open).await;
    let alice = app.signup("alice").await;
    let made = invite(&alice, json!({})).await;
    drop(app);
    let closed = TestApp::with(|c| c.signup = Signup::Closed).await;
    let root = first_user(&closed, "root").await;
    let response = root.send("POST", "/api/invites", json!({})).await;
    expect_error(response, Status::Forbidden, "forbidden").await;
    let path = made["path"].as_str().expect("path");
    assert_eq!(
        closed.client.get(path.to_owned()).dispatch().await.status(),
        Status::NotFound
    );
    assert_eq!(Config::default().signup, Signup::Invite);
}

#[rocket::async_test]
async fn invite_routes_need_their_csrf_tokens() {
    let app = fresh().await;
    let root = first_user(&app, "root").await;
    let made = invite(&root, json!({})).await;
    let id = made["id"].as_i64().expect("id");
    for token in [None, Some(""), Some("forged")] {
        let response = root
            .send_token("POST", "/api/invites", token, json!({}))
            .await;
        expect_error(response, Status::Forbidden, "csrf").await;
        let response = root
            .send_token("DELETE", &format!("/api/invites/{id}"), token, Value::Null)
            .await;
        expect_error(response, Status::Forbidden, "csrf").await;
        let visitor = app.visitor("/login").await;
        let path = made["path"].as_str().expect("path");
        let response = visitor
            .post_form_token(path, token, &fields(&account("mallory")))
            .await;
        assert_eq!(response.status(), Status::Forbidden, "{token:?}");
    }
    assert_eq!(app.count("SELECT count(*) FROM invites").await, 1);
    assert_eq!(users(&app).await, 1);
    assert_eq!(
        app.count("SELECT count(*) FROM invites WHERE revoked = FALSE")
            .await,
        1
    );
}

#[rocket::async_test]
async fn staff_see_every_invite_in_the_admin_without_its_code() {
    let app = fresh().await;
    let root = first_user(&app, "root").await;
    let made = invite(
        &root,
        json!({ "note": "For the design team", "max_uses": 3 }),
    )
    .await;
    let code = made["code"].as_str().expect("code").to_owned();
    let html = root.page("/admin/invites/", Status::Ok).await;
    assert!(html.contains("For the design team"), "{html}");
    assert!(!html.contains(&code), "the console never shows a code");
    let index = root.page("/admin/", Status::Ok).await;
    assert!(index.contains("/admin/invites"), "{index}");
    let id = made["id"].as_i64().expect("id");
    let form = root
        .page(&format!("/admin/invites/{id}/change/"), Status::Ok)
        .await;
    assert!(!form.contains(&code));
    let response = join(&app, made["path"].as_str().expect("path"), "bob", from(9)).await;
    let bob = app.person_from(response, "bob").await;
    let denied = bob.get("/admin/invites/").await;
    assert_ne!(
        denied.status(),
        Status::Ok,
        "members do not see the console"
    );
}
