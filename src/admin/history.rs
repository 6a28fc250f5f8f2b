//! The console's history (Django's LogEntry): written in the transaction of each change,
//! shown per object and on the index.

use rocket::{get, routes, Route};
use rocket_dyn_templates::Template;
use serde_json::{json, Value as Json};
use sqlx::SqlitePool;

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
    sqlx::query(
        "INSERT INTO admin_log (action_time, user_id, object_type, object_id, object_repr, action_flag, change_message)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(Timestamp::now())
    .bind(actor.id)
    .bind(model.slug)
    .bind(id.to_string())
    .bind(repr.chars().take(200).collect::<String>())
    .bind(flag as i64)
    .bind(message)
    .execute(tx)
    .await
    .map(drop)
}

fn action_word(flag: i64) -> &'static str {
    match flag {
        1 => "add",
        2 => "change",
        _ => "delete",
    }
}

type Entry = (i64, Option<String>, i64, String, String, String, String);

fn entry_json(entry: Entry) -> Json {
    let (time, user, flag, message, object_type, object_id, object_repr) = entry;
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

const ENTRY: &str = "SELECT l.action_time, u.username, l.action_flag, l.change_message,
        l.object_type, l.object_id, l.object_repr
     FROM admin_log l LEFT JOIN users u ON u.id = l.user_id";

/// The newest entries, for the index's "Recent actions".
pub async fn recent(db: &SqlitePool, limit: i64) -> sqlx::Result<Vec<Json>> {
    let sql = format!("{ENTRY} ORDER BY l.id DESC LIMIT ?");
    let entries: Vec<Entry> = sqlx::query_as(&sql).bind(limit).fetch_all(db).await?;
    Ok(entries.into_iter().map(entry_json).collect())
}

#[get("/admin/<slug>/<id>/history")]
async fn history(slug: &str, id: &str, staff: Staff, db: &Db) -> Result<Template> {
    let model = model(slug)?;
    let id = object_id(id)?;
    let mut conn = db.read.acquire().await?;
    if form::load(&mut *conn, model, id).await?.is_none() {
        return Err(Error::NotFound);
    }
    let repr = form::repr(&mut *conn, model, id).await?;
    let sql = format!("{ENTRY} WHERE l.object_type = ? AND l.object_id = ? ORDER BY l.id");
    let entries: Vec<Entry> = sqlx::query_as(&sql)
        .bind(model.slug)
        .bind(id.to_string())
        .fetch_all(&mut *conn)
        .await?;
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
