//! The chat page as people use it: live delivery between two browsers, unread badges,
//! presence, archiving, groups, history, the keyboard, hostile text, the console.

use std::time::{Duration, Instant};

use serde_json::json;

use super::web::{group, say, Kanect, Window, DESKTOP, ENTER, NULL, SHIFT};

/// The spec's promise for delivery to an open window.
const LIVE: Duration = Duration::from_secs(1);

fn badge(person: &str, unread: u32) -> String {
    format!("{} [aria-label='{unread} unread']", Window::person(person))
}

#[tokio::test]
async fn alice_and_bob_chat_live_with_unread_badges_and_online_dots() {
    let Some(app) = Kanect::start() else { return };
    app.member("alice");
    app.member("bob");
    let mut carol = app.member("carol");
    app.member("dave");
    // Someone else's group with news in it, so the page looks lived in.
    let design = group(&mut carol, "Design review", &["alice", "bob", "dave"]);
    say(
        &mut carol,
        design,
        "Mock-ups for the onboarding flow are up.",
    );
    say(&mut carol, design, "@alice comments by Thursday, please.");

    let alice = app.signed_in("alice", DESKTOP).await;
    // No conversation with Bob yet: "New message" lists him. He has not opened Kanect
    // yet: a grey dot. He signs in; Alice's page turns it green with no reload.
    alice.click("#new-message").await;
    let bob_row = Window::person_option("bob");
    alice
        .wait_visible(&format!("{bob_row} [data-presence=offline]"))
        .await;
    let bob = app.signed_in("bob", DESKTOP).await;
    alice
        .wait_visible(&format!("{bob_row} [data-presence=online]"))
        .await;
    alice.wait_text(&bob_row, "Online").await;

    // Picking him opens the conversation; only the first message makes the chat.
    alice.click(&bob_row).await;
    alice.wait_text("#chat-title", "bob").await;
    assert!(
        alice.find_all(&Window::person("bob")).await.is_empty(),
        "no chat with Bob in the list before anything is said"
    );
    let first = "Morning Bob! Do you have a minute for the release notes?";
    alice.send(first).await;
    alice.wait_message(first).await;
    alice
        .wait_visible(&format!("{} [data-presence=online]", Window::person("bob")))
        .await;
    // Bob is elsewhere: the message waits for him behind an unread badge.
    bob.wait_visible(&badge("alice", 1)).await;
    bob.open_chat_with("alice").await;
    bob.wait_message(first).await;
    bob.wait_hidden(&badge("alice", 1)).await;

    let conversation = [
        (
            &bob,
            &alice,
            "Sure. I drafted them yesterday, just need a second pair of eyes.",
        ),
        (
            &alice,
            &bob,
            "Great, send them over and I'll read them before standup.",
        ),
        (
            &bob,
            &alice,
            "Done: check the doc called release-2.4 in the team folder.",
        ),
        (
            &alice,
            &bob,
            "Got it. The migration section reads well, one typo in the intro.",
        ),
        (&bob, &alice, "Thanks! Fixed. Shall we ship at 3?"),
    ];
    for (from, to, text) in conversation {
        // Typing takes as long as it takes; the clock starts with the Enter key.
        let composer = from.wait_visible("#composer-input").await;
        composer.send_keys(text).await.expect("typing");
        let sent = Instant::now();
        composer.send_keys(&ENTER.to_string()).await.expect("Enter");
        to.wait_message(text).await;
        let took = sent.elapsed();
        println!("delivered in {took:?}: {text:?}");
        assert!(
            took < LIVE,
            "{text:?} took {took:?} to reach the other window"
        );
    }
    // Both have the chat open and in view: no unread badge anywhere.
    alice.wait_hidden(&badge("bob", 1)).await;
    assert!(alice
        .find_all(&format!("{} .badge", Window::person("bob")))
        .await
        .is_empty());

    // What a lived-in chat shows besides words: reactions, formatting, read ticks.
    bob.message_action(
        "Got it. The migration section reads well, one typo in the intro.",
        "[data-quick='👍']",
    )
    .await;
    alice
        .message_action("Thanks! Fixed. Shall we ship at 3?", "[data-quick='🎉']")
        .await;
    alice
        .send("**Yes**, ship at 3. I'll tag `v2.4` after the smoke test.")
        .await;
    bob.wait_text(
        "#message-list li[data-id]:last-child [data-message-body] strong",
        "Yes",
    )
    .await;
    alice
        .message_action(
            "Yes, ship at 3. I'll tag v2.4 after the smoke test.",
            "[data-action=edit]",
        )
        .await;
    alice
        .fill(
            "#message-list [data-edit-input]",
            "**Yes**, ship at 3. I'll tag `v2.4` once the smoke test passes.",
        )
        .await;
    alice.send_keys_to_focus(&ENTER.to_string()).await;
    bob.wait_message("Yes, ship at 3. I'll tag v2.4 once the smoke test passes.")
        .await;
    let last_tick = "#message-list li[data-id]:last-child [data-receipt=read]";
    alice.wait_visible(last_tick).await;
    alice
        .wait_visible("#message-list [data-reactions] [data-emoji='👍']")
        .await;
    alice.click("#composer-input").await;
    alice.wait_toolbars_hidden().await;
    alice.screenshot("chat-desktop").await;
    alice.assert_console_clean();
    bob.assert_console_clean();
}

