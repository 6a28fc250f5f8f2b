//! Sign-in throttling: per account and per address, atomic under concurrency, the client
//! address (forged headers count for nothing), and device cookies, which let a browser
//! that signed in to an account before keep its own allowance while strangers are locked
//! out (OWASP, "Slow Down Online Guessing Attacks with Device Cookies").

use crate::common;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Mutex;

use common::*;
use kanect::config::Proxy;
use rocket::futures::future::join_all;
use rocket::http::{Cookie, Header, Status};
use rocket::local::asynchronous::LocalResponse;

/// The sign-in limit per account, per address and per device cookie.
const LIMIT: usize = kanect::auth::throttle::SIGN_IN_FAILURES;

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

/// A browser at one address: it keeps every cookie it is given except the session's (so
/// each `sign_in` is a new sign-in, as after signing out), and asks for the sign-in page
/// before each attempt, as a person would.
struct Browser<'a> {
    app: &'a TestApp,
    address: SocketAddr,
    jar: Mutex<Vec<Cookie<'static>>>,
}

impl<'a> Browser<'a> {
    fn new(app: &'a TestApp, address: SocketAddr) -> Browser<'a> {
        Browser {
            app,
            address,
            jar: Mutex::new(Vec::new()),
        }
    }

    /// Another browser at `address` holding copies of this one's cookies: a thief's.
    fn copied_to(&self, address: SocketAddr) -> Browser<'a> {
        Browser {
            app: self.app,
            address,
            jar: Mutex::new(self.jar.lock().unwrap().clone()),
        }
    }

    fn with_cookies(
        &self,
        mut request: rocket::local::asynchronous::LocalRequest<'a>,
    ) -> rocket::local::asynchronous::LocalRequest<'a> {
        for cookie in self.jar.lock().unwrap().iter() {
            request = request.cookie(cookie.clone());
        }
        request.remote(self.address)
    }

    fn keep(&self, response: &LocalResponse<'_>) {
        let mut jar = self.jar.lock().unwrap();
        for cookie in response.cookies().iter() {
            if cookie.name().ends_with("kanect_session") {
                continue;
            }
            jar.retain(|kept| kept.name() != cookie.name());
            let removed = cookie.max_age().is_some_and(|age| age.is_zero());
            if !removed {
                jar.push(cookie.clone().into_owned());
            }
        }
    }

    async fn sign_in(&self, name: &str, password: &str) -> Status {
        let page = self
            .with_cookies(self.app.client.get("/login"))
            .dispatch()
            .await;
        self.keep(&page);
        let html = page.into_string().await.unwrap_or_default();
        let token = csrf_in(&html).expect("the sign-in page has a CSRF token");
        let fields = [("username", name), ("password", password)];
        let request = self.with_cookies(self.app.client.post("/login"));
        let response = form_request(request, Some(&token), &fields)
            .dispatch()
            .await;
        self.keep(&response);
        response.status()
    }
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
async fn signing_in_to_ones_own_account_does_not_reset_the_address_count() {
    let app = TestApp::new().await;
    app.signup("mallory").await;
    let visitor = app.visitor("/login").await;
    let mut guesses = Vec::new();
    for round in 0..3 {
        for n in 0..4 {
            let name = format!("victim{round}{n}");
            let response = sign_in(&visitor, from(5), &name, "guess").await;
            guesses.push(response.status().code);
        }
        // Her own account, from the same address, between the guesses.
        sign_in(&visitor, from(5), "mallory", PASSWORD).await;
    }
    let mut expected = vec![200; LIMIT];
    expected.resize(12, 429);
    assert_eq!(
        guesses, expected,
        "only {LIMIT} guesses from one address are ever checked"
    );
}

