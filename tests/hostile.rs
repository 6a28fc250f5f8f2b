//! The chat's side under attack: every page and /api route of the contract with forged
//! CSRF tokens, other people's chats, odd ids, injection strings and broken bodies. Every
//! answer also passes `inspect`: no 5xx, no internal detail, the CSP header, and the JSON
//! error shape under /api.

use crate::common;

use common::hostile::*;
use common::*;
use rocket::http::{ContentType, Status};
use serde_json::{json, Value};

/// alice and bob share a direct chat and a group; carol shares nothing with them.
struct World<'a> {
    alice: Person<'a>,
    bob: Person<'a>,
    carol: Person<'a>,
    direct: i64,
    group: i64,
    /// A message in the direct chat.
    message: i64,
}

async fn world(app: &TestApp) -> World<'_> {
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let carol = app.signup("carol").await;
    let direct = alice.chat_with("bob").await;
    let group = alice.group("Team", &["bob"]).await;
    let message = alice.say(direct, "the secret plan").await["id"]
        .as_i64()
        .expect("message id");
    bob.say(group, "group secret").await;
    World {
        alice,
        bob,
        carol,
        direct,
        group,
        message,
    }
}

/// Every unsafe JSON route of the contract for `w`'s direct chat, with a valid body.
fn json_routes(w: &World<'_>) -> Vec<(&'static str, String, Value)> {
    let chat = w.direct;
    vec![
        ("POST", "/api/chats".into(), json!({ "with": "carol" })),
        (
            "POST",
            "/api/chats".into(),
            json!({ "title": "New", "members": ["carol"] }),
        ),
        (
            "PATCH",
            format!("/api/chats/{chat}"),
            json!({ "archived": true }),
        ),
        (
            "PATCH",
            format!("/api/chats/{}", w.group),
            json!({ "notify": "none" }),
        ),
        (
            "POST",
            format!("/api/chats/{chat}/messages"),
            json!({ "body": "forged" }),
        ),
        (
            "POST",
            format!("/api/chats/{chat}/read"),
            json!({ "up_to": w.message }),
        ),
        (
            "POST",
            "/api/password/strength".into(),
            json!({ "password": "forged", "username": "alice" }),
        ),
    ]
    .into_iter()
    .chain(lifecycle_routes(w.direct, w.group, w.message))
    .chain(profile_routes())
    .chain(invite_routes())
    .chain(push_routes())
    .collect()
}

/// Web Push subscriptions (`/api/push/subscriptions`) with a valid browser subscription.
fn push_routes() -> Vec<(&'static str, String, Value)> {
    let endpoint = "https://push.example.com/send/forged";
    let mut p256dh = vec![4u8];
    // The generator of P-256: a valid public key.
    p256dh.extend(hex(
        "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296",
    ));
    p256dh.extend(hex(
        "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5",
    ));
    use base64::Engine;
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    vec![
        (
            "POST",
            "/api/push/subscriptions".into(),
            json!({ "endpoint": endpoint,
                    "keys": { "p256dh": b64(&p256dh), "auth": b64(&[7u8; 16]) } }),
        ),
        (
            "DELETE",
            "/api/push/subscriptions".into(),
            json!({ "endpoint": endpoint }),
        ),
    ]
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .filter_map(|at| u8::from_str_radix(&text[at..at + 2], 16).ok())
        .collect()
}

/// The caller's own profile: `/api/me` and its password and avatar (the avatar upload,
/// multipart, is in hostile_uploads.rs).
fn profile_routes() -> Vec<(&'static str, String, Value)> {
    let new = "forged-but-strong-password-93";
    vec![
        (
            "PATCH",
            "/api/me".into(),
            json!({ "display_name": "Mallory", "email": "m@example.com",
                    "preferences": { "theme": "dark" } }),
        ),
        (
            "POST",
            "/api/me/password".into(),
            json!({ "current": PASSWORD, "password1": new, "password2": new }),
        ),
        ("DELETE", "/api/me/avatar".into(), Value::Null),
        ("POST", "/api/me/tokens".into(), json!({ "name": "forged" })),
        ("DELETE", "/api/me/tokens/1".into(), Value::Null),
    ]
}

/// Invite links (`/api/invites`); the forms of `/setup` and `/join` are in the form test.
fn invite_routes() -> Vec<(&'static str, String, Value)> {
    vec![
        (
            "POST",
            "/api/invites".into(),
            json!({ "note": "forged", "max_uses": 5 }),
        ),
        ("DELETE", "/api/invites/1".into(), Value::Null),
    ]
}

/// The unsafe routes of contract v2 (messages, reactions, typing, group management) for a
/// direct chat, a group and a message of the direct chat, each with a valid body (`Null`
/// for the routes that take none).
fn lifecycle_routes(
    direct: impl std::fmt::Display,
    group: impl std::fmt::Display,
    message: impl std::fmt::Display,
) -> Vec<(&'static str, String, Value)> {
    let on = format!("/api/chats/{direct}/messages/{message}");
    vec![
        ("PATCH", on.clone(), json!({ "body": "rewritten" })),
        ("PUT", format!("{on}/reactions/%F0%9F%91%8D"), Value::Null),
        (
            "DELETE",
            format!("{on}/reactions/%F0%9F%91%8D"),
            Value::Null,
        ),
        ("POST", format!("/api/chats/{direct}/typing"), Value::Null),
        (
            "PATCH",
            format!("/api/chats/{group}"),
            json!({ "title": "Renamed" }),
        ),
        (
            "POST",
            format!("/api/chats/{group}/members"),
            json!({ "username": "carol" }),
        ),
        (
            "DELETE",
            format!("/api/chats/{group}/members/bob"),
            Value::Null,
        ),
        ("DELETE", on, Value::Null),
    ]
}

