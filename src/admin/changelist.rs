//! The changelist of any model (`/admin/<model>/`) and its bulk actions.

use either::Either::{self, Left, Right};
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes, Route};
use rocket_dyn_templates::Template;
use serde_json::{json, Value as Json};

use crate::admin::delete;
use crate::admin::describe::{Action, Cell, FilterKind, Model};
use crate::admin::guard::Staff;
use crate::admin::history::{self, Flag};
use crate::admin::list::{self, List, DATE_CHOICES};
use crate::admin::page::{self, crumbs, model_json, render, show_time};
use crate::admin::params::Params;
use crate::admin::value::{args, Value};
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
        sqlx::query_scalar(&format!("SELECT count(*) FROM {}", model.table))
            .fetch_one(&db.read)
            .await?
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

fn search_help(model: &Model) -> String {
    if model.search.is_empty() {
        return String::new();
    }
    let names: Vec<&str> = model
        .columns
        .iter()
        .filter(|c| model.search.contains(&c.sql))
        .map(|c| c.label)
        .collect();
    names.join(", ")
}

fn cell(kind: Cell, value: &Value) -> Json {
    match (kind, value) {
        (Cell::Bool, v) => json!({ "kind": "bool", "text": "", "value": v.int() == Some(1) }),
        (_, Value::Null) => json!({ "kind": "text", "text": "—", "value": null }),
        (Cell::Time, Value::Int(ms)) => {
            json!({ "kind": "time", "text": show_time(*ms), "value": null })
        }
        (Cell::Number, v) => json!({ "kind": "number", "text": v.to_form(), "value": null }),
        (_, v) => json!({ "kind": "text", "text": v.to_form(), "value": null }),
    }
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
    let mut panel = Vec::new();
    for filter in list.model.filters {
        let cond = list.condition(Some(filter.name));
        let from = list.model.from;
        let chosen = list
            .filters
            .iter()
            .find(|(f, _)| f.name == filter.name)
            .map(|(_, v)| v.as_str());
        // (value, label, count)
        let mut choices: Vec<(String, String, Option<i64>)> = Vec::new();
        match filter.kind {
            FilterKind::Date => {
                let ranges: Vec<(i64, i64)> = DATE_CHOICES
                    .iter()
                    .filter_map(|(v, _)| list::date_range(v))
                    .collect();
                let sums: Vec<String> = ranges
                    .iter()
                    .map(|_| format!("COALESCE(sum({0} >= ? AND {0} < ?), 0)", filter.sql))
                    .collect();
                let sql = format!("SELECT {} FROM {from} {}", sums.join(", "), cond.sql);
                let mut values: Vec<Value> = ranges
                    .iter()
                    .flat_map(|(a, b)| [Value::Int(*a), Value::Int(*b)])
                    .collect();
                values.extend(cond.values);
                let row = sqlx::query_with(&sql, args(&values))
                    .fetch_one(&db.read)
                    .await?;
                for (i, (value, label)) in DATE_CHOICES.iter().enumerate() {
                    let count = crate::admin::value::read(&row, i)?.int();
                    choices.push(((*value).into(), (*label).into(), count));
                }
            }
            _ => {
                let sql = format!(
                    "SELECT {0}, count(*) FROM {from} {1} GROUP BY 1",
                    filter.sql, cond.sql
                );
                let counts: Vec<(Option<String>, i64)> =
                    sqlx::query_as_with::<_, (Value2, i64), _>(&sql, args(&cond.values))
                        .fetch_all(&db.read)
                        .await?
                        .into_iter()
                        .map(|(v, n)| (v.0, n))
                        .collect();
                let count_of = |value: &str| {
                    counts
                        .iter()
                        .find(|(v, _)| v.as_deref() == Some(value))
                        .map_or(0, |(_, n)| *n)
                };
                match filter.kind {
                    FilterKind::Words(words) => {
                        for word in words {
                            choices.push((
                                (*word).into(),
                                page::show_word(word),
                                Some(count_of(word)),
                            ));
                        }
                    }
                    FilterKind::Bool => {
                        choices.push(("1".into(), "Yes".into(), Some(count_of("1"))));
                        choices.push(("0".into(), "No".into(), Some(count_of("0"))));
                    }
                    FilterKind::Related(slug) => {
                        for (id, repr) in form::options(db, model(slug)?).await? {
                            let id = id.to_string();
                            let count = count_of(&id);
                            choices.push((id, repr, Some(count)));
                        }
                    }
                    FilterKind::Date => {}
                }
            }
        }
        let mut out = vec![json!({
            "label": "All",
            "url": list.url(&[(filter.name, None)]),
            "selected": chosen.is_none(),
            "count": null,
        })];
        out.extend(choices.into_iter().map(|(value, label, count)| {
            json!({
                "label": label,
                "url": list.url(&[(filter.name, Some(value.clone()))]),
                "selected": chosen == Some(value.as_str()),
                "count": count,
            })
        }));
        panel.push(json!({ "name": filter.name, "label": filter.label, "choices": out }));
    }
    Ok(panel)
}

/// A GROUP BY key of any type, as text.
struct Value2(Option<String>);

impl<'r> sqlx::Decode<'r, sqlx::Sqlite> for Value2 {
    fn decode(value: sqlx::sqlite::SqliteValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        use sqlx::{TypeInfo, ValueRef};
        if value.is_null() {
            return Ok(Value2(None));
        }
        let text = match value.type_info().name() {
            "INTEGER" => <i64 as sqlx::Decode<sqlx::Sqlite>>::decode(value)?.to_string(),
            _ => <String as sqlx::Decode<sqlx::Sqlite>>::decode(value)?,
        };
        Ok(Value2(Some(text)))
    }
}

impl sqlx::Type<sqlx::Sqlite> for Value2 {
    fn type_info() -> sqlx::sqlite::SqliteTypeInfo {
        <String as sqlx::Type<sqlx::Sqlite>>::type_info()
    }

    fn compatible(_: &sqlx::sqlite::SqliteTypeInfo) -> bool {
        true
    }
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
    let mut tx = db.write.begin().await?;
    let mut changed = 0;
    for id in ids {
        let Some(old) = form::load(&mut tx, model, *id).await? else {
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
        new.insert(column, Value::Int(value));
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
        let sql = format!("UPDATE {} SET {column} = ? WHERE id = ?", model.table);
        sqlx::query(&sql)
            .bind(value)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let write = crate::admin::rules::Write {
            actor: &staff.user,
            id: *id,
            old: Some(&old),
            new: &new,
            form: None,
        };
        let mut message = vec![format!("Changed {}.", label.to_lowercase())];
        message.extend(model.rules.saved(&mut tx, write).await?);
        let repr = form::repr(&mut tx, model, *id).await?;
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
