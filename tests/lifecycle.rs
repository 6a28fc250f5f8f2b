//! The message lifecycle and group management (contract v2): edits, deletions, reactions,
//! mentions, receipts, typing, renaming, adding and removing people. Each change reaches
//! the other members' open tabs as an event.

use crate::common;

use common::{cursor, events, expect_error, expect_invalid, kinds, Person, TestApp};
use rocket::http::Status;
use serde_json::{json, Value};

const THUMBS_UP: &str = "%F0%9F%91%8D";
const HEART: &str = "%E2%9D%A4";
const HEART_QUALIFIED: &str = "%E2%9D%A4%EF%B8%8F";

fn message_path(chat: i64, message: &Value) -> String {
    format!("/api/chats/{chat}/messages/{}", message["id"])
}

/// The events of `person`'s next answer after `after`.
async fn next(person: &Person<'_>, after: i64) -> Value {
    person.poll(after, 2).await
}

#[rocket::async_test]
async fn alice_edits_her_message_and_bob_sees_the_new_text() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let chat = alice.chat_with("bob").await;
    let sent = alice.say(chat, "helo").await;
    let start = bob.cursor_now().await;

    let response = alice
        .patch(&message_path(chat, &sent), json!({ "body": " hello " }))
        .await;
    assert_eq!(response.status(), Status::Ok);
    let edited: Value = response.into_json().await.expect("the message");
    assert_eq!(edited["body"], "hello");
    assert_eq!(edited["id"], sent["id"]);
    assert!(edited["edited_at"].is_string());

    let update = next(&bob, start).await;
    assert_eq!(kinds(&update), ["message_edited"]);
    assert_eq!(events(&update)[0]["message"], edited);
    assert_eq!(bob.history(chat, "").await["messages"][0], edited);
}

#[rocket::async_test]
async fn only_the_sender_edits_and_bad_edits_change_nothing() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let carol = app.signup("carol").await;
    let chat = alice.chat_with("bob").await;
    let other = carol.chat_with("bob").await;
    let sent = alice.say(chat, "mine").await;
    let theirs = carol.say(other, "not in alice's chat").await;

    let response = bob
        .patch(&message_path(chat, &sent), json!({ "body": "x" }))
        .await;
    expect_error(response, Status::Forbidden, "forbidden").await;
    let response = alice
        .patch(
            &message_path(chat, &sent),
            json!({ "body": "x".repeat(4001) }),
        )
        .await;
    expect_invalid(response, "body").await;
    // A message of another chat, an unknown one, and a chat she is not in: 404 alike.
    for path in [
        message_path(chat, &theirs),
        format!("/api/chats/{chat}/messages/999999"),
        message_path(other, &theirs),
    ] {
        let response = alice.patch(&path, json!({ "body": "x" })).await;
        expect_error(response, Status::NotFound, "not_found").await;
    }
    let response = alice
        .send_token(
            "PATCH",
            &message_path(chat, &sent),
            None,
            json!({ "body": "x" }),
        )
        .await;
    expect_error(response, Status::Forbidden, "csrf").await;
    assert_eq!(bob.history(chat, "").await["messages"][0]["body"], "mine");
}

#[rocket::async_test]
async fn a_deleted_message_is_erased_and_leaves_every_tab() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let chat = alice.chat_with("bob").await;
    let first = alice.say(chat, "stays").await;
    let doomed = alice.say(chat, "my secret, sent by mistake").await;
    let path = message_path(chat, &doomed);
    alice
        .send("PUT", &format!("{path}/reactions/{THUMBS_UP}"), json!({}))
        .await;
    let start = bob.cursor_now().await;

    let response = bob.send("DELETE", &path, json!({})).await;
    expect_error(response, Status::Forbidden, "forbidden").await;
    assert_eq!(
        alice.send("DELETE", &path, json!({})).await.status(),
        Status::NoContent
    );

    let update = next(&bob, start).await;
    assert_eq!(kinds(&update), ["message_deleted"]);
    assert_eq!(events(&update)[0]["message_id"], doomed["id"]);
    let history = bob.history(chat, "").await;
    assert_eq!(history["messages"].as_array().map(Vec::len), Some(1));
    assert_eq!(history["messages"][0]["id"], first["id"]);
    assert_eq!(bob.chat(chat).await["last_message"]["id"], first["id"]);
    // Erased, not hidden: the row stays as a tombstone without its words.
    let id = doomed["id"].as_i64().unwrap();
    let words = app
        .count(&format!(
            "SELECT COUNT(*) FROM messages WHERE id = {id} AND body = '' AND deleted_at IS NOT NULL"
        ))
        .await;
    assert_eq!(words, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM reactions").await, 0);
    // Gone for good: a second deletion, an edit or a reaction find nothing.
    let response = alice.send("DELETE", &path, json!({})).await;
    expect_error(response, Status::NotFound, "not_found").await;
    let response = alice.patch(&path, json!({ "body": "back" })).await;
    expect_error(response, Status::NotFound, "not_found").await;
}

