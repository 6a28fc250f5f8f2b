//! Property tests: random JSON bodies on every JSON route and random query strings on every
//! route that reads one never get a 5xx, a leak or an error outside the contract's shape.
//! Case counts stay modest so `cargo test` stays quick; raise `PROPTEST_CASES` to dig.

use crate::common;

use common::hostile::inspect;
use common::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use rocket::http::ContentType;

/// Cases per property unless PROPTEST_CASES says otherwise.
const CASES: u32 = 256;

fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(CASES);
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

/// A JSON string literal of `text`.
fn quoted(text: &str) -> String {
    serde_json::to_string(text).expect("a string serialises")
}

/// Object keys: mostly the ones the API reads, sometimes anything.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec!["body", "with", "title", "members", "archived", "notify", "up_to"])
            .prop_map(str::to_owned),
        1 => any::<String>(),
    ]
}

/// Any JSON text: numbers past every integer type and past f64, deep nesting, unicode,
/// control characters, markup and template syntax in strings.
fn json_text() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("null".to_owned()),
        any::<bool>().prop_map(|b| b.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        "-?[1-9][0-9]{18,40}",
        "-?[0-9]{1,3}\\.[0-9]{1,3}[eE][+-]?[0-9]{1,4}",
        any::<String>().prop_map(|s| quoted(&s)),
        "[\\x00-\\x1f\\x7f\u{85}\u{202e}\u{feff}\u{fffd}aZ<>\"'{}%\\\\/ ]{0,24}"
            .prop_map(|s| quoted(&s)),
        prop::sample::select(vec![
            "bob", "alice", "carol", " bob ", "BOB", "{{7*7}}", "<script>"
        ])
        .prop_map(quoted),
    ];
    leaf.prop_recursive(5, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8)
                .prop_map(|items| format!("[{}]", items.join(","))),
            prop::collection::vec((key(), inner), 0..8).prop_map(|fields| {
                let fields: Vec<String> = fields
                    .iter()
                    .map(|(k, v)| format!("{}:{v}", quoted(k)))
                    .collect();
                format!("{{{}}}", fields.join(","))
            }),
        ]
    })
}

/// A body for a JSON route: mostly an object of the API's keys, sometimes anything.
fn body() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::collection::vec((key(), json_text()), 0..5).prop_map(|fields| {
            let fields: Vec<String> =
                fields.iter().map(|(k, v)| format!("{}:{v}", quoted(k))).collect();
            format!("{{{}}}", fields.join(","))
        }),
        1 => json_text(),
    ]
}

/// A query string: names the routes read (and others), values of every kind, sometimes
/// left unencoded.
fn query() -> impl Strategy<Value = String> {
    let name = prop_oneof![
        4 => prop::sample::select(vec![
            "after", "before", "limit", "wait", "q", "o", "p", "per_page", "role", "is_active",
            "active", "kind", "status", "chat", "sender", "date", "created_at", "chat_id",
            "sender_id", "user", "action_time",
        ])
        .prop_map(str::to_owned),
        1 => "[a-z_%0-9]{0,6}",
    ];
    let value = prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        "-?[0-9]{15,30}",
        "-?(username|email|title|id|created_at|last_login|body|chat|sender)(,-?[a-z_]{1,10}){0,3}",
        "(today|past_7_days|this_month|this_year|[0-9]{1,6}-[0-9]{1,2}-[0-9]{1,2}|[a-z]{1,8})",
        any::<String>().prop_map(|s| rocket::http::RawStr::new(&s).percent_encode().to_string()),
        "[a-zA-Z0-9%+=;,/?:@._~!$'()*-]{0,16}",
    ];
    prop::collection::vec((name, value), 0..6).prop_map(|pairs| {
        let pairs: Vec<String> = pairs.iter().map(|(n, v)| format!("{n}={v}")).collect();
        pairs.join("&")
    })
}

/// A runtime for the async client inside proptest's synchronous runner.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

