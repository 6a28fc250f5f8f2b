//! Configuration: built-in defaults < Rocket.toml (or `--config`) < `ROCKET_*` < `KANECT_*`
//! < command-line flags, as the contract orders them.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::{Figment, Profile};
use serde::{Deserialize, Serialize};

/// Name of the file in `data_dir` that keeps the generated secret key.
const SECRET_FILE: &str = "secret_key";

/// What `poll_wait_max_s` may be: a long poll is held for seconds, and a reverse proxy's
/// read timeout must stay above it (values past `Duration`'s range made polls panic).
pub const POLL_WAIT_MAX_S: std::ops::RangeInclusive<u64> = 1..=300;

/// What `max_upload_mb` may be: a file is stored whole in the database, and up to 4 GB
/// fits the chunk numbering and any sane disk.
pub const MAX_UPLOAD_MB: std::ops::RangeInclusive<u64> = 1..=4_000;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    pub address: IpAddr,
    pub port: u16,
    pub data_dir: PathBuf,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_key: Option<String>,
    pub signup: Signup,
    pub session_days: u32,
    pub poll_wait_max_s: u64,
    pub log_level: LogLevel,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<rocket::config::TlsConfig>,
    pub proxy: Proxy,
    /// How long the event stream keeps its events: a tab away for longer reloads.
    pub events_keep_days: u32,
    /// The largest file one upload may be, in MB (10^6 bytes).
    pub max_upload_mb: u64,
    /// `/metrics` in Prometheus text format (answered to loopback or with the token).
    pub metrics: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics_token: Option<String>,
    pub log_format: LogFormat,
    /// Members (not only staff) may make invite links from the chat.
    pub members_can_invite: bool,
    /// Outgoing requests (Web Push endpoints, bot webhooks) may go to loopback and private
    /// addresses: for tests, a relay or a bot on the same host or network. Off, only public
    /// addresses are reached (checked when saved and again at each request).
    pub webhook_allow_private: bool,
}

/// How log lines are written: for people reading a terminal, or one JSON object per line
/// for a log shipper.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// The reverse proxy in front of Kanect, and so the header that names the client. Without
/// one, only the connection's own address counts: anyone can send these headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Proxy {
    #[default]
    None,
    /// The right-most `X-Forwarded-For` entry: the one the proxy appended.
    XForwardedFor,
    /// `X-Real-IP`, which the proxy sets (and overwrites).
    XRealIp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Signup {
    /// Anyone who can reach the server signs up at `/signup`.
    Open,
    /// Only through an invite link, `/join/<code>`.
    Invite,
    Closed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Off,
    #[serde(alias = "critical")]
    Error,
    Warn,
    #[serde(alias = "normal")]
    Info,
    Debug,
    Trace,
}

impl LogLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Off => "off",
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
            LogLevel::Trace => "trace",
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            address: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 8000,
            data_dir: PathBuf::from("kanect-data"),
            database_url: None,
            secret_key: None,
            signup: Signup::Invite,
            session_days: 14,
            poll_wait_max_s: 30,
            log_level: LogLevel::Info,
            tls: None,
            proxy: Proxy::None,
            events_keep_days: 30,
            max_upload_mb: 25,
            metrics: false,
            metrics_token: None,
            log_format: LogFormat::Text,
            members_can_invite: true,
            webhook_allow_private: false,
        }
    }
}

