//! The PostgreSQL half of the suite: with `KANECT_TEST_DATABASE_URL` set (a server the
//! tests may create databases on), every `TestApp` runs on a database of its own there,
//! dropped after the test; without it, on SQLite. CI runs the suite both ways.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, Once};

use sqlx::{Column, ConnectOptions, Connection, Row, TypeInfo};

/// The server named by `KANECT_TEST_DATABASE_URL`, if set.
pub fn server() -> Option<String> {
    std::env::var("KANECT_TEST_DATABASE_URL")
        .ok()
        .filter(|url| !url.is_empty())
}

/// `true` (after a line saying so) when the suite runs on PostgreSQL: for tests of what
/// only an SQLite file has (its pages, a full disk, `kanect backup`).
pub fn skips(what: &str) -> bool {
    if server().is_none() {
        return false;
    }
    eprintln!("skipped on PostgreSQL: {what} is SQLite's alone");
    true
}

/// A database created for one test, dropped with it.
pub struct Database {
    pub url: String,
    server: String,
    name: String,
}

impl Database {
    /// A new, empty database on the test server; `None` without one.
    pub async fn create() -> Option<Database> {
        let server = server()?;
        let name = blocking({
            let server = server.clone();
            move || create_on(&server)
        });
        Some(Database {
            url: with_database(&server, &name),
            server,
            name,
        })
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let (server, name) = (self.server.clone(), self.name.clone());
        blocking(move || drop_on(&server, &name));
    }
}

/// The database of a data directory that several apps or processes use in turn (a
/// restart, the command line then the server), created at its first use and kept until
/// the test binary's next run sweeps it; `None` without a test server.
pub fn database_for(dir: &Path) -> Option<String> {
    static BY_DIR: Mutex<BTreeMap<PathBuf, String>> = Mutex::new(BTreeMap::new());
    let server = server()?;
    let mut by_dir = BY_DIR
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let name = by_dir.entry(dir.to_path_buf()).or_insert_with(|| {
        let server = server.clone();
        blocking(move || create_on(&server))
    });
    Some(with_database(&server, name))
}

/// Runs `work` to the end on a thread and runtime of its own: `Drop` and the command-line
/// tests cannot wait for a future on the test's runtime.
fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::spawn(work)
        .join()
        .expect("the database work finishes")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

/// Creates a database named for this process (after sweeping those of test processes
/// that are gone); its name.
fn create_on(server: &str) -> String {
    static COUNT: AtomicU64 = AtomicU64::new(0);
    static SWEPT: Once = Once::new();
    SWEPT.call_once(|| sweep(server));
    let name = format!(
        "kanect_test_{}_{}_{}",
        std::process::id(),
        COUNT.fetch_add(1, Ordering::Relaxed),
        rand::random::<u32>()
    );
    runtime().block_on(async {
        let mut admin = sqlx::PgConnection::connect(server)
            .await
            .expect("connect to KANECT_TEST_DATABASE_URL");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .expect("create a test database");
        let _ = admin.close().await;
    });
    name
}

fn drop_on(server: &str, name: &str) {
    runtime().block_on(async {
        let Ok(mut admin) = sqlx::PgConnection::connect(server).await else {
            return;
        };
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut admin)
            .await;
        let _ = admin.close().await;
    });
}

/// Drops the test databases of test processes no longer running.
fn sweep(server: &str) {
    let names: Vec<String> = runtime().block_on(async {
        let Ok(mut admin) = sqlx::PgConnection::connect(server).await else {
            return Vec::new();
        };
        sqlx::query_scalar(
            "SELECT datname::text FROM pg_database WHERE datname LIKE 'kanect_test_%'",
        )
        .fetch_all(&mut admin)
        .await
        .unwrap_or_default()
    });
    for name in names {
        let pid = name.split('_').nth(2).unwrap_or_default();
        if !Path::new("/proc").join(pid).exists() {
            drop_on(server, &name);
        }
    }
}

/// `server`'s URL naming database `name` instead.
pub fn with_database(server: &str, name: &str) -> String {
    let mut url = url::Url::parse(server).expect("KANECT_TEST_DATABASE_URL is a URL");
    url.set_path(name);
    url.to_string()
}

fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres")
}

/// Runs `sql` on the app's database: `url` on PostgreSQL, else the file `file`.
pub async fn execute(url: &str, file: &Path, sql: &str) {
    if is_postgres(url) {
        let mut conn = postgres(url).await;
        // A bare string runs as a simple query: several statements are fine.
        sqlx::Executor::execute(&mut conn, sql)
            .await
            .expect("run SQL");
    } else {
        let mut conn = sqlite(file).await;
        sqlx::query(sql).execute(&mut conn).await.expect("run SQL");
    }
}

/// The first column of every row `sql` answers, as integers (a flag as 1 or 0).
pub async fn ints(url: &str, file: &Path, sql: &str) -> Vec<i64> {
    if is_postgres(url) {
        let mut conn = postgres(url).await;
        let rows = sqlx::query(sql)
            .fetch_all(&mut conn)
            .await
            .expect("run SQL");
        rows.iter()
            .map(|row| match row.columns()[0].type_info().name() {
                "INT4" => row.get::<Option<i32>, _>(0).map(i64::from),
                "BOOL" => row.get::<Option<bool>, _>(0).map(i64::from),
                _ => row.get::<Option<i64>, _>(0),
            })
            .map(|value| value.unwrap_or(0))
            .collect()
    } else {
        let mut conn = sqlite(file).await;
        sqlx::query_scalar(sql)
            .fetch_all(&mut conn)
            .await
            .expect("run SQL")
    }
}

/// The one text `sql` answers.
pub async fn text(url: &str, file: &Path, sql: &str) -> String {
    if is_postgres(url) {
        let mut conn = postgres(url).await;
        sqlx::query_scalar(sql)
            .fetch_one(&mut conn)
            .await
            .expect("run SQL")
    } else {
        let mut conn = sqlite(file).await;
        sqlx::query_scalar(sql)
            .fetch_one(&mut conn)
            .await
            .expect("run SQL")
    }
}

/// Every text the first column of `sql` answers, on PostgreSQL.
pub async fn texts(url: &str, sql: &str) -> Vec<String> {
    let mut conn = postgres(url).await;
    sqlx::query_scalar(sql)
        .fetch_all(&mut conn)
        .await
        .expect("run SQL")
}

async fn sqlite(file: &Path) -> sqlx::SqliteConnection {
    sqlx::sqlite::SqliteConnectOptions::new()
        .filename(file)
        .connect()
        .await
        .expect("open the test database")
}

async fn postgres(url: &str) -> sqlx::PgConnection {
    sqlx::PgConnection::connect(url)
        .await
        .expect("open the test database")
}
