//! The writer: every write path's way to the database, and the promise they all rely on.
//! A write either commits, or leaves the connection with no transaction open.
//!
//! sqlx's own transactions cannot promise that on SQLite. When SQLite rolls a transaction
//! back by itself (a full disk, an I/O error), sqlx's ROLLBACK fails and its nesting
//! counter stays up; later "transactions" become savepoints, and a failed one rolls back
//! only to its savepoint, leaving a transaction open that never ends: every later write is
//! answered as committed and lost at the next restart. So the writer says BEGIN, COMMIT
//! and ROLLBACK itself, and after anything but a clean commit rolls back for certain, or
//! closes the connection (closing rolls back; the pool opens a new one).
//!
//! Write transactions are serialised, as SQLite's one writer serialises them: on SQLite
//! by its single write connection (BEGIN IMMEDIATE), on PostgreSQL by a transaction-level
//! advisory lock that every write transaction of every instance takes first. That is what
//! makes event sequence numbers commit in order (a reader that has seen `seq` has seen
//! everything before it), and what lets a transaction check an invariant (the last
//! superuser) and rely on it until it commits.
//!
//! It also keeps the writer's health for `/healthz`: a write that failed because of the
//! storage (disk full, I/O error, a lock another process holds, a database server that
//! is gone) marks the writer failing until a write commits again.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Instant;

use rocket::futures::future::BoxFuture;
use rocket::futures::stream::BoxStream;
use rocket::futures::{TryFutureExt, TryStreamExt};
use serde::Serialize;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgQueryResult, PgRow, PgStatement, PgTypeInfo};
use sqlx::sqlite::{SqliteQueryResult, SqliteRow, SqliteStatement, SqliteTypeInfo};
use sqlx::{Describe, Either, Execute, Executor, PgPool, Postgres, Sqlite, SqlitePool};

use super::backend::{ConnRef, Handle, On};
use super::events::Listener;
use crate::model::{Timestamp, UserId};

/// The key of the advisory lock every PostgreSQL write transaction holds ("kanect").
const WRITE_LOCK: i64 = 0x6b61_6e65_6374;

/// The channel on which PostgreSQL carries committed events to every instance.
pub const EVENTS_CHANNEL: &str = "kanect_events";

/// Every write path's way to the database (cheap to clone).
#[derive(Clone)]
pub struct Writer {
    /// SQLite: a pool of one connection. PostgreSQL: a small pool whose transactions take
    /// turns on the write lock.
    pool: On<SqlitePool, PgPool>,
    health: Arc<Health>,
    listener: Arc<OnceLock<Arc<dyn Listener>>>,
    /// This process among the instances on one PostgreSQL database: the events it
    /// announces carry it, so that it does not hear its own twice.
    instance: u64,
}

/// Why the writer is failing, for `/healthz` and the log.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    pub since: Timestamp,
    pub error: String,
    pub failed_writes: u64,
}

#[derive(Default)]
struct Health {
    /// Read on every commit; the details behind it only when something failed.
    failing: AtomicBool,
    failure: Mutex<Option<Failure>>,
}

impl Health {
    fn saw(&self, error: &sqlx::Error) {
        if !is_storage_error(error) {
            return;
        }
        let mut failure = self.failure.lock().unwrap_or_else(PoisonError::into_inner);
        match failure.as_mut() {
            Some(failure) => failure.failed_writes += 1,
            None => {
                tracing::error!(%error, "the database cannot store writes; nothing is acknowledged until it can");
                *failure = Some(Failure {
                    since: Timestamp::now(),
                    error: error.to_string(),
                    failed_writes: 1,
                });
                self.failing.store(true, Ordering::Release);
            }
        }
    }

    fn committed(&self) {
        if !self.failing.load(Ordering::Acquire) {
            return;
        }
        let mut failure = self.failure.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(was) = failure.take() {
            tracing::warn!(
                failed_writes = was.failed_writes,
                "the database stores writes again"
            );
        }
        self.failing.store(false, Ordering::Release);
    }
}

