//! `/api/updates`: the long poll that brings new messages and presence without a reload
//! (its event stream's promise is proved in `events.rs`).

use crate::common;

use std::time::{Duration, Instant};

use common::{bodies, cursor, events, expect_error, kinds, TestApp};
use rocket::http::Status;
use serde_json::Value;

#[rocket::async_test]
async fn bob_sees_alices_message_without_reload() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let chat = alice.chat_with("bob").await;
    let start = bob.cursor_now().await;

    let began = Instant::now();
    let (update, sent) = tokio::join!(bob.poll(start, 5), async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        alice.say(chat, "are you there?").await
    });
    let waited = began.elapsed();

    assert!(
        waited < Duration::from_secs(2),
        "the poll answered as soon as the message came, not after {waited:?}"
    );
    assert!(
        waited >= Duration::from_millis(150),
        "the poll waited for the message ({waited:?})"
    );
    let events = events(&update);
    assert_eq!(events.len(), 1, "{update}");
    assert_eq!(events[0]["type"], "message");
    assert_eq!(events[0]["chat_id"], chat);
    assert_eq!(events[0]["message"], sent, "the message exactly as stored");
    assert_eq!(cursor(&update), events[0]["seq"].as_i64().unwrap());
    assert!(cursor(&update) > start);
}

#[rocket::async_test]
async fn alice_hears_from_someone_new_without_reload() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let carol = app.signup("carol").await;
    let start = alice.cursor_now().await;

    // Carol opens a chat alice has never seen and writes while alice's poll waits.
    let began = Instant::now();
    let (update, sent) = tokio::join!(alice.poll(start, 5), async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let chat = carol.chat_with("alice").await;
        carol.say(chat, "hi, new here").await
    });
    assert!(
        began.elapsed() < Duration::from_secs(2),
        "{:?}",
        began.elapsed()
    );
    // The new chat first (as her list would show it), then what was said in it; or just
    // the chat, when the poll answered before the message: the next poll brings it.
    let mut update = update;
    if kinds(&update) == ["chat"] {
        update = alice.poll(cursor(&update), 5).await;
        assert_eq!(kinds(&update), ["message"]);
    } else {
        assert_eq!(kinds(&update), ["chat", "message"]);
    }
    assert_eq!(events(&update).last().unwrap()["message"], sent);
}

#[rocket::async_test]
async fn updates_have_the_contract_shape() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let start = bob.cursor_now().await;
    let chat = alice.chat_with("bob").await;
    let sent = alice.say(chat, "hi").await;
    let update = bob.poll(start, 0).await;
    let keys = common::keys(&update);
    assert_eq!(keys, ["cursor", "events", "presence", "receipts", "typing"]);
    let events = events(&update);
    assert_eq!(kinds(&update), ["chat", "message"]);
    for event in events {
        assert_eq!(event["chat_id"], chat);
        assert!(event["seq"].as_i64().unwrap() > start);
    }
    assert_eq!(common::keys(&events[0]), ["chat", "chat_id", "seq", "type"]);
    assert_eq!(
        events[0]["chat"],
        bob.chat(chat).await,
        "the chat as bob lists it"
    );
    assert_eq!(
        common::keys(&events[1]),
        ["chat_id", "message", "seq", "type"]
    );
    assert_eq!(events[1]["message"], sent);
    assert!(events[0]["seq"].as_i64() < events[1]["seq"].as_i64());
    for list in ["presence", "typing", "receipts"] {
        assert!(update[list].is_array(), "{list}");
    }
    assert_eq!(update["cursor"], events[1]["seq"]);
}

#[rocket::async_test]
async fn a_page_that_has_just_loaded_gets_the_cursor_and_nothing_else() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let chat = alice.chat_with("bob").await;
    alice.say(chat, "before bob's page loaded").await;
    let began = Instant::now();
    let update = bob.get_json("/api/updates?wait=5", Status::Ok).await;
    assert!(
        began.elapsed() < Duration::from_millis(500),
        "answered at once"
    );
    assert_eq!(update["events"], serde_json::json!([]));
    // Past the events so far: nothing before it comes again.
    let cursor = cursor(&update);
    assert!(bodies(&bob.poll(cursor, 0).await).is_empty());
}

