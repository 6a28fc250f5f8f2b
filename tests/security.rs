//! Sign-in throttling, session expiry and the account page's session list.

mod common;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use common::*;
use rocket::http::Status;
use rocket::local::asynchronous::LocalResponse;

fn from(last: u8) -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(203, 0, 113, last)), 40000)
}

/// A sign-in attempt from `address`, with the anonymous CSRF cookie of `visitor`.
async fn sign_in<'a>(
    visitor: &Visitor<'a>,
    address: SocketAddr,
    name: &str,
    password: &str,
) -> LocalResponse<'a> {
    let fields = [("username", name), ("password", password)];
    visitor.post_form_from(address, "/login", &fields).await
}

#[rocket::async_test]
async fn five_wrong_passwords_lock_the_account_for_a_while() {
    let app = TestApp::new().await;
    app.signup("bob").await;
    let visitor = app.visitor("/login").await;
    for attempt in 0..5 {
        let response = sign_in(&visitor, from(attempt), "bob", "wrong-guess").await;
        assert_eq!(
            response.status(),
            Status::Ok,
            "attempt {attempt} is an ordinary failure"
        );
    }
    // From yet another address, even with the right password: the account is throttled.
    let response = sign_in(&visitor, from(9), "BOB", PASSWORD).await;
    assert_eq!(response.status(), Status::TooManyRequests);
    let wait: u64 = header(&response, "Retry-After")
        .and_then(|s| s.parse().ok())
        .expect("Retry-After");
    assert!((1..=900).contains(&wait), "{wait}");
    let html = unescape(&response.into_string().await.unwrap_or_default());
    assert!(
        html.contains("Too many attempts. Please try again in 15 minutes."),
        "the same page, with why"
    );
    assert!(
        html.contains("name=\"password\""),
        "the sign-in form itself"
    );
    // Someone else is not affected.
    app.signup("carol").await;
    let response = sign_in(&visitor, from(9), "carol", PASSWORD).await;
    assert_eq!(response.status(), Status::SeeOther);
}

#[rocket::async_test]
async fn one_address_guessing_many_accounts_is_throttled() {
    let app = TestApp::new().await;
    app.signup("bob").await;
    let visitor = app.visitor("/login").await;
    for name in ["amy", "ben", "cat", "dan", "eve"] {
        let response = sign_in(&visitor, from(7), name, "guess").await;
        assert_eq!(response.status(), Status::Ok);
    }
    let response = sign_in(&visitor, from(7), "bob", PASSWORD).await;
    assert_eq!(response.status(), Status::TooManyRequests);
    assert!(header(&response, "Retry-After").is_some());
    // Another address signs bob in.
    let response = sign_in(&visitor, from(8), "bob", PASSWORD).await;
    assert_eq!(response.status(), Status::SeeOther);
}

#[rocket::async_test]
async fn a_successful_sign_in_resets_the_count() {
    let app = TestApp::new().await;
    app.signup("bob").await;
    let visitor = app.visitor("/login").await;
    for _ in 0..4 {
        sign_in(&visitor, from(1), "bob", "typo").await;
    }
    assert_eq!(
        sign_in(&visitor, from(1), "bob", PASSWORD).await.status(),
        Status::SeeOther
    );
    for _ in 0..4 {
        assert_eq!(
            sign_in(&visitor, from(1), "bob", "typo").await.status(),
            Status::Ok
        );
    }
    assert_eq!(
        sign_in(&visitor, from(1), "bob", PASSWORD).await.status(),
        Status::SeeOther
    );
}

#[rocket::async_test]
async fn sign_ups_are_limited_per_address() {
    let app = TestApp::new().await;
    let visitor = app.visitor("/signup").await;
    let mut statuses = Vec::new();
    for i in 0..11 {
        let name = format!("user{i}");
        let fields = [
            ("username", name.as_str()),
            ("password1", PASSWORD),
            ("password2", PASSWORD),
        ];
        let response = visitor.post_form_from(from(3), "/signup", &fields).await;
        statuses.push(response.status().code);
    }
    assert_eq!(&statuses[..10], &[303; 10]);
    assert_eq!(statuses[10], 429);
    assert_eq!(app.count("SELECT count(*) FROM users").await, 10);
}

