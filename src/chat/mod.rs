//! The chat: its pages and its JSON API, grouped by resource.

pub mod activity;
pub mod api;
pub mod attachments;
pub mod members;
pub mod messages;
pub mod pages;
pub mod reactions;
pub mod search;
pub mod updates;

use std::sync::Arc;

use rocket::serde::json::Json;

use crate::db::chats::Chat;
use crate::db::{chats, Db};
use crate::error::{Error, Result};
use crate::live::Live;
use crate::model::{ChatId, MessageId, UserId};

/// The membership check every chat route makes. A chat that does not exist and a chat of
/// other people look the same from outside: both are 404.
pub async fn require_member(db: &Db, chat: ChatId, user: UserId) -> Result<()> {
    if chats::is_member(&db.read, chat, user).await? {
        Ok(())
    } else {
        Err(Error::NotFound)
    }
}

/// What writing to a closed chat (a message, a change to one, an upload) is told.
pub fn closed() -> Error {
    Error::Forbidden("This chat is closed: it can be read but not written to.")
}

/// A chat id from the URL; anything that is not one names no chat.
pub fn chat_id(raw: Result<ChatId, &str>) -> Result<ChatId> {
    raw.map_err(|_| Error::NotFound)
}

/// A message id from the URL; anything that is not one names no message.
pub fn message_id_in(raw: Result<MessageId, &str>) -> Result<MessageId> {
    raw.map_err(|_| Error::NotFound)
}

/// The chat as `viewer` sees it now (after a change they made), receipts from memory too.
pub async fn chat_for(db: &Db, live: &Arc<Live>, viewer: UserId, id: ChatId) -> Result<Json<Chat>> {
    let chat = chats::one_for_member(&db.read, viewer, id)
        .await?
        .ok_or(Error::NotFound)?;
    Ok(Json(live.with_deliveries(chat)))
}
