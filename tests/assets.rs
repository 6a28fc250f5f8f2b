//! Lean loading: what a page costs to load. Assets under hashed names, kept a year;
//! brotli or gzip as the browser asks; plain names revalidate as before.

use crate::common;

use std::io::Read;

use common::{header, TestApp};
use rocket::http::{Header, Status};
use rocket::local::asynchronous::LocalResponse;

/// What a current browser sends.
const BROWSER: &str = "gzip, deflate, br, zstd";

/// The `/assets/...` URLs a page names in `src` and `href`, each once.
fn assets_named(html: &str) -> Vec<String> {
    let mut urls = Vec::new();
    for attr in ["src=\"", "href=\""] {
        for (at, _) in html.match_indices(attr) {
            let value = &html[at + attr.len()..];
            let value = &value[..value.find('"').unwrap_or(0)];
            if value.starts_with("/assets/") && !urls.iter().any(|u| u == value) {
                urls.push(value.to_owned());
            }
        }
    }
    urls
}

async fn get<'a>(app: &'a TestApp, path: &str, accept: &str) -> LocalResponse<'a> {
    app.client
        .get(path.to_owned())
        .header(Header::new("Accept-Encoding", accept.to_owned()))
        .dispatch()
        .await
}

fn decode(coding: Option<&str>, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match coding {
        Some("br") => {
            brotli::Decompressor::new(body, 4096)
                .read_to_end(&mut out)
                .expect("valid brotli");
        }
        Some("gzip") => {
            flate2::read::GzDecoder::new(body)
                .read_to_end(&mut out)
                .expect("valid gzip");
        }
        None => out = body.to_vec(),
        Some(other) => panic!("unexpected coding {other}"),
    }
    out
}

#[rocket::async_test]
async fn a_cold_load_of_the_chat_home_ships_under_60_kb() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let page = alice
        .request(app.client.get("/"))
        .header(Header::new("Accept-Encoding", "br, gzip"))
        .dispatch()
        .await;
    assert_eq!(page.status(), Status::Ok);
    let page_coding = header(&page, "Content-Encoding");
    let html = page.into_bytes().await.expect("the page");
    let text = String::from_utf8_lossy(&decode(page_coding.as_deref(), &html)).into_owned();
    let urls = assets_named(&text);
    assert!(
        urls.iter().any(|u| u.ends_with(".css")) && urls.iter().any(|u| u.ends_with(".js")),
        "the page names its style sheet and script: {urls:?}"
    );
    let mut total = html.len();
    let mut lines = vec![format!(
        "  {:>6} B  / (HTML, {})",
        html.len(),
        page_coding.as_deref().unwrap_or("identity")
    )];
    for url in &urls {
        let response = get(&app, url, "br, gzip").await;
        assert_eq!(response.status(), Status::Ok, "{url}");
        let coding = header(&response, "Content-Encoding");
        let body = response.into_bytes().await.expect("a body");
        lines.push(format!(
            "  {:>6} B  {url} ({})",
            body.len(),
            coding.as_deref().unwrap_or("identity")
        ));
        total += body.len();
    }
    eprintln!(
        "cold load of the chat home: {total} bytes\n{}",
        lines.join("\n")
    );
    assert!(total < 60_000, "a cold load ships {total} bytes");
}

#[rocket::async_test]
async fn every_asset_a_page_names_is_hashed_kept_a_year_and_compressed() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let home = alice.get("/").await.into_string().await.unwrap_or_default();
    let login = app.client.get("/login").dispatch().await;
    let login = login.into_string().await.unwrap_or_default();
    for url in assets_named(&home).into_iter().chain(assets_named(&login)) {
        let response = get(&app, &url, BROWSER).await;
        assert_eq!(response.status(), Status::Ok, "{url}");
        assert_eq!(
            header(&response, "Cache-Control").as_deref(),
            Some("public, max-age=31536000, immutable"),
            "{url}"
        );
        assert_eq!(
            header(&response, "Vary").as_deref(),
            Some("Accept-Encoding"),
            "{url}"
        );
        assert_eq!(
            header(&response, "Content-Encoding").as_deref(),
            Some("br"),
            "{url}"
        );
        let compressed = response.into_bytes().await.expect("a body");

        let plain = get(&app, &url, "identity").await;
        assert_eq!(header(&plain, "Content-Encoding"), None, "{url}");
        let plain = plain.into_bytes().await.expect("a body");
        assert_eq!(decode(Some("br"), &compressed), plain, "{url}: same file");
        assert!(compressed.len() < plain.len(), "{url}: smaller");
    }
}

