//! Messages: history pages, edits, deletions, reactions and mentions. Sending goes
//! through `send_queue`, which writes batches with the same rules.

use serde::{Deserialize, Serialize};

use super::backend::{on, Pool, Sql};
use super::events::{self, Kind};
use super::files::{self, Attachment, ATTACHMENTS};
use super::{WriteTx, Writer};
use crate::mentions::Mentioned;
use crate::model::{ChatId, ChatStatus, MessageId, Timestamp, UserId};
use crate::validate::MessageBody;

/// A message as every reader sees it (the API's message object).
#[derive(utoipa::ToSchema, Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Message {
    pub id: MessageId,
    pub chat_id: ChatId,
    /// The sender's username.
    pub sender: String,
    /// The name the sender shows (their username when they chose none).
    pub sender_display_name: String,
    /// Their avatar, if they have one.
    pub sender_avatar_url: Option<String>,
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
    /// Its files, in the order they were uploaded.
    #[sqlx(json)]
    pub attachments: Vec<Attachment>,
}

#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reaction {
    pub emoji: String,
    /// In the order they reacted.
    pub users: Vec<String>,
}

/// The reactions of message `m`, as JSON in the shape of `Vec<Reaction>`. On SQLite the
/// objects are ordered in a subquery and re-read with `json()`: an aggregate's own ORDER
/// BY would turn them into strings (SQLite drops the JSON subtype in its sorter). Text is
/// ordered byte by byte on both (PostgreSQL's `COLLATE "C"`), as SQLite does.
pub(super) const REACTIONS: Sql = Sql {
    sqlite: "(SELECT json_group_array(json(o)) FROM (
        SELECT json_object('emoji', r.emoji, 'users',
                   json(json_group_array(ru.username ORDER BY r.created_at, r.user_id))) AS o,
               MIN(r.created_at) AS first
        FROM reactions r JOIN users ru ON ru.id = r.user_id
        WHERE r.message_id = m.id GROUP BY r.emoji ORDER BY first, r.emoji))",
    postgres: "(SELECT COALESCE(json_agg(o ORDER BY first, emoji), '[]') FROM (
        SELECT json_build_object('emoji', r.emoji, 'users',
                   json_agg(ru.username ORDER BY r.created_at, r.user_id)) AS o,
               MIN(r.created_at) AS first, r.emoji
        FROM reactions r JOIN users ru ON ru.id = r.user_id
        WHERE r.message_id = m.id GROUP BY r.emoji) AS grouped)",
};

/// The usernames message `m` mentions, as a JSON array.
pub(super) const MENTIONS: Sql = Sql {
    sqlite: "(SELECT json_group_array(mu.username ORDER BY mu.username_key)
    FROM mentions x JOIN users mu ON mu.id = x.user_id WHERE x.message_id = m.id)",
    postgres: "(SELECT COALESCE(json_agg(mu.username ORDER BY mu.username_key), '[]')
    FROM mentions x JOIN users mu ON mu.id = x.user_id WHERE x.message_id = m.id)",
};

/// The columns of a [`Message`], over messages `m` and their senders `u`.
pub(super) fn columns(pg: bool) -> String {
    format!(
        "m.id, m.chat_id, u.username AS sender, {display_name} AS sender_display_name,
            {avatar_url} AS sender_avatar_url, m.body, m.created_at, m.edited_at,
            m.added_by, {reactions} AS reactions, {mentions} AS mentions,
            {attachments} AS attachments",
        display_name = super::profiles::display_name_sql("u"),
        avatar_url = super::profiles::avatar_url_sql("u"),
        reactions = REACTIONS.on(pg),
        mentions = MENTIONS.on(pg),
        attachments = ATTACHMENTS.on(pg),
    )
}

fn select(pg: bool) -> String {
    format!(
        "SELECT {} FROM messages m JOIN users u ON u.id = m.sender_id",
        columns(pg)
    )
}

