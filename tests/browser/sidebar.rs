//! The sidebar of a real team: one list of conversations that holds 50 people and 100
//! chats with what is unread on top, "jump to next unread", the quick switcher, and
//! "New message", which makes a direct chat only when the first message is sent.

use serde_json::{json, Value};

use super::web::{
    group, say, Kanect, Member, Window, ALT, ARROW_DOWN, CONTROL, DESKTOP, ENTER, NULL, SHIFT,
};
use crate::process;

/// A member signing up from an address of their own (sign-ups are limited per address).
fn member_from(app: &Kanect, name: &str, n: usize) -> Member {
    let address = format!("10.0.{}.{}", n / 250, n % 250 + 1);
    process::Browser::signup_with(&app.server, name, vec![("X-Forwarded-For".into(), address)])
}

/// The sidebar's rows, top to bottom: `[chat id, unread, top, bottom]`.
async fn rows(window: &Window) -> Vec<Value> {
    let rows = window
        .js(
            "return [...document.querySelectorAll('#chat-list button[data-key]')].map((b) => {
               const r = b.getBoundingClientRect();
               const badge = b.querySelector('.badge');
               return [Number(b.dataset.key.slice(5)), badge ? Number(badge.textContent) : 0, r.top, r.bottom];
             })",
            vec![],
        )
        .await;
    rows.as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn fifty_people_and_a_hundred_chats_fit_the_sidebar_with_unread_first() {
    let Some(app) = Kanect::start_with(&[("KANECT_PROXY", "x-forwarded-for")]) else {
        return;
    };
    let mut alice = member_from(&app, "alice", 0);
    let mut people: Vec<(String, Member)> = (1..50)
        .map(|n| {
            let name = format!("person{n:02}");
            let member = member_from(&app, &name, n);
            (name, member)
        })
        .collect();
    // Oldest first: the unread ones are among the oldest, so only their being unread can
    // bring them to the top.
    let mut unread = Vec::new();
    for (n, (name, member)) in people.iter_mut().enumerate() {
        let chat = member.chat_with("alice");
        if n % 12 == 0 {
            say(member, chat, &format!("A question for you, from {name}"));
            unread.push(chat);
        } else {
            say(&mut alice, chat, &format!("Hello {name}"));
        }
    }
    for g in 0..51 {
        let (a, b) = (&people[g % 49].0, &people[(g + 7) % 49].0);
        let chat = group(&mut alice, &format!("Project {g:02}"), &[a, b]);
        say(&mut alice, chat, "Kick-off notes are in the doc.");
        if g % 20 == 0 {
            let name = people[g % 49].0.clone();
            say(
                &mut people[g % 49].1,
                chat,
                &format!("Read them, {name} here."),
            );
            unread.push(chat);
        }
    }
    assert_eq!(unread.len(), 8);

    let window = app.signed_in("alice", DESKTOP).await;
    window
        .wait_js(
            "100 conversations in the sidebar",
            "return document.querySelectorAll('#chat-list button[data-key]').length === 100",
            vec![],
        )
        .await;
    let shown = rows(&window).await;
    let top: Vec<i64> = shown[..unread.len()]
        .iter()
        .map(|r| r[0].as_i64().unwrap_or_default())
        .collect();
    let mut expected = unread.clone();
    expected.sort_unstable();
    let mut got = top.clone();
    got.sort_unstable();
    assert_eq!(
        got, expected,
        "the unread conversations come first: {shown:?}"
    );
    let height = window.js("return window.innerHeight", vec![]).await;
    let height = height.as_f64().unwrap_or_default();
    let first_bottom = shown[0][3].as_f64().unwrap_or(f64::MAX);
    assert!(
        first_bottom < height / 3.0,
        "the first conversation is at the top of the screen: {first_bottom} of {height}"
    );
    let page = window
        .js(
            "const s = document.scrollingElement; const list = document.getElementById('conversations');
             return [s.scrollWidth, s.scrollHeight, innerWidth, innerHeight, list.scrollHeight, list.clientHeight,
                     document.querySelectorAll('#sidebar h2:not([hidden])').length]",
            vec![],
        )
        .await;
    let n = |i: usize| page[i].as_f64().unwrap_or_default();
    assert!(
        n(0) <= n(2) && n(1) <= n(3),
        "the page itself does not scroll: {page}"
    );
    assert!(n(4) > n(5), "the list scrolls inside the sidebar: {page}");
    let visible = shown
        .iter()
        .filter(|r| r[3].as_f64().unwrap_or(f64::MAX) <= height)
        .count();
    println!(
        "sidebar at 1280x800: {visible} of 100 conversations in view, the first {} unread",
        unread.len()
    );
    assert!(visible >= 9, "{visible} conversations in view");
    window.screenshot("sidebar-team").await;

    // Alt+Shift+Down goes from unread to unread, each read as it opens.
    let mut seen = Vec::new();
    for _ in 0..3 {
        window
            .send_keys_to_focus(&format!("{ALT}{SHIFT}{ARROW_DOWN}{NULL}"))
            .await;
        let opened = window
            .wait_js(
                "a conversation with news to open",
                "const id = Number((location.pathname.match(/^\\/chats\\/(\\d+)$/) || [])[1]);
                 return id && !arguments[0].includes(id) ? id : null",
                vec![json!(seen)],
            )
            .await;
        let id = opened.as_i64().unwrap_or_default();
        assert!(unread.contains(&id), "{id} was not unread");
        window
            .wait_hidden(&format!("#chat-list button[data-key='chat:{id}'] .badge"))
            .await;
        seen.push(id);
    }
    window.assert_console_clean();
}

