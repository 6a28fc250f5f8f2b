//! The servers under test, each in its own process so that its CPU and memory can be read
//! apart from the load generator's: the real `kanect` binary, and a trivial Rocket app
//! (this same executable, started with `--trivial-server PORT`).

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rocket::serde::json::{json, Json, Value};

use crate::client::{Conn, Result};

pub const TRIVIAL_FLAG: &str = "--trivial-server";

/// A child process that is killed when dropped.
pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nobody listens on right now.
pub fn free_port() -> Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port())
}

/// What instances on one PostgreSQL database share: the database, and the secret key
/// (a session cookie one instance set must open on the other, as behind one proxy).
pub struct Shared {
    pub url: String,
    pub secret_key: String,
}

/// `kanect` on `data_dir`, on its SQLite file or, with `shared`, on PostgreSQL.
fn kanect_command(data_dir: &Path, shared: Option<&Shared>) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kanect"));
    // The working directory holds no Rocket.toml: built-in defaults, as a fresh install.
    command
        .current_dir(data_dir)
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("KANECT_CONFIG")
        .env_remove("KANECT_LOG")
        // The bench reads the server's own view from /metrics (see server_view.rs).
        .env("KANECT_METRICS", "true");
    match shared {
        Some(shared) => command
            .env("KANECT_DATABASE_URL", &shared.url)
            .env("KANECT_SECRET_KEY", &shared.secret_key),
        // Whatever the shell exports, the SQLite runs use the data dir's file (the one
        // the bench seeds and checks) and a key of their own.
        None => command
            .env_remove("KANECT_DATABASE_URL")
            .env_remove("KANECT_SECRET_KEY"),
    };
    command
}

