//! Group management in the app: any member renames the group, adds people and leaves;
//! staff remove people. Every member's page follows at once, and the page of someone
//! removed drops the chat.

use super::web::{group, say, Kanect, Window, DESKTOP, PASSWORD, ROOT_PASSWORD};

async fn open_settings(window: &Window) {
    window.click("#chat-settings-button").await;
    window.wait_visible("#chat-settings-dialog").await;
}

#[tokio::test]
async fn members_rename_a_group_add_people_and_leave_it() {
    let Some(app) = Kanect::start() else { return };
    let mut alice = app.member("alice");
    app.member("bob");
    app.member("carol");
    app.member("dave");
    let chat = group(&mut alice, "Launch crew", &["bob"]);
    say(&mut alice, chat, "Kick-off tomorrow at 10.");
    let item = format!("#chat-list button[data-key='chat:{chat}']");
    let bob = app.signed_in("bob", DESKTOP).await;
    let carol = app.signed_in("carol", DESKTOP).await;
    bob.click(&item).await;
    bob.wait_message("Kick-off tomorrow at 10.").await;

    // Bob, a member (not staff), renames it: Alice's list and his header follow.
    open_settings(&bob).await;
    assert!(
        bob.find_all("#member-list [data-remove]").await.is_empty(),
        "members remove no one"
    );
    bob.fill("#rename-title", "Launch crew 2.0").await;
    bob.click("#rename-submit").await;
    bob.wait_text("#chat-settings-title", "Launch crew 2.0")
        .await;
    // Adds Carol: she did nothing, and the group is in her list.
    bob.js(
        "const s = document.getElementById('add-member'); s.value = 'carol'; \
         s.dispatchEvent(new Event('change'))",
        vec![],
    )
    .await;
    bob.click("#add-member-submit").await;
    bob.wait_visible("#member-list [data-member='carol']").await;
    bob.screenshot("chat-group-settings").await;
    bob.click("#chat-settings-done").await;
    bob.wait_text("#chat-title", "Launch crew 2.0").await;
    bob.wait_text("#chat-members", "3 members").await;
    carol.wait_text(&item, "Launch crew 2.0").await;

    // Carol opens it and leaves.
    carol.click(&item).await;
    carol.wait_message("Kick-off tomorrow at 10.").await;
    open_settings(&carol).await;
    carol.click("#leave-group").await;
    carol.confirm("Leave").await;
    carol.wait_hidden(&item).await;
    carol.wait_visible("#welcome").await;
    bob.wait_text("#chat-members", "2 members").await;
    // It stays gone after a reload.
    carol.refresh().await.expect("a reload");
    carol.wait_chat_ready().await;
    assert!(carol.find_all(&item).await.is_empty());
    bob.assert_console_clean();
    carol.assert_console_clean();
}

#[tokio::test]
async fn staff_remove_someone_and_the_removed_persons_page_drops_the_chat() {
    let Some(app) = Kanect::start() else { return };
    app.superuser("root");
    let mut alice = app.member("alice");
    app.member("bob");
    let chat = group(&mut alice, "Launch crew", &["bob", "root"]);
    say(&mut alice, chat, "Welcome, everyone.");
    let item = format!("#chat-list button[data-key='chat:{chat}']");
    let root = app.window(DESKTOP).await;
    root.sign_in("root", ROOT_PASSWORD).await;
    root.goto(&format!("/chats/{chat}")).await;
    root.wait_message("Welcome, everyone.").await;
    let bob = app.window(DESKTOP).await;
    bob.sign_in("bob", PASSWORD).await;
    bob.goto(&format!("/chats/{chat}")).await;
    bob.wait_message("Welcome, everyone.").await;

    // Staff delete someone else's message from the chat itself.
    bob.send("Off-topic: anyone selling a bike?").await;
    root.wait_message("Off-topic: anyone selling a bike?").await;
    root.message_action("Off-topic: anyone selling a bike?", "[data-action=delete]")
        .await;
    root.confirm("Delete this message?").await;
    bob.wait_js(
        "the message staff deleted to go",
        "return ![...document.querySelectorAll('#message-list [data-message-body]')] \
         .some((b) => b.textContent.startsWith('Off-topic'))",
        vec![],
    )
    .await;

    open_settings(&root).await;
    root.click("#member-list [data-remove='bob']").await;
    root.confirm("Remove").await;
    root.wait_hidden("#member-list [data-member='bob']").await;
    // Bob's page lets go of the chat at once, and says why.
    bob.wait_text("#welcome-error", "no longer a member").await;
    bob.wait_hidden(&item).await;
    bob.wait_hidden("#chat-view").await;
    root.click("#chat-settings-done").await;
    root.wait_text("#chat-members", "2 members").await;
    root.assert_console_clean();
    bob.assert_console_clean();
}
