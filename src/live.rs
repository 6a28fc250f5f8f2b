//! What the long poll waits on, all in memory: each user's newest event (a watch channel
//! that a commit bumps), presence (who is polling right now), and what is too fleeting for
//! the database: who is typing, and read and delivery receipts as they change. An idle
//! poll holds two channel receivers and its deadline; it touches no database until
//! something happens. `live` knows neither HTTP nor SQL: what it must know of chats (who
//! shares one with whom, how big the team is) its callers tell it.
//!
//! Presence reaches only those who would see it, and in batches: a change waits for the
//! next `publish_presence` (once a `PRESENCE_BATCH`, for the whole process), which wakes
//! each poll whose person sees someone in the batch, once. Who sees whom: everyone sees
//! everyone while the team is small enough that its people list shows everyone
//! (`EVERYONE_UP_TO` active accounts); in a larger team, each person sees the people they
//! share a direct chat or a group of at most `GROUP_UP_TO` members with (their contacts),
//! so that a whole team coming online at once costs each poll a few answers, not one per
//! person.
//!
//! Several instances on one PostgreSQL database share what is fleeting: each change this
//! process's own requests make (typing, receipts, presence) is also put in its `outbox`,
//! which `db::notify` announces to the others, and what they announce comes back through
//! `apply`. A person is online while any instance has a poll of theirs; an instance that
//! died without a word is forgotten when its announcements stop (`REMOTE_PRESENCE_MS`).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, watch};

use crate::db::chats::{Chat, Receipt};
use crate::db::events::{Delivered, Listener};
use crate::model::{ChatId, MessageId, Timestamp, UserId};

/// A person stays online this long after their last poll ended (the gap between two polls
/// of a healthy tab is milliseconds; this also covers a slow network).
const ONLINE_GRACE_MS: i64 = 15_000;
/// Changes kept for polls that arrive a little late.
const CHANGES_KEPT: usize = 1024;
/// How often presence changes are published: each poll hears of a wave of arrivals in a
/// few answers, and of one arrival within about this long.
pub const PRESENCE_BATCH: Duration = Duration::from_secs(1);
/// Published presence batches kept for polls that arrive a little late (a minute's worth
/// when something changes every second).
const BATCHES_KEPT: usize = 60;
/// Teams with at most this many active accounts see everyone's presence: the people list
/// shows them all. A wave of this many arrivals costs every poll about one answer per
/// second of the wave, carrying everyone who arrived in that second.
pub const EVERYONE_UP_TO: usize = 500;
/// In a larger team, a group of at most this many members makes its members contacts
/// (direct chats always do): a company-wide group would otherwise make everyone a
/// contact of everyone.
pub const GROUP_UP_TO: usize = 100;
/// How often offline detection and the last-seen and delivery flushes run.
pub const TICK: Duration = Duration::from_secs(5);
/// `last_seen` reaches the database at most this often per user.
pub const FLUSH_EVERY_MS: i64 = 60_000;
/// A "typing" lasts this long unless renewed (the contract's 6 s).
pub const TYPING_MS: i64 = 6_000;
/// Sessions a feed has not heard from for this long are forgotten.
const CURSOR_IDLE_MS: i64 = 10 * 60_000;

const UNKNOWN: i64 = -1;
/// Another instance's word that someone is online holds this long unless renewed; each
/// instance renews its own every `REMOTE_RENEW_MS`.
const REMOTE_PRESENCE_MS: i64 = 90_000;
const REMOTE_RENEW_MS: i64 = 30_000;

/// Someone online on other instances: by instance, when it last said so.
struct Elsewhere {
    username: String,
    last_active: i64,
    instances: HashMap<u64, i64>,
}

/// What instances tell each other (see the module's comment): the arguments of the call
/// that made the change here, to be made there too.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Shared {
    Typing {
        chat: ChatId,
        who: UserId,
        username: String,
        members: Vec<UserId>,
    },
    StoppedTyping {
        chat: ChatId,
        username: String,
        members: Vec<UserId>,
    },
    Receipt {
        chat: ChatId,
        receipt: Receipt,
        others: Vec<UserId>,
    },
    Delivered {
        viewer: UserId,
        username: String,
        deliveries: Vec<Delivered>,
    },
    /// Someone's polls here started (`online`) or ended, or are still going (a renewal).
    Presence {
        user: UserId,
        username: String,
        online: bool,
        last_active: i64,
    },
}

#[derive(utoipa::ToSchema, Debug, Clone, Serialize)]
pub struct Presence {
    pub user_id: UserId,
    pub username: String,
    pub online: bool,
    pub last_seen: Option<Timestamp>,
}

/// Someone typing in one of the reader's chats.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Typing {
    pub chat_id: ChatId,
    pub username: String,
}

/// A member's read or delivery mark that moved.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChatReceipt {
    pub chat_id: ChatId,
    #[serde(flatten)]
    pub receipt: Receipt,
}

/// Who reads a feed: a session, and which of its tabs (tabs of one browser share their
/// session, and each must get every change).
pub type Reader = (i64, u32);

/// A log of changes that each reader gets once, from where it left off: a reader's first
/// look starts from now (its page has just loaded the current state).
struct Feed<T> {
    log: VecDeque<(u64, T)>,
    newest: u64,
    cursors: HashMap<Reader, (u64, i64)>,
}

impl<T> Default for Feed<T> {
    fn default() -> Self {
        Feed {
            log: VecDeque::new(),
            newest: 0,
            cursors: HashMap::new(),
        }
    }
}

