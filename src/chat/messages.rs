//! `/api/chats/<id>/messages`: history, sending, editing and deleting.

use std::sync::Arc;

use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{delete, get, patch, post, routes, Route, State};
use serde::{Deserialize, Serialize};

use super::{chat_id, message_id_in, require_member};
use crate::auth::{Csrf, User};
use crate::db::messages::{self, ChangeError, Message, Page, SendError};
use crate::db::send_queue::{SendQueue, Sender};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::json::JsonBody;
use crate::live::Live;
use crate::model::{ChatId, FileId, MessageId};
use crate::push::Push;
use crate::validate::MessageBody;
use crate::webhooks::Webhooks;

pub fn routes() -> Vec<Route> {
    routes![history, send, edit, delete]
}

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 200;

/// A list of messages and the id to continue from.
#[derive(utoipa::ToSchema, Serialize)]
pub struct Messages {
    pub messages: Vec<Message>,
    pub cursor: MessageId,
}

/// A message id given in the query string: absent, or a whole number (else 400).
pub fn message_id(name: &str, raw: Option<&str>) -> Result<Option<MessageId>> {
    match raw.map(str::parse::<i64>) {
        None => Ok(None),
        Some(Ok(id)) if id >= 0 => Ok(Some(MessageId(id))),
        _ => Err(Error::BadRequest(format!(
            "`{name}` must be a message id (a whole number ≥ 0)."
        ))),
    }
}

#[utoipa::path(get, path = "/api/chats/{id}/messages", tag = "messages", params(("id" = i64, Path, description = "The chat", example = 1), ("after" = Option<i64>, Query, description = "Messages after this id"), ("before" = Option<i64>, Query, description = "Messages before this id"), ("around" = Option<i64>, Query, description = "Messages around this id"), ("limit" = Option<i64>, Query, description = "How many (capped by the server)")), responses((status = 200, description = "Oldest first", body = Messages), (status = "4XX", description = "The error shape: 400 malformed, 401 not signed in, 403 CSRF or role, 404 unknown or not a member, 413 too large, 422 invalid (with `field`), 429 throttled", body = crate::openapi::ErrorBody)))]
#[get("/chats/<id>/messages?<after>&<before>&<around>&<limit>")]
async fn history(
    id: Result<ChatId, &str>,
    after: Option<&str>,
    before: Option<&str>,
    around: Option<&str>,
    limit: Option<&str>,
    user: User,
    db: &Db,
) -> Result<Json<Messages>> {
    let id = chat_id(id)?;
    require_member(db, id, user.id).await?;
    let after = message_id("after", after)?;
    let before = message_id("before", before)?;
    let limit = match limit.map(str::parse::<u32>) {
        None => DEFAULT_LIMIT,
        Some(Ok(n)) => n.clamp(1, MAX_LIMIT),
        Some(Err(_)) => return Err(Error::BadRequest("`limit` must be a whole number.".into())),
    };
    let around = message_id("around", around)?;
    let messages = match around {
        Some(_) if after.is_some() || before.is_some() => {
            return Err(Error::BadRequest(
                "`around` cannot be combined with `after` or `before`.".into(),
            ))
        }
        Some(mid) => messages::around(&db.read, id, mid, limit)
            .await?
            .ok_or(Error::NotFound)?,
        None => {
            let page = Page {
                after,
                before,
                limit,
            };
            messages::page(&db.read, id, page).await?
        }
    };
    let cursor = messages
        .last()
        .map(|m| m.id)
        .unwrap_or(after.unwrap_or_default());
    Ok(Json(Messages { messages, cursor }))
}

#[derive(utoipa::ToSchema, Deserialize)]
struct NewMessage {
    body: String,
}

/// A message to send: words, files, or both.
#[derive(utoipa::ToSchema, Deserialize)]
struct Outgoing {
    #[serde(default)]
    body: String,
    #[serde(default)]
    attachments: Vec<FileId>,
}

/// The most files one message carries.
pub const MAX_ATTACHMENTS: usize = 10;

fn checked_files(ids: Vec<FileId>) -> Result<Vec<FileId>, crate::validate::Invalid> {
    let invalid = |why: String| crate::validate::Invalid::new("attachments", why);
    if ids.len() > MAX_ATTACHMENTS {
        return Err(invalid(format!(
            "A message can carry at most {MAX_ATTACHMENTS} files."
        )));
    }
    let mut seen = std::collections::HashSet::new();
    if !ids.iter().all(|id| seen.insert(*id)) {
        return Err(invalid("The same file is attached twice.".into()));
    }
    Ok(ids)
}

