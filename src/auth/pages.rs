//! Sign-up, sign-in and sign-out pages. Field names follow Django's auth forms.

use std::collections::BTreeMap;

use either::Either::{self, Left, Right};
use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
use rocket::form::FromForm;
use rocket::http::uri::{Origin, Reference};
use rocket::http::{CookieJar, Header, Status};
use rocket::request::Request;
use rocket::response::{self, Redirect, Responder};
use rocket::{get, post, routes, Route, State};
use rocket_dyn_templates::{context, Template};

use crate::auth::cache::Sessions;
use crate::auth::csrf::NoFields;
use crate::auth::session;
use crate::auth::throttle::{Key, Throttle};
use crate::auth::{device, password, Client, CsrfForm, CsrfToken, SignInForm, User};
use crate::compress::Compressed;
use crate::config::{Settings, Signup};
use crate::db::{users, Db};
use crate::error::{Error, Result};
use crate::model::{Role, UserId};
use crate::validate::{username_key, Email, Invalid, NewPassword, Username, USERNAME_LOOKS_LIKE};

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

/// The form's answer to a name that cannot be had.
fn unavailable(clash: users::CreateError) -> Result<Invalid> {
    match clash {
        users::CreateError::Taken => Ok(taken()),
        users::CreateError::LooksLike => Ok(Invalid::new("username", USERNAME_LOOKS_LIKE)),
        users::CreateError::Db(e) => Err(e.into()),
    }
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
    next: Option<String>,
}

/// Sign-up keeps `next` as sign-in does: the login page's link brings it, the form sends
/// it back, and the new account lands where the person was going.
#[get("/signup?<next>")]
fn signup_page(
    next: Option<&str>,
    user: Option<User>,
    csrf: CsrfToken,
    _compressed: Compressed,
    settings: &State<Settings>,
) -> Result<Answer> {
    require_open(settings)?;
    if user.is_some() {
        return Ok(Left(Redirect::to(safe_next(next))));
    }
    Ok(Right(form_page(
        "auth/signup.html",
        &csrf,
        Fields::from([("next", safe_next(next))]),
        Fields::new(),
        true,
    )))
}

#[post("/signup", data = "<form>")]
async fn signup(
    form: SignInForm<SignupForm>,
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
    let next = safe_next(form.next.as_deref());
    let values = Fields::from([
        ("username", raw_username.clone()),
        ("email", raw_email.clone()),
        ("next", next.clone()),
    ]);
    // Every attempt counts, whatever comes of it.
    let keys: Vec<Key> = client.address.map(Key::SignUp).into_iter().collect();
    if let Err(wait) = throttle.begin(db, keys).await? {
        let page = throttled_page("auth/signup.html", &csrf, values, wait, true);
        return Ok(Right(page));
    }
    let mut errors = Fields::new();

    let username = match Username::parse("username", &raw_username) {
        // Checked here too, so every problem shows at once; the insert still decides races.
        Ok(name) => match users::clash(&db.read, &name).await? {
            Some(clash) => Err(unavailable(clash)?),
            None => Ok(name),
        },
        Err(invalid) => Err(invalid),
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
                Err(clash) => {
                    add(&mut errors, unavailable(clash)?);
                    None
                }
            }
        }
        (username, email, password) => {
            let password = password.err().unwrap_or_default();
            for invalid in [username.err(), email.err()]
                .into_iter()
                .flatten()
                .chain(password)
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
    device::remember(cookies, &client, id);
    tracing::info!(user_id = %id, "signed up");
    Ok(Left(Redirect::to(next)))
}

#[derive(FromForm)]
pub struct LoginForm {
    username: Option<String>,
    password: Option<String>,
    next: Option<String>,
}

/// What `next` keeps as typed: RFC 3986's unreserved and reserved characters, and `%` (so
/// a path that is already percent-encoded stays as it is). Everything else, and every
/// non-ASCII character, is percent-encoded.
const NEXT_ENCODE: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'[')
    .add(b']')
    .add(b'\\')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// `next` only ever leads to a page of this site: a local path, never `//host` or a URL.
