//! The forms of `/account` that change the profile: name and email, preferences, and the
//! password. They work without JavaScript; the avatar, which needs a file picked and
//! shown first, goes through `PUT /api/me/avatar` (assets/js/account.js).

use either::Either::{self, Left, Right};
use rocket::form::FromForm;
use rocket::response::{Flash, Redirect};
use rocket::{post, routes, Route, State};
use rocket_dyn_templates::Template;

use super::password::{self, Typed};
use super::preferences::{Change, Theme};
use crate::auth::account::{self, Fields};
use crate::auth::cache::Sessions;
use crate::auth::throttle::Throttle;
use crate::auth::{Client, CsrfForm, User};
use crate::config::Settings;
use crate::db::{profiles, Db};
use crate::error::Result;
use crate::validate::{DisplayName, Email, Invalid};

pub fn routes() -> Vec<Route> {
    routes![profile, preferences, change_password]
}

type Answer = Either<Flash<Redirect>, Template>;

fn done(message: &str) -> Answer {
    Left(Flash::success(Redirect::to("/account"), message))
}

fn errors_of(invalid: impl IntoIterator<Item = Invalid>) -> Fields {
    let mut errors = Fields::new();
    for invalid in invalid {
        errors.entry(invalid.field).or_insert(invalid.message);
    }
    errors
}

#[derive(FromForm)]
struct ProfileForm {
    display_name: Option<String>,
    email: Option<String>,
}

/// An empty display name shows the username again.
#[post("/account/profile", data = "<form>")]
async fn profile(
    form: CsrfForm<ProfileForm>,
    user: User,
    db: &Db,
    settings: &State<Settings>,
) -> Result<Answer> {
    let typed_name = form.0.display_name.unwrap_or_default();
    let typed_email = form.0.email.unwrap_or_default();
    let name = if typed_name.trim().is_empty() {
        Ok(None)
    } else {
        DisplayName::parse(&typed_name).map(Some)
    };
    let email = Email::parse("email", &typed_email);
    let (name, email) = match (name, email) {
        (Ok(name), Ok(email)) => (name, email),
        (name, email) => {
            let values = Fields::from([("display_name", typed_name), ("email", typed_email)]);
            let errors = errors_of([name.err(), email.err()].into_iter().flatten());
            let page = account::page(&user, db, settings, None, &values, &errors).await?;
            return Ok(Right(page));
        }
    };
    let change = profiles::Change {
        display_name: Some(name.as_ref()),
        email: Some(&email),
        preferences: None,
    };
    profiles::update(&db.write, user.id, &change).await?;
    // The session cache forgets every session after a POST to /account (`auth::cache`).
    Ok(done("Your profile was saved."))
}

#[derive(FromForm)]
struct PreferencesForm {
    theme: Option<String>,
    // Checkboxes: sent when ticked, absent when not.
    notifications: Option<bool>,
    sound: Option<bool>,
    enter_sends: Option<bool>,
}

#[post("/account/preferences", data = "<form>")]
async fn preferences(form: CsrfForm<PreferencesForm>, user: User, db: &Db) -> Result<Answer> {
    let form = form.0;
    let theme = match form.theme.as_deref() {
        Some("light") => Theme::Light,
        Some("dark") => Theme::Dark,
        _ => Theme::System,
    };
    let change = Change {
        notifications: Some(form.notifications.unwrap_or(false)),
        sound: Some(form.sound.unwrap_or(false)),
        theme: Some(theme),
        enter_sends: Some(form.enter_sends.unwrap_or(false)),
    };
    let stored = user.preferences.with(&change).to_stored();
    let change = profiles::Change {
        preferences: Some(stored),
        ..profiles::Change::default()
    };
    profiles::update(&db.write, user.id, &change).await?;
    Ok(done("Your preferences were saved."))
}

#[derive(FromForm)]
struct PasswordForm {
    current: Option<String>,
    password1: Option<String>,
    password2: Option<String>,
}

#[allow(clippy::too_many_arguments)]
#[post("/account/password", data = "<form>")]
async fn change_password(
    form: CsrfForm<PasswordForm>,
    user: User,
    db: &Db,
    settings: &State<Settings>,
    throttle: &State<Throttle>,
    sessions: &State<Sessions>,
    client: Client,
) -> Result<Answer> {
    let form = form.0;
    let typed = Typed {
        current: form.current.as_deref().unwrap_or_default(),
        password1: form.password1.as_deref().unwrap_or_default(),
        password2: form.password2.as_deref().unwrap_or_default(),
    };
    match password::change(db, throttle, sessions, &client, &user, typed).await? {
        Ok(()) => Ok(done(
            "Your password was changed. Your other sessions were signed out.",
        )),
        Err(invalid) => {
            let errors = errors_of(invalid);
            let page = account::page(&user, db, settings, None, &Fields::new(), &errors).await?;
            Ok(Right(page))
        }
    }
}
