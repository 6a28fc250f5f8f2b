//! The event stream's promise: a client that passes each answer's cursor back sees every
//! event of its chats exactly once and in order, across reconnects, several tabs and a
//! restart of the server; an expired cursor gets 410.

use crate::common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{cursor, events, expect_error, kinds, Person, TestApp};
use rocket::http::Status;
use serde_json::{json, Value};

/// Polls from `after` until an answer comes back empty; every event seen, in order.
async fn drain(person: &Person<'_>, mut after: i64) -> (Vec<Value>, i64) {
    let mut seen = Vec::new();
    loop {
        let update = person.poll(after, 0).await;
        let batch = events(&update).clone();
        after = cursor(&update);
        if batch.is_empty() {
            return (seen, after);
        }
        seen.extend(batch);
    }
}

fn seqs(events: &[Value]) -> Vec<i64> {
    events
        .iter()
        .map(|e| e["seq"].as_i64().expect("a seq"))
        .collect()
}

/// Every event of `chat` in the table after `after`, by seq.
async fn stored_seqs(app: &TestApp, chat: i64, after: i64) -> BTreeSet<i64> {
    app.ints(&format!(
        "SELECT seq FROM events WHERE chat_id = {chat} AND seq > {after}"
    ))
    .await
    .into_iter()
    .collect()
}

/// One sender's share of the burst: sends, edits, reactions and deletions of their own.
async fn changes(person: &Person<'_>, chat: i64, n: usize) {
    let mut mine: Vec<i64> = Vec::new();
    // Reactions alternate on and off, so that each call changes something.
    let mut reacted = std::collections::HashSet::new();
    let path = |tail: &str| format!("/api/chats/{chat}/messages{tail}");
    for i in 0..n {
        match (i % 10, mine.last().copied()) {
            (0..=3, _) | (_, None) => {
                let sent = person.say(chat, &format!("{} {i}", person.name)).await;
                mine.push(sent["id"].as_i64().expect("an id"));
            }
            (4 | 5, Some(last)) => {
                let response = person
                    .patch(
                        &path(&format!("/{last}")),
                        json!({ "body": format!("edited {i}") }),
                    )
                    .await;
                assert_eq!(response.status(), Status::Ok);
            }
            (6 | 7, Some(last)) => {
                let emoji = if i % 20 < 10 {
                    "%F0%9F%91%8D"
                } else {
                    "%F0%9F%8E%89"
                };
                let method = if reacted.insert((last, emoji)) {
                    "PUT"
                } else {
                    reacted.remove(&(last, emoji));
                    "DELETE"
                };
                let reaction = path(&format!("/{last}/reactions/{emoji}"));
                let response = person.send(method, &reaction, json!({})).await;
                assert_eq!(response.status(), Status::Ok);
            }
            (8, Some(last)) => {
                let response = person
                    .send("DELETE", &path(&format!("/{last}")), json!({}))
                    .await;
                assert_eq!(response.status(), Status::NoContent);
                mine.pop();
            }
            (_, Some(_)) => {
                let response = person
                    .patch(
                        &format!("/api/chats/{chat}"),
                        json!({ "title": format!("Team {i}") }),
                    )
                    .await;
                assert_eq!(response.status(), Status::Ok);
            }
        }
    }
}

#[rocket::async_test]
async fn a_reconnect_in_the_middle_of_500_mixed_changes_misses_and_repeats_nothing() {
    let app = TestApp::new().await;
    let reader = app.signup("reader").await;
    let mut senders = Vec::new();
    for n in 0..5 {
        senders.push(app.signup(&format!("sender{n}")).await);
    }
    let start = reader.cursor_now().await;
    let names: Vec<&str> = senders.iter().map(|s| s.name.as_str()).collect();
    let chat = reader.group("Team", &names).await;

    let burst = async {
        let all = senders.iter().map(|s| changes(s, chat, 100));
        rocket::futures::future::join_all(all).await;
    };
    let read = async {
        let mut seen = Vec::new();
        let mut after = start;
        for round in 0.. {
            // Now and then the tab drops its poll mid-flight and comes back with its cursor.
            if round % 7 == 3 {
                let dropped = tokio::time::timeout(Duration::from_millis(5), reader.poll(after, 2));
                let _ = dropped.await;
                continue;
            }
            let update = reader.poll(after, 1).await;
            seen.extend(events(&update).clone());
            after = cursor(&update);
            if seen.len() > 5 && events(&update).is_empty() {
                break;
            }
        }
        (seen, after)
    };
    let ((), (mut seen, after)) = tokio::join!(burst, read);
    let (rest, _) = drain(&reader, after).await;
    seen.extend(rest);

    let got = seqs(&seen);
    let mut sorted = got.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(got, sorted, "in order, each once");
    let expected = stored_seqs(&app, chat, start).await;
    // 500 changes, and the group's creation.
    assert_eq!(expected.len(), 501, "events in the table");
    assert_eq!(
        got.into_iter().collect::<BTreeSet<_>>(),
        expected,
        "nothing missed"
    );
}

