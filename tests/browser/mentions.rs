//! Mentions: "@" in the composer lists the chat's members (keyboard and mouse), the
//! person mentioned sees the message highlighted, and their chat list says so apart
//! from the unread count.

use super::web::{group, say, Kanect, DESKTOP, ENTER};

const ARROW_DOWN: char = '\u{E015}';
const ESCAPE: char = '\u{E00C}';
const TAB: char = '\u{E004}';

/// The names the mention list offers now.
async fn offered(window: &super::web::Window) -> Vec<String> {
    let names = window
        .js(
            "const l = document.getElementById('mention-list'); \
             return l.hidden ? [] : [...l.querySelectorAll('[role=option]')].map((o) => o.dataset.username)",
            vec![],
        )
        .await;
    serde_json::from_value(names).unwrap_or_default()
}

#[tokio::test]
async fn at_lists_the_members_to_mention_and_the_mentioned_see_it_highlighted() {
    let Some(app) = Kanect::start() else { return };
    let mut alice = app.member("alice");
    let mut bob = app.member("bob");
    app.member("carol");
    let mut carla = app.member("carla");
    app.member("dave");
    let chat = group(&mut alice, "Launch crew", &["bob", "carol", "carla"]);
    say(
        &mut bob,
        chat,
        "Notes from today's planning are in the team doc.",
    );
    say(
        &mut carla,
        chat,
        "@alice could you add the budget part before Friday?",
    );
    let item = format!("#chat-list button[data-key='chat:{chat}']");
    let alice = app.signed_in("alice", DESKTOP).await;
    let carol = app.signed_in("carol", DESKTOP).await;
    carol.wait_visible(&item).await;
    alice.click(&item).await;
    alice.wait_text("#chat-title", "Launch crew").await;
    let for_alice = alice
        .message_item("@alice could you add the budget part before Friday?")
        .await;
    alice
        .wait_text(&format!("{for_alice} [data-mention-me]"), "@alice")
        .await;
    let composer = alice.wait_visible("#composer-input").await;

    // "@" offers the members (not dave, not alice herself) and @all; typing narrows it.
    composer.send_keys("Thanks @").await.expect("typing");
    alice.wait_visible("#mention-list").await;
    assert_eq!(offered(&alice).await, ["bob", "carla", "carol", "all"]);
    composer.send_keys("car").await.expect("typing");
    alice
        .wait_js(
            "two names left",
            "return document.querySelectorAll('#mention-list [role=option]').length === 2",
            vec![],
        )
        .await;
    assert_eq!(offered(&alice).await, ["carla", "carol"]);
    // The arrow keys move (the text box keeps focus, pointing at the option); Enter picks.
    composer
        .send_keys(&ARROW_DOWN.to_string())
        .await
        .expect("ArrowDown");
    let active = alice
        .js(
            "const i = document.getElementById('composer-input'); \
             return document.activeElement === i && document.getElementById(i.getAttribute('aria-activedescendant')).dataset.username",
            vec![],
        )
        .await;
    assert_eq!(active, "carol");
    alice.screenshot("chat-mentions").await;
    composer.send_keys(&ENTER.to_string()).await.expect("Enter");
    alice.wait_hidden("#mention-list").await;
    assert_eq!(
        composer.prop("value").await.expect("the draft").as_deref(),
        Some("Thanks @carol "),
        "Enter picked the name; nothing was sent"
    );
    // Escape closes the list; Tab picks too; a click works.
    composer.send_keys("and @b").await.expect("typing");
    alice.wait_visible("#mention-list").await;
    composer
        .send_keys(&ESCAPE.to_string())
        .await
        .expect("Escape");
    alice.wait_hidden("#mention-list").await;
    alice.wait_visible("#chat-view").await;
    composer.send_keys("o").await.expect("typing");
    alice.wait_visible("#mention-list").await;
    composer.send_keys(&TAB.to_string()).await.expect("Tab");
    alice.wait_hidden("#mention-list").await;
    composer
        .send_keys("for the notes, cc @a")
        .await
        .expect("typing");
    alice.click("#mention-list [data-username='all']").await;
    assert_eq!(
        composer.prop("value").await.expect("the draft").as_deref(),
        Some("Thanks @carol and @bob for the notes, cc @all ")
    );
    composer.send_keys(&ENTER.to_string()).await.expect("Enter");
    let text = "Thanks @carol and @bob for the notes, cc @all";
    alice.wait_message(text).await;

    // Carol has it unread, and a mention badge beside the count.
    carol
        .wait_visible(&format!("{item} [data-mentions='1']"))
        .await;
    carol
        .wait_visible(&format!("{item} [aria-label='3 unread']"))
        .await;
    carol.click(&item).await;
    let on_carol = carol.message_item(text).await;
    carol
        .wait_text(&format!("{on_carol} [data-mention-me]"), "@carol")
        .await;
    // @all names her too; @bob is a mention, not of her.
    carol
        .wait_text(
            &format!("{on_carol} [data-mention='all'][data-mention-me]"),
            "@all",
        )
        .await;
    assert!(carol
        .find_all(&format!("{on_carol} [data-mention='bob'][data-mention-me]"))
        .await
        .is_empty());
    carol
        .wait_visible(&format!("{on_carol} [data-mention='bob']"))
        .await;
    assert!(
        carol
            .find_all(&format!("{on_carol}[data-mentions-me]"))
            .await
            .len()
            == 1
    );
    carol.wait_hidden(&format!("{item} [data-mentions]")).await;
    alice.assert_console_clean();
    carol.assert_console_clean();
}
