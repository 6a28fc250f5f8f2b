//! Server-side sessions and the `User` request guard.

use rocket::http::{Cookie, CookieJar, SameSite};
use rocket::request::{FromRequest, Outcome, Request};
use rocket::time::Duration;
use rocket_db_pools::Database;

use crate::auth::token;
use crate::config::Settings;
use crate::db::{sessions, Db};
use crate::error::{fail, Error};
use crate::model::{Role, Timestamp, UserId};

pub const COOKIE: &str = "kanect_session";

/// How stale `last_used_at` may get before a request slides the expiry forward: sliding
/// on every request would make every request a write.
const TOUCH_AFTER_MS: i64 = 60 * 60 * 1000;

/// The signed-in person making the request. A route that names it is for signed-in
/// people only: others get 401 (a redirect to the sign-in page for pages).
#[derive(Debug, Clone)]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub role: Role,
    pub session_id: i64,
    pub csrf_token: String,
}

/// The outcome of looking the session cookie up, cached for the request.
enum Lookup {
    Anonymous,
    SignedIn(User),
    Failed(String),
}

async fn lookup(req: &Request<'_>) -> Lookup {
    let Some(cookie) = req.cookies().get(COOKIE) else {
        return Lookup::Anonymous;
    };
    let (Some(db), Some(settings)) = (Db::fetch(req.rocket()), req.rocket().state::<Settings>())
    else {
        return Lookup::Failed("database or settings not attached".into());
    };
    let started_after = settings.sessions_started_after();
    let found = match sessions::lookup(&db.read, &token::hash(cookie.value()), started_after).await
    {
        Ok(Some(found)) => found,
        Ok(None) => return Lookup::Anonymous,
        Err(e) => return Lookup::Failed(e.to_string()),
    };
    let now = Timestamp::now();
    if now.0 - found.last_used_at.0 > TOUCH_AFTER_MS {
        let expires = now.plus_days(settings.session_days);
        if let Err(e) = sessions::touch(&db.write, found.session_id, expires).await {
            tracing::warn!(error = %e, "could not extend a session");
        }
    }
    Lookup::SignedIn(User {
        id: found.user_id,
        username: found.username,
        role: found.role,
        session_id: found.session_id,
        csrf_token: found.csrf_token,
    })
}

impl User {
    /// The signed-in person, if any; looked up once per request.
    pub async fn current<'r>(req: &'r Request<'_>) -> Result<Option<&'r User>, Error> {
        match req.local_cache_async(lookup(req)).await {
            Lookup::SignedIn(user) => Ok(Some(user)),
            Lookup::Anonymous => Ok(None),
            Lookup::Failed(e) => Err(Error::Internal(format!("session look-up: {e}"))),
        }
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for User {
    type Error = Error;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Error> {
        match User::current(req).await {
            Ok(Some(user)) => Outcome::Success(user.clone()),
            Ok(None) => fail(req, Error::NotSignedIn),
            Err(e) => fail(req, e),
        }
    }
}

/// Where a sign-in came from, kept with the session so a person can recognise it.
pub struct Client {
    pub user_agent: String,
    pub ip: String,
    pub address: Option<std::net::IpAddr>,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Client {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let user_agent = req.headers().get_one("User-Agent").unwrap_or_default();
        let address = req.client_ip();
        Outcome::Success(Client {
            user_agent: user_agent.chars().take(200).collect(),
            ip: address.map(|ip| ip.to_string()).unwrap_or_default(),
            address,
        })
    }
}

/// Starts a new session for `user` with a fresh token and CSRF token (no fixation: any
/// session the browser had is replaced).
pub async fn sign_in(
    db: &Db,
    cookies: &CookieJar<'_>,
    settings: &Settings,
    user: UserId,
    client: &Client,
) -> Result<(), Error> {
    let token = token::new_session_token();
    let csrf = token::random_base64(32);
    sessions::create(
        &db.write,
        sessions::NewSession {
            token_hash: &token::hash(&token),
            user_id: user,
            csrf_token: &csrf,
            expires_at: Timestamp::now().plus_days(settings.session_days),
            user_agent: &client.user_agent,
            ip: &client.ip,
        },
    )
    .await?;
    let cookie = Cookie::build((COOKIE, token))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(settings.secure_cookies)
        .max_age(Duration::days(i64::from(settings.session_days)));
    cookies.add(cookie);
    cookies.remove_private(crate::auth::csrf::ANON_COOKIE);
    Ok(())
}

pub async fn sign_out(db: &Db, cookies: &CookieJar<'_>, user: &User) -> Result<(), Error> {
    sessions::delete(&db.write, user.session_id).await?;
    cookies.remove(Cookie::build(COOKIE).path("/"));
    Ok(())
}
