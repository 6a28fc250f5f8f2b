//! The chat API: who am I, who is here, opening direct chats and groups, the chat list,
//! archiving, and the guards every chat route shares (membership, CSRF, sign-in).

use crate::common;

use std::time::Duration;

use common::{expect_error, expect_invalid, keys, TestApp};
use rocket::http::{ContentType, Status};
use serde_json::{json, Value};

/// Enough time for the next write to get a later millisecond timestamp.
async fn tick() {
    tokio::time::sleep(Duration::from_millis(5)).await;
}

#[rocket::async_test]
async fn alice_asks_who_she_is() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let me = alice.get_json("/api/me", Status::Ok).await;
    assert_eq!(me["id"], alice.id);
    assert_eq!(me["username"], "alice");
    assert_eq!(me["email"], "alice@example.com");
    assert_eq!(me["role"], "member");
}

#[rocket::async_test]
async fn alice_sees_everyone_in_the_people_list() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let people = alice.get_json("/api/users", Status::Ok).await;
    let people = people.as_array().expect("a list");
    assert_eq!(people.len(), 2);
    for person in people {
        assert_eq!(
            keys(person),
            [
                "avatar_url",
                "bot",
                "display_name",
                "id",
                "last_seen",
                "online",
                "username"
            ]
        );
        assert!(person["id"].is_i64());
        assert!(person["online"].is_boolean());
        assert!(person["last_seen"].is_null() || person["last_seen"].is_string());
    }
    let bob_entry = people.iter().find(|p| p["username"] == "bob").unwrap();
    assert_eq!(bob_entry["id"], bob.id);
    assert_eq!(bob_entry["online"], false, "bob has not opened the app yet");
}

#[rocket::async_test]
async fn deactivated_people_leave_the_people_list() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    app.signup("bob").await;
    app.sql("UPDATE users SET is_active = FALSE WHERE username = 'bob'")
        .await;
    let people = alice.get_json("/api/users", Status::Ok).await;
    assert!(people
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["username"] != "bob"));
}

#[rocket::async_test]
async fn alice_opens_a_direct_chat_with_bob_once() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;

    let created = alice
        .post_json("/api/chats", json!({ "with": "bob" }), Status::Created)
        .await;
    assert_eq!(created["kind"], "direct");
    assert_eq!(created["members"], json!(["alice", "bob"]));
    assert_eq!(created["status"], "open");
    assert_eq!(created["archived"], false);
    assert_eq!(created["unread"], 0);
    assert!(created["last_message"].is_null());

    let again = alice
        .post_json("/api/chats", json!({ "with": "bob" }), Status::Ok)
        .await;
    assert_eq!(again["id"], created["id"]);
    let other_way = bob
        .post_json("/api/chats", json!({ "with": "alice" }), Status::Ok)
        .await;
    assert_eq!(other_way["id"], created["id"]);
    let other_case = bob
        .post_json("/api/chats", json!({ "with": "ALICE" }), Status::Ok)
        .await;
    assert_eq!(other_case["id"], created["id"]);

    assert_eq!(alice.chats().await.len(), 1);
    assert_eq!(bob.chats().await.len(), 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM chats").await, 1);
}

#[rocket::async_test]
async fn alice_and_bob_opening_their_chat_at_the_same_moment_get_one_chat() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let (from_alice, from_bob) = tokio::join!(
        alice.post("/api/chats", json!({ "with": "bob" })),
        bob.post("/api/chats", json!({ "with": "alice" })),
    );
    let mut statuses = [from_alice.status().code, from_bob.status().code];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 201], "one creates, the other finds it");
    let from_alice: Value = from_alice.into_json().await.unwrap();
    let from_bob: Value = from_bob.into_json().await.unwrap();
    assert_eq!(from_alice["id"], from_bob["id"]);
    assert_eq!(app.count("SELECT COUNT(*) FROM chats").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM chat_members").await, 2);
}

#[rocket::async_test]
async fn alice_cannot_open_a_chat_with_nobody() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    expect_invalid(
        alice.post("/api/chats", json!({ "with": "nobody" })).await,
        "with",
    )
    .await;
    assert!(alice.chats().await.is_empty());
}

#[rocket::async_test]
async fn alice_cannot_open_a_chat_with_herself() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    for name in ["alice", "Alice"] {
        expect_invalid(
            alice.post("/api/chats", json!({ "with": name })).await,
            "with",
        )
        .await;
    }
    assert!(alice.chats().await.is_empty());
}

