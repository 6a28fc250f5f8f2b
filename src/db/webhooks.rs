//! Outgoing webhooks: which bots of a chat have one, and the log of every try.

use std::collections::HashSet;

use super::backend::{on, Pool};
use super::Writer;
use crate::model::{ChatId, MessageId, Timestamp, UserId};

/// How long tries stay in the log.
pub const KEEP_MS: i64 = 30 * 86_400_000;

/// Every active bot with a webhook URL (the webhook task keeps this, see `refreshed`).
pub async fn bots(db: &Pool) -> sqlx::Result<HashSet<UserId>> {
    let ids: Vec<UserId> = on!(db, |c| {
        sqlx::query_scalar("SELECT id FROM users WHERE is_bot AND is_active AND webhook_url <> ''")
            .fetch_all(c)
            .await
    })?;
    Ok(ids.into_iter().collect())
}

/// An active bot of a chat with a webhook URL, and what a delivery to it needs.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Target {
    pub bot_id: UserId,
    pub username: String,
    pub display_name: String,
    pub avatar_url: Option<String>,
    pub webhook_url: String,
    /// The bot key sealed (`bots::seal`); `None` for a key made before webhooks existed.
    pub key_sealed: Option<Vec<u8>>,
    /// The chat is a direct one (with the bot): every message in it goes to the bot.
    pub direct: bool,
}

/// The bots of `chat` that have a webhook: one indexed query, usually answering nothing.
pub async fn targets(db: &Pool, chat: ChatId) -> sqlx::Result<Vec<Target>> {
    on!(db, |c| sqlx::query_as(&format!(
        "SELECT u.id AS bot_id, u.username, {display_name} AS display_name,
                {avatar_url} AS avatar_url, u.webhook_url, u.bot_key_sealed AS key_sealed,
                ch.kind = 'direct' AS direct
         FROM chat_members cm
         JOIN users u ON u.id = cm.user_id
         JOIN chats ch ON ch.id = cm.chat_id
         WHERE cm.chat_id = $1 AND u.is_bot AND u.is_active AND u.webhook_url <> ''
         ORDER BY u.id",
        display_name = super::profiles::display_name_sql("u"),
        avatar_url = super::profiles::avatar_url_sql("u"),
    ))
    .bind(chat)
    .fetch_all(c)
    .await)
}

/// What came of one try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Answered 2xx with nothing to post.
    Delivered,
    /// Answered 2xx, and the answer was posted as the bot.
    Replied,
    /// No 2xx answer (an error status, a timeout, a connection that failed).
    Failed,
    /// Not sent at all: a private address, no usable key.
    Refused,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Delivered => "delivered",
            Outcome::Replied => "replied",
            Outcome::Failed => "failed",
            Outcome::Refused => "refused",
        }
    }
}

pub struct Attempt<'a> {
    pub bot: UserId,
    pub message: MessageId,
    /// 1 for the first, up to 4 after three retries.
    pub try_number: i32,
    pub url: &'a str,
    pub outcome: Outcome,
    pub status: Option<u16>,
    pub detail: &'a str,
    pub duration_ms: i64,
}

/// Logs one try. A message deleted meanwhile takes its tries with it (nothing is logged).
pub async fn log(db: &Writer, attempt: &Attempt<'_>) -> sqlx::Result<()> {
    on!(db, |c| {
        sqlx::query(
            "INSERT INTO webhook_attempts
                 (bot_id, message_id, try, url, outcome, status, detail, duration_ms, created_at)
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9
             WHERE EXISTS (SELECT 1 FROM messages WHERE id = $2)
               AND EXISTS (SELECT 1 FROM users WHERE id = $1)",
        )
        .bind(attempt.bot)
        .bind(attempt.message)
        .bind(attempt.try_number)
        .bind(attempt.url)
        .bind(attempt.outcome.as_str())
        .bind(attempt.status.map(i32::from))
        .bind(attempt.detail)
        .bind(attempt.duration_ms)
        .bind(Timestamp::now())
        .execute(c)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Drops tries logged before `before`; how many.
pub async fn prune(db: &Writer, before: Timestamp) -> sqlx::Result<u64> {
    on!(db, |c| {
        sqlx::query("DELETE FROM webhook_attempts WHERE created_at < $1")
            .bind(before)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
    })
}
