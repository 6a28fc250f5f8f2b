//! The command line, driven through the real binary: createsuperuser, changepassword,
//! migrate, config and backup.

use crate::common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::TestApp;
use rocket::http::Status;
use tempfile::TempDir;

const GOOD: &str = "correct-horse-battery-7";
const NEWER: &str = "violet-otter-dances-19";

/// A working directory and a data directory for one run of the binary.
struct Cli {
    /// The working directory: empty, so no Rocket.toml is picked up by accident.
    cwd: TempDir,
    data_dir: PathBuf,
}

impl Cli {
    fn new() -> Cli {
        let cwd = tempfile::tempdir().expect("temporary directory");
        let data_dir = cwd.path().join("data");
        Cli { cwd, data_dir }
    }

    /// Every username in the data directory's database, by id.
    async fn usernames(&self) -> Vec<String> {
        match common::postgres::database_for(&self.data_dir) {
            Some(url) => {
                common::postgres::texts(&url, "SELECT username FROM users ORDER BY id").await
            }
            None => usernames_in(&self.data_dir.join("kanect.db")).await,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.cwd.path().join(name)
    }

    /// `kanect --data-dir <data_dir> <args>` with `env` and `stdin`, no inherited KANECT_* or
    /// ROCKET_* variables.
    fn run(&self, args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_kanect"));
        command
            .current_dir(self.cwd.path())
            .arg("--data-dir")
            .arg(&self.data_dir)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (key, _) in std::env::vars_os() {
            let key = key.to_string_lossy().into_owned();
            if key.starts_with("KANECT_") || key.starts_with("ROCKET_") {
                command.env_remove(key);
            }
        }
        // On PostgreSQL the data directory's database goes with it.
        if let Some(url) = common::postgres::database_for(&self.data_dir) {
            command.env("KANECT_DATABASE_URL", url);
        }
        command.envs(env.iter().copied());
        command.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        let mut child = command.spawn().expect("the kanect binary runs");
        if let Some(input) = stdin {
            let mut pipe = child.stdin.take().expect("stdin");
            // The binary may exit before reading (a bad username, say): ignore EPIPE.
            let _ = pipe.write_all(input.as_bytes());
        }
        child.wait_with_output().expect("the binary finishes")
    }

    fn createsuperuser(&self, username: &str, password: &str) -> Output {
        self.run(
            &[
                "createsuperuser",
                "--username",
                username,
                "--email",
                &format!("{username}@example.com"),
                "--password-stdin",
            ],
            &[],
            Some(&format!("{password}\n")),
        )
    }
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn assert_ok(output: &Output, what: &str) {
    assert!(
        output.status.success(),
        "{what} succeeds; stdout: {}\nstderr: {}",
        stdout(output),
        stderr(output)
    );
}

/// Asserts a failure a person caused: non-zero exit, one `error:` line, no panic.
fn assert_one_line_error(output: &Output, what: &str) -> String {
    let err = stderr(output);
    assert!(!output.status.success(), "{what} fails; stderr: {err}");
    assert!(!err.contains("panicked"), "{what} panicked: {err}");
    assert!(!err.contains("RUST_BACKTRACE"), "{what}: {err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "{what}: exactly one line on stderr: {err:?}"
    );
    assert!(lines[0].starts_with("error:"), "{what}: {err:?}");
    assert!(
        lines[0].len() > "error: ".len() + 5,
        "{what}: a clear message"
    );
    lines[0].to_owned()
}

/// How many users a SQLite file holds, and their names.
async fn usernames_in(file: &Path) -> Vec<String> {
    use sqlx::ConnectOptions;
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(file)
        .read_only(true)
        .connect()
        .await
        .expect("the file opens with SQLite");
    sqlx::query_scalar("SELECT username FROM users ORDER BY id")
        .fetch_all(&mut conn)
        .await
        .expect("it has a users table")
}

/// Posts the sign-in form and tells whether it signed in.
async fn signs_in(app: &TestApp, username: &str, password: &str) -> bool {
    let visitor = app.visitor("/login").await;
    let response = visitor
        .post_form("/login", &[("username", username), ("password", password)])
        .await;
    response.status() == Status::SeeOther && response.cookies().get("kanect_session").is_some()
}

#[rocket::async_test]
async fn the_admin_creates_a_superuser_who_can_sign_in() {
    let cli = Cli::new();
    let output = cli.createsuperuser("root", GOOD);
    assert_ok(&output, "createsuperuser");
    assert!(stdout(&output).contains("root"), "{}", stdout(&output));

    let app = TestApp::over(&cli.data_dir).await;
    let root = app.login("root", GOOD).await;
    let me = root.get_json("/api/me", Status::Ok).await;
    assert_eq!(me["username"], "root");
    assert_eq!(me["email"], "root@example.com");
    assert_eq!(me["role"], "superuser");
}

#[rocket::async_test]
async fn a_taken_username_is_one_clear_error() {
    let cli = Cli::new();
    assert_ok(&cli.createsuperuser("root", GOOD), "first createsuperuser");
    let line = assert_one_line_error(&cli.createsuperuser("ROOT", GOOD), "duplicate");
    assert!(line.contains("taken") || line.contains("exists"), "{line}");
    assert_eq!(cli.usernames().await, ["root"]);
}

#[rocket::async_test]
async fn a_name_that_passes_for_another_is_one_clear_error() {
    let cli = Cli::new();
    assert_ok(&cli.createsuperuser("root", GOOD), "first createsuperuser");
    assert_ok(&cli.createsuperuser("cop", GOOD), "second createsuperuser");
    for (fake, words) in [
        ("r\u{43e}ot", "one alphabet"),             // Cyrillic о
        ("ｒｏｏｔ", "taken"),                      // fullwidth
        ("𝐫𝐨𝐨𝐭", "U+1D42B"),                        // mathematical bold
        ("\u{280}oot", "U+0280"),                   // small capital R
        ("root\u{3164}", "U+3164"),                 // Hangul filler: blank
        ("\u{433}\u{43e}\u{43e}t", "one alphabet"), // Cyrillic г and о
        ("\u{441}\u{43e}\u{440}", "looks like"),    // all Cyrillic "сор"
    ] {
        let line = assert_one_line_error(&cli.createsuperuser(fake, GOOD), fake);
        assert!(line.contains(words), "{fake}: {line}");
    }
    assert_eq!(cli.usernames().await, ["root", "cop"]);
}

#[rocket::async_test]
async fn a_poll_wait_max_s_out_of_range_is_one_clear_error() {
    let cli = Cli::new();
    for value in ["0", "301", "100000000000", "18446744073709551615"] {
        let env = [("KANECT_POLL_WAIT_MAX_S", value)];
        for command in ["check", "migrate", "config"] {
            let what = format!("{command} with poll_wait_max_s = {value}");
            let line = assert_one_line_error(&cli.run(&[command], &env, None), &what);
            assert!(
                line.contains("poll_wait_max_s")
                    && line.contains("1 to 300")
                    && line.contains("KANECT_POLL_WAIT_MAX_S"),
                "{what}: {line}"
            );
        }
    }
    let output = cli.run(&["config"], &[("KANECT_POLL_WAIT_MAX_S", "300")], None);
    assert_ok(&output, "config with poll_wait_max_s = 300");
}

#[rocket::async_test]
async fn a_weak_password_is_refused() {
    let cli = Cli::new();
    assert_ok(&cli.run(&["migrate"], &[], None), "migrate");
    for (username, password) in [
        ("root", "password"),
        ("root", "Zq7#k"),
        ("root", "48291057366"),
        ("rootadmin", "rootadmin1"),
        ("root", ""),
    ] {
        let output = cli.createsuperuser(username, password);
        let line = assert_one_line_error(&output, &format!("password {password:?}"));
        assert!(line.contains("password"), "{line}");
        // ("password" itself is a word of every such message.)
        if !password.is_empty() && password != "password" {
            assert!(
                !line.contains(password),
                "the password is not echoed: {line}"
            );
        }
    }
    let app = TestApp::over(&cli.data_dir).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 0);
}

#[rocket::async_test]
async fn a_bad_username_is_refused() {
    let cli = Cli::new();
    for username in ["a b", "x", "<root>", ""] {
        let output = cli.createsuperuser(username, GOOD);
        let line = assert_one_line_error(&output, &format!("username {username:?}"));
        assert!(line.contains("username"), "{line}");
    }
}

#[rocket::async_test]
async fn without_a_terminal_the_password_must_come_from_stdin() {
    let cli = Cli::new();
    let output = cli.run(&["createsuperuser", "--username", "root"], &[], None);
    let line = assert_one_line_error(&output, "no terminal");
    assert!(line.contains("--password-stdin"), "{line}");
    let output = cli.run(&["changepassword", "root"], &[], None);
    assert_one_line_error(&output, "no terminal, changepassword");
}

#[rocket::async_test]
async fn changepassword_sets_a_new_password_and_ends_sessions() {
    let cli = Cli::new();
    assert_ok(&cli.createsuperuser("root", GOOD), "createsuperuser");
    let app = TestApp::over(&cli.data_dir).await;
    let before = app.login("root", GOOD).await;
    assert_eq!(before.get("/api/me").await.status(), Status::Ok);

    let output = cli.run(
        &["changepassword", "root", "--password-stdin"],
        &[],
        Some(&format!("{NEWER}\n")),
    );
    assert_ok(&output, "changepassword");
    app.settle().await;

    assert_eq!(
        before.get("/api/me").await.status(),
        Status::Unauthorized,
        "the session from before has ended"
    );
    assert!(
        !signs_in(&app, "root", GOOD).await,
        "the old password fails"
    );
    assert!(
        signs_in(&app, "root", NEWER).await,
        "the new password works"
    );
}

#[rocket::async_test]
async fn changepassword_refuses_a_weak_password_and_keeps_the_old_one() {
    let cli = Cli::new();
    assert_ok(&cli.createsuperuser("root", GOOD), "createsuperuser");
    let output = cli.run(
        &["changepassword", "root", "--password-stdin"],
        &[],
        Some("12345678\n"),
    );
    assert_one_line_error(&output, "weak new password");
    let app = TestApp::over(&cli.data_dir).await;
    assert!(signs_in(&app, "root", GOOD).await);
}

#[rocket::async_test]
async fn changepassword_for_nobody_is_one_clear_error() {
    let cli = Cli::new();
    assert_ok(&cli.createsuperuser("root", GOOD), "createsuperuser");
    let output = cli.run(
        &["changepassword", "nobody", "--password-stdin"],
        &[],
        Some(&format!("{NEWER}\n")),
    );
    let line = assert_one_line_error(&output, "changepassword nobody");
    assert!(line.contains("nobody"), "{line}");
}

#[rocket::async_test]
async fn migrate_says_the_database_is_up_to_date() {
    let cli = Cli::new();
    for round in ["first", "second"] {
        let output = cli.run(&["migrate"], &[], None);
        assert_ok(&output, &format!("{round} migrate"));
        assert!(
            stdout(&output).contains("up to date"),
            "{round}: {}",
            stdout(&output)
        );
    }
    match common::postgres::database_for(&cli.data_dir) {
        Some(url) => {
            let applied = common::postgres::ints(
                &url,
                &cli.data_dir,
                "SELECT count(*) FROM _sqlx_migrations",
            )
            .await;
            let known = kanect::db::MIGRATOR_POSTGRES.iter().count();
            assert_eq!(applied, [i64::try_from(known).unwrap()]);
        }
        None => assert!(cli.data_dir.join("kanect.db").is_file()),
    }
}

/// The `kanect config` line for `key`.
fn config_line<'a>(output: &'a str, key: &str) -> &'a str {
    output
        .lines()
        .find(|line| {
            line.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .unwrap_or_else(|| panic!("a line for {key} in:\n{output}"))
}

/// The source part of a config line (after `#`).
fn source(line: &str) -> &str {
    line.rsplit_once('#')
        .map(|(_, s)| s.trim())
        .unwrap_or_default()
}

#[rocket::async_test]
async fn config_prints_every_key_and_where_it_came_from() {
    let cli = Cli::new();
    let output = cli.run(&["config"], &[], None);
    assert_ok(&output, "config");
    let text = stdout(&output);
    for key in [
        "address",
        "port",
        "data_dir",
        "database_url",
        "secret_key",
        "signup",
        "session_days",
        "poll_wait_max_s",
        "log_level",
        "tls",
    ] {
        let line = config_line(&text, key);
        assert!(!source(line).is_empty(), "{key} has a source: {line}");
    }
    for key in [
        "address",
        "signup",
        "session_days",
        "poll_wait_max_s",
        "log_level",
    ] {
        assert_eq!(source(config_line(&text, key)), "default", "{key}");
    }
    let port = config_line(&text, "port");
    assert!(port.contains("8000"), "{port}");
    assert_eq!(source(config_line(&text, "data_dir")), "command line");
    let tls = source(config_line(&text, "tls"));
    assert!(tls == "default" || tls == "not set", "tls: {tls}");
}

#[rocket::async_test]
async fn config_names_the_environment_variable_that_set_a_value() {
    let cli = Cli::new();
    let output = cli.run(
        &["config"],
        &[("KANECT_PORT", "9001"), ("KANECT_SIGNUP", "closed")],
        None,
    );
    assert_ok(&output, "config");
    let text = stdout(&output);
    let port = config_line(&text, "port");
    assert!(port.contains("9001"), "{port}");
    assert_eq!(source(port), "environment KANECT_PORT");
    let signup = config_line(&text, "signup");
    assert!(signup.contains("closed"), "{signup}");
    assert_eq!(source(signup), "environment KANECT_SIGNUP");
}

#[rocket::async_test]
async fn config_names_the_file_that_set_a_value() {
    let cli = Cli::new();
    let file = cli.path("file.toml");
    std::fs::write(&file, "[default]\nport = 9100\nsession_days = 3\n").unwrap();
    let output = cli.run(&["--config", file.to_str().unwrap(), "config"], &[], None);
    assert_ok(&output, "config --config");
    let text = stdout(&output);
    let port = config_line(&text, "port");
    assert!(port.contains("9100"), "{port}");
    assert!(
        source(port).starts_with("file ") && source(port).ends_with("file.toml"),
        "{port}"
    );
    assert!(source(config_line(&text, "session_days")).ends_with("file.toml"));
    assert_eq!(source(config_line(&text, "signup")), "default");

    // The environment beats the file.
    let output = cli.run(
        &["--config", file.to_str().unwrap(), "config"],
        &[("KANECT_PORT", "9200")],
        None,
    );
    let text = stdout(&output);
    let port = config_line(&text, "port");
    assert!(port.contains("9200"), "{port}");
    assert_eq!(source(port), "environment KANECT_PORT");
}

#[rocket::async_test]
async fn config_with_a_missing_file_is_one_clear_error() {
    let cli = Cli::new();
    let output = cli.run(&["--config", "no-such-file.toml", "config"], &[], None);
    let line = assert_one_line_error(&output, "missing config file");
    assert!(line.contains("no-such-file.toml"), "{line}");
}

#[rocket::async_test]
async fn config_never_shows_the_secret_key() {
    let cli = Cli::new();
    let secret = kanect::auth::token::new_secret_key();
    let output = cli.run(&["config"], &[("KANECT_SECRET_KEY", &secret)], None);
    assert_ok(&output, "config");
    let text = stdout(&output);
    assert!(!text.contains(&secret), "the secret is printed:\n{text}");
    assert!(
        !text.contains(&secret[..12]),
        "part of the secret is printed"
    );
    let line = config_line(&text, "secret_key");
    assert!(line.contains("****"), "masked: {line}");
    assert_eq!(source(line), "environment KANECT_SECRET_KEY");
    assert!(!stderr(&output).contains(&secret[..12]));

    let file = cli.path("secret.toml");
    std::fs::write(&file, format!("[default]\nsecret_key = \"{secret}\"\n")).unwrap();
    let output = cli.run(&["--config", file.to_str().unwrap(), "config"], &[], None);
    let text = stdout(&output);
    assert!(
        !text.contains(&secret[..12]),
        "the secret is printed:\n{text}"
    );
    assert!(config_line(&text, "secret_key").contains("****"));
}

#[rocket::async_test]
async fn backup_makes_a_copy_that_sqlite_opens() {
    if common::postgres::skips("`kanect backup` of an SQLite file") {
        return;
    }
    let cli = Cli::new();
    assert_ok(&cli.createsuperuser("root", GOOD), "createsuperuser");
    let app = TestApp::over(&cli.data_dir).await;
    let root = app.login("root", GOOD).await;
    // Data written through the running app is in the copy too.
    app.signup("alice").await;
    let chat = root.chat_with("alice").await;
    root.say(chat, "backed up").await;

    let copy = cli.path("copy.db");
    let output = cli.run(&["backup", copy.to_str().unwrap()], &[], None);
    assert_ok(&output, "backup");
    assert_eq!(usernames_in(&copy).await, ["root", "alice"]);

    let mut conn = {
        use sqlx::ConnectOptions;
        // Not read-only: the integrity check below covers the search index, which
        // SQLite checks with a write-shaped statement.
        sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&copy)
            .connect()
            .await
            .unwrap()
    };
    let body: String = sqlx::query_scalar("SELECT body FROM messages")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(body, "backed up");
    let verdict: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(verdict, "ok");
}

