//! The two databases behind one data layer. Every `db::` function has one body, written
//! once and compiled once per backend by [`on!`]: the body runs on whichever connection
//! the handle holds, and the few statements whose text differs pick theirs with the
//! `pg` flag the macro binds. SQL uses `$1`-style placeholders, which both drivers read.
//!
//! Why not sqlx's `Any` driver: it decodes `bool` only from a boolean (SQLite keeps 0/1),
//! has no `Json<T>`, and converts every row into owned values on the hot paths.

use sqlx::pool::PoolConnection;
use sqlx::{Executor, PgConnection, PgPool, Postgres, Sqlite, SqliteConnection, SqlitePool};

/// One value per backend: a pool, a connection, a transaction.
#[derive(Debug, Clone)]
pub enum On<S, P> {
    Sqlite(S),
    Postgres(P),
}

/// A pool of connections to whichever database (`db.read`).
pub type Pool = On<SqlitePool, PgPool>;

/// One connection of a [`Pool`], for reads that must see one snapshot.
pub type Conn = On<PoolConnection<Sqlite>, PoolConnection<Postgres>>;

impl Pool {
    pub async fn acquire(&self) -> sqlx::Result<Conn> {
        Ok(match self {
            On::Sqlite(pool) => On::Sqlite(pool.acquire().await?),
            On::Postgres(pool) => On::Postgres(pool.acquire().await?),
        })
    }

    pub async fn close(&self) {
        match self {
            On::Sqlite(pool) => pool.close().await,
            On::Postgres(pool) => pool.close().await,
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, On::Postgres(_))
    }
}

/// Whatever a `db::` function can run its statements on: a pool, one of its connections,
/// or a write transaction. `on!` turns it into the backend's own sqlx executor.
pub trait Handle<'a> {
    type Sqlite: Executor<'a, Database = Sqlite>;
    type Postgres: Executor<'a, Database = Postgres>;

    fn on(self) -> On<Self::Sqlite, Self::Postgres>;
}

impl<'a> Handle<'a> for &'a Pool {
    type Sqlite = &'a SqlitePool;
    type Postgres = &'a PgPool;

    fn on(self) -> On<Self::Sqlite, Self::Postgres> {
        match self {
            On::Sqlite(pool) => On::Sqlite(pool),
            On::Postgres(pool) => On::Postgres(pool),
        }
    }
}

impl<'a> Handle<'a> for &'a mut Conn {
    type Sqlite = &'a mut SqliteConnection;
    type Postgres = &'a mut PgConnection;

    fn on(self) -> On<Self::Sqlite, Self::Postgres> {
        match self {
            On::Sqlite(conn) => On::Sqlite(&mut **conn),
            On::Postgres(conn) => On::Postgres(&mut **conn),
        }
    }
}

/// A connection of either backend, borrowed (one that is not from a pool, say).
pub type ConnRef<'a> = On<&'a mut SqliteConnection, &'a mut PgConnection>;

impl<'a> Handle<'a> for ConnRef<'a> {
    type Sqlite = &'a mut SqliteConnection;
    type Postgres = &'a mut PgConnection;

    fn on(self) -> ConnRef<'a> {
        self
    }
}

impl Conn {
    /// This connection, borrowed.
    pub fn borrow(&mut self) -> ConnRef<'_> {
        match self {
            On::Sqlite(conn) => On::Sqlite(&mut **conn),
            On::Postgres(conn) => On::Postgres(&mut **conn),
        }
    }
}

/// Runs `$body` with `$c` bound to the backend's executor for `$handle` (and `$pg` to
/// whether that is PostgreSQL): the body is compiled once per backend, so its queries are
/// typed for each. With a connection or a transaction, a body that runs several
/// statements passes `&mut *$c` to each. (Exported for the tests, which reach into the
/// database the way the data layer does.)
#[macro_export]
macro_rules! on {
    ($handle:expr, |$c:ident, $pg:ident| $body:expr) => {
        match $crate::db::backend::Handle::on($handle) {
            $crate::db::backend::On::Sqlite($c) => {
                let $pg = false;
                $body
            }
            $crate::db::backend::On::Postgres($c) => {
                let $pg = true;
                $body
            }
        }
    };
    ($handle:expr, |$c:ident| $body:expr) => {
        match $crate::db::backend::Handle::on($handle) {
            $crate::db::backend::On::Sqlite($c) => $body,
            $crate::db::backend::On::Postgres($c) => $body,
        }
    };
}
pub use crate::on;

/// A statement whose text differs between the backends.
#[derive(Debug, Clone, Copy)]
pub struct Sql {
    pub sqlite: &'static str,
    pub postgres: &'static str,
}

impl Sql {
    pub const fn on(self, pg: bool) -> &'static str {
        if pg {
            self.postgres
        } else {
            self.sqlite
        }
    }
}

/// `true` for a `database_url` that names a PostgreSQL server.
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// `url` as messages and logs may show it: a password in it replaced by `***`, also when
/// the rest of it does not parse (a typo in the port, say).
pub fn without_password(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("***"));
            }
            parsed.to_string()
        }
        Err(_) => {
            let Some((scheme, rest)) = url.split_once("://") else {
                return url.to_owned();
            };
            match rest.rsplit_once('@') {
                Some((userinfo, host)) => match userinfo.split_once(':') {
                    Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
                    None => url.to_owned(),
                },
                None => url.to_owned(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::without_password;

    #[test]
    fn a_password_never_shows_even_in_a_url_that_does_not_parse() {
        assert_eq!(
            without_password("postgres://kanect:secret@db:5432/team"),
            "postgres://kanect:***@db:5432/team"
        );
        assert_eq!(
            without_password("postgres://kanect:secret@db:port/team"),
            "postgres://kanect:***@db:port/team"
        );
        assert_eq!(
            without_password("sqlite://data/kanect.db"),
            "sqlite://data/kanect.db"
        );
    }
}
