//! Device cookies, after OWASP's "Slow Down Online Guessing Attacks with Device Cookies":
//! a browser that has signed in to an account holds an encrypted cookie naming that
//! account, and keeps an allowance of its own for it. Strangers who lock the account
//! (`throttle::Key::Account`) lock out only other strangers; the owner's browser signs in
//! all the same. A device cookie that fails too often is itself locked out
//! (`throttle::Key::Device`), so a stolen one buys a thief no more guesses than a
//! stranger gets.
//!
//! The cookie is private (encrypted and authenticated with `secret_key`), so it cannot be
//! made up or edited. It lists up to `MAX_ACCOUNTS` accounts, the latest first, each with
//! a random nonce (the throttle's key) and the time it was issued; entries older than
//! `LIFETIME_DAYS` count for nothing. Each successful sign-in issues a fresh nonce for
//! its account, so a copy taken earlier is throttled on its own. Signing out keeps the
//! cookie: it stands for the browser, not for the session.

use rocket::http::{CookieJar, SameSite};
use rocket::time::{Duration, OffsetDateTime};

use crate::auth::client::Client;
use crate::auth::{cookies, token};
use crate::model::{Timestamp, UserId};

pub const LIFETIME_DAYS: u32 = 365;
const MAX_ACCOUNTS: usize = 8;

/// One account this browser signed in to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub user: UserId,
    /// Identifies this browser's entry to the throttle.
    pub nonce: String,
    issued: Timestamp,
}

/// The entry this browser holds for `user`, if it has a valid one.
pub fn trusted(jar: &CookieJar<'_>, client: &Client, user: UserId) -> Option<Device> {
    let cookie = jar.get_private(cookies::DEVICE.on(client))?;
    let now = Timestamp::now();
    parse(cookie.value())
        .into_iter()
        .find(|device| device.user == user && fresh(device, now))
}

/// After a successful sign-in to `user`: a new entry for it, in front of the others.
pub fn remember(jar: &CookieJar<'_>, client: &Client, user: UserId) {
    let now = Timestamp::now();
    let mut devices: Vec<Device> = jar
        .get_private(cookies::DEVICE.on(client))
        .map(|cookie| parse(cookie.value()))
        .unwrap_or_default();
    devices.retain(|device| device.user != user && fresh(device, now));
    devices.insert(
        0,
        Device {
            user,
            nonce: token::random_base64(16),
            issued: now,
        },
    );
    devices.truncate(MAX_ACCOUNTS);
    let mut cookie = cookies::build(cookies::DEVICE, format(&devices), client, SameSite::Strict);
    let lifetime = Duration::days(i64::from(LIFETIME_DAYS));
    cookie.set_max_age(lifetime);
    // Rocket would give a private cookie a week unless told otherwise.
    cookie.set_expires(OffsetDateTime::now_utc() + lifetime);
    jar.add_private(cookie);
}

fn fresh(device: &Device, now: Timestamp) -> bool {
    now.0 < device.issued.plus_days(LIFETIME_DAYS).0
}

/// `user:issued:nonce` entries, comma-separated (inside the encryption: never seen raw).
fn format(devices: &[Device]) -> String {
    devices
        .iter()
        .map(|d| format!("{}:{}:{}", d.user.0, d.issued.0, d.nonce))
        .collect::<Vec<_>>()
        .join(",")
}

/// The entries of a cookie's value; anything unreadable is skipped.
fn parse(value: &str) -> Vec<Device> {
    value
        .split(',')
        .filter_map(|entry| {
            let mut parts = entry.splitn(3, ':');
            let user = parts.next()?.parse().ok()?;
            let issued = parts.next()?.parse().ok()?;
            let nonce = parts.next().filter(|n| !n.is_empty())?;
            Some(Device {
                user: UserId(user),
                nonce: nonce.to_owned(),
                issued: Timestamp(issued),
            })
        })
        .take(MAX_ACCOUNTS)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(user: i64, issued: i64) -> Device {
        Device {
            user: UserId(user),
            nonce: format!("nonce{user}"),
            issued: Timestamp(issued),
        }
    }

    #[test]
    fn entries_read_back_as_written() {
        let devices = vec![device(3, 1_000), device(1, 2_000)];
        assert_eq!(parse(&format(&devices)), devices);
    }

    #[test]
    fn unreadable_entries_are_skipped() {
        assert_eq!(parse(""), vec![]);
        assert_eq!(
            parse("x:1:n,3:y:n,4:5:,:::,7:8:ok"),
            vec![Device {
                user: UserId(7),
                nonce: "ok".into(),
                issued: Timestamp(8),
            }]
        );
        let many: Vec<String> = (0..50).map(|i| format!("{i}:1:n{i}")).collect();
        assert_eq!(parse(&many.join(",")).len(), MAX_ACCOUNTS);
    }

    #[test]
    fn an_entry_counts_for_a_year_after_it_was_issued() {
        let now = Timestamp::now();
        let year = i64::from(LIFETIME_DAYS) * 86_400_000;
        assert!(fresh(&device(1, now.0), now));
        assert!(fresh(&device(1, now.0 - year + 1_000), now));
        assert!(!fresh(&device(1, now.0 - year), now));
    }
}