#[rocket::async_test]
async fn json_routes_refuse_missing_and_wrong_csrf_tokens_and_change_nothing() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let before = fingerprint(&app).await;
    let stale = "A".repeat(w.alice.csrf.len());
    // Mallory's own anonymous CSRF cookie, planted in alice's browser, and its token.
    let mallory = app.visitor("/login").await;
    let planted = mallory.cookie.clone().expect("an anonymous CSRF cookie");
    for (method, path, body) in json_routes(&w) {
        for token in [
            None,
            Some(""),
            Some("forged"),
            Some(&stale),
            Some(&w.bob.csrf),
        ] {
            let what = format!("alice {method} {path} with token {token:?}");
            let response = w.alice.send_token(method, &path, token, body.clone()).await;
            let (code, _) = inspect(&what, response)
                .await
                .error(&what, Status::Forbidden);
            assert_eq!(code, "csrf", "{what}");
        }
        // A token in a form field is not the header the API asks for.
        let what = format!("alice {method} {path} with the token as a form field");
        let request = w
            .alice
            .request(request_for(&app.client, method, &path))
            .header(ContentType::Form)
            .body(form_body(&[("csrf_token", &w.alice.csrf), ("body", "x")]));
        inspect(&what, request.dispatch().await)
            .await
            .error(&what, Status::Forbidden);
        let what = format!("alice {method} {path} with a planted anonymous token");
        let request = w
            .alice
            .request(request_for(&app.client, method, &path))
            .cookie(planted.clone())
            .header(ContentType::JSON)
            .header(rocket::http::Header::new(
                "X-CSRF-Token",
                mallory.csrf.clone(),
            ))
            .body(body.to_string());
        let (code, _) = inspect(&what, request.dispatch().await)
            .await
            .error(&what, Status::Forbidden);
        assert_eq!(code, "csrf", "{what}");
    }
    assert_eq!(fingerprint(&app).await, before, "nothing changed");
}

#[rocket::async_test]
async fn forms_refuse_missing_and_wrong_csrf_tokens_and_change_nothing() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let before = fingerprint(&app).await;
    let visitor = app.visitor("/login").await;
    let fields_login = [("username", "bob"), ("password", PASSWORD)];
    let fields_signup = [
        ("username", "mallory"),
        ("email", "m@example.com"),
        ("password1", PASSWORD),
        ("password2", PASSWORD),
    ];
    let fields_setup = [
        ("setup_code", "guess"),
        ("username", "mallory"),
        ("email", "m@example.com"),
        ("password1", PASSWORD),
        ("password2", PASSWORD),
    ];
    for token in [None, Some(""), Some("forged"), Some(w.bob.csrf.as_str())] {
        // Login CSRF: signing a visitor in as someone else.
        for (path, fields) in [
            ("/login", &fields_login[..]),
            ("/signup", &fields_signup[..]),
            ("/join/some-invite-code", &fields_signup[..]),
            ("/setup", &fields_setup[..]),
        ] {
            let what = format!("visitor POST {path} with {token:?}");
            let response = visitor.post_form_token(path, token, fields).await;
            inspect(&what, response)
                .await
                .expect(&what, Status::Forbidden);
        }
        // A forged change of someone's profile, preferences or password.
        for (path, fields) in [
            (
                "/account/profile",
                &[("display_name", "Mallory"), ("email", "m@example.com")][..],
            ),
            ("/account/preferences", &[("theme", "dark")][..]),
            ("/account/tokens", &[("name", "forged")][..]),
            ("/account/tokens/1/revoke", &[][..]),
            (
                "/account/password",
                &[
                    ("current", PASSWORD),
                    ("password1", "forged-but-strong-93"),
                    ("password2", "forged-but-strong-93"),
                ][..],
            ),
        ] {
            let what = format!("alice POST {path} with {token:?}");
            let response = w.alice.post_form_token(path, token, fields).await;
            inspect(&what, response)
                .await
                .expect(&what, Status::Forbidden);
        }
        // Forced logout.
        let what = format!("alice POST /logout with {token:?}");
        let response = w.alice.post_form_token("/logout", token, &[]).await;
        inspect(&what, response)
            .await
            .expect(&what, Status::Forbidden);
    }
    // ... also with a visitor's anonymous token, its cookie planted beside the session.
    let planted = visitor.cookie.clone().expect("an anonymous CSRF cookie");
    let request = w.alice.request(app.client.post("/logout")).cookie(planted);
    let what = "alice POST /logout with a planted anonymous token";
    let response = form_request(request, Some(&visitor.csrf), &[])
        .dispatch()
        .await;
    inspect(what, response)
        .await
        .expect(what, Status::Forbidden);
    assert_eq!(fingerprint(&app).await, before, "nothing changed");
    w.alice.page("/", Status::Ok).await;
}

#[rocket::async_test]
async fn other_peoples_chats_are_not_found_exactly_like_chats_that_do_not_exist() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let before = fingerprint(&app).await;
    for chat in [w.direct, w.group] {
        let missing = 999_999;
        let mut answers = Vec::new();
        for id in [chat, missing] {
            let mut seen = Vec::new();
            for (method, path, body) in [
                ("GET", format!("/api/chats/{id}/messages"), Value::Null),
                (
                    "GET",
                    format!("/api/chats/{id}/messages?after=0&limit=200"),
                    Value::Null,
                ),
                (
                    "PATCH",
                    format!("/api/chats/{id}"),
                    json!({ "archived": true }),
                ),
                (
                    "PATCH",
                    format!("/api/chats/{id}"),
                    json!({ "notify": "none" }),
                ),
                // A bad level is refused only after the membership check.
                (
                    "PATCH",
                    format!("/api/chats/{id}"),
                    json!({ "notify": "loud" }),
                ),
                (
                    "POST",
                    format!("/api/chats/{id}/messages"),
                    json!({ "body": "let me in" }),
                ),
                // An invalid body must not tell a member-only answer apart either.
                (
                    "POST",
                    format!("/api/chats/{id}/messages"),
                    json!({ "body": "" }),
                ),
                (
                    "POST",
                    format!("/api/chats/{id}/read"),
                    json!({ "up_to": w.message }),
                ),
                ("GET", format!("/chats/{id}"), Value::Null),
                // Invalid input must not tell a member-only answer apart either.
                (
                    "PATCH",
                    format!("/api/chats/{id}/messages/{}", w.message),
                    json!({ "body": "" }),
                ),
                (
                    "PUT",
                    format!("/api/chats/{id}/messages/{}/reactions/x", w.message),
                    json!({}),
                ),
                ("PATCH", format!("/api/chats/{id}"), json!({ "title": "" })),
                (
                    "POST",
                    format!("/api/chats/{id}/members"),
                    json!({ "username": "nobody" }),
                ),
            ]
            .into_iter()
            .chain(lifecycle_routes(id, id, w.message))
            {
                let what = format!("carol {method} {path}");
                let response = if method == "GET" {
                    w.carol.get(&path).await
                } else {
                    w.carol.send(method, &path, body).await
                };
                let answer = inspect(&what, response)
                    .await
                    .expect(&what, Status::NotFound);
                assert!(
                    !answer.body.contains("secret") && !answer.body.contains("Team"),
                    "{what} leaks: {}",
                    answer.body
                );
                // The page's request id differs by request, and only it.
                let body = answer.body.split("Request ID").next().unwrap_or_default();
                seen.push(body.to_owned());
            }
            answers.push(seen);
        }
        assert_eq!(
            answers[0], answers[1],
            "a chat of others looks like no chat"
        );
    }
    // Nothing of theirs reaches carol's lists and long poll either.
    for path in ["/api/chats", "/api/updates?after=0", "/api/users", "/"] {
        let what = format!("carol GET {path}");
        let seen = inspect(&what, w.carol.get(path).await)
            .await
            .expect(&what, Status::Ok);
        assert!(!seen.body.contains("secret"), "{what} leaks");
        assert!(!seen.body.contains("Team"), "{what} leaks");
    }
    // Marking read with someone else's message id in her own chat reveals nothing.
    let own = w.carol.chat_with("alice").await;
    let what = format!("carol POST /api/chats/{own}/read");
    let seen = inspect(
        &what,
        w.carol
            .post(
                &format!("/api/chats/{own}/read"),
                json!({ "up_to": w.message }),
            )
            .await,
    )
    .await;
    assert!(!seen.body.contains("secret"), "{what} leaks");
    let _ = before;
    // Bob's view of the shared chats is as it was (carol's own chat aside).
    assert_eq!(w.bob.chat(w.direct).await["archived"], false);
    assert_eq!(w.bob.chat(w.group).await["unread"], 0);
    assert_eq!(
        app.count("SELECT count(*) FROM messages WHERE body = 'let me in'")
            .await,
        0
    );
}