#[rocket::async_test]
async fn sessions_end_when_idle_too_long_or_too_old() {
    let app = TestApp::new().await;
    let bob = app.signup("bob").await;
    let carol = app.signup("carol").await;
    assert_eq!(bob.get("/api/me").await.status(), Status::Ok);
    // Idle past its expiry.
    app.sql("UPDATE sessions SET expires_at = 1 WHERE user_id = 1")
        .await;
    assert_eq!(bob.get("/api/me").await.status(), Status::Unauthorized);
    // Used recently, but started more than 4 × session_days (14) ago.
    let old = 57_i64 * 86_400_000;
    app.sql(&format!(
        "UPDATE sessions SET created_at = created_at - {old} WHERE user_id = 2"
    ))
    .await;
    assert_eq!(carol.get("/api/me").await.status(), Status::Unauthorized);
}

#[rocket::async_test]
async fn people_see_and_end_their_own_other_sessions() {
    let app = TestApp::new().await;
    let here = app.signup("bob").await;
    let phone = app.login("bob", PASSWORD).await;
    let laptop = app.login("bob", PASSWORD).await;
    let mallory = app.signup("mallory").await;
    let html = unescape(
        &here
            .get("/account")
            .await
            .into_string()
            .await
            .unwrap_or_default(),
    );
    assert!(html.contains("This browser"));
    assert_eq!(
        html.matches("/account/sessions/").count(),
        3,
        "two others to end, and all of them"
    );
    let phone_session = app
        .count("SELECT max(id) - 1 FROM sessions WHERE user_id = 1")
        .await;
    // Nobody ends someone else's session.
    let response = mallory
        .post_form(&format!("/account/sessions/{phone_session}/end"), &[])
        .await;
    assert_eq!(response.status(), Status::NotFound);
    assert_eq!(phone.get("/api/me").await.status(), Status::Ok);
    // Without the CSRF token, nothing either.
    let response = here
        .post_form_token(&format!("/account/sessions/{phone_session}/end"), None, &[])
        .await;
    assert_eq!(response.status(), Status::Forbidden);
    let response = here
        .post_form(&format!("/account/sessions/{phone_session}/end"), &[])
        .await;
    assert!(here
        .follow(response)
        .await
        .contains("That session was signed out."));
    assert_eq!(phone.get("/api/me").await.status(), Status::Unauthorized);
    assert_eq!(laptop.get("/api/me").await.status(), Status::Ok);
    let response = here.post_form("/account/sessions/end-others", &[]).await;
    assert!(here
        .follow(response)
        .await
        .contains("Signed out 1 other session."));
    assert_eq!(laptop.get("/api/me").await.status(), Status::Unauthorized);
    assert_eq!(here.get("/api/me").await.status(), Status::Ok);
    app.client.get("/account").dispatch().await; // anonymous: see below
    let response = app.client.get("/account").dispatch().await;
    assert_eq!(location(&response), "/login?next=%2Faccount");
}

#[rocket::async_test]
async fn hsts_is_sent_only_when_serving_tls() {
    use rocket::local::asynchronous::Client;
    #[rocket::get("/")]
    fn index() -> &'static str {
        "ok"
    }
    for hsts in [true, false] {
        let rocket = rocket::custom(rocket::Config::debug_default())
            .mount("/", rocket::routes![index])
            .attach(kanect::security::SecurityHeaders { hsts });
        let client = Client::untracked(rocket).await.expect("rocket");
        let response = client.get("/").dispatch().await;
        let header = header(&response, "Strict-Transport-Security");
        assert_eq!(header.is_some(), hsts);
        assert!(header.is_none_or(|h| h.contains("max-age=")));
    }
}

#[rocket::async_test]
async fn a_server_error_says_nothing_but_the_request_id() {
    let app = TestApp::new().await;
    let root = app.admin("root", "superuser").await;
    // Break the database under the running app: every chat query now fails.
    app.sql("DROP TABLE chat_members").await;
    let response = root.get("/api/chats").await;
    assert_eq!(response.status(), Status::InternalServerError);
    let id = header(&response, "X-Request-Id").expect("a request id");
    let body: serde_json::Value = response.into_json().await.expect("JSON");
    assert_eq!(body["error"]["code"], "internal");
    assert!(
        !body.to_string().contains("chat_members"),
        "no SQL detail: {body}"
    );
    let response = root.get("/admin/chats/").await;
    assert_eq!(response.status(), Status::InternalServerError);
    let id2 = header(&response, "X-Request-Id").expect("a request id");
    let html = response.into_string().await.unwrap_or_default();
    assert!(html.contains(&id2), "the page shows its request id");
    assert!(
        !html.contains("chat_members") && !html.contains("sqlx"),
        "no detail on the page"
    );
    assert_ne!(id, id2);
}
