//! Profiles: display names, email changes, preferences, avatars and a person's own
//! password change (issue 17, items 3 and 4).

use crate::common;

use common::images::{png, png_claiming};
use common::{expect_invalid, header, multipart, Person, TestApp, PASSWORD};
use rocket::http::{ContentType, Status};
use serde_json::{json, Value};

async fn me(person: &Person<'_>) -> Value {
    person.get_json("/api/me", Status::Ok).await
}

async fn set_avatar<'a>(
    person: &Person<'a>,
    bytes: &[u8],
) -> rocket::local::asynchronous::LocalResponse<'a> {
    let (content_type, body) = multipart("me.png", bytes);
    person
        .send_raw("PUT", "/api/me/avatar", content_type, body)
        .await
}

/// The body of a successful `GET`.
async fn fetched(person: &Person<'_>, path: &str) -> (Vec<u8>, Option<String>, Option<String>) {
    let response = person.get(path).await;
    assert_eq!(response.status(), Status::Ok, "GET {path}");
    let cache = header(&response, "Cache-Control");
    let kind = response.content_type().map(|ct| ct.to_string());
    (response.into_bytes().await.expect("bytes"), cache, kind)
}

#[rocket::async_test]
async fn a_display_name_is_trimmed_and_shown_and_null_shows_the_username_again() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    assert_eq!(me(&alice).await["display_name"], "alice");

    let response = alice
        .patch("/api/me", json!({ "display_name": "  Ada Lovelace " }))
        .await;
    assert_eq!(response.status(), Status::Ok);
    let changed: Value = response.into_json().await.expect("me");
    assert_eq!(changed["display_name"], "Ada Lovelace");
    assert_eq!(changed["username"], "alice");
    assert_eq!(me(&alice).await["display_name"], "Ada Lovelace");

    let longest = "é".repeat(64);
    let response = alice
        .patch("/api/me", json!({ "display_name": longest }))
        .await;
    assert_eq!(response.status(), Status::Ok);

    let response = alice
        .patch("/api/me", json!({ "display_name": null }))
        .await;
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(me(&alice).await["display_name"], "alice");
}

#[rocket::async_test]
async fn a_display_name_of_spaces_control_characters_or_65_characters_is_422() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    alice
        .patch("/api/me", json!({ "display_name": "Ada" }))
        .await;
    for bad in [
        "".to_owned(),
        "    ".to_owned(),
        "\u{200B}\u{3000}".to_owned(),
        "Ada\u{7}".to_owned(),
        "two\nlines".to_owned(),
        "\u{202E}gpj.exe".to_owned(),
        "x".repeat(65),
    ] {
        let response = alice.patch("/api/me", json!({ "display_name": bad })).await;
        expect_invalid(response, "display_name").await;
    }
    assert_eq!(
        me(&alice).await["display_name"],
        "Ada",
        "nothing was changed"
    );
}

#[rocket::async_test]
async fn the_email_changes_when_valid_as_at_sign_up() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let response = alice
        .patch("/api/me", json!({ "email": " ada@example.org " }))
        .await;
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(me(&alice).await["email"], "ada@example.org");
    for bad in ["not-an-email", "a@b", "a b@example.org", "@example.org"] {
        let response = alice.patch("/api/me", json!({ "email": bad })).await;
        expect_invalid(response, "email").await;
    }
    assert_eq!(me(&alice).await["email"], "ada@example.org");
    // Optional, as at sign-up.
    let response = alice.patch("/api/me", json!({ "email": "" })).await;
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(me(&alice).await["email"], "");
}

#[rocket::async_test]
async fn preferences_are_kept_on_the_server_and_follow_the_person_to_another_browser() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    assert_eq!(
        me(&alice).await["preferences"],
        json!({ "notifications": true, "sound": false, "theme": "system", "enter_sends": true })
    );
    let response = alice
        .patch(
            "/api/me",
            json!({ "preferences": { "theme": "dark", "enter_sends": false } }),
        )
        .await;
    assert_eq!(response.status(), Status::Ok);

    let elsewhere = app.login("alice", PASSWORD).await;
    assert_eq!(
        me(&elsewhere).await["preferences"],
        json!({ "notifications": true, "sound": false, "theme": "dark", "enter_sends": false })
    );
    // A change of one keeps the others.
    elsewhere
        .patch("/api/me", json!({ "preferences": { "sound": true } }))
        .await;
    let preferences = me(&alice).await["preferences"].clone();
    assert_eq!(
        (preferences["sound"].clone(), preferences["theme"].clone()),
        (json!(true), json!("dark"))
    );
}

