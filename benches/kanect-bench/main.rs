//! kanect-bench: starts the real `kanect` binary on a fresh data dir, seeds people and
//! chats, and measures, in one run on one machine:
//!   a. idle long polls held (100, 1,000, 5,000): server memory and CPU;
//!   b. delivery latency with 1,000 pollers connected: 100 messages/s, then edits and
//!      reactions of those messages at the same rate;
//!   g. a group of 50 members, all polling, receiving 20 messages/s;
//!   w. a reconnect wave: the server restarts and all 5,000 tabs connect again at once
//!      (answers, time to settle, memory), then delivery latency at 5,000 pollers;
//!   c. send throughput, then a check that every acknowledged message is stored once;
//!   d. empty `/api/updates` throughput;
//!   e. a trivial Rocket JSON route in its own process: the ceiling the others are put
//!      against;
//!   f. files, on a server just started: upload throughput for 20 MB and 1 MB files and
//!      download throughput, 4 at a time, and server memory during the 20 MB uploads;
//!   s. with `--search` (or alone with `--search-only`), search on a database of its own
//!      of 1,000,000 messages: latency of four kinds of query, the index's size on disk,
//!      and sends with and without the index (see `search`).
//! With `--database-url postgres://…` (a server on which it may create a database), it then
//! measures on PostgreSQL too, with one and two instances (see `pg`).
//! It prints a table and writes the figures as JSON (`--json FILE`, default
//! `target/kanect-bench.json`). Run with `cargo bench --bench kanect-bench`;
//! `-- --quick` runs a smaller, shorter version for a smoke test.

mod client;
mod corpus;
mod files;
mod history;
mod load;
mod pg;
mod pollers;
mod queries;
mod report;
mod search;
mod seed;
mod server;
mod server_view;
mod store;
mod timed;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use client::{Conn, Login, Result};
use load::Window;
use pollers::Pollers;
use report::{Idle, Report};
use seed::{Cast, Sizes};
use store::Store;

struct Options {
    quick: bool,
    json: PathBuf,
    log_level: String,
    /// A PostgreSQL server to measure on as well, after SQLite.
    database_url: Option<String>,
    /// Part `s` as well (`--search`), or only it (`--search-only`).
    search: bool,
    search_only: bool,
    /// Messages of `s`: 1,000,000 (`--quick`: 50,000) unless `--search-messages N`.
    search_messages: Option<u64>,
}

