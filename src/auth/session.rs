//! Server-side sessions and the `User` request guard.

use rocket::http::{CookieJar, SameSite};
use rocket::request::{FromRequest, Outcome, Request};
use rocket::time::Duration;
use rocket_db_pools::Database;

use crate::auth::cache::{Entry, Sessions};
use crate::auth::client::Client;
use crate::auth::{cookies, token};
use crate::config::Settings;
use crate::db::{sessions, tokens, Db};
use crate::error::{fail, Error};
use crate::model::{Role, Timestamp, UserId};
use crate::profile::{Preferences, Theme};

/// How stale `last_used_at` may get before a request slides the expiry forward: sliding
/// on every request would make every request a write.
const TOUCH_AFTER_MS: i64 = 60 * 60 * 1000;

/// How stale an API token's `last_used_at` may get: at most one write a minute per token,
/// however busy the script using it.
const TOKEN_TOUCH_AFTER_MS: i64 = 60 * 1000;

/// How long a token look-up is cached before the table is read again (revocation and
/// deactivation forget it at once; this only bounds memory).
const TOKEN_CACHE_MS: i64 = 60 * 60 * 1000;

/// The signed-in person making the request. A route that names it is for signed-in
/// people only: others get 401 (a redirect to the sign-in page for pages).
#[derive(Debug, Clone)]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub role: Role,
    /// The name they show others (their username when they chose none).
    pub display_name: String,
    pub avatar_url: Option<String>,
    pub preferences: Preferences,
    /// The session's id; for a request made with an API token, minus the token's id (so
    /// it names no session and no other token).
    pub session_id: i64,
    /// The API token's id when the request came with `Authorization: Bearer` (API only):
    /// then no CSRF token is needed, since no browser adds that header by itself.
    pub bearer: Option<i64>,
    /// The session's CSRF secret; pages carry it masked (`csrf_token`).
    pub(crate) csrf_secret: String,
    /// The SHA-256 of the session token, as the table keeps it.
    pub token_hash: [u8; 32],
}

impl User {
    /// The CSRF token for a page or form being rendered: masked afresh each time.
    pub fn csrf_token(&self) -> String {
        token::masked(&self.csrf_secret)
    }
}

/// The outcome of looking the session cookie up, kept for the request.
enum Lookup {
    Anonymous,
    SignedIn(User),
    /// An `/api` request with a Bearer token that is malformed, unknown or revoked (or
    /// whose owner was deactivated): 401, even if a session cookie came along.
    BadToken,
    /// The table could not be read; `unavailable` when the storage (or the database
    /// server) is the cause, which people are told is temporary (503).
    Failed {
        error: String,
        unavailable: bool,
    },
}

impl Lookup {
    fn failed(e: &sqlx::Error) -> Lookup {
        Lookup::Failed {
            error: e.to_string(),
            unavailable: crate::db::writer::is_storage_error(e),
        }
    }
}

/// A failed look-up as the request's error.
fn failure(error: &str, unavailable: bool) -> Error {
    if unavailable {
        Error::Unavailable(format!("session look-up: {error}"))
    } else {
        Error::Internal(format!("session look-up: {error}"))
    }
}

/// The token of `Authorization: Bearer <token>` on an `/api` request. Pages ignore it
/// (they need the cookie), and so does every other scheme (a proxy's Basic auth, say).
fn bearer<'r>(req: &'r Request<'_>) -> Option<&'r str> {
    let path = req.uri().path();
    if !(path == "/api" || path.starts_with("/api/")) {
        return None;
    }
    let header = req.headers().get_one("Authorization")?.trim();
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
}

