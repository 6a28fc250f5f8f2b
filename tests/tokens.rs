//! Personal API tokens: made on `/api/me/tokens` or `/account`, shown once, kept as a
//! hash, and accepted as `Authorization: Bearer` on every /api route (never on pages).

use std::time::{Duration, Instant};

use crate::common::*;
use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::LocalResponse;
use serde_json::{json, Value};

/// A token `who` makes through the API, and its id.
async fn token_of(who: &Person<'_>, name: &str) -> (String, i64) {
    let made = who
        .post_json("/api/me/tokens", json!({ "name": name }), Status::Created)
        .await;
    let token = made["token"].as_str().expect("the token, once").to_owned();
    (token, made["id"].as_i64().expect("an id"))
}

/// A request with only `Authorization: <value>`: no cookie, no CSRF token.
async fn with_header<'c>(
    app: &'c TestApp,
    method: &str,
    path: &str,
    authorization: &str,
    body: Option<Value>,
) -> LocalResponse<'c> {
    let mut request = request_for(&app.client, method, path)
        .header(Header::new("Authorization", authorization.to_owned()));
    if let Some(body) = body {
        request = request.header(ContentType::JSON).body(body.to_string());
    }
    request.dispatch().await
}

async fn bearer<'c>(
    app: &'c TestApp,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> LocalResponse<'c> {
    with_header(app, method, path, &format!("Bearer {token}"), body).await
}

#[rocket::async_test]
async fn a_token_lists_the_chats_without_a_cookie_and_is_shown_only_once() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    app.signup("bob").await;
    let chat = alice.chat_with("bob").await;

    let made = alice
        .post_json("/api/me/tokens", json!({ "name": "CI" }), Status::Created)
        .await;
    assert_eq!(keys(&made), ["created_at", "id", "name", "token"]);
    let token = made["token"].as_str().expect("token");
    assert!(token.starts_with("kanect_"), "{token}");

    let response = bearer(&app, "GET", "/api/chats", token, None).await;
    assert_eq!(response.status(), Status::Ok);
    let chats: Value = response.into_json().await.expect("chats");
    assert_eq!(chats[0]["id"], chat, "{chats}");
    let me: Value = bearer(&app, "GET", "/api/me", token, None)
        .await
        .into_json()
        .await
        .expect("me");
    assert_eq!(me["username"], "alice");

    // The list never shows the token again, and shows that it was used.
    let listed = alice.get_json("/api/me/tokens", Status::Ok).await;
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    assert_eq!(
        keys(&listed[0]),
        ["created_at", "id", "last_used_at", "name"]
    );
    assert_eq!(listed[0]["name"], "CI");
    assert!(listed[0]["last_used_at"].is_string(), "{listed}");
    assert!(!listed.to_string().contains(token));
}

#[rocket::async_test]
async fn a_token_sends_without_a_csrf_token_and_others_see_it_live() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let chat = alice.chat_with("bob").await;
    let (token, _) = token_of(&alice, "script").await;
    let start = bob.cursor_now().await;

    let path = format!("/api/chats/{chat}/messages");
    let (update, sent) = tokio::join!(bob.poll(start, 5), async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        bearer(
            &app,
            "POST",
            &path,
            &token,
            Some(json!({ "body": "build green" })),
        )
        .await
    });
    assert_eq!(sent.status(), Status::Created);
    assert!(update.to_string().contains("build green"), "{update}");
    let history = bob.history(chat, "").await;
    assert_eq!(history["messages"][0]["sender"], "alice");

    // The token's own long poll works too.
    let response = bearer(&app, "GET", "/api/updates?after=0&wait=0", &token, None).await;
    assert_eq!(response.status(), Status::Ok);
}

