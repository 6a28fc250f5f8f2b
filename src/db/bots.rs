//! Bots: users with `is_bot` set, no password and a key (kept as a SHA-256) that posts
//! messages as them through `/bots/<key>/...`.

use super::backend::{on, Pool};
use super::WriteTx;
use crate::model::UserId;

/// The active bot whose key hashes to this, as a send shows its sender.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Bot {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub avatar_url: Option<String>,
}

/// The active bot with this key hash: one indexed look-up.
pub async fn by_key(db: &Pool, key_hash: &[u8]) -> sqlx::Result<Option<Bot>> {
    on!(db, |c| sqlx::query_as(&format!(
        "SELECT id, username, {display_name} AS display_name, {avatar_url} AS avatar_url
         FROM users WHERE bot_key_hash = $1 AND is_bot AND is_active",
        display_name = super::profiles::display_name_sql("users"),
        avatar_url = super::profiles::avatar_url_sql("users"),
    ))
    .bind(key_hash)
    .fetch_optional(c)
    .await)
}

/// Gives bot `id` a new key (the old one stops working): its hash, for the bot URL to look
/// up, and the key sealed, for webhooks to sign with. `false` if it is no bot.
pub async fn set_key(
    tx: &mut WriteTx,
    id: i64,
    key_hash: &[u8],
    key_sealed: &[u8],
) -> sqlx::Result<bool> {
    on!(tx, |c| {
        sqlx::query(
            "UPDATE users SET bot_key_hash = $1, bot_key_sealed = $2 WHERE id = $3 AND is_bot",
        )
        .bind(key_hash)
        .bind(key_sealed)
        .bind(id)
        .execute(c)
        .await
        .map(|done| done.rows_affected() == 1)
    })
}
