//! Lean loading in a real browser: what a cold load of the chat home transfers, and that
//! a repeat visit (a navigation, then a reload) asks the server for no asset at all.

use fantoccini::cookies::Cookie;

use super::web::{Kanect, Window, DESKTOP};

/// The `/assets/` requests the server has logged so far (one log line per request).
fn asset_requests(app: &Kanect) -> Vec<String> {
    app.server
        .output()
        .lines()
        .filter(|line| line.contains(" path=/assets/") && line.contains(" status="))
        .map(str::to_owned)
        .collect()
}

/// Bytes this document and its assets took off the network (headers included; 0 for what
/// came from the cache), and the assets it used.
async fn transferred(window: &Window) -> (u64, Vec<(String, u64)>) {
    let entries = window
        .js(
            "return [performance.getEntriesByType('navigation')[0].transferSize,
                     performance.getEntriesByType('resource')
                       .filter(e => new URL(e.name).pathname.startsWith('/assets/'))
                       .map(e => [new URL(e.name).pathname, e.transferSize])]",
            vec![],
        )
        .await;
    let document = entries[0].as_u64().unwrap_or_default();
    let assets = entries[1]
        .as_array()
        .map(|all| {
            all.iter()
                .map(|e| {
                    let path = e[0].as_str().unwrap_or_default().to_owned();
                    (path, e[1].as_u64().unwrap_or_default())
                })
                .collect()
        })
        .unwrap_or_default();
    (document, assets)
}

#[tokio::test]
async fn a_repeat_visit_to_the_chat_home_asks_the_server_for_no_asset() {
    let Some(app) = Kanect::start_with(&[("KANECT_LOG_LEVEL", "info")]) else {
        return;
    };
    let alice = app.member("alice");
    let window = app.window(DESKTOP).await;
    // Signed in by cookie, so the chat home is the first page this browser loads.
    window.goto("/healthz").await;
    for (name, value) in &alice.cookies {
        let mut cookie = Cookie::new(name.clone(), value.clone());
        cookie.set_path("/");
        cookie.set_domain("127.0.0.1");
        // fantoccini sends SameSite=None for an unset one, which Chromium refuses
        // without Secure: Lax, as the server sets it.
        cookie.set_same_site(rocket::http::SameSite::Lax);
        cookie.set_http_only(true);
        window.add_cookie(cookie).await.expect("a cookie");
    }
    let before = asset_requests(&app).len();
    window.goto("/").await;
    window.wait_chat_ready().await;
    let (document, assets) = transferred(&window).await;
    let cold_requests = asset_requests(&app).len() - before;
    assert!(
        assets
            .iter()
            .any(|(path, _)| path.starts_with("/assets/dist/chat.")),
        "the chat bundle loaded: {assets:?}"
    );
    assert!(cold_requests >= 2, "the cold load fetched its assets");
    let cold: u64 = document + assets.iter().map(|(_, bytes)| bytes).sum::<u64>();

    let mut warm_figures = Vec::new();
    for how in ["navigation", "reload"] {
        let before = asset_requests(&app).len();
        if how == "reload" {
            window.refresh().await.expect("a reload");
        } else {
            window.goto("/").await;
        }
        window.wait_chat_ready().await;
        let (document, assets) = transferred(&window).await;
        assert!(!assets.is_empty(), "{how}: the page used its assets");
        for (path, bytes) in &assets {
            assert_eq!(*bytes, 0, "{how}: {path} came from the network");
        }
        let asked: Vec<String> = asset_requests(&app).split_off(before);
        assert!(
            asked.is_empty(),
            "{how}: the server was asked for {asked:#?}"
        );
        warm_figures.push(format!(
            "{how}: {document} bytes (the document only, 0 asset requests)"
        ));
    }
    eprintln!(
        "chat home in Chromium: cold {cold} bytes ({document} document, {} assets in \
         {cold_requests} requests: {assets:?}); warm {}",
        cold - document,
        warm_figures.join("; ")
    );
    // /healthz, where the cookie was set, is JSON: no icon link, so Chromium tried
    // /favicon.ico there. Every page of the app names its icon.
    let problems = window.console_problems(&["/favicon.ico - "]);
    assert!(problems.is_empty(), "the browser reported {problems:#?}");
}
