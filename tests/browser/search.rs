//! Message search in the sidebar: Ctrl+K from the composer, results as one types with the
//! matched words marked, a result deep in a long chat opened at its message (in view and
//! highlighted), the window around it paging newer until it reaches the newest message
//! (a live message held meanwhile, not dropped into the gap), Escape back to the chat
//! list, and the same search on a phone.

use std::time::Duration;

use serde_json::{json, Value};

use super::web::{
    group, say, Kanect, Member, Window, ARROW_DOWN, CONTROL, DESKTOP, ENTER, ESCAPE, NULL, PHONE,
};

const EARLY: &str = "The zeppelin leaves the hangar at dawn, bring a warm coat.";
const LIVE: &str = "Back to the present: lunch at one?";

/// The message `id` is in the open chat, inside the visible part of its panel, and lit up.
const IN_VIEW_AND_LIT: &str =
    "const li = document.querySelector(`#message-list li[data-id='${arguments[0]}']`); \
     if (!li) return null; \
     const r = li.getBoundingClientRect(); \
     const s = document.getElementById('message-scroller').getBoundingClientRect(); \
     return { inView: r.top >= s.top - 1 && r.bottom <= s.bottom + 1 && r.height > 0, \
              lit: li.classList.contains('message-flash') }";

/// The ids of the messages the open chat shows, in order.
const SHOWN_IDS: &str =
    "return [...document.querySelectorAll('#message-list li[data-id]')].map((li) => Number(li.dataset.id))";

/// Bob and Alice's direct chat: four messages, the early one, then 320 more. Answers the
/// chat and every message id in order.
fn long_chat(alice: &mut Member, bob: &mut Member) -> (i64, Vec<i64>) {
    let chat = bob.chat_with("alice");
    let mut ids = Vec::new();
    for n in 1..=4 {
        ids.push(say(bob, chat, &format!("Warm-up number {n}")));
    }
    ids.push(say(alice, chat, EARLY));
    for n in 1..=320 {
        let from = if n % 3 == 0 { &mut *alice } else { &mut *bob };
        ids.push(say(
            from,
            chat,
            &format!("Filler {n}: the weather is still grey"),
        ));
    }
    (chat, ids)
}

impl Window {
    /// Types `query` into the search field and waits for its first result.
    async fn search(&self, query: &str) {
        self.fill("#search", query).await;
        self.wait_visible("#search-results [role=option]").await;
    }

    /// The text of each result's marks, result by result.
    async fn marks(&self) -> Value {
        self.js(
            "return [...document.querySelectorAll('#search-results [role=option]')] \
             .map((o) => [...o.querySelectorAll('[data-result-body] mark')].map((m) => m.textContent))",
            vec![],
        )
        .await
    }
}

#[tokio::test]
async fn a_result_deep_in_a_long_chat_opens_at_its_message_highlighted() {
    let Some(app) = Kanect::start() else { return };
    let mut alice = app.member("alice");
    let mut bob = app.member("bob");
    let (chat, ids) = long_chat(&mut alice, &mut bob);
    let early = ids[4];

    let window = app.signed_in("alice", DESKTOP).await;
    window.open_chat_with("bob").await;
    window
        .wait_message("Filler 320: the weather is still grey")
        .await;

    // Ctrl+K from the composer, then results as one types.
    let composer = window.wait_visible("#composer-input").await;
    composer
        .send_keys(&format!("{CONTROL}k{NULL}"))
        .await
        .expect("Ctrl+K");
    window
        .wait_js(
            "the search field to take focus",
            "return document.activeElement.id === 'search'",
            vec![],
        )
        .await;
    window.send_keys_to_focus("Zeppelin").await;
    window
        .wait_visible(&format!(
            "#search-results [role=option][data-message-id='{early}']"
        ))
        .await;
    assert_eq!(
        window.marks().await,
        json!([["zeppelin"]]),
        "one result, its match marked as the body spells it"
    );
    let result = window.text("#search-results [role=option]").await;
    assert!(result.contains("bob"), "the chat is named: {result}");
    assert!(result.contains("You"), "the sender is named: {result}");
    assert!(
        result.contains("The zeppelin leaves the hangar at dawn"),
        "{result}"
    );

    // The arrow and Enter open it: the chat scrolled to the message, lit up for a moment.
    window
        .send_keys_to_focus(&format!("{ARROW_DOWN}{ENTER}"))
        .await;
    window.wait_text("#chat-title", "bob").await;
    let seen = window
        .wait_js(
            "the early message in view and highlighted",
            &format!("const v = (() => {{ {IN_VIEW_AND_LIT} }})(); return v && v.inView && v.lit ? v : null"),
            vec![json!(early)],
        )
        .await;
    assert_eq!(seen, json!({ "inView": true, "lit": true }));
    assert_eq!(
        window
            .js(
                "return document.querySelectorAll('#message-list li[data-id]').length < 120",
                vec![]
            )
            .await,
        json!(true),
        "a window around the message, not the whole chat"
    );
    window.wait_visible("#jump-latest").await;
    window
        .wait_js(
            "the highlight to fade",
            &format!("const v = (() => {{ {IN_VIEW_AND_LIT} }})(); return v && !v.lit"),
            vec![json!(early)],
        )
        .await;

    // A message arriving now is not appended after the old window (there is a gap).
    let live = say(&mut bob, chat, LIVE);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let shown = window.js(SHOWN_IDS, vec![]).await;
    assert!(
        !shown.as_array().unwrap().contains(&json!(live)),
        "the live message went into the gap"
    );

    // Scrolling down pages newer messages in until the newest; the held one joins last.
    window
        .wait_js(
            "newer pages to reach the newest message",
            "const s = document.getElementById('message-scroller'); s.scrollTop = s.scrollHeight; \
             const last = document.querySelector('#message-list li[data-id]:last-child'); \
             return last && Number(last.dataset.id) === arguments[0]",
            vec![json!(live)],
        )
        .await;
    let shown: Vec<i64> = serde_json::from_value(window.js(SHOWN_IDS, vec![]).await).unwrap();
    let mut all = ids.clone();
    all.push(live);
    let from = all
        .iter()
        .position(|id| *id == shown[0])
        .expect("a known id");
    assert_eq!(
        shown,
        all[from..].to_vec(),
        "every message from the window's start to the newest, once each, in order"
    );
    window.wait_hidden("#jump-latest-bar").await;

    // Escape: no search, the chat list back, focus where Ctrl+K found it.
    window.click("#search").await;
    window.send_keys_to_focus(&ESCAPE.to_string()).await;
    window.wait_hidden("#search-panel").await;
    window.wait_visible("#chat-list").await;
    assert_eq!(
        window
            .js(
                "return [document.getElementById('search').value, document.activeElement.id]",
                vec![]
            )
            .await,
        json!(["", "composer-input"])
    );

    // Nothing to search for: a hint, and no request (the server would refuse it).
    window.click("#search").await;
    window.send_keys_to_focus("?!*").await;
    window
        .wait_text("#search-status", "Type a word or two")
        .await;
    window.send_keys_to_focus(&ESCAPE.to_string()).await;
    window.wait_visible("#chat-list").await;
    window.assert_console_clean();
}