impl<T: Clone> Feed<T> {
    fn push(&mut self, item: T) -> u64 {
        self.newest += 1;
        self.log.push_back((self.newest, item));
        if self.log.len() > CHANGES_KEPT {
            self.log.pop_front();
        }
        self.newest
    }

    /// What `reader` has not had yet, the oldest first and at most `most`.
    fn take(&mut self, reader: Reader, most: usize, now: i64) -> Vec<T> {
        let newest = self.newest;
        let from = match self.cursors.get(&reader) {
            Some((seen, _)) if *seen < newest => *seen,
            _ => {
                self.cursors.insert(reader, (newest, now));
                return Vec::new();
            }
        };
        let given: Vec<(u64, T)> = self
            .log
            .iter()
            .filter(|(seq, _)| *seq > from)
            .take(most)
            .cloned()
            .collect();
        let upto = given.last().map_or(newest, |(seq, _)| *seq);
        self.cursors.insert(reader, (upto, now));
        given.into_iter().map(|(_, item)| item).collect()
    }

    fn forget_idle(&mut self, now: i64) {
        self.cursors
            .retain(|_, (_, touched)| now - *touched < CURSOR_IDLE_MS);
    }
}

/// Presence changes on their way to the polls: those not yet published, the newest state
/// of each person, and the published batches with where each reader stands in them.
#[derive(Default)]
struct Presences {
    pending: HashMap<UserId, Presence>,
    /// Oldest first.
    batches: VecDeque<Batch>,
    newest: u64,
    cursors: HashMap<Reader, (u64, i64)>,
}

/// One publication: who changed (sorted) and how, in the same order.
struct Batch {
    number: u64,
    who: Vec<UserId>,
    changes: Vec<Presence>,
}

impl Presences {
    /// Publishes what is pending as a batch; returns who changed (sorted).
    fn publish(&mut self) -> Vec<UserId> {
        let mut changes: Vec<Presence> = self.pending.drain().map(|(_, p)| p).collect();
        changes.sort_unstable_by_key(|p| p.user_id);
        let who: Vec<UserId> = changes.iter().map(|p| p.user_id).collect();
        self.newest += 1;
        self.batches.push_back(Batch {
            number: self.newest,
            who: who.clone(),
            changes,
        });
        if self.batches.len() > BATCHES_KEPT {
            self.batches.pop_front();
        }
        who
    }

    /// The published changes `reader` (a tab of `viewer`) has not had, of the people `seen`
    /// (sorted; everyone when `None`) but the viewer: each person once, as they are now.
    /// A reader's first look starts from now (its page has just read the people list).
    fn take(
        &mut self,
        reader: Reader,
        viewer: UserId,
        seen: Option<&[UserId]>,
        now: i64,
    ) -> Vec<Presence> {
        let newest = self.newest;
        let from = match self.cursors.insert(reader, (newest, now)) {
            Some((from, _)) if from < newest => from,
            _ => return Vec::new(),
        };
        let mut given: Vec<Presence> = Vec::new();
        // Newest batch first, so that a person's first change kept is their last.
        for batch in self.batches.iter().rev().take_while(|b| b.number > from) {
            match seen {
                None => given.extend(batch.changes.iter().cloned()),
                Some(seen) => given.extend(
                    common(&batch.who, seen)
                        .into_iter()
                        .map(|i| batch.changes[i].clone()),
                ),
            }
        }
        given.retain(|p| p.user_id != viewer);
        // A stable sort keeps each person's newest change first among theirs.
        given.sort_by_key(|p| p.user_id);
        given.dedup_by_key(|p| p.user_id);
        given
    }

    fn forget_idle(&mut self, now: i64) {
        self.cursors
            .retain(|_, (_, touched)| now - *touched < CURSOR_IDLE_MS);
    }
}

/// The positions in `ids` of the ids also in `others` (both sorted), looked up from the
/// shorter side: a poll that sees 50 people finds them in a batch of 5,000 in 50 steps.
fn common(ids: &[UserId], others: &[UserId]) -> Vec<usize> {
    if ids.len() <= others.len() {
        (0..ids.len())
            .filter(|&i| others.binary_search(&ids[i]).is_ok())
            .collect()
    } else {
        let mut found: Vec<usize> = others
            .iter()
            .filter_map(|other| ids.binary_search(other).ok())
            .collect();
        found.sort_unstable();
        found
    }
}

/// What only this person's own polls read: who types in their chats, and receipts.
#[derive(Default)]
struct Inbox {
    /// (chat, who, until): the typists of the person's chats.
    typing: Vec<(ChatId, String, i64)>,
    /// Bumped whenever `typing` changes, so each session answers a change once.
    typing_version: u64,
    typing_seen: HashMap<Reader, (u64, i64)>,
    receipts: Feed<ChatReceipt>,
}

struct Member {
    id: UserId,
    username: String,
    /// Newest event seq in any chat of this user; UNKNOWN until first needed.
    latest: watch::Sender<i64>,
    /// Bumped when this user's inbox gets something.
    inbox_changed: watch::Sender<u64>,
    inbox: Mutex<Inbox>,
    /// Whose presence this user sees in a large team (sorted): `None` until a poll has
    /// read it from the database.
    contacts: Mutex<Option<Vec<UserId>>>,
    polls: AtomicUsize,
    last_active: AtomicI64,
    online: AtomicBool,
    flushed: AtomicI64,
}

