//! The chat: its pages and its JSON API, grouped by resource.

pub mod api;
pub mod messages;
pub mod pages;
pub mod updates;

use crate::db::{chats, Db};
use crate::error::{Error, Result};
use crate::model::{ChatId, UserId};

/// The membership check every chat route makes. A chat that does not exist and a chat of
/// other people look the same from outside: both are 404.
pub async fn require_member(db: &Db, chat: ChatId, user: UserId) -> Result<()> {
    if chats::is_member(&db.read, chat, user).await? {
        Ok(())
    } else {
        Err(Error::NotFound)
    }
}

/// A chat id from the URL; anything that is not one names no chat.
pub fn chat_id(raw: Result<ChatId, &str>) -> Result<ChatId> {
    raw.map_err(|_| Error::NotFound)
}
