//! Kanect's cookies: their names and the attributes they all share.
//!
//! Over HTTPS (Kanect's own TLS, or a configured proxy that says `X-Forwarded-Proto:
//! https`) each cookie is Secure and named with the `__Host-` prefix, which browsers accept
//! only from a secure origin, with `Path=/` and no `Domain`: a sibling subdomain or a
//! plain-HTTP man in the middle cannot plant one. The name follows the request: an HTTPS
//! request reads and writes only the `__Host-` names, a plain one only the bare names, so
//! a cookie planted over plain HTTP is never read on an HTTPS request.

use rocket::http::{Cookie, CookieJar, SameSite};

use crate::auth::client::Client;

#[derive(Debug, Clone, Copy)]
pub struct Name {
    plain: &'static str,
    host: &'static str,
}

/// The session token.
pub const SESSION: Name = Name {
    plain: "kanect_session",
    host: "__Host-kanect_session",
};

/// The CSRF token of someone not signed in (encrypted).
pub const CSRF: Name = Name {
    plain: "kanect_csrf",
    host: "__Host-kanect_csrf",
};

/// The accounts this browser signed in to (encrypted): see `auth::device`.
pub const DEVICE: Name = Name {
    plain: "kanect_device",
    host: "__Host-kanect_device",
};

impl Name {
    /// This cookie's name on `client`'s requests.
    pub fn on(self, client: &Client) -> &'static str {
        if client.secure {
            self.host
        } else {
            self.plain
        }
    }
}

/// A cookie `name` = `value` for `client`: `Path=/`, HttpOnly, Secure over HTTPS, no Domain.
pub fn build(name: Name, value: String, client: &Client, same_site: SameSite) -> Cookie<'static> {
    Cookie::build((name.on(client), value))
        .path("/")
        .http_only(true)
        .same_site(same_site)
        .secure(client.secure)
        .build()
}

/// Tells the browser to drop `name` (a `__Host-` removal must be Secure too).
pub fn remove(jar: &CookieJar<'_>, name: Name, client: &Client) {
    jar.remove(build(name, String::new(), client, SameSite::Lax));
}

/// As `remove`, for a private (encrypted) cookie.
pub fn remove_private(jar: &CookieJar<'_>, name: Name, client: &Client) {
    jar.remove_private(build(name, String::new(), client, SameSite::Lax));
}