#[rocket::async_test]
async fn the_database_keeps_only_a_hash_of_the_token() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let (token, id) = token_of(&alice, "laptop").await;
    let hex: String = kanect::auth::token::hash(&token)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let as_hex = if app.is_postgres() {
        "encode(hash, 'hex')"
    } else {
        "lower(hex(hash))"
    };
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM api_tokens WHERE id = {id} AND {as_hex} = '{hex}'"
        ))
        .await,
        1
    );
    let row = app
        .text(&format!(
            "SELECT name || '|' || {as_hex} FROM api_tokens WHERE id = {id}"
        ))
        .await;
    assert!(!row.contains(&token[7..]), "{row}");
}

#[rocket::async_test]
async fn a_revoked_token_is_refused_at_once_even_by_a_long_poll_it_holds() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let (token, id) = token_of(&alice, "ci").await;
    let (other, _) = token_of(&alice, "other").await;
    let cursor: Value = bearer(&app, "GET", "/api/updates", &token, None)
        .await
        .into_json()
        .await
        .expect("updates");
    let cursor = cursor["cursor"].as_i64().expect("cursor");
    let poll = format!("/api/updates?after={cursor}&wait=5");

    let began = Instant::now();
    let (held, revoked) = tokio::join!(bearer(&app, "GET", &poll, &token, None), async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        alice
            .send("DELETE", &format!("/api/me/tokens/{id}"), Value::Null)
            .await
            .status()
    });
    assert_eq!(revoked, Status::NoContent);
    assert!(
        began.elapsed() < Duration::from_secs(3),
        "{:?}",
        began.elapsed()
    );
    expect_error(held, Status::Unauthorized, "bad_token").await;
    let response = bearer(&app, "GET", "/api/chats", &token, None).await;
    expect_error(response, Status::Unauthorized, "bad_token").await;

    // The other token still works, and can revoke itself without a CSRF token.
    let listed: Value = bearer(&app, "GET", "/api/me/tokens", &other, None)
        .await
        .into_json()
        .await
        .expect("tokens");
    let own = listed[0]["id"].as_i64().expect("id");
    let response = bearer(
        &app,
        "DELETE",
        &format!("/api/me/tokens/{own}"),
        &other,
        None,
    )
    .await;
    assert_eq!(response.status(), Status::NoContent);
    let response = bearer(&app, "GET", "/api/chats", &other, None).await;
    expect_error(response, Status::Unauthorized, "bad_token").await;
}

#[rocket::async_test]
async fn a_deactivated_persons_tokens_stop_working() {
    let app = TestApp::new().await;
    let root = app.admin("root", "superuser").await;
    let alice = app.signup("alice").await;
    let (token, _) = token_of(&alice, "ci").await;
    assert_eq!(
        bearer(&app, "GET", "/api/chats", &token, None)
            .await
            .status(),
        Status::Ok
    );
    let id = alice.id.to_string();
    let response = root
        .post_form(
            "/admin/users/",
            &[("action", "deactivate"), ("_selected_action", &id)],
        )
        .await;
    assert!(response.status().code < 400, "{}", response.status());
    let response = bearer(&app, "GET", "/api/chats", &token, None).await;
    expect_error(response, Status::Unauthorized, "bad_token").await;
}

#[rocket::async_test]
async fn unknown_and_malformed_tokens_are_refused_with_the_json_error() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let unknown = kanect::auth::token::new_api_token();
    for value in [
        format!("Bearer {unknown}"),
        "Bearer garbage".to_owned(),
        "Bearer ".to_owned(),
        "bearer kanect_".to_owned(),
        format!("Bearer {}x", &unknown),
    ] {
        let response = with_header(&app, "GET", "/api/chats", &value, None).await;
        expect_error(response, Status::Unauthorized, "bad_token").await;
    }
    // A bad token is refused even beside a good session cookie: it names who acts.
    let response = alice
        .request(app.client.get("/api/chats"))
        .header(Header::new("Authorization", format!("Bearer {unknown}")))
        .dispatch()
        .await;
    expect_error(response, Status::Unauthorized, "bad_token").await;
    // Another scheme (a proxy's Basic auth) is no token: the cookie decides.
    let basic = Header::new("Authorization", "Basic YWxpY2U6c2VjcmV0");
    let response = alice
        .request(app.client.get("/api/chats"))
        .header(basic.clone())
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::Ok);
    let response = app.client.get("/api/chats").header(basic).dispatch().await;
    expect_error(response, Status::Unauthorized, "not_signed_in").await;
}

