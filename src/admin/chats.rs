//! The console's description of chats, with their members edited inline.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value as Json};

use crate::config::Settings;
use crate::db::backend::ConnRef;
use crate::db::events::Kind as EventKind;
use crate::db::WriteTx;
use crate::model::{ChatId, UserId};

use crate::admin::describe::*;
use crate::admin::page::show_time;
use crate::admin::params::Params;
use crate::admin::rules::{Rules, Write};
use crate::admin::value::{Value, Values};
use crate::db::Db;
use crate::error::Error;
use crate::model::Timestamp;
use crate::validate::{username_key, Invalid};

const KINDS: &[&str] = &["group", "direct"];
const STATUSES: &[&str] = &["open", "closed"];
/// A group's title, or a direct chat's two names.
const NAME: &str = "COALESCE(t.title, (SELECT string_agg(u.username, ' & ') FROM chat_members m
    JOIN users u ON u.id = m.user_id WHERE m.chat_id = t.id), 'Chat ' || t.id)";
/// Empty rows offered for new members.
const EXTRA_ROWS: usize = 3;

pub static CHATS: Model = Model {
    slug: "chats",
    name: "chat",
    plural: "chats",
    table: "chats",
    from: "chats t",
    repr: NAME,
    columns: &[
        Column::new("id", "ID", "t.id", Cell::Number),
        Column::new("title", "Chat", NAME, Cell::Text),
        Column::new("kind", "Kind", "t.kind", Cell::Text),
        Column::new("status", "Status", "t.status", Cell::Text),
        Column::new(
            "members",
            "Members",
            "(SELECT count(*) FROM chat_members m WHERE m.chat_id = t.id)",
            Cell::Number,
        ),
        Column::new("created_at", "Created", "t.created_at", Cell::Time),
        Column::new(
            "last_message_at",
            "Last message",
            "t.last_message_at",
            Cell::Time,
        ),
    ],
    search: &[
        Search::Text("t.title"),
        Search::In {
            column: "t.id",
            select: "SELECT m.chat_id FROM chat_members m JOIN users u ON u.id = m.user_id
                     WHERE u.username",
        },
    ],
    filters: &[
        Filter::new("kind", "kind", "t.kind", FilterKind::Words(KINDS)),
        Filter::new("status", "status", "t.status", FilterKind::Words(STATUSES)),
    ],
    ordering: "-last_message_at",
    fields: &[
        Field::new("kind", "Kind", Kind::Words(KINDS))
            .on_add()
            .help("A direct chat has exactly two members and no title."),
        Field::new("title", "Title", Kind::text(100)).help("Groups only."),
        Field::new("status", "Status", Kind::Words(STATUSES))
            .help("A closed chat is read-only for its members."),
        Field::new("created_at", "Created", Kind::Time).read_only(),
        Field::new("last_message_at", "Last message", Kind::Time).read_only(),
    ],
    related: &[
        Related::new(
            "Messages",
            "messages",
            "chat_id",
            "'#' || r.id || ': ' || substr(r.body, 1, 40)",
        ),
        Related::new(
            "Chat memberships",
            "chat_members",
            "chat_id",
            "(SELECT username FROM users WHERE id = r.user_id)",
        ),
        Related::new("Files", "files", "chat_id", "r.name"),
    ],
    actions: &[Action::DeleteSelected],
    rules: &ChatRules,
};

struct ChatRules;

fn kind(values: &Values) -> &str {
    values.get("kind").map(Value::text).unwrap_or_default()
}

/// The inline's rows as submitted: each `members-N-user` value, and whether its
/// `members-N-DELETE` box is ticked.
fn submitted_rows(form: &Params) -> impl Iterator<Item = (&str, bool)> {
    form.0.iter().filter_map(move |(name, value)| {
        let index = name.strip_prefix("members-")?.strip_suffix("-user")?;
        Some((value.as_str(), form.has(&format!("members-{index}-DELETE"))))
    })
}

/// The usernames a submitted form keeps or adds.
fn requested(form: &Params) -> Vec<String> {
    let mut seen = BTreeSet::new();
    let mut names = Vec::new();
    for (value, deleted) in submitted_rows(form) {
        let value = value.trim();
        if !value.is_empty() && !deleted && seen.insert(username_key(value)) {
            names.push(value.to_owned());
        }
    }
    names
}

/// Ids of the named users, and the names nobody has.
async fn resolve(
    db: ConnRef<'_>,
    names: &[String],
) -> sqlx::Result<(BTreeMap<i64, String>, Vec<String>)> {
    let keys: Vec<String> = names.iter().map(|n| username_key(n)).collect();
    let found = crate::db::users::named(db, &keys).await?;
    let unknown = names
        .iter()
        .zip(&keys)
        .filter(|(_, key)| !found.iter().any(|(_, _, k)| k == *key))
        .map(|(name, _)| name.clone())
        .collect();
    Ok((
        found
            .into_iter()
            .map(|(id, name, _)| (id.0, name))
            .collect(),
        unknown,
    ))
}

