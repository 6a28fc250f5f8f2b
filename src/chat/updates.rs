//! `/api/updates`: the long poll every open tab keeps in flight, carrying the event stream
//! (contract v2) and what memory alone knows: presence, typing and receipts.
//!
//! An idle poll costs no database work: it waits on in-memory channels (see `live`) and
//! reads the stream once, when there is something for it.

use std::sync::Arc;
use std::time::Duration;

use rocket::serde::json::Json;
use rocket::{get, routes, Route, Shutdown, State};
use serde::Serialize;
use tokio::time::Instant;

use crate::auth::cache::Sessions;
use crate::auth::session::still_signed_in;
use crate::auth::User;
use crate::config::Settings;
use crate::db::events::{self, Event, What};
use crate::db::{presence, Db};
use crate::error::{Error, Result};
use crate::live::{self, ChatReceipt, Cursor, Fleeting, Live, Presence, Typing, Watch};

pub fn routes() -> Vec<Route> {
    routes![updates]
}

/// The most events one answer carries; the client continues from `cursor`.
const BATCH: u32 = 500;

#[derive(utoipa::ToSchema, Serialize)]
struct Updates {
    events: Vec<Event>,
    presence: Vec<Presence>,
    typing: Vec<Typing>,
    receipts: Vec<ChatReceipt>,
    cursor: i64,
}

fn wait_for(raw: Option<&str>, max_s: u64) -> Result<Duration> {
    let seconds = match raw.map(str::parse::<f64>) {
        None => 0.0,
        Some(Ok(s)) if s.is_finite() && s >= 0.0 => s,
        _ => {
            return Err(Error::BadRequest(
                "`wait` must be a number of seconds ≥ 0.".into(),
            ))
        }
    };
    Ok(Duration::from_secs_f64(seconds.min(max_s as f64)))
}

/// The cursor a client passed back: absent, or a whole number (else 400).
fn cursor(raw: Option<&str>) -> Result<Option<i64>> {
    match raw.map(str::parse::<i64>) {
        None => Ok(None),
        Some(Ok(seq)) if seq >= 0 => Ok(Some(seq)),
        _ => Err(Error::BadRequest(
            "`after` must be a cursor from an earlier answer (a whole number ≥ 0).".into(),
        )),
    }
}

/// Which of a session's tabs is asking (optional; tabs of one browser share a session).
fn tab(raw: Option<&str>) -> Result<u32> {
    match raw.map(str::parse::<u32>) {
        None => Ok(0),
        Some(Ok(tab)) => Ok(tab),
        Some(Err(_)) => Err(Error::BadRequest("`tab` must be a whole number.".into())),
    }
}

// Each database read below is boxed: an async fn's future is as large as the largest
// future it awaits, and this one is held for the whole wait of every idle poll (5,000
// open tabs hold 5,000 of them), while the reads happen only around the wait.