#[rocket::async_test]
async fn odd_ids_name_nothing_and_break_nothing() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let before = fingerprint(&app).await;
    for id in ODD_IDS {
        for (method, path, body) in [
            ("GET", format!("/chats/{id}"), Value::Null),
            ("GET", format!("/api/chats/{id}/messages"), Value::Null),
            (
                "PATCH",
                format!("/api/chats/{id}"),
                json!({ "archived": true }),
            ),
            (
                "POST",
                format!("/api/chats/{id}/messages"),
                json!({ "body": "x" }),
            ),
            (
                "POST",
                format!("/api/chats/{id}/read"),
                json!({ "up_to": 1 }),
            ),
            ("GET", format!("/u/{id}"), Value::Null),
            (
                "PATCH",
                format!("/api/chats/{}/messages/{id}", w.direct),
                json!({ "body": "x" }),
            ),
            (
                "DELETE",
                format!("/api/chats/{}/messages/{id}", w.direct),
                json!({}),
            ),
            (
                "PUT",
                format!(
                    "/api/chats/{}/messages/{id}/reactions/%F0%9F%91%8D",
                    w.direct
                ),
                json!({}),
            ),
        ]
        .into_iter()
        .chain(lifecycle_routes(id, id, w.message))
        {
            let what = format!("alice {method} {path}");
            let response = if method == "GET" {
                w.alice.get(&path).await
            } else {
                w.alice.send(method, &path, body).await
            };
            let seen = inspect(&what, response).await;
            assert!(
                seen.status == Status::NotFound,
                "{what}: {} (expected 404)",
                seen.status
            );
        }
        // As query parameters: a 400 naming the parameter, or ignored; never a 5xx.
        for path in [
            format!("/api/chats/{}/messages?after={id}", w.direct),
            format!("/api/chats/{}/messages?before={id}", w.direct),
            format!("/api/chats/{}/messages?limit={id}", w.direct),
            format!("/api/updates?after={id}"),
            format!("/api/updates?after=0&wait={id}"),
            format!("/login?next={id}"),
        ] {
            let what = format!("alice GET {path}");
            let seen = inspect(&what, w.alice.get(&path).await).await;
            // 410: a cursor past the stream (from another database) reloads the page.
            assert!(
                [
                    Status::Ok,
                    Status::BadRequest,
                    Status::SeeOther,
                    Status::Gone
                ]
                .contains(&seen.status),
                "{what}: {}",
                seen.status
            );
        }
        // Search's and history's message and chat ids: 400 for what is not one, 404 for
        // one that names nothing of the caller's.
        for path in [
            format!("/api/search?q=x&before={id}"),
            format!("/api/search?q=x&limit={id}"),
            format!("/api/search?q=x&chat_id={id}"),
            format!("/api/chats/{}/messages?around={id}", w.direct),
        ] {
            let what = format!("alice GET {path}");
            let seen = inspect(&what, w.alice.get(&path).await).await;
            assert!(
                [Status::Ok, Status::BadRequest, Status::NotFound].contains(&seen.status),
                "{what}: {}",
                seen.status
            );
        }
        // As JSON numbers-that-are-not: up_to.
        let what = format!("alice POST /api/chats/{}/read up_to {id}", w.direct);
        let raw = format!("{{\"up_to\": {id}}}");
        let response = w
            .alice
            .send_raw(
                "POST",
                &format!("/api/chats/{}/read", w.direct),
                ContentType::JSON,
                raw,
            )
            .await;
        let seen = inspect(&what, response).await;
        assert!(
            seen.status.code < 500 && seen.status != Status::NotFound,
            "{what}"
        );
    }
    // Only the reads with a real (if odd) up_to may have moved alice's read marker.
    let after = fingerprint(&app).await;
    for (i, (a, b)) in before.iter().zip(&after).enumerate() {
        if i != 10 {
            assert_eq!(a, b, "fingerprint item {i} changed");
        }
    }
}

