//! The server's own work, off the request path: the event stream's wiring at start,
//! presence published once a second, and a tick every few seconds that marks people
//! offline, writes what memory holds for the database (last-seen times, delivery marks),
//! probes a failing writer, and now and then clears expired sessions, old events and
//! uploads that no message claimed.

use std::sync::Arc;

use rocket::fairing::AdHoc;
use rocket::{Orbit, Rocket};
use rocket_db_pools::Database;

use crate::auth::cache::Sessions;
use crate::config::Settings;
use crate::db::{chats, events, files, notify, presence, sessions, users, webhooks, Db, Pools};
use crate::live::{self, Live};
use crate::model::Timestamp;

/// Ticks between the rare jobs (an hour at `live::TICK`).
const HOURLY: u64 = 720;

pub fn stage() -> AdHoc {
    AdHoc::on_ignite("event stream and housekeeping", |rocket| async {
        let (Some(db), Some(live)) = (Db::fetch(&rocket), rocket.state::<Arc<Live>>()) else {
            return rocket;
        };
        // Events reach the polls as their transactions commit.
        db.write.listen(live.clone());
        match events::bounds(&db.read).await {
            Ok(bounds) => live.set_bounds(bounds.floor, bounds.newest),
            Err(e) => tracing::warn!(error = %e, "could not read where the event stream stands"),
        }
        // Until a people list is read, presence goes by the team as it stands at start.
        match presence::team(&db.read).await {
            Ok(active) => live.set_team(active),
            Err(e) => tracing::warn!(error = %e, "could not count the team"),
        }
        rocket
            .attach(AdHoc::on_liftoff("housekeeping", |rocket| {
                Box::pin(start(rocket))
            }))
            // While the pools are still open (the command line closes them after this).
            .attach(AdHoc::on_shutdown("last flush", |rocket| {
                Box::pin(async move {
                    if let (Some(db), Some(live)) = (Db::fetch(rocket), rocket.state::<Arc<Live>>())
                    {
                        flush(db, live, live.unflushed()).await;
                    }
                })
            }))
    })
}

async fn start(rocket: &Rocket<Orbit>) {
    let (Some(db), Some(live), Some(settings)) = (
        Db::fetch(rocket),
        rocket.state::<Arc<Live>>(),
        rocket.state::<Settings>(),
    ) else {
        return;
    };
    let (pools, live, settings) = ((**db).clone(), live.clone(), settings.clone());
    if pools.read.is_postgres() {
        instances(&pools, &live, rocket.state::<Sessions>().cloned());
    }
    tokio::spawn(publish_presence(live.clone(), rocket.shutdown()));
    let mut shutdown = rocket.shutdown();
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(live::TICK);
        let mut count: u64 = 0;
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                _ = &mut shutdown => break,
            }
            tick(&pools, &live).await;
            if count % HOURLY == 0 {
                hourly(&pools, &live, &settings).await;
            }
            count += 1;
        }
    });
}

/// Several instances on one PostgreSQL database: each hears the others' commits, ended
/// sessions and fleeting news, and tells them its own (see `db::notify`).
fn instances(pools: &Pools, live: &Arc<Live>, sessions: Option<Sessions>) {
    let (outbox, sent) = tokio::sync::mpsc::unbounded_channel();
    live.share(outbox);
    tokio::spawn(notify::announce::<live::Shared>(pools.clone(), sent));
    let here = live.clone();
    let hooks = notify::Hooks {
        sessions_changed: Arc::new(move || {
            if let Some(sessions) = &sessions {
                sessions.clear();
            }
        }),
        fleeting: Arc::new(move |from, news| here.apply(from, news)),
    };
    tokio::spawn(notify::listen::<live::Shared>(pools.clone(), hooks));
}

/// Presence changes go out in batches, apart from the tick's database work so that a slow
/// disk never holds them up.
async fn publish_presence(live: Arc<Live>, mut shutdown: rocket::Shutdown) {
    let mut batches = tokio::time::interval(live::PRESENCE_BATCH);
    batches.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = batches.tick() => live.publish_presence(),
            _ = &mut shutdown => break,
        }
    }
}

async fn tick(pools: &Pools, live: &Live) {
    pools.write.probe().await;
    let seen = live.tick();
    flush(pools, live, seen).await;
}

/// Writes what memory holds for the table: last-seen times and delivery marks.
async fn flush(pools: &Pools, live: &Live, seen: Vec<(crate::model::UserId, Timestamp)>) {
    if let Err(e) = users::store_last_seen(&pools.write, &seen).await {
        tracing::warn!(error = %e, "could not store last-seen times");
    }
    let delivered = live.deliveries_due();
    if let Err(e) = chats::store_delivered(&pools.write, &delivered).await {
        tracing::warn!(error = %e, "could not store delivery marks");
    }
}

async fn hourly(pools: &Pools, live: &Live, settings: &Settings) {
    if let Err(e) = sessions::delete_expired(&pools.write, settings.sessions_started_after()).await
    {
        tracing::warn!(error = %e, "could not clear expired sessions");
    }
    let before = Timestamp::now().plus_millis(-i64::from(settings.events_keep_days) * 86_400_000);
    match events::prune(&pools.write, before).await {
        Ok(Some(floor)) => live.set_bounds(floor, 0),
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, "could not prune old events"),
    }
    let old_tries = Timestamp::now().plus_millis(-webhooks::KEEP_MS);
    if let Err(e) = webhooks::prune(&pools.write, old_tries).await {
        tracing::warn!(error = %e, "could not prune old webhook tries");
    }
    let unclaimed = Timestamp::now().plus_millis(-files::UNCLAIMED_KEEP_MS);
    match files::remove_unclaimed(&pools.write, unclaimed).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(uploads = n, "removed uploads that no message claimed"),
        Err(e) => tracing::warn!(error = %e, "could not remove unclaimed uploads"),
    }
}
