//! Chats and their members: each member has their own view (archived, read up to).

use serde::Serialize;
use sqlx::SqlitePool;

use super::{WriteTx, Writer};

use super::messages::Message;
use crate::model::{ChatId, ChatKind, ChatStatus, MessageId, Timestamp, UserId};
use crate::validate::Title;

/// A chat as one member sees it (the API's chat object).
#[derive(Debug, Clone, Serialize)]
pub struct Chat {
    pub id: ChatId,
    pub kind: ChatKind,
    pub title: Option<String>,
    pub status: ChatStatus,
    pub archived: bool,
    /// Usernames of every member, the viewer included.
    pub members: Vec<String>,
    pub last_message: Option<Message>,
    pub unread: i64,
}

#[derive(sqlx::FromRow)]
struct ChatRow {
    id: ChatId,
    kind: ChatKind,
    title: Option<String>,
    status: ChatStatus,
    archived: bool,
    members: String,
    unread: i64,
    last_id: Option<MessageId>,
    last_sender: Option<String>,
    last_body: Option<String>,
    last_created_at: Option<Timestamp>,
    last_edited_at: Option<Timestamp>,
    last_added_by: Option<String>,
}

impl From<ChatRow> for Chat {
    fn from(row: ChatRow) -> Self {
        let last_message = match (
            row.last_id,
            row.last_sender,
            row.last_body,
            row.last_created_at,
        ) {
            (Some(id), Some(sender), Some(body), Some(created_at)) => Some(Message {
                id,
                chat_id: row.id,
                sender,
                body,
                created_at,
                edited_at: row.last_edited_at,
                added_by: row.last_added_by,
            }),
            _ => None,
        };
        Chat {
            id: row.id,
            kind: row.kind,
            title: row.title,
            status: row.status,
            archived: row.archived,
            members: serde_json::from_str(&row.members).unwrap_or_default(),
            last_message,
            unread: row.unread,
        }
    }
}

/// One row per chat of the viewer (`?1`), in one query: members as a JSON array, the
/// unread count and the last message come from correlated subqueries over indexes.
const CHATS: &str = "
    SELECT c.id, c.kind, c.title, c.status, cm.archived,
        (SELECT json_group_array(username) FROM
            (SELECT u.username FROM chat_members mm JOIN users u ON u.id = mm.user_id
             WHERE mm.chat_id = c.id ORDER BY u.username_key)) AS members,
        (SELECT COUNT(*) FROM messages um
         WHERE um.chat_id = c.id AND um.id > cm.last_read_message_id
           AND um.sender_id <> ?1 AND um.deleted_at IS NULL) AS unread,
        lm.id AS last_id, lu.username AS last_sender, lm.body AS last_body,
        lm.created_at AS last_created_at, lm.edited_at AS last_edited_at,
        lm.added_by AS last_added_by
    FROM chat_members cm
    JOIN chats c ON c.id = cm.chat_id
    LEFT JOIN messages lm ON lm.id =
        (SELECT MAX(id) FROM messages WHERE chat_id = c.id AND deleted_at IS NULL)
    LEFT JOIN users lu ON lu.id = lm.sender_id
    WHERE cm.user_id = ?1";

/// Every chat of `viewer`, the most recently active first.
pub async fn for_member(db: &SqlitePool, viewer: UserId) -> sqlx::Result<Vec<Chat>> {
    let rows: Vec<ChatRow> = sqlx::query_as(&format!(
        "{CHATS} ORDER BY COALESCE(c.last_message_at, c.created_at) DESC, c.id DESC"
    ))
    .bind(viewer)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(Chat::from).collect())
}

/// One chat as `viewer` sees it; `None` when it does not exist or they are not a member.
pub async fn one_for_member(
    db: &SqlitePool,
    viewer: UserId,
    chat: ChatId,
) -> sqlx::Result<Option<Chat>> {
    let row: Option<ChatRow> = sqlx::query_as(&format!("{CHATS} AND c.id = ?2"))
        .bind(viewer)
        .bind(chat)
        .fetch_optional(db)
        .await?;
    Ok(row.map(Chat::from))
}

