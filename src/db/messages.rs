//! Messages: sending, history pages and the updates feed.

use serde::Serialize;
use sqlx::SqlitePool;

use crate::model::{ChatId, MessageId, Timestamp, UserId};

/// A message as every reader sees it (the API's message object).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Message {
    pub id: MessageId,
    pub chat_id: ChatId,
    /// The sender's username.
    pub sender: String,
    pub body: String,
    pub created_at: Timestamp,
    pub edited_at: Option<Timestamp>,
    /// The staff member who added it in the admin console in the sender's name; `None`
    /// when the sender sent it.
    pub added_by: Option<String>,
}

const SELECT: &str =
    "SELECT m.id, m.chat_id, u.username AS sender, m.body, m.created_at, m.edited_at,
        m.added_by
     FROM messages m JOIN users u ON u.id = m.sender_id";

/// Which slice of a chat's history to read. Results are always oldest first.
#[derive(Debug, Clone, Copy, Default)]
pub struct Page {
    pub after: Option<MessageId>,
    pub before: Option<MessageId>,
    pub limit: u32,
}

pub async fn page(db: &SqlitePool, chat: ChatId, page: Page) -> sqlx::Result<Vec<Message>> {
    // With only `after`, read forwards from it; otherwise read backwards from `before`
    // (or from the newest) so the page ends next to what the reader already has.
    let forwards = page.after.is_some() && page.before.is_none();
    let order = if forwards { "ASC" } else { "DESC" };
    let mut messages: Vec<Message> = sqlx::query_as(&format!(
        "{SELECT} WHERE m.chat_id = ? AND m.id > ? AND m.id < ? AND m.deleted_at IS NULL
         ORDER BY m.id {order} LIMIT ?"
    ))
    .bind(chat)
    .bind(page.after.map_or(0, |id| id.0))
    .bind(page.before.map_or(i64::MAX, |id| id.0))
    .bind(page.limit)
    .fetch_all(db)
    .await?;
    if !forwards {
        messages.reverse();
    }
    Ok(messages)
}

/// New messages in any chat of `user` after `after`, oldest first.
pub async fn updates(
    db: &SqlitePool,
    user: UserId,
    after: MessageId,
    limit: u32,
) -> sqlx::Result<Vec<Message>> {
    sqlx::query_as(&format!(
        "{SELECT} JOIN chat_members cm ON cm.chat_id = m.chat_id AND cm.user_id = ?
         WHERE m.id > ? AND m.deleted_at IS NULL
         ORDER BY m.id LIMIT ?"
    ))
    .bind(user)
    .bind(after)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// The newest message id in any chat of `user` (0 when there is none).
pub async fn latest_for_user(db: &SqlitePool, user: UserId) -> sqlx::Result<MessageId> {
    sqlx::query_scalar(
        "SELECT COALESCE(MAX((SELECT MAX(id) FROM messages WHERE chat_id = cm.chat_id)), 0)
         FROM chat_members cm WHERE cm.user_id = ?",
    )
    .bind(user)
    .fetch_one(db)
    .await
}

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("not a member of that chat")]
    NotMember,
    #[error("the chat is closed")]
    Closed,
    /// The storage refused the write (disk full, I/O error): nothing was stored.
    #[error("the database cannot store it now: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// A stored message and the members to tell about it.
pub struct Sent {
    pub message: Message,
    pub members: Vec<UserId>,
}
