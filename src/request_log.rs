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
        id: crate::auth::token::random_base64(9),
        at: Instant::now(),
    })
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
        // The path only: query strings may carry tokens or search text.
        tracing::info!(
            target: "kanect::request",
            method = %req.method(),
            path = %req.uri().path(),
            status,
            duration_us = started.at.elapsed().as_micros() as u64,
            request_id = %started.id,
        );
        res.set_header(Header::new("X-Request-Id", started.id.clone()));
    }
}