async fn lookup(req: &Request<'_>) -> Lookup {
    let presented = bearer(req);
    let cookie = req.cookies().get(cookies::SESSION.on(Client::of(req)));
    if presented.is_none() && cookie.is_none() {
        return Lookup::Anonymous;
    }
    let rocket = req.rocket();
    let (Some(db), Some(settings), Some(cache)) = (
        Db::fetch(rocket),
        rocket.state::<Settings>(),
        rocket.state::<Sessions>(),
    ) else {
        return Lookup::Failed {
            error: "database, settings or session cache not attached".into(),
            unavailable: false,
        };
    };
    match (presented, cookie) {
        // A malformed token costs no query.
        (Some(presented), _) if !token::is_api_token(presented) => Lookup::BadToken,
        (Some(presented), _) => find_token(db, cache, token::hash(presented)).await,
        (None, Some(cookie)) => find(db, settings, cache, token::hash(cookie.value())).await,
        (None, None) => Lookup::Anonymous,
    }
}

/// The API token with this hash: from the cache, else from the table (then cached).
async fn find_token(db: &Db, cache: &Sessions, hash: [u8; 32]) -> Lookup {
    let now = Timestamp::now();
    let cached = cache
        .get(&hash, now)
        .filter(|entry| entry.user.bearer.is_some());
    let mut entry = match cached {
        Some(entry) => {
            cache.seen(&hash, &entry, now);
            entry
        }
        None => {
            let epoch = cache.epoch();
            let found = match tokens::lookup(&db.read, &hash).await {
                Ok(Some(found)) => found,
                Ok(None) => return Lookup::BadToken,
                Err(e) => return Lookup::failed(&e),
            };
            let entry = Entry {
                user: User {
                    id: found.user_id,
                    username: found.username,
                    role: found.role,
                    display_name: found.display_name,
                    avatar_url: found.avatar_url,
                    preferences: Preferences::from_stored(&found.preferences),
                    session_id: -found.token_id,
                    bearer: Some(found.token_id),
                    csrf_secret: String::new(),
                    token_hash: hash,
                },
                expires_at: now.plus_millis(TOKEN_CACHE_MS),
                last_used_at: found.last_used_at.unwrap_or(Timestamp(0)),
                created_at: now,
                seen_at: now,
            };
            cache.insert(epoch, hash, entry.clone());
            entry
        }
    };
    if now.0 - entry.last_used_at.0 > TOKEN_TOUCH_AFTER_MS {
        let epoch = cache.epoch();
        let id = entry.user.bearer.unwrap_or_default();
        match tokens::touch(&db.write, id, now).await {
            Ok(true) => {
                entry.last_used_at = now;
                cache.insert(epoch, hash, entry.clone());
            }
            // Revoked meanwhile (the table is the truth).
            Ok(false) => return Lookup::BadToken,
            Err(e) => tracing::warn!(error = %e, "could not record a token's use"),
        }
    }
    Lookup::SignedIn(entry.user)
}

/// The session with this token hash: from the cache, else from the table (then cached).
async fn find(db: &Db, settings: &Settings, cache: &Sessions, hash: [u8; 32]) -> Lookup {
    let now = Timestamp::now();
    let started_after = settings.sessions_started_after();
    // A token's entry never stands for a cookie: the same string sent as a cookie is no
    // session.
    let cached = cache
        .get(&hash, now)
        .filter(|entry| entry.user.bearer.is_none() && entry.created_at.0 > started_after.0);
    let mut entry = match cached {
        Some(entry) => {
            cache.seen(&hash, &entry, now);
            entry
        }
        None => {
            let epoch = cache.epoch();
            let found = match sessions::lookup(&db.read, &hash, started_after).await {
                Ok(Some(found)) => found,
                Ok(None) => return Lookup::Anonymous,
                Err(e) => return Lookup::failed(&e),
            };
            let entry = Entry {
                user: User {
                    id: found.user_id,
                    username: found.username,
                    role: found.role,
                    display_name: found.display_name,
                    avatar_url: found.avatar_url,
                    preferences: Preferences::from_stored(&found.preferences),
                    session_id: found.session_id,
                    bearer: None,
                    csrf_secret: found.csrf_token,
                    token_hash: hash,
                },
                expires_at: found.expires_at,
                last_used_at: found.last_used_at,
                created_at: found.created_at,
                seen_at: now,
            };
            cache.insert(epoch, hash, entry.clone());
            entry
        }
    };
    if now.0 - entry.last_used_at.0 > TOUCH_AFTER_MS {
        let epoch = cache.epoch();
        let expires = now.plus_days(settings.session_days);
        match sessions::touch(&db.write, entry.user.session_id, expires).await {
            Ok(true) => {
                entry.last_used_at = now;
                entry.expires_at = expires;
                cache.insert(epoch, hash, entry.clone());
            }
            // Ended meanwhile (the table is the truth).
            Ok(false) => return Lookup::Anonymous,
            Err(e) => tracing::warn!(error = %e, "could not extend a session"),
        }
    }
    Lookup::SignedIn(entry.user)
}