#[rocket::async_test]
async fn an_idle_poll_returns_nothing_after_its_wait() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let chat = alice.chat_with("bob").await;
    alice.say(chat, "earlier").await;
    let now = bob.cursor_now().await;
    assert!(now > 0);

    let began = Instant::now();
    let update = bob.poll(now, 1).await;
    let waited = began.elapsed();
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(4),
        "held about a second, not {waited:?}"
    );
    assert!(events(&update).is_empty());
    assert_eq!(cursor(&update), now, "the cursor stays");
}

#[rocket::async_test]
async fn a_poll_without_wait_answers_at_once() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let chat = alice.chat_with("bob").await;
    alice.say(chat, "old news").await;
    let now = bob.cursor_now().await;

    for path in [
        format!("/api/updates?after={now}&wait=0"),
        format!("/api/updates?after={now}"),
    ] {
        let began = Instant::now();
        let update = bob.get_json(&path, Status::Ok).await;
        assert!(
            began.elapsed() < Duration::from_millis(500),
            "{path} took {:?}",
            began.elapsed()
        );
        assert!(events(&update).is_empty());
        assert_eq!(cursor(&update), now);
    }
}

#[rocket::async_test]
async fn a_poll_with_news_waiting_answers_at_once() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let chat = alice.chat_with("bob").await;
    let now = bob.cursor_now().await;
    alice.say(chat, "sent while bob was between polls").await;

    let began = Instant::now();
    let update = bob.poll(now, 5).await;
    assert!(began.elapsed() < Duration::from_millis(500));
    assert_eq!(bodies(&update), ["sent while bob was between polls"]);
}

#[rocket::async_test]
async fn a_long_wait_is_capped_by_the_server() {
    let app = TestApp::with(|c| c.poll_wait_max_s = 1).await;
    let bob = app.signup("bob").await;
    let now = bob.cursor_now().await;
    let began = Instant::now();
    let update = bob.poll(now, 30).await;
    let waited = began.elapsed();
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(3),
        "capped at one second, not {waited:?}"
    );
    assert!(bodies(&update).is_empty());
}

/// A `poll_wait_max_s` past `Duration`'s range made every long poll panic (a 500).
#[rocket::async_test]
async fn a_huge_poll_wait_max_s_cannot_break_the_long_poll() {
    let app = TestApp::with(|c| c.poll_wait_max_s = u64::MAX).await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let chat = alice.chat_with("bob").await;
    alice.say(chat, "still there?").await;
    let update = bob
        .get_json("/api/updates?after=0&wait=1e30", Status::Ok)
        .await;
    assert_eq!(bodies(&update), ["still there?"]);
}

#[rocket::async_test]
async fn alice_never_sees_messages_of_chats_she_is_not_in() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let carol = app.signup("carol").await;
    let ours = alice.chat_with("bob").await;
    let theirs = carol.chat_with("bob").await;
    carol.say(theirs, "secret for bob").await;
    bob.say(ours, "hi alice").await;

    let all = alice.poll(0, 0).await;
    assert_eq!(bodies(&all), ["hi alice"]);
    assert!(
        events(&all).iter().all(|e| e["chat_id"] == ours),
        "nothing of carol's chat: {all}"
    );
    let now = cursor(&all);

    // A message in someone else's chat does not even wake her poll.
    let (update, _) = tokio::join!(alice.poll(now, 1), async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        carol.say(theirs, "another secret").await
    });
    assert!(bodies(&update).is_empty(), "{update}");
    let later = alice.poll(cursor(&update), 0).await;
    assert!(bodies(&later).is_empty(), "{later}");

    // Bob sees both chats.
    assert_eq!(
        bodies(&bob.poll(0, 0).await),
        ["secret for bob", "hi alice", "another secret"]
    );
}

#[rocket::async_test]
async fn the_cursor_carries_on_without_repeats() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let carol = app.signup("carol").await;
    let direct = alice.chat_with("bob").await;
    let group = carol.group("Team", &["alice", "bob"]).await;

    alice.say(direct, "one").await;
    carol.say(group, "two").await;
    let first = bob.poll(0, 0).await;
    assert_eq!(bodies(&first), ["one", "two"], "every chat, oldest first");

    bob.say(group, "three").await;
    alice.say(direct, "four").await;
    let second = bob.poll(cursor(&first), 0).await;
    assert_eq!(bodies(&second), ["three", "four"], "only what is new");
    assert!(cursor(&second) > cursor(&first));

    let third = bob.poll(cursor(&second), 0).await;
    assert!(bodies(&third).is_empty());
    assert_eq!(cursor(&third), cursor(&second));
}

