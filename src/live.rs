//! What the long poll waits on, all in memory: each user's newest event (a watch channel
//! that a commit bumps), presence (who is polling right now), and what is too fleeting for
//! the database: who is typing, and read and delivery receipts as they change. An idle
//! poll holds three channel receivers and a timer; it touches no database until something
//! happens. `live` knows neither HTTP nor SQL.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::watch;

use crate::db::chats::{Chat, Receipt};
use crate::db::events::{Delivered, Listener};
use crate::model::{ChatId, MessageId, Timestamp, UserId};

/// A person stays online this long after their last poll ended (the gap between two polls
/// of a healthy tab is milliseconds; this also covers a slow network).
const ONLINE_GRACE_MS: i64 = 15_000;
/// Changes kept for polls that arrive a little late.
const CHANGES_KEPT: usize = 1024;
/// The most presence changes one answer carries. When a whole team arrives at once, this
/// keeps every answer (and the buffer each connection keeps for its largest answer) small.
pub const PRESENCE_PER_ANSWER: usize = 64;
/// How long a poll woken by presence alone gathers further changes before answering: a
/// wave of people coming online then costs each poll a few answers, not one per person.
/// Anything else ends the gathering at once.
pub const PRESENCE_GATHER: Duration = Duration::from_millis(250);
/// How often offline detection and the last-seen and delivery flushes run.
pub const TICK: Duration = Duration::from_secs(5);
/// `last_seen` reaches the database at most this often per user.
pub const FLUSH_EVERY_MS: i64 = 60_000;
/// A "typing" lasts this long unless renewed (the contract's 6 s).
pub const TYPING_MS: i64 = 6_000;
/// Sessions a feed has not heard from for this long are forgotten.
const CURSOR_IDLE_MS: i64 = 10 * 60_000;

const UNKNOWN: i64 = -1;

#[derive(Debug, Clone, Serialize)]
pub struct Presence {
    pub user_id: UserId,
    pub username: String,
    pub online: bool,
    pub last_seen: Option<Timestamp>,
}

/// Someone typing in one of the reader's chats.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Typing {
    pub chat_id: ChatId,
    pub username: String,
}

/// A member's read or delivery mark that moved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
    username: String,
    /// Newest event seq in any chat of this user; UNKNOWN until first needed.
    latest: watch::Sender<i64>,
    /// Bumped when this user's inbox gets something.
    inbox_changed: watch::Sender<u64>,
    inbox: Mutex<Inbox>,
    polls: AtomicUsize,
    last_active: AtomicI64,
    online: AtomicBool,
    flushed: AtomicI64,
}

impl Member {
    fn new(username: String) -> Self {
        Member {
            username,
            latest: watch::Sender::new(UNKNOWN),
            inbox_changed: watch::Sender::new(0),
            inbox: Mutex::default(),
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
}

/// A member's delivery mark held in memory until the next flush.
struct Delivery {
    username: String,
    up_to: MessageId,
    flushed: bool,
}

pub struct Live {
    members: RwLock<HashMap<UserId, Arc<Member>>>,
    presence: Mutex<Feed<Presence>>,
    presence_seq: watch::Sender<u64>,
    delivered: Mutex<HashMap<ChatId, HashMap<UserId, Delivery>>>,
    /// The newest event seq committed, and the newest one pruned: the cursors that still
    /// make sense lie between.
    newest: AtomicI64,
    floor: AtomicI64,
}

impl Default for Live {
    fn default() -> Self {
        Live {
            members: RwLock::default(),
            presence: Mutex::default(),
            presence_seq: watch::Sender::new(0),
            delivered: Mutex::default(),
            newest: AtomicI64::new(0),
            floor: AtomicI64::new(0),
        }
    }
}

/// A commit that recorded events wakes exactly their audience.
impl Listener for Live {
    fn committed(&self, audience: &[UserId], seq: i64) {
        self.newest.fetch_max(seq, Ordering::AcqRel);
        self.wake(audience, seq);
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
    fn member(&self, id: UserId, username: &str) -> Arc<Member> {
        if let Some(member) = self.existing(id) {
            return member;
        }
        self.members
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(id)
            .or_insert_with(|| Arc::new(Member::new(username.to_owned())))
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
            presence: self.presence_seq.subscribe(),
            inbox: member.inbox_changed.subscribe(),
            member,
        }
    }

    /// Marks `user` as polling until the returned guard drops.
    pub fn polling(&self, user: UserId, username: &str) -> Polling {
        let member = self.member(user, username);
        member.polls.fetch_add(1, Ordering::AcqRel);
        member
            .last_active
            .store(Timestamp::now().0, Ordering::Release);
        if !member.online.swap(true, Ordering::AcqRel) {
            self.announce(user, &member, true);
        }
        Polling { member }
    }

    fn announce(&self, user: UserId, member: &Member, online: bool) {
        let presence = Presence {
            user_id: user,
            username: member.username.clone(),
            online,
            last_seen: Some(Timestamp(member.last_active.load(Ordering::Acquire))),
        };
        let seq = self
            .presence
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(presence);
        self.presence_seq.send_replace(seq);
    }

    /// Presence changes this session has not been given yet, the oldest first and at most
    /// `PRESENCE_PER_ANSWER` (the rest come with the next poll, which follows at once). A
    /// session's first poll starts from now: its page has just read the whole people list.
    pub fn presence_for(&self, reader: Reader) -> Vec<Presence> {
        self.presence
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take(reader, PRESENCE_PER_ANSWER, Timestamp::now().0)
    }

    /// Whether `user` is online now and when they were last active, if this process saw
    /// them at all.
    pub fn status(&self, user: UserId) -> Option<(bool, Timestamp)> {
        let member = self.existing(user)?;
        let last = member.last_active.load(Ordering::Acquire);
        // Decided here rather than read from the announced flag, which lags by up to a tick.
        let online = member.polls.load(Ordering::Acquire) > 0
            || Timestamp::now().0 - last <= ONLINE_GRACE_MS;
        (last > 0).then_some((online, Timestamp(last)))
    }

    /// `who` is typing in `chat`, whose members are `members`: tell the others for the
    /// next `TYPING_MS`.
    pub fn typing(&self, chat: ChatId, who: UserId, username: &str, members: &[UserId]) {
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
                self.receipt(delivery.chat, receipt, &others);
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
        self.presence
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .forget_idle(now);
        due
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
    pub presence: watch::Receiver<u64>,
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

    #[test]
    fn presence_changes_reach_each_session_once() {
        let live = Live::default();
        assert!(
            live.presence_for((10, 0)).is_empty(),
            "a first poll starts from now"
        );
        let polling = live.polling(BOB, "bob");
        let changes = live.presence_for((10, 0));
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].username, "bob");
        assert!(changes[0].online);
        assert!(live.presence_for((10, 0)).is_empty(), "given once");
        for n in 0..PRESENCE_PER_ANSWER as i64 + 1 {
            drop(live.polling(UserId(100 + n), &format!("user{n}")));
        }
        assert_eq!(live.presence_for((10, 0)).len(), PRESENCE_PER_ANSWER);
        assert_eq!(
            live.presence_for((10, 0)).len(),
            1,
            "the rest on the next poll"
        );
        assert!(live.presence_for((10, 0)).is_empty());
        assert_eq!(live.status(BOB).map(|(online, _)| online), Some(true));
        drop(polling);
        assert_eq!(
            live.status(BOB).map(|(online, _)| online),
            Some(true),
            "grace period"
        );
        assert_eq!(live.status(ALICE), None, "never seen");
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
