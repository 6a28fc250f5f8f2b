//! Which push endpoints Kanect sends to. A subscription names a URL that the server will
//! POST to, so it must not turn Kanect into a way to reach the machines beside it: https
//! to a public address only. A loopback endpoint is allowed when `webhook_allow_private`
//! is on (tests, a push relay on the same host).

use std::net::IpAddr;

use url::{Host, Url};

use crate::outbound::{is_localhost, is_private};
use crate::validate::Invalid;

/// Longer than any push service's endpoint (FCM's are about 200 characters).
pub const MAX_LEN: usize = 1024;

/// `raw` as a URL Kanect may push to, or why not (field `endpoint`).
pub fn check(raw: &str, allow_private: bool) -> Result<Url, Invalid> {
    let invalid = |message: &str| Invalid::new("endpoint", message);
    if raw.len() > MAX_LEN {
        return Err(invalid("The endpoint is too long."));
    }
    let url = Url::parse(raw).map_err(|_| invalid("The endpoint must be a URL."))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            "The endpoint must not carry a user name or password.",
        ));
    }
    let loopback = match url.host() {
        None => return Err(invalid("The endpoint must name a host.")),
        Some(Host::Domain(name)) => is_localhost(name),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
    };
    if loopback {
        if allow_private && matches!(url.scheme(), "https" | "http") {
            return Ok(url);
        }
        return Err(invalid("The endpoint is on a private address."));
    }
    if url.scheme() != "https" {
        return Err(invalid("The endpoint must be an https URL."));
    }
    let private = match url.host() {
        Some(Host::Ipv4(ip)) => is_private(IpAddr::V4(ip)),
        Some(Host::Ipv6(ip)) => is_private(IpAddr::V6(ip)),
        _ => false,
    };
    if private {
        return Err(invalid("The endpoint is on a private address."));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_https_endpoints_pass() {
        for url in [
            "https://fcm.googleapis.com/fcm/send/abc:def",
            "https://updates.push.services.mozilla.com/wpush/v2/gAAAA",
            "https://8.8.8.8/push",
        ] {
            assert!(check(url, false).is_ok(), "{url}");
        }
    }

    #[test]
    fn other_schemes_private_addresses_and_credentials_are_refused() {
        for url in [
            "http://fcm.googleapis.com/x",
            "ftp://example.com/x",
            "https://10.0.0.1/x",
            "https://192.168.1.20/x",
            "https://169.254.169.254/latest",
            "https://[fd00::1]/x",
            "https://[::ffff:10.0.0.1]/x",
            "https://100.64.0.1/x",
            "https://0.0.0.0/x",
            "https://127.0.0.1/x",
            "https://localhost/x",
            "https://user:pw@example.com/x",
            "not a url",
        ] {
            let refused = check(url, false).expect_err(url);
            assert_eq!(refused.field, "endpoint");
        }
        assert!(check(
            &format!("https://example.com/{}", "a".repeat(MAX_LEN)),
            false
        )
        .is_err());
    }

    #[test]
    fn loopback_is_allowed_only_when_configured_and_other_private_addresses_never() {
        assert!(check("http://127.0.0.1:9/push", true).is_ok());
        assert!(check("http://localhost:9/push", true).is_ok());
        assert!(check("http://[::1]:9/push", true).is_ok());
        assert!(check("http://127.0.0.1:9/push", false).is_err());
        assert!(check("https://10.0.0.1/push", true).is_err());
    }
}
