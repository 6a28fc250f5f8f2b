//! Kanect patch: how many connections each client address holds open at once.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};

/// Open connections per client address, and the most each may hold.
pub(crate) struct PerIp {
    limit: usize,
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

/// One admitted connection: counted (when there is a limit) until dropped.
pub(crate) struct Slot(Option<(IpAddr, Arc<Mutex<HashMap<IpAddr, usize>>>)>);

impl PerIp {
    /// `limit == 0`: no limit.
    pub(crate) fn new(limit: usize) -> PerIp {
        PerIp { limit, open: Arc::default() }
    }

    /// A slot for a new connection from `remote`, or `None` when that address
    /// already holds `limit` connections. Without a limit or an address, every
    /// connection gets an uncounted slot.
    pub(crate) fn admit(&self, remote: Option<SocketAddr>) -> Option<Slot> {
        let remote = match remote {
            Some(remote) if self.limit > 0 => remote,
            _ => return Some(Slot(None)),
        };
        let key = client_key(remote.ip());
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let count = open.entry(key).or_insert(0);
        if *count >= self.limit {
            return None;
        }
        *count += 1;
        Some(Slot(Some((key, self.open.clone()))))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let Some((key, open)) = &self.0 else { return };
        let mut open = open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = open.get_mut(key) {
            *count -= 1;
            if *count == 0 {
                open.remove(key);
            }
        }
    }
}

/// The address a client is counted under: IPv4 as is (also when mapped into
/// IPv6), IPv6 by its /64, the smallest block one subscriber is given.
fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(ip: &str) -> Option<SocketAddr> {
        Some(SocketAddr::new(ip.parse().unwrap(), 40000))
    }

    #[test]
    fn an_address_holds_at_most_the_limit_and_gets_a_slot_back_when_one_closes() {
        let per_ip = PerIp::new(2);
        let a = per_ip.admit(from("192.0.2.1")).unwrap();
        let _b = per_ip.admit(from("192.0.2.1")).unwrap();
        assert!(per_ip.admit(from("192.0.2.1")).is_none());
        assert!(per_ip.admit(from("192.0.2.2")).is_some());
        drop(a);
        assert!(per_ip.admit(from("192.0.2.1")).is_some());
    }

    #[test]
    fn one_ipv6_subscriber_block_counts_as_one_address() {
        let per_ip = PerIp::new(1);
        let _a = per_ip.admit(from("2001:db8:1:2::1")).unwrap();
        assert!(per_ip.admit(from("2001:db8:1:2:ffff::9")).is_none());
        assert!(per_ip.admit(from("2001:db8:1:3::1")).is_some());
        let _v4 = per_ip.admit(from("::ffff:192.0.2.7")).unwrap();
        assert!(per_ip.admit(from("192.0.2.7")).is_none());
    }

    #[test]
    fn no_limit_counts_nothing() {
        let per_ip = PerIp::new(0);
        for _ in 0..3 {
            assert!(matches!(per_ip.admit(from("192.0.2.1")), Some(Slot(None))));
        }
    }
}
