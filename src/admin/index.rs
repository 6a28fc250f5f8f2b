//! The console's home: the models with their counts, the bytes files take, recent actions
//! and a chart of messages per day, drawn as SVG on the server.

use rocket::{get, routes, Route};
use rocket_dyn_templates::Template;
use serde_json::{json, Value as Json};

use crate::admin::guard::Staff;
use crate::admin::history;
use crate::admin::page::{render, show_bytes, show_count};
use crate::admin::MODELS;
use crate::db::Db;
use crate::error::Result;
use crate::model::Timestamp;

pub fn routes() -> Vec<Route> {
    routes![index]
}

const DAYS: i64 = 30;
const DAY_MS: i64 = 86_400_000;
const WIDTH: f64 = 600.0;
const HEIGHT: f64 = 160.0;

#[get("/admin")]
async fn index(staff: Staff, db: &Db) -> Result<Template> {
    let mut models = Vec::new();
    for model in MODELS.iter().filter(|m| m.rules.can_view(&staff.user)) {
        let count = crate::db::admin::count_all(&db.read, model.table).await?;
        models.push(json!({
            "slug": model.slug,
            "label": model.label(),
            "count": count,
            "url": model.url(),
            "add_url": model.rules.can_add(&staff.user).then(|| format!("/admin/{}/add/", model.slug)),
        }));
    }
    let stored = crate::db::files::stored_bytes(&db.read).await?;
    let body = json!({
        "models": models,
        "storage": {
            "shown": show_bytes(stored),
            "bytes": show_count(stored),
            "url": "/admin/files/?o=-size",
        },
        "recent": history::recent(&db.read, 10).await?,
        "chart": chart(db).await?,
    });
    Ok(render(
        &staff,
        "admin/index.html",
        "Site administration",
        Vec::new(),
        body,
    ))
}

/// Messages per UTC day over the last 30 days, as bar geometry for an SVG.
async fn chart(db: &Db) -> Result<Json> {
    let today = Timestamp::now().0.div_euclid(DAY_MS);
    let first = today - (DAYS - 1);
    let per_day = crate::db::admin::messages_per_day(&db.read, Timestamp(first * DAY_MS)).await?;
    let counts: Vec<(i64, i64)> = (first..=today)
        .map(|day| {
            (
                day,
                per_day
                    .iter()
                    .find(|(d, _)| *d == day)
                    .map_or(0, |(_, n)| *n),
            )
        })
        .collect();
    let max = counts.iter().map(|(_, n)| *n).max().unwrap_or(0);
    let slot = WIDTH / DAYS as f64;
    let bars: Vec<Json> = counts
        .iter()
        .enumerate()
        .map(|(i, (day, count))| {
            let h = if max == 0 {
                0.0
            } else {
                (*count as f64 / max as f64) * (HEIGHT - 10.0)
            };
            let h = if *count > 0 { h.max(2.0) } else { 0.0 };
            json!({
                "x": round(i as f64 * slot + 2.0),
                "y": round(HEIGHT - h),
                "w": round(slot - 4.0),
                "h": round(h),
                "day": day_name(*day),
                "count": count,
            })
        })
        .collect();
    Ok(json!({
        "width": WIDTH,
        "height": HEIGHT,
        "total": counts.iter().map(|(_, n)| n).sum::<i64>(),
        "max": max,
        "first_day": day_name(first),
        "last_day": day_name(today),
        "bars": bars,
    }))
}

fn round(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn day_name(day: i64) -> String {
    Timestamp(day * DAY_MS)
        .to_rfc3339()
        .chars()
        .take(10)
        .collect()
}
