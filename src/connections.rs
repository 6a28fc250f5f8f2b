//! What one client can hold open. Rocket 0.5 has no deadline for a connection that never
//! finishes a request head, and no limit per client, so a few idle or slowloris clients
//! could hold every socket the process may open. Kanect's Rocket (vendor/rocket, see
//! KANECT.md there) takes both as settings; `serve` sets them here.
//!
//! A long poll is not cut: the deadline is for the request head only, and a poll's head
//! arrives at once; the request may then be held for as long as its handler waits.

use rocket::figment::providers::Serialized;
use rocket::figment::value::{Dict, Value};

/// Seconds a connection may go without sending a whole request head: after it opens, after
/// its last response (an idle keep-alive connection) or while a head trickles in. Browsers
/// send a head in one round trip and start the next long poll as the last one answers;
/// slow mobile links and a TLS handshake still fit well inside this.
pub const IDLE_S: u32 = 10;

/// How many connections one client address may hold open at once: half of the open files
/// the process may have, so one address can never take the sockets everyone else needs.
/// A team behind one NAT, or a proxy in front, comes from one address: with systemd's
/// `LimitNOFILE=65536` that is 32,768 connections, with a bare 1,024 still 512 (a browser
/// opens at most 6 per site).
pub fn per_address(open_files: u64) -> usize {
    usize::try_from(open_files / 2).unwrap_or(usize::MAX).max(1)
}

/// Rocket's settings for both, to merge over the app's configuration.
pub fn settings(open_files: u64) -> Serialized<Dict> {
    let mut dict = Dict::new();
    dict.insert("keep_alive".into(), Value::from(IDLE_S));
    dict.insert(
        "connections_per_ip".into(),
        Value::from(per_address(open_files)),
    );
    Serialized::defaults(dict)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_address_gets_half_of_the_open_files() {
        assert_eq!(per_address(1024), 512);
        assert_eq!(per_address(65_536), 32_768);
        assert_eq!(per_address(1), 1);
    }

    #[test]
    fn the_settings_reach_rockets_config() {
        let figment =
            rocket::figment::Figment::from(rocket::Config::default()).merge(settings(1024));
        let config: rocket::Config = figment.extract().expect("a valid configuration");
        assert_eq!(config.keep_alive, IDLE_S);
        assert_eq!(config.connections_per_ip, 512);
    }
}
