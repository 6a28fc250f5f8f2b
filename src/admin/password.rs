//! A user's password, set by an admin at `/admin/users/<id>/password/`. It is the only way
//! the console touches a password; the change ends the user's sessions.

use either::Either::{self, Left, Right};
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes, Route};
use rocket_dyn_templates::Template;
use serde_json::json;

use crate::admin::guard::Staff;
use crate::admin::history::{self, Flag};
use crate::admin::page::{self, crumbs, model_json, render};
use crate::admin::params::Params;
use crate::admin::users::USERS;
use crate::admin::{form, object_id};
use crate::auth::{password, CsrfForm};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::validate::{Invalid, NewPassword};

pub fn routes() -> Vec<Route> {
    routes![password_page, set_password]
}

/// The user's name, once `staff` may change their password.
async fn target(staff: &Staff, db: &Db, id: &str) -> Result<(i64, String)> {
    let id = object_id(id)?;
    let mut conn = db.read.acquire().await?;
    let values = form::load(conn.borrow(), &USERS, id)
        .await?
        .ok_or(Error::NotFound)?;
    if !USERS.rules.can_change(&staff.user, &values) {
        return Err(Error::Forbidden(
            "Only a superuser can change the password of staff.",
        ));
    }
    Ok((id, form::repr(conn.borrow(), &USERS, id).await?))
}

fn page_for(staff: &Staff, id: i64, repr: &str, errors: &[Invalid]) -> Template {
    let field = |name: &str, label: &str, help: Option<&str>| {
        json!({
            "name": name, "label": label, "widget": "password", "value": "", "choices": [],
            "required": true, "maxlength": null, "help": help, "display": "", "link": null,
            "error": errors.iter().find(|e| e.field == name).map(|e| &e.message),
        })
    };
    let summary: &[&str] = if errors.is_empty() {
        &[]
    } else {
        &["Please correct the errors below."]
    };
    let body = json!({
        "model": model_json(&USERS, USERS.rules.can_add(&staff.user)),
        "object": { "id": id, "repr": repr, "url": USERS.object_url(id, "change") },
        "errors": summary,
        "fields": [
            field("password1", "Password", Some("At least 8 characters, not all digits, not a common password, not like the username, and not easy to guess.")),
            field("password2", "Password (again)", Some("Enter the same password as before, for verification.")),
        ],
    });
    let title = format!("Change password: {repr}");
    let crumbs = crumbs(Some(&USERS), Some((id, repr)), Some("Change password"));
    render(staff, "admin/password.html", &title, crumbs, body)
}

#[get("/admin/users/<id>/password")]
async fn password_page(id: &str, staff: Staff, db: &Db) -> Result<Template> {
    let (id, repr) = target(&staff, db, id).await?;
    Ok(page_for(&staff, id, &repr, &[]))
}

#[post("/admin/users/<id>/password", data = "<form>")]
async fn set_password(
    id: &str,
    staff: Staff,
    form: CsrfForm<Params>,
    db: &Db,
) -> Result<Either<Flash<Redirect>, Template>> {
    let (id, repr) = target(&staff, db, id).await?;
    let typed = |name| form.0.get(name).unwrap_or_default();
    let new = match NewPassword::parse(typed("password1"), typed("password2"), &repr) {
        Ok(new) => new,
        Err(invalid) => return Ok(Right(page_for(&staff, id, &repr, &invalid))),
    };
    let hash = password::hash(new.as_str().to_owned()).await?;
    let mut tx = db.write.begin().await?;
    // Everyone signed in as this user is signed out, except the admin changing their own.
    let keep = (staff.user.id.0 == id).then_some(staff.user.session_id);
    crate::db::users::change_password(&mut tx, crate::model::UserId(id), &hash, keep).await?;
    history::log(
        &mut tx,
        &staff.user,
        &USERS,
        id,
        &repr,
        Flag::Change,
        "Changed password.",
    )
    .await?;
    tx.commit().await?;
    Ok(Left(page::done(
        USERS.object_url(id, "change"),
        "Password changed successfully.".into(),
    )))
}
