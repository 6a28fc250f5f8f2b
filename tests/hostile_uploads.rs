//! Uploads under attack: names that are paths or markup, files that lie about their type,
//! sizes at and past the limit, decompression bombs, other people's chats, odd ids and
//! missing CSRF tokens. Every answer passes `inspect` (no 5xx, no internal detail, the
//! JSON error shape), and what is refused stores nothing.

use crate::common;

use common::hostile::*;
use common::images::{gif_claiming, jpeg, noise, png, png_claiming};
use common::*;
use rocket::http::{Header, Status};
use serde_json::Value;

async fn stored(app: &TestApp) -> (i64, i64) {
    (
        app.count("SELECT COUNT(*) FROM files").await,
        app.count("SELECT COUNT(*) FROM file_chunks").await,
    )
}

#[rocket::async_test]
async fn uploads_to_chats_one_is_not_in_or_that_do_not_exist_look_alike_and_store_nothing() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let carol = app.signup("carol").await;
    let direct = alice.chat_with("bob").await;
    let group = alice.group("Team", &["bob"]).await;
    for chat in [direct, group] {
        let what = format!("carol POST /api/chats/{chat}/attachments");
        let theirs = inspect(&what, carol.upload(chat, "x.txt", b"x").await)
            .await
            .error(&what, Status::NotFound);
        let what = "carol POST /api/chats/999999/attachments";
        let missing = inspect(what, carol.upload(999_999, "x.txt", b"x").await)
            .await
            .error(what, Status::NotFound);
        assert_eq!(theirs, missing, "a chat of others looks like no chat");
    }
    for id in ODD_IDS {
        let (content_type, body) = multipart("x.txt", b"x");
        let what = format!("alice POST /api/chats/{id}/attachments");
        let response = alice
            .send_raw(
                "POST",
                &format!("/api/chats/{id}/attachments"),
                content_type,
                body,
            )
            .await;
        let seen = inspect(&what, response).await;
        assert!(
            matches!(seen.status.code, 400 | 404),
            "{what}: {}",
            seen.status
        );
    }
    // No token, a wrong token, another person's token.
    for token in [None, Some("forged"), Some(bob.csrf.as_str())] {
        let (content_type, body) = multipart("x.txt", b"x");
        let mut request = alice
            .request(app.client.post(format!("/api/chats/{direct}/attachments")))
            .header(content_type)
            .body(body);
        if let Some(token) = token {
            request = request.header(Header::new("X-CSRF-Token", token.to_owned()));
        }
        let what = format!("alice POST attachments with token {token:?}");
        inspect(&what, request.dispatch().await)
            .await
            .error(&what, Status::Forbidden);
    }
    assert_eq!(stored(&app).await, (0, 0));
}

#[rocket::async_test]
async fn names_that_are_paths_or_markup_are_kept_as_safe_text() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    app.signup("bob").await;
    let chat = alice.chat_with("bob").await;
    let long = "é".repeat(1_000);
    let mut names: Vec<&str> = INJECTIONS.to_vec();
    names.extend([
        "../../etc/passwd",
        "..\\..\\boot.ini",
        "/",
        ".",
        "...",
        "  ",
        &long,
    ]);
    for name in names {
        // A browser sends `"` percent-encoded; the header cannot hold it raw.
        let sent = name.replace('"', "%22");
        let what = format!("upload named {name:?}");
        let seen = inspect(&what, alice.upload(chat, &sent, b"plain text").await)
            .await
            .expect(&what, Status::Created);
        let file = seen.json.unwrap_or(Value::Null);
        let kept = file["name"].as_str().unwrap_or_default();
        assert!(
            !kept.is_empty() && !kept.contains('/') && !kept.contains('\\'),
            "{what}: {kept:?}"
        );
        assert!(
            kept.chars().count() <= 200,
            "{what}: {} characters",
            kept.chars().count()
        );
        assert!(!kept.chars().any(char::is_control), "{what}: {kept:?}");
        let url = file["url"].as_str().unwrap_or_default();
        assert!(
            url.starts_with(&format!("/files/{}/", file["id"])),
            "{what}: {url}"
        );
        let response = alice.get(url).await;
        assert_eq!(response.status(), Status::Ok, "{what}: {url}");
        let disposition = header(&response, "Content-Disposition").unwrap_or_default();
        assert!(
            disposition.starts_with("attachment; filename=\"")
                && disposition.chars().all(|c| (' '..='~').contains(&c))
                && disposition.matches('"').count() == 2,
            "{what}: {disposition}"
        );
    }
}