/// A backup holds the files too: restored, it serves the same bytes.
#[rocket::async_test]
async fn a_backup_restores_into_a_server_that_serves_the_same_files() {
    if common::postgres::skips("`kanect backup` of an SQLite file") {
        return;
    }
    let cli = Cli::new();
    assert_ok(&cli.createsuperuser("root", GOOD), "createsuperuser");
    let photo = common::images::png(900, 700);
    let dump = common::images::noise(1_100_000);
    let (chat, files) = {
        let app = TestApp::over(&cli.data_dir).await;
        let root = app.login("root", GOOD).await;
        app.signup("alice").await;
        let chat = root.chat_with("alice").await;
        let files = [
            root.uploaded(chat, "photo.png", &photo).await,
            root.uploaded(chat, "dump.bin", &dump).await,
        ];
        let sent = root.send_files(chat, "", &[&files[0], &files[1]]).await;
        assert_eq!(sent.status(), Status::Created);
        (chat, files)
    };
    let copy = cli.path("copy.db");
    assert_ok(
        &cli.run(&["backup", copy.to_str().unwrap()], &[], None),
        "backup",
    );

    // Restored as the database of a new data directory.
    let restored = tempfile::tempdir().unwrap();
    std::fs::copy(&copy, restored.path().join("kanect.db")).unwrap();
    let app = TestApp::over(restored.path()).await;
    let alice = app.login("alice", common::PASSWORD).await;
    let message = &alice.history(chat, "").await["messages"][0];
    assert_eq!(message["attachments"], serde_json::json!(files));
    for (file, bytes) in files.iter().zip([&photo, &dump]) {
        let url = file["url"].as_str().unwrap();
        let served = alice.get(url).await.into_bytes().await.unwrap_or_default();
        assert!(
            &served == bytes,
            "{url} serves other bytes after the restore"
        );
    }
    let thumbnail = alice.get(files[0]["thumbnail_url"].as_str().unwrap()).await;
    assert_eq!(thumbnail.status(), Status::Ok);
}