/// `kanect migrate` on a fresh data dir (or database), so the bench can seed the schema
/// before serving.
pub fn migrate(data_dir: &Path, shared: Option<&Shared>) -> Result<()> {
    let output = kanect_command(data_dir, shared).arg("migrate").output()?;
    if !output.status.success() {
        return Err(format!(
            "kanect migrate failed: {}",
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    Ok(())
}

/// `kanect serve` with its log in `data_dir/server.log`.
pub async fn start_kanect(
    data_dir: &Path,
    log_level: &str,
    shared: Option<&Shared>,
) -> Result<Server> {
    let port = free_port()?;
    let log = std::fs::File::create(data_dir.join("server.log"))?;
    let child = kanect_command(data_dir, shared)
        .arg("--log-level")
        .arg(log_level)
        .arg("serve")
        .arg("--port")
        .arg(port.to_string())
        .stdout(log.try_clone()?)
        .stderr(log)
        .stdin(Stdio::null())
        .spawn()?;
    started(child, port, "/healthz").await
}

pub async fn start_trivial() -> Result<Server> {
    let port = free_port()?;
    let child = Command::new(std::env::current_exe()?)
        .arg(TRIVIAL_FLAG)
        .arg(port.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()?;
    started(child, port, "/").await
}

async fn started(child: Child, port: u16, probe: &str) -> Result<Server> {
    let server = Server {
        child,
        addr: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(mut conn) = Conn::open(server.addr).await {
            if let Ok((status, _)) = conn.get(probe, None).await {
                if status.is_success() {
                    return Ok(server);
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(format!("the server on port {port} did not come up").into())
}

#[rocket::get("/")]
fn hello() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// The ceiling: Rocket with one JSON route, no fairings, no database, no logging.
pub fn run_trivial(port: &str) -> Result<()> {
    let port: u16 = port.parse()?;
    let config = rocket::Config {
        port,
        address: Ipv4Addr::LOCALHOST.into(),
        log_level: rocket::config::LogLevel::Off,
        ..rocket::Config::release_default()
    };
    // Release builds insist on a secret key once the `secrets` feature is on (Kanect's is).
    let config = rocket::figment::Figment::from(config)
        .merge(("secret_key", kanect::auth::token::new_secret_key()));
    rocket::execute(
        rocket::custom(config)
            .mount("/", rocket::routes![hello])
            .launch(),
    )?;
    Ok(())
}

/// Resident memory (KiB) and CPU time used so far (clock ticks) of process `pid`.
pub fn usage(pid: u32) -> Result<(u64, u64)> {
    let rss_kib = memory(pid)?.rss_kib;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name (which may hold spaces): utime is the 12th, stime 13th.
    let after = stat.rsplit_once(')').ok_or("bad stat")?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = fields.get(11).ok_or("no utime")?.parse::<u64>()?
        + fields.get(12).ok_or("no stime")?.parse::<u64>()?;
    Ok((rss_kib, ticks))
}

/// A process's resident memory now and at its highest, from `/proc/<pid>/status`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Memory {
    /// `VmRSS`.
    pub rss_kib: u64,
    /// `VmHWM`: the highest `VmRSS` since the process started, or since [`reset_peak`].
    pub hwm_kib: u64,
    /// `VmRSS` in parts: `RssAnon` (the heap, stacks), `RssFile` (the binary's pages and
    /// other mapped files, SQLite's `-shm` index among them) and `RssShmem` (shared memory
    /// and tmpfs files: a data dir on tmpfs).
    pub anon_kib: u64,
    pub file_kib: u64,
    pub shmem_kib: u64,
}

pub fn memory(pid: u32) -> Result<Memory> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |name: &str| -> Result<u64> {
        Ok(status
            .lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
            .and_then(|rest| rest.split_whitespace().next())
            .ok_or_else(|| format!("no {name} in /proc/{pid}/status"))?
            .parse()?)
    };
    Ok(Memory {
        rss_kib: field("VmRSS")?,
        hwm_kib: field("VmHWM")?,
        anon_kib: field("RssAnon")?,
        file_kib: field("RssFile")?,
        shmem_kib: field("RssShmem")?,
    })
}

/// Sets `VmHWM` of `pid` back to its `VmRSS` now (`clear_refs`, Linux 4.0 and later), so
/// that it reads the highest RSS from here on. `false` where the kernel refuses.
pub fn reset_peak(pid: u32) -> bool {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok()
}

/// A process's highest RSS over a while.
#[derive(Debug, Default, Clone, Copy)]
pub struct Peak {
    /// The highest `VmRSS` of the samples, and that sample in parts.
    pub sampled_kib: u64,
    pub at_peak: Memory,
    pub samples: u64,
    /// `VmHWM` at the end, when it could be reset at the start (else `None`).
    pub hwm_kib: Option<u64>,
}

impl Peak {
    pub fn kib(&self) -> u64 {
        self.sampled_kib.max(self.hwm_kib.unwrap_or(0))
    }
}

/// Reads a process's RSS every `every` on a thread of its own (the runtime's threads may
/// be busy with the load), from `start` to `finish`.
pub struct Sampler {
    pid: u32,
    reset: bool,
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<(Memory, u64)>,
}

impl Sampler {
    pub fn start(pid: u32, every: Duration) -> Sampler {
        let reset = reset_peak(pid);
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::spawn(move || {
            let (mut highest, mut samples) = (Memory::default(), 0);
            while !stopped.load(Ordering::Acquire) {
                if let Ok(now) = memory(pid) {
                    if now.rss_kib > highest.rss_kib {
                        highest = now;
                    }
                    samples += 1;
                }
                std::thread::sleep(every);
            }
            (highest, samples)
        });
        Sampler {
            pid,
            reset,
            stop,
            thread,
        }
    }

    pub fn finish(self) -> Result<Peak> {
        self.stop.store(true, Ordering::Release);
        let (at_peak, samples) = self.thread.join().map_err(|_| "the sampler panicked")?;
        let hwm = memory(self.pid)?.hwm_kib;
        Ok(Peak {
            sampled_kib: at_peak.rss_kib,
            at_peak,
            samples,
            hwm_kib: self.reset.then_some(hwm),
        })
    }
}

/// CPU use of `pid` over `window`, in percent of one core.
pub async fn cpu_percent(pid: u32, window: Duration) -> Result<f64> {
    let (_, before) = usage(pid)?;
    tokio::time::sleep(window).await;
    let (_, after) = usage(pid)?;
    // Linux reports in USER_HZ, which is 100 on every mainstream platform.
    Ok((after - before) as f64 / window.as_secs_f64())
}

/// CPU time used so far (clock ticks) by every process on this machine named `postgres`:
/// the PostgreSQL server and its backends, when the server is local (0 when it is not, or
/// when `/proc` hides other users' processes). Backends that ended since `before` are
/// missing from `after`, so a difference can only undercount; the server's backends for
/// Kanect's pools live as long as the pools do.
pub fn postgres_ticks() -> u64 {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|comm| comm.trim_end() == "postgres")
        })
        .filter_map(|pid| usage(pid).ok().map(|(_, ticks)| ticks))
        .sum()
}
