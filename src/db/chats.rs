//! Chats and their members: each member has their own view (archived, notify level, read
//! up to), and
//! every change members see is recorded as an event in its transaction.

use serde::{Deserialize, Serialize};
use sqlx::types::Json;

use super::backend::{on, Pool, Sql};

use super::events::{self, Kind};
use super::files::{Attachment, ATTACHMENTS};
use super::messages::{Message, Reaction, MENTIONS, REACTIONS};
use super::{WriteTx, Writer};
use crate::model::{ChatId, ChatKind, ChatStatus, MessageId, NotifyLevel, Timestamp, UserId};
use crate::validate::Title;

/// A chat as one member sees it (the API's chat object).
#[derive(utoipa::ToSchema, Debug, Clone, Serialize)]
pub struct Chat {
    pub id: ChatId,
    pub kind: ChatKind,
    pub title: Option<String>,
    pub status: ChatStatus,
    pub archived: bool,
    /// What of this chat notifies the viewer (their own level).
    pub notify: NotifyLevel,
    /// Usernames of every member, the viewer included.
    pub members: Vec<String>,
    /// How each member shows: a changed name or avatar reaches open tabs in this object
    /// (a `chat` event in each of the person's chats).
    pub profiles: Vec<MemberProfile>,
    pub last_message: Option<Message>,
    pub unread: i64,
    /// Unread messages that mention the viewer.
    pub mentions: i64,
    /// How far each other member has got.
    pub receipts: Vec<Receipt>,
}

/// A member's shown name and avatar.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberProfile {
    pub username: String,
    pub display_name: String,
    pub avatar_url: Option<String>,
    /// A bot account (shown with a "bot" badge).
    #[serde(default)]
    pub bot: bool,
}

/// A member's read and delivery marks in a chat (message ids).
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    pub username: String,
    pub read_up_to: MessageId,
    pub delivered_up_to: MessageId,
}

#[derive(sqlx::FromRow)]
struct ChatRow {
    id: ChatId,
    kind: ChatKind,
    title: Option<String>,
    status: ChatStatus,
    archived: bool,
    notify: NotifyLevel,
    members: Json<Vec<String>>,
    profiles: Json<Vec<MemberProfile>>,
    unread: i64,
    mentions: i64,
    receipts: Json<Vec<Receipt>>,
    last_id: Option<MessageId>,
    last_sender: Option<String>,
    last_sender_display_name: Option<String>,
    last_sender_avatar_url: Option<String>,
    last_body: Option<String>,
    last_created_at: Option<Timestamp>,
    last_edited_at: Option<Timestamp>,
    last_added_by: Option<String>,
    last_reactions: Option<Json<Vec<Reaction>>>,
    last_mentions: Option<Json<Vec<String>>>,
    last_attachments: Option<Json<Vec<Attachment>>>,
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
                sender_display_name: row
                    .last_sender_display_name
                    .unwrap_or_else(|| sender.clone()),
                sender,
                sender_avatar_url: row.last_sender_avatar_url,
                body,
                created_at,
                edited_at: row.last_edited_at,
                added_by: row.last_added_by,
                reactions: row.last_reactions.map(|j| j.0).unwrap_or_default(),
                mentions: row.last_mentions.map(|j| j.0).unwrap_or_default(),
                attachments: row.last_attachments.map(|j| j.0).unwrap_or_default(),
            }),
            _ => None,
        };
        Chat {
            id: row.id,
            kind: row.kind,
            title: row.title,
            status: row.status,
            archived: row.archived,
            notify: row.notify,
            members: row.members.0,
            profiles: row.profiles.0,
            last_message,
            unread: row.unread,
            mentions: row.mentions,
            receipts: row.receipts.0,
        }
    }
}

