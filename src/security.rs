//! Security headers on every response, errors included, from one fairing.

use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::Header;
use rocket::shield::Shield;
use rocket::{Request, Response};

/// Scripts, styles, images and fetches from this origin only; no inline code anywhere,
/// and no framing (clickjacking). Images may also be `blob:`, which only a page's own
/// script can make: the favicon with the unread badge is drawn on a canvas.
pub const CSP: &str = "default-src 'self'; img-src 'self' blob:; base-uri 'none'; \
                       form-action 'self'; frame-ancestors 'none'; object-src 'none'";

const PERMISSIONS: &str = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), \
                           interest-cohort=()";

/// Two years, as browsers' preload lists expect.
const HSTS: &str = "max-age=63072000; includeSubDomains";

pub struct SecurityHeaders {
    /// HSTS only when Kanect serves TLS itself: over plain HTTP it would lock a site out.
    pub hsts: bool,
}

#[rocket::async_trait]
impl Fairing for SecurityHeaders {
    fn info(&self) -> Info {
        Info {
            name: "security headers",
            kind: Kind::Response,
        }
    }

    async fn on_response<'r>(&self, _: &'r Request<'_>, res: &mut Response<'r>) {
        // A response with a policy of its own keeps it (a served file's is stricter).
        if !res.headers().contains("Content-Security-Policy") {
            res.set_header(Header::new("Content-Security-Policy", CSP));
        }
        res.set_header(Header::new("X-Frame-Options", "DENY"));
        res.set_header(Header::new("X-Content-Type-Options", "nosniff"));
        res.set_header(Header::new("Referrer-Policy", "same-origin"));
        res.set_header(Header::new("Permissions-Policy", PERMISSIONS));
        res.set_header(Header::new("Cross-Origin-Opener-Policy", "same-origin"));
        if self.hsts {
            res.set_header(Header::new("Strict-Transport-Security", HSTS));
        }
    }
}

/// An empty Shield: attaching one stops Rocket from adding its default, whose headers
/// would differ from ours.
pub fn no_default_shield() -> Shield {
    Shield::new()
}

/// A page that shows a secret once (a new API token or bot key): no cache may keep it,
/// nor may the back button bring it back from one.
#[derive(rocket::Responder)]
pub struct NoStore<R> {
    pub inner: R,
    pub cache_control: Header<'static>,
}

impl<R> NoStore<R> {
    pub fn new(inner: R) -> Self {
        NoStore {
            inner,
            cache_control: Header::new("Cache-Control", "no-store"),
        }
    }
}
