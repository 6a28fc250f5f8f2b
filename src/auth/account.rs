//! The account page: who you are signed in as, and where. Each session can be ended from
//! here, so a lost phone or a shared computer can be signed out remotely.

use std::collections::BTreeMap;

use rocket::request::FlashMessage;
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes, Route, State};
use rocket_dyn_templates::{context, Template};
use serde_json::json;

use crate::auth::csrf::NoFields;
use crate::auth::{CsrfForm, User};
use crate::config::Settings;
use crate::db::{profiles, sessions, tokens, Db};
use crate::error::{Error, Result};
use crate::profile::Preferences;

pub fn routes() -> Vec<Route> {
    routes![account, end_session, end_others]
}

#[get("/account")]
async fn account(
    user: User,
    db: &Db,
    settings: &State<Settings>,
    flash: Option<FlashMessage<'_>>,
) -> Result<Template> {
    let message = flash.map(|f| f.message().to_owned());
    page(&user, db, settings, message, &Fields::new(), &Fields::new()).await
}

/// What a form on the page sent back (never a password), and each field's error.
pub type Fields = BTreeMap<&'static str, String>;

/// The account page; a form that was refused comes back with what was typed and why.
pub async fn page(
    user: &User,
    db: &Db,
    settings: &Settings,
    message: Option<String>,
    values: &Fields,
    errors: &Fields,
) -> Result<Template> {
    let profile = profiles::profile(&db.read, user.id)
        .await?
        .ok_or(Error::NotSignedIn)?;
    let preferences = Preferences::from_stored(&profile.preferences);
    let listed = sessions::for_user(&db.read, user.id, settings.sessions_started_after()).await?;
    let sessions: Vec<_> = listed
        .iter()
        .map(|s| {
            json!({
                "id": s.id,
                "current": s.id == user.session_id,
                "created_at": s.created_at.to_display(),
                "last_used_at": s.last_used_at.to_display(),
                "user_agent": if s.user_agent.is_empty() { "Unknown browser" } else { &s.user_agent },
                "ip": s.ip,
            })
        })
        .collect();
    let tokens: Vec<_> = tokens::for_user(&db.read, user.id)
        .await?
        .iter()
        .map(|t| {
            json!({
                "id": t.id,
                "name": t.name,
                "created_at": t.created_at.to_display(),
                "last_used_at": t.last_used_at.map(|at| at.to_display()),
            })
        })
        .collect();
    Ok(Template::render(
        "auth/account.html",
        context! {
            csrf_token: user.csrf_token(),
            theme: preferences.theme.as_str(),
            me: json!({
                "username": profile.username,
                "role": profile.role,
                "shown_name": profile.shown_name(),
                "display_name": values.get("display_name").map_or_else(
                    || profile.display_name.clone().unwrap_or_default(),
                    Clone::clone,
                ),
                "email": values.get("email").unwrap_or(&profile.email),
                "avatar_url": profile.avatar_url(),
            }),
            preferences,
            errors,
            sessions,
            others: listed.len().saturating_sub(1),
            tokens,
            new_token: values.get("new_token"),
            new_token_name: values.get("new_token_name"),
            token_name: values.get("token_name"),
            message,
        },
    ))
}

#[post("/account/sessions/<id>/end", data = "<form>")]
async fn end_session(
    id: &str,
    form: CsrfForm<NoFields>,
    user: User,
    db: &Db,
) -> Result<Flash<Redirect>> {
    let CsrfForm(NoFields) = form;
    let id: i64 = id.parse().map_err(|_| Error::NotFound)?;
    if id == user.session_id {
        // Ending this very session is signing out, which has its own button.
        return Err(Error::BadRequest(
            "Use “Sign out” to end this session.".into(),
        ));
    }
    if !sessions::delete_own(&db.write, user.id, id).await? {
        return Err(Error::NotFound);
    }
    Ok(Flash::success(
        Redirect::to("/account"),
        "That session was signed out.",
    ))
}

#[post("/account/sessions/end-others", data = "<form>")]
async fn end_others(form: CsrfForm<NoFields>, user: User, db: &Db) -> Result<Flash<Redirect>> {
    let CsrfForm(NoFields) = form;
    let mut tx = db.write.begin().await?;
    let ended = sessions::delete_for_user(&mut tx, user.id.0, Some(user.session_id)).await?;
    tx.commit().await?;
    let message = match ended {
        0 => "There were no other sessions.".to_owned(),
        1 => "Signed out 1 other session.".to_owned(),
        n => format!("Signed out {n} other sessions."),
    };
    Ok(Flash::success(Redirect::to("/account"), message))
}
