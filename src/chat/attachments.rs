//! `POST /api/chats/<id>/attachments`: an upload, which a message then claims.

use rocket::data::Data;
use rocket::http::{ContentType, Status};
use rocket::serde::json::Json;
use rocket::{post, routes, Route, State};

use super::chat_id;
use crate::auth::{Csrf, User};
use crate::config::Settings;
use crate::db::chats;
use crate::db::files::Attachment;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::files::upload::{answer, Declared, Upload};
use crate::model::{ChatId, ChatStatus};

pub fn routes() -> Vec<Route> {
    routes![create]
}

#[allow(clippy::too_many_arguments)]
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
        Some(ChatStatus::Closed) => {
            return Err(Error::Forbidden(
                "This chat is closed: it can be read but not written to.",
            ))
        }
        Some(ChatStatus::Open) => {}
    }
    let upload = Upload {
        chat,
        uploader: user.id,
        max_mb: settings.max_upload_mb,
        writer: &db.write,
    };
    let id = upload.receive(content_type, declared, data).await?;
    Ok((Status::Created, Json(answer(&db.read, id).await?)))
}