/// Errors of the storage rather than of the statement, which a person's request answers
/// with 503, not 500. SQLite: BUSY, LOCKED, NOMEM, READONLY, IOERR, CORRUPT, FULL,
/// CANTOPEN and NOTADB (primary result codes). PostgreSQL: SQLSTATE classes 08
/// (connection), 53 (insufficient resources: a full disk), 57 (the server shutting down)
/// and 58 (system errors). Either: no connection at all.
pub fn is_storage_error(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(e) => e.code().is_some_and(|code| {
            match code.parse::<i32>() {
                // SQLite's codes are numbers; PostgreSQL's five characters, some all digits
                // (53100), but never below 1000.
                Ok(code) if code < 1000 => matches!(code & 0xff, 5..=8 | 10 | 11 | 13 | 14 | 26),
                _ => ["08", "53", "57", "58"]
                    .iter()
                    .any(|class| code.starts_with(class)),
            }
        }),
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        _ => false,
    }
}

/// The answer to ROLLBACK when the database has already rolled the transaction back
/// itself (SQLite), or when there was none (PostgreSQL only warns).
fn no_transaction(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.message().contains("no transaction is active"))
}

impl Writer {
    pub(super) fn new(pool: On<SqlitePool, PgPool>) -> Self {
        Writer {
            pool,
            health: Arc::default(),
            listener: Arc::default(),
            instance: rand::random(),
        }
    }

    /// Who hears of the events each transaction records, once it has committed (the
    /// server's long polls). Set once; later calls change nothing.
    pub fn listen(&self, listener: Arc<dyn Listener>) {
        let _ = self.listener.set(listener);
    }

    /// The listener `listen` set, if any (for events other instances announce).
    pub fn listener(&self) -> Option<Arc<dyn Listener>> {
        self.listener.get().cloned()
    }

    /// This process's id in the announcements it makes on PostgreSQL.
    pub fn instance(&self) -> u64 {
        self.instance
    }

    /// Starts a write transaction. It takes the write lock now (SQLite's BEGIN IMMEDIATE,
    /// PostgreSQL's advisory lock), so a busy database shows here, never half-way through.
    pub async fn begin(&self) -> sqlx::Result<WriteTx> {
        let conn = match &self.pool {
            On::Sqlite(pool) => On::Sqlite(Tracked::begin(self, pool, "BEGIN IMMEDIATE").await?),
            On::Postgres(pool) => {
                let lock = format!("BEGIN; SELECT pg_advisory_xact_lock({WRITE_LOCK})");
                On::Postgres(Tracked::begin(self, pool, &lock).await?)
            }
        };
        Ok(WriteTx {
            conn,
            told: Vec::new(),
            listener: self.listener.clone(),
            instance: self.instance,
            begun: Instant::now(),
        })
    }

