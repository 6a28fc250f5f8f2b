//! The add and change forms of any model: `/admin/<model>/add/` and
//! `/admin/<model>/<id>/change/`.

use std::collections::BTreeMap;

use either::Either::{self, Left, Right};
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes, Route, State};
use rocket_dyn_templates::Template;
use serde_json::{json, Value as Json};

use crate::admin::describe::{Field, Kind, Model};
use crate::admin::guard::Staff;
use crate::admin::history::{self, Flag};
use crate::admin::page::{
    self, crumbs, model_json, render, show_bytes, show_count, show_password_hash, show_time,
    show_word,
};
use crate::admin::params::Params;
use crate::admin::rules::Write;
use crate::admin::value::{Value, Values};
use crate::admin::{model, object_id};
use crate::auth::CsrfForm;
use crate::config::Settings;
use crate::db::admin as store;
use crate::db::backend::{ConnRef, Pool};
use crate::db::{is_unique_violation, Db};
use crate::error::{Error, Result};
use crate::validate::{Email, Invalid, MessageBody, Username};
use crate::webhooks::Webhooks;

pub fn routes() -> Vec<Route> {
    routes![add_page, add, change_page, change, object]
}

/// A form's answer: a redirect with a message once saved, else the form again.
type Answer = Either<Flash<Redirect>, Template>;

/// Field errors by field name; `__all__` for the form as a whole.
type Errors = BTreeMap<&'static str, String>;

fn add_error(errors: &mut Errors, invalid: Invalid) {
    errors.entry(invalid.field).or_insert(invalid.message);
}

/// The object's stored values, one per field column.
pub async fn load(conn: ConnRef<'_>, model: &Model, id: i64) -> Result<Option<Values>> {
    let columns: Vec<&'static str> = model.fields.iter().filter_map(Field::column).collect();
    let Some(row) = store::load(conn, model.table, &columns, id).await? else {
        return Ok(None);
    };
    Ok(Some(columns.into_iter().zip(row).collect()))
}

/// The object's name, as the model describes it.
pub async fn repr(conn: ConnRef<'_>, model: &Model, id: i64) -> Result<String> {
    let name = store::repr(conn, model.table, model.repr, id).await?;
    Ok(name.unwrap_or_else(|| format!("{} {id}", model.name)))
}

/// Every object of `model` as (id, name), for a choice of related objects.
pub async fn options(db: &Db, model: &Model) -> Result<Vec<(i64, String)>> {
    Ok(store::options(&db.read, model.table, model.repr, 500).await?)
}

async fn exists(db: &Pool, model: &Model, id: i64) -> Result<bool> {
    Ok(store::exists(db, model.table, id).await?)
}

/// One submitted field as the value to store, or what is wrong with it.
async fn parse(
    staff: &Staff,
    model: &Model,
    field: &Field,
    raw: Option<&str>,
    db: &Db,
) -> Result<Result<Value, String>> {
    let raw = raw.unwrap_or_default();
    let required = || Err("This field is required.".to_owned());
    Ok(match field.kind {
        Kind::Text {
            max,
            required: needed,
        } => {
            let text = raw.trim();
            let len = text.chars().count();
            if text.is_empty() {
                if needed {
                    required()
                } else {
                    Ok(Value::Null)
                }
            } else if len > max {
                Err(format!(
                    "Ensure this value has at most {max} characters (it has {len})."
                ))
            } else if text.chars().any(char::is_control) {
                Err("Control characters are not allowed.".into())
            } else {
                Ok(Value::from(text))
            }
        }
        Kind::Username => Username::parse(field.name, raw)
            .map(|name| Value::from(name.as_str()))
            .map_err(|e| e.message),
        Kind::Email => Email::parse(field.name, raw)
            .map(|email| Value::from(email.as_str()))
            .map_err(|e| e.message),
        Kind::Body => MessageBody::parse(raw)
            .map(|body| Value::from(body.as_str()))
            .map_err(|e| e.message),
        Kind::Words(all) => {
            let allowed = model.rules.words(&staff.user, field, all);
            match allowed.iter().find(|w| **w == raw) {
                Some(word) => Ok(Value::from(*word)),
                None if raw.is_empty() => required(),
                None => Err(format!(
                    "Select a valid choice. {raw} is not one of the available choices."
                )),
            }
        }
        Kind::Bool => Ok(Value::Bool(
            crate::admin::list::parse_bool(raw).unwrap_or(false),
        )),
        Kind::Related(slug) => match raw.parse::<i64>() {
            Ok(id) if id > 0 && exists(&db.read, crate::admin::model(slug)?, id).await? => {
                Ok(Value::Int(id))
            }
            _ if raw.is_empty() => required(),
            _ => Err(
                "Select a valid choice. That choice is not one of the available choices.".into(),
            ),
        },
        Kind::Time | Kind::Number | Kind::Bytes | Kind::NewPassword | Kind::PasswordHash => {
            Ok(Value::Null)
        }
    })
}

