//! The command line: `kanect [--config FILE] <command>`, `serve` by default.

use std::io::{BufRead, IsTerminal};
use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::{Config, ConfigError, LogLevel, Overrides};
use rocket_db_pools::Database;

use crate::db::{users, DbError, Pools};
use crate::model::Role;
use crate::validate::{password_problems, username_key, Email, Username};

#[derive(Debug, Parser)]
#[command(
    name = "kanect",
    version,
    about = "Kanect: self-hosted team chat in one binary"
)]
pub struct Cli {
    /// Configuration file (default: Rocket.toml in the working directory, or $KANECT_CONFIG)
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Folder for the database and the generated secret key
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Log level: off, error, warn, info, debug or trace
    #[arg(long, global = true, value_name = "LEVEL", value_parser = parse_level)]
    pub log_level: Option<LogLevel>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply pending migrations, then serve HTTP (the default)
    Serve {
        /// Address to listen on
        #[arg(long)]
        address: Option<IpAddr>,
        /// Port to listen on
        #[arg(long)]
        port: Option<u16>,
    },
    /// Apply pending database migrations and exit
    Migrate,
    /// Create a superuser (like Django's createsuperuser)
    Createsuperuser {
        #[arg(long)]
        username: String,
        #[arg(long)]
        email: Option<String>,
        /// Read the password from standard input instead of prompting
        #[arg(long)]
        password_stdin: bool,
    },
    /// Change a user's password and end their sessions
    Changepassword {
        username: String,
        /// Read the password from standard input instead of prompting
        #[arg(long)]
        password_stdin: bool,
    },
    /// Copy the live database to FILE, consistently, while the server runs
    Backup { file: PathBuf },
    /// Copy this (SQLite) team into an empty PostgreSQL database, to move to it
    CopyTo {
        /// The PostgreSQL database: postgres://user:password@host/database
        url: String,
    },
    /// Write every chat, person, message and file into the new or empty folder DIR: JSON
    /// for programs, index.html to read offline (no password hashes, no sessions)
    Export { dir: PathBuf },
    /// Print the effective configuration and where each value came from
    Config,
    /// Check the configuration and the database (integrity, migrations); exit non-zero on
    /// any problem
    Check,
}

fn parse_level(raw: &str) -> Result<LogLevel, String> {
    serde_json::from_value(serde_json::Value::String(raw.to_ascii_lowercase()))
        .map_err(|_| "use off, error, warn, info, debug or trace".to_owned())
}

/// Everything a person can get wrong on the command line, each as one clear line.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Database(#[from] DbError),
    #[error("database: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("{0}")]
    Input(String),
    #[error("server: {0}")]
    Server(String),
    #[error("data dir {dir}: {source}")]
    InDataDir { source: Box<CliError>, dir: String },
}

pub fn run(cli: Cli) -> Result<(), CliError> {
    let (address, port) = match &cli.command {
        Some(Command::Serve { address, port }) => (*address, *port),
        _ => (None, None),
    };
    let loaded = Config::load(
        cli.config.as_deref(),
        Overrides {
            address,
            port,
            data_dir: cli.data_dir,
            log_level: cli.log_level,
        },
    )?;
    let mut config = loaded.config.clone();
    let command = cli.command.unwrap_or(Command::Serve {
        address: None,
        port: None,
    });
    // `./kanect-data` depends on where a command runs: every command names the one it
    // used, so that a second database made by running from another folder is noticed.
    // `serve` says so in its log; the others in one line of their own, or in their error's
    // one line.
    let dir = shown_dir(&config.data_dir);
    let serving = matches!(command, Command::Serve { .. });
    match run_command(command, &loaded, &mut config) {
        Ok(()) if serving => Ok(()),
        Ok(()) => {
            eprintln!("kanect: data dir {dir}");
            Ok(())
        }
        Err(source) => Err(CliError::InDataDir {
            source: Box::new(source),
            dir,
        }),
    }
}

