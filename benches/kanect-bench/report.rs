//! The run's figures: a table on stdout, the same as JSON, and the issues' targets.

use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};

use crate::client::{Counted, Result};
use crate::files::Files;
use crate::load::Sends;
use crate::pollers::{Paced, Timings};
use crate::search::Search;
use crate::server_view::ServerView;

pub struct Idle {
    pub pollers: usize,
    pub rss_kib: u64,
    pub cpu_percent: f64,
    pub ramp_s: f64,
    pub settle_s: f64,
}

/// Changes made at a steady rate while pollers wait, and how long the polls took to
/// bring them: to each recipient, and to the last recipient of each change.
pub struct Delivery {
    pub pollers: usize,
    pub rate: u32,
    /// Polls each change should reach.
    pub recipients: usize,
    pub sent: u64,
    pub acknowledged: u64,
    pub timings: Timings,
}

impl Delivery {
    pub fn new(pollers: usize, rate: u32, recipients: usize, paced: Paced) -> Delivery {
        Delivery {
            pollers,
            rate,
            recipients,
            sent: paced.sent,
            acknowledged: paced.acknowledged,
            timings: paced.timings,
        }
    }

    /// Every acknowledged change reached every recipient.
    fn complete(&self) -> bool {
        self.sent == self.acknowledged && self.timings.all.len() as u64 == self.acknowledged
    }

    fn json(&self) -> Value {
        json!({
            "pollers": self.pollers,
            "rate_per_second": self.rate,
            "recipients": self.recipients,
            "sent": self.sent,
            "acknowledged": self.acknowledged,
            "delivered": self.timings.each.len(),
            "delivered_to_all": self.timings.all.len(),
            "p50_ms": ms(&self.timings.each, 0.5),
            "p95_ms": ms(&self.timings.each, 0.95),
            "p99_ms": ms(&self.timings.each, 0.99),
            "max_ms": ms(&self.timings.each, 1.0),
            "all_p50_ms": ms(&self.timings.all, 0.5),
            "all_p99_ms": ms(&self.timings.all, 0.99),
        })
    }
}

/// A quantile of sorted times, in milliseconds.
fn ms(times: &[Duration], q: f64) -> f64 {
    if times.is_empty() {
        return f64::NAN;
    }
    let at = ((times.len() as f64 * q).ceil() as usize).clamp(1, times.len()) - 1;
    times[at].as_secs_f64() * 1000.0
}

/// Everyone's tabs connecting at once to a server that has just started.
pub struct Wave {
    pub pollers: usize,
    /// Long polls answered from the first connection until the polls settled.
    pub answers: u64,
    pub presence_answers: u64,
    pub presence_changes: u64,
    pub settle_s: f64,
    pub rss_kib: u64,
    /// Server CPU time over the wave, in seconds.
    pub cpu_s: f64,
}

impl Wave {
    fn per_poll(&self) -> f64 {
        ratio(self.answers as f64, self.pollers as f64)
    }
}

/// Where a phase's CPU went, in percent of one core: each Kanect instance, and the
/// PostgreSQL server's processes on this machine (all of them: other databases' work
/// included).
#[derive(Default)]
pub struct Cpu {
    pub instances: Vec<f64>,
    pub postgres: f64,
}

impl Cpu {
    fn kanect(&self) -> f64 {
        self.instances.iter().sum()
    }

    /// "A 95% + B 90%, postgres 60%"
    fn describe(&self) -> String {
        let instances: Vec<String> = self
            .instances
            .iter()
            .zip(["A", "B", "C", "D"])
            .map(|(cpu, name)| format!("{name} {cpu:.0}%"))
            .collect();
        format!("{}, postgres {:.0}%", instances.join(" + "), self.postgres)
    }

    fn json(&self) -> Value {
        json!({
            "instances_percent": self.instances.iter().map(|c| c.round()).collect::<Vec<_>>(),
            "postgres_percent": self.postgres.round(),
        })
    }
}

