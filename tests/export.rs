//! Exports: `kanect export DIR` of a seeded team, run as the real binary while the app
//! has the database open, read back as JSON and compared with what the API shows; the
//! page escapes what people wrote; no password hash anywhere; a non-empty folder refused.
//! And "Download my data": a member's zip holds only the chats they are in.

use crate::common;
use crate::process;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::{Person, TestApp};
use rocket::http::Status;
use serde_json::{json, Value};

pub const SCRIPT: &str = "<script>alert(1)</script>";
const THUMBS_UP: &str = "%F0%9F%91%8D";
pub const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

/// The seeded team: alice, bob and carol in a group; alice and bob in a direct chat.
pub struct Team<'a> {
    pub alice: Person<'a>,
    pub bob: Person<'a>,
    pub carol: Person<'a>,
    pub group: i64,
    pub direct: i64,
    pub png: Vec<u8>,
    /// Every message body that should show, as sent (after edits).
    pub bodies: Vec<String>,
}

/// People, a group and a direct chat, an edit, a deletion, reactions, an image in the
/// group and a PDF in the direct chat.
pub async fn seed(app: &TestApp) -> Team<'_> {
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let carol = app.signup("carol").await;
    let group = alice.group("Launch <b>crew</b>", &["bob", "carol"]).await;
    let direct = alice.chat_with("bob").await;

    let hello = alice.say(group, "Hello team").await;
    bob.say(group, SCRIPT).await;
    let typo = carol.say(group, "Mee too").await;
    let edited = carol
        .patch(
            &format!("/api/chats/{group}/messages/{}", typo["id"]),
            json!({ "body": "Me too" }),
        )
        .await;
    assert_eq!(edited.status(), Status::Ok);
    let oops = bob.say(group, "a secret I regret").await;
    let deleted = bob
        .send(
            "DELETE",
            &format!("/api/chats/{group}/messages/{}", oops["id"]),
            json!({}),
        )
        .await;
    assert_eq!(deleted.status(), Status::NoContent);
    for who in [&bob, &carol] {
        let reacted = who
            .send(
                "PUT",
                &format!(
                    "/api/chats/{group}/messages/{}/reactions/{THUMBS_UP}",
                    hello["id"]
                ),
                json!({}),
            )
            .await;
        assert_eq!(reacted.status(), Status::Ok);
    }
    let png = common::images::png(64, 48);
    let picture = alice.uploaded(group, "team photo.png", &png).await;
    let sent = alice.send_files(group, "Our photo", &[&picture]).await;
    assert_eq!(sent.status(), Status::Created);

    alice.say(direct, "Just between us").await;
    let brief = bob.uploaded(direct, "brief.pdf", PDF).await;
    let sent = bob.send_files(direct, "The brief", &[&brief]).await;
    assert_eq!(sent.status(), Status::Created);

    let bodies = [
        "Hello team",
        SCRIPT,
        "Me too",
        "Our photo",
        "Just between us",
        "The brief",
    ];
    Team {
        alice,
        bob,
        carol,
        group,
        direct,
        png,
        bodies: bodies.iter().map(|b| b.to_string()).collect(),
    }
}

/// `kanect export DIR` on the app's database (its data dir, or its PostgreSQL database),
/// as the binary, while the app still has it open.
pub fn export(app: &TestApp, dir: &Path) -> Output {
    let cwd = tempfile::tempdir().expect("a working folder");
    let data_dir = app.data_dir.display().to_string();
    let mut env = vec![("KANECT_DATA_DIR", data_dir.as_str())];
    if app.is_postgres() {
        env.push(("KANECT_DATABASE_URL", app.database_url.as_str()));
    }
    let target = dir.display().to_string();
    process::run(&process::binary(), cwd.path(), &env, &["export", &target])
}

fn archive(dir: &Path) -> Value {
    let json = std::fs::read(dir.join("kanect-export.json")).expect("kanect-export.json");
    serde_json::from_slice(&json).expect("the export parses as JSON")
}

