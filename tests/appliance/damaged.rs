//! Damaged files and a full disk: what a failed first start, a truncation, a bad page or a
//! disk with no room leaves behind, and how every command meets it. `serve`, `migrate`,
//! `check` and `backup` refuse the same files with the same line, saying what to do, and a
//! write that fails leaves nothing under the name it was going to take.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::{migrated, one_error_line, sql, stdout};
use crate::process;

const DATA: [(&str, &str); 1] = [("KANECT_DATA_DIR", "data")];

/// `kanect serve` that must refuse to start: its output once it has exited. Fails at once,
/// rather than waiting forever, if it serves instead.
fn serve_refusing(cwd: &Path, env: &[(&str, &str)]) -> Output {
    let port = process::free_port();
    let mut child = Command::new(process::binary())
        .current_dir(cwd)
        .env_clear()
        .envs(env.iter().copied())
        .env("KANECT_PORT", port.to_string())
        .arg("serve")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the kanect binary starts");
    let health = format!("http://127.0.0.1:{port}/healthz");
    let agent = process::agent();
    let deadline = Instant::now() + process::START_TIMEOUT;
    while child.try_wait().expect("try_wait").is_none() {
        if agent.get(&health).call().is_ok() {
            let _ = child.kill();
            let output = child.wait_with_output().expect("reaped");
            panic!("serve started instead of refusing:\n{}", stdout(&output));
        }
        assert!(Instant::now() < deadline, "serve neither served nor exited");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("the output")
}

/// `kanect args` as `process::run` does, unable to make any file larger than `bytes`: as
/// on a full disk, writes past it fail (EFBIG; SIGXFSZ is ignored, and stays ignored across
/// exec). Needs no privilege: anyone may lower their own limits.
#[cfg(unix)]
fn run_on_a_full_disk(cwd: &Path, args: &[&str], bytes: u64) -> Output {
    use std::os::unix::process::CommandExt;
    let mut command = Command::new(process::binary());
    command
        .current_dir(cwd)
        .env_clear()
        .envs(DATA)
        .args(args)
        .stdin(Stdio::null());
    let limit = libc::rlimit {
        rlim_cur: bytes,
        rlim_max: bytes,
    };
    // SAFETY: between fork and exec only async-signal-safe calls (setrlimit, signal).
    unsafe {
        command.pre_exec(move || {
            if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            Ok(())
        });
    }
    command.output().expect("the kanect binary runs")
}

/// The names in `dir`, sorted.
fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A migrated database of about `rows` × 200 bytes, closed: every page is in the main file.
async fn database_with_rows(rows: u32) -> (tempfile::TempDir, std::path::PathBuf) {
    let (dir, db) = migrated();
    sql(
        &db,
        &format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows})
             INSERT INTO admin_log (action_time, object_type, object_id, object_repr,
                                    action_flag, change_message)
             SELECT i, 'user', i, 'someone ' || i, 2, printf('%.180c', 'x') FROM n"
        ),
    )
    .await;
    assert!(!db.with_extension("db-wal").exists(), "no WAL holds a page");
    (dir, db)
}

#[rocket::async_test]
async fn an_empty_database_file_is_refused_by_every_command_alike() {
    // What a first start that failed, or a truncation, leaves; a new installation has no
    // file at all.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("data")).unwrap();
    let db = dir.path().join("data/kanect.db");
    std::fs::write(&db, b"").unwrap();

    let mut lines = vec![one_error_line(&serve_refusing(dir.path(), &DATA), "serve")];
    for args in [&["migrate"][..], &["check"], &["backup", "copy.db"]] {
        let output = process::run(&process::binary(), dir.path(), &DATA, args);
        lines.push(one_error_line(&output, args[0]));
    }
    for line in &lines {
        assert!(line.contains("empty file"), "{line}");
        assert!(
            line.contains("Backup and restore"),
            "says what to do: {line}"
        );
        assert!(
            line.contains("delete the file"),
            "says what else to do: {line}"
        );
    }
    assert_eq!(lines[0], lines[1], "serve and migrate say the same");
    assert_eq!(lines[0], lines[2], "serve and check say the same");
    assert_eq!(
        std::fs::metadata(&db).unwrap().len(),
        0,
        "nothing was made of it"
    );
    assert!(!dir.path().join("copy.db").exists());
}