/// The answer is always a URI a redirect accepts (percent-encoded where the typed path
/// was not one), or `/`.
pub fn safe_next(next: Option<&str>) -> String {
    let Some(next) = next.filter(|next| {
        next.starts_with('/')
            && !next.starts_with("//")
            && !next.starts_with("/\\")
            && !next.chars().any(|c| c.is_control() || c == '\\')
    }) else {
        return "/".to_owned();
    };
    let encoded = utf8_percent_encode(next, NEXT_ENCODE).to_string();
    // `Redirect::to` parses its target as a URI reference; an origin (a path and query,
    // nothing else) is the only kind that stays on this site.
    match Origin::parse(&encoded) {
        Ok(_) if Reference::parse(&encoded).is_ok() => encoded,
        _ => "/".to_owned(),
    }
}

#[get("/login?<next>")]
fn login_page(
    next: Option<&str>,
    user: Option<User>,
    csrf: CsrfToken,
    _compressed: Compressed,
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
    form: SignInForm<LoginForm>,
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
    // Decided before anything is written: whatever `next` held, the redirect works.
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
    if !errors.is_empty() {
        let page = form_page("auth/login.html", &csrf, values, errors, signup_open);
        return Ok(Right(page));
    }
    let key = username_key(&username);
    let found = users::credentials(&db.read, &key).await?;
    let keys = throttle_keys(cookies, &client, key, found.as_ref().map(|user| user.id));
    let attempt = match throttle.begin(db, keys).await? {
        Ok(attempt) => attempt,
        Err(wait) => {
            tracing::warn!(ip = %client.ip, "sign-in throttled");
            let page = throttled_page("auth/login.html", &csrf, values, wait, signup_open);
            return Ok(Right(page));
        }
    };
    let hash = found.as_ref().map(|user| user.password_hash.clone());
    let verified = password::verify(password, hash).await?;
    // A failure stays counted; that is what the attempt was counted for.
    let Some(user) = found.filter(|user| verified && user.is_active) else {
        errors.insert(
            "__all__",
            "Please enter a correct username and password. Note that both fields may be \
             case-sensitive."
                .into(),
        );
        let page = form_page("auth/login.html", &csrf, values, errors, signup_open);
        return Ok(Right(page));
    };
    throttle.refund(db, attempt).await?;
    users::record_login(&db.write, user.id).await?;
    session::sign_in(db, cookies, settings, user.id, &client).await?;
    device::remember(cookies, &client, user.id);
    tracing::info!(user = %user.username, "signed in");
    Ok(Left(Redirect::to(next)))
}

/// What a sign-in attempt counts against: a browser that signed in to this account before
/// only against its own device cookie; any other against the account and the address.
fn throttle_keys(
    cookies: &CookieJar<'_>,
    client: &Client,
    account: String,
    user: Option<UserId>,
) -> Vec<Key> {
    if let Some(device) = user.and_then(|user| device::trusted(cookies, client, user)) {
        return vec![Key::Device(device.nonce)];
    }
    let mut keys = vec![Key::Account(account)];
    keys.extend(client.address.map(Key::Address));
    keys
}

#[post("/logout", data = "<form>")]
async fn logout(
    form: CsrfForm<NoFields>,
    user: Option<User>,
    db: &Db,
    cache: &State<Sessions>,
    cookies: &CookieJar<'_>,
    client: Client,
) -> Result<Redirect> {
    let CsrfForm(NoFields) = form;
    if let Some(user) = user {
        session::sign_out(db, cache, cookies, &client, &user).await?;
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

    #[test]
    fn next_is_always_a_uri_a_redirect_accepts() {
        assert_eq!(safe_next(Some("/a b")), "/a%20b");
        assert_eq!(safe_next(Some("/caf\u{e9}")), "/caf%C3%A9");
        assert_eq!(safe_next(Some("/caf%C3%A9")), "/caf%C3%A9");
        assert_eq!(safe_next(Some("/x?q=a b#c")), "/x?q=a%20b%23c");
        for next in [
            "/\u{3000}",
            "/<>\"{}|^`[]",
            "/%",
            "/%%%",
            "/?",
            "/;",
            "/@:!$&'()*+,=",
        ] {
            let safe = safe_next(Some(next));
            assert!(
                rocket::http::uri::Reference::parse(&safe).is_ok(),
                "{next:?} gave {safe:?}"
            );
        }
    }
}
