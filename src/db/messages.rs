//! Messages: history pages, edits, deletions, reactions and mentions. Sending goes
//! through `send_queue`, which writes batches with the same rules.

use serde::{Deserialize, Serialize};
use sqlx::SqlitePool;

use super::events::{self, Kind};
use super::{WriteTx, Writer};
use crate::mentions::Mentioned;
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
    /// The staff member who added it in the admin console in the sender's name; `None`
    /// when the sender sent it.
    pub added_by: Option<String>,
    /// In the order each emoji was first used.
    #[sqlx(json)]
    pub reactions: Vec<Reaction>,
    /// Usernames of the people it mentions.
    #[sqlx(json)]
    pub mentions: Vec<String>,
    /// Files come with a later part of the contract; always empty for now.
    #[sqlx(skip)]
    pub attachments: Vec<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reaction {
    pub emoji: String,
    /// In the order they reacted.
    pub users: Vec<String>,
}

/// The reactions of message `m`, as JSON in the shape of `Vec<Reaction>`. Objects are
/// ordered in a subquery and re-read with `json()`: an aggregate's own ORDER BY would turn
/// them into strings (SQLite drops the JSON subtype in its sorter).
pub(super) const REACTIONS: &str = "(SELECT json_group_array(json(o)) FROM (
        SELECT json_object('emoji', r.emoji, 'users',
                   json(json_group_array(ru.username ORDER BY r.created_at, r.user_id))) AS o,
               MIN(r.created_at) AS first
        FROM reactions r JOIN users ru ON ru.id = r.user_id
        WHERE r.message_id = m.id GROUP BY r.emoji ORDER BY first, r.emoji))";

/// The usernames message `m` mentions, as a JSON array.
pub(super) const MENTIONS: &str = "(SELECT json_group_array(mu.username ORDER BY mu.username_key)
    FROM mentions x JOIN users mu ON mu.id = x.user_id WHERE x.message_id = m.id)";

fn select() -> String {
    format!(
        "SELECT m.id, m.chat_id, u.username AS sender, m.body, m.created_at, m.edited_at,
            m.added_by, {REACTIONS} AS reactions, {MENTIONS} AS mentions
         FROM messages m JOIN users u ON u.id = m.sender_id"
    )
}

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
        "{} WHERE m.chat_id = ? AND m.id > ? AND m.id < ? AND m.deleted_at IS NULL
         ORDER BY m.id {order} LIMIT ?",
        select()
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

/// One message of `chat` as it is now, unless deleted.
pub async fn one(db: &SqlitePool, chat: ChatId, id: MessageId) -> sqlx::Result<Option<Message>> {
    sqlx::query_as(&format!(
        "{} WHERE m.id = ? AND m.chat_id = ? AND m.deleted_at IS NULL",
        select()
    ))
    .bind(id)
    .bind(chat)
    .fetch_optional(db)
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

/// What a send does besides the message, for the whole batch at once: moves the chats up,
/// marks them read for their senders, brings them back from everyone's archive, records
/// who each message mentions and one event per message. Returns every member of the
/// chats written to, and who each message mentions.
pub async fn sent(
    tx: &mut WriteTx,
    stored: &[(MessageId, ChatId, UserId, Mentioned)],
    now: Timestamp,
) -> sqlx::Result<(Vec<(ChatId, UserId)>, Vec<(MessageId, String)>)> {
    let inserted = serde_json::Value::Array(
        stored
            .iter()
            .map(|(id, chat, sender, _)| serde_json::json!([id, chat, sender]))
            .collect(),
    )
    .to_string();
    sqlx::query(
        "UPDATE chats SET last_message_at = ?1
         WHERE id IN (SELECT value ->> 1 FROM json_each(?2))",
    )
    .bind(now)
    .bind(&inserted)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE chat_members SET last_read_message_id = s.id
         FROM (SELECT value ->> 1 AS chat, value ->> 2 AS sender, MAX(value ->> 0) AS id
               FROM json_each(?1) GROUP BY 1, 2) s
         WHERE chat_members.chat_id = s.chat AND chat_members.user_id = s.sender",
    )
    .bind(&inserted)
    .execute(&mut *tx)
    .await?;
    let members: Vec<(ChatId, UserId)> = sqlx::query_as(
        "UPDATE chat_members SET archived = 0
         WHERE chat_id IN (SELECT value ->> 1 FROM json_each(?1))
         RETURNING chat_id, user_id",
    )
    .bind(&inserted)
    .fetch_all(&mut *tx)
    .await?;

    let mut mentions = Vec::new();
    let ids: Vec<MessageId> = stored
        .iter()
        .filter(|(.., mentioned)| !mentioned.is_empty())
        .map(|(id, ..)| *id)
        .collect();
    if !ids.is_empty() {
        store_mentions(tx, stored).await?;
        mentions = mentioned_in(tx, &ids).await?;
    }

    let seqs: Vec<(i64, ChatId)> = sqlx::query_as(
        "INSERT INTO events (chat_id, kind, message_id, created_at)
         SELECT value ->> 1, 'message', value ->> 0, ?1 FROM json_each(?2) ORDER BY key
         RETURNING seq, chat_id",
    )
    .bind(now)
    .bind(&inserted)
    .fetch_all(&mut *tx)
    .await?;
    let mut newest: std::collections::HashMap<ChatId, i64> = Default::default();
    for (seq, chat) in seqs {
        let at = newest.entry(chat).or_default();
        *at = (*at).max(seq);
    }
    for (chat, seq) in newest {
        tx.tell(super::events::members_of(&members, chat), seq);
    }
    Ok((members, mentions))
}