#[rocket::async_test]
async fn backup_never_overwrites_a_file() {
    if common::postgres::skips("`kanect backup` of an SQLite file") {
        return;
    }
    let cli = Cli::new();
    assert_ok(&cli.createsuperuser("root", GOOD), "createsuperuser");
    let existing = cli.path("existing.db");
    std::fs::write(&existing, b"precious").unwrap();
    let output = cli.run(&["backup", existing.to_str().unwrap()], &[], None);
    let line = assert_one_line_error(&output, "backup onto a file");
    assert!(line.contains("exists"), "{line}");
    assert_eq!(std::fs::read(&existing).unwrap(), b"precious");
}

#[rocket::async_test]
async fn an_unknown_command_is_refused_without_a_panic() {
    let cli = Cli::new();
    let output = cli.run(&["frobnicate"], &[], None);
    assert!(!output.status.success());
    assert!(!stderr(&output).contains("panicked"));
}

#[rocket::async_test]
async fn every_command_names_the_data_dir_it_used() {
    let cli = Cli::new();
    let shown = format!("data dir {}", cli.data_dir.display());
    assert!(cli.data_dir.is_absolute());
    let copy = cli.path("copy.db");
    let copy = copy.to_string_lossy();
    let runs: Vec<(&str, Output)> = vec![
        ("migrate", cli.run(&["migrate"], &[], None)),
        ("createsuperuser", cli.createsuperuser("root", GOOD)),
        (
            "changepassword",
            cli.run(
                &["changepassword", "root", "--password-stdin"],
                &[],
                Some(&format!("{NEWER}\n")),
            ),
        ),
        ("config", cli.run(&["config"], &[], None)),
        ("check", cli.run(&["check"], &[], None)),
    ];
    for (what, output) in &runs {
        assert_ok(output, what);
        let err = stderr(output);
        assert_eq!(
            err.lines().filter(|l| l.contains(&shown)).count(),
            1,
            "{what} names its data dir once: {err}"
        );
    }
    if common::postgres::database_for(&cli.data_dir).is_none() {
        let output = cli.run(&["backup", &copy], &[], None);
        assert_ok(&output, "backup");
        assert!(stderr(&output).contains(&shown), "{}", stderr(&output));
    }
    // An error names it in its one line.
    let output = cli.run(
        &["changepassword", "nobody", "--password-stdin"],
        &[],
        Some("x\n"),
    );
    let line = assert_one_line_error(&output, "changepassword nobody");
    assert!(line.contains(&shown), "{line}");
}

#[rocket::async_test]
async fn createsuperuser_ends_the_browsers_first_run() {
    let cli = Cli::new();
    let app = TestApp::over(&cli.data_dir).await;
    let code_file = cli.data_dir.join("setup_code");
    assert!(code_file.exists(), "a first run has a setup code");
    assert_eq!(
        app.client
            .get("/")
            .dispatch()
            .await
            .headers()
            .get_one("Location"),
        Some("/setup")
    );
    let output = cli.createsuperuser("root", GOOD);
    assert_ok(&output, "createsuperuser");
    assert!(!code_file.exists(), "the setup code is gone");
    assert_eq!(
        app.client.get("/setup").dispatch().await.status(),
        Status::NotFound
    );
    let home = app.client.get("/").dispatch().await;
    let to = home.headers().get_one("Location").unwrap_or_default();
    assert!(to.starts_with("/login"), "{to}");
    assert!(signs_in(&app, "root", GOOD).await);
}
