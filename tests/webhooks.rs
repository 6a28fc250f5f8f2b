//! Outgoing webhooks, as a bot's server on loopback receives them: a mention of the bot or
//! a direct message to it arrives signed with the bot key, the answer is posted as the
//! bot's reply, live; failures are retried and every try shows in the console; a private
//! address is refused when saved and again when sent; a bad endpoint never holds up sends.

use std::time::{Duration, Instant};

use crate::bots::{add_bot, make_bot};
use crate::common::endpoint::{self, next, none_within, Answer};
use crate::common::*;
use hmac::{Hmac, Mac};
use rocket::http::Status;
use serde_json::{json, Value};

fn with_loopback(config: &mut kanect::config::Config) {
    config.webhook_allow_private = true;
}

/// The signature the header must carry: HMAC-SHA256 of the body with the bot key, hex.
fn signature(key: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).expect("any key");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

async fn add_to(person: &Person<'_>, chat: i64, username: &str) {
    let added = person
        .post(
            &format!("/api/chats/{chat}/members"),
            json!({ "username": username }),
        )
        .await;
    assert!(added.status().code < 300, "{}", added.status());
}

/// Polls from `cursor` until a message with `body` arrives (within 10 s); that message.
async fn wait_for_message(person: &Person<'_>, mut cursor: i64, body: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let update = person.poll(cursor, 5).await;
        for event in events(&update) {
            if event["type"] == "message" && event["message"]["body"] == body {
                return event["message"].clone();
            }
        }
        cursor = update["cursor"].as_i64().expect("a cursor");
    }
    panic!("no message {body:?} within 10 s");
}

/// The tries logged for bot `bot`, oldest first: (try, outcome, status, detail).
async fn tries(app: &TestApp, bot: i64, at_least: usize) -> Vec<(i64, String, i64, String)> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let count = app
            .count(&format!(
                "SELECT count(*) FROM webhook_attempts WHERE bot_id = {bot}"
            ))
            .await;
        if count as usize >= at_least || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut found = Vec::new();
    let n = app
        .count(&format!(
            "SELECT count(*) FROM webhook_attempts WHERE bot_id = {bot}"
        ))
        .await;
    for i in 0..n {
        let row = |column: &str| {
            format!(
                "SELECT {column} FROM webhook_attempts WHERE bot_id = {bot} ORDER BY id LIMIT 1 OFFSET {i}"
            )
        };
        found.push((
            app.count(&row("try")).await,
            app.text(&row("outcome")).await,
            app.count(&row("COALESCE(status, 0)")).await,
            app.text(&row("detail")).await,
        ));
    }
    found
}

#[rocket::async_test]
async fn a_mention_arrives_signed_and_the_bots_answer_appears_live_as_its_reply() {
    let app = TestApp::with(with_loopback).await;
    let root = app.admin("root", "superuser").await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let (base, mut received) = endpoint::start(vec![Answer::json(
        200,
        json!({ "body": "Build 42 is green ✅" }),
    )])
    .await;
    let (bot, key) = make_bot(&root, "ci-bot", &format!("{base}/hook?team=1")).await;
    let group = alice.group("Builds", &["bob"]).await;
    add_to(&alice, group, "ci-bot").await;
    let cursor = bob.cursor_now().await;

    let sent = alice.say(group, "@ci-bot how is main?").await;

    let request = next(&mut received).await;
    assert_eq!(request.line, "POST /hook?team=1 HTTP/1.1");
    assert!(request
        .header("content-type")
        .starts_with("application/json"));
    assert_eq!(
        request.header("x-kanect-signature"),
        signature(&key, &request.body),
        "signed with the bot key"
    );
    let payload = request.json();
    assert_eq!(payload["message"]["id"], sent["id"]);
    assert_eq!(payload["message"]["body"], "@ci-bot how is main?");
    assert_eq!(payload["message"]["sender"], "alice");
    assert_eq!(payload["message"]["mentions"], json!(["ci-bot"]));
    assert_eq!(payload["chat"]["id"], group);
    assert_eq!(payload["chat"]["kind"], "group");
    assert_eq!(payload["chat"]["title"], "Builds");

    let reply = wait_for_message(&bob, cursor, "Build 42 is green ✅").await;
    assert_eq!(reply["sender"], "ci-bot");
    assert_eq!(reply["chat_id"], group);
    assert_eq!(tries(&app, bot, 1).await[0].1, "replied");

    // The console shows the try, and the bot's page links to its tries.
    let page = root.page("/admin/webhook_attempts/", Status::Ok).await;
    assert!(page.contains("replied"), "{page}");
    let bot_page = root
        .page(&format!("/admin/users/{bot}/change/"), Status::Ok)
        .await;
    assert!(
        bot_page.contains(&format!("/admin/webhook_attempts/?bot_id={bot}")),
        "a link to the bot's tries"
    );
    // A message that does not mention the bot, `@all`, and the bot's own reply, go
    // nowhere.
    alice.say(group, "thanks, bob").await;
    alice.say(group, "@all lunch?").await;
    assert!(none_within(&mut received, Duration::from_millis(700)).await);
}