/// The PostgreSQL part of the run (`--database-url`): instance A alone for `d` and `c`,
/// A and B on the same database for `c2` and `x`.
#[derive(Default)]
pub struct Postgres {
    /// The server, as given (password hidden), and what it says it is.
    pub server: String,
    pub version: String,
    pub seed_s: f64,
    pub empty_polls: Counted,
    pub empty_polls_cpu: Cpu,
    pub sends_one: Option<Sends>,
    pub sends_one_cpu: Cpu,
    pub sends_two: Option<Sends>,
    pub sends_two_cpu: Cpu,
    /// Sent on A, polled on B.
    pub cross: Option<Delivery>,
    /// Sent on B, polled on B (with A running and holding the other half of the polls).
    pub same: Option<Delivery>,
    /// Each instance's RSS with the pollers of `x` connected.
    pub rss_kib: Vec<u64>,
    pub poll_errors: u64,
    /// `f` on one instance.
    pub files: Option<Files>,
}

impl Postgres {
    fn rate(sends: &Option<Sends>) -> f64 {
        sends.as_ref().map_or(0.0, |s| s.counted.per_second())
    }

    fn lost(&self) -> usize {
        [&self.sends_one, &self.sends_two]
            .into_iter()
            .flatten()
            .map(|s| s.lost)
            .sum()
    }

    fn duplicated(&self) -> usize {
        [&self.sends_one, &self.sends_two]
            .into_iter()
            .flatten()
            .map(|s| s.duplicated)
            .sum()
    }

    fn cross_ms(&self, q: f64) -> f64 {
        self.cross
            .as_ref()
            .map_or(f64::NAN, |d| ms(&d.timings.each, q))
    }

    /// (name, target, figure, met): the targets on PostgreSQL.
    fn targets(&self) -> Vec<(String, String, String, bool)> {
        let mut targets = Vec::new();
        let (one, two) = (
            Postgres::rate(&self.sends_one),
            Postgres::rate(&self.sends_two),
        );
        if let Some(s) = &self.sends_one {
            targets.push((
                "PostgreSQL sends, one instance".into(),
                ">= 5,000/s, 0 lost, 0 duplicated".into(),
                format!("{one:.0}/s, {} lost, {} duplicated", s.lost, s.duplicated),
                one >= 5000.0 && s.lost == 0 && s.duplicated == 0,
            ));
        }
        if let Some(s) = &self.sends_two {
            targets.push((
                "PostgreSQL sends, two instances".into(),
                "more than one instance, 0 lost, 0 duplicated".into(),
                format!(
                    "{two:.0}/s vs {one:.0}/s, {} lost, {} duplicated",
                    s.lost, s.duplicated
                ),
                two > one && s.lost == 0 && s.duplicated == 0,
            ));
        }
        if let Some(d) = &self.cross {
            let p99 = ms(&d.timings.each, 0.99);
            targets.push((
                format!(
                    "PostgreSQL delivery p99 across instances, {} pollers",
                    d.pollers
                ),
                "<= 50 ms, all delivered".into(),
                format!(
                    "{p99:.1} ms ({} of {} delivered)",
                    d.timings.all.len(),
                    d.acknowledged
                ),
                p99 <= 50.0 && d.complete(),
            ));
        }
        if let Some(files) = &self.files {
            targets.push(files.target("PostgreSQL "));
        }
        targets
    }

