//! Sending and reading messages: validation, history paging, read marks, closed chats,
//! concurrency and the archive.

use crate::common;

use std::collections::HashSet;

use common::{expect_error, expect_invalid, Person, TestApp};
use rocket::futures::future::join_all;
use rocket::http::{ContentType, Status};
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Alice and Bob in a direct chat.
async fn alice_and_bob(app: &TestApp) -> (Person<'_>, Person<'_>, i64) {
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let chat = alice.chat_with("bob").await;
    (alice, bob, chat)
}

fn messages_path(chat: i64) -> String {
    format!("/api/chats/{chat}/messages")
}

fn ids(page: &Value) -> Vec<i64> {
    page["messages"]
        .as_array()
        .expect("a list of messages")
        .iter()
        .map(|m| m["id"].as_i64().expect("message id"))
        .collect()
}

fn bodies(page: &Value) -> Vec<String> {
    page["messages"]
        .as_array()
        .expect("a list of messages")
        .iter()
        .map(|m| m["body"].as_str().expect("message body").to_owned())
        .collect()
}

/// Asserts that sending `body` (as JSON) is refused as invalid, naming the `body` field.
async fn assert_body_refused(alice: &Person<'_>, chat: i64, body: Value) {
    let response = alice
        .post(&messages_path(chat), json!({ "body": body }))
        .await;
    expect_invalid(response, "body").await;
}

#[rocket::async_test]
async fn alice_sends_bob_a_message_and_gets_it_back_as_stored() {
    let app = TestApp::new().await;
    let (alice, bob, chat) = alice_and_bob(&app).await;
    let before = OffsetDateTime::now_utc();
    let response = alice
        .post(&messages_path(chat), json!({ "body": "hello bob" }))
        .await;
    assert_eq!(response.status(), Status::Created);
    assert_eq!(response.content_type(), Some(ContentType::JSON));
    let sent: Value = response.into_json().await.unwrap();

    let keys = common::keys(&sent);
    assert_eq!(
        keys,
        [
            "added_by",
            "attachments",
            "body",
            "chat_id",
            "created_at",
            "edited_at",
            "id",
            "mentions",
            "reactions",
            "sender",
            "sender_avatar_url",
            "sender_display_name"
        ]
    );
    assert!(sent["id"].as_i64().unwrap() > 0);
    assert_eq!(sent["chat_id"], chat);
    assert_eq!(sent["sender"], "alice");
    assert_eq!(sent["body"], "hello bob");
    assert!(sent["edited_at"].is_null());
    assert!(sent["added_by"].is_null(), "alice sent it herself");
    let created = OffsetDateTime::parse(sent["created_at"].as_str().unwrap(), &Rfc3339)
        .expect("created_at is RFC 3339");
    let after = OffsetDateTime::now_utc();
    assert!(
        created >= before - time::Duration::seconds(1)
            && created <= after + time::Duration::seconds(1),
        "created_at {created} is now"
    );

    let history = bob.history(chat, "").await;
    assert_eq!(
        history["messages"],
        json!([sent]),
        "bob reads the same message"
    );
    assert_eq!(history["cursor"], sent["id"]);
}

#[rocket::async_test]
async fn a_message_is_trimmed_but_keeps_its_inner_lines() {
    let app = TestApp::new().await;
    let (alice, _bob, chat) = alice_and_bob(&app).await;
    let sent = alice.say(chat, "  \n hi there \r\nsecond line\t \n").await;
    assert_eq!(sent["body"], "hi there \nsecond line");
    let history = alice.history(chat, "").await;
    assert_eq!(bodies(&history), ["hi there \nsecond line"]);
}

#[rocket::async_test]
async fn a_message_may_have_4000_characters_but_not_4001() {
    let app = TestApp::new().await;
    let (alice, _bob, chat) = alice_and_bob(&app).await;

    let longest = "x".repeat(4000);
    assert_eq!(alice.say(chat, &longest).await["body"], longest.as_str());
    // Characters, not bytes: 4000 two-byte characters are fine too.
    let accents = "é".repeat(4000);
    assert_eq!(alice.say(chat, &accents).await["body"], accents.as_str());
    // Surrounding spaces do not count.
    let padded = format!("  {longest}  ");
    assert_eq!(alice.say(chat, &padded).await["body"], longest.as_str());

    assert_body_refused(&alice, chat, json!("x".repeat(4001))).await;
    assert_body_refused(&alice, chat, json!("é".repeat(4001))).await;
    assert_eq!(ids(&alice.history(chat, "").await).len(), 3);
}

