//! Sign-up, sign-in and sign-out pages. Field names follow Django's auth forms.

use std::collections::BTreeMap;

use either::Either::{self, Left, Right};
use rocket::form::FromForm;
use rocket::http::{CookieJar, Header, Status};
use rocket::request::Request;
use rocket::response::{self, Redirect, Responder};
use rocket::{get, post, routes, Route, State};
use rocket_dyn_templates::{context, Template};

use crate::auth::cache::Sessions;
use crate::auth::csrf::NoFields;
use crate::auth::session::{self, Client};
use crate::auth::throttle::{Key, Throttle};
use crate::auth::{password, CsrfForm, CsrfToken, User};
use crate::config::{Settings, Signup};
use crate::db::{users, Db};
use crate::error::{Error, Result};
use crate::model::Role;
use crate::validate::{username_key, Email, Invalid, NewPassword, Username};

pub fn routes() -> Vec<Route> {
    routes![signup_page, signup, login_page, login, logout]
}

/// A form page: what was typed (never a password) and the error of each field.
type Fields = BTreeMap<&'static str, String>;

/// A form's answer: a redirect once done, else the page (again).
type Answer = Either<Redirect, FormPage>;

/// A form page; 429 with Retry-After when throttled.
pub struct FormPage {
    page: Template,
    retry_after_s: Option<u64>,
}

impl<'r> Responder<'r, 'static> for FormPage {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let mut response = self.page.respond_to(req)?;
        if let Some(seconds) = self.retry_after_s {
            response.set_status(Status::TooManyRequests);
            response.set_header(Header::new("Retry-After", seconds.to_string()));
        }
        Ok(response)
    }
}

/// The page again with its errors. Django answers 200 here; so do we.
fn form_page(
    name: &'static str,
    csrf: &CsrfToken,
    values: Fields,
    errors: Fields,
    signup_open: bool,
) -> FormPage {
    let page = Template::render(
        name,
        context! { csrf_token: &csrf.0, values, errors, signup_open },
    );
    FormPage {
        page,
        retry_after_s: None,
    }
}

/// The page with a "too many attempts" error, as 429.
fn throttled_page(
    name: &'static str,
    csrf: &CsrfToken,
    values: Fields,
    retry_after_s: u64,
    signup_open: bool,
) -> FormPage {
    let minutes = retry_after_s.div_ceil(60);
    let wait = if minutes <= 1 {
        "a minute".to_owned()
    } else {
        format!("{minutes} minutes")
    };
    let errors = Fields::from([(
        "__all__",
        format!("Too many attempts. Please try again in {wait}."),
    )]);
    FormPage {
        retry_after_s: Some(retry_after_s),
        ..form_page(name, csrf, values, errors, signup_open)
    }
}

fn add(errors: &mut Fields, invalid: Invalid) {
    errors.entry(invalid.field).or_insert(invalid.message);
}

fn taken() -> Invalid {
    Invalid::new("username", "A user with that username already exists.")
}

fn require_open(settings: &Settings) -> Result<()> {
    match settings.signup {
        Signup::Open => Ok(()),
        Signup::Closed => Err(Error::NotFound),
    }
}

#[derive(FromForm)]
pub struct SignupForm {
    username: Option<String>,
    email: Option<String>,
    password1: Option<String>,
    password2: Option<String>,
}

#[get("/signup")]
fn signup_page(user: Option<User>, csrf: CsrfToken, settings: &State<Settings>) -> Result<Answer> {
    require_open(settings)?;
    if user.is_some() {
        return Ok(Left(Redirect::to("/")));
    }
    Ok(Right(form_page(
        "auth/signup.html",
        &csrf,
        Fields::new(),
        Fields::new(),
        true,
    )))
}

