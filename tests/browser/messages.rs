//! A message's life after it is sent, in two browsers at once: edited in place, deleted
//! (by its sender, and in the admin console), reacted to; and its formatting.

use serde_json::json;

use super::web::{say, Kanect, DESKTOP, ENTER, NULL, ROOT_PASSWORD, SHIFT};
use crate::process;

const TAB: char = '\u{E004}';
const ARROW_RIGHT: char = '\u{E014}';

#[tokio::test]
async fn a_message_edited_in_place_changes_in_the_other_window_and_says_edited() {
    let Some(app) = Kanect::start() else { return };
    let (alice, bob) = app.alice_and_bob_in_their_chat().await;
    alice.send("Lunch at 12?").await;
    bob.wait_message("Lunch at 12?").await;

    // Escape leaves the message as it was.
    alice
        .message_action("Lunch at 12?", "[data-action=edit]")
        .await;
    let editor = alice.wait_visible("#message-list [data-edit-input]").await;
    editor.send_keys(" Or later").await.expect("typing");
    editor.send_keys("\u{E00C}").await.expect("Escape");
    alice.wait_hidden("#message-list [data-editor]").await;
    alice.wait_message("Lunch at 12?").await;

    // Enter saves; both windows show the new text and the marker.
    alice
        .message_action("Lunch at 12?", "[data-action=edit]")
        .await;
    alice
        .fill("#message-list [data-edit-input]", "Lunch at 12:30?")
        .await;
    alice
        .find("#message-list [data-edit-input]")
        .await
        .send_keys(&ENTER.to_string())
        .await
        .expect("Enter");
    for window in [&alice, &bob] {
        window.wait_message("Lunch at 12:30?").await;
        let item = window.message_item("Lunch at 12:30?").await;
        window
            .wait_text(&format!("{item} [data-edited]"), "edited")
            .await;
        assert!(!window
            .message_texts()
            .await
            .contains(&"Lunch at 12?".into()));
    }

    // Someone else's message offers no edit; in an empty composer ArrowUp edits one's last.
    bob.send("Works for me").await;
    alice.wait_message("Works for me").await;
    let theirs = alice.message_item("Works for me").await;
    assert!(alice
        .find_all(&format!("{theirs} [data-action=edit]"))
        .await
        .is_empty());
    alice.click("#composer-input").await;
    alice
        .find("#composer-input")
        .await
        .send_keys("\u{E013}")
        .await
        .expect("ArrowUp");
    let editor = alice.wait_visible("#message-list [data-edit-input]").await;
    assert_eq!(
        editor.prop("value").await.expect("the text").as_deref(),
        Some("Lunch at 12:30?")
    );
    editor.send_keys("\u{E00C}").await.expect("Escape");
    alice.wait_hidden("#message-list [data-editor]").await;
    alice.assert_console_clean();
    bob.assert_console_clean();
}

