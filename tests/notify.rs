//! The per-chat notification level (`notify`): each member's own, in every chat object the
//! API returns, set by any member with `PATCH /api/chats/<id>`, and seen live by their
//! other tabs.

use crate::common;

use common::{cursor, events, expect_error, expect_invalid, TestApp};
use rocket::http::Status;
use serde_json::{json, Value};

fn level(chat: &Value) -> &str {
    chat["notify"]
        .as_str()
        .unwrap_or_else(|| panic!("a notify level: {chat}"))
}

#[rocket::async_test]
async fn every_chat_object_carries_the_level_and_it_starts_at_all() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    app.signup("bob").await;
    let created = alice
        .post_json("/api/chats", json!({ "with": "bob" }), Status::Created)
        .await;
    assert_eq!(level(&created), "all");
    let group = alice
        .post_json(
            "/api/chats",
            json!({ "title": "Design", "members": ["bob"] }),
            Status::Created,
        )
        .await;
    assert_eq!(level(&group), "all");
    let chats = alice.chats().await;
    assert_eq!(chats.len(), 2);
    assert!(chats.iter().all(|c| level(c) == "all"), "{chats:?}");
}

#[rocket::async_test]
async fn any_member_sets_their_own_level_in_a_direct_chat_and_a_group() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let direct = alice.chat_with("bob").await;
    let group = alice.group("Design", &["bob"]).await;

    for (who, chat, word) in [
        (&alice, direct, "mentions"),
        (&bob, direct, "none"),
        (&bob, group, "mentions"),
    ] {
        let response = who
            .patch(&format!("/api/chats/{chat}"), json!({ "notify": word }))
            .await;
        assert_eq!(response.status(), Status::Ok, "{word}");
        let changed: Value = response.into_json().await.expect("a chat object");
        assert_eq!(changed["id"], chat);
        assert_eq!(level(&changed), word);
    }
    assert_eq!(level(&alice.chat(direct).await), "mentions");
    assert_eq!(level(&bob.chat(direct).await), "none", "bob's is his own");
    assert_eq!(level(&alice.chat(group).await), "all", "alice's is hers");
    assert_eq!(level(&bob.chat(group).await), "mentions");

    // Back to all; and with `archived` in the same change, both apply.
    let response = alice
        .patch(
            &format!("/api/chats/{direct}"),
            json!({ "notify": "all", "archived": true }),
        )
        .await;
    assert_eq!(response.status(), Status::Ok);
    let chat = alice.chat(direct).await;
    assert_eq!(
        (level(&chat), chat["archived"].as_bool()),
        ("all", Some(true))
    );

    // Archiving alone leaves the level as it was.
    alice
        .patch(&format!("/api/chats/{group}"), json!({ "notify": "none" }))
        .await;
    alice
        .patch(&format!("/api/chats/{group}"), json!({ "archived": true }))
        .await;
    assert_eq!(level(&alice.chat(group).await), "none");
}

#[rocket::async_test]
async fn an_unknown_level_is_a_422_on_notify_and_changes_nothing() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    app.signup("bob").await;
    let chat = alice.chat_with("bob").await;
    let path = format!("/api/chats/{chat}");
    for word in [
        "loud",
        "",
        "ALL",
        "all ",
        "mentions only",
        &"a".repeat(10_000),
    ] {
        let response = alice
            .patch(&path, json!({ "notify": word, "archived": true }))
            .await;
        let body = expect_invalid(response, "notify").await;
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("mentions")),
            "{body}"
        );
    }
    for wrong in [
        json!(3),
        json!(true),
        json!(["all"]),
        json!({ "level": "all" }),
    ] {
        let response = alice
            .patch(&path, json!({ "notify": wrong, "archived": true }))
            .await;
        expect_invalid(response, "notify").await;
    }
    let unchanged = alice.chat(chat).await;
    assert_eq!(level(&unchanged), "all");
    assert_eq!(
        unchanged["archived"], false,
        "a bad level changes nothing else"
    );
}

#[rocket::async_test]
async fn a_title_stays_a_groups_own_and_a_refused_rename_sets_no_level() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    app.signup("bob").await;
    let chat = alice.chat_with("bob").await;
    let response = alice
        .patch(
            &format!("/api/chats/{chat}"),
            json!({ "notify": "none", "title": "Ours" }),
        )
        .await;
    assert_eq!(response.status(), Status::UnprocessableEntity);
    let unchanged = alice.chat(chat).await;
    assert_eq!(level(&unchanged), "all");
    assert!(unchanged["title"].is_null());
}

#[rocket::async_test]
async fn only_members_and_only_with_the_csrf_token() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let carol = app.signup("carol").await;
    let chat = alice.chat_with("bob").await;
    let path = format!("/api/chats/{chat}");

    // carol is not in it: 404, as if it did not exist; nor does a chat that does not.
    let response = carol.patch(&path, json!({ "notify": "none" })).await;
    expect_error(response, Status::NotFound, "not_found").await;
    let response = alice
        .patch("/api/chats/999999", json!({ "notify": "none" }))
        .await;
    expect_error(response, Status::NotFound, "not_found").await;

    for token in [None, Some(""), Some("wrong"), Some(bob.csrf.as_str())] {
        let response = alice
            .send_token("PATCH", &path, token, json!({ "notify": "none" }))
            .await;
        expect_error(response, Status::Forbidden, "csrf").await;
    }
    let response = app.anonymous("PATCH", &path).await;
    assert_eq!(response.status(), Status::Unauthorized);
    assert_eq!(level(&alice.chat(chat).await), "all");
    assert_eq!(level(&bob.chat(chat).await), "all");
}

#[rocket::async_test]
async fn the_change_reaches_the_persons_other_tabs_and_nobody_elses() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let alice_phone = app.login("alice", common::PASSWORD).await;
    let chat = alice.chat_with("bob").await;
    let phone_from = alice_phone.cursor_now().await;
    let bob_from = bob.cursor_now().await;

    let response = alice
        .patch(
            &format!("/api/chats/{chat}"),
            json!({ "notify": "mentions" }),
        )
        .await;
    assert_eq!(response.status(), Status::Ok);

    let update = alice_phone.poll(phone_from, 5).await;
    let seen = events(&update);
    assert_eq!(seen.len(), 1, "{update}");
    assert_eq!(seen[0]["type"], "chat");
    assert_eq!(seen[0]["chat"]["id"], chat);
    assert_eq!(level(&seen[0]["chat"]), "mentions");

    let update = bob.poll(bob_from, 0).await;
    assert_eq!(
        events(&update),
        &Vec::<Value>::new(),
        "bob's view did not change"
    );
    assert!(cursor(&update) >= bob_from);
}
