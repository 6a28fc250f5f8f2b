//! The PostgreSQL part of a run (`--database-url postgres://…`), after the SQLite one: a
//! database of the run's own on that server, seeded with the same people and chats, and
//!   d. empty polls on one instance;
//!   c. sends on one instance, then every acknowledged message looked up;
//!   c2. the same senders split across two instances on the same database;
//!   x. delivery across instances: 1,000 pollers, half on each instance, every recipient
//!      on B, every message sent on A (then, for comparison, sent on B);
//!   f. files, on one instance started afresh once A and B have stopped (see `files`);
//! with each instance's CPU and memory, and the local PostgreSQL server's CPU.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::client::{Login, Result};
use crate::files;
use crate::load::{self, Window};
use crate::pollers::Pollers;
use crate::report::{Cpu, Postgres};
use crate::seed::{self, Cast, Sizes, STRIDE};
use crate::server::{self, Server, Shared};
use crate::store::{Fresh, Store};
use crate::timed;

/// Pollers of `x`, split between the instances.
const CROSS_POLLERS: usize = 1000;

// The recipients of `x` are every `STRIDE`th poller, and even pollers poll instance B.
const _: () = assert!(STRIDE % 2 == 0);

/// Runs the PostgreSQL part on a new database on `server` (a server URL), and drops the
/// database afterwards, whether the part succeeded or not.
pub async fn run(
    server: &str,
    log_level: &str,
    sizes: &Sizes,
    duration: Duration,
    quick: bool,
) -> Result<Postgres> {
    let fresh = Fresh::create(server).await?;
    eprintln!("PostgreSQL: database {}", fresh.name);
    let measured = measure(&fresh, log_level, sizes, duration, quick).await;
    let dropped = fresh.drop().await;
    let mut figures = measured?;
    dropped?;
    figures.server = kanect::db::backend::without_password(server);
    Ok(figures)
}

/// Two instances' data dirs (each its log, nothing else: the data is in the database).
struct Instances {
    _dir: tempfile::TempDir,
    a: std::path::PathBuf,
    b: std::path::PathBuf,
    shared: Shared,
    log_level: String,
}

impl Instances {
    fn new(url: &str, log_level: &str) -> Result<Instances> {
        let dir = tempfile::tempdir()?;
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::create_dir(&a)?;
        std::fs::create_dir(&b)?;
        Ok(Instances {
            _dir: dir,
            a,
            b,
            shared: Shared {
                url: url.to_owned(),
                secret_key: kanect::auth::token::new_secret_key(),
            },
            log_level: log_level.to_owned(),
        })
    }

    async fn start(&self, data_dir: &Path, cast: &Cast) -> Result<Server> {
        let server = server::start_kanect(data_dir, &self.log_level, Some(&self.shared)).await?;
        crate::check_session(server.addr, &cast.logins[0]).await?;
        Ok(server)
    }
}

async fn measure(
    fresh: &Fresh,
    log_level: &str,
    sizes: &Sizes,
    duration: Duration,
    quick: bool,
) -> Result<Postgres> {
    let instances = Instances::new(&fresh.url, log_level)?;
    server::migrate(&instances.a, Some(&instances.shared))?;
    let store = Store::Postgres(fresh.url.clone());
    let seeding = Instant::now();
    let cast = seed::seed(&store, sizes).await?;
    let mut figures = Postgres {
        version: version(&store).await?,
        seed_s: seeding.elapsed().as_secs_f64(),
        ..Postgres::default()
    };
    eprintln!("   seeded in {:.1} s", figures.seed_s);
    let window = |conns| Window {
        conns,
        warmup: Duration::from_secs(1),
        duration,
    };

    let a = instances.start(&instances.a, &cast).await?;
    eprintln!("pg d. empty polls, one instance");
    let empty = crate::empty_pollers(a.addr, &cast).await?;
    let before = ticks(&[&a])?;
    figures.empty_polls = load::empty_polls(a.addr, empty, &window(32)).await?;
    figures.empty_polls_cpu = cpu_since(&[&a], before, &window(32))?;

    eprintln!("pg c. sends, one instance");
    let senders = crate::throughput_senders(&cast);
    let conns = senders.len();
    let before = ticks(&[&a])?;
    figures.sends_one = Some(load::sends(&[a.addr], senders, &window(conns), &store, "c").await?);
    figures.sends_one_cpu = cpu_since(&[&a], before, &window(conns))?;

    let b = instances.start(&instances.b, &cast).await?;
    eprintln!("pg c2. sends, two instances");
    let senders = crate::throughput_senders(&cast);
    let before = ticks(&[&a, &b])?;
    let addrs = [a.addr, b.addr];
    figures.sends_two = Some(load::sends(&addrs, senders, &window(conns), &store, "c2").await?);
    figures.sends_two_cpu = cpu_since(&[&a, &b], before, &window(conns))?;

    cross(&mut figures, &a, &b, &cast, duration).await?;
    drop(b);
    drop(a);

    eprintln!("pg f. files, on instance A started again");
    let a = instances.start(&instances.a, &cast).await?;
    figures.files = Some(files::run(a.addr, a.child.id(), &cast, quick).await?);
    Ok(figures)
}