/// Uploads that must be accepted, through `inspect`: the attachment object.
async fn accepted(alice: &Person<'_>, chat: i64, name: &str, bytes: &[u8]) -> Value {
    let what = format!("upload of {name}");
    inspect(&what, alice.upload(chat, name, bytes).await)
        .await
        .expect(&what, Status::Created)
        .json
        .unwrap_or(Value::Null)
}

#[rocket::async_test]
async fn files_that_lie_about_their_type_are_never_shown_inline() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    app.signup("bob").await;
    let chat = alice.chat_with("bob").await;
    let html = b"<html><body><script>alert(document.cookie)</script></body></html>".to_vec();
    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>"#.to_vec();
    let mut polyglot = b"GIF89a".to_vec();
    polyglot.extend_from_slice(b"/*<script>alert(1)</script>*/");
    for (name, bytes) in [
        ("page.png", html.clone()),
        ("page.html", html.clone()),
        ("image.svg", svg.clone()),
        ("image.jpg", svg),
        ("polyglot.gif", polyglot),
        ("script.js", b"alert(1)".to_vec()),
        ("x.webp", b"RIFF\x10\x00\x00\x00WEBPVP8 garbage".to_vec()),
    ] {
        let what = format!("upload of {name}");
        let file = accepted(&alice, chat, name, &bytes).await;
        assert_eq!(file["thumbnail_url"], Value::Null, "{what}");
        let content_type = file["content_type"].as_str().unwrap_or_default();
        assert!(
            !content_type.starts_with("image/"),
            "{what}: {content_type}"
        );
        let response = alice.get(file["url"].as_str().unwrap_or_default()).await;
        let disposition = header(&response, "Content-Disposition").unwrap_or_default();
        assert!(
            disposition.starts_with("attachment;"),
            "{what}: {disposition}"
        );
        assert_eq!(
            header(&response, "Content-Security-Policy").as_deref(),
            Some("default-src 'none'; sandbox"),
            "{what}"
        );
        assert_eq!(
            header(&response, "X-Content-Type-Options").as_deref(),
            Some("nosniff")
        );
    }
}

#[rocket::async_test]
async fn bombs_and_broken_images_are_stored_as_plain_files_without_a_crash() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    app.signup("bob").await;
    let chat = alice.chat_with("bob").await;
    let mut cut_png = png(500, 500);
    cut_png.truncate(cut_png.len() * 2 / 3);
    let mut cut_jpeg = jpeg(500, 500);
    cut_jpeg.truncate(cut_jpeg.len() - 40);
    for (name, bytes) in [
        // Past 12,000 px a side, and within it but past 256 MiB decoded.
        ("wide.png", png_claiming(100_000, 100_000)),
        ("heavy.png", png_claiming(12_000, 12_000)),
        ("screen.gif", gif_claiming(65_535, 65_535)),
        ("cut.png", cut_png),
        ("cut.jpg", cut_jpeg),
        ("magic-only.png", b"\x89PNG\r\n\x1a\n".to_vec()),
        ("magic-only.jpg", b"\xff\xd8\xff".to_vec()),
    ] {
        let what = format!("upload of {name}");
        let file = accepted(&alice, chat, name, &bytes).await;
        assert_eq!(file["thumbnail_url"], Value::Null, "{what}: {file}");
        assert_eq!(file["width"], Value::Null, "{what}");
        let response = alice.get(file["url"].as_str().unwrap_or_default()).await;
        assert_eq!(response.status(), Status::Ok, "{what}");
        assert!(
            response.into_bytes().await.unwrap_or_default() == bytes,
            "{what}"
        );
    }
    // The server still decodes the next good image.
    let good = alice.uploaded(chat, "good.png", &png(40, 30)).await;
    assert_eq!(good["width"], 40);
}

