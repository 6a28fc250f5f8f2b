//! Full-text search of the messages a person can read. The indexes are kept by the
//! schema itself (SQLite: the `messages_search` FTS5 table and its triggers; PostgreSQL:
//! the generated column `messages.search_words` and its GIN index), in the transaction of
//! every change.

use serde::Serialize;

use super::backend::{on, Pool, Sql};
use super::chats::MEMBERS;
use super::events::{json_ids, IDS};
use super::messages::{columns, Message};
use crate::model::{ChatId, ChatKind, MessageId, UserId};
use crate::search::Query;

/// Where to look: the reader's chats, or one of them, and perhaps one sender's messages.
#[derive(Debug, Clone, Copy)]
pub struct Scope {
    pub reader: UserId,
    pub chat: Option<ChatId>,
    pub sender: Option<UserId>,
}

/// Up to `limit` messages older than `before` that match `query`, newest first. Only the
/// chats `scope.reader` is a member of now, and never a deleted message (its body is
/// empty, so the index no longer holds its words).
pub async fn messages(
    db: &Pool,
    query: &Query,
    scope: Scope,
    before: Option<MessageId>,
    limit: u32,
) -> sqlx::Result<Vec<Message>> {
    // `$1` the query, `$2` before, `$3` the limit, `$4` the reader, then the filters.
    let mut filters = String::new();
    let mut next = 5;
    for (present, column) in [
        (scope.chat.is_some(), "m.chat_id"),
        (scope.sender.is_some(), "m.sender_id"),
    ] {
        if present {
            filters.push_str(&format!(" AND {column} = ${next}"));
            next += 1;
        }
    }
    on!(db, |c, pg| {
        // SQLite: the index is walked newest first (FTS5 keeps the rowid order) and
        // stops once `limit` rows pass the filters; CROSS JOIN keeps it the outer loop.
        // PostgreSQL chooses between the GIN index and walking `messages` backwards.
        let sql = if pg {
            format!(
                "SELECT {} FROM messages m JOIN users u ON u.id = m.sender_id
                 WHERE m.search_words @@ kanect_search_query($1::json)
                   AND m.id < $2 AND m.deleted_at IS NULL
                   AND m.chat_id = ANY(ARRAY(
                       SELECT chat_id FROM chat_members WHERE user_id = $4)){filters}
                 ORDER BY m.id DESC LIMIT $3",
                columns(pg)
            )
        } else {
            format!(
                "SELECT {} FROM messages_search CROSS JOIN messages m
                 JOIN users u ON u.id = m.sender_id
                 WHERE messages_search MATCH $1 AND messages_search.rowid < $2
                   AND m.id = messages_search.rowid
                   AND m.deleted_at IS NULL
                   AND m.chat_id IN (SELECT chat_id FROM chat_members WHERE user_id = $4)
                   {filters}
                 ORDER BY messages_search.rowid DESC LIMIT $3",
                columns(pg)
            )
        };
        let mut q = sqlx::query_as(&sql)
            .bind(match_text(query, pg))
            .bind(before.map_or(i64::MAX, |id| id.0))
            .bind(i64::from(limit))
            .bind(scope.reader);
        if let Some(chat) = scope.chat {
            q = q.bind(chat);
        }
        if let Some(sender) = scope.sender {
            q = q.bind(sender);
        }
        q.fetch_all(c).await
    })
}

/// `query` as this backend's index reads it.
pub fn match_text(query: &Query, pg: bool) -> String {
    if pg {
        query.terms_json()
    } else {
        query.fts5()
    }
}

/// "Message `t` matches the query bound as `?`": the admin console's search of messages.
pub const MATCHES: Sql = Sql {
    sqlite: "t.id IN (SELECT rowid FROM messages_search WHERE messages_search MATCH ?)",
    postgres: "t.search_words @@ kanect_search_query(?::json)",
};

/// A chat as a search result names it.
#[derive(utoipa::ToSchema, Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Brief {
    pub id: ChatId,
    pub kind: ChatKind,
    pub title: Option<String>,
    /// Usernames of every member.
    #[sqlx(json)]
    pub members: Vec<String>,
}

/// The chats `ids`, briefly.
pub async fn chats(db: &Pool, ids: &[ChatId]) -> sqlx::Result<Vec<Brief>> {
    on!(db, |c, pg| {
        sqlx::query_as(&format!(
            "SELECT c.id, c.kind, c.title, {} AS members FROM chats c WHERE c.id IN {}",
            MEMBERS.on(pg),
            IDS.on(pg)
        ))
        .bind(json_ids(ids))
        .fetch_all(c)
        .await
    })
}