#[tokio::test]
async fn a_deleted_message_leaves_every_open_tab_also_when_deleted_in_the_admin_console() {
    let Some(app) = Kanect::start() else { return };
    app.superuser("root");
    app.member("alice");
    let mut bob = app.member("bob");
    let chat = bob.chat_with("alice");
    let by_bob = say(&mut bob, chat, "This one breaks the rules");
    let alice = app.signed_in("alice", DESKTOP).await;
    let alice_too = app.signed_in("alice", DESKTOP).await; // a second tab of hers
    for window in [&alice, &alice_too] {
        window.open_chat_with("bob").await;
    }
    alice.send("Typo in this one").await;
    alice.send("Second thought").await;
    alice_too.wait_message("Typo in this one").await;

    // Cancel keeps it; Delete removes it from both tabs.
    alice
        .message_action("Typo in this one", "[data-action=delete]")
        .await;
    alice
        .wait_text("#confirm-title", "Delete this message?")
        .await;
    alice.click("#confirm-cancel").await;
    alice.wait_hidden("#confirm-dialog").await;
    alice.wait_message("Typo in this one").await;
    alice
        .message_action("Typo in this one", "[data-action=delete]")
        .await;
    alice.confirm("Delete this message?").await;
    for window in [&alice, &alice_too] {
        window
            .wait_js(
                "the deleted message to go",
                "return ![...document.querySelectorAll('#message-list [data-message-body]')] \
                 .some((b) => b.textContent === 'Typo in this one')",
                vec![],
            )
            .await;
        window.wait_message("Second thought").await;
    }
    // A member deletes only their own messages.
    let theirs = alice.message_item("This one breaks the rules").await;
    assert!(alice
        .find_all(&format!("{theirs} [data-action=delete]"))
        .await
        .is_empty());

    // Staff delete it in the console: it goes from the open tabs with no reload.
    let mut root = process::Browser::login(&app.server, "root", ROOT_PASSWORD);
    let page = root.get(&format!("/admin/messages/{by_bob}/delete/"));
    root.csrf = process::csrf_in(&page.text()).expect("the console's token");
    let deleted = root.post_form(
        &format!("/admin/messages/{by_bob}/delete/"),
        &[("post", "yes")],
    );
    assert_eq!(deleted.status, 303, "{}", deleted.text());
    for window in [&alice, &alice_too] {
        window
            .wait_js(
                "the message deleted in the console to go",
                "return ![...document.querySelectorAll('#message-list [data-message-body]')] \
                 .some((b) => b.textContent === 'This one breaks the rules')",
                vec![],
            )
            .await;
    }
    assert_eq!(alice.message_texts().await, vec!["Second thought"]);
    alice.assert_console_clean();
    alice_too.assert_console_clean();
}

#[tokio::test]
async fn reactions_are_one_click_away_toggle_and_say_who_reacted() {
    let Some(app) = Kanect::start() else { return };
    let mut alice_api = app.member("alice");
    let mut bob_api = app.member("bob");
    let chat = bob_api.chat_with("alice");
    say(&mut bob_api, chat, "How is the release going?");
    say(&mut alice_api, chat, "Last checks running, ~10 minutes.");
    let alice = app.signed_in("alice", DESKTOP).await;
    let bob = app.signed_in("bob", DESKTOP).await;
    alice.open_chat_with("bob").await;
    bob.open_chat_with("alice").await;
    alice.send("The release is out!").await;
    let on_bob = bob.message_item("The release is out!").await;
    let on_alice = alice.message_item("The release is out!").await;

    // One click on the quick set.
    bob.message_action("The release is out!", "[data-quick='🎉']")
        .await;
    let chip = |item: &str| format!("{item} [data-reactions] button[data-emoji='🎉']");
    bob.wait_visible(&format!("{}[aria-pressed=true]", chip(&on_bob)))
        .await;
    alice
        .wait_visible(&format!("{}[aria-pressed=false]", chip(&on_alice)))
        .await;
    assert_eq!(alice.text(&chip(&on_alice)).await.replace('\n', ""), "🎉1");
    let title = alice
        .find(&chip(&on_alice))
        .await
        .attr("title")
        .await
        .expect("a title");
    assert_eq!(
        title.as_deref(),
        Some("\u{2068}bob\u{2069} reacted with 🎉"),
        "who reacted, on hover"
    );

    // Alice adds hers with a click on the chip: two, hers highlighted.
    alice.click(&chip(&on_alice)).await;
    alice
        .wait_visible(&format!("{}[aria-pressed=true]", chip(&on_alice)))
        .await;
    bob.wait_text(&chip(&on_bob), "2").await;
    let title = bob
        .find(&chip(&on_bob))
        .await
        .attr("title")
        .await
        .expect("a title");
    assert_eq!(
        title.as_deref(),
        Some("you and \u{2068}alice\u{2069} reacted with 🎉")
    );

    // Any emoji through the picker, found by name and picked with the keyboard.
    bob.message_action("The release is out!", "[data-action=pick]")
        .await;
    bob.wait_visible("#emoji-dialog").await;
    bob.fill("#emoji-search", "rocket").await;
    bob.find("#emoji-search")
        .await
        .send_keys(&ENTER.to_string())
        .await
        .expect("Enter");
    bob.wait_hidden("#emoji-dialog").await;
    alice
        .wait_visible(&format!(
            "{on_alice} [data-reactions] button[data-emoji='🚀']"
        ))
        .await;

    // Clicking one's own again takes it back.
    bob.click(&chip(&on_bob)).await;
    alice.wait_text(&chip(&on_alice), "1").await;
    bob.wait_visible(&format!("{}[aria-pressed=false]", chip(&on_bob)))
        .await;

    // By keyboard: Shift+Tab from the composer reaches the last message's actions, the
    // arrow keys move along them, Enter reacts, and focus stays on the button.
    let composer = bob.wait_visible("#composer-input").await;
    composer.click().await.expect("focus the composer");
    composer
        .send_keys(&format!("{SHIFT}{TAB}{NULL}"))
        .await
        .expect("Shift+Tab");
    let focused = "return document.activeElement.dataset.quick || document.activeElement.dataset.action || ''";
    assert_eq!(bob.js(focused, vec![]).await, json!("👍"));
    let keys = format!("{ARROW_RIGHT}{ENTER}");
    bob.send_keys_to_focus(&keys).await;
    alice
        .wait_visible(&format!(
            "{on_alice} [data-reactions] button[data-emoji='❤️']"
        ))
        .await;
    bob.wait_visible(&format!(
        "{on_bob} [data-reactions] button[data-emoji='❤️'][aria-pressed=true]"
    ))
    .await;
    assert_eq!(bob.js(focused, vec![]).await, json!("❤️"));
    // The picture: the toolbar on hover, over a message with reactions.
    alice
        .hover(&format!("{on_alice} [data-message-body]"))
        .await;
    alice
        .wait_js(
            "the toolbar to show",
            "return getComputedStyle(document.querySelector(arguments[0])).opacity === '1'",
            vec![json!(format!("{on_alice} [role=toolbar]"))],
        )
        .await;
    alice.screenshot("chat-reactions").await;
    alice.assert_console_clean();
    bob.assert_console_clean();
}

