//! The HTML pages, deep links, embedded assets, health check and security headers.

use crate::common;

use common::{csrf_in, header, location, TestApp};
use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::LocalResponse;

/// Asserts the security headers every answer carries.
fn assert_security_headers(response: &LocalResponse<'_>, what: &str) {
    let csp = header(response, "Content-Security-Policy")
        .unwrap_or_else(|| panic!("{what}: Content-Security-Policy"));
    assert!(csp.contains("default-src 'self'"), "{what}: {csp}");
    assert!(!csp.contains("unsafe-inline"), "{what}: {csp}");
    assert!(!csp.contains("unsafe-eval"), "{what}: {csp}");
    assert_eq!(
        header(response, "X-Frame-Options").as_deref(),
        Some("DENY"),
        "{what}: X-Frame-Options"
    );
    assert_eq!(
        header(response, "X-Content-Type-Options").as_deref(),
        Some("nosniff"),
        "{what}: X-Content-Type-Options"
    );
    let referrer =
        header(response, "Referrer-Policy").unwrap_or_else(|| panic!("{what}: Referrer-Policy"));
    assert!(
        [
            "no-referrer",
            "same-origin",
            "strict-origin",
            "strict-origin-when-cross-origin"
        ]
        .contains(&referrer.as_str()),
        "{what}: Referrer-Policy {referrer} keeps URLs on this site"
    );
    assert!(
        header(response, "Permissions-Policy").is_some_and(|p| p.contains("camera=()")),
        "{what}: Permissions-Policy"
    );
    assert_eq!(
        header(response, "Strict-Transport-Security"),
        None,
        "{what}: no HSTS over plain HTTP"
    );
}

/// The opening tags in `html`, as the text between `<` and `>`.
fn tags(html: &str) -> Vec<&str> {
    html.split('<')
        .skip(1)
        .filter_map(|rest| rest.split('>').next())
        .filter(|tag| tag.starts_with(|c: char| c.is_ascii_alphabetic()))
        .collect()
}

/// The attribute names of one tag (roughly: enough to spot `on...=` and `style=`).
fn attribute_names(tag: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut in_quote: Option<char> = None;
    let mut word = String::new();
    for c in tag.chars().chain(std::iter::once(' ')) {
        match in_quote {
            Some(q) if c == q => in_quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => in_quote = Some(c),
            None if c == '=' || c.is_whitespace() || c == '/' => {
                if !word.is_empty() {
                    names.push(word.to_ascii_lowercase());
                    word.clear();
                }
            }
            None => word.push(c),
        }
    }
    names.into_iter().skip(1).collect()
}

/// Asserts that a page has no inline script, no inline event handler and no inline style:
/// the CSP would block them, so they would be broken features.
fn assert_no_inline_code(html: &str, what: &str) {
    for tag in tags(html) {
        let name = tag
            .split(|c: char| c.is_whitespace() || c == '/')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let attributes = attribute_names(tag);
        if name == "script" {
            assert!(
                attributes.iter().any(|a| a == "src"),
                "{what}: inline <{tag}>"
            );
        }
        assert_ne!(name, "style", "{what}: inline <style>");
        for attribute in &attributes {
            assert!(
                !(attribute.starts_with("on") && attribute.len() > 2),
                "{what}: event handler attribute {attribute} in <{tag}>"
            );
            assert_ne!(attribute, "style", "{what}: style attribute in <{tag}>");
        }
    }
    assert!(!html.contains("javascript:"), "{what}: javascript: URL");
}

/// Asserts an HTML error page that gives nothing away.
async fn assert_error_page(response: LocalResponse<'_>, status: Status, what: &str) -> String {
    assert_eq!(response.status(), status, "{what}");
    assert_eq!(response.content_type(), Some(ContentType::HTML), "{what}");
    assert_security_headers(&response, what);
    let html = response.into_string().await.unwrap();
    assert!(html.contains("<!DOCTYPE html>"), "{what}: a page");
    assert!(!html.trim_start().starts_with('{'), "{what}: not JSON");
    for leak in [
        "panicked",
        "src/",
        ".rs:",
        "sqlx",
        "SQLITE",
        "SELECT ",
        "stack backtrace",
    ] {
        assert!(!html.contains(leak), "{what}: shows {leak:?}");
    }
    html
}

