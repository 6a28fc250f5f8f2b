//! Files and images: uploading, sending with attachments, serving with ranges and the
//! contract's headers, who may read what, and every bad upload the issue lists.

use crate::common;

use common::images::{jpeg, noise, png, png_claiming};
use common::{expect_error, expect_invalid, header, Person, TestApp};
use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::LocalResponse;
use rocket_db_pools::Database;
use serde_json::{json, Value};

async fn alice_and_bob(app: &TestApp) -> (Person<'_>, Person<'_>, i64) {
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let chat = alice.chat_with("bob").await;
    (alice, bob, chat)
}

async fn bytes(response: LocalResponse<'_>) -> Vec<u8> {
    response.into_bytes().await.unwrap_or_default()
}

async fn get_with<'a>(
    person: &Person<'a>,
    path: &str,
    headers: &[(&str, &str)],
) -> LocalResponse<'a> {
    let mut request = person.request(person.app.client.get(path.to_owned()));
    for (name, value) in headers {
        request = request.header(Header::new(name.to_string(), value.to_string()));
    }
    request.dispatch().await
}

fn path(value: &Value, key: &str) -> String {
    value[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} in {value}"))
        .to_owned()
}

#[rocket::async_test]
async fn an_image_gets_its_size_a_thumbnail_and_comes_back_byte_for_byte() {
    let app = TestApp::new().await;
    let (alice, _bob, chat) = alice_and_bob(&app).await;
    let picture = png(800, 600);
    let file = alice.uploaded(chat, "holiday.png", &picture).await;
    assert_eq!(file["name"], "holiday.png");
    assert_eq!(file["size"], picture.len());
    assert_eq!(file["content_type"], "image/png");
    assert_eq!(
        (file["width"].clone(), file["height"].clone()),
        (json!(800), json!(600))
    );
    let id = file["id"].as_i64().expect("an id");
    assert_eq!(file["url"], format!("/files/{id}/holiday.png"));
    assert_eq!(file["thumbnail_url"], format!("/files/{id}/thumbnail"));

    let response = alice.get(&path(&file, "url")).await;
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(
        header(&response, "Content-Type").as_deref(),
        Some("image/png")
    );
    let disposition = header(&response, "Content-Disposition").unwrap_or_default();
    assert!(disposition.starts_with("inline;"), "{disposition}");
    assert_eq!(
        header(&response, "Content-Security-Policy").as_deref(),
        Some("default-src 'none'; sandbox")
    );
    assert_eq!(
        header(&response, "X-Content-Type-Options").as_deref(),
        Some("nosniff")
    );
    assert_eq!(
        header(&response, "Cache-Control").as_deref(),
        Some("private")
    );
    assert_eq!(header(&response, "Accept-Ranges").as_deref(), Some("bytes"));
    let etag = header(&response, "ETag").expect("an ETag");
    assert_eq!(bytes(response).await, picture);

    let unchanged = get_with(&alice, &path(&file, "url"), &[("If-None-Match", &etag)]).await;
    assert_eq!(unchanged.status(), Status::NotModified);
    assert!(bytes(unchanged).await.is_empty());

    let thumbnail = alice.get(&path(&file, "thumbnail_url")).await;
    assert_eq!(thumbnail.status(), Status::Ok);
    assert_eq!(
        header(&thumbnail, "Content-Security-Policy").as_deref(),
        Some("default-src 'none'; sandbox")
    );
    let small = image::load_from_memory(&bytes(thumbnail).await).expect("a thumbnail");
    assert_eq!((small.width(), small.height()), (400, 300));
}