#[tokio::test]
async fn formatting_becomes_elements_and_everything_else_stays_text() {
    let Some(app) = Kanect::start() else { return };
    let (alice, bob) = app.alice_and_bob_in_their_chat().await;
    let composer = alice.wait_visible("#composer-input").await;
    let shift_enter = "\u{E008}\u{E007}\u{E000}";
    let lines = [
        "**Ship it** _today_, ~~not~~ `cargo test` first",
        "> the plan",
        "```",
        "<b>not bold</b> **nor this**",
        "```",
        "see https://example.com/notes_v2 <img src=x onerror=alert(1)>",
    ];
    composer
        .send_keys(&lines.join(shift_enter))
        .await
        .expect("typing");
    composer.send_keys(&ENTER.to_string()).await.expect("Enter");
    let item = "#message-list li[data-id]:last-child [data-message-body]";
    bob.wait_visible(&format!("{item} pre code")).await;
    let shape = bob
        .js(
            "const b = document.querySelector(arguments[0]); \
             const a = b.querySelector('a'); \
             return { strong: b.querySelector('strong').textContent, em: b.querySelector('em').textContent, \
                      s: b.querySelector('s').textContent, code: b.querySelector(':scope > code').textContent, \
                      quote: b.querySelector('blockquote').textContent, pre: b.querySelector('pre').textContent, \
                      href: a.getAttribute('href'), rel: a.rel, target: a.target, \
                      markup: b.querySelectorAll('b, img, script').length }",
            vec![json!(item)],
        )
        .await;
    assert_eq!(
        shape,
        json!({
            "strong": "Ship it", "em": "today", "s": "not", "code": "cargo test",
            "quote": "the plan", "pre": "<b>not bold</b> **nor this**",
            "href": "https://example.com/notes_v2", "rel": "noopener noreferrer nofollow",
            "target": "_blank", "markup": 0,
        })
    );
    alice.assert_console_clean();
    bob.assert_console_clean();
}