    fn json(&self, ceiling: f64) -> Value {
        let throughput = |c: &Counted, cpu: &Cpu| {
            json!({
                "per_second": c.per_second().round(),
                "ratio_to_trivial": (ratio(c.per_second(), ceiling) * 1000.0).round() / 1000.0,
                "ok": c.ok,
                "failed": c.failed,
                "seconds": c.seconds,
                "cpu": cpu.json(),
                "server_cpu_us_per_request":
                    (micros(c.per_second(), cpu.kanect()) * 10.0).round() / 10.0,
            })
        };
        let sends = |s: &Option<Sends>, cpu: &Cpu| {
            s.as_ref().map(|s| {
                json!({
                    "throughput": throughput(&s.counted, cpu),
                    "acknowledged": s.acknowledged,
                    "stored": s.stored,
                    "lost": s.lost,
                    "duplicated": s.duplicated,
                })
            })
        };
        let round = |x: f64| (x * 10.0).round() / 10.0;
        json!({
            "server": self.server,
            "version": self.version,
            "seed_seconds": round(self.seed_s),
            "sends_per_s_one": Postgres::rate(&self.sends_one).round(),
            "sends_per_s_two": Postgres::rate(&self.sends_two).round(),
            "lost": self.lost(),
            "duplicated": self.duplicated(),
            "cross_delivery_p50_ms": round(self.cross_ms(0.5)),
            "cross_delivery_p99_ms": round(self.cross_ms(0.99)),
            "empty_polls_per_s": self.empty_polls.per_second().round(),
            "d_empty_polls": throughput(&self.empty_polls, &self.empty_polls_cpu),
            "c_sends_one_instance": sends(&self.sends_one, &self.sends_one_cpu),
            "c2_sends_two_instances": sends(&self.sends_two, &self.sends_two_cpu),
            "x_cross_delivery": self.cross.as_ref().map(Delivery::json),
            "x_same_instance_delivery": self.same.as_ref().map(Delivery::json),
            "rss_kib_with_pollers": self.rss_kib,
            "poll_errors": self.poll_errors,
            "f_files": self.files.as_ref().map(Files::json),
        })
    }
}

#[derive(Default)]
pub struct Report {
    pub open_files: u64,
    pub quick: bool,
    pub log_level: String,
    pub trivial: Counted,
    pub trivial_cpu: f64,
    pub empty_polls: Counted,
    pub empty_polls_cpu: f64,
    pub sends: Option<Sends>,
    pub sends_cpu: f64,
    /// `c` as the server's `/metrics` saw it.
    pub sends_server: Option<ServerView>,
    pub idle_baseline_kib: u64,
    pub idle: Vec<Idle>,
    pub delivery: Option<Delivery>,
    pub edits: Option<Delivery>,
    pub reactions: Option<Delivery>,
    pub group: Option<Delivery>,
    pub wave: Option<Wave>,
    pub delivery_after_wave: Option<Delivery>,
    pub files: Option<Files>,
    pub postgres: Option<Postgres>,
    /// `s` on SQLite and on PostgreSQL; with `search_only`, nothing else was measured.
    pub search: Option<Search>,
    pub pg_search: Option<Search>,
    pub search_only: bool,
    /// `--database-url` without its password, when only `s` ran on it.
    pub pg_search_server: Option<String>,
    pub poll_errors: u64,
    pub seconds: f64,
    /// /proc/loadavg before and after: other work on the machine skews every figure.
    pub load_before: String,
    pub load_after: String,
}

/// Server CPU time per request, in microseconds.
fn micros(rate: f64, cpu_percent: f64) -> f64 {
    if rate > 0.0 {
        cpu_percent / 100.0 / rate * 1e6
    } else {
        0.0
    }
}

pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        0.0
    }
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn machine() -> Value {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']).to_owned());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kib = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse::<u64>().ok());
    json!({
        "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        "cpu_model": model,
        "memory_gib": mem_kib.map(|k| (k as f64 / 1024.0 / 1024.0 * 10.0).round() / 10.0),
        "kernel": std::fs::read_to_string("/proc/sys/kernel/osrelease").ok().map(|s| s.trim().to_owned()),
    })
}

impl Report {
    pub fn new(open_files: u64, quick: bool, log_level: &str) -> Report {
        Report {
            open_files,
            quick,
            log_level: log_level.to_owned(),
            ..Report::default()
        }
    }

    fn per_conn_kib(&self) -> Option<f64> {
        let top = self.idle.last()?;
        Some((top.rss_kib as f64 - self.idle_baseline_kib as f64) / top.pollers as f64)
    }

    /// The deliveries timed, each with its name in the table and the JSON.
    fn deliveries(&self) -> Vec<(&'static str, &'static str, &Delivery)> {
        [
            ("b. delivery", "b_delivery", &self.delivery),
            ("b. edits", "b_edits", &self.edits),
            ("b. reactions", "b_reactions", &self.reactions),
            ("g. group", "g_group", &self.group),
            (
                "w. delivery after the wave",
                "w_delivery",
                &self.delivery_after_wave,
            ),
        ]
        .into_iter()
        .filter_map(|(name, key, d)| d.as_ref().map(|d| (name, key, d)))
        .collect()
    }