/// Values given on the command line: the last and strongest layer.
#[derive(Debug, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<IpAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_level: Option<LogLevel>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid configuration: {0}")]
    Invalid(#[from] Box<figment::Error>),
    #[error("invalid configuration: {0}")]
    OutOfRange(String),
    #[error("{what}: {path}: {source}")]
    Io {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The layered configuration and the figment it came from (kept for `kanect config`).
pub struct Loaded {
    pub config: Config,
    pub figment: Figment,
}

impl Config {
    /// Loads every layer. `file` is `--config`; without it `KANECT_CONFIG`, then `Rocket.toml`.
    pub fn load(file: Option<&Path>, overrides: Overrides) -> Result<Loaded, ConfigError> {
        let named = file
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os("KANECT_CONFIG").map(PathBuf::from));
        // A file someone named must exist; the default Rocket.toml is optional.
        if let Some(path) = named.as_ref().filter(|path| !path.is_file()) {
            return Err(ConfigError::Io {
                what: "cannot read the configuration file",
                path: path.clone(),
                source: std::io::ErrorKind::NotFound.into(),
            });
        }
        let file = named.unwrap_or_else(|| PathBuf::from("Rocket.toml"));
        let default_profile = if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        };
        let figment = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::file(file).nested())
            .merge(Env::prefixed("ROCKET_").ignore(&["PROFILE"]).global())
            .merge(
                Env::prefixed("KANECT_")
                    .ignore(&["CONFIG", "PROFILE"])
                    .global(),
            )
            .merge(Serialized::globals(overrides))
            .select(Profile::from_env_or("KANECT_PROFILE", default_profile));
        let config: Config = figment.extract().map_err(Box::new)?;
        config.check_ranges(&figment)?;
        Ok(Loaded { config, figment })
    }

    /// The limits serde cannot express, each error naming the key and where it was set.
    fn check_ranges(&self, figment: &Figment) -> Result<(), ConfigError> {
        let checks = [
            (
                "poll_wait_max_s",
                self.poll_wait_max_s,
                POLL_WAIT_MAX_S,
                "seconds",
            ),
            ("max_upload_mb", self.max_upload_mb, MAX_UPLOAD_MB, "MB"),
        ];
        for (key, value, range, unit) in checks {
            if range.contains(&value) {
                continue;
            }
            let source = figment
                .find_metadata(key)
                .map(|md| format!(" (from {})", describe_source(md, key)))
                .unwrap_or_default();
            return Err(ConfigError::OutOfRange(format!(
                "{key} = {value}{source} is out of range: use {} to {} {unit}",
                range.start(),
                range.end()
            )));
        }
        Ok(())
    }

    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("kanect.db").display()))
    }

    fn secret_path(&self) -> PathBuf {
        self.data_dir.join(SECRET_FILE)
    }

    /// Creates the data dir (owner-only) if it is missing.
    pub fn ensure_data_dir(&self) -> Result<(), ConfigError> {
        let io = |source| ConfigError::Io {
            what: "cannot create the data directory",
            path: self.data_dir.clone(),
            source,
        };
        if !self.data_dir.exists() {
            std::fs::create_dir_all(&self.data_dir).map_err(io)?;
            set_mode(&self.data_dir, 0o700).map_err(io)?;
        }
        Ok(())
    }

    /// Fills `secret_key` from data_dir, generating and keeping one (mode 0600) on first run,
    /// so sessions and private cookies survive restarts with no configuration.
    pub fn ensure_secret_key(&mut self) -> Result<(), ConfigError> {
        if self.secret_key.is_some() {
            return Ok(());
        }
        self.ensure_data_dir()?;
        let path = self.secret_path();
        let key = if path.exists() {
            read_secret_key_file(&path)?
        } else {
            let key = crate::auth::token::new_secret_key();
            write_private(&path, &key).map_err(|source| ConfigError::Io {
                what: "cannot write the secret key",
                path: path.clone(),
                source,
            })?;
            key
        };
        self.secret_key = Some(key);
        Ok(())
    }

    /// Where a secret key would come from when none is configured (for `kanect config`).
    pub fn secret_key_file(&self) -> Option<PathBuf> {
        let path = self.secret_path();
        path.exists().then_some(path)
    }
}

/// The key kept in `path`, or what is wrong with the file and what to do about it (`serve`
/// and `kanect check` say the same). An empty file is what a first start on a full disk
/// left before keys were written atomically.
pub fn read_secret_key_file(path: &Path) -> Result<String, ConfigError> {
    let damaged = |problem: &str| ConfigError::Io {
        what: "the secret key file is damaged",
        path: path.to_owned(),
        source: std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{problem}; delete it, and the next start generates a new one"),
        ),
    };
    let key = std::fs::read_to_string(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::InvalidData => damaged("it is not text"),
        _ => ConfigError::Io {
            what: "cannot read the secret key",
            path: path.to_owned(),
            source,
        },
    })?;
    let key = key.trim();
    if key.is_empty() {
        return Err(damaged("it is empty"));
    }
    if crate::check::secret_key_problem(key).is_some() {
        return Err(damaged("it does not hold a 256-bit key"));
    }
    Ok(key.to_owned())
}