/// The submitted form as the object's new values (`old` is `None` when adding).
async fn read_form(
    staff: &Staff,
    model: &Model,
    db: &Db,
    settings: &Settings,
    form: &Params,
    id: Option<i64>,
    old: Option<&Values>,
) -> Result<(Values, Errors)> {
    let adding = old.is_none();
    let mut new = old.cloned().unwrap_or_default();
    let mut errors = Errors::new();
    for field in model.fields.iter().filter(|f| f.editable(adding)) {
        let Some(column) = field.column() else {
            continue;
        };
        match parse(staff, model, field, form.get(field.name), db).await? {
            Ok(value) => {
                new.insert(column, value);
            }
            Err(message) => {
                errors.insert(field.name, message);
            }
        }
    }
    for invalid in model.rules.check(&staff.user, id, old, &new) {
        add_error(&mut errors, invalid);
    }
    for invalid in model.rules.prepare(db, settings, form, old, &mut new).await {
        add_error(&mut errors, invalid);
    }
    Ok((new, errors))
}

/// The form page: an object's values, or what was typed with its errors.
#[allow(clippy::too_many_arguments)]
async fn form_page(
    staff: &Staff,
    model: &'static Model,
    db: &Db,
    object: Option<(i64, &Values)>,
    typed: Option<&Params>,
    mut errors: Errors,
) -> Result<Template> {
    let adding = object.is_none();
    let read_only = object.is_some_and(|(_, values)| !model.rules.can_change(&staff.user, values));
    let empty = Values::new();
    let current = object.map_or(&empty, |(_, values)| values);
    let mut fields = Vec::new();
    for field in model.fields.iter().filter(|f| f.shown(adding)) {
        let editable = !read_only && field.editable(adding);
        let stored = field
            .column()
            .and_then(|c| current.get(c))
            .unwrap_or(&Value::Null);
        fields.push(
            field_json(
                staff,
                model,
                db,
                field,
                editable,
                adding,
                stored,
                typed,
                errors.remove(field.name),
            )
            .await?,
        );
    }
    let id = object.map(|(id, _)| id);
    let inline = model
        .rules
        .inline(db, id, typed, read_only)
        .await?
        .map(|mut inline| {
            if let Some(name) = inline["name"].as_str() {
                inline["error"] = json!(errors.remove(name));
            }
            inline
        });
    let has_field_errors = fields.iter().any(|f| !f["error"].is_null())
        || inline.as_ref().is_some_and(|i| !i["error"].is_null());
    let mut general: Vec<String> = errors.into_values().collect();
    if has_field_errors && general.is_empty() {
        general.push("Please correct the errors below.".into());
    }
    let object_json = match object {
        Some((id, values)) => {
            let mut conn = db.read.acquire().await?;
            let repr = repr(conn.borrow(), model, id).await?;
            let can_password =
                !read_only && model.fields.iter().any(|f| f.kind == Kind::PasswordHash);
            Some((
                repr.clone(),
                json!({
                    "id": id,
                    "repr": repr,
                    "url": model.object_url(id, "change"),
                    "history_url": model.object_url(id, "history"),
                    "delete_url": model.rules.can_delete(&staff.user).then(|| model.object_url(id, "delete")),
                    "password_url": can_password.then(|| model.object_url(id, "password")),
                    "can_change": model.rules.can_change(&staff.user, values),
                    "links": model.rules.links(id, values).into_iter()
                        .map(|(label, url)| json!({ "label": label, "url": url }))
                        .collect::<Vec<_>>(),
                }),
            ))
        }
        None => None,
    };
    let title = match (&object_json, read_only) {
        (None, _) => format!("Add {}", model.name),
        (Some(_), true) => format!("View {}", model.name),
        (Some(_), false) => format!("Change {}", model.name),
    };
    let crumbs = match &object_json {
        Some((repr, _)) => crumbs(Some(model), None, Some(repr)),
        None => crumbs(Some(model), None, Some(&title)),
    };
    let body = json!({
        "model": model_json(model, model.rules.can_add(&staff.user)),
        "object": object_json.map(|(_, o)| o),
        "add": adding,
        "read_only": read_only,
        "errors": general,
        "has_field_errors": has_field_errors,
        "fields": fields,
        "inline": inline,
    });
    Ok(render(
        staff,
        "admin/change_form.html",
        &title,
        crumbs,
        body,
    ))
}