/// `true` when `user` is a member of `chat`: the one membership check every chat route uses.
pub async fn is_member(db: &SqlitePool, chat: ChatId, user: UserId) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM chat_members WHERE chat_id = ? AND user_id = ?)",
    )
    .bind(chat)
    .bind(user)
    .fetch_one(db)
    .await
}

/// Opens the direct chat of two people, creating it if needed. `true` when created.
pub async fn open_direct(db: &Writer, a: UserId, b: UserId) -> sqlx::Result<(ChatId, bool)> {
    let key = format!("{}:{}", a.min(b), a.max(b));
    let now = Timestamp::now();
    let mut tx = db.begin().await?;
    let created: Option<ChatId> = sqlx::query_scalar(
        "INSERT INTO chats (kind, direct_key, created_at) VALUES ('direct', ?, ?)
         ON CONFLICT (direct_key) DO NOTHING RETURNING id",
    )
    .bind(&key)
    .bind(now)
    .fetch_optional(&mut tx)
    .await?;
    let id = match created {
        Some(id) => id,
        None => {
            sqlx::query_scalar("SELECT id FROM chats WHERE direct_key = ?")
                .bind(&key)
                .fetch_one(&mut tx)
                .await?
        }
    };
    // Also heals a direct chat that lost a member (an admin removed them).
    add_members(&mut tx, id, &[a, b], now).await?;
    tx.commit().await?;
    Ok((id, created.is_some()))
}

/// Creates a group chat with `creator` and `members`.
pub async fn create_group(
    db: &Writer,
    title: &Title,
    creator: UserId,
    members: &[UserId],
) -> sqlx::Result<ChatId> {
    let now = Timestamp::now();
    let mut tx = db.begin().await?;
    let id: ChatId = sqlx::query_scalar(
        "INSERT INTO chats (kind, title, created_at) VALUES ('group', ?, ?) RETURNING id",
    )
    .bind(title.as_str())
    .bind(now)
    .fetch_one(&mut tx)
    .await?;
    add_members(&mut tx, id, &[creator], now).await?;
    add_members(&mut tx, id, members, now).await?;
    tx.commit().await?;
    Ok(id)
}

async fn add_members(
    tx: &mut WriteTx,
    chat: ChatId,
    users: &[UserId],
    now: Timestamp,
) -> sqlx::Result<()> {
    for user in users {
        sqlx::query(
            "INSERT INTO chat_members (chat_id, user_id, joined_at) VALUES (?, ?, ?)
             ON CONFLICT DO NOTHING",
        )
        .bind(chat)
        .bind(user)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

/// Archives or restores the chat in `user`'s own view. `false` when not a member.
pub async fn set_archived(
    db: &Writer,
    chat: ChatId,
    user: UserId,
    archived: bool,
) -> sqlx::Result<bool> {
    let done = db
        .execute(
            sqlx::query("UPDATE chat_members SET archived = ? WHERE chat_id = ? AND user_id = ?")
                .bind(archived)
                .bind(chat)
                .bind(user),
        )
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Moves `user`'s read mark forward to `up_to`, never past the chat's newest message and
/// never backwards. `false` when not a member.
pub async fn mark_read(
    db: &Writer,
    chat: ChatId,
    user: UserId,
    up_to: MessageId,
) -> sqlx::Result<bool> {
    let done = db
        .execute(
            sqlx::query(
                "UPDATE chat_members SET last_read_message_id = MAX(last_read_message_id,
                    MIN(?, COALESCE((SELECT MAX(id) FROM messages WHERE chat_id = ?), 0)))
                 WHERE chat_id = ? AND user_id = ?",
            )
            .bind(up_to)
            .bind(chat)
            .bind(chat)
            .bind(user),
        )
        .await?;
    Ok(done.rows_affected() == 1)
}
