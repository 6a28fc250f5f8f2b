//! Files attached to messages: their rows, their bytes in chunks, and who may read them.
//! An upload is written chunk by chunk as it arrives (each chunk its own short write, so
//! sends go on meanwhile) and counts only once `finish` has recorded its checksum.

use serde::{Deserialize, Serialize, Serializer};

use super::backend::{on, Pool, Sql};
use super::{WriteTx, Writer};
use crate::model::{ChatId, FileId, MessageId, Timestamp, UserId};

/// An upload that no message has claimed this long after it began is removed.
pub const UNCLAIMED_KEEP_MS: i64 = 24 * 3_600_000;

/// Bytes per chunk: what a download holds in memory at a time, per request.
pub const CHUNK: usize = 256 * 1024;

/// An attachment as every reader sees it (the API's attachment object).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, sqlx::FromRow)]
pub struct Attachment {
    pub id: FileId,
    pub name: String,
    pub size: i64,
    pub content_type: String,
    /// Set for an image that decoded (which then has a thumbnail), else `None`.
    pub width: Option<i64>,
    pub height: Option<i64>,
}

impl Attachment {
    pub fn url(&self) -> String {
        url(self.id, &self.name)
    }

    pub fn thumbnail_url(&self) -> Option<String> {
        self.width.map(|_| format!("/files/{}/thumbnail", self.id))
    }
}

/// `/files/<id>/<name>`. The name is there for people and downloads; the id alone finds
/// the file. A file named `thumbnail` would read as its thumbnail's address.
pub fn url(id: FileId, name: &str) -> String {
    let name = if name == "thumbnail" { "file" } else { name };
    let name = percent_encoding::utf8_percent_encode(name, SEGMENT);
    format!("/files/{id}/{name}")
}

/// What a path segment cannot hold as it is (WHATWG URL's path percent-encode set, and
/// `/`, `%` and `\\`).
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'/')
    .add(b'%')
    .add(b'\\')
    .add(b'^')
    .add(b'|')
    .add(b'[')
    .add(b']');

/// An attachment as the API shows it: its fields and its addresses.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Attachment)]
struct Shown<'a> {
    id: FileId,
    name: &'a str,
    size: i64,
    content_type: &'a str,
    url: String,
    thumbnail_url: Option<String>,
    width: Option<i64>,
    height: Option<i64>,
}

impl Serialize for Attachment {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Shown {
            id: self.id,
            name: &self.name,
            size: self.size,
            content_type: &self.content_type,
            url: self.url(),
            thumbnail_url: self.thumbnail_url(),
            width: self.width,
            height: self.height,
        }
        .serialize(serializer)
    }
}

/// The API document describes an attachment as it is shown.
impl utoipa::PartialSchema for Attachment {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        <Shown<'static> as utoipa::PartialSchema>::schema()
    }
}

impl utoipa::ToSchema for Attachment {
    fn name() -> std::borrow::Cow<'static, str> {
        <Shown<'static> as utoipa::ToSchema>::name()
    }
}

/// The attachments of message `m`, in the order its send listed them, as a JSON array of the fields of
/// `Attachment` (ordered in a subquery on SQLite, as `messages::REACTIONS` explains).
pub(super) const ATTACHMENTS: Sql = Sql {
    sqlite: "(SELECT json_group_array(json(o)) FROM (
        SELECT json_object('id', f.id, 'name', f.name, 'size', f.size,
            'content_type', f.content_type, 'width', f.width, 'height', f.height) AS o
        FROM files f WHERE f.message_id = m.id ORDER BY f.position, f.id))",
    postgres: "(SELECT COALESCE(json_agg(json_build_object('id', f.id, 'name', f.name,
            'size', f.size, 'content_type', f.content_type, 'width', f.width,
            'height', f.height) ORDER BY f.position, f.id), '[]')
        FROM files f WHERE f.message_id = m.id)",
};

/// "The id is one of the JSON array `$n`", after an id column.
fn among(pg: bool, n: u8) -> String {
    if pg {
        format!("= ANY(ARRAY(SELECT value::bigint FROM json_array_elements_text(${n}::json)))")
    } else {
        format!("IN (SELECT value FROM json_each(${n}))")
    }
}

/// A stored file as the routes that serve it need it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Stored {
    pub id: FileId,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub width: Option<i64>,
}

