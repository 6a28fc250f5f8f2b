//! s. search (`--search`), on a database of its own: the people of `c` (see `seed`), and
//! a history of `MESSAGES` messages in 200 chats (see `history` and `corpus`), seeded
//! straight into a freshly migrated database, its search index kept by the schema itself
//! as the rows go in; then, on the real server started on it:
//!   - `GET /api/search?q=…&limit=20` by a member of 20 of the chats, one request after
//!     the other on one connection, `QUERIES` queries of each of four kinds (see
//!     `queries`), shuffled together, after `WARMUP` other ones: latency p50/p95/p99 per
//!     kind, and how many queries found something;
//!   - the index's size on disk (SQLite: its FTS5 shadow tables, from `dbstat`;
//!     PostgreSQL: its GIN index), beside the table's and the database's;
//!   - sends as `c` measures them, on a server just started, with the index; then without
//!     it (SQLite: the three triggers that keep it dropped; PostgreSQL: the stored words
//!     and their index dropped), on a server started again.
//!
//! `--quick` seeds `QUICK_MESSAGES` instead; `--search-messages N` any number.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::client::{Conn, Login, Result};
use crate::corpus::Corpus;
use crate::history::{self, History, CHATS};
use crate::load::{self, Sends, Window};
use crate::queries::{self, Kind};
use crate::seed::{self, Cast, Sizes};
use crate::server::{self, Server, Shared};
use crate::store::{Fresh, Store};

pub const MESSAGES: u64 = 1_000_000;
pub const QUICK_MESSAGES: u64 = 50_000;
const QUERIES: usize = 200;
const QUICK_QUERIES: usize = 50;
const WARMUP: usize = 40;
/// The target for every kind, at 1,000,000 messages.
const TARGET_P95_MS: f64 = 50.0;
/// Sends with the index: issue 5's target on SQLite, issue 13's on PostgreSQL.
const SEND_TARGET: f64 = 8000.0;
const PG_SEND_TARGET: f64 = 5000.0;
/// The triggers that keep SQLite's index in step with `messages`.
const TRIGGERS: [&str; 3] = [
    "messages_search_insert",
    "messages_search_update",
    "messages_search_delete",
];

/// How one kind of query fared.
#[derive(Debug, Default, Clone)]
pub struct Latencies {
    pub queries: usize,
    /// Answered 200 with at least one result.
    pub found: usize,
    pub results: u64,
    /// Anything but a 200 (or no answer).
    pub errors: usize,
    /// Of the 200s, sorted.
    pub times: Vec<Duration>,
    /// The slowest query and its time.
    pub slowest: Option<(String, Duration)>,
}

/// The figures of `s` on one database.
#[derive(Default)]
pub struct Search {
    pub postgres: bool,
    pub messages: u64,
    pub visible: u64,
    pub seed_s: f64,
    pub index_bytes: Option<u64>,
    /// The messages table, without its indexes.
    pub table_bytes: Option<u64>,
    pub database_bytes: u64,
    pub kinds: Vec<(Kind, Latencies)>,
    /// Server CPU per query, in microseconds.
    pub cpu_us_per_query: f64,
    pub sends_indexed: Option<(Sends, f64)>,
    pub sends_unindexed: Option<(Sends, f64)>,
}

pub struct Options<'a> {
    pub log_level: &'a str,
    pub quick: bool,
    pub messages: u64,
    pub duration: Duration,
}

/// `s` on SQLite, in a data dir of its own.
pub async fn sqlite(options: &Options<'_>) -> Result<Search> {
    let dir = tempfile::tempdir()?;
    let data_dir = dir.path();
    eprintln!("s. search: {} messages on SQLite", options.messages);
    server::migrate(data_dir, None)?;
    let file = data_dir.join("kanect.db");
    let store = Store::Sqlite(file.clone());
    let (cast, history, mut figures) = seed(&store, options).await?;
    (figures.index_bytes, figures.table_bytes) = sqlite_sizes(&store).await?;
    figures.database_bytes = file_size(&file) + file_size(&data_dir.join("kanect.db-wal"));
    let start = || server::start_kanect(data_dir, options.log_level, None);
    measure(&mut figures, &store, start, &cast, &history, options).await?;
    Ok(figures)
}

/// `s` on a database of its own on the PostgreSQL server `url` (dropped at the end).
pub async fn postgres(url: &str, options: &Options<'_>) -> Result<Search> {
    let fresh = Fresh::create(url).await?;
    eprintln!(
        "pg s. search: {} messages, database {}",
        options.messages, fresh.name
    );
    let measured = postgres_on(&fresh, options).await;
    let dropped = fresh.drop().await;
    let figures = measured?;
    dropped?;
    Ok(figures)
}

