//! `/metrics`: off unless configured; then loopback or the token only; Prometheus text that
//! a scraper parses, whose counters move with what the server does.
//!
//! The recorder is process-wide and the suite's other servers record into it once it is
//! installed, so these tests compare figures before and after, and expect at least what
//! they caused themselves.

use std::net::SocketAddr;

use kanect::config::Proxy;
use rocket::http::{Header, Status};

use crate::common::TestApp;

const LOOPBACK: &str = "127.0.0.1:40000";
const AWAY: &str = "198.51.100.20:40000";
const TOKEN: &str = "scrape-me-7c1d0b2a";

async fn with_metrics(proxy: Proxy) -> TestApp {
    TestApp::with(|config| {
        config.metrics = true;
        config.metrics_token = Some(TOKEN.to_owned());
        config.proxy = proxy;
    })
    .await
}

async fn scrape_from(app: &TestApp, from: &str, headers: &[(&str, &str)]) -> (Status, String) {
    let address: SocketAddr = from.parse().expect("an address");
    let mut request = app.client.get("/metrics").remote(address);
    for (name, value) in headers {
        request = request.header(Header::new(name.to_string(), value.to_string()));
    }
    let response = request.dispatch().await;
    let status = response.status();
    (status, response.into_string().await.unwrap_or_default())
}

/// The scrape as a scraper reads it: every sample by name and labels.
async fn scrape(app: &TestApp) -> prometheus_parse::Scrape {
    let (status, text) = scrape_from(app, LOOPBACK, &[]).await;
    assert_eq!(status, Status::Ok, "{text}");
    prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned())))
        .expect("Prometheus text format")
}

/// The sum of every sample of `name` whose labels include `labels`.
fn total(scrape: &prometheus_parse::Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    use prometheus_parse::Value;
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == name)
        .filter(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match &s.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => *v,
            Value::Histogram(buckets) => buckets.last().map_or(0.0, |b| b.count),
            Value::Summary(_) => 0.0,
        })
        .sum()
}

#[rocket::async_test]
async fn metrics_are_off_unless_configured() {
    let app = TestApp::new().await;
    let (status, _) = scrape_from(&app, LOOPBACK, &[]).await;
    assert_eq!(
        status,
        Status::NotFound,
        "no /metrics without `metrics = true`"
    );
    let (status, _) = scrape_from(&app, LOOPBACK, &[("Authorization", "Bearer x")]).await;
    assert_eq!(status, Status::NotFound);
}

#[rocket::async_test]
async fn metrics_answer_loopback_or_the_token_only() {
    let app = with_metrics(Proxy::None).await;
    // A request before the first scrape: a series exists once something has been counted.
    app.client.get("/sign-in").dispatch().await;
    let (status, text) = scrape_from(&app, LOOPBACK, &[]).await;
    assert_eq!(status, Status::Ok);
    assert!(
        text.contains("# TYPE kanect_http_requests_total counter"),
        "{text}"
    );

    let response = app
        .client
        .get("/metrics")
        .remote(LOOPBACK.parse().expect("an address"))
        .dispatch()
        .await;
    let kind = response
        .content_type()
        .map(|t| t.to_string())
        .unwrap_or_default();
    assert!(kind.starts_with("text/plain"), "{kind}");
    assert!(kind.contains("version=0.0.4"), "{kind}");

    let (status, text) = scrape_from(&app, AWAY, &[]).await;
    assert_eq!(status, Status::Forbidden, "a stranger sees nothing: {text}");
    assert!(!text.contains("kanect_"), "{text}");

    let bearer = format!("Bearer {TOKEN}");
    let (status, _) = scrape_from(&app, AWAY, &[("Authorization", &bearer)]).await;
    assert_eq!(status, Status::Ok, "the token lets a remote scraper in");

    for wrong in ["Bearer scrape-me", "Bearer ", "Basic c2NyYXBlOm1l", TOKEN] {
        let (status, _) = scrape_from(&app, AWAY, &[("Authorization", wrong)]).await;
        assert_eq!(status, Status::Forbidden, "{wrong:?}");
    }

    // Without a proxy configured, a forged header does not make a stranger local.
    let (status, _) = scrape_from(
        &app,
        AWAY,
        &[("X-Forwarded-For", "127.0.0.1"), ("X-Real-IP", "127.0.0.1")],
    )
    .await;
    assert_eq!(status, Status::Forbidden);
}

