//! A full disk: every write that got a 2xx survives a restart, `/healthz` says the writer
//! cannot commit, and the server recovers by itself once there is room again.
//!
//! `PRAGMA max_page_count` on the writer's connection stands in for the disk: at the current
//! page count, any write that needs a new page fails with SQLITE_FULL, exactly where a full
//! disk would make it fail, and raising it is the space coming back.

use crate::common;

use common::{Person, TestApp};
use kanect::db::Db;
use rocket::http::Status;
use rocket_db_pools::Database;
use serde_json::{json, Value};

/// Lets the database file grow no more (or, with `None`, as much as it likes).
async fn limit_growth(app: &TestApp, pages: Option<i64>) {
    let db = Db::fetch(app.client.rocket()).expect("the database");
    let pages = match pages {
        Some(pages) => pages,
        None => kanect::on!(&db.read, |c| {
            sqlx::query_scalar("PRAGMA page_count").fetch_one(c).await
        })
        .expect("page count"),
    };
    let limit = format!("PRAGMA max_page_count = {pages}");
    kanect::on!(&db.write, |c| sqlx::query(&limit)
        .execute(c)
        .await
        .map(drop))
    .expect("set the page limit");
}

const NO_LIMIT: Option<i64> = Some(1_073_741_823);

/// A message that needs a page of its own.
fn big(n: usize) -> String {
    format!("{n} {}", "x".repeat(3_900))
}

/// Sends `body`; the id when acknowledged.
async fn send(person: &Person<'_>, chat: i64, body: &str) -> (Status, Option<i64>) {
    let response = person
        .post(
            &format!("/api/chats/{chat}/messages"),
            json!({ "body": body }),
        )
        .await;
    let status = response.status();
    let id = match status {
        Status::Created => response
            .into_json::<Value>()
            .await
            .and_then(|m| m["id"].as_i64()),
        _ => None,
    };
    (status, id)
}

async fn health(app: &TestApp) -> (Status, Value) {
    let response = app.client.get("/healthz").dispatch().await;
    let status = response.status();
    (status, response.into_json().await.unwrap_or_default())
}

/// Everything acknowledged before, during and after the disk was full.
struct Acknowledged {
    messages: Vec<i64>,
    sessions: Vec<rocket::http::Cookie<'static>>,
}

/// Fills what room is left: big messages until one is refused for want of space.
async fn use_up_the_room(person: &Person<'_>, chat: i64, acked: &mut Vec<i64>) {
    for n in 0..50 {
        match send(person, chat, &big(n)).await {
            (Status::Created, id) => acked.extend(id),
            (Status::ServiceUnavailable, _) => return,
            (status, _) => panic!("a send on a full disk answered {status}"),
        }
    }
    panic!("50 big messages fitted into a full database");
}

async fn a_day_with_a_full_disk(dir: &std::path::Path) -> Acknowledged {
    let app = TestApp::over(dir).await;
    let root = app.admin("root", "superuser").await;
    let bob = app.signup("bob").await;
    app.signup("carol").await;
    let chat = root.chat_with("bob").await;
    let mut acked = Vec::new();
    for n in 0..10 {
        let (status, id) = send(&root, chat, &format!("before {n}")).await;
        assert_eq!(status, Status::Created);
        acked.extend(id);
    }

    limit_growth(&app, None).await;
    use_up_the_room(&bob, chat, &mut acked).await;
    // The writer cannot commit what needs room: health says so, and why.
    let (status, body) = health(&app).await;
    assert_eq!(status, Status::ServiceUnavailable, "healthz: {body}");
    assert!(body["writer"]["error"]
        .as_str()
        .unwrap_or_default()
        .contains("full"));
    assert_eq!(body["reads"], "ok");
    let mut sessions = Vec::new();
    for n in 0..10 {
        // The console's add form, a send, and a sign-in each meet the full disk.
        let added = root
            .post_form(
                "/admin/messages/add/",
                &[
                    ("chat_id", &chat.to_string()),
                    ("sender_id", &root.id.to_string()),
                    ("body", &big(n)),
                ],
            )
            .await;
        assert_eq!(
            added.status(),
            Status::ServiceUnavailable,
            "console add {n}"
        );
        let (status, id) = send(&bob, chat, &big(n)).await;
        assert_eq!(status, Status::ServiceUnavailable, "send {n}");
        assert_eq!(id, None);
        let visitor = app.visitor("/login").await;
        let signed_in = visitor
            .post_form(
                "/login",
                &[("username", "carol"), ("password", common::PASSWORD)],
            )
            .await;
        // A session row may still fit where a message does not; if it was acknowledged,
        // it must last.
        match signed_in.status() {
            Status::SeeOther => sessions.extend(
                signed_in
                    .cookies()
                    .get("kanect_session")
                    .map(|c| c.clone().into_owned()),
            ),
            Status::ServiceUnavailable => {
                assert!(signed_in.cookies().get("kanect_session").is_none())
            }
            other => panic!("sign-in {n} on a full disk answered {other}"),
        }
    }
    // Reading goes on meanwhile.
    let history = root.history(chat, "limit=50").await;
    assert_eq!(history["messages"].as_array().map(Vec::len), Some(10));

    // Room again: the next writes commit, without a restart.
    limit_growth(&app, NO_LIMIT).await;
    for n in 0..10 {
        let (status, id) = send(&bob, chat, &big(n)).await;
        assert_eq!(status, Status::Created, "send {n} after the disk has room");
        acked.extend(id);
    }
    let carol = app.login("carol", common::PASSWORD).await;
    sessions.push(carol.cookie.clone());
    let (status, body) = health(&app).await;
    assert_eq!(status, Status::Ok, "healthz: {body}");
    Acknowledged {
        messages: acked,
        sessions,
    }
}