#[rocket::async_test]
async fn every_direct_message_goes_out_and_a_plain_text_answer_is_posted() {
    let app = TestApp::with(with_loopback).await;
    let root = app.admin("root", "superuser").await;
    let alice = app.signup("alice").await;
    let (base, mut received) = endpoint::start(vec![
        Answer::text(200, "pong"),
        // Nothing to say: nothing is posted.
        Answer::text(200, "  \n"),
    ])
    .await;
    let (bot, key) = make_bot(&root, "echo-bot", &format!("{base}/")).await;
    let direct = alice.chat_with("echo-bot").await;
    let cursor = alice.cursor_now().await;

    alice.say(direct, "ping").await;
    let request = next(&mut received).await;
    assert_eq!(
        request.header("x-kanect-signature"),
        signature(&key, &request.body)
    );
    assert_eq!(request.json()["chat"]["kind"], "direct");
    let reply = wait_for_message(&alice, cursor, "pong").await;
    assert_eq!(reply["sender"], "echo-bot");

    alice.say(direct, "and now?").await;
    next(&mut received).await;
    let logged = tries(&app, bot, 2).await;
    assert_eq!(logged[1].1, "delivered", "{logged:?}");
    assert_eq!(
        alice.history_bodies(direct).await,
        ["ping", "pong", "and now?"]
    );
}

#[rocket::async_test]
async fn a_failing_endpoint_is_tried_again_after_a_pause_and_every_try_is_logged() {
    let app = TestApp::with(with_loopback).await;
    let root = app.admin("root", "superuser").await;
    let alice = app.signup("alice").await;
    let (base, mut received) =
        endpoint::start(vec![Answer::status(503), Answer::status(204)]).await;
    let (bot, _) = make_bot(&root, "flaky-bot", &format!("{base}/hook")).await;
    let direct = alice.chat_with("flaky-bot").await;

    alice.say(direct, "are you there?").await;
    let first = next(&mut received).await;
    let at = Instant::now();
    let second = next(&mut received).await;
    assert!(
        at.elapsed() >= Duration::from_millis(800),
        "a pause before the retry"
    );
    assert_eq!(first.body, second.body, "the same delivery");
    assert_eq!(
        first.header("x-kanect-signature"),
        second.header("x-kanect-signature")
    );
    let logged = tries(&app, bot, 2).await;
    assert_eq!(logged.len(), 2, "{logged:?}");
    assert_eq!(
        (logged[0].0, logged[0].1.as_str(), logged[0].2),
        (1, "failed", 503)
    );
    assert_eq!(
        (logged[1].0, logged[1].1.as_str(), logged[1].2),
        (2, "delivered", 204)
    );
    let page = root
        .page("/admin/webhook_attempts/?outcome=failed", Status::Ok)
        .await;
    assert!(page.contains("503"), "{page}");
    assert!(
        none_within(&mut received, Duration::from_millis(1500)).await,
        "no more tries"
    );
}