#[rocket::async_test]
async fn an_empty_or_blank_message_is_refused() {
    let app = TestApp::new().await;
    let (alice, _bob, chat) = alice_and_bob(&app).await;
    for body in ["", " ", " \n\t \r\n "] {
        assert_body_refused(&alice, chat, json!(body)).await;
    }
    assert!(ids(&alice.history(chat, "").await).is_empty());
    assert!(alice.chat(chat).await["last_message"].is_null());
}

#[rocket::async_test]
async fn a_message_of_only_invisible_characters_is_refused_as_empty() {
    let app = TestApp::new().await;
    let (alice, _bob, chat) = alice_and_bob(&app).await;
    for body in [
        "\u{200B}",                                 // zero-width space
        "\u{200B}\u{200C}\u{200D}\u{200E}\u{200F}", // zero-width and direction marks
        "\u{2060}\u{FEFF}",                         // word joiner, byte order mark
        "\u{3164}\u{3164}",                         // Hangul filler
        "\u{202E}\u{2066}\u{2069}",                 // bidi controls
        "\u{FE0F}",                                 // a variation selector alone
        " \u{200B}\n\u{2800} ",                     // blank Braille among spaces
    ] {
        let response = alice
            .post(&messages_path(chat), json!({ "body": body }))
            .await;
        let error = expect_invalid(response, "body").await;
        assert_eq!(
            error["error"]["message"], "Write a message first.",
            "{body:?}"
        );
    }
    assert!(ids(&alice.history(chat, "").await).is_empty());
    // Joiners and selectors inside something visible are part of it.
    for body in ["👩\u{200D}💻", "❤\u{FE0F}", "ok\u{200B}", "\u{202E}olleh"] {
        assert_eq!(alice.say(chat, body).await["body"], body);
    }
}

#[rocket::async_test]
async fn malformed_json_is_a_bad_request() {
    let app = TestApp::new().await;
    let (alice, _bob, chat) = alice_and_bob(&app).await;
    for raw in ["{\"body\": \"hi\"", "not json", "", "{'body': 'hi'}"] {
        let response = alice
            .send_raw("POST", &messages_path(chat), ContentType::JSON, raw)
            .await;
        expect_error(response, Status::BadRequest, "bad_request").await;
    }
    assert!(ids(&alice.history(chat, "").await).is_empty());
}

#[rocket::async_test]
async fn json_followed_by_garbage_is_a_bad_request() {
    let app = TestApp::new().await;
    let (alice, _bob, chat) = alice_and_bob(&app).await;
    for raw in [
        "{\"body\": \"hi\"} trailing",
        "{\"body\": \"one\"}{\"body\": \"two\"}",
    ] {
        let response = alice
            .send_raw("POST", &messages_path(chat), ContentType::JSON, raw)
            .await;
        assert_eq!(response.status(), Status::BadRequest, "{raw:?} is not JSON");
        expect_error(response, Status::BadRequest, "bad_request").await;
    }
    assert!(ids(&alice.history(chat, "").await).is_empty());
}

#[rocket::async_test]
async fn json_of_the_wrong_shape_is_invalid() {
    let app = TestApp::new().await;
    let (alice, _bob, chat) = alice_and_bob(&app).await;
    for body in [
        json!(5),
        json!(null),
        json!(["hi"]),
        json!({ "text": "hi" }),
    ] {
        assert_body_refused(&alice, chat, body).await;
    }
    let response = alice.post(&messages_path(chat), json!({})).await;
    expect_invalid(response, "body").await;
}