#[rocket::async_test]
async fn staff_may_delete_anyones_message() {
    let app = TestApp::new().await;
    let root = app.admin("root", "staff").await;
    let bob = app.signup("bob").await;
    let chat = bob.chat_with("root").await;
    let sent = bob.say(chat, "out of line").await;
    let response = root
        .send("DELETE", &message_path(chat, &sent), json!({}))
        .await;
    assert_eq!(response.status(), Status::NoContent);
    assert_eq!(bob.history(chat, "").await["messages"], json!([]));
}

#[rocket::async_test]
async fn reactions_toggle_idempotently_in_first_use_order() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let chat = alice.chat_with("bob").await;
    let sent = bob.say(chat, "lunch?").await;
    let path = message_path(chat, &sent);
    let start = bob.cursor_now().await;

    for _ in 0..2 {
        let response = alice
            .send("PUT", &format!("{path}/reactions/{THUMBS_UP}"), json!({}))
            .await;
        assert_eq!(response.status(), Status::Ok);
        let message: Value = response.into_json().await.unwrap();
        assert_eq!(
            message["reactions"],
            json!([{ "emoji": "👍", "users": ["alice"] }])
        );
    }
    bob.send("PUT", &format!("{path}/reactions/{HEART}"), json!({}))
        .await;
    let response = bob
        .send("PUT", &format!("{path}/reactions/{THUMBS_UP}"), json!({}))
        .await;
    let message: Value = response.into_json().await.unwrap();
    assert_eq!(
        message["reactions"],
        json!([
            { "emoji": "👍", "users": ["alice", "bob"] },
            { "emoji": "❤️", "users": ["bob"] },
        ])
    );
    // "❤" and "❤️" are one reaction.
    let response = bob
        .send(
            "DELETE",
            &format!("{path}/reactions/{HEART_QUALIFIED}"),
            json!({}),
        )
        .await;
    let message: Value = response.into_json().await.unwrap();
    assert_eq!(
        message["reactions"],
        json!([{ "emoji": "👍", "users": ["alice", "bob"] }])
    );
    let response = bob
        .send("DELETE", &format!("{path}/reactions/{HEART}"), json!({}))
        .await;
    assert_eq!(
        response.status(),
        Status::Ok,
        "taking back what is not there changes nothing"
    );

    // Each change once in the stream (the repeated PUT and DELETE made none).
    let update = next(&alice, start).await;
    assert_eq!(
        kinds(&update),
        ["reaction", "reaction", "reaction", "reaction"]
    );
    assert_eq!(events(&update)[3]["message"], message);
}

#[rocket::async_test]
async fn a_reaction_is_one_emoji_and_a_message_takes_twenty() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    app.signup("bob").await;
    let chat = alice.chat_with("bob").await;
    let sent = alice.say(chat, "react to me").await;
    let path = message_path(chat, &sent);
    for bad in [
        "a",
        "%F0%9F%91%8D%F0%9F%91%8D",
        "%3Cb%3E",
        "%20",
        "%E2%80%8B",
    ] {
        let response = alice
            .send("PUT", &format!("{path}/reactions/{bad}"), json!({}))
            .await;
        expect_invalid(response, "emoji").await;
    }
    let emoji = [
        "😀", "😃", "😄", "😁", "😆", "😅", "🤣", "😂", "🙂", "🙃", "😉", "😊", "😇", "🥰", "😍",
        "🤩", "😘", "😗", "😚", "😙", "😋",
    ];
    for (n, e) in emoji.iter().enumerate() {
        let encoded = rocket::http::RawStr::new(e).percent_encode().to_string();
        let response = alice
            .send("PUT", &format!("{path}/reactions/{encoded}"), json!({}))
            .await;
        if n < 20 {
            assert_eq!(response.status(), Status::Ok, "reaction {n}");
        } else {
            expect_invalid(response, "emoji").await;
        }
    }
}

