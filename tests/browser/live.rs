//! The promise, in two browsers: an edit, a delete, a reaction, a rename, an
//! added member, a removal and a typing indicator made in one each appear in the other
//! within a second, with no reload.

use std::future::Future;
use std::time::{Duration, Instant};

use super::web::{group, say, Kanect, DESKTOP, ENTER, PASSWORD, ROOT_PASSWORD};

/// The spec's promise for delivery to an open window.
const LIVE: Duration = Duration::from_secs(1);

/// Runs `change` (the last step of an action in one window), then `seen` (the wait for it in
/// the other): the time between the two must be under a second.
async fn within_a_second<A: Future<Output = ()>, B: Future<Output = ()>>(
    what: &str,
    change: A,
    seen: B,
) {
    change.await;
    let started = Instant::now();
    seen.await;
    let took = started.elapsed();
    println!("{what}: seen in {took:?}");
    assert!(
        took < LIVE,
        "{what} took {took:?} to reach the other window"
    );
}

#[tokio::test]
async fn every_kind_of_change_reaches_the_other_browser_within_a_second() {
    let Some(app) = Kanect::start() else { return };
    app.superuser("root");
    let mut bob = app.member("bob");
    app.member("carol");
    app.member("dave");
    let chat = group(&mut bob, "Launch crew", &["root", "carol"]);
    let from_bob = say(&mut bob, chat, "Slides are in the folder");
    let root = app.window(DESKTOP).await;
    root.sign_in("root", ROOT_PASSWORD).await;
    let bob = app.window(DESKTOP).await;
    bob.sign_in("bob", PASSWORD).await;
    for window in [&root, &bob] {
        window.goto(&format!("/chats/{chat}")).await;
        window.wait_message("Slides are in the folder").await;
    }
    // Set once: a reload would lose it.
    bob.js("window.sinceLoad = true", vec![]).await;
    root.send("Draft agenda: intro, demo").await;
    root.send("Wrong chat, sorry").await;
    bob.wait_message("Wrong chat, sorry").await;

    // An edit.
    root.message_action("Draft agenda: intro, demo", "[data-action=edit]")
        .await;
    root.fill(
        "#message-list [data-edit-input]",
        "Agenda: intro, demo, Q&A",
    )
    .await;
    let editor = root.find("#message-list [data-edit-input]").await;
    within_a_second(
        "an edit",
        async { editor.send_keys(&ENTER.to_string()).await.expect("Enter") },
        bob.wait_message("Agenda: intro, demo, Q&A"),
    )
    .await;

    // A delete.
    root.message_action("Wrong chat, sorry", "[data-action=delete]")
        .await;
    root.wait_visible("#confirm-dialog").await;
    within_a_second("a delete", root.click("#confirm-ok"), async {
        bob.wait_js(
            "the deleted message to go",
            "return ![...document.querySelectorAll('#message-list [data-message-body]')] \
                 .some((b) => b.textContent === 'Wrong chat, sorry')",
            vec![],
        )
        .await;
    })
    .await;

    // A reaction.
    let on_bob = format!("#message-list li[data-id='{from_bob}']");
    root.hover(&format!(
        "#message-list li[data-id='{from_bob}'] [data-message-body]"
    ))
    .await;
    within_a_second(
        "a reaction",
        root.click(&format!(
            "#message-list li[data-id='{from_bob}'] [data-quick='👀']"
        )),
        async {
            bob.wait_visible(&format!("{on_bob} [data-reactions] [data-emoji='👀']"))
                .await;
        },
    )
    .await;

    // A rename.
    root.click("#chat-settings-button").await;
    root.fill("#rename-title", "Launch crew (final)").await;
    within_a_second("a rename", root.click("#rename-submit"), async {
        bob.wait_text("#chat-title", "Launch crew (final)").await;
    })
    .await;

    // An added member.
    root.js(
        "const s = document.getElementById('add-member'); s.value = 'dave'; \
         s.dispatchEvent(new Event('change'))",
        vec![],
    )
    .await;
    within_a_second("an added member", root.click("#add-member-submit"), async {
        bob.wait_text("#chat-members", "4 members").await;
    })
    .await;

    // A removal.
    root.click("#member-list [data-remove='carol']").await;
    root.wait_visible("#confirm-dialog").await;
    within_a_second("a removal", root.click("#confirm-ok"), async {
        bob.wait_text("#chat-members", "3 members").await;
    })
    .await;
    root.click("#chat-settings-done").await;
    root.wait_hidden("#chat-settings-dialog").await;

    // Typing.
    let composer = root.wait_visible("#composer-input").await;
    within_a_second(
        "typing",
        async { composer.send_keys("One more").await.expect("typing") },
        async {
            bob.wait_text("#typing-indicator", "is typing…").await;
        },
    )
    .await;
    let same_page = bob.js("return window.sinceLoad === true", vec![]).await;
    assert_eq!(
        same_page,
        serde_json::json!(true),
        "Bob's page was never reloaded"
    );
    root.assert_console_clean();
    bob.assert_console_clean();
}
