//! Security headers on every response, errors included.

use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::Header;
use rocket::shield::{Frame, NoSniff, Permission, Referrer, Shield};
use rocket::{Request, Response};

/// Scripts, styles, images and fetches from this origin only; no inline code anywhere,
/// and no framing (clickjacking).
const CSP: &str = "default-src 'self'; base-uri 'none'; form-action 'self'; \
                   frame-ancestors 'none'; object-src 'none'";

/// Rocket's Shield for the standard headers. It adds HSTS by itself when TLS is on (in the
/// release profile), and only then: HSTS over plain HTTP would lock a site out.
pub fn shield() -> Shield {
    Shield::new()
        .enable(Frame::Deny)
        .enable(NoSniff::Enable)
        .enable(Referrer::SameOrigin)
        .enable(Permission::default())
}

/// The Content-Security-Policy, which Shield does not know.
pub struct ContentSecurityPolicy;

#[rocket::async_trait]
impl Fairing for ContentSecurityPolicy {
    fn info(&self) -> Info {
        Info {
            name: "content security policy",
            kind: Kind::Response,
        }
    }

    async fn on_response<'r>(&self, _: &'r Request<'_>, res: &mut Response<'r>) {
        res.set_header(Header::new("Content-Security-Policy", CSP));
    }
}
