//! Sign-in throttling: per account and per address, and the client address (forged
//! headers count for nothing).

mod common;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use common::*;
use kanect::config::Proxy;
use rocket::http::{Header, Status};
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

/// The same, with extra request headers (as a client or a proxy would add them).
async fn sign_in_with<'a>(
    visitor: &Visitor<'a>,
    address: SocketAddr,
    headers: &[(&str, &str)],
    name: &str,
) -> Status {
    let mut request = visitor.app.client.post("/login").remote(address);
    if let Some(cookie) = &visitor.cookie {
        request = request.cookie(cookie.clone());
    }
    for (header, value) in headers {
        request = request.header(Header::new(header.to_string(), value.to_string()));
    }
    let fields = [("username", name), ("password", "wrong-guess")];
    form_request(request, Some(&visitor.csrf), &fields)
        .dispatch()
        .await
        .status()
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
async fn forged_address_headers_change_nothing_without_a_proxy() {
    let app = TestApp::new().await;
    assert!(
        app.client.rocket().config().ip_header.is_none(),
        "Rocket's own X-Real-IP reading is off"
    );
    let visitor = app.visitor("/login").await;
    for name in ["amy", "ben", "cat", "dan", "eve"] {
        let status = sign_in_with(&visitor, from(7), &[], name).await;
        assert_eq!(status, Status::Ok, "{name}: an ordinary failure");
    }
    for forged in [
        ("X-Real-IP", "198.51.100.1"),
        ("X-Forwarded-For", "198.51.100.2"),
        ("X-Forwarded-For", "198.51.100.3, 198.51.100.4"),
        ("Forwarded", "for=198.51.100.5"),
    ] {
        let status = sign_in_with(&visitor, from(7), &[forged], "fay").await;
        assert_eq!(
            status,
            Status::TooManyRequests,
            "{forged:?} does not make 203.0.113.7 someone else"
        );
    }
}

#[rocket::async_test]
async fn behind_a_proxy_each_client_is_the_address_the_proxy_names() {
    let proxy = SocketAddr::from(([127, 0, 0, 1], 50000));
    for (setting, header) in [
        (Proxy::XRealIp, "X-Real-IP"),
        (Proxy::XForwardedFor, "X-Forwarded-For"),
    ] {
        let app = TestApp::with(|c| c.proxy = setting).await;
        let visitor = app.visitor("/login").await;
        // What the proxy sends for a client: nginx appends to what the client sent.
        let seen = |client: &str, sent: &str| match setting {
            Proxy::XForwardedFor => format!("{sent}, {client}"),
            _ => client.to_owned(),
        };
        for name in ["amy", "ben", "cat", "dan", "eve"] {
            let value = seen("198.51.100.7", "6.6.6.6");
            let status = sign_in_with(&visitor, proxy, &[(header, &value)], name).await;
            assert_eq!(status, Status::Ok, "{setting:?} {name}");
        }
        let value = seen("198.51.100.7", "7.7.7.7");
        let status = sign_in_with(&visitor, proxy, &[(header, &value)], "fay").await;
        assert_eq!(
            status,
            Status::TooManyRequests,
            "{setting:?}: the same client is throttled, whatever it sends"
        );
        let value = seen("198.51.100.8", "6.6.6.6");
        let status = sign_in_with(&visitor, proxy, &[(header, &value)], "fay").await;
        assert_eq!(
            status,
            Status::Ok,
            "{setting:?}: another client behind the same proxy is not"
        );
    }
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