impl ChatRules {
    /// Brings the member list in line with the submitted form (a direct chat keeps its two).
    async fn members_from_form(
        &self,
        tx: &mut WriteTx,
        write: &Write<'_>,
    ) -> Result<Vec<String>, Error> {
        let Some(form) = write.form else {
            return Ok(Vec::new());
        };
        if kind(write.new) == "direct" && write.old.is_some() {
            return Ok(Vec::new());
        }
        let (wanted, _) = resolve(tx.reading()?, &requested(form)).await?;
        let chat = ChatId(write.id);
        let current = crate::db::chats::members_named(tx, chat).await?;
        let mut changes = Vec::new();
        for (user, name) in &current {
            if !wanted.contains_key(&user.0) {
                crate::db::chats::drop_member(tx, chat, *user).await?;
                crate::db::events::record_for(tx, chat, EventKind::ChatRemoved, *user).await?;
                changes.push(format!("Removed member “{name}”."));
            }
        }
        let now = Timestamp::now();
        for (user, name) in &wanted {
            if !current.iter().any(|(id, _)| id.0 == *user) {
                crate::db::chats::add_members(tx, chat, &[UserId(*user)], now).await?;
                if write.old.is_some() {
                    changes.push(format!("Added member “{name}”."));
                }
            }
        }
        Ok(changes)
    }
}

#[rocket::async_trait]
impl Rules for ChatRules {
    async fn prepare(
        &self,
        db: &Db,
        _settings: &Settings,
        form: &Params,
        old: Option<&Values>,
        new: &mut Values,
    ) -> Vec<Invalid> {
        let mut problems = Vec::new();
        let adding = old.is_none();
        if adding {
            new.insert("created_at", Value::Int(Timestamp::now().0));
        }
        let direct = kind(new) == "direct";
        if direct {
            new.insert("title", Value::Null);
        } else {
            new.insert("direct_key", Value::Null);
            if new.get("title").is_none_or(|t| *t == Value::Null) {
                problems.push(Invalid::new("title", "A group needs a title."));
            }
        }
        if direct && !adding {
            return problems; // Its two members are fixed.
        }
        let names = requested(form);
        let found = match db.read.acquire().await {
            Ok(mut conn) => resolve(conn.borrow(), &names).await,
            Err(e) => Err(e),
        };
        let (found, unknown) = match found {
            Ok(found) => found,
            Err(e) => {
                tracing::error!(error = %e, "looking up chat members");
                return vec![Invalid::new(
                    "members",
                    "The members could not be checked; try again.",
                )];
            }
        };
        if !unknown.is_empty() {
            problems.push(Invalid::new(
                "members",
                format!("No user named “{}”.", unknown.join("”, “")),
            ));
        } else if direct {
            let ids: Vec<i64> = found.keys().copied().collect();
            match ids[..] {
                [a, b] => {
                    new.insert("direct_key", Value::Text(format!("{a}:{b}")));
                }
                _ => problems.push(Invalid::new(
                    "members",
                    "A direct chat has exactly two members.",
                )),
            }
        } else if found.is_empty() {
            problems.push(Invalid::new(
                "members",
                "A group needs at least one member.",
            ));
        }
        problems
    }

    fn unique_violation(&self) -> Invalid {
        Invalid::new(
            "members",
            "A direct chat between these two people already exists.",
        )
    }

    /// Brings the member list in line with the form; every member hears of the change,
    /// and whoever was taken out is told so.
    async fn saved(&self, tx: &mut WriteTx, write: Write<'_>) -> Result<Vec<String>, Error> {
        let changes = self.members_from_form(tx, &write).await?;
        crate::db::events::record(tx, ChatId(write.id), EventKind::Chat, None).await?;
        Ok(changes)
    }

    /// Members' open tabs drop the chats.
    async fn deleting(&self, tx: &mut WriteTx, ids: &[i64]) -> Result<(), Error> {
        Ok(crate::db::events::chats_deleted(tx, ids).await?)
    }

    async fn inline(
        &self,
        db: &Db,
        id: Option<i64>,
        form: Option<&Params>,
        read_only: bool,
    ) -> Result<Option<Json>, Error> {
        let mut members: Vec<(String, i64, i64, bool)> = Vec::new();
        let mut direct = false;
        if let Some(id) = id {
            members = crate::db::chats::member_rows(&db.read, ChatId(id)).await?;
            direct = crate::db::chats::kind_of(&db.read, ChatId(id)).await?
                == Some(crate::model::ChatKind::Direct);
        }
        let read_only = read_only || direct;
        let row = |index: usize,
                   user: &str,
                   existing: Option<&(String, i64, i64, bool)>,
                   deleted: bool| {
            json!({
                "index": index,
                "user": user,
                "joined": existing.map(|m| show_time(m.1)).unwrap_or_default(),
                "last_read": existing.map(|m| m.2.to_string()).unwrap_or_default(),
                "archived": existing.is_some_and(|m| m.3),
                "user_name": format!("members-{index}-user"),
                "delete_name": format!("members-{index}-DELETE"),
                "new": existing.is_none(),
                "deleted": deleted,
            })
        };
        let mut rows = Vec::new();
        match form {
            // Shown again after an error: what was typed and ticked.
            Some(form) if !read_only => {
                for (value, deleted) in submitted_rows(form) {
                    let existing = members.iter().find(|m| m.0 == value);
                    if existing.is_some() || !value.trim().is_empty() {
                        rows.push(row(rows.len(), value, existing, deleted));
                    }
                }
            }
            _ => {
                for member in &members {
                    rows.push(row(rows.len(), &member.0, Some(member), false));
                }
            }
        }
        if !read_only {
            for _ in 0..EXTRA_ROWS {
                rows.push(row(rows.len(), "", None, false));
            }
        }
        Ok(Some(json!({
            "name": "members",
            "label": "Members",
            "readonly": read_only,
            "rows": rows,
            "help": if direct { "The two people of a direct chat cannot change." } else { "Type a username in an empty row to add someone; tick Delete to remove them." },
        })))
    }
}