async fn postgres_on(fresh: &Fresh, options: &Options<'_>) -> Result<Search> {
    let dir = tempfile::tempdir()?;
    let shared = Shared {
        url: fresh.url.clone(),
        secret_key: kanect::auth::token::new_secret_key(),
    };
    server::migrate(dir.path(), Some(&shared))?;
    let store = Store::Postgres(fresh.url.clone());
    let (cast, history, mut figures) = seed(&store, options).await?;
    figures.postgres = true;
    (
        figures.index_bytes,
        figures.table_bytes,
        figures.database_bytes,
    ) = postgres_sizes(&store).await?;
    let start = || server::start_kanect(dir.path(), options.log_level, Some(&shared));
    measure(&mut figures, &store, start, &cast, &history, options).await?;
    Ok(figures)
}

/// The people of `c` and the history, timed.
async fn seed(store: &Store, options: &Options<'_>) -> Result<(Cast, History, Search)> {
    let sizes = Sizes {
        pollers: 0,
        latency_chats: 0,
        throughput_senders: if options.quick { 32 } else { 64 },
        empty_pollers: 0,
    };
    let cast = seed::seed(store, &sizes).await?;
    let corpus = Corpus::new();
    let history = history::seed(store, &corpus, cast.logins.len(), options.messages).await?;
    eprintln!(
        "   seeded {} messages in {CHATS} chats in {:.1} s ({:.0}/s); {} in the searcher's",
        history.messages,
        history.seconds,
        history.messages as f64 / history.seconds,
        history.visible
    );
    let figures = Search {
        messages: history.messages,
        visible: history.visible,
        seed_s: history.seconds,
        ..Search::default()
    };
    Ok((cast, history, figures))
}

/// The queries, then sends with the index and without it, each on a server just
/// started.
async fn measure<F, Fut>(
    figures: &mut Search,
    store: &Store,
    start: F,
    cast: &Cast,
    history: &History,
    options: &Options<'_>,
) -> Result<()>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<Server>>,
{
    let kanect = start().await?;
    crate::check_session(kanect.addr, &cast.logins[0]).await?;
    let per_kind = if options.quick {
        QUICK_QUERIES
    } else {
        QUERIES
    };
    let corpus = Corpus::new();
    let queries = queries::make(&corpus, &history.samples, per_kind, 15);
    eprintln!("s. {} searches, one at a time", queries.len());
    let pid = kanect.child.id();
    // Other queries of each kind, first: the server's first requests pay for its caches.
    let warmup = queries::make(&corpus, &history.samples, WARMUP / 4, 16);
    time(kanect.addr, &history.searcher, &warmup).await?;
    let (_, before) = server::usage(pid)?;
    figures.kinds = time(kanect.addr, &history.searcher, &queries).await?;
    let (_, after) = server::usage(pid)?;
    // Linux reports CPU time in USER_HZ, 100 a second.
    figures.cpu_us_per_query = (after - before) as f64 * 10_000.0 / queries.len().max(1) as f64;
    for (kind, l) in &figures.kinds {
        eprintln!(
            "   {}: p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms; {} of {} found something, {} errors",
            kind.name(),
            ms(&l.times, 0.5),
            ms(&l.times, 0.95),
            ms(&l.times, 0.99),
            l.found,
            l.queries,
            l.errors
        );
    }
    drop(kanect);

    eprintln!("s. sends with the index");
    let kanect = start().await?;
    figures.sends_indexed = Some(sends(&kanect, cast, store, "s-indexed", options).await?);
    drop(kanect);

    eprintln!("s. sends without the index");
    drop_index(store).await?;
    let kanect = start().await?;
    figures.sends_unindexed = Some(sends(&kanect, cast, store, "s-plain", options).await?);
    Ok(())
}

/// Sends no longer keep the index (which is out of step from here on): SQLite's triggers
/// dropped, PostgreSQL's stored words and their index.
async fn drop_index(store: &Store) -> Result<()> {
    let mut db = store.open().await?;
    if db.is_postgres() {
        // The stored words go with it: what keeping the index costs a send is both.
        seed::execute(
            &mut db,
            "ALTER TABLE messages DROP COLUMN IF EXISTS search_words",
        )
        .await?;
    } else {
        for trigger in TRIGGERS {
            seed::execute(&mut db, &format!("DROP TRIGGER IF EXISTS {trigger}")).await?;
        }
    }
    db.close().await?;
    Ok(())
}