#[rocket::async_test]
async fn mentions_name_members_and_count_until_read() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let carol = app.signup("carol").await;
    app.signup("dave").await;
    let group = alice.group("Team", &["bob", "carol"]).await;

    let sent = alice
        .say(group, "@Bob, see dave@example.com and @dave and @nobody")
        .await;
    assert_eq!(
        sent["mentions"],
        json!(["bob"]),
        "members only, not an address"
    );
    let everyone = alice.say(group, "@all standup").await;
    assert_eq!(
        everyone["mentions"],
        json!(["bob", "carol"]),
        "all but the sender"
    );
    assert_eq!(bob.chat(group).await["mentions"], 2);
    assert_eq!(carol.chat(group).await["mentions"], 1);
    assert_eq!(alice.chat(group).await["mentions"], 0);

    let read = bob
        .post_json(
            &format!("/api/chats/{group}/read"),
            json!({ "up_to": everyone["id"] }),
            Status::Ok,
        )
        .await;
    assert_eq!(read["mentions"], 0);
    // An edit that names someone else moves the mention.
    let response = alice
        .patch(
            &message_path(group, &sent),
            json!({ "body": "sorry @carol" }),
        )
        .await;
    let edited: Value = response.into_json().await.unwrap();
    assert_eq!(edited["mentions"], json!(["carol"]));
    // @all means nobody extra in a direct chat.
    let direct = alice.chat_with("bob").await;
    assert_eq!(alice.say(direct, "@all").await["mentions"], json!([]));
}

#[rocket::async_test]
async fn receipts_tell_the_sender_what_was_delivered_and_read() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let chat = alice.chat_with("bob").await;
    let alices = alice.cursor_now().await;
    let bobs = bob.cursor_now().await;
    let sent = alice.say(chat, "did you get this?").await;
    let id = sent["id"].as_i64().unwrap();

    // Bob's poll hands him the message: it is delivered.
    assert_eq!(
        common::bodies(&bob.poll(bobs, 0).await),
        ["did you get this?"]
    );
    let update = next(&alice, alices).await;
    let receipts = update["receipts"].as_array().expect("receipts");
    let mine: Vec<&Value> = receipts.iter().filter(|r| r["chat_id"] == chat).collect();
    assert_eq!(
        mine.last().copied(),
        Some(
            &json!({ "chat_id": chat, "username": "bob", "read_up_to": 0, "delivered_up_to": id })
        )
    );
    // Then he reads it.
    let after = cursor(&update);
    bob.post_json(
        &format!("/api/chats/{chat}/read"),
        json!({ "up_to": id }),
        Status::Ok,
    )
    .await;
    let update = next(&alice, after).await;
    let read = update["receipts"]
        .as_array()
        .and_then(|r| r.iter().rev().find(|r| r["username"] == "bob"))
        .cloned()
        .expect("a read receipt");
    assert_eq!(read["read_up_to"], id);
    assert_eq!(
        alice.chat(chat).await["receipts"],
        json!([{ "username": "bob", "read_up_to": id, "delivered_up_to": id }])
    );
}

#[rocket::async_test]
async fn typing_shows_to_the_others_and_ends_with_the_message() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let mallory = app.signup("mallory").await;
    let chat = alice.chat_with("bob").await;
    let alices = alice.cursor_now().await;
    let bobs = bob.cursor_now().await;

    let typing = format!("/api/chats/{chat}/typing");
    assert_eq!(
        alice.post(&typing, json!({})).await.status(),
        Status::NoContent
    );
    let update = next(&bob, bobs).await;
    assert_eq!(
        update["typing"],
        json!([{ "chat_id": chat, "username": "alice" }])
    );
    let own = alice.poll(alices, 0).await;
    assert_eq!(own["typing"], json!([]), "not to herself");
    expect_error(
        mallory.post(&typing, json!({})).await,
        Status::NotFound,
        "not_found",
    )
    .await;

    alice.say(chat, "here it is").await;
    let update = next(&bob, cursor(&update)).await;
    assert_eq!(common::bodies(&update), ["here it is"]);
    assert_eq!(update["typing"], json!([]));
}

#[rocket::async_test]
async fn a_group_is_renamed_by_any_member_and_everyone_sees_it() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let group = alice.group("Team", &["bob"]).await;
    let start = alice.cursor_now().await;
    let renamed = bob
        .patch(
            &format!("/api/chats/{group}"),
            json!({ "title": "  Lunch crew " }),
        )
        .await;
    assert_eq!(renamed.status(), Status::Ok);
    assert_eq!(
        renamed.into_json::<Value>().await.unwrap()["title"],
        "Lunch crew"
    );
    let update = next(&alice, start).await;
    assert_eq!(kinds(&update), ["chat"]);
    assert_eq!(events(&update)[0]["chat"]["title"], "Lunch crew");

    for bad in ["", "   ", &"x".repeat(81)] {
        let response = bob
            .patch(&format!("/api/chats/{group}"), json!({ "title": bad }))
            .await;
        expect_invalid(response, "title").await;
    }
    let direct = alice.chat_with("bob").await;
    let response = alice
        .patch(&format!("/api/chats/{direct}"), json!({ "title": "Us" }))
        .await;
    assert_eq!(response.status(), Status::UnprocessableEntity);
}