#[rocket::async_test]
async fn unknown_preferences_and_wrong_types_are_422_and_change_nothing() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    for bad in [
        json!({ "preferences": { "colour": "red" } }),
        json!({ "preferences": { "theme": "blue" } }),
        json!({ "preferences": { "theme": 1 } }),
        json!({ "preferences": { "sound": "yes" } }),
        json!({ "preferences": { "enter_sends": null, "notifications": 0 } }),
        json!({ "preferences": ["dark"] }),
        json!({ "preferences": "dark" }),
    ] {
        let response = alice.patch("/api/me", bad.clone()).await;
        assert_eq!(response.status(), Status::UnprocessableEntity, "{bad}");
        let body = expect_invalid(response, "preferences").await;
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(
            !message.contains("red") && !message.contains("blue"),
            "{bad}: {message}"
        );
    }
    let response = alice
        .patch("/api/me", json!({ "username": "mallory" }))
        .await;
    assert_eq!(
        response.status(),
        Status::UnprocessableEntity,
        "no field outside the profile"
    );
    assert_eq!(me(&alice).await["preferences"]["theme"], "system");
    assert_eq!(me(&alice).await["username"], "alice");
}

#[rocket::async_test]
async fn the_theme_is_rendered_on_every_page_so_nothing_flashes() {
    let app = TestApp::new().await;
    let alice = app.admin("alice", "superuser").await;
    for page in ["/", "/account", "/admin/", "/admin/users/"] {
        let html = alice.page(page, Status::Ok).await;
        assert!(html.contains(r#"data-theme="system""#), "{page}");
    }
    alice
        .patch("/api/me", json!({ "preferences": { "theme": "dark" } }))
        .await;
    for page in ["/", "/account", "/admin/", "/admin/users/"] {
        let html = alice.page(page, Status::Ok).await;
        assert!(
            html.contains(r#"<html lang="en" class="h-full" data-theme="dark">"#),
            "{page}"
        );
        assert!(
            html.contains(r#"<meta name="color-scheme" content="dark">"#),
            "{page}"
        );
    }
    let missing = alice.get("/chats/999999").await;
    assert_eq!(missing.status(), Status::NotFound);
    let html = missing.into_string().await.unwrap_or_default();
    assert!(html.contains(r#"data-theme="dark""#), "the error page too");
    let login = app.client.get("/login").dispatch().await;
    let html = login.into_string().await.unwrap_or_default();
    assert!(
        html.contains(r#"data-theme="system""#),
        "signed out: the browser's own"
    );
}

#[rocket::async_test]
async fn an_avatar_is_cut_square_at_256_px_reencoded_and_served_under_a_url_that_changes() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let chat = alice.chat_with("bob").await;
    alice.say(chat, "before").await;

    let uploaded = png(600, 300);
    let response = set_avatar(&alice, &uploaded).await;
    assert_eq!(response.status(), Status::Ok);
    let first: Value = response.into_json().await.expect("me");
    let url = first["avatar_url"]
        .as_str()
        .expect("an avatar url")
        .to_owned();
    assert!(url.starts_with(&format!("/avatars/{}/", alice.id)), "{url}");

    let (bytes, cache, _) = fetched(&bob, &url).await;
    assert_ne!(bytes, uploaded, "never the uploaded bytes");
    let picture = image::load_from_memory(&bytes).expect("an image");
    assert_eq!((picture.width(), picture.height()), (256, 256));
    assert_eq!(
        cache.as_deref(),
        Some("private, max-age=31536000, immutable")
    );
    let anonymous = app.anonymous("GET", &url).await;
    assert_ne!(anonymous.status(), Status::Ok, "signed-in people only");

    // Everyone sees it: the people list, message senders (history, a send, the stream).
    let cursor = bob.cursor_now().await;
    let people = bob.get_json("/api/users", Status::Ok).await;
    let listed = people
        .as_array()
        .and_then(|p| p.iter().find(|p| p["username"] == "alice").cloned())
        .expect("alice listed");
    assert_eq!(listed["avatar_url"], url.as_str());
    let history = bob.history(chat, "").await;
    assert_eq!(history["messages"][0]["sender_avatar_url"], url.as_str());
    let sent = alice.say(chat, "after").await;
    assert_eq!(sent["sender_avatar_url"], url.as_str());
    let update = bob.poll(cursor, 0).await;
    let message = common::events(&update)
        .iter()
        .find(|e| e["type"] == "message")
        .expect("the new message");
    assert_eq!(message["message"]["sender_avatar_url"], url.as_str());
    let listed = bob.chat(chat).await;
    assert_eq!(listed["last_message"]["sender_avatar_url"], url.as_str());

    // A new avatar is a new URL; the old one is gone.
    let response = set_avatar(&alice, &png(300, 900)).await;
    let second: Value = response.into_json().await.expect("me");
    assert_ne!(second["avatar_url"], first["avatar_url"]);
    assert_eq!(bob.get(&url).await.status(), Status::NotFound);

    let response = alice.send("DELETE", "/api/me/avatar", json!({})).await;
    assert_eq!(response.status(), Status::NoContent);
    assert_eq!(me(&alice).await["avatar_url"], Value::Null);
    assert_eq!(app.count("SELECT count(*) FROM avatars").await, 0);
}

#[rocket::async_test]
async fn what_is_not_an_image_or_is_too_large_is_422_and_nothing_is_stored() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "text",
            b"hello, I am not a picture".to_vec(),
            "not an image",
        ),
        (
            "html",
            b"\x89PNG\r\n\x1a\n<html><script>alert(1)</script>".to_vec(),
            "not an image",
        ),
        // 50 megapixels: refused from the header, before a pixel is decoded.
        ("50 MP", png_claiming(7072, 7072), "too large"),
        ("huge header", png_claiming(100_000, 100_000), "too large"),
    ];
    for (what, bytes, says) in cases {
        let response = set_avatar(&alice, &bytes).await;
        let body = expect_invalid(response, "file").await;
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{what}: {message}");
    }
    let (content_type, _) = multipart("x", b"");
    let empty = alice
        .send_raw("PUT", "/api/me/avatar", content_type, "--x--")
        .await;
    assert!(empty.status().code >= 400);
    let not_multipart = alice
        .send_raw("PUT", "/api/me/avatar", ContentType::PNG, png(10, 10))
        .await;
    assert_eq!(not_multipart.status(), Status::BadRequest);
    assert_eq!(me(&alice).await["avatar_url"], Value::Null);
    assert_eq!(app.count("SELECT count(*) FROM avatars").await, 0);
}

#[rocket::async_test]
async fn a_new_name_or_avatar_reaches_the_open_tabs_of_people_who_share_a_chat() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let carol = app.signup("carol").await;
    let chat = alice.chat_with("bob").await;
    let (bob_at, carol_at) = (bob.cursor_now().await, carol.cursor_now().await);

    alice
        .patch("/api/me", json!({ "display_name": "Ada" }))
        .await;

    let update = bob.poll(bob_at, 5).await;
    let event = common::events(&update)
        .iter()
        .find(|e| e["type"] == "chat" && e["chat_id"] == chat)
        .unwrap_or_else(|| panic!("a chat event in {update}"));
    let profiles = event["chat"]["profiles"].as_array().expect("profiles");
    let shown = profiles
        .iter()
        .find(|p| p["username"] == "alice")
        .expect("alice's profile");
    assert_eq!(shown["display_name"], "Ada");
    assert_eq!(shown["avatar_url"], Value::Null);
    let update = carol.poll(carol_at, 0).await;
    assert!(
        common::events(&update).is_empty(),
        "no chat with alice: {update}"
    );
    // Her messages carry the new name.
    let sent = alice.say(chat, "hello").await;
    assert_eq!(sent["sender_display_name"], "Ada");
    assert_eq!(
        bob.history(chat, "").await["messages"][0]["sender_display_name"],
        "Ada"
    );
}

#[rocket::async_test]
async fn changing_the_password_ends_the_other_sessions_and_keeps_this_one() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let phone = app.login("alice", PASSWORD).await;
    assert_eq!(phone.get("/api/me").await.status(), Status::Ok);
    let new = "seven-otters-juggle-plums";

    let response = alice
        .post(
            "/api/me/password",
            json!({ "current": PASSWORD, "password1": new, "password2": new }),
        )
        .await;
    assert_eq!(response.status(), Status::NoContent);

    assert_eq!(
        phone.get("/api/me").await.status(),
        Status::Unauthorized,
        "signed out at once"
    );
    assert_eq!(
        alice.get("/api/me").await.status(),
        Status::Ok,
        "this session stays"
    );
    assert_eq!(app.count("SELECT count(*) FROM sessions").await, 1);
    app.login("alice", new).await;
    let old = app.visitor("/login").await;
    let refused = old
        .post_form("/login", &[("username", "alice"), ("password", PASSWORD)])
        .await;
    assert_eq!(
        refused.status(),
        Status::Ok,
        "the old password no longer signs in"
    );
}

#[rocket::async_test]
async fn the_new_password_follows_the_sign_up_policy() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    for (password1, password2, field) in [
        ("short", "short", "password1"),
        ("12345678901", "12345678901", "password1"),
        ("password", "password", "password1"),
        ("alice-alice", "alice-alice", "password1"),
        (
            "seven-otters-juggle-plums",
            "seven-otters-juggle-plumz",
            "password2",
        ),
    ] {
        let response = alice
            .post(
                "/api/me/password",
                json!({ "current": PASSWORD, "password1": password1, "password2": password2 }),
            )
            .await;
        expect_invalid(response, field).await;
    }
    app.login("alice", PASSWORD).await;
}