#[rocket::async_test]
async fn injection_strings_are_kept_as_text_and_shown_escaped() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    for typed in INJECTIONS {
        // Titles and bodies: stored and answered exactly, as data.
        let chat = w.alice.group(typed, &["bob"]).await;
        let what = format!("alice POST /api/chats/{chat}/messages");
        let sent = inspect(
            &what,
            w.alice
                .post(
                    &format!("/api/chats/{chat}/messages"),
                    json!({ "body": typed }),
                )
                .await,
        )
        .await
        .expect(&what, Status::Created);
        assert_eq!(sent.json.expect("json")["body"], *typed);
        assert_eq!(w.bob.chat(chat).await["title"], *typed);
        let history = w.bob.history(chat, "").await;
        assert_eq!(history["messages"][0]["body"], *typed);
        // Searched for, it is text too: it finds itself, or has no words to search for.
        let q = rocket::http::RawStr::new(typed)
            .percent_encode()
            .to_string();
        let path = format!("/api/search?q={q}&chat_id={chat}");
        let what = format!("bob GET {path}");
        let seen = inspect(&what, w.bob.get(&path).await).await;
        match seen.status {
            Status::Ok => {
                let found = seen.json.expect("json");
                assert_eq!(found["results"][0]["message"]["body"], *typed, "{what}");
            }
            status => assert_eq!(status, Status::UnprocessableEntity, "{what}"),
        }

        // Names that are not usernames, in every place a name goes.
        for (body, field) in [
            (json!({ "with": typed }), "with"),
            (json!({ "title": "x", "members": [typed] }), "members"),
        ] {
            let what = format!("alice POST /api/chats {body}");
            let (code, named) = inspect(&what, w.alice.post("/api/chats", body.clone()).await)
                .await
                .error(&what, Status::UnprocessableEntity);
            assert_eq!((code.as_str(), named.as_deref()), ("invalid", Some(field)));
        }

        // Query parameters of the chat side.
        let encoded = rocket::http::RawStr::new(typed)
            .percent_encode()
            .to_string();
        for path in [
            format!("/api/chats/{chat}/messages?after={encoded}"),
            format!("/api/updates?after={encoded}"),
            format!("/api/chats?x={encoded}"),
            format!("/u/{encoded}"),
            format!("/?q={encoded}"),
        ] {
            let what = format!("alice GET {path}");
            let seen = inspect(&what, w.alice.get(&path).await).await;
            if seen.content_type == Some(ContentType::HTML) {
                assert_never_raw(&what, &seen.body, typed);
            }
        }

        // Sign-in and sign-up keep what was typed, escaped.
        let visitor = app.visitor("/signup").await;
        let what = format!("visitor POST /signup username {typed:?}");
        let seen = inspect(
            &what,
            visitor
                .post_form(
                    "/signup",
                    &[
                        ("username", typed),
                        ("email", &format!("{typed}@example.com")),
                        ("password1", typed),
                        ("password2", typed),
                    ],
                )
                .await,
        )
        .await;
        assert_eq!(
            seen.status,
            Status::Ok,
            "{what}: the form again, with its errors"
        );
        seen.shows_escaped(&what, typed);

        let visitor = app.visitor("/login").await;
        let what = format!("visitor POST /login username {typed:?}");
        let seen = inspect(
            &what,
            visitor
                .post_form(
                    "/login",
                    &[("username", typed), ("password", typed), ("next", typed)],
                )
                .await,
        )
        .await;
        seen.shows_escaped(&what, typed);

        let what = format!("visitor GET /login?next={encoded}");
        let seen = inspect(
            &what,
            app.client
                .get(format!("/login?next=/{encoded}"))
                .dispatch()
                .await,
        )
        .await
        .expect(&what, Status::Ok);
        assert_never_raw(&what, &seen.body, typed);
    }
    // The tables are all still there and hold what they should.
    assert_eq!(app.count("SELECT count(*) FROM users").await, 3);
    assert_eq!(
        app.count("SELECT count(*) FROM chats WHERE kind = 'group'")
            .await as usize,
        1 + INJECTIONS.len()
    );
}

#[rocket::async_test]
async fn a_failed_sign_in_never_redirects_off_site() {
    let app = TestApp::new().await;
    app.signup("alice").await;
    for next in [
        "//evil.example",
        "https://evil.example",
        "/\\evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
        "\\\\evil.example",
        "/%2F%2Fevil.example",
    ] {
        let visitor = app.visitor("/login").await;
        let response = visitor
            .post_form(
                "/login",
                &[
                    ("username", "alice"),
                    ("password", PASSWORD),
                    ("next", next),
                ],
            )
            .await;
        let to = location(&response);
        assert!(
            to.starts_with('/') && !to.starts_with("//") && !to.contains('\\'),
            "next {next:?} led to {to:?}"
        );
        assert!(
            !to.contains("evil.example") || to.starts_with("/%2F"),
            "{to}"
        );
    }
}

#[rocket::async_test]
async fn oversized_bodies_are_413_and_change_nothing() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let before = fingerprint(&app).await;
    let big = "x".repeat(65 * 1024);
    // The routes that read a body (the others never read one at all).
    for (method, path, _) in json_routes(&w)
        .into_iter()
        .filter(|(.., body)| !body.is_null())
    {
        for body in [
            json!({ "body": big, "with": big, "title": big, "members": [big] }),
            json!({ "archived": true, "up_to": 1, "pad": big }),
        ] {
            let what = format!("alice {method} {path} of 65 KiB");
            let (code, _) = inspect(&what, w.alice.send(method, &path, body).await)
                .await
                .error(&what, Status::PayloadTooLarge);
            assert_eq!(code, "too_large");
        }
    }
    // Forms: sign-in, sign-up, sign-out.
    let visitor = app.visitor("/signup").await;
    for path in ["/login", "/signup"] {
        let what = format!("visitor POST {path} of 65 KiB");
        let response = visitor
            .post_form(path, &[("username", &big), ("password", &big)])
            .await;
        inspect(&what, response)
            .await
            .expect(&what, Status::PayloadTooLarge);
    }
    let what = "alice POST /logout of 65 KiB";
    let response = w.alice.post_form("/logout", &[("pad", &big)]).await;
    inspect(what, response)
        .await
        .expect(what, Status::PayloadTooLarge);
    assert_eq!(fingerprint(&app).await, before, "nothing changed");
}