/// The other members' receipts in chat `c` for viewer `$1`, as a JSON array.
const RECEIPTS: Sql = Sql {
    sqlite: "(SELECT json_group_array(json(o)) FROM (
                SELECT json_object('username', ou.username,
                    'read_up_to', om.last_read_message_id,
                    'delivered_up_to', MAX(om.delivered_up_to, om.last_read_message_id)) AS o
                FROM chat_members om JOIN users ou ON ou.id = om.user_id
                WHERE om.chat_id = c.id AND om.user_id <> $1 ORDER BY ou.username_key))",
    postgres: "(SELECT COALESCE(json_agg(json_build_object('username', ou.username,
                    'read_up_to', om.last_read_message_id,
                    'delivered_up_to', GREATEST(om.delivered_up_to, om.last_read_message_id))
                    ORDER BY ou.username_key), '[]')
                FROM chat_members om JOIN users ou ON ou.id = om.user_id
                WHERE om.chat_id = c.id AND om.user_id <> $1)",
};

/// The usernames of chat `c`'s members, as a JSON array.
pub(super) const MEMBERS: Sql = Sql {
    sqlite: "(SELECT json_group_array(u.username ORDER BY u.username_key)
             FROM chat_members mm JOIN users u ON u.id = mm.user_id
             WHERE mm.chat_id = c.id)",
    postgres: "(SELECT COALESCE(json_agg(u.username ORDER BY u.username_key), '[]')
             FROM chat_members mm JOIN users u ON u.id = mm.user_id
             WHERE mm.chat_id = c.id)",
};

/// How chat `c`'s members show, as a JSON array of [`MemberProfile`]s.
fn profiles_sql(pg: bool) -> String {
    let object = if pg {
        "json_build_object"
    } else {
        "json_object"
    };
    let array = if pg {
        "COALESCE(json_agg"
    } else {
        "(json_group_array"
    };
    let empty = if pg { ", '[]')" } else { ")" };
    // SQLite keeps a flag as 0 or 1: `json('true')` makes it a JSON boolean.
    let bot = if pg {
        "u.is_bot"
    } else {
        "json(CASE WHEN u.is_bot THEN 'true' ELSE 'false' END)"
    };
    format!(
        "(SELECT {array}({object}('username', u.username, 'display_name', {name},
                 'avatar_url', {url}, 'bot', {bot})){empty}
          FROM chat_members mm JOIN users u ON u.id = mm.user_id WHERE mm.chat_id = c.id)",
        name = super::profiles::display_name_sql("u"),
        url = super::profiles::avatar_url_sql("u"),
    )
}

/// One row per chat of the viewer (`$1`), in one query: members and receipts as JSON
/// arrays, the unread and mention counts and the last message from correlated subqueries
/// over indexes.
fn chats_sql(pg: bool) -> String {
    let last_reactions = REACTIONS.on(pg).replace("m.id", "lm.id");
    let last_mentions = MENTIONS.on(pg).replace("m.id", "lm.id");
    let last_attachments = ATTACHMENTS.on(pg).replace("m.id", "lm.id");
    format!(
        "SELECT c.id, c.kind, c.title, c.status, cm.archived, cm.notify,
            {members} AS members, {profiles} AS profiles,
            (SELECT COUNT(*) FROM messages um
             WHERE um.chat_id = c.id AND um.id > cm.last_read_message_id
               AND um.sender_id <> $1 AND um.deleted_at IS NULL) AS unread,
            (SELECT COUNT(*) FROM mentions x JOIN messages xm ON xm.id = x.message_id
             WHERE x.user_id = $1 AND xm.chat_id = c.id
               AND xm.id > cm.last_read_message_id AND xm.deleted_at IS NULL) AS mentions,
            {receipts} AS receipts,
            lm.id AS last_id, lu.username AS last_sender,
            {last_name} AS last_sender_display_name, {last_avatar} AS last_sender_avatar_url,
            lm.body AS last_body,
            lm.created_at AS last_created_at, lm.edited_at AS last_edited_at,
            lm.added_by AS last_added_by,
            CASE WHEN lm.id IS NOT NULL THEN {last_reactions} END AS last_reactions,
            CASE WHEN lm.id IS NOT NULL THEN {last_mentions} END AS last_mentions,
            CASE WHEN lm.id IS NOT NULL THEN {last_attachments} END AS last_attachments
        FROM chat_members cm
        JOIN chats c ON c.id = cm.chat_id
        LEFT JOIN messages lm ON lm.id =
            (SELECT MAX(id) FROM messages WHERE chat_id = c.id AND deleted_at IS NULL)
        LEFT JOIN users lu ON lu.id = lm.sender_id
        WHERE cm.user_id = $1",
        members = MEMBERS.on(pg),
        profiles = profiles_sql(pg),
        last_name = super::profiles::display_name_sql("lu"),
        last_avatar = super::profiles::avatar_url_sql("lu"),
        receipts = RECEIPTS.on(pg),
    )
}