impl Member {
    fn new(id: UserId, username: String) -> Self {
        Member {
            id,
            username,
            latest: watch::Sender::new(UNKNOWN),
            inbox_changed: watch::Sender::new(0),
            inbox: Mutex::default(),
            contacts: Mutex::default(),
            polls: AtomicUsize::new(0),
            last_active: AtomicI64::new(0),
            online: AtomicBool::new(false),
            flushed: AtomicI64::new(0),
        }
    }

    fn inbox(&self) -> std::sync::MutexGuard<'_, Inbox> {
        self.inbox.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn ring(&self) {
        self.inbox_changed.send_modify(|n| *n = n.wrapping_add(1));
    }

    fn contacts(&self) -> std::sync::MutexGuard<'_, Option<Vec<UserId>>> {
        self.contacts.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether this user sees anyone among `who` (sorted), in a large team.
    fn sees_any(&self, who: &[UserId]) -> bool {
        self.contacts()
            .as_deref()
            .is_some_and(|contacts| !common(contacts, who).is_empty())
    }
}

/// A member's delivery mark held in memory until the next flush.
struct Delivery {
    username: String,
    up_to: MessageId,
    flushed: bool,
}

pub struct Live {
    members: RwLock<HashMap<UserId, Arc<Member>>>,
    presence: Mutex<Presences>,
    /// Active accounts, as the people list last counted them.
    team: AtomicUsize,
    delivered: Mutex<HashMap<ChatId, HashMap<UserId, Delivery>>>,
    /// The newest event seq committed, and the newest one pruned: the cursors that still
    /// make sense lie between.
    newest: AtomicI64,
    floor: AtomicI64,
    /// Where changes go for the other instances, once `share` has set it (PostgreSQL).
    outbox: std::sync::OnceLock<mpsc::UnboundedSender<Shared>>,
    /// Who the other instances say is online.
    remote: Mutex<HashMap<UserId, Elsewhere>>,
    /// When this instance last renewed its word on who is online here.
    renewed: AtomicI64,
}

impl Default for Live {
    fn default() -> Self {
        Live {
            members: RwLock::default(),
            presence: Mutex::default(),
            team: AtomicUsize::new(0),
            delivered: Mutex::default(),
            newest: AtomicI64::new(0),
            floor: AtomicI64::new(0),
            outbox: std::sync::OnceLock::new(),
            remote: Mutex::default(),
            renewed: AtomicI64::new(0),
        }
    }
}

/// A commit that recorded events wakes exactly their audience.
impl Listener for Live {
    fn committed(&self, audience: &[UserId], seq: i64) {
        self.newest.fetch_max(seq, Ordering::AcqRel);
        self.wake(audience, seq);
    }

    fn everyone(&self, seq: i64) {
        self.newest.fetch_max(seq, Ordering::AcqRel);
        let everyone: Vec<UserId> = self
            .members
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .keys()
            .copied()
            .collect();
        self.wake(&everyone, seq);
    }
}

/// Where a cursor stands against the stream this process serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cursor {
    /// Everything after it is still kept.
    Good,
    /// Older than what was pruned: the client must reload.
    Expired,
    /// Past the newest event: from another database (a restored backup), or newer than
    /// memory knows.
    Ahead,
}

impl Live {
    /// From now on, every change this process's requests make is also sent to `outbox`,
    /// for the other instances. Set once.
    pub fn share(&self, outbox: mpsc::UnboundedSender<Shared>) {
        let _ = self.outbox.set(outbox);
    }

    fn tell_others(&self, news: impl FnOnce() -> Shared) {
        if let Some(outbox) = self.outbox.get() {
            let _ = outbox.send(news());
        }
    }

    /// A change another instance (`from`) made: made here too.
    pub fn apply(&self, from: u64, news: Shared) {
        match news {
            Shared::Typing {
                chat,
                who,
                username,
                members,
            } => self.typing_here(chat, who, &username, &members),
            Shared::StoppedTyping {
                chat,
                username,
                members,
            } => self.stopped_typing_here(chat, &username, &members),
            Shared::Receipt {
                chat,
                receipt,
                others,
            } => self.receipt_here(chat, receipt, &others),
            Shared::Delivered {
                viewer,
                username,
                deliveries,
            } => self.delivered_here(viewer, &username, &deliveries),
            Shared::Presence {
                user,
                username,
                online,
                last_active,
            } => self.remote_presence(from, user, &username, online, last_active),
        }
    }