#[allow(clippy::too_many_arguments)]
async fn field_json(
    staff: &Staff,
    model: &Model,
    db: &Db,
    field: &Field,
    editable: bool,
    adding: bool,
    stored: &Value,
    typed: Option<&Params>,
    error: Option<String>,
) -> Result<Json> {
    let mut choices = Vec::new();
    let widget = if !editable {
        "readonly"
    } else {
        match field.kind {
            Kind::Text { .. } | Kind::Username => "text",
            Kind::Email => "email",
            Kind::Body => "textarea",
            Kind::Words(all) => {
                for word in model.rules.words(&staff.user, field, all) {
                    choices.push(json!({ "value": word, "label": show_word(word) }));
                }
                "select"
            }
            Kind::Related(slug) => {
                choices.push(json!({ "value": "", "label": "---------" }));
                for (id, name) in options(db, crate::admin::model(slug)?).await? {
                    choices.push(json!({ "value": id.to_string(), "label": name }));
                }
                "select"
            }
            Kind::Bool => "checkbox",
            Kind::NewPassword => "password",
            Kind::Time | Kind::Number | Kind::Bytes | Kind::PasswordHash => "readonly",
        }
    };
    let value = match (typed, field.kind) {
        (_, Kind::NewPassword) => String::new(),
        (Some(form), Kind::Bool) if editable => {
            let on = form
                .get(field.name)
                .and_then(crate::admin::list::parse_bool)
                .unwrap_or(false);
            if on {
                "on".into()
            } else {
                String::new()
            }
        }
        (Some(form), _) if editable => form.get(field.name).unwrap_or_default().to_owned(),
        (_, Kind::Bool) if adding && field.off_when_adding => String::new(),
        (_, Kind::Bool) if adding => "on".into(),
        (_, Kind::Bool) => {
            if stored.int() == Some(1) {
                "on".into()
            } else {
                String::new()
            }
        }
        (_, Kind::Words(all)) if adding => model
            .rules
            .words(&staff.user, field, all)
            .first()
            .copied()
            .unwrap_or_default()
            .to_owned(),
        _ => stored.to_form(),
    };
    let (display, link) = display(db, field, stored).await?;
    let maxlength = match field.kind {
        Kind::Text { max, .. } => Some(max),
        Kind::Username => Some(32),
        Kind::Email => Some(254),
        Kind::Body => Some(4000),
        _ => None,
    };
    let required = match field.kind {
        Kind::Text { required, .. } => required,
        Kind::Username | Kind::Body | Kind::Words(_) | Kind::Related(_) | Kind::NewPassword => true,
        _ => false,
    };
    Ok(json!({
        "name": field.name,
        "label": field.label,
        "widget": widget,
        "value": value,
        "choices": choices,
        "required": required,
        "maxlength": maxlength,
        "help": field.help,
        "error": error,
        "display": display,
        "link": link,
    }))
}

