//! Lighthouse (npm, pinned in package-lock.json) audits the chat home as a signed-in
//! member sees it, with Debian's Chromium: accessibility scores at least 95. `npm ci`
//! installs it; where node_modules/lighthouse is missing the audit skips with one line
//! saying so, unless KANECT_REQUIRE_BROWSER=1.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use super::driver;
use super::web::{group, say, Kanect};

/// The lowest accessibility score (0 to 1) the chat home may have.
const ACCESSIBILITY: f64 = 0.95;

fn lighthouse() -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("node_modules/.bin/lighthouse");
    let found = if path.is_file() {
        Ok(path)
    } else {
        Err(format!("{} is missing: run `npm ci`", path.display()))
    };
    crate::optional::or_skip(found, "the Lighthouse audit", "KANECT_REQUIRE_BROWSER")
}

#[tokio::test]
async fn the_chat_home_scores_at_least_95_for_accessibility() {
    let Some(app) = Kanect::start() else { return };
    let Some(lighthouse) = lighthouse() else {
        return;
    };
    let Ok(tools) = driver::tools() else { return };
    let mut alice = app.member("alice");
    let mut bob = app.member("bob");
    app.member("carol");
    let crew = group(&mut bob, "Launch crew", &["alice", "carol"]);
    say(&mut bob, crew, "Morning! The release notes are in the doc.");
    say(&mut alice, crew, "Thanks, reading them now.");

    // Lighthouse starts a Chromium of its own; the member's session rides on a header.
    let cookie: Vec<String> = alice
        .cookies
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    let headers = serde_json::json!({ "Cookie": cookie.join("; ") }).to_string();
    let out = tempfile::tempdir().expect("a folder");
    let report = out.path().join("report.json");
    let ran = Command::new(&lighthouse)
        .arg(format!("{}/", app.server.base))
        .arg("--only-categories=accessibility")
        .arg(format!("--extra-headers={headers}"))
        .arg(format!(
            "--chrome-flags={}",
            driver::CHROMIUM_FLAGS.join(" ")
        ))
        .arg("--output=json")
        .arg(format!("--output-path={}", report.display()))
        .arg("--quiet")
        .env("CHROME_PATH", &tools.chromium)
        .output()
        .expect("run lighthouse");
    assert!(
        ran.status.success(),
        "lighthouse: {}",
        String::from_utf8_lossy(&ran.stderr)
    );
    let text = std::fs::read_to_string(&report).expect("the report");
    let report: Value = serde_json::from_str(&text).expect("JSON");
    let shown = report["finalDisplayedUrl"].as_str().unwrap_or_default();
    assert!(
        shown.trim_end_matches('/') == app.server.base,
        "audited {shown}: the session did not hold"
    );
    let score = report["categories"]["accessibility"]["score"]
        .as_f64()
        .unwrap_or(0.0);
    let failed: Vec<String> = report["audits"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, a)| a["scoreDisplayMode"] == "binary" && a["score"].as_f64() < Some(1.0))
        .map(|(id, a)| format!("{id}: {}", a["title"]))
        .collect();
    eprintln!("lighthouse accessibility of the chat home: {score}");
    assert!(score >= ACCESSIBILITY, "{score}: {failed:#?}");
}