    /// Whether another instance says `user` is online.
    fn online_elsewhere(&self, user: UserId) -> bool {
        self.remote
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&user)
            .is_some_and(|elsewhere| !elsewhere.instances.is_empty())
    }

    fn online_here(&self, user: UserId) -> bool {
        self.existing(user)
            .is_some_and(|member| member.online.load(Ordering::Acquire))
    }

    fn remote_presence(&self, from: u64, user: UserId, username: &str, online: bool, at: i64) {
        let before = self.online_elsewhere(user);
        {
            let mut remote = self.remote.lock().unwrap_or_else(PoisonError::into_inner);
            let elsewhere = remote.entry(user).or_insert_with(|| Elsewhere {
                username: username.to_owned(),
                last_active: at,
                instances: HashMap::new(),
            });
            elsewhere.last_active = elsewhere.last_active.max(at);
            if online {
                elsewhere.instances.insert(from, Timestamp::now().0);
            } else {
                elsewhere.instances.remove(&from);
                if elsewhere.instances.is_empty() {
                    remote.remove(&user);
                }
            }
        }
        let after = self.online_elsewhere(user);
        if before != after && !self.online_here(user) {
            self.queue_presence(user, username, after, at);
        }
    }

    fn member(&self, id: UserId, username: &str) -> Arc<Member> {
        if let Some(member) = self.existing(id) {
            return member;
        }
        self.members
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(id)
            .or_insert_with(|| Arc::new(Member::new(id, username.to_owned())))
            .clone()
    }

    fn existing(&self, id: UserId) -> Option<Arc<Member>> {
        self.members
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&id)
            .cloned()
    }

    /// For each of `users` this process knows (has seen poll), runs `f`. A user nobody
    /// polls for has no entry and needs no telling: their first poll reads the database.
    fn each(&self, users: &[UserId], mut f: impl FnMut(UserId, &Member)) {
        let map = self.members.read().unwrap_or_else(PoisonError::into_inner);
        for user in users {
            if let Some(member) = map.get(user) {
                f(*user, member);
            }
        }
    }

    /// The stream as the database has it at start (or after a prune: `floor` only).
    pub fn set_bounds(&self, floor: i64, newest: i64) {
        self.floor.fetch_max(floor, Ordering::AcqRel);
        self.newest.fetch_max(newest, Ordering::AcqRel);
    }

    /// The newest event seq committed: where a page that has just loaded starts.
    pub fn newest(&self) -> i64 {
        self.newest.load(Ordering::Acquire)
    }

    pub fn cursor(&self, after: i64) -> Cursor {
        if after < self.floor.load(Ordering::Acquire) {
            Cursor::Expired
        } else if after > self.newest.load(Ordering::Acquire) {
            Cursor::Ahead
        } else {
            Cursor::Good
        }
    }

    /// Wakes the polls of `audience`: an event with sequence `seq` concerning them has
    /// committed.
    pub fn wake(&self, audience: &[UserId], seq: i64) {
        self.each(audience, |_, member| {
            // Raising an UNKNOWN value is right too: seqs only grow, so `seq` is the newest.
            member.latest.send_if_modified(|latest| {
                let newer = *latest < seq;
                if newer {
                    *latest = seq;
                }
                newer
            });
        });
    }

    /// What a poll of `user` waits on.
    pub fn subscribe(&self, user: UserId, username: &str) -> Watch {
        let member = self.member(user, username);
        Watch {
            latest: member.latest.subscribe(),
            inbox: member.inbox_changed.subscribe(),
            member,
        }
    }

    /// Marks `user` as polling until the returned guard drops.
    pub fn polling(&self, user: UserId, username: &str) -> Polling {
        let member = self.member(user, username);
        member.polls.fetch_add(1, Ordering::AcqRel);
        crate::monitoring::long_polls(1.0);
        member
            .last_active
            .store(Timestamp::now().0, Ordering::Release);
        if !member.online.swap(true, Ordering::AcqRel) {
            self.announce(user, &member, true);
        }
        Polling { member }
    }

    /// `user`'s polls here started or ended: the polls here hear of it unless another
    /// instance already said so (they see one person, wherever they poll), and the other
    /// instances hear of it.
    fn announce(&self, user: UserId, member: &Member, online: bool) {
        let at = member.last_active.load(Ordering::Acquire);
        if !self.online_elsewhere(user) {
            self.queue_presence(user, &member.username, online, at);
        }
        self.tell_others(|| Shared::Presence {
            user,
            username: member.username.clone(),
            online,
            last_active: at,
        });
    }

    /// Queues `user`'s change for the next batch (a newer one replaces it).
    fn queue_presence(&self, user: UserId, username: &str, online: bool, at: i64) {
        let presence = Presence {
            user_id: user,
            username: username.to_owned(),
            online,
            last_seen: Some(Timestamp(at)),
        };
        self.presences().pending.insert(user, presence);
    }

    fn presences(&self) -> std::sync::MutexGuard<'_, Presences> {
        self.presence.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The team has `active` accounts (the people list has just counted them): whether
    /// everyone sees everyone's presence depends on it.
    pub fn set_team(&self, active: usize) {
        self.team.store(active, Ordering::Release);
    }

    fn everyone_sees_everyone(&self) -> bool {
        self.team.load(Ordering::Acquire) <= EVERYONE_UP_TO
    }

    /// Publishes the presence changes queued since the last call as one batch, and wakes
    /// each waiting poll whose person sees someone in it. Called once a `PRESENCE_BATCH`.
    pub fn publish_presence(&self) {
        let who = {
            let mut presences = self.presences();
            if presences.pending.is_empty() {
                return;
            }
            presences.publish()
        };
        let everyone = self.everyone_sees_everyone();
        let map = self.members.read().unwrap_or_else(PoisonError::into_inner);
        for member in map.values() {
            // A poll that starts later looks at the batches itself.
            if member.polls.load(Ordering::Acquire) == 0 {
                continue;
            }
            let sees = if everyone {
                who != [member.id]
            } else {
                member.sees_any(&who)
            };
            if sees {
                member.ring();
            }
        }
    }

    /// Presence changes this reader (a tab of `watch`'s user) has not been given yet, of
    /// the people that user sees (not themselves); each person once, as they are now. A reader's first
    /// poll starts from now: its page has just read the whole people list.
    pub fn presence_for(&self, watch: &Watch, reader: Reader) -> Vec<Presence> {
        let now = Timestamp::now().0;
        let viewer = watch.member.id;
        if self.everyone_sees_everyone() {
            return self.presences().take(reader, viewer, None, now);
        }
        let contacts = watch.member.contacts();
        let seen = contacts.as_deref().unwrap_or_default();
        self.presences().take(reader, viewer, Some(seen), now)
    }

    /// Whether `user` is online now and when they were last active, if this process saw
    /// them at all.
    pub fn status(&self, user: UserId) -> Option<(bool, Timestamp)> {
        let Some(member) = self.existing(user) else {
            // Seen polling on another instance only.
            let remote = self.remote.lock().unwrap_or_else(PoisonError::into_inner);
            return remote
                .get(&user)
                .map(|elsewhere| (true, Timestamp(elsewhere.last_active)));
        };
        let last = member.last_active.load(Ordering::Acquire);
        // Decided here rather than read from the announced flag, which lags by up to a tick.
        let online = member.polls.load(Ordering::Acquire) > 0
            || Timestamp::now().0 - last <= ONLINE_GRACE_MS
            || self.online_elsewhere(user);
        (last > 0).then_some((online, Timestamp(last)))
    }

    /// `who` is typing in `chat`, whose members are `members`: tell the others for the
    /// next `TYPING_MS`.
    pub fn typing(&self, chat: ChatId, who: UserId, username: &str, members: &[UserId]) {
        self.typing_here(chat, who, username, members);
        self.tell_others(|| Shared::Typing {
            chat,
            who,
            username: username.to_owned(),
            members: members.to_vec(),
        });
    }

    fn typing_here(&self, chat: ChatId, who: UserId, username: &str, members: &[UserId]) {
        let until = Timestamp::now().0 + TYPING_MS;
        self.each(members, |user, member| {
            if user == who {
                return;
            }
            let mut inbox = member.inbox();
            match inbox
                .typing
                .iter_mut()
                .find(|(c, name, _)| *c == chat && name == username)
            {
                // Already shown: renewing it is no news.
                Some(entry) => entry.2 = until,
                None => {
                    inbox.typing.push((chat, username.to_owned(), until));
                    inbox.typing_version += 1;
                    drop(inbox);
                    member.ring();
                }
            }
        });
    }

    /// `username` stopped typing in `chat` (their message arrived).
    pub fn stopped_typing(&self, chat: ChatId, username: &str, members: &[UserId]) {
        self.stopped_typing_here(chat, username, members);
        self.tell_others(|| Shared::StoppedTyping {
            chat,
            username: username.to_owned(),
            members: members.to_vec(),
        });
    }

    fn stopped_typing_here(&self, chat: ChatId, username: &str, members: &[UserId]) {
        self.each(members, |_, member| {
            let mut inbox = member.inbox();
            let before = inbox.typing.len();
            inbox
                .typing
                .retain(|(c, name, _)| !(*c == chat && name == username));
            if inbox.typing.len() != before {
                inbox.typing_version += 1;
                drop(inbox);
                member.ring();
            }
        });
    }

    /// `receipt` moved in `chat`: tell `others` (the chat's other members).
    pub fn receipt(&self, chat: ChatId, receipt: Receipt, others: &[UserId]) {
        self.tell_others(|| Shared::Receipt {
            chat,
            receipt: receipt.clone(),
            others: others.to_vec(),
        });
        self.receipt_here(chat, receipt, others);
    }

    fn receipt_here(&self, chat: ChatId, receipt: Receipt, others: &[UserId]) {
        let change = ChatReceipt {
            chat_id: chat,
            receipt,
        };
        self.each(others, |_, member| {
            member.inbox().receipts.push(change.clone());
            member.ring();
        });
    }

    /// A poll of `viewer` has just handed them these new messages: their delivery marks
    /// move, and the other members of each chat hear of it.
    pub fn delivered(&self, viewer: UserId, username: &str, deliveries: &[Delivered]) {
        self.delivered_here(viewer, username, deliveries);
        self.tell_others(|| Shared::Delivered {
            viewer,
            username: username.to_owned(),
            deliveries: deliveries.to_vec(),
        });
    }

    fn delivered_here(&self, viewer: UserId, username: &str, deliveries: &[Delivered]) {
        for delivery in deliveries {
            let moved = {
                let mut marks = self
                    .delivered
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                let mark = marks
                    .entry(delivery.chat)
                    .or_default()
                    .entry(viewer)
                    .or_insert_with(|| Delivery {
                        username: username.to_owned(),
                        up_to: MessageId(0),
                        flushed: true,
                    });
                let moved = mark.up_to < delivery.message;
                if moved {
                    mark.up_to = delivery.message;
                    mark.flushed = false;
                }
                moved
            };
            if moved {
                let others: Vec<UserId> = delivery
                    .members
                    .iter()
                    .copied()
                    .filter(|user| *user != viewer)
                    .collect();
                let receipt = Receipt {
                    username: username.to_owned(),
                    read_up_to: delivery.read_up_to,
                    delivered_up_to: delivery.message.max(delivery.read_up_to),
                };
                self.receipt_here(delivery.chat, receipt, &others);
            }
        }
    }

    /// `user`'s delivery mark in `chat` as memory has it (it may be ahead of the table).
    pub fn delivered_up_to(&self, chat: ChatId, user: UserId) -> MessageId {
        self.delivered
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&chat)
            .and_then(|marks| marks.get(&user))
            .map_or(MessageId(0), |mark| mark.up_to)
    }

    /// `chat`'s receipts with the delivery marks memory holds that the table does not yet.
    pub fn with_deliveries(&self, mut chat: Chat) -> Chat {
        let marks = self
            .delivered
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(marks) = marks.get(&chat.id) {
            for receipt in &mut chat.receipts {
                if let Some(mark) = marks.values().find(|m| m.username == receipt.username) {
                    receipt.delivered_up_to = receipt.delivered_up_to.max(mark.up_to);
                }
            }
        }
        chat
    }

    /// Delivery marks not yet in the table, marked as written (the caller writes them).
    pub fn deliveries_due(&self) -> Vec<(ChatId, UserId, MessageId)> {
        let mut marks = self
            .delivered
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut due = Vec::new();
        for (chat, members) in marks.iter_mut() {
            for (user, mark) in members.iter_mut() {
                if !mark.flushed {
                    mark.flushed = true;
                    due.push((*chat, *user, mark.up_to));
                }
            }
        }
        due
    }

    /// Periodic work: announce who went offline, forget idle sessions, and return the
    /// last-seen times that are due for the database.
    pub fn tick(&self) -> Vec<(UserId, Timestamp)> {
        let now = Timestamp::now().0;
        let mut offline = Vec::new();
        let mut due = Vec::new();
        {
            let map = self.members.read().unwrap_or_else(PoisonError::into_inner);
            for (id, member) in map.iter() {
                let last = member.last_active.load(Ordering::Acquire);
                if member.polls.load(Ordering::Acquire) > 0 {
                    member.last_active.store(now, Ordering::Release);
                } else if member.online.load(Ordering::Acquire) && now - last > ONLINE_GRACE_MS {
                    member.online.store(false, Ordering::Release);
                    offline.push((*id, member.clone()));
                }
                let last = member.last_active.load(Ordering::Acquire);
                let flushed = member.flushed.load(Ordering::Acquire);
                if last > flushed && now - flushed >= FLUSH_EVERY_MS {
                    member.flushed.store(last, Ordering::Release);
                    due.push((*id, Timestamp(last)));
                }
                let mut inbox = member.inbox();
                inbox.typing.retain(|(.., until)| *until > now);
                inbox
                    .typing_seen
                    .retain(|_, (_, touched)| now - *touched < CURSOR_IDLE_MS);
                inbox.receipts.forget_idle(now);
            }
        }
        for (id, member) in offline {
            self.announce(id, &member, false);
        }
        self.presences().forget_idle(now);
        self.renew_and_expire(now);
        due
    }

    /// With other instances: renews this one's word on who polls here, and forgets what
    /// an instance that stopped renewing (it died) said.
    fn renew_and_expire(&self, now: i64) {
        if self.outbox.get().is_none() {
            return;
        }
        if now - self.renewed.load(Ordering::Acquire) >= REMOTE_RENEW_MS {
            self.renewed.store(now, Ordering::Release);
            let online: Vec<(UserId, String, i64)> = self
                .members
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .values()
                .filter(|member| member.online.load(Ordering::Acquire))
                .map(|m| {
                    (
                        m.id,
                        m.username.clone(),
                        m.last_active.load(Ordering::Acquire),
                    )
                })
                .collect();
            for (user, username, at) in online {
                self.tell_others(|| Shared::Presence {
                    user,
                    username,
                    online: true,
                    last_active: at,
                });
            }
        }
        let gone: Vec<(UserId, String, i64)> = {
            let mut remote = self.remote.lock().unwrap_or_else(PoisonError::into_inner);
            let mut gone = Vec::new();
            remote.retain(|user, elsewhere| {
                elsewhere
                    .instances
                    .retain(|_, said| now - *said < REMOTE_PRESENCE_MS);
                if elsewhere.instances.is_empty() {
                    gone.push((*user, elsewhere.username.clone(), elsewhere.last_active));
                }
                !elsewhere.instances.is_empty()
            });
            gone
        };
        for (user, username, at) in gone {
            if !self.online_here(user) {
                self.queue_presence(user, &username, false, at);
            }
        }
    }

    /// Every last-seen time not yet in the database (for shutdown).
    pub fn unflushed(&self) -> Vec<(UserId, Timestamp)> {
        let map = self.members.read().unwrap_or_else(PoisonError::into_inner);
        map.iter()
            .filter_map(|(id, member)| {
                let last = member.last_active.load(Ordering::Acquire);
                (last > member.flushed.swap(last, Ordering::AcqRel))
                    .then_some((*id, Timestamp(last)))
            })
            .collect()
    }
}

