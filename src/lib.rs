//! Kanect: a self-hosted team chat in one binary. `app` builds the whole server from a
//! configuration; `main` and the tests both start it through here.

pub mod admin;
pub mod auth;
mod bots;
pub mod chat;
pub mod check;
pub mod cli;
pub mod compress;
pub mod config;
mod connections;
pub mod db;
pub mod embed;
pub mod error;
pub mod export;
pub mod files;
#[doc(hidden)]
pub mod fuzzing;
mod housekeeping;
pub mod json;
pub mod limits;
pub mod live;
pub mod mentions;
pub mod model;
pub mod monitoring;
pub mod openapi;
mod outbound;
pub mod profile;
pub mod push;
mod refreshed;
pub mod request_log;
pub mod search;
pub mod security;
pub mod validate;
pub mod webhooks;

use std::sync::Arc;

use rocket::data::{Limits, ToByteUnit};
use rocket::figment::{value::Dict, Figment};
use rocket::http::Status;
use rocket::request::Request;
use rocket::serde::json::{json, Value};
use rocket::{catch, catchers, get, routes, Build, Rocket};
use rocket_db_pools::Database;

use crate::config::{Config, Settings};
use crate::db::Db;
use crate::error::Problem;
use crate::live::Live;

/// The Rocket for `config`: routes, fairings, catchers and state. Nothing is started.
pub fn app(config: &Config) -> Rocket<Build> {
    rocket::custom(figment(config))
        .attach(Db::init())
        .attach(auth::setup::fairing())
        .attach(auth::setup::Watch)
        .attach(auth::cache::Watch)
        .attach(db::send_queue::Start)
        .attach(push::stage())
        .attach(webhooks::stage())
        .attach(db::checkpoint::Checkpoints)
        .attach(embed::templates())
        .attach(admin::TrailingSlash)
        .attach(request_log::RequestLog)
        .attach(compress::Compression)
        .attach(security::no_default_shield())
        .attach(security::SecurityHeaders {
            hsts: config.tls.is_some(),
        })
        .attach(housekeeping::stage())
        .attach(monitoring::stage())
        .manage(Settings::from(config))
        .manage(Arc::new(Live::default()))
        .manage(auth::throttle::Throttle::default())
        .manage(export::download::Downloads::default())
        .mount("/", auth::pages::routes())
        .mount("/", auth::setup::routes())
        .mount("/", auth::join::routes())
        .mount("/", auth::account::routes())
        .mount("/", export::download::routes())
        .mount("/", auth::api_tokens::page_routes())
        .mount("/", profile::routes())
        .mount("/", chat::pages::routes())
        .mount("/", embed::routes())
        .mount("/", admin::routes())
        .mount("/", files::serve::routes())
        .mount("/", routes![healthz])
        .mount("/", bots::routes())
        .mount("/", monitoring::routes())
        .mount("/api", profile::api::routes())
        .mount("/api", chat::api::routes())
        .mount("/api", chat::messages::routes())
        .mount("/api", chat::attachments::routes())
        .mount("/api", chat::reactions::routes())
        .mount("/api", chat::members::routes())
        .mount("/api", chat::activity::routes())
        .mount("/api", chat::updates::routes())
        .mount("/api", chat::search::routes())
        .mount("/api", auth::strength::routes())
        .mount("/api", auth::invites::routes())
        .mount("/api", openapi::routes())
        .mount("/api", auth::api_tokens::api_routes())
        .mount("/api", push::api::routes())
        .register("/", catchers![catch_all])
}

/// Rocket's own configuration, derived from ours.
fn figment(config: &Config) -> Figment {
    let limits = Limits::default()
        .limit("json", 64.kibibytes())
        .limit("form", 64.kibibytes())
        .limit("string", 64.kibibytes());
    let rocket_config = rocket::Config {
        address: config.address,
        port: config.port,
        limits,
        tls: config.tls.clone(),
        // Kanect logs through `tracing` (see `request_log`).
        log_level: rocket::config::LogLevel::Off,
        ident: rocket::config::Ident::none(),
        cli_colors: false,
        ..rocket::Config::default()
    };
    let mut database = Dict::new();
    database.insert("url".into(), config.database_url().into());
    let secret = config
        .secret_key
        .clone()
        .unwrap_or_else(auth::token::new_secret_key);
    Figment::from(rocket_config)
        // Rocket would take `X-Real-IP` from anyone; `auth::client` reads the headers of
        // the configured proxy only.
        .merge(("ip_header", false))
        .merge(("secret_key", secret))
        // Templates are embedded, but the engine insists on walking a folder that exists,
        // and debug builds reload every template whenever that folder changes: an empty
        // folder of its own, not the data dir, which changes at every write.
        .merge(("template_dir", empty_template_dir(&config.data_dir)))
        .merge(("databases.kanect", database))
}

fn empty_template_dir(data_dir: &std::path::Path) -> std::path::PathBuf {
    let dir = data_dir.join(".no-templates");
    if let Err(e) = std::fs::create_dir_all(&dir) {
        tracing::warn!(error = %e, path = %dir.display(), "could not create the empty template folder");
    }
    dir
}

/// 200 when the database answers reads and the writer commits; 503 saying which fails.
#[get("/healthz")]
async fn healthz(db: &Db) -> (Status, Value) {
    match (db.healthy().await, db.write.failure()) {
        (true, None) => (Status::Ok, json!({ "status": "ok" })),
        (reads, writer) => (
            Status::ServiceUnavailable,
            json!({
                "status": "unavailable",
                "reads": if reads { "ok" } else { "failing" },
                "writer": match writer {
                    None => json!("ok"),
                    Some(failure) => json!({
                        "failing_since": failure.since,
                        "error": failure.error,
                        "failed_writes": failure.failed_writes,
                    }),
                },
            }),
        ),
    }
}

/// Every error status ends here: the guard's own problem if it left one, else the
/// status's generic one, as JSON or a page.
#[catch(default)]
fn catch_all(status: Status, req: &Request<'_>) -> Problem {
    error::stashed_or(req, status)
}

/// Sets up `tracing` output for the command line and the server.
pub fn init_logging(level: config::LogLevel, format: config::LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("KANECT_LOG").unwrap_or_else(|_| {
        // Rocket's own chatter only when asked for (debug and below); Kanect logs
        // requests and start-up itself.
        let quiet = matches!(level, config::LogLevel::Info | config::LogLevel::Warn);
        // Rocket's own logs stop short of what carries secrets: rocket::server dumps every
        // request with its headers (session cookies) at debug, and form parsing every
        // field (passwords) at trace.
        let directives = if quiet {
            format!("{},rocket=off,_=off", level.as_str())
        } else {
            format!("{},rocket=debug,rocket::server=warn", level.as_str())
        };
        tracing_subscriber::EnvFilter::new(directives)
    });
    let lines = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = match format {
        config::LogFormat::Text => lines
            .with_target(false)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
            .try_init(),
        // One object per line, the event's fields at its top level beside `level`,
        // `timestamp` and `target` (which tells request lines from the rest).
        config::LogFormat::Json => lines.json().flatten_event(true).try_init(),
    };
}
