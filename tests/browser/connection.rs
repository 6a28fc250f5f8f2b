//! Connection state a person can trust: the server stops and the chat says
//! "Reconnecting…" within 2 s; it comes back on the same data and port and the badge
//! goes within 2 s; a message sent meanwhile stays in the composer and goes on Retry.

use std::time::{Duration, Instant};

use serde_json::json;

use super::web::{say, Kanect, DESKTOP};

const WITHIN: Duration = Duration::from_secs(2);

#[tokio::test]
async fn the_badge_follows_the_server_within_two_seconds_and_a_send_while_it_is_away_is_kept() {
    let Some(mut app) = Kanect::start() else {
        return;
    };
    app.member("alice");
    let mut bob = app.member("bob");
    let chat = bob.chat_with("alice");
    say(&mut bob, chat, "Before the outage");
    let window = app.signed_in("alice", DESKTOP).await;
    window.goto(&format!("/chats/{chat}")).await;
    window.wait_message("Before the outage").await;
    window.wait_hidden("#conn-status").await;
    // The long poll is held by now.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let signalled = Instant::now();
    app.stop_server();
    let stopped = Instant::now();
    window.wait_visible("#conn-status").await;
    let shown = stopped.elapsed();
    println!(
        "\"Reconnecting…\" {shown:?} after the server exited ({:?} after SIGTERM)",
        signalled.elapsed()
    );
    assert!(shown < WITHIN, "the badge took {shown:?}");

    // Sent while the server is away: kept, with a way to send it again.
    let text = "Written while the server was away";
    window.send(text).await;
    window.wait_text("#composer-error", "not sent").await;
    window.wait_visible("#composer-error [data-retry]").await;
    let kept = window
        .js(
            "return document.getElementById('composer-input').value",
            vec![],
        )
        .await;
    assert_eq!(kept, json!(text), "the message stays in the composer");

    app.start_server_again();
    let back = Instant::now();
    window.wait_hidden("#conn-status").await;
    let cleared = back.elapsed();
    println!("badge cleared {cleared:?} after the server was healthy again");
    assert!(cleared < WITHIN, "the badge stayed {cleared:?}");

    window.click("#composer-error [data-retry]").await;
    window.wait_message(text).await;
    window.wait_hidden("#composer-error").await;
    let left = window
        .js(
            "return document.getElementById('composer-input').value",
            vec![],
        )
        .await;
    assert_eq!(left, json!(""), "the composer empties once it is sent");
    let stored = bob
        .get(&format!("/api/chats/{chat}/messages?limit=10"))
        .json();
    let copies = stored["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter(|m| m["body"] == json!(text))
        .count();
    assert_eq!(copies, 1, "sent once");

    // What the outage made the browser log (refused connections) is expected; nothing else.
    let problems = window.console_problems(&["net::ERR_", "Failed to load resource"]);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
