//! Sessions are served from memory, yet end at once: sign-out, password change,
//! deactivation and role changes are seen by the very next request.

use crate::common;

use common::{expect_error, TestApp, PASSWORD};
use kanect::auth::cache::Sessions;
use kanect::auth::session;
use kanect::db::{users, Db};
use kanect::model::{Role, Timestamp, UserId};
use rocket::http::Status;
use rocket_db_pools::Database;

fn parts(app: &TestApp) -> (&Db, &Sessions) {
    let rocket = app.client.rocket();
    let db = Db::fetch(rocket).expect("the database is attached");
    let cache = rocket
        .state::<Sessions>()
        .expect("the session cache is managed");
    (db, cache)
}

#[rocket::async_test]
async fn a_poll_is_served_from_the_cache_after_the_first_request() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let (_, cache) = parts(&app);
    assert!(
        !cache.is_empty(),
        "signing in and opening the page cached the session"
    );
    assert_eq!(alice.get("/api/updates").await.status(), Status::Ok);
}

#[rocket::async_test]
async fn a_changed_password_ends_cached_sessions_at_once() {
    let app = TestApp::new().await;
    let bob = app.signup("bob").await;
    let laptop = app.login("bob", PASSWORD).await;
    assert_eq!(bob.get("/api/me").await.status(), Status::Ok);

    let (db, cache) = parts(&app);
    let hash = kanect::auth::password::hash_blocking("a-new-secret-phrase-9").expect("hash");
    users::set_password(&db.write, UserId(bob.id), &hash)
        .await
        .expect("password set");
    session::end_sessions_of(db, cache, UserId(bob.id))
        .await
        .expect("sessions ended");

    // No settling: the change is in this process and reaches the cache before it returns.
    for person in [&bob, &laptop] {
        expect_error(
            person.get("/api/updates").await,
            Status::Unauthorized,
            "not_signed_in",
        )
        .await;
    }
}

#[rocket::async_test]
async fn deactivation_through_the_app_ends_sessions_at_once() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    assert_eq!(bob.get("/api/me").await.status(), Status::Ok);

    let (db, cache) = parts(&app);
    session::end_sessions_of(db, cache, UserId(bob.id))
        .await
        .expect("sessions ended");

    expect_error(
        bob.get("/api/me").await,
        Status::Unauthorized,
        "not_signed_in",
    )
    .await;
    assert_eq!(
        alice.get("/api/me").await.status(),
        Status::Ok,
        "others stay signed in"
    );
}

#[rocket::async_test]
async fn a_signed_out_session_is_refused_even_when_it_was_cached() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    for _ in 0..3 {
        assert_eq!(alice.get("/api/updates").await.status(), Status::Ok);
    }
    alice.post_form("/logout", &[]).await;
    expect_error(
        alice.get("/api/updates").await,
        Status::Unauthorized,
        "not_signed_in",
    )
    .await;
}

#[rocket::async_test]
async fn a_role_change_reaches_the_cached_session_on_the_next_request() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let (db, cache) = parts(&app);
    let token = kanect::auth::token::hash(alice.cookie.value());
    let cached_role = || cache.get(&token, Timestamp::now()).map(|e| e.user.role);
    assert_eq!(cached_role(), Some(Role::Member));

    // Through the app's own writer, as the admin console does: no watch would notice.
    kanect::on!(&db.write, |c| {
        sqlx::query("UPDATE users SET role = 'staff' WHERE id = $1")
            .bind(alice.id)
            .execute(c)
            .await
            .map(drop)
    })
    .expect("role changed");
    rocket::tokio::time::sleep(kanect::auth::cache::WATCH_EVERY * 2).await;
    // SQLite's watch sees only other processes' commits; PostgreSQL announces every change
    // of a role, this process's own too.
    if !app.is_postgres() {
        assert_eq!(cached_role(), Some(Role::Member), "still the cached role");
    }
    session::forget_user(cache, UserId(alice.id));
    assert_eq!(cached_role(), None, "forgotten at once");
    assert_eq!(alice.get("/api/me").await.status(), Status::Ok);
    assert_eq!(cached_role(), Some(Role::Staff));
}

#[rocket::async_test]
async fn a_session_ended_by_another_process_is_refused_once_noticed() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    assert_eq!(alice.get("/api/me").await.status(), Status::Ok);
    // `sql` writes through its own connection, as `kanect changepassword` would, and
    // waits the watch interval.
    app.sql("DELETE FROM sessions").await;
    expect_error(
        alice.get("/api/me").await,
        Status::Unauthorized,
        "not_signed_in",
    )
    .await;
}

#[rocket::async_test]
async fn the_app_own_writes_and_checkpoints_keep_the_cache() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    app.signup("bob").await;
    let chat = alice.chat_with("bob").await;
    let (_, cache) = parts(&app);
    let token = kanect::auth::token::hash(alice.cookie.value());
    for n in 0..3 {
        alice.say(chat, &format!("hello {n}")).await;
        // Longer than a checkpoint interval and the watch's.
        rocket::tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
        assert!(
            cache.get(&token, Timestamp::now()).is_some(),
            "a write of this process is no reason to forget sessions"
        );
    }
}
