//! Invite links: a hash of each code, who made it, until when and how often it works.

use serde::Serialize;

use super::backend::{on, Pool};
use super::{WriteTx, Writer};
use crate::model::{Timestamp, UserId};

#[derive(utoipa::ToSchema, Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Invite {
    pub id: i64,
    pub note: String,
    pub created_by: Option<UserId>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub max_uses: Option<i64>,
    pub uses: i64,
    pub revoked: bool,
}

const COLUMNS: &str = "id, note, created_by, created_at, expires_at, max_uses, uses, revoked";

pub struct NewInvite<'a> {
    pub code_hash: &'a [u8],
    pub note: &'a str,
    pub created_by: UserId,
    pub expires_at: Timestamp,
    pub max_uses: Option<i64>,
}

pub async fn create(db: &Writer, invite: NewInvite<'_>) -> sqlx::Result<Invite> {
    let sql = format!(
        "INSERT INTO invites (code_hash, note, created_by, created_at, expires_at, max_uses)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING {COLUMNS}"
    );
    let rows: Vec<Invite> = on!(db, |c| {
        sqlx::query_as(&sql)
            .bind(invite.code_hash)
            .bind(invite.note)
            .bind(invite.created_by)
            .bind(Timestamp::now())
            .bind(invite.expires_at)
            .bind(invite.max_uses)
            .fetch_all(c)
            .await
    })?;
    rows.into_iter().next().ok_or(sqlx::Error::RowNotFound)
}

/// The invites `user` made, newest first (at most `limit`).
pub async fn made_by(db: &Pool, user: UserId, limit: i64) -> sqlx::Result<Vec<Invite>> {
    let sql =
        format!("SELECT {COLUMNS} FROM invites WHERE created_by = $1 ORDER BY id DESC LIMIT $2");
    on!(db, |c| {
        sqlx::query_as(&sql)
            .bind(user)
            .bind(limit)
            .fetch_all(c)
            .await
    })
}

pub async fn by_id(db: &Pool, id: i64) -> sqlx::Result<Option<Invite>> {
    let sql = format!("SELECT {COLUMNS} FROM invites WHERE id = $1");
    on!(db, |c| sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(c)
        .await)
}

/// The invite whose code hashes to `code_hash`, if it still works now.
pub async fn usable(db: &Pool, code_hash: &[u8]) -> sqlx::Result<Option<Invite>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM invites
         WHERE code_hash = $1 AND revoked = FALSE AND expires_at > $2
           AND (max_uses IS NULL OR uses < max_uses)"
    );
    on!(db, |c| {
        sqlx::query_as(&sql)
            .bind(code_hash)
            .bind(Timestamp::now())
            .fetch_optional(c)
            .await
    })
}

/// Counts one use of the invite, if it still works: its id, or `None` (expired, revoked,
/// used up, unknown). One statement decides, so of two people racing for the last use,
/// one gets it.
pub async fn use_once(tx: &mut WriteTx, code_hash: &[u8]) -> sqlx::Result<Option<i64>> {
    let ids: Vec<i64> = on!(tx, |c| {
        sqlx::query_scalar(
            "UPDATE invites SET uses = uses + 1
             WHERE code_hash = $1 AND revoked = FALSE AND expires_at > $2
               AND (max_uses IS NULL OR uses < max_uses)
             RETURNING id",
        )
        .bind(code_hash)
        .bind(Timestamp::now())
        .fetch_all(c)
        .await
    })?;
    Ok(ids.first().copied())
}

/// Revokes invite `id`; `false` if there is none.
pub async fn revoke(db: &Writer, id: i64) -> sqlx::Result<bool> {
    let done = on!(db, |c| {
        sqlx::query("UPDATE invites SET revoked = TRUE WHERE id = $1")
            .bind(id)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(done > 0)
}