/// The columns of `Stored`, of a finished file `f`.
const STORED: &str = "SELECT f.id, f.name, f.content_type, f.size, f.sha256, f.width FROM files f
    WHERE f.sha256 IS NOT NULL";

impl Stored {
    /// Served for the browser to show: an image that decoded as one. Anything else is a
    /// download, whatever it claims to be.
    pub fn is_image(&self) -> bool {
        self.width.is_some()
    }
}

/// A new upload's row, before any of its bytes.
pub struct NewFile<'a> {
    pub chat: ChatId,
    pub uploader: UserId,
    pub name: &'a str,
}

/// What is known once every byte is in.
pub struct Finished {
    pub size: i64,
    pub sha256: String,
    pub content_type: String,
    pub image: Option<Image>,
}

/// An image that decoded: its dimensions and its thumbnail.
pub struct Image {
    pub width: u32,
    pub height: u32,
    pub thumbnail: Vec<u8>,
    pub thumbnail_type: &'static str,
}

/// The row of a new upload, not yet readable by anyone.
pub async fn start(tx: &mut WriteTx, new: &NewFile<'_>) -> sqlx::Result<FileId> {
    on!(tx, |c| {
        sqlx::query_scalar(
            "INSERT INTO files (chat_id, uploader_id, name, content_type, size, created_at)
             VALUES ($1, $2, $3, 'application/octet-stream', 0, $4) RETURNING id",
        )
        .bind(new.chat)
        .bind(new.uploader)
        .bind(new.name)
        .bind(Timestamp::now())
        .fetch_one(c)
        .await
    })
}

