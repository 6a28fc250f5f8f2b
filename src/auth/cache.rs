//! Signed-in sessions kept in memory, so that a request (above all a long poll, which every
//! open tab keeps in flight) finds its user without a database query.
//!
//! The sessions table stays the truth. The cache forgets, at once:
//! - a session signed out (`session::sign_out`), and the sessions of a user ended or changed
//!   through `session::end_sessions_of` / `session::forget_user`;
//! - everything, after any successful POST to the admin console or the account page (they
//!   deactivate people, set passwords, change roles and names, end sessions): the response
//!   fairing below runs after the handler has committed, so no call site can forget, and
//!   those pages are used rarely enough that everyone reading their session once more is
//!   nothing;
//! - everything, when another process commits to the database (`kanect changepassword`,
//!   an SQL shell), which the watch notices within `WATCH_EVERY`.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use rocket::fairing::{self, Fairing, Info, Kind};
use rocket::http::Method;
use rocket::{Build, Orbit, Request, Response, Rocket};
use rocket_db_pools::Database;
use tokio::sync::watch;

use crate::auth::session::User;
use crate::db::Db;
use crate::model::{Timestamp, UserId};

/// How soon a commit made by another process reaches the sessions of this one.
pub const WATCH_EVERY: Duration = Duration::from_millis(200);

/// Sessions nobody used for this long leave memory (the next request reads the table).
const IDLE_MS: i64 = 60 * 60 * 1000;

/// A session as the table had it when it was read, keyed by its token hash.
#[derive(Clone)]
pub struct Entry {
    pub user: User,
    pub expires_at: Timestamp,
    pub last_used_at: Timestamp,
    pub created_at: Timestamp,
    /// When this process last served a request with it (for eviction only).
    pub seen_at: Timestamp,
}

#[derive(Default)]
struct State {
    map: HashMap<[u8; 32], Entry>,
    /// Bumped by every invalidation: a read of the table that started before one must not
    /// put its (possibly ended) session back.
    epoch: u64,
}

/// The cache, as Rocket manages it (`&State<Sessions>`); cheap to clone.
#[derive(Clone)]
pub struct Sessions {
    state: Arc<RwLock<State>>,
    /// Bumped whenever sessions may have ended, so requests in flight (long polls) check
    /// that theirs still stands instead of answering a signed-out person.
    ended: Arc<watch::Sender<u64>>,
}

impl Default for Sessions {
    fn default() -> Self {
        Sessions {
            state: Arc::default(),
            ended: Arc::new(watch::Sender::new(0)),
        }
    }
}

impl Sessions {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// The unexpired session with this token hash, if cached.
    pub fn get(&self, token_hash: &[u8; 32], now: Timestamp) -> Option<Entry> {
        let state = self.read();
        let entry = state.map.get(token_hash)?;
        (entry.expires_at.0 > now.0).then(|| entry.clone())
    }

    /// Notes a use of a cached session, at most once a minute (eviction needs no more).
    pub fn seen(&self, token_hash: &[u8; 32], entry: &Entry, now: Timestamp) {
        if now.0 - entry.seen_at.0 > 60_000 {
            if let Some(cached) = self.write().map.get_mut(token_hash) {
                cached.seen_at = now;
            }
        }
    }

    /// The value to pass to `insert` after reading the table.
    pub fn epoch(&self) -> u64 {
        self.read().epoch
    }

    /// Caches a session read from the table, unless something was invalidated since the
    /// read began (at `epoch`).
    pub fn insert(&self, epoch: u64, token_hash: [u8; 32], entry: Entry) {
        let mut state = self.write();
        if state.epoch == epoch {
            state.map.insert(token_hash, entry);
        }
    }

    pub fn forget_user(&self, user: UserId) {
        self.invalidate(|map| map.retain(|_, entry| entry.user.id != user));
    }

    pub fn forget_session(&self, session_id: i64) {
        self.invalidate(|map| map.retain(|_, entry| entry.user.session_id != session_id));
    }

    /// Forgets a revoked API token.
    pub fn forget_token(&self, token_id: i64) {
        self.invalidate(|map| map.retain(|_, entry| entry.user.bearer != Some(token_id)));
    }

    pub fn clear(&self) {
        self.invalidate(HashMap::clear);
    }

    fn invalidate(&self, forget: impl FnOnce(&mut HashMap<[u8; 32], Entry>)) {
        {
            let mut state = self.write();
            state.epoch += 1;
            forget(&mut state.map);
        }
        self.ended.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Changes whenever sessions may have ended (see `auth::session::still_signed_in`).
    pub fn ended(&self) -> watch::Receiver<u64> {
        self.ended.subscribe()
    }

    /// Drops expired sessions and those idle for an hour.
    pub fn prune(&self, now: Timestamp) {
        self.write()
            .map
            .retain(|_, e| e.expires_at.0 > now.0 && now.0 - e.seen_at.0 < IDLE_MS);
    }

    pub fn len(&self) -> usize {
        self.read().map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Manages the cache, clears it after account changes made through the app, and, once the
/// server runs, watches for commits of other processes.
pub struct Watch;

/// Requests that may end sessions or change people: the admin console and the account page.
fn changes_accounts(req: &Request<'_>) -> bool {
    let path = req.uri().path();
    req.method() == Method::Post
        && (path == "/admin"
            || path.starts_with("/admin/")
            || path == "/account"
            || path.starts_with("/account/"))
}

#[rocket::async_trait]
impl Fairing for Watch {
    fn info(&self) -> Info {
        Info {
            name: "session cache",
            kind: Kind::Ignite | Kind::Liftoff | Kind::Response,
        }
    }

    async fn on_ignite(&self, rocket: Rocket<Build>) -> fairing::Result {
        Ok(rocket.manage(Sessions::default()))
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        if res.status().code < 400 && changes_accounts(req) {
            if let Some(sessions) = req.rocket().state::<Sessions>() {
                sessions.clear();
            }
        }
    }

    async fn on_liftoff(&self, rocket: &Rocket<Orbit>) {
        let (Some(db), Some(sessions)) = (Db::fetch(rocket), rocket.state::<Sessions>()) else {
            return;
        };
        let write = db.write.clone();
        let sessions = sessions.clone();
        let mut shutdown = rocket.shutdown();
        tokio::spawn(async move {
            // `data_version` changes only when *another* connection commits. Every write of
            // this process goes through the one writer connection, so a change means another
            // process (or a connection opened by hand) wrote: sessions may have ended.
            let mut known: Option<i64> = None;
            let mut ticks = tokio::time::interval(WATCH_EVERY);
            let mut count: u64 = 0;
            loop {
                tokio::select! {
                    _ = ticks.tick() => {}
                    _ = &mut shutdown => break,
                }
                count += 1;
                match write.data_version().await {
                    // PostgreSQL: other instances and processes announce their changes
                    // (see `db::notify`); there is nothing to watch.
                    Ok(None) => {}
                    Ok(Some(version)) => {
                        if known.is_some_and(|known| known != version) {
                            sessions.clear();
                        }
                        known = Some(version);
                    }
                    Err(e) => {
                        // Unsure what changed: trust nothing cached.
                        tracing::warn!(error = %e, "could not watch the database for changes");
                        sessions.clear();
                        known = None;
                    }
                }
                if count % 1500 == 0 {
                    sessions.prune(Timestamp::now());
                }
            }
        });
    }
}
