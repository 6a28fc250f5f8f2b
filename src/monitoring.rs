//! `/metrics`: the server's own figures in Prometheus text format, for an operator's
//! scraper. Off unless `metrics = true`; then answered to loopback, or to anyone with
//! `Authorization: Bearer <metrics_token>`.
//!
//! The figures are recorded through the `metrics` facade wherever they happen (requests,
//! long polls, write transactions, send batches) and kept by one process-wide Prometheus
//! recorder. With metrics off no recorder is installed, and recording stops at one atomic
//! load, so the hot paths pay nothing.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use rocket::fairing::AdHoc;
use rocket::http::ContentType;
use rocket::request::{FromRequest, Outcome, Request};
use rocket::{get, routes, Route, State};
use subtle::ConstantTimeEq;

use crate::auth::client::Client;
use crate::config::Settings;
use crate::error::Error;

/// The recorder: one per process, as the `metrics` facade has one global recorder (the
/// test suite runs many servers in one process; they share it).
static RECORDER: OnceLock<PrometheusHandle> = OnceLock::new();
/// Set once the recorder is installed: until then recording is skipped outright.
static ON: AtomicBool = AtomicBool::new(false);

const REQUESTS: &str = "kanect_http_requests_total";
const REQUEST_SECONDS: &str = "kanect_http_request_duration_seconds";
const LONG_POLLS: &str = "kanect_long_polls";
const EVENTS: &str = "kanect_events_total";
const SENDS: &str = "kanect_sends_total";
const SENDS_FAILED: &str = "kanect_sends_failed_total";
const SEND_BATCH: &str = "kanect_send_batch_size";
const WRITE_SECONDS: &str = "kanect_db_write_seconds";

/// From a quick page (a millisecond) to a long poll held its whole wait.
const SECOND_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    60.0,
];
/// Sends per commit: 1 when the server is quiet, up to the queue's batch when it is busy.
const BATCH_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];

/// Installs the recorder when `metrics = true`, and keeps its histograms trimmed.
pub fn stage() -> AdHoc {
    AdHoc::on_ignite("metrics", |rocket| async move {
        let wanted = rocket.state::<Settings>().is_some_and(|s| s.metrics);
        if wanted {
            if let Some(handle) = recorder() {
                let handle = handle.clone();
                tokio::spawn(async move {
                    let mut every = tokio::time::interval(Duration::from_secs(5));
                    loop {
                        every.tick().await;
                        handle.run_upkeep();
                    }
                });
            }
        }
        rocket
    })
}

/// The process's recorder, installed on first call; `None` if another recorder is in place.
fn recorder() -> Option<&'static PrometheusHandle> {
    if let Some(handle) = RECORDER.get() {
        return Some(handle);
    }
    let built = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECOND_BUCKETS)
        .and_then(|b| b.set_buckets_for_metric(Matcher::Full(SEND_BATCH.into()), BATCH_BUCKETS))
        .and_then(|b| b.install_recorder());
    match built {
        Ok(handle) => {
            describe();
            // Series without labels exist from the start, so a scraper's rate() sees a
            // zero, not a gap, until the first send or event.
            metrics::counter!(EVENTS).increment(0);
            metrics::counter!(SENDS).increment(0);
            metrics::counter!(SENDS_FAILED).increment(0);
            metrics::gauge!(LONG_POLLS).increment(0.0);
            let handle = RECORDER.get_or_init(|| handle);
            ON.store(true, Ordering::Release);
            Some(handle)
        }
        Err(e) => {
            tracing::error!(error = %e, "metrics are on but could not be recorded");
            None
        }
    }
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(
        REQUESTS,
        "HTTP requests answered, by method, route and status."
    );
    describe_histogram!(
        REQUEST_SECONDS,
        Unit::Seconds,
        "Time to answer an HTTP request, by method and route (long polls include their wait)."
    );
    describe_gauge!(LONG_POLLS, "Long polls held open now.");
    describe_counter!(EVENTS, "Events committed to the event stream.");
    describe_counter!(SENDS, "Messages stored through the send queue.");
    describe_counter!(SENDS_FAILED, "Sends refused or failed in the send queue.");
    describe_histogram!(SEND_BATCH, "Sends stored per commit of the send queue.");
    describe_histogram!(
        WRITE_SECONDS,
        Unit::Seconds,
        "Time a write transaction held the write lock, from BEGIN to COMMIT."
    );
}