#[rocket::async_test]
async fn behind_a_proxy_the_client_it_names_decides() {
    let app = with_metrics(Proxy::XForwardedFor).await;
    // The proxy runs on the same machine: its connection is loopback, its client is not.
    let (status, _) = scrape_from(&app, LOOPBACK, &[("X-Forwarded-For", "203.0.113.5")]).await;
    assert_eq!(
        status,
        Status::Forbidden,
        "a visitor through the proxy is not local"
    );
    let (status, _) = scrape_from(&app, LOOPBACK, &[("X-Forwarded-For", "127.0.0.1")]).await;
    assert_eq!(status, Status::Ok);
}

#[rocket::async_test]
async fn the_counters_move_with_what_the_server_does() {
    let app = with_metrics(Proxy::None).await;
    let alice = app.signup("metrics_alice").await;
    app.signup("metrics_bob").await;
    let chat = alice.chat_with("metrics_bob").await;
    let before = scrape(&app).await;

    for i in 0..3 {
        alice.say(chat, &format!("counted {i}")).await;
    }
    let cursor = alice.cursor_now().await;
    alice.poll(cursor, 0).await;
    let missing = alice.get("/api/chats/999999/messages").await;
    assert_eq!(missing.status(), Status::NotFound);

    let after = scrape(&app).await;
    let moved = |name: &str, labels: &[(&str, &str)]| {
        total(&after, name, labels) - total(&before, name, labels)
    };
    let sends = [("method", "POST"), ("route", "/api/chats/<id>/messages")];
    assert!(
        moved(
            "kanect_http_requests_total",
            &[sends[0], sends[1], ("status", "201")]
        ) >= 3.0,
        "three sends counted by route and status"
    );
    assert!(moved("kanect_http_request_duration_seconds", &sends) >= 3.0);
    assert!(
        moved(
            "kanect_http_requests_total",
            &[("route", "/api/chats/<id>/messages"), ("status", "404")]
        ) >= 1.0
    );
    assert!(moved("kanect_sends_total", &[]) >= 3.0, "sends stored");
    assert!(moved("kanect_send_batch_size", &[]) >= 1.0, "send batches");
    assert!(
        moved("kanect_events_total", &[]) >= 3.0,
        "an event per message"
    );
    assert!(
        moved("kanect_db_write_seconds", &[]) >= 1.0,
        "write transactions timed"
    );
    assert!(
        moved("kanect_http_requests_total", &[("route", "/api/updates")]) >= 2.0,
        "polls"
    );
    assert!(
        total(&after, "kanect_long_polls", &[]) >= 0.0,
        "long polls held is a gauge that polls return to"
    );
    assert!(
        after.docs.contains_key("kanect_long_polls"),
        "every figure is described: {:?}",
        after.docs.keys().collect::<Vec<_>>()
    );
}

#[test]
fn a_real_server_logs_json_lines_and_is_scraped_over_http() {
    use crate::process::{self, Server};
    let folder = tempfile::tempdir().expect("a folder");
    let server = Server::start(
        &process::binary(),
        folder.path(),
        &[
            ("KANECT_DATA_DIR", "data"),
            ("KANECT_LOG_FORMAT", "json"),
            ("KANECT_METRICS", "true"),
        ],
    );
    let agent = process::agent();
    let reply = agent
        .get(&format!("{}/metrics", server.base))
        .call()
        .expect("/metrics answers loopback");
    let text = reply.into_string().unwrap_or_default();
    assert!(text.contains("kanect_http_requests_total{"), "{text}");
    assert!(
        text.contains("route=\"/healthz\""),
        "the start-up probe counted: {text}"
    );

    // The request's log line is written once its answer has gone, and read from the
    // server's stderr by another thread: wait for it rather than race it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut log = server.output();
    while !log.contains("\"path\":\"/metrics\"") && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
        log = server.output();
    }
    let lines: Vec<serde_json::Value> = log
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(
        !log.lines().any(|l| l.contains(" INFO ")),
        "no text-format line among the JSON ones:\n{log}"
    );
    assert!(
        lines
            .iter()
            .all(|l| l["level"].is_string() && l["timestamp"].is_string()),
        "{log}"
    );
    let request = lines
        .iter()
        .find(|l| l["target"] == "kanect::request" && l["path"] == "/metrics");
    let request = request.unwrap_or_else(|| panic!("a request line for /metrics:\n{log}"));
    assert_eq!(request["status"], 200, "{request}");
    assert!(request["request_id"].is_string(), "{request}");
}
