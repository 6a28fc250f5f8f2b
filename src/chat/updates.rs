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
use crate::db::events::{self, Event};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::live::{self, ChatReceipt, Cursor, Fleeting, Live, Presence, Typing, Watch};

pub fn routes() -> Vec<Route> {
    routes![updates]
}

/// The most events one answer carries; the client continues from `cursor`.
const BATCH: u32 = 500;

#[derive(Serialize)]
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

    // A page that has just loaded starts from now: the current cursor, nothing else.
    let Some(after) = after else {
        let fleeting = watch.fleeting(reader);
        live.presence_for(reader);
        return Ok(Json(Updates {
            events: Vec::new(),
            presence: Vec::new(),
            typing: fleeting.typing,
            receipts: Vec::new(),
            cursor: live.newest(),
        }));
    };
    match live.cursor(after) {
        Cursor::Good => {}
        Cursor::Expired => return Err(Error::CursorExpired),
        Cursor::Ahead => {
            // Memory may lag a commit by a moment; the table settles it.
            let bounds = events::bounds(&db.read).await?;
            live.set_bounds(bounds.floor, bounds.newest);
            if live.cursor(after) != Cursor::Good {
                return Err(Error::CursorExpired);
            }
        }
    }

    let mut ended = sessions.ended();
    // A session ended between the guard's look-up and the line above rang no bell.
    if !still_signed_in(db, settings, sessions, &user).await? {
        return Err(Error::NotSignedIn);
    }
    let latest = match watch.latest() {
        Some(latest) => latest,
        None => {
            // First poll for this user since start: learn their newest event once.
            watch.learn(events::latest_for(&db.read, user.id).await?);
            watch.latest().unwrap_or_default()
        }
    };
    let news = Waited {
        latest,
        presence: live.presence_for(reader),
        fleeting: watch.fleeting(reader),
    };
    let deadline = Instant::now() + wait;
    let waited = tokio::select! {
        waited = wait_for_news(news, after, &mut watch, live, reader, deadline) => waited,
        _ = &mut shutdown => None,
        ended = session_ends(&mut ended, db, settings, sessions, &user) => return Err(ended),
    };
    // The session may have ended while this poll waited, and the news that woke it may
    // have won the race against that bell: whatever woke it, a signed-out person gets
    // nothing (a cache look-up while the session stands).
    if !still_signed_in(db, settings, sessions, &user).await? {
        return Err(Error::NotSignedIn);
    }
    let news = match waited {
        Some(news) => news,
        // Shutting down: answer with whatever has come, so the client reconnects at once.
        None => Waited {
            latest: watch.latest().unwrap_or(latest),
            presence: live.presence_for(reader),
            fleeting: watch.fleeting(reader),
        },
    };

    let (events, delivered) = if news.latest > after {
        events::since(&db.read, user.id, after, BATCH).await?
    } else {
        (Vec::new(), Vec::new())
    };
    live.delivered(user.id, &user.username, &delivered);
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
    // Without a wait the answer is ready: a timer, even one already due, would hold it
    // for the next tick of tokio's clock (up to a millisecond).
    if news.is_news(after) || Instant::now() >= deadline {
        return Some(news);
    }
    let sleep = tokio::time::sleep_until(deadline);
    tokio::pin!(sleep);
    loop {
        tokio::select! {
            _ = watch.latest.changed() => {}
            _ = watch.inbox.changed() => {}
            _ = watch.presence.changed() => {
                // Gather a moment: a wave of people coming online is one answer, not many.
                let gather = tokio::time::sleep(live::PRESENCE_GATHER);
                tokio::select! {
                    _ = watch.latest.changed() => {}
                    _ = watch.inbox.changed() => {}
                    _ = gather => {}
                    _ = &mut sleep => {}
                }
            }
            _ = &mut sleep => {}
        }
        news.latest = watch.latest().unwrap_or(news.latest);
        news.presence.extend(live.presence_for(reader));
        let fleeting = watch.fleeting(reader);
        news.fleeting.typing = fleeting.typing;
        news.fleeting.typing_changed |= fleeting.typing_changed;
        news.fleeting.receipts.extend(fleeting.receipts);
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
        match still_signed_in(db, settings, sessions, user).await {
            Ok(true) => {}
            Ok(false) => return Error::NotSignedIn,
            Err(e) => return e,
        }
    }
}