fn run_command(
    command: Command,
    loaded: &crate::config::Loaded,
    config: &mut Config,
) -> Result<(), CliError> {
    match command {
        Command::Serve { .. } => {
            config.ensure_data_dir()?;
            config.ensure_secret_key()?;
            crate::init_logging(config.log_level, config.log_format);
            tracing::info!("data dir {}", shown_dir(&config.data_dir));
            rocket::execute(serve(config.clone()))
        }
        Command::Check => rocket::execute(async {
            for line in crate::check::run(config).await? {
                println!("ok: {line}");
            }
            Ok(())
        }),
        Command::Config => {
            println!("# profile: {}", loaded.figment.profile());
            for line in loaded.explain() {
                println!("{line}");
            }
            Ok(())
        }
        Command::Migrate => rocket::execute(async {
            let pools = open(config).await?;
            let applied = crate::db::schema::applied(&pools.read).await?;
            pools.close().await;
            println!(
                "Database {} is up to date ({applied} migrations applied).",
                crate::db::backend::without_password(&config.database_url())
            );
            Ok(())
        }),
        Command::Createsuperuser {
            username,
            email,
            password_stdin,
        } => {
            let username = Username::parse("username", &username).map_err(|e| input(&e))?;
            let email = Email::parse("email", email.as_deref().unwrap_or_default())
                .map_err(|e| input(&e))?;
            let password = read_password(password_stdin, username.as_str())?;
            let hash = crate::auth::password::hash_blocking(&password)
                .map_err(|e| CliError::Input(e.to_string()))?;
            rocket::execute(async {
                let pools = open(config).await?;
                let created = users::create(
                    &pools.write,
                    users::NewUser {
                        username: &username,
                        email: &email,
                        password_hash: &hash,
                        role: Role::Superuser,
                    },
                )
                .await;
                pools.close().await;
                match created {
                    Ok(_) => {
                        // A superuser exists: the browser's first run is over.
                        crate::auth::setup::remove_code_file(&config.data_dir);
                        println!("Superuser {} created.", username.as_str());
                        Ok(())
                    }
                    Err(users::CreateError::Taken) => Err(CliError::Input(format!(
                        "username {} is already taken",
                        username.as_str()
                    ))),
                    Err(users::CreateError::LooksLike) => Err(CliError::Input(format!(
                        "username {} looks like one that is already taken (the same letters \
                         from another alphabet, say): choose another",
                        username.as_str()
                    ))),
                    Err(users::CreateError::Db(e)) => Err(e.into()),
                }
            })
        }
        Command::Changepassword {
            username,
            password_stdin,
        } => rocket::execute(async {
            let pools = open(config).await?;
            let user = users::by_username(&pools.read, &username_key(&username))
                .await?
                .ok_or_else(|| CliError::Input(format!("there is no user named {username}")))?;
            let password = read_password(password_stdin, &user.username)?;
            let hash = crate::auth::password::hash_blocking(&password)
                .map_err(|e| CliError::Input(e.to_string()))?;
            users::set_password(&pools.write, user.id, &hash).await?;
            pools.close().await;
            println!(
                "Password changed for {}; their sessions have ended.",
                user.username
            );
            Ok(())
        }),
        Command::CopyTo { url } => rocket::execute(async {
            let from = config.database_url();
            if crate::db::backend::is_postgres_url(&from) {
                return Err(CliError::Input(
                    "copy-to copies an SQLite team; this configuration already uses PostgreSQL"
                        .to_owned(),
                ));
            }
            if !crate::db::backend::is_postgres_url(&url) {
                return Err(CliError::Input(format!(
                    "copy-to needs a PostgreSQL URL (postgres://user:password@host/database), \
                     not {url:?}"
                )));
            }
            let copied = crate::db::copy::copy(&from, &url).await?;
            let shown = crate::db::backend::without_password(&url);
            for (table, rows) in copied {
                println!("{table}: {rows} rows");
            }
            println!(
                "Copied {from} to {shown}. Set database_url = \"{shown}\" (with its password) \
                 and start Kanect."
            );
            Ok(())
        }),
        Command::Export { dir } => rocket::execute(async {
            let mut sink = crate::export::DirSink::create(&dir).map_err(CliError::Input)?;
            let pools = open(config).await?;
            let mut conn = pools.read.acquire().await?;
            let written =
                crate::export::write(&mut conn, crate::db::export::Scope::Team, &mut sink, None)
                    .await;
            drop(conn);
            pools.close().await;
            let summary = written.map_err(|e| {
                CliError::Input(format!(
                    "export: {e}; {} holds a partial export: delete it",
                    dir.display()
                ))
            })?;
            println!("Exported {summary} to {}.", dir.display());
            Ok(())
        }),
        Command::Backup { file } => rocket::execute(async {
            crate::db::backup(&config.database_url(), &file).await?;
            println!("Backed up {} to {}.", config.database_url(), file.display());
            Ok(())
        }),
    }
}