/// Which slice of a chat's history to read. Results are always oldest first.
#[derive(Debug, Clone, Copy, Default)]
pub struct Page {
    pub after: Option<MessageId>,
    pub before: Option<MessageId>,
    pub limit: u32,
}

pub async fn page(db: &Pool, chat: ChatId, page: Page) -> sqlx::Result<Vec<Message>> {
    // With only `after`, read forwards from it; otherwise read backwards from `before`
    // (or from the newest) so the page ends next to what the reader already has.
    let forwards = page.after.is_some() && page.before.is_none();
    let order = if forwards { "ASC" } else { "DESC" };
    let mut messages: Vec<Message> = on!(db, |c, pg| {
        sqlx::query_as(&format!(
            "{} WHERE m.chat_id = $1 AND m.id > $2 AND m.id < $3 AND m.deleted_at IS NULL
             ORDER BY m.id {order} LIMIT $4",
            select(pg)
        ))
        .bind(chat)
        .bind(page.after.map_or(0, |id| id.0))
        .bind(page.before.map_or(i64::MAX, |id| id.0))
        .bind(i64::from(page.limit))
        .fetch_all(c)
        .await
    })?;
    if !forwards {
        messages.reverse();
    }
    Ok(messages)
}

/// About `limit` messages of `chat` around `id` (which is among them): half before it,
/// the rest from it on; the older side takes what the newer side lacks near the end.
/// Oldest first. `None` when `id` is not a message of `chat`, or is deleted.
pub async fn around(
    db: &Pool,
    chat: ChatId,
    id: MessageId,
    limit: u32,
) -> sqlx::Result<Option<Vec<Message>>> {
    if one(db, chat, id).await?.is_none() {
        return Ok(None);
    }
    let newer = page(
        db,
        chat,
        Page {
            after: Some(MessageId(id.0 - 1)),
            before: None,
            limit: limit - limit / 2,
        },
    )
    .await?;
    let older_limit = limit.saturating_sub(newer.len() as u32);
    let mut messages = page(
        db,
        chat,
        Page {
            after: None,
            before: Some(id),
            limit: older_limit,
        },
    )
    .await?;
    messages.extend(newer);
    Ok(Some(messages))
}

/// One message of `chat` as it is now, unless deleted.
pub async fn one(db: &Pool, chat: ChatId, id: MessageId) -> sqlx::Result<Option<Message>> {
    on!(db, |c, pg| {
        sqlx::query_as(&format!(
            "{} WHERE m.id = $1 AND m.chat_id = $2 AND m.deleted_at IS NULL",
            select(pg)
        ))
        .bind(id)
        .bind(chat)
        .fetch_optional(c)
        .await
    })
}

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("not a member of that chat")]
    NotMember,
    #[error("the chat is closed")]
    Closed,
    /// Attachments that are not the sender's unclaimed uploads to that chat.
    #[error("files that cannot be attached")]
    Attachments,
    /// The storage refused the write (disk full, I/O error): nothing was stored.
    #[error("the database cannot store it now: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// A stored message and the members to tell about it.
#[derive(Debug, Clone)]
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
    // `$2` (`$1` in the others): `[[message, chat, sender], ...]`, as `SENT` reads it.
    let members: Vec<(ChatId, UserId)> = on!(&mut *tx, |c, pg| {
        let sent = SENT.on(pg);
        sqlx::query(&format!(
            "UPDATE chats SET last_message_at = $1 WHERE id {}",
            chats_of(pg, &sent.replace("$1", "$2"))
        ))
        .bind(now)
        .bind(&inserted)
        .execute(&mut *c)
        .await?;
        sqlx::query(&format!(
            "UPDATE chat_members SET last_read_message_id = s.id
             FROM (SELECT chat, sender, MAX(id) AS id FROM {sent} GROUP BY 1, 2) s
             WHERE chat_members.chat_id = s.chat AND chat_members.user_id = s.sender"
        ))
        .bind(&inserted)
        .execute(&mut *c)
        .await?;
        sqlx::query_as(&format!(
            "UPDATE chat_members SET archived = FALSE WHERE chat_id {}
             RETURNING chat_id, user_id",
            chats_of(pg, sent)
        ))
        .bind(&inserted)
        .fetch_all(&mut *c)
        .await?
    });

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

    let seqs: Vec<(i64, ChatId)> = on!(&mut *tx, |c, pg| {
        sqlx::query_as(&format!(
            "INSERT INTO events (chat_id, kind, message_id, created_at)
             SELECT chat, 'message', id, $1 FROM {} ORDER BY key
             RETURNING seq, chat_id",
            SENT.on(pg).replace("$1", "$2")
        ))
        .bind(now)
        .bind(&inserted)
        .fetch_all(c)
        .await
    })?;
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