    /// What is wrong with the writer, if anything: set by a write that failed because of
    /// the storage, cleared by the next commit.
    pub fn failure(&self) -> Option<Failure> {
        if !self.health.failing.load(Ordering::Acquire) {
            return None;
        }
        self.health
            .failure
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// While the writer is failing, tries a write that needs room (a row of a few pages,
    /// deleted in the same transaction), so health comes back by itself once space (or
    /// the database server) does, even when nobody writes.
    pub async fn probe(&self) {
        if self.failure().is_none() {
            return;
        }
        let probe = async {
            let mut tx = self.begin().await?;
            super::backend::on!(&mut tx, |c, pg| {
                let payload = if pg {
                    "INSERT INTO writer_probe (payload) VALUES (decode(repeat('00', 16384), 'hex'))"
                } else {
                    "INSERT INTO writer_probe (payload) VALUES (zeroblob(16384))"
                };
                sqlx::query(payload).execute(&mut *c).await?;
                sqlx::query("DELETE FROM writer_probe")
                    .execute(&mut *c)
                    .await?;
            });
            tx.commit().await
        };
        if let Err(e) = probe.await {
            tracing::debug!(error = %e, "the writer is still failing");
        }
    }

    /// SQLite's `data_version` as the write connection sees it: it changes when another
    /// connection (another process) commits. Reads only. `None` on PostgreSQL, where other
    /// processes announce what they change (see `db::notify`).
    pub async fn data_version(&self) -> sqlx::Result<Option<i64>> {
        match &self.pool {
            On::Sqlite(pool) => sqlx::query_scalar("PRAGMA data_version")
                .fetch_one(pool)
                .await
                .map(Some),
            On::Postgres(_) => Ok(None),
        }
    }

    /// `PRAGMA wal_checkpoint(<mode>)` on SQLite's write connection; `true` when it
    /// completed (or when there is no WAL: PostgreSQL).
    pub(super) async fn checkpoint(&self, mode: &str) -> bool {
        let On::Sqlite(pool) = &self.pool else {
            return true;
        };
        let done: Result<(i64, i64, i64), _> =
            sqlx::query_as(&format!("PRAGMA wal_checkpoint({mode})"))
                .fetch_one(pool)
                .await;
        matches!(done, Ok((0, _, _)))
    }

    pub(super) async fn close(&self) {
        match &self.pool {
            On::Sqlite(pool) => pool.close().await,
            On::Postgres(pool) => pool.close().await,
        }
    }
}

/// A write transaction; `on!(&mut tx, |c| ...)` runs statements in it. Dropped without
/// `commit`, it rolls back (for certain: see `settle`) before the connection can serve
/// anyone else.
pub struct WriteTx {
    conn: On<Tracked<Sqlite>, Tracked<Postgres>>,
    /// Events recorded in this transaction: who to tell, and the sequence number.
    told: Vec<(Vec<UserId>, i64)>,
    listener: Arc<OnceLock<Arc<dyn Listener>>>,
    instance: u64,
    /// When the write lock was taken (for `/metrics`' database time).
    begun: Instant,
}

/// A transaction's connection, which sees every statement's outcome.
pub struct Tracked<DB: sqlx::Database> {
    conn: Option<PoolConnection<DB>>,
    health: Arc<Health>,
    marks: Marks,
}

/// What a transaction's statements did.
#[derive(Default)]
pub struct Marks {
    /// A statement changed a row: only then does a commit prove the storage works.
    wrote: AtomicBool,
    /// A statement failed. PostgreSQL then answers COMMIT by rolling back, without an
    /// error; the writer refuses to call that a commit.
    failed: AtomicBool,
}

impl<DB: sqlx::Database> Tracked<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    async fn begin(writer: &Writer, pool: &sqlx::Pool<DB>, begin: &str) -> sqlx::Result<Self> {
        let mut conn = pool.acquire().inspect_err(|e| writer.health.saw(e)).await?;
        if let Err(e) = (&mut *conn).execute(begin).await {
            writer.health.saw(&e);
            settle(conn).await;
            return Err(e);
        }
        Ok(Tracked {
            conn: Some(conn),
            health: writer.health.clone(),
            marks: Marks::default(),
        })
    }

    /// COMMIT; after anything else the connection is settled.
    async fn commit(&mut self) -> sqlx::Result<()> {
        let Some(mut conn) = self.conn.take() else {
            return Err(sqlx::Error::PoolClosed);
        };
        if self.marks.failed.load(Ordering::Acquire) {
            settle(conn).await;
            return Err(sqlx::Error::Protocol(
                "a statement of this transaction failed: it was rolled back".into(),
            ));
        }
        match (&mut *conn).execute("COMMIT").await {
            Ok(_) => {
                if self.marks.wrote.load(Ordering::Acquire) {
                    self.health.committed();
                }
                Ok(())
            }
            Err(e) => {
                self.health.saw(&e);
                settle(conn).await;
                Err(e)
            }
        }
    }

    async fn rollback(&mut self) {
        if let Some(conn) = self.conn.take() {
            settle(conn).await;
        }
    }
}

impl<DB: sqlx::Database> Drop for Tracked<DB> {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        // The connection stays with the task until it is settled: on SQLite nobody else
        // can write on it in between, because the pool has no other.
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn(settle_any(conn))),
            Err(_) => drop(conn.detach()),
        }
    }
}

impl WriteTx {
    /// Tells `audience` of event `seq` once this transaction has committed.
    pub fn tell(&mut self, audience: Vec<UserId>, seq: i64) {
        self.told.push((audience, seq));
    }

    pub async fn commit(mut self) -> sqlx::Result<()> {
        let committed = match &mut self.conn {
            On::Sqlite(tx) => tx.commit().await,
            On::Postgres(tx) => {
                // NOTIFY is delivered at COMMIT, to every instance, or not at all.
                if !self.told.is_empty() {
                    let payload = announcement(self.instance, &self.told);
                    let notified = sqlx::query("SELECT pg_notify($1, $2)")
                        .bind(EVENTS_CHANNEL)
                        .bind(payload)
                        .execute(&mut *tx)
                        .await;
                    if let Err(e) = notified {
                        tx.rollback().await;
                        return Err(e);
                    }
                }
                tx.commit().await
            }
        };
        committed?;
        crate::monitoring::committed(self.begun.elapsed(), self.told.len());
        if let Some(listener) = self.listener.get() {
            for (audience, seq) in &self.told {
                listener.committed(audience, *seq);
            }
        }
        Ok(())
    }