#[rocket::async_test]
async fn malformed_json_and_wrong_content_types_are_400() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let before = fingerprint(&app).await;
    let broken: &[&[u8]] = &[
        b"",
        b"{",
        b"{\"body\": ",
        b"{\"body\": \"x\"} trailing",
        b"{'body': 'single quotes'}",
        b"nul",
        b"[1, 2",
        b"{\"body\": \"\xff\xfe invalid utf-8\"}",
        b"\x00\x01\x02",
        b"{\"body\": \"x\",}",
    ];
    for (method, path, good) in json_routes(&w)
        .into_iter()
        .filter(|(.., body)| !body.is_null())
    {
        for raw in broken {
            let what = format!(
                "alice {method} {path} body {:?}",
                String::from_utf8_lossy(raw)
            );
            let response = w
                .alice
                .send_raw(method, &path, ContentType::JSON, raw)
                .await;
            let (code, _) = inspect(&what, response)
                .await
                .error(&what, Status::BadRequest);
            assert_eq!(code, "bad_request", "{what}");
        }
        for content_type in [
            ContentType::Plain,
            ContentType::Form,
            ContentType::HTML,
            ContentType::XML,
            ContentType::Binary,
            ContentType::new("multipart", "form-data"),
        ] {
            let what = format!("alice {method} {path} as {content_type}");
            let response = w
                .alice
                .send_raw(method, &path, content_type, good.to_string())
                .await;
            inspect(&what, response)
                .await
                .error(&what, Status::BadRequest);
        }
        let what = format!("alice {method} {path} without a content type");
        let response = w
            .alice
            .request(request_for(&app.client, method, &path))
            .header(rocket::http::Header::new(
                "X-CSRF-Token",
                w.alice.csrf.clone(),
            ))
            .body(good.to_string())
            .dispatch()
            .await;
        inspect(&what, response)
            .await
            .error(&what, Status::BadRequest);
    }
    assert_eq!(fingerprint(&app).await, before, "nothing changed");
}

#[rocket::async_test]
async fn json_of_the_wrong_shape_is_422_naming_the_field() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let before = fingerprint(&app).await;
    let (chat, message) = (w.direct, w.message);
    let group = w.group;
    let cases: Vec<(&str, String, Value, &str)> = vec![
        (
            "PATCH",
            format!("/api/chats/{chat}/messages/{message}"),
            json!({ "body": 5 }),
            "body",
        ),
        (
            "PATCH",
            format!("/api/chats/{chat}/messages/{message}"),
            json!({}),
            "body",
        ),
        (
            "PATCH",
            format!("/api/chats/{group}"),
            json!({ "title": ["Team"] }),
            "title",
        ),
        (
            "POST",
            format!("/api/chats/{group}/members"),
            json!({ "username": 7 }),
            "username",
        ),
        (
            "POST",
            format!("/api/chats/{group}/members"),
            json!({}),
            "username",
        ),
        ("POST", "/api/chats".into(), json!({ "with": 5 }), "with"),
        (
            "POST",
            "/api/chats".into(),
            json!({ "with": ["bob"] }),
            "with",
        ),
        (
            "POST",
            "/api/chats".into(),
            json!({ "title": 5, "members": ["bob"] }),
            "title",
        ),
        (
            "POST",
            "/api/chats".into(),
            json!({ "title": "x", "members": "bob" }),
            "members",
        ),
        (
            "POST",
            "/api/chats".into(),
            json!({ "title": "x", "members": [1, 2] }),
            "members",
        ),
        (
            "POST",
            "/api/chats".into(),
            json!({ "title": "x", "members": [] }),
            "members",
        ),
        (
            "POST",
            "/api/chats".into(),
            json!({ "title": "", "members": ["bob"] }),
            "title",
        ),
        (
            "POST",
            "/api/chats".into(),
            json!({ "title": "a\u{7}b", "members": ["bob"] }),
            "title",
        ),
        ("POST", "/api/chats".into(), json!({}), "with"),
        (
            "PATCH",
            format!("/api/chats/{chat}"),
            json!({ "archived": "yes" }),
            "archived",
        ),
        (
            "PATCH",
            format!("/api/chats/{chat}"),
            json!({ "archived": 1 }),
            "archived",
        ),
        (
            "PATCH",
            format!("/api/chats/{chat}"),
            json!({ "archived": null }),
            "archived",
        ),
        (
            "PATCH",
            format!("/api/chats/{chat}"),
            json!({ "notify": "loud" }),
            "notify",
        ),
        (
            "PATCH",
            format!("/api/chats/{chat}"),
            json!({ "notify": 3 }),
            "notify",
        ),
        (
            "PATCH",
            format!("/api/chats/{chat}"),
            json!({ "notify": "<script>alert(1)</script>", "archived": true }),
            "notify",
        ),
        (
            "POST",
            format!("/api/chats/{chat}/messages"),
            json!({ "body": 5 }),
            "body",
        ),
        (
            "POST",
            format!("/api/chats/{chat}/messages"),
            json!({ "body": null }),
            "body",
        ),
        (
            "POST",
            format!("/api/chats/{chat}/messages"),
            json!({ "body": ["x"] }),
            "body",
        ),
        (
            "POST",
            format!("/api/chats/{chat}/messages"),
            json!({ "body": {"x": 1} }),
            "body",
        ),
        (
            "POST",
            format!("/api/chats/{chat}/messages"),
            json!({ "body": "   " }),
            "body",
        ),
        (
            "POST",
            format!("/api/chats/{chat}/messages"),
            json!({ "body": "a\u{0}b" }),
            "body",
        ),
        (
            "POST",
            format!("/api/chats/{chat}/messages"),
            json!({ "body": "x".repeat(4001) }),
            "body",
        ),
        (
            "POST",
            format!("/api/chats/{chat}/read"),
            json!({ "up_to": "x" }),
            "up_to",
        ),
        (
            "POST",
            format!("/api/chats/{chat}/read"),
            json!({ "up_to": 1.5 }),
            "up_to",
        ),
        (
            "POST",
            format!("/api/chats/{chat}/read"),
            json!({ "up_to": [message] }),
            "up_to",
        ),
        (
            "POST",
            format!("/api/chats/{chat}/read"),
            json!({}),
            "up_to",
        ),
        (
            "POST",
            "/api/push/subscriptions".into(),
            json!({ "endpoint": 5, "keys": {} }),
            "endpoint",
        ),
        (
            "POST",
            "/api/push/subscriptions".into(),
            json!({ "endpoint": "https://10.0.0.1/x", "keys": { "p256dh": "x", "auth": "y" } }),
            "endpoint",
        ),
        (
            "DELETE",
            "/api/push/subscriptions".into(),
            json!({ "endpoint": ["x"] }),
            "endpoint",
        ),
    ];
    for (method, path, body, field) in cases {
        let what = format!("alice {method} {path} {body:.80}");
        let (code, named) = inspect(&what, w.alice.send(method, &path, body).await)
            .await
            .error(&what, Status::UnprocessableEntity);
        assert_eq!(code, "invalid", "{what}");
        assert_eq!(named.as_deref(), Some(field), "{what}");
    }
    // Not an object at all, or numbers past any id: a 4xx, never a 5xx.
    for (method, path, _) in json_routes(&w)
        .into_iter()
        .filter(|(.., body)| !body.is_null())
    {
        for raw in [
            "[]",
            "\"text\"",
            "5",
            "null",
            "true",
            "{\"up_to\": 99999999999999999999, \"archived\": false}",
            "{\"up_to\": -99999999999999999999}",
            "{\"up_to\": 1e400}",
            "{\"body\": \"\\ud800\"}",
            "{\"body\": \"x\", \"body\": \"y\"}",
        ] {
            let what = format!("alice {method} {path} {raw}");
            let response = w
                .alice
                .send_raw(method, &path, ContentType::JSON, raw)
                .await;
            let seen = inspect(&what, response).await;
            if !raw.starts_with('{') {
                assert!(seen.status.code >= 400, "{what}: {}", seen.status);
            }
        }
    }
    assert_eq!(fingerprint(&app).await, before, "nothing changed");
}

