//! What the long poll waits on, all in memory: each user's newest message id (a watch
//! channel that a send bumps) and presence (who is polling right now). An idle poll holds
//! two channel receivers and a timer; it touches no database until something happens.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::watch;

use crate::model::{MessageId, Timestamp, UserId};

/// A person stays online this long after their last poll ended (the gap between two polls
/// of a healthy tab is milliseconds; this also covers a slow network).
const ONLINE_GRACE_MS: i64 = 15_000;
/// Presence changes kept for polls that arrive a little late.
const CHANGES_KEPT: usize = 1024;
/// The most presence changes one answer carries. When a whole team arrives at once, this
/// keeps every answer (and the buffer each connection keeps for its largest answer) small.
pub const PRESENCE_PER_ANSWER: usize = 64;
/// How long a poll woken by presence alone gathers further changes before answering: a
/// wave of people coming online then costs each poll a few answers, not one per person.
/// A message ends the gathering at once.
pub const PRESENCE_GATHER: Duration = Duration::from_millis(250);
/// How often offline detection and the last-seen flush run.
pub const TICK: Duration = Duration::from_secs(5);
/// `last_seen` reaches the database at most this often per user.
pub const FLUSH_EVERY_MS: i64 = 60_000;

const UNKNOWN: i64 = -1;

#[derive(Debug, Clone, Serialize)]
pub struct Presence {
    pub user_id: UserId,
    pub username: String,
    pub online: bool,
    pub last_seen: Option<Timestamp>,
}

struct Member {
    username: String,
    /// Newest message id in any chat of this user; UNKNOWN until first needed.
    latest: watch::Sender<i64>,
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
            polls: AtomicUsize::new(0),
            last_active: AtomicI64::new(0),
            online: AtomicBool::new(false),
            flushed: AtomicI64::new(0),
        }
    }
}

#[derive(Default)]
struct Changes {
    log: VecDeque<(u64, Presence)>,
    next_seq: u64,
    /// The last change each session was given, so each change reaches a session once.
    delivered: HashMap<i64, (u64, i64)>,
}

pub struct Live {
    members: RwLock<HashMap<UserId, Arc<Member>>>,
    changes: Mutex<Changes>,
    presence_seq: watch::Sender<u64>,
}

impl Default for Live {
    fn default() -> Self {
        Live {
            members: RwLock::default(),
            changes: Mutex::default(),
            presence_seq: watch::Sender::new(0),
        }
    }
}

impl Live {
    fn member(&self, id: UserId, username: &str) -> Arc<Member> {
        if let Some(member) = self
            .members
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&id)
        {
            return member.clone();
        }
        self.members
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(id)
            .or_insert_with(|| Arc::new(Member::new(username.to_owned())))
            .clone()
    }

    /// Wakes the polls of `members`: a message with id `id` was committed in their chat.
    pub fn message_sent(&self, members: &[UserId], id: MessageId) {
        let map = self.members.read().unwrap_or_else(PoisonError::into_inner);
        for user in members {
            // A user nobody polls for has no entry; their first poll reads the database.
            // Raising an UNKNOWN value is right too: ids only grow, so `id` is their newest.
            if let Some(member) = map.get(user) {
                member.latest.send_if_modified(|latest| {
                    let newer = *latest < id.0;
                    if newer {
                        *latest = id.0;
                    }
                    newer
                });
            }
        }
    }

    /// The receiver a poll of `user` waits on, and whether its value still needs a read.
    pub fn subscribe(&self, user: UserId, username: &str) -> Watch {
        let member = self.member(user, username);
        Watch {
            latest: member.latest.subscribe(),
            presence: self.presence_seq.subscribe(),
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
        let mut changes = self.changes.lock().unwrap_or_else(PoisonError::into_inner);
        changes.next_seq += 1;
        let seq = changes.next_seq;
        changes.log.push_back((seq, presence));
        if changes.log.len() > CHANGES_KEPT {
            changes.log.pop_front();
        }
        drop(changes);
        self.presence_seq.send_replace(seq);
    }

    /// Presence changes this session has not been given yet, the oldest first and at most
    /// `PRESENCE_PER_ANSWER` (the rest come with the next poll, which follows at once). A
    /// session's first poll starts from now: its page has just read the whole people list.
    pub fn presence_for(&self, session: i64) -> Vec<Presence> {
        let mut changes = self.changes.lock().unwrap_or_else(PoisonError::into_inner);
        let newest = changes.next_seq;
        let now = Timestamp::now().0;
        let from = match changes.delivered.get(&session) {
            Some((seq, _)) => *seq,
            None => {
                changes.delivered.insert(session, (newest, now));
                return Vec::new();
            }
        };
        if from >= newest {
            changes.delivered.insert(session, (newest, now));
            return Vec::new();
        }
        let given: Vec<(u64, Presence)> = changes
            .log
            .iter()
            .filter(|(seq, _)| *seq > from)
            .take(PRESENCE_PER_ANSWER)
            .cloned()
            .collect();
        let upto = given.last().map_or(newest, |(seq, _)| *seq);
        changes.delivered.insert(session, (upto, now));
        given.into_iter().map(|(_, presence)| presence).collect()
    }

    /// Whether `user` is online now and when they were last active, if this process saw
    /// them at all.
    pub fn status(&self, user: UserId) -> Option<(bool, Timestamp)> {
        let map = self.members.read().unwrap_or_else(PoisonError::into_inner);
        let member = map.get(&user)?;
        let last = member.last_active.load(Ordering::Acquire);
        // Decided here rather than read from the announced flag, which lags by up to a tick.
        let online = member.polls.load(Ordering::Acquire) > 0
            || Timestamp::now().0 - last <= ONLINE_GRACE_MS;
        (last > 0).then_some((online, Timestamp(last)))
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
            }
        }
        for (id, member) in offline {
            self.announce(id, &member, false);
        }
        let mut changes = self.changes.lock().unwrap_or_else(PoisonError::into_inner);
        changes
            .delivered
            .retain(|_, (_, touched)| now - *touched < 10 * 60_000);
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
    member: Arc<Member>,
}