/// `x`: pollers spread over both instances, all recipients on B; messages sent on A, then
/// on B (the same path within one instance, for comparison).
async fn cross(
    figures: &mut Postgres,
    a: &Server,
    b: &Server,
    cast: &Cast,
    duration: Duration,
) -> Result<()> {
    let n = CROSS_POLLERS.min(cast.pollers.len());
    eprintln!("pg x. {n} pollers over two instances");
    // Even pollers (the recipients among them) poll B, odd ones A.
    let half = |on_b: bool| -> Vec<Login> {
        let first = cast.pollers.start;
        (first..first + n)
            .filter(|i| ((i - first) % 2 == 0) == on_b)
            .map(|i| cast.logins[i].clone())
            .collect()
    };
    let mut pollers = Pollers::default();
    let ramp = Instant::now();
    pollers.add(b.addr, &half(true)).await?;
    pollers.add(a.addr, &half(false)).await?;
    let settle = pollers.quiet(ramp, Duration::from_secs(30)).await;
    eprintln!("   settled after {:.1} s", settle.as_secs_f64());
    figures.rss_kib = vec![
        server::usage(a.child.id())?.0,
        server::usage(b.child.id())?.0,
    ];

    eprintln!("pg x. delivery latency: sent on A, polled on B");
    figures.cross = Some(timed::messages(a.addr, cast, &pollers, duration).await?.0);
    eprintln!("pg x. delivery latency: sent on B, polled on B");
    figures.same = Some(timed::messages(b.addr, cast, &pollers, duration).await?.0);
    figures.poll_errors = pollers.counters.errors.load(Ordering::Acquire);
    pollers.stop();
    Ok(())
}

/// The server's version, for the report (`15.18 (Debian …)` and so on).
async fn version(store: &Store) -> Result<String> {
    let mut db = store.open_read_only().await?;
    let version: String = kanect::on!(db.on(), |c| {
        sqlx::query_scalar("SELECT version()").fetch_one(c).await?
    });
    db.close().await?;
    Ok(version)
}

/// CPU ticks so far of each instance, and of the local PostgreSQL processes (last).
fn ticks(servers: &[&Server]) -> Result<Vec<u64>> {
    let mut ticks = Vec::with_capacity(servers.len() + 1);
    for server in servers {
        ticks.push(server::usage(server.child.id())?.1);
    }
    ticks.push(server::postgres_ticks());
    Ok(ticks)
}

/// Where the CPU went from `before` to now, over a closed loop's window.
fn cpu_since(servers: &[&Server], before: Vec<u64>, window: &Window) -> Result<Cpu> {
    let after = ticks(servers)?;
    let seconds = (window.warmup + window.duration).as_secs_f64();
    let percent = |(after, before): (&u64, &u64)| after.saturating_sub(*before) as f64 / seconds;
    let mut percents: Vec<f64> = after.iter().zip(&before).map(percent).collect();
    let postgres = percents.pop().unwrap_or_default();
    Ok(Cpu {
        instances: percents,
        postgres,
    })
}
