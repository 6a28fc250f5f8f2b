//! Personal API tokens: a SHA-256 of each token, its owner, a name and when it was last
//! used. The token itself is shown once, when made, and kept nowhere.

use serde::Serialize;

use super::backend::{on, Pool};
use super::Writer;
use crate::model::{Role, Timestamp, UserId};

/// How many tokens one person may hold: enough for every script and machine they run,
/// few enough that the list on `/account` stays readable.
pub const MAX_PER_USER: i64 = 20;

/// A token as its owner's list shows it (never the token).
#[derive(utoipa::ToSchema, Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Token {
    pub id: i64,
    pub name: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

const COLUMNS: &str = "id, name, created_at, last_used_at";

/// An active person's token with this hash, and who they are: one indexed look-up.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TokenUser {
    pub token_id: i64,
    pub user_id: UserId,
    pub username: String,
    pub role: Role,
    pub display_name: String,
    pub avatar_url: Option<String>,
    /// Stored JSON (`profile::Preferences::from_stored`).
    pub preferences: String,
    pub last_used_at: Option<Timestamp>,
}

/// Stores a new token for `user`, unless they hold `MAX_PER_USER` already (`None`).
pub async fn create(
    db: &Writer,
    user: UserId,
    name: &str,
    hash: &[u8],
) -> sqlx::Result<Option<Token>> {
    // One statement counts and inserts, so two requests racing cannot pass the limit.
    let sql = format!(
        "INSERT INTO api_tokens (user_id, name, hash, created_at)
         SELECT $1, $2, $3, $4
         WHERE (SELECT COUNT(*) FROM api_tokens WHERE user_id = $1) < $5
         RETURNING {COLUMNS}"
    );
    let rows: Vec<Token> = on!(db, |c| {
        sqlx::query_as(&sql)
            .bind(user)
            .bind(name)
            .bind(hash)
            .bind(Timestamp::now())
            .bind(MAX_PER_USER)
            .fetch_all(c)
            .await
    })?;
    Ok(rows.into_iter().next())
}

/// `user`'s tokens, newest first.
pub async fn for_user(db: &Pool, user: UserId) -> sqlx::Result<Vec<Token>> {
    let sql = format!("SELECT {COLUMNS} FROM api_tokens WHERE user_id = $1 ORDER BY id DESC");
    on!(db, |c| sqlx::query_as(&sql).bind(user).fetch_all(c).await)
}

/// Revokes one of `user`'s tokens; `false` when it is not theirs (or gone).
pub async fn delete_own(db: &Writer, user: UserId, id: i64) -> sqlx::Result<bool> {
    on!(db, |c| {
        sqlx::query("DELETE FROM api_tokens WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user)
            .execute(c)
            .await
            .map(|done| done.rows_affected() == 1)
    })
}

/// The token with this hash, if its owner is active (and no bot).
pub async fn lookup(db: &Pool, hash: &[u8]) -> sqlx::Result<Option<TokenUser>> {
    on!(db, |c| sqlx::query_as(&format!(
        "SELECT t.id AS token_id, t.user_id, u.username, u.role,
                {display_name} AS display_name, {avatar_url} AS avatar_url, u.preferences,
                t.last_used_at
         FROM api_tokens t JOIN users u ON u.id = t.user_id
         WHERE t.hash = $1 AND u.is_active AND NOT u.is_bot",
        display_name = super::profiles::display_name_sql("u"),
        avatar_url = super::profiles::avatar_url_sql("u"),
    ))
    .bind(hash)
    .fetch_optional(c)
    .await)
}

/// Records a use; `false` when the token no longer exists.
pub async fn touch(db: &Writer, id: i64, at: Timestamp) -> sqlx::Result<bool> {
    on!(db, |c| {
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(at)
            .bind(id)
            .execute(c)
            .await
            .map(|done| done.rows_affected() == 1)
    })
}
