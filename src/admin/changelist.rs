//! The changelist of any model (`/admin/<model>/`) and its bulk actions.

use std::collections::HashMap;

use either::Either::{self, Left, Right};
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes, Route};
use rocket_dyn_templates::Template;
use serde_json::{json, Value as Json};

use crate::admin::delete;
use crate::admin::describe::{Action, Cell, Filter, FilterKind, Kind, Model};
use crate::admin::facets::{self, Counts};
use crate::admin::guard::Staff;
use crate::admin::history::{self, Flag};
use crate::admin::list::{List, DATE_CHOICES};
use crate::admin::page::{self, crumbs, model_json, render, show_bytes, show_time};
use crate::admin::params::Params;
use crate::admin::value::Value;
use crate::admin::{form, model};
use crate::auth::CsrfForm;
use crate::db::Db;
use crate::error::Result;

pub fn routes() -> Vec<Route> {
    routes![changelist, action]
}

#[get("/admin/<slug>", rank = 3)]
async fn changelist(slug: &str, staff: Staff, params: Params, db: &Db) -> Result<Template> {
    let model = model(slug)?;
    let list = List::new(model, &params);
    let total = list.count(&db.read).await?;
    let pages = ((total + list.per_page - 1) / list.per_page).max(1);
    let page = list.page.min(pages);
    let rows = list.rows(&db.read, page).await?;
    let full_total = if list.filters.is_empty() && list.q.is_empty() {
        total
    } else {
        crate::db::admin::count_all(&db.read, model.table).await?
    };
    let filters = filter_panel(db, &list).await?;
    let actions: Vec<Json> = model
        .actions
        .iter()
        .filter(|a| allowed(&staff, model, a))
        .map(|a| json!({ "name": a.name(), "label": label(model, a) }))
        .collect();
    let columns: Vec<Json> = model
        .columns
        .iter()
        .map(|column| {
            let sorted = list
                .order
                .first()
                .filter(|(c, _)| c.name == column.name)
                .map(|(_, desc)| if *desc { "desc" } else { "asc" });
            let next = if sorted == Some("asc") {
                format!("-{}", column.name)
            } else {
                column.name.to_owned()
            };
            json!({
                "name": column.name,
                "label": column.label,
                "sortable": true,
                "sorted": sorted,
                "sort_url": list.url(&[("o", Some(next))]),
            })
        })
        .collect();
    let rows: Vec<Json> = rows
        .into_iter()
        .map(|(id, values)| {
            let cells: Vec<Json> = model
                .columns
                .iter()
                .zip(values)
                .map(|(column, value)| cell(column.cell, &value))
                .collect();
            json!({ "id": id, "url": model.object_url(id, "change"), "cells": cells })
        })
        .collect();
    let page_url = |p: i64| list.url(&[("p", Some(p.to_string()))]);
    let page_links: Vec<Json> = page_numbers(page, pages)
        .into_iter()
        .map(|n| match n {
            Some(n) => json!({ "number": n, "url": page_url(n), "current": n == page }),
            None => json!({ "number": null, "url": null, "current": false }),
        })
        .collect();
    let search_hidden: Vec<Json> = list
        .filters
        .iter()
        .map(|(f, v)| json!({ "name": f.name, "value": v }))
        .chain(
            (list.order_param() != model.ordering)
                .then(|| json!({ "name": "o", "value": list.order_param() })),
        )
        .collect();
    let first_index = if total == 0 {
        0
    } else {
        (page - 1) * list.per_page + 1
    };
    let body = json!({
        "model": model_json(model, model.rules.can_add(&staff.user)),
        "cl": {
            "q": list.q,
            "search_fields": search_help(model),
            "search_hidden": search_hidden,
            "columns": columns,
            "rows": rows,
            "filters": filters,
            "total": total,
            "full_total": full_total,
            "filtered": !list.filters.is_empty() || !list.q.is_empty(),
            "clear_url": model.url(),
            "page": page,
            "pages": pages,
            "per_page": list.per_page,
            "first_index": first_index,
            "last_index": (page * list.per_page).min(total),
            "page_links": page_links,
            "prev_url": (page > 1).then(|| page_url(page - 1)),
            "next_url": (page < pages).then(|| page_url(page + 1)),
            "actions": actions,
            "action_url": list.url(&[("p", (page > 1).then(|| page.to_string()))]),
        },
    });
    let title = format!("Select {} to change", model.name);
    Ok(render(
        &staff,
        "admin/change_list.html",
        &title,
        crumbs(Some(model), None, None),
        body,
    ))
}

/// "Searches message and sender.": the columns that show what `q` searches.
fn search_help(model: &Model) -> String {
    let labels: Vec<String> = model
        .columns
        .iter()
        .filter(|c| model.search.iter().any(|s| s.shown_by(c)))
        .map(|c| c.label.to_lowercase())
        .collect();
    labels.join(", ")
}

