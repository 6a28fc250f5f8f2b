//! `kanect copy-to`: a whole SQLite team into an empty PostgreSQL database, for a team that
//! moves. One read transaction on SQLite (a consistent snapshot, even with a server still
//! running) and one transaction on PostgreSQL (all or nothing); ids are kept, and every
//! sequence continues past the highest id SQLite ever handed out, so cursors and links
//! that people hold stay valid.
//!
//! Rows travel as JSON, a few thousand at a time: SQLite's `json_object` writes them,
//! PostgreSQL's `json_populate_recordset` reads them into the table's own column types
//! (a 0/1 flag becomes a boolean, `\x…` hex text becomes bytes).

use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, PgConnection, SqliteConnection};

use super::{DbError, MIGRATOR_POSTGRES};

/// The tables in the order their foreign keys allow, each with the columns that order
/// its rows (its primary key) and how many rows go per round trip.
const TABLES: &[(&str, &[&str], i64)] = &[
    ("users", &["id"], BATCH),
    // A 256 px avatar is tens of KiB.
    ("avatars", &["user_id"], 100),
    ("invites", &["id"], BATCH),
    ("chats", &["id"], BATCH),
    ("chat_members", &["chat_id", "user_id"], BATCH),
    ("messages", &["id"], BATCH),
    ("reactions", &["message_id", "emoji", "user_id"], BATCH),
    ("mentions", &["message_id", "user_id"], BATCH),
    // A row can carry a 400 px thumbnail.
    ("files", &["id"], 100),
    // A chunk is up to 256 KiB, twice that as hex in JSON: 8 MiB a round trip.
    ("file_chunks", &["file_id", "n"], 16),
    ("sessions", &["id"], BATCH),
    ("api_tokens", &["id"], BATCH),
    ("push_subscriptions", &["id"], BATCH),
    ("admin_log", &["id"], BATCH),
    ("events", &["seq"], BATCH),
    ("webhook_attempts", &["id"], BATCH),
];

/// Rows per round trip, for tables of small rows.
const BATCH: i64 = 2_000;

