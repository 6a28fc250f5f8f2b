//! Web Push: a person with no open tab still hears of a direct message or a mention, on
//! each browser they subscribed (`api`), at the level they chose per chat. A stored message
//! is handed to one task over a bounded channel (`Push::message_stored`), so neither the
//! request nor the send writer ever waits for a push service; the task decides who gets
//! a push (`rules`), encrypts each payload (RFC 8291) and sends it with VAPID (`send`).

pub mod api;
pub mod endpoint;
mod rules;
mod send;
pub mod vapid;

use std::collections::hash_map::{Entry, HashMap};
use std::collections::HashSet;
use std::sync::Arc;

use rocket::fairing::AdHoc;
use rocket_db_pools::Database;
use tokio::sync::{mpsc, Semaphore};

use crate::config::Settings;
use crate::db::messages::Sent;
use crate::db::{push, Db, Pools};
use crate::live::Live;
use crate::model::{ChatId, UserId};
use crate::outbound::Dropped;
use crate::refreshed::{Refreshed, Stale};
use vapid::Vapid;

/// Messages waiting for the push task; past this, new ones are dropped (and logged):
/// pushes are a courtesy, the message itself is stored and polls deliver it.
const QUEUE: usize = 1024;
/// Pushes in flight at once, each bounded by `send::TIMEOUT`.
const IN_FLIGHT: usize = 32;
/// Messages the task takes at once: a burst into one chat reads its recipients once.
const BATCH: usize = 64;
/// A full queue is told in the log at most this often, with how many were dropped.
const DROPS_TOLD_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// A stored message and its sender, as the push task takes it. Its members tell who of
/// them has a subscription without a query.
struct Stored {
    sender: UserId,
    sent: Sent,
}

/// The push side as Rocket manages it (`&State<Push>`); a clone hands messages to the
/// same task.
#[derive(Clone)]
pub struct Push {
    vapid: Arc<Vapid>,
    jobs: mpsc::Sender<Stored>,
    /// `webhook_allow_private`: loopback endpoints are allowed (tests, a local relay).
    allow_private: bool,
    dropped: Arc<Dropped>,
    /// Set when someone subscribes here: the task reads who has a subscription again.
    subscribed: Stale,
}

impl Push {
    pub fn public_key(&self) -> &str {
        self.vapid.public_key()
    }

    /// `sent` from `sender` is on disk: push it to whoever asks for it. Never waits.
    pub fn message_stored(&self, sender: UserId, sent: &Sent) {
        let stored = Stored {
            sender,
            sent: sent.clone(),
        };
        if let Err(mpsc::error::TrySendError::Full(_)) = self.jobs.try_send(stored) {
            self.dropped.one();
        }
    }
}

/// Loads (or makes) the VAPID key and starts the push task (attach after `Db::init()`).
pub fn stage() -> AdHoc {
    AdHoc::try_on_ignite("web push", |rocket| async move {
        let Some(settings) = rocket.state::<Settings>().cloned() else {
            return Err(rocket);
        };
        let (Some(db), Some(live)) = (Db::fetch(&rocket), rocket.state::<Arc<Live>>()) else {
            return Err(rocket);
        };
        let (pools, live) = (Pools::clone(db), Arc::clone(live));
        let vapid = match Vapid::load_or_create(&settings.data_dir) {
            Ok(vapid) => Arc::new(vapid),
            Err(e) => {
                tracing::error!(error = %e, "web push cannot start");
                return Err(rocket);
            }
        };
        let client = match send::client(settings.webhook_allow_private) {
            Ok(client) => client,
            Err(e) => {
                tracing::error!(error = %e, "web push cannot start its HTTP client");
                return Err(rocket);
            }
        };
        let (jobs, queued) = mpsc::channel(QUEUE);
        let subscribed = Stale::default();
        let sender = send::Sender {
            client,
            vapid: Arc::clone(&vapid),
            db: pools.write.clone(),
        };
        let task = run(
            queued,
            pools,
            live,
            sender,
            Refreshed::new(subscribed.clone()),
        );
        tokio::spawn(task);
        Ok(rocket.manage(Push {
            vapid,
            jobs,
            allow_private: settings.webhook_allow_private,
            dropped: Arc::new(Dropped::new("web push", DROPS_TOLD_EVERY)),
            subscribed,
        }))
    })
}

/// The push task: messages in batches, each looked at only if someone else in its chat
/// has a subscription (the recipients of a chat then read once per sender and batch),
/// their pushes sent side by side.
async fn run(
    mut queued: mpsc::Receiver<Stored>,
    db: Pools,
    live: Arc<Live>,
    sender: send::Sender,
    mut subscribed: Refreshed<HashSet<UserId>>,
) {
    let sender = Arc::new(sender);
    let in_flight = Arc::new(Semaphore::new(IN_FLIGHT));
    let mut batch = Vec::with_capacity(BATCH);
    while queued.recv_many(&mut batch, BATCH).await > 0 {
        let subscribed = subscribed
            .get("who has a push subscription", || push::subscribed(&db.read))
            .await;
        let mut read: HashMap<(ChatId, UserId), Vec<push::Recipient>> = HashMap::new();
        for Stored { sender: from, sent } in batch.drain(..) {
            let Sent { message, members } = sent;
            if !members.iter().any(|m| *m != from && subscribed.contains(m)) {
                continue;
            }
            let chat = message.chat_id;
            let recipients = match read.entry((chat, from)) {
                Entry::Occupied(known) => known.into_mut(),
                Entry::Vacant(unknown) => match push::recipients(&db.read, chat, from).await {
                    Ok(found) => unknown.insert(found),
                    Err(e) => {
                        tracing::warn!(error = %e, "web push: cannot read who to push to");
                        continue;
                    }
                },
            };
            for recipient in recipients.iter() {
                let online = live
                    .status(recipient.user_id)
                    .is_some_and(|(online, _)| online);
                let Some(payload) = rules::payload(&message, recipient, online) else {
                    continue;
                };
                let Ok(permit) = Arc::clone(&in_flight).acquire_owned().await else {
                    return;
                };
                let sender = Arc::clone(&sender);
                let recipient = recipient.clone();
                tokio::spawn(async move {
                    sender.deliver(&recipient, &payload).await;
                    drop(permit);
                });
            }
        }
    }
}
