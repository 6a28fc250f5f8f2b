//! `/api/chats/<id>/members`: any member of an open group adds people; a member leaves; staff
//! remove anyone. Direct chats have neither.

use std::sync::Arc;

use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{delete, post, routes, Route, State};
use serde::Deserialize;

use super::{chat_for, chat_id};
use crate::auth::{Csrf, User};
use crate::db::chats::{self, ChangeError, Chat};
use crate::db::{users, Db};
use crate::error::{Error, Result};
use crate::json::JsonBody;
use crate::live::Live;
use crate::model::ChatId;
use crate::validate::{username_key, Invalid};

pub fn routes() -> Vec<Route> {
    routes![add, remove]
}

/// A refused change to a chat, as the person is told.
pub fn refused(e: ChangeError) -> Error {
    match e {
        ChangeError::NotFound => Error::NotFound,
        ChangeError::Direct => Invalid::new(
            "username",
            "A direct chat is between its two people: start a group to talk with more.",
        )
        .into(),
        ChangeError::Closed => {
            Error::Forbidden("This chat is closed: it can be read but not changed.")
        }
        ChangeError::AlreadyMember => {
            Invalid::new("username", "That person is already in this group.").into()
        }
        ChangeError::NotAllowed => {
            Error::Forbidden("Only staff remove other people; anyone may leave.")
        }
        ChangeError::Db(e) => Error::Database(e),
    }
}

#[derive(utoipa::ToSchema, Deserialize)]
struct NewMember {
    username: String,
}

#[utoipa::path(post, path = "/api/chats/{id}/members", tag = "chats", params(("id" = i64, Path, description = "The chat", example = 1)), request_body = NewMember, responses((status = 200, description = "The group with its new member", body = Chat), (status = "4XX", description = "The error shape: 400 malformed, 401 not signed in, 403 CSRF or role, 404 unknown or not a member, 413 too large, 422 invalid (with `field`), 429 throttled", body = crate::openapi::ErrorBody)))]
#[post("/chats/<id>/members", data = "<body>")]
async fn add(
    id: Result<ChatId, &str>,
    user: User,
    _csrf: Csrf,
    db: &Db,
    live: &State<Arc<Live>>,
    body: JsonBody<NewMember>,
) -> Result<Json<Chat>> {
    let id = chat_id(id)?;
    super::require_member(db, id, user.id).await?;
    let person = users::by_username(&db.read, &username_key(&body.0.username))
        .await?
        .filter(|person| person.is_active)
        .ok_or_else(|| Invalid::new("username", "There is no one with that username."))?;
    chats::add_member(&db.write, id, user.id, person.id)
        .await
        .map_err(refused)?;
    chat_for(db, live, user.id, id).await
}

#[utoipa::path(delete, path = "/api/chats/{id}/members/{username}", tag = "chats", params(("id" = i64, Path, description = "The chat", example = 1), ("username" = String, Path, description = "The member: oneself to leave")), responses((status = 204, description = "Removed"), (status = "4XX", description = "The error shape: 400 malformed, 401 not signed in, 403 CSRF or role, 404 unknown or not a member, 413 too large, 422 invalid (with `field`), 429 throttled", body = crate::openapi::ErrorBody)))]
#[delete("/chats/<id>/members/<username>")]
async fn remove(
    id: Result<ChatId, &str>,
    username: &str,
    user: User,
    _csrf: Csrf,
    db: &Db,
) -> Result<Status> {
    let id = chat_id(id)?;
    let person = users::by_username(&db.read, &username_key(username))
        .await?
        .ok_or(Error::NotFound)?;
    chats::remove_member(&db.write, id, user.id, person.id, user.role.is_staff())
        .await
        .map_err(refused)?;
    Ok(Status::NoContent)
}
