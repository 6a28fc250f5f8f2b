//! Bots: made by staff in the admin (a user with `is_bot`, no password), given a key shown
//! once, added to chats like people, posting through `/bots/<key>/chats/<id>/messages`.

use std::time::Duration;

use crate::common::*;
use rocket::http::{ContentType, Status};
use rocket::local::asynchronous::LocalResponse;
use serde_json::{json, Value};

/// The console's "add user" form for a bot, as `staff` submits it.
pub async fn add_bot<'c>(staff: &Person<'c>, name: &str, webhook: &str) -> LocalResponse<'c> {
    staff
        .post_form(
            "/admin/users/add/",
            &[
                ("username", name),
                ("email", ""),
                ("role", "member"),
                ("is_active", "on"),
                ("is_bot", "on"),
                ("webhook_url", webhook),
                ("_save", "1"),
            ],
        )
        .await
}

/// A bot `staff` makes in the console, and its first key (from the page that shows it).
pub async fn make_bot(staff: &Person<'_>, name: &str, webhook: &str) -> (i64, String) {
    let response = add_bot(staff, name, webhook).await;
    assert_eq!(response.status(), Status::SeeOther, "the bot is saved");
    let id = staff
        .app
        .count(&format!("SELECT id FROM users WHERE username = '{name}'"))
        .await;
    (id, new_key(staff, id).await)
}

/// A new key for bot `id`, from the page that shows it once.
pub async fn new_key(staff: &Person<'_>, id: i64) -> String {
    let response = staff
        .post_form(&format!("/admin/users/{id}/bot-key/"), &[])
        .await;
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(
        header(&response, "Cache-Control").as_deref(),
        Some("no-store")
    );
    let page = unescape(&response.into_string().await.unwrap_or_default());
    let start = page.find("kanectbot_").expect("the key on the page");
    page[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect()
}

/// A post to the bot URL with no cookie at all.
async fn bot_post<'c>(
    app: &'c TestApp,
    key: &str,
    chat: i64,
    content_type: ContentType,
    body: &str,
) -> LocalResponse<'c> {
    app.client
        .post(format!("/bots/{key}/chats/{chat}/messages"))
        .header(content_type)
        .body(body)
        .dispatch()
        .await
}

#[rocket::async_test]
async fn a_bot_posts_to_its_chat_and_members_hear_it_at_once() {
    let app = TestApp::new().await;
    let root = app.admin("root", "superuser").await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let (_, key) = make_bot(&root, "ci-bot", "").await;
    let group = alice.group("Builds", &["bob"]).await;
    let added = alice
        .post(
            &format!("/api/chats/{group}/members"),
            json!({ "username": "ci-bot" }),
        )
        .await;
    assert!(added.status().code < 300, "{}", added.status());
    let start = bob.cursor_now().await;

    let (update, sent) = tokio::join!(bob.poll(start, 5), async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        bot_post(&app, &key, group, ContentType::Plain, "Build #42 passed").await
    });
    assert_eq!(sent.status(), Status::Created);
    let sent: Value = sent.into_json().await.expect("the message");
    assert_eq!(sent["sender"], "ci-bot");
    assert_eq!(sent["body"], "Build #42 passed");
    assert!(update.to_string().contains("Build #42 passed"), "{update}");

    let response = bot_post(
        &app,
        &key,
        group,
        ContentType::JSON,
        r#"{"body": "deployed"}"#,
    )
    .await;
    assert_eq!(response.status(), Status::Created);
    assert_eq!(
        bob.history_bodies(group).await,
        ["Build #42 passed", "deployed"]
    );

    // People see that it is a bot: in the people list and in the chat's profiles.
    let people = alice.get_json("/api/users", Status::Ok).await;
    let bot_of = |name: &str| {
        people
            .as_array()
            .and_then(|all| all.iter().find(|p| p["username"] == name))
            .map(|p| p["bot"].clone())
    };
    assert_eq!(bot_of("ci-bot"), Some(json!(true)));
    assert_eq!(bot_of("bob"), Some(json!(false)));
    let chat = alice.chat(group).await;
    let profile = chat["profiles"]
        .as_array()
        .and_then(|all| all.iter().find(|p| p["username"] == "ci-bot"))
        .cloned()
        .expect("the bot's profile");
    assert_eq!(profile["bot"], true, "{chat}");
}