/// Every chat of `viewer`, the most recently active first.
pub async fn for_member(db: &Pool, viewer: UserId) -> sqlx::Result<Vec<Chat>> {
    let rows: Vec<ChatRow> = on!(db, |c, pg| sqlx::query_as(&format!(
        "{} ORDER BY COALESCE(c.last_message_at, c.created_at) DESC, c.id DESC",
        chats_sql(pg)
    ))
    .bind(viewer)
    .fetch_all(c)
    .await)?;
    Ok(rows.into_iter().map(Chat::from).collect())
}

/// The chats among `ids` that `viewer` is in, as they see them.
pub async fn for_member_among(
    db: &Pool,
    viewer: UserId,
    ids: &[ChatId],
) -> sqlx::Result<Vec<Chat>> {
    let rows: Vec<ChatRow> = on!(db, |c, pg| sqlx::query_as(&format!(
        "{} AND c.id IN {}",
        chats_sql(pg),
        super::events::IDS.on(pg).replace("$1", "$2")
    ))
    .bind(viewer)
    .bind(serde_json::to_string(ids).unwrap_or_else(|_| "[]".to_owned()))
    .fetch_all(c)
    .await)?;
    Ok(rows.into_iter().map(Chat::from).collect())
}

/// One chat as `viewer` sees it; `None` when it does not exist or they are not a member.
pub async fn one_for_member(db: &Pool, viewer: UserId, chat: ChatId) -> sqlx::Result<Option<Chat>> {
    let row: Option<ChatRow> = on!(db, |c, pg| sqlx::query_as(&format!(
        "{} AND c.id = $2",
        chats_sql(pg)
    ))
    .bind(viewer)
    .bind(chat)
    .fetch_optional(c)
    .await)?;
    Ok(row.map(Chat::from))
}

/// `true` when `user` is a member of `chat`: the one membership check every chat route uses.
pub async fn is_member(db: &Pool, chat: ChatId, user: UserId) -> sqlx::Result<bool> {
    on!(db, |c| sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM chat_members WHERE chat_id = $1 AND user_id = $2)",
    )
    .bind(chat)
    .bind(user)
    .fetch_one(c)
    .await)
}

/// The status of `chat` if `user` is one of its members.
pub async fn status_for_member(
    db: &Pool,
    chat: ChatId,
    user: UserId,
) -> sqlx::Result<Option<ChatStatus>> {
    on!(db, |c| {
        sqlx::query_scalar(
            "SELECT c.status FROM chats c JOIN chat_members cm ON cm.chat_id = c.id
             WHERE c.id = $1 AND cm.user_id = $2",
        )
        .bind(chat)
        .bind(user)
        .fetch_optional(c)
        .await
    })
}