/// Why a change to a message was refused.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    /// No such message in that chat (or deleted), or the person is not in the chat.
    #[error("no such message")]
    NotFound,
    #[error("not yours to change")]
    NotYours,
    #[error("the chat is closed")]
    Closed,
    #[error("too many different reactions")]
    TooManyReactions,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// At most this many different emoji on one message.
pub const MAX_REACTIONS: i64 = 20;

/// The message as the person changing it may reach it: its sender and its chat's status,
/// if it exists in `chat`, is not deleted, and `actor` is a member.
async fn reach(
    tx: &mut WriteTx,
    chat: ChatId,
    id: MessageId,
    actor: UserId,
) -> Result<(UserId, ChatStatus), ChangeError> {
    let found: Option<(UserId, ChatStatus)> = sqlx::query_as(
        "SELECT m.sender_id, c.status FROM messages m JOIN chats c ON c.id = m.chat_id
         WHERE m.id = ? AND m.chat_id = ? AND m.deleted_at IS NULL
           AND EXISTS (SELECT 1 FROM chat_members WHERE chat_id = c.id AND user_id = ?)",
    )
    .bind(id)
    .bind(chat)
    .bind(actor)
    .fetch_optional(&mut *tx)
    .await?;
    found.ok_or(ChangeError::NotFound)
}

/// Replaces the body of the sender's own message and marks it edited.
pub async fn edit(
    db: &Writer,
    chat: ChatId,
    id: MessageId,
    editor: UserId,
    body: &MessageBody,
) -> Result<(), ChangeError> {
    let mut tx = db.begin().await?;
    let (sender, status) = reach(&mut tx, chat, id, editor).await?;
    if sender != editor {
        return Err(ChangeError::NotYours);
    }
    if status == ChatStatus::Closed {
        return Err(ChangeError::Closed);
    }
    sqlx::query("UPDATE messages SET body = ?, edited_at = ? WHERE id = ?")
        .bind(body.as_str())
        .bind(Timestamp::now())
        .bind(id)
        .execute(&mut tx)
        .await?;
    forget_mentions(&mut tx, id).await?;
    store_mentions(
        &mut tx,
        &[(id, chat, sender, crate::mentions::parse(body.as_str()))],
    )
    .await?;
    events::record(&mut tx, chat, Kind::MessageEdited, Some(id)).await?;
    tx.commit().await?;
    Ok(())
}

/// Deletes a message for everyone: its body, reactions and mentions are erased, and the
/// row stays as a tombstone (ids are cursors). The sender may, and so may staff.
pub async fn delete(
    db: &Writer,
    chat: ChatId,
    id: MessageId,
    actor: UserId,
    staff: bool,
) -> Result<(), ChangeError> {
    let mut tx = db.begin().await?;
    let (sender, status) = reach(&mut tx, chat, id, actor).await?;
    if sender != actor && !staff {
        return Err(ChangeError::NotYours);
    }
    if status == ChatStatus::Closed && !staff {
        return Err(ChangeError::Closed);
    }
    erase(&mut tx, id).await?;
    events::record(&mut tx, chat, Kind::MessageDeleted, Some(id)).await?;
    tx.commit().await?;
    Ok(())
}

