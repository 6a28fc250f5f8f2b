//! The run's figures: a table on stdout, the same as JSON, and the targets.

use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};

use crate::client::{Counted, Result};
use crate::load::Sends;

pub struct Idle {
    pub pollers: usize,
    pub rss_kib: u64,
    pub cpu_percent: f64,
    pub ramp_s: f64,
    pub settle_s: f64,
}

pub struct Delivery {
    pub pollers: usize,
    pub rate: u32,
    pub sent: u64,
    pub acknowledged: u64,
    /// Sorted.
    pub times: Vec<Duration>,
}

impl Delivery {
    fn ms(&self, q: f64) -> f64 {
        if self.times.is_empty() {
            return f64::NAN;
        }
        let at = ((self.times.len() as f64 * q).ceil() as usize).clamp(1, self.times.len()) - 1;
        self.times[at].as_secs_f64() * 1000.0
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
    pub idle_baseline_kib: u64,
    pub idle: Vec<Idle>,
    pub delivery: Option<Delivery>,
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

    /// (name, target, figure, met)
    fn targets(&self) -> Vec<(&'static str, String, String, bool)> {
        let ceiling = self.trivial.per_second();
        let polls = ratio(self.empty_polls.per_second(), ceiling);
        let mut targets = vec![(
            "empty poll vs trivial route",
            ">= 70%".to_owned(),
            format!("{:.0}%", polls * 100.0),
            polls >= 0.70,
        )];
        if let Some(d) = &self.delivery {
            let p99 = d.ms(0.99);
            targets.push((
                "delivery p99, 1,000 pollers, 100 msg/s",
                "<= 50 ms".into(),
                format!(
                    "{p99:.1} ms ({} of {} delivered)",
                    d.times.len(),
                    d.acknowledged
                ),
                p99 <= 50.0 && d.times.len() as u64 == d.acknowledged && d.acknowledged == d.sent,
            ));
        }
        if let Some(s) = &self.sends {
            let rate = s.counted.per_second();
            targets.push((
                "sends acknowledged, none lost or doubled",
                ">= 8,000/s, 0 lost, 0 duplicated".into(),
                format!("{rate:.0}/s, {} lost, {} duplicated", s.lost, s.duplicated),
                rate >= 8000.0 && s.lost == 0 && s.duplicated == 0,
            ));
        }
        if let Some(top) = self.idle.iter().find(|i| i.pollers == 5000) {
            let mb = top.rss_kib as f64 * 1024.0 / 1e6;
            targets.push((
                "server RSS with 5,000 idle long polls",
                "<= 150 MB".into(),
                format!("{mb:.0} MB"),
                mb <= 150.0,
            ));
        }
        targets
    }

    pub fn print(&self) {
        let ceiling = self.trivial.per_second();
        println!();
        println!(
            "{:<46} {:>14} {:>6} {:>10} {:>9}",
            "figure", "value", "vs e", "server CPU", "µs/req"
        );
        let row = |name: &str, value: String, vs: String, cpu: String| {
            println!("{name:<46} {value:>14} {vs:>6} {cpu:>10}");
        };
        let costed = |name: &str, c: &Counted, cpu: f64| {
            let rate = c.per_second();
            println!(
                "{name:<46} {:>14} {:>6} {:>10} {:>9.1}",
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
                String::new(),
            );
        }
        if let Some(d) = &self.delivery {
            for (name, q) in [("p50", 0.5), ("p95", 0.95), ("p99", 0.99), ("max", 1.0)] {
                row(
                    &format!("b. delivery {name}, {} pollers, {}/s", d.pollers, d.rate),
                    format!("{:.1} ms", d.ms(q)),
                    String::new(),
                    String::new(),
                );
            }
            row(
                "b. sent / acknowledged / delivered",
                format!("{}/{}/{}", d.sent, d.acknowledged, d.times.len()),
                String::new(),
                String::new(),
            );
        }
        row(
            "a. server RSS, no pollers",
            format!("{:.1} MiB", self.idle_baseline_kib as f64 / 1024.0),
            String::new(),
            String::new(),
        );
        for idle in &self.idle {
            row(
                &format!("a. {} idle long polls: RSS", idle.pollers),
                format!("{:.1} MiB", idle.rss_kib as f64 / 1024.0),
                String::new(),
                format!("{:.1}%", idle.cpu_percent),
            );
        }
        if let Some(kib) = self.per_conn_kib() {
            row(
                "a. memory per idle long poll",
                format!("{kib:.1} KiB"),
                String::new(),
                String::new(),
            );
        }
        println!();
        for (name, target, figure, met) in self.targets() {
            let verdict = if met { "met" } else { "NOT met" };
            println!("target {name}: {target}; got {figure}: {verdict}");
        }
        println!(
            "open files limit {}, server log level {}, {:.0} s in all{}",
            self.open_files,
            self.log_level,
            self.seconds,
            if self.quick { " (--quick)" } else { "" }
        );
        println!(
            "load average before: {}; after: {}",
            self.load_before, self.load_after
        );
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
        let value = json!({
            "command": "cargo bench --bench kanect-bench",
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
            })),
            "b_delivery": self.delivery.as_ref().map(|d| json!({
                "pollers": d.pollers,
                "rate_per_second": d.rate,
                "sent": d.sent,
                "acknowledged": d.acknowledged,
                "delivered": d.times.len(),
                "p50_ms": d.ms(0.5),
                "p95_ms": d.ms(0.95),
                "p99_ms": d.ms(0.99),
                "max_ms": d.ms(1.0),
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
            "targets": self.targets().into_iter().map(|(name, target, figure, met)| json!({
                "name": name, "target": target, "figure": figure, "met": met,
            })).collect::<Vec<_>>(),
        });
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, serde_json::to_string_pretty(&value)? + "\n")?;
        Ok(())
    }
}