#[tokio::test]
async fn search_results_show_chat_sender_time_and_marks_and_work_on_a_phone() {
    let Some(app) = Kanect::start() else { return };
    let mut alice = app.member("alice");
    let mut bob = app.member("bob");
    let mut carol = app.member("carol");
    app.member("dave");
    let launch = group(&mut carol, "Launch crew", &["alice", "bob", "dave"]);
    let with_bob = bob.chat_with("alice");
    let with_carol = carol.chat_with("alice");
    say(
        &mut carol,
        launch,
        "Launch checklist is in the shared doc, section 3.",
    );
    say(
        &mut bob,
        with_bob,
        "Did you see the launch got moved to Friday?",
    );
    say(
        &mut alice,
        with_bob,
        "Yes, Friday works. I'll tell the printers.",
    );
    say(
        &mut carol,
        with_carol,
        "Can you bring the banner to the launch party?",
    );
    say(
        &mut alice,
        launch,
        "Prelaunch review at 10, then the launch itself at noon.",
    );
    say(&mut bob, launch, "Launching the newsletter right after.");
    for n in 1..=60 {
        say(
            &mut bob,
            with_bob,
            &format!("Chatter {n} about other things"),
        );
    }

    let window = app.signed_in("alice", DESKTOP).await;
    window.search("launch").await;
    window
        .wait_js(
            "five results",
            "return document.querySelectorAll('#search-results [role=option]').length === 5",
            vec![],
        )
        .await;
    // Newest first; the marks are what the server marked, as text.
    let marks = window.marks().await;
    assert_eq!(marks.as_array().unwrap().len(), 5, "{marks}");
    for result in marks.as_array().unwrap() {
        assert!(
            result.as_array().unwrap().iter().any(|m| m
                .as_str()
                .unwrap()
                .to_lowercase()
                .starts_with("launch")),
            "{marks}"
        );
    }
    let first = window.text("#search-results [role=option]").await;
    assert!(first.contains("Launch crew"), "the group's title: {first}");
    assert!(first.contains("bob"), "the sender: {first}");
    assert_eq!(
        window
            .js(
                "return [...document.querySelectorAll('#search-results time')].every((t) => t.textContent.length > 0)",
                vec![]
            )
            .await,
        json!(true),
        "each result has a time"
    );
    let in_direct = window
        .js(
            "const o = [...document.querySelectorAll('#search-results [role=option]')] \
               .find((o) => o.textContent.includes('banner')); \
             return o.querySelector('[data-result-chat]').textContent",
            vec![],
        )
        .await;
    assert_eq!(
        in_direct,
        json!("carol"),
        "a direct chat is named by the other person"
    );
    // Bob's message, 60 messages back in their chat: opened at it, lit up.
    window
        .click(&format!(
            "#search-results [role=option][data-chat-id='{with_bob}']"
        ))
        .await;
    window.wait_text("#chat-title", "bob").await;
    window.screenshot("chat-search").await;
    window.assert_console_clean();

    // A phone: the results fill the screen; a tap shows the chat at the message.
    let phone = app.signed_in("alice", PHONE).await;
    phone.search("banner").await;
    let fits = "return document.documentElement.scrollWidth <= window.innerWidth";
    assert_eq!(
        phone.js(fits, vec![]).await,
        json!(true),
        "no sideways scrolling"
    );
    phone.click("#search-results [role=option]").await;
    phone.wait_hidden("#sidebar").await;
    phone.wait_text("#chat-title", "carol").await;
    let banner = phone
        .wait_js(
            "the message in view",
            "const b = [...document.querySelectorAll('#message-list [data-message-body]')] \
               .find((b) => b.textContent.includes('banner')); \
             if (!b) return null; \
             const r = b.getBoundingClientRect(); \
             return r.top >= 0 && r.bottom <= window.innerHeight",
            vec![],
        )
        .await;
    assert_eq!(banner, json!(true));
    // Back: the results are still there.
    phone.click("#back-button").await;
    phone.wait_visible("#search-results [role=option]").await;
    assert_eq!(
        phone.js(fits, vec![]).await,
        json!(true),
        "no sideways scrolling"
    );
    phone.assert_console_clean();
}
