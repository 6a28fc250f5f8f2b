//! Exports: `kanect export DIR` (the whole team, into a folder) and "Download my data" on
//! `/account` (one person's chats, as a zip). Both write the same archive through a
//! [`Sink`]: `kanect-export.json` (everything, for programs), `index.html` (every chat on
//! one page, readable offline from the file system) with its `archive.css`, and the
//! files' bytes under `files/<id>/<safe name>`, which the page shows or links by relative
//! address.

pub mod download;
mod html;
mod sink;

use std::collections::HashMap;

use serde::Serialize;

use crate::db::export::{Rows, Scope, Snapshot};
use crate::db::Conn;
use crate::model::{ChatId, ChatKind, ChatStatus, FileId, MessageId, Role, Timestamp, UserId};

pub use sink::{DirSink, Sink, ZipSink};

/// The archive's JSON, `kanect-export.json`.
#[derive(Debug, Serialize)]
pub struct Archive {
    /// Always `kanect-export`, so a program can tell what it was given.
    pub format: &'static str,
    /// Bumped when a field changes meaning or goes away.
    pub version: u32,
    pub exported_at: Timestamp,
    /// The person a "Download my data" archive is for; `None` for a team export.
    pub exported_for: Option<String>,
    pub people: Vec<Person>,
    pub chats: Vec<Chat>,
}

#[derive(Debug, Serialize)]
pub struct Person {
    pub id: UserId,
    pub username: String,
    pub display_name: Option<String>,
    /// In a team export, everyone's; in a personal one, only the person's own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub role: Role,
    pub is_active: bool,
    pub joined: Timestamp,
}

#[derive(Debug, Serialize)]
pub struct Chat {
    pub id: ChatId,
    pub kind: ChatKind,
    pub title: Option<String>,
    pub status: ChatStatus,
    pub created_at: Timestamp,
    /// Usernames, in the order they joined.
    pub members: Vec<String>,
    pub messages: Vec<Message>,
}

#[derive(Debug, Serialize)]
pub struct Message {
    pub id: MessageId,
    /// The sender's username.
    pub sender: String,
    /// `None` for a deleted message, whose text is gone from the database too.
    pub body: Option<String>,
    pub created_at: Timestamp,
    pub edited_at: Option<Timestamp>,
    pub deleted: bool,
    pub deleted_at: Option<Timestamp>,
    pub reactions: Vec<Reaction>,
    pub attachments: Vec<File>,
}

/// As the API shows them: each emoji once, in first-use order, with who used it.
#[derive(Debug, Serialize)]
pub struct Reaction {
    pub emoji: String,
    pub users: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct File {
    pub id: FileId,
    /// The name it was uploaded under.
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    /// Set for an image that decoded, which the page shows.
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub uploader: String,
    pub created_at: Timestamp,
    /// Where its bytes are in the archive: `files/<id>/<safe name>`.
    pub path: String,
}

/// What an export wrote, for its summary line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub chats: usize,
    pub messages: usize,
    pub files: usize,
    pub bytes: u64,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} chats, {} messages, {} files, {} bytes",
            self.chats, self.messages, self.files, self.bytes
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("{0}")]
    Write(#[from] std::io::Error),
    #[error("the files come to {bytes} bytes, more than the {max} allowed")]
    TooLarge { bytes: u64, max: u64 },
    #[error("the archive page does not render: {0}")]
    Render(String),
}

/// Writes the archive of `scope` into `sink`, read from `conn` in one snapshot. With
/// `max_file_bytes`, refuses (before writing anything) when the files come to more.
pub async fn write<S: Sink + Send>(
    conn: &mut Conn,
    scope: Scope,
    sink: &mut S,
    max_file_bytes: Option<u64>,
) -> Result<Summary, ExportError> {
    let mut snapshot = Snapshot::begin(conn).await?;
    let summary = write_snapshot(&mut snapshot, scope, sink, max_file_bytes).await?;
    snapshot.end().await?;
    Ok(summary)
}

async fn write_snapshot<S: Sink + Send>(
    snapshot: &mut Snapshot<'_>,
    scope: Scope,
    sink: &mut S,
    max_file_bytes: Option<u64>,
) -> Result<Summary, ExportError> {
    let rows = snapshot.rows(scope).await?;
    let file_bytes: u64 = rows
        .files
        .iter()
        .map(|f| u64::try_from(f.size).unwrap_or(0))
        .sum();
    if let Some(max) = max_file_bytes.filter(|max| file_bytes > *max) {
        return Err(ExportError::TooLarge {
            bytes: file_bytes,
            max,
        });
    }
    let archive = assemble(rows, scope);
    let mut summary = Summary {
        chats: archive.chats.len(),
        ..Summary::default()
    };
    for message in archive.chats.iter().flat_map(|c| &c.messages) {
        summary.messages += 1;
        for file in &message.attachments {
            sink.start(&file.path, false)?;
            let mut n = 0;
            while let Some(bytes) = snapshot.chunk(file.id, n).await? {
                sink.write(&bytes)?;
                summary.bytes += bytes.len() as u64;
                n += 1;
            }
            sink.finish()?;
            summary.files += 1;
        }
    }
    let json = serde_json::to_vec_pretty(&archive).map_err(std::io::Error::other)?;
    let page = html::render(&archive).map_err(ExportError::Render)?;
    let style = crate::embed::template(html::STYLE)
        .ok_or_else(|| ExportError::Render("the archive style is missing".to_owned()))?;
    for (path, bytes) in [
        ("kanect-export.json", json),
        ("index.html", page.into_bytes()),
        ("archive.css", style.into_bytes()),
    ] {
        sink.start(path, true)?;
        sink.write(&bytes)?;
        sink.finish()?;
        summary.bytes += bytes.len() as u64;
    }
    Ok(summary)
}