/// A stored value as a read-only field shows it, with a link for related objects.
async fn display(db: &Db, field: &Field, value: &Value) -> Result<(String, Option<String>)> {
    Ok(match (field.kind, value) {
        (Kind::PasswordHash, v) => (show_password_hash(v.text()), None),
        (_, Value::Null) => (field.empty.unwrap_or("—").into(), None),
        (Kind::Time, Value::Int(ms)) => (show_time(*ms), None),
        (Kind::Bytes, Value::Int(n)) if n.unsigned_abs() < 1000 => (show_bytes(*n), None),
        (Kind::Bytes, Value::Int(n)) => {
            let shown = format!("{} ({} bytes)", show_bytes(*n), show_count(*n));
            (shown, None)
        }
        (Kind::Bool, v) => ((if v.int() == Some(1) { "Yes" } else { "No" }).into(), None),
        (Kind::Words(_), v) => (show_word(v.text()), None),
        (Kind::Related(slug), Value::Int(id)) => {
            let target = crate::admin::model(slug)?;
            let mut conn = db.read.acquire().await?;
            (
                repr(conn.borrow(), target, *id).await?,
                Some(target.object_url(*id, "change")),
            )
        }
        (_, v) => (v.to_form(), None),
    })
}

fn object_url(model: &Model, id: i64) -> String {
    model.object_url(id, "change")
}

/// Where a saved form goes, by the button pressed (Django's `_save`, `_addanother`,
/// `_continue`), with the message for the next page.
fn after_save(model: &Model, form: &Params, id: i64, repr: &str, verb: &str) -> Flash<Redirect> {
    let name = model.name;
    let saved = format!("The {name} “{repr}” was {verb} successfully.");
    if form.has("_addanother") {
        page::done(
            format!("/admin/{}/add/", model.slug),
            format!("{saved} You may add another {name} below."),
        )
    } else if form.has("_continue") {
        page::done(
            object_url(model, id),
            format!("{saved} You may edit it again below."),
        )
    } else {
        page::done(model.url(), saved)
    }
}

#[get("/admin/<slug>/add")]
async fn add_page(slug: &str, staff: Staff, db: &Db) -> Result<Template> {
    let model = model(slug)?;
    if !model.rules.can_add(&staff.user) {
        return Err(Error::Forbidden("You may not add these."));
    }
    form_page(&staff, model, db, None, None, Errors::new()).await
}

#[post("/admin/<slug>/add", data = "<form>")]
async fn add(
    slug: &str,
    staff: Staff,
    form: CsrfForm<Params>,
    db: &Db,
    settings: &State<Settings>,
    webhooks: &State<Webhooks>,
) -> Result<Answer> {
    let model = model(slug)?;
    if !model.rules.can_add(&staff.user) {
        return Err(Error::Forbidden("You may not add these."));
    }
    let form = form.0;
    let (new, mut errors) = read_form(&staff, model, db, settings, &form, None, None).await?;
    if errors.is_empty() {
        match save(&staff, model, db, &form, None, &new).await? {
            Ok((id, repr)) => {
                webhooks.console_saved();
                return Ok(Left(after_save(model, &form, id, &repr, "added")));
            }
            Err(invalid) => add_error(&mut errors, invalid),
        }
    }
    Ok(Right(
        form_page(&staff, model, db, None, Some(&form), errors).await?,
    ))
}

#[get("/admin/<slug>/<id>/change")]
async fn change_page(slug: &str, id: &str, staff: Staff, db: &Db) -> Result<Template> {
    let model = model(slug)?;
    let id = object_id(id)?;
    let mut conn = db.read.acquire().await?;
    let values = load(conn.borrow(), model, id)
        .await?
        .ok_or(Error::NotFound)?;
    drop(conn);
    form_page(&staff, model, db, Some((id, &values)), None, Errors::new()).await
}