    /// The transaction's connection for reads that need no watching (the console's
    /// generic reads, which serve a connection outside a transaction just as well).
    pub fn reading(&mut self) -> sqlx::Result<ConnRef<'_>> {
        let conn = match &mut self.conn {
            On::Sqlite(tx) => tx.conn.as_deref_mut().map(On::Sqlite),
            On::Postgres(tx) => tx.conn.as_deref_mut().map(On::Postgres),
        };
        conn.ok_or(sqlx::Error::PoolClosed)
    }

    pub async fn rollback(mut self) {
        match &mut self.conn {
            On::Sqlite(tx) => tx.rollback().await,
            On::Postgres(tx) => tx.rollback().await,
        }
    }
}

/// What a transaction's NOTIFY says: `{"from":…,"told":[[seq,[user,…]],…]}`, or, past
/// `notify::PAYLOAD_MAX`, only how far the stream got (`{"from":…,"newest":seq}`), and
/// every instance wakes all its polls.
fn announcement(instance: u64, told: &[(Vec<UserId>, i64)]) -> String {
    let full = serde_json::json!({
        "from": instance.to_string(),
        "told": told.iter().map(|(audience, seq)| serde_json::json!([seq, audience])).collect::<Vec<_>>(),
    })
    .to_string();
    if full.len() <= super::notify::PAYLOAD_MAX {
        return full;
    }
    let newest = told.iter().map(|(_, seq)| *seq).max().unwrap_or(0);
    serde_json::json!({ "from": instance.to_string(), "newest": newest }).to_string()
}

/// Leaves `conn` with no transaction open, for certain. ROLLBACK either ends the
/// transaction or finds that the database has already ended it; anything else closes the
/// connection, which rolls back whatever it held.
async fn settle<DB: sqlx::Database>(mut conn: PoolConnection<DB>)
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    match (&mut *conn).execute("ROLLBACK").await {
        Ok(_) => {}
        Err(e) if no_transaction(&e) => {}
        Err(e) => {
            tracing::warn!(error = %e, "rollback failed: replacing the write connection");
            drop(conn.detach());
        }
    }
}

/// `settle` for a connection of either backend, from `Drop` (which cannot name the
/// executor bound).
fn settle_any<DB: sqlx::Database>(conn: PoolConnection<DB>) -> BoxFuture<'static, ()> {
    let conn: Box<dyn std::any::Any + Send> = Box::new(conn);
    match conn.downcast::<PoolConnection<Sqlite>>() {
        Ok(conn) => Box::pin(settle(*conn)),
        Err(conn) => match conn.downcast::<PoolConnection<Postgres>>() {
            Ok(conn) => Box::pin(settle(*conn)),
            Err(_) => Box::pin(async {}),
        },
    }
}

impl fmt::Debug for WriteTx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WriteTx")
    }
}

impl<DB: sqlx::Database> fmt::Debug for Tracked<DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Tracked")
    }
}

impl<'a> Handle<'a> for &'a mut WriteTx {
    type Sqlite = &'a mut Tracked<Sqlite>;
    type Postgres = &'a mut Tracked<Postgres>;

    fn on(self) -> On<Self::Sqlite, Self::Postgres> {
        match &mut self.conn {
            On::Sqlite(tx) => On::Sqlite(tx),
            On::Postgres(tx) => On::Postgres(tx),
        }
    }
}

/// `on!(writer, |c| ...)`: statements committed one by one (autocommit: one that fails
/// rolls itself back and leaves no transaction open), watched like a transaction's.
impl<'a> Handle<'a> for &'a Writer {
    type Sqlite = Autocommit<'a, Sqlite>;
    type Postgres = Autocommit<'a, Postgres>;

    fn on(self) -> On<Self::Sqlite, Self::Postgres> {
        let health = &self.health;
        match &self.pool {
            On::Sqlite(pool) => On::Sqlite(Autocommit { pool, health }),
            On::Postgres(pool) => On::Postgres(Autocommit { pool, health }),
        }
    }
}

/// The writer's pool, running statements that each commit on their own.
pub struct Autocommit<'a, DB: sqlx::Database> {
    pool: &'a sqlx::Pool<DB>,
    health: &'a Health,
}

impl<DB: sqlx::Database> Clone for Autocommit<'_, DB> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<DB: sqlx::Database> Copy for Autocommit<'_, DB> {}

