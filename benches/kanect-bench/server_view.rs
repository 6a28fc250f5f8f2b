//! The server's own view of a part, from `/metrics` before and after it: what it stored,
//! how many sends each commit carried and how long writes held the lock. Beside the
//! client's figures, it tells a slow client from a slow server.

use std::net::SocketAddr;

use serde_json::{json, Value};

use crate::client::{Conn, Result};

/// One scrape of `/metrics` (the bench connects from loopback, which may read it).
pub struct Scrape(prometheus_parse::Scrape);

pub async fn scrape(addr: SocketAddr) -> Result<Scrape> {
    let mut conn = Conn::open(addr).await?;
    let (status, body) = conn.get("/metrics", None).await?;
    if !status.is_success() {
        return Err(format!("GET /metrics answered {status}").into());
    }
    let text = String::from_utf8_lossy(&body);
    let parsed = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned())))?;
    Ok(Scrape(parsed))
}

impl Scrape {
    /// The sum of every sample named `name` (counters, and a histogram's `_sum`/`_count`).
    fn total(&self, name: &str) -> f64 {
        use prometheus_parse::Value;
        self.0
            .samples
            .iter()
            .filter(|s| s.metric == name)
            .map(|s| match s.value {
                Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => v,
                _ => 0.0,
            })
            .sum()
    }
}

/// What the server did between two scrapes.
pub struct ServerView {
    pub sends: f64,
    pub mean_batch: f64,
    pub writes: f64,
    pub mean_write_ms: f64,
    pub requests: f64,
}

pub fn between(before: &Scrape, after: &Scrape) -> ServerView {
    let moved = |name: &str| after.total(name) - before.total(name);
    let per = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
    let sends = moved("kanect_sends_total");
    let batches = moved("kanect_send_batch_size_count");
    let writes = moved("kanect_db_write_seconds_count");
    ServerView {
        sends,
        mean_batch: per(moved("kanect_send_batch_size_sum"), batches),
        writes,
        mean_write_ms: per(moved("kanect_db_write_seconds_sum"), writes) * 1e3,
        requests: moved("kanect_http_requests_total"),
    }
}

impl ServerView {
    pub fn json(&self) -> Value {
        let round = |x: f64| (x * 100.0).round() / 100.0;
        json!({
            "stored": self.sends,
            "sends_per_commit": round(self.mean_batch),
            "write_transactions": self.writes,
            "ms_per_write": round(self.mean_write_ms),
            "requests": self.requests,
        })
    }
}
