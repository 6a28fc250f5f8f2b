//! The database: one SQLite file behind two pools. All SQL lives in this module's children,
//! one per entity; handlers call typed functions and never see SQL.
//!
//! SQLite allows one writer at a time. Giving writes their own single-connection pool
//! serialises them in process, so writers queue on a mutex instead of spinning on
//! SQLITE_BUSY, and message ids are committed in the order they are assigned (the long
//! poll relies on that). Reads use a separate pool and, under WAL, never wait for writes.

pub mod chats;
pub mod checkpoint;
pub mod messages;
pub mod schema;
pub mod send_queue;
pub mod sessions;
pub mod users;

use std::str::FromStr;
use std::time::Duration;

use rocket::figment::Figment;
use rocket_db_pools::Database;
use serde::Deserialize;
use sqlx::pool::PoolConnection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool};

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The database as Rocket manages it (`&Db` is a request guard).
#[derive(Database)]
#[database("kanect")]
pub struct Db(Pools);

#[derive(Clone)]
pub struct Pools {
    pub read: SqlitePool,
    pub write: SqlitePool,
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database configuration: {0}")]
    Config(#[from] Box<rocket::figment::Error>),
    #[error("database: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("backup: {0}")]
    Backup(String),
    #[error("{0}")]
    Schema(#[from] schema::SchemaError),
}

#[derive(Deserialize)]
struct PoolConfig {
    url: String,
    max_connections: usize,
}

impl Pools {
    /// Opens (creating if needed) the database at `url` and applies pending migrations.
    pub async fn open(url: &str, readers: u32) -> Result<Pools, DbError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // Under WAL, NORMAL loses nothing when the process dies (kill -9): a commit is in
            // the WAL file before it returns. Only a power cut can drop the last commits.
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5))
            .pragma("temp_store", "memory");
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            // One connection for the life of the process: it keeps its prepared statements,
            // and the session cache's watch relies on its `data_version` (see auth::cache).
            .idle_timeout(None)
            .max_lifetime(None)
            .acquire_timeout(Duration::from_secs(30))
            // Checkpoints are `checkpoint`'s job while serving; this is the safety net.
            .connect_with(
                options
                    .clone()
                    .pragma("wal_autocheckpoint", checkpoint::WRITER_CHECKPOINT_PAGES),
            )
            .await?;
        // Refuse a database from a newer Kanect before touching it (see `schema`).
        schema::status(&mut *write.acquire().await?).await?;
        MIGRATOR.run(&write).await?;
        users::settle_names(&mut *write.acquire().await?).await?;
        let read = SqlitePoolOptions::new()
            .max_connections(readers.max(1))
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.read_only(true))
            .await?;
        Ok(Pools { read, write })
    }

    /// Closes both pools, leaving the database file self-contained. Closing the last
    /// connection would checkpoint the WAL by itself, but a read-only connection that the
    /// pool has not finished closing yet can be the last one, and it cannot checkpoint.
    /// PASSIVE never waits, so a command-line tool cannot stall a running server.
    pub async fn close(&self) {
        self.close_checkpointed("PASSIVE").await;
    }

    /// The server's last word: folds the whole WAL into the main file and truncates it,
    /// then closes. `false` if the checkpoint failed, for instance because another process
    /// (a backup) was still reading.
    pub async fn shutdown(&self) -> bool {
        self.close_checkpointed("TRUNCATE").await
    }

    async fn close_checkpointed(&self, mode: &str) -> bool {
        self.read.close().await;
        let checkpoint: Result<(i64, i64, i64), _> =
            sqlx::query_as(&format!("PRAGMA wal_checkpoint({mode})"))
                .fetch_one(&self.write)
                .await;
        self.write.close().await;
        matches!(checkpoint, Ok((0, _, _)))
    }

    /// `true` when the database answers a query.
    pub async fn healthy(&self) -> bool {
        sqlx::query_scalar::<_, i64>("SELECT 1")
            .fetch_one(&self.read)
            .await
            .is_ok()
    }
}

#[rocket::async_trait]
impl rocket_db_pools::Pool for Pools {
    type Connection = PoolConnection<Sqlite>;
    type Error = DbError;

    async fn init(figment: &Figment) -> Result<Self, Self::Error> {
        let config: PoolConfig = figment.extract().map_err(Box::new)?;
        let readers = u32::try_from(config.max_connections).unwrap_or(u32::MAX);
        Pools::open(&config.url, readers).await
    }

    async fn get(&self) -> Result<Self::Connection, Self::Error> {
        Ok(self.read.acquire().await?)
    }

    /// Rocket calls this as soon as shutdown is requested, while in-flight requests still
    /// need the database; `cli::serve` closes the pools once they have finished instead.
    async fn close(&self) {}
}

/// `true` when `err` is a UNIQUE constraint failure (a name or a pair already taken).
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(e) if e.is_unique_violation())
}

/// Copies the live database at `url` to `file` (VACUUM INTO: one consistent snapshot,
/// taken while writers go on), then checks the copy's integrity. It neither creates nor
/// migrates the database, so an upgraded binary can back up before it first starts.
pub async fn backup(url: &str, file: &std::path::Path) -> Result<(), DbError> {
    if file.exists() {
        return Err(DbError::Backup(format!(
            "{} already exists",
            file.display()
        )));
    }
    let target = file
        .to_str()
        .ok_or_else(|| DbError::Backup("the backup path is not valid UTF-8".into()))?;
    let live = SqliteConnectOptions::from_str(url)?
        .read_only(true)
        .busy_timeout(Duration::from_secs(5));
    let source = live.clone().get_filename();
    if !source.is_file() {
        return Err(DbError::Backup(format!(
            "there is no database at {}",
            source.display()
        )));
    }
    let mut conn = sqlx::ConnectOptions::connect(&live).await?;
    sqlx::query("VACUUM INTO ?")
        .bind(target)
        .execute(&mut conn)
        .await?;
    let copy = SqliteConnectOptions::new().filename(file).read_only(true);
    let mut conn = sqlx::ConnectOptions::connect(&copy).await?;
    if let Some(damage) = schema::integrity(&mut conn).await? {
        return Err(DbError::Backup(format!(
            "the copy failed its integrity check: {damage}"
        )));
    }
    Ok(())
}