/// Every file under `dir`, by path relative to it.
fn every_file(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut found = BTreeMap::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).expect("a readable folder") {
            let path: PathBuf = entry.expect("an entry").path();
            if path.is_dir() {
                folders.push(path);
            } else {
                let name = path
                    .strip_prefix(dir)
                    .expect("inside")
                    .display()
                    .to_string();
                found.insert(name, std::fs::read(&path).expect("a readable file"));
            }
        }
    }
    found
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// The fields a message has both in the API and in the archive.
fn compared(message: &Value) -> Value {
    json!({
        "id": message["id"],
        "sender": message["sender"],
        "body": message["body"],
        "created_at": message["created_at"],
        "edited_at": message["edited_at"],
        "reactions": message["reactions"],
        "attachments": message["attachments"].as_array().expect("attachments").iter().map(|a| json!({
            "id": a["id"], "name": a["name"], "size": a["size"],
            "content_type": a["content_type"], "width": a["width"], "height": a["height"],
        })).collect::<Vec<_>>(),
    })
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[rocket::async_test]
async fn a_team_export_round_trips_as_json_and_holds_no_password_hash() {
    let app = TestApp::new().await;
    let team = seed(&app).await;
    let out = tempfile::tempdir().expect("a folder");
    let dir = out.path().join("archive");
    let done = export(&app, &dir);
    assert!(done.status.success(), "export: {}", stderr(&done));
    let summary = String::from_utf8_lossy(&done.stdout).into_owned();
    assert!(
        summary.contains("2 chats, 7 messages, 2 files"),
        "summary: {summary}"
    );

    // Owner-only, as the database is: it holds every conversation and email address.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode =
            |path: &Path| std::fs::metadata(path).expect("there").permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join("kanect-export.json")), 0o600);
        assert_eq!(mode(&dir.join("index.html")), 0o600);
    }

    let archive = archive(&dir);
    assert_eq!(archive["format"], "kanect-export");
    let people: Vec<&str> = archive["people"]
        .as_array()
        .expect("people")
        .iter()
        .map(|p| p["username"].as_str().expect("a username"))
        .collect();
    assert_eq!(people, ["alice", "bob", "carol"]);
    assert_eq!(archive["people"][1]["email"], "bob@example.com");
    for person in archive["people"].as_array().expect("people") {
        let keys = common::keys(person);
        assert!(
            !keys.iter().any(|k| k.contains("password")),
            "no password field: {keys:?}"
        );
    }

    // Each chat as alice's API shows it: title, kind, members, every message.
    let chats = archive["chats"].as_array().expect("chats");
    assert_eq!(chats.len(), 2);
    for id in [team.group, team.direct] {
        let api = team.alice.chat(id).await;
        let exported = chats
            .iter()
            .find(|c| c["id"] == id)
            .expect("the chat is exported");
        assert_eq!(exported["title"], api["title"]);
        assert_eq!(exported["kind"], api["kind"]);
        let mut members: Vec<Value> = exported["members"].as_array().expect("members").clone();
        let mut api_members: Vec<Value> = api["members"].as_array().expect("members").clone();
        members.sort_by_key(|m| m.to_string());
        api_members.sort_by_key(|m| m.to_string());
        assert_eq!(members, api_members);

        let history = team.alice.history(id, "limit=100").await;
        let shown: Vec<Value> = history["messages"]
            .as_array()
            .expect("messages")
            .iter()
            .map(compared)
            .collect();
        let messages = exported["messages"].as_array().expect("messages");
        let kept: Vec<Value> = messages
            .iter()
            .filter(|m| m["deleted"] == false)
            .map(compared)
            .collect();
        assert_eq!(kept, shown, "chat {id}: the export shows what the API does");
    }
    // The deleted message is there as deleted, without its text.
    let group = chats.iter().find(|c| c["id"] == team.group).expect("group");
    let deleted: Vec<&Value> = group["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter(|m| m["deleted"] == true)
        .collect();
    assert_eq!(deleted.len(), 1);
    assert_eq!(deleted[0]["body"], Value::Null);
    assert_eq!(deleted[0]["sender"], "bob");
    assert!(deleted[0]["deleted_at"].is_string());

    // The files' bytes, where the archive says they are.
    let files = every_file(&dir);
    let attachments: Vec<&Value> = chats
        .iter()
        .flat_map(|c| c["messages"].as_array().expect("messages"))
        .flat_map(|m| m["attachments"].as_array().expect("attachments"))
        .collect();
    assert_eq!(attachments.len(), 2);
    for file in attachments {
        let path = file["path"].as_str().expect("a path");
        let expected: &[u8] = if file["name"] == "brief.pdf" {
            PDF
        } else {
            &team.png
        };
        assert_eq!(files.get(path).map(Vec::as_slice), Some(expected), "{path}");
        assert!(!path.contains(' '), "a safe name: {path}");
    }

    // Nothing anywhere in the folder is a password hash, a session or a message deleted.
    for (name, bytes) in &files {
        assert!(!contains(bytes, "$argon2"), "{name} holds a password hash");
        assert!(!contains(bytes, "a secret I regret"), "{name}");
    }

    // The page shows every message as text: what people wrote never becomes markup.
    let page = String::from_utf8(files["index.html"].clone()).expect("UTF-8");
    assert!(!page.contains(SCRIPT), "the script tag is not markup");
    assert!(!page.contains("<b>crew"), "a title is not markup");
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;&#x2F;script&gt;"),
        "the script is shown escaped"
    );
    for body in &team.bodies {
        if body != SCRIPT {
            assert!(page.contains(body.as_str()), "{body} on the page");
        }
    }
    assert!(page.contains("This message was deleted."));
    // Its own policy: no script runs even if something slipped through; style from a file.
    assert!(page.contains("default-src 'none'"), "a CSP of its own");
    assert!(files.contains_key("archive.css"));
    assert!(!page.contains("<script"), "no script at all");
}

