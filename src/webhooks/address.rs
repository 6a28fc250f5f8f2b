//! Which webhook addresses staff may save. The same rules hold again when a webhook is
//! sent (`outbound`'s resolver and `deliver`), since what a name resolves to can change.

use std::time::Duration;

use url::{Host, Url};

use crate::outbound::{is_private, names_private_host};
use crate::validate::Invalid;

/// How long saving waits for the name to resolve.
const RESOLVE: Duration = Duration::from_secs(3);

/// Whether Kanect may POST webhooks to `raw` (already an http(s) URL with a host, see
/// `validate::webhook_url`): with `allow_private` anything; else the host, as written and
/// as it resolves now, must be public.
pub async fn check(raw: &str, allow_private: bool) -> Result<(), Invalid> {
    if allow_private {
        return Ok(());
    }
    let refuse = |message: &str| Err(Invalid::new("webhook_url", message));
    let private = "The address is private or loopback, which webhooks may not reach \
                   (unless the server's webhook_allow_private setting is on).";
    let Ok(url) = Url::parse(raw) else {
        return refuse("Enter an http:// or https:// address.");
    };
    if names_private_host(&url) {
        return refuse(private);
    }
    let name = match url.host() {
        Some(Host::Domain(name)) => name.to_owned(),
        _ => return Ok(()),
    };
    let port = url.port_or_known_default().unwrap_or(443);
    let resolved =
        tokio::time::timeout(RESOLVE, tokio::net::lookup_host((name.as_str(), port))).await;
    match resolved {
        Ok(Ok(found)) => {
            let found: Vec<_> = found.collect();
            if found.is_empty() {
                refuse("The address's host name does not resolve: check it for typos.")
            } else if found.iter().any(|addr| is_private(addr.ip())) {
                refuse(private)
            } else {
                Ok(())
            }
        }
        Ok(Err(_)) => refuse("The address's host name does not resolve: check it for typos."),
        Err(_) => refuse("The address's name took too long to resolve; try again."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[rocket::async_test]
    async fn private_addresses_are_refused_unless_allowed() {
        for url in [
            "http://127.0.0.1:9/hook",
            "http://localhost/hook",
            "https://10.0.0.8/hook",
            "http://[::1]/hook",
            "http://169.254.169.254/latest",
        ] {
            let refused = check(url, false).await.expect_err(url);
            assert_eq!(refused.field, "webhook_url");
            assert!(check(url, true).await.is_ok(), "{url} when allowed");
        }
        assert!(check("https://8.8.8.8/hook", false).await.is_ok());
    }
}