#[post("/admin/<slug>/<id>/change", data = "<form>")]
async fn change(
    slug: &str,
    id: &str,
    staff: Staff,
    form: CsrfForm<Params>,
    db: &Db,
    settings: &State<Settings>,
    webhooks: &State<Webhooks>,
) -> Result<Answer> {
    let model = model(slug)?;
    let id = object_id(id)?;
    let mut conn = db.read.acquire().await?;
    let old = load(conn.borrow(), model, id)
        .await?
        .ok_or(Error::NotFound)?;
    drop(conn);
    if !model.rules.can_change(&staff.user, &old) {
        return Err(Error::Forbidden("You may view this but not change it."));
    }
    let form = form.0;
    let (new, mut errors) =
        read_form(&staff, model, db, settings, &form, Some(id), Some(&old)).await?;
    if errors.is_empty() {
        match save(&staff, model, db, &form, Some((id, &old)), &new).await? {
            Ok((id, repr)) => {
                webhooks.console_saved();
                return Ok(Left(after_save(model, &form, id, &repr, "changed")));
            }
            Err(invalid) => add_error(&mut errors, invalid),
        }
    }
    Ok(Right(
        form_page(&staff, model, db, Some((id, &old)), Some(&form), errors).await?,
    ))
}

/// Django's `/admin/<model>/<id>/` goes to the change page.
#[get("/admin/<slug>/<id>", rank = 5)]
fn object(slug: &str, id: &str) -> Result<Redirect> {
    let model = model(slug)?;
    Ok(Redirect::to(object_url(model, object_id(id)?)))
}

/// Writes an addition (`old` is `None`) or a change with its history, in one transaction.
/// `Ok(Err(_))` is a refusal to show on the form.
async fn save(
    staff: &Staff,
    model: &Model,
    db: &Db,
    form: &Params,
    old: Option<(i64, &Values)>,
    new: &Values,
) -> Result<Result<(i64, String), Invalid>> {
    let mut tx = db.write.begin().await?;
    let written = match old {
        None => {
            let values: Vec<(&str, &Value)> = new.iter().map(|(k, v)| (*k, v)).collect();
            store::insert(&mut tx, model.table, &values).await
        }
        Some((id, old)) => {
            let changed: Vec<(&str, &Value)> = new
                .iter()
                .filter(|(k, v)| old.get(*k) != Some(*v))
                .map(|(k, v)| (*k, v))
                .collect();
            store::update(&mut tx, model.table, id, &changed)
                .await
                .map(|()| id)
        }
    };
    let id = match written {
        Ok(id) => id,
        Err(e) if is_unique_violation(&e) => return Ok(Err(model.rules.unique_violation())),
        Err(e) => return Err(e.into()),
    };
    let write = Write {
        actor: &staff.user,
        id,
        old: old.map(|(_, o)| o),
        new,
        form: Some(form),
    };
    let extra = match model.rules.saved(&mut tx, write).await {
        Ok(extra) => extra,
        Err(Error::Invalid(invalid)) => return Ok(Err(invalid)),
        Err(e) => return Err(e),
    };
    let (flag, mut message) = match old {
        None => (Flag::Add, vec!["Added.".to_owned()]),
        Some((_, old)) => {
            let labels: Vec<String> = model
                .fields
                .iter()
                .filter(|f| f.column().is_some_and(|c| old.get(c) != new.get(c)))
                .map(|f| f.label.to_lowercase())
                .collect();
            let mut message = Vec::new();
            if !labels.is_empty() {
                message.push(format!("Changed {}.", join_and(&labels)));
            }
            (Flag::Change, message)
        }
    };
    message.extend(extra);
    if message.is_empty() {
        message.push("No fields changed.".into());
    }
    let repr = repr(tx.reading()?, model, id).await?;
    history::log(
        &mut tx,
        &staff.user,
        model,
        id,
        &repr,
        flag,
        &message.join(" "),
    )
    .await?;
    if let Err(invalid) = model.rules.invariant(&mut tx, &staff.user).await {
        return Ok(Err(invalid));
    }
    tx.commit().await?;
    Ok(Ok((id, repr)))
}

/// "a, b and c"
fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}
