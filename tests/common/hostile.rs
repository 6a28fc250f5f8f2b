//! What every answer to a hostile request must hold, and the attacker's toolbox: injection
//! strings, odd ids and a fingerprint of the database to prove that nothing changed.

use rocket::http::{ContentType, Status};
use rocket::local::asynchronous::LocalResponse;
use serde_json::Value;

use super::TestApp;

/// Text that would mean an internal detail reached a response.
pub const LEAKS: &[&str] = &[
    "panicked",
    "stack backtrace",
    "RUST_BACKTRACE",
    "sqlx",
    "SQLITE",
    "sqlite3",
    "no such table",
    "/work/",
    "src/",
    ".rs:",
    "$argon2id$v=",
];

/// SQL injection, template injection and XSS, as they would be typed into a text field.
pub const INJECTIONS: &[&str] = &[
    "' OR '1'='1",
    "'; DROP TABLE users; --",
    "\" OR \"\"=\"",
    "1 UNION SELECT password_hash FROM users --",
    "%' AND 1=1 --",
    "\\'; --",
    "{{7*7}}",
    "{% raw %}",
    "{{ config }}{% for x in [1] %}{{x}}{% endfor %}",
    "{# comment",
    "<script>alert(1)</script>",
    "\"><img src=x onerror=alert(1)>",
    "'><svg onload=alert(1)>",
    "javascript:alert(1)",
];

/// Ids that name nothing: zero, negative, past i64, not numbers, injections.
pub const ODD_IDS: &[&str] = &[
    "0",
    "-1",
    "-9223372036854775808",
    "9223372036854775807",
    "99999999999999999999",
    "abc",
    "1.5",
    "1e3",
    "0x10",
    "%20",
    "1%00",
    "%27%20OR%201=1",
    "%7B%7B7*7%7D%7D",
    "%3Cscript%3E",
];

/// What a response showed, after the checks every response must pass.
pub struct Seen {
    pub status: Status,
    pub content_type: Option<ContentType>,
    pub body: String,
    pub json: Option<Value>,
}

/// Checks what every answer must hold, whatever was sent: no 5xx, the CSP header (errors
/// included), no internal detail in the body, and under /api (or for JSON answers) errors
/// in the contract's shape.
pub async fn inspect(what: &str, response: LocalResponse<'_>) -> Seen {
    let status = response.status();
    assert!(status.code < 500, "{what}: answered {status}");
    let csp = response
        .headers()
        .get_one("Content-Security-Policy")
        .unwrap_or_default()
        .to_owned();
    assert!(
        csp.contains("default-src 'self'"),
        "{what}: Content-Security-Policy header missing ({status})"
    );
    let content_type = response.content_type();
    let body = response.into_string().await.unwrap_or_default();
    for leak in LEAKS {
        assert!(
            !body.contains(leak),
            "{what}: the answer ({status}) shows {leak:?}: {body:.400}"
        );
    }
    let json = if content_type.as_ref().is_some_and(|c| c.is_json()) {
        Some(serde_json::from_str::<Value>(&body).unwrap_or_else(|e| {
            panic!("{what}: JSON answer that does not parse ({e}): {body:.200}")
        }))
    } else {
        None
    };
    let api = what.contains(" /api/") || what.contains(" /healthz");
    if status.code >= 400 && api {
        let error = json
            .as_ref()
            .unwrap_or_else(|| panic!("{what}: error {status} is not JSON: {body:.200}"));
        assert!(
            error["error"]["code"].is_string() && error["error"]["message"].is_string(),
            "{what}: error shape {error}"
        );
    }
    Seen {
        status,
        content_type,
        body,
        json,
    }
}

impl Seen {
    /// Asserts the status.
    pub fn expect(self, what: &str, status: Status) -> Seen {
        assert_eq!(self.status, status, "{what}: {:.300}", self.body);
        self
    }

    /// The JSON error's `code` (and `field`), checking the status.
    pub fn error(&self, what: &str, status: Status) -> (String, Option<String>) {
        assert_eq!(self.status, status, "{what}: {:.300}", self.body);
        let json = self
            .json
            .as_ref()
            .unwrap_or_else(|| panic!("{what}: not JSON: {:.200}", self.body));
        (
            json["error"]["code"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            json["error"]["field"].as_str().map(str::to_owned),
        )
    }

    /// Asserts that `typed` shows up only escaped: never as markup, always as text.
    pub fn shows_escaped(&self, what: &str, typed: &str) {
        assert_never_raw(what, &self.body, typed);
        assert!(
            super::unescape(&self.body).contains(typed),
            "{what}: {typed:?} is not shown as text"
        );
    }
}

/// `html` never holds the markup of `typed` raw (a tag or an attribute-breaking quote).
pub fn assert_never_raw(what: &str, html: &str, typed: &str) {
    if typed.contains(['<', '>', '"', '\'']) {
        assert!(!html.contains(typed), "{what}: {typed:?} is not escaped");
    }
}

/// Sums over every table that a forged or refused request could change: equal before
/// and after means nothing changed.
pub async fn fingerprint(app: &TestApp) -> Vec<i64> {
    let mut seen = Vec::new();
    for sql in [
        "SELECT count(*) FROM users",
        "SELECT count(*) FROM users WHERE is_active",
        "SELECT count(*) FROM users WHERE role != 'member'",
        "SELECT count(DISTINCT password_hash) FROM users",
        "SELECT coalesce(sum(length(username) + length(email)), 0) FROM users",
        "SELECT count(*) FROM chats",
        "SELECT count(*) FROM chats WHERE status = 'closed'",
        "SELECT coalesce(sum(length(title)), 0) FROM chats",
        "SELECT count(*) FROM chat_members",
        "SELECT count(*) FROM chat_members WHERE archived",
        "SELECT CAST(coalesce(sum(last_read_message_id), 0) AS BIGINT) FROM chat_members",
        "SELECT count(*) FROM messages",
        "SELECT coalesce(sum(length(body)), 0) FROM messages",
        "SELECT count(*) FROM messages WHERE edited_at IS NOT NULL OR deleted_at IS NOT NULL",
        "SELECT count(*) FROM sessions",
        "SELECT count(*) FROM admin_log",
        "SELECT coalesce(sum(length(coalesce(display_name, '')) + length(preferences)), 0) FROM users",
        "SELECT count(*) FROM avatars",
        "SELECT count(*) FROM invites",
        "SELECT count(*) FROM invites WHERE revoked = FALSE",
        "SELECT count(*) FROM push_subscriptions",
    ] {
        seen.push(app.count(sql).await);
    }
    seen
}
