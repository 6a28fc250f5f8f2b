//! The appliance: one binary that runs from an empty folder with only environment
//! variables, `kanect check`, refusing a database from a newer Kanect, and what the logs
//! may and may not say. These drive the real binary (see `process`).

use crate::process;

use std::path::{Path, PathBuf};
use std::time::Duration;

use process::{Browser, Server, PASSWORD};

mod damaged;

/// Every file the binary should serve under /assets/, as it is in the source tree.
fn asset_files() -> Vec<(String, Vec<u8>)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        for entry in std::fs::read_dir(dir).expect("assets/ is readable") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let name = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                // The Tailwind source is not served; its compiled app.css is.
                if name != "css/input.css" {
                    out.push((name, std::fs::read(&path).unwrap()));
                }
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets");
    let mut out = Vec::new();
    walk(&root, &root, &mut out);
    out.sort();
    out
}

/// Every asset a page names is one the binary serves, under its hashed name
/// (`dist/chat.3f2a1c9e04b7.js` for `dist/chat.js`).
fn names_only_served_assets(page: &str, html: &str, assets: &[(String, Vec<u8>)]) {
    for (at, _) in html.match_indices("\"/assets/") {
        let name = &html[at + 9..];
        let name = &name[..name.find('"').unwrap_or(0)];
        let (head, ext) = name.rsplit_once('.').unwrap_or((name, ""));
        let (stem, hash) = head.rsplit_once('.').unwrap_or((head, ""));
        assert!(
            hash.len() == 12 && hash.bytes().all(|b| b.is_ascii_hexdigit()),
            "{page} names /assets/{name} without its hash"
        );
        let plain = format!("{stem}.{ext}");
        assert!(
            assets.iter().any(|(known, _)| *known == plain),
            "{page} names /assets/{name}"
        );
    }
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The one `error: …` line a failed command prints.
fn one_error_line(output: &std::process::Output, what: &str) -> String {
    assert!(!output.status.success(), "{what} fails");
    assert_eq!(output.status.code(), Some(1), "{what}: exit code 1");
    let err = stderr(output);
    assert!(!err.contains("panicked"), "{what}: {err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "{what}: one line: {err}");
    assert!(lines[0].starts_with("error: "), "{what}: {err}");
    lines[0].to_owned()
}

#[test]
fn the_binary_alone_in_an_empty_folder_serves_every_page_and_asset() {
    let folder = tempfile::tempdir().unwrap();
    let bin = folder.path().join("kanect");
    std::fs::copy(process::binary(), &bin).expect("copy the binary");
    let server = Server::start(
        &bin,
        folder.path(),
        &[("KANECT_DATA_DIR", "data"), ("KANECT_LOG_LEVEL", "warn")],
    );
    eprintln!(
        "binary {} ({} bytes): healthy {} ms after start",
        process::binary().display(),
        std::fs::metadata(&bin).unwrap().len(),
        server.started_in.as_millis()
    );

    let mut visitor = Browser::new(&server);
    let health = visitor.get("/healthz");
    assert_eq!(health.status, 200);
    assert_eq!(health.json()["status"], "ok");
    for page in ["/login", "/signup"] {
        let reply = visitor.get(page);
        assert_eq!(reply.status, 200, "{page}");
        assert!(reply
            .header("content-type")
            .unwrap()
            .starts_with("text/html"));
        assert!(
            process::csrf_in(&reply.text()).is_some(),
            "{page} has a form"
        );
    }
    // Nobody there yet: a first run, which the browser sets up.
    let home = visitor.get("/");
    assert_eq!(home.status, 303, "a visitor is sent to set Kanect up");
    assert_eq!(home.header("location"), Some("/setup"));
    let setup = visitor.get("/setup");
    assert_eq!(setup.status, 200);
    assert!(
        process::csrf_in(&setup.text()).is_some(),
        "/setup has a form"
    );
    let missing = visitor.get("/no-such-page");
    assert_eq!(missing.status, 404);
    assert!(
        missing.text().contains("<html"),
        "a friendly page, not a bare error"
    );

    let assets = asset_files();
    assert!(assets.len() >= 10, "the assets are found: {}", assets.len());
    for (name, bytes) in &assets {
        let reply = visitor.get(&format!("/assets/{name}"));
        assert_eq!(reply.status, 200, "/assets/{name}");
        assert_eq!(
            &reply.body, bytes,
            "/assets/{name} is the file from the repository"
        );
    }

    let mut alice = Browser::signup(&server, "alice");
    Browser::signup(&server, "bob");
    let chat = alice.chat_with("bob");
    for page in ["/".to_owned(), format!("/chats/{chat}")] {
        let reply = alice.get(&page);
        assert_eq!(reply.status, 200, "{page}");
        names_only_served_assets(&page, &reply.text(), &assets);
    }
    assert_eq!(alice.get("/u/bob").status, 303);

    // The admin console, for a superuser made by the same binary.
    let env = [("KANECT_DATA_DIR", "data")];
    let made = process::run_with_input(
        &bin,
        folder.path(),
        &env,
        &["createsuperuser", "--username", "root", "--password-stdin"],
        &format!("{PASSWORD}\n"),
    );
    assert!(made.status.success(), "createsuperuser: {}", stderr(&made));
    let mut root = Browser::login(&server, "root", PASSWORD);
    let admin_pages = [
        "/admin/",
        "/admin/users/",
        "/admin/users/add/",
        "/admin/users/1/change/",
        "/admin/users/1/history/",
        "/admin/users/1/password/",
        "/admin/chats/",
        "/admin/chats/1/change/",
        "/admin/messages/",
        "/admin/log/",
    ];
    for page in admin_pages {
        let reply = root.get(page);
        assert_eq!(reply.status, 200, "{page}");
        names_only_served_assets(page, &reply.text(), &assets);
    }

    // Nothing appeared in the folder but the data directory, and the key is private.
    let mut entries: Vec<String> = std::fs::read_dir(folder.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    entries.sort();
    assert_eq!(entries, ["data", "kanect"]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let key = folder.path().join("data/secret_key");
        let mode = std::fs::metadata(key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

/// A data directory whose database `kanect migrate` has created.
fn migrated() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let output = process::run(
        &process::binary(),
        dir.path(),
        &[("KANECT_DATA_DIR", "data")],
        &["migrate"],
    );
    assert!(output.status.success(), "migrate: {}", stderr(&output));
    let db = dir.path().join("data/kanect.db");
    (dir, db)
}

async fn sql(db: &Path, statement: &str) {
    use sqlx::{ConnectOptions, Connection};
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(db)
        .connect()
        .await
        .unwrap();
    sqlx::query(statement).execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
}

#[rocket::async_test]
async fn an_older_binary_refuses_a_database_a_newer_one_has_migrated() {
    let (dir, db) = migrated();
    sql(
        &db,
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
         VALUES (9999, 'from the future', 1, x'00', 1)",
    )
    .await;
    let before = std::fs::read(&db).unwrap();
    let env = [("KANECT_DATA_DIR", "data"), ("KANECT_PORT", "0")];
    for command in ["serve", "migrate", "check"] {
        let output = process::run(&process::binary(), dir.path(), &env, &[command]);
        let line = one_error_line(&output, command);
        assert!(line.contains("newer"), "{command}: {line}");
        assert!(line.contains("9999"), "{command} names the version: {line}");
        assert!(line.contains("backup"), "{command} says what to do: {line}");
    }
    assert!(
        std::fs::read(&db).unwrap() == before,
        "the database is untouched"
    );
    // Backing up is still possible: it reads and never migrates.
    let output = process::run(&process::binary(), dir.path(), &env, &["backup", "copy.db"]);
    assert!(output.status.success(), "backup: {}", stderr(&output));
}

#[rocket::async_test]
async fn check_passes_a_healthy_installation() {
    let (dir, _) = migrated();
    let output = process::run(
        &process::binary(),
        dir.path(),
        &[("KANECT_DATA_DIR", "data")],
        &["check"],
    );
    assert!(output.status.success(), "check: {}", stderr(&output));
    let text = stdout(&output);
    for word in ["configuration", "integrity_check", "none pending"] {
        assert!(text.contains(word), "{word} in:\n{text}");
    }
    assert!(text.lines().all(|line| line.starts_with("ok: ")), "{text}");
}

#[rocket::async_test]
async fn check_names_each_problem_in_one_line() {
    let bin = process::binary();
    let empty = tempfile::tempdir().unwrap();
    let env = [("KANECT_DATA_DIR", "data")];
    let line = one_error_line(&process::run(&bin, empty.path(), &env, &["check"]), "no db");
    assert!(
        line.contains("no database") && line.contains("migrate"),
        "{line}"
    );

    let (dir, db) = migrated();
    sql(&db, "DELETE FROM _sqlx_migrations").await;
    let line = one_error_line(&process::run(&bin, dir.path(), &env, &["check"]), "pending");
    assert!(
        line.contains("migration") && line.contains("kanect migrate"),
        "{line}"
    );

    let bad_key = "not-a-key-but-a-secret-phrase";
    let with_key = [("KANECT_DATA_DIR", "data"), ("KANECT_SECRET_KEY", bad_key)];
    for command in ["check", "serve"] {
        let output = process::run(&bin, dir.path(), &with_key, &[command]);
        let line = one_error_line(&output, command);
        assert!(line.contains("secret_key"), "{line}");
        assert!(!line.contains(bad_key), "the key is not echoed: {line}");
    }

    // A secret key file others can read (the first serve writes it 0600).
    let key_file = dir.path().join("data/secret_key");
    std::fs::write(&key_file, kanect::auth::token::new_secret_key()).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let line = one_error_line(&process::run(&bin, dir.path(), &env, &["check"]), "mode");
        assert!(line.contains("chmod 600"), "{line}");
        std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    }

    let bad_config = [("KANECT_DATA_DIR", "data"), ("KANECT_PORT", "eighty")];
    let line = one_error_line(
        &process::run(&bin, dir.path(), &bad_config, &["check"]),
        "port",
    );
    assert!(line.to_lowercase().contains("port"), "{line}");

    // Damage the middle of the file: SQLite's integrity check finds it. (Out of WAL mode
    // first, so no page of the WAL hides the damaged one.)
    let (dir, db) = migrated();
    sql(&db, "PRAGMA journal_mode = DELETE").await;
    let mut bytes = std::fs::read(&db).unwrap();
    assert!(
        bytes.len() > 3 * 4096,
        "the database has pages to damage: {}",
        bytes.len()
    );
    for byte in &mut bytes[4096 + 8..4096 + 512] {
        *byte = 0x5a;
    }
    std::fs::write(&db, bytes).unwrap();
    let line = one_error_line(&process::run(&bin, dir.path(), &env, &["check"]), "damaged");
    assert!(
        line.contains("damaged") || line.contains("malformed"),
        "{line}"
    );
}

/// Sign-up, sign-in, a message, a long poll and sign-out at the chattiest log level:
/// the request lines are there, the secrets and the words are not.
#[test]
fn logs_have_a_line_per_request_and_no_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        &process::binary(),
        dir.path(),
        &[("KANECT_DATA_DIR", "data"), ("KANECT_LOG_LEVEL", "trace")],
    );
    let mut alice = Browser::signup(&server, "alice");
    Browser::signup(&server, "bob");
    let chat = alice.chat_with("bob");
    // Rejected values: a 422 each, and no log line repeats them.
    let rejected = [
        (
            "PATCH",
            format!("/api/chats/{chat}"),
            serde_json::json!({ "archived": "kiwi-rejected-77" }),
        ),
        (
            "POST",
            format!("/api/chats/{chat}/read"),
            serde_json::json!({ "up_to": "mango-rejected-78" }),
        ),
        (
            "POST",
            format!("/api/chats/{chat}/messages"),
            serde_json::json!({ "body": 31415926535u64 }),
        ),
        (
            "POST",
            "/api/chats".to_owned(),
            serde_json::json!({ "title": "t", "members": ["bob", 27182818] }),
        ),
    ];
    for (method, path, value) in &rejected {
        assert_eq!(
            alice.json(method, path, value).status,
            422,
            "{method} {path}"
        );
    }
    let body = "the-launch-code-is-swordfish";
    let sent = alice.json(
        "POST",
        &format!("/api/chats/{chat}/messages"),
        &serde_json::json!({ "body": body }),
    );
    assert_eq!(sent.status, 201);
    let mut bob = Browser::new(&server);
    let login = bob.get("/login");
    bob.csrf = process::csrf_in(&login.text()).unwrap();
    let reply = bob.post_form(
        "/login",
        &[("username", "bob"), ("password", "wrong-guess-77")],
    );
    assert_ne!(reply.status, 303, "the wrong password does not sign in");
    let reply = bob.post_form("/login", &[("username", "bob"), ("password", PASSWORD)]);
    assert_eq!(reply.status, 303);
    let polled = bob.get("/api/updates?after=0&wait=1");
    assert_eq!(polled.status, 200);
    assert!(polled.text().contains(body));
    let session = alice.cookies.get("kanect_session").cloned().unwrap();
    let csrf = alice.csrf.clone();
    assert_eq!(alice.post_form("/logout", &[]).status, 303);

    server.signal("TERM");
    let mut server = server;
    server.wait_exit(Duration::from_secs(30));
    let log = server.output();
    let request_lines: Vec<&str> = log.lines().filter(|l| l.contains("request_id=")).collect();
    assert!(
        request_lines.iter().any(|l| l.contains("method=POST")
            && l.contains(&format!("path=/api/chats/{chat}/messages"))
            && l.contains("status=201")
            && l.contains("duration_us=")),
        "a request line for the send:\n{log}"
    );
    assert!(request_lines.len() >= 10, "one line per request:\n{log}");
    for secret in [
        PASSWORD,
        "wrong-guess-77",
        body,
        "swordfish",
        session.as_str(),
        &session[..16],
        csrf.as_str(),
        "kiwi-rejected-77",
        "mango-rejected-78",
        "31415926535",
        "27182818",
    ] {
        assert!(!log.contains(secret), "{secret:?} is in the log:\n{log}");
    }
}

#[test]
fn the_log_level_comes_from_the_configuration() {
    for (level, expect_requests) in [("warn", false), ("info", true)] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("Rocket.toml"),
            format!("[default]\nlog_level = \"{level}\"\ndata_dir = \"data\"\n"),
        )
        .unwrap();
        let mut server = Server::start(&process::binary(), dir.path(), &[]);
        Browser::new(&server).get("/login");
        server.signal("INT");
        assert!(server.wait_exit(Duration::from_secs(30)).success());
        let log = server.output();
        assert_eq!(
            log.contains("path=/login status=200"),
            expect_requests,
            "log_level {level}:\n{log}"
        );
    }
}
