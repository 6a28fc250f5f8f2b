//! Which schema a database file has, compared with the migrations built into this binary.
//!
//! Migrations are forward-only. A database that a newer Kanect has migrated holds versions
//! this binary does not know; running on it could write rows the new schema forbids, so
//! Kanect refuses to start there and says what to do instead.
//!
//! The same goes for a file that is not a sound database: an empty file (what a first start
//! that failed, or a truncation, leaves: a new installation has no file at all), or one
//! whose pages are damaged. SQLite would take the first for a new database and serve the
//! second until a query reaches the bad page; every command refuses both instead.

use std::path::{Path, PathBuf};

use sqlx::migrate::Migrator;
use sqlx::SqliteConnection;

use super::backend::{on, ConnRef, On, Pool};
use super::{MIGRATOR, MIGRATOR_POSTGRES};

/// The state of a database's migrations, as far as this binary can tell.
#[derive(Debug, Default)]
pub struct Status {
    /// Versions recorded as applied.
    pub applied: Vec<i64>,
    /// Versions built into this binary that the database has not had yet.
    pub pending: Vec<i64>,
}

#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error(
        "the database has schema version {found}, newer than this Kanect {binary} knows \
         (up to {known}): a newer Kanect has upgraded it; run that version, or restore a \
         backup taken before the upgrade"
    )]
    TooNew {
        found: i64,
        known: i64,
        binary: String,
    },
    #[error(
        "migration {0} stopped part-way and left the database dirty: restore the backup \
         taken before the upgrade"
    )]
    Dirty(i64),
    #[error(
        "the database {0} is an empty file (0 bytes), which a failed first start or a \
         truncation leaves: restore the latest backup (README, \"Backup and restore\"), or \
         delete the file to start a new, empty Kanect"
    )]
    Empty(PathBuf),
    #[error(
        "the database {file} is damaged ({detail}): restore the latest backup (README, \
         \"Backup and restore\")"
    )]
    Damaged { file: PathBuf, detail: String },
    #[error("database: {0}")]
    Sqlx(#[from] sqlx::Error),
}

/// The migrations built into this binary for one backend.
pub fn migrator(postgres: bool) -> &'static Migrator {
    if postgres {
        &MIGRATOR_POSTGRES
    } else {
        &MIGRATOR
    }
}

/// The newest version this binary can migrate to.
pub fn known(postgres: bool) -> i64 {
    migrator(postgres)
        .iter()
        .map(|m| m.version)
        .max()
        .unwrap_or(0)
}

/// Reads the migrations table (absent on a new database) and compares it with the binary's.
pub async fn status(conn: ConnRef<'_>) -> Result<Status, SchemaError> {
    let postgres = matches!(conn, On::Postgres(_));
    let rows: Vec<(i64, bool)> = on!(conn, |c, pg| {
        let exists: bool = sqlx::query_scalar(if pg {
            "SELECT to_regclass('_sqlx_migrations') IS NOT NULL"
        } else {
            "SELECT COUNT(*) > 0 FROM sqlite_master
             WHERE type = 'table' AND name = '_sqlx_migrations'"
        })
        .fetch_one(&mut *c)
        .await?;
        if exists {
            sqlx::query_as("SELECT version, success FROM _sqlx_migrations ORDER BY version")
                .fetch_all(&mut *c)
                .await?
        } else {
            Vec::new()
        }
    });
    if let Some((version, _)) = rows.iter().find(|(_, success)| !success) {
        return Err(SchemaError::Dirty(*version));
    }
    let migrator = migrator(postgres);
    let known = known(postgres);
    if let Some(found) = rows
        .iter()
        .map(|(version, _)| *version)
        .filter(|version| !migrator.iter().any(|m| m.version == *version))
        .max()
    {
        return Err(SchemaError::TooNew {
            found: found.max(known),
            known,
            binary: env!("CARGO_PKG_VERSION").to_owned(),
        });
    }
    let applied: Vec<i64> = rows.into_iter().map(|(version, _)| version).collect();
    let pending = migrator
        .iter()
        .map(|m| m.version)
        .filter(|version| !applied.contains(version))
        .collect();
    Ok(Status { applied, pending })
}

/// Refuses an empty file before SQLite opens it as a new database. A missing file is fine:
/// that is a new installation.
pub fn refuse_empty(file: &Path) -> Result<(), SchemaError> {
    match std::fs::metadata(file) {
        Ok(meta) if meta.is_file() && meta.len() == 0 => Err(SchemaError::Empty(file.into())),
        _ => Ok(()),
    }
}

