//! The console's description of files, view-only but for deleting, and its download route:
//! staff read every chat in the console, and `/files/` serves a chat's members only.

use rocket::{get, routes, Route};

use crate::admin::describe::*;
use crate::admin::guard::Staff;
use crate::admin::object_id;
use crate::admin::rules::Rules;
use crate::admin::value::{Value, Values};
use crate::auth::User;
use crate::db::events;
use crate::db::{files, Db, WriteTx};
use crate::error::{Error, Result};
use crate::files::serve::{Conditions, Served};
use crate::model::FileId;

pub fn routes() -> Vec<Route> {
    routes![download]
}

/// The chat, named as the chats model names it (and so as the chat filter lists it).
const CHAT: &str = "(SELECT COALESCE(c.title, (SELECT string_agg(u.username, ' & ')
        FROM chat_members m JOIN users u ON u.id = m.user_id WHERE m.chat_id = c.id),
        'Chat ' || c.id) FROM chats c WHERE c.id = t.chat_id)";
const UPLOADER: &str = "(SELECT username FROM users WHERE id = t.uploader_id)";
/// The type filter's groups, from the type the bytes were judged to be.
const GROUP: &str = "CASE WHEN substr(t.content_type, 1, 6) = 'image/' THEN 'image'
    WHEN t.content_type = 'application/pdf' THEN 'pdf'
    WHEN substr(t.content_type, 1, 5) = 'text/' THEN 'text'
    ELSE 'other' END";
/// The message that carries the file, named as the messages model names it.
const MESSAGE: &str = "CASE WHEN t.sha256 IS NULL THEN 'uploading'
    WHEN t.message_id IS NULL THEN 'not sent'
    ELSE (SELECT '#' || m.id || ': ' || substr(m.body, 1, 40) FROM messages m
          WHERE m.id = t.message_id) END";

pub static FILES: Model = Model {
    slug: "files",
    name: "file",
    plural: "files",
    table: "files",
    from: "files t",
    repr: "t.name",
    columns: &[
        Column::new("name", "Name", "t.name", Cell::Text),
        Column::new("content_type", "Type", "t.content_type", Cell::Text),
        Column::new("size", "Size", "t.size", Cell::Bytes),
        Column::new("chat", "Chat", CHAT, Cell::Text),
        Column::new("uploader", "Uploader", UPLOADER, Cell::Text),
        Column::new("created_at", "Uploaded", "t.created_at", Cell::Time),
        Column::new("message", "Message", MESSAGE, Cell::Text),
    ],
    search: &[Search::Text("t.name")],
    filters: &[
        Filter::new(
            "type",
            "type",
            GROUP,
            FilterKind::Choices(&[
                ("image", "Images"),
                ("pdf", "PDF"),
                ("text", "Text"),
                ("other", "Other"),
            ]),
        ),
        Filter::new("chat_id", "chat", "t.chat_id", FilterKind::Related("chats"))
            .aliases(&["chat"]),
        Filter::new("created_at", "date", "t.created_at", FilterKind::Date).aliases(&["date"]),
    ],
    ordering: "-created_at",
    fields: &[
        Field::new("name", "Name", Kind::text(200))
            .read_only()
            .help("As it was uploaded, made safe for a file system."),
        Field::new("content_type", "Type", Kind::text(200))
            .read_only()
            .help("Judged from the bytes, never from the name or what the browser said."),
        Field::new("size", "Size", Kind::Bytes).read_only(),
        Field::new("width", "Width", Kind::Number)
            .read_only()
            .help("Images that decoded only; they also have a thumbnail."),
        Field::new("height", "Height", Kind::Number).read_only(),
        Field::new("chat_id", "Chat", Kind::Related("chats")).read_only(),
        Field::new("uploader_id", "Uploader", Kind::Related("users")).read_only(),
        Field::new("message_id", "Message", Kind::Related("messages"))
            .read_only()
            .when_empty("Not sent")
            .help("An upload that no message carries is removed a day after it began."),
        Field::new("created_at", "Uploaded", Kind::Time).read_only(),
        Field::new("sha256", "SHA-256", Kind::text(64))
            .read_only()
            .when_empty("Still uploading"),
    ],
    related: &[],
    actions: &[Action::DeleteSelected],
    rules: &FileRules,
};

/// Files are what people uploaded: the console looks at them and deletes them, nothing
/// else.
struct FileRules;

#[rocket::async_trait]
impl Rules for FileRules {
    fn can_add(&self, _: &User) -> bool {
        false
    }

    fn can_change(&self, _: &User, _: &Values) -> bool {
        false
    }

    /// The file itself, once all of it is in.
    fn links(&self, id: i64, object: &Values) -> Vec<(&'static str, String)> {
        if object.get("sha256").is_none_or(|v| *v == Value::Null) {
            return Vec::new();
        }
        let image = object.get("width").is_some_and(|v| *v != Value::Null);
        let label = if image { "View image" } else { "Download" };
        vec![(label, format!("/admin/files/{id}/download/"))]
    }

    /// The messages that carried them change: open tabs read them again, without.
    async fn deleting(&self, tx: &mut WriteTx, ids: &[i64]) -> Result<(), Error> {
        Ok(events::files_deleted(tx, ids).await?)
    }
}

/// A file's bytes for staff, whichever chat it is in, served as `/files/` serves them
/// (type, sandbox policy, ETag, ranges).
#[get("/admin/files/<id>/download")]
async fn download(id: &str, _staff: Staff, db: &Db, asked: Conditions) -> Result<Served> {
    let id = FileId(object_id(id)?);
    let stored = files::stored(&db.read, id).await?.ok_or(Error::NotFound)?;
    Ok(Served::file(&asked, &db.read, stored))
}