#[tokio::test]
async fn enter_sends_shift_enter_breaks_the_line_and_markup_stays_text() {
    let Some(app) = Kanect::start() else { return };
    let (alice, bob) = app.alice_and_bob_in_their_chat().await;

    let composer = alice.wait_visible("#composer-input").await;
    composer
        .send_keys(&format!("Agenda:{SHIFT}{ENTER}{NULL}1. the release"))
        .await
        .expect("typing");
    assert_eq!(
        composer.prop("value").await.expect("the draft").as_deref(),
        Some("Agenda:\n1. the release"),
        "Shift+Enter adds a line"
    );
    assert!(
        alice
            .find_all("#message-list [data-message-body]")
            .await
            .is_empty(),
        "nothing sent yet"
    );
    composer.send_keys(&ENTER.to_string()).await.expect("Enter");
    bob.wait_message("Agenda:\n1. the release").await;
    alice
        .wait_js(
            "the composer to empty",
            "return document.getElementById('composer-input').value === ''",
            vec![],
        )
        .await;

    let payload = r#"<img src=x onerror="document.title='pwned'"><script>document.title='pwned'</script><b>bold?</b>"#;
    alice.send(payload).await;
    bob.wait_message(payload).await;
    for window in [&alice, &bob] {
        let markup = window
            .js(
                "return document.querySelectorAll('#message-list img, #message-list script, #message-list b, #sidebar img, #sidebar b').length",
                vec![],
            )
            .await;
        assert_eq!(markup, json!(0), "the payload became markup");
        assert_ne!(window.title().await.expect("a title"), "pwned");
    }
    alice.assert_console_clean();
    bob.assert_console_clean();
}

#[tokio::test]
async fn archiving_a_chat_files_it_away_until_a_new_message_arrives() {
    let Some(app) = Kanect::start() else { return };
    app.member("alice");
    let mut bob = app.member("bob");
    let chat = bob.chat_with("alice");
    say(&mut bob, chat, "Lunch on Friday?");

    let alice = app.signed_in("alice", DESKTOP).await;
    let active = format!("#chat-list button[data-key='chat:{chat}']");
    let archived = format!("#archived-list button[data-key='chat:{chat}']");
    alice.click(&active).await;
    alice.wait_message("Lunch on Friday?").await;
    alice
        .click("#archive-button[aria-label='Archive this chat']")
        .await;
    alice
        .wait_visible("#archive-button[aria-label='Unarchive this chat']")
        .await;
    alice.wait_hidden(&active).await;
    alice.click("#show-archived").await;
    alice.wait_visible(&archived).await;

    // It is Alice's view on the server, not just on this page.
    alice.refresh().await.expect("a reload");
    alice.wait_chat_ready().await;
    alice.wait_hidden(&active).await;
    alice.click("#show-archived").await;
    alice.wait_visible(&archived).await;

    say(&mut bob, chat, "Or Monday, if Friday is busy.");
    alice.wait_visible(&active).await;
    alice.wait_hidden(&archived).await;
    alice.assert_console_clean();
}