/// Creates `path` (mode 0600) holding `contents`, such that `path` never holds part of
/// it: the contents go to a temporary file beside it, are flushed to disk, and only then
/// take the name. Fails if `path` exists. On failure the temporary file is removed.
pub fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    // tempfile creates it owner-only (0600) on unix.
    let mut temp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(dir)?;
    temp.as_file_mut().write_all(contents.as_bytes())?;
    temp.as_file().sync_all()?;
    temp.persist_noclobber(path).map_err(|e| e.error)?;
    // The new name is on disk only once the directory is.
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
    }
    #[cfg(not(unix))]
    {
        let _ = (path, mode);
        Ok(())
    }
}

/// The keys `kanect config` reports, in the order it prints them.
pub const KEYS: &[&str] = &[
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
    "proxy",
    "events_keep_days",
    "max_upload_mb",
    "metrics",
    "metrics_token",
    "log_format",
    "members_can_invite",
    "webhook_allow_private",
];

/// One line of `kanect config`: a key, its effective value and where it came from.
pub struct Explained {
    pub key: &'static str,
    pub value: String,
    pub source: String,
}

impl fmt::Display for Explained {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:<16} = {:<40} # {}", self.key, self.value, self.source)
    }
}

impl Loaded {
    /// Every key with its effective value and source; secrets masked.
    pub fn explain(&self) -> Vec<Explained> {
        KEYS.iter()
            .map(|&key| {
                let found = self.figment.find_value(key).ok();
                let source = match self.figment.find_metadata(key) {
                    Some(md) if found.is_some() => describe_source(md, key),
                    _ => "not set".to_owned(),
                };
                let value = match (key, &found) {
                    ("secret_key" | "metrics_token", Some(_)) => "********".to_owned(),
                    ("tls", Some(_)) => "enabled".to_owned(),
                    ("database_url", Some(value)) => match value.as_str() {
                        Some(url) => format!("{:?}", crate::db::backend::without_password(url)),
                        None => show_value(value),
                    },
                    (_, Some(value)) => show_value(value),
                    ("database_url", None) => {
                        return Explained {
                            key,
                            value: self.config.database_url(),
                            source: "derived from data_dir".to_owned(),
                        }
                    }
                    ("secret_key", None) => {
                        let source = match self.config.secret_key_file() {
                            Some(path) => format!("file {}", path.display()),
                            None => {
                                "not set: the first `serve` generates one in data_dir".to_owned()
                            }
                        };
                        return Explained {
                            key,
                            value: "********".to_owned(),
                            source,
                        };
                    }
                    (_, None) => "(none)".to_owned(),
                };
                Explained { key, value, source }
            })
            .collect()
    }
}

fn show_value(value: &figment::value::Value) -> String {
    use figment::value::Value;
    match value {
        Value::String(_, s) => format!("{s:?}"),
        Value::Num(_, n) => n
            .to_u128()
            .map(|n| n.to_string())
            .or_else(|| n.to_i128().map(|n| n.to_string()))
            .or_else(|| n.to_f64().map(|n| n.to_string()))
            .unwrap_or_default(),
        Value::Bool(_, b) => b.to_string(),
        other => format!("{other:?}"),
    }
}

fn describe_source(md: &figment::Metadata, key: &str) -> String {
    let upper = key.to_ascii_uppercase();
    match &md.source {
        Some(figment::Source::File(path)) => format!("file {}", path.display()),
        _ if md.name.ends_with("Overrides") => "command line".to_owned(),
        _ if md.name.ends_with("Config") => "default".to_owned(),
        _ if md.name.contains("environment") => {
            // Both env layers share one name; the stronger one wins when both are set.
            let name = ["KANECT_", "ROCKET_"]
                .iter()
                .map(|prefix| format!("{prefix}{upper}"))
                .find(|name| std::env::var_os(name).is_some())
                .unwrap_or(upper);
            format!("environment {name}")
        }
        _ => md.name.to_string(),
    }
}

