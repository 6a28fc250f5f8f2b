//! Sign-in throttling shared by every instance on one PostgreSQL database (`auth::throttle`
//! keeps the same counts in memory on SQLite, where there is one process). An attempt is a
//! row per key; counting and checking happen in one write transaction, which holds the
//! write lock, so attempts on several instances at once never check more passwords than
//! the limit allows.

use super::backend::on;
use super::Writer;
use crate::model::Timestamp;

/// Counts an attempt against each `(key, limit)` unless one is at its limit within
/// `window_ms`: the attempt's row ids, or the seconds to wait (then nothing is counted).
pub async fn begin(
    db: &Writer,
    keys: &[(String, usize)],
    window_ms: i64,
) -> sqlx::Result<Result<Vec<i64>, u64>> {
    let now = Timestamp::now();
    let since = now.plus_millis(-window_ms);
    let names: Vec<&str> = keys.iter().map(|(key, _)| key.as_str()).collect();
    let names = serde_json::to_string(&names).unwrap_or_else(|_| "[]".to_owned());
    let mut tx = db.begin().await?;
    let counted: Vec<(String, i64, Timestamp)> = on!(&mut tx, |c| {
        sqlx::query("DELETE FROM sign_in_attempts WHERE at <= $1")
            .bind(since)
            .execute(&mut *c)
            .await?;
        sqlx::query_as(
            "SELECT key, count(*), min(at) FROM sign_in_attempts
             WHERE key IN (SELECT json_array_elements_text($1::json)) GROUP BY key",
        )
        .bind(&names)
        .fetch_all(&mut *c)
        .await?
    });
    let wait_ms = counted
        .iter()
        .filter(|(key, count, _)| {
            keys.iter()
                .any(|(k, limit)| k == key && usize::try_from(*count).unwrap_or(0) >= *limit)
        })
        .map(|(_, _, oldest)| window_ms - (now.0 - oldest.0))
        .max();
    if let Some(wait_ms) = wait_ms {
        tx.rollback().await;
        // Round up: "try again in 0 seconds" would be a lie.
        return Ok(Err(u64::try_from(wait_ms.max(0) / 1000).unwrap_or(0) + 1));
    }
    let ids: Vec<i64> = on!(&mut tx, |c| {
        sqlx::query_scalar(
            "INSERT INTO sign_in_attempts (key, at)
             SELECT json_array_elements_text($1::json), $2 RETURNING id",
        )
        .bind(&names)
        .bind(now)
        .fetch_all(c)
        .await
    })?;
    tx.commit().await?;
    Ok(Ok(ids))
}

/// Takes back an attempt that did not fail.
pub async fn refund(db: &Writer, ids: &[i64]) -> sqlx::Result<()> {
    let ids = serde_json::to_string(ids).unwrap_or_else(|_| "[]".to_owned());
    on!(db, |c| {
        sqlx::query(
            "DELETE FROM sign_in_attempts
             WHERE id IN (SELECT value::bigint FROM json_array_elements_text($1::json))",
        )
        .bind(ids)
        .execute(c)
        .await
        .map(drop)
    })
}