/// Opens the direct chat of two people, creating it if needed. `true` when created.
pub async fn open_direct(db: &Writer, a: UserId, b: UserId) -> sqlx::Result<(ChatId, bool)> {
    let key = format!("{}:{}", a.min(b), a.max(b));
    let now = Timestamp::now();
    let mut tx = db.begin().await?;
    let created: Option<ChatId> = on!(&mut tx, |c| sqlx::query_scalar(
        "INSERT INTO chats (kind, direct_key, created_at) VALUES ('direct', $1, $2)
         ON CONFLICT (direct_key) DO NOTHING RETURNING id",
    )
    .bind(&key)
    .bind(now)
    .fetch_optional(c)
    .await)?;
    let id = match created {
        Some(id) => id,
        None => on!(&mut tx, |c| sqlx::query_scalar(
            "SELECT id FROM chats WHERE direct_key = $1"
        )
        .bind(&key)
        .fetch_one(c)
        .await)?,
    };
    // Also heals a direct chat that lost a member (an admin removed them).
    let joined = add_members(&mut tx, id, &[a, b], now).await?;
    if joined > 0 {
        events::record(&mut tx, id, Kind::Chat, None).await?;
    }
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
    let id: ChatId = on!(&mut tx, |c| sqlx::query_scalar(
        "INSERT INTO chats (kind, title, created_at) VALUES ('group', $1, $2) RETURNING id",
    )
    .bind(title.as_str())
    .bind(now)
    .fetch_one(c)
    .await)?;
    add_members(&mut tx, id, &[creator], now).await?;
    add_members(&mut tx, id, members, now).await?;
    events::record(&mut tx, id, Kind::Chat, None).await?;
    tx.commit().await?;
    Ok(id)
}

/// Adds those of `users` who are not in `chat` yet; how many joined.
pub async fn add_members(
    tx: &mut WriteTx,
    chat: ChatId,
    users: &[UserId],
    now: Timestamp,
) -> sqlx::Result<u64> {
    let mut joined = 0;
    for user in users {
        joined += on!(&mut *tx, |c| sqlx::query(
            "INSERT INTO chat_members (chat_id, user_id, joined_at) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
        )
        .bind(chat)
        .bind(user)
        .bind(now)
        .execute(c)
        .await
        .map(|done| done.rows_affected()))?;
    }
    Ok(joined)
}

/// A member's own view of a chat: what `PATCH /api/chats/<id>` may change for them alone.
#[derive(Debug, Clone, Copy, Default)]
pub struct OwnView {
    pub archived: Option<bool>,
    pub notify: Option<NotifyLevel>,
}

/// Changes `user`'s own view of the chat (archived, notify level), in one event that their
/// other tabs see. `false` when not a member.
pub async fn set_own_view(
    db: &Writer,
    chat: ChatId,
    user: UserId,
    view: OwnView,
) -> sqlx::Result<bool> {
    let mut tx = db.begin().await?;
    // COALESCE keeps what the change leaves out; both are bound with their column's type.
    let done = on!(&mut tx, |c| {
        sqlx::query(
        "UPDATE chat_members SET archived = COALESCE($1, archived), notify = COALESCE($2, notify)
         WHERE chat_id = $3 AND user_id = $4"
    )
    .bind(view.archived)
    .bind(view.notify)
    .bind(chat)
    .bind(user)
    .execute(c)
    .await
    .map(|done| done.rows_affected())
    })?;
    if done == 0 {
        tx.rollback().await;
        return Ok(false);
    }
    // The person's other tabs show it too.
    events::record_for(&mut tx, chat, Kind::Chat, user).await?;
    tx.commit().await?;
    Ok(true)
}

/// Where a member's read mark stands after `mark_read`, and who else is in the chat.
#[derive(Debug, Clone)]
pub struct Read {
    pub up_to: MessageId,
    pub moved: bool,
    pub others: Vec<UserId>,
}

