//! Deleting: the confirmation page listing what goes too, then the deletion with its
//! history, for one object (`/admin/<model>/<id>/delete/`) or a bulk selection.

use either::Either::{self, Left, Right};
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes, Route};
use rocket_dyn_templates::Template;
use serde_json::{json, Value as Json};

use crate::admin::describe::Model;
use crate::admin::guard::Staff;
use crate::admin::history::{self, Flag};
use crate::admin::page::{self, crumbs, model_json, render};
use crate::admin::params::Params;
use crate::admin::{form, model, object_id};
use crate::auth::CsrfForm;
use crate::db::admin as store;
use crate::db::Db;
use crate::error::{Error, Result};

pub fn routes() -> Vec<Route> {
    routes![delete_page, delete]
}

/// How many objects a confirmation page lists by name.
const LISTED: usize = 100;
/// How many related objects of each kind it names.
const EXAMPLES: i64 = 10;

fn require(staff: &Staff, model: &Model) -> Result<()> {
    if model.rules.can_delete(&staff.user) {
        Ok(())
    } else {
        Err(Error::Forbidden("You may not delete these."))
    }
}

/// Names of `ids` that exist, in id order.
async fn names(db: &Db, model: &Model, ids: &[i64]) -> Result<Vec<(i64, String)>> {
    Ok(store::names(&db.read, model.table, model.repr, ids).await?)
}

/// "Are you sure?" for `ids`; `bulk` is the changelist form being confirmed.
pub async fn confirmation(
    staff: &Staff,
    model: &'static Model,
    ids: &[i64],
    db: &Db,
    bulk: Option<&Params>,
    cancel_url: String,
) -> Result<Template> {
    require(staff, model)?;
    let objects = names(db, model, ids).await?;
    if objects.is_empty() {
        return Err(Error::NotFound);
    }
    let found: Vec<i64> = objects.iter().map(|(id, _)| *id).collect();
    let mut related = Vec::new();
    let mut summary = vec![json!({ "label": model.label(), "count": objects.len() })];
    for rel in model.related {
        let (count, examples) =
            store::related(&db.read, rel.table, rel.key, rel.repr, &found, EXAMPLES).await?;
        if count == 0 {
            continue;
        }
        let more = count - examples.len() as i64;
        related.push(
            json!({ "label": rel.label, "count": count, "examples": examples, "more": more }),
        );
        summary.push(json!({ "label": rel.label, "count": count }));
    }
    let listed: Vec<Json> = objects
        .iter()
        .take(LISTED)
        .map(|(id, repr)| json!({ "repr": repr, "url": model.object_url(*id, "change") }))
        .collect();
    let (form_url, single) = match bulk {
        Some(_) => (cancel_url.clone(), None),
        None => (model.object_url(found[0], "delete"), objects.first()),
    };
    let body = json!({
        "model": model_json(model, model.rules.can_add(&staff.user)),
        "objects": listed,
        "more": objects.len().saturating_sub(LISTED),
        "related": related,
        "summary": summary,
        "bulk": bulk.is_some(),
        "selected": found,
        "select_across": bulk.and_then(|f| f.get("select_across")).unwrap_or("0"),
        "cancel_url": match single {
            Some((id, _)) => model.object_url(*id, "change"),
            None => cancel_url,
        },
        "form_url": form_url,
    });
    let crumbs = match single {
        Some((id, repr)) => crumbs(Some(model), Some((*id, repr)), Some("Delete")),
        None => crumbs(
            Some(model),
            None,
            Some(&format!("Delete multiple {}", model.plural)),
        ),
    };
    Ok(render(
        staff,
        "admin/delete_confirmation.html",
        "Are you sure?",
        crumbs,
        body,
    ))
}

/// Deletes `ids` (and, through the schema's cascades, what goes with them) and logs each.
pub async fn run(
    staff: &Staff,
    model: &Model,
    ids: &[i64],
    db: &Db,
    back: String,
) -> Result<Flash<Redirect>> {
    require(staff, model)?;
    if let Some(why) = model.rules.check_delete(&staff.user, ids) {
        return Ok(page::refused(back, why));
    }
    let mut tx = db.write.begin().await?;
    model.rules.deleting(&mut tx, ids).await?;
    let doomed = store::delete(&mut tx, model.table, model.repr, ids).await?;
    for (id, repr) in &doomed {
        let repr = repr
            .clone()
            .unwrap_or_else(|| format!("{} {id}", model.name));
        history::log(&mut tx, &staff.user, model, *id, &repr, Flag::Delete, "").await?;
    }
    if let Err(invalid) = model.rules.invariant(&mut tx, &staff.user).await {
        return Ok(page::refused(back, invalid.message));
    }
    tx.commit().await?;
    let message = match &doomed[..] {
        [(_, repr)] => format!(
            "The {} “{}” was deleted successfully.",
            model.name,
            repr.as_deref().unwrap_or_default()
        ),
        many => format!("Successfully deleted {} {}.", many.len(), model.plural),
    };
    Ok(page::done(model.url(), message))
}

#[get("/admin/<slug>/<id>/delete")]
async fn delete_page(slug: &str, id: &str, staff: Staff, db: &Db) -> Result<Template> {
    let model = model(slug)?;
    let id = object_id(id)?;
    confirmation(&staff, model, &[id], db, None, model.url()).await
}

#[post("/admin/<slug>/<id>/delete", data = "<form>")]
async fn delete(
    slug: &str,
    id: &str,
    staff: Staff,
    form: CsrfForm<Params>,
    db: &Db,
) -> Result<Either<Flash<Redirect>, Template>> {
    let model = model(slug)?;
    let id = object_id(id)?;
    require(&staff, model)?;
    let mut conn = db.read.acquire().await?;
    if form::load(conn.borrow(), model, id).await?.is_none() {
        return Err(Error::NotFound);
    }
    drop(conn);
    if form.0.get("post") != Some("yes") {
        return Ok(Right(
            confirmation(&staff, model, &[id], db, None, model.url()).await?,
        ));
    }
    Ok(Left(
        run(&staff, model, &[id], db, model.object_url(id, "change")).await?,
    ))
}
