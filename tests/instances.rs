//! Two instances on one PostgreSQL database behave as one server: two apps, each with its
//! own pools, session cache and long polls, over the same database in one test process.
//! They need a PostgreSQL server (`KANECT_TEST_DATABASE_URL`) and skip without one.

use std::time::{Duration, Instant};

use rocket::http::Status;

use crate::common::postgres::Database;
use crate::common::{Person, TestApp, PASSWORD};

/// Two apps over one new database, sharing one secret key (as instances behind one
/// address must, for cookies); `None` without a PostgreSQL server.
async fn two_instances() -> Option<(TestApp, TestApp, Database)> {
    crate::optional::or_skip(
        crate::common::postgres::server().ok_or(
            "no PostgreSQL server: set KANECT_TEST_DATABASE_URL=postgres://user:password@host/postgres \
             (a role that may create databases)"
                .to_owned(),
        ),
        "the two-instance tests (tests/instances.rs)",
        "KANECT_REQUIRE_POSTGRES",
    )?;
    let database = Database::create().await?;
    let key = kanect::auth::token::new_secret_key();
    let instance = |url: String, key: String| {
        TestApp::with(move |config| {
            config.database_url = Some(url);
            config.secret_key = Some(key);
        })
    };
    let a = instance(database.url.clone(), key.clone()).await;
    let b = instance(database.url.clone(), key).await;
    Some((a, b, database))
}

/// `person`'s session, used on the other instance.
fn on<'a>(app: &'a TestApp, person: &Person<'_>) -> Person<'a> {
    Person {
        app,
        name: person.name.clone(),
        id: person.id,
        cookie: person.cookie.clone(),
        csrf: person.csrf.clone(),
    }
}

#[rocket::async_test]
async fn a_message_sent_on_one_instance_wakes_a_poll_waiting_on_the_other() {
    let Some((a, b, _db)) = two_instances().await else {
        return;
    };
    let alice = a.signup("alice").await;
    let bob_on_a = a.signup("bob").await;
    let bob = on(&b, &bob_on_a);
    let chat = alice.chat_with("bob").await;
    let cursor = bob.cursor_now().await;
    let started = Instant::now();
    let (answer, _) = rocket::tokio::join!(bob.poll(cursor, 20), async {
        rocket::tokio::time::sleep(Duration::from_millis(300)).await;
        alice.say(chat, "from instance A").await
    });
    let waited = started.elapsed();
    let events = answer["events"].as_array().cloned().unwrap_or_default();
    let bodies: Vec<&str> = events
        .iter()
        .filter_map(|e| e["message"]["body"].as_str())
        .collect();
    assert_eq!(bodies, ["from instance A"], "{answer}");
    assert!(
        waited < Duration::from_secs(5),
        "woken at once, not at the timeout: {waited:?}"
    );
}

#[rocket::async_test]
async fn events_from_both_instances_reach_a_reader_once_each_in_order() {
    let Some((a, b, _db)) = two_instances().await else {
        return;
    };
    let alice = a.signup("alice").await;
    let bob_on_a = a.signup("bob").await;
    let bob = on(&b, &bob_on_a);
    let alice_on_b = on(&b, &alice);
    let chat = alice.chat_with("bob").await;
    let start = bob.cursor_now().await;
    let sends = (0..20).map(|i| {
        let (from, who) = if i % 2 == 0 {
            (&alice, "a")
        } else {
            (&alice_on_b, "b")
        };
        async move { from.say(chat, &format!("{who}{i}")).await["id"].as_i64() }
    });
    let ids: Vec<i64> = rocket::futures::future::join_all(sends)
        .await
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(ids.len(), 20);
    let mut seen = Vec::new();
    let mut cursor = start;
    let deadline = Instant::now() + Duration::from_secs(20);
    while seen.len() < 20 && Instant::now() < deadline {
        let answer = bob.poll(cursor, 5).await;
        for event in answer["events"].as_array().cloned().unwrap_or_default() {
            assert!(
                event["seq"].as_i64() > Some(cursor),
                "in order, none twice: {event}"
            );
            cursor = event["seq"].as_i64().unwrap_or(cursor);
            seen.push(event["message"]["id"].as_i64().unwrap_or(0));
        }
    }
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(seen, sorted, "every message once, in id order");
}

