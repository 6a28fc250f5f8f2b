//! `/api/chats/<id>/messages/<mid>/reactions/<emoji>`: add or take back the caller's
//! reaction. Both are idempotent and answer with the message as it is now.

use rocket::serde::json::Json;
use rocket::{delete, put, routes, Route};

use super::messages::{current, refused};
use super::{chat_id, message_id_in, require_member};
use crate::auth::{Csrf, User};
use crate::db::messages::{self, Message};
use crate::db::Db;
use crate::error::Result;
use crate::model::{ChatId, MessageId};
use crate::validate::Emoji;

pub fn routes() -> Vec<Route> {
    routes![add, remove]
}

#[utoipa::path(put, path = "/api/chats/{id}/messages/{mid}/reactions/{emoji}", tag = "messages", params(("id" = i64, Path, description = "The chat", example = 1), ("mid" = i64, Path, description = "The message", example = 1), ("emoji" = String, Path, description = "One emoji", example = "👍")), responses((status = 200, description = "The message with its reactions", body = Message), (status = "4XX", description = "The error shape: 400 malformed, 401 not signed in, 403 CSRF or role, 404 unknown or not a member, 413 too large, 422 invalid (with `field`), 429 throttled", body = crate::openapi::ErrorBody)))]
#[put("/chats/<id>/messages/<mid>/reactions/<emoji>")]
async fn add(
    id: Result<ChatId, &str>,
    mid: Result<MessageId, &str>,
    emoji: &str,
    user: User,
    _csrf: Csrf,
    db: &Db,
) -> Result<Json<Message>> {
    react(id, mid, emoji, &user, db, true).await
}

#[utoipa::path(delete, path = "/api/chats/{id}/messages/{mid}/reactions/{emoji}", tag = "messages", params(("id" = i64, Path, description = "The chat", example = 1), ("mid" = i64, Path, description = "The message", example = 1), ("emoji" = String, Path, description = "One emoji", example = "👍")), responses((status = 200, description = "The message with its reactions", body = Message), (status = "4XX", description = "The error shape: 400 malformed, 401 not signed in, 403 CSRF or role, 404 unknown or not a member, 413 too large, 422 invalid (with `field`), 429 throttled", body = crate::openapi::ErrorBody)))]
#[delete("/chats/<id>/messages/<mid>/reactions/<emoji>")]
async fn remove(
    id: Result<ChatId, &str>,
    mid: Result<MessageId, &str>,
    emoji: &str,
    user: User,
    _csrf: Csrf,
    db: &Db,
) -> Result<Json<Message>> {
    react(id, mid, emoji, &user, db, false).await
}

async fn react(
    id: Result<ChatId, &str>,
    mid: Result<MessageId, &str>,
    emoji: &str,
    user: &User,
    db: &Db,
    on: bool,
) -> Result<Json<Message>> {
    let (id, mid) = (chat_id(id)?, message_id_in(mid)?);
    let emoji = match Emoji::parse(emoji) {
        Ok(emoji) => emoji,
        Err(invalid) => {
            // Non-members learn nothing about the chat, not even that their emoji was wrong.
            require_member(db, id, user.id).await?;
            return Err(invalid.into());
        }
    };
    messages::react(&db.write, id, mid, user.id, emoji.as_str(), on)
        .await
        .map_err(refused)?;
    current(db, id, mid).await
}