fn on() -> bool {
    ON.load(Ordering::Acquire)
}

/// An answered request. `route` is the matched route's pattern (`/api/chats/<id>`), never
/// the path itself, so the label has a bounded set of values.
pub fn request(req: &Request<'_>, status: u16, took: Duration) {
    if !on() {
        return;
    }
    let method = req.method().as_str();
    let route = match req.route() {
        Some(route) => {
            let pattern = route.uri.as_str();
            pattern
                .split_once('?')
                .map_or(pattern, |(path, _)| path)
                .to_owned()
        }
        None => "unmatched".to_owned(),
    };
    metrics::histogram!(REQUEST_SECONDS, "method" => method, "route" => route.clone())
        .record(took.as_secs_f64());
    metrics::counter!(REQUESTS, "method" => method, "route" => route, "status" => status.to_string())
        .increment(1);
}

/// A long poll started (`1`) or ended (`-1`).
pub fn long_polls(change: f64) {
    if on() {
        metrics::gauge!(LONG_POLLS).increment(change);
    }
}

/// A write transaction committed after `took`, recording `events` events.
pub fn committed(took: Duration, events: usize) {
    if !on() {
        return;
    }
    metrics::histogram!(WRITE_SECONDS).record(took.as_secs_f64());
    if events > 0 {
        metrics::counter!(EVENTS).increment(events as u64);
    }
}

/// A commit of the send queue: `tried` sends, of which `stored` were stored.
pub fn send_batch(tried: usize, stored: usize) {
    if !on() {
        return;
    }
    metrics::counter!(SENDS).increment(stored as u64);
    if tried > stored {
        metrics::counter!(SENDS_FAILED).increment((tried - stored) as u64);
    }
    metrics::histogram!(SEND_BATCH).record(stored as f64);
}

/// Whoever may read the figures: a loopback client (as the `proxy` setting decides who the
/// client is), or anyone with the configured token.
struct Scraper;

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Scraper {
    type Error = Error;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Error> {
        let token = req
            .rocket()
            .state::<Settings>()
            .and_then(|s| s.metrics_token.as_deref());
        let offered = req
            .headers()
            .get_one("Authorization")
            .and_then(|h| h.strip_prefix("Bearer "));
        let has_token = match (token, offered) {
            (Some(token), Some(offered)) => bool::from(token.as_bytes().ct_eq(offered.as_bytes())),
            _ => false,
        };
        let loopback = Client::of(req).address.is_some_and(|a| a.is_loopback());
        if has_token || loopback {
            Outcome::Success(Scraper)
        } else {
            let why = "Metrics are answered to loopback or with the metrics token.";
            Outcome::Error((rocket::http::Status::Forbidden, Error::Forbidden(why)))
        }
    }
}

/// Prometheus's text format, version 0.0.4.
#[get("/metrics")]
fn scrape(
    settings: &State<Settings>,
    scraper: Result<Scraper, Error>,
) -> Result<(ContentType, String), Error> {
    if !settings.metrics {
        return Err(Error::NotFound);
    }
    scraper?;
    let handle = RECORDER.get().ok_or(Error::NotFound)?;
    let text =
        ContentType::new("text", "plain").with_params([("version", "0.0.4"), ("charset", "utf-8")]);
    Ok((text, handle.render()))
}

pub fn routes() -> Vec<Route> {
    routes![scrape]
}
