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
    let a = instance(&database.url, &key).await;
    let b = instance(&database.url, &key).await;
    Some((a, b, database))
}

/// An app on the database at `url`, with secret key `key`.
async fn instance(url: &str, key: &str) -> TestApp {
    let (url, key) = (url.to_owned(), key.to_owned());
    TestApp::with(move |config| {
        config.database_url = Some(url);
        config.secret_key = Some(key);
    })
    .await
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

/// Two `kanect serve` processes on one database, sharing a secret key as instances behind
/// one proxy do: a message, a sign-out and presence cross from one to the other, and a
/// `kill -9` of one loses no acknowledged message while the other keeps serving.
#[rocket::async_test]
async fn two_processes_serve_as_one_and_one_killed_loses_nothing() {
    use crate::process::{self, Browser, Server};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};

    let Some((_, _, database)) = two_instances().await else {
        return;
    };
    let dir = tempfile::tempdir().expect("a folder");
    let key = kanect::auth::token::new_secret_key();
    let bin = process::binary();
    let env = |data: &'static str| {
        vec![
            ("KANECT_DATA_DIR", data.to_owned()),
            ("KANECT_DATABASE_URL", database.url.clone()),
            ("KANECT_SECRET_KEY", key.clone()),
            ("KANECT_LOG_LEVEL", "warn".to_owned()),
        ]
    };
    let start = |data: &'static str| {
        let env = env(data);
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        Server::start(&bin, dir.path(), &env)
    };
    let a = start("a");
    let b = start("b");
    let mut alice = Browser::signup(&a, "alice");
    let mut bob = Browser::signup(&b, "bob");
    let chat = alice.chat_with("bob");

    // A message sent on A reaches a poll held on B, at once.
    let cursor = bob.get("/api/updates").json()["cursor"]
        .as_i64()
        .expect("a cursor");
    let sent = std::thread::scope(|scope| {
        let poll = scope.spawn(|| bob.get(&format!("/api/updates?after={cursor}&wait=20")));
        std::thread::sleep(Duration::from_millis(300));
        let started = Instant::now();
        let reply = alice.json(
            "POST",
            &format!("/api/chats/{chat}/messages"),
            &serde_json::json!({ "body": "from A" }),
        );
        assert_eq!(reply.status, 201, "{}", reply.text());
        let answer = poll.join().expect("the poll").json();
        (answer, started.elapsed())
    });
    let (answer, waited) = sent;
    assert_eq!(answer["events"][0]["message"]["body"], "from A", "{answer}");
    assert!(waited < Duration::from_secs(5), "woken at once: {waited:?}");

    // Presence: alice polling on A is online in the people list on B.
    let _ = alice.get("/api/updates");
    let people = bob.get("/api/users").json();
    let listed = people
        .as_array()
        .and_then(|people| people.iter().find(|p| p["username"] == "alice").cloned())
        .unwrap_or_else(|| panic!("alice in {people}"));
    assert_eq!(listed["online"], true, "{listed}");

    // Signing out on A ends the session on B.
    let mut alice_on_b = Browser::new(&b);
    alice_on_b.cookies = alice.cookies.clone();
    assert_eq!(alice_on_b.get("/api/me").status, 200);
    let mut leaving = Browser::login(&a, "alice", process::PASSWORD);
    let mut leaving_on_b = Browser::new(&b);
    leaving_on_b.cookies = leaving.cookies.clone();
    assert_eq!(
        leaving_on_b.get("/api/me").status,
        200,
        "B knows the session"
    );
    assert_eq!(leaving.post_form("/logout", &[]).status, 303);
    let deadline = Instant::now() + Duration::from_secs(5);
    while leaving_on_b.get("/api/me").status != 401 {
        assert!(
            Instant::now() < deadline,
            "B still serves the ended session"
        );
        std::thread::sleep(Duration::from_millis(20));
    }

    // kill -9 of A in the middle of sends to both: nothing acknowledged is lost.
    let stop = AtomicBool::new(false);
    let acknowledged = Mutex::new(Vec::<i64>::new());
    let bob_url = format!("{}/api/chats/{chat}/messages", b.base);
    let alice_url = format!("{}/api/chats/{chat}/messages", a.base);
    let writer = |url: &str, browser: &Browser| {
        let cookie = browser
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let agent = process::agent();
        let mut n = 0;
        while !stop.load(Ordering::Relaxed) {
            n += 1;
            let request = agent
                .post(url)
                .set("Cookie", &cookie)
                .set("X-CSRF-Token", &browser.csrf)
                .set("Content-Type", "application/json");
            match process::send(
                request,
                Some(&serde_json::json!({ "body": format!("n{n}") }).to_string()),
            ) {
                Ok(reply) if reply.status == 201 => {
                    if let Some(id) = reply.json()["id"].as_i64() {
                        acknowledged.lock().expect("tally").push(id);
                    }
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
    };
    let a = Arc::new(Mutex::new(Some(a)));
    std::thread::scope(|scope| {
        for _ in 0..3 {
            scope.spawn(|| writer(&alice_url, &alice));
            scope.spawn(|| writer(&bob_url, &bob));
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        while acknowledged.lock().expect("tally").len() < 300 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        if let Some(a) = a.lock().expect("A").take() {
            a.kill_9();
        }
        std::thread::sleep(Duration::from_millis(500));
        stop.store(true, Ordering::Relaxed);
    });
    let acknowledged = acknowledged.into_inner().expect("tally");
    assert!(
        acknowledged.len() >= 300,
        "a real load: {}",
        acknowledged.len()
    );
    let stored = crate::common::postgres::ints(
        &database.url,
        dir.path(),
        "SELECT id FROM messages ORDER BY id",
    )
    .await;
    let missing: Vec<&i64> = acknowledged
        .iter()
        .filter(|id| stored.binary_search(id).is_err())
        .collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged messages lost: {missing:?}",
        missing.len()
    );

    // B keeps serving: a send, and a poll that sees it.
    let cursor = bob.get("/api/updates").json()["cursor"]
        .as_i64()
        .expect("a cursor");
    let reply = bob.json(
        "POST",
        &format!("/api/chats/{chat}/messages"),
        &serde_json::json!({ "body": "B goes on" }),
    );
    assert_eq!(reply.status, 201, "{}", reply.text());
    let answer = bob
        .get(&format!("/api/updates?after={cursor}&wait=5"))
        .json();
    assert_eq!(
        answer["events"][0]["message"]["body"], "B goes on",
        "{answer}"
    );
}

/// `kanect copy-to`: an SQLite team moves to PostgreSQL whole: people, chats, messages
/// with their reactions, sessions (nobody signs in again), and ids that carry on.
#[rocket::async_test]
async fn copy_to_moves_a_whole_sqlite_team_to_postgresql() {
    use crate::process;

    let Some((_, _, database)) = two_instances().await else {
        return;
    };
    let dir = tempfile::tempdir().expect("a folder");
    let key = kanect::auth::token::new_secret_key();
    let sqlite = format!("sqlite://{}", dir.path().join("kanect.db").display());
    let on_sqlite = instance(&sqlite, &key).await;
    let alice = on_sqlite.signup("alice").await;
    let bob = on_sqlite.signup("bob").await;
    let chat = alice.chat_with("bob").await;
    let first = alice.say(chat, "before the move").await["id"]
        .as_i64()
        .expect("id");
    let gone = bob.say(chat, "deleted before the move").await["id"]
        .as_i64()
        .expect("id");
    bob.send(
        "DELETE",
        &format!("/api/chats/{chat}/messages/{gone}"),
        serde_json::json!({}),
    )
    .await;
    let put = format!("/api/chats/{chat}/messages/{first}/reactions/%F0%9F%91%8D");
    assert_eq!(
        bob.send("PUT", &put, serde_json::json!({}))
            .await
            .status()
            .code,
        200
    );
    let group = alice.group("Team", &["bob"]).await;
    // Files too: a photo and a file of three chunks.
    let photo = crate::common::images::png(640, 480);
    let dump = crate::common::images::noise(600_000);
    let files = [
        alice.uploaded(group, "photo.png", &photo).await,
        alice.uploaded(group, "dump.bin", &dump).await,
    ];
    let sent = alice
        .send_files(group, "in the group", &[&files[0], &files[1]])
        .await
        .status();
    assert_eq!(sent, Status::Created);
    let cursor = bob.cursor_now().await;
    let cookie = alice.cookie.clone();
    drop((alice, bob));
    drop(on_sqlite);

    let copy_to = || {
        process::run(
            &process::binary(),
            dir.path(),
            &[("KANECT_DATABASE_URL", &sqlite)],
            &["copy-to", &database.url],
        )
    };
    let copied = copy_to();
    let said = String::from_utf8_lossy(&copied.stdout).into_owned();
    assert!(
        copied.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&copied.stderr)
    );
    assert!(said.contains("messages: 3 rows"), "{said}");
    // Every table of the team moves: one added later must be added to `db::copy` too.
    // (Not the search index, which PostgreSQL builds itself, nor SQLite's own tables.)
    let source = sqlx::SqlitePool::connect(&sqlite)
        .await
        .expect("the SQLite file");
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
           AND name NOT LIKE '_sqlx_%' AND name NOT LIKE 'messages_search%'
           AND name <> 'writer_probe'",
    )
    .fetch_all(&source)
    .await
    .expect("its tables");
    source.close().await;
    for table in tables {
        assert!(
            said.contains(&format!("{table}: ")),
            "{table} copied: {said}"
        );
    }
    assert!(
        !said.contains("kanect:kanect@"),
        "no password in what it prints: {said}"
    );

    let on_pg = instance(&database.url, &key).await;
    // Alice's session came along.
    let alice = Person {
        app: &on_pg,
        name: "alice".into(),
        id: 1,
        cookie,
        csrf: String::new(),
    };
    let me = alice.get_json("/api/me", Status::Ok).await;
    assert_eq!(me["username"], "alice");
    let bob = on_pg.login("bob", PASSWORD).await;
    let history = bob.history(chat, "").await["messages"].clone();
    let bodies: Vec<&str> = history
        .as_array()
        .expect("messages")
        .iter()
        .filter_map(|m| m["body"].as_str())
        .collect();
    assert_eq!(bodies, ["before the move"], "the deleted one stays deleted");
    let found = bob.get_json("/api/search?q=move", Status::Ok).await;
    assert_eq!(
        found["results"][0]["message"]["body"], "before the move",
        "what came along is searchable: {found}"
    );
    let in_group = bob.history(group, "").await["messages"][0].clone();
    assert_eq!(in_group["attachments"], serde_json::json!(files));
    for (file, bytes) in files.iter().zip([&photo, &dump]) {
        let url = file["url"].as_str().expect("a url");
        let served = bob.get(url).await.into_bytes().await.unwrap_or_default();
        assert!(&served == bytes, "{url} serves other bytes after the move");
    }
    let thumbnail = files[0]["thumbnail_url"].as_str().expect("a thumbnail");
    assert_eq!(bob.get(thumbnail).await.status(), Status::Ok);
    assert_eq!(
        history[0]["reactions"][0]["users"],
        serde_json::json!(["bob"])
    );
    // Ids and the event stream carry on past everything SQLite handed out.
    let next = bob.say(chat, "after the move").await["id"]
        .as_i64()
        .expect("id");
    assert!(next > gone, "{next} after {gone}");
    let update = bob.poll(cursor, 5).await;
    let bodies: Vec<&str> = update["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["message"]["body"].as_str())
        .collect();
    assert_eq!(
        bodies,
        ["after the move"],
        "the old cursor still reads on: {update}"
    );

    // A second copy into a database that holds a team is refused, and changes nothing.
    let again = copy_to();
    assert!(!again.status.success());
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(
        err.starts_with("error:") && err.contains("already holds a team"),
        "{err}"
    );
}

/// A PostgreSQL database that cannot be used is one clear line from `serve`, `check` and
/// `migrate`, and exit 1: no server there, a wrong password, no such database, a schema a
/// newer Kanect wrote. The password never shows.
#[rocket::async_test]
async fn a_postgresql_database_that_cannot_be_used_is_one_clear_error() {
    use crate::process;

    let Some((_, _, database)) = two_instances().await else {
        return;
    };
    let server = crate::common::postgres::server().unwrap_or_default();
    let wrong_password = {
        let mut url = url::Url::parse(&server).expect("a URL");
        let _ = url.set_password(Some("not-the-password"));
        url.to_string()
    };
    let newer = database.url.clone();
    let dir = tempfile::tempdir().expect("a folder");
    let bin = process::binary();
    let migrated = process::run(
        &bin,
        dir.path(),
        &[("KANECT_DATABASE_URL", &newer)],
        &["migrate"],
    );
    assert!(migrated.status.success());
    crate::common::postgres::execute(
        &newer,
        dir.path(),
        "INSERT INTO _sqlx_migrations (version, description, installed_on, success, checksum,
                                       execution_time)
         VALUES (99, 'from the future', now(), TRUE, '\\x00', 1)",
    )
    .await;
    for (url, says) in [
        (
            "postgres://kanect:secret@127.0.0.1:1/team".to_owned(),
            "cannot open the database",
        ),
        (wrong_password, "password authentication failed"),
        (
            crate::common::postgres::with_database(&server, "kanect_no_such_database"),
            "does not exist",
        ),
        (newer, "newer than this Kanect"),
    ] {
        for command in ["serve", "check", "migrate"] {
            let output = process::run(
                &bin,
                dir.path(),
                &[("KANECT_DATABASE_URL", &url), ("KANECT_DATA_DIR", "data")],
                &[command],
            );
            let err = String::from_utf8_lossy(&output.stderr);
            let lines: Vec<&str> = err.lines().filter(|l| !l.contains(" INFO ")).collect();
            assert_eq!(output.status.code(), Some(1), "{command} {url}: {err}");
            assert_eq!(lines.len(), 1, "{command}: one line: {err}");
            assert!(
                lines[0].starts_with("error:") && lines[0].contains(says),
                "{command}: {err}"
            );
            assert!(
                !lines[0].contains("secret") && !lines[0].contains("not-the-password"),
                "{err}"
            );
        }
    }
}

#[rocket::async_test]
async fn a_new_name_or_theme_set_on_one_instance_is_what_the_other_sends_and_renders() {
    let Some((a, b, _db)) = two_instances().await else {
        return;
    };
    let alice = a.signup("alice").await;
    a.signup("bob").await;
    let chat = alice.chat_with("bob").await;
    let alice_on_b = on(&b, &alice);
    alice_on_b.say(chat, "cached on B").await;
    let changed = alice
        .patch(
            "/api/me",
            serde_json::json!({ "display_name": "Ada", "preferences": { "theme": "dark" } }),
        )
        .await;
    assert_eq!(changed.status(), Status::Ok);
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut shown = serde_json::Value::Null;
    while Instant::now() < deadline {
        shown = alice_on_b.say(chat, "and now?").await["sender_display_name"].clone();
        if shown == "Ada" {
            break;
        }
        rocket::tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(shown, "Ada", "B's cached session learnt the new name");
    let page = alice_on_b
        .get("/")
        .await
        .into_string()
        .await
        .unwrap_or_default();
    assert!(page.contains(r#"data-theme="dark""#), "and the theme");
}