#[post("/signup", data = "<form>")]
async fn signup(
    form: CsrfForm<SignupForm>,
    csrf: CsrfToken,
    db: &Db,
    cookies: &CookieJar<'_>,
    settings: &State<Settings>,
    client: Client,
    throttle: &State<Throttle>,
) -> Result<Answer> {
    require_open(settings)?;
    let form = form.0;
    let raw_username = form.username.unwrap_or_default();
    let raw_email = form.email.unwrap_or_default();
    let values = Fields::from([
        ("username", raw_username.clone()),
        ("email", raw_email.clone()),
    ]);
    // Addresses are known for every real connection; only in-process test requests lack one.
    let keys: Vec<Key> = client.address.map(Key::SignUp).into_iter().collect();
    if let Err(wait) = throttle.check(&keys) {
        let page = throttled_page("auth/signup.html", &csrf, values, wait, true);
        return Ok(Right(page));
    }
    throttle.record(&keys);
    let mut errors = Fields::new();

    let username = match Username::parse("username", &raw_username) {
        // Checked here too, so every problem shows at once; the insert still decides races.
        Ok(name) if users::by_username(&db.read, &name.key()).await?.is_some() => Err(taken()),
        other => other,
    };
    let email = Email::parse("email", &raw_email);
    let password = NewPassword::parse(
        form.password1.as_deref().unwrap_or_default(),
        form.password2.as_deref().unwrap_or_default(),
        &raw_username,
    );
    let id = match (username, email, password) {
        (Ok(username), Ok(email), Ok(password)) => {
            let hash = password::hash(password.as_str().to_owned()).await?;
            let user = users::NewUser {
                username: &username,
                email: &email,
                password_hash: &hash,
                role: Role::Member,
            };
            match users::create(&db.write, user).await {
                Ok(id) => Some(id),
                Err(users::CreateError::Taken) => {
                    add(&mut errors, taken());
                    None
                }
                Err(users::CreateError::Db(e)) => return Err(e.into()),
            }
        }
        (username, email, password) => {
            for invalid in [username.err(), email.err(), password.err()]
                .into_iter()
                .flatten()
            {
                add(&mut errors, invalid);
            }
            None
        }
    };
    let Some(id) = id else {
        let page = form_page("auth/signup.html", &csrf, values, errors, true);
        return Ok(Right(page));
    };
    users::record_login(&db.write, id).await?;
    session::sign_in(db, cookies, settings, id, &client).await?;
    tracing::info!(user_id = %id, "signed up");
    Ok(Left(Redirect::to("/")))
}

#[derive(FromForm)]
pub struct LoginForm {
    username: Option<String>,
    password: Option<String>,
    next: Option<String>,
}

/// `next` only ever leads to a page of this site: a local path, never `//host` or a URL.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(next)
            if next.starts_with('/')
                && !next.starts_with("//")
                && !next.starts_with("/\\")
                && !next.chars().any(|c| c.is_control() || c == '\\') =>
        {
            next.to_owned()
        }
        _ => "/".to_owned(),
    }
}

#[get("/login?<next>")]
fn login_page(
    next: Option<&str>,
    user: Option<User>,
    csrf: CsrfToken,
    settings: &State<Settings>,
) -> Answer {
    if user.is_some() {
        return Left(Redirect::to(safe_next(next)));
    }
    let values = Fields::from([("username", String::new()), ("next", safe_next(next))]);
    Right(form_page(
        "auth/login.html",
        &csrf,
        values,
        Fields::new(),
        settings.signup == Signup::Open,
    ))
}

#[post("/login", data = "<form>")]
async fn login(
    form: CsrfForm<LoginForm>,
    csrf: CsrfToken,
    db: &Db,
    cookies: &CookieJar<'_>,
    settings: &State<Settings>,
    client: Client,
    throttle: &State<Throttle>,
) -> Result<Answer> {
    let form = form.0;
    let username = form.username.unwrap_or_default();
    let password = form.password.unwrap_or_default();
    let next = safe_next(form.next.as_deref());
    let values = Fields::from([("username", username.clone()), ("next", next.clone())]);
    let signup_open = settings.signup == Signup::Open;
    let mut errors = Fields::new();
    if username.trim().is_empty() {
        errors.insert("username", "This field is required.".into());
    }
    if password.is_empty() {
        errors.insert("password", "This field is required.".into());
    }
    let mut keys = vec![Key::Account(username_key(&username))];
    keys.extend(client.address.map(Key::Address));
    if errors.is_empty() {
        if let Err(wait) = throttle.check(&keys) {
            tracing::warn!(ip = %client.ip, "sign-in throttled");
            let page = throttled_page("auth/login.html", &csrf, values, wait, signup_open);
            return Ok(Right(page));
        }
    }
    let user = if errors.is_empty() {
        let found = users::credentials(&db.read, &username_key(&username)).await?;
        let hash = found.as_ref().map(|c| c.password_hash.clone());
        match (found, password::verify(password, hash).await?) {
            (Some(user), true) if user.is_active => Some(user),
            _ => {
                throttle.record(&keys);
                errors.insert(
                    "__all__",
                    "Please enter a correct username and password. Note that both fields may \
                     be case-sensitive."
                        .into(),
                );
                None
            }
        }
    } else {
        None
    };
    let Some(user) = user else {
        let page = form_page("auth/login.html", &csrf, values, errors, signup_open);
        return Ok(Right(page));
    };
    throttle.reset(&keys);
    users::record_login(&db.write, user.id).await?;
    session::sign_in(db, cookies, settings, user.id, &client).await?;
    tracing::info!(user = %user.username, "signed in");
    Ok(Left(Redirect::to(next)))
}

#[post("/logout", data = "<form>")]
async fn logout(
    form: CsrfForm<NoFields>,
    user: Option<User>,
    db: &Db,
    cache: &State<Sessions>,
    cookies: &CookieJar<'_>,
) -> Result<Redirect> {
    let CsrfForm(NoFields) = form;
    if let Some(user) = user {
        session::sign_out(db, cache, cookies, &user).await?;
    }
    Ok(Redirect::to("/login"))
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next(Some("/chats/3")), "/chats/3");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }
}