fn cell(kind: Cell, value: &Value) -> Json {
    match (kind, value) {
        (Cell::Bool, v) => json!({ "kind": "bool", "text": "", "value": v.int() == Some(1) }),
        (_, Value::Null) => json!({ "kind": "text", "text": "—", "value": null }),
        (Cell::Time, Value::Int(ms)) => {
            json!({ "kind": "time", "text": show_time(*ms), "value": null })
        }
        (Cell::Number, v) => json!({ "kind": "number", "text": v.to_form(), "value": null }),
        (Cell::Bytes, v) => json!({
            "kind": "number",
            "text": v.int().map(show_bytes).unwrap_or_else(|| v.to_form()),
            "value": null,
        }),
        (Cell::Person, Value::Text(joined)) => person(joined),
        (_, v) => json!({ "kind": "text", "text": v.to_form(), "value": null }),
    }
}

/// A [`Cell::Person`]: their picture, else their initials on their colour, and the name
/// they show.
fn person(joined: &str) -> Json {
    let mut parts = joined.splitn(4, '|');
    let (id, username, version, display) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    let shown = if display.is_empty() {
        username
    } else {
        display
    };
    json!({
        "kind": "person",
        "text": shown,
        "value": null,
        "avatar_url": (!version.is_empty()).then(|| format!("/avatars/{id}/{version}")),
        "colour": crate::profile::colour(username),
        "initials": crate::profile::initials(shown),
    })
}

/// 1 2 … 7 8 [9] 10 11 … 99 100
fn page_numbers(page: i64, pages: i64) -> Vec<Option<i64>> {
    if pages <= 10 {
        return (1..=pages).map(Some).collect();
    }
    let mut shown: Vec<i64> = [1, 2, pages - 1, pages]
        .into_iter()
        .chain(page - 2..=page + 2)
        .filter(|n| (1..=pages).contains(n))
        .collect();
    shown.sort_unstable();
    shown.dedup();
    let mut out = Vec::new();
    for (i, n) in shown.iter().enumerate() {
        if i > 0 && n - shown[i - 1] > 1 {
            out.push(None);
        }
        out.push(Some(*n));
    }
    out
}

/// The side panel: each filter's choices, with how many rows each would show.
async fn filter_panel(db: &Db, list: &List) -> Result<Vec<Json>> {
    let model = list.model;
    let active = |f: &Filter| list.filters.iter().any(|(a, _)| a.name == f.name);
    // Filters not in use count over the list as it is, all in one scan; one in use counts
    // as if it were not.
    let idle: Vec<&Filter> = model.filters.iter().filter(|f| !active(f)).collect();
    let mut counts: HashMap<&str, Counts> = HashMap::new();
    let found = facets::counts(
        &db.read,
        model.from,
        &idle,
        &list.condition(None, db.read.is_postgres()),
    )
    .await?;
    counts.extend(idle.iter().map(|f| f.name).zip(found));
    for (filter, _) in &list.filters {
        let cond = list.condition(Some(filter.name), db.read.is_postgres());
        let found = facets::counts(&db.read, model.from, &[filter], &cond).await?;
        counts.extend(found.into_iter().map(|c| (filter.name, c)));
    }
    let mut panel = Vec::new();
    for filter in model.filters {
        let chosen = list
            .filters
            .iter()
            .find(|(f, _)| f.name == filter.name)
            .map(|(_, v)| v.as_str());
        let choices: Vec<(String, String)> = match filter.kind {
            FilterKind::Words(words) => words
                .iter()
                .map(|w| ((*w).to_owned(), page::show_word(w)))
                .collect(),
            FilterKind::Choices(choices) => choices
                .iter()
                .map(|(v, l)| ((*v).to_owned(), (*l).to_owned()))
                .collect(),
            FilterKind::Bool => vec![("1".into(), "Yes".into()), ("0".into(), "No".into())],
            FilterKind::Related(slug) => form::options(db, super::model(slug)?)
                .await?
                .into_iter()
                .map(|(id, name)| (id.to_string(), name))
                .collect(),
            FilterKind::Date => DATE_CHOICES
                .iter()
                .map(|(v, l)| ((*v).to_owned(), (*l).to_owned()))
                .collect(),
        };
        let of = counts.get(filter.name);
        let mut out = vec![json!({
            "label": "All",
            "url": list.url(&[(filter.name, None)]),
            "selected": chosen.is_none(),
            "count": null,
        })];
        out.extend(choices.into_iter().map(|(value, label)| {
            json!({
                "label": label,
                "url": list.url(&[(filter.name, Some(value.clone()))]),
                "selected": chosen == Some(value.as_str()),
                "count": of.and_then(|c| c.get(&value)).copied().unwrap_or(0),
            })
        }));
        panel.push(json!({ "name": filter.name, "label": filter.label, "choices": out }));
    }
    Ok(panel)
}