#[rocket::async_test]
async fn a_large_file_round_trips_exactly_and_a_range_returns_exactly_the_asked_bytes() {
    let app = TestApp::new().await;
    let (alice, _bob, chat) = alice_and_bob(&app).await;
    // Twelve chunks and a bit.
    let data = noise(3 * 1024 * 1024 + 123);
    let file = alice.uploaded(chat, "dump.bin", &data).await;
    assert_eq!(file["content_type"], "application/octet-stream");
    assert_eq!(file["thumbnail_url"], Value::Null);
    assert_eq!(file["width"], Value::Null);
    let url = path(&file, "url");
    let whole = alice.get(&url).await;
    let etag = header(&whole, "ETag").expect("an ETag");
    assert!(bytes(whole).await == data, "the bytes differ");

    let size = data.len();
    let chunk = 256 * 1024;
    for (asked, from, to) in [
        ("bytes=0-9".to_owned(), 0, 9),
        (
            format!("bytes={}-{}", chunk - 5, chunk + 5),
            chunk - 5,
            chunk + 5,
        ),
        (format!("bytes={}-", size - 7), size - 7, size - 1),
        ("bytes=-100".to_owned(), size - 100, size - 1),
        (format!("bytes=1000-{}", size * 2), 1000, size - 1),
    ] {
        let response = get_with(&alice, &url, &[("Range", &asked)]).await;
        assert_eq!(response.status(), Status::PartialContent, "{asked}");
        assert_eq!(
            header(&response, "Content-Range"),
            Some(format!("bytes {from}-{to}/{size}")),
            "{asked}"
        );
        assert!(
            bytes(response).await == data[from..=to],
            "{asked}: other bytes"
        );
    }

    let beyond = get_with(&alice, &url, &[("Range", &format!("bytes={size}-"))]).await;
    assert_eq!(beyond.status(), Status::RangeNotSatisfiable);
    assert_eq!(
        header(&beyond, "Content-Range"),
        Some(format!("bytes */{size}"))
    );
    // Not a range we serve as one: the whole file.
    for asked in ["bytes=0-1,5-6", "pages=1-2", "bytes=x-y"] {
        let response = get_with(&alice, &url, &[("Range", asked)]).await;
        assert_eq!(response.status(), Status::Ok, "{asked}");
        assert_eq!(bytes(response).await.len(), size, "{asked}");
    }
    let stale = get_with(
        &alice,
        &url,
        &[("Range", "bytes=0-9"), ("If-Range", "\"other\"")],
    )
    .await;
    assert_eq!(stale.status(), Status::Ok);
    let fresh = get_with(&alice, &url, &[("Range", "bytes=0-9"), ("If-Range", &etag)]).await;
    assert_eq!(fresh.status(), Status::PartialContent);
}

#[rocket::async_test]
async fn a_message_carries_its_files_to_the_other_member_live_and_in_history() {
    let app = TestApp::new().await;
    let (alice, bob, chat) = alice_and_bob(&app).await;
    let cursor = bob.cursor_now().await;
    let picture = alice.uploaded(chat, "shot.png", &png(64, 48)).await;
    let pdf = alice
        .uploaded(
            chat,
            "report.pdf",
            b"%PDF-1.7\n1 0 obj << >> endobj\ntrailer\n%%EOF\n",
        )
        .await;
    assert_eq!(pdf["content_type"], "application/pdf");
    // Not sent yet: only Alice sees her uploads.
    assert_eq!(
        bob.get(&path(&picture, "url")).await.status(),
        Status::NotFound
    );
    assert_eq!(alice.get(&path(&picture, "url")).await.status(), Status::Ok);

    // Files alone make a message; they keep the order the send lists them in.
    let response = alice.send_files(chat, "  ", &[&pdf, &picture]).await;
    assert_eq!(response.status(), Status::Created);
    let message: Value = response.into_json().await.expect("the message");
    assert_eq!(message["body"], "");
    assert_eq!(message["attachments"], json!([pdf, picture]));

    let update = bob.poll(cursor, 2).await;
    let event = common::events(&update)
        .iter()
        .find(|e| e["type"] == "message")
        .cloned()
        .unwrap_or_else(|| panic!("no new message in {update}"));
    assert_eq!(event["message"]["attachments"], json!([pdf, picture]));
    let history = bob.history(chat, "").await;
    assert_eq!(history["messages"][0]["attachments"], json!([pdf, picture]));
    assert_eq!(
        bob.chat(chat).await["last_message"]["attachments"],
        json!([pdf, picture])
    );

    let download = bob.get(&path(&pdf, "url")).await;
    assert_eq!(download.status(), Status::Ok);
    assert_eq!(
        header(&download, "Content-Type").as_deref(),
        Some("application/pdf")
    );
    let disposition = header(&download, "Content-Disposition").unwrap_or_default();
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert!(disposition.contains("report.pdf"), "{disposition}");
    assert_eq!(
        bob.get(&path(&picture, "thumbnail_url")).await.status(),
        Status::Ok
    );

    // Words and files together.
    let more = alice
        .uploaded(chat, "notes.txt", b"line one\nline two\n")
        .await;
    assert_eq!(more["content_type"], "text/plain; charset=utf-8");
    let response = alice.send_files(chat, "see notes", &[&more]).await;
    assert_eq!(response.status(), Status::Created);
    let message: Value = response.into_json().await.expect("the message");
    assert_eq!(message["body"], "see notes");
    assert_eq!(message["attachments"][0]["name"], "notes.txt");
}