/// The part of the configuration that request handlers read (Rocket managed state).
#[derive(Debug, Clone)]
pub struct Settings {
    pub signup: Signup,
    pub session_days: u32,
    pub poll_wait_max_s: u64,
    /// Kanect itself serves TLS: every request is secure, and cookies are Secure.
    pub secure_cookies: bool,
    /// Where a client's address (and whether it used HTTPS) comes from.
    pub proxy: Proxy,
    pub events_keep_days: u32,
    pub max_upload_mb: u64,
    pub metrics: bool,
    /// Lets a scraper from elsewhere than loopback read `/metrics` (never empty).
    pub metrics_token: Option<String>,
    pub members_can_invite: bool,
    pub webhook_allow_private: bool,
    /// Where the setup code of a first run is kept (`auth::setup`).
    pub data_dir: PathBuf,
}

impl Settings {
    /// Sessions started before this are over, used or not: four idle periods after sign-in.
    pub fn sessions_started_after(&self) -> crate::model::Timestamp {
        crate::model::Timestamp::now().plus_millis(
            -i64::from(self.session_days) * i64::from(SESSION_ABSOLUTE_FACTOR) * 86_400_000,
        )
    }
}

/// A session lasts `session_days` without use, and at most this many times as long in all.
pub const SESSION_ABSOLUTE_FACTOR: u32 = 4;

impl From<&Config> for Settings {
    fn from(config: &Config) -> Self {
        Settings {
            signup: config.signup,
            session_days: config.session_days.max(1),
            // `load` refuses other values; this covers a `Config` built in code (tests).
            poll_wait_max_s: config
                .poll_wait_max_s
                .clamp(*POLL_WAIT_MAX_S.start(), *POLL_WAIT_MAX_S.end()),
            secure_cookies: config.tls.is_some(),
            proxy: config.proxy,
            // Keeping nothing would expire every cursor at once.
            events_keep_days: config.events_keep_days.max(1),
            max_upload_mb: config
                .max_upload_mb
                .clamp(*MAX_UPLOAD_MB.start(), *MAX_UPLOAD_MB.end()),
            metrics: config.metrics,
            // An empty token would let anyone in with `Authorization: Bearer `.
            metrics_token: config.metrics_token.clone().filter(|t| !t.is_empty()),
            members_can_invite: config.members_can_invite,
            webhook_allow_private: config.webhook_allow_private,
            data_dir: config.data_dir.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kanect_config_lists_every_key() {
        let config = serde_json::to_value(Config::default()).unwrap();
        for key in config.as_object().unwrap().keys() {
            assert!(
                KEYS.contains(&key.as_str()),
                "`kanect config` leaves out {key}"
            );
        }
    }

    fn with(toml: &str) -> Figment {
        Figment::from(Serialized::defaults(Config::default())).merge(Toml::string(toml))
    }

    #[test]
    fn proxy_is_read_by_its_names_and_shown_by_kanect_config() {
        for (name, proxy) in [
            ("none", Proxy::None),
            ("x-forwarded-for", Proxy::XForwardedFor),
            ("x-real-ip", Proxy::XRealIp),
        ] {
            let config: Config = with(&format!("proxy = {name:?}")).extract().unwrap();
            assert_eq!(config.proxy, proxy);
            assert_eq!(Settings::from(&config).proxy, proxy);
        }
        assert!(with("proxy = \"yes\"").extract::<Config>().is_err());
        let figment = with("");
        let loaded = Loaded {
            config: figment.extract().unwrap(),
            figment,
        };
        assert_eq!(loaded.config.proxy, Proxy::None, "none unless configured");
        let line = loaded.explain().into_iter().find(|e| e.key == "proxy");
        let line = line.expect("`kanect config` shows proxy");
        assert_eq!(
            (line.value.as_str(), line.source.as_str()),
            ("\"none\"", "default")
        );
    }
}