#[rocket::async_test]
async fn alice_cannot_open_a_chat_with_a_deactivated_person() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    app.signup("bob").await;
    app.sql("UPDATE users SET is_active = FALSE WHERE username = 'bob'")
        .await;
    expect_invalid(
        alice.post("/api/chats", json!({ "with": "bob" })).await,
        "with",
    )
    .await;
}

#[rocket::async_test]
async fn alice_creates_a_group_with_bob_and_carol() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let carol = app.signup("carol").await;
    app.signup("dave").await;

    let group = alice
        .post_json(
            "/api/chats",
            json!({ "title": "  Lunch crew  ", "members": ["bob", "Carol"] }),
            Status::Created,
        )
        .await;
    assert_eq!(group["kind"], "group");
    assert_eq!(group["title"], "Lunch crew");
    assert_eq!(group["members"], json!(["alice", "bob", "carol"]));
    assert_eq!(group["status"], "open");

    for person in [&bob, &carol] {
        let seen = person.chat(group["id"].as_i64().unwrap()).await;
        assert_eq!(seen["title"], "Lunch crew");
    }
    let dave = app.login("dave", common::PASSWORD).await;
    assert!(dave.chats().await.is_empty(), "dave is not in it");

    // A second group with the same people is a new chat.
    let second = alice
        .post_json(
            "/api/chats",
            json!({ "title": "Lunch crew", "members": ["bob", "carol"] }),
            Status::Created,
        )
        .await;
    assert_ne!(second["id"], group["id"]);
}

#[rocket::async_test]
async fn a_group_with_an_unknown_member_is_refused() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    app.signup("bob").await;
    expect_invalid(
        alice
            .post(
                "/api/chats",
                json!({ "title": "Team", "members": ["bob", "nobody"] }),
            )
            .await,
        "members",
    )
    .await;
    assert!(alice.chats().await.is_empty(), "no group half-made");
}

#[rocket::async_test]
async fn a_group_needs_a_title() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    app.signup("bob").await;
    for title in ["", "   "] {
        expect_invalid(
            alice
                .post("/api/chats", json!({ "title": title, "members": ["bob"] }))
                .await,
            "title",
        )
        .await;
    }
    expect_invalid(
        alice
            .post(
                "/api/chats",
                json!({ "title": "x".repeat(101), "members": ["bob"] }),
            )
            .await,
        "title",
    )
    .await;
    assert!(alice.chats().await.is_empty());
}

#[rocket::async_test]
async fn a_group_needs_someone_besides_its_creator() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    for members in [json!([]), json!(["alice"])] {
        expect_invalid(
            alice
                .post(
                    "/api/chats",
                    json!({ "title": "Just me", "members": members }),
                )
                .await,
            "members",
        )
        .await;
    }
}

#[rocket::async_test]
async fn creating_a_chat_without_with_or_title_is_invalid() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let response = alice.post("/api/chats", json!({})).await;
    expect_error(response, Status::UnprocessableEntity, "invalid").await;
}

#[rocket::async_test]
async fn the_chat_list_has_the_contract_shape() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    app.signup("bob").await;
    let chat = alice.chat_with("bob").await;
    let sent = alice.say(chat, "hi bob").await;

    let chats = alice.chats().await;
    assert_eq!(chats.len(), 1);
    let listed = &chats[0];
    assert_eq!(
        keys(listed),
        [
            "archived",
            "id",
            "kind",
            "last_message",
            "members",
            "mentions",
            "notify",
            "profiles",
            "receipts",
            "status",
            "title",
            "unread"
        ]
    );
    assert_eq!(listed["id"], chat);
    assert_eq!(listed["kind"], "direct");
    assert!(listed["title"].is_null(), "a direct chat has no title");
    assert_eq!(listed["status"], "open");
    assert_eq!(listed["archived"], false);
    assert_eq!(listed["members"], json!(["alice", "bob"]));
    assert_eq!(listed["unread"], 0);
    assert_eq!(listed["last_message"], sent, "the last message as sent");
}