/// What one waiting poll holds.
pub struct Watch {
    pub latest: watch::Receiver<i64>,
    /// Rung for typing, receipts and presence.
    pub inbox: watch::Receiver<u64>,
    member: Arc<Member>,
}

/// What a poll answers from memory alone.
#[derive(Debug, Default)]
pub struct Fleeting {
    /// Everyone typing now in the reader's chats.
    pub typing: Vec<Typing>,
    /// Whether `typing` changed since this session's last answer.
    pub typing_changed: bool,
    pub receipts: Vec<ChatReceipt>,
}

impl Fleeting {
    /// Whether this is worth answering a waiting poll for.
    pub fn is_news(&self) -> bool {
        self.typing_changed || !self.receipts.is_empty()
    }
}

impl Watch {
    /// The newest event seq for this user, if known without a database read.
    pub fn latest(&mut self) -> Option<i64> {
        let latest = *self.latest.borrow_and_update();
        (latest != UNKNOWN).then_some(latest)
    }

    /// Whether this user's contacts are known (else a poll reads them: `set_contacts`).
    pub fn knows_contacts(&self) -> bool {
        self.member.contacts().is_some()
    }

    /// Who this user shares a chat with, as the database has it now: whose presence they
    /// see in a large team. Read by their first poll, and again after a change of their
    /// chats' members.
    pub fn set_contacts(&self, mut contacts: Vec<UserId>) {
        contacts.sort_unstable();
        contacts.dedup();
        *self.member.contacts() = Some(contacts);
    }