#[rocket::async_test]
async fn a_body_that_is_not_json_is_a_bad_request() {
    let app = TestApp::new().await;
    let (alice, _bob, chat) = alice_and_bob(&app).await;
    let response = alice
        .send_raw(
            "POST",
            &messages_path(chat),
            ContentType::Plain,
            "{\"body\": \"hi\"}",
        )
        .await;
    expect_error(response, Status::BadRequest, "bad_request").await;
    let response = alice
        .send_raw("POST", &messages_path(chat), ContentType::Form, "body=hi")
        .await;
    expect_error(response, Status::BadRequest, "bad_request").await;
    assert!(ids(&alice.history(chat, "").await).is_empty());
}

#[rocket::async_test]
async fn a_huge_body_is_too_large() {
    let app = TestApp::new().await;
    let (alice, _bob, chat) = alice_and_bob(&app).await;
    let huge = json!({ "body": "x".repeat(100 * 1024) }).to_string();
    let response = alice
        .send_raw("POST", &messages_path(chat), ContentType::JSON, huge)
        .await;
    expect_error(response, Status::PayloadTooLarge, "too_large").await;
    assert!(ids(&alice.history(chat, "").await).is_empty());
}

#[rocket::async_test]
async fn bob_reads_history_oldest_first_and_pages_upwards() {
    let app = TestApp::new().await;
    let (alice, bob, chat) = alice_and_bob(&app).await;
    let mut sent = Vec::new();
    for n in 1..=7 {
        let who = if n % 2 == 0 { &bob } else { &alice };
        sent.push(
            who.say(chat, &format!("m{n}")).await["id"]
                .as_i64()
                .unwrap(),
        );
    }

    let all = bob.history(chat, "").await;
    assert_eq!(ids(&all), sent, "oldest first");
    assert_eq!(all["cursor"], sent[6]);

    // The newest page first, then upwards with `before`.
    let newest = bob.history(chat, "limit=3").await;
    assert_eq!(bodies(&newest), ["m5", "m6", "m7"]);
    assert_eq!(newest["cursor"], sent[6]);
    let older = bob
        .history(chat, &format!("limit=3&before={}", sent[4]))
        .await;
    assert_eq!(bodies(&older), ["m2", "m3", "m4"]);
    let oldest = bob
        .history(chat, &format!("limit=3&before={}", sent[1]))
        .await;
    assert_eq!(bodies(&oldest), ["m1"]);
    let nothing = bob
        .history(chat, &format!("limit=3&before={}", sent[0]))
        .await;
    assert!(ids(&nothing).is_empty());

    // Downwards with `after`, continuing from `cursor`.
    let newer = bob.history(chat, &format!("after={}", sent[3])).await;
    assert_eq!(bodies(&newer), ["m5", "m6", "m7"]);
    assert_eq!(newer["cursor"], sent[6]);
    let first_two = bob.history(chat, "after=0&limit=2").await;
    assert_eq!(bodies(&first_two), ["m1", "m2"]);
    let next_two = bob
        .history(chat, &format!("after={}&limit=2", first_two["cursor"]))
        .await;
    assert_eq!(bodies(&next_two), ["m3", "m4"]);

    // Nothing new: no messages, and the cursor stays where it was.
    let caught_up = bob.history(chat, &format!("after={}", sent[6])).await;
    assert!(ids(&caught_up).is_empty());
    assert_eq!(caught_up["cursor"], sent[6]);

    // Both bounds.
    let between = bob
        .history(chat, &format!("after={}&before={}", sent[1], sent[5]))
        .await;
    assert_eq!(bodies(&between), ["m3", "m4", "m5"]);
}

#[rocket::async_test]
async fn history_of_an_empty_chat_is_empty() {
    let app = TestApp::new().await;
    let (alice, _bob, chat) = alice_and_bob(&app).await;
    let page = alice.history(chat, "").await;
    assert_eq!(page, json!({ "messages": [], "cursor": 0 }));
}

