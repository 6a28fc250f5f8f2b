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

#[derive(Deserialize)]
struct ReadUpTo {
    up_to: i64,
}

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
