//! Messages: sending, history pages and the updates feed.

use serde::Serialize;
use sqlx::SqlitePool;

use crate::model::{ChatId, ChatStatus, MessageId, Timestamp, UserId};
use crate::validate::MessageBody;

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
}

const SELECT: &str =
    "SELECT m.id, m.chat_id, u.username AS sender, m.body, m.created_at, m.edited_at
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
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// A stored message and the members to tell about it.
pub struct Sent {
    pub message: Message,
    pub members: Vec<UserId>,
}

/// Stores a message in one transaction: checks membership and status, moves the chat up,
/// marks it read for the sender and brings it back from the archive of everyone else.
pub async fn send(
    db: &SqlitePool,
    chat: ChatId,
    sender: UserId,
    sender_name: &str,
    body: &MessageBody,
) -> Result<Sent, SendError> {
    let mut tx = db.begin().await?;
    let status: Option<ChatStatus> = sqlx::query_scalar(
        "SELECT c.status FROM chats c JOIN chat_members cm ON cm.chat_id = c.id
         WHERE c.id = ? AND cm.user_id = ?",
    )
    .bind(chat)
    .bind(sender)
    .fetch_optional(&mut *tx)
    .await?;
    match status {
        None => return Err(SendError::NotMember),
        Some(ChatStatus::Closed) => return Err(SendError::Closed),
        Some(ChatStatus::Open) => {}
    }
    let now = Timestamp::now();
    let id: MessageId = sqlx::query_scalar(
        "INSERT INTO messages (chat_id, sender_id, body, created_at) VALUES (?, ?, ?, ?)
         RETURNING id",
    )
    .bind(chat)
    .bind(sender)
    .bind(body.as_str())
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query("UPDATE chats SET last_message_at = ? WHERE id = ?")
        .bind(now)
        .bind(chat)
        .execute(&mut *tx)
        .await?;
    let members: Vec<(UserId,)> = sqlx::query_as(
        "UPDATE chat_members
         SET last_read_message_id = CASE WHEN user_id = ? THEN ? ELSE last_read_message_id END,
             archived = 0
         WHERE chat_id = ? RETURNING user_id",
    )
    .bind(sender)
    .bind(id)
    .bind(chat)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Sent {
        message: Message {
            id,
            chat_id: chat,
            sender: sender_name.to_owned(),
            body: body.as_str().to_owned(),
            created_at: now,
            edited_at: None,
        },
        members: members.into_iter().map(|(id,)| id).collect(),
    })
}
