//! WAL checkpoints off the send path. By default SQLite checkpoints inside the commit that
//! fills the WAL past 1,000 pages, and a checkpoint waits for the disk (fsync): every so
//! often one send, and every send queued behind it, would wait tens of milliseconds. Here
//! a connection of its own checkpoints once a second instead, beside the writer. Commits
//! are as durable as before (they are in the WAL when they return); the writer still
//! checkpoints by itself past `WRITER_CHECKPOINT_PAGES` should this task ever fall behind.

use std::str::FromStr;
use std::time::Duration;

use rocket::fairing::{Fairing, Info, Kind};
use rocket::{Orbit, Rocket};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, SqliteConnection};

/// The writer's own checkpoint threshold (SQLite's default is 1,000 pages).
pub const WRITER_CHECKPOINT_PAGES: &str = "20000";

const EVERY: Duration = Duration::from_secs(1);

pub struct Checkpoints;

#[rocket::async_trait]
impl Fairing for Checkpoints {
    fn info(&self) -> Info {
        Info {
            name: "WAL checkpoints",
            kind: Kind::Liftoff,
        }
    }

    async fn on_liftoff(&self, rocket: &Rocket<Orbit>) {
        let Ok(url) = rocket
            .figment()
            .extract_inner::<String>("databases.kanect.url")
        else {
            return;
        };
        // PostgreSQL checkpoints by itself.
        if super::backend::is_postgres_url(&url) {
            return;
        }
        let mut conn = match connect(&url).await {
            Ok(conn) => conn,
            Err(e) => {
                tracing::warn!(error = %e, "no checkpoint connection; the writer checkpoints");
                return;
            }
        };
        let mut shutdown = rocket.shutdown();
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(EVERY);
            let mut failing = false;
            loop {
                tokio::select! {
                    _ = ticks.tick() => {}
                    _ = &mut shutdown => break,
                }
                // PASSIVE: copies what it can without waiting for readers or the writer.
                // A failure (a full disk) repeats every second: logged when it starts and
                // when it ends, not each time.
                match sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                    .execute(&mut conn)
                    .await
                {
                    Err(e) if !failing => {
                        tracing::warn!(error = %e, "WAL checkpoints fail; the WAL file grows");
                        failing = true;
                    }
                    Ok(_) if failing => {
                        tracing::info!("WAL checkpoints work again");
                        failing = false;
                    }
                    _ => {}
                }
            }
        });
    }
}

async fn connect(url: &str) -> Result<SqliteConnection, sqlx::Error> {
    SqliteConnectOptions::from_str(url)?
        .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(5))
        .connect()
        .await
}
