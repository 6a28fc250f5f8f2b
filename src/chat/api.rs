//! `/api/me`, `/api/users` and `/api/chats`.

use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{get, patch, post, routes, Route, State};
use serde::{Deserialize, Serialize};

use super::{chat_id, require_member};
use crate::auth::{Csrf, User};
use crate::db::chats::{self, Chat, OwnView};
use crate::db::{users, Db};
use crate::error::{Error, Result};
use crate::json::JsonBody;
use crate::live::Live;
use crate::model::{ChatId, NotifyLevel};
use crate::validate::{username_key, Invalid, Title};

pub fn routes() -> Vec<Route> {
    routes![people, list, create, update]
}

#[derive(utoipa::ToSchema, Serialize)]
struct Person {
    id: i64,
    username: String,
    display_name: String,
    avatar_url: Option<String>,
    /// A bot account (shown with a "bot" badge).
    bot: bool,
    online: bool,
    last_seen: Option<crate::model::Timestamp>,
}

#[utoipa::path(get, path = "/api/users", tag = "people", responses((status = 200, description = "Everyone active, with presence", body = Vec<Person>), (status = "4XX", description = "The error shape: 400 malformed, 401 not signed in, 403 CSRF or role, 404 unknown or not a member, 413 too large, 422 invalid (with `field`), 429 throttled", body = crate::openapi::ErrorBody)))]
#[get("/users")]
async fn people(
    _user: User,
    db: &Db,
    live: &State<std::sync::Arc<Live>>,
) -> Result<Json<Vec<Person>>> {
    let people = users::active(&db.read).await?;
    // Whether everyone sees everyone's presence depends on how many the list shows.
    live.set_team(people.len());
    Ok(Json(
        people
            .into_iter()
            .map(|p| {
                // Memory knows better when this process has seen the person poll.
                let (online, last_seen) = match live.status(p.id) {
                    Some((online, seen)) => {
                        (online, Some(p.last_seen.map_or(seen, |s| s.max(seen))))
                    }
                    None => (false, p.last_seen),
                };
                Person {
                    id: p.id.0,
                    username: p.username,
                    display_name: p.display_name,
                    avatar_url: p.avatar_url,
                    bot: p.is_bot,
                    online,
                    last_seen,
                }
            })
            .collect(),
    ))
}

#[utoipa::path(get, path = "/api/chats", tag = "chats", responses((status = 200, description = "The caller's chats", body = Vec<Chat>), (status = "4XX", description = "The error shape: 400 malformed, 401 not signed in, 403 CSRF or role, 404 unknown or not a member, 413 too large, 422 invalid (with `field`), 429 throttled", body = crate::openapi::ErrorBody)))]
#[get("/chats")]
async fn list(user: User, db: &Db, live: &State<std::sync::Arc<Live>>) -> Result<Json<Vec<Chat>>> {
    let chats = chats::for_member(&db.read, user.id).await?;
    Ok(Json(
        chats
            .into_iter()
            .map(|chat| live.with_deliveries(chat))
            .collect(),
    ))
}

/// `{"with": "bob"}` opens a direct chat; `{"title": ..., "members": [...]}` a group.
#[derive(utoipa::ToSchema, Deserialize)]
struct NewChat {
    with: Option<String>,
    title: Option<String>,
    members: Option<Vec<String>>,
}

#[utoipa::path(post, path = "/api/chats", tag = "chats", request_body = NewChat, responses((status = 201, description = "Created", body = Chat), (status = 200, description = "The direct chat existed", body = Chat), (status = "4XX", description = "The error shape: 400 malformed, 401 not signed in, 403 CSRF or role, 404 unknown or not a member, 413 too large, 422 invalid (with `field`), 429 throttled", body = crate::openapi::ErrorBody)))]
#[post("/chats", data = "<body>")]
async fn create(
    user: User,
    _csrf: Csrf,
    db: &Db,
    body: JsonBody<NewChat>,
) -> Result<(Status, Json<Chat>)> {
    let (id, created) = match body.0 {
        NewChat {
            with: Some(with), ..
        } => open_direct(db, &user, &with).await?,
        NewChat {
            title: Some(title),
            members,
            ..
        } => {
            let title = Title::parse(&title)?;
            let members = find_members(db, &user, members.unwrap_or_default()).await?;
            (
                chats::create_group(&db.write, &title, user.id, &members).await?,
                true,
            )
        }
        _ => return Err(Invalid::new(
            "with",
            "Name the person to chat with (\"with\"), or give a group a \"title\" and \"members\".",
        )
        .into()),
    };
    let chat = chats::one_for_member(&db.read, user.id, id)
        .await?
        .ok_or(Error::NotFound)?;
    let status = if created { Status::Created } else { Status::Ok };
    Ok((status, Json(chat)))
}