impl Watch {
    /// The newest message id for this user, if known without a database read.
    pub fn latest(&mut self) -> Option<MessageId> {
        let latest = *self.latest.borrow_and_update();
        (latest != UNKNOWN).then_some(MessageId(latest))
    }

    /// Records the newest id read from the database (a send may have raced ahead of it).
    pub fn learn(&mut self, from_db: MessageId) {
        self.member.latest.send_if_modified(|latest| {
            let newer = *latest < from_db.0;
            if newer {
                *latest = from_db.0;
            }
            newer
        });
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

    #[test]
    fn a_send_raises_the_newest_id_of_every_member_that_polls() {
        let live = Live::default();
        let mut alice = live.subscribe(ALICE, "alice");
        assert_eq!(alice.latest(), None, "unknown until read from the database");
        live.message_sent(&[ALICE, BOB], MessageId(7));
        assert_eq!(alice.latest(), Some(MessageId(7)));
        // A late database read never lowers what a send already raised.
        alice.learn(MessageId(5));
        assert_eq!(alice.latest(), Some(MessageId(7)));
        live.message_sent(&[ALICE], MessageId(6));
        assert_eq!(alice.latest(), Some(MessageId(7)), "ids only grow");
    }

    #[test]
    fn a_send_wakes_a_waiting_poll() {
        let live = Live::default();
        let mut alice = live.subscribe(ALICE, "alice");
        alice.learn(MessageId(0));
        assert_eq!(alice.latest(), Some(MessageId(0)));
        assert!(!alice.latest.has_changed().unwrap_or(true));
        live.message_sent(&[ALICE], MessageId(1));
        assert!(alice.latest.has_changed().unwrap_or(false));
    }

    #[test]
    fn presence_changes_reach_each_session_once() {
        let live = Live::default();
        assert!(
            live.presence_for(10).is_empty(),
            "a first poll starts from now"
        );
        let polling = live.polling(BOB, "bob");
        let changes = live.presence_for(10);
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].username, "bob");
        assert!(changes[0].online);
        assert!(live.presence_for(10).is_empty(), "given once");
        for n in 0..PRESENCE_PER_ANSWER as i64 + 1 {
            drop(live.polling(UserId(100 + n), &format!("user{n}")));
        }
        assert_eq!(live.presence_for(10).len(), PRESENCE_PER_ANSWER);
        assert_eq!(live.presence_for(10).len(), 1, "the rest on the next poll");
        assert!(live.presence_for(10).is_empty());
        assert_eq!(live.status(BOB).map(|(online, _)| online), Some(true));
        drop(polling);
        assert_eq!(
            live.status(BOB).map(|(online, _)| online),
            Some(true),
            "grace period"
        );
        assert_eq!(live.status(ALICE), None, "never seen");
    }
}