fn allowed(staff: &Staff, model: &Model, action: &Action) -> bool {
    match action {
        Action::DeleteSelected => model.rules.can_delete(&staff.user),
        Action::Set { .. } => true,
    }
}

fn label(model: &Model, action: &Action) -> String {
    match action {
        Action::DeleteSelected => format!("Delete selected {}", model.plural),
        Action::Set { label, .. } => (*label).to_owned(),
    }
}

/// A bulk action: POSTed by the changelist with `action` and `_selected_action` ids (or
/// `select_across=1` for every row the list's query matches).
#[post("/admin/<slug>", data = "<form>", rank = 3)]
async fn action(
    slug: &str,
    staff: Staff,
    form: CsrfForm<Params>,
    params: Params,
    db: &Db,
) -> Result<Either<Flash<Redirect>, Template>> {
    let model = model(slug)?;
    let form = form.0;
    let list = List::new(model, &params);
    let back = list.url(&[("p", list.page.gt(&1).then(|| list.page.to_string()))]);
    let Some(action) = model
        .actions
        .iter()
        .find(|a| Some(a.name()) == form.get("action") && allowed(&staff, model, a))
    else {
        return Ok(Left(page::warned(back, "No action selected.".into())));
    };
    let ids: Vec<i64> = if form.get("select_across") == Some("1") {
        list.ids(&db.read).await?
    } else {
        form.all("_selected_action")
            .filter_map(|id| id.parse().ok())
            .collect()
    };
    if ids.is_empty() {
        let message = "Items must be selected in order to perform actions on them. No items have been changed.";
        return Ok(Left(page::warned(back, message.into())));
    }
    match action {
        Action::DeleteSelected => {
            if form.get("post") == Some("yes") {
                return Ok(Left(delete::run(&staff, model, &ids, db, back).await?));
            }
            let page = delete::confirmation(&staff, model, &ids, db, Some(&form), back).await?;
            Ok(Right(page))
        }
        Action::Set {
            column,
            value,
            done,
            ..
        } => {
            let set = (*column, *value, *done);
            Ok(Left(set_column(&staff, model, &ids, set, db, back).await?))
        }
    }
}

/// Sets `column` on every selected object, through the model's rules as a change form
/// would, in one transaction with its history.
async fn set_column(
    staff: &Staff,
    model: &'static Model,
    ids: &[i64],
    (column, value, done): (&'static str, i64, &'static str),
    db: &Db,
    back: String,
) -> Result<Flash<Redirect>> {
    let label = model.field(column).map_or(column, |f| f.label);
    let value = match model.field(column).map(|f| &f.kind) {
        Some(Kind::Bool) => Value::Bool(value != 0),
        _ => Value::Int(value),
    };
    let mut tx = db.write.begin().await?;
    let mut changed = 0;
    for id in ids {
        let Some(old) = form::load(tx.reading()?, model, *id).await? else {
            continue;
        };
        if !model.rules.can_change(&staff.user, &old) {
            let message = format!(
                "You may not change some of the selected {}; nothing was changed.",
                model.plural
            );
            return Ok(page::refused(back, message));
        }
        let mut new = old.clone();
        new.insert(column, value.clone());
        if new == old {
            continue;
        }
        if let Some(problem) = model
            .rules
            .check(&staff.user, Some(*id), Some(&old), &new)
            .first()
        {
            return Ok(page::refused(
                back,
                format!("{} Nothing was changed.", problem.message),
            ));
        }
        crate::db::admin::update(&mut tx, model.table, *id, &[(column, &value)]).await?;
        let write = crate::admin::rules::Write {
            actor: &staff.user,
            id: *id,
            old: Some(&old),
            new: &new,
            form: None,
        };
        let mut message = vec![format!("Changed {}.", label.to_lowercase())];
        message.extend(model.rules.saved(&mut tx, write).await?);
        let repr = form::repr(tx.reading()?, model, *id).await?;
        history::log(
            &mut tx,
            &staff.user,
            model,
            *id,
            &repr,
            Flag::Change,
            &message.join(" "),
        )
        .await?;
        changed += 1;
    }
    if let Err(problem) = model.rules.invariant(&mut tx, &staff.user).await {
        return Ok(page::refused(
            back,
            format!("{} Nothing was changed.", problem.message),
        ));
    }
    tx.commit().await?;
    let noun = if changed == 1 {
        model.name
    } else {
        model.plural
    };
    Ok(page::done(back, format!("{done} {changed} {noun}.")))
}