#[tokio::test]
async fn the_quick_switcher_and_new_message_open_conversations_and_make_chats_only_when_written() {
    let Some(app) = Kanect::start() else { return };
    let mut alice = app.member("alice");
    app.member("bob");
    let carol = app.member("carol");
    let design = group(&mut alice, "Design review", &["bob"]);
    say(&mut alice, design, "Agenda is in the doc.");
    let window = app.signed_in("alice", DESKTOP).await;

    // Ctrl+K, a few letters of a group's words: the group, first; Enter opens it.
    window
        .find("#search")
        .await
        .send_keys(&format!("{CONTROL}k{NULL}"))
        .await
        .expect("Ctrl+K");
    window.send_keys_to_focus("desrev").await;
    window
        .wait_text("#switch-results [role=option]:first-child", "Design review")
        .await;
    window.send_keys_to_focus(&ENTER.to_string()).await;
    window.wait_text("#chat-title", "Design review").await;
    let field = window.find("#search").await.prop("value").await;
    assert_eq!(
        field.ok().flatten().unwrap_or_default(),
        "",
        "the switcher is cleared"
    );

    // Someone with no chat yet: a new conversation, with nothing made until it is used.
    window
        .find("#search")
        .await
        .send_keys(&format!("{CONTROL}k{NULL}car"))
        .await
        .expect("Ctrl+K");
    window
        .wait_visible("#switch-results [data-username='carol']")
        .await;
    window.send_keys_to_focus(&ENTER.to_string()).await;
    window.wait_text("#chat-title", "carol").await;
    window.wait_visible("#messages-empty").await;
    let mut carol = carol;
    let chats = carol.get("/api/chats").json();
    assert_eq!(chats, json!([]), "looking at a conversation makes no chat");
    window.send("First words, Carol.").await;
    window.wait_message("First words, Carol.").await;
    window.wait_visible(&Window::person("carol")).await;
    let chats = carol.get("/api/chats").json();
    assert_eq!(chats[0]["last_message"]["body"], "First words, Carol.");
    assert!(
        window.path().await.starts_with("/chats/"),
        "the address is the chat's now"
    );

    // Alt+N: "New message"; someone one already writes with opens their chat.
    window.send_keys_to_focus(&format!("{ALT}n{NULL}")).await;
    window.wait_visible("#person-dialog").await;
    window.send_keys_to_focus("bo").await;
    window
        .wait_text("#person-list [role=option]:first-child", "bob")
        .await;
    window.send_keys_to_focus(&ENTER.to_string()).await;
    window.wait_text("#chat-title", "bob").await;
    window.wait_hidden("#person-dialog").await;
    window.send("Hi Bob").await;
    window.wait_message("Hi Bob").await;

    // A file dropped into a new conversation: the chat is made for it, and it uploads.
    let mut dave = app.member("dave");
    window.open_chat_with("dave").await;
    window.make_test_files().await;
    window
        .js(
            "const data = new DataTransfer(); data.items.add(testFiles.pdf('plan.pdf', 2000));
             const zone = document.getElementById('message-scroller');
             for (const type of ['dragenter', 'dragover', 'drop'])
               zone.dispatchEvent(new DragEvent(type, { dataTransfer: data, bubbles: true, cancelable: true }));",
            vec![],
        )
        .await;
    window
        .wait_visible("#upload-list li[data-status=done]")
        .await;
    window.send("The plan").await;
    window.wait_message("The plan").await;
    let chats = dave.get("/api/chats").json();
    assert_eq!(
        chats[0]["last_message"]["attachments"][0]["name"],
        "plan.pdf"
    );
    window.assert_console_clean();
}