#[rocket::async_test]
async fn a_stranger_at_home_is_sent_to_sign_in() {
    let app = TestApp::new().await;
    // Once someone exists (before that, home leads to /setup: see `onboarding`).
    app.signup("alice").await;
    let response = app.client.get("/").dispatch().await;
    assert_eq!(response.status(), Status::SeeOther);
    assert_eq!(location(&response), "/login?next=%2F");
}

#[rocket::async_test]
async fn a_stranger_following_a_chat_link_returns_to_it_after_sign_in() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    app.signup("bob").await;
    let chat = alice.chat_with("bob").await;

    let response = app.client.get(format!("/chats/{chat}")).dispatch().await;
    assert_eq!(response.status(), Status::SeeOther);
    assert_eq!(
        location(&response),
        format!("/login?next=%2Fchats%2F{chat}")
    );

    let response = app.client.get("/u/bob").dispatch().await;
    assert_eq!(response.status(), Status::SeeOther);
    assert_eq!(location(&response), "/login?next=%2Fu%2Fbob");

    // Signing in with that `next` lands on the chat.
    let visitor = app.visitor(&format!("/login?next=%2Fchats%2F{chat}")).await;
    let response = visitor
        .post_form(
            "/login",
            &[
                ("username", "bob"),
                ("password", common::PASSWORD),
                ("next", &format!("/chats/{chat}")),
            ],
        )
        .await;
    assert_eq!(location(&response), format!("/chats/{chat}"));
}

#[rocket::async_test]
async fn alice_at_home_gets_the_chat_page() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let response = alice.get("/").await;
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(response.content_type(), Some(ContentType::HTML));
    assert_security_headers(&response, "/");
    let html = response.into_string().await.unwrap();
    let token = csrf_in(&html).expect("csrf meta");
    // The page's token is masked afresh each time, yet it is the session's.
    assert_ne!(token, alice.csrf, "masked afresh");
    let check = alice
        .send_token(
            "POST",
            "/api/password/strength",
            Some(&token),
            serde_json::json!({"password": "x"}),
        )
        .await;
    assert_eq!(check.status(), Status::Ok, "the page's token is accepted");
    assert!(html.contains("id=\"app\""), "the app root");
    assert!(html.contains("data-open-chat=\"\""), "no chat open");
    assert!(html.contains(&format!("data-me-id=\"{}\"", alice.id)));
    assert!(html.contains("\"/assets/dist/chat."), "the chat script");
    assert!(html.contains("\"/assets/css/app."), "the style sheet");
    assert!(
        html.contains(&format!("name=\"csrf_token\" value=\"{token}\"")),
        "the sign-out form carries the token"
    );
}

#[rocket::async_test]
async fn bob_opens_a_chat_by_its_link() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let mallory = app.signup("mallory").await;
    let chat = alice.chat_with("bob").await;

    let response = bob.get(&format!("/chats/{chat}")).await;
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(response.content_type(), Some(ContentType::HTML));
    let html = response.into_string().await.unwrap();
    assert!(html.contains(&format!("data-open-chat=\"{chat}\"")));
    assert!(csrf_in(&html).is_some());

    let response = mallory.get(&format!("/chats/{chat}")).await;
    let page = assert_error_page(response, Status::NotFound, "non-member").await;
    let response = mallory.get("/chats/999999").await;
    let unknown = assert_error_page(response, Status::NotFound, "unknown chat").await;
    let without_ids = |html: &str| {
        html.lines()
            .filter(|line| !line.contains("Request ID"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        without_ids(&page),
        without_ids(&unknown),
        "a chat of others looks like no chat at all"
    );
}

#[rocket::async_test]
async fn alice_opens_the_direct_chat_with_bob_by_his_name() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;

    let first = alice.get("/u/bob").await;
    assert_eq!(first.status(), Status::SeeOther);
    let target = location(&first);
    let chat: i64 = target
        .strip_prefix("/chats/")
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("redirects to a chat, not {target}"));

    let second = alice.get("/u/bob").await;
    assert_eq!(location(&second), target, "the same chat");
    let from_bob = bob.get("/u/ALICE").await;
    assert_eq!(location(&from_bob), target, "from either side");
    assert_eq!(alice.chat_with("bob").await, chat);
    assert_eq!(alice.get(&target).await.status(), Status::Ok);
}