#[rocket::async_test]
async fn a_wrong_key_and_a_chat_the_bot_is_not_in_are_the_same_404() {
    let app = TestApp::new().await;
    let root = app.admin("root", "superuser").await;
    let alice = app.signup("alice").await;
    app.signup("bob").await;
    let (_, key) = make_bot(&root, "ci-bot", "").await;
    let theirs = alice.chat_with("bob").await;
    let unknown = format!("kanectbot_{}", "A".repeat(43));
    let mut answers = Vec::new();
    for (what, key, chat) in [
        ("an unknown key", unknown.as_str(), theirs),
        ("a malformed key", "nope", theirs),
        ("a user's API token", "kanect_abc", theirs),
        ("a chat it is not in", key.as_str(), theirs),
        ("a chat that does not exist", key.as_str(), 999_999),
    ] {
        let response = bot_post(&app, key, chat, ContentType::Plain, "hi").await;
        let body = expect_error(response, Status::NotFound, "not_found").await;
        answers.push((what, body));
    }
    assert!(
        answers.windows(2).all(|w| w[0].1 == w[1].1),
        "every 404 reads the same: {answers:?}"
    );
    // Even a body it would refuse tells nothing about a chat it is not in.
    let response = bot_post(&app, &key, theirs, ContentType::Plain, "   ").await;
    expect_error(response, Status::NotFound, "not_found").await;
    assert_eq!(app.count("SELECT count(*) FROM messages").await, 0);
}

#[rocket::async_test]
async fn a_bots_message_follows_the_rules_of_any_message() {
    let app = TestApp::new().await;
    let root = app.admin("root", "superuser").await;
    let (_, key) = make_bot(&root, "ci-bot", "").await;
    let group = root.group("Builds", &["ci-bot"]).await;
    for body in ["", "   ", &"x".repeat(4001)] {
        let response = bot_post(&app, &key, group, ContentType::Plain, body).await;
        expect_invalid(response, "body").await;
    }
    let response = bot_post(&app, &key, group, ContentType::JSON, r#"{"text": "hi"}"#).await;
    assert_eq!(response.status(), Status::UnprocessableEntity);
    let response = bot_post(&app, &key, group, ContentType::JSON, "{not json").await;
    expect_error(response, Status::BadRequest, "bad_request").await;
    let huge = "y".repeat(70 * 1024);
    let response = bot_post(&app, &key, group, ContentType::Plain, &huge).await;
    assert_eq!(response.status(), Status::PayloadTooLarge);
    assert_eq!(app.count("SELECT count(*) FROM messages").await, 0);
}

#[rocket::async_test]
async fn a_bot_cannot_sign_in_even_with_a_password_set() {
    let app = TestApp::new().await;
    let root = app.admin("root", "superuser").await;
    let (id, _) = make_bot(&root, "ci-bot", "").await;
    let refused = |response: LocalResponse<'_>| {
        assert_eq!(response.status(), Status::Ok, "the form again");
        assert!(response.cookies().get("kanect_session").is_none());
    };
    let visitor = app.visitor("/login").await;
    for password in ["", "!", PASSWORD] {
        let response = visitor
            .post_form("/login", &[("username", "ci-bot"), ("password", password)])
            .await;
        refused(response);
    }
    let response = root
        .post_form(
            &format!("/admin/users/{id}/password/"),
            &[("password1", PASSWORD), ("password2", PASSWORD)],
        )
        .await;
    assert_eq!(response.status(), Status::SeeOther);
    let response = visitor
        .post_form("/login", &[("username", "ci-bot"), ("password", PASSWORD)])
        .await;
    refused(response);
    // People still sign in.
    app.login("root", PASSWORD).await;
}