#[rocket::async_test]
async fn bob_sees_how_many_messages_he_has_not_read() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let carol = app.signup("carol").await;
    let with_alice = alice.chat_with("bob").await;
    let with_carol = carol.chat_with("bob").await;
    for n in 0..3 {
        alice.say(with_alice, &format!("alice {n}")).await;
    }
    carol.say(with_carol, "carol here").await;

    assert_eq!(bob.chat(with_alice).await["unread"], 3);
    assert_eq!(bob.chat(with_carol).await["unread"], 1);
    assert_eq!(alice.chat(with_alice).await["unread"], 0);
    assert_eq!(
        bob.chat(with_alice).await["last_message"]["body"],
        "alice 2"
    );

    let last = bob.chat(with_alice).await["last_message"]["id"].clone();
    let read = bob
        .post_json(
            &format!("/api/chats/{with_alice}/read"),
            json!({ "up_to": last }),
            Status::Ok,
        )
        .await;
    assert_eq!(read["unread"], 0);
    assert_eq!(bob.chat(with_alice).await["unread"], 0);
    assert_eq!(bob.chat(with_carol).await["unread"], 1);
}

#[rocket::async_test]
async fn chats_are_listed_by_recent_activity() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let carol = app.signup("carol").await;
    let with_bob = alice.chat_with("bob").await;
    tick().await;
    let with_carol = alice.chat_with("carol").await;
    tick().await;
    let ids = |chats: Vec<Value>| -> Vec<i64> {
        chats.iter().map(|c| c["id"].as_i64().unwrap()).collect()
    };
    assert_eq!(
        ids(alice.chats().await),
        [with_carol, with_bob],
        "newest first"
    );

    bob.say(with_bob, "hello").await;
    tick().await;
    assert_eq!(ids(alice.chats().await), [with_bob, with_carol]);

    carol.say(with_carol, "hi").await;
    tick().await;
    assert_eq!(ids(alice.chats().await), [with_carol, with_bob]);

    alice.say(with_bob, "back to you").await;
    assert_eq!(ids(alice.chats().await), [with_bob, with_carol]);
}

#[rocket::async_test]
async fn alice_archives_and_restores_a_chat_for_herself_only() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let chat = alice.chat_with("bob").await;
    let path = format!("/api/chats/{chat}");

    let response = alice.patch(&path, json!({ "archived": true })).await;
    assert_eq!(response.status(), Status::Ok);
    let archived: Value = response.into_json().await.unwrap();
    assert_eq!(archived["id"], chat);
    assert_eq!(archived["archived"], true);
    assert_eq!(alice.chat(chat).await["archived"], true);
    assert_eq!(
        bob.chat(chat).await["archived"],
        false,
        "bob's view is his own"
    );

    let response = alice.patch(&path, json!({ "archived": false })).await;
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(alice.chat(chat).await["archived"], false);
}

#[rocket::async_test]
async fn archiving_needs_a_boolean() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    app.signup("bob").await;
    let chat = alice.chat_with("bob").await;
    for body in [json!({ "archived": "yes" }), json!({})] {
        let response = alice.patch(&format!("/api/chats/{chat}"), body).await;
        expect_error(response, Status::UnprocessableEntity, "invalid").await;
    }
}

/// Every route of one chat, as (method, path, body).
fn chat_routes(chat: &str) -> Vec<(&'static str, String, Value)> {
    vec![
        ("GET", format!("/api/chats/{chat}/messages"), Value::Null),
        (
            "POST",
            format!("/api/chats/{chat}/messages"),
            json!({ "body": "let me in" }),
        ),
        (
            "PATCH",
            format!("/api/chats/{chat}"),
            json!({ "archived": true }),
        ),
        (
            "POST",
            format!("/api/chats/{chat}/read"),
            json!({ "up_to": 1 }),
        ),
    ]
}

async fn call(person: &common::Person<'_>, method: &str, path: &str, body: Value) -> Value {
    let response = if method == "GET" {
        person.get(path).await
    } else {
        person.send(method, path, body).await
    };
    expect_error(response, Status::NotFound, "not_found").await
}

