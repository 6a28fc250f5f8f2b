//! axe-core (npm, pinned in package-lock.json) run inside the page: the rules of WCAG 2.x
//! A/AA and axe's best practices. `npm ci` installs it; where node_modules/axe-core is
//! missing the checks skip with one line saying so, unless KANECT_REQUIRE_BROWSER=1.

use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::{json, Value};

use super::web::Window;

const TAGS: &[&str] = &[
    "wcag2a",
    "wcag2aa",
    "wcag21a",
    "wcag21aa",
    "wcag22aa",
    "best-practice",
];

/// The impacts a page may not have: what blocks or seriously hinders someone.
const BLOCKING: &[&str] = &["critical", "serious"];

/// axe.min.js, read once; `None` (after one line on stderr) where it is not installed.
pub fn source() -> Option<&'static str> {
    static SOURCE: OnceLock<Result<String, String>> = OnceLock::new();
    let found = SOURCE.get_or_init(|| {
        let path =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("node_modules/axe-core/axe.min.js");
        std::fs::read_to_string(&path)
            .map_err(|e| format!("{} is missing ({e}): run `npm ci`", path.display()))
    });
    crate::optional::or_skip(
        found.as_ref().map(String::as_str).map_err(Clone::clone),
        "the axe checks (tests/browser/a11y.rs)",
        "KANECT_REQUIRE_BROWSER",
    )
}

/// One rule a page breaks: its id, impact, help text and the elements (CSS paths).
#[derive(Debug)]
pub struct Violation {
    pub id: String,
    pub impact: String,
    pub help: String,
    pub nodes: Vec<String>,
}

/// Runs axe on the page shown in `window` (injecting it first if the page has none).
pub async fn violations(window: &Window, source: &str) -> Vec<Violation> {
    let injected = window
        .js("return typeof window.axe === 'object'", vec![])
        .await;
    if injected != json!(true) {
        window
            .js(&format!("{source}\nreturn typeof window.axe"), vec![])
            .await;
    }
    let script = "return window.axe.run(document, { runOnly: { type: 'tag', values: arguments[0] }, \
                  resultTypes: ['violations'] }).then((r) => r.violations.map((v) => ({ \
                  id: v.id, impact: v.impact || 'minor', help: v.help, \
                  nodes: v.nodes.map((n) => `${n.target.join(' ')}: ${(n.any[0] || n.all[0] || n.none[0] || {}).message || ''}`) })))";
    let found = window.js(script, vec![json!(TAGS)]).await;
    found
        .as_array()
        .map(|all| all.iter().map(violation).collect())
        .unwrap_or_default()
}

fn violation(v: &Value) -> Violation {
    let text = |key: &str| v[key].as_str().unwrap_or_default().to_owned();
    Violation {
        id: text("id"),
        impact: text("impact"),
        help: text("help"),
        nodes: v["nodes"]
            .as_array()
            .map(|n| {
                n.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// "critical 0, serious 2 (list 51, color-contrast 10), moderate 0, minor 0".
pub fn summary(found: &[Violation]) -> String {
    ["critical", "serious", "moderate", "minor"]
        .iter()
        .map(|impact| {
            let rules: Vec<String> = found
                .iter()
                .filter(|v| v.impact == *impact)
                .map(|v| format!("{} {}", v.id, v.nodes.len()))
                .collect();
            if rules.is_empty() {
                format!("{impact} 0")
            } else {
                format!("{impact} {} ({})", rules.len(), rules.join(", "))
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Runs axe on `page` and fails on any critical or serious violation, listing each with
/// the elements it was found on.
pub async fn assert_clean(window: &Window, source: &str, page: &str) {
    let found = violations(window, source).await;
    // Shown with --nocapture: the figures for every page, passing or not.
    println!("axe on {page}: {}", summary(&found));
    let blocking: Vec<String> = found
        .iter()
        .filter(|v| BLOCKING.contains(&v.impact.as_str()))
        .map(|v| {
            let mut nodes: Vec<String> =
                v.nodes.iter().take(8).map(|n| format!("    {n}")).collect();
            if v.nodes.len() > 8 {
                nodes.push(format!("    … and {} more", v.nodes.len() - 8));
            }
            format!(
                "  {} {} ({} nodes): {}\n{}",
                v.impact,
                v.id,
                v.nodes.len(),
                v.help,
                nodes.join("\n")
            )
        })
        .collect();
    assert!(
        blocking.is_empty(),
        "axe found serious or critical violations on {page} ({}):\n{}",
        window.path().await,
        blocking.join("\n")
    );
}
