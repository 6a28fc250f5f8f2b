//! Who is on the other end of a request: the client's address and whether it used HTTPS,
//! decided once per request and in this one place for throttling, sessions and cookies.
//!
//! Without a `proxy`, only the connection counts: `X-Real-IP`, `X-Forwarded-For` and
//! `X-Forwarded-Proto` are whatever the client chose to send, so they change nothing.
//! With one, the address is what that proxy put in its header, and `X-Forwarded-Proto:
//! https` marks the request secure.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};

use rocket::http::HeaderMap;
use rocket::request::{FromRequest, Outcome, Request};

use crate::config::{Proxy, Settings};

#[derive(Debug, Clone)]
pub struct Client {
    pub user_agent: String,
    /// The address as text, kept with a session ("" when unknown).
    pub ip: String,
    /// Known for every real connection; only in-process test requests may lack one.
    pub address: Option<IpAddr>,
    /// HTTPS all the way to the browser: cookies are Secure and `__Host-` named.
    pub secure: bool,
}

impl Client {
    /// This request's client, worked out on first use.
    pub fn of<'r>(req: &'r Request<'_>) -> &'r Client {
        req.local_cache(|| {
            let (proxy, tls) = req
                .rocket()
                .state::<Settings>()
                .map_or((Proxy::None, false), |s| (s.proxy, s.secure_cookies));
            let headers = req.headers();
            let user_agent = headers.get_one("User-Agent").unwrap_or_default();
            let address = address(proxy, headers, req.remote());
            Client {
                user_agent: user_agent.chars().take(200).collect(),
                ip: address.map(|ip| ip.to_string()).unwrap_or_default(),
                address,
                secure: tls || forwarded_https(proxy, headers),
            }
        })
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Client {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        Outcome::Success(Client::of(req).clone())
    }
}

/// The client's address: the proxy's header when one is configured and the header is
/// readable, else the connection's own.
fn address(proxy: Proxy, headers: &HeaderMap<'_>, remote: Option<SocketAddr>) -> Option<IpAddr> {
    let socket = remote.map(|r| r.ip());
    let forwarded = match proxy {
        Proxy::None => {
            warn_once_if_proxied(headers);
            None
        }
        // Every entry left of the proxy's own came from the client, so only the last one
        // (of the last header, should there be several) is the proxy's word.
        Proxy::XForwardedFor => last_entry(headers, "X-Forwarded-For"),
        // The proxy sets this one; the last copy is its own if a client sent one too.
        Proxy::XRealIp => last_entry(headers, "X-Real-IP"),
    };
    forwarded.and_then(parse_ip).or(socket)
}

fn forwarded_https(proxy: Proxy, headers: &HeaderMap<'_>) -> bool {
    proxy != Proxy::None
        && last_entry(headers, "X-Forwarded-Proto").is_some_and(|p| p.eq_ignore_ascii_case("https"))
}

/// The right-most comma-separated entry of the last `name` header.
fn last_entry<'h>(headers: &'h HeaderMap<'_>, name: &str) -> Option<&'h str> {
    let last = headers.get(name).last()?;
    last.rsplit(',')
        .next()
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// An address, with or without a port (`198.51.100.7:4711`, `[2001:db8::1]:4711`).
fn parse_ip(text: &str) -> Option<IpAddr> {
    text.parse::<IpAddr>()
        .ok()
        .or_else(|| text.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

/// Kanect behind a proxy that sends client headers, without `proxy` set, sees every
/// visitor at the proxy's address, so they share one sign-in allowance: say so, once.
fn warn_once_if_proxied(headers: &HeaderMap<'_>) {
    static WARNED: AtomicBool = AtomicBool::new(false);
    if (headers.contains("X-Forwarded-For") || headers.contains("X-Real-IP"))
        && !WARNED.swap(true, Ordering::Relaxed)
    {
        tracing::warn!(
            "requests carry X-Forwarded-For or X-Real-IP, but `proxy` is not set: they are \
             ignored and every client counts as the connection's address; behind a reverse \
             proxy set `proxy` (see README, Configuration)"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rocket::http::Header;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap<'static> {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.add(Header::new(*name, *value));
        }
        map
    }

    fn remote() -> Option<SocketAddr> {
        "127.0.0.1:50000".parse().ok()
    }

    fn ip(text: &str) -> Option<IpAddr> {
        text.parse().ok()
    }

    #[test]
    fn without_a_proxy_only_the_connection_counts() {
        let forged = headers(&[
            ("X-Real-IP", "198.51.100.1"),
            ("X-Forwarded-For", "198.51.100.2"),
            ("X-Forwarded-Proto", "https"),
        ]);
        assert_eq!(address(Proxy::None, &forged, remote()), ip("127.0.0.1"));
        assert!(!forwarded_https(Proxy::None, &forged));
    }

    #[test]
    fn x_forwarded_for_counts_only_the_entry_the_proxy_appended() {
        let h = headers(&[("X-Forwarded-For", "6.6.6.6, 198.51.100.7")]);
        assert_eq!(
            address(Proxy::XForwardedFor, &h, remote()),
            ip("198.51.100.7")
        );
        let h = headers(&[
            ("X-Forwarded-For", "6.6.6.6"),
            ("X-Forwarded-For", "198.51.100.8:4711"),
        ]);
        assert_eq!(
            address(Proxy::XForwardedFor, &h, remote()),
            ip("198.51.100.8")
        );
        let h = headers(&[("X-Forwarded-For", "[2001:db8::1]:4711")]);
        assert_eq!(
            address(Proxy::XForwardedFor, &h, remote()),
            ip("2001:db8::1")
        );
        // Missing or unreadable: the connection's address (the proxy's), never a guess.
        for h in [
            headers(&[]),
            headers(&[("X-Forwarded-For", "unknown")]),
            headers(&[("X-Forwarded-For", "1.2.3.4, ")]),
        ] {
            assert_eq!(address(Proxy::XForwardedFor, &h, remote()), ip("127.0.0.1"));
        }
        assert_eq!(address(Proxy::XForwardedFor, &headers(&[]), None), None);
    }

    #[test]
    fn x_real_ip_is_the_proxys_header() {
        let h = headers(&[
            ("X-Real-IP", "198.51.100.9"),
            ("X-Forwarded-For", "6.6.6.6"),
        ]);
        assert_eq!(address(Proxy::XRealIp, &h, remote()), ip("198.51.100.9"));
        assert_eq!(
            address(Proxy::XForwardedFor, &h, remote()),
            ip("6.6.6.6"),
            "each setting reads its own header"
        );
    }

    #[test]
    fn a_proxy_marks_https_with_x_forwarded_proto() {
        for (value, secure) in [
            ("https", true),
            ("HTTPS", true),
            ("http", false),
            ("http, https", true),
            ("https, http", false),
        ] {
            let h = headers(&[("X-Forwarded-Proto", value)]);
            assert_eq!(forwarded_https(Proxy::XRealIp, &h), secure, "{value}");
            assert_eq!(forwarded_https(Proxy::XForwardedFor, &h), secure, "{value}");
        }
        assert!(!forwarded_https(Proxy::XRealIp, &headers(&[])));
    }
}
