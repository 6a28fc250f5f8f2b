//! The event stream: one row per change that members see, appended in the transaction of
//! the change, and read back in order by each member's long poll.
//!
//! A row names its object; a reader gets the object's current state (a message as it is
//! now, a chat as that reader sees it), so replaying an event is harmless. Sequence
//! numbers commit in order because write transactions take turns (see `writer`), so a
//! reader that has seen `seq` has seen everything before it.

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use sqlx::types::Json;

use super::backend::{on, Pool, Sql};
use super::chats::{self, Chat};
use super::messages::{Message, Reaction};
use super::{WriteTx, Writer};
use crate::model::{ChatId, MessageId, Timestamp, UserId};

/// What happened, as the `type` of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, sqlx::Type)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "TEXT", rename_all = "snake_case")]
pub enum Kind {
    Message,
    MessageEdited,
    MessageDeleted,
    Reaction,
    Chat,
    ChatRemoved,
}

/// Whoever must hear of a committed event: told by the writer once the transaction that
/// recorded it has committed (see `Writer::listen`), so no write path can forget to wake
/// the long polls, and none wakes them before the change is readable.
pub trait Listener: Send + Sync {
    fn committed(&self, audience: &[UserId], seq: i64);

    /// Events up to `seq` have committed for an audience nobody said (another instance's,
    /// too large to announce): every poll should look.
    fn everyone(&self, seq: i64);
}

async fn insert(
    tx: &mut WriteTx,
    chat: ChatId,
    kind: Kind,
    message: Option<MessageId>,
    user: Option<UserId>,
) -> sqlx::Result<i64> {
    on!(tx, |c| {
        sqlx::query_scalar(
            "INSERT INTO events (chat_id, kind, message_id, user_id, created_at)
             VALUES ($1, $2, $3, $4, $5) RETURNING seq",
        )
        .bind(chat)
        .bind(kind)
        .bind(message)
        .bind(user)
        .bind(Timestamp::now())
        .fetch_one(c)
        .await
    })
}

/// Appends an event about `chat` (and `message`) for its current members.
pub async fn record(
    tx: &mut WriteTx,
    chat: ChatId,
    kind: Kind,
    message: Option<MessageId>,
) -> sqlx::Result<i64> {
    let seq = insert(tx, chat, kind, message, None).await?;
    let audience: Vec<UserId> = on!(&mut *tx, |c| {
        sqlx::query_scalar("SELECT user_id FROM chat_members WHERE chat_id = $1")
            .bind(chat)
            .fetch_all(c)
            .await
    })?;
    tx.tell(audience, seq);
    Ok(seq)
}

/// Appends an event for `user` alone: `ChatRemoved` (they left or were removed), or
/// `Chat` when what changed is their own view of it (archived, read up to).
pub async fn record_for(
    tx: &mut WriteTx,
    chat: ChatId,
    kind: Kind,
    user: UserId,
) -> sqlx::Result<i64> {
    let seq = insert(tx, chat, kind, None, Some(user)).await?;
    tx.tell(vec![user], seq);
    Ok(seq)
}

/// One event per row `select` names, as `(chat_id, message_id or NULL, user_id or NULL)`
/// over the bound JSON array `$1` (`{ids}` in `select`), each told to the members of its
/// chat (and its user). The set-based form of `record`, for changes to many objects at
/// once (the console).
async fn record_many(tx: &mut WriteTx, kind: Kind, select: &str, ids: &[i64]) -> sqlx::Result<()> {
    let recorded: Vec<(i64, ChatId, Option<UserId>)> = on!(&mut *tx, |c, pg| {
        // `WHERE TRUE`: SQLite would read a bare `ON` after the join as an upsert's.
        sqlx::query_as(&format!(
            "INSERT INTO events (chat_id, kind, message_id, user_id, created_at)
             SELECT s.chat_id, $2, s.message_id, s.user_id, $3
             FROM ({select}) s WHERE TRUE
             RETURNING seq, chat_id, user_id",
            select = select.replace("{ids}", IDS.on(pg)),
        ))
        .bind(json_ids(ids))
        .bind(kind)
        .bind(Timestamp::now())
        .fetch_all(c)
        .await
    })?;
    let chats: Vec<ChatId> = recorded
        .iter()
        .filter(|(_, _, user)| user.is_none())
        .map(|(_, chat, _)| *chat)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let members: Vec<(ChatId, UserId)> = on!(&mut *tx, |c, pg| {
        sqlx::query_as(&format!(
            "SELECT chat_id, user_id FROM chat_members WHERE chat_id IN {ids}",
            ids = IDS.on(pg)
        ))
        .bind(json_ids(&chats))
        .fetch_all(c)
        .await
    })?;
    for (seq, chat, user) in recorded {
        let audience = match user {
            Some(user) => vec![user],
            None => members_of(&members, chat),
        };
        tx.tell(audience, seq);
    }
    Ok(())
}