/// The rows shaped as the archive: messages inside their chats, names for ids.
fn assemble(rows: Rows, scope: Scope) -> Archive {
    let names: HashMap<UserId, String> = rows
        .people
        .iter()
        .map(|p| (p.id, p.username.clone()))
        .collect();
    let name = |id: UserId| names.get(&id).cloned().unwrap_or_default();
    let mut reactions: HashMap<MessageId, Vec<Reaction>> = HashMap::new();
    for r in rows.reactions {
        let list = reactions.entry(r.message_id).or_default();
        match list.iter_mut().find(|x| x.emoji == r.emoji) {
            Some(x) => x.users.push(name(r.user_id)),
            None => list.push(Reaction {
                emoji: r.emoji,
                users: vec![name(r.user_id)],
            }),
        }
    }
    let mut files: HashMap<MessageId, Vec<File>> = HashMap::new();
    for f in rows.files {
        files.entry(f.message_id).or_default().push(File {
            path: format!("files/{}/{}", f.id, safe_name(&f.name)),
            id: f.id,
            name: f.name,
            content_type: f.content_type,
            size: f.size,
            sha256: f.sha256,
            width: f.width,
            height: f.height,
            uploader: name(f.uploader_id),
            created_at: f.created_at,
        });
    }
    let mut members: HashMap<ChatId, Vec<String>> = HashMap::new();
    for m in rows.members {
        members.entry(m.chat_id).or_default().push(name(m.user_id));
    }
    let mut messages: HashMap<ChatId, Vec<Message>> = HashMap::new();
    for m in rows.messages {
        let deleted = m.deleted_at.is_some();
        messages.entry(m.chat_id).or_default().push(Message {
            id: m.id,
            sender: name(m.sender_id),
            body: (!deleted).then_some(m.body),
            created_at: m.created_at,
            edited_at: m.edited_at,
            deleted,
            deleted_at: m.deleted_at,
            reactions: reactions.remove(&m.id).unwrap_or_default(),
            attachments: files.remove(&m.id).unwrap_or_default(),
        });
    }
    let exported_for = match scope {
        Scope::Team => None,
        Scope::Member(id) => Some(name(id)),
    };
    Archive {
        format: "kanect-export",
        version: 1,
        exported_at: Timestamp::now(),
        exported_for,
        people: rows
            .people
            .into_iter()
            .map(|p| Person {
                email: match scope {
                    Scope::Team => Some(p.email),
                    Scope::Member(id) => (id == p.id).then_some(p.email),
                },
                id: p.id,
                username: p.username,
                display_name: p.display_name,
                role: p.role,
                is_active: p.is_active,
                joined: p.created_at,
            })
            .collect(),
        chats: rows
            .chats
            .into_iter()
            .map(|c| Chat {
                members: members.remove(&c.id).unwrap_or_default(),
                messages: messages.remove(&c.id).unwrap_or_default(),
                id: c.id,
                kind: c.kind,
                title: c.title,
                status: c.status,
                created_at: c.created_at,
            })
            .collect(),
    }
}

/// A file name that is safe on every file system and in a relative link, whatever was
/// uploaded: ASCII letters, digits, `.`, `-` and `_` kept, anything else `_`, no leading
/// dot (no hidden file, no `..`), at most 100 characters with the extension kept.
pub fn safe_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let cleaned = cleaned.trim_start_matches('.');
    let cleaned = if cleaned.len() > 100 {
        let ext = cleaned
            .rfind('.')
            .map(|at| &cleaned[at..])
            .filter(|ext| ext.len() <= 10)
            .unwrap_or("");
        format!("{}{ext}", &cleaned[..100 - ext.len()])
    } else {
        cleaned.to_owned()
    };
    if cleaned.is_empty() {
        "file".to_owned()
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests {
    use super::safe_name;

    #[test]
    fn names_become_safe_paths() {
        assert_eq!(safe_name("photo.png"), "photo.png");
        assert_eq!(safe_name("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(safe_name(".hidden"), "hidden");
        assert_eq!(safe_name("résumé <1>.pdf"), "r_sum___1_.pdf");
        assert_eq!(safe_name(""), "file");
        assert_eq!(safe_name("..."), "file");
        let long = format!("{}.pdf", "a".repeat(300));
        let safe = safe_name(&long);
        assert_eq!(safe.len(), 100);
        assert!(safe.ends_with(".pdf"));
    }
}
