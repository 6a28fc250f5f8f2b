//! What `kanect export` and "Download my data" read: a team's rows, or those of the chats
//! one person is a member of, all through one connection inside one read-only
//! transaction, so the archive is one consistent snapshot while the server goes on
//! writing. Password hashes, sessions and preferences are never selected.

use sqlx::{Connection, Postgres, Sqlite, Transaction};

use super::backend::{on, Conn, ConnRef, On};
use crate::model::{ChatId, ChatKind, ChatStatus, FileId, MessageId, Role, Timestamp, UserId};

/// Whose data: the whole team, or the chats one person is a member of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Team,
    Member(UserId),
}

impl Scope {
    /// The user id bound as `$1` of every query; 0 (no one) means the whole team.
    fn bound(self) -> i64 {
        match self {
            Scope::Team => 0,
            Scope::Member(id) => id.0,
        }
    }
}

/// "Chat `column` is in scope", with the scope's user id as `$1`.
fn in_scope(column: &str) -> String {
    format!(
        "($1 = 0 OR {column} IN (SELECT cm.chat_id FROM chat_members cm WHERE cm.user_id = $1))"
    )
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PersonRow {
    pub id: UserId,
    pub username: String,
    pub display_name: Option<String>,
    pub email: String,
    pub role: Role,
    pub is_active: bool,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ChatRow {
    pub id: ChatId,
    pub kind: ChatKind,
    pub title: Option<String>,
    pub status: ChatStatus,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MemberRow {
    pub chat_id: ChatId,
    pub user_id: UserId,
    pub joined_at: Timestamp,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MessageRow {
    pub id: MessageId,
    pub chat_id: ChatId,
    pub sender_id: UserId,
    pub body: String,
    pub created_at: Timestamp,
    pub edited_at: Option<Timestamp>,
    pub deleted_at: Option<Timestamp>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReactionRow {
    pub message_id: MessageId,
    pub emoji: String,
    pub user_id: UserId,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FileRow {
    pub id: FileId,
    pub message_id: MessageId,
    pub uploader_id: UserId,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub created_at: Timestamp,
}

/// Every table an archive reads, in scope.
pub struct Rows {
    pub people: Vec<PersonRow>,
    pub chats: Vec<ChatRow>,
    pub members: Vec<MemberRow>,
    pub messages: Vec<MessageRow>,
    pub reactions: Vec<ReactionRow>,
    pub files: Vec<FileRow>,
}

/// One read-only transaction on one connection: every read through it sees the database
/// as it was at the first. A `Snapshot` dropped early (an error, a cancelled download)
/// rolls back as its connection goes back to the pool.
pub struct Snapshot<'c>(On<Transaction<'c, Sqlite>, Transaction<'c, Postgres>>);

impl<'c> Snapshot<'c> {
    pub async fn begin(conn: &'c mut Conn) -> sqlx::Result<Snapshot<'c>> {
        Ok(Snapshot(match conn {
            // Deferred: SQLite takes the snapshot at the first read and holds it.
            On::Sqlite(c) => On::Sqlite(Connection::begin(&mut **c).await?),
            On::Postgres(c) => {
                let mut tx = Connection::begin(&mut **c).await?;
                sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .execute(&mut *tx)
                    .await?;
                On::Postgres(tx)
            }
        }))
    }

    fn conn(&mut self) -> ConnRef<'_> {
        match &mut self.0 {
            On::Sqlite(tx) => On::Sqlite(&mut **tx),
            On::Postgres(tx) => On::Postgres(&mut **tx),
        }
    }

    /// Ends the snapshot (it wrote nothing).
    pub async fn end(self) -> sqlx::Result<()> {
        match self.0 {
            On::Sqlite(tx) => tx.rollback().await,
            On::Postgres(tx) => tx.rollback().await,
        }
    }

    pub async fn rows(&mut self, scope: Scope) -> sqlx::Result<Rows> {
        rows(self.conn(), scope).await
    }

    /// Chunk `n` of file `id` (`None` past its end).
    pub async fn chunk(&mut self, id: FileId, n: i64) -> sqlx::Result<Option<Vec<u8>>> {
        on!(self.conn(), |c| {
            sqlx::query_scalar("SELECT bytes FROM file_chunks WHERE file_id = $1 AND n = $2")
                .bind(id)
                .bind(n)
                .fetch_optional(c)
                .await
        })
    }
}

/// The rows of `scope`, oldest first. People are everyone on the team, or, for one
/// member, the people of their chats (members, senders and those who reacted).
async fn rows(conn: ConnRef<'_>, scope: Scope) -> sqlx::Result<Rows> {
    let who = scope.bound();
    let people_in_scope = format!(
        "($1 = 0 OR u.id = $1
          OR u.id IN (SELECT m.user_id FROM chat_members m WHERE {members})
          OR u.id IN (SELECT s.sender_id FROM messages s WHERE {senders})
          OR u.id IN (SELECT r.user_id FROM reactions r JOIN messages rm ON rm.id = r.message_id
                      WHERE {reactors}))",
        members = in_scope("m.chat_id"),
        senders = in_scope("s.chat_id"),
        reactors = in_scope("rm.chat_id"),
    );
    on!(conn, |c| {
        let people = sqlx::query_as(&format!(
            "SELECT u.id, u.username, u.display_name, u.email, u.role, u.is_active, u.created_at
             FROM users u WHERE {people_in_scope} ORDER BY u.id"
        ))
        .bind(who)
        .fetch_all(&mut *c)
        .await?;
        let chats = sqlx::query_as(&format!(
            "SELECT c.id, c.kind, c.title, c.status, c.created_at FROM chats c
             WHERE {} ORDER BY c.id",
            in_scope("c.id")
        ))
        .bind(who)
        .fetch_all(&mut *c)
        .await?;
        let members = sqlx::query_as(&format!(
            "SELECT m.chat_id, m.user_id, m.joined_at FROM chat_members m
             WHERE {} ORDER BY m.chat_id, m.joined_at, m.user_id",
            in_scope("m.chat_id")
        ))
        .bind(who)
        .fetch_all(&mut *c)
        .await?;
        let messages = sqlx::query_as(&format!(
            "SELECT m.id, m.chat_id, m.sender_id, m.body, m.created_at, m.edited_at, m.deleted_at
             FROM messages m WHERE {} ORDER BY m.id",
            in_scope("m.chat_id")
        ))
        .bind(who)
        .fetch_all(&mut *c)
        .await?;
        let reactions = sqlx::query_as(&format!(
            "SELECT r.message_id, r.emoji, r.user_id FROM reactions r
             JOIN messages m ON m.id = r.message_id
             WHERE {} ORDER BY r.message_id, r.created_at, r.user_id",
            in_scope("m.chat_id")
        ))
        .bind(who)
        .fetch_all(&mut *c)
        .await?;
        // Finished files that a message carries: an upload no message claimed is not
        // part of any conversation yet.
        let files = sqlx::query_as(&format!(
            "SELECT f.id, f.message_id, f.uploader_id, f.name, f.content_type, f.size,
                    f.sha256, f.width, f.height, f.created_at
             FROM files f
             WHERE f.message_id IS NOT NULL AND f.sha256 IS NOT NULL AND {}
             ORDER BY f.message_id, f.position, f.id",
            in_scope("f.chat_id")
        ))
        .bind(who)
        .fetch_all(&mut *c)
        .await?;
        Ok(Rows {
            people,
            chats,
            members,
            messages,
            reactions,
            files,
        })
    })
}