/// Whether `user`'s session still stands, for a request that has been waiting (a long
/// poll) while sessions ended (`Sessions::ended`). Costs no query while it stays cached.
pub async fn still_signed_in(
    db: &Db,
    settings: &Settings,
    cache: &Sessions,
    user: &User,
) -> Result<bool, Error> {
    let found = if user.bearer.is_some() {
        find_token(db, cache, user.token_hash).await
    } else {
        find(db, settings, cache, user.token_hash).await
    };
    match found {
        Lookup::SignedIn(found) => Ok(found.session_id == user.session_id),
        Lookup::Anonymous | Lookup::BadToken => Ok(false),
        Lookup::Failed { error, unavailable } => Err(failure(&error, unavailable)),
    }
}

/// The theme of the person whose session this request looked up: the error page knows
/// no user of its own.
struct SeenTheme(Theme);

impl User {
    /// The signed-in person, if any; looked up once per request.
    pub async fn current<'r>(req: &'r Request<'_>) -> Result<Option<&'r User>, Error> {
        match req.local_cache_async(lookup(req)).await {
            Lookup::SignedIn(user) => {
                req.local_cache(|| SeenTheme(user.preferences.theme));
                Ok(Some(user))
            }
            Lookup::Anonymous => Ok(None),
            Lookup::BadToken => Err(Error::BadToken),
            Lookup::Failed { error, unavailable } => Err(failure(error, *unavailable)),
        }
    }
}

/// The theme for a page of this request: the signed-in person's, when their session was
/// looked up, else the browser's own (`system`).
pub fn theme_of(req: &Request<'_>) -> Theme {
    req.local_cache(|| SeenTheme(Theme::System)).0
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

/// Starts a new session for `user` with a fresh token and CSRF token (no fixation: any
/// session the browser had is replaced).
pub async fn sign_in(
    db: &Db,
    jar: &CookieJar<'_>,
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
    let mut cookie = cookies::build(cookies::SESSION, token, client, SameSite::Lax);
    cookie.set_max_age(Duration::days(i64::from(settings.session_days)));
    jar.add(cookie);
    cookies::remove_private(jar, cookies::CSRF, client);
    Ok(())
}

pub async fn sign_out(
    db: &Db,
    cache: &Sessions,
    jar: &CookieJar<'_>,
    client: &Client,
    user: &User,
) -> Result<(), Error> {
    sessions::delete(&db.write, user.session_id).await?;
    cache.forget_session(user.session_id);
    cookies::remove(jar, cookies::SESSION, client);
    Ok(())
}

/// Ends every session of `user` at once: deletes them from the table and from the cache.
/// Use it for deactivation, and after `db::users::set_password` (which deletes the rows in
/// its own transaction; the second delete finds nothing and is harmless).
pub async fn end_sessions_of(db: &Db, cache: &Sessions, user: UserId) -> Result<(), Error> {
    let mut tx = db.write.begin().await?;
    sessions::delete_for_user(&mut tx, user.0, None).await?;
    tx.commit().await?;
    cache.forget_user(user);
    Ok(())
}

/// Makes a committed change to `user` (role, username, deletion, or anything else a
/// signed-in request shows) visible to their sessions at once, without ending them.
pub fn forget_user(cache: &Sessions, user: UserId) {
    cache.forget_user(user);
}
