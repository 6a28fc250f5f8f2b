//! kanect-bench: starts the real `kanect` binary on a fresh data dir, seeds people and
//! chats, and measures, in one run on one machine:
//!   a. idle long polls held (100, 1,000, 5,000): server memory and CPU;
//!   b. delivery latency with 1,000 pollers connected and 100 messages/s;
//!   c. send throughput, then a check that every acknowledged message is stored once;
//!   d. empty `/api/updates` throughput;
//!   e. a trivial Rocket JSON route in its own process: the ceiling the others are put
//!      against.
//! It prints a table and writes the figures as JSON (`--json FILE`, default
//! `target/kanect-bench.json`). Run with `cargo bench --bench kanect-bench`;
//! `-- --quick` runs a smaller, shorter version for a smoke test.

mod client;
mod load;
mod pollers;
mod report;
mod seed;
mod server;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use client::{Conn, Login, Result};
use load::Window;
use pollers::Pollers;
use report::{Idle, Report};
use seed::Sizes;

struct Options {
    quick: bool,
    json: PathBuf,
    log_level: String,
}

fn options() -> Result<Options> {
    let mut options = Options {
        quick: false,
        json: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/kanect-bench.json"),
        log_level: "info".into(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            // `cargo bench` passes this to every bench target.
            "--bench" => {}
            "--quick" => options.quick = true,
            "--json" => options.json = args.next().ok_or("--json needs a file")?.into(),
            "--log-level" => options.log_level = args.next().ok_or("--log-level needs a level")?,
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
    let sizes = if options.quick {
        Sizes {
            pollers: 1000,
            latency_chats: 100,
            throughput_senders: 32,
            empty_pollers: 32,
        }
    } else {
        Sizes {
            pollers: 5000,
            latency_chats: 100,
            throughput_senders: 64,
            empty_pollers: 64,
        }
    };
    let seconds = if options.quick { 2 } else { 5 };
    let window = |conns| Window {
        conns,
        warmup: Duration::from_secs(1),
        duration: Duration::from_secs(seconds),
    };
    let mut report = Report::new(open_files, options.quick, &options.log_level);
    report.load_before = report::loadavg();

    let dir = tempfile::tempdir()?;
    let data_dir = dir.path().to_path_buf();
    eprintln!("data dir {}: migrating and seeding", data_dir.display());
    server::migrate(&data_dir)?;
    let cast = seed::seed(&data_dir, &sizes).await?;
    let login = |i: usize| -> Login { cast.logins[i].clone() };

    eprintln!("e. trivial Rocket route");
    let trivial = server::start_trivial().await?;
    let pid = trivial.child.id();
    let (_, before) = server::usage(pid)?;
    report.trivial = load::trivial(trivial.addr, &window(32)).await?;
    report.trivial_cpu = cpu_since(pid, before, &window(32))?;
    drop(trivial);

    let kanect = server::start_kanect(&data_dir, &options.log_level).await?;
    let addr = kanect.addr;
    let pid = kanect.child.id();
    // A seeded session is a session like any other to the server.
    let (status, me) = Conn::open(addr)
        .await?
        .get("/api/me", Some(&login(0)))
        .await?;
    if status.as_u16() != 200 || !String::from_utf8_lossy(&me).contains("user00000") {
        return Err(format!("a seeded session was refused: {status}").into());
    }

    eprintln!("d. empty polls");
    let empty: Vec<_> = cast
        .empty_pollers
        .clone()
        .zip(&cast.empty_cursor)
        .map(|(i, cursor)| (login(i), *cursor))
        .collect();
    let (_, before) = server::usage(pid)?;
    report.empty_polls = load::empty_polls(addr, empty, &window(32)).await?;
    report.empty_polls_cpu = cpu_since(pid, before, &window(32))?;

    eprintln!("c. sends");
    let senders: Vec<_> = cast
        .throughput_senders
        .clone()
        .zip(&cast.throughput_chats)
        .map(|(i, chat)| (login(i), *chat))
        .collect();
    let (_, before) = server::usage(pid)?;
    let conns = senders.len();
    report.sends =
        Some(load::sends(addr, senders, &window(conns), &data_dir.join("kanect.db")).await?);
    report.sends_cpu = cpu_since(pid, before, &window(conns))?;

    eprintln!("a. idle long polls");
    tokio::time::sleep(Duration::from_secs(1)).await;
    report.idle_baseline_kib = server::usage(pid)?.0;
    let mut pollers = Pollers::default();
    for level in [100, 1000, 5000] {
        if level > sizes.pollers {
            continue;
        }
        let from = pollers.len();
        let logins: Vec<Login> = (cast.pollers.start + from..cast.pollers.start + level)
            .map(login)
            .collect();
        let ramp = Instant::now();
        pollers.add(addr, &logins).await?;
        let settle = pollers.quiet(Duration::from_secs(30)).await;
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
            eprintln!("b. delivery latency");
            let senders: Vec<_> = cast
                .latency_senders
                .clone()
                .zip(&cast.latency_chats)
                .map(|(i, chat)| (login(i), *chat))
                .collect();
            let (times, sent, acked) =
                pollers::delivery(addr, &pollers, &senders, 100, Duration::from_secs(seconds))
                    .await?;
            report.delivery = Some(report::Delivery {
                pollers: pollers.len(),
                rate: 100,
                sent,
                acknowledged: acked,
                times,
            });
        }
    }
    report.poll_errors = pollers.errors.load(std::sync::atomic::Ordering::Acquire);
    pollers.stop();
    drop(kanect);

    report.seconds = began.elapsed().as_secs_f64();
    report.load_after = report::loadavg();
    report.print();
    report.write(&options.json)?;
    eprintln!("written to {}", options.json.display());
    Ok(())
}

/// Server CPU (percent of one core) from `before` ticks to now, over a closed loop's window.
fn cpu_since(pid: u32, before: u64, window: &Window) -> Result<f64> {
    let (_, after) = server::usage(pid)?;
    let seconds = (window.warmup + window.duration).as_secs_f64();
    Ok((after - before) as f64 / seconds)
}