/// Moves `user`'s read mark forward to `up_to`, never past the chat's newest message and
/// never backwards. `None` when not a member.
pub async fn mark_read(
    db: &Writer,
    chat: ChatId,
    user: UserId,
    up_to: MessageId,
) -> sqlx::Result<Option<Read>> {
    let mut tx = db.begin().await?;
    let before: Option<MessageId> = on!(&mut tx, |c| sqlx::query_scalar(
        "SELECT last_read_message_id FROM chat_members WHERE chat_id = $1 AND user_id = $2",
    )
    .bind(chat)
    .bind(user)
    .fetch_optional(c)
    .await)?;
    let Some(before) = before else {
        tx.rollback().await;
        return Ok(None);
    };
    let newest: MessageId = on!(&mut tx, |c| sqlx::query_scalar(
        "SELECT COALESCE(MAX(id), 0) FROM messages WHERE chat_id = $1"
    )
    .bind(chat)
    .fetch_one(c)
    .await)?;
    let after = before.max(up_to.min(newest));
    let others: Vec<UserId> = on!(&mut tx, |c| sqlx::query_scalar(
        "SELECT user_id FROM chat_members WHERE chat_id = $1 AND user_id <> $2"
    )
    .bind(chat)
    .bind(user)
    .fetch_all(c)
    .await)?;
    if after == before {
        tx.rollback().await;
        return Ok(Some(Read {
            up_to: after,
            moved: false,
            others,
        }));
    }
    on!(&mut tx, |c| sqlx::query(
        "UPDATE chat_members SET last_read_message_id = $1 WHERE chat_id = $2 AND user_id = $3",
    )
    .bind(after)
    .bind(chat)
    .bind(user)
    .execute(c)
    .await
    .map(|done| done.rows_affected()))?;
    // The person's other tabs clear their unread count too.
    events::record_for(&mut tx, chat, Kind::Chat, user).await?;
    tx.commit().await?;
    Ok(Some(Read {
        up_to: after,
        moved: true,
        others,
    }))
}

/// The members of `chat` with their names (the console's inline).
pub async fn members_named(tx: &mut WriteTx, chat: ChatId) -> sqlx::Result<Vec<(UserId, String)>> {
    on!(&mut *tx, |c| sqlx::query_as(
        "SELECT u.id, u.username FROM chat_members m JOIN users u ON u.id = m.user_id
         WHERE m.chat_id = $1",
    )
    .bind(chat)
    .fetch_all(c)
    .await)
}

/// Each member's name, joining time, read mark and archive flag, by name.
pub async fn member_rows(db: &Pool, chat: ChatId) -> sqlx::Result<Vec<(String, i64, i64, bool)>> {
    on!(db, |c| sqlx::query_as(
        "SELECT u.username, m.joined_at, m.last_read_message_id, m.archived
         FROM chat_members m JOIN users u ON u.id = m.user_id
         WHERE m.chat_id = $1 ORDER BY u.username_key",
    )
    .bind(chat)
    .fetch_all(c)
    .await)
}

pub async fn kind_of(db: &Pool, chat: ChatId) -> sqlx::Result<Option<ChatKind>> {
    on!(db, |c| sqlx::query_scalar(
        "SELECT kind FROM chats WHERE id = $1"
    )
    .bind(chat)
    .fetch_optional(c)
    .await)
}

/// Takes `user` out of `chat`, nothing else (the console records what goes with it).
pub async fn drop_member(tx: &mut WriteTx, chat: ChatId, user: UserId) -> sqlx::Result<()> {
    on!(&mut *tx, |c| sqlx::query(
        "DELETE FROM chat_members WHERE chat_id = $1 AND user_id = $2"
    )
    .bind(chat)
    .bind(user)
    .execute(c)
    .await
    .map(|done| done.rows_affected()))
    .map(drop)
}

/// The members of `chat` (empty when there is no such chat).
pub async fn member_ids(db: &Pool, chat: ChatId) -> sqlx::Result<Vec<UserId>> {
    on!(db, |c| sqlx::query_scalar(
        "SELECT user_id FROM chat_members WHERE chat_id = $1"
    )
    .bind(chat)
    .fetch_all(c)
    .await)
}

/// Why a change to a chat was refused.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    /// No such chat, or the person is not in it (or, for a removal, the one removed is not).
    #[error("no such chat or member")]
    NotFound,
    #[error("a direct chat has no title or member list to change")]
    Direct,
    #[error("the chat is closed")]
    Closed,
    #[error("already a member")]
    AlreadyMember,
    #[error("only staff remove other people")]
    NotAllowed,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// The kind and status of `chat`, if `actor` is in it.
async fn reach(
    tx: &mut WriteTx,
    chat: ChatId,
    actor: UserId,
) -> Result<(ChatKind, ChatStatus), ChangeError> {
    let found: Option<(ChatKind, ChatStatus)> = on!(&mut *tx, |c| sqlx::query_as(
        "SELECT c.kind, c.status FROM chats c JOIN chat_members cm ON cm.chat_id = c.id
         WHERE c.id = $1 AND cm.user_id = $2",
    )
    .bind(chat)
    .bind(actor)
    .fetch_optional(c)
    .await)?;
    found.ok_or(ChangeError::NotFound)
}

