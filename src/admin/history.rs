//! The console's history (Django's LogEntry): written in the transaction of each change,
//! shown per object and on the index.

use rocket::{get, routes, Route};
use rocket_dyn_templates::Template;
use serde_json::{json, Value as Json};

use crate::db::admin::{self as store, LogEntry, Logged};
use crate::db::backend::Pool;
use crate::db::WriteTx;

use crate::admin::describe::Model;
use crate::admin::guard::Staff;
use crate::admin::page::{crumbs, model_json, render, show_time};
use crate::admin::{form, model, object_id};
use crate::auth::User;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::model::Timestamp;

pub fn routes() -> Vec<Route> {
    routes![history]
}

#[derive(Clone, Copy)]
pub enum Flag {
    Add = 1,
    Change = 2,
    Delete = 3,
}

pub async fn log(
    tx: &mut WriteTx,
    actor: &User,
    model: &Model,
    id: i64,
    repr: &str,
    flag: Flag,
    message: &str,
) -> sqlx::Result<()> {
    let entry = LogEntry {
        actor: actor.id,
        object_type: model.slug,
        object_id: id,
        object_repr: repr,
        flag: flag as i64,
        message,
    };
    store::log(tx, entry).await
}

fn action_word(flag: i64) -> &'static str {
    match flag {
        1 => "add",
        2 => "change",
        _ => "delete",
    }
}

fn entry_json(entry: Logged) -> Json {
    let Logged {
        action_time: time,
        username: user,
        action_flag: flag,
        change_message: message,
        object_type,
        object_id,
        object_repr,
    } = entry;
    let url = (flag != Flag::Delete as i64)
        .then(|| model(&object_type).ok())
        .flatten()
        .zip(object_id.parse::<i64>().ok())
        .map(|(m, id)| m.object_url(id, "change"));
    let model_label = model(&object_type)
        .map(|m| crate::admin::describe::capitalize(m.name))
        .unwrap_or(object_type);
    json!({
        "time": Timestamp(time).to_rfc3339(),
        "time_display": show_time(time),
        "user": user,
        "action": action_word(flag),
        "message": message,
        "model_label": model_label,
        "object_repr": object_repr,
        "url": url,
    })
}

/// The newest entries, for the index's "Recent actions".
pub async fn recent(db: &Pool, limit: i64) -> sqlx::Result<Vec<Json>> {
    let entries = store::recent(db, limit).await?;
    Ok(entries.into_iter().map(entry_json).collect())
}

#[get("/admin/<slug>/<id>/history")]
async fn history(slug: &str, id: &str, staff: Staff, db: &Db) -> Result<Template> {
    let model = model(slug)?;
    let id = object_id(id)?;
    let mut conn = db.read.acquire().await?;
    if form::load(conn.borrow(), model, id).await?.is_none() {
        return Err(Error::NotFound);
    }
    let repr = form::repr(conn.borrow(), model, id).await?;
    drop(conn);
    let entries = store::history(&db.read, model.slug, id).await?;
    let body = json!({
        "model": model_json(model, model.rules.can_add(&staff.user)),
        "object": { "id": id, "repr": repr, "url": model.object_url(id, "change") },
        "entries": entries.into_iter().map(entry_json).collect::<Vec<_>>(),
    });
    let title = format!("Change history: {repr}");
    let crumbs = crumbs(Some(model), Some((id, &repr)), Some("History"));
    Ok(render(
        &staff,
        "admin/object_history.html",
        &title,
        crumbs,
        body,
    ))
}
