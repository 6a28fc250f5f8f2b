//! API tokens and bots in the browser: a token made on /account is shown once with a copy
//! button, works with curl-like requests, and is revoked from the same page; a bot's
//! message appears live in an open chat with the "bot" badge.

use crate::process::{self, Reply};

use super::axe;
use super::web::{group, Kanect, DESKTOP, ROOT_PASSWORD};

/// `GET path` with only `Authorization: Bearer <token>`, as `curl -H` sends it.
fn with_token(base: &str, path: &str, token: &str) -> Reply {
    let request = process::agent()
        .get(&format!("{base}{path}"))
        .set("Authorization", &format!("Bearer {token}"));
    process::send(request, None).expect("an answer")
}

#[tokio::test]
async fn a_token_is_made_shown_once_copied_and_revoked_on_the_account_page() {
    let Some(app) = Kanect::start() else { return };
    app.member("alice");
    let alice = app.signed_in("alice", DESKTOP).await;
    alice.goto("/account").await;
    alice.fill("#id_token_name", "CI pipeline").await;
    alice
        .click("form[action='/account/tokens#api-tokens'] button[type=submit]")
        .await;
    alice.wait_visible("#new-token").await;
    let token = alice.text("#new-token").await;
    assert!(token.starts_with("kanect_"), "{token}");
    alice.click("[data-copy='new-token']").await;
    alice
        .wait_js(
            "the copy button answers",
            "const b = document.querySelector(\"[data-copy='new-token']\"); \
             return b.textContent !== 'Copy' ? b.textContent : null",
            vec![],
        )
        .await;
    alice.screenshot("api-tokens").await;
    if let Some(source) = axe::source() {
        axe::assert_clean(&alice, source, "the account page showing a new token").await;
    }
    let base = alice.base.clone();
    assert_eq!(with_token(&base, "/api/chats", &token).status, 200);

    // Shown once: the page again lists it, with its use, and not the token.
    alice.goto("/account").await;
    let section = alice.text("#api-tokens").await;
    assert!(section.contains("CI pipeline"), "{section}");
    assert!(section.contains("last used"), "{section}");
    assert!(!section.contains(&token), "{section}");

    alice
        .click("[data-token-id] form button[type=submit]")
        .await;
    alice.wait_text("[role=status]", "revoked").await;
    assert_eq!(with_token(&base, "/api/chats", &token).status, 401);
    alice.assert_console_clean();
}

#[tokio::test]
async fn a_bots_message_shows_live_with_the_bot_badge() {
    let Some(app) = Kanect::start() else { return };
    app.superuser("root");
    let mut root = process::Browser::login(&app.server, "root", ROOT_PASSWORD);
    let mut alice = app.member("alice");
    let made = root.post_form(
        "/admin/users/add/",
        &[
            ("username", "ci-bot"),
            ("email", ""),
            ("role", "member"),
            ("is_active", "on"),
            ("is_bot", "on"),
            ("_save", "1"),
        ],
    );
    assert_eq!(made.status, 303, "{}", made.text());
    let users = alice.get("/api/users").json();
    let bot = users
        .as_array()
        .and_then(|all| all.iter().find(|u| u["username"] == "ci-bot"))
        .and_then(|u| u["id"].as_i64())
        .expect("the bot in the people list");
    let page = root
        .post_form(&format!("/admin/users/{bot}/bot-key/"), &[])
        .text();
    let start = page.find("kanectbot_").expect("the key, once");
    let key: String = page[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    let chat = group(&mut alice, "Builds", &["ci-bot"]);

    let window = app.signed_in("alice", DESKTOP).await;
    window
        .click(&format!("#chat-list button[data-key='chat:{chat}']"))
        .await;
    let request = process::agent()
        .post(&format!("{}/bots/{key}/chats/{chat}/messages", window.base))
        .set("Content-Type", "text/plain");
    let sent = process::send(request, Some("Build 42 passed")).expect("an answer");
    assert_eq!(sent.status, 201, "{}", sent.text());
    window.wait_message("Build 42 passed").await;
    window.wait_visible("#message-list [data-bot-badge]").await;
    window.screenshot("bot").await;
    window.assert_console_clean();
}