#[rocket::async_test]
async fn sizes_at_and_past_the_limit() {
    let app = TestApp::with(|config| config.max_upload_mb = 2).await;
    let alice = app.signup("alice").await;
    app.signup("bob").await;
    let chat = alice.chat_with("bob").await;
    let what = "upload of 2 MB + 1 byte";
    let (code, _) = inspect(what, alice.upload(chat, "big.bin", &noise(2_000_001)).await)
        .await
        .error(what, Status::PayloadTooLarge);
    assert_eq!(code, "too_large");
    // Declared too large: refused before the body is read.
    let (content_type, body) = multipart("big.bin", &noise(10));
    let response = alice
        .request(app.client.post(format!("/api/chats/{chat}/attachments")))
        .header(content_type)
        .header(Header::new("X-CSRF-Token", alice.csrf.clone()))
        .header(Header::new("Content-Length", "4000000000"))
        .body(body)
        .dispatch()
        .await;
    let what = "upload declaring 4 GB";
    inspect(what, response)
        .await
        .error(what, Status::PayloadTooLarge);
    let what = "upload of nothing";
    let (_, field) = inspect(what, alice.upload(chat, "empty", b"").await)
        .await
        .error(what, Status::UnprocessableEntity);
    assert_eq!(field.as_deref(), Some("file"));
    assert_eq!(stored(&app).await, (0, 0));
    // A chunk's edge, and exactly the limit.
    for size in [256 * 1024 - 1, 256 * 1024, 256 * 1024 + 1, 2_000_000] {
        let data = noise(size);
        let file = alice.uploaded(chat, "edge.bin", &data).await;
        let response = alice.get(file["url"].as_str().unwrap_or_default()).await;
        assert!(
            response.into_bytes().await.unwrap_or_default() == data,
            "{size} bytes"
        );
    }
}

#[rocket::async_test]
async fn avatars_refuse_forged_tokens_bombs_and_odd_urls_and_store_nothing() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let avatars = || app.count("SELECT COUNT(*) FROM avatars");
    for token in [None, Some("forged"), Some(bob.csrf.as_str())] {
        let (content_type, body) = multipart("me.png", &png(64, 64));
        let mut request = alice
            .request(app.client.put("/api/me/avatar"))
            .header(content_type)
            .body(body);
        if let Some(token) = token {
            request = request.header(Header::new("X-CSRF-Token", token.to_owned()));
        }
        let what = format!("alice PUT /api/me/avatar with token {token:?}");
        inspect(&what, request.dispatch().await)
            .await
            .error(&what, Status::Forbidden);
    }
    let bombs: Vec<(&str, Vec<u8>)> = vec![
        (
            "a PNG claiming 50,000 x 50,000",
            png_claiming(50_000, 50_000),
        ),
        (
            "a PNG claiming 7,072 x 7,072 (50 MP)",
            png_claiming(7_072, 7_072),
        ),
        (
            "a GIF claiming 65,535 x 65,535",
            gif_claiming(65_535, 65_535),
        ),
        ("noise", noise(4096)),
        ("a cut-off JPEG", jpeg(300, 300)[..200].to_vec()),
        ("nothing", Vec::new()),
    ];
    for (what, bytes) in bombs {
        let (content_type, body) = multipart("me.png", &bytes);
        let response = alice
            .send_raw("PUT", "/api/me/avatar", content_type, body)
            .await;
        let (_, field) = inspect(what, response)
            .await
            .error(what, Status::UnprocessableEntity);
        assert_eq!(field.as_deref(), Some("file"), "{what}");
    }
    let (content_type, body) = multipart("big.png", &noise(10_000_001));
    let what = "an avatar past 10 MB";
    let response = alice
        .send_raw("PUT", "/api/me/avatar", content_type, body)
        .await;
    inspect(what, response)
        .await
        .error(what, Status::PayloadTooLarge);
    assert_eq!(avatars().await, 0);

    let made = alice
        .send_raw(
            "PUT",
            "/api/me/avatar",
            multipart("me.png", &png(64, 64)).0,
            multipart("me.png", &png(64, 64)).1,
        )
        .await;
    assert_eq!(made.status(), Status::Ok);
    let url: Value = made.into_json().await.expect("me");
    let url = url["avatar_url"].as_str().unwrap_or_default().to_owned();
    for path in [
        format!("/avatars/{}/0000000000000000", alice.id),
        format!("/avatars/{}/..%2F..%2Fetc%2Fpasswd", alice.id),
        format!("/avatars/{}/%27%20OR%20%271%27%3D%271", bob.id),
        "/avatars/abc/x".to_owned(),
        "/avatars/-1/x".to_owned(),
        "/avatars/99999999999999999999/x".to_owned(),
    ] {
        let seen = inspect(&path, bob.get(&path).await).await;
        assert_eq!(seen.status, Status::NotFound, "{path}");
    }
    let anonymous = app.anonymous("GET", &url).await;
    assert_ne!(
        anonymous.status(),
        Status::Ok,
        "{url} is for signed-in people"
    );
    assert_eq!(bob.get(&url).await.status(), Status::Ok);
}
