//! Requests Kanect makes to addresses that someone typed: Web Push endpoints and bot
//! webhooks. Such an address must not turn Kanect into a way to reach the machines beside
//! it, so unless `webhook_allow_private` is set, a name is resolved to its public addresses
//! only, an address given as digits must be public, and no proxy from the environment is
//! used (a proxy would resolve the name itself).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use url::{Host, Url};

/// A client for `allow_private`: rustls, `timeout` for the whole exchange (the answer's
/// body included), `redirect` as the caller allows.
pub fn client(
    allow_private: bool,
    timeout: Duration,
    redirect: reqwest::redirect::Policy,
) -> reqwest::Result<reqwest::Client> {
    let builder = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(3)))
        .redirect(redirect)
        .no_proxy()
        .user_agent(concat!("Kanect/", env!("CARGO_PKG_VERSION")));
    let builder = if allow_private {
        builder
    } else {
        builder.dns_resolver(std::sync::Arc::new(PublicOnly))
    };
    builder.build()
}

/// What the resolver answers for a name that has no public address.
#[derive(Debug, thiserror::Error)]
#[error("the address resolves to no public address")]
pub struct PrivateAddress;

/// Whether `error`, or anything that caused it, is the resolver's refusal.
pub fn is_refused(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(e) = cause {
        if e.is::<PrivateAddress>() {
            return true;
        }
        cause = e.source();
    }
    false
}

/// Resolves names to their public addresses only.
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async move {
            let found = tokio::net::lookup_host((name.as_str(), 0)).await?;
            let public: Vec<SocketAddr> = found.filter(|addr| !is_private(addr.ip())).collect();
            if public.is_empty() {
                return Err(Box::new(PrivateAddress) as Box<dyn std::error::Error + Send + Sync>);
            }
            let addrs: reqwest::dns::Addrs = Box::new(public.into_iter());
            Ok(addrs)
        })
    }
}

/// Whether the host of `url`, as written, is loopback or private: `localhost` and its
/// subdomains, or an address in digits that `is_private` refuses. A name is not resolved
/// here (the client's resolver does that when it connects).
pub fn names_private_host(url: &Url) -> bool {
    match url.host() {
        None => true,
        Some(Host::Domain(name)) => is_localhost(name),
        Some(Host::Ipv4(ip)) => is_private(IpAddr::V4(ip)),
        Some(Host::Ipv6(ip)) => is_private(IpAddr::V6(ip)),
    }
}

/// `localhost` or a name under it (RFC 6761: they are loopback, whatever DNS says).
pub fn is_localhost(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost" || name.ends_with(".localhost")
}

/// Not a public internet address: loopback, private ranges, link-local, carrier-grade
/// NAT, unspecified, multicast, documentation, and the IPv6 forms of these.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => is_private_v4(ip),
        IpAddr::V6(ip) => match ip.to_ipv4_mapped() {
            Some(v4) => is_private_v4(v4),
            None => is_private_v6(ip),
        },
    }
}

fn is_private_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240
}

fn is_private_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        || first == 0x2001 && ip.segments()[1] == 0x0db8
}

/// Work dropped on a full queue, told in the log at most once per `every` with a count:
/// under a flood every drop would log.
pub struct Dropped {
    what: &'static str,
    every: Duration,
    since_told: Mutex<(u64, Option<Instant>)>,
}

impl Dropped {
    pub const fn new(what: &'static str, every: Duration) -> Dropped {
        Dropped {
            what,
            every,
            since_told: Mutex::new((0, None)),
        }
    }

    pub fn one(&self) {
        let Ok(mut dropped) = self.since_told.lock() else {
            return;
        };
        dropped.0 += 1;
        if dropped.1.is_none_or(|told| told.elapsed() >= self.every) {
            tracing::warn!(dropped = dropped.0, "{} queue full: dropped", self.what);
            *dropped = (0, Some(Instant::now()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_hosts_are_told_from_their_spelling() {
        for url in [
            "http://localhost/x",
            "http://a.localhost./x",
            "http://127.0.0.1:8080/x",
            "http://10.1.2.3/x",
            "http://[::1]/x",
            "http://[::ffff:192.168.0.1]/x",
            "http://169.254.169.254/latest/meta-data",
            "http://0.0.0.0/",
        ] {
            let url = Url::parse(url).expect("a URL");
            assert!(names_private_host(&url), "{url}");
        }
        for url in ["https://ci.example.com/hook", "http://8.8.8.8/x"] {
            let url = Url::parse(url).expect("a URL");
            assert!(!names_private_host(&url), "{url}");
        }
    }

    #[rocket::async_test]
    async fn a_name_that_resolves_to_loopback_only_is_refused_when_connecting() {
        let client = client(
            false,
            Duration::from_secs(2),
            reqwest::redirect::Policy::none(),
        )
        .expect("a client");
        let refused = client
            .get("http://localhost:9/hook")
            .send()
            .await
            .expect_err("no connection to loopback");
        assert!(is_refused(&refused), "{refused:?}");
    }
}
