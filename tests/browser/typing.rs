//! Typing indicators: words under the messages while someone types, gone when their
//! message arrives or a few seconds after they stop.

use super::web::{group, Kanect, DESKTOP, ENTER};

#[tokio::test]
async fn who_is_typing_shows_under_the_messages_and_goes_when_they_send_or_stop() {
    let Some(app) = Kanect::start() else { return };
    let mut alice = app.member("alice");
    app.member("bob");
    app.member("carol");
    let crew = group(&mut alice, "Launch crew", &["bob", "carol"]);
    let item = format!("#chat-list button[data-key='chat:{crew}']");
    let alice = app.signed_in("alice", DESKTOP).await;
    let bob = app.signed_in("bob", DESKTOP).await;
    let carol = app.signed_in("carol", DESKTOP).await;
    for window in [&alice, &bob, &carol] {
        window.click(&item).await;
        window.wait_text("#chat-title", "Launch crew").await;
    }

    let bobs = bob.wait_visible("#composer-input").await;
    bobs.send_keys("On my w").await.expect("typing");
    alice
        .wait_text("#typing-indicator", "\u{2068}bob\u{2069} is typing…")
        .await;
    // Bob does not see himself typing.
    assert_eq!(bob.text("#typing-indicator").await, "");

    let carols = carol.wait_visible("#composer-input").await;
    carols.send_keys("Me t").await.expect("typing");
    let both = alice.wait_text("#typing-indicator", "are typing…").await;
    assert!(
        both.contains("bob") && both.contains(" and ") && both.contains("carol"),
        "{both}"
    );

    // Bob's message arrives: he is no longer typing; Carol still is.
    bobs.send_keys(&format!("ay{ENTER}")).await.expect("Enter");
    alice.wait_message("On my way").await;
    alice
        .wait_text("#typing-indicator", "\u{2068}carol\u{2069} is typing…")
        .await;
    // Carol stops without sending: the words go by themselves.
    alice
        .wait_js(
            "the indicator to clear",
            "return document.getElementById('typing-indicator').textContent === ''",
            vec![],
        )
        .await;
    alice.assert_console_clean();
    bob.assert_console_clean();
    carol.assert_console_clean();
}