#[rocket::async_test]
async fn history_with_a_malformed_query_is_a_bad_request() {
    let app = TestApp::new().await;
    let (alice, _bob, chat) = alice_and_bob(&app).await;
    for query in [
        "after=abc",
        "after=-1",
        "before=abc",
        "after=1.5",
        "limit=many",
        "limit=-5",
    ] {
        let response = alice.get(&format!("{}?{query}", messages_path(chat))).await;
        assert_eq!(response.status(), Status::BadRequest, "?{query}");
        expect_error(response, Status::BadRequest, "bad_request").await;
    }
}

#[rocket::async_test]
async fn bob_marks_messages_read_and_the_mark_never_moves_back() {
    let app = TestApp::new().await;
    let (alice, bob, chat) = alice_and_bob(&app).await;
    let mut sent = Vec::new();
    for n in 1..=3 {
        sent.push(
            alice.say(chat, &format!("m{n}")).await["id"]
                .as_i64()
                .unwrap(),
        );
    }
    assert_eq!(bob.chat(chat).await["unread"], 3);

    let read_path = format!("/api/chats/{chat}/read");
    let after_first = bob
        .post_json(&read_path, json!({ "up_to": sent[0] }), Status::Ok)
        .await;
    assert_eq!(after_first["id"], chat, "answers with the chat");
    assert_eq!(after_first["unread"], 2);

    let all_read = bob
        .post_json(&read_path, json!({ "up_to": sent[2] }), Status::Ok)
        .await;
    assert_eq!(all_read["unread"], 0);
    assert_eq!(bob.chat(chat).await["unread"], 0);

    // An older tab reporting an older mark does not bring messages back.
    let stale = bob
        .post_json(&read_path, json!({ "up_to": sent[0] }), Status::Ok)
        .await;
    assert_eq!(stale["unread"], 0);
    assert_eq!(bob.chat(chat).await["unread"], 0);

    // A mark past the newest message does not swallow the next one.
    bob.post_json(&read_path, json!({ "up_to": sent[2] + 1000 }), Status::Ok)
        .await;
    alice.say(chat, "m4").await;
    assert_eq!(bob.chat(chat).await["unread"], 1);

    // Alice's own view is untouched by Bob's marks.
    assert_eq!(alice.chat(chat).await["unread"], 0);
}

#[rocket::async_test]
async fn marking_read_needs_a_message_id() {
    let app = TestApp::new().await;
    let (_alice, bob, chat) = alice_and_bob(&app).await;
    let read_path = format!("/api/chats/{chat}/read");
    for body in [json!({}), json!({ "up_to": "last" })] {
        let response = bob.post(&read_path, body).await;
        expect_invalid(response, "up_to").await;
    }
}

#[rocket::async_test]
async fn a_closed_chat_can_be_read_but_not_written_to() {
    let app = TestApp::new().await;
    let (alice, bob, chat) = alice_and_bob(&app).await;
    alice.say(chat, "before closing").await;
    app.sql(&format!(
        "UPDATE chats SET status = 'closed' WHERE id = {chat}"
    ))
    .await;

    assert_eq!(bob.chat(chat).await["status"], "closed");
    assert_eq!(bodies(&bob.history(chat, "").await), ["before closing"]);
    for person in [&alice, &bob] {
        let response = person
            .post(&messages_path(chat), json!({ "body": "still there?" }))
            .await;
        expect_error(response, Status::Forbidden, "forbidden").await;
    }
    assert_eq!(bodies(&bob.history(chat, "").await), ["before closing"]);
    // Reading still moves the mark.
    let last = bob.chat(chat).await["last_message"]["id"].clone();
    let read = bob
        .post_json(
            &format!("/api/chats/{chat}/read"),
            json!({ "up_to": last }),
            Status::Ok,
        )
        .await;
    assert_eq!(read["unread"], 0);
}

