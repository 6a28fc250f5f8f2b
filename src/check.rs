//! `kanect check`: everything `serve` would trip over, found before it does. It reads and
//! never writes, so it is safe to run beside a live server (and as root: it creates no
//! file the service user could not open afterwards).

use std::path::Path;
use std::str::FromStr;

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::ConnectOptions;

use crate::cli::CliError;
use crate::config::Config;
use crate::db::schema::{self, SchemaError};
use crate::db::DbError;

/// Runs every check in order and returns one line per check passed; the first problem is
/// the error.
pub async fn run(config: &Config) -> Result<Vec<String>, CliError> {
    let mut passed = vec![format!(
        "configuration: valid (listening on {}:{} when served)",
        config.address, config.port
    )];
    passed.push(secret_key(config)?);
    if let Some(line) = tls(config)? {
        passed.push(line);
    }
    passed.extend(database(config).await?);
    Ok(passed)
}

fn problem(message: impl Into<String>) -> CliError {
    CliError::Input(message.into())
}

/// Whether Rocket would accept `key` as its secret key. The message never repeats the key.
pub fn secret_key_problem(key: &str) -> Option<String> {
    let figment = rocket::figment::Figment::from(("secret_key", key));
    figment
        .extract_inner::<rocket::config::SecretKey>("secret_key")
        .err()
        .map(|_| {
            "secret_key is not a usable key: give 32 random bytes as 44 base64 or 64 hex \
             characters (`openssl rand -base64 32`), or leave it unset to have one generated"
                .to_owned()
        })
}

fn secret_key(config: &Config) -> Result<String, CliError> {
    if let Some(key) = &config.secret_key {
        return match secret_key_problem(key) {
            Some(problem) => Err(CliError::Input(problem)),
            None => Ok("secret key: configured".to_owned()),
        };
    }
    let Some(file) = config.secret_key_file() else {
        return Ok("secret key: none yet; the first `serve` generates one in data_dir".into());
    };
    crate::config::read_secret_key_file(&file)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).map_or(0, |m| m.permissions().mode());
        if mode & 0o077 != 0 {
            return Err(problem(format!(
                "the secret key {} is readable by other users (mode {:o}): `chmod 600` it",
                file.display(),
                mode & 0o777
            )));
        }
    }
    Ok(format!("secret key: {}", file.display()))
}

fn tls(config: &Config) -> Result<Option<String>, CliError> {
    let Some(tls) = &config.tls else {
        return Ok(None);
    };
    for (what, source) in [("certificate", tls.certs()), ("key", tls.key())] {
        if let either::Either::Left(path) = source {
            std::fs::File::open(&path).map_err(|e| {
                problem(format!(
                    "cannot read the TLS {what} {}: {e}",
                    path.display()
                ))
            })?;
        }
    }
    Ok(Some("tls: certificate and key readable".into()))
}

async fn database(config: &Config) -> Result<Vec<String>, CliError> {
    let url = config.database_url();
    if crate::db::backend::is_postgres_url(&url) {
        return postgres(&url).await;
    }
    let options = SqliteConnectOptions::from_str(&url)
        .map_err(|e| problem(format!("database_url {url:?} is not usable: {e}")))?;
    let file = options.clone().get_filename().into_owned();
    if !exists(&file) {
        return Err(problem(format!(
            "there is no database at {}: `kanect migrate` (or the first `serve`) creates it",
            file.display()
        )));
    }
    // The same refusals, in the same words, as `serve` and `migrate` (see `Pools::open`).
    let refused = |e: SchemaError| CliError::Database(DbError::Schema(e));
    schema::refuse_empty(&file).map_err(refused)?;
    let opened = options.read_only(true).connect().await;
    let mut conn = opened.map_err(|e| match schema::damage(&file, e) {
        SchemaError::Sqlx(e) => problem(format!("cannot open the database {url}: {e}")),
        damaged => refused(damaged),
    })?;
    // integrity_check finds all that the quick check at start does, and more.
    let damage = schema::integrity(&mut conn)
        .await
        .map_err(|e| refused(schema::damage(&file, e)))?;
    if let Some(detail) = damage {
        return Err(refused(SchemaError::Damaged { file, detail }));
    }
    let status = schema::status(crate::db::On::Sqlite(&mut conn))
        .await
        .map_err(refused)?;
    migrations(&url, &status, false)
}

/// `check` on a PostgreSQL server: reachable with these credentials, and its schema is one
/// this binary knows, fully migrated.
async fn postgres(url: &str) -> Result<Vec<String>, CliError> {
    let shown = crate::db::backend::without_password(url);
    let options = sqlx::postgres::PgConnectOptions::from_str(url)
        .map_err(|e| problem(format!("database_url {shown:?} is not usable: {e}")))?;
    let mut conn = options
        .connect()
        .await
        .map_err(|e| problem(format!("cannot open the database {shown}: {e}")))?;
    let version = schema::server_version(&mut conn)
        .await
        .map_err(|e| problem(format!("cannot query the database {shown}: {e}")))?;
    let status = schema::status(crate::db::On::Postgres(&mut conn))
        .await
        .map_err(|e| CliError::Database(DbError::Schema(e)))?;
    let _ = sqlx::Connection::close(conn).await;
    let mut lines = vec![format!("database: {shown} answers (PostgreSQL {version})")];
    lines.extend(migrations(&shown, &status, true)?.into_iter().skip(1));
    Ok(lines)
}

/// The migrations line of `check`, or the refusal when some are pending.
fn migrations(url: &str, status: &schema::Status, postgres: bool) -> Result<Vec<String>, CliError> {
    if !status.pending.is_empty() {
        return Err(problem(format!(
            "the database {url} needs {} migration(s) ({}): run `kanect migrate`, or start \
             the server, which migrates first",
            status.pending.len(),
            status
                .pending
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok(vec![
        format!("database: {url} passes integrity_check and foreign_key_check"),
        format!(
            "migrations: {} applied, none pending (schema version {})",
            status.applied.len(),
            schema::known(postgres)
        ),
    ])
}

fn exists(path: &Path) -> bool {
    path.as_os_str() == ":memory:" || path.is_file()
}