#[rocket::async_test]
async fn every_answer_carries_the_security_headers_errors_included() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let pages = [
        "/",
        "/login",
        "/signup",
        "/healthz",
        "/metrics",
        "/assets/css/app.css",
        "/assets/js/chat.js",
        "/assets/img/favicon.svg",
        "/assets/nothing.js",
        "/assets/..%2fCargo.toml",
        "/assets/.hidden",
        "/nowhere",
        "/%3Cscript%3Ealert(1)%3C/script%3E",
        "/api/me",
        "/api/openapi.json",
        "/api/me/tokens",
        "/api/users",
        "/api/chats",
        "/api/nowhere",
        "/api/updates?after=x",
        "/admin/",
        "/admin/users/",
        "/account/data.zip",
    ];
    let direct = format!("/chats/{}", w.direct);
    let others = format!("/chats/{}", w.group + 100);
    for path in pages
        .iter()
        .copied()
        .chain([direct.as_str(), others.as_str(), "/u/bob"])
    {
        for (who, response) in [
            ("anonymous", app.client.get(path).dispatch().await),
            ("alice", w.alice.get(path).await),
        ] {
            let what = format!("{who} GET {path}");
            let frame = header(&response, "X-Frame-Options");
            let sniff = header(&response, "X-Content-Type-Options");
            let referrer = header(&response, "Referrer-Policy");
            let csp = header(&response, "Content-Security-Policy").unwrap_or_default();
            // Nothing names the server software, and no origin but ours may read answers.
            assert_eq!(header(&response, "Server"), None, "{what}");
            assert_eq!(
                header(&response, "Access-Control-Allow-Origin"),
                None,
                "{what}"
            );
            let seen = inspect(&what, response).await;
            assert_eq!(frame.as_deref(), Some("DENY"), "{what}");
            assert_eq!(sniff.as_deref(), Some("nosniff"), "{what}");
            assert!(referrer.is_some(), "{what}");
            assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
            assert!(!csp.contains("unsafe-inline"), "{what}: {csp}");
            assert!(!seen.body.contains("%3Cscript") || seen.status != Status::Ok);
            assert!(!seen.body.contains("<script>alert(1)"), "{what}");
        }
    }
    // Error answers of every kind the app gives.
    let what = "alice POST /api/chats as text";
    let response = w
        .alice
        .send_raw("POST", "/api/chats", ContentType::Plain, "x")
        .await;
    inspect(what, response)
        .await
        .expect(what, Status::BadRequest);
    let what = "alice POST /api/chats too large";
    let response = w
        .alice
        .send_raw("POST", "/api/chats", ContentType::JSON, "x".repeat(70_000))
        .await;
    inspect(what, response)
        .await
        .expect(what, Status::PayloadTooLarge);
    let what = "anonymous POST /api/chats";
    inspect(what, app.anonymous("POST", "/api/chats").await)
        .await
        .expect(what, Status::Unauthorized);
}

#[rocket::async_test]
async fn the_data_download_gives_strangers_nothing_and_members_only_their_own_chats() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let what = "anonymous GET /account/data.zip";
    let seen = inspect(what, app.anonymous("GET", "/account/data.zip").await).await;
    assert_eq!(seen.status, Status::SeeOther, "{what}");
    // carol shares no chat with alice and bob: her archive holds none of theirs.
    let response = w.carol.get("/account/data.zip").await;
    assert_eq!(response.status(), Status::Ok);
    let zip = response.into_bytes().await.expect("a zip");
    for secret in [
        "the secret plan",
        "group secret",
        "$argon2",
        "alice@example.com",
    ] {
        assert!(
            !zip.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "carol's download holds {secret:?}"
        );
    }
    // Asked again at once, and with odd methods: refused, never a 5xx.
    let what = "carol GET /account/data.zip again";
    inspect(what, w.carol.get("/account/data.zip").await)
        .await
        .expect(what, Status::TooManyRequests);
    for method in ["POST", "PUT", "DELETE"] {
        let what = format!("carol {method} /account/data.zip");
        let seen = inspect(
            &what,
            w.carol.send(method, "/account/data.zip", json!({})).await,
        )
        .await;
        assert!(seen.status.code >= 400, "{what}: {}", seen.status);
    }
    let what = "alice GET /account/data.zip?scope=team";
    let response = w.alice.get("/account/data.zip?scope=team").await;
    let seen = inspect(what, response).await;
    assert!(
        seen.status == Status::Ok || seen.status == Status::NotFound,
        "{what}"
    );
}

#[test]
fn no_script_puts_text_into_html() {
    // The promise "textContent in JS, never user data through innerHTML" as a check over
    // every script the binary serves.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/js");
    for entry in std::fs::read_dir(&dir).expect("assets/js") {
        let path = entry.expect("entry").path();
        let source = std::fs::read_to_string(&path).expect("script");
        for (n, line) in source.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") || code.starts_with('*') {
                continue;
            }
            for sink in [
                ".innerHTML =",
                ".innerHTML+=",
                ".innerHTML +=",
                ".outerHTML",
                "insertAdjacentHTML",
                "document.write",
                "eval(",
                "new Function(",
            ] {
                assert!(
                    !line.contains(sink),
                    "{}:{}: {sink} in {line}",
                    path.display(),
                    n + 1
                );
            }
        }
    }
}