#[rocket::async_test]
async fn a_hanging_or_flooding_endpoint_holds_up_no_send_and_posts_nothing() {
    let app = TestApp::with(with_loopback).await;
    let root = app.admin("root", "superuser").await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let (hanging, mut hung) = endpoint::start(vec![Answer::hang()]).await;
    let (flooding, mut flooded) =
        endpoint::start(vec![
            Answer::text(200, "").body(vec![b'a'; 10 * 1024 * 1024])
        ])
        .await;
    make_bot(&root, "slow-bot", &format!("{hanging}/hook")).await;
    let (big, _) = make_bot(&root, "big-bot", &format!("{flooding}/hook")).await;
    let group = alice.group("Ops", &["bob"]).await;
    add_to(&alice, group, "slow-bot").await;
    add_to(&alice, group, "big-bot").await;

    alice.say(group, "@slow-bot @big-bot deploy?").await;
    next(&mut hung).await;
    next(&mut flooded).await;
    // While slow-bot's server sits on the request, everyone goes on talking.
    for n in 0..20 {
        let sent = Instant::now();
        bob.say(group, &format!("message {n}")).await;
        assert!(
            sent.elapsed() < Duration::from_secs(2),
            "a send waits for no bot"
        );
    }
    let logged = tries(&app, big, 1).await;
    assert_eq!(logged[0].1, "delivered", "{logged:?}");
    assert!(logged[0].3.contains("over 64 KiB"), "{logged:?}");
    let history = bob.history(group, "").await;
    let from_bots = history["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter(|m| m["sender"] != "alice" && m["sender"] != "bob")
        .count();
    assert_eq!(from_bots, 0, "no reply was posted");
}

#[rocket::async_test]
async fn private_addresses_are_refused_when_saved_and_again_when_sent() {
    let app = TestApp::new().await;
    let root = app.admin("root", "superuser").await;
    let alice = app.signup("alice").await;
    for url in [
        "http://127.0.0.1:9/hook",
        "http://localhost:8080/hook",
        "http://[::1]/hook",
        "http://10.0.0.5/hook",
        "http://169.254.169.254/latest/meta-data",
    ] {
        let response = add_bot(&root, "sneaky-bot", url).await;
        assert_eq!(response.status(), Status::Ok, "{url}: the form again");
        let page = unescape(&response.into_string().await.unwrap_or_default());
        assert!(page.contains("private or loopback"), "{url}");
    }
    assert_eq!(
        app.count("SELECT count(*) FROM users WHERE is_bot").await,
        0
    );

    // A public address is saved; then the address turns private (as a name's DNS can),
    // written straight into the database here.
    let (base, mut received) = endpoint::start(vec![Answer::text(200, "gotcha")]).await;
    let (bot, _) = make_bot(&root, "turned-bot", "https://8.8.8.8/hook").await;
    app.sql(&format!(
        "UPDATE users SET webhook_url = '{base}/hook' WHERE id = {bot}"
    ))
    .await;
    let direct = alice.chat_with("turned-bot").await;
    alice.say(direct, "hello").await;
    let logged = tries(&app, bot, 1).await;
    assert_eq!(logged[0].1, "refused", "{logged:?}");
    assert!(
        none_within(&mut received, Duration::from_millis(500)).await,
        "nothing sent"
    );
}

#[rocket::async_test]
async fn a_bot_whose_key_cannot_be_read_is_refused_until_it_gets_a_new_key() {
    let app = TestApp::with(with_loopback).await;
    let root = app.admin("root", "superuser").await;
    let alice = app.signup("alice").await;
    let (base, mut received) = endpoint::start(vec![Answer::status(204)]).await;
    let (bot, _) = make_bot(&root, "old-bot", &format!("{base}/hook")).await;
    // As a key made before webhooks, or under another secret_key.
    app.sql(&format!(
        "UPDATE users SET bot_key_sealed = NULL WHERE id = {bot}"
    ))
    .await;
    let direct = alice.chat_with("old-bot").await;
    alice.say(direct, "one").await;
    let logged = tries(&app, bot, 1).await;
    assert_eq!(logged[0].1, "refused");
    assert!(logged[0].3.contains("Bot key page"), "{logged:?}");

    let key = crate::bots::new_key(&root, bot).await;
    alice.say(direct, "two").await;
    let request = next(&mut received).await;
    assert_eq!(
        request.header("x-kanect-signature"),
        signature(&key, &request.body)
    );
}

#[rocket::async_test]
async fn a_redirect_is_followed_with_the_same_signed_body() {
    let app = TestApp::with(with_loopback).await;
    let root = app.admin("root", "superuser").await;
    let alice = app.signup("alice").await;
    let (moved_to, mut arrived) =
        endpoint::start(vec![Answer::text(200, "moved, still here")]).await;
    let (base, mut asked) = endpoint::start(vec![
        Answer::status(307).header("location", &format!("{moved_to}/new-hook"))
    ])
    .await;
    let (_, key) = make_bot(&root, "moved-bot", &format!("{base}/hook")).await;
    let direct = alice.chat_with("moved-bot").await;
    let cursor = alice.cursor_now().await;
    alice.say(direct, "where are you?").await;
    let first = next(&mut asked).await;
    let second = next(&mut arrived).await;
    assert_eq!(second.line, "POST /new-hook HTTP/1.1");
    assert_eq!(first.body, second.body);
    assert_eq!(
        second.header("x-kanect-signature"),
        signature(&key, &second.body)
    );
    wait_for_message(&alice, cursor, "moved, still here").await;
}

#[rocket::async_test]
async fn a_webhook_url_saved_in_the_console_applies_to_the_next_message() {
    let app = TestApp::with(with_loopback).await;
    let root = app.admin("root", "superuser").await;
    let alice = app.signup("alice").await;
    let (bot, key) = make_bot(&root, "late-bot", "").await;
    let direct = alice.chat_with("late-bot").await;
    // The webhook task has now read which bots have a webhook: none.
    alice.say(direct, "anyone there?").await;
    let (base, mut received) = endpoint::start(vec![Answer::status(204)]).await;
    let saved = root
        .post_form(
            &format!("/admin/users/{bot}/change/"),
            &[
                ("username", "late-bot"),
                ("role", "member"),
                ("is_active", "on"),
                ("webhook_url", &format!("{base}/hook")),
                ("_save", "1"),
            ],
        )
        .await;
    assert_eq!(saved.status(), Status::SeeOther);
    alice.say(direct, "now?").await;
    let request = next(&mut received).await;
    assert_eq!(request.json()["message"]["body"], "now?");
    assert_eq!(
        request.header("x-kanect-signature"),
        signature(&key, &request.body)
    );
}
