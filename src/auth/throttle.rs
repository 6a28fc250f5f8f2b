//! Sign-in and sign-up throttling: after 5 failed sign-ins in 15 minutes for an account,
//! from an address, or with one device cookie, further attempts get 429 until the oldest
//! failure ages out; so do wrong setup codes from an address; sign-ups are limited per
//! address. On SQLite (one process) the counts
//! live in memory, and a restart forgets them, which only gives an attacker one more
//! window per restart; on PostgreSQL every instance counts in one table
//! (`db::throttle`), so a second instance is no second window.
//!
//! An attempt is counted when it begins, before its password is checked, in the same
//! step as the limit is checked: many attempts at once can never check more passwords
//! than the limit allows. An attempt that did not fail is refunded afterwards. Nothing
//! else ever lowers a count: a success only takes back its own attempt, so signing in to
//! one's own account forgives no guess made at anyone's.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::db::{throttle, Pools};

pub const WINDOW: Duration = Duration::from_secs(15 * 60);
pub const SIGN_IN_FAILURES: usize = 5;
pub const SIGN_UPS: usize = 10;

/// Past this many keys, entries with nothing recent are dropped.
const PRUNE_ABOVE: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    /// Failed sign-ins for a username (its lower-case key) by browsers it does not know.
    Account(String),
    /// Failed sign-ins from an address by browsers the account does not know.
    Address(IpAddr),
    /// Failed sign-ins with one device cookie (its nonce): see `auth::device`.
    Device(String),
    /// Sign-up attempts from an address.
    SignUp(IpAddr),
    /// Wrong setup codes (a first run) from an address.
    Setup(IpAddr),
}

impl Key {
    /// The key as the shared table stores it.
    fn name(&self) -> String {
        match self {
            Key::Account(name) => format!("account:{name}"),
            Key::Address(ip) => format!("address:{ip}"),
            Key::Device(nonce) => format!("device:{nonce}"),
            Key::SignUp(ip) => format!("signup:{ip}"),
            Key::Setup(ip) => format!("setup:{ip}"),
        }
    }

    fn limit(&self) -> usize {
        match self {
            Key::Account(_) | Key::Address(_) | Key::Device(_) | Key::Setup(_) => SIGN_IN_FAILURES,
            Key::SignUp(_) => SIGN_UPS,
        }
    }
}

/// An attempt under way, counted against its keys until refunded.
#[derive(Debug)]
#[must_use = "an attempt that did not fail must be refunded"]
pub struct Attempt {
    keys: Vec<Key>,
    at: Instant,
    /// Its rows in the shared table (PostgreSQL).
    shared: Vec<i64>,
}

#[derive(Default)]
pub struct Throttle {
    events: Mutex<HashMap<Key, VecDeque<Instant>>>,
}

impl Throttle {
    /// Counts an attempt against every key, or `Err(seconds)` to wait when any of them is
    /// at its limit (then nothing is counted).
    pub async fn begin(&self, db: &Pools, keys: Vec<Key>) -> sqlx::Result<Result<Attempt, u64>> {
        if !db.read.is_postgres() {
            return Ok(self.begin_at(keys, Instant::now()));
        }
        let named: Vec<(String, usize)> =
            keys.iter().map(|key| (key.name(), key.limit())).collect();
        let window = i64::try_from(WINDOW.as_millis()).unwrap_or(i64::MAX);
        Ok(throttle::begin(&db.write, &named, window)
            .await?
            .map(|shared| Attempt {
                keys,
                at: Instant::now(),
                shared,
            }))
    }

    /// Takes back an attempt that did not fail (a successful sign-in).
    pub async fn refund(&self, db: &Pools, attempt: Attempt) -> sqlx::Result<()> {
        if !attempt.shared.is_empty() {
            return throttle::refund(&db.write, &attempt.shared).await;
        }
        self.refund_here(attempt);
        Ok(())
    }

    fn refund_here(&self, attempt: Attempt) {
        let mut events = self.events.lock().unwrap_or_else(PoisonError::into_inner);
        for key in &attempt.keys {
            if let Some(times) = events.get_mut(key) {
                if let Some(i) = times.iter().rposition(|t| *t == attempt.at) {
                    times.remove(i);
                }
            }
        }
    }

    fn begin_at(&self, keys: Vec<Key>, now: Instant) -> Result<Attempt, u64> {
        let mut events = self.events.lock().unwrap_or_else(PoisonError::into_inner);
        if events.len() > PRUNE_ABOVE {
            events.retain(|_, times| {
                expire(times, now);
                !times.is_empty()
            });
        }
        let mut wait = Duration::ZERO;
        for key in &keys {
            let Some(times) = events.get_mut(key) else {
                continue;
            };
            expire(times, now);
            if times.len() >= key.limit() {
                if let Some(oldest) = times.front() {
                    wait = wait.max(WINDOW.saturating_sub(now.duration_since(*oldest)));
                }
            }
        }
        if !wait.is_zero() {
            // Round up: "try again in 0 seconds" would be a lie.
            return Err(wait.as_secs() + 1);
        }
        for key in &keys {
            events.entry(key.clone()).or_default().push_back(now);
        }
        Ok(Attempt {
            keys,
            at: now,
            shared: Vec::new(),
        })
    }
}

fn expire(times: &mut VecDeque<Instant>, now: Instant) {
    while times
        .front()
        .is_some_and(|t| now.duration_since(*t) >= WINDOW)
    {
        times.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account() -> Vec<Key> {
        vec![Key::Account("bob".into())]
    }

    #[test]
    fn five_failures_block_until_the_oldest_ages_out() {
        let throttle = Throttle::default();
        let start = Instant::now();
        for i in 0..5 {
            let at = start + Duration::from_secs(i * 60);
            assert!(throttle.begin_at(account(), at).is_ok(), "attempt {i}");
        }
        let later = start + Duration::from_secs(5 * 60);
        assert_eq!(
            throttle.begin_at(account(), later).map(|_| ()),
            Err(10 * 60 + 1)
        );
        assert!(throttle.begin_at(account(), start + WINDOW).is_ok());
    }

    #[test]
    fn a_refused_attempt_counts_nothing_and_keys_are_separate() {
        let throttle = Throttle::default();
        let now = Instant::now();
        let address = Key::Address([192, 0, 2, 1].into());
        for _ in 0..5 {
            assert!(throttle.begin_at(account(), now).is_ok());
        }
        // Refused because of bob: the address is not charged for it.
        let both = vec![address.clone(), Key::Account("bob".into())];
        for _ in 0..10 {
            assert!(throttle.begin_at(both.clone(), now).is_err());
        }
        for _ in 0..5 {
            assert!(throttle.begin_at(vec![address.clone()], now).is_ok());
        }
        assert!(throttle.begin_at(vec![address], now).is_err());
        assert!(throttle
            .begin_at(vec![Key::Account("alice".into())], now)
            .is_ok());
    }

    #[test]
    fn a_refund_takes_back_its_own_attempt_only() {
        let throttle = Throttle::default();
        let start = Instant::now();
        for i in 0..4 {
            let _failed = throttle.begin_at(account(), start + Duration::from_secs(i));
        }
        let success = throttle
            .begin_at(account(), start + Duration::from_secs(10))
            .expect("the fifth attempt begins");
        throttle.refund_here(success);
        let fifth = start + Duration::from_secs(11);
        assert!(
            throttle.begin_at(account(), fifth).is_ok(),
            "the four failures still count, the success does not"
        );
        assert!(throttle.begin_at(account(), fifth).is_err());
    }
}