#[rocket::async_test]
async fn alice_sees_bob_come_online() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    // Alice's tab has loaded: its first poll starts its presence feed.
    let start = alice.cursor_now().await;

    let began = Instant::now();
    let (update, _) = tokio::join!(alice.poll(start, 5), async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        bob.cursor_now().await
    });
    assert!(
        began.elapsed() < Duration::from_secs(2),
        "woken by bob, not after {:?}",
        began.elapsed()
    );
    let presence = update["presence"].as_array().expect("a presence list");
    let entry = presence
        .iter()
        .find(|p| p["username"] == "bob")
        .unwrap_or_else(|| panic!("bob in {update}"));
    let keys = common::keys(entry);
    assert_eq!(keys, ["last_seen", "online", "user_id", "username"]);
    assert_eq!(entry["user_id"], bob.id);
    assert_eq!(entry["online"], true);
    let last_seen = entry["last_seen"].as_str().expect("last_seen is a time");
    time::OffsetDateTime::parse(last_seen, &time::format_description::well_known::Rfc3339)
        .expect("last_seen is RFC 3339");
    assert!(bodies(&update).is_empty());

    // Delivered once: the next poll does not repeat it.
    let next = alice.poll(cursor(&update), 0).await;
    assert!(next["presence"].as_array().unwrap().is_empty(), "{next}");

    // And the people list agrees.
    let people = alice.get_json("/api/users", Status::Ok).await;
    let listed = people
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["username"] == "bob")
        .unwrap()
        .clone();
    assert_eq!(listed["online"], true);
    assert!(listed["last_seen"].is_string());
}

/// Makes the team larger than a people list that shows everyone: `extra` more active
/// accounts, written straight into the table (nobody signs in as them).
async fn grow_team(app: &TestApp, extra: usize) {
    app.sql(&format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {extra})
         INSERT INTO users (username, username_key, username_skeleton, password_hash, created_at)
         SELECT 'extra' || i, 'extra' || i, 'extra-skeleton-' || i, 'x', 0 FROM n"
    ))
    .await;
}

fn presence_names(update: &Value) -> Vec<String> {
    update["presence"]
        .as_array()
        .expect("a presence list")
        .iter()
        .map(|p| p["username"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[rocket::async_test]
async fn in_a_large_team_alice_sees_only_the_people_she_shares_a_chat_with_come_online() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let carol = app.signup("carol").await;
    grow_team(&app, kanect::live::EVERYONE_UP_TO).await;
    alice.chat_with("bob").await;
    // Alice's page loads its people list (the team is counted) and its cursor.
    alice.get_json("/api/users", Status::Ok).await;
    let start = alice.cursor_now().await;

    // Carol, a stranger to alice, comes online, then bob, who shares a chat with her.
    let (update, _) = tokio::join!(alice.poll(start, 5), async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        carol.cursor_now().await;
        bob.cursor_now().await
    });
    assert_eq!(presence_names(&update), ["bob"], "{update}");
    assert_eq!(update["presence"][0]["online"], true);
    // Carol is not held back for later either.
    let next = alice.poll(cursor(&update), 0).await;
    assert!(presence_names(&next).is_empty(), "{next}");
}

#[rocket::async_test]
async fn in_a_large_team_a_new_group_brings_its_members_presence_to_alice() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let dave = app.signup("dave").await;
    grow_team(&app, kanect::live::EVERYONE_UP_TO).await;
    alice.get_json("/api/users", Status::Ok).await;
    let start = alice.cursor_now().await;

    // Bob puts alice and dave in a group: alice's poll brings the chat, and from then on
    // she sees dave.
    bob.group("planning", &["alice", "dave"]).await;
    let update = alice.poll(start, 5).await;
    assert_eq!(kinds(&update), ["chat"]);
    let (update, _) = tokio::join!(alice.poll(cursor(&update), 5), async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        dave.cursor_now().await
    });
    assert_eq!(presence_names(&update), ["dave"], "{update}");
}