/// Chunk `n` of file `id`.
pub async fn put_chunk(tx: &mut WriteTx, id: FileId, n: i64, bytes: &[u8]) -> sqlx::Result<()> {
    on!(tx, |c| {
        sqlx::query("INSERT INTO file_chunks (file_id, n, bytes) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(n)
            .bind(bytes)
            .execute(c)
            .await
            .map(drop)
    })
}

/// Marks file `id` complete: from now on its chat's members and its uploader may read it.
pub async fn finish(tx: &mut WriteTx, id: FileId, done: &Finished) -> sqlx::Result<()> {
    let image = done.image.as_ref();
    on!(tx, |c| {
        sqlx::query(
            "UPDATE files SET size = $1, sha256 = $2, content_type = $3, width = $4,
                height = $5, thumbnail = $6, thumbnail_type = $7
             WHERE id = $8",
        )
        .bind(done.size)
        .bind(&done.sha256)
        .bind(&done.content_type)
        .bind(image.map(|i| i64::from(i.width)))
        .bind(image.map(|i| i64::from(i.height)))
        .bind(image.map(|i| i.thumbnail.as_slice()))
        .bind(image.map(|i| i.thumbnail_type))
        .bind(id)
        .execute(c)
        .await
        .map(drop)
    })
}

/// Removes an upload that will not be finished (refused, cut off), with its chunks.
pub async fn discard(db: &Writer, id: FileId) -> sqlx::Result<()> {
    on!(db, |c| {
        sqlx::query("DELETE FROM files WHERE id = $1")
            .bind(id)
            .execute(c)
            .await
            .map(drop)
    })
}

/// Which files `viewer` may read: those of messages in chats they are in, and their own
/// uploads not sent yet (shown beside the composer). Half-uploaded files are never
/// readable: `STORED` and a thumbnail (set as the upload finishes) rule them out.
const READABLE: &str =
    "EXISTS (SELECT 1 FROM chat_members cm WHERE cm.chat_id = f.chat_id AND cm.user_id = $2)
    AND (f.message_id IS NOT NULL OR f.uploader_id = $2)";

/// File `id` if `viewer` may read it.
pub async fn readable(db: &Pool, id: FileId, viewer: UserId) -> sqlx::Result<Option<Stored>> {
    on!(db, |c| {
        sqlx::query_as(&format!("{STORED} AND f.id = $1 AND {READABLE}"))
            .bind(id)
            .bind(viewer)
            .fetch_optional(c)
            .await
    })
}

/// File `id` whoever asks, if it is finished: for the console, whose staff read every
/// chat. Everyone else goes through `readable`.
pub async fn stored(db: &Pool, id: FileId) -> sqlx::Result<Option<Stored>> {
    on!(db, |c| {
        sqlx::query_as(&format!("{STORED} AND f.id = $1"))
            .bind(id)
            .fetch_optional(c)
            .await
    })
}

/// The thumbnail of file `id`, its type and the file's checksum, if `viewer` may read it.
pub async fn thumbnail(
    db: &Pool,
    id: FileId,
    viewer: UserId,
) -> sqlx::Result<Option<(Vec<u8>, String, String)>> {
    on!(db, |c| {
        sqlx::query_as(&format!(
            "SELECT f.thumbnail, f.thumbnail_type, f.sha256 FROM files f
             WHERE f.id = $1 AND f.thumbnail IS NOT NULL AND {READABLE}"
        ))
        .bind(id)
        .bind(viewer)
        .fetch_optional(c)
        .await
    })
}

/// Chunk `n` of file `id` (`None` past its end).
pub async fn chunk(db: &Pool, id: FileId, n: i64) -> sqlx::Result<Option<Vec<u8>>> {
    on!(db, |c| {
        sqlx::query_scalar("SELECT bytes FROM file_chunks WHERE file_id = $1 AND n = $2")
            .bind(id)
            .bind(n)
            .fetch_optional(c)
            .await
    })
}

/// Of `ids`, the finished uploads of `uploader` to `chat` that no message has claimed, in
/// the order of `ids`.
pub async fn claimable(
    tx: &mut WriteTx,
    chat: ChatId,
    uploader: UserId,
    ids: &[FileId],
) -> sqlx::Result<Vec<Attachment>> {
    let listed = serde_json::to_string(ids).unwrap_or_else(|_| "[]".into());
    let mut found: Vec<Attachment> = on!(tx, |c, pg| {
        sqlx::query_as(&format!(
            "SELECT id, name, size, content_type, width, height FROM files
             WHERE id {} AND chat_id = $2 AND uploader_id = $3 AND message_id IS NULL
               AND sha256 IS NOT NULL",
            among(pg, 1)
        ))
        .bind(&listed)
        .bind(chat)
        .bind(uploader)
        .fetch_all(c)
        .await
    })?;
    found.sort_by_key(|file| ids.iter().position(|id| *id == file.id));
    Ok(found)
}

/// Gives files `ids` to `message`, each keeping its place in the list.
pub async fn claim(tx: &mut WriteTx, message: MessageId, ids: &[FileId]) -> sqlx::Result<()> {
    let listed = serde_json::to_string(ids).unwrap_or_else(|_| "[]".into());
    on!(tx, |c, pg| {
        sqlx::query(if pg {
            "UPDATE files SET message_id = $2, position = j.key
             FROM json_array_elements_text($1::json) WITH ORDINALITY AS j(value, key)
             WHERE files.id = j.value::bigint"
        } else {
            "UPDATE files SET message_id = $2,
                position = (SELECT key FROM json_each($1) WHERE value = files.id)
             WHERE id IN (SELECT value FROM json_each($1))"
        })
        .bind(&listed)
        .bind(message)
        .execute(c)
        .await
        .map(drop)
    })
}

/// Whether `message` carries any files.
pub async fn any_of_message(tx: &mut WriteTx, message: MessageId) -> sqlx::Result<bool> {
    on!(tx, |c| {
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM files WHERE message_id = $1)")
            .bind(message)
            .fetch_one(c)
            .await
    })
}

/// Deletes uploads that no message claimed and that started before `before` (finished or
/// cut off), one at a time so that no single write holds the writer long. Returns how
/// many went.
pub async fn remove_unclaimed(db: &Writer, before: Timestamp) -> sqlx::Result<u64> {
    let mut removed = 0;
    loop {
        let gone = on!(db, |c| {
            sqlx::query(
                "DELETE FROM files WHERE id = (SELECT id FROM files
                 WHERE message_id IS NULL AND created_at < $1 ORDER BY created_at LIMIT 1)",
            )
            .bind(before)
            .execute(c)
            .await?
            .rows_affected()
        });
        if gone == 0 {
            return Ok(removed);
        }
        removed += gone;
    }
}

/// Bytes stored in finished files, for the admin index.
pub async fn stored_bytes(db: &Pool) -> sqlx::Result<i64> {
    on!(db, |c| {
        sqlx::query_scalar("SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM files")
            .fetch_one(c)
            .await
    })
}