/// "The chat is one of those in `sent`", after a chat id column. PostgreSQL cannot tell
/// how few rows a JSON array holds (it guesses 100), and plans `IN (SELECT …)` as a hash
/// join over a scan of the whole table: every batch of sends read every chat and every
/// membership of the team. `= ANY(ARRAY(…))` probes the primary key instead, as SQLite's
/// `IN` does (a batch of 64 sends' statements, replayed by pgbench on 15,755 chats and
/// 40,110 memberships: 9.4 ms before, 5.7 ms after).
fn chats_of(pg: bool, sent: &str) -> String {
    if pg {
        format!("= ANY(ARRAY(SELECT chat FROM {sent}))")
    } else {
        format!("IN (SELECT chat FROM {sent})")
    }
}

/// The sends of a batch bound as `$1`, `[[message, chat, sender], ...]`, as rows
/// `(id, chat, sender, key)`, `key` being the send's place in the batch.
const SENT: Sql = Sql {
    sqlite: "(SELECT value ->> 0 AS id, value ->> 1 AS chat, value ->> 2 AS sender, key
              FROM json_each($1)) AS sent",
    postgres: "(SELECT (value ->> 0)::bigint AS id, (value ->> 1)::bigint AS chat,
                       (value ->> 2)::bigint AS sender, key
              FROM json_array_elements($1::json) WITH ORDINALITY AS j(value, key)) AS sent",
};

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
    /// No words left, and no files either.
    #[error("an empty message")]
    Empty,
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
    let found: Option<(UserId, ChatStatus)> = on!(tx, |c| {
        sqlx::query_as(
            "SELECT m.sender_id, c.status FROM messages m JOIN chats c ON c.id = m.chat_id
             WHERE m.id = $1 AND m.chat_id = $2 AND m.deleted_at IS NULL
               AND EXISTS (SELECT 1 FROM chat_members WHERE chat_id = c.id AND user_id = $3)",
        )
        .bind(id)
        .bind(chat)
        .bind(actor)
        .fetch_optional(c)
        .await
    })?;
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
    // Only a message with files may lose all its words.
    if body.as_str().is_empty() && !files::any_of_message(&mut tx, id).await? {
        return Err(ChangeError::Empty);
    }
    on!(&mut tx, |c| {
        sqlx::query("UPDATE messages SET body = $1, edited_at = $2 WHERE id = $3")
            .bind(body.as_str())
            .bind(Timestamp::now())
            .bind(id)
            .execute(c)
            .await
            .map(drop)
    })?;
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