/// What a person wrote or chose (a message, a name, a chat title, a search, a user agent)
/// is its own bidi isolate wherever a page or script shows it, so a right-to-left
/// override (U+202E) in it cannot reorder the text around it. Checked in the sources
/// (there is no browser here): in the scripts, every `el()` that is given non-literal
/// `text` carries `dir: "auto"`, and so does every page element a script fills with
/// `setText`; in the templates, every element showing a user-data value carries
/// `dir="auto"`.
#[test]
fn text_people_wrote_is_isolated_so_bidi_controls_cannot_reorder_the_page() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut problems = Vec::new();
    let mut filled_by_scripts = Vec::new();
    for entry in std::fs::read_dir(root.join("assets/js")).expect("assets/js") {
        let path = entry.expect("entry").path();
        let source = std::fs::read_to_string(&path).expect("script");
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        for (at, _) in source.match_indices("text: ") {
            let value = js_value(&source[at + 6..]);
            let literal = (value.starts_with('"') && value.ends_with('"'))
                || STATIC_TEXT.iter().any(|s| value.starts_with(s));
            let props = enclosing_object(&source, at);
            if !literal && !props.contains("dir: \"auto\"") {
                problems.push(format!(
                    "{name}: text: {value} without dir: \"auto\" in {props}"
                ));
            }
        }
        for (at, _) in source.match_indices("setText(byId(\"") {
            let id = &source[at + 15..];
            filled_by_scripts.push(id[..id.find('"').unwrap()].to_owned());
        }
    }
    let templates = root.join("templates");
    let mut files = vec![templates.join("base.html.tera")];
    for dir in ["admin", "auth", "chat"] {
        for entry in std::fs::read_dir(templates.join(dir)).expect("templates") {
            files.push(entry.expect("entry").path());
        }
    }
    for path in &files {
        let source = std::fs::read_to_string(path).expect("template");
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        for id in &filled_by_scripts {
            if let Some(at) = source.find(&format!("id=\"{id}\"")) {
                let tag = opening_tag(&source, at);
                if !tag.contains("dir=\"auto\"") {
                    problems.push(format!("{name}: #{id}, filled by a script: {tag}"));
                }
            }
        }
        for value in USER_VALUES {
            for (at, _) in source.match_indices(&format!("{{{{ {value}")) {
                let after = &source[at + 3 + value.len()..];
                if !(after.starts_with(' ') || after.starts_with('|')) {
                    continue; // another name that begins the same way
                }
                let tag = opening_tag(&source, at);
                let hidden = tag.contains("type=\"hidden\"") || tag.starts_with("<title");
                // A tooltip or a data attribute is no text on the page (the templates
                // wrap names in tooltips in U+2068 FIRST STRONG ISOLATE ... U+2069).
                let attribute = attribute_at(&source[..at]);
                let not_shown = attribute == "title" || attribute.starts_with("data-");
                let isolated = tag.contains("dir=\"auto\"") || tag.starts_with("<bdi>");
                if !hidden && !not_shown && !isolated {
                    problems.push(format!("{name}: {{{{ {value} }}}} in {tag}"));
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "not isolated:\n{}",
        problems.join("\n")
    );
}

/// `text:` values that are the app's own words, never a person's.
const STATIC_TEXT: &[&str] = &[
    "clock(",
    "listTime(",
    "dayLabel(",
    "status",
    "\" · edited\"",
    // An upload's progress and a file's size.
    "item.started ?",
    "humanSize(",
    // The icon of text files (a key named `text`, not a text).
    "[...DOCUMENT",
];

/// Template values that hold what people wrote or chose.
const USER_VALUES: &[&str] = &[
    "me.username",
    "admin.username",
    "object.repr",
    "obj_repr",
    "c.text",
    "row_label",
    "crumb.label",
    "f.display",
    "f.value",
    "option.label",
    "choice.label",
    "r.user",
    "r.object_repr",
    "e.user",
    "e.message",
    "o.repr",
    "ex",
    "msg.text",
    "s.user_agent",
    "values.username",
    "cl.q",
];

/// The JavaScript expression at the start of `code`, up to a `,` or `}` outside brackets
/// and strings.
fn js_value(code: &str) -> &str {
    let mut depth = 0;
    let mut quote = None;
    for (i, c) in code.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'' | '`') => quote = Some(c),
            (None, '(' | '[' | '{') => depth += 1,
            (None, ')' | ']') => depth -= 1,
            (None, '}') if depth == 0 => return code[..i].trim(),
            (None, '}') => depth -= 1,
            (None, ',' | '\n') if depth == 0 => return code[..i].trim(),
            _ => {}
        }
    }
    code.trim()
}

/// The `{ ... }` object literal around byte `at` of `source`.
fn enclosing_object(source: &str, at: usize) -> &str {
    let mut depth = 0;
    let start = source[..at]
        .char_indices()
        .rev()
        .find(|(_, c)| {
            match c {
                '}' => depth += 1,
                '{' if depth == 0 => return true,
                '{' => depth -= 1,
                _ => {}
            }
            false
        })
        .map_or(0, |(i, _)| i);
    let end = source[at..]
        .find("\n    ),")
        .map_or(source.len(), |i| at + i);
    let body = &source[start..end.min(source.len())];
    &body[..body.find('}').map_or(body.len(), |i| i + 1).max(at - start)]
}

/// The attribute whose quoted value `before` ends inside of, or "" in text.
fn attribute_at(before: &str) -> &str {
    let tag = &before[before.rfind('<').unwrap_or(0)..];
    if tag.contains('>') {
        return "";
    }
    let Some(open) = tag.rfind("=\"") else {
        return "";
    };
    if tag[open + 2..].contains('"') {
        return "";
    }
    let name = &tag[..open];
    &name[name.rfind(|c: char| c.is_whitespace()).map_or(0, |i| i + 1)..]
}

/// The opening tag that byte `at` of a template is inside of, or follows most closely.
fn opening_tag(source: &str, at: usize) -> &str {
    let before = &source[..at];
    let start = before
        .match_indices('<')
        .rev()
        .map(|(i, _)| i)
        .find(|&i| {
            let next = source[i + 1..].chars().next().unwrap_or(' ');
            next.is_ascii_alphabetic()
        })
        .unwrap_or(0);
    let end = source[start..]
        .find('>')
        .map_or(source.len(), |i| start + i + 1);
    &source[start..end.max(at)]
}

