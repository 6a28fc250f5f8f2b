//! Files in the admin console: the changelist with its filters and search, the view-only
//! change page and its download for staff, deleting with confirmation (and what open tabs
//! hear of it), and the storage total on the index.

use crate::common;

use std::io::Cursor;

use common::*;
use rocket::http::{Header, Status};
use serde_json::{json, Value};

/// A small PNG that decodes (so it is an image with a thumbnail).
fn png() -> Vec<u8> {
    let picture = image::RgbImage::from_fn(40, 20, |x, y| image::Rgb([x as u8, y as u8, 90]));
    let mut out = Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(picture)
        .write_to(&mut out, image::ImageFormat::Png)
        .expect("encodes");
    out.into_inner()
}

/// A PDF of `len` bytes (the type is judged from its first bytes).
fn pdf(len: usize) -> Vec<u8> {
    let mut bytes = b"%PDF-1.7\n".to_vec();
    bytes.resize(len, b'x');
    bytes
}

/// root (superuser, id 1), bob (member, id 2) and carol (id 3); chat 1 between root and
/// bob, chat 2 between bob and carol.
async fn people(app: &TestApp) -> (Person<'_>, Person<'_>, i64, i64) {
    let root = app.admin("root", "superuser").await;
    let bob = app.signup("bob").await;
    app.signup("carol").await;
    let ours = root.chat_with("bob").await;
    let theirs = bob.chat_with("carol").await;
    (root, bob, ours, theirs)
}

/// Sends `files` (attachment objects) in a message; the message.
async fn send(person: &Person<'_>, chat: i64, body: &str, files: &[&Value]) -> Value {
    let ids: Vec<Value> = files.iter().map(|f| f["id"].clone()).collect();
    person
        .post_json(
            &format!("/api/chats/{chat}/messages"),
            json!({ "body": body, "attachments": ids }),
            Status::Created,
        )
        .await
}

/// The ids of the files a changelist page lists, in its order.
fn listed(html: &str) -> Vec<i64> {
    html.match_indices("href=\"/admin/files/")
        .filter_map(|(at, _)| {
            let rest = &html[at + "href=\"/admin/files/".len()..];
            let (id, after) = rest.split_once('/')?;
            after.starts_with("change/").then(|| id.parse().ok())?
        })
        .fold(Vec::new(), |mut ids, id| {
            if !ids.contains(&id) {
                ids.push(id);
            }
            ids
        })
}

#[rocket::async_test]
async fn the_changelist_lists_uploads_with_name_type_size_chat_uploader_and_message() {
    let app = TestApp::new().await;
    let (root, bob, ours, theirs) = people(&app).await;
    let report = root.uploaded(ours, "report.pdf", &pdf(1_234_567)).await;
    send(&root, ours, "the report", &[&report]).await;
    bob.uploaded(theirs, "notes.txt", b"remember the milk\n")
        .await;

    let html = root.page("/admin/files/", Status::Ok).await;
    for text in [
        "report.pdf",
        "application/pdf",
        "1.2 MB",
        "root",
        "#1: the report",
        "notes.txt",
        "text/plain; charset=utf-8",
        "18 bytes",
        "bob",
        "not sent",
        "2 files",
    ] {
        assert!(html.contains(text), "the changelist shows {text}");
    }
    // Chats are named as the chats model (and the chat filter) names them.
    for (a, b) in [("root", "bob"), ("bob", "carol")] {
        let shown = |x: &str, y: &str| html.contains(&format!("<bdi>{x} & {y}</bdi>"));
        assert!(shown(a, b) || shown(b, a), "the chat of {a} and {b}");
    }
    // No adding: files come from chats.
    assert!(!html.contains("/admin/files/add/"));
    // Newest first; by size the number counts, not its text ("18 bytes" < "1.2 MB").
    assert_eq!(listed(&html), [2, 1]);
    let html = root.page("/admin/files/?o=size", Status::Ok).await;
    assert_eq!(listed(&html), [2, 1]);
    let html = root.page("/admin/files/?o=-size", Status::Ok).await;
    assert_eq!(listed(&html), [1, 2]);
}