#[utoipa::path(get, path = "/api/updates", tag = "live", params(("after" = Option<i64>, Query, description = "The cursor of the last answer"), ("wait" = Option<f64>, Query, description = "Seconds to hold the poll when there is no news"), ("tab" = Option<i64>, Query, description = "Which tab of the session polls")), responses((status = 200, description = "Events, presence, typing and receipts since the cursor", body = Updates), (status = 410, description = "The cursor is older than the kept events: reload", body = crate::openapi::ErrorBody), (status = "4XX", description = "The error shape: 400 malformed, 401 not signed in, 403 CSRF or role, 404 unknown or not a member, 413 too large, 422 invalid (with `field`), 429 throttled", body = crate::openapi::ErrorBody)))]
#[get("/updates?<after>&<wait>&<tab>")]
#[allow(clippy::too_many_arguments)]
async fn updates(
    after: Option<&str>,
    wait: Option<&str>,
    tab: Option<&str>,
    user: User,
    db: &Db,
    live: &State<Arc<Live>>,
    settings: &State<Settings>,
    sessions: &State<Sessions>,
    mut shutdown: Shutdown,
) -> Result<Json<Updates>> {
    let after = cursor(after)?;
    let wait = wait_for(wait, settings.poll_wait_max_s)?;
    let reader = (user.session_id, self::tab(tab)?);
    let _polling = live.polling(user.id, &user.username);
    let mut watch = live.subscribe(user.id, &user.username);
    let Some(after) = after else {
        return Box::pin(page_load(&mut watch, reader, &user, db, live)).await;
    };
    if live.cursor(after) != Cursor::Good {
        Box::pin(settle_cursor(after, db, live)).await?;
    }

    if watch.latest().is_none() {
        // First poll for this user since start: nothing tells which events are theirs
        // yet, so the newest of all stands in (every event up to it is committed). A
        // cursor behind it reads the stream once, and finds what is theirs, if any.
        watch.learn(live.newest());
    }
    if !watch.knows_contacts() {
        Box::pin(read_contacts(&watch, &user, db)).await?;
    }
    let news = Waited::now(&mut watch, live, reader);
    // An answer ready at once is like the answer to any other request: the guard's
    // look-up of the session is enough. (Nor is a timer armed: even one already due would
    // hold the answer for the next tick of tokio's clock, up to a millisecond.)
    if wait.is_zero() || news.is_news(after) {
        return Box::pin(answer(news, after, &watch, &user, db, live)).await;
    }

    let mut ended = sessions.ended();
    let ended_at = *ended.borrow();
    // A session ended between the guard's look-up and the line above rang no bell.
    if !Box::pin(still_signed_in(db, settings, sessions, &user)).await? {
        return Err(Error::NotSignedIn);
    }
    let deadline = Instant::now() + wait;
    let waited = tokio::select! {
        waited = wait_for_news(news, after, &mut watch, live, reader, deadline) => waited,
        _ = &mut shutdown => None,
        ended = session_ends(&mut ended, db, settings, sessions, &user) => return Err(ended),
    };
    let news = match waited {
        Some(news) => news,
        // Shutting down: answer with whatever has come, so the client reconnects at once.
        None => Waited::now(&mut watch, live, reader),
    };
    // Sessions ended while the news came in, and the news won the race: this one may be
    // among them, and must not be handed anything more.
    if *ended.borrow() != ended_at
        && !Box::pin(still_signed_in(db, settings, sessions, &user)).await?
    {
        return Err(Error::NotSignedIn);
    }
    Box::pin(answer(news, after, &watch, &user, db, live)).await
}

/// A page that has just loaded starts from now: the current cursor, nothing else. It has
/// just read its chats, and so does presence (whose chats may have changed while no tab
/// of this person was open to see it).
async fn page_load(
    watch: &mut Watch,
    reader: live::Reader,
    user: &User,
    db: &Db,
    live: &Live,
) -> Result<Json<Updates>> {
    read_contacts(watch, user, db).await?;
    let fleeting = watch.fleeting(reader);
    live.presence_for(watch, reader);
    Ok(Json(Updates {
        events: Vec::new(),
        presence: Vec::new(),
        typing: fleeting.typing,
        receipts: Vec::new(),
        cursor: live.newest(),
    }))
}

/// A cursor memory does not place: memory may lag a commit by a moment, and the table
/// settles it (else it has expired).
async fn settle_cursor(after: i64, db: &Db, live: &Live) -> Result<()> {
    if live.cursor(after) == Cursor::Ahead {
        let bounds = events::bounds(&db.read).await?;
        live.set_bounds(bounds.floor, bounds.newest);
    }
    match live.cursor(after) {
        Cursor::Good => Ok(()),
        Cursor::Expired | Cursor::Ahead => Err(Error::CursorExpired),
    }
}

/// Whose presence this person sees, as the database has it now.
async fn read_contacts(watch: &Watch, user: &User, db: &Db) -> Result<()> {
    watch.set_contacts(presence::contacts(&db.read, user.id, live::GROUP_UP_TO).await?);
    Ok(())
}

