//! Drafts: what someone typed in a chat waits there while they look elsewhere, and
//! after a reload, until it is sent.

use super::web::{Kanect, Window, DESKTOP, ENTER};

async fn composer_text(window: &Window) -> String {
    let value = window
        .find("#composer-input")
        .await
        .prop("value")
        .await
        .expect("the composer's text");
    value.unwrap_or_default()
}

#[tokio::test]
async fn a_draft_survives_switching_chats_and_a_reload_and_goes_when_sent() {
    let Some(app) = Kanect::start() else { return };
    app.member("alice");
    let mut bob = app.member("bob");
    let mut carol = app.member("carol");
    let with_bob = bob.chat_with("alice");
    carol.chat_with("alice");
    let alice = app.signed_in("alice", DESKTOP).await;
    alice.open_chat_with("bob").await;
    alice
        .wait_visible("#composer-input")
        .await
        .send_keys("Half a thought about the")
        .await
        .expect("typing");

    // Elsewhere, an empty composer; the list shows the draft waiting.
    alice.open_chat_with("carol").await;
    assert_eq!(composer_text(&alice).await, "");
    let row = format!("#chat-list button[data-key='chat:{with_bob}']");
    alice
        .wait_text(&row, "Draft: Half a thought about the")
        .await;
    alice.open_chat_with("bob").await;
    assert_eq!(composer_text(&alice).await, "Half a thought about the");

    // A reload keeps it.
    alice.refresh().await.expect("a reload");
    alice.wait_chat_ready().await;
    alice.wait_visible("#composer-input").await;
    alice
        .wait_js(
            "the draft back in the composer",
            "return document.getElementById('composer-input').value === 'Half a thought about the'",
            vec![],
        )
        .await;

    // Sent: gone, also after a reload.
    alice
        .find("#composer-input")
        .await
        .send_keys(&format!(" release{ENTER}"))
        .await
        .expect("Enter");
    alice.wait_message("Half a thought about the release").await;
    assert_eq!(composer_text(&alice).await, "");
    alice.refresh().await.expect("a reload");
    alice.wait_chat_ready().await;
    alice.wait_message("Half a thought about the release").await;
    assert_eq!(composer_text(&alice).await, "");
    alice.open_chat_with("carol").await;
    alice.wait_hidden(&format!("{row} [data-draft]")).await;
    let preview = alice.text(&row).await;
    assert!(!preview.contains("Draft"), "{preview}");
    alice.assert_console_clean();
}