async fn open_direct(db: &Db, user: &User, with: &str) -> Result<(crate::model::ChatId, bool)> {
    let other = users::by_username(&db.read, &username_key(with))
        .await?
        .filter(|other| other.is_active)
        .ok_or_else(|| Invalid::new("with", "There is no one with that username."))?;
    if other.id == user.id {
        return Err(Invalid::new("with", "Pick someone other than yourself.").into());
    }
    Ok(chats::open_direct(&db.write, user.id, other.id).await?)
}

async fn find_members(
    db: &Db,
    user: &User,
    names: Vec<String>,
) -> Result<Vec<crate::model::UserId>> {
    const MAX_MEMBERS: usize = 500;
    if names.len() > MAX_MEMBERS {
        return Err(Invalid::new(
            "members",
            format!("A group has at most {MAX_MEMBERS} members."),
        )
        .into());
    }
    let keys: Vec<String> = names.iter().map(|n| username_key(n)).collect();
    let found = users::active_by_usernames(&db.read, &keys).await?;
    let found_keys: std::collections::HashSet<String> =
        found.iter().map(|p| username_key(&p.username)).collect();
    let unknown: Vec<&str> = names
        .iter()
        .zip(&keys)
        .filter(|(_, key)| !found_keys.contains(*key))
        .map(|(name, _)| name.as_str())
        .collect();
    if !unknown.is_empty() {
        return Err(Invalid::new(
            "members",
            format!("There is no one named {}.", unknown.join(", ")),
        )
        .into());
    }
    let others: Vec<_> = found
        .into_iter()
        .map(|p| p.id)
        .filter(|id| *id != user.id)
        .collect();
    if others.is_empty() {
        return Err(Invalid::new("members", "Add at least one other person.").into());
    }
    Ok(others)
}

/// The caller's own view (`archived`, `notify`), or the group's title: any of them.
#[derive(utoipa::ToSchema, Deserialize)]
struct ChatChange {
    archived: Option<bool>,
    notify: Option<String>,
    title: Option<String>,
}

#[utoipa::path(patch, path = "/api/chats/{id}", tag = "chats", params(("id" = i64, Path, description = "The chat", example = 1)), request_body = ChatChange, responses((status = 200, description = "The chat as changed", body = Chat), (status = "4XX", description = "The error shape: 400 malformed, 401 not signed in, 403 CSRF or role, 404 unknown or not a member, 413 too large, 422 invalid (with `field`), 429 throttled", body = crate::openapi::ErrorBody)))]
#[patch("/chats/<id>", data = "<body>")]
async fn update(
    id: Result<ChatId, &str>,
    user: User,
    _csrf: Csrf,
    db: &Db,
    live: &State<std::sync::Arc<Live>>,
    body: JsonBody<ChatChange>,
) -> Result<Json<Chat>> {
    let id = chat_id(id)?;
    require_member(db, id, user.id).await?;
    let ChatChange {
        archived,
        notify,
        title,
    } = body.0;
    if archived.is_none() && notify.is_none() && title.is_none() {
        return Err(Invalid::new(
            "archived",
            "Give `archived` (true or false) to archive or restore the chat, `notify` (all, \
             mentions or none), or a group's `title`.",
        )
        .into());
    }
    // Everything is checked before anything changes, so a bad field changes nothing.
    let notify = notify
        .map(|word| {
            NotifyLevel::parse(&word).ok_or_else(|| {
                Invalid::new(
                    "notify",
                    "Choose all, mentions or none for what of this chat notifies you.",
                )
            })
        })
        .transpose()?;
    let title = title.map(|title| Title::parse(&title)).transpose()?;
    if let Some(title) = title {
        chats::rename(&db.write, id, user.id, &title)
            .await
            .map_err(super::members::refused)?;
    }
    if archived.is_some() || notify.is_some() {
        let view = OwnView { archived, notify };
        if !chats::set_own_view(&db.write, id, user.id, view).await? {
            return Err(Error::NotFound);
        }
    }
    super::chat_for(db, live, user.id, id).await
}