#[rocket::async_test]
async fn attachments_that_are_not_the_senders_unsent_uploads_to_that_chat_are_refused() {
    let app = TestApp::new().await;
    let (alice, bob, chat) = alice_and_bob(&app).await;
    let carol = app.signup("carol").await;
    let other_chat = alice.chat_with("carol").await;
    let mine = alice.uploaded(chat, "a.txt", b"a").await;
    let bobs = bob.uploaded(chat, "b.txt", b"b").await;
    let elsewhere = alice.uploaded(other_chat, "c.txt", b"c").await;
    let sent = alice.uploaded(chat, "d.txt", b"d").await;
    assert_eq!(
        alice.send_files(chat, "", &[&sent]).await.status(),
        Status::Created
    );
    let before = alice.history(chat, "").await["messages"]
        .as_array()
        .map(Vec::len);

    let unknown = json!({ "id": 999_999 });
    for (what, ids) in [
        ("an unknown id", vec![&unknown]),
        ("someone else's upload", vec![&bobs]),
        ("an upload to another chat", vec![&elsewhere]),
        ("a file already sent", vec![&sent]),
        ("one good, one bad", vec![&mine, &bobs]),
        ("the same file twice", vec![&mine, &mine]),
    ] {
        let response = alice.send_files(chat, "with files", &ids).await;
        assert_eq!(response.status(), Status::UnprocessableEntity, "{what}");
        expect_invalid(response, "attachments").await;
    }
    let eleven: Vec<Value> = (0..11).map(|n| json!({ "id": n + 1 })).collect();
    let response = alice
        .send_files(chat, "", &eleven.iter().collect::<Vec<_>>())
        .await;
    expect_invalid(response, "attachments").await;
    // Without files, a message needs words.
    expect_invalid(alice.send_files(chat, "", &[]).await, "body").await;
    for bad in [json!(["x"]), json!("1"), json!([-1])] {
        let response = alice
            .post(
                &format!("/api/chats/{chat}/messages"),
                json!({ "body": "hi", "attachments": bad }),
            )
            .await;
        assert!(
            matches!(response.status().code, 400 | 422),
            "{bad}: {}",
            response.status()
        );
    }
    let after = alice.history(chat, "").await["messages"]
        .as_array()
        .map(Vec::len);
    assert_eq!(before, after, "a refused send stored nothing");
    // The good upload is still there to send.
    assert_eq!(
        alice.send_files(chat, "", &[&mine]).await.status(),
        Status::Created
    );
    drop(carol);
}