#[rocket::async_test]
async fn a_folder_that_is_not_empty_is_refused_and_left_as_it_was() {
    let app = TestApp::new().await;
    app.signup("alice").await;
    let dir = tempfile::tempdir().expect("a folder");
    std::fs::write(dir.path().join("notes.txt"), "keep me").expect("a file");
    let refused = export(&app, dir.path());
    assert_eq!(refused.status.code(), Some(1));
    let err = stderr(&refused);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "one line: {err}");
    assert!(
        lines[0].starts_with("error:") && lines[0].contains("is not empty"),
        "{err}"
    );
    let left = every_file(dir.path());
    assert_eq!(left.keys().collect::<Vec<_>>(), ["notes.txt"]);
    assert_eq!(left["notes.txt"], b"keep me");
}

/// The entries of a zip, by name.
pub fn unzip(bytes: Vec<u8>) -> BTreeMap<String, Vec<u8>> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip");
    let mut entries = BTreeMap::new();
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).expect("an entry");
        let mut data = Vec::new();
        entry.read_to_end(&mut data).expect("its bytes");
        entries.insert(entry.name().to_owned(), data);
    }
    entries
}

#[rocket::async_test]
async fn a_members_download_holds_only_the_chats_they_are_in() {
    let app = TestApp::new().await;
    let team = seed(&app).await;
    let response = team.carol.get("/account/data.zip").await;
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(
        common::header(&response, "Content-Type").as_deref(),
        Some("application/zip")
    );
    let disposition = common::header(&response, "Content-Disposition").expect("a download");
    assert!(disposition.starts_with("attachment"), "{disposition}");
    let entries = unzip(response.into_bytes().await.expect("a body"));
    assert!(entries.contains_key("index.html"));
    for (name, bytes) in &entries {
        assert!(!contains(bytes, "$argon2"), "{name} holds a password hash");
        assert!(
            !contains(bytes, "Just between us"),
            "{name}: not carol's chat"
        );
    }

    let archive: Value = serde_json::from_slice(&entries["kanect-export.json"]).expect("JSON");
    assert_eq!(archive["exported_for"], "carol");
    let chats: Vec<i64> = archive["chats"]
        .as_array()
        .expect("chats")
        .iter()
        .map(|c| c["id"].as_i64().expect("an id"))
        .collect();
    assert_eq!(
        chats,
        [team.group],
        "only the group: carol is not in the direct chat"
    );
    // Every message of the group, by anyone; the image, not the direct chat's PDF.
    let messages = archive["chats"][0]["messages"]
        .as_array()
        .expect("messages");
    assert_eq!(messages.len(), 5);
    let files: Vec<&String> = entries.keys().filter(|k| k.starts_with("files/")).collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(entries[files[0].as_str()], team.png);
    // Her own email; not the others'.
    for person in archive["people"].as_array().expect("people") {
        if person["username"] == "carol" {
            assert_eq!(person["email"], "carol@example.com");
        } else {
            assert!(person.get("email").is_none(), "{person}");
        }
    }

    // Once a minute per person.
    let again = team.carol.get("/account/data.zip").await;
    assert_eq!(again.status(), Status::TooManyRequests);
    assert!(common::header(&again, "Retry-After").is_some());
    // Someone else is not held up by her.
    let bobs = team.bob.get("/account/data.zip").await;
    assert_eq!(bobs.status(), Status::Ok);
    let bobs: Value = serde_json::from_slice(
        &unzip(bobs.into_bytes().await.expect("a body"))["kanect-export.json"],
    )
    .expect("JSON");
    assert_eq!(bobs["chats"].as_array().expect("chats").len(), 2);
}

