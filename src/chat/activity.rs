//! What members do besides writing: reading (`/read`, which moves their receipt) and
//! typing (`/typing`, in memory only).

use std::sync::Arc;

use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{post, routes, Route, State};
use serde::Deserialize;

use super::chat_id;
use crate::auth::{Csrf, User};
use crate::db::chats::{self, Chat, Receipt};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::json::JsonBody;
use crate::live::Live;
use crate::model::{ChatId, MessageId};

pub fn routes() -> Vec<Route> {
    routes![read, typing]
}

#[derive(utoipa::ToSchema, Deserialize)]
struct ReadUpTo {
    up_to: i64,
}

#[utoipa::path(post, path = "/api/chats/{id}/read", tag = "chats", params(("id" = i64, Path, description = "The chat", example = 1)), request_body = ReadUpTo, responses((status = 200, description = "The chat with its unread counts", body = Chat), (status = "4XX", description = "The error shape: 400 malformed, 401 not signed in, 403 CSRF or role, 404 unknown or not a member, 413 too large, 422 invalid (with `field`), 429 throttled", body = crate::openapi::ErrorBody)))]
#[post("/chats/<id>/read", data = "<body>")]
async fn read(
    id: Result<ChatId, &str>,
    user: User,
    _csrf: Csrf,
    db: &Db,
    live: &State<Arc<Live>>,
    body: JsonBody<ReadUpTo>,
) -> Result<Json<Chat>> {
    let id = chat_id(id)?;
    let up_to = MessageId(body.0.up_to.max(0));
    let read = chats::mark_read(&db.write, id, user.id, up_to)
        .await?
        .ok_or(Error::NotFound)?;
    if read.moved {
        let receipt = Receipt {
            username: user.username.clone(),
            read_up_to: read.up_to,
            delivered_up_to: read.up_to.max(live.delivered_up_to(id, user.id)),
        };
        live.receipt(id, receipt, &read.others);
    }
    let chat = chats::one_for_member(&db.read, user.id, id)
        .await?
        .ok_or(Error::NotFound)?;
    Ok(Json(live.with_deliveries(chat)))
}

/// The caller is typing in the chat: its other members see so for the next few seconds.
#[utoipa::path(post, path = "/api/chats/{id}/typing", tag = "chats", params(("id" = i64, Path, description = "The chat", example = 1)), responses((status = 204, description = "The other members see it for a few seconds"), (status = "4XX", description = "The error shape: 400 malformed, 401 not signed in, 403 CSRF or role, 404 unknown or not a member, 413 too large, 422 invalid (with `field`), 429 throttled", body = crate::openapi::ErrorBody)))]
#[post("/chats/<id>/typing")]
async fn typing(
    id: Result<ChatId, &str>,
    user: User,
    _csrf: Csrf,
    db: &Db,
    live: &State<Arc<Live>>,
) -> Result<Status> {
    let id = chat_id(id)?;
    let members = chats::member_ids(&db.read, id).await?;
    if !members.contains(&user.id) {
        return Err(Error::NotFound);
    }
    live.typing(id, user.id, &user.username, &members);
    Ok(Status::NoContent)
}