    /// Records the newest seq read from the database (a commit may have raced ahead).
    pub fn learn(&mut self, from_db: i64) {
        self.member.latest.send_if_modified(|latest| {
            let newer = *latest < from_db;
            if newer {
                *latest = from_db;
            }
            newer
        });
    }

    /// Typing and receipts for `reader`: typing as it is now (and whether that is news to
    /// this reader), receipts it has not had.
    pub fn fleeting(&mut self, reader: Reader) -> Fleeting {
        self.inbox.borrow_and_update();
        let now = Timestamp::now().0;
        let mut inbox = self.member.inbox();
        let version = inbox.typing_version;
        let typing_changed = match inbox.typing_seen.insert(reader, (version, now)) {
            Some((seen, _)) => seen != version,
            // A session's first answer carries the typists without calling it news.
            None => false,
        };
        let typing = inbox
            .typing
            .iter()
            .filter(|(.., until)| *until > now)
            .map(|(chat, username, _)| Typing {
                chat_id: *chat,
                username: username.clone(),
            })
            .collect();
        let receipts = inbox.receipts.take(reader, CHANGES_KEPT, now);
        Fleeting {
            typing,
            typing_changed,
            receipts,
        }
    }
}

/// Held while a poll is in flight: the user counts as online.
pub struct Polling {
    member: Arc<Member>,
}