#[rocket::async_test]
async fn a_link_to_nobody_is_404_and_to_yourself_goes_home() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    app.signup("bob").await;
    app.sql("UPDATE users SET is_active = FALSE WHERE username = 'bob'")
        .await;

    let response = alice.get("/u/nobody").await;
    assert_error_page(response, Status::NotFound, "/u/nobody").await;
    let response = alice.get("/u/bob").await;
    assert_error_page(response, Status::NotFound, "/u/<deactivated>").await;

    let response = alice.get("/u/alice").await;
    assert_eq!(response.status(), Status::SeeOther);
    assert_eq!(location(&response), "/");
    assert!(alice.chats().await.is_empty(), "no chat with herself");
}

#[rocket::async_test]
async fn assets_are_served_with_types_and_etags() {
    let app = TestApp::new().await;
    for (path, content_type) in [
        ("/assets/css/app.css", ContentType::CSS),
        ("/assets/js/chat.js", ContentType::JavaScript),
        ("/assets/img/favicon.svg", ContentType::SVG),
    ] {
        let response = app.client.get(path).dispatch().await;
        assert_eq!(response.status(), Status::Ok, "{path}");
        assert_eq!(response.content_type(), Some(content_type), "{path}");
        assert_eq!(
            header(&response, "X-Content-Type-Options").as_deref(),
            Some("nosniff")
        );
        let etag = header(&response, "ETag").unwrap_or_else(|| panic!("{path}: ETag"));
        assert!(
            etag.starts_with('"') && etag.ends_with('"'),
            "{path}: {etag}"
        );
        let body = response.into_bytes().await.unwrap();
        assert!(!body.is_empty(), "{path}");

        let again = app
            .client
            .get(path)
            .header(Header::new("If-None-Match", etag.clone()))
            .dispatch()
            .await;
        assert_eq!(again.status(), Status::NotModified, "{path} revalidates");
        assert_eq!(header(&again, "ETag").as_deref(), Some(etag.as_str()));
        assert!(again.into_bytes().await.unwrap_or_default().is_empty());

        let stale = app
            .client
            .get(path)
            .header(Header::new("If-None-Match", "\"something-else\""))
            .dispatch()
            .await;
        assert_eq!(stale.status(), Status::Ok, "{path} with an old tag");
    }
}

#[rocket::async_test]
async fn only_the_embedded_assets_are_served() {
    let app = TestApp::new().await;
    for path in [
        "/assets/../Cargo.toml",
        "/assets/%2e%2e/Cargo.toml",
        "/assets/css/../../Cargo.toml",
        "/assets/js/nope.js",
        "/assets/css/input.css",
        "/assets/",
    ] {
        let response = app.client.get(path).dispatch().await;
        assert_eq!(response.status(), Status::NotFound, "{path}");
        let body = response.into_string().await.unwrap_or_default();
        assert!(!body.contains("[package]"), "{path} leaks Cargo.toml");
    }
}

#[rocket::async_test]
async fn asset_names_that_are_no_path_are_unknown_assets_too() {
    // Rocket's `PathBuf` guard refuses these names (a dot file, an encoded slash); the
    // route then answers 422 "invalid data" where the contract says unknown is 404.
    let app = TestApp::new().await;
    for path in [
        "/assets/.hidden",
        "/assets/..%2fCargo.toml",
        "/assets/css%2f..%2f..%2fCargo.toml",
    ] {
        let response = app.client.get(path).dispatch().await;
        let status = response.status();
        let body = response.into_string().await.unwrap_or_default();
        assert!(!body.contains("[package]"), "{path} leaks Cargo.toml");
        assert_eq!(status, Status::NotFound, "{path}");
    }
}

#[rocket::async_test]
async fn the_health_check_says_ok() {
    let app = TestApp::new().await;
    let response = app.client.get("/healthz").dispatch().await;
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(response.content_type(), Some(ContentType::JSON));
    let body: serde_json::Value = response.into_json().await.unwrap();
    assert_eq!(body, serde_json::json!({ "status": "ok" }));
}

