//! The console's description of messages.

use crate::config::Settings;
use crate::db::WriteTx;

use crate::admin::describe::*;
use crate::admin::params::Params;
use crate::admin::rules::{Rules, Write};
use crate::admin::value::{Value, Values};
use crate::db::events::{self, Kind as EventKind};
use crate::db::{messages, Db};
use crate::error::Error;
use crate::model::{ChatId, MessageId, Timestamp, UserId};
use crate::validate::Invalid;

const SENDER: &str = "(SELECT username FROM users WHERE id = t.sender_id)";
const CHAT: &str = "(SELECT COALESCE(title, 'Direct chat ' || id) FROM chats WHERE id = t.chat_id)";

pub static MESSAGES: Model = Model {
    slug: "messages",
    name: "message",
    plural: "messages",
    table: "messages",
    // LEFT joins, which SQLite drops from queries (counts) that use neither table.
    from:
        "messages t LEFT JOIN users s ON s.id = t.sender_id LEFT JOIN chats c ON c.id = t.chat_id",
    repr: "'#' || t.id || ': ' || substr(t.body, 1, 40)",
    columns: &[
        Column::new("id", "ID", "t.id", Cell::Number),
        Column::new("body", "Message", "substr(t.body, 1, 80)", Cell::Text),
        Column::new("sender", "Sender", SENDER, Cell::Text),
        Column::new("chat", "Chat", CHAT, Cell::Text),
        Column::new("created_at", "Sent", "t.created_at", Cell::Time),
        Column::new("edited_at", "Edited", "t.edited_at", Cell::Time),
    ],
    search: &[
        Search::MessageWords,
        Search::In {
            column: "t.sender_id",
            select: "SELECT id FROM users WHERE username",
        },
    ],
    filters: &[
        Filter::new("chat_id", "chat", "t.chat_id", FilterKind::Related("chats"))
            .aliases(&["chat"]),
        Filter::new(
            "sender_id",
            "sender",
            "t.sender_id",
            FilterKind::Related("users"),
        )
        .aliases(&["sender"]),
        Filter::new("created_at", "date", "t.created_at", FilterKind::Date).aliases(&["date"]),
    ],
    ordering: "-id",
    fields: &[
        Field::new("chat_id", "Chat", Kind::Related("chats")).on_add(),
        Field::new("sender_id", "Sender", Kind::Related("users"))
            .on_add()
            .help("Must be a member of the chat."),
        Field::new("body", "Message", Kind::Body),
        Field::new("created_at", "Sent", Kind::Time).read_only(),
        Field::new("edited_at", "Edited", Kind::Time).read_only(),
    ],
    related: &[Related::new("Files", "files", "message_id", "r.name")],
    actions: &[Action::DeleteSelected],
    rules: &MessageRules,
};

struct MessageRules;

#[rocket::async_trait]
impl Rules for MessageRules {
    async fn prepare(
        &self,
        db: &Db,
        _settings: &Settings,
        _form: &Params,
        old: Option<&Values>,
        new: &mut Values,
    ) -> Vec<Invalid> {
        let now = Value::Int(Timestamp::now().0);
        match old {
            Some(old) => {
                if old.get("body") != new.get("body") {
                    new.insert("edited_at", now);
                }
                Vec::new()
            }
            None => {
                new.insert("created_at", now);
                let (Some(chat), Some(sender)) = (
                    new.get("chat_id").and_then(Value::int),
                    new.get("sender_id").and_then(Value::int),
                ) else {
                    return Vec::new(); // The fields themselves already say what is wrong.
                };
                match crate::db::chats::is_member(
                    &db.read,
                    crate::model::ChatId(chat),
                    UserId(sender),
                )
                .await
                {
                    Ok(true) => Vec::new(),
                    Ok(false) => vec![Invalid::new(
                        "sender_id",
                        "The sender is not a member of that chat.",
                    )],
                    Err(e) => {
                        tracing::error!(error = %e, "checking a sender's membership");
                        vec![Invalid::new(
                            "__all__",
                            "The sender could not be checked; try again.",
                        )]
                    }
                }
            }
        }
    }

    /// A new message does all that one sent from the chat would. One added in someone
    /// else's name says so, to its readers (`added_by`) and in the log. An edited one has
    /// its mentions read again, and open tabs hear of it.
    async fn saved(&self, tx: &mut WriteTx, write: Write<'_>) -> Result<Vec<String>, Error> {
        let (Some(chat), Some(sender)) = (
            write.new.get("chat_id").and_then(Value::int),
            write.new.get("sender_id").and_then(Value::int),
        ) else {
            return Ok(Vec::new());
        };
        let (chat, sender, id) = (ChatId(chat), UserId(sender), MessageId(write.id));
        let body = write.new.get("body").map(Value::text).unwrap_or_default();
        if write.old.is_some() {
            if write.old.and_then(|old| old.get("body")) != write.new.get("body") {
                messages::forget_mentions(tx, id).await?;
                let mentioned = crate::mentions::parse(body);
                messages::store_mentions(tx, &[(id, chat, sender, mentioned)]).await?;
                events::record(tx, chat, EventKind::MessageEdited, Some(id)).await?;
            }
            return Ok(Vec::new());
        }
        // What a send from the chat does: the chat moves up, the sender has read it, it
        // comes back from every archive, its mentions count, and open tabs get it.
        let sent_at = write
            .new
            .get("created_at")
            .and_then(Value::int)
            .map(Timestamp);
        let mentioned = crate::mentions::parse(body);
        let sent = [(id, chat, sender, mentioned)];
        messages::sent(tx, &sent, sent_at.unwrap_or_else(Timestamp::now)).await?;
        let sender = messages::added_in_the_console(tx, id, write.actor).await?;
        Ok(sender
            .map(|sender| format!("Sent in the name of “{sender}”."))
            .into_iter()
            .collect())
    }

    /// Open tabs drop the messages.
    async fn deleting(&self, tx: &mut WriteTx, ids: &[i64]) -> Result<(), Error> {
        Ok(events::messages_deleted(tx, ids).await?)
    }
}