/// The data dir as an absolute path (as given when that cannot be worked out).
pub fn shown_dir(dir: &std::path::Path) -> String {
    std::path::absolute(dir)
        .unwrap_or_else(|_| dir.to_path_buf())
        .display()
        .to_string()
}

fn input(invalid: &crate::validate::Invalid) -> CliError {
    CliError::Input(format!("{}: {}", invalid.field, invalid.message))
}

async fn open(config: &Config) -> Result<Pools, CliError> {
    config.ensure_data_dir()?;
    Ok(Pools::open(&config.database_url(), 2, crate::db::Verify::Pages).await?)
}

/// Migrates, serves until SIGTERM or SIGINT, then closes the database once in-flight
/// requests have finished (Rocket answers waiting long polls and gives the rest its grace
/// period first).
async fn serve(config: Config) -> Result<(), CliError> {
    let open_files = match crate::limits::raise_open_files() {
        Ok(files) => {
            tracing::info!("open files limit: {files}");
            files
        }
        Err(e) => {
            tracing::warn!(error = %e, "could not raise the open files limit");
            crate::limits::open_files()
        }
    };
    if let Some(problem) = config
        .secret_key
        .as_deref()
        .and_then(crate::check::secret_key_problem)
    {
        return Err(CliError::Input(problem));
    }
    // Migrations first, with their own clear errors (a newer database, a failed migration),
    // rather than a failed fairing deep in Rocket's start-up.
    open(&config).await?.close().await;
    let tls = config.tls.is_some();
    let data_dir = config.data_dir.clone();
    let app = crate::app(&config);
    let facing_clients = app
        .figment()
        .clone()
        .merge(crate::connections::settings(open_files));
    let rocket = app
        .configure(facing_clients)
        .attach(rocket::fairing::AdHoc::on_liftoff(
            "announce",
            move |rocket| {
                Box::pin(async move {
                    let at = rocket.config();
                    tracing::info!(
                        "Kanect {} serving http{}://{}:{} (data in {})",
                        env!("CARGO_PKG_VERSION"),
                        if tls { "s" } else { "" },
                        at.address,
                        at.port,
                        shown_dir(&data_dir)
                    );
                })
            },
        ))
        .attach(rocket::fairing::AdHoc::on_shutdown("farewell", |_| {
            Box::pin(async {
                tracing::info!("shutdown requested: finishing in-flight requests");
            })
        }))
        .ignite()
        .await
        .map_err(|e| CliError::Server(e.to_string()))?;
    let pools = crate::db::Db::fetch(&rocket).map(|db| (**db).clone());
    let served = rocket.launch().await;
    if let Some(pools) = pools {
        let checkpointed = pools.shutdown().await;
        match (&served, checkpointed) {
            (Ok(_), true) => tracing::info!("Kanect stopped; database closed and checkpointed"),
            (Ok(_), false) => tracing::warn!("Kanect stopped; the WAL checkpoint did not complete"),
            // The error line says why; the database is closed either way.
            (Err(_), _) => {}
        }
    }
    served
        .map(drop)
        .map_err(|e| CliError::Server(e.to_string()))
}

/// The new password: one line of stdin with `--password-stdin`, else typed twice at a
/// prompt. Either way it must pass the password policy.
fn read_password(from_stdin: bool, username: &str) -> Result<String, CliError> {
    let password = if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| CliError::Input(format!("cannot read the password from stdin: {e}")))?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    } else {
        if !std::io::stdin().is_terminal() {
            return Err(CliError::Input(
                "no terminal to ask for a password; pass --password-stdin".into(),
            ));
        }
        let first = rpassword::prompt_password("Password: ")
            .map_err(|e| CliError::Input(format!("cannot read the password: {e}")))?;
        let again = rpassword::prompt_password("Password (again): ")
            .map_err(|e| CliError::Input(format!("cannot read the password: {e}")))?;
        if first != again {
            return Err(CliError::Input("the two passwords didn't match".into()));
        }
        first
    };
    let problems = password_problems(&password, username);
    if problems.is_empty() {
        Ok(password)
    } else {
        Err(CliError::Input(format!("password: {}", problems.join(" "))))
    }
}