#[rocket::async_test]
async fn the_type_and_chat_filters_and_the_name_search_narrow_the_list() {
    let app = TestApp::new().await;
    let (root, bob, ours, theirs) = people(&app).await;
    root.uploaded(ours, "chart.png", &png()).await; // 1
    root.uploaded(ours, "q3 report.pdf", &pdf(2000)).await; // 2
    bob.uploaded(theirs, "notes.txt", b"a note\n").await; // 3
    bob.uploaded(theirs, "archive.bin", &[0, 1, 2, 3, 0xff])
        .await; // 4

    for (query, expected) in [
        ("type=image", vec![1]),
        ("type=pdf", vec![2]),
        ("type=text", vec![3]),
        ("type=other", vec![4]),
        ("chat_id=1", vec![2, 1]),
        ("chat=2", vec![4, 3]),
        ("chat_id=2&type=text", vec![3]),
        ("q=report", vec![2]),
        ("q=REPORT+q3", vec![2]),
        ("q=.png", vec![1]),
        ("q=nothing", vec![]),
        ("date=today", vec![4, 3, 2, 1]),
        // A type that is no group, or a chat that is no id, filters nothing.
        ("type=image%27%20OR%201=1", vec![4, 3, 2, 1]),
        ("chat_id=abc", vec![4, 3, 2, 1]),
    ] {
        let html = root
            .page(&format!("/admin/files/?{query}"), Status::Ok)
            .await;
        assert_eq!(listed(&html), expected, "?{query}");
    }
    // The panel offers the groups by name, with their counts.
    let html = root.page("/admin/files/", Status::Ok).await;
    for choice in ["Images", "PDF", "Text", "Other", "?type=pdf", "?chat_id=2"] {
        assert!(html.contains(choice), "the filter panel offers {choice}");
    }
    let html = root.page("/admin/files/?chat_id=1", Status::Ok).await;
    assert!(
        html.contains("Searches name"),
        "the search says what it looks at"
    );
}

#[rocket::async_test]
async fn the_change_page_is_view_only_with_a_download_for_staff_outside_the_chat() {
    let app = TestApp::new().await;
    let (root, bob, _, theirs) = people(&app).await;
    let staff = app.admin("stella", "staff").await;
    let notes = bob
        .uploaded(theirs, "notes.txt", b"remember the milk\n")
        .await;
    send(&bob, theirs, "", &[&notes]).await;
    let picture = bob.uploaded(theirs, "chart.png", &png()).await;

    let html = staff.page("/admin/files/1/change/", Status::Ok).await;
    for text in [
        "View file",
        "You can view this but not change it.",
        "notes.txt",
        "text/plain; charset=utf-8",
        "18 bytes",
        "/admin/chats/2/change/",
        "/admin/users/2/change/",
        "/admin/messages/1/change/",
        "href=\"/admin/files/1/download/\"",
        "Download",
        "href=\"/admin/files/1/delete/\"",
    ] {
        assert!(html.contains(text), "the change page shows {text}");
    }
    assert!(!html.contains("name=\"_save\""), "nothing to save");
    let html = staff.page("/admin/files/2/change/", Status::Ok).await;
    assert!(html.contains("View image") && html.contains("Not sent"));
    assert!(html.contains(">40<") && html.contains(">20<"), "its size");

    // Stella is in neither chat: /files/ does not know her, the console's download does.
    let url = notes["url"].as_str().expect("a URL");
    assert_eq!(staff.get(url).await.status(), Status::NotFound);
    let response = staff.get("/admin/files/1/download").await;
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(
        header(&response, "Content-Security-Policy").as_deref(),
        Some("default-src 'none'; sandbox")
    );
    assert!(header(&response, "Content-Disposition").is_some_and(|d| d.starts_with("attachment")));
    assert_eq!(
        header(&response, "Content-Type").as_deref(),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(
        response.into_bytes().await.unwrap_or_default(),
        b"remember the milk\n"
    );
    let response = staff
        .request(app.client.get("/admin/files/1/download/"))
        .header(Header::new("Range", "bytes=9-12"))
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::PartialContent);
    assert_eq!(response.into_bytes().await.unwrap_or_default(), b"the ");
    let response = root.get("/admin/files/2/download").await;
    assert!(header(&response, "Content-Disposition").is_some_and(|d| d.starts_with("inline")));
    assert_eq!(
        response.into_bytes().await.unwrap_or_default(),
        png(),
        "{picture}"
    );
    for missing in ["3", "0", "-1", "abc", "99999999999999999999"] {
        let path = format!("/admin/files/{missing}/download");
        root.page(&path, Status::NotFound).await;
    }

    // Nothing is added or changed here.
    root.page("/admin/files/add/", Status::Forbidden).await;
    let response = root
        .post_form(
            "/admin/files/1/change/",
            &[("name", "renamed.txt"), ("_save", "1")],
        )
        .await;
    assert_eq!(response.status(), Status::Forbidden);
    assert_eq!(
        app.text("SELECT name FROM files WHERE id = 1").await,
        "notes.txt"
    );
}