/// What deleting leaves of a message: the row, without its words or its files.
pub async fn erase(tx: &mut WriteTx, id: MessageId) -> sqlx::Result<()> {
    on!(tx, |c| {
        sqlx::query("UPDATE messages SET body = '', deleted_at = $1 WHERE id = $2")
            .bind(Timestamp::now())
            .bind(id)
            .execute(&mut *c)
            .await?;
        // A file's chunks go with it (ON DELETE CASCADE).
        for table in ["reactions", "mentions", "files"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE message_id = $1"))
                .bind(id)
                .execute(&mut *c)
                .await?;
        }
    });
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
    let changed: u64 = if on {
        let (distinct, present): (i64, bool) = on!(&mut tx, |c| {
            sqlx::query_as(
                "SELECT COUNT(DISTINCT emoji), COUNT(CASE WHEN emoji = $1 THEN 1 END) > 0
                 FROM reactions WHERE message_id = $2",
            )
            .bind(emoji)
            .bind(id)
            .fetch_one(c)
            .await
        })?;
        if !present && distinct >= MAX_REACTIONS {
            return Err(ChangeError::TooManyReactions);
        }
        on!(&mut tx, |c| {
            sqlx::query(
                "INSERT INTO reactions (message_id, emoji, user_id, created_at)
                 VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            )
            .bind(id)
            .bind(emoji)
            .bind(user)
            .bind(Timestamp::now())
            .execute(c)
            .await?
            .rows_affected()
        })
    } else {
        on!(&mut tx, |c| {
            sqlx::query(
                "DELETE FROM reactions WHERE message_id = $1 AND emoji = $2 AND user_id = $3",
            )
            .bind(id)
            .bind(emoji)
            .bind(user)
            .execute(c)
            .await?
            .rows_affected()
        })
    };
    if changed > 0 {
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
    on!(tx, |c, pg| {
        sqlx::query(if pg {
            "INSERT INTO mentions (message_id, user_id)
             SELECT (j.value ->> 0)::bigint, cm.user_id FROM json_array_elements($1::json) j
             JOIN chat_members cm ON cm.chat_id = (j.value ->> 1)::bigint
                                 AND cm.user_id <> (j.value ->> 2)::bigint
             JOIN users u ON u.id = cm.user_id
             JOIN chats c ON c.id = cm.chat_id
             WHERE u.username_key IN (SELECT json_array_elements_text(j.value -> 3))
                OR ((j.value ->> 4)::boolean AND c.kind = 'group')
             ON CONFLICT DO NOTHING"
        } else {
            "INSERT INTO mentions (message_id, user_id)
             SELECT j.value ->> 0, cm.user_id FROM json_each($1) j
             JOIN chat_members cm ON cm.chat_id = j.value ->> 1 AND cm.user_id <> j.value ->> 2
             JOIN users u ON u.id = cm.user_id
             JOIN chats c ON c.id = cm.chat_id
             WHERE u.username_key IN (SELECT value FROM json_each(j.value -> 3))
                OR (j.value ->> 4 AND c.kind = 'group')
             ON CONFLICT DO NOTHING"
        })
        .bind(serde_json::Value::Array(wanted).to_string())
        .execute(c)
        .await
        .map(drop)
    })?;
    Ok(())
}

/// Forgets who `id` mentions (before its new text is read again).
pub async fn forget_mentions(tx: &mut WriteTx, id: MessageId) -> sqlx::Result<()> {
    on!(tx, |c| {
        sqlx::query("DELETE FROM mentions WHERE message_id = $1")
            .bind(id)
            .execute(c)
            .await
            .map(drop)
    })
}

/// Marks a message the console added as added by `staff` when it was in someone else's
/// name; returns that someone's username.
pub async fn added_in_the_console(
    tx: &mut WriteTx,
    id: MessageId,
    staff: &crate::auth::User,
) -> sqlx::Result<Option<String>> {
    on!(tx, |c| {
        sqlx::query_scalar(
            "UPDATE messages SET added_by = $1
             WHERE id = $2 AND sender_id <> $3
             RETURNING (SELECT username FROM users WHERE id = messages.sender_id)",
        )
        .bind(&staff.username)
        .bind(id)
        .bind(staff.id)
        .fetch_optional(c)
        .await
    })
}

/// The usernames each of `ids` mentions, by id.
pub async fn mentioned_in(
    tx: &mut WriteTx,
    ids: &[MessageId],
) -> sqlx::Result<Vec<(MessageId, String)>> {
    on!(tx, |c, pg| {
        sqlx::query_as(&format!(
            "SELECT x.message_id, u.username FROM mentions x JOIN users u ON u.id = x.user_id
             WHERE x.message_id IN {} ORDER BY u.username_key",
            events::IDS.on(pg)
        ))
        .bind(events::json_ids(ids))
        .fetch_all(c)
        .await
    })
}