#[rocket::async_test]
async fn a_new_key_replaces_the_old_one_and_only_its_hash_is_kept() {
    let app = TestApp::new().await;
    let root = app.admin("root", "superuser").await;
    let (id, old) = make_bot(&root, "ci-bot", "").await;
    let group = root.group("Builds", &["ci-bot"]).await;
    assert_eq!(
        bot_post(&app, &old, group, ContentType::Plain, "one")
            .await
            .status(),
        Status::Created
    );
    let page = root
        .page(&format!("/admin/users/{id}/change/"), Status::Ok)
        .await;
    assert!(
        page.contains("/bot-key/") && !page.contains(&old),
        "a link, no key"
    );
    let new = new_key(&root, id).await;
    assert_ne!(new, old);
    let response = bot_post(&app, &old, group, ContentType::Plain, "two").await;
    expect_error(response, Status::NotFound, "not_found").await;
    assert_eq!(
        bot_post(&app, &new, group, ContentType::Plain, "three")
            .await
            .status(),
        Status::Created
    );
    let hex: String = kanect::auth::token::hash(&new)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let as_hex = if app.is_postgres() {
        "encode(bot_key_hash, 'hex')"
    } else {
        "lower(hex(bot_key_hash))"
    };
    assert_eq!(
        app.text(&format!("SELECT {as_hex} FROM users WHERE id = {id}"))
            .await,
        hex
    );
    let row = app
        .text(&format!(
            "SELECT username || password_hash || COALESCE(webhook_url, '') FROM users WHERE id = {id}"
        ))
        .await;
    assert!(!row.contains(&new[10..]), "{row}");
    // A deactivated bot's key stops working.
    app.sql(&format!(
        "UPDATE users SET is_active = FALSE WHERE id = {id}"
    ))
    .await;
    let response = bot_post(&app, &new, group, ContentType::Plain, "four").await;
    expect_error(response, Status::NotFound, "not_found").await;
}

#[rocket::async_test]
async fn a_webhook_url_must_be_http_or_https_and_only_a_bot_has_one() {
    let app = TestApp::new().await;
    let root = app.admin("root", "superuser").await;
    for (name, url, bot) in [
        ("bad-bot", "ftp://ci.example/hook", "on"),
        ("js-bot", "javascript:alert(1)", "on"),
        ("person", "https://8.8.8.8/hook", ""),
    ] {
        let response = root
            .post_form(
                "/admin/users/add/",
                &[
                    ("username", name),
                    ("role", "member"),
                    ("is_active", "on"),
                    ("is_bot", bot),
                    ("webhook_url", url),
                    ("password1", PASSWORD),
                    ("password2", PASSWORD),
                    ("_save", "1"),
                ],
            )
            .await;
        assert_eq!(response.status(), Status::Ok, "{name}: the form again");
        let page = unescape(&response.into_string().await.unwrap_or_default());
        assert!(
            page.contains("http:// or https://") || page.contains("Only a bot"),
            "{name}"
        );
    }
    assert_eq!(app.count("SELECT count(*) FROM users").await, 1);
    let (id, _) = make_bot(&root, "hook-bot", "https://8.8.8.8/hook").await;
    assert_eq!(
        app.text(&format!("SELECT webhook_url FROM users WHERE id = {id}"))
            .await,
        "https://8.8.8.8/hook"
    );
    // A bot is never staff.
    let response = root
        .post_form(
            &format!("/admin/users/{id}/change/"),
            &[
                ("username", "hook-bot"),
                ("role", "staff"),
                ("is_active", "on"),
                ("_save", "1"),
            ],
        )
        .await;
    assert_eq!(response.status(), Status::Ok, "refused");
}

