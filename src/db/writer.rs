//! The writer: SQLite's one write connection, and the promise every write path relies on.
//! A write either commits, or leaves the connection with no transaction open.
//!
//! sqlx's own transactions cannot promise that. When SQLite rolls a transaction back by
//! itself (a full disk, an I/O error), sqlx's ROLLBACK fails and its nesting counter stays
//! up; later "transactions" become savepoints, and a failed one rolls back only to its
//! savepoint, leaving a transaction open that never ends: every later write is answered as
//! committed and lost at the next restart. So the writer says BEGIN IMMEDIATE, COMMIT and
//! ROLLBACK itself, and after anything but a clean commit rolls back for certain, or closes
//! the connection (closing rolls back; the pool opens a new one).
//!
//! It also keeps the writer's health for `/healthz`: a write that failed because of the
//! storage (disk full, I/O error, a lock another process holds) marks the writer failing
//! until a write commits again.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use rocket::futures::future::BoxFuture;
use rocket::futures::stream::BoxStream;
use rocket::futures::{TryFutureExt, TryStreamExt};
use serde::Serialize;
use sqlx::pool::PoolConnection;
use sqlx::sqlite::{SqliteQueryResult, SqliteRow, SqliteStatement, SqliteTypeInfo};
use sqlx::{Describe, Either, Execute, Executor, Sqlite, SqliteConnection, SqlitePool};

use super::events::Listener;
use crate::model::{Timestamp, UserId};

/// The single write connection (a pool of one), as every write path reaches it.
#[derive(Clone)]
pub struct Writer {
    pool: SqlitePool,
    health: Arc<Health>,
    listener: Arc<OnceLock<Arc<dyn Listener>>>,
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

/// Errors of the storage rather than of the statement: SQLITE_BUSY, LOCKED, NOMEM,
/// READONLY, IOERR, CORRUPT, FULL, CANTOPEN and NOTADB (primary result codes), or no
/// connection at all. A person's request that meets one gets 503, not 500.
pub fn is_storage_error(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(e) => e
            .code()
            .and_then(|code| code.parse::<i32>().ok())
            .is_some_and(|code| matches!(code & 0xff, 5..=8 | 10 | 11 | 13 | 14 | 26)),
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::WorkerCrashed => true,
        _ => false,
    }
}

/// SQLite's answer to ROLLBACK when it has already rolled the transaction back itself.
fn no_transaction(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.message().contains("no transaction is active"))
}

impl Writer {
    pub(super) fn new(pool: SqlitePool) -> Self {
        Writer {
            pool,
            health: Arc::default(),
            listener: Arc::default(),
        }
    }

    /// Who hears of the events each transaction records, once it has committed (the
    /// server's long polls). Set once; later calls change nothing.
    pub fn listen(&self, listener: Arc<dyn Listener>) {
        let _ = self.listener.set(listener);
    }

    /// Starts a write transaction. BEGIN IMMEDIATE takes the write lock now, so a busy
    /// database shows here (after the busy timeout), never half-way through.
    pub async fn begin(&self) -> sqlx::Result<WriteTx> {
        let mut conn = self
            .pool
            .acquire()
            .inspect_err(|e| self.health.saw(e))
            .await?;
        if let Err(e) = sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await {
            self.health.saw(&e);
            settle(conn).await;
            return Err(e);
        }
        Ok(WriteTx {
            conn: Some(conn),
            health: self.health.clone(),
            wrote: AtomicBool::new(false),
            told: Vec::new(),
            listener: self.listener.clone(),
        })
    }

    /// One statement, committed on its own (SQLite's autocommit: a statement that fails
    /// rolls itself back and leaves no transaction open).
    pub async fn execute<'q, E>(&self, statement: E) -> sqlx::Result<SqliteQueryResult>
    where
        E: Execute<'q, Sqlite> + 'q,
    {
        let mut conn = self
            .pool
            .acquire()
            .inspect_err(|e| self.health.saw(e))
            .await?;
        match conn.execute(statement).await {
            Ok(done) => {
                // A statement that changed nothing (a pragma, an update of no row) proves
                // nothing about whether a write can commit.
                if done.rows_affected() > 0 {
                    self.health.committed();
                }
                Ok(done)
            }
            Err(e) => {
                self.health.saw(&e);
                Err(e)
            }
        }
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

    /// While the writer is failing, tries a write that needs room in the file (a row of a
    /// few pages, deleted in the same transaction), so health comes back by itself once
    /// space does, even when nobody writes.
    pub async fn probe(&self) {
        if self.failure().is_none() {
            return;
        }
        let probe = async {
            let mut tx = self.begin().await?;
            sqlx::query("INSERT INTO writer_probe (payload) VALUES (zeroblob(16384))")
                .execute(&mut tx)
                .await?;
            sqlx::query("DELETE FROM writer_probe")
                .execute(&mut tx)
                .await?;
            tx.commit().await
        };
        if let Err(e) = probe.await {
            tracing::debug!(error = %e, "the writer is still failing");
        }
    }

    /// SQLite's `data_version` as the write connection sees it: it changes when another
    /// connection (another process) commits. Reads only.
    pub async fn data_version(&self) -> sqlx::Result<i64> {
        sqlx::query_scalar("PRAGMA data_version")
            .fetch_one(&self.pool)
            .await
    }

    /// `PRAGMA wal_checkpoint(<mode>)` on the write connection; `true` when it completed.
    pub(super) async fn checkpoint(&self, mode: &str) -> bool {
        let done: Result<(i64, i64, i64), _> =
            sqlx::query_as(&format!("PRAGMA wal_checkpoint({mode})"))
                .fetch_one(&self.pool)
                .await;
        matches!(done, Ok((0, _, _)))
    }

    pub(super) async fn close(&self) {
        self.pool.close().await;
    }
}

/// A write transaction on the writer's connection; `&mut tx` is an sqlx executor. Dropped
/// without `commit`, it rolls back (for certain: see `settle`) before the connection can
/// serve anyone else.
pub struct WriteTx {
    conn: Option<PoolConnection<Sqlite>>,
    health: Arc<Health>,
    /// Whether a statement changed a row: only then does a commit prove the storage works.
    wrote: AtomicBool,
    /// Events recorded in this transaction: who to tell, and the newest sequence number.
    told: Vec<(Vec<UserId>, i64)>,
    listener: Arc<OnceLock<Arc<dyn Listener>>>,
}

impl WriteTx {
    /// Tells `audience` of event `seq` once this transaction has committed.
    pub fn tell(&mut self, audience: Vec<UserId>, seq: i64) {
        self.told.push((audience, seq));
    }