#[rocket::async_test]
async fn mallory_gets_404_on_every_route_of_a_chat_she_is_not_in() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    app.signup("bob").await;
    let mallory = app.signup("mallory").await;
    let chat = alice.chat_with("bob").await;
    alice.say(chat, "private").await;

    let mut answers = Vec::new();
    for (method, path, body) in chat_routes(&chat.to_string()) {
        answers.push(call(&mallory, method, &path, body).await);
    }
    // An empty body from a non-member is still "not found", not "invalid".
    answers.push(
        call(
            &mallory,
            "POST",
            &format!("/api/chats/{chat}/messages"),
            json!({ "body": "  " }),
        )
        .await,
    );

    // Exactly what a chat that does not exist answers: nothing reveals which.
    let unknown = call(&mallory, "GET", "/api/chats/999999/messages", Value::Null).await;
    for answer in &answers {
        assert_eq!(answer, &unknown);
    }

    let page = mallory.get(&format!("/chats/{chat}")).await;
    assert_eq!(page.status(), Status::NotFound);

    // Nothing changed.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM messages").await,
        1,
        "mallory's message was not stored"
    );
    assert_eq!(alice.chat(chat).await["archived"], false);
    assert!(mallory.chats().await.is_empty());
}

#[rocket::async_test]
async fn unknown_and_malformed_chat_ids_are_404() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    app.signup("bob").await;
    alice.chat_with("bob").await;
    for id in ["0", "-1", "abc", "99999999999999999999", "424242", "1.5"] {
        for (method, path, body) in chat_routes(id) {
            let response = if method == "GET" {
                alice.get(&path).await
            } else {
                alice.send(method, &path, body).await
            };
            assert_eq!(response.status(), Status::NotFound, "{method} {path}");
            let code = common::error_code(response).await;
            assert_eq!(code, "not_found", "{method} {path}");
        }
        let page = alice.get(&format!("/chats/{id}")).await;
        assert_eq!(page.status(), Status::NotFound, "/chats/{id}");
    }
}

/// Every unsafe API route, as (method, path, body) for a chat `chat` that alice is in.
fn unsafe_routes(chat: i64) -> Vec<(&'static str, String, Value)> {
    vec![
        ("POST", "/api/chats".to_owned(), json!({ "with": "carol" })),
        (
            "PATCH",
            format!("/api/chats/{chat}"),
            json!({ "archived": true }),
        ),
        (
            "POST",
            format!("/api/chats/{chat}/messages"),
            json!({ "body": "forged" }),
        ),
        (
            "POST",
            format!("/api/chats/{chat}/read"),
            json!({ "up_to": 1 }),
        ),
    ]
}

#[rocket::async_test]
async fn unsafe_calls_without_the_csrf_header_are_refused() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    app.signup("carol").await;
    let chat = alice.chat_with("bob").await;
    bob.say(chat, "hi").await;

    for (method, path, body) in unsafe_routes(chat) {
        for token in [None, Some(""), Some("wrong"), Some(bob.csrf.as_str())] {
            let response = alice.send_token(method, &path, token, body.clone()).await;
            let shown = token.map(|t| if t == bob.csrf { "bob's" } else { t });
            assert_eq!(
                response.status(),
                Status::Forbidden,
                "{method} {path} with token {shown:?}"
            );
            expect_error(response, Status::Forbidden, "csrf").await;
        }
    }

    // None of them did anything.
    assert_eq!(alice.chats().await.len(), 1, "no chat with carol");
    assert_eq!(alice.chat(chat).await["archived"], false);
    assert_eq!(bob.chat(chat).await["unread"], 0);
    assert_eq!(alice.chat(chat).await["unread"], 1, "still unread");
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 1);
}

#[rocket::async_test]
async fn strangers_get_401_json_on_every_api_route() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    app.signup("bob").await;
    let chat = alice.chat_with("bob").await;
    let mut routes = vec![
        ("GET", "/api/me".to_owned()),
        ("GET", "/api/users".to_owned()),
        ("GET", "/api/chats".to_owned()),
        ("GET", "/api/updates?after=0".to_owned()),
        ("GET", format!("/api/chats/{chat}/messages")),
    ];
    routes.extend(unsafe_routes(chat).into_iter().map(|(m, p, _)| (m, p)));
    for (method, path) in routes {
        let response = app.anonymous(method, &path).await;
        assert_eq!(response.status(), Status::Unauthorized, "{method} {path}");
        assert_eq!(response.content_type(), Some(ContentType::JSON));
        expect_error(response, Status::Unauthorized, "not_signed_in").await;
    }

    // A cookie that names no session is the same as none.
    let forged = app
        .client
        .get("/api/me")
        .cookie(rocket::http::Cookie::new("kanect_session", "made-up"))
        .dispatch()
        .await;
    expect_error(forged, Status::Unauthorized, "not_signed_in").await;
}