    /// (name, target, figure, met)
    fn targets(&self) -> Vec<(String, String, String, bool)> {
        let mut targets = Vec::new();
        if !self.search_only {
            targets = self.main_targets();
        }
        for (search, prefix) in [(&self.search, ""), (&self.pg_search, "PostgreSQL ")] {
            if let Some(search) = search {
                targets.extend(search.targets(prefix));
            }
        }
        targets
    }

    /// The targets of every part but `s`.
    fn main_targets(&self) -> Vec<(String, String, String, bool)> {
        let ceiling = self.trivial.per_second();
        let polls = ratio(self.empty_polls.per_second(), ceiling);
        let mut targets = vec![(
            "empty poll vs trivial route".to_owned(),
            ">= 75%".to_owned(),
            format!("{:.0}%", polls * 100.0),
            polls >= 0.75,
        )];
        for (what, d) in [
            ("messages", &self.delivery),
            ("edits", &self.edits),
            ("reactions", &self.reactions),
        ] {
            if let Some(d) = d {
                let p99 = ms(&d.timings.each, 0.99);
                targets.push((
                    format!("delivery p99 of {what}, {} pollers", d.pollers),
                    "<= 50 ms, all delivered".into(),
                    format!(
                        "{p99:.1} ms ({} of {} delivered)",
                        d.timings.all.len(),
                        d.acknowledged
                    ),
                    p99 <= 50.0 && d.complete(),
                ));
            }
        }
        if let Some(s) = &self.sends {
            let rate = s.counted.per_second();
            targets.push((
                "sends acknowledged, none lost or doubled".into(),
                ">= 8,000/s, 0 lost, 0 duplicated".into(),
                format!("{rate:.0}/s, {} lost, {} duplicated", s.lost, s.duplicated),
                rate >= 8000.0 && s.lost == 0 && s.duplicated == 0,
            ));
        }
        if let Some(g) = &self.group {
            let p99 = ms(&g.timings.all, 0.99);
            targets.push((
                format!("group of {}: p99 until all have a message", g.recipients),
                "<= 100 ms, all delivered".into(),
                format!(
                    "{p99:.1} ms ({} of {} to all)",
                    g.timings.all.len(),
                    g.acknowledged
                ),
                p99 <= 100.0 && g.complete(),
            ));
        }
        if let Some(w) = &self.wave {
            targets.push((
                format!("reconnect wave of {}", w.pollers),
                "settled <= 30 s, < 10 answers per poll".into(),
                format!("{:.1} s, {:.1} per poll", w.settle_s, w.per_poll()),
                w.settle_s <= 30.0 && w.per_poll() < 10.0,
            ));
        }
        if let Some(d) = &self.delivery_after_wave {
            let p99 = ms(&d.timings.each, 0.99);
            targets.push((
                format!("delivery p99 of messages, {} pollers", d.pollers),
                "<= 50 ms, all delivered".into(),
                format!("{p99:.1} ms"),
                p99 <= 50.0 && d.complete(),
            ));
        }
        if let Some(top) = self.idle.iter().find(|i| i.pollers == 5000) {
            targets.push((
                "server RSS with 5,000 idle long polls".into(),
                "<= 150 MiB".into(),
                format!("{:.1} MiB", mib(top.rss_kib)),
                mib(top.rss_kib) <= 150.0,
            ));
        }
        if let Some(files) = &self.files {
            targets.push(files.target(""));
        }
        if let Some(pg) = &self.postgres {
            targets.extend(pg.targets());
        }
        targets
    }

