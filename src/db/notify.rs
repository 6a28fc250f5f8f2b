//! What the instances on one PostgreSQL database tell each other. Every write transaction
//! that recorded events announces them on `writer::EVENTS_CHANNEL` as it commits (see
//! `WriteTx::commit`), and the schema's triggers announce ended sessions and changed
//! people on `SESSIONS_CHANNEL`. Each instance listens on one connection of its own and
//! turns what it hears into what it would have done for a commit of its own: waking the
//! long polls of the audience, forgetting cached sessions.
//!
//! What is too fleeting for a table (typing, receipts, presence) travels on
//! `LIVE_CHANNEL`: `announce` sends what this instance's `live` put in its outbox, and
//! `listen` hands what the others sent to the `fleeting` hook.
//!
//! A NOTIFY is delivered to every listener once the transaction commits, in commit order,
//! or not at all. A listener that lost its connection may have missed some: once it is
//! back, it acts as though it had heard everything (every poll wakes and reads the
//! stream, every cached session is read again).

use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sqlx::postgres::{PgListener, PgNotification};
use tokio::sync::mpsc;

use super::backend::{on, On};
use super::writer::EVENTS_CHANNEL;
use super::{events, Pools};
use crate::model::UserId;

/// Ended sessions and changed people (name, role, password, active), from any process.
pub const SESSIONS_CHANNEL: &str = "kanect_sessions";

/// Typing, receipts and presence, from the other instances.
pub const LIVE_CHANNEL: &str = "kanect_live";

/// PostgreSQL's NOTIFY payload is at most 8,000 bytes; every announcement keeps below.
pub(super) const PAYLOAD_MAX: usize = 7_000;

/// How long to wait before listening again after the connection failed.
const RETRY: Duration = Duration::from_secs(1);

/// An events announcement (`writer::announcement`).
#[derive(Deserialize)]
struct Announcement {
    from: String,
    #[serde(default)]
    told: Vec<(i64, Vec<UserId>)>,
    /// Instead of `told` when that was too long: everyone should look.
    newest: Option<i64>,
}

/// What `listen` does with what it hears besides events (which reach the writer's
/// listener): `sessions_changed` whenever sessions may have ended anywhere, `fleeting`
/// with each piece of news another instance (by id) announced.
pub struct Hooks<T> {
    pub sessions_changed: Arc<dyn Fn() + Send + Sync>,
    pub fleeting: Arc<dyn Fn(u64, T) + Send + Sync>,
}

/// Fleeting news as `announce` packs it.
#[derive(Deserialize)]
struct News<T> {
    from: String,
    news: Vec<T>,
}

/// Announces what arrives in `outbox` to the other instances until it closes, packing
/// what has piled up into as few NOTIFYs as fit (PostgreSQL only; on SQLite it returns).
/// Fleeting news that cannot be sent (the server is away) is dropped, as a lost typing
/// notice would be.
pub async fn announce<T: Serialize>(pools: Pools, mut outbox: mpsc::UnboundedReceiver<T>) {
    if !pools.read.is_postgres() {
        return;
    }
    let from = pools.write.instance().to_string();
    while let Some(first) = outbox.recv().await {
        let mut items = vec![first];
        while let Ok(more) = outbox.try_recv() {
            items.push(more);
        }
        for payload in pack(&from, &items) {
            let sent = on!(&pools.write, |c| {
                sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(LIVE_CHANNEL)
                    .bind(&payload)
                    .execute(c)
                    .await
                    .map(drop)
            });
            if let Err(e) = sent {
                tracing::debug!(error = %e, "could not tell the other instances");
            }
        }
    }
}