/// Every query in turn on one connection; the figures by kind.
async fn time(
    addr: SocketAddr,
    searcher: &Login,
    queries: &[(Kind, String)],
) -> Result<Vec<(Kind, Latencies)>> {
    let mut kinds: Vec<(Kind, Latencies)> = Kind::ALL
        .iter()
        .map(|&k| (k, Latencies::default()))
        .collect();
    let mut conn = Conn::open(addr).await?;
    for (kind, q) in queries {
        let l = &mut kinds
            .iter_mut()
            .find(|(k, _)| k == kind)
            .ok_or("no kind")?
            .1;
        l.queries += 1;
        let q_encoded: String = url::form_urlencoded::byte_serialize(q.as_bytes()).collect();
        let path = format!("/api/search?q={q_encoded}&limit=20");
        let began = Instant::now();
        let answer = conn.get(&path, Some(searcher)).await;
        let took = began.elapsed();
        let (status, body) = match answer {
            Ok(answer) => answer,
            Err(_) => {
                l.errors += 1;
                conn = Conn::open(addr).await?;
                continue;
            }
        };
        if status.as_u16() != 200 {
            l.errors += 1;
            continue;
        }
        let n = serde_json::from_slice::<Value>(&body)?["results"]
            .as_array()
            .map_or(0, Vec::len);
        l.results += n as u64;
        l.found += usize::from(n > 0);
        l.times.push(took);
        if l.slowest.as_ref().is_none_or(|(_, t)| took > *t) {
            l.slowest = Some((q.clone(), took));
        }
    }
    for (_, l) in &mut kinds {
        l.times.sort_unstable();
    }
    Ok(kinds)
}

/// `c`'s load on `kanect`, with its server CPU.
async fn sends(
    kanect: &Server,
    cast: &Cast,
    store: &Store,
    tag: &'static str,
    options: &Options<'_>,
) -> Result<(Sends, f64)> {
    crate::check_session(kanect.addr, &cast.logins[0]).await?;
    let senders = crate::throughput_senders(cast);
    let window = Window {
        conns: senders.len(),
        warmup: Duration::from_secs(1),
        duration: options.duration,
    };
    let pid = kanect.child.id();
    let (_, before) = server::usage(pid)?;
    let sends = load::sends(&[kanect.addr], senders, &window, store, tag).await?;
    let cpu = crate::cpu_since(pid, before, &window)?;
    eprintln!(
        "   {:.0}/s ({} acknowledged, {} lost, {} duplicated)",
        sends.counted.per_second(),
        sends.acknowledged,
        sends.lost,
        sends.duplicated
    );
    Ok((sends, cpu))
}

/// The FTS5 shadow tables' bytes and the messages table's, from `dbstat`.
async fn sqlite_sizes(store: &Store) -> Result<(Option<u64>, Option<u64>)> {
    let mut db = store.open_read_only().await?;
    let rows: Vec<(String, i64)> = kanect::on!(db.on(), |c| {
        sqlx::query_as(
            "SELECT name, SUM(pgsize) FROM dbstat
             WHERE name LIKE 'messages_search%' OR name = 'messages' GROUP BY name",
        )
        .fetch_all(c)
        .await?
    });
    db.close().await?;
    let sum = |index: bool| -> Option<u64> {
        let sizes: Vec<u64> = rows
            .iter()
            .filter(|(name, _)| (name != "messages") == index)
            .map(|(_, bytes)| *bytes as u64)
            .collect();
        (!sizes.is_empty()).then(|| sizes.iter().sum())
    };
    Ok((sum(true), sum(false)))
}

/// The search index's bytes (`messages_search`, over `messages.search_words`), the
/// messages table's and the database's.
async fn postgres_sizes(store: &Store) -> Result<(Option<u64>, Option<u64>, u64)> {
    let mut db = store.open_read_only().await?;
    let (index, table, database): (Option<i64>, i64, i64) = kanect::on!(db.on(), |c| {
        sqlx::query_as(
            "SELECT pg_relation_size(to_regclass('messages_search')),
                    pg_relation_size('messages'),
                    pg_database_size(current_database())",
        )
        .fetch_one(c)
        .await?
    });
    db.close().await?;
    Ok((index.map(|b| b as u64), Some(table as u64), database as u64))
}

fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// A quantile of sorted times, in milliseconds.
fn ms(times: &[Duration], q: f64) -> f64 {
    if times.is_empty() {
        return f64::NAN;
    }
    let at = ((times.len() as f64 * q).ceil() as usize).clamp(1, times.len()) - 1;
    times[at].as_secs_f64() * 1000.0
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / 1024.0 / 1024.0)
}

impl Search {
    /// (name, target, figure, met): issue 15's targets.
    pub fn targets(&self, prefix: &str) -> Vec<(String, String, String, bool)> {
        let mut targets = Vec::new();
        for (kind, l) in &self.kinds {
            let p95 = ms(&l.times, 0.95);
            targets.push((
                format!(
                    "{prefix}search p95, {}, {} messages",
                    kind.name(),
                    self.messages
                ),
                format!("<= {TARGET_P95_MS:.0} ms, no errors"),
                format!("{p95:.1} ms, {} errors", l.errors),
                p95 <= TARGET_P95_MS && l.errors == 0 && !l.times.is_empty(),
            ));
        }
        if let Some((s, _)) = &self.sends_indexed {
            let rate = s.counted.per_second();
            let target = if self.postgres {
                PG_SEND_TARGET
            } else {
                SEND_TARGET
            };
            targets.push((
                format!("{prefix}s. sends with the search index"),
                format!(">= {},000/s, 0 lost, 0 duplicated", target as u64 / 1000),
                format!("{rate:.0}/s, {} lost, {} duplicated", s.lost, s.duplicated),
                rate >= target && s.lost == 0 && s.duplicated == 0,
            ));
        }
        targets
    }

