//! Sessions (expiry, the account page's list and the address kept with each), cookies
//! (HttpOnly, SameSite, Secure and `__Host-` under HTTPS, also behind a proxy), CSRF
//! tokens that belong to their session, and what a server error shows. Throttling is in
//! `throttling.rs`.

use crate::common;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use common::*;
use kanect::config::Proxy;
use rocket::http::{Cookie, Header, Status};
use rocket::local::asynchronous::{LocalRequest, LocalResponse};

fn from(last: u8) -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(203, 0, 113, last)), 40000)
}

/// The proxy's own address, as a connection from it would have.
const PROXY: ([u8; 4], u16) = ([127, 0, 0, 1], 50000);

fn with_headers<'c>(mut request: LocalRequest<'c>, headers: &[(&str, &str)]) -> LocalRequest<'c> {
    for (name, value) in headers {
        request = request.header(Header::new(name.to_string(), value.to_string()));
    }
    request
}

/// The `Set-Cookie` header that sets `name`, if any.
fn set_cookie(response: &LocalResponse<'_>, name: &str) -> Option<String> {
    response
        .headers()
        .get("Set-Cookie")
        .find(|c| c.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

/// A visitor's visit to the form at `path` and its post with `fields`, from `address`
/// with `headers` on both requests; returns the answer to the post and the cookies the
/// visitor then holds.
async fn post_through<'a>(
    app: &'a TestApp,
    address: SocketAddr,
    headers: &[(&str, &str)],
    path: &str,
    fields: &[(&str, &str)],
) -> (LocalResponse<'a>, Vec<Cookie<'static>>) {
    let page = with_headers(app.client.get(path.to_owned()).remote(address), headers)
        .dispatch()
        .await;
    let mut cookies: Vec<Cookie<'static>> = page
        .cookies()
        .iter()
        .map(|c| c.clone().into_owned())
        .collect();
    let token = csrf_in(&page.into_string().await.unwrap_or_default()).expect("a token");
    let mut request = with_headers(app.client.post(path.to_owned()).remote(address), headers);
    for cookie in &cookies {
        request = request.cookie(cookie.clone());
    }
    let response = form_request(request, Some(&token), fields).dispatch().await;
    cookies.extend(response.cookies().iter().map(|c| c.clone().into_owned()));
    (response, cookies)
}

async fn sign_in_through<'a>(
    app: &'a TestApp,
    address: SocketAddr,
    headers: &[(&str, &str)],
    name: &str,
) -> (LocalResponse<'a>, Vec<Cookie<'static>>) {
    let fields = [("username", name), ("password", PASSWORD)];
    post_through(app, address, headers, "/login", &fields).await
}

async fn sign_up_through<'a>(
    app: &'a TestApp,
    address: SocketAddr,
    headers: &[(&str, &str)],
    name: &str,
) -> (LocalResponse<'a>, Vec<Cookie<'static>>) {
    let fields = [
        ("username", name),
        ("password1", PASSWORD),
        ("password2", PASSWORD),
    ];
    post_through(app, address, headers, "/signup", &fields).await
}

#[rocket::async_test]
async fn each_session_keeps_the_address_the_configured_proxy_names() {
    let forged = [
        ("X-Real-IP", "198.51.100.1"),
        ("X-Forwarded-For", "198.51.100.2"),
    ];
    for (proxy, address, headers, shown) in [
        (Proxy::None, from(9), &forged[..], "203.0.113.9"),
        (Proxy::XRealIp, PROXY.into(), &forged[..], "198.51.100.1"),
        (
            Proxy::XForwardedFor,
            PROXY.into(),
            &forged[..],
            "198.51.100.2",
        ),
        (
            Proxy::XForwardedFor,
            PROXY.into(),
            &[("X-Forwarded-For", "6.6.6.6, 198.51.100.3")][..],
            "198.51.100.3",
        ),
    ] {
        let app = TestApp::with(|c| c.proxy = proxy).await;
        app.signup("bob").await;
        let (response, cookies) = sign_in_through(&app, address, headers, "bob").await;
        assert_eq!(response.status(), Status::SeeOther, "{proxy:?}");
        let mut request = app.client.get("/account");
        for cookie in cookies {
            request = request.cookie(cookie);
        }
        let html = request
            .dispatch()
            .await
            .into_string()
            .await
            .unwrap_or_default();
        assert!(html.contains(shown), "{proxy:?}: the session shows {shown}");
        for (_, other) in headers {
            if !shown.contains(other) {
                assert!(!html.contains(other), "{proxy:?}: {other} is nowhere");
            }
        }
    }
}