#[tokio::test]
async fn a_group_chat_reaches_every_member() {
    let Some(app) = Kanect::start() else { return };
    app.member("alice");
    app.member("bob");
    app.member("carol");
    let alice = app.signed_in("alice", DESKTOP).await;
    let bob = app.signed_in("bob", DESKTOP).await;

    alice.click("#new-group").await;
    alice.wait_visible("#group-dialog").await;
    alice.fill("#group-title", "Launch crew").await;
    alice.click("#group-members input[value='bob']").await;
    alice.click("#group-members input[value='carol']").await;
    alice.click("#group-submit").await;
    alice.wait_hidden("#group-dialog").await;
    alice.wait_text("#chat-title", "Launch crew").await;
    alice.wait_text("#chat-members", "3 members").await;
    let path = alice.path().await;
    let chat = path.strip_prefix("/chats/").expect("the group's address");

    alice
        .send("Welcome aboard! Kick-off is tomorrow at 10.")
        .await;
    // Bob did nothing: the new group turns up in his list, unread.
    let item = format!("#chat-list button[data-key='chat:{chat}']");
    bob.wait_text(&item, "Launch crew").await;
    bob.wait_visible(&format!("{item} [aria-label='1 unread']"))
        .await;
    bob.click(&item).await;
    bob.wait_message("Welcome aboard! Kick-off is tomorrow at 10.")
        .await;
    // In a group, each message says who sent it.
    bob.wait_text("#message-list li[data-sender='alice']", "alice")
        .await;

    bob.send("Count me in.").await;
    alice.wait_message("Count me in.").await;
    alice
        .wait_text("#message-list li[data-sender='bob']", "bob")
        .await;
    alice.assert_console_clean();
    bob.assert_console_clean();
}

#[tokio::test]
async fn older_history_pages_in_as_the_reader_scrolls_up() {
    let Some(app) = Kanect::start() else { return };
    app.member("alice");
    let mut bob = app.member("bob");
    let chat = bob.chat_with("alice");
    for n in 1..=120 {
        say(&mut bob, chat, &format!("History message {n}"));
    }

    let alice = app.signed_in("alice", DESKTOP).await;
    alice
        .click(&format!("#chat-list button[data-key='chat:{chat}']"))
        .await;
    alice.wait_message("History message 120").await;
    let shown = "return document.querySelectorAll('#message-list li[data-id]').length";
    assert_eq!(
        alice.js(shown, vec![]).await,
        json!(50),
        "the latest page first"
    );
    assert_eq!(
        alice.js("const s = document.getElementById('message-scroller'); return s.scrollHeight - s.scrollTop - s.clientHeight < 2", vec![]).await,
        json!(true),
        "opened at the bottom"
    );

    for expected in [100, 120] {
        alice
            .js(
                "document.getElementById('message-scroller').scrollTop = 0",
                vec![],
            )
            .await;
        alice
            .wait_js(
                &format!("{expected} messages after scrolling up"),
                &format!("{shown} === {expected}"),
                vec![],
            )
            .await;
        // The older page went in above without throwing the reader to its top.
        let top = alice
            .js(
                "return document.getElementById('message-scroller').scrollTop",
                vec![],
            )
            .await;
        assert!(
            top.as_f64().unwrap_or(0.0) > 500.0,
            "scroll position kept, got {top}"
        );
    }
    alice.wait_visible("#history-start").await;
    let first = alice
        .js(
            "return document.querySelector('#message-list [data-message-body]').textContent",
            vec![],
        )
        .await;
    assert_eq!(first, json!("History message 1"));
    alice.assert_console_clean();
}

#[tokio::test]
async fn the_console_check_sees_a_csp_violation() {
    let Some(app) = Kanect::start() else { return };
    app.member("alice");
    let alice = app.signed_in("alice", DESKTOP).await;
    alice.assert_console_clean();
    // An inline script, as an injection would add: the CSP must block it, and the
    // check the other scenarios rely on must see that it did.
    let ran = alice
        .js(
            "const s = document.createElement('script'); s.textContent = 'window.injected = true'; \
             document.body.append(s); return window.injected === true",
            vec![],
        )
        .await;
    assert_eq!(ran, json!(false), "the CSP let an inline script run");
    // The report reaches the log a moment later.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut seen = Vec::new();
    while !seen
        .iter()
        .any(|p: &String| p.contains("Content Security Policy"))
    {
        assert!(
            Instant::now() < deadline,
            "the violation was not reported: {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
        seen.extend(alice.console_problems(&[]));
    }
}
