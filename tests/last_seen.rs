//! Last-seen times kept in memory reach the database in one statement.

use crate::common;

use common::TestApp;
use kanect::db::{users, Db};
use kanect::model::{Timestamp, UserId};
use rocket_db_pools::Database;

#[rocket::async_test]
async fn last_seen_times_are_stored_for_everyone_due() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let carol = app.signup("carol").await;
    let db = Db::fetch(app.client.rocket()).expect("the database is attached");
    let seen = [
        (UserId(alice.id), Timestamp(1_700_000_000_000)),
        (UserId(bob.id), Timestamp(1_700_000_000_500)),
    ];
    users::store_last_seen(&db.write, &seen)
        .await
        .expect("stored");
    let last_seen = |id: i64| format!("SELECT COALESCE(last_seen, -1) FROM users WHERE id = {id}");
    assert_eq!(app.count(&last_seen(alice.id)).await, 1_700_000_000_000);
    assert_eq!(app.count(&last_seen(bob.id)).await, 1_700_000_000_500);
    assert_eq!(
        app.count(&last_seen(carol.id)).await,
        -1,
        "not due, not touched"
    );
    users::store_last_seen(&db.write, &[])
        .await
        .expect("nothing to do");
}