#[rocket::async_test]
async fn two_tabs_each_see_every_event_once() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let chat = alice.chat_with("bob").await;
    let start = bob.cursor_now().await;
    for n in 0..30 {
        alice.say(chat, &format!("m{n}")).await;
    }
    // Two tabs of one browser (one session): each has its own cursor.
    let (one, _) = drain(&bob, start).await;
    let (two, _) = drain(&bob, start).await;
    assert_eq!(seqs(&one), seqs(&two));
    assert_eq!(one.len(), 30);
}

#[rocket::async_test]
async fn a_cursor_carries_on_across_a_restart_of_the_server() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (before_restart, cursor_then, chat) = {
        let app = TestApp::over(dir.path()).await;
        let alice = app.signup("alice").await;
        app.signup("bob").await;
        let bob = app.login("bob", common::PASSWORD).await;
        let chat = alice.chat_with("bob").await;
        let start = bob.cursor_now().await;
        alice.say(chat, "seen before the restart").await;
        let (seen, cursor_then) = drain(&bob, start).await;
        assert_eq!(seen.len(), 1);
        // After bob's last answer, before the restart: it must still reach him.
        let unseen = alice.say(chat, "sent while bob was away").await;
        (unseen, cursor_then, chat)
    };
    let app = TestApp::over(dir.path()).await;
    let alice = app.login("alice", common::PASSWORD).await;
    let bob = app.login("bob", common::PASSWORD).await;
    let after_restart = alice.say(chat, "after the restart").await;
    let (seen, _) = drain(&bob, cursor_then).await;
    assert_eq!(kinds(&json!({ "events": seen })), ["message", "message"]);
    assert_eq!(seen[0]["message"]["id"], before_restart["id"]);
    assert_eq!(seen[1]["message"]["id"], after_restart["id"]);
}

#[rocket::async_test]
async fn a_cursor_older_than_what_is_kept_or_from_elsewhere_gets_410() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let old = {
        let app = TestApp::over(dir.path()).await;
        let alice = app.signup("alice").await;
        app.signup("bob").await;
        let chat = alice.chat_with("bob").await;
        let old = alice.cursor_now().await;
        for n in 0..5 {
            alice.say(chat, &format!("m{n}")).await;
        }
        // What `events_keep_days` would leave after a month.
        app.sql(&format!("DELETE FROM events WHERE seq <= {}", old + 3))
            .await;
        old
    };
    let app = TestApp::over(dir.path()).await;
    let alice = app.login("alice", common::PASSWORD).await;
    let response = alice.get(&format!("/api/updates?after={old}&wait=1")).await;
    expect_error(response, Status::Gone, "cursor_expired").await;
    // Past the end of the stream: a cursor from another (or a restored) database.
    let now = alice.cursor_now().await;
    let response = alice
        .get(&format!("/api/updates?after={}", now + 100))
        .await;
    expect_error(response, Status::Gone, "cursor_expired").await;
    // From the floor on, everything still kept comes.
    let (seen, _) = drain(&alice, old + 3).await;
    assert_eq!(seen.len(), 2);
}

#[rocket::async_test]
async fn events_older_than_events_keep_days_are_pruned() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (old, chat) = {
        let app = TestApp::over(dir.path()).await;
        let alice = app.signup("alice").await;
        app.signup("bob").await;
        let chat = alice.chat_with("bob").await;
        let old = alice.cursor_now().await;
        alice.say(chat, "long ago").await;
        app.sql("UPDATE events SET created_at = 0").await;
        (old, chat)
    };
    // The housekeeping at start prunes what is past `events_keep_days`.
    let app = TestApp::over(dir.path()).await;
    let alice = app.login("alice", common::PASSWORD).await;
    let mut pruned = false;
    for _ in 0..100 {
        if app.count("SELECT COUNT(*) FROM events").await == 0 {
            pruned = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(pruned, "old events are gone");
    // The message itself stays: only the stream forgets.
    assert_eq!(
        alice.history(chat, "").await["messages"][0]["body"],
        "long ago"
    );
    let mut answer = Status::Ok;
    for _ in 0..100 {
        answer = alice
            .get(&format!("/api/updates?after={old}"))
            .await
            .status();
        if answer == Status::Gone {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(answer, Status::Gone);
}