#[rocket::async_test]
async fn the_bot_url_under_attack_answers_json_errors_and_changes_nothing() {
    use crate::common::hostile::{fingerprint, inspect, INJECTIONS, ODD_IDS};
    let app = TestApp::new().await;
    let root = app.admin("root", "superuser").await;
    let (_, key) = make_bot(&root, "ci-bot", "").await;
    let group = root.group("Builds", &["ci-bot"]).await;
    let before = fingerprint(&app).await;
    for odd in ODD_IDS.iter().chain(INJECTIONS) {
        let odd = rocket::http::RawStr::new(odd).percent_encode().to_string();
        for path in [
            format!("/bots/{odd}/chats/{group}/messages"),
            format!("/bots/{key}/chats/{odd}/messages"),
        ] {
            let what = format!("POST {path}");
            let response = app
                .client
                .post(path.clone())
                .header(ContentType::Plain)
                .body("hi")
                .dispatch()
                .await;
            let seen = inspect(&what, response).await;
            assert!(
                [Status::NotFound, Status::BadRequest].contains(&seen.status),
                "{what}: {}",
                seen.status
            );
        }
    }
    // Bodies of the wrong kind, with the right key: errors, never a 5xx.
    for (content_type, body) in [
        (ContentType::JSON, "[1, 2"),
        (ContentType::JSON, r#"{"body": 5}"#),
        (ContentType::JSON, r#"{"body": "x", "extra": 1}"#),
        (ContentType::Form, "\u{0}"),
        (ContentType::Plain, "\u{202E}"),
    ] {
        let what = format!("POST {content_type} {body:?}");
        let response = bot_post(&app, &key, group, content_type, body).await;
        let seen = inspect(&what, response).await;
        assert!(seen.status.code >= 400 && seen.status.code < 500, "{what}");
    }
    // Cookies and CSRF mean nothing here: the key is the credential.
    let response = root
        .request(
            app.client
                .post(format!("/bots/nope/chats/{group}/messages")),
        )
        .header(ContentType::Plain)
        .body("as root?")
        .dispatch()
        .await;
    expect_error(response, Status::NotFound, "not_found").await;
    assert_eq!(fingerprint(&app).await, before, "nothing changed");
}

/// The console's avatar form for bot `id`, with `bytes` as its picture.
async fn upload_avatar<'c>(staff: &Person<'c>, id: i64, bytes: &[u8]) -> LocalResponse<'c> {
    let boundary = "kanect-bot-avatar";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"logo.png\"\r\n\
         Content-Type: image/png\r\n\r\n",
        staff.csrf
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let content_type =
        ContentType::new("multipart", "form-data").with_params(("boundary", boundary));
    staff
        .request(staff.app.client.post(format!("/admin/users/{id}/avatar/")))
        .header(content_type)
        .body(body)
        .dispatch()
        .await
}

#[rocket::async_test]
async fn staff_give_a_bot_an_avatar_that_members_see_and_can_take_it_away() {
    let app = TestApp::new().await;
    let root = app.admin("root", "superuser").await;
    let alice = app.signup("alice").await;
    let (bot, _) = make_bot(&root, "ci-bot", "").await;
    let group = alice.group("Builds", &["ci-bot"]).await;
    let bot_page = root
        .page(&format!("/admin/users/{bot}/change/"), Status::Ok)
        .await;
    assert!(
        bot_page.contains(&format!("/admin/users/{bot}/avatar/")),
        "a link to it"
    );

    let refused = upload_avatar(&root, bot, b"not a picture").await;
    assert_eq!(refused.status(), Status::Ok, "the page again");
    let page = unescape(&refused.into_string().await.unwrap_or_default());
    assert!(page.contains("not an image"), "{page}");

    let uploaded = upload_avatar(&root, bot, &crate::common::images::png(400, 300)).await;
    assert_eq!(uploaded.status(), Status::SeeOther);
    let avatar_of_bot = |chat: &Value| {
        chat["profiles"]
            .as_array()
            .and_then(|all| all.iter().find(|p| p["username"] == "ci-bot"))
            .map(|p| p["avatar_url"].clone())
    };
    let url = avatar_of_bot(&alice.chat(group).await).expect("the bot's profile");
    let url = url.as_str().expect("an avatar URL").to_owned();
    let picture = alice.get(&url).await;
    assert_eq!(picture.status(), Status::Ok);
    let served = picture.content_type().map(|t| t.to_string());
    assert!(served.is_some_and(|t| t.starts_with("image/")), "an image");

    // Members may not; removing brings the initials back.
    let by_member = upload_avatar(&alice, bot, &crate::common::images::png(64, 64)).await;
    assert_eq!(by_member.status(), Status::Forbidden);
    let removed = root
        .post_form(&format!("/admin/users/{bot}/avatar/remove/"), &[])
        .await;
    assert_eq!(removed.status(), Status::SeeOther);
    assert_eq!(avatar_of_bot(&alice.chat(group).await), Some(Value::Null));
    // Only bots have this page.
    root.page(
        &format!("/admin/users/{}/avatar/", alice.id),
        Status::NotFound,
    )
    .await;
}
