//! Sign-in and sign-up throttling, in memory: after 5 failed sign-ins in 15 minutes for an
//! account, or from an address, further attempts get 429 until the oldest failure ages
//! out; sign-ups are limited per address. A restart forgets everything, which only gives an
//! attacker one more window per restart.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

pub const WINDOW: Duration = Duration::from_secs(15 * 60);
pub const SIGN_IN_FAILURES: usize = 5;
pub const SIGN_UPS: usize = 10;

/// Past this many keys, entries with nothing recent are dropped.
const PRUNE_ABOVE: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    /// Failed sign-ins for a username (its lower-case key).
    Account(String),
    /// Failed sign-ins from an address.
    Address(IpAddr),
    /// Sign-up attempts from an address.
    SignUp(IpAddr),
}

impl Key {
    fn limit(&self) -> usize {
        match self {
            Key::Account(_) | Key::Address(_) => SIGN_IN_FAILURES,
            Key::SignUp(_) => SIGN_UPS,
        }
    }
}

#[derive(Default)]
pub struct Throttle {
    events: Mutex<HashMap<Key, VecDeque<Instant>>>,
}

impl Throttle {
    /// `Err(seconds)` to wait when any of `keys` is at its limit.
    pub fn check(&self, keys: &[Key]) -> Result<(), u64> {
        self.check_at(keys, Instant::now())
    }

    /// Counts one event (a failure, or a sign-up attempt) for each key.
    pub fn record(&self, keys: &[Key]) {
        self.record_at(keys, Instant::now());
    }

    /// Forgets the keys' history (a successful sign-in).
    pub fn reset(&self, keys: &[Key]) {
        let mut events = self.events.lock().unwrap_or_else(PoisonError::into_inner);
        for key in keys {
            events.remove(key);
        }
    }

    fn check_at(&self, keys: &[Key], now: Instant) -> Result<(), u64> {
        let mut events = self.events.lock().unwrap_or_else(PoisonError::into_inner);
        let mut wait = Duration::ZERO;
        for key in keys {
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
        if wait.is_zero() {
            Ok(())
        } else {
            // Round up: "try again in 0 seconds" would be a lie.
            Err(wait.as_secs() + 1)
        }
    }

    fn record_at(&self, keys: &[Key], now: Instant) {
        let mut events = self.events.lock().unwrap_or_else(PoisonError::into_inner);
        if events.len() > PRUNE_ABOVE {
            events.retain(|_, times| {
                expire(times, now);
                !times.is_empty()
            });
        }
        for key in keys {
            let times = events.entry(key.clone()).or_default();
            expire(times, now);
            times.push_back(now);
            // More than the limit is never needed to know when the block ends.
            while times.len() > key.limit() {
                times.pop_front();
            }
        }
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
            assert_eq!(throttle.check_at(&account(), start), Ok(()), "attempt {i}");
            throttle.record_at(&account(), start + Duration::from_secs(i * 60));
        }
        let later = start + Duration::from_secs(5 * 60);
        assert_eq!(throttle.check_at(&account(), later), Err(10 * 60 + 1));
        assert_eq!(throttle.check_at(&account(), start + WINDOW), Ok(()));
    }

    #[test]
    fn success_resets_and_keys_are_separate() {
        let throttle = Throttle::default();
        let now = Instant::now();
        for _ in 0..5 {
            throttle.record_at(&account(), now);
        }
        let other = [Key::Account("alice".into())];
        assert_eq!(throttle.check_at(&other, now), Ok(()));
        assert!(throttle.check_at(&account(), now).is_err());
        throttle.reset(&account());
        assert_eq!(throttle.check_at(&account(), now), Ok(()));
    }
}