/// The ids of the JSON array bound as `$1` (`json_ids`), as a subquery.
pub(super) const IDS: Sql = Sql {
    sqlite: "(SELECT value FROM json_each($1))",
    postgres: "(SELECT value::bigint FROM json_array_elements_text($1::json))",
};

pub(super) fn json_ids<T: serde::Serialize>(ids: &[T]) -> String {
    serde_json::to_string(ids).unwrap_or_else(|_| "[]".to_owned())
}

/// The members of `chat` among `(chat, member)` pairs: an event's audience.
pub(super) fn members_of(members: &[(ChatId, UserId)], chat: ChatId) -> Vec<UserId> {
    members
        .iter()
        .filter(|(c, _)| *c == chat)
        .map(|(_, user)| *user)
        .collect()
}

/// Messages `ids` are going (deleted in the console): each is a `message_deleted`.
pub async fn messages_deleted(tx: &mut WriteTx, ids: &[i64]) -> sqlx::Result<()> {
    record_many(
        tx,
        Kind::MessageDeleted,
        "SELECT chat_id, id AS message_id, CAST(NULL AS BIGINT) AS user_id FROM messages
         WHERE id IN {ids} AND deleted_at IS NULL",
        ids,
    )
    .await
}

/// Files `ids` are going (deleted in the console): each message that carried one is a
/// `message_edited`, read again without them.
pub async fn files_deleted(tx: &mut WriteTx, ids: &[i64]) -> sqlx::Result<()> {
    record_many(
        tx,
        Kind::MessageEdited,
        "SELECT DISTINCT chat_id, message_id, CAST(NULL AS BIGINT) AS user_id FROM files
         WHERE id IN {ids} AND message_id IS NOT NULL",
        ids,
    )
    .await
}

/// Chats `ids` are going: each member is told they are out of it.
pub async fn chats_deleted(tx: &mut WriteTx, ids: &[i64]) -> sqlx::Result<()> {
    record_many(
        tx,
        Kind::ChatRemoved,
        "SELECT chat_id, CAST(NULL AS BIGINT) AS message_id, user_id FROM chat_members
         WHERE chat_id IN {ids}",
        ids,
    )
    .await
}

/// Users `ids` changed (renamed) or are going: every chat they are in changes for its
/// members, and when they go, so do their messages.
pub async fn users_changed(tx: &mut WriteTx, ids: &[i64], going: bool) -> sqlx::Result<()> {
    if going {
        record_many(
            tx,
            Kind::MessageDeleted,
            "SELECT chat_id, id AS message_id, CAST(NULL AS BIGINT) AS user_id FROM messages
             WHERE sender_id IN {ids} AND deleted_at IS NULL",
            ids,
        )
        .await?;
    }
    record_many(
        tx,
        Kind::Chat,
        "SELECT DISTINCT chat_id, CAST(NULL AS BIGINT) AS message_id, CAST(NULL AS BIGINT) AS user_id FROM chat_members
         WHERE user_id IN {ids}",
        ids,
    )
    .await
}

/// An event as a poll answers it: `{"seq", "type", "chat_id", ...}`.
#[derive(utoipa::ToSchema, Debug, Clone, Serialize)]
pub struct Event {
    pub seq: i64,
    pub chat_id: ChatId,
    #[serde(flatten)]
    pub what: What,
}

#[derive(utoipa::ToSchema, Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum What {
    Message { message: Message },
    MessageEdited { message: Message },
    MessageDeleted { message_id: MessageId },
    Reaction { message: Message },
    Chat { chat: Chat },
    ChatRemoved,
}

