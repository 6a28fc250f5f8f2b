//! The chat on a phone-sized screen: the list and the open chat take turns, nothing
//! scrolls sideways, and the composer stays on screen.

use std::time::Duration;

use serde_json::json;

use super::web::{group, say, Kanect, PHONE};

#[tokio::test]
async fn the_chat_is_usable_on_a_phone() {
    let Some(app) = Kanect::start() else { return };
    let mut alice = app.member("alice");
    let mut bob = app.member("bob");
    let chat = bob.chat_with("alice");
    let crew = group(&mut bob, "Workshop crew", &["alice"]);
    say(&mut bob, chat, "Are you still coming to the workshop?");
    say(
        &mut alice,
        chat,
        "Yes! Running ten minutes late, the train is slow today.",
    );
    say(
        &mut bob,
        chat,
        "No problem, we'll start with the intro round.",
    );
    say(&mut bob, chat, "Coffee is on the second floor.");

    let phone = app.signed_in("alice", PHONE).await;
    let fits = "return document.documentElement.scrollWidth <= window.innerWidth";
    // The list fills the screen; the chat waits behind it.
    phone.wait_visible("#sidebar").await;
    phone.wait_hidden("#main-content").await;
    assert_eq!(
        phone.js(fits, vec![]).await,
        json!(true),
        "no sideways scrolling"
    );

    phone
        .click(&format!("#chat-list button[data-key='chat:{chat}']"))
        .await;
    phone.wait_message("Coffee is on the second floor.").await;
    phone.wait_hidden("#sidebar").await;
    phone.wait_visible("#back-button").await;
    let composer_in_view = "const r = document.getElementById('send-button').getBoundingClientRect(); \
                            const c = document.getElementById('composer-input').getBoundingClientRect(); \
                            return r.right <= window.innerWidth && r.bottom <= window.innerHeight \
                                && c.left >= 0 && c.width > 200";
    assert_eq!(
        phone.js(composer_in_view, vec![]).await,
        json!(true),
        "the composer is on screen"
    );
    assert_eq!(
        phone.js(fits, vec![]).await,
        json!(true),
        "no sideways scrolling"
    );

    phone.click("#composer-input").await;
    phone.send("Great, see you at 10:10.").await;
    phone.wait_message("Great, see you at 10:10.").await;

    // No hover on a phone: a long press shows a message's actions, a tap reacts.
    let coffee = phone.message_item("Coffee is on the second floor.").await;
    phone
        .long_press(
            &format!("{coffee} [data-message-body]"),
            Duration::from_millis(800),
        )
        .await;
    phone
        .wait_visible(&format!("{coffee}[data-actions=open] [role=toolbar]"))
        .await;
    assert_eq!(
        phone.js(fits, vec![]).await,
        json!(true),
        "the actions fit on the screen"
    );
    phone
        .click(&format!("{coffee} [role=toolbar] [data-quick='👍']"))
        .await;
    phone
        .wait_visible(&format!(
            "{coffee} [data-reactions] [data-emoji='👍'][aria-pressed=true]"
        ))
        .await;
    // Lifting the finger clicked nothing: the toolbar appears under it.
    let reactions = phone
        .js(
            "return [...document.querySelectorAll(arguments[0])].map((b) => b.dataset.emoji)",
            vec![json!(format!("{coffee} [data-reactions] [data-emoji]"))],
        )
        .await;
    assert_eq!(reactions, json!(["👍"]), "only the one tapped");
    // The picker fits the screen too.
    phone
        .long_press(
            &format!("{coffee} [data-message-body]"),
            Duration::from_millis(800),
        )
        .await;
    phone
        .click(&format!(
            "{coffee}[data-actions=open] [role=toolbar] [data-action=pick]"
        ))
        .await;
    let dialog_fits = "const r = document.getElementById('emoji-dialog').getBoundingClientRect(); \
                       return r.left >= 0 && r.right <= window.innerWidth && r.bottom <= window.innerHeight";
    phone.wait_visible("#emoji-grid [data-emoji='☕']").await;
    assert_eq!(
        phone.js(dialog_fits, vec![]).await,
        json!(true),
        "the picker fits"
    );
    phone.click("#emoji-grid [data-emoji='☕']").await;
    phone
        .wait_visible(&format!("{coffee} [data-reactions] [data-emoji='☕']"))
        .await;
    phone.click("#composer-input").await;
    phone
        .wait_hidden(&format!("{coffee}[data-actions=open]"))
        .await;
    phone.wait_toolbars_hidden().await;
    phone.screenshot("chat-phone").await;

    phone.click("#back-button").await;
    phone.wait_visible("#sidebar").await;
    phone.wait_hidden("#chat-view").await;

    // A group's settings fit the screen, and the mention list above the composer does.
    phone
        .click(&format!("#chat-list button[data-key='chat:{crew}']"))
        .await;
    phone.wait_text("#chat-title", "Workshop crew").await;
    let composer = phone.wait_visible("#composer-input").await;
    composer.send_keys("@").await.expect("typing");
    phone
        .wait_visible("#mention-list [data-username='bob']")
        .await;
    let list_fits = "const r = document.getElementById('mention-list').getBoundingClientRect(); \
                     return r.left >= 0 && r.right <= window.innerWidth && r.top >= 0";
    assert_eq!(
        phone.js(list_fits, vec![]).await,
        json!(true),
        "the mention list fits"
    );
    composer.send_keys("\u{E00C}").await.expect("Escape");
    phone.wait_hidden("#mention-list").await;
    phone.click("#chat-settings-button").await;
    phone
        .wait_visible("#chat-settings-dialog #rename-title")
        .await;
    let settings_fit = "const r = document.getElementById('chat-settings-dialog').getBoundingClientRect(); \
                        return r.left >= 0 && r.right <= window.innerWidth && r.bottom <= window.innerHeight";
    assert_eq!(
        phone.js(settings_fit, vec![]).await,
        json!(true),
        "the settings fit"
    );
    phone.click("#chat-settings-done").await;
    phone.wait_hidden("#chat-settings-dialog").await;
    assert_eq!(
        phone.js(fits, vec![]).await,
        json!(true),
        "no sideways scrolling"
    );
    phone.assert_console_clean();
}