#[rocket::async_test]
async fn a_full_disk_loses_nothing_that_was_acknowledged_and_heals_itself() {
    if common::postgres::skips("a full disk") {
        return;
    }
    let dir = tempfile::tempdir().expect("temporary directory");
    let acked = a_day_with_a_full_disk(dir.path()).await;

    // After a restart, every acknowledged message is there, and carol's session works.
    let app = TestApp::over(dir.path()).await;
    let ids: Vec<String> = acked.messages.iter().map(i64::to_string).collect();
    let stored = app
        .count(&format!(
            "SELECT COUNT(*) FROM messages WHERE id IN ({})",
            ids.join(",")
        ))
        .await;
    assert_eq!(stored, acked.messages.len() as i64);
    assert!(acked.messages.len() >= 20);
    for cookie in acked.sessions {
        let me = app.client.get("/api/me").cookie(cookie).dispatch().await;
        assert_eq!(me.status(), Status::Ok, "an acknowledged sign-in lasts");
    }
}

#[rocket::async_test]
async fn the_writer_reports_itself_healthy_again_without_any_write_from_people() {
    if common::postgres::skips("a full disk") {
        return;
    }
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    app.signup("bob").await;
    let chat = alice.chat_with("bob").await;
    limit_growth(&app, None).await;
    use_up_the_room(&alice, chat, &mut Vec::new()).await;
    assert_eq!(health(&app).await.0, Status::ServiceUnavailable);
    let db = Db::fetch(app.client.rocket()).expect("the database");
    // The housekeeping probe alone fails while the disk is full, and heals once it is not.
    db.write.probe().await;
    assert_eq!(health(&app).await.0, Status::ServiceUnavailable);
    limit_growth(&app, NO_LIMIT).await;
    db.write.probe().await;
    assert_eq!(health(&app).await.0, Status::Ok);
}

/// A transaction in which a statement failed is never reported as committed: on
/// PostgreSQL, COMMIT after a failed statement quietly rolls back, so the writer refuses
/// to commit it on either database, and what the transaction wrote before is gone.
#[rocket::async_test]
async fn a_transaction_whose_statement_failed_never_reports_a_commit() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let db = Db::fetch(app.client.rocket()).expect("the database");
    let mut tx = db.write.begin().await.expect("begin");
    kanect::on!(&mut tx, |c| {
        sqlx::query("UPDATE users SET email = 'changed@example.com' WHERE id = $1")
            .bind(alice.id)
            .execute(&mut *c)
            .await
            .map(drop)
    })
    .expect("a write");
    let failed = kanect::on!(&mut tx, |c| {
        sqlx::query("INSERT INTO users (username) VALUES (NULL)")
            .execute(&mut *c)
            .await
            .map(drop)
    });
    assert!(failed.is_err(), "the insert breaks a NOT NULL constraint");
    assert!(tx.commit().await.is_err(), "not reported as committed");
    assert_eq!(
        app.count("SELECT count(*) FROM users WHERE email = 'changed@example.com'")
            .await,
        0,
        "the write before it is gone too"
    );
}