impl<DB: sqlx::Database> fmt::Debug for Autocommit<'_, DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Autocommit")
    }
}

impl<'a, DB: sqlx::Database> Autocommit<'a, DB> {
    fn parts(self) -> (Option<&'a sqlx::Pool<DB>>, &'a Health, Option<&'a Marks>) {
        (Some(self.pool), self.health, None)
    }
}

impl<'c, DB: sqlx::Database> Tracked<DB> {
    fn parts(
        &'c mut self,
    ) -> (
        Option<&'c mut DB::Connection>,
        &'c Health,
        Option<&'c Marks>,
    ) {
        (self.conn.as_deref_mut(), &self.health, Some(&self.marks))
    }
}

fn failed(health: &Health, marks: Option<&Marks>, error: &sqlx::Error) {
    health.saw(error);
    if let Some(marks) = marks {
        marks.failed.store(true, Ordering::Release);
    }
}

/// Every statement of a write passes here, so the writer sees each failure, and each
/// write that changed a row: in a transaction that proves the storage once it commits; on
/// its own, at once. One impl per backend and way of writing: the backends' query results
/// share no trait that says rows affected.
macro_rules! watched_executor {
    ($executor:ty, $life:lifetime, $db:ty, $result:ty, $row:ty, $statement:ident, $type_info:ty) => {
        impl<$life> Executor<$life> for $executor {
            type Database = $db;

            fn fetch_many<'e, 'q: 'e, E>(
                self,
                query: E,
            ) -> BoxStream<'e, sqlx::Result<Either<$result, $row>>>
            where
                $life: 'e,
                E: Execute<'q, $db> + 'q,
            {
                match self.parts() {
                    (Some(inner), health, marks) => Box::pin(
                        inner
                            .fetch_many(query)
                            .inspect_ok(move |item| {
                                if matches!(item, Either::Left(done) if done.rows_affected() > 0) {
                                    match marks {
                                        Some(marks) => marks.wrote.store(true, Ordering::Release),
                                        None => health.committed(),
                                    }
                                }
                            })
                            .inspect_err(move |e| failed(health, marks, e)),
                    ),
                    (None, ..) => Box::pin(rocket::futures::stream::once(async {
                        Err(sqlx::Error::PoolClosed)
                    })),
                }
            }

            fn fetch_optional<'e, 'q: 'e, E>(
                self,
                query: E,
            ) -> BoxFuture<'e, sqlx::Result<Option<$row>>>
            where
                $life: 'e,
                E: Execute<'q, $db> + 'q,
            {
                match self.parts() {
                    (Some(inner), health, marks) => Box::pin(
                        inner
                            .fetch_optional(query)
                            .inspect_err(move |e| failed(health, marks, e)),
                    ),
                    (None, ..) => Box::pin(async { Err(sqlx::Error::PoolClosed) }),
                }
            }

            fn prepare_with<'e, 'q: 'e>(
                self,
                sql: &'q str,
                parameters: &'e [$type_info],
            ) -> BoxFuture<'e, sqlx::Result<$statement<'q>>>
            where
                $life: 'e,
            {
                match self.parts() {
                    (Some(inner), ..) => inner.prepare_with(sql, parameters),
                    (None, ..) => Box::pin(async { Err(sqlx::Error::PoolClosed) }),
                }
            }

            fn describe<'e, 'q: 'e>(
                self,
                sql: &'q str,
            ) -> BoxFuture<'e, sqlx::Result<Describe<$db>>>
            where
                $life: 'e,
            {
                match self.parts() {
                    (Some(inner), ..) => inner.describe(sql),
                    (None, ..) => Box::pin(async { Err(sqlx::Error::PoolClosed) }),
                }
            }
        }
    };
}

watched_executor!(&'c mut Tracked<Sqlite>, 'c, Sqlite, SqliteQueryResult, SqliteRow, SqliteStatement, SqliteTypeInfo);
watched_executor!(&'c mut Tracked<Postgres>, 'c, Postgres, PgQueryResult, PgRow, PgStatement, PgTypeInfo);
watched_executor!(Autocommit<'c, Sqlite>, 'c, Sqlite, SqliteQueryResult, SqliteRow, SqliteStatement, SqliteTypeInfo);
watched_executor!(Autocommit<'c, Postgres>, 'c, Postgres, PgQueryResult, PgRow, PgStatement, PgTypeInfo);
