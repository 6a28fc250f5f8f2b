//! Profiles in the browser: a display name and an avatar set on /account reach another
//! person's open tab; the dark theme on the chat, the account page, the admin and the
//! error page (axe in dark too); and Ctrl+Enter sending for those who chose it.

use serde_json::json;

use super::axe;
use super::web::{group, say, Kanect, Window, CONTROL, DESKTOP, ENTER, NULL, ROOT_PASSWORD};

/// A photo-like PNG, wider than tall, written where the browser can pick it.
fn picture(dir: &std::path::Path) -> std::path::PathBuf {
    let image = image::RgbImage::from_fn(480, 320, |x, y| {
        image::Rgb([(x / 2 % 256) as u8, (y / 2 % 256) as u8, 190])
    });
    let path = dir.join("ada.png");
    image.save(&path).expect("the picture is written");
    path
}

/// The page's background, as "r,g,b".
async fn background(window: &Window, css: &str) -> String {
    window
        .js(
            "const c = getComputedStyle(document.querySelector(arguments[0])).backgroundColor; \
             return c.replace(/[^0-9,]/g, '').split(',').slice(0, 3).join(',')",
            vec![json!(css)],
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Whether "r,g,b" is a dark colour (relative luminance well under the middle).
fn is_dark(rgb: &str) -> bool {
    let parts: Vec<f64> = rgb
        .split(',')
        .filter_map(|p| p.trim().parse().ok())
        .collect();
    parts.len() == 3 && parts.iter().sum::<f64>() / 3.0 < 80.0
}

#[tokio::test]
async fn a_display_name_and_avatar_set_on_the_account_page_show_in_another_persons_open_chat() {
    let Some(app) = Kanect::start() else { return };
    let mut alice = app.member("alice");
    app.member("bob");
    let direct = alice.chat_with("bob");
    say(&mut alice, direct, "Lunch at one?");
    let crew = group(&mut alice, "Launch crew", &["bob"]);
    say(&mut alice, crew, "The slides are ready.");
    let bob = app.signed_in("bob", DESKTOP).await;
    bob.click(&format!("#chat-list button[data-key='chat:{crew}']"))
        .await;
    bob.wait_message("The slides are ready.").await;

    let ada = app.signed_in("alice", DESKTOP).await;
    ada.goto("/account").await;
    ada.fill("#id_display_name", "Ada Lovelace").await;
    ada.click("form[action='/account/profile'] button[type=submit]")
        .await;
    ada.wait_text("[role=status]", "Your profile was saved.")
        .await;
    let folder = tempfile_dir();
    let file = picture(&folder);
    ada.find("#avatar-file")
        .await
        .send_keys(&file.display().to_string())
        .await
        .expect("a file is picked");
    ada.wait_visible("#avatar-preview").await;
    ada.click("#avatar-upload").await;
    ada.wait_visible("img[data-avatar]").await;
    let size = ada
        .wait_js(
            "the avatar has loaded",
            "const i = document.querySelector('img[data-avatar]'); \
             return i.complete && i.naturalWidth ? [i.naturalWidth, i.naturalHeight] : null",
            vec![],
        )
        .await;
    assert_eq!(size, json!([256, 256]), "cut square at 256 px");

    // bob's tab learns both from the event stream, without a reload.
    bob.wait_js(
        "alice's name and picture on her message",
        "const head = document.querySelector('#message-list [data-run-head]'); \
         return !!head && head.textContent.includes('Ada Lovelace') \
                && !!head.querySelector('img[data-sender-avatar=alice]')",
        vec![],
    )
    .await;
    bob.wait_visible("#chat-list button[data-username='alice'] img[data-avatar]")
        .await;
    let title = bob
        .wait_js(
            "the direct chat named after her",
            "const b = document.querySelector(\"#chat-list button[data-username='alice']\"); \
             return b && b.textContent.includes('Ada Lovelace') ? b.textContent : null",
            vec![],
        )
        .await;
    assert!(title.as_str().unwrap_or_default().contains("Ada Lovelace"));
    bob.screenshot("profile").await;
    ada.assert_console_clean();
    bob.assert_console_clean();
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("profile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a folder for the picture");
    dir
}

#[tokio::test]
async fn the_dark_theme_applies_to_the_chat_the_account_the_admin_and_the_error_page() {
    let source = axe::source();
    let Some(app) = Kanect::start() else { return };
    let mut alice = app.member("alice");
    app.member("bob");
    alice.chat_with("bob");
    app.superuser("root");
    let crew = group(&mut alice, "Design review", &["bob", "root"]);
    say(
        &mut alice,
        crew,
        "Morning! The **mock-ups** are in the doc: https://example.com/mock",
    );
    say(&mut alice, crew, "@root can you check the colours?");

    let root = app.window(DESKTOP).await;
    root.sign_in("root", ROOT_PASSWORD).await;
    root.wait_chat_ready().await;
    assert!(
        !is_dark(&background(&root, "#sidebar").await),
        "light by default here"
    );
    root.goto("/account").await;
    root.click("input[name=theme][value=dark]").await;
    root.click("form[action='/account/preferences'] button[type=submit]")
        .await;
    root.wait_text("[role=status]", "Your preferences were saved.")
        .await;
    assert_eq!(
        root.js("return document.documentElement.dataset.theme", vec![])
            .await,
        "dark"
    );
    assert!(
        is_dark(&background(&root, "body").await),
        "the account page is dark"
    );
    if let Some(source) = source {
        axe::assert_clean(&root, source, "the account page (dark)").await;
    }

    root.goto("/").await;
    root.wait_chat_ready().await;
    root.click(&format!("#chat-list button[data-key='chat:{crew}']"))
        .await;
    root.wait_message("@root can you check the colours?").await;
    assert!(
        is_dark(&background(&root, "#sidebar").await),
        "the chat list is dark"
    );
    assert!(
        is_dark(&background(&root, "#app").await),
        "the chat is dark"
    );
    root.screenshot("dark").await;
    if let Some(source) = source {
        axe::assert_clean(&root, source, "the chat with a group open (dark)").await;
    }

    for (page, ready) in [
        ("/admin/", "#main-content a[href='/admin/users/']"),
        ("/admin/users/", "#result_list"),
        ("/admin/users/1/change/", "#id_email"),
    ] {
        root.goto(page).await;
        root.wait_visible(ready).await;
        assert!(is_dark(&background(&root, "body").await), "{page} is dark");
        if let Some(source) = source {
            axe::assert_clean(&root, source, &format!("{page} (dark)")).await;
        }
    }
    root.assert_console_clean();
    root.goto("/chats/999999").await;
    root.wait_visible("#main-content").await;
    assert!(
        is_dark(&background(&root, "body").await),
        "the error page is dark"
    );
    if let Some(source) = source {
        axe::assert_clean(&root, source, "the error page (dark)").await;
    }
    let problems = root.console_problems(&["999999"]);
    assert!(problems.is_empty(), "{problems:?}");
}

#[tokio::test]
async fn with_ctrl_enter_chosen_enter_makes_a_new_line_and_ctrl_enter_sends() {
    let Some(app) = Kanect::start() else { return };
    let mut alice = app.member("alice");
    app.member("bob");
    alice.chat_with("bob");
    let reply = alice.json(
        "PATCH",
        "/api/me",
        &json!({ "preferences": { "enter_sends": false } }),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());

    let window = app.signed_in("alice", DESKTOP).await;
    window.open_chat_with("bob").await;
    let hint = window.text("#composer-hint").await;
    assert!(hint.contains("Ctrl+Enter"), "{hint}");
    let input = window.wait_visible("#composer-input").await;
    input
        .send_keys(&format!("first line{ENTER}second line"))
        .await
        .expect("typing");
    let typed = window
        .js(
            "return document.getElementById('composer-input').value",
            vec![],
        )
        .await;
    assert_eq!(
        typed, "first line\nsecond line",
        "Enter made a new line, sent nothing"
    );
    assert!(window
        .find_all("#message-list [data-message-body]")
        .await
        .is_empty());
    input
        .send_keys(&format!("{CONTROL}{ENTER}{NULL}"))
        .await
        .expect("Ctrl+Enter");
    window
        .wait_js(
            "the two lines sent as one message",
            "return [...document.querySelectorAll('#message-list [data-message-body]')] \
             .some((b) => b.innerText === 'first line\\nsecond line')",
            vec![],
        )
        .await;
    window.assert_console_clean();
}

#[tokio::test]
async fn the_system_theme_follows_the_device_and_a_chosen_one_overrides_it() {
    let source = axe::source();
    let Some(app) = Kanect::start() else { return };
    let mut alice = app.member("alice");
    app.member("bob");
    let chat = alice.chat_with("bob");
    say(&mut alice, chat, "Is it dark where you are?");

    let visitor = app.window(DESKTOP).await;
    visitor.prefer_dark();
    visitor.goto("/login").await;
    visitor.wait_visible("#id_username").await;
    assert!(
        is_dark(&background(&visitor, "body").await),
        "sign-in follows the device"
    );
    if let Some(source) = source {
        axe::assert_clean(&visitor, source, "sign-in (dark device)").await;
    }
    visitor.goto("/signup").await;
    visitor.fill("#id_username", "carol").await;
    visitor.fill("#id_email", "carol-at-example").await;
    visitor.fill("#id_password1", "abc").await;
    visitor.fill("#id_password2", "something-else").await;
    visitor.click("#signup-form button[type=submit]").await;
    visitor.wait_visible("#email-error").await;
    assert!(is_dark(&background(&visitor, "body").await));
    if let Some(source) = source {
        axe::assert_clean(&visitor, source, "sign-up with errors (dark device)").await;
    }

    let bob = app.window(DESKTOP).await;
    bob.prefer_dark();
    bob.sign_in("bob", super::web::PASSWORD).await;
    bob.wait_chat_ready().await;
    assert!(
        is_dark(&background(&bob, "#sidebar").await),
        "`system` is dark here"
    );
    bob.open_chat_with("alice").await;
    if let Some(source) = source {
        axe::assert_clean(&bob, source, "a direct chat (dark device)").await;
    }
    bob.goto("/account").await;
    bob.click("input[name=theme][value=light]").await;
    bob.click("form[action='/account/preferences'] button[type=submit]")
        .await;
    bob.wait_text("[role=status]", "Your preferences were saved.")
        .await;
    assert!(
        !is_dark(&background(&bob, "body").await),
        "light, chosen, wins"
    );
    if let Some(source) = source {
        axe::assert_clean(&bob, source, "the account page (light)").await;
    }
    visitor.assert_console_clean();
    bob.assert_console_clean();
}