#[rocket::async_test]
async fn deleting_a_file_confirms_first_then_it_is_gone_and_open_tabs_hear_of_it() {
    let app = TestApp::new().await;
    let (root, bob, ours, _) = people(&app).await;
    let report = bob.uploaded(ours, "report.pdf", &pdf(600_000)).await;
    let chart = bob.uploaded(ours, "chart.png", &png()).await;
    let message = send(&bob, ours, "two files", &[&report, &chart]).await;
    let cursor = bob.cursor_now().await;

    let html = root.page("/admin/files/1/delete/", Status::Ok).await;
    assert!(html.contains("Are you sure?") && html.contains("report.pdf"));
    assert!(html.contains("name=\"post\" value=\"yes\""));
    // Without post=yes only the confirmation again.
    let response = root.post_form("/admin/files/1/delete/", &[]).await;
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(app.count("SELECT count(*) FROM files").await, 2);

    let response = root
        .post_form("/admin/files/1/delete/", &[("post", "yes")])
        .await;
    assert_eq!(location(&response), "/admin/files/");
    let html = root.follow(response).await;
    assert!(html.contains("The file “report.pdf” was deleted successfully."));

    // Gone for the chat's members, bytes and all.
    let url = report["url"].as_str().expect("a URL");
    assert_eq!(bob.get(url).await.status(), Status::NotFound);
    assert_eq!(root.get(url).await.status(), Status::NotFound);
    root.page("/admin/files/1/download/", Status::NotFound)
        .await;
    assert_eq!(
        app.count("SELECT count(*) FROM file_chunks WHERE file_id = 1")
            .await,
        0
    );
    assert!(app.count("SELECT count(*) FROM file_chunks").await > 0);
    // The message stays, with the other file; open tabs read it again.
    let update = bob.poll(cursor, 2).await;
    assert_eq!(kinds(&update), ["message_edited"], "{update}");
    let edited = &events(&update)[0]["message"];
    assert_eq!(edited["id"], message["id"]);
    assert_eq!(edited["body"], "two files");
    assert_eq!(edited["attachments"], json!([chart]));
    assert_eq!(
        app.count(
            "SELECT count(*) FROM admin_log
             WHERE action_flag = 3 AND object_type = 'files' AND object_repr = 'report.pdf'"
        )
        .await,
        1
    );
}

