//! Sends that arrive together are committed together: each sender still gets their own
//! answer, every acknowledged message is stored exactly once, and a refused send in the
//! same batch refuses only itself.

use crate::common;

use std::collections::HashSet;

use common::TestApp;
use rocket::futures::future::join_all;
use rocket::http::Status;
use serde_json::{json, Value};

#[rocket::async_test]
async fn concurrent_sends_get_distinct_ids_and_are_stored_exactly_once() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let carol = app.signup("carol").await;
    let team = alice.group("team", &["bob"]).await;
    let direct = carol.chat_with("alice").await;
    let closed = alice.group("old news", &["carol"]).await;
    app.sql(&format!(
        "UPDATE chats SET status = 'closed' WHERE id = {closed}"
    ))
    .await;

    let mut sends = Vec::new();
    for n in 0..20 {
        sends.push((&alice, team, format!("alice {n}")));
        sends.push((&bob, team, format!("bob {n}")));
        sends.push((&carol, direct, format!("carol {n}")));
    }
    // Mixed into the same rush: a chat carol is not in, and a closed one.
    sends.push((&carol, team, "intruder".to_owned()));
    sends.push((&alice, closed, "too late".to_owned()));
    let answers = join_all(sends.iter().map(|(who, chat, body)| async move {
        let response = who
            .post(
                &format!("/api/chats/{chat}/messages"),
                json!({ "body": body }),
            )
            .await;
        let status = response.status();
        let message: Value = response.into_json().await.unwrap_or(Value::Null);
        (status, message)
    }))
    .await;

    let mut ids = HashSet::new();
    for ((who, chat, body), (status, message)) in sends.iter().zip(&answers) {
        match body.as_str() {
            "intruder" => assert_eq!(*status, Status::NotFound, "not a member"),
            "too late" => assert_eq!(*status, Status::Forbidden, "closed chat"),
            _ => {
                assert_eq!(*status, Status::Created, "{} sends {body}", who.name);
                assert_eq!(message["body"], body.as_str());
                assert_eq!(message["chat_id"], *chat);
                assert_eq!(message["sender"], who.name.as_str());
                let id = message["id"].as_i64().expect("an id");
                assert!(ids.insert(id), "id {id} given twice");
                let stored = app
                    .count(&format!(
                        "SELECT COUNT(*) FROM messages WHERE id = {id} AND body = '{body}' \
                         AND chat_id = {chat}"
                    ))
                    .await;
                assert_eq!(stored, 1, "{body} is stored under its id");
            }
        }
    }
    assert_eq!(ids.len(), 60);
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 60);

    // Each sender has read up to their own newest message in each chat.
    let alice_last = answers
        .iter()
        .zip(&sends)
        .filter(|(_, (who, chat, _))| who.name == "alice" && *chat == team)
        .filter_map(|((_, m), _)| m["id"].as_i64())
        .max()
        .expect("alice sent");
    let read = app
        .count(&format!(
            "SELECT last_read_message_id FROM chat_members \
             WHERE chat_id = {team} AND user_id = {}",
            alice.id
        ))
        .await;
    assert_eq!(read, alice_last);
    assert_eq!(
        bob.history(team, "limit=200").await["messages"]
            .as_array()
            .map(Vec::len),
        Some(40)
    );
}
