//! The database: one SQLite file, or a PostgreSQL server, behind two pools. All SQL lives
//! in this module's children, one per entity; handlers call typed functions and never see
//! SQL, nor which database answers it (see `backend`).
//!
//! SQLite allows one writer at a time. Giving writes their own single-connection pool
//! serialises them in process, so writers queue on a mutex instead of spinning on
//! SQLITE_BUSY, and event sequence numbers are committed in the order they are assigned
//! (the long poll relies on that; on PostgreSQL the writer's lock keeps the same promise,
//! see `writer`). Reads use a separate pool and never wait for writes.

pub mod admin;
pub mod backend;
pub mod bots;
pub mod chats;
pub mod checkpoint;
pub mod copy;
pub mod events;
pub mod export;
pub mod files;
pub mod invites;
pub mod messages;
pub mod notify;
pub mod presence;
pub mod profiles;
pub mod push;
pub mod schema;
pub mod search;
pub mod send_queue;
pub mod sessions;
pub mod throttle;
pub mod tokens;
pub mod users;
pub mod webhooks;
pub mod writer;

use std::str::FromStr;
use std::time::Duration;

use rocket::figment::Figment;
use rocket_db_pools::Database;
use serde::Deserialize;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::ConnectOptions;

pub use backend::{Conn, ConnRef, On, Pool};
pub use writer::{WriteTx, Writer};

/// SQLite's migrations (`migrations/*.sql`).
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");
/// PostgreSQL's (`migrations/postgres/*.sql`): the same schema in its own dialect.
pub static MIGRATOR_POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// How long a request waits for a PostgreSQL connection before it is answered 503: while
/// the server restarts, people hear at once that it is unavailable.
const POSTGRES_ACQUIRE: Duration = Duration::from_secs(5);

/// PostgreSQL write connections per instance: transactions take turns on the write lock,
/// so more would only wait; a few let one-statement writes (a session's last use) pass a
/// transaction that waits for the lock.
const POSTGRES_WRITERS: u32 = 4;

/// The database as Rocket manages it (`&Db` is a request guard).
#[derive(Database)]
#[database("kanect")]
pub struct Db(Pools);

#[derive(Clone)]
pub struct Pools {
    pub read: Pool,
    pub write: Writer,
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
    #[error("cannot open the database {url}: {error}")]
    Open { url: String, error: sqlx::Error },
}

#[derive(Deserialize)]
struct PoolConfig {
    url: String,
    max_connections: usize,
}

/// How much of the file `Pools::open` reads before trusting it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verify {
    /// `PRAGMA quick_check` of every page (about 0.3 s a million messages): the command
    /// line, including `serve`'s own pre-flight, does this once per start.
    Pages,
    /// Only the schema version: the server's pool, opened right after that pre-flight.
    Schema,
}