/// `err` as damage to `file` when SQLite says the file is not a database or is malformed;
/// any other error as it is.
pub fn damage(file: &Path, err: sqlx::Error) -> SchemaError {
    const SQLITE_CORRUPT: i32 = 11;
    const SQLITE_NOTADB: i32 = 26;
    let primary = match &err {
        sqlx::Error::Database(e) => e.code().and_then(|code| code.parse::<i32>().ok()),
        _ => None,
    };
    match primary.map(|code| code & 0xff) {
        Some(SQLITE_CORRUPT | SQLITE_NOTADB) => SchemaError::Damaged {
            file: file.into(),
            detail: match &err {
                sqlx::Error::Database(e) => e.message().to_owned(),
                other => other.to_string(),
            },
        },
        _ => SchemaError::Sqlx(err),
    }
}

/// `PRAGMA quick_check`: every page of every table and index is read and its structure
/// checked, but indexes are not compared with their tables (`integrity` does that too, at
/// about five times the cost). It reads the whole file: about 0.3 s for a million messages.
pub async fn quick_check(conn: &mut SqliteConnection, file: &Path) -> Result<(), SchemaError> {
    let verdict: Vec<String> = sqlx::query_scalar("PRAGMA quick_check(5)")
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| damage(file, e))?;
    let verdict = problems(verdict);
    if verdict.is_empty() {
        return Ok(());
    }
    Err(SchemaError::Damaged {
        file: file.into(),
        detail: one_line(&verdict),
    })
}

/// What an integrity check reported wrong ("ok" alone means nothing). SQLite 3.44 checks
/// the search index (FTS5) with a write-shaped statement, which a read-only connection
/// refuses; that line says nothing about the file, so it is not a problem. The index is
/// checked where the connection may write: `serve`'s start and a backup's copy.
fn problems(verdict: Vec<String>) -> Vec<String> {
    verdict
        .into_iter()
        .filter(|line| {
            line != "ok"
                && !(line.starts_with("unable to validate the inverted index for FTS5 table")
                    && line.ends_with("attempt to write a readonly database"))
        })
        .collect()
}

/// SQLite's report spans lines; an error message is one.
fn one_line(verdict: &[String]) -> String {
    verdict.join("; ").replace('\n', " ")
}

/// `PRAGMA integrity_check` and `foreign_key_check`: `None` when both find nothing wrong,
/// else the first problems they report.
pub async fn integrity(conn: &mut SqliteConnection) -> Result<Option<String>, sqlx::Error> {
    let verdict: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check(5)")
        .fetch_all(&mut *conn)
        .await?;
    let verdict = problems(verdict);
    if !verdict.is_empty() {
        return Ok(Some(one_line(&verdict)));
    }
    let orphans: Vec<(String, i64)> =
        sqlx::query_as("SELECT \"table\", COALESCE(rowid, 0) FROM pragma_foreign_key_check")
            .fetch_all(&mut *conn)
            .await?;
    Ok(orphans.first().map(|(table, rowid)| {
        format!(
            "{} row(s) point at rows that do not exist (first: {table} row {rowid})",
            orphans.len()
        )
    }))
}

/// How many migrations the database has had.
pub async fn applied(db: &Pool) -> sqlx::Result<i64> {
    on!(db, |c| {
        sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success = TRUE")
            .fetch_one(c)
            .await
    })
}

/// The PostgreSQL server's version, as `check` reports it.
pub async fn server_version(conn: &mut sqlx::PgConnection) -> sqlx::Result<String> {
    sqlx::query_scalar("SHOW server_version")
        .fetch_one(conn)
        .await
}

#[cfg(test)]
mod tests {
    use super::problems;

    #[test]
    fn a_read_only_connection_that_cannot_check_the_search_index_is_not_damage() {
        let readonly = "unable to validate the inverted index for FTS5 table \
                        main.messages_search: attempt to write a readonly database";
        assert!(problems(vec!["ok".into()]).is_empty());
        assert!(problems(vec![readonly.into()]).is_empty());
        let torn = "malformed inverted index for FTS5 table main.messages_search";
        assert_eq!(problems(vec![readonly.into(), torn.into()]), [torn]);
        assert_eq!(
            problems(vec!["*** in database main ***\nPage 5: never used".into()]).len(),
            1
        );
    }
}