impl Drop for Polling {
    fn drop(&mut self) {
        self.member
            .last_active
            .store(Timestamp::now().0, Ordering::Release);
        self.member.polls.fetch_sub(1, Ordering::AcqRel);
        crate::monitoring::long_polls(-1.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALICE: UserId = UserId(1);
    const BOB: UserId = UserId(2);
    const CHAT: ChatId = ChatId(7);

    #[test]
    fn a_commit_raises_the_newest_seq_of_every_member_that_polls() {
        let live = Live::default();
        let mut alice = live.subscribe(ALICE, "alice");
        assert_eq!(alice.latest(), None, "unknown until read from the database");
        live.committed(&[ALICE, BOB], 7);
        assert_eq!(alice.latest(), Some(7));
        // A late database read never lowers what a commit already raised.
        alice.learn(5);
        assert_eq!(alice.latest(), Some(7));
        live.wake(&[ALICE], 6);
        assert_eq!(alice.latest(), Some(7), "seqs only grow");
    }

    #[test]
    fn a_commit_wakes_a_waiting_poll() {
        let live = Live::default();
        let mut alice = live.subscribe(ALICE, "alice");
        alice.learn(0);
        assert_eq!(alice.latest(), Some(0));
        assert!(!alice.latest.has_changed().unwrap_or(true));
        live.wake(&[ALICE], 1);
        assert!(alice.latest.has_changed().unwrap_or(false));
    }

    fn names(changes: &[Presence]) -> Vec<&str> {
        changes.iter().map(|p| p.username.as_str()).collect()
    }

    #[test]
    fn presence_changes_reach_each_session_once_in_batches() {
        let live = Live::default();
        let alice = live.subscribe(ALICE, "alice");
        let _waiting = live.polling(ALICE, "alice");
        live.publish_presence();
        assert!(
            live.presence_for(&alice, (10, 0)).is_empty(),
            "a first poll starts from now"
        );
        let polling = live.polling(BOB, "bob");
        assert!(
            live.presence_for(&alice, (10, 0)).is_empty(),
            "nothing before the batch is published"
        );
        live.publish_presence();
        let changes = live.presence_for(&alice, (10, 0));
        assert_eq!(names(&changes), ["bob"]);
        assert!(changes[0].online);
        assert!(live.presence_for(&alice, (10, 0)).is_empty(), "given once");
        assert_eq!(
            names(&live.presence_for(&alice, (10, 1))),
            [] as [&str; 0],
            "another tab's first look starts from now too"
        );

        // A wave: a thousand arrivals are one batch, and one answer.
        for n in 0..1000 {
            drop(live.polling(UserId(100 + n), &format!("user{n}")));
        }
        live.publish_presence();
        assert_eq!(live.presence_for(&alice, (10, 0)).len(), 1000);
        assert!(live.presence_for(&alice, (10, 0)).is_empty());

        assert_eq!(live.status(BOB).map(|(online, _)| online), Some(true));
        drop(polling);
        assert_eq!(
            live.status(BOB).map(|(online, _)| online),
            Some(true),
            "grace period"
        );
        assert_eq!(live.status(UserId(99)), None, "never seen");
    }

    #[test]
    fn a_batch_wakes_each_waiting_poll_once_however_many_arrive() {
        let live = Live::default();
        let mut alice = live.subscribe(ALICE, "alice");
        let _waiting = live.polling(ALICE, "alice");
        alice.fleeting((1, 0));
        for n in 0..100 {
            drop(live.polling(UserId(100 + n), &format!("user{n}")));
        }
        assert!(
            !alice.inbox.has_changed().unwrap_or(true),
            "arrivals wait for the batch"
        );
        live.publish_presence();
        assert!(alice.inbox.has_changed().unwrap_or(false));
        alice.inbox.borrow_and_update();
        live.publish_presence();
        assert!(
            !alice.inbox.has_changed().unwrap_or(true),
            "an empty batch wakes nobody"
        );
    }

    #[test]
    fn a_session_that_missed_batches_gets_each_person_once_as_they_are_now() {
        let live = Live::default();
        let alice = live.subscribe(ALICE, "alice");
        live.presence_for(&alice, (1, 0));
        let bob = live.polling(BOB, "bob");
        live.publish_presence();
        drop(live.polling(UserId(3), "carol"));
        live.publish_presence();
        drop(bob);
        // Bob goes offline once his grace period is over; `tick` announces it.
        live.members
            .read()
            .unwrap()
            .get(&BOB)
            .unwrap()
            .last_active
            .store(Timestamp::now().0 - ONLINE_GRACE_MS - 1, Ordering::Release);
        live.tick();
        live.publish_presence();
        let changes = live.presence_for(&alice, (1, 0));
        assert_eq!(names(&changes), ["bob", "carol"]);
        assert!(!changes[0].online, "bob as he is now: offline");
        assert!(changes[1].online);
    }

    #[test]
    fn in_a_large_team_people_see_only_their_contacts() {
        let live = Live::default();
        live.set_team(EVERYONE_UP_TO + 1);
        let mut alice = live.subscribe(ALICE, "alice");
        let _waiting = live.polling(ALICE, "alice");
        live.presence_for(&alice, (1, 0));
        alice.fleeting((1, 0));
        drop(live.polling(UserId(3), "carol"));
        live.publish_presence();
        assert!(
            live.presence_for(&alice, (1, 0)).is_empty(),
            "contacts not yet known: nobody is seen"
        );

        alice.set_contacts(vec![UserId(5), BOB, UserId(5)]);
        assert!(alice.knows_contacts());
        alice.inbox.borrow_and_update();
        drop(live.polling(UserId(4), "dave"));
        live.publish_presence();
        assert!(
            !alice.inbox.has_changed().unwrap_or(true),
            "a stranger's arrival does not wake alice's poll"
        );
        assert!(live.presence_for(&alice, (1, 0)).is_empty());

        let _bob = live.polling(BOB, "bob");
        drop(live.polling(UserId(6), "erin"));
        live.publish_presence();
        assert!(alice.inbox.has_changed().unwrap_or(false), "bob's does");
        assert_eq!(names(&live.presence_for(&alice, (1, 0))), ["bob"]);

        // The team shrinks below the line: everyone sees everyone again.
        live.set_team(EVERYONE_UP_TO);
        drop(live.polling(UserId(7), "frank"));
        live.publish_presence();
        assert_eq!(names(&live.presence_for(&alice, (1, 0))), ["frank"]);
    }

    #[test]
    fn common_finds_the_shared_ids_from_either_side() {
        let few = [UserId(2), UserId(9)];
        let many: Vec<UserId> = (0..100).map(UserId).collect();
        assert_eq!(common(&few, &many), [0, 1]);
        assert_eq!(common(&many, &few), [2, 9]);
        assert!(common(&few, &[]).is_empty());
    }

    #[test]
    fn typing_reaches_the_others_once_and_stops_with_the_message() {
        let live = Live::default();
        let mut bob = live.subscribe(BOB, "bob");
        let _alice = live.subscribe(ALICE, "alice");
        assert!(
            !bob.fleeting((1, 0)).is_news(),
            "a first look starts from now"
        );
        live.typing(CHAT, ALICE, "alice", &[ALICE, BOB]);
        assert!(bob.inbox.has_changed().unwrap_or(false));
        let seen = bob.fleeting((1, 0));
        assert!(seen.is_news());
        assert_eq!(
            seen.typing,
            [Typing {
                chat_id: CHAT,
                username: "alice".into()
            }]
        );
        live.typing(CHAT, ALICE, "alice", &[ALICE, BOB]);
        let again = bob.fleeting((1, 0));
        assert!(!again.is_news(), "renewing is no news");
        assert_eq!(again.typing.len(), 1, "but still shown");
        live.stopped_typing(CHAT, "alice", &[ALICE, BOB]);
        let stopped = bob.fleeting((1, 0));
        assert!(stopped.is_news());
        assert!(stopped.typing.is_empty());
    }

    #[test]
    fn a_delivery_moves_the_mark_once_and_tells_the_other_members() {
        let live = Live::default();
        let mut alice = live.subscribe(ALICE, "alice");
        alice.fleeting((1, 0));
        let delivery = Delivered {
            chat: CHAT,
            message: MessageId(40),
            read_up_to: MessageId(30),
            members: vec![ALICE, BOB],
        };
        live.delivered(BOB, "bob", std::slice::from_ref(&delivery));
        let seen = alice.fleeting((1, 0));
        assert_eq!(seen.receipts.len(), 1);
        assert_eq!(seen.receipts[0].receipt.delivered_up_to, MessageId(40));
        assert_eq!(seen.receipts[0].receipt.read_up_to, MessageId(30));
        live.delivered(BOB, "bob", &[delivery]);
        assert!(
            alice.fleeting((1, 0)).receipts.is_empty(),
            "no move, no news"
        );
        assert_eq!(live.delivered_up_to(CHAT, BOB), MessageId(40));
        assert_eq!(live.deliveries_due(), [(CHAT, BOB, MessageId(40))]);
        assert!(live.deliveries_due().is_empty(), "written once");
    }
}