#[rocket::async_test]
async fn the_coding_follows_accept_encoding_and_its_q_values() {
    let app = TestApp::new().await;
    let page = app.client.get("/login").dispatch().await;
    let page = page.into_string().await.unwrap_or_default();
    let css = assets_named(&page)
        .into_iter()
        .find(|u| u.ends_with(".css"))
        .expect("a style sheet");
    let plain = get(&app, &css, "")
        .await
        .into_bytes()
        .await
        .expect("a body");
    for (accept, coding) in [
        ("br, gzip", Some("br")),
        ("gzip", Some("gzip")),
        ("br;q=0.5, gzip;q=0.8", Some("gzip")),
        ("br;q=0, gzip;q=0", None),
        ("identity", None),
        ("*", Some("br")),
        ("", None),
    ] {
        let response = get(&app, &css, accept).await;
        assert_eq!(
            header(&response, "Content-Encoding").as_deref(),
            coding,
            "Accept-Encoding: {accept}"
        );
        let etag = header(&response, "ETag").expect("an ETag");
        let body = response.into_bytes().await.expect("a body");
        assert_eq!(decode(coding, &body), plain, "Accept-Encoding: {accept}");

        // Each coding revalidates against its own tag.
        let again = app
            .client
            .get(css.clone())
            .header(Header::new("Accept-Encoding", accept.to_owned()))
            .header(Header::new("If-None-Match", etag.clone()))
            .dispatch()
            .await;
        assert_eq!(again.status(), Status::NotModified, "{accept}: {etag}");
    }
}

#[rocket::async_test]
async fn plain_and_outdated_names_get_the_current_file_without_being_kept() {
    let app = TestApp::new().await;
    let page = app.client.get("/login").dispatch().await;
    let page = page.into_string().await.unwrap_or_default();
    let css = assets_named(&page)
        .into_iter()
        .find(|u| u.ends_with(".css"))
        .expect("a style sheet");
    let current = get(&app, &css, "")
        .await
        .into_bytes()
        .await
        .expect("a body");
    // A page rendered before an upgrade names the old hash: it still gets a style sheet,
    // but one no cache keeps under that name.
    for path in ["/assets/css/app.css", "/assets/css/app.0123456789ab.css"] {
        let response = get(&app, path, BROWSER).await;
        assert_eq!(response.status(), Status::Ok, "{path}");
        assert_eq!(
            header(&response, "Cache-Control").as_deref(),
            Some("no-cache"),
            "{path}"
        );
        assert!(header(&response, "ETag").is_some(), "{path}");
        let body = response.into_bytes().await.expect("a body");
        assert_eq!(decode(Some("br"), &body), current, "{path}");
    }
    for path in [
        "/assets/css/nothing.0123456789ab.css",
        "/assets/css/input.0123456789ab.css",
        "/assets/dist/chat.0123456789ab.css",
    ] {
        let response = get(&app, path, BROWSER).await;
        assert_eq!(response.status(), Status::NotFound, "{path}");
    }
}

#[rocket::async_test]
async fn the_chat_home_is_compressed_with_a_csrf_token_masked_afresh_each_time() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    app.signup("bob").await;
    let mut tokens = Vec::new();
    for _ in 0..2 {
        let page = alice
            .request(app.client.get("/"))
            .header(Header::new("Accept-Encoding", BROWSER))
            .dispatch()
            .await;
        assert_eq!(header(&page, "Content-Encoding").as_deref(), Some("br"));
        assert_eq!(header(&page, "Vary").as_deref(), Some("Accept-Encoding"));
        let html = decode(Some("br"), &page.into_bytes().await.expect("a body"));
        let html = String::from_utf8(html).expect("HTML");
        tokens.push(common::csrf_in(&html).expect("the page's token"));
    }
    assert_ne!(tokens[0], tokens[1], "no two pages carry the same bytes");
    for token in &tokens {
        let made = alice
            .send_token(
                "POST",
                "/api/chats",
                Some(token),
                serde_json::json!({ "with": "bob" }),
            )
            .await;
        assert!(made.status().class().is_success(), "{token} is accepted");
    }
    // One character changed in the middle: the token no longer unmasks to the secret.
    let mut forged = tokens[0].clone().into_bytes();
    forged[40] = if forged[40] == b'A' { b'B' } else { b'A' };
    let forged = alice
        .send_token(
            "POST",
            "/api/chats",
            Some(&String::from_utf8_lossy(&forged)),
            serde_json::json!({ "with": "bob" }),
        )
        .await;
    assert_eq!(forged.status(), Status::Forbidden);

    // A browser that asks for no coding gets the page as it is.
    let plain = alice.request(app.client.get("/")).dispatch().await;
    assert_eq!(header(&plain, "Content-Encoding"), None);
    assert!(plain
        .into_string()
        .await
        .unwrap_or_default()
        .contains("csrf-token"));
}

#[rocket::async_test]
async fn pages_that_may_hold_secrets_are_never_compressed() {
    let app = TestApp::new().await;
    let root = app.admin("root", "superuser").await;
    for path in ["/admin/", "/admin/users/", "/account"] {
        let page = root
            .request(app.client.get(path))
            .header(Header::new("Accept-Encoding", BROWSER))
            .dispatch()
            .await;
        assert_eq!(page.status(), Status::Ok, "{path}");
        assert_eq!(header(&page, "Content-Encoding"), None, "{path}");
    }
}
