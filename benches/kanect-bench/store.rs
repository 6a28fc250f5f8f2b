//! Where a run's data lives: the SQLite file of a data dir, or a PostgreSQL database made
//! for the run on the server `--database-url` names (`kanect_bench_<pid>_<random>`, as
//! the tests make theirs) and dropped at its end.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use kanect::db::{ConnRef, On};
use sqlx::postgres::PgConnectOptions;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection as _, PgConnection, SqliteConnection};

use crate::client::Result;

/// The database the server under test uses.
pub enum Store {
    /// `kanect.db` in the data dir.
    Sqlite(PathBuf),
    /// A database URL (`postgres://…/kanect_bench_…`).
    Postgres(String),
}

/// A connection to a [`Store`], of either kind.
pub struct Connection(On<SqliteConnection, PgConnection>);

impl Store {
    /// A connection that writes (seeding), with SQLite's foreign keys enforced as the
    /// server's own connections enforce them.
    pub async fn open(&self) -> Result<Connection> {
        Ok(Connection(match self {
            Store::Sqlite(file) => On::Sqlite(
                SqliteConnectOptions::new()
                    .filename(file)
                    .foreign_keys(true)
                    .connect()
                    .await?,
            ),
            Store::Postgres(url) => On::Postgres(admin(url).await?),
        }))
    }

    /// A connection for checks after a phase: on SQLite read-only, so that the bench
    /// cannot take the write lock from the server it measures.
    pub async fn open_read_only(&self) -> Result<Connection> {
        match self {
            Store::Sqlite(file) => Ok(Connection(On::Sqlite(
                SqliteConnectOptions::new()
                    .filename(file)
                    .read_only(true)
                    .connect()
                    .await?,
            ))),
            Store::Postgres(_) => self.open().await,
        }
    }
}

impl Connection {
    /// The connection, borrowed, as `kanect::on!` takes it: a body compiled per backend.
    pub fn on(&mut self) -> ConnRef<'_> {
        match &mut self.0 {
            On::Sqlite(conn) => On::Sqlite(conn),
            On::Postgres(conn) => On::Postgres(conn),
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.0, On::Postgres(_))
    }

    pub async fn close(self) -> Result<()> {
        match self.0 {
            On::Sqlite(conn) => conn.close().await?,
            On::Postgres(conn) => conn.close().await?,
        }
        Ok(())
    }
}

/// Prefix of the databases the bench makes; `_<pid>_<random>` follows.
const PREFIX: &str = "kanect_bench_";

/// A database of the run's own on a PostgreSQL server. `drop` removes it; a run that
/// ends before (an error, Ctrl-C) leaves it to the next run's sweep.
pub struct Fresh {
    server: String,
    pub name: String,
    pub url: String,
}

impl Fresh {
    /// Sweeps databases of bench runs no longer running, then creates a new one.
    pub async fn create(server: &str) -> Result<Fresh> {
        let mut admin = admin(server).await?;
        sweep(&mut admin).await?;
        let name = format!("{PREFIX}{}_{}", std::process::id(), rand::random::<u32>());
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await?;
        admin.close().await?;
        let mut url = url::Url::parse(server)?;
        url.set_path(&name);
        Ok(Fresh {
            server: server.to_owned(),
            name,
            url: url.to_string(),
        })
    }

    /// Drops the database, ending whatever connections are still open to it.
    pub async fn drop(self) -> Result<()> {
        let mut admin = admin(&self.server).await?;
        drop_database(&mut admin, &self.name).await?;
        admin.close().await?;
        Ok(())
    }
}

/// A connection to the database `url` names (for the server's own, the one
/// `--database-url` names), quiet: sqlx would log every statement at info level.
async fn admin(url: &str) -> Result<PgConnection> {
    let options = PgConnectOptions::from_str(url)?
        .application_name("kanect-bench")
        .disable_statement_logging();
    Ok(options.connect().await?)
}

async fn drop_database(admin: &mut PgConnection, name: &str) -> Result<()> {
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(admin)
        .await?;
    Ok(())
}

/// Drops the databases of earlier runs whose process is gone (one stopped by Ctrl-C).
async fn sweep(admin: &mut PgConnection) -> Result<()> {
    let names: Vec<String> =
        sqlx::query_scalar("SELECT datname::text FROM pg_database WHERE datname LIKE $1")
            .bind(format!("{}%", PREFIX.replace('_', r"\_")))
            .fetch_all(&mut *admin)
            .await?;
    for name in names {
        let pid = name
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split('_').next())
            .unwrap_or_default();
        if !pid.is_empty() && !Path::new("/proc").join(pid).exists() {
            eprintln!("dropping {name}, left by an earlier run");
            drop_database(admin, &name).await?;
        }
    }
    Ok(())
}
