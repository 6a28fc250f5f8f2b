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
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use rocket::fairing::AdHoc;
use rocket_db_pools::Database;
use tokio::sync::{mpsc, Semaphore};

use crate::config::Settings;
use crate::db::messages::{Message, Sent};
use crate::db::send_queue::SendQueue;
use crate::db::webhooks::{self, Target};
use crate::db::{Db, Pools};
use crate::model::{ChatId, UserId};
use crate::outbound::Dropped;
use crate::push::Push;
use crate::refreshed::{Refreshed, Stale};
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
    jobs: mpsc::Sender<Sent>,
    dropped: Dropped,
    bots_changed: Stale,
}

impl Webhooks {
    /// Staff saved something in the console (a bot, its webhook URL): the task reads which
    /// bots have a webhook again before its next message.
    pub fn console_saved(&self) {
        self.bots_changed.mark();
    }

    /// A person's message is stored: the bots it concerns hear of it. Never waits. Only a
    /// mention or a direct chat (two members) can concern a bot, so most messages of a
    /// group are not even queued; the task then reads the chat's bots only if one of its
    /// members is a bot with a webhook.
    pub fn message_stored(&self, sent: &Sent) {
        if sent.message.mentions.is_empty() && sent.members.len() != 2 {
            return;
        }
        if let Err(mpsc::error::TrySendError::Full(_)) = self.jobs.try_send(sent.clone()) {
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
            tracing::error!(
                "webhooks cannot start: the database, send queue, Web Push or secret key is missing"
            );
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
        let bots_changed = Stale::default();
        let with_webhook = Refreshed::new(bots_changed.clone());
        tokio::spawn(run(queued, pools, Arc::new(deliverer), with_webhook));
        Ok(rocket.manage(seal).manage(Webhooks {
            jobs,
            dropped: Dropped::new("webhook", DROPS_TOLD_EVERY),
            bots_changed,
        }))
    })
}

/// Whether `message` goes to `target`: it names the bot (`@all` does not count: a bot
/// answers when spoken to), or the chat is a direct one with it.
fn concerns(target: &Target, message: &Message) -> bool {
    if message.sender == target.username {
        return false;
    }
    // The body names the bot, a member of the chat: it is mentioned.
    target.direct
        || crate::mentions::parse(&message.body)
            .keys
            .contains(&crate::validate::username_key(&target.username))
}

/// The webhook task: messages in batches (a chat's bots read once per batch, and only
/// for a chat that has a webhook bot among its members), each delivery on a task of its
/// own. Which bots have a webhook is read again after a console save here, and at least
/// every `refreshed::MAX_AGE` (for changes made on another instance).
async fn run(
    mut queued: mpsc::Receiver<Sent>,
    db: Pools,
    deliverer: Arc<Deliverer>,
    mut with_webhook: Refreshed<HashSet<UserId>>,
) {
    let pending = Arc::new(Semaphore::new(PENDING));
    let mut batch = Vec::with_capacity(BATCH);
    while queued.recv_many(&mut batch, BATCH).await > 0 {
        let bots = with_webhook
            .get("which bots have a webhook", || webhooks::bots(&db.read))
            .await;
        let mut read: HashMap<ChatId, Vec<Target>> = HashMap::new();
        for Sent { message, members } in batch.drain(..) {
            if !members.iter().any(|m| bots.contains(m)) {
                continue;
            }
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
