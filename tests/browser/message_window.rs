//! A long chat in a real browser: paging back through 2,000 messages costs the same at
//! the top as at the start and the page stays small (the list keeps a bounded window);
//! new messages that arrive while one reads history wait on a pill; a sender's messages
//! form runs with one time; a chat opened with unread messages marks where they start.

use serde_json::{json, Value};

use super::web::{say, Kanect, Window, DESKTOP};

const SHOWN: &str = "return document.querySelectorAll('#message-list li[data-id]').length";
const NODES: &str = "return document.getElementsByTagName('*').length";
const PAGE_TIMES: &str =
    "return performance.getEntriesByName('kanect:older-page').map((e) => e.duration)";
const PAGES: &str = "performance.getEntriesByName('kanect:older-page').length";
/// What the list may hold: the window (grouping.js MAX_RENDERED) and one page on its way.
const MOST_SHOWN: i64 = 250;
/// The whole page's elements with the window full: the sidebar, the composer, ~200 messages
/// (about 30 elements each, most of them the actions toolbar).
const MOST_NODES: i64 = 7000;

/// More runnable work than twice the cores (the one-minute load average, Linux).
fn busy_machine() -> bool {
    let cores = std::thread::available_parallelism().map_or(1, usize::from) as f64;
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next()?.parse::<f64>().ok())
        .is_some_and(|load| load > 2.0 * cores)
}

async fn number(window: &Window, script: &str) -> i64 {
    window.js(script, vec![]).await.as_i64().unwrap_or(-1)
}

async fn scroll_top(window: &Window) -> f64 {
    let top = window
        .js(
            "return document.getElementById('message-scroller').scrollTop",
            vec![],
        )
        .await;
    top.as_f64().unwrap_or(0.0)
}

