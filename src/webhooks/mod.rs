//! Outgoing webhooks: a message that mentions a bot with a webhook URL, or any message in
//! a direct chat with one, is POSTed to that URL, signed with the bot key; what the bot
//! answers is posted as its reply. A stored message is handed to one task over a bounded
//! channel (`Webhooks::message_stored`), so neither the request nor the send writer ever
//! waits for a bot: the task finds the bots a message concerns and `deliver` tries each.
//!
//! Only people's messages go out: a bot's own (its replies, its bot URL posts) never do,
//! so two bots cannot keep each other talking.

pub mod address;
mod deliver;
pub mod seal;

use std::collections::hash_map::{Entry, HashMap};
use std::sync::Arc;
use std::time::Duration;

use rocket::fairing::AdHoc;
use rocket_db_pools::Database;
use tokio::sync::{mpsc, Semaphore};

use crate::config::Settings;
use crate::db::messages::Message;
use crate::db::send_queue::SendQueue;
use crate::db::webhooks::{self, Target};
use crate::db::{Db, Pools};
use crate::model::ChatId;
use crate::outbound::Dropped;
use crate::push::Push;
use deliver::Deliverer;
pub use seal::KeySeal;

/// Messages waiting for the task; past this, new ones are dropped (and logged).
const QUEUE: usize = 1024;
/// Messages the task takes at once: a burst into one chat reads its bots once.
const BATCH: usize = 64;
/// Deliveries under way at once, back-off waits included; past it the task waits (and the
/// queue fills), so a bot that never answers costs bounded memory.
const PENDING: usize = 256;
const DROPS_TOLD_EVERY: Duration = Duration::from_secs(10);

/// The webhook side as Rocket manages it (`&State<Webhooks>`).
pub struct Webhooks {
    jobs: mpsc::Sender<Message>,
    dropped: Dropped,
}

impl Webhooks {
    /// A person's `message` is stored in a chat of `members` people: the bots it concerns
    /// hear of it. Never waits. Only a mention or a direct chat (two members) can concern
    /// a bot, so most messages of a group cost the task nothing.
    pub fn message_stored(&self, message: &Message, members: usize) {
        if message.mentions.is_empty() && members != 2 {
            return;
        }
        if let Err(mpsc::error::TrySendError::Full(_)) = self.jobs.try_send(message.clone()) {
            self.dropped.one();
        }
    }
}

/// Starts the webhook task (attach after the send queue and Web Push).
pub fn stage() -> AdHoc {
    AdHoc::try_on_ignite("webhooks", |rocket| async move {
        let secret = rocket.figment().extract_inner::<String>("secret_key");
        let (Some(settings), Some(db), Some(queue), Some(push), Ok(secret)) = (
            rocket.state::<Settings>(),
            Db::fetch(&rocket),
            rocket.state::<SendQueue>(),
            rocket.state::<Push>(),
            secret,
        ) else {
            tracing::error!("webhooks cannot start: the database, send queue or push is missing");
            return Err(rocket);
        };
        let pools = Pools::clone(db);
        let seal = Arc::new(KeySeal::new(&secret));
        let deliverer = match Deliverer::new(
            settings.webhook_allow_private,
            Arc::clone(&seal),
            pools.clone(),
            queue.clone(),
            push.clone(),
        ) {
            Ok(deliverer) => deliverer,
            Err(e) => {
                tracing::error!(error = %e, "webhooks cannot start their HTTP client");
                return Err(rocket);
            }
        };
        let (jobs, queued) = mpsc::channel(QUEUE);
        tokio::spawn(run(queued, pools, Arc::new(deliverer)));
        Ok(rocket.manage(seal).manage(Webhooks {
            jobs,
            dropped: Dropped::new("webhook", DROPS_TOLD_EVERY),
        }))
    })
}

/// Whether `message` goes to `target`: it names the bot (`@all` does not count: a bot
/// answers when spoken to), or the chat is a direct one with it.
fn concerns(target: &Target, message: &Message) -> bool {
    if message.sender == target.username {
        return false;
    }
    target.direct
        || (message.mentions.contains(&target.username)
            && crate::mentions::parse(&message.body)
                .keys
                .contains(&crate::validate::username_key(&target.username)))
}

/// The webhook task: messages in batches (a chat's bots read once per batch), each
/// delivery on a task of its own.
async fn run(mut queued: mpsc::Receiver<Message>, db: Pools, deliverer: Arc<Deliverer>) {
    let pending = Arc::new(Semaphore::new(PENDING));
    let mut batch = Vec::with_capacity(BATCH);
    while queued.recv_many(&mut batch, BATCH).await > 0 {
        let mut read: HashMap<ChatId, Vec<Target>> = HashMap::new();
        for message in batch.drain(..) {
            let targets = match read.entry(message.chat_id) {
                Entry::Occupied(known) => known.into_mut(),
                Entry::Vacant(unknown) => {
                    match webhooks::targets(&db.read, message.chat_id).await {
                        Ok(found) => unknown.insert(found),
                        Err(e) => {
                            tracing::warn!(error = %e, "webhooks: cannot read a chat's bots");
                            continue;
                        }
                    }
                }
            };
            for target in targets.iter().filter(|t| concerns(t, &message)) {
                let Ok(permit) = Arc::clone(&pending).acquire_owned().await else {
                    return;
                };
                let (deliverer, target, message) =
                    (Arc::clone(&deliverer), target.clone(), message.clone());
                tokio::spawn(async move {
                    deliverer.deliver(&target, &message).await;
                    drop(permit);
                });
            }
        }
    }
}