/// An open group that `actor` is in, ready to change.
async fn open_group(tx: &mut WriteTx, chat: ChatId, actor: UserId) -> Result<(), ChangeError> {
    match reach(tx, chat, actor).await? {
        (ChatKind::Direct, _) => Err(ChangeError::Direct),
        (_, ChatStatus::Closed) => Err(ChangeError::Closed),
        _ => Ok(()),
    }
}

/// Renames a group; any member may.
pub async fn rename(
    db: &Writer,
    chat: ChatId,
    actor: UserId,
    title: &Title,
) -> Result<(), ChangeError> {
    let mut tx = db.begin().await?;
    open_group(&mut tx, chat, actor).await?;
    on!(&mut tx, |c| sqlx::query(
        "UPDATE chats SET title = $1 WHERE id = $2"
    )
    .bind(title.as_str())
    .bind(chat)
    .execute(c)
    .await
    .map(|done| done.rows_affected()))?;
    events::record(&mut tx, chat, Kind::Chat, None).await?;
    tx.commit().await?;
    Ok(())
}

/// Adds `user` to a group; any member of an open group may.
pub async fn add_member(
    db: &Writer,
    chat: ChatId,
    actor: UserId,
    user: UserId,
) -> Result<(), ChangeError> {
    let mut tx = db.begin().await?;
    open_group(&mut tx, chat, actor).await?;
    if add_members(&mut tx, chat, &[user], Timestamp::now()).await? == 0 {
        return Err(ChangeError::AlreadyMember);
    }
    events::record(&mut tx, chat, Kind::Chat, None).await?;
    tx.commit().await?;
    Ok(())
}

/// Takes `user` out of a group: themselves (leaving), or anyone when `staff` removes them.
pub async fn remove_member(
    db: &Writer,
    chat: ChatId,
    actor: UserId,
    user: UserId,
    staff: bool,
) -> Result<(), ChangeError> {
    let mut tx = db.begin().await?;
    if reach(&mut tx, chat, actor).await?.0 == ChatKind::Direct {
        return Err(ChangeError::Direct);
    }
    if user != actor && !staff {
        return Err(ChangeError::NotAllowed);
    }
    let gone = on!(&mut tx, |c| sqlx::query(
        "DELETE FROM chat_members WHERE chat_id = $1 AND user_id = $2"
    )
    .bind(chat)
    .bind(user)
    .execute(c)
    .await
    .map(|done| done.rows_affected()))?;
    if gone == 0 {
        return Err(ChangeError::NotFound);
    }
    events::record(&mut tx, chat, Kind::Chat, None).await?;
    events::record_for(&mut tx, chat, Kind::ChatRemoved, user).await?;
    tx.commit().await?;
    Ok(())
}

/// Writes delivery marks kept in memory, all in one statement, never lowering one.
pub async fn store_delivered(
    db: &Writer,
    marks: &[(ChatId, UserId, MessageId)],
) -> sqlx::Result<()> {
    if marks.is_empty() {
        return Ok(());
    }
    let marks = serde_json::to_string(marks).unwrap_or_else(|_| "[]".to_owned());
    on!(db, |c, pg| {
        sqlx::query(if pg {
            "UPDATE chat_members
             SET delivered_up_to = GREATEST(delivered_up_to, (j.value ->> 2)::bigint)
             FROM json_array_elements($1::json) j
             WHERE chat_members.chat_id = (j.value ->> 0)::bigint
               AND chat_members.user_id = (j.value ->> 1)::bigint"
        } else {
            "UPDATE chat_members SET delivered_up_to = MAX(delivered_up_to, j.value ->> 2)
             FROM json_each($1) j
             WHERE chat_members.chat_id = j.value ->> 0 AND chat_members.user_id = j.value ->> 1"
        })
        .bind(marks)
        .execute(c)
        .await
        .map(drop)
    })
}