#[rocket::async_test]
async fn people_outside_a_chat_cannot_upload_to_it_or_read_its_files() {
    let app = TestApp::new().await;
    let (alice, _bob, chat) = alice_and_bob(&app).await;
    let carol = app.signup("carol").await;
    let file = alice.uploaded(chat, "secret.png", &png(10, 10)).await;
    assert_eq!(
        alice.send_files(chat, "", &[&file]).await.status(),
        Status::Created
    );

    expect_error(
        carol.upload(chat, "x.txt", b"x").await,
        Status::NotFound,
        "not_found",
    )
    .await;
    assert_eq!(
        carol.get(&path(&file, "url")).await.status(),
        Status::NotFound
    );
    assert_eq!(
        carol.get(&path(&file, "thumbnail_url")).await.status(),
        Status::NotFound
    );
    let id = file["id"].as_i64().unwrap_or_default();
    for wrong in [
        format!("/files/{id}"),
        "/files/abc/x".to_owned(),
        "/files/0/x".to_owned(),
    ] {
        assert_eq!(
            alice.get(&wrong).await.status(),
            Status::NotFound,
            "{wrong}"
        );
    }
    // A file that is no image has no thumbnail.
    let text = alice.uploaded(chat, "t.txt", b"text").await;
    assert_eq!(
        alice
            .get(&format!("/files/{}/thumbnail", text["id"]))
            .await
            .status(),
        Status::NotFound
    );

    let anonymous = app.anonymous("GET", &path(&file, "url")).await;
    assert_ne!(anonymous.status(), Status::Ok);
    let (content_type, body) = common::multipart("x.txt", b"x");
    let response = app
        .client
        .post(format!("/api/chats/{chat}/attachments"))
        .header(content_type)
        .body(body)
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::Unauthorized);
    // Signed in, but without the CSRF token.
    let (content_type, body) = common::multipart("x.txt", b"x");
    let response = alice
        .request(app.client.post(format!("/api/chats/{chat}/attachments")))
        .header(content_type)
        .body(body)
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::Forbidden);

    app.sql(&format!(
        "UPDATE chats SET status = 'closed' WHERE id = {chat}"
    ))
    .await;
    expect_error(
        alice.upload(chat, "x.txt", b"x").await,
        Status::Forbidden,
        "forbidden",
    )
    .await;
}

async fn files_stored(app: &TestApp) -> (i64, i64) {
    (
        app.count("SELECT COUNT(*) FROM files").await,
        app.count("SELECT COUNT(*) FROM file_chunks").await,
    )
}