/// How many rows of each table were copied.
pub type Copied = Vec<(&'static str, u64)>;

/// Copies the SQLite database at `from` into the PostgreSQL database at `to`, which must
/// hold no team yet (it is migrated first if new).
pub async fn copy(from: &str, to: &str) -> Result<Copied, DbError> {
    let source = SqliteConnectOptions::from_str(from)?.read_only(true);
    let file = source.clone().get_filename().into_owned();
    if !file.is_file() {
        return Err(DbError::Backup(format!(
            "there is no database at {}",
            file.display()
        )));
    }
    let mut sqlite = source.connect().await?;
    // A pool of one: the migrator takes a pool (on a bare connection its future is not
    // `Send`). The first connection is made directly, to fail fast on a wrong address.
    let target = PgConnectOptions::from_str(to)?;
    target.connect().await?.close().await?;
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(target)
        .await?;
    MIGRATOR_POSTGRES.run(&pool).await?;
    let mut pg = pool.acquire().await?;
    let taken: i64 =
        sqlx::query_scalar("SELECT (SELECT count(*) FROM users) + (SELECT count(*) FROM chats)")
            .fetch_one(&mut *pg)
            .await?;
    if taken > 0 {
        return Err(DbError::Backup(
            "the PostgreSQL database already holds a team; copy into a new, empty database"
                .to_owned(),
        ));
    }
    let copied = copy_all(&mut sqlite, &mut pg).await;
    let _ = sqlite.close().await;
    drop(pg);
    pool.close().await;
    copied
}

async fn copy_all(sqlite: &mut SqliteConnection, pg: &mut PgConnection) -> Result<Copied, DbError> {
    let mut read = sqlite.begin().await?;
    let mut write = pg.begin().await?;
    let mut copied = Vec::new();
    for (table, key, rows_per_batch) in TABLES {
        let columns: Vec<(String, String)> =
            sqlx::query_as("SELECT name, type FROM pragma_table_info($1) ORDER BY cid")
                .bind(table)
                .fetch_all(&mut *read)
                .await?;
        let fields: Vec<String> = columns
            .iter()
            .map(|(name, kind)| match kind.as_str() {
                // `hex(NULL)` is '': a NULL must stay NULL, not become empty bytes.
                "BLOB" => format!(
                    "'{name}', CASE WHEN {name} IS NULL THEN NULL ELSE '\\x' || hex({name}) END"
                ),
                _ => format!("'{name}', {name}"),
            })
            .collect();
        let names = columns
            .iter()
            .map(|(name, _)| name.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let keys = key.join(", ");
        let mut last: Option<serde_json::Value> = None;
        let mut rows = 0;
        loop {
            // Keyset paging on the primary key: `(a, b) > (last a, last b)`.
            let after = match &last {
                None => "TRUE".to_owned(),
                Some(_) => {
                    let marks: Vec<String> = (0..key.len())
                        .map(|i| format!("json_extract($2, '$[{i}]')"))
                        .collect();
                    format!("({keys}) > ({})", marks.join(", "))
                }
            };
            let sql = format!(
                "SELECT json_group_array(json_object({fields})), count(*)
                 FROM (SELECT * FROM {table} WHERE {after} ORDER BY {keys} LIMIT $1)",
                fields = fields.join(", "),
            );
            let (batch, count): (String, i64) = sqlx::query_as(&sql)
                .bind(rows_per_batch)
                .bind(last.as_ref().map(|l| l.to_string()))
                .fetch_one(&mut *read)
                .await?;
            if count == 0 {
                break;
            }
            last = last_key(&batch, key);
            // Named, not `*`: PostgreSQL computes its generated columns itself
            // (`messages.search_words`) and refuses a value for them.
            sqlx::query(&format!(
                "INSERT INTO {table} ({names}) SELECT {names}
                 FROM json_populate_recordset(NULL::{table}, $1::json)"
            ))
            .bind(&batch)
            .execute(&mut *write)
            .await?;
            rows += u64::try_from(count).unwrap_or(0);
            if count < *rows_per_batch {
                break;
            }
        }
        copied.push((*table, rows));
    }
    // Every sequence past the highest id SQLite handed out (AUTOINCREMENT remembers ids
    // of rows since deleted: a pruned event, a deleted message). Every table keyed by one
    // `id` or `seq` has an identity column; the others are keyed by their parents'.
    let sequenced = TABLES.iter().filter_map(|(table, key, _)| match key {
        [column @ ("id" | "seq")] => Some((*table, *column)),
        _ => None,
    });
    for (table, column) in sequenced {
        let handed_out: i64 = sqlx::query_scalar(&format!(
            "SELECT max(COALESCE((SELECT max({column}) FROM {table}), 0),
                        COALESCE((SELECT seq FROM sqlite_sequence WHERE name = '{table}'), 0))"
        ))
        .fetch_one(&mut *read)
        .await?;
        if handed_out > 0 {
            sqlx::query(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', '{column}'), $1)"
            ))
            .bind(handed_out)
            .execute(&mut *write)
            .await?;
        }
    }
    write.commit().await?;
    read.rollback().await?;
    // Statistics now, rather than whenever autovacuum comes by: the first polls after the
    // move are planned on them.
    sqlx::query("ANALYZE").execute(&mut *pg).await?;
    Ok(copied)
}

/// The greatest primary key among a batch's rows (the last one in key order), as a JSON
/// array: where the next batch starts.
fn last_key(batch: &str, key: &[&str]) -> Option<serde_json::Value> {
    use std::cmp::Ordering;
    let rows: serde_json::Value = serde_json::from_str(batch).ok()?;
    let compare = |a: &serde_json::Value, b: &serde_json::Value| match (a.as_i64(), b.as_i64()) {
        (Some(a), Some(b)) => a.cmp(&b),
        // Text keys (an emoji) compare as SQLite's BINARY does: byte by byte.
        _ => a
            .as_str()
            .unwrap_or_default()
            .cmp(b.as_str().unwrap_or_default()),
    };
    rows.as_array()?
        .iter()
        .map(|row| key.iter().map(|k| row[*k].clone()).collect::<Vec<_>>())
        .max_by(|a, b| {
            a.iter()
                .zip(b)
                .map(|(a, b)| compare(a, b))
                .find(|order| *order != Ordering::Equal)
                .unwrap_or(Ordering::Equal)
        })
        .map(serde_json::Value::Array)
}
