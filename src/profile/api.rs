//! `/api/me`: the caller's profile and preferences, their password and their avatar.

use rocket::data::Data;
use rocket::http::{ContentType, Status};
use rocket::serde::json::Json;
use rocket::{delete, get, patch, post, put, routes, Route, State};
use serde::{Deserialize, Deserializer, Serialize};

use super::password::{self, Typed};
use super::{avatar, preferences, Preferences};
use crate::auth::cache::Sessions;
use crate::auth::throttle::Throttle;
use crate::auth::{Client, Csrf, User};
use crate::db::{profiles, Db};
use crate::error::{Error, Result};
use crate::files::upload::Declared;
use crate::json::JsonBody;
use crate::model::Role;
use crate::validate::{DisplayName, Email};

pub fn routes() -> Vec<Route> {
    routes![me, update, change_password, put_avatar, delete_avatar]
}

/// The caller as `GET /api/me` shows them.
#[derive(utoipa::ToSchema, Serialize)]
pub struct Me {
    id: i64,
    username: String,
    /// Their display name, or their username when they chose none.
    display_name: String,
    email: String,
    role: Role,
    avatar_url: Option<String>,
    preferences: Preferences,
}

pub async fn me_of(db: &Db, user: &User) -> Result<Me> {
    let found = profiles::profile(&db.read, user.id)
        .await?
        .ok_or(Error::NotSignedIn)?;
    Ok(Me {
        id: found.id.0,
        display_name: found.shown_name().to_owned(),
        avatar_url: found.avatar_url(),
        preferences: Preferences::from_stored(&found.preferences),
        username: found.username,
        email: found.email,
        role: found.role,
    })
}

#[utoipa::path(get, path = "/api/me", tag = "people", responses((status = 200, description = "The caller's profile and preferences", body = Me), (status = "4XX", description = "The error shape: 400 malformed, 401 not signed in, 403 CSRF or role, 404 unknown or not a member, 413 too large, 422 invalid (with `field`), 429 throttled", body = crate::openapi::ErrorBody)))]
#[get("/me")]
async fn me(user: User, db: &Db) -> Result<Json<Me>> {
    Ok(Json(me_of(db, &user).await?))
}

/// Any of the profile's fields; `"display_name": null` shows the username again.
#[derive(utoipa::ToSchema, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileChange {
    #[serde(default, deserialize_with = "present")]
    display_name: Option<Option<String>>,
    email: Option<String>,
    preferences: Option<preferences::Change>,
}

/// A field that is present, even as `null`, is `Some`.
fn present<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

#[utoipa::path(patch, path = "/api/me", tag = "people", request_body = ProfileChange, responses((status = 200, description = "The profile as changed", body = Me), (status = "4XX", description = "The error shape: 400 malformed, 401 not signed in, 403 CSRF or role, 404 unknown or not a member, 413 too large, 422 invalid (with `field`), 429 throttled", body = crate::openapi::ErrorBody)))]
#[patch("/me", data = "<body>")]
async fn update(
    user: User,
    _csrf: Csrf,
    db: &Db,
    sessions: &State<Sessions>,
    body: JsonBody<ProfileChange>,
) -> Result<Json<Me>> {
    let ProfileChange {
        display_name,
        email,
        preferences,
    } = body.0;
    let display_name = match display_name {
        Some(Some(name)) => Some(Some(DisplayName::parse(&name)?)),
        Some(None) => Some(None),
        None => None,
    };
    let email = email.map(|e| Email::parse("email", &e)).transpose()?;
    let preferences = preferences.map(|change| user.preferences.with(&change).to_stored());
    let change = profiles::Change {
        display_name: display_name.as_ref().map(Option::as_ref),
        email: email.as_ref(),
        preferences,
    };
    profiles::update(&db.write, user.id, &change).await?;
    // Sends and pages of every session of theirs carry the new name and theme.
    sessions.forget_user(user.id);
    Ok(Json(me_of(db, &user).await?))
}

#[derive(utoipa::ToSchema, Deserialize)]
struct PasswordChange {
    current: String,
    password1: String,
    password2: String,
}

#[utoipa::path(post, path = "/api/me/password", tag = "people", request_body = PasswordChange, responses((status = 204, description = "Changed; the other sessions are signed out"), (status = "4XX", description = "The error shape: 400 malformed, 401 not signed in, 403 CSRF or role, 404 unknown or not a member, 413 too large, 422 invalid (with `field`), 429 throttled", body = crate::openapi::ErrorBody)))]
#[post("/me/password", data = "<body>")]
async fn change_password(
    user: User,
    _csrf: Csrf,
    db: &Db,
    throttle: &State<Throttle>,
    sessions: &State<Sessions>,
    client: Client,
    body: JsonBody<PasswordChange>,
) -> Result<Status> {
    let typed = Typed {
        current: &body.0.current,
        password1: &body.0.password1,
        password2: &body.0.password2,
    };
    match password::change(db, throttle, sessions, &client, &user, typed).await? {
        Ok(()) => Ok(Status::NoContent),
        // The API's error names one field: the first.
        Err(invalid) => Err(invalid.into_iter().next().map_or_else(
            || Error::BadRequest("The password was refused.".into()),
            Error::Invalid,
        )),
    }
}

#[utoipa::path(put, path = "/api/me/avatar", tag = "people", request_body(content_type = "multipart/form-data", description = "One part `file`: an image"), responses((status = 200, description = "The profile with its new avatar", body = Me), (status = "4XX", description = "The error shape: 400 malformed, 401 not signed in, 403 CSRF or role, 404 unknown or not a member, 413 too large, 422 invalid (with `field`), 429 throttled", body = crate::openapi::ErrorBody)))]
#[put("/me/avatar", data = "<data>")]
async fn put_avatar(
    user: User,
    _csrf: Csrf,
    db: &Db,
    sessions: &State<Sessions>,
    content_type: Option<&ContentType>,
    declared: Declared,
    data: Data<'_>,
) -> Result<Json<Me>> {
    let bytes =
        crate::files::upload::whole_file(content_type, declared, data, avatar::UPLOAD_MAX_MB)
            .await?;
    avatar::store(db, user.id, bytes).await?;
    sessions.forget_user(user.id);
    Ok(Json(me_of(db, &user).await?))
}

#[utoipa::path(delete, path = "/api/me/avatar", tag = "people", responses((status = 204, description = "Back to initials"), (status = "4XX", description = "The error shape: 400 malformed, 401 not signed in, 403 CSRF or role, 404 unknown or not a member, 413 too large, 422 invalid (with `field`), 429 throttled", body = crate::openapi::ErrorBody)))]
#[delete("/me/avatar")]
async fn delete_avatar(
    user: User,
    _csrf: Csrf,
    db: &Db,
    sessions: &State<Sessions>,
) -> Result<Status> {
    profiles::remove_avatar(&db.write, user.id).await?;
    sessions.forget_user(user.id);
    Ok(Status::NoContent)
}