#[rocket::async_test]
async fn over_https_cookies_are_secure_and_host_prefixed_also_behind_a_proxy() {
    let https = [("X-Forwarded-Proto", "https")];
    let tls = rocket::config::TlsConfig::from_paths("cert.pem", "key.pem");
    // Kanect's own TLS, or a configured proxy saying the browser used HTTPS.
    for (what, proxy, tls, headers) in [
        ("own TLS", Proxy::None, Some(tls), &[][..]),
        (
            "x-forwarded-for proxy",
            Proxy::XForwardedFor,
            None,
            &https[..],
        ),
        ("x-real-ip proxy", Proxy::XRealIp, None, &https[..]),
    ] {
        let app = TestApp::with(|c| {
            c.proxy = proxy;
            c.tls = tls.clone();
        })
        .await;
        let (response, cookies) = sign_up_through(&app, PROXY.into(), headers, "bob").await;
        assert_eq!(response.status(), Status::SeeOther, "{what}");
        for name in ["__Host-kanect_session", "__Host-kanect_device"] {
            let set = set_cookie(&response, name).unwrap_or_else(|| panic!("{what}: {name}"));
            for attribute in ["Secure", "Path=/", "HttpOnly"] {
                assert!(set.contains(attribute), "{what}: {attribute} in {set}");
            }
            assert!(!set.contains("Domain"), "{what}: no Domain in {set}");
        }
        let device = set_cookie(&response, "__Host-kanect_device").unwrap_or_default();
        assert!(
            device.contains("Max-Age=31536000"),
            "{what}: a year: {device}"
        );
        assert!(set_cookie(&response, "kanect_session").is_none(), "{what}");
        // The session works on the next HTTPS request, and signs in again.
        let (again, _) = sign_in_through(&app, PROXY.into(), headers, "bob").await;
        assert_eq!(again.status(), Status::SeeOther, "{what}");
        assert!(
            set_cookie(&again, "__Host-kanect_session").is_some(),
            "{what}"
        );
        let mut request = with_headers(app.client.get("/api/me").remote(PROXY.into()), headers);
        for cookie in &cookies {
            request = request.cookie(cookie.clone());
        }
        assert_eq!(request.dispatch().await.status(), Status::Ok, "{what}");
        if proxy != Proxy::None {
            // A request the proxy did not mark HTTPS reads only the bare names.
            let mut plain = app.client.get("/api/me").remote(PROXY.into());
            for cookie in &cookies {
                plain = plain.cookie(cookie.clone());
            }
            assert_eq!(
                plain.dispatch().await.status(),
                Status::Unauthorized,
                "{what}: plain HTTP"
            );
        }
    }
    // The anonymous CSRF cookie too.
    let app = TestApp::with(|c| c.proxy = Proxy::XRealIp).await;
    let page = with_headers(app.client.get("/login"), &https)
        .dispatch()
        .await;
    let set = set_cookie(&page, "__Host-kanect_csrf").expect("__Host-kanect_csrf");
    assert!(set.contains("Secure") && set.contains("Path=/"), "{set}");
    // Over plain HTTP, or with the header from anyone when no proxy is set: bare names,
    // no Secure flag.
    for (what, proxy, headers) in [
        ("plain HTTP through a proxy", Proxy::XRealIp, &[][..]),
        ("X-Forwarded-Proto without a proxy", Proxy::None, &https[..]),
    ] {
        let app = TestApp::with(|c| c.proxy = proxy).await;
        let (response, _) = sign_up_through(&app, PROXY.into(), headers, "bob").await;
        let set = set_cookie(&response, "kanect_session").unwrap_or_else(|| panic!("{what}"));
        assert!(!set.contains("Secure"), "{what}: {set}");
        assert!(
            set_cookie(&response, "__Host-kanect_session").is_none(),
            "{what}"
        );
    }
}

#[rocket::async_test]
async fn a_planted_anonymous_csrf_cookie_forges_nothing_for_a_signed_in_person() {
    let app = TestApp::new().await;
    let root = app.admin("root", "superuser").await;
    let bob = app.signup("bob").await;
    // Mallory's own anonymous cookie and its token, planted in root's browser.
    let mallory = app.visitor("/login").await;
    let planted = mallory.cookie.clone().expect("an anonymous CSRF cookie");
    let forge = |request| root.request(request).cookie(planted.clone());
    let change = [
        ("username", "bob"),
        ("email", "bob@example.com"),
        ("role", "superuser"),
        ("is_active", "on"),
        ("_save", "1"),
    ];
    let path = format!("/admin/users/{}/change/", bob.id);
    let response = form_request(
        forge(app.client.post(path.clone())),
        Some(&mallory.csrf),
        &change,
    )
    .dispatch()
    .await;
    assert_eq!(response.status(), Status::Forbidden, "the forged change");
    let api = forge(app.client.post("/api/chats"))
        .header(rocket::http::ContentType::JSON)
        .header(Header::new("X-CSRF-Token", mallory.csrf.clone()))
        .body(r#"{"title": "forged", "members": ["bob"]}"#)
        .dispatch()
        .await;
    assert_eq!(api.status(), Status::Forbidden, "the forged API call");
    let logout = form_request(forge(app.client.post("/logout")), Some(&mallory.csrf), &[])
        .dispatch()
        .await;
    assert_eq!(logout.status(), Status::Forbidden, "the forged sign-out");
    assert_eq!(
        app.count("SELECT count(*) FROM users WHERE role = 'superuser'")
            .await,
        1,
        "bob is still a member"
    );
    assert_eq!(app.count("SELECT count(*) FROM chats").await, 0);
    assert_eq!(app.count("SELECT count(*) FROM admin_log").await, 0);
    assert_eq!(root.get("/api/me").await.status(), Status::Ok);
    // Root's own token, with the planted cookie still there, works as ever.
    let response = form_request(forge(app.client.post(path)), Some(&root.csrf), &change)
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::SeeOther);
    assert_eq!(
        app.count("SELECT count(*) FROM users WHERE role = 'superuser'")
            .await,
        2
    );
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
