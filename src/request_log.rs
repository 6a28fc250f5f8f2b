//! One log line per request (method, path, status, duration, request id), and the
//! `X-Request-Id` header that error pages quote.

use std::time::Instant;

use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::Header;
use rocket::{Data, Request, Response};

struct Started {
    id: String,
    at: Instant,
}

fn started<'r>(req: &'r Request<'_>) -> &'r Started {
    req.local_cache(|| Started {
        id: request_id_now(),
        at: Instant::now(),
    })
}

/// 72 random bits as URL-safe base64. An id needs to be unique, not secret: the thread's
/// generator (seeded from the OS once) saves a system call per request.
fn request_id_now() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 9];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The long poll is the app's heartbeat (every open tab, about twice a minute when idle,
/// and once per message when busy): its successful answers are logged at debug level only.
fn is_heartbeat(req: &Request<'_>, status: u16) -> bool {
    status < 400 && req.uri().path() == "/api/updates"
}

/// This request's id (made on first use).
pub fn request_id(req: &Request<'_>) -> String {
    started(req).id.clone()
}

pub struct RequestLog;

#[rocket::async_trait]
impl Fairing for RequestLog {
    fn info(&self) -> Info {
        Info {
            name: "request log",
            kind: Kind::Request | Kind::Response,
        }
    }

    async fn on_request(&self, req: &mut Request<'_>, _: &mut Data<'_>) {
        started(req);
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        let started = started(req);
        let status = res.status().code;
        let took = started.at.elapsed();
        crate::monitoring::request(req, status, took);
        // The path only: query strings may carry tokens or search text.
        macro_rules! log {
            ($level:ident) => {
                tracing::$level!(
                    target: "kanect::request",
                    method = %req.method(),
                    path = %logged_path(req),
                    status,
                    duration_us = took.as_micros() as u64,
                    request_id = %started.id,
                )
            };
        }
        if is_heartbeat(req, status) {
            log!(debug);
        } else {
            log!(info);
        }
        res.set_header(Header::new("X-Request-Id", started.id.clone()));
    }
}

/// The path as the log shows it: a bot URL's key is its whole credential, so it is
/// masked (`/bots/…/chats/1/messages`).
fn logged_path(req: &Request<'_>) -> String {
    let path = req.uri().path().as_str();
    match path.strip_prefix("/bots/") {
        Some(rest) => match rest.split_once('/') {
            Some((_, tail)) => format!("/bots/…/{tail}"),
            None => "/bots/…".to_owned(),
        },
        None => path.to_owned(),
    }
}
