//! A bot's avatar, at `/admin/users/<id>/avatar/`: a bot never signs in to choose one on
//! `/account`, so staff upload it here, through the same pipeline as anyone's avatar
//! (decoded with limits, cut square, 256 px, re-encoded), or remove it.

use rocket::data::ToByteUnit;
use rocket::form::{self, DataField, FromForm, FromFormField};
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes, Route};
use rocket_dyn_templates::Template;
use serde_json::json;

use crate::admin::bot_key::bot;
use crate::admin::guard::Staff;
use crate::admin::history::{self, Flag};
use crate::admin::page::{crumbs, model_json, render};
use crate::admin::users::USERS;
use crate::auth::csrf::NoFields;
use crate::auth::CsrfForm;
use crate::db::{profiles, Db};
use crate::error::{Error, Result};
use crate::model::UserId;
use crate::profile::avatar;

pub fn routes() -> Vec<Route> {
    routes![page, upload, remove]
}

/// The most a picture sent through the console may be: a bot's logo needs far less, and
/// Rocket reads a whole multipart form within its 2 MiB `data-form` limit.
const PICTURE_MAX_KIB: u64 = 1900;

/// The uploaded picture's bytes.
struct Picture(Vec<u8>);

#[rocket::async_trait]
impl<'r> FromFormField<'r> for Picture {
    /// Text where a file belongs: judged as any bytes are (not an image), so a form sent
    /// by hand gets the page's own answer, after its CSRF token has been checked.
    fn from_value(field: form::ValueField<'r>) -> form::Result<'r, Self> {
        Ok(Picture(field.value.as_bytes().to_vec()))
    }

    async fn from_data(field: DataField<'r, '_>) -> form::Result<'r, Self> {
        let read = field
            .data
            .open(PICTURE_MAX_KIB.kibibytes())
            .into_bytes()
            .await?;
        if !read.is_complete() {
            return Err(
                form::Error::validation("The picture is over 1.9 MB: use a smaller one.").into(),
            );
        }
        Ok(Picture(read.into_inner()))
    }
}

#[derive(FromForm)]
struct Upload {
    file: Option<Picture>,
}

type Answer = rocket::Either<Flash<Redirect>, Template>;

async fn page_for(
    staff: &Staff,
    db: &Db,
    id: i64,
    repr: &str,
    error: Option<&str>,
) -> Result<Template> {
    let avatar_url = profiles::profile(&db.read, UserId(id))
        .await?
        .and_then(|profile| profile.avatar_url());
    let body = json!({
        "model": model_json(&USERS, USERS.rules.can_add(&staff.user)),
        "object": { "id": id, "repr": repr, "url": USERS.object_url(id, "change") },
        "avatar_url": avatar_url,
        "initials": crate::profile::initials(repr),
        "colour": crate::profile::colour(repr),
        "error": error,
    });
    let title = format!("Avatar: {repr}");
    let crumbs = crumbs(Some(&USERS), Some((id, repr)), Some("Avatar"));
    Ok(render(staff, "admin/bot_avatar.html", &title, crumbs, body))
}

async fn logged(db: &Db, staff: &Staff, id: i64, repr: &str, message: &str) -> Result<()> {
    let mut tx = db.write.begin().await?;
    history::log(
        &mut tx,
        &staff.user,
        &USERS,
        id,
        repr,
        Flag::Change,
        message,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[get("/admin/users/<id>/avatar")]
async fn page(id: &str, staff: Staff, db: &Db) -> Result<Template> {
    let (id, repr) = bot(db, id).await?;
    page_for(&staff, db, id, &repr, None).await
}

#[post("/admin/users/<id>/avatar", data = "<form>")]
async fn upload(id: &str, staff: Staff, form: CsrfForm<Upload>, db: &Db) -> Result<Answer> {
    let (id, repr) = bot(db, id).await?;
    let CsrfForm(Upload { file }) = form;
    let Some(Picture(bytes)) = file else {
        let page = page_for(&staff, db, id, &repr, Some("Choose a picture first.")).await?;
        return Ok(rocket::Either::Right(page));
    };
    match avatar::store(db, UserId(id), bytes).await {
        Ok(_) => {}
        Err(Error::Invalid(invalid)) => {
            let page = page_for(&staff, db, id, &repr, Some(&invalid.message)).await?;
            return Ok(rocket::Either::Right(page));
        }
        Err(e) => return Err(e),
    }
    logged(db, &staff, id, &repr, "Changed the avatar.").await?;
    let back = Redirect::to(USERS.object_url(id, "avatar"));
    Ok(rocket::Either::Left(Flash::success(
        back,
        "The avatar was changed.",
    )))
}

#[post("/admin/users/<id>/avatar/remove", data = "<form>")]
async fn remove(
    id: &str,
    staff: Staff,
    form: CsrfForm<NoFields>,
    db: &Db,
) -> Result<Flash<Redirect>> {
    let CsrfForm(NoFields) = form;
    let (id, repr) = bot(db, id).await?;
    profiles::remove_avatar(&db.write, UserId(id)).await?;
    logged(db, &staff, id, &repr, "Removed the avatar.").await?;
    let back = Redirect::to(USERS.object_url(id, "avatar"));
    Ok(Flash::success(
        back,
        "The avatar was removed: initials show instead.",
    ))
}