#[rocket::async_test]
async fn signing_out_on_one_instance_ends_the_session_on_the_other() {
    let Some((a, b, _db)) = two_instances().await else {
        return;
    };
    let alice = a.signup("alice").await;
    let alice_on_b = on(&b, &alice);
    assert_eq!(
        alice_on_b.get("/api/me").await.status(),
        Status::Ok,
        "cached on B"
    );
    let response = alice.post_form("/logout", &[]).await;
    assert_eq!(response.status(), Status::SeeOther);
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut status = Status::Ok;
    while Instant::now() < deadline {
        status = alice_on_b.get("/api/me").await.status();
        if status == Status::Unauthorized {
            break;
        }
        rocket::tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(status, Status::Unauthorized, "B forgot the session");
}

#[rocket::async_test]
async fn failed_sign_ins_count_on_every_instance_together() {
    let Some((a, b, _db)) = two_instances().await else {
        return;
    };
    a.signup("alice").await;
    let mut statuses = Vec::new();
    for i in 0..6 {
        let app = if i % 2 == 0 { &a } else { &b };
        let visitor = app.visitor("/login").await;
        let status = visitor
            .post_form(
                "/login",
                &[("username", "alice"), ("password", "wrong-guess-1")],
            )
            .await
            .status();
        statuses.push(status.code);
    }
    assert_eq!(
        statuses,
        [200, 200, 200, 200, 200, 429],
        "the sixth is throttled"
    );
    // The right password is refused too while throttled, on either instance.
    let visitor = a.visitor("/login").await;
    let status = visitor
        .post_form("/login", &[("username", "alice"), ("password", PASSWORD)])
        .await
        .status();
    assert_eq!(status.code, 429);
}

#[rocket::async_test]
async fn someone_polling_on_one_instance_is_online_for_the_other() {
    let Some((a, b, _db)) = two_instances().await else {
        return;
    };
    let alice = a.signup("alice").await;
    let bob_on_a = a.signup("bob").await;
    let alice_on_b = on(&b, &alice);
    // Alice's tab on B has loaded: its first poll starts its presence feed.
    let start = alice_on_b.cursor_now().await;
    let began = Instant::now();
    let (update, _) = rocket::tokio::join!(alice_on_b.poll(start, 10), async {
        rocket::tokio::time::sleep(Duration::from_millis(200)).await;
        // Bob's tab polls instance A.
        bob_on_a.cursor_now().await
    });
    assert!(
        began.elapsed() < Duration::from_secs(5),
        "woken by bob: {:?}",
        began.elapsed()
    );
    let bob = update["presence"]
        .as_array()
        .and_then(|presence| presence.iter().find(|p| p["username"] == "bob").cloned())
        .unwrap_or_else(|| panic!("bob in {update}"));
    assert_eq!(bob["online"], true);
    let people = alice_on_b.get_json("/api/users", Status::Ok).await;
    let listed = people
        .as_array()
        .and_then(|people| people.iter().find(|p| p["username"] == "bob").cloned())
        .unwrap_or_else(|| panic!("bob in {people}"));
    assert_eq!(
        listed["online"], true,
        "the people list on B agrees: {listed}"
    );
}

#[rocket::async_test]
async fn typing_on_one_instance_shows_on_the_other() {
    let Some((a, b, _db)) = two_instances().await else {
        return;
    };
    let alice = a.signup("alice").await;
    let bob_on_a = a.signup("bob").await;
    let bob = on(&b, &bob_on_a);
    let chat = alice.chat_with("bob").await;
    let start = bob.cursor_now().await;
    let typing = format!("/api/chats/{chat}/typing");
    let (update, status) = rocket::tokio::join!(bob.poll(start, 10), async {
        rocket::tokio::time::sleep(Duration::from_millis(200)).await;
        alice.post(&typing, serde_json::json!({})).await.status()
    });
    assert_eq!(status, Status::NoContent);
    assert_eq!(
        update["typing"],
        serde_json::json!([{ "chat_id": chat, "username": "alice" }]),
        "{update}"
    );
}
