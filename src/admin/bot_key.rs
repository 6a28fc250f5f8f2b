//! A bot's key, made at `/admin/users/<id>/bot-key/`: the POST makes a new key, stores its
//! hash (the old key stops working) and shows the key on the page it answers with, the
//! only time it is shown. Making a bot's first key and regenerating it are the same act.
//! The key is also kept sealed (`webhooks::seal`): webhooks are signed with it.

use std::sync::Arc;

use rocket::{get, post, routes, Route, State};
use rocket_dyn_templates::Template;
use serde_json::json;

use crate::admin::guard::Staff;
use crate::admin::history::{self, Flag};
use crate::admin::page::{crumbs, model_json, render};
use crate::admin::users::USERS;
use crate::admin::{form, object_id};
use crate::auth::csrf::NoFields;
use crate::auth::{token, CsrfForm};
use crate::db::{bots, Db};
use crate::error::{Error, Result};
use crate::security::NoStore;
use crate::webhooks::KeySeal;

pub fn routes() -> Vec<Route> {
    routes![key_page, new_key]
}

/// The bot's name, if `id` is a bot.
pub(super) async fn bot(db: &Db, id: &str) -> Result<(i64, String)> {
    let id = object_id(id)?;
    let mut conn = db.read.acquire().await?;
    let values = form::load(conn.borrow(), &USERS, id)
        .await?
        .ok_or(Error::NotFound)?;
    if values.get("is_bot").and_then(|v| v.int()) != Some(1) {
        return Err(Error::NotFound);
    }
    Ok((id, form::repr(conn.borrow(), &USERS, id).await?))
}

fn page_for(staff: &Staff, id: i64, repr: &str, key: Option<&str>) -> Template {
    let body = json!({
        "model": model_json(&USERS, USERS.rules.can_add(&staff.user)),
        "object": { "id": id, "repr": repr, "url": USERS.object_url(id, "change") },
        "key": key,
        "example": key.map(|key| format!("/bots/{key}/chats/<chat id>/messages")),
    });
    let title = format!("Bot key: {repr}");
    let crumbs = crumbs(Some(&USERS), Some((id, repr)), Some("Bot key"));
    render(staff, "admin/bot_key.html", &title, crumbs, body)
}

#[get("/admin/users/<id>/bot-key")]
async fn key_page(id: &str, staff: Staff, db: &Db) -> Result<Template> {
    let (id, repr) = bot(db, id).await?;
    Ok(page_for(&staff, id, &repr, None))
}

#[post("/admin/users/<id>/bot-key", data = "<form>")]
async fn new_key(
    id: &str,
    staff: Staff,
    form: CsrfForm<NoFields>,
    db: &Db,
    seal: &State<Arc<KeySeal>>,
) -> Result<NoStore<Template>> {
    let CsrfForm(NoFields) = form;
    let (id, repr) = bot(db, id).await?;
    let key = token::new_bot_key();
    let mut tx = db.write.begin().await?;
    if !bots::set_key(&mut tx, id, &token::hash(&key), &seal.seal(id, &key)).await? {
        return Err(Error::NotFound);
    }
    history::log(
        &mut tx,
        &staff.user,
        &USERS,
        id,
        &repr,
        Flag::Change,
        "Made a new bot key.",
    )
    .await?;
    tx.commit().await?;
    Ok(NoStore::new(page_for(&staff, id, &repr, Some(&key))))
}