// Request guards, one per thing a send touches.
#[allow(clippy::too_many_arguments)]
#[utoipa::path(post, path = "/api/chats/{id}/messages", tag = "messages", params(("id" = i64, Path, description = "The chat", example = 1)), request_body = Outgoing, responses((status = 201, description = "Stored", body = Message), (status = "4XX", description = "The error shape: 400 malformed, 401 not signed in, 403 CSRF or role, 404 unknown or not a member, 413 too large, 422 invalid (with `field`), 429 throttled", body = crate::openapi::ErrorBody)))]
#[post("/chats/<id>/messages", data = "<body>")]
async fn send(
    id: Result<ChatId, &str>,
    user: User,
    _csrf: Csrf,
    db: &Db,
    live: &State<Arc<Live>>,
    queue: &State<SendQueue>,
    push: &State<Push>,
    webhooks: &State<Webhooks>,
    body: JsonBody<Outgoing>,
) -> Result<(Status, Json<Message>)> {
    let id = chat_id(id)?;
    let Outgoing { body, attachments } = body.0;
    let checked = checked_files(attachments).and_then(|files| {
        let body = if files.is_empty() {
            MessageBody::parse(&body)?
        } else {
            MessageBody::parse_beside_files(&body)?
        };
        Ok((body, files))
    });
    let (body, files) = match checked {
        Ok(checked) => checked,
        Err(invalid) => {
            // Non-members learn nothing about the chat, not even that their text was wrong.
            require_member(db, id, user.id).await?;
            return Err(invalid.into());
        }
    };
    let sent = queue
        .send(
            id,
            Sender {
                id: user.id,
                username: &user.username,
                display_name: &user.display_name,
                avatar_url: user.avatar_url.as_deref(),
            },
            &body,
            files,
        )
        .await
        .map_err(not_sent)?;
    // The commit has woken everyone's polls; the message ends the sender's "typing".
    live.stopped_typing(id, &user.username, &sent.members);
    push.message_stored(user.id, &sent);
    webhooks.message_stored(&sent);
    Ok((Status::Created, Json(sent.message)))
}

/// A refused send, as the sender is told.
pub fn not_sent(e: SendError) -> Error {
    match e {
        SendError::NotMember => Error::NotFound,
        SendError::Closed => super::closed(),
        SendError::Attachments => crate::validate::Invalid::new(
            "attachments",
            "Attach only files you have uploaded to this chat and not sent yet.",
        )
        .into(),
        SendError::Unavailable(cause) => Error::Unavailable(cause),
        SendError::Db(e) => Error::Database(e),
    }
}

/// A refused change to a message, as the person is told.
pub fn refused(e: ChangeError) -> Error {
    match e {
        ChangeError::NotFound => Error::NotFound,
        ChangeError::NotYours => Error::Forbidden("Only its sender may change this message."),
        ChangeError::Closed => super::closed(),
        ChangeError::Empty => {
            crate::validate::Invalid::new("body", "Write a message first.").into()
        }
        ChangeError::TooManyReactions => crate::validate::Invalid::new(
            "emoji",
            format!(
                "A message can have at most {} different reactions.",
                messages::MAX_REACTIONS
            ),
        )
        .into(),
        ChangeError::Db(e) => Error::Database(e),
    }
}

/// The message as it is now, after a change the caller made.
pub async fn current(db: &Db, chat: ChatId, id: MessageId) -> Result<Json<Message>> {
    messages::one(&db.read, chat, id)
        .await?
        .map(Json)
        .ok_or(Error::NotFound)
}

#[utoipa::path(patch, path = "/api/chats/{id}/messages/{mid}", tag = "messages", params(("id" = i64, Path, description = "The chat", example = 1), ("mid" = i64, Path, description = "The message", example = 1)), request_body = NewMessage, responses((status = 200, description = "Edited", body = Message), (status = "4XX", description = "The error shape: 400 malformed, 401 not signed in, 403 CSRF or role, 404 unknown or not a member, 413 too large, 422 invalid (with `field`), 429 throttled", body = crate::openapi::ErrorBody)))]
#[patch("/chats/<id>/messages/<mid>", data = "<body>")]
async fn edit(
    id: Result<ChatId, &str>,
    mid: Result<MessageId, &str>,
    user: User,
    _csrf: Csrf,
    db: &Db,
    body: JsonBody<NewMessage>,
) -> Result<Json<Message>> {
    let (id, mid) = (chat_id(id)?, message_id_in(mid)?);
    // Whether the message has files that let it go without words is the database's to say.
    let body = match MessageBody::parse_beside_files(&body.0.body) {
        Ok(body) => body,
        Err(invalid) => {
            require_member(db, id, user.id).await?;
            return Err(invalid.into());
        }
    };
    messages::edit(&db.write, id, mid, user.id, &body)
        .await
        .map_err(refused)?;
    current(db, id, mid).await
}

#[utoipa::path(delete, path = "/api/chats/{id}/messages/{mid}", tag = "messages", params(("id" = i64, Path, description = "The chat", example = 1), ("mid" = i64, Path, description = "The message", example = 1)), responses((status = 204, description = "Deleted, its body erased"), (status = "4XX", description = "The error shape: 400 malformed, 401 not signed in, 403 CSRF or role, 404 unknown or not a member, 413 too large, 422 invalid (with `field`), 429 throttled", body = crate::openapi::ErrorBody)))]
#[delete("/chats/<id>/messages/<mid>")]
async fn delete(
    id: Result<ChatId, &str>,
    mid: Result<MessageId, &str>,
    user: User,
    _csrf: Csrf,
    db: &Db,
) -> Result<Status> {
    let (id, mid) = (chat_id(id)?, message_id_in(mid)?);
    messages::delete(&db.write, id, mid, user.id, user.role.is_staff())
        .await
        .map_err(refused)?;
    Ok(Status::NoContent)
}