fn options() -> Result<Options> {
    let mut options = Options {
        quick: false,
        json: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/kanect-bench.json"),
        log_level: "info".into(),
        database_url: None,
        search: false,
        search_only: false,
        search_messages: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            // `cargo bench` passes this to every bench target.
            "--bench" => {}
            "--quick" => options.quick = true,
            "--json" => options.json = args.next().ok_or("--json needs a file")?.into(),
            "--log-level" => options.log_level = args.next().ok_or("--log-level needs a level")?,
            "--search" => options.search = true,
            "--search-only" => (options.search, options.search_only) = (true, true),
            "--search-messages" => {
                let n = args.next().ok_or("--search-messages needs a number")?;
                options.search_messages = Some(n.parse()?);
            }
            "--database-url" => {
                let url = args.next().ok_or("--database-url needs a URL")?;
                if !kanect::db::backend::is_postgres_url(&url) {
                    return Err(
                        "--database-url takes a postgres:// URL (SQLite always runs)".into(),
                    );
                }
                options.database_url = Some(url);
            }
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    Ok(options)
}

fn main() {
    let mut args = std::env::args().skip(1);
    if args.next().as_deref() == Some(server::TRIVIAL_FLAG) {
        if let Err(e) = server::run_trivial(&args.next().unwrap_or_default()) {
            eprintln!("trivial server: {e}");
            std::process::exit(1);
        }
        return;
    }
    let outcome = options().and_then(|options| {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
            .block_on(run(options))
    });
    if let Err(e) = outcome {
        eprintln!("kanect-bench: {e}");
        std::process::exit(1);
    }
}

async fn run(options: Options) -> Result<()> {
    let began = Instant::now();
    let open_files = kanect::limits::raise_open_files()?;
    let mut report = Report::new(open_files, options.quick, &options.log_level);
    report.load_before = report::loadavg();
    report.search_only = options.search_only;
    // A failure in files, search or on PostgreSQL still leaves the other figures printed
    // and written.
    let mut failed = Vec::new();
    if !options.search_only {
        every_part(&options, &mut report, &mut failed).await?;
    }
    if options.search {
        search_part(&options, &mut report, &mut failed).await;
    }

    report.seconds = began.elapsed().as_secs_f64();
    report.load_after = report::loadavg();
    report.print();
    report.write(&options.json)?;
    eprintln!("written to {}", options.json.display());
    if failed.is_empty() {
        Ok(())
    } else {
        Err(failed.join("; ").into())
    }
}

/// `s`, on SQLite and, with `--database-url`, on PostgreSQL.
async fn search_part(options: &Options, report: &mut Report, failed: &mut Vec<String>) {
    let default = if options.quick {
        search::QUICK_MESSAGES
    } else {
        search::MESSAGES
    };
    let part = search::Options {
        log_level: &options.log_level,
        quick: options.quick,
        messages: options.search_messages.unwrap_or(default),
        duration: Duration::from_secs(if options.quick { 2 } else { 5 }),
    };
    match search::sqlite(&part).await {
        Ok(figures) => report.search = Some(figures),
        Err(e) => failed.push(format!("in search: {e}")),
    }
    if let Some(url) = &options.database_url {
        report.pg_search_server = Some(kanect::db::backend::without_password(url));
        match search::postgres(url, &part).await {
            Ok(figures) => report.pg_search = Some(figures),
            Err(e) => failed.push(format!("in search on PostgreSQL: {e}")),
        }
    }
}

/// Every part but `s`.
async fn every_part(
    options: &Options,
    report: &mut Report,
    failed: &mut Vec<String>,
) -> Result<()> {
    let sizes = Sizes {
        pollers: if options.quick { 1000 } else { 5000 },
        latency_chats: 100,
        throughput_senders: if options.quick { 32 } else { 64 },
        empty_pollers: if options.quick { 32 } else { 64 },
    };
    let seconds = if options.quick { 2 } else { 5 };
    let duration = Duration::from_secs(seconds);
    let window = |conns| Window {
        conns,
        warmup: Duration::from_secs(1),
        duration,
    };

    let dir = tempfile::tempdir()?;
    let data_dir = dir.path().to_path_buf();
    eprintln!("data dir {}: migrating and seeding", data_dir.display());
    server::migrate(&data_dir, None)?;
    let store = Store::Sqlite(data_dir.join("kanect.db"));
    let cast = seed::seed(&store, &sizes).await?;
    let login = |i: usize| -> Login { cast.logins[i].clone() };

    eprintln!("e. trivial Rocket route");
    let trivial = server::start_trivial().await?;
    let pid = trivial.child.id();
    let (_, before) = server::usage(pid)?;
    report.trivial = load::trivial(trivial.addr, &window(32)).await?;
    report.trivial_cpu = cpu_since(pid, before, &window(32))?;
    drop(trivial);

    let kanect = server::start_kanect(&data_dir, &options.log_level, None).await?;
    let addr = kanect.addr;
    let pid = kanect.child.id();
    check_session(addr, &login(0)).await?;

    eprintln!("d. empty polls");
    let empty = empty_pollers(addr, &cast).await?;
    let (_, before) = server::usage(pid)?;
    report.empty_polls = load::empty_polls(addr, empty, &window(32)).await?;
    report.empty_polls_cpu = cpu_since(pid, before, &window(32))?;

    eprintln!("c. sends");
    let senders = throughput_senders(&cast);
    let (_, before) = server::usage(pid)?;
    let conns = senders.len();
    let seen_before = server_view::scrape(addr).await?;
    report.sends = Some(load::sends(&[addr], senders, &window(conns), &store, "c").await?);
    report.sends_cpu = cpu_since(pid, before, &window(conns))?;
    report.sends_server = Some(server_view::between(
        &seen_before,
        &server_view::scrape(addr).await?,
    ));

    eprintln!("a. idle long polls");
    tokio::time::sleep(Duration::from_secs(1)).await;
    report.idle_baseline_kib = server::usage(pid)?.0;
    let mut pollers = Pollers::default();
    let poller_logins = |to: usize| -> Vec<Login> {
        (cast.pollers.start..cast.pollers.start + to)
            .map(login)
            .collect()
    };
    for level in [100, 1000, 5000] {
        if level > sizes.pollers {
            continue;
        }
        let from = pollers.len();
        let ramp = Instant::now();
        pollers.add(addr, &poller_logins(level)[from..]).await?;
        let settle = pollers.quiet(ramp, Duration::from_secs(30)).await;
        let cpu = server::cpu_percent(pid, Duration::from_secs(3)).await?;
        let (rss_kib, _) = server::usage(pid)?;
        eprintln!("   {level} pollers: {rss_kib} KiB, {cpu:.1}% CPU");
        report.idle.push(Idle {
            pollers: level,
            rss_kib,
            cpu_percent: cpu,
            ramp_s: ramp.elapsed().as_secs_f64(),
            settle_s: settle.as_secs_f64(),
        });
        if level == 1000 {
            timed::at_1000(report, addr, &cast, &pollers, duration).await?;
        }
    }
    let top = pollers.len();
    report.poll_errors = pollers.counters.errors.load(Ordering::Acquire);
    pollers.stop();
    drop(kanect);

    eprintln!("w. a restart, and a reconnect wave of {top}");
    let kanect = server::start_kanect(&data_dir, &options.log_level, None).await?;
    let (addr, pid) = (kanect.addr, kanect.child.id());
    let mut pollers = Pollers::default();
    let (_, before) = server::usage(pid)?;
    let wave = Instant::now();
    pollers.add(addr, &poller_logins(top)).await?;
    let settle = pollers.quiet(wave, Duration::from_secs(120)).await;
    let (rss_kib, after) = server::usage(pid)?;
    let counters = &pollers.counters;
    report.wave = Some(report::Wave {
        pollers: top,
        answers: counters.answers.load(Ordering::Acquire),
        presence_answers: counters.presence_answers.load(Ordering::Acquire),
        presence_changes: counters.presence_changes.load(Ordering::Acquire),
        settle_s: settle.as_secs_f64(),
        rss_kib,
        cpu_s: (after - before) as f64 / 100.0,
    });
    eprintln!("w. delivery latency at {top} pollers");
    let (delivery, _) = timed::messages(addr, &cast, &pollers, duration).await?;
    report.delivery_after_wave = Some(delivery);
    report.poll_errors += pollers.counters.errors.load(Ordering::Acquire);
    pollers.stop();
    drop(kanect);

    eprintln!("f. files, on the server started again");
    let kanect = server::start_kanect(&data_dir, &options.log_level, None).await?;
    check_session(kanect.addr, &login(0)).await?;
    match files::run(kanect.addr, kanect.child.id(), &cast, options.quick).await {
        Ok(part) => report.files = Some(part),
        Err(e) => failed.push(format!("in files: {e}")),
    }
    drop(kanect);

    if let Some(url) = &options.database_url {
        match pg::run(url, &options.log_level, &sizes, duration, options.quick).await {
            Ok(part) => report.postgres = Some(part),
            Err(e) => failed.push(format!("on PostgreSQL: {e}")),
        }
    }
    Ok(())
}

/// A seeded session is a session like any other to the server.
async fn check_session(addr: SocketAddr, login: &Login) -> Result<()> {
    let (status, me) = Conn::open(addr).await?.get("/api/me", Some(login)).await?;
    if status.as_u16() != 200 || !String::from_utf8_lossy(&me).contains("user00000") {
        return Err(format!("a seeded session was refused: {status}").into());
    }
    Ok(())
}

/// The pollers of `d`, each with the cursor its page load was given.
async fn empty_pollers(addr: SocketAddr, cast: &Cast) -> Result<Vec<(Login, i64)>> {
    let mut empty = Vec::new();
    for i in cast.empty_pollers.clone() {
        let login = cast.logins[i].clone();
        let cursor = page_cursor(addr, &login).await?;
        empty.push((login, cursor));
    }
    Ok(empty)
}

/// The senders of `c`, each with the chat it sends into.
fn throughput_senders(cast: &Cast) -> Vec<(Login, i64)> {
    cast.throughput_senders
        .clone()
        .zip(&cast.throughput_chats)
        .map(|(i, chat)| (cast.logins[i].clone(), *chat))
        .collect()
}

/// The cursor a page that has just loaded starts from.
async fn page_cursor(addr: SocketAddr, login: &Login) -> Result<i64> {
    let (status, body) = Conn::open(addr)
        .await?
        .get("/api/updates", Some(login))
        .await?;
    let cursor = serde_json::from_slice::<serde_json::Value>(&body)?["cursor"].as_i64();
    match cursor {
        Some(cursor) if status.is_success() => Ok(cursor),
        _ => Err(format!("a page load answered {status}").into()),
    }
}

/// Server CPU (percent of one core) from `before` ticks to now, over a closed loop's window.
fn cpu_since(pid: u32, before: u64, window: &Window) -> Result<f64> {
    let (_, after) = server::usage(pid)?;
    let seconds = (window.warmup + window.duration).as_secs_f64();
    Ok((after - before) as f64 / seconds)
}