/// The chat shows the console's marker (`added_by`) beside a message, as text, with the
/// staff member's name isolated (no browser here to look: a check of the script).
#[test]
fn the_chat_marks_a_message_a_staff_member_added_in_someone_elses_name() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/js/messages.js");
    let source = std::fs::read_to_string(path).expect("messages.js");
    let marker = source
        .find("m.added_by\n")
        .or_else(|| source.find("m.added_by ?"))
        .expect("messages.js looks at added_by");
    let rest = &source[marker..];
    // The notes under a bubble ("edited", this) are joined by " · " where they are shown.
    assert!(rest.contains("\"added by \""), "the marker's words");
    assert!(
        rest.contains("el(\"span\", { dir: \"auto\", text: m.added_by })"),
        "the name as isolated text"
    );
    assert!(rest.contains("\" in the admin console\""));
}

#[rocket::async_test]
async fn what_the_database_keeps_would_sign_nobody_in() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    // Passwords: argon2id PHC strings, never the password.
    assert_eq!(
        app.count("SELECT count(*) FROM users WHERE password_hash LIKE '$argon2id$v=19$%'")
            .await,
        1
    );
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM users WHERE password_hash LIKE '%{PASSWORD}%'"
        ))
        .await,
        0
    );
    // Sessions: a 256-bit hash of the token; the cookie's value is nowhere in the table.
    assert_eq!(
        app.count("SELECT count(*) FROM sessions WHERE length(token_hash) = 32")
            .await,
        1
    );
    let cookie = alice.cookie.value().to_owned();
    assert_eq!(
        app.count(&if app.is_postgres() {
            format!(
                "SELECT count(*) FROM sessions WHERE position(convert_to('{cookie}', 'UTF8') \
                 IN token_hash) > 0 OR position('{cookie}' IN csrf_token) > 0"
            )
        } else {
            format!(
                "SELECT count(*) FROM sessions WHERE instr(hex(token_hash), hex('{cookie}')) > 0 \
                 OR instr(csrf_token, '{cookie}') > 0"
            )
        })
        .await,
        0
    );
    // Signing in again with a session cookie already set gives a new session (no fixation).
    let visitor = app.visitor("/login").await;
    let response = form_request(
        app.client.post("/login").cookie(alice.cookie.clone()),
        Some(&visitor.csrf),
        &[("username", "alice"), ("password", PASSWORD)],
    )
    .cookie(visitor.cookie.clone().expect("csrf cookie"))
    .dispatch()
    .await;
    let fresh = response
        .cookies()
        .get("kanect_session")
        .map(|c| c.value().to_owned());
    let what = "alice POST /login while signed in";
    let seen = inspect(what, response).await;
    assert!(seen.status == Status::SeeOther, "{what}: {}", seen.status);
    let fresh = fresh.expect("sign-in sets a session cookie");
    assert_ne!(fresh, cookie, "the session token changes at sign-in");
}

#[rocket::async_test]
async fn made_up_device_cookies_and_odd_proxy_headers_buy_nothing_and_break_nothing() {
    /// Signs `name` up on `app` and returns the device cookie that browser was given.
    async fn device_cookie(app: &TestApp, name: &str) -> rocket::http::Cookie<'static> {
        let fields = [
            ("username", name),
            ("password1", PASSWORD),
            ("password2", PASSWORD),
        ];
        let response = app
            .visitor("/signup")
            .await
            .post_form("/signup", &fields)
            .await;
        let cookie = response
            .cookies()
            .get("kanect_device")
            .expect("a device cookie");
        cookie.clone().into_owned()
    }
    let app = TestApp::with(|c| c.proxy = kanect::config::Proxy::XForwardedFor).await;
    let owners = device_cookie(&app, "bob").await;
    // A real device cookie, but from another Kanect (another secret key), for a user with
    // the same id.
    let foreign = device_cookie(&TestApp::new().await, "bob").await;
    let visitor = app.visitor("/login").await;
    let attempt = |device: Option<rocket::http::Cookie<'static>>, xff: &str, password: &str| {
        let mut request = app
            .client
            .post("/login")
            .header(rocket::http::Header::new("X-Forwarded-For", xff.to_owned()))
            .header(rocket::http::Header::new(
                "X-Forwarded-Proto",
                xff.to_owned(),
            ));
        for cookie in visitor.cookie.iter().cloned().chain(device) {
            request = request.cookie(cookie);
        }
        let fields = [("username", "bob"), ("password", password)];
        form_request(request, Some(&visitor.csrf), &fields).dispatch()
    };
    // Strangers lock bob out.
    for n in 0..5 {
        let address = format!("198.51.100.{n}");
        let what = format!("a wrong password from {address}");
        let response = attempt(None, &address, "wrong").await;
        inspect(&what, response).await.expect(&what, Status::Ok);
    }
    let now = kanect::model::Timestamp::now().0;
    let made_up = [
        foreign.value().to_owned(),
        format!("1:{now}:nonce"),
        format!("{}x", owners.value()),
        "garbage".to_owned(),
        "%00%ff".to_owned(),
        "A".repeat(4000),
    ];
    for value in made_up {
        let what = format!("bob's password with the device cookie {value:.40}");
        let cookie = rocket::http::Cookie::new("kanect_device", value);
        let response = attempt(Some(cookie), "198.51.100.77", PASSWORD).await;
        inspect(&what, response)
            .await
            .expect(&what, Status::TooManyRequests);
    }
    // The real one still works: the refusals above were the cookies', not the test's.
    let what = "bob's password with his own device cookie";
    let response = attempt(Some(owners.clone()), "198.51.100.77", PASSWORD).await;
    inspect(what, response).await.expect(what, Status::SeeOther);
    // Odd proxy headers: no address but the connection's, never a 5xx (and bob is still
    // locked for strangers).
    let long = "1.2.3.4, ".repeat(2000);
    for value in [
        ",,,",
        "999.1.1.1",
        "unknown, ",
        "::::::",
        "[::1]:99999",
        "ünïcödé",
        long.as_str(),
    ] {
        let what = format!("X-Forwarded-For {value:.40}");
        let response = attempt(None, value, PASSWORD).await;
        inspect(&what, response)
            .await
            .expect(&what, Status::TooManyRequests);
    }
}