/// The answer to a poll that has news (or whose wait is over): the events it may see
/// after `after`, one query when memory says there are any.
async fn answer(
    news: Waited,
    after: i64,
    watch: &Watch,
    user: &User,
    db: &Db,
    live: &Live,
) -> Result<Json<Updates>> {
    let (events, delivered) = if news.latest > after {
        events::since(&db.read, user.id, after, BATCH).await?
    } else {
        (Vec::new(), Vec::new())
    };
    live.delivered(user.id, &user.username, &delivered);
    // Who this person shares chats with may have changed: presence follows.
    if events
        .iter()
        .any(|e| matches!(e.what, What::Chat { .. } | What::ChatRemoved))
    {
        read_contacts(watch, user, db).await?;
    }
    // A full batch continues from its last event; otherwise everything up to `latest` has
    // been seen (some events belong to other chats, or were pruned or skipped).
    let cursor = match events.last() {
        Some(last) if events.len() as u32 == BATCH => last.seq,
        Some(last) => last.seq.max(news.latest).max(after),
        None => news.latest.max(after),
    };
    Ok(Json(Updates {
        events,
        presence: news.presence,
        typing: news.fleeting.typing,
        receipts: news.fleeting.receipts,
        cursor,
    }))
}

/// What a poll has to say, as far as memory knows.
struct Waited {
    latest: i64,
    presence: Vec<Presence>,
    fleeting: Fleeting,
}

impl Waited {
    /// What memory holds for `reader` now: the newest event of its person, and the
    /// presence, typing and receipts it has not had.
    fn now(watch: &mut Watch, live: &Live, reader: live::Reader) -> Waited {
        Waited {
            latest: watch.latest().unwrap_or_default(),
            presence: live.presence_for(watch, reader),
            fleeting: watch.fleeting(reader),
        }
    }

    /// Adds what came since: typing is a state (the newest wins), the rest adds up.
    fn add(&mut self, newer: Waited) {
        self.latest = self.latest.max(newer.latest);
        self.presence.extend(newer.presence);
        self.fleeting.typing = newer.fleeting.typing;
        self.fleeting.typing_changed |= newer.fleeting.typing_changed;
        self.fleeting.receipts.extend(newer.fleeting.receipts);
    }

    fn is_news(&self, after: i64) -> bool {
        self.latest > after || !self.presence.is_empty() || self.fleeting.is_news()
    }
}

/// Waits until there is news for the poll, or `deadline`.
async fn wait_for_news(
    mut news: Waited,
    after: i64,
    watch: &mut Watch,
    live: &Live,
    reader: live::Reader,
    deadline: Instant,
) -> Option<Waited> {
    let sleep = tokio::time::sleep_until(deadline);
    tokio::pin!(sleep);
    loop {
        // Presence comes in batches (see `live`): it rings the inbox too, once a batch.
        tokio::select! {
            _ = watch.latest.changed() => {}
            _ = watch.inbox.changed() => {}
            _ = &mut sleep => {}
        }
        news.add(Waited::now(watch, live, reader));
        if news.is_news(after) || Instant::now() >= deadline {
            return Some(news);
        }
    }
}

/// Resolves only when this poll's session has ended meanwhile (signed out, deactivated,
/// given a new password): the poll must not hand them anything more.
async fn session_ends(
    ended: &mut tokio::sync::watch::Receiver<u64>,
    db: &Db,
    settings: &Settings,
    sessions: &Sessions,
    user: &User,
) -> Error {
    loop {
        if ended.changed().await.is_err() {
            // The cache is gone: the server is stopping, and shutdown answers the poll.
            std::future::pending::<()>().await;
        }
        match Box::pin(still_signed_in(db, settings, sessions, user)).await {
            Ok(true) => {}
            Ok(false) if user.bearer.is_some() => return Error::BadToken,
            Ok(false) => return Error::NotSignedIn,
            Err(e) => return e,
        }
    }
}