#[rocket::async_test]
async fn a_bearer_token_on_a_page_is_ignored() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let (token, _) = token_of(&alice, "ci").await;
    for page in ["/", "/account", "/admin/"] {
        let response = bearer(&app, "GET", page, &token, None).await;
        assert_eq!(response.status(), Status::SeeOther, "{page}");
        assert!(location(&response).starts_with("/login"), "{page}");
    }
    // Nor is a token a session cookie.
    let response = app
        .client
        .get("/")
        .cookie(rocket::http::Cookie::new("kanect_session", token.clone()))
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::SeeOther);
}

#[rocket::async_test]
async fn names_are_checked_and_other_peoples_tokens_are_not_found() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    for name in ["", "   ", &"x".repeat(65), "bad\u{7}name"] {
        let response = alice.post("/api/me/tokens", json!({ "name": name })).await;
        expect_invalid(response, "name").await;
    }
    let response = alice.post("/api/me/tokens", json!({})).await;
    expect_invalid(response, "name").await;
    let (token, id) = token_of(&alice, &"y".repeat(64)).await;
    let response = bob
        .send("DELETE", &format!("/api/me/tokens/{id}"), Value::Null)
        .await;
    expect_error(response, Status::NotFound, "not_found").await;
    for path in ["/api/me/tokens/999999", "/api/me/tokens/abc"] {
        let response = alice.send("DELETE", path, Value::Null).await;
        expect_error(response, Status::NotFound, "not_found").await;
    }
    assert_eq!(
        bearer(&app, "GET", "/api/chats", &token, None)
            .await
            .status(),
        Status::Ok,
        "bob could not revoke it"
    );
    assert_eq!(bob.get_json("/api/me/tokens", Status::Ok).await, json!([]));
}

#[rocket::async_test]
async fn a_person_holds_at_most_twenty_tokens() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    for n in 0..20 {
        token_of(&alice, &format!("t{n}")).await;
    }
    let response = alice
        .post("/api/me/tokens", json!({ "name": "one more" }))
        .await;
    expect_invalid(response, "name").await;
}

#[rocket::async_test]
async fn the_account_page_makes_shows_once_and_revokes_a_token() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let response = alice
        .post_form("/account/tokens", &[("name", "Deploy")])
        .await;
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(
        header(&response, "Cache-Control").as_deref(),
        Some("no-store")
    );
    let page = unescape(&response.into_string().await.unwrap_or_default());
    let start = page.find("kanect_").expect("the new token on the page");
    let token: String = page[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    assert_eq!(
        bearer(&app, "GET", "/api/chats", &token, None)
            .await
            .status(),
        Status::Ok
    );
    let again = alice.page("/account", Status::Ok).await;
    assert!(
        again.contains("Deploy") && !again.contains(&token),
        "shown once"
    );
    assert!(again.contains("last used"), "its last use shows");

    let response = alice.post_form("/account/tokens", &[("name", "")]).await;
    let refused = unescape(&response.into_string().await.unwrap_or_default());
    assert!(refused.contains("Name the token"), "the field's error");

    let id = alice.get_json("/api/me/tokens", Status::Ok).await[0]["id"].clone();
    let response = alice
        .post_form(&format!("/account/tokens/{id}/revoke"), &[])
        .await;
    let page = alice.follow(response).await;
    assert!(page.contains("revoked"), "says so");
    let response = bearer(&app, "GET", "/api/chats", &token, None).await;
    expect_error(response, Status::Unauthorized, "bad_token").await;
}