#[rocket::async_test]
async fn bulk_deleting_files_lists_them_first_and_tells_each_message_once() {
    let app = TestApp::new().await;
    let (root, bob, ours, theirs) = people(&app).await;
    let a = bob.uploaded(ours, "a.txt", b"first\n").await;
    let b = bob.uploaded(ours, "b.txt", b"second\n").await;
    send(&bob, ours, "both", &[&a, &b]).await;
    bob.uploaded(theirs, "unsent.txt", b"draft\n").await;
    let cursor = bob.cursor_now().await;

    let fields = [
        ("action", "delete_selected"),
        ("_selected_action", "1"),
        ("_selected_action", "2"),
        ("_selected_action", "3"),
    ];
    let response = root.post_form("/admin/files/", &fields).await;
    assert_eq!(response.status(), Status::Ok);
    let html = unescape(&response.into_string().await.unwrap_or_default());
    assert!(html.contains("a.txt") && html.contains("b.txt") && html.contains("unsent.txt"));
    assert_eq!(app.count("SELECT count(*) FROM files").await, 3);
    let mut confirmed = fields.to_vec();
    confirmed.push(("post", "yes"));
    let response = root.post_form("/admin/files/", &confirmed).await;
    assert!(root
        .follow(response)
        .await
        .contains("Successfully deleted 3 files."));
    assert_eq!(app.count("SELECT count(*) FROM files").await, 0);
    assert_eq!(app.count("SELECT count(*) FROM file_chunks").await, 0);
    let update = bob.poll(cursor, 2).await;
    assert_eq!(kinds(&update), ["message_edited"], "{update}");
    assert_eq!(events(&update)[0]["message"]["attachments"], json!([]));
    assert_eq!(
        app.count("SELECT count(*) FROM admin_log WHERE object_type = 'files'")
            .await,
        3
    );
}

#[rocket::async_test]
async fn members_and_visitors_get_the_consoles_usual_refusal() {
    let app = TestApp::new().await;
    let (_, bob, ours, _) = people(&app).await;
    let notes = bob.uploaded(ours, "notes.txt", b"mine\n").await;
    send(&bob, ours, "", &[&notes]).await;
    for path in [
        "/admin/files/",
        "/admin/files/1/change/",
        "/admin/files/1/delete/",
        "/admin/files/1/history/",
        "/admin/files/1/download/",
    ] {
        bob.page(path, Status::Forbidden).await;
        let response = app.client.get(path).dispatch().await;
        assert_eq!(response.status(), Status::SeeOther, "{path}");
        assert!(location(&response).starts_with("/login?next=%2Fadmin"));
    }
    for (path, fields) in [
        ("/admin/files/1/delete/", vec![("post", "yes")]),
        (
            "/admin/files/",
            vec![
                ("action", "delete_selected"),
                ("_selected_action", "1"),
                ("post", "yes"),
            ],
        ),
    ] {
        let response = bob.post_form(path, &fields).await;
        assert_eq!(response.status(), Status::Forbidden, "POST {path}");
    }
    assert_eq!(app.count("SELECT count(*) FROM files").await, 1);
    // Bob still reads his file where members do.
    assert_eq!(
        bob.get(notes["url"].as_str().expect("a URL"))
            .await
            .status(),
        Status::Ok
    );
}

#[rocket::async_test]
async fn the_index_shows_how_much_the_files_take() {
    let app = TestApp::new().await;
    let (root, bob, ours, theirs) = people(&app).await;
    let html = root.page("/admin/", Status::Ok).await;
    assert!(html.contains("/admin/files/"), "files are a model");
    assert!(html.contains("0 bytes"), "nothing stored yet");
    root.uploaded(ours, "big.pdf", &pdf(1_200_000)).await;
    bob.uploaded(theirs, "small.pdf", &pdf(34_567)).await;
    let html = root.page("/admin/", Status::Ok).await;
    assert!(html.contains("1.2 MB"), "the total, readable");
    assert!(html.contains("1,234,567 bytes"), "and exact");
    let staff = app.admin("stella", "staff").await;
    let html = staff.page("/admin/", Status::Ok).await;
    assert!(html.contains("1.2 MB"));
}