    pub fn print(&self) {
        if !self.search_only {
            self.print_main();
        }
        if let Some(search) = &self.search {
            println!();
            println!("s. search, on SQLite");
            search.print("");
        }
        if let Some(search) = &self.pg_search {
            println!();
            println!("s. search, on PostgreSQL");
            search.print("pg ");
        }
        println!();
        for (name, target, figure, met) in self.targets() {
            let verdict = if met { "met" } else { "NOT met" };
            println!("target {name}: {target}; got {figure}: {verdict}");
        }
        println!(
            "open files limit {}, server log level {}, {:.0} s in all, {} poll errors{}",
            self.open_files,
            self.log_level,
            self.seconds,
            self.poll_errors,
            if self.quick { " (--quick)" } else { "" }
        );
        println!(
            "load average before: {}; after: {}",
            self.load_before, self.load_after
        );
    }

    /// The table of every part but `s`.
    fn print_main(&self) {
        let ceiling = self.trivial.per_second();
        println!();
        println!(
            "{:<52} {:>14} {:>6} {:>10} {:>9}",
            "figure", "value", "vs e", "server CPU", "µs/req"
        );
        let row = |name: &str, value: String, cpu: String| {
            println!("{name:<52} {value:>14} {:>6} {cpu:>10}", "");
        };
        let costed = |name: &str, c: &Counted, cpu: f64| {
            let rate = c.per_second();
            println!(
                "{name:<52} {:>14} {:>6} {:>10} {:>9.1}",
                format!("{rate:.0}"),
                format!("{:.0}%", ratio(rate, ceiling) * 100.0),
                format!("{cpu:.0}%"),
                micros(rate, cpu)
            );
        };
        costed(
            "e. trivial Rocket route, req/s",
            &self.trivial,
            self.trivial_cpu,
        );
        costed(
            "d. empty /api/updates (no wait), req/s",
            &self.empty_polls,
            self.empty_polls_cpu,
        );
        if let Some(s) = &self.sends {
            costed(
                "c. sends acknowledged (201), msg/s",
                &s.counted,
                self.sends_cpu,
            );
            row(
                "c. acknowledged / stored / lost / duplicated",
                format!(
                    "{}/{}/{}/{}",
                    s.acknowledged, s.stored, s.lost, s.duplicated
                ),
                String::new(),
            );
        }
        if let Some(v) = &self.sends_server {
            row(
                "c. server: stored / sends per commit / ms per write",
                format!("{:.0}/{:.1}/{:.2}", v.sends, v.mean_batch, v.mean_write_ms),
                String::new(),
            );
        }
        for (name, _, d) in self.deliveries() {
            let what = format!("{} pollers, {}/s", d.pollers, d.rate);
            for (q_name, q) in [("p50", 0.5), ("p95", 0.95), ("p99", 0.99), ("max", 1.0)] {
                row(
                    &format!("{name} {q_name}, {what}"),
                    format!("{:.1} ms", ms(&d.timings.each, q)),
                    String::new(),
                );
            }
            if d.recipients > 1 {
                row(
                    &format!("{name} p99 until all {} have it", d.recipients),
                    format!("{:.1} ms", ms(&d.timings.all, 0.99)),
                    String::new(),
                );
            }
            row(
                &format!("{name}: sent / acknowledged / to all"),
                format!("{}/{}/{}", d.sent, d.acknowledged, d.timings.all.len()),
                String::new(),
            );
        }
        row(
            "a. server RSS, no pollers",
            format!("{:.1} MiB", mib(self.idle_baseline_kib)),
            String::new(),
        );
        for idle in &self.idle {
            row(
                &format!("a. {} idle long polls: RSS", idle.pollers),
                format!("{:.1} MiB", mib(idle.rss_kib)),
                format!("{:.1}%", idle.cpu_percent),
            );
            row(
                &format!("a. {} idle long polls: settled after", idle.pollers),
                format!("{:.1} s", idle.settle_s),
                String::new(),
            );
        }
        if let Some(kib) = self.per_conn_kib() {
            row(
                "a. memory per idle long poll",
                format!("{kib:.1} KiB"),
                String::new(),
            );
        }
        if let Some(w) = &self.wave {
            let name = format!("w. wave of {} after a restart", w.pollers);
            row(
                &format!("{name}: long polls answered"),
                w.answers.to_string(),
                String::new(),
            );
            row(
                &format!("{name}: answers per poll"),
                format!("{:.2}", w.per_poll()),
                String::new(),
            );
            row(
                &format!("{name}: presence answers / changes"),
                format!("{}/{}", w.presence_answers, w.presence_changes),
                String::new(),
            );
            row(
                &format!("{name}: settled after"),
                format!("{:.1} s", w.settle_s),
                format!("{:.1} s", w.cpu_s),
            );
            row(
                &format!("{name}: RSS"),
                format!("{:.1} MiB", mib(w.rss_kib)),
                String::new(),
            );
        }
        if let Some(files) = &self.files {
            files.print("");
        }
        if let Some(pg) = &self.postgres {
            pg.print(ceiling);
        }
    }