    pub async fn commit(mut self) -> sqlx::Result<()> {
        let Some(mut conn) = self.conn.take() else {
            return Err(sqlx::Error::PoolClosed);
        };
        match sqlx::query("COMMIT").execute(&mut *conn).await {
            Ok(_) => {
                if self.wrote.load(Ordering::Acquire) {
                    self.health.committed();
                }
                if let Some(listener) = self.listener.get() {
                    for (audience, seq) in &self.told {
                        listener.committed(audience, *seq);
                    }
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

    pub async fn rollback(mut self) {
        if let Some(conn) = self.conn.take() {
            settle(conn).await;
        }
    }
}

impl Drop for WriteTx {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        // The connection stays with the task until it is settled: nobody else can write
        // on it in between, because the pool has no other.
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn(settle(conn))),
            Err(_) => drop(conn.detach()),
        }
    }
}

/// Leaves `conn` with no transaction open, for certain. ROLLBACK either ends the
/// transaction or finds that SQLite has already ended it; anything else closes the
/// connection, which rolls back whatever it held.
async fn settle(mut conn: PoolConnection<Sqlite>) {
    match sqlx::query("ROLLBACK").execute(&mut *conn).await {
        Ok(_) => {}
        Err(e) if no_transaction(&e) => {}
        Err(e) => {
            tracing::warn!(error = %e, "rollback failed: replacing the write connection");
            drop(conn.detach());
        }
    }
}

impl fmt::Debug for WriteTx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WriteTx")
    }
}

/// The connection of an open transaction, or the error of using one that has ended
/// (which `commit` and `rollback` make impossible, since they take the transaction).
fn parts(tx: &mut WriteTx) -> (sqlx::Result<&mut SqliteConnection>, &Health, &AtomicBool) {
    let conn = tx.conn.as_deref_mut().ok_or(sqlx::Error::PoolClosed);
    (conn, &tx.health, &tx.wrote)
}

/// Every statement of a write transaction passes here, so the writer sees each failure.
impl<'c> Executor<'c> for &'c mut WriteTx {
    type Database = Sqlite;

    fn fetch_many<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxStream<'e, sqlx::Result<Either<SqliteQueryResult, SqliteRow>>>
    where
        'c: 'e,
        E: Execute<'q, Sqlite> + 'q,
    {
        match parts(self) {
            (Ok(conn), health, wrote) => Box::pin(
                conn.fetch_many(query)
                    .inspect_ok(|item| {
                        if matches!(item, Either::Left(done) if done.rows_affected() > 0) {
                            wrote.store(true, Ordering::Release);
                        }
                    })
                    .inspect_err(|e| health.saw(e)),
            ),
            (Err(e), ..) => Box::pin(rocket::futures::stream::once(async { Err(e) })),
        }
    }

    fn fetch_optional<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxFuture<'e, sqlx::Result<Option<SqliteRow>>>
    where
        'c: 'e,
        E: Execute<'q, Sqlite> + 'q,
    {
        match parts(self) {
            (Ok(conn), health, _) => {
                Box::pin(conn.fetch_optional(query).inspect_err(|e| health.saw(e)))
            }
            (Err(e), ..) => Box::pin(async { Err(e) }),
        }
    }

    fn prepare_with<'e, 'q: 'e>(
        self,
        sql: &'q str,
        parameters: &'e [SqliteTypeInfo],
    ) -> BoxFuture<'e, sqlx::Result<SqliteStatement<'q>>>
    where
        'c: 'e,
    {
        match parts(self) {
            (Ok(conn), ..) => conn.prepare_with(sql, parameters),
            (Err(e), ..) => Box::pin(async { Err(e) }),
        }
    }

    fn describe<'e, 'q: 'e>(self, sql: &'q str) -> BoxFuture<'e, sqlx::Result<Describe<Sqlite>>>
    where
        'c: 'e,
    {
        match parts(self) {
            (Ok(conn), ..) => conn.describe(sql),
            (Err(e), ..) => Box::pin(async { Err(e) }),
        }
    }
}
