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
pub type Fields = BTreeMap<&'static str, String>;

/// A form's answer: a redirect once done, else the page (again).
pub type Answer = Either<Redirect, FormPage>;

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

/// Which sign-up form a page shows: the open one, an invite's, or a first run's.
#[derive(Clone, Copy)]
pub enum Via<'a> {
    Open,
    /// An invite link's code, as in its URL.
    Invite(&'a str),
    /// The first run's form; the file that holds the setup code.
    Setup(&'a std::path::Path),
}

impl Via<'_> {
    fn action(&self) -> String {
        match self {
            Via::Open => "/signup".to_owned(),
            Via::Invite(code) => format!("/join/{code}"),
            Via::Setup(_) => "/setup".to_owned(),
        }
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

/// A sign-up form page (`/signup`, `/join/<code>` or `/setup`) with its errors.
pub fn signup_page_for(via: Via<'_>, csrf: &CsrfToken, values: Fields, errors: Fields) -> FormPage {
    let code_file = match via {
        Via::Setup(path) => path.display().to_string(),
        _ => String::new(),
    };
    let page = Template::render(
        "auth/signup.html",
        context! {
            csrf_token: &csrf.0,
            values,
            errors,
            signup_open: true,
            form_action: via.action(),
            invited: matches!(via, Via::Invite(_)),
            setup: matches!(via, Via::Setup(_)),
            code_file,
        },
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
    FormPage {
        retry_after_s: Some(retry_after_s),
        ..form_page(name, csrf, values, too_many(retry_after_s), signup_open)
    }
}

/// A sign-up form page with a "too many attempts" error, as 429.
pub fn throttled_signup(
    via: Via<'_>,
    csrf: &CsrfToken,
    values: Fields,
    retry_after_s: u64,
) -> FormPage {
    FormPage {
        retry_after_s: Some(retry_after_s),
        ..signup_page_for(via, csrf, values, too_many(retry_after_s))
    }
}

fn too_many(retry_after_s: u64) -> Fields {
    let minutes = retry_after_s.div_ceil(60);
    let wait = if minutes <= 1 {
        "a minute".to_owned()
    } else {
        format!("{minutes} minutes")
    };
    Fields::from([(
        "__all__",
        format!("Too many attempts. Please try again in {wait}."),
    )])
}

pub fn add(errors: &mut Fields, invalid: Invalid) {
    errors.entry(invalid.field).or_insert(invalid.message);
}

fn taken() -> Invalid {
    Invalid::new("username", "A user with that username already exists.")
}

/// The form's answer to a name that cannot be had.
pub fn unavailable(clash: users::CreateError) -> Result<Invalid> {
    match clash {
        users::CreateError::Taken => Ok(taken()),
        users::CreateError::LooksLike => Ok(Invalid::new("username", USERNAME_LOOKS_LIKE)),
        users::CreateError::Db(e) => Err(e.into()),
    }
}

fn require_open(settings: &Settings) -> Result<()> {
    match settings.signup {
        Signup::Open => Ok(()),
        Signup::Invite | Signup::Closed => Err(Error::NotFound),
    }
}

#[derive(FromForm)]
pub struct SignupForm {
    pub(crate) username: Option<String>,
    pub(crate) email: Option<String>,
    pub(crate) password1: Option<String>,
    pub(crate) password2: Option<String>,
    pub(crate) next: Option<String>,
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
    Ok(Right(signup_page_for(
        Via::Open,
        &csrf,
        Fields::from([("next", safe_next(next))]),
        Fields::new(),
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
    sign_up(
        form.0,
        Via::Open,
        &csrf,
        db,
        cookies,
        settings,
        &client,
        throttle,
    )
    .await
}

/// What a new account needs, checked: every problem at once in `Err`.
pub struct Checked {
    pub username: Username,
    pub email: Email,
    pub password_hash: String,
}

/// Checks a sign-up form's fields, adding each problem to `errors`.
pub async fn check_fields(
    db: &Db,
    form: &SignupForm,
    errors: &mut Fields,
) -> Result<Option<Checked>> {
    let raw_username = form.username.as_deref().unwrap_or_default();
    let raw_email = form.email.as_deref().unwrap_or_default();
    let username = match Username::parse("username", raw_username) {
        // Checked here too, so every problem shows at once; the insert still decides races.
        Ok(name) => match users::clash(&db.read, &name).await? {
            Some(clash) => Err(unavailable(clash)?),
            None => Ok(name),
        },
        Err(invalid) => Err(invalid),
    };
    let email = Email::parse("email", raw_email);
    let password = NewPassword::parse(
        form.password1.as_deref().unwrap_or_default(),
        form.password2.as_deref().unwrap_or_default(),
        raw_username,
    );
    match (username, email, password) {
        (Ok(username), Ok(email), Ok(password)) if errors.is_empty() => {
            let password_hash = password::hash(password.as_str().to_owned()).await?;
            Ok(Some(Checked {
                username,
                email,
                password_hash,
            }))
        }
        (username, email, password) => {
            let password = password.err().unwrap_or_default();
            for invalid in [username.err(), email.err()]
                .into_iter()
                .flatten()
                .chain(password)
            {
                add(errors, invalid);
            }
            Ok(None)
        }
    }
}

/// The fields a sign-up form page shows again (never a password).
pub fn typed_values(form: &SignupForm) -> Fields {
    Fields::from([
        ("username", form.username.clone().unwrap_or_default()),
        ("email", form.email.clone().unwrap_or_default()),
        ("next", safe_next(form.next.as_deref())),
    ])
}

/// Signs a new member up through the open form or an invite (`Via::Invite`, whose use is
/// counted in the same transaction as the account is made: nothing is created through an
/// invite that no longer works, and of two people racing for its last use, one wins).
#[allow(clippy::too_many_arguments)]
pub async fn sign_up(
    form: SignupForm,
    via: Via<'_>,
    csrf: &CsrfToken,
    db: &Db,
    cookies: &CookieJar<'_>,
    settings: &Settings,
    client: &Client,
    throttle: &Throttle,
) -> Result<Answer> {
    let values = typed_values(&form);
    let next = safe_next(form.next.as_deref());
    // Every open sign-up counts against its address, whatever comes of it. A valid invite
    // is not limited per address: an office behind one address signs up together.
    if matches!(via, Via::Open) {
        let keys: Vec<Key> = client.address.map(Key::SignUp).into_iter().collect();
        if let Err(wait) = throttle.begin(db, keys).await? {
            return Ok(Right(throttled_signup(via, csrf, values, wait)));
        }
    }
    let mut errors = Fields::new();
    let Some(checked) = check_fields(db, &form, &mut errors).await? else {
        return Ok(Right(signup_page_for(via, csrf, values, errors)));
    };
    let user = users::NewUser {
        username: &checked.username,
        email: &checked.email,
        password_hash: &checked.password_hash,
        role: Role::Member,
    };
    let created = match via {
        Via::Invite(code) => {
            let hash = crate::auth::token::hash(code);
            let mut tx = db.write.begin().await?;
            if crate::db::invites::use_once(&mut tx, &hash)
                .await?
                .is_none()
            {
                tx.rollback().await;
                return Err(Error::InviteUnusable);
            }
            match users::create_in(&mut tx, user).await {
                Ok(id) => {
                    tx.commit().await?;
                    Ok(id)
                }
                Err(e) => {
                    tx.rollback().await;
                    Err(e)
                }
            }
        }
        Via::Open | Via::Setup(_) => users::create(&db.write, user).await,
    };
    let id = match created {
        Ok(id) => id,
        Err(clash) => {
            add(&mut errors, unavailable(clash)?);
            return Ok(Right(signup_page_for(via, csrf, values, errors)));
        }
    };
    users::record_login(&db.write, id).await?;
    session::sign_in(db, cookies, settings, id, client).await?;
    device::remember(cookies, client, id);
    tracing::info!(user_id = %id, invited = matches!(via, Via::Invite(_)), "signed up");
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
async fn login_page(
    next: Option<&str>,
    user: Option<User>,
    csrf: CsrfToken,
    _compressed: Compressed,
    settings: &State<Settings>,
    setup: &State<crate::auth::setup::Setup>,
    db: &Db,
) -> Result<Answer> {
    if user.is_some() {
        return Ok(Left(Redirect::to(safe_next(next))));
    }
    // A first run: nobody can sign in yet. Pages that need a person lead to /setup (see
    // `error`); this page says where to go instead.
    let setup_pending = setup.pending(db).await?;
    let values = Fields::from([("username", String::new()), ("next", safe_next(next))]);
    let page = Template::render(
        "auth/login.html",
        context! {
            csrf_token: &csrf.0,
            values,
            errors: Fields::new(),
            signup_open: settings.signup == Signup::Open,
            setup_pending,
        },
    );
    Ok(Right(FormPage {
        page,
        retry_after_s: None,
    }))
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
    let Some(user) = found.filter(|user| verified && user.is_active && !user.is_bot) else {
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