impl Pools {
    /// Opens (creating if needed) the database at `url` and applies pending migrations.
    pub async fn open(url: &str, readers: u32, verify: Verify) -> Result<Pools, DbError> {
        if backend::is_postgres_url(url) {
            return Pools::open_postgres(url, readers).await;
        }
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // Under WAL, NORMAL loses nothing when the process dies (kill -9): a commit is in
            // the WAL file before it returns. Only a power cut can drop the last commits.
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5))
            .pragma("temp_store", "memory");
        let file = options.clone().get_filename().into_owned();
        schema::refuse_empty(&file)?;
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
            .await
            .map_err(|e| schema::damage(&file, e))?;
        // Refuse a damaged database, or one from a newer Kanect, before touching it (see
        // `schema`).
        let mut conn = write.acquire().await?;
        if verify == Verify::Pages {
            // Read-only for the check: SQLite's check of the search index (FTS5) then
            // passes (see `schema::problems`). It reads the whole index, seconds for a
            // million messages, so it is left to backups, which check their copy in full,
            // and the start stays at a fraction of a second.
            sqlx::query("PRAGMA query_only = ON")
                .execute(&mut *conn)
                .await?;
            let checked = schema::quick_check(&mut conn, &file).await;
            sqlx::query("PRAGMA query_only = OFF")
                .execute(&mut *conn)
                .await?;
            checked?;
        }
        schema::status(On::Sqlite(&mut *conn)).await?;
        drop(conn);
        MIGRATOR.run(&write).await?;
        users::settle_names(&mut *write.acquire().await?).await?;
        let read = SqlitePoolOptions::new()
            .max_connections(readers.max(1))
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.read_only(true))
            .await?;
        Ok(Pools {
            read: On::Sqlite(read),
            write: Writer::new(On::Sqlite(write)),
        })
    }

    /// The same on a PostgreSQL server: one connection first, which shows a wrong address,
    /// credentials or database name at once (a pool would retry a refused connection until
    /// its timeout), checks the schema and migrates; then both pools, which connect as
    /// they are used and reconnect by themselves after the server restarts.
    async fn open_postgres(url: &str, readers: u32) -> Result<Pools, DbError> {
        let refused = |error| DbError::Open {
            url: backend::without_password(url),
            error,
        };
        let options = PgConnectOptions::from_str(url)
            .map_err(refused)?
            .application_name("kanect")
            // Kanect's queries are short index walks; a plan costed high before the
            // tables are analysed (a database `copy-to` has just filled) would otherwise
            // be JIT-compiled at every long poll, tens of milliseconds for microseconds
            // of work (the bench measured it).
            .options([("jit", "off")])
            .log_statements(tracing::log::LevelFilter::Trace);
        let mut conn = options.connect().await.map_err(refused)?;
        let status = schema::status(On::Postgres(&mut conn)).await;
        sqlx::Connection::close(conn).await?;
        status?;
        let pool = |max: u32| {
            PgPoolOptions::new()
                .max_connections(max)
                .acquire_timeout(POSTGRES_ACQUIRE)
                .connect_lazy_with(options.clone())
        };
        let write = pool(POSTGRES_WRITERS);
        MIGRATOR_POSTGRES.run(&write).await?;
        Ok(Pools {
            read: On::Postgres(pool(readers.max(1))),
            write: Writer::new(On::Postgres(write)),
        })
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
        let checkpointed = self.write.checkpoint(mode).await;
        self.write.close().await;
        checkpointed
    }

    /// `true` when the database answers a query.
    pub async fn healthy(&self) -> bool {
        backend::on!(&self.read, |c| sqlx::query("SELECT 1")
            .execute(c)
            .await
            .is_ok())
    }
}

#[rocket::async_trait]
impl rocket_db_pools::Pool for Pools {
    type Connection = Conn;
    type Error = DbError;

    async fn init(figment: &Figment) -> Result<Self, Self::Error> {
        let config: PoolConfig = figment.extract().map_err(Box::new)?;
        let readers = u32::try_from(config.max_connections).unwrap_or(u32::MAX);
        // `cli::serve` has verified the pages just before (and tests start on new files).
        Pools::open(&config.url, readers, Verify::Schema).await
    }

    async fn get(&self) -> Result<Self::Connection, Self::Error> {
        Ok(self.read.acquire().await?)
    }

    /// Rocket calls this as soon as shutdown is requested, while in-flight requests still
    /// need the database; `cli::serve` closes the pools once they have finished instead.
    async fn close(&self) {}
}

/// `true` when `err` is PostgreSQL refusing text it cannot hold (a NUL character, which
/// SQLite keeps): the request's fault, since nothing stored can contain one.
pub fn is_unstorable_text(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(e) if matches!(e.code().as_deref(), Some("22021" | "22P05")))
}

/// `true` when `err` is a UNIQUE constraint failure (a name or a pair already taken).
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(e) if e.is_unique_violation())
}