#[rocket::async_test]
async fn a_stranger_is_sent_to_sign_in() {
    let app = TestApp::new().await;
    seed(&app).await;
    let response = app.anonymous("GET", "/account/data.zip").await;
    assert_eq!(response.status(), Status::SeeOther);
    assert!(common::location(&response).starts_with("/login"));
}

#[rocket::async_test]
async fn the_account_page_offers_the_download() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let page = alice.page("/account", Status::Ok).await;
    assert!(page.contains("href=\"/account/data.zip\""), "{page}");
    assert!(page.contains("Download my data"));
}

#[rocket::async_test]
async fn files_past_the_limit_are_refused_before_anything_is_written() {
    let app = TestApp::new().await;
    let team = seed(&app).await;
    let pools = <kanect::db::Db as rocket_db_pools::Database>::fetch(app.client.rocket())
        .expect("the database");
    let mut conn = pools.read.acquire().await.expect("a connection");
    let out = tempfile::tempdir().expect("a folder");
    let dir = out.path().join("archive");
    let mut sink = kanect::export::DirSink::create(&dir).expect("a new folder");
    let refused = kanect::export::write(
        &mut conn,
        kanect::db::export::Scope::Member(kanect::model::UserId(team.carol.id)),
        &mut sink,
        Some(100),
    )
    .await;
    assert!(
        matches!(refused, Err(kanect::export::ExportError::TooLarge { .. })),
        "{refused:?}"
    );
    assert!(every_file(&dir).is_empty(), "nothing was written");
    // The refused export ended its snapshot: a download after it sees a message sent since.
    drop(conn);
    team.alice.say(team.group, "after the refusal").await;
    let response = team.carol.get("/account/data.zip").await;
    assert_eq!(response.status(), Status::Ok);
    let entries = unzip(response.into_bytes().await.expect("a zip"));
    assert!(contains(
        &entries["kanect-export.json"],
        "after the refusal"
    ));
}