/// A new message delivered to the reader, and who else should hear that it was: what
/// the poll needs for delivery receipts (`delivered_up_to`).
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Delivered {
    pub chat: ChatId,
    pub message: MessageId,
    /// The reader's own read mark in that chat.
    pub read_up_to: MessageId,
    /// The chat's members, the reader included.
    pub members: Vec<UserId>,
}

#[derive(sqlx::FromRow)]
struct Row {
    seq: i64,
    kind: Kind,
    chat_id: ChatId,
    message_id: Option<MessageId>,
    m_id: Option<MessageId>,
    m_sender: Option<String>,
    m_sender_display_name: Option<String>,
    m_sender_avatar_url: Option<String>,
    m_body: Option<String>,
    m_created_at: Option<Timestamp>,
    m_edited_at: Option<Timestamp>,
    m_added_by: Option<String>,
    m_reactions: Option<Json<Vec<Reaction>>>,
    m_mentions: Option<Json<Vec<String>>>,
    m_attachments: Option<Json<Vec<super::files::Attachment>>>,
    read_up_to: Option<MessageId>,
    members: Option<Json<Vec<UserId>>>,
}

impl Row {
    fn message(&mut self) -> Option<Message> {
        Some(Message {
            id: self.m_id?,
            chat_id: self.chat_id,
            sender_display_name: self.m_sender_display_name.take()?,
            sender: self.m_sender.take()?,
            sender_avatar_url: self.m_sender_avatar_url.take(),
            body: self.m_body.take()?,
            created_at: self.m_created_at?,
            edited_at: self.m_edited_at,
            added_by: self.m_added_by.take(),
            reactions: self.m_reactions.take().map(|j| j.0).unwrap_or_default(),
            mentions: self.m_mentions.take().map(|j| j.0).unwrap_or_default(),
            attachments: self.m_attachments.take().map(|j| j.0).unwrap_or_default(),
        })
    }
}

/// The events `viewer` may see after `after`, oldest first, at most `limit`: those of the
/// chats they are in (since they joined), and those addressed to them alone. One query,
/// and one more only when chat objects are among them.
pub async fn since(
    db: &Pool,
    viewer: UserId,
    after: i64,
    limit: u32,
) -> sqlx::Result<(Vec<Event>, Vec<Delivered>)> {
    let mut rows: Vec<Row> = on!(db, |c, pg| sqlx::query_as(&format!(
        "SELECT e.seq, e.kind, e.chat_id, e.message_id,
            m.id AS m_id, u.username AS m_sender,
            {display_name} AS m_sender_display_name, {avatar_url} AS m_sender_avatar_url,
            m.body AS m_body,
            m.created_at AS m_created_at, m.edited_at AS m_edited_at,
            m.added_by AS m_added_by,
            CASE WHEN m.id IS NOT NULL THEN {reactions} END AS m_reactions,
            CASE WHEN m.id IS NOT NULL THEN {mentions} END AS m_mentions,
            CASE WHEN m.id IS NOT NULL THEN {attachments} END AS m_attachments,
            CASE WHEN e.kind = 'message' AND m.sender_id <> $1 THEN
                (SELECT last_read_message_id FROM chat_members
                 WHERE chat_id = e.chat_id AND user_id = $1) END AS read_up_to,
            CASE WHEN e.kind = 'message' AND m.sender_id <> $1 THEN
                (SELECT {user_ids} FROM chat_members
                 WHERE chat_id = e.chat_id) END AS members
         FROM events e
         LEFT JOIN messages m ON m.id = e.message_id AND m.deleted_at IS NULL
         LEFT JOIN users u ON u.id = m.sender_id
         WHERE e.seq > $2 AND (e.user_id = $1 OR (e.user_id IS NULL AND EXISTS (
             SELECT 1 FROM chat_members cm
             WHERE cm.chat_id = e.chat_id AND cm.user_id = $1 AND cm.joined_at <= e.created_at)))
         ORDER BY e.seq LIMIT $3",
        display_name = super::profiles::display_name_sql("u"),
        avatar_url = super::profiles::avatar_url_sql("u"),
        reactions = super::messages::REACTIONS.on(pg),
        mentions = super::messages::MENTIONS.on(pg),
        attachments = super::files::ATTACHMENTS.on(pg),
        user_ids = USER_IDS.on(pg),
    ))
    .bind(viewer)
    .bind(after)
    .bind(i64::from(limit))
    .fetch_all(c)
    .await)?;

    let wanted: HashSet<ChatId> = rows
        .iter()
        .filter(|row| row.kind == Kind::Chat)
        .map(|row| row.chat_id)
        .collect();
    let chats: HashMap<ChatId, Chat> = if wanted.is_empty() {
        HashMap::new()
    } else {
        let wanted: Vec<ChatId> = wanted.into_iter().collect();
        chats::for_member_among(db, viewer, &wanted)
            .await?
            .into_iter()
            .map(|chat| (chat.id, chat))
            .collect()
    };

    let mut events = Vec::with_capacity(rows.len());
    let mut delivered = Vec::new();
    for row in &mut rows {
        let what = match (row.kind, row.message()) {
            (Kind::Message, Some(message)) => {
                if let (Some(read_up_to), Some(members)) = (row.read_up_to, row.members.take()) {
                    delivered.push(Delivered {
                        chat: row.chat_id,
                        message: message.id,
                        read_up_to,
                        members: members.0,
                    });
                }
                What::Message { message }
            }
            (Kind::MessageEdited, Some(message)) => What::MessageEdited { message },
            (Kind::Reaction, Some(message)) => What::Reaction { message },
            // Its message is gone since (deleted, or removed in the console): it is now
            // what a deletion says.
            (Kind::Message | Kind::MessageEdited | Kind::Reaction | Kind::MessageDeleted, _) => {
                match row.message_id {
                    Some(message_id) => What::MessageDeleted { message_id },
                    None => continue,
                }
            }
            // Every such event carries the chat as it is now (so several in one answer are
            // alike); none when the reader is no longer in it (a `chat_removed` follows).
            (Kind::Chat, _) => match chats.get(&row.chat_id) {
                Some(chat) => What::Chat { chat: chat.clone() },
                None => continue,
            },
            (Kind::ChatRemoved, _) => What::ChatRemoved,
        };
        events.push(Event {
            seq: row.seq,
            chat_id: row.chat_id,
            what,
        });
    }
    Ok((events, delivered))
}