#[test]
fn random_json_bodies_never_get_a_5xx() {
    let rt = runtime();
    let app = rt.block_on(TestApp::with(|config| config.poll_wait_max_s = 1));
    let (alice, chat, group, message) = rt.block_on(async {
        let alice = app.signup("alice").await;
        app.signup("bob").await;
        app.signup("carol").await;
        let chat = alice.chat_with("bob").await;
        let message = alice.say(chat, "hello").await["id"].clone();
        let group = alice.group("Team", &["bob"]).await;
        (alice, chat, group, message)
    });
    let routes = [
        ("POST", "/api/chats".to_owned()),
        ("PATCH", format!("/api/chats/{chat}")),
        ("PATCH", format!("/api/chats/{group}")),
        ("POST", format!("/api/chats/{chat}/messages")),
        ("PATCH", format!("/api/chats/{chat}/messages/{message}")),
        ("POST", format!("/api/chats/{chat}/read")),
        ("POST", format!("/api/chats/{group}/members")),
        ("POST", "/api/password/strength".to_owned()),
    ];
    let mut runner = TestRunner::new(config());
    runner
        .run(&(0..routes.len(), body()), |(route, body)| {
            let (method, path) = &routes[route];
            rt.block_on(async {
                let what = format!("alice {method} {path} {body:.200}");
                let response = alice
                    .send_raw(method, path, ContentType::JSON, body.as_bytes())
                    .await;
                let seen = inspect(&what, response).await;
                if seen.status.code >= 400 {
                    let code = seen
                        .json
                        .as_ref()
                        .and_then(|j| j["error"]["code"].as_str())
                        .unwrap_or_default();
                    prop_assert!(
                        ["bad_request", "invalid", "not_found", "forbidden"].contains(&code),
                        "{what}: {} {code}",
                        seen.status
                    );
                }
                Ok::<(), TestCaseError>(())
            })
        })
        .expect("no random body gets a 5xx");
}

#[test]
fn random_query_strings_never_get_a_5xx() {
    let rt = runtime();
    // A long poll holds at most a second here, so the random `wait`s stay cheap.
    let app = rt.block_on(TestApp::with(|config| config.poll_wait_max_s = 1));
    let (root, chat) = rt.block_on(async {
        let root = app.admin("root", "superuser").await;
        app.signup("bob").await;
        let chat = root.chat_with("bob").await;
        for n in 0..3 {
            root.say(chat, &format!("message {n}")).await;
        }
        root.post_form("/admin/chats/1/change/", &[("status", "open")])
            .await;
        (root, chat)
    });
    let paths = [
        "/api/updates".to_owned(),
        format!("/api/chats/{chat}/messages"),
        "/api/search".to_owned(),
        "/admin/users/".to_owned(),
        "/admin/chats/".to_owned(),
        "/admin/messages/".to_owned(),
        "/admin/log/".to_owned(),
    ];
    let mut runner = TestRunner::new(config());
    runner
        .run(&(0..paths.len(), query()), |(path, query)| {
            let mut uri = format!("{}?{query}", paths[path]);
            if path == 0 {
                // Keep long polls from waiting: there is always news after message 0.
                uri.push_str("&after=0");
            }
            if rocket::http::uri::Origin::parse(&uri).is_err() {
                // Not a URI at all: the HTTP layer refuses it before Kanect sees it.
                return Ok(());
            }
            rt.block_on(async {
                let what = format!("root GET {uri}");
                let seen = inspect(&what, root.get(&uri).await).await;
                // Search also refuses a `q` with no words (422) and a chat not the
                // caller's (404).
                let allowed: &[u16] = if path == 2 {
                    &[200, 400, 404, 422]
                } else {
                    &[200, 400]
                };
                prop_assert!(
                    allowed.contains(&seen.status.code),
                    "{what}: {}",
                    seen.status
                );
                Ok::<(), TestCaseError>(())
            })
        })
        .expect("no random query gets a 5xx");
}
