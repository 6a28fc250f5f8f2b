//! Installable: on the chat home, Chromium itself finds nothing that stops an install
//! (`Page.getInstallabilityErrors`: the manifest with its icons, the service worker that
//! controls the page), and an installed Kanect opened while the server is away shows the
//! kept app shell saying "Reconnecting…".

use serde_json::{json, Value};

use super::web::{Kanect, DESKTOP};

#[tokio::test]
async fn the_chat_home_is_installable_and_opens_reconnecting_while_the_server_is_away() {
    let Some(mut app) = Kanect::start() else {
        return;
    };
    app.member("alice");
    let alice = app.signed_in("alice", DESKTOP).await;
    alice.wait_chat_ready().await;
    alice
        .wait_js(
            "the service worker to control the page",
            "return !!navigator.serviceWorker.controller",
            vec![],
        )
        .await;

    let found = alice.cdp("Page.getInstallabilityErrors", json!({}));
    let errors = found["installabilityErrors"].as_array().cloned();
    assert_eq!(errors, Some(Vec::<Value>::new()), "installability: {found}");
    let manifest = alice
        .js(
            "return fetch('/manifest.webmanifest') \
               .then(async (r) => [r.headers.get('content-type'), await r.json()])",
            vec![],
        )
        .await;
    assert_eq!(manifest[0], "application/manifest+json");
    assert_eq!(manifest[1]["display"], "standalone");
    assert_eq!(manifest[1]["start_url"], "/");

    // A page load through the worker keeps the shell; then the server goes away.
    alice.goto("/").await;
    alice.wait_chat_ready().await;
    alice.assert_console_clean();
    app.stop_server();
    alice.goto("/").await;
    alice.wait_visible("#conn-status").await;
    assert!(
        alice.text("#conn-status").await.contains("Reconnecting"),
        "the kept shell says it is reconnecting"
    );
    let problems = alice.console_problems(&["net::ERR_", "Failed to load resource"]);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
