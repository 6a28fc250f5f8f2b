//! Server-side sessions. The cookie holds a random token; this table only its SHA-256.

use sqlx::SqlitePool;

use super::{WriteTx, Writer};

use crate::model::{Role, Timestamp, UserId};

/// A live session and the signed-in user behind it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionUser {
    pub session_id: i64,
    pub user_id: UserId,
    pub username: String,
    pub role: Role,
    pub csrf_token: String,
    pub last_used_at: Timestamp,
    pub expires_at: Timestamp,
    pub created_at: Timestamp,
}

pub struct NewSession<'a> {
    pub token_hash: &'a [u8],
    pub user_id: UserId,
    pub csrf_token: &'a str,
    pub expires_at: Timestamp,
    pub user_agent: &'a str,
    pub ip: &'a str,
}

pub async fn create(db: &Writer, session: NewSession<'_>) -> sqlx::Result<i64> {
    let now = Timestamp::now();
    // `execute` so the session is committed before the caller answers (see users::create).
    let done = db
        .execute(
            sqlx::query(
                "INSERT INTO sessions
            (token_hash, user_id, csrf_token, created_at, last_used_at, expires_at, user_agent, ip)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(session.token_hash)
            .bind(session.user_id)
            .bind(session.csrf_token)
            .bind(now)
            .bind(now)
            .bind(session.expires_at)
            .bind(session.user_agent)
            .bind(session.ip),
        )
        .await?;
    Ok(done.last_insert_rowid())
}

/// The session of an active user with this token hash, unless idle too long or started
/// before `started_after` (the absolute limit): one indexed look-up.
pub async fn lookup(
    db: &SqlitePool,
    token_hash: &[u8],
    started_after: Timestamp,
) -> sqlx::Result<Option<SessionUser>> {
    sqlx::query_as(
        "SELECT s.id AS session_id, s.user_id, u.username, u.role, s.csrf_token, s.last_used_at,
                s.expires_at, s.created_at
         FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.token_hash = ? AND s.expires_at > ? AND s.created_at > ? AND u.is_active = 1",
    )
    .bind(token_hash)
    .bind(Timestamp::now())
    .bind(started_after)
    .fetch_optional(db)
    .await
}

/// Slides the idle expiry forward; `false` when the session no longer exists.
pub async fn touch(db: &Writer, id: i64, expires_at: Timestamp) -> sqlx::Result<bool> {
    db.execute(
        sqlx::query("UPDATE sessions SET last_used_at = ?, expires_at = ? WHERE id = ?")
            .bind(Timestamp::now())
            .bind(expires_at)
            .bind(id),
    )
    .await
    .map(|done| done.rows_affected() == 1)
}

pub async fn delete(db: &Writer, id: i64) -> sqlx::Result<()> {
    db.execute(sqlx::query("DELETE FROM sessions WHERE id = ?").bind(id))
        .await
        .map(drop)
}

/// Removes sessions past their idle or absolute limit.
pub async fn delete_expired(db: &Writer, started_before: Timestamp) -> sqlx::Result<u64> {
    db.execute(
        sqlx::query("DELETE FROM sessions WHERE expires_at <= ? OR created_at <= ?")
            .bind(Timestamp::now())
            .bind(started_before),
    )
    .await
    .map(|done| done.rows_affected())
}

/// Ends every session of a user (deactivation, new password) but `keep`, if given;
/// returns how many.
pub async fn delete_for_user(tx: &mut WriteTx, user: i64, keep: Option<i64>) -> sqlx::Result<u64> {
    sqlx::query("DELETE FROM sessions WHERE user_id = ? AND id IS NOT ?")
        .bind(user)
        .bind(keep)
        .execute(tx)
        .await
        .map(|done| done.rows_affected())
}

/// A session as its owner's account page lists it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Listed {
    pub id: i64,
    pub created_at: Timestamp,
    pub last_used_at: Timestamp,
    pub user_agent: String,
    pub ip: String,
}

/// A user's live sessions, most recently used first.
pub async fn for_user(
    db: &SqlitePool,
    user: UserId,
    started_after: Timestamp,
) -> sqlx::Result<Vec<Listed>> {
    sqlx::query_as(
        "SELECT id, created_at, last_used_at, user_agent, ip FROM sessions
         WHERE user_id = ? AND expires_at > ? AND created_at > ?
         ORDER BY last_used_at DESC, id DESC",
    )
    .bind(user)
    .bind(Timestamp::now())
    .bind(started_after)
    .fetch_all(db)
    .await
}

/// Ends one of `user`'s sessions; false when it is not theirs (or gone).
pub async fn delete_own(db: &Writer, user: UserId, id: i64) -> sqlx::Result<bool> {
    db.execute(
        sqlx::query("DELETE FROM sessions WHERE id = ? AND user_id = ?")
            .bind(id)
            .bind(user),
    )
    .await
    .map(|done| done.rows_affected() == 1)
}
