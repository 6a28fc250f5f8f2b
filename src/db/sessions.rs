//! Server-side sessions. The cookie holds a random token; this table only its SHA-256.

use sqlx::SqlitePool;

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
}

pub struct NewSession<'a> {
    pub token_hash: &'a [u8],
    pub user_id: UserId,
    pub csrf_token: &'a str,
    pub expires_at: Timestamp,
    pub user_agent: &'a str,
    pub ip: &'a str,
}

pub async fn create(db: &SqlitePool, session: NewSession<'_>) -> sqlx::Result<i64> {
    let now = Timestamp::now();
    // `execute` so the session is committed before the caller answers (see users::create).
    let done = sqlx::query(
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
    .bind(session.ip)
    .execute(db)
    .await?;
    Ok(done.last_insert_rowid())
}

/// The unexpired session of an active user with this token hash: one indexed look-up.
pub async fn lookup(db: &SqlitePool, token_hash: &[u8]) -> sqlx::Result<Option<SessionUser>> {
    sqlx::query_as(
        "SELECT s.id AS session_id, s.user_id, u.username, u.role, s.csrf_token, s.last_used_at,
                s.expires_at
         FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.token_hash = ? AND s.expires_at > ? AND u.is_active = 1",
    )
    .bind(token_hash)
    .bind(Timestamp::now())
    .fetch_optional(db)
    .await
}

/// Slides the idle expiry forward; `false` when the session no longer exists.
pub async fn touch(db: &SqlitePool, id: i64, expires_at: Timestamp) -> sqlx::Result<bool> {
    sqlx::query("UPDATE sessions SET last_used_at = ?, expires_at = ? WHERE id = ?")
        .bind(Timestamp::now())
        .bind(expires_at)
        .bind(id)
        .execute(db)
        .await
        .map(|done| done.rows_affected() == 1)
}

pub async fn delete(db: &SqlitePool, id: i64) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM sessions WHERE id = ?")
        .bind(id)
        .execute(db)
        .await
        .map(drop)
}

/// Ends every session of `user`.
pub async fn delete_of_user(db: &SqlitePool, user: UserId) -> sqlx::Result<u64> {
    sqlx::query("DELETE FROM sessions WHERE user_id = ?")
        .bind(user)
        .execute(db)
        .await
        .map(|done| done.rows_affected())
}

pub async fn delete_expired(db: &SqlitePool) -> sqlx::Result<u64> {
    sqlx::query("DELETE FROM sessions WHERE expires_at <= ?")
        .bind(Timestamp::now())
        .execute(db)
        .await
        .map(|done| done.rows_affected())
}
