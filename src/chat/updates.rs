//! `/api/updates`: the long poll every open tab keeps in flight.
//!
//! An idle poll costs no database work: it waits on in-memory channels (see `live`) and
//! reads the database once, when there is something to send.

use std::sync::Arc;
use std::time::Duration;

use rocket::serde::json::Json;
use rocket::{get, routes, Route, Shutdown, State};
use serde::Serialize;
use tokio::time::Instant;

use super::messages::message_id;
use crate::auth::cache::Sessions;
use crate::auth::session::still_signed_in;
use crate::auth::User;
use crate::config::Settings;
use crate::db::messages::{self, Message};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::live::{self, Live, Presence};
use crate::model::MessageId;

pub fn routes() -> Vec<Route> {
    routes![updates]
}

/// The most messages one answer carries; the client continues from `cursor`.
const BATCH: u32 = 500;

#[derive(Serialize)]
struct Updates {
    messages: Vec<Message>,
    presence: Vec<Presence>,
    cursor: MessageId,
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

#[get("/updates?<after>&<wait>")]
#[allow(clippy::too_many_arguments)]
async fn updates(
    after: Option<&str>,
    wait: Option<&str>,
    user: User,
    db: &Db,
    live: &State<Arc<Live>>,
    settings: &State<Settings>,
    sessions: &State<Sessions>,
    mut shutdown: Shutdown,
) -> Result<Json<Updates>> {
    let after = message_id("after", after)?.unwrap_or_default();
    let wait = wait_for(wait, settings.poll_wait_max_s)?;
    let deadline = Instant::now() + wait;
    let _polling = live.polling(user.id, &user.username);
    let mut watch = live.subscribe(user.id, &user.username);
    let mut ended = sessions.ended();
    // A session ended between the guard's look-up and the line above rang no bell.
    if !still_signed_in(db, settings, sessions, &user).await? {
        return Err(Error::NotSignedIn);
    }

    let mut latest = match watch.latest() {
        Some(latest) => latest,
        None => {
            // First poll for this user since start: learn their newest id once.
            watch.learn(messages::latest_for_user(&db.read, user.id).await?);
            watch.latest().unwrap_or_default()
        }
    };
    let mut presence = live.presence_for(user.session_id);
    // Without a wait the answer is ready: a timer, even one already due, would hold it
    // for the next tick of tokio's clock (up to a millisecond).
    let sleep = tokio::time::sleep_until(deadline);
    tokio::pin!(sleep);
    while latest <= after && presence.is_empty() && !wait.is_zero() {
        tokio::select! {
            _ = watch.latest.changed() => {}
            _ = watch.presence.changed() => {
                let gather = tokio::time::sleep(live::PRESENCE_GATHER);
                let done = tokio::select! {
                    _ = watch.latest.changed() => false,
                    _ = gather => false,
                    _ = &mut sleep => true,
                    _ = &mut shutdown => true,
                };
                if done {
                    latest = watch.latest().unwrap_or(latest);
                    presence = live.presence_for(user.session_id);
                    break;
                }
            }
            _ = ended.changed() => {
                // Signed out, deactivated or given a new password meanwhile: this poll
                // must not hand them anything more.
                if !still_signed_in(db, settings, sessions, &user).await? {
                    return Err(Error::NotSignedIn);
                }
            }
            _ = &mut sleep => break,
            _ = &mut shutdown => break,
        }
        latest = watch.latest().unwrap_or(latest);
        presence = live.presence_for(user.session_id);
    }

    let messages = if latest > after {
        messages::updates(&db.read, user.id, after, BATCH).await?
    } else {
        Vec::new()
    };
    // A full batch continues from its last message; otherwise everything up to `latest`
    // has been seen (some ids may belong to deleted messages).
    let cursor = match messages.last() {
        Some(last) if messages.len() as u32 == BATCH => last.id,
        Some(last) => last.id.max(latest).max(after),
        None => latest.max(after),
    };
    Ok(Json(Updates {
        messages,
        presence,
        cursor,
    }))
}