#[rocket::async_test]
async fn every_answer_carries_the_security_headers() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;

    let login = app.client.get("/login").dispatch().await;
    assert_security_headers(&login, "/login");
    let signup = app.client.get("/signup").dispatch().await;
    assert_security_headers(&signup, "/signup");
    let home = alice.get("/").await;
    assert_security_headers(&home, "/");
    let redirect = app.client.get("/").dispatch().await;
    assert_security_headers(&redirect, "redirect to sign-in");
    let me = alice.get("/api/me").await;
    assert_security_headers(&me, "/api/me");
    let anonymous = app.client.get("/api/me").dispatch().await;
    assert_eq!(anonymous.status(), Status::Unauthorized);
    assert_security_headers(&anonymous, "401 JSON");
    let missing = alice.get("/api/chats/999999/messages").await;
    assert_security_headers(&missing, "404 JSON");
    let forged = alice
        .send_token(
            "POST",
            "/api/chats",
            None,
            serde_json::json!({ "with": "x" }),
        )
        .await;
    assert_security_headers(&forged, "403 JSON");
    let page = app.client.get("/no/such/page").dispatch().await;
    assert_error_page(page, Status::NotFound, "404 page").await;
    let health = app.client.get("/healthz").dispatch().await;
    assert_security_headers(&health, "/healthz");
    let asset = app.client.get("/assets/css/app.css").dispatch().await;
    assert_security_headers(&asset, "asset");
}

#[rocket::async_test]
async fn no_page_has_inline_scripts_handlers_or_styles() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    app.signup("bob").await;
    let chat = alice.chat_with("bob").await;

    let mut pages = Vec::new();
    for path in ["/login", "/signup", "/login?next=%2Fchats%2F1"] {
        let html = app.client.get(path).dispatch().await.into_string().await;
        pages.push((path.to_owned(), html.unwrap()));
    }
    app.sql("UPDATE users SET role = 'superuser' WHERE username = 'alice'")
        .await;
    alice.say(chat, "hi").await;
    let signed_in = [
        "/".to_owned(),
        format!("/chats/{chat}"),
        "/account".to_owned(),
        "/admin/".to_owned(),
        "/admin/users/?q=a&o=-username".to_owned(),
        "/admin/users/add/".to_owned(),
        "/admin/users/1/change/".to_owned(),
        "/admin/users/2/delete/".to_owned(),
        "/admin/users/1/history/".to_owned(),
        "/admin/users/2/password/".to_owned(),
        "/admin/chats/".to_owned(),
        format!("/admin/chats/{chat}/change/"),
        "/admin/messages/".to_owned(),
        "/admin/messages/1/change/".to_owned(),
        "/admin/log/".to_owned(),
    ];
    for path in signed_in {
        let response = alice.get(&path).await;
        assert_eq!(response.status(), Status::Ok, "{path}");
        assert_security_headers(&response, &path);
        pages.push((path, response.into_string().await.unwrap()));
    }
    let error = app.client.get("/no/such/page").dispatch().await;
    pages.push(("404 page".into(), error.into_string().await.unwrap()));
    let error = alice.get("/chats/999999").await;
    pages.push(("404 chat page".into(), error.into_string().await.unwrap()));
    // A form page shown again with errors.
    let visitor = app.visitor("/signup").await;
    let again = visitor
        .post_form(
            "/signup",
            &[
                ("username", "x"),
                ("email", "bad"),
                ("password1", "1"),
                ("password2", "2"),
            ],
        )
        .await;
    pages.push(("signup errors".into(), again.into_string().await.unwrap()));

    for (what, html) in &pages {
        assert!(html.contains("<html"), "{what} is a page");
        assert_no_inline_code(html, what);
    }
}

#[rocket::async_test]
async fn html_in_names_is_escaped_on_pages() {
    // Usernames cannot hold markup, so the `next` field is the echo to check.
    let app = TestApp::new().await;
    let html = app
        .client
        .get("/login?next=%2F%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E")
        .dispatch()
        .await
        .into_string()
        .await
        .unwrap();
    assert!(!html.contains("<script>alert(1)</script>"), "{html}");
    assert_no_inline_code(&html, "login with a hostile next");
}