#[rocket::async_test]
async fn members_add_people_and_whoever_leaves_loses_the_chat() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let carol = app.signup("carol").await;
    let group = alice.group("Team", &["bob"]).await;
    let carols = carol.cursor_now().await;
    let members = format!("/api/chats/{group}/members");

    let added = bob
        .post_json(&members, json!({ "username": "Carol" }), Status::Ok)
        .await;
    assert_eq!(added["members"], json!(["alice", "bob", "carol"]));
    let update = next(&carol, carols).await;
    assert_eq!(
        kinds(&update),
        ["chat"],
        "carol's list gains the group at once"
    );
    assert_eq!(events(&update)[0]["chat"]["id"], group);

    expect_invalid(
        bob.post(&members, json!({ "username": "carol" })).await,
        "username",
    )
    .await;
    expect_invalid(
        bob.post(&members, json!({ "username": "nobody" })).await,
        "username",
    )
    .await;
    let direct = alice.chat_with("bob").await;
    let response = alice
        .post(
            &format!("/api/chats/{direct}/members"),
            json!({ "username": "carol" }),
        )
        .await;
    expect_invalid(response, "username").await;

    // Bob may not remove carol; carol may leave.
    let response = bob
        .send("DELETE", &format!("{members}/carol"), json!({}))
        .await;
    expect_error(response, Status::Forbidden, "forbidden").await;
    let before = carol.cursor_now().await;
    let alices = alice.cursor_now().await;
    let left = carol
        .send("DELETE", &format!("{members}/carol"), json!({}))
        .await;
    assert_eq!(left.status(), Status::NoContent);
    let update = next(&carol, before).await;
    assert_eq!(kinds(&update), ["chat_removed"]);
    assert_eq!(events(&update)[0]["chat_id"], group);
    let update = next(&alice, alices).await;
    assert_eq!(
        events(&update)[0]["chat"]["members"],
        json!(["alice", "bob"])
    );
    expect_error(
        carol.get(&format!("/api/chats/{group}/messages")).await,
        Status::NotFound,
        "not_found",
    )
    .await;
    // Nothing more of the group reaches her.
    alice.say(group, "after carol left").await;
    assert!(events(&carol.poll(cursor(&update).min(before), 0).await)
        .iter()
        .all(|e| e["type"] == "chat_removed"));
    // A direct chat cannot be left.
    let response = alice
        .send(
            "DELETE",
            &format!("/api/chats/{direct}/members/alice"),
            json!({}),
        )
        .await;
    expect_invalid(response, "username").await;
}

#[rocket::async_test]
async fn staff_remove_people_from_a_group() {
    let app = TestApp::new().await;
    let root = app.admin("root", "staff").await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let group = alice.group("Team", &["bob", "root"]).await;
    let bobs = bob.cursor_now().await;
    let response = root
        .send(
            "DELETE",
            &format!("/api/chats/{group}/members/bob"),
            json!({}),
        )
        .await;
    assert_eq!(response.status(), Status::NoContent);
    assert_eq!(kinds(&next(&bob, bobs).await), ["chat_removed"]);
    let response = root
        .send(
            "DELETE",
            &format!("/api/chats/{group}/members/nobody"),
            json!({}),
        )
        .await;
    expect_error(response, Status::NotFound, "not_found").await;
}

#[rocket::async_test]
async fn a_message_deleted_in_the_console_leaves_open_tabs() {
    let app = TestApp::new().await;
    let root = app.admin("root", "superuser").await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let chat = alice.chat_with("bob").await;
    let sent = alice.say(chat, "to be moderated").await;
    let start = bob.cursor_now().await;
    let id = sent["id"].as_i64().unwrap();
    let response = root
        .post_form(&format!("/admin/messages/{id}/delete/"), &[("post", "yes")])
        .await;
    assert_eq!(response.status(), Status::SeeOther);
    let update = next(&bob, start).await;
    assert_eq!(kinds(&update), ["message_deleted"]);
    assert_eq!(events(&update)[0]["message_id"], id);
}