#[rocket::async_test]
async fn a_garbage_page_in_the_middle_is_refused_by_serve_migrate_and_check_alike() {
    let (dir, db) = database_with_rows(2_000).await;
    let mut bytes = std::fs::read(&db).unwrap();
    let pages = bytes.len() / 4096;
    assert!(pages > 50, "the database has pages to damage: {pages}");
    let middle = pages / 2 * 4096;
    bytes[middle..middle + 4096].fill(0x5a);
    std::fs::write(&db, &bytes).unwrap();

    let serve = one_error_line(&serve_refusing(dir.path(), &DATA), "serve");
    let migrate = one_error_line(
        &process::run(&process::binary(), dir.path(), &DATA, &["migrate"]),
        "migrate",
    );
    let check = one_error_line(
        &process::run(&process::binary(), dir.path(), &DATA, &["check"]),
        "check",
    );
    for line in [&serve, &migrate, &check] {
        assert!(line.contains("data/kanect.db is damaged"), "{line}");
        assert!(
            line.ends_with("restore the latest backup (README, \"Backup and restore\")"),
            "says what to do: {line}"
        );
    }
    assert_eq!(serve, migrate, "serve and migrate say the same");
    assert_eq!(
        std::fs::read(&db).unwrap(),
        bytes,
        "the database is untouched"
    );
}

#[cfg(unix)]
#[rocket::async_test]
async fn a_backup_onto_a_full_disk_leaves_no_file_and_says_so() {
    let (dir, db) = database_with_rows(5_000).await;
    let size = std::fs::metadata(&db).unwrap().len();
    assert!(size > 1_000_000, "bigger than the room on the disk: {size}");
    let before = names_in(dir.path());

    let output = run_on_a_full_disk(dir.path(), &["backup", "copy.db"], 256 * 1024);
    assert!(
        !dir.path().join("copy.db").exists(),
        "no half-written copy under the name"
    );
    assert_eq!(
        names_in(dir.path()),
        before,
        "no temporary file left behind"
    );
    let line = one_error_line(&output, "backup onto a full disk");
    assert!(line.contains("copy.db"), "names the copy: {line}");
    assert!(line.contains("nothing was left"), "{line}");

    // With room, the same backup works: the limit, and nothing else, made it fail.
    let output = process::run(
        &process::binary(),
        dir.path(),
        &DATA,
        &["backup", "copy.db"],
    );
    assert!(
        output.status.success(),
        "backup: {}",
        super::stderr(&output)
    );
    // VACUUM INTO lays the copy out afresh, so its size may differ by a page or so from
    // the original's: what must match is what it holds.
    let copied = dir.path().join("copy.db");
    let copy_size = std::fs::metadata(&copied).unwrap().len();
    assert!(
        copy_size.abs_diff(size) < size / 10,
        "{copy_size} vs {size}"
    );
    assert_eq!(
        rows_in(&copied, "admin_log").await,
        5_000,
        "every row is in the copy"
    );
}

async fn rows_in(db: &Path, table: &str) -> i64 {
    use sqlx::{ConnectOptions, Connection};
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(db)
        .read_only(true)
        .connect()
        .await
        .unwrap();
    let (n,): (i64,) = sqlx::query_as(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    n
}

#[cfg(unix)]
#[rocket::async_test]
async fn a_first_start_on_a_full_disk_leaves_no_secret_key_behind() {
    let (dir, _) = migrated();
    let output = run_on_a_full_disk(dir.path(), &["serve"], 0);
    let line = one_error_line(&output, "serve on a full disk");
    assert!(line.contains("cannot write the secret key"), "{line}");
    // The database and, now and then, its WAL companions: nothing else.
    let left: Vec<String> = names_in(&dir.path().join("data"))
        .into_iter()
        .filter(|name| !name.starts_with("kanect.db"))
        .collect();
    assert!(
        left.is_empty(),
        "neither a key nor a temporary file is left: {left:?}"
    );

    // So nothing stands in the way of the next start.
    let output = process::run(&process::binary(), dir.path(), &DATA, &["check"]);
    assert!(output.status.success(), "check: {}", super::stderr(&output));
    assert!(stdout(&output).contains("secret key: none yet"));
}

#[rocket::async_test]
async fn an_empty_or_damaged_secret_key_file_is_refused_saying_what_to_do() {
    let (dir, _) = migrated();
    let key_file = dir.path().join("data/secret_key");
    for (contents, problem) in [("", "it is empty"), ("not a key\n", "256-bit key")] {
        std::fs::write(&key_file, contents).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let serve = one_error_line(&serve_refusing(dir.path(), &DATA), "serve");
        let check = one_error_line(
            &process::run(&process::binary(), dir.path(), &DATA, &["check"]),
            "check",
        );
        assert_eq!(serve, check, "serve and check say the same");
        assert!(serve.contains("data/secret_key"), "names the file: {serve}");
        assert!(serve.contains(problem), "says what is wrong: {serve}");
        assert!(
            serve.contains("delete it, and the next start generates a new one"),
            "says what to do: {serve}"
        );
        assert!(!serve.contains("not a key"), "the contents are not echoed");
    }
}