    /// The command that made the figures (a PostgreSQL URL without its password).
    fn command(&self) -> String {
        let mut command = "cargo bench --bench kanect-bench".to_owned();
        let server = self.postgres.as_ref().map(|pg| pg.server.clone());
        let mut flags = Vec::new();
        if self.quick {
            flags.push("--quick".to_owned());
        }
        if let Some(server) = server.or_else(|| self.pg_search_server.clone()) {
            flags.push(format!("--database-url {server}"));
        }
        if self.search_only {
            flags.push("--search-only".to_owned());
        } else if self.search.is_some() {
            flags.push("--search".to_owned());
        }
        if !flags.is_empty() {
            command.push_str(" -- ");
            command.push_str(&flags.join(" "));
        }
        command
    }

    pub fn write(&self, path: &Path) -> Result<()> {
        let ceiling = self.trivial.per_second();
        let throughput = |c: &Counted, cpu: f64| {
            json!({
                "per_second": c.per_second().round(),
                "ratio_to_trivial": (ratio(c.per_second(), ceiling) * 1000.0).round() / 1000.0,
                "ok": c.ok,
                "failed": c.failed,
                "seconds": c.seconds,
                "server_cpu_percent": cpu.round(),
                "server_cpu_us_per_request": (micros(c.per_second(), cpu) * 10.0).round() / 10.0,
            })
        };
        let mut value = json!({
            "command": self.command(),
            "quick": self.quick,
            "machine": machine(),
            "open_files_limit": self.open_files,
            "server_log_level": self.log_level,
            "seconds": self.seconds.round(),
            "load_average_before": self.load_before,
            "load_average_after": self.load_after,
            "e_trivial_route": throughput(&self.trivial, self.trivial_cpu),
            "d_empty_polls": throughput(&self.empty_polls, self.empty_polls_cpu),
            "c_sends": self.sends.as_ref().map(|s| json!({
                "throughput": throughput(&s.counted, self.sends_cpu),
                "acknowledged": s.acknowledged,
                "stored": s.stored,
                "lost": s.lost,
                "duplicated": s.duplicated,
                "server_view": self.sends_server.as_ref().map(ServerView::json),
            })),
            "a_idle": {
                "baseline_rss_kib": self.idle_baseline_kib,
                "levels": self.idle.iter().map(|i| json!({
                    "pollers": i.pollers,
                    "rss_kib": i.rss_kib,
                    "cpu_percent": (i.cpu_percent * 10.0).round() / 10.0,
                    "ramp_seconds": (i.ramp_s * 10.0).round() / 10.0,
                    "settle_seconds": (i.settle_s * 10.0).round() / 10.0,
                })).collect::<Vec<_>>(),
                "per_poll_kib": self.per_conn_kib(),
                "poll_errors": self.poll_errors,
            },
            "w_wave": self.wave.as_ref().map(|w| json!({
                "pollers": w.pollers,
                "answers": w.answers,
                "answers_per_poll": (w.per_poll() * 100.0).round() / 100.0,
                "presence_answers": w.presence_answers,
                "presence_changes": w.presence_changes,
                "settle_seconds": (w.settle_s * 10.0).round() / 10.0,
                "server_cpu_seconds": (w.cpu_s * 10.0).round() / 10.0,
                "rss_kib": w.rss_kib,
            })),
            "f_files": self.files.as_ref().map(Files::json),
            "targets": self.targets().into_iter().map(|(name, target, figure, met)| json!({
                "name": name, "target": target, "figure": figure, "met": met,
            })).collect::<Vec<_>>(),
        });
        for (_, key, d) in self.deliveries() {
            value[key] = d.json();
        }
        if let Some(pg) = &self.postgres {
            value["postgres"] = pg.json(ceiling);
        }
        if let Some(search) = &self.search {
            value["s_search"] = search.json();
        }
        if let Some(search) = &self.pg_search {
            value["s_search_postgres"] = search.json();
        }
        if self.search_only {
            // Only what `s` measured, and the run's particulars.
            const KEPT: [&str; 11] = [
                "command",
                "quick",
                "machine",
                "open_files_limit",
                "server_log_level",
                "seconds",
                "load_average_before",
                "load_average_after",
                "targets",
                "s_search",
                "s_search_postgres",
            ];
            if let Some(object) = value.as_object_mut() {
                object.retain(|key, _| KEPT.contains(&key.as_str()));
            }
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, serde_json::to_string_pretty(&value)? + "\n")?;
        Ok(())
    }
}