    /// The rows of `s` in the table's columns.
    pub fn print(&self, prefix: &str) {
        let row = |name: &str, value: String, cpu: String| {
            println!(
                "{:<52} {value:>14} {:>6} {cpu:>10}",
                format!("{prefix}{name}"),
                ""
            );
        };
        row(
            &format!("s. seeded {} messages in {CHATS} chats", self.messages),
            format!("{:.1} s", self.seed_s),
            format!("{:.0}/s", self.messages as f64 / self.seed_s),
        );
        row(
            "s. messages in the searcher's 20 chats",
            self.visible.to_string(),
            String::new(),
        );
        let size = |b: Option<u64>| b.map_or("-".to_owned(), mib);
        row(
            "s. search index on disk",
            size(self.index_bytes),
            String::new(),
        );
        row(
            "s. messages table on disk (no indexes)",
            size(self.table_bytes),
            String::new(),
        );
        row(
            "s. database on disk",
            mib(self.database_bytes),
            String::new(),
        );
        for (kind, l) in &self.kinds {
            row(
                &format!("s. {}: p50 / p95 / p99 ms", kind.name()),
                format!(
                    "{:.1} / {:.1} / {:.1}",
                    ms(&l.times, 0.5),
                    ms(&l.times, 0.95),
                    ms(&l.times, 0.99)
                ),
                String::new(),
            );
            row(
                &format!(
                    "s. {}: queries / found some / results / errors",
                    kind.name()
                ),
                format!("{}/{}/{}/{}", l.queries, l.found, l.results, l.errors),
                String::new(),
            );
            if let Some((q, t)) = &l.slowest {
                row(
                    &format!("s. {}: slowest", kind.name()),
                    format!("{:.1} ms", t.as_secs_f64() * 1000.0),
                    q.clone(),
                );
            }
        }
        row(
            "s. server CPU per search",
            format!("{:.0} µs", self.cpu_us_per_query),
            String::new(),
        );
        for (what, sends) in [
            ("with the index", &self.sends_indexed),
            ("without the index", &self.sends_unindexed),
        ] {
            if let Some((s, cpu)) = sends {
                row(
                    &format!("s. sends {what}, msg/s"),
                    format!("{:.0}", s.counted.per_second()),
                    format!("{cpu:.0}%"),
                );
                row(
                    &format!("s. sends {what}: ack. / stored / lost / dup."),
                    format!(
                        "{}/{}/{}/{}",
                        s.acknowledged, s.stored, s.lost, s.duplicated
                    ),
                    String::new(),
                );
            }
        }
    }

    pub fn json(&self) -> Value {
        let round = |x: f64| (x * 10.0).round() / 10.0;
        let kinds: serde_json::Map<String, Value> = self
            .kinds
            .iter()
            .map(|(kind, l)| {
                let value = json!({
                    "queries": l.queries,
                    "found_some": l.found,
                    "results": l.results,
                    "errors": l.errors,
                    "p50_ms": round(ms(&l.times, 0.5)),
                    "p95_ms": round(ms(&l.times, 0.95)),
                    "p99_ms": round(ms(&l.times, 0.99)),
                    "max_ms": round(ms(&l.times, 1.0)),
                    "slowest": l.slowest.as_ref().map(|(q, _)| q),
                });
                (kind.key().to_owned(), value)
            })
            .collect();
        let sends = |s: &Option<(Sends, f64)>| {
            s.as_ref().map(|(s, cpu)| {
                json!({
                    "per_second": s.counted.per_second().round(),
                    "server_cpu_percent": cpu.round(),
                    "acknowledged": s.acknowledged,
                    "stored": s.stored,
                    "lost": s.lost,
                    "duplicated": s.duplicated,
                })
            })
        };
        json!({
            "messages": self.messages,
            "chats": CHATS,
            "messages_in_searchers_chats": self.visible,
            "seed_seconds": round(self.seed_s),
            "index_bytes": self.index_bytes,
            "messages_table_bytes": self.table_bytes,
            "database_bytes": self.database_bytes,
            "queries": kinds,
            "server_cpu_us_per_query": self.cpu_us_per_query.round(),
            "sends_with_index": sends(&self.sends_indexed),
            "sends_without_index": sends(&self.sends_unindexed),
        })
    }
}