/// The `user_id`s of the rows aggregated, as a JSON array.
const USER_IDS: Sql = Sql {
    sqlite: "json_group_array(user_id)",
    postgres: "COALESCE(json_agg(user_id), '[]')",
};

/// Where the stream stands: everything up to `floor` has been pruned, `newest` is the
/// last sequence number handed out.
#[derive(Debug, Clone, Copy, Default)]
pub struct Bounds {
    pub floor: i64,
    pub newest: i64,
}

pub async fn bounds(db: &Pool) -> sqlx::Result<Bounds> {
    let (oldest, newest): (Option<i64>, i64) = on!(db, |c, pg| {
        sqlx::query_as(if pg {
            "SELECT (SELECT MIN(seq) FROM events),
                    (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM events_seq_seq)"
        } else {
            "SELECT (SELECT MIN(seq) FROM events),
                    COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0)"
        })
        .fetch_one(c)
        .await
    })?;
    Ok(Bounds {
        // With nothing left, everything handed out so far has been pruned.
        floor: oldest.map_or(newest, |oldest| oldest - 1),
        newest,
    })
}

/// Deletes events older than `before`, a few thousand at a time so that sends never wait
/// long behind it; returns the new floor when anything went.
pub async fn prune(db: &Writer, before: Timestamp) -> sqlx::Result<Option<i64>> {
    let mut floor = None;
    loop {
        let mut tx = db.begin().await?;
        let last: Option<i64> = on!(&mut tx, |c| {
            sqlx::query_scalar(
                "SELECT MAX(seq) FROM (SELECT seq FROM events WHERE created_at < $1
                                       ORDER BY seq LIMIT 5000) AS oldest",
            )
            .bind(before)
            .fetch_one(c)
            .await
        })?;
        let Some(last) = last else {
            tx.rollback().await;
            return Ok(floor);
        };
        on!(&mut tx, |c| {
            sqlx::query("DELETE FROM events WHERE seq <= $1")
                .bind(last)
                .execute(c)
                .await
                .map(drop)
        })?;
        tx.commit().await?;
        floor = Some(last);
    }
}