#[rocket::async_test]
async fn a_wrong_current_password_is_422_on_current_and_counted_by_the_sign_in_throttle() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let new = "seven-otters-juggle-plums";
    for _ in 0..5 {
        let response = alice
            .post(
                "/api/me/password",
                json!({ "current": "not-my-password", "password1": new, "password2": new }),
            )
            .await;
        expect_invalid(response, "current").await;
    }
    // The right one now waits too: five wrong guesses were made at this account.
    let response = alice
        .post(
            "/api/me/password",
            json!({ "current": PASSWORD, "password1": new, "password2": new }),
        )
        .await;
    assert_eq!(response.status(), Status::TooManyRequests);
    assert!(header(&response, "Retry-After").is_some());
    // And so does signing in to it from a browser it does not know.
    let visitor = app.visitor("/login").await;
    let throttled = visitor
        .post_form("/login", &[("username", "alice"), ("password", PASSWORD)])
        .await;
    assert_eq!(throttled.status(), Status::TooManyRequests);
}

#[rocket::async_test]
async fn the_account_page_forms_change_the_profile_preferences_and_password() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let phone = app.login("alice", PASSWORD).await;

    let saved = alice
        .post_form(
            "/account/profile",
            &[
                ("display_name", "Ada Lovelace"),
                ("email", "ada@example.org"),
            ],
        )
        .await;
    let page = alice.follow(saved).await;
    assert!(page.contains("Your profile was saved."), "{page}");
    assert!(page.contains(r#"value="Ada Lovelace""#));
    assert_eq!(me(&alice).await["email"], "ada@example.org");

    let refused = alice
        .post_form(
            "/account/profile",
            &[("display_name", &"x".repeat(65)), ("email", "nope")],
        )
        .await;
    assert_eq!(refused.status(), Status::Ok);
    let page = refused.into_string().await.unwrap_or_default();
    assert!(page.contains("at most 64 characters"), "{page}");
    assert!(page.contains("Enter a valid email address."));
    assert_eq!(me(&alice).await["display_name"], "Ada Lovelace");

    let saved = alice
        .post_form(
            "/account/preferences",
            &[("theme", "dark"), ("sound", "true")],
        )
        .await;
    assert_eq!(saved.status(), Status::SeeOther);
    assert_eq!(
        me(&alice).await["preferences"],
        json!({ "notifications": false, "sound": true, "theme": "dark", "enter_sends": false })
    );
    assert!(alice
        .page("/", Status::Ok)
        .await
        .contains(r#"data-theme="dark""#));

    let wrong = alice
        .post_form(
            "/account/password",
            &[("current", "nope"), ("password1", "x"), ("password2", "x")],
        )
        .await;
    assert_eq!(wrong.status(), Status::Ok);
    let page = wrong.into_string().await.unwrap_or_default();
    assert!(
        page.contains("Your current password was entered incorrectly."),
        "{page}"
    );
    let new = "seven-otters-juggle-plums";
    let changed = alice
        .post_form(
            "/account/password",
            &[
                ("current", PASSWORD),
                ("password1", new),
                ("password2", new),
            ],
        )
        .await;
    assert_eq!(changed.status(), Status::SeeOther);
    assert_eq!(phone.get("/api/me").await.status(), Status::Unauthorized);
    assert_eq!(alice.get("/api/me").await.status(), Status::Ok);
}

#[rocket::async_test]
async fn the_admin_shows_people_by_display_name_with_their_avatar_or_initials() {
    let app = TestApp::new().await;
    let root = app.admin("root", "superuser").await;
    let alice = app.signup("alice").await;
    app.signup("bob").await;
    alice
        .patch("/api/me", json!({ "display_name": "Ada Lovelace" }))
        .await;
    let response = set_avatar(&alice, &png(64, 64)).await;
    let url = response.into_json::<Value>().await.expect("me")["avatar_url"]
        .as_str()
        .expect("an avatar")
        .to_owned();

    let list = root.page("/admin/users/", Status::Ok).await;
    assert!(list.contains("Ada Lovelace"), "{list}");
    assert!(list.contains(&format!(r#"<img src="{url}""#)), "her avatar");
    assert!(
        list.contains(">B</span><bdi>bob</bdi>"),
        "bob's initials: {list}"
    );
    let found = root.page("/admin/users/?q=lovelace", Status::Ok).await;
    assert!(found.contains("Ada Lovelace") && !found.contains("<bdi>bob</bdi>"));
    let form = root
        .page(&format!("/admin/users/{}/change/", alice.id), Status::Ok)
        .await;
    assert!(form.contains("Ada Lovelace"), "the change form shows it");
}