#[tokio::test]
async fn paging_to_the_top_of_2000_messages_costs_the_same_per_page_and_the_dom_stays_bounded() {
    let Some(app) = Kanect::start() else { return };
    let mut alice = app.member("alice");
    let mut bob = app.member("bob");
    let chat = bob.chat_with("alice");
    // Runs of a few messages each way, as people write.
    for n in 1..=2000 {
        let who = if n % 7 < 4 { &mut bob } else { &mut alice };
        say(who, chat, &format!("Message {n}"));
    }

    let window = app.signed_in("alice", DESKTOP).await;
    window.goto(&format!("/chats/{chat}")).await;
    window.wait_message("Message 2000").await;
    window.wait_hidden("#messages-loading").await;
    let opened_with = number(&window, NODES).await;
    let mut pages = 0;
    let mut most_shown = 0;
    let mut most_nodes = 0;
    loop {
        let at_start = window
            .js(
                "return document.getElementById('history-start').checkVisibility()",
                vec![],
            )
            .await;
        if at_start == json!(true) {
            break;
        }
        window
            .js(
                "document.getElementById('message-scroller').scrollTop = 0",
                vec![],
            )
            .await;
        window
            .wait_js(
                &format!("older page {}", pages + 1),
                &format!(
                    "return {PAGES} > arguments[0] \
                     || document.getElementById('history-start').checkVisibility()"
                ),
                vec![json!(pages)],
            )
            .await;
        let times: Vec<f64> =
            serde_json::from_value(window.js(PAGE_TIMES, vec![]).await).expect("the page timings");
        if times.len() == pages {
            continue;
        }
        pages = times.len();
        most_shown = most_shown.max(number(&window, SHOWN).await);
        most_nodes = most_nodes.max(number(&window, NODES).await);
        // The older page went in above without throwing the reader to its top.
        let top = scroll_top(&window).await;
        assert!(top > 300.0, "page {pages}: scroll position kept, got {top}");
        assert!(pages < 60, "paging never reached the first message");
    }
    let first = window
        .js(
            "return document.querySelector('#message-list [data-message-body]').textContent",
            vec![],
        )
        .await;
    assert_eq!(first, json!("Message 1"), "paged back to the very first");
    let times: Vec<f64> =
        serde_json::from_value(window.js(PAGE_TIMES, vec![]).await).expect("the page timings");
    let show = |slice: &[f64]| {
        slice
            .iter()
            .map(|t| format!("{t:.1}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    println!(
        "{} older pages; render ms, first pages: {}; last pages: {}; median {:.1}, slowest {:.1}",
        times.len(),
        show(&times[..times.len().min(3)]),
        show(&times[times.len().saturating_sub(3)..]),
        sorted[sorted.len() / 2],
        sorted[sorted.len() - 1]
    );
    println!(
        "{opened_with} elements on the page as the chat opened; at most {most_shown} messages \
         rendered and {most_nodes} elements while paging"
    );
    assert!(times.len() >= 39, "2,000 messages are 40 pages of 50");
    // The cost must not grow with the chat: the pages near the top as cheap as the first.
    let median = |slice: &[f64]| {
        let mut sorted = slice.to_vec();
        sorted.sort_by(f64::total_cmp);
        sorted[sorted.len() / 2]
    };
    let (start, end) = (median(&times[..10]), median(&times[times.len() - 10..]));
    println!("median of the first ten pages {start:.1} ms, of the last ten {end:.1} ms");
    assert!(
        end < 2.0 * start + 100.0,
        "a page costs {start:.1} ms at the start but {end:.1} ms near the top"
    );
    assert!(median(&times) < 500.0, "pages take {}", show(&times));
    // Each page under 500 ms, where the machine is not saturated: on one running far more
    // than it has cores (other test suites, builds), a timer also counts the time the
    // page's thread waited for a core, and the bound says nothing about the page.
    let slow: Vec<usize> = (0..times.len()).filter(|&i| times[i] >= 500.0).collect();
    if busy_machine() {
        println!(
            "machine saturated: {} pages of 500 ms or more not held against the page",
            slow.len()
        );
    } else {
        assert!(
            slow.is_empty(),
            "older pages {slow:?} took 500 ms or more: {}",
            show(&times)
        );
    }
    assert!(
        most_shown <= MOST_SHOWN,
        "{most_shown} messages rendered at once"
    );
    assert!(
        most_nodes <= MOST_NODES,
        "{most_nodes} elements on the page"
    );

    // At the top, the newest are no longer rendered: a new one waits on the pill, which
    // brings the reader back to the latest.
    let fresh = say(&mut bob, chat, "Fresh news from the present");
    window.wait_text("#jump-latest-bar", "1 new message").await;
    let shown: Value = window
        .js(
            "return [...document.querySelectorAll('#message-list li[data-id]')].map((li) => Number(li.dataset.id))",
            vec![],
        )
        .await;
    assert!(
        !shown.as_array().expect("ids").contains(&json!(fresh)),
        "the new message went into the gap"
    );
    window.click("#jump-latest").await;
    window.wait_message("Fresh news from the present").await;
    window.wait_hidden("#jump-latest-bar").await;
    window
        .wait_js(
            "the latest page at the bottom",
            "const s = document.getElementById('message-scroller'); \
             return s.scrollHeight - s.scrollTop - s.clientHeight < 2",
            vec![],
        )
        .await;
    window.assert_console_clean();
}

#[tokio::test]
async fn a_run_shows_one_time_and_unread_messages_start_below_a_line() {
    let Some(app) = Kanect::start() else { return };
    let mut alice = app.member("alice");
    let mut bob = app.member("bob");
    let chat = bob.chat_with("alice");
    let mut ids = Vec::new();
    for n in 1..=9 {
        ids.push(say(&mut bob, chat, &format!("Point {n} of nine")));
    }
    let mut last_filler = 0;
    for n in 1..=30 {
        last_filler = say(&mut alice, chat, &format!("Filler {n}"));
    }
    for n in 1..=4 {
        ids.push(say(&mut bob, chat, &format!("Later point {n}")));
    }
    // alice has read up to her last filler: bob's four later points are new to her.
    let read = alice.json(
        "POST",
        &format!("/api/chats/{chat}/read"),
        &json!({ "up_to": last_filler }),
    );
    assert!(read.status < 300, "{}", read.text());

    let window = app.signed_in("alice", DESKTOP).await;
    window.goto(&format!("/chats/{chat}")).await;
    window.wait_message("Later point 4").await;
    window.screenshot("message-runs").await;

    // Nine in a row from bob: one header with one time; the others show theirs on hover.
    let times = window
        .js(
            "const run = [...document.querySelectorAll('#message-list li[data-id]')] \
               .filter((li) => li.textContent.includes('of nine')); \
             return run.map((li) => li.querySelector('time')) \
               .filter((t) => t.checkVisibility({ opacityProperty: true })).map((t) => t.textContent)",
            vec![],
        )
        .await;
    let times = times.as_array().expect("times").clone();
    assert_eq!(times.len(), 1, "one time for the run of nine: {times:?}");
    let time = times[0].as_str().unwrap_or_default().to_owned();
    assert!(
        !time.starts_with('0') && time.chars().next().is_some_and(|c| c.is_ascii_digit()),
        "no leading zero: {time:?}"
    );
    let title = window
        .js(
            "const t = document.querySelector(`#message-list li[data-id='${arguments[0]}'] time`); \
             return t.title.length > 0 && t.textContent.length > 0",
            vec![json!(ids[3])],
        )
        .await;
    assert_eq!(
        title,
        json!(true),
        "each message has its time and full date"
    );

    // The line sits right above the first unread message.
    let above = window
        .js(
            "const li = document.querySelector(`#message-list li[data-id='${arguments[0]}']`); \
             const line = li.previousElementSibling; \
             return line && line.dataset.unreadLine !== undefined ? line.textContent : null",
            vec![json!(ids[9])],
        )
        .await;
    assert_eq!(above, json!("New messages"));
    assert_eq!(
        number(
            &window,
            "return document.querySelectorAll('#message-list [data-unread-line]').length"
        )
        .await,
        1
    );

    // Reading further up while bob writes: the place holds, and a pill counts what came.
    window
        .js(
            "document.getElementById('message-scroller').scrollTop = 0",
            vec![],
        )
        .await;
    let before = scroll_top(&window).await;
    say(&mut bob, chat, "Are you there?");
    say(&mut bob, chat, "Hello?");
    window.wait_text("#jump-latest-bar", "2 new messages").await;
    let after = scroll_top(&window).await;
    assert!(
        (after - before).abs() < 2.0,
        "the reader's place moved from {before} to {after}"
    );
    window.click("#jump-latest").await;
    window.wait_hidden("#jump-latest-bar").await;
    window
        .wait_js(
            "the newest in view",
            "const s = document.getElementById('message-scroller'); \
             return s.scrollHeight - s.scrollTop - s.clientHeight < 2",
            vec![],
        )
        .await;
    window.wait_message("Hello?").await;
    window.assert_console_clean();
}