#[rocket::async_test]
async fn concurrent_wrong_passwords_are_checked_at_most_the_limit() {
    let app = TestApp::new().await;
    app.signup("bob").await;
    let visitor = app.visitor("/login").await;
    const AT_ONCE: u8 = 30;
    // One account from many addresses, then many accounts from one address.
    let at_bob = (0..AT_ONCE).map(|n| sign_in(&visitor, from(n), "bob", "wrong-guess"));
    let statuses: Vec<u16> = join_all(at_bob)
        .await
        .iter()
        .map(|r| r.status().code)
        .collect();
    let from_one: Vec<String> = (0..AT_ONCE).map(|n| format!("user{n}")).collect();
    let at_many = from_one
        .iter()
        .map(|name| sign_in(&visitor, from(200), name, "wrong-guess"));
    let statuses_one: Vec<u16> = join_all(at_many)
        .await
        .iter()
        .map(|r| r.status().code)
        .collect();
    for (what, statuses) in [("one account", statuses), ("one address", statuses_one)] {
        // A checked password answers the form again (200); the rest are throttled.
        let checked = statuses.iter().filter(|&&s| s == 200).count();
        assert!(
            (1..=LIMIT).contains(&checked),
            "{what}: {checked} of {AT_ONCE} concurrent wrong passwords were checked"
        );
        assert!(
            statuses.iter().all(|&s| s == 200 || s == 429),
            "{what}: {statuses:?}"
        );
    }
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
async fn strangers_lock_the_account_yet_the_owners_browser_still_signs_in() {
    let app = TestApp::new().await;
    app.signup("root").await;
    app.signup("alice").await;
    app.sql("UPDATE users SET role = 'superuser' WHERE username = 'root'")
        .await;
    let owner = Browser::new(&app, from(1));
    assert_eq!(owner.sign_in("root", PASSWORD).await, Status::SeeOther);
    let alices = Browser::new(&app, from(2));
    assert_eq!(alices.sign_in("alice", PASSWORD).await, Status::SeeOther);
    // Strangers, each from an address of their own, lock the account.
    let visitor = app.visitor("/login").await;
    for n in 0..LIMIT as u8 {
        let response = sign_in(&visitor, from(100 + n), "root", "wrong-guess").await;
        assert_eq!(response.status(), Status::Ok);
    }
    // Strangers stay locked out, even with the right password, and so does a browser
    // that only ever signed in to another account.
    let response = sign_in(&visitor, from(150), "root", PASSWORD).await;
    assert_eq!(response.status(), Status::TooManyRequests, "a stranger");
    let fresh = Browser::new(&app, from(151));
    assert_eq!(
        fresh.sign_in("root", PASSWORD).await,
        Status::TooManyRequests
    );
    assert_eq!(
        alices.sign_in("root", PASSWORD).await,
        Status::TooManyRequests,
        "alice's browser vouches for alice only"
    );
    // The browser that signed in to root before still can, typos and all.
    for _ in 0..LIMIT - 1 {
        assert_eq!(owner.sign_in("root", "typo").await, Status::Ok);
    }
    assert_eq!(owner.sign_in("root", PASSWORD).await, Status::SeeOther);
    assert_eq!(owner.sign_in("ROOT", PASSWORD).await, Status::SeeOther);
}

#[rocket::async_test]
async fn a_stolen_device_cookie_gets_only_a_few_guesses() {
    let app = TestApp::new().await;
    app.signup("bob").await;
    let owner = Browser::new(&app, from(1));
    assert_eq!(owner.sign_in("bob", PASSWORD).await, Status::SeeOther);
    let thief = owner.copied_to(from(66));
    // The owner signs in again later: their browser gets a fresh device cookie.
    assert_eq!(owner.sign_in("bob", PASSWORD).await, Status::SeeOther);
    let mut statuses = Vec::new();
    for _ in 0..12 {
        statuses.push(thief.sign_in("bob", "guess").await.code);
    }
    let mut expected = vec![200; LIMIT];
    expected.resize(12, 429);
    assert_eq!(statuses, expected, "the stolen cookie's guesses");
    assert_eq!(
        thief.sign_in("bob", PASSWORD).await,
        Status::TooManyRequests,
        "a locked device cookie is locked, whatever the password"
    );
    // Neither the owner's browser nor strangers pay for the thief's guesses.
    assert_eq!(owner.sign_in("bob", PASSWORD).await, Status::SeeOther);
    let stranger = Browser::new(&app, from(77));
    assert_eq!(stranger.sign_in("bob", PASSWORD).await, Status::SeeOther);
}