/// `items` as `{"from":…,"news":[…]}` payloads of at most `PAYLOAD_MAX` bytes (an item
/// too large by itself is left out).
fn pack<T: Serialize>(from: &str, items: &[T]) -> Vec<String> {
    let head = format!("{{\"from\":\"{from}\",\"news\":[");
    let mut payloads = Vec::new();
    let mut current = head.clone();
    for item in items {
        let Ok(json) = serde_json::to_string(item) else {
            continue;
        };
        if head.len() + json.len() + 2 > PAYLOAD_MAX {
            continue;
        }
        if current.len() + json.len() + 2 > PAYLOAD_MAX {
            current.push_str("]}");
            payloads.push(std::mem::replace(&mut current, head.clone()));
        }
        if current.len() > head.len() {
            current.push(',');
        }
        current.push_str(&json);
    }
    if current.len() > head.len() {
        current.push_str("]}");
        payloads.push(current);
    }
    payloads
}

/// Listens until the pools close (PostgreSQL only; on SQLite it returns at once).
pub async fn listen<T: DeserializeOwned>(pools: Pools, hooks: Hooks<T>) {
    let sessions_changed = hooks.sessions_changed.clone();
    let On::Postgres(pool) = &pools.read else {
        return;
    };
    let instance = pools.write.instance().to_string();
    loop {
        if pool.is_closed() {
            return;
        }
        let mut listener = match PgListener::connect_with(pool).await {
            Ok(listener) => listener,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for other instances; retrying");
                tokio::time::sleep(RETRY).await;
                continue;
            }
        };
        if let Err(e) = listener
            .listen_all([EVENTS_CHANNEL, SESSIONS_CHANNEL, LIVE_CHANNEL])
            .await
        {
            tracing::warn!(error = %e, "cannot listen for other instances; retrying");
            tokio::time::sleep(RETRY).await;
            continue;
        }
        // Whatever was announced before this point may have been missed.
        caught_up(&pools, &*sessions_changed).await;
        loop {
            match listener.try_recv().await {
                Ok(Some(notice)) => heard(&pools, &instance, &notice, &hooks),
                // The connection went and sqlx has reconnected: catch up.
                Ok(None) => caught_up(&pools, &*sessions_changed).await,
                Err(e) => {
                    if pool.is_closed() {
                        return;
                    }
                    tracing::warn!(error = %e, "lost the other instances; listening again");
                    tokio::time::sleep(RETRY).await;
                    break;
                }
            }
        }
    }
}

fn heard<T: DeserializeOwned>(
    pools: &Pools,
    instance: &str,
    notice: &PgNotification,
    hooks: &Hooks<T>,
) {
    match notice.channel() {
        SESSIONS_CHANNEL => return (hooks.sessions_changed)(),
        LIVE_CHANNEL => return fleeting(instance, notice.payload(), hooks),
        _ => {}
    }
    let Some(live) = pools.write.listener() else {
        return;
    };
    let announcement: Announcement = match serde_json::from_str(notice.payload()) {
        Ok(announcement) => announcement,
        Err(e) => {
            tracing::warn!(error = %e, "an announcement this Kanect cannot read");
            return;
        }
    };
    // This instance told its own polls when it committed.
    if announcement.from == instance {
        return;
    }
    for (seq, audience) in &announcement.told {
        live.committed(audience, *seq);
    }
    if let Some(newest) = announcement.newest {
        live.everyone(newest);
    }
}

/// Hands another instance's fleeting news to the hook.
fn fleeting<T: DeserializeOwned>(instance: &str, payload: &str, hooks: &Hooks<T>) {
    let news: News<T> = match serde_json::from_str(payload) {
        Ok(news) => news,
        Err(e) => {
            tracing::warn!(error = %e, "news this Kanect cannot read");
            return;
        }
    };
    let Ok(from) = news.from.parse::<u64>() else {
        return;
    };
    if news.from == instance {
        return;
    }
    for item in news.news {
        (hooks.fleeting)(from, item);
    }
}

/// After a gap in listening: every poll looks again, every session is read again.
async fn caught_up(pools: &Pools, sessions_changed: &(dyn Fn() + Send + Sync)) {
    sessions_changed();
    let (Some(live), Ok(bounds)) = (pools.write.listener(), events::bounds(&pools.read).await)
    else {
        return;
    };
    live.everyone(bounds.newest);
}