#[rocket::async_test]
async fn malformed_after_or_wait_is_a_bad_request() {
    let app = TestApp::new().await;
    let bob = app.signup("bob").await;
    for query in [
        "after=abc",
        "after=-1",
        "after=1.5",
        "after=0&wait=abc",
        "after=0&wait=-1",
        "after=0&wait=NaN",
        "after=0&wait=inf",
    ] {
        let began = Instant::now();
        let response = bob.get(&format!("/api/updates?{query}")).await;
        assert_eq!(response.status(), Status::BadRequest, "?{query}");
        expect_error(response, Status::BadRequest, "bad_request").await;
        assert!(began.elapsed() < Duration::from_millis(500), "?{query}");
    }
}

#[rocket::async_test]
async fn strangers_cannot_poll() {
    let app = TestApp::new().await;
    for path in ["/api/updates", "/api/updates?after=0&wait=5"] {
        let began = Instant::now();
        let response = app.anonymous("GET", path).await;
        expect_error(response, Status::Unauthorized, "not_signed_in").await;
        assert!(
            began.elapsed() < Duration::from_millis(500),
            "not held open"
        );
    }
}

/// Bob's poll, held open while `meanwhile` runs; its status and body.
async fn bob_polls_while<F: std::future::Future<Output = ()>>(
    bob: &common::Person<'_>,
    meanwhile: F,
) -> (Status, Value) {
    let after = bob.cursor_now().await;
    // Long enough that nothing but the change ends it, however slow argon2 is today.
    let path = format!("/api/updates?after={after}&wait=60");
    let (response, ()) = tokio::join!(bob.get(&path), async {
        // Long enough for the poll to be waiting.
        tokio::time::sleep(Duration::from_millis(300)).await;
        meanwhile.await
    });
    let status = response.status();
    (status, response.into_json().await.unwrap_or_default())
}

#[rocket::async_test]
async fn a_waiting_poll_ends_when_its_person_is_deactivated() {
    let app = TestApp::with(|config| config.poll_wait_max_s = 60).await;
    let root = app.admin("root", "superuser").await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let chat = alice.chat_with("bob").await;
    let (status, body) = bob_polls_while(&bob, async {
        // The change form without `is_active` unticks it.
        let fields = [("username", "bob"), ("role", "member"), ("email", "")];
        let path = format!("/admin/users/{}/change/", bob.id);
        assert_eq!(
            root.post_form(&path, &fields).await.status(),
            Status::SeeOther
        );
        alice.say(chat, "sent after bob was deactivated").await;
    })
    .await;
    assert_eq!(status, Status::Unauthorized, "{body}");
    assert!(!body.to_string().contains("deactivated"));
}

#[rocket::async_test]
async fn a_waiting_poll_ends_when_its_session_signs_out_and_others_carry_on() {
    let app = TestApp::with(|config| config.poll_wait_max_s = 60).await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let laptop = app.login("bob", common::PASSWORD).await;
    let chat = alice.chat_with("bob").await;
    let (status, _) = bob_polls_while(&bob, async {
        assert_eq!(
            bob.post_form("/logout", &[]).await.status(),
            Status::SeeOther
        );
        alice.say(chat, "after the sign-out").await;
    })
    .await;
    assert_eq!(status, Status::Unauthorized);
    // The same person's other session still hears everything.
    let (status, body) = bob_polls_while(&laptop, async {
        let other = app.login("bob", common::PASSWORD).await;
        assert_eq!(
            other.post_form("/logout", &[]).await.status(),
            Status::SeeOther
        );
        alice.say(chat, "for the laptop").await;
    })
    .await;
    assert_eq!(status, Status::Ok);
    assert_eq!(bodies(&body), ["for the laptop"]);
}

#[rocket::async_test]
async fn a_waiting_poll_ends_when_an_admin_sets_a_new_password() {
    let app = TestApp::with(|config| config.poll_wait_max_s = 60).await;
    let root = app.admin("root", "superuser").await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let chat = alice.chat_with("bob").await;
    let (status, _) = bob_polls_while(&bob, async {
        let path = format!("/admin/users/{}/password/", bob.id);
        let new = "another-long-passphrase-7";
        let fields = [("password1", new), ("password2", new)];
        assert_eq!(
            root.post_form(&path, &fields).await.status(),
            Status::SeeOther
        );
        alice.say(chat, "after the new password").await;
    })
    .await;
    assert_eq!(status, Status::Unauthorized);
}