#[rocket::async_test]
async fn an_upload_over_the_limit_is_refused_with_413_and_nothing_is_stored() {
    let app = TestApp::with(|config| config.max_upload_mb = 1).await;
    let (alice, _bob, chat) = alice_and_bob(&app).await;
    // Refused part-way, after some chunks were written.
    let response = alice.upload(chat, "big.bin", &noise(1_000_001)).await;
    let problem = expect_error(response, Status::PayloadTooLarge, "too_large").await;
    assert!(
        problem["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("1 MB"),
        "{problem}"
    );
    assert_eq!(files_stored(&app).await, (0, 0));
    // Exactly the limit is fine.
    alice.uploaded(chat, "fits.bin", &noise(1_000_000)).await;
    assert_eq!(files_stored(&app).await.0, 1);
}

#[rocket::async_test]
async fn an_upload_that_is_not_one_gets_a_clear_error() {
    let app = TestApp::new().await;
    let (alice, _bob, chat) = alice_and_bob(&app).await;
    let url = format!("/api/chats/{chat}/attachments");

    let json = alice.post(&url, json!({ "file": "x" })).await;
    let problem = expect_error(json, Status::BadRequest, "bad_request").await;
    assert!(problem["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .contains("multipart"));

    expect_invalid(alice.upload(chat, "empty.txt", b"").await, "file").await;

    let body = format!(
        "--{b}\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nvalue\r\n--{b}--\r\n",
        b = common::BOUNDARY
    );
    let no_file = alice
        .send_raw("POST", &url, common::multipart("x", b"").0, body)
        .await;
    expect_invalid(no_file, "file").await;

    let garbage = alice
        .send_raw(
            "POST",
            &url,
            common::multipart("x", b"").0,
            "not multipart at all",
        )
        .await;
    assert_eq!(garbage.status(), Status::BadRequest);

    let no_boundary = alice
        .send_raw(
            "POST",
            &url,
            ContentType::new("multipart", "form-data"),
            "x",
        )
        .await;
    assert_eq!(no_boundary.status(), Status::BadRequest);
    assert_eq!(files_stored(&app).await, (0, 0));
}

#[rocket::async_test]
async fn hostile_names_are_stored_as_safe_names() {
    let app = TestApp::new().await;
    let (alice, _bob, chat) = alice_and_bob(&app).await;
    let long = format!("{}.txt", "a".repeat(1_000));
    for (given, kept) in [
        ("../../etc/passwd", "passwd".to_owned()),
        ("C:\\Windows\\win.ini", "win.ini".to_owned()),
        // Raw control characters other than tab cannot be in a header: a client sends them
        // percent-encoded, or not at all.
        (
            "inv\toice\u{85}\u{202e}fdp.exe",
            "inv oice fdp.exe".to_owned(),
        ),
        ("..", "file".to_owned()),
        ("résumé final.pdf", "résumé final.pdf".to_owned()),
        (long.as_str(), format!("{}.txt", "a".repeat(196))),
        ("thumbnail", "thumbnail".to_owned()),
    ] {
        let file = alice.uploaded(chat, given, b"some text").await;
        assert_eq!(file["name"], kept.as_str(), "{given:?}");
        let response = alice.get(&path(&file, "url")).await;
        assert_eq!(
            response.status(),
            Status::Ok,
            "{given:?} at {}",
            file["url"]
        );
        let disposition = header(&response, "Content-Disposition").unwrap_or_default();
        assert!(
            disposition.starts_with("attachment; filename=\"")
                && !disposition.contains('/')
                && disposition.chars().all(|c| (' '..='~').contains(&c)),
            "{given:?}: {disposition}"
        );
    }
}

#[rocket::async_test]
async fn only_images_that_decode_are_shown_and_everything_else_is_a_download() {
    let app = TestApp::new().await;
    let (alice, _bob, chat) = alice_and_bob(&app).await;
    let mut truncated = jpeg(300, 200);
    truncated.truncate(truncated.len() / 3);
    let mut frames = Vec::new();
    {
        let mut encoder = image::codecs::gif::GifEncoder::new(&mut frames);
        let frame = |shade: u8| {
            image::Frame::new(image::RgbaImage::from_pixel(
                30,
                20,
                image::Rgba([shade, 0, 0, 255]),
            ))
        };
        encoder
            .encode_frames([frame(10), frame(200)])
            .expect("an animated GIF");
    }
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "page.html",
            b"<!DOCTYPE html><html><script>alert(1)</script></html>".to_vec(),
            "",
        ),
        (
            "logo.svg",
            br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#.to_vec(),
            "",
        ),
        (
            "fake.png",
            b"\x89PNG\r\n\x1a\n<html><script>alert(1)</script></html>".to_vec(),
            "application/octet-stream",
        ),
        (
            "bomb.png",
            png_claiming(100_000, 100_000),
            "application/octet-stream",
        ),
        ("wide.png", png(12_001, 1), "application/octet-stream"),
        ("cut.jpg", truncated, ""),
    ];
    for (name, data, content_type) in cases {
        let file = alice.uploaded(chat, name, &data).await;
        assert_eq!(file["thumbnail_url"], Value::Null, "{name}: {file}");
        assert_eq!(file["width"], Value::Null, "{name}");
        if !content_type.is_empty() {
            assert_eq!(file["content_type"], content_type, "{name}");
        }
        let response = alice.get(&path(&file, "url")).await;
        let disposition = header(&response, "Content-Disposition").unwrap_or_default();
        assert!(
            disposition.starts_with("attachment;"),
            "{name}: {disposition}"
        );
        assert_eq!(
            header(&response, "Content-Security-Policy").as_deref(),
            Some("default-src 'none'; sandbox")
        );
        assert!(bytes(response).await == data, "{name}: other bytes");
    }

    let gif = alice.uploaded(chat, "wave.gif", &frames).await;
    assert_eq!(gif["content_type"], "image/gif");
    assert_eq!(
        (gif["width"].clone(), gif["height"].clone()),
        (json!(30), json!(20))
    );
    let still = alice.get(&path(&gif, "thumbnail_url")).await;
    let still = image::load_from_memory(&bytes(still).await).expect("a still thumbnail");
    assert_eq!((still.width(), still.height()), (30, 20));
    let photo = alice.uploaded(chat, "photo.jpg", &jpeg(1000, 2000)).await;
    assert_eq!(photo["content_type"], "image/jpeg");
    let small = alice.get(&path(&photo, "thumbnail_url")).await;
    assert_eq!(
        header(&small, "Content-Type").as_deref(),
        Some("image/jpeg")
    );
    let small = image::load_from_memory(&bytes(small).await).expect("a thumbnail");
    assert_eq!((small.width(), small.height()), (200, 400));
}

#[rocket::async_test]
async fn deleting_a_message_deletes_its_files() {
    let app = TestApp::new().await;
    let (alice, bob, chat) = alice_and_bob(&app).await;
    let file = alice.uploaded(chat, "gone.bin", &noise(600_000)).await;
    let response = alice.send_files(chat, "soon gone", &[&file]).await;
    let message: Value = response.into_json().await.expect("the message");
    assert_eq!(bob.get(&path(&file, "url")).await.status(), Status::Ok);
    let gone = alice
        .send(
            "DELETE",
            &format!("/api/chats/{chat}/messages/{}", message["id"]),
            json!({}),
        )
        .await;
    assert_eq!(gone.status(), Status::NoContent);
    assert_eq!(
        bob.get(&path(&file, "url")).await.status(),
        Status::NotFound
    );
    assert_eq!(
        alice.get(&path(&file, "url")).await.status(),
        Status::NotFound
    );
    assert_eq!(files_stored(&app).await, (0, 0));
}

#[rocket::async_test]
async fn uploads_no_message_claimed_go_after_a_day() {
    let app = TestApp::new().await;
    let (alice, _bob, chat) = alice_and_bob(&app).await;
    let old = alice.uploaded(chat, "old.bin", &noise(300_000)).await;
    let recent = alice.uploaded(chat, "recent.txt", b"recent").await;
    let sent = alice.uploaded(chat, "sent.txt", b"sent").await;
    assert_eq!(
        alice.send_files(chat, "", &[&sent]).await.status(),
        Status::Created
    );
    let day_and_more = kanect::model::Timestamp::now().plus_millis(-25 * 3_600_000);
    app.sql(&format!(
        "UPDATE files SET created_at = {} WHERE id IN ({}, {})",
        day_and_more.0, old["id"], sent["id"]
    ))
    .await;
    let db = kanect::db::Db::fetch(app.client.rocket()).expect("the database");
    let before = kanect::model::Timestamp::now().plus_millis(-kanect::db::files::UNCLAIMED_KEEP_MS);
    let removed = kanect::db::files::remove_unclaimed(&db.write, before)
        .await
        .expect("removes");
    assert_eq!(removed, 1);
    assert_eq!(
        alice.get(&path(&old, "url")).await.status(),
        Status::NotFound
    );
    assert_eq!(alice.get(&path(&recent, "url")).await.status(), Status::Ok);
    assert_eq!(alice.get(&path(&sent, "url")).await.status(), Status::Ok);
    assert_eq!(app.count("SELECT COUNT(*) FROM file_chunks").await, 2);
}

#[rocket::async_test]
async fn a_message_with_files_may_lose_its_words_and_one_without_may_not() {
    let app = TestApp::new().await;
    let (alice, bob, chat) = alice_and_bob(&app).await;
    let file = alice.uploaded(chat, "plan.txt", b"the plan").await;
    let response = alice.send_files(chat, "caption", &[&file]).await;
    let message: Value = response.into_json().await.expect("the message");
    let url = format!("/api/chats/{chat}/messages/{}", message["id"]);
    let edited = alice.patch(&url, json!({ "body": " " })).await;
    assert_eq!(edited.status(), Status::Ok);
    let edited: Value = edited.into_json().await.expect("the message");
    assert_eq!(edited["body"], "");
    assert_eq!(edited["attachments"][0]["name"], "plan.txt");

    let words = bob.say(chat, "words only").await;
    let url = format!("/api/chats/{chat}/messages/{}", words["id"]);
    expect_invalid(bob.patch(&url, json!({ "body": "" })).await, "body").await;
    assert_eq!(
        bob.history(chat, "").await["messages"][1]["body"],
        "words only"
    );
}