/// Copies the live database at `url` to `file` (VACUUM INTO: one consistent snapshot,
/// taken while writers go on), then checks the copy's integrity. It neither creates nor
/// migrates the database, so an upgraded binary can back up before it first starts.
///
/// `file` is either a whole, checked copy or absent: the copy is written under a temporary
/// name beside it, checked, flushed to disk, and only then renamed (never over an existing
/// file). A full disk or a crash leaves nothing under `file`, and a failure removes the
/// temporary file too.
pub async fn backup(url: &str, file: &std::path::Path) -> Result<(), DbError> {
    if backend::is_postgres_url(url) {
        return Err(DbError::Backup(
            "`kanect backup` copies an SQLite database; on PostgreSQL use pg_dump \
             (pg_dump --format=custom --file=kanect.dump <database_url>, README \
             \"PostgreSQL\")"
                .to_owned(),
        ));
    }
    if file.exists() {
        return Err(DbError::Backup(format!(
            "{} already exists",
            file.display()
        )));
    }
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
    schema::refuse_empty(&source)?;
    let unwritable = |e: &dyn std::fmt::Display| {
        DbError::Backup(format!(
            "cannot write the copy to {} ({e}); nothing was left there",
            file.display()
        ))
    };
    let dir = match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => std::path::Path::new("."),
    };
    let name = file.file_name().unwrap_or_default().to_string_lossy();
    // Empty, which VACUUM INTO accepts; removed when dropped, unless persisted.
    let temp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".partial")
        .tempfile_in(dir)
        .map_err(|e| unwritable(&e))?;
    vacuum_into(&live, temp.path())
        .await
        .map_err(|e| match schema::damage(&source, e) {
            schema::SchemaError::Sqlx(sqlx::Error::Database(e)) => unwritable(&e.message()),
            other => other.into(),
        })?;
    if let Some(damage) = copy_damage(temp.path()).await? {
        return Err(DbError::Backup(format!(
            "the copy failed its integrity check ({damage}); nothing was left at {}",
            file.display()
        )));
    }
    temp.as_file().sync_all().map_err(|e| unwritable(&e))?;
    temp.persist_noclobber(file)
        .map_err(|e| match e.error.kind() {
            std::io::ErrorKind::AlreadyExists => {
                DbError::Backup(format!("{} already exists", file.display()))
            }
            _ => unwritable(&e.error),
        })?;
    // The new name is on disk only once the directory is.
    #[cfg(unix)]
    std::fs::File::open(dir)
        .and_then(|dir| dir.sync_all())
        .map_err(|e| {
            DbError::Backup(format!(
                "wrote {} but could not flush its folder to disk ({e})",
                file.display()
            ))
        })?;
    Ok(())
}

/// `VACUUM INTO` the empty file `copy`, from a connection of its own.
async fn vacuum_into(
    live: &SqliteConnectOptions,
    copy: &std::path::Path,
) -> Result<(), sqlx::Error> {
    let target = copy
        .to_str()
        .ok_or_else(|| sqlx::Error::Configuration("the backup path is not valid UTF-8".into()))?;
    let mut conn = sqlx::ConnectOptions::connect(live).await?;
    let copied = sqlx::query("VACUUM INTO ?")
        .bind(target)
        .execute(&mut conn)
        .await;
    sqlx::Connection::close(conn).await?;
    copied.map(drop)
}

/// What `integrity_check` finds wrong with the copy, which nothing else has open. Not
/// read-only: SQLite checks the search index with a write-shaped statement (which changes
/// nothing), and the copy is this process's own.
async fn copy_damage(copy: &std::path::Path) -> Result<Option<String>, sqlx::Error> {
    let options = SqliteConnectOptions::new().filename(copy);
    let mut conn = sqlx::ConnectOptions::connect(&options).await?;
    let damage = schema::integrity(&mut conn).await;
    sqlx::Connection::close(conn).await?;
    damage
}