impl Postgres {
    /// The PostgreSQL section of the table, in the columns of the SQLite part above it
    /// (`server CPU` is both instances' together; the line below a throughput says where
    /// it went, the local PostgreSQL server's processes included).
    fn print(&self, ceiling: f64) {
        println!();
        println!("PostgreSQL: {}", self.version);
        println!(
            "{:<52} {:>14}",
            "pg. seeded in",
            format!("{:.1} s", self.seed_s)
        );
        let row = |name: &str, value: String, cpu: String| {
            println!("{name:<52} {value:>14} {:>6} {cpu:>10}", "");
        };
        let costed = |name: &str, c: &Counted, cpu: &Cpu| {
            let rate = c.per_second();
            println!(
                "{name:<52} {:>14} {:>6} {:>10} {:>9.1}",
                format!("{rate:.0}"),
                format!("{:.0}%", ratio(rate, ceiling) * 100.0),
                format!("{:.0}%", cpu.kanect()),
                micros(rate, cpu.kanect())
            );
            println!("{:<52} {}", format!("{name}: CPU"), cpu.describe());
        };
        costed(
            "pg d. empty polls, one instance, req/s",
            &self.empty_polls,
            &self.empty_polls_cpu,
        );
        for (name, sends, cpu) in [
            (
                "pg c. sends, one instance, msg/s",
                &self.sends_one,
                &self.sends_one_cpu,
            ),
            (
                "pg c2. sends, two instances, msg/s",
                &self.sends_two,
                &self.sends_two_cpu,
            ),
        ] {
            if let Some(s) = sends {
                costed(name, &s.counted, cpu);
                let short = name.split(',').next().unwrap_or(name);
                row(
                    &format!("{short}: acknowledged / stored / lost / dup."),
                    format!(
                        "{}/{}/{}/{}",
                        s.acknowledged, s.stored, s.lost, s.duplicated
                    ),
                    String::new(),
                );
            }
        }
        for (name, d) in [
            ("pg x. sent on A, polled on B", &self.cross),
            ("pg x. sent on B, polled on B", &self.same),
        ] {
            let Some(d) = d else {
                continue;
            };
            let what = format!("{} pollers, {}/s", d.pollers, d.rate);
            for (q_name, q) in [("p50", 0.5), ("p95", 0.95), ("p99", 0.99), ("max", 1.0)] {
                row(
                    &format!("{name} {q_name}, {what}"),
                    format!("{:.1} ms", ms(&d.timings.each, q)),
                    String::new(),
                );
            }
            row(
                &format!("{name}: sent / ack. / to all"),
                format!("{}/{}/{}", d.sent, d.acknowledged, d.timings.all.len()),
                String::new(),
            );
        }
        for (rss, name) in self.rss_kib.iter().zip(["A", "B"]) {
            row(
                &format!("pg x. instance {name} RSS, half the pollers each"),
                format!("{:.1} MiB", mib(*rss)),
                String::new(),
            );
        }
        row(
            "pg. poll errors",
            self.poll_errors.to_string(),
            String::new(),
        );
        if let Some(files) = &self.files {
            files.print("pg ");
        }
    }
}
