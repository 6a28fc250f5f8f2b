//! `POST /api/chats/<id>/attachments`: an upload, which a message then claims.

use rocket::data::Data;
use rocket::http::{ContentType, Status};
use rocket::serde::json::Json;
use rocket::{post, routes, Route, State};

use super::{chat_id, closed};
use crate::auth::{Csrf, User};
use crate::config::Settings;
use crate::db::chats;
use crate::db::files::Attachment;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::files::upload::{Declared, Upload};
use crate::model::{ChatId, ChatStatus};

pub fn routes() -> Vec<Route> {
    routes![create]
}

#[allow(clippy::too_many_arguments)]
#[utoipa::path(post, path = "/api/chats/{id}/attachments", tag = "files", params(("id" = i64, Path, description = "The chat", example = 1)), request_body(content_type = "multipart/form-data", description = "One part `file`"), responses((status = 201, description = "Uploaded, to be sent with a message", body = crate::db::files::Attachment), (status = "4XX", description = "The error shape: 400 malformed, 401 not signed in, 403 CSRF or role, 404 unknown or not a member, 413 too large, 422 invalid (with `field`), 429 throttled", body = crate::openapi::ErrorBody)))]
#[post("/chats/<id>/attachments", data = "<data>")]
async fn create(
    id: Result<ChatId, &str>,
    user: User,
    _csrf: Csrf,
    db: &Db,
    settings: &State<Settings>,
    content_type: Option<&ContentType>,
    declared: Declared,
    data: Data<'_>,
) -> Result<(Status, Json<Attachment>)> {
    let chat = chat_id(id)?;
    // Before a byte of the body is read.
    match chats::status_for_member(&db.read, chat, user.id).await? {
        None => return Err(Error::NotFound),
        Some(ChatStatus::Closed) => return Err(closed()),
        Some(ChatStatus::Open) => {}
    }
    let upload = Upload {
        chat,
        uploader: user.id,
        max_mb: settings.max_upload_mb,
        writer: &db.write,
    };
    let file = upload.receive(content_type, declared, data).await?;
    Ok((Status::Created, Json(file)))
}