/// What deleting leaves of a message: the row, without its words.
pub async fn erase(tx: &mut WriteTx, id: MessageId) -> sqlx::Result<()> {
    sqlx::query("UPDATE messages SET body = '', deleted_at = ? WHERE id = ?")
        .bind(Timestamp::now())
        .bind(id)
        .execute(&mut *tx)
        .await?;
    for table in ["reactions", "mentions"] {
        sqlx::query(&format!("DELETE FROM {table} WHERE message_id = ?"))
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}

/// Adds (`on`) or takes back the caller's `emoji` on a message. Doing it twice changes
/// nothing the second time, and records no second event.
pub async fn react(
    db: &Writer,
    chat: ChatId,
    id: MessageId,
    user: UserId,
    emoji: &str,
    on: bool,
) -> Result<(), ChangeError> {
    let mut tx = db.begin().await?;
    let (_, status) = reach(&mut tx, chat, id, user).await?;
    if status == ChatStatus::Closed {
        return Err(ChangeError::Closed);
    }
    let changed = if on {
        let (distinct, present): (i64, bool) = sqlx::query_as(
            "SELECT COUNT(DISTINCT emoji), COALESCE(MAX(emoji = ?), 0) FROM reactions
             WHERE message_id = ?",
        )
        .bind(emoji)
        .bind(id)
        .fetch_one(&mut tx)
        .await?;
        if !present && distinct >= MAX_REACTIONS {
            return Err(ChangeError::TooManyReactions);
        }
        sqlx::query(
            "INSERT INTO reactions (message_id, emoji, user_id, created_at) VALUES (?, ?, ?, ?)
             ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(emoji)
        .bind(user)
        .bind(Timestamp::now())
        .execute(&mut tx)
        .await?
    } else {
        sqlx::query("DELETE FROM reactions WHERE message_id = ? AND emoji = ? AND user_id = ?")
            .bind(id)
            .bind(emoji)
            .bind(user)
            .execute(&mut tx)
            .await?
    };
    if changed.rows_affected() > 0 {
        events::record(&mut tx, chat, Kind::Reaction, Some(id)).await?;
        tx.commit().await?;
    } else {
        tx.rollback().await;
    }
    Ok(())
}

/// Records who each message mentions: members of its chat named by `@username` (but
/// the sender), and with `@all` in a group every member but the sender. One statement
/// for a whole batch of sends.
pub async fn store_mentions(
    tx: &mut WriteTx,
    messages: &[(MessageId, ChatId, UserId, Mentioned)],
) -> sqlx::Result<()> {
    let wanted: Vec<serde_json::Value> = messages
        .iter()
        .filter(|(.., mentioned)| !mentioned.is_empty())
        .map(|(id, chat, sender, mentioned)| {
            serde_json::json!([id, chat, sender, mentioned.keys, mentioned.all])
        })
        .collect();
    if wanted.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO mentions (message_id, user_id)
         SELECT j.value ->> 0, cm.user_id FROM json_each(?) j
         JOIN chat_members cm ON cm.chat_id = j.value ->> 1 AND cm.user_id <> j.value ->> 2
         JOIN users u ON u.id = cm.user_id
         JOIN chats c ON c.id = cm.chat_id
         WHERE u.username_key IN (SELECT value FROM json_each(j.value -> 3))
            OR (j.value ->> 4 AND c.kind = 'group')
         ON CONFLICT DO NOTHING",
    )
    .bind(serde_json::Value::Array(wanted).to_string())
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Forgets who `id` mentions (before its new text is read again).
pub async fn forget_mentions(tx: &mut WriteTx, id: MessageId) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM mentions WHERE message_id = ?")
        .bind(id)
        .execute(&mut *tx)
        .await
        .map(drop)
}

/// Marks a message the console added as added by `staff` when it was in someone else's
/// name; returns that someone's username.
pub async fn added_in_the_console(
    tx: &mut WriteTx,
    id: MessageId,
    staff: &crate::auth::User,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar(
        "UPDATE messages SET added_by = ?1
         WHERE id = ?2 AND sender_id <> ?3
         RETURNING (SELECT username FROM users WHERE id = messages.sender_id)",
    )
    .bind(&staff.username)
    .bind(id)
    .bind(staff.id)
    .fetch_optional(&mut *tx)
    .await
}

/// The usernames each of `ids` mentions, by id.
pub async fn mentioned_in(
    tx: &mut WriteTx,
    ids: &[MessageId],
) -> sqlx::Result<Vec<(MessageId, String)>> {
    sqlx::query_as(
        "SELECT x.message_id, u.username FROM mentions x JOIN users u ON u.id = x.user_id
         WHERE x.message_id IN (SELECT value FROM json_each(?)) ORDER BY u.username_key",
    )
    .bind(serde_json::to_string(ids).unwrap_or_else(|_| "[]".to_owned()))
    .fetch_all(&mut *tx)
    .await
}
