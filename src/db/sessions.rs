//! Server-side sessions. The cookie holds a random token; this table only its SHA-256.

use super::backend::{on, Pool};
use super::{WriteTx, Writer};

use crate::model::{Role, Timestamp, UserId};

/// A live session and the signed-in user behind it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionUser {
    pub session_id: i64,
    pub user_id: UserId,
    pub username: String,
    pub role: Role,
    /// The name they show (their username when they chose none).
    pub display_name: String,
    pub avatar_url: Option<String>,
    /// Stored JSON (`profile::Preferences::from_stored`).
    pub preferences: String,
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
    // `fetch_all` so the session is committed before the caller answers (see users::create).
    let ids: Vec<i64> = on!(db, |c| {
        sqlx::query_scalar(
            "INSERT INTO sessions
            (token_hash, user_id, csrf_token, created_at, last_used_at, expires_at, user_agent, ip)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(session.token_hash)
        .bind(session.user_id)
        .bind(session.csrf_token)
        .bind(now)
        .bind(now)
        .bind(session.expires_at)
        .bind(session.user_agent)
        .bind(session.ip)
        .fetch_all(c)
        .await
    })?;
    ids.first().copied().ok_or(sqlx::Error::RowNotFound)
}

/// The session of an active user with this token hash, unless idle too long or started
/// before `started_after` (the absolute limit): one indexed look-up.
pub async fn lookup(
    db: &Pool,
    token_hash: &[u8],
    started_after: Timestamp,
) -> sqlx::Result<Option<SessionUser>> {
    on!(db, |c| sqlx::query_as(&format!(
        "SELECT s.id AS session_id, s.user_id, u.username, u.role,
                {display_name} AS display_name, {avatar_url} AS avatar_url, u.preferences,
                s.csrf_token, s.last_used_at, s.expires_at, s.created_at
         FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.token_hash = $1 AND s.expires_at > $2 AND s.created_at > $3 AND u.is_active",
        display_name = super::profiles::display_name_sql("u"),
        avatar_url = super::profiles::avatar_url_sql("u"),
    ))
    .bind(token_hash)
    .bind(Timestamp::now())
    .bind(started_after)
    .fetch_optional(c)
    .await)
}

/// Slides the idle expiry forward; `false` when the session no longer exists.
pub async fn touch(db: &Writer, id: i64, expires_at: Timestamp) -> sqlx::Result<bool> {
    on!(db, |c| {
        sqlx::query("UPDATE sessions SET last_used_at = $1, expires_at = $2 WHERE id = $3")
            .bind(Timestamp::now())
            .bind(expires_at)
            .bind(id)
            .execute(c)
            .await
            .map(|done| done.rows_affected() == 1)
    })
}

pub async fn delete(db: &Writer, id: i64) -> sqlx::Result<()> {
    on!(db, |c| sqlx::query("DELETE FROM sessions WHERE id = $1")
        .bind(id)
        .execute(c)
        .await
        .map(drop))
}

/// Removes sessions past their idle or absolute limit.
pub async fn delete_expired(db: &Writer, started_before: Timestamp) -> sqlx::Result<u64> {
    on!(db, |c| {
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR created_at <= $2")
            .bind(Timestamp::now())
            .bind(started_before)
            .execute(c)
            .await
            .map(|done| done.rows_affected())
    })
}

/// Ends every session of a user (deactivation, new password) but `keep`, if given;
/// returns how many.
pub async fn delete_for_user(tx: &mut WriteTx, user: i64, keep: Option<i64>) -> sqlx::Result<u64> {
    on!(tx, |c| {
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id IS DISTINCT FROM $2")
            .bind(user)
            .bind(keep)
            .execute(c)
            .await
            .map(|done| done.rows_affected())
    })
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
    db: &Pool,
    user: UserId,
    started_after: Timestamp,
) -> sqlx::Result<Vec<Listed>> {
    on!(db, |c| sqlx::query_as(
        "SELECT id, created_at, last_used_at, user_agent, ip FROM sessions
         WHERE user_id = $1 AND expires_at > $2 AND created_at > $3
         ORDER BY last_used_at DESC, id DESC",
    )
    .bind(user)
    .bind(Timestamp::now())
    .bind(started_after)
    .fetch_all(c)
    .await)
}

/// Ends one of `user`'s sessions; false when it is not theirs (or gone).
pub async fn delete_own(db: &Writer, user: UserId, id: i64) -> sqlx::Result<bool> {
    on!(db, |c| {
        sqlx::query("DELETE FROM sessions WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user)
            .execute(c)
            .await
            .map(|done| done.rows_affected() == 1)
    })
}
