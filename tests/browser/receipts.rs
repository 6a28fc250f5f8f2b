//! Message status: in a direct chat the sender's own messages go sent, delivered, read;
//! in a group they say "Seen by N", with the names on hover and on a tap.

use super::web::{group, Kanect, DESKTOP};

#[tokio::test]
async fn own_messages_go_sent_delivered_read_and_groups_say_who_has_seen_them() {
    let Some(app) = Kanect::start() else { return };
    let mut alice = app.member("alice");
    app.member("bob");
    app.member("carol");
    let crew = group(&mut alice, "Launch crew", &["bob", "carol"]);
    let alice = app.signed_in("alice", DESKTOP).await;
    alice.open_chat_with("bob").await;

    // Bob is not here: sent, one tick.
    alice.send("Are you around?").await;
    let mine = alice.message_item("Are you around?").await;
    alice
        .wait_visible(&format!("{mine} [data-receipt=sent]"))
        .await;
    // His page is open elsewhere: his poll has it, delivered.
    let bob = app.signed_in("bob", DESKTOP).await;
    alice.send("Ping").await;
    let ping = alice.message_item("Ping").await;
    alice
        .wait_visible(&format!("{ping} [data-receipt=delivered]"))
        .await;
    // He opens the chat: read, both messages.
    bob.open_chat_with("alice").await;
    alice
        .wait_visible(&format!("{ping} [data-receipt=read]"))
        .await;
    alice
        .wait_visible(&format!("{mine} [data-receipt=read]"))
        .await;
    let label = alice
        .find(&format!("{ping} [data-receipt=read]"))
        .await
        .attr("title")
        .await
        .expect("a title");
    assert_eq!(label.as_deref(), Some("Read"));
    // Bob's own view marks none of Alice's messages.
    assert!(bob
        .find_all("#message-list [data-receipt]")
        .await
        .is_empty());

    // A group: "Seen by" as the others read.
    let item = format!("#chat-list button[data-key='chat:{crew}']");
    alice.click(&item).await;
    alice.wait_text("#chat-title", "Launch crew").await;
    alice.send("Stand-up moves to 9:30").await;
    let news = alice.message_item("Stand-up moves to 9:30").await;
    bob.click(&item).await;
    bob.wait_message("Stand-up moves to 9:30").await;
    let seen = format!("{news} [data-receipt=seen]");
    alice.wait_text(&seen, "Seen by 1").await;
    let carol = app.signed_in("carol", DESKTOP).await;
    carol.click(&item).await;
    carol.wait_message("Stand-up moves to 9:30").await;
    alice.wait_text(&seen, "Seen by 2").await;
    let title = alice
        .find(&seen)
        .await
        .attr("title")
        .await
        .expect("a title");
    let title = title.unwrap_or_default();
    assert!(
        title.contains("\u{2068}bob\u{2069}") && title.contains("\u{2068}carol\u{2069}"),
        "the names on hover: {title}"
    );
    // A tap shows them under the message.
    alice.click(&seen).await;
    let names = alice
        .wait_text(&format!("{news} [data-seen-names]"), "Seen by")
        .await;
    assert!(names.contains("bob") && names.contains("carol"), "{names}");
    alice.assert_console_clean();
    bob.assert_console_clean();
    carol.assert_console_clean();
}