#[rocket::async_test]
async fn alice_and_bob_typing_at_once_lose_nothing() {
    let app = TestApp::new().await;
    let (alice, bob, chat) = alice_and_bob(&app).await;
    const EACH: usize = 15;
    let path = messages_path(chat);
    let sends = (0..EACH).flat_map(|n| {
        [
            alice.post(&path, json!({ "body": format!("alice {n}") })),
            bob.post(&path, json!({ "body": format!("bob {n}") })),
        ]
    });
    let responses = join_all(sends).await;

    let mut sent_ids = HashSet::new();
    let mut sent_bodies = HashSet::new();
    for response in responses {
        assert_eq!(response.status(), Status::Created);
        let message: Value = response.into_json().await.unwrap();
        assert!(
            sent_ids.insert(message["id"].as_i64().unwrap()),
            "distinct ids"
        );
        sent_bodies.insert(message["body"].as_str().unwrap().to_owned());
    }
    assert_eq!(sent_ids.len(), 2 * EACH);

    let history = alice.history(chat, "limit=200").await;
    let stored_ids = ids(&history);
    assert_eq!(stored_ids.len(), 2 * EACH, "each stored exactly once");
    assert_eq!(stored_ids.iter().copied().collect::<HashSet<_>>(), sent_ids);
    let mut sorted = stored_ids.clone();
    sorted.sort_unstable();
    assert_eq!(stored_ids, sorted, "oldest first");
    assert_eq!(
        bodies(&history).into_iter().collect::<HashSet<_>>(),
        sent_bodies
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM messages WHERE chat_id = {chat}"
        ))
        .await,
        2 * EACH as i64
    );
}

#[rocket::async_test]
async fn a_sent_message_is_on_disk_when_the_answer_comes() {
    let app = TestApp::new().await;
    let (alice, _bob, chat) = alice_and_bob(&app).await;
    for n in 1..=40 {
        let sent = alice.say(chat, &format!("durable {n}")).await;
        // Read straight from the file, on a connection of its own.
        let stored = app
            .count(&format!(
                "SELECT COUNT(*) FROM messages WHERE id = {}",
                sent["id"]
            ))
            .await;
        assert_eq!(stored, 1, "message {n} is stored when its 201 arrives");
    }
}

#[rocket::async_test]
async fn alices_own_message_is_not_unread_for_her() {
    let app = TestApp::new().await;
    let (alice, bob, chat) = alice_and_bob(&app).await;
    bob.say(chat, "question?").await;
    assert_eq!(alice.chat(chat).await["unread"], 1);
    // Answering reads everything up to her answer.
    alice.say(chat, "answer").await;
    assert_eq!(alice.chat(chat).await["unread"], 0);
    assert_eq!(bob.chat(chat).await["unread"], 1);
}

#[rocket::async_test]
async fn a_new_message_brings_an_archived_chat_back_for_bob() {
    let app = TestApp::new().await;
    let (alice, bob, chat) = alice_and_bob(&app).await;
    let response = bob
        .patch(&format!("/api/chats/{chat}"), json!({ "archived": true }))
        .await;
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(bob.chat(chat).await["archived"], true);

    alice.say(chat, "are you there?").await;
    let back = bob.chat(chat).await;
    assert_eq!(back["archived"], false);
    assert_eq!(back["unread"], 1);
}

#[rocket::async_test]
async fn script_in_a_message_comes_back_verbatim_as_json() {
    let app = TestApp::new().await;
    let (alice, bob, chat) = alice_and_bob(&app).await;
    let payload = "<script>alert(1)</script> & \"quotes\" <img src=x onerror=alert(2)>";
    let response = alice
        .post(&messages_path(chat), json!({ "body": payload }))
        .await;
    assert_eq!(response.status(), Status::Created);
    assert_eq!(response.content_type(), Some(ContentType::JSON));
    let sent: Value = response.into_json().await.unwrap();
    assert_eq!(sent["body"], payload);

    let response = bob.get(&messages_path(chat)).await;
    assert_eq!(response.content_type(), Some(ContentType::JSON));
    let history: Value = response.into_json().await.unwrap();
    assert_eq!(bodies(&history), [payload]);
    assert_eq!(bob.chat(chat).await["last_message"]["body"], payload);
}

#[rocket::async_test]
async fn control_characters_in_a_message_are_refused() {
    let app = TestApp::new().await;
    let (alice, _bob, chat) = alice_and_bob(&app).await;
    assert_body_refused(&alice, chat, json!("bell\u{7}")).await;
    assert_body_refused(&alice, chat, json!("nul\u{0}byte")).await;
}
