//! `/api/search`: the messages of the caller's chats that match what they typed.

use std::collections::HashMap;

use rocket::serde::json::Json;
use rocket::{get, routes, Route};
use serde::Serialize;

use super::messages::message_id;
use super::require_member;
use crate::auth::User;
use crate::db::messages::Message;
use crate::db::search::{self as index, Brief, Scope};
use crate::db::{users, Db};
use crate::error::{Error, Result};
use crate::model::{ChatId, MessageId};
use crate::search::{Part, Query};
use crate::validate::{username_key, Invalid};

pub fn routes() -> Vec<Route> {
    routes![search]
}

pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 50;

#[derive(utoipa::ToSchema, Serialize)]
struct Results {
    results: Vec<Found>,
    /// Pass as `before` for the next page; `None` after the last.
    next: Option<MessageId>,
}

#[derive(utoipa::ToSchema, Serialize)]
struct Found {
    message: Message,
    chat: Brief,
    parts: Vec<Part>,
}

#[utoipa::path(get, path = "/api/search", tag = "messages", params(("q" = String, Query, description = "Words, `\"a phrase\"`, `from:`, `in:`"), ("chat_id" = Option<i64>, Query), ("from" = Option<String>, Query, description = "A sender's username"), ("before" = Option<i64>, Query, description = "The `next` of the previous page"), ("limit" = Option<i64>, Query)), responses((status = 200, description = "Newest first", body = Results), (status = "4XX", description = "The error shape: 400 malformed, 401 not signed in, 403 CSRF or role, 404 unknown or not a member, 413 too large, 422 invalid (with `field`), 429 throttled", body = crate::openapi::ErrorBody)))]
#[get("/search?<q>&<chat_id>&<from>&<before>&<limit>")]
async fn search(
    q: Option<&str>,
    chat_id: Option<&str>,
    from: Option<&str>,
    before: Option<&str>,
    limit: Option<&str>,
    user: User,
    db: &Db,
) -> Result<Json<Results>> {
    let query =
        Query::parse(q.unwrap_or_default()).map_err(|e| Invalid::new("q", e.to_string()))?;
    let before = message_id("before", before)?;
    let limit = match limit.map(str::parse::<u32>) {
        None => DEFAULT_LIMIT,
        Some(Ok(n)) => n.clamp(1, MAX_LIMIT),
        Some(Err(_)) => return Err(Error::BadRequest("`limit` must be a whole number.".into())),
    };
    // A chat that is not a number names no chat of the caller's, like one they are not in.
    let chat = match chat_id {
        None => None,
        Some(raw) => {
            let chat = raw.parse().map(ChatId).map_err(|_| Error::NotFound)?;
            require_member(db, chat, user.id).await?;
            Some(chat)
        }
    };
    let sender = match from {
        None => None,
        Some(name) => Some(
            users::by_username(&db.read, &username_key(name))
                .await?
                .ok_or_else(|| Invalid::new("from", "No one has that username."))?
                .id,
        ),
    };
    let scope = Scope {
        reader: user.id,
        chat,
        sender,
    };
    // One more than asked for says whether there is a next page.
    let mut messages = index::messages(&db.read, &query, scope, before, limit + 1).await?;
    let next = if messages.len() > limit as usize {
        messages.truncate(limit as usize);
        messages.last().map(|m| m.id)
    } else {
        None
    };
    let mut ids: Vec<ChatId> = messages.iter().map(|m| m.chat_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let chats: HashMap<ChatId, Brief> = index::chats(&db.read, &ids)
        .await?
        .into_iter()
        .map(|chat| (chat.id, chat))
        .collect();
    let results = messages
        .into_iter()
        .filter_map(|message| {
            let chat = chats.get(&message.chat_id)?.clone();
            let parts = query.highlight(&message.body);
            Some(Found {
                message,
                chat,
                parts,
            })
        })
        .collect();
    Ok(Json(Results { results, next }))
}
