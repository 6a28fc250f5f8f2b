//! f. files, on a server just started (so that its memory is a fresh process's):
//!   - 4 uploaders at a time each send 20 MB files, while the server's RSS is read every
//!     20 ms (and its `VmHWM`, reset just before, catches what falls between samples);
//!   - the same 4 send 1 MB files;
//!   - one of the 20 MB files is sent in a message, and the other member of that chat
//!     downloads it on 4 connections at a time.
//!
//! The bytes are random after a line of text, so the server finds no image in them and
//! decodes nothing: the figures are storage's. Each multipart body is built once and every
//! request shares its buffer (the client holds it, the server reads it off the socket as
//! any upload). Every upload must answer 201 with its size and no image; every download
//! must be the exact bytes. MB are 10^6 bytes, as `max_upload_mb` counts them.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use hyper::body::Bytes;
use rand::RngCore;
use serde_json::{json, Value};

use crate::client::{Conn, Login, Result};
use crate::seed::Cast;
use crate::server::{self, Peak, Sampler};

/// Uploaders (and downloaders) at a time.
pub const CONNS: usize = 4;
const BIG: usize = 20_000_000;
const SMALL: usize = 1_000_000;
/// Longer than any one transfer should take on a loaded machine.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);
/// Target of issue 14: RSS above idle during 4 concurrent 20 MB uploads.
const TARGET_MB: f64 = 100.0;
const BOUNDARY: &str = "kanect-bench-boundary-5f0c9e2a7d3b41e8a6c4";

/// Transfers per connection in each phase.
struct Counts {
    big: u64,
    small: u64,
    downloads: u64,
}

impl Counts {
    fn new(quick: bool) -> Counts {
        if quick {
            Counts {
                big: 1,
                small: 5,
                downloads: 1,
            }
        } else {
            Counts {
                big: 4,
                small: 50,
                downloads: 10,
            }
        }
    }
}

/// One phase: `conns` connections each moving `each` files of `size` bytes, one after
/// the other, and the server meanwhile.
#[derive(Debug, Default, Clone)]
pub struct Transfer {
    pub size: usize,
    pub conns: usize,
    pub ok: u64,
    pub failed: u64,
    /// From the first request to the last answer.
    pub seconds: f64,
    pub server_cpu_percent: f64,
    /// The server's memory just before.
    pub before: server::Memory,
    pub peak: Peak,
}

impl Transfer {
    pub fn mb_per_s(&self) -> f64 {
        if self.seconds > 0.0 {
            self.ok as f64 * self.size as f64 / 1e6 / self.seconds
        } else {
            0.0
        }
    }

    /// The highest RSS seen, less the RSS just before the phase.
    pub fn above_before_kib(&self) -> u64 {
        self.peak.kib().saturating_sub(self.before.rss_kib)
    }

    fn json(&self) -> Value {
        json!({
            "file_bytes": self.size,
            "connections": self.conns,
            "ok": self.ok,
            "failed": self.failed,
            "seconds": (self.seconds * 100.0).round() / 100.0,
            "mb_per_second": (self.mb_per_s() * 10.0).round() / 10.0,
            "server_cpu_percent": self.server_cpu_percent.round(),
            "rss_before_kib": self.before.rss_kib,
            "rss_before_anon_file_shmem_kib": [
                self.before.anon_kib,
                self.before.file_kib,
                self.before.shmem_kib,
            ],
            "rss_peak_sampled_kib": self.peak.sampled_kib,
            "rss_peak_sample_anon_file_shmem_kib": [
                self.peak.at_peak.anon_kib,
                self.peak.at_peak.file_kib,
                self.peak.at_peak.shmem_kib,
            ],
            "rss_peak_hwm_kib": self.peak.hwm_kib,
            "rss_samples": self.peak.samples,
            "rss_peak_above_before_kib": self.above_before_kib(),
        })
    }
}

/// The figures of `f`.
#[derive(Debug, Default, Clone)]
pub struct Files {
    pub big: Transfer,
    /// RSS just after the 20 MB uploads ended.
    pub after_big_kib: u64,
    pub small: Transfer,
    pub downloads: Transfer,
}

/// `f` on the server at `addr` (process `pid`), just started, by the first `CONNS`
/// senders of `c` in their own chats; the other member of the first one downloads.
pub async fn run(addr: SocketAddr, pid: u32, cast: &Cast, quick: bool) -> Result<Files> {
    let counts = Counts::new(quick);
    if cast.throughput_senders.len() < CONNS {
        return Err(format!("f needs {CONNS} senders of c").into());
    }
    let uploaders: Vec<(Login, i64)> = crate::throughput_senders(cast)
        .into_iter()
        .take(CONNS)
        .collect();
    let data = random_bytes(BIG);
    // Each good 20 MB upload's answer, by the connection that made it.
    let answers: Arc<Mutex<Vec<(usize, Value)>>> = Arc::default();

    eprintln!("f. {CONNS} at a time upload 20 MB files");
    let body = multipart("bench-20mb.bin", &data);
    let uploads = uploader(&uploaders, BIG, body, answers.clone());
    let big = phase(addr, pid, BIG, counts.big, uploads).await?;
    let after_big_kib = server::memory(pid)?.rss_kib;

    eprintln!("f. {CONNS} at a time upload 1 MB files");
    let body = multipart("bench-1mb.bin", &data[..SMALL]);
    let uploads = uploader(&uploaders, SMALL, body, Arc::default());
    let small = phase(addr, pid, SMALL, counts.small, uploads).await?;

    eprintln!("f. {CONNS} at a time download a 20 MB file");
    // Only its uploader may send an upload, and only into the chat it went to.
    let first = lock(&answers)
        .iter()
        .find_map(|(worker, answer)| (*worker == 0).then(|| answer.clone()))
        .ok_or("no 20 MB upload by the first uploader")?;
    let (sender, chat) = &uploaders[0];
    let url = send(addr, sender, *chat, &first).await?;
    let reader = cast.logins[cast.throughput_peers.start].clone();
    let expected = Bytes::from(data);
    let downloads = move |_, mut conn: Conn| {
        let (url, reader, expected) = (url.clone(), reader.clone(), expected.clone());
        async move {
            match conn.get(&url, Some(&reader)).await {
                Ok((status, body)) => (status.as_u16() == 200 && body == expected, Some(conn)),
                Err(_) => (false, None),
            }
        }
    };
    let downloads = phase(addr, pid, BIG, counts.downloads, downloads).await?;
    Ok(Files {
        big,
        after_big_kib,
        small,
        downloads,
    })
}

/// What one upload by connection `worker` does: post `body`, expect a 201 for a file of
/// `size` bytes that is not an image, and keep its answer in `answers`.
fn uploader(
    uploaders: &[(Login, i64)],
    size: usize,
    body: Bytes,
    answers: Arc<Mutex<Vec<(usize, Value)>>>,
) -> impl Fn(usize, Conn) -> Uploading + Send + Sync + Clone + 'static {
    let uploaders = Arc::new(uploaders.to_vec());
    let content_type = format!("multipart/form-data; boundary={BOUNDARY}");
    let one = move |worker: usize, mut conn: Conn| -> Uploading {
        let (login, chat) = uploaders[worker].clone();
        let (body, content_type, answers) = (body.clone(), content_type.clone(), answers.clone());
        Box::pin(async move {
            let path = format!("/api/chats/{chat}/attachments");
            match conn.post_body(&path, &login, &content_type, body).await {
                Ok((status, answer)) => {
                    let answer: Value = serde_json::from_slice(&answer).unwrap_or_default();
                    let good = status.as_u16() == 201
                        && answer["size"].as_u64() == Some(size as u64)
                        && answer["width"].is_null();
                    if good {
                        lock(&answers).push((worker, answer));
                    }
                    (good, Some(conn))
                }
                Err(_) => (false, None),
            }
        })
    };
    one
}

type Uploading = std::pin::Pin<Box<dyn std::future::Future<Output = (bool, Option<Conn>)> + Send>>;

/// `CONNS` connections to `addr`, each making `each` requests with `one(worker, conn)`
/// one after the other (as `closed_loop`'s, but a number of them rather than a window:
/// a 20 MB upload takes a good part of a second); server `pid`'s CPU and RSS meanwhile.
async fn phase<F, Fut>(
    addr: SocketAddr,
    pid: u32,
    size: usize,
    each: u64,
    one: F,
) -> Result<Transfer>
where
    F: Fn(usize, Conn) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = (bool, Option<Conn>)> + Send + 'static,
{
    let before = server::memory(pid)?;
    let (_, ticks_before) = server::usage(pid)?;
    let sampler = Sampler::start(pid, Duration::from_millis(20));
    let began = Instant::now();
    let mut workers = Vec::with_capacity(CONNS);
    for worker in 0..CONNS {
        let one = one.clone();
        workers.push(tokio::spawn(async move {
            let (mut ok, mut failed) = (0, 0);
            let mut conn = None;
            for _ in 0..each {
                let c = match conn.take() {
                    Some(c) => c,
                    None => match Conn::open(addr).await {
                        Ok(c) => c,
                        Err(_) => {
                            failed += 1;
                            continue;
                        }
                    },
                };
                match tokio::time::timeout(REQUEST_TIMEOUT, one(worker, c)).await {
                    Ok((true, back)) => (ok, conn) = (ok + 1, back),
                    Ok((false, back)) => (failed, conn) = (failed + 1, back),
                    Err(_) => failed += 1,
                }
            }
            (ok, failed)
        }));
    }
    let mut transfer = Transfer {
        size,
        conns: CONNS,
        before,
        ..Transfer::default()
    };
    for worker in workers {
        let (ok, failed) = worker.await?;
        transfer.ok += ok;
        transfer.failed += failed;
    }
    transfer.seconds = began.elapsed().as_secs_f64();
    transfer.peak = sampler.finish()?;
    let (_, ticks_after) = server::usage(pid)?;
    // Linux reports CPU time in USER_HZ, 100 a second.
    transfer.server_cpu_percent = (ticks_after - ticks_before) as f64 / transfer.seconds;
    eprintln!(
        "   {:.1} MB/s ({} ok, {} failed, {:.1} s); server RSS {:.1} MiB, at most {:.1}",
        transfer.mb_per_s(),
        transfer.ok,
        transfer.failed,
        transfer.seconds,
        mib(transfer.before.rss_kib),
        mib(transfer.peak.kib()),
    );
    Ok(transfer)
}

/// Sends `attachment` (an upload's answer) in a message into `chat`; its URL.
async fn send(addr: SocketAddr, sender: &Login, chat: i64, attachment: &Value) -> Result<String> {
    let id = attachment["id"].as_i64().ok_or("an upload without an id")?;
    let url = attachment["url"]
        .as_str()
        .ok_or("an upload without a url")?;
    let body = json!({ "body": "f. a 20 MB file", "attachments": [id] }).to_string();
    let path = format!("/api/chats/{chat}/messages");
    let (status, answer) = Conn::open(addr)
        .await?
        .post_json(&path, sender, body)
        .await?;
    if status.as_u16() != 201 {
        return Err(format!(
            "sending an attachment answered {status}: {}",
            String::from_utf8_lossy(&answer)
        )
        .into());
    }
    Ok(url.to_owned())
}

/// `len` random bytes after a line of text: no image format begins so.
fn random_bytes(len: usize) -> Vec<u8> {
    let mut data = vec![0; len];
    rand::thread_rng().fill_bytes(&mut data);
    let line = b"kanect-bench: random bytes, not an image\n";
    data[..line.len()].copy_from_slice(line);
    data
}

/// A multipart/form-data body of one part named `file`, as a browser's `FormData` sends
/// it. Random data holds the 42 bytes of `BOUNDARY` with a chance of about 2^-300.
fn multipart(name: &str, data: &[u8]) -> Bytes {
    let head = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    );
    let tail = format!("\r\n--{BOUNDARY}--\r\n");
    let mut body = Vec::with_capacity(head.len() + data.len() + tail.len());
    body.extend_from_slice(head.as_bytes());
    body.extend_from_slice(data);
    body.extend_from_slice(tail.as_bytes());
    Bytes::from(body)
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

impl Files {
    /// (name, target, figure, met): issue 14's memory target.
    pub fn target(&self, prefix: &str) -> (String, String, String, bool) {
        let above = self.big.above_before_kib();
        let mb = above as f64 * 1024.0 / 1e6;
        (
            format!("{prefix}server RSS above idle, {CONNS} concurrent 20 MB uploads"),
            format!("<= {TARGET_MB:.0} MB"),
            format!("{:.1} MiB ({mb:.1} MB)", mib(above)),
            mb <= TARGET_MB && self.big.failed == 0,
        )
    }

    /// The rows of `f` in the table's columns (`server CPU` over each phase).
    pub fn print(&self, prefix: &str) {
        let row = |name: &str, value: String, cpu: String| {
            println!(
                "{:<52} {value:>14} {:>6} {cpu:>10}",
                format!("{prefix}{name}"),
                ""
            );
        };
        for (what, t) in [
            ("uploads of 20 MB", &self.big),
            ("uploads of 1 MB", &self.small),
            ("downloads of 20 MB", &self.downloads),
        ] {
            row(
                &format!("f. {what}, {} at a time, MB/s", t.conns),
                format!("{:.1}", t.mb_per_s()),
                format!("{:.0}%", t.server_cpu_percent),
            );
            row(
                &format!("f. {what}: done / failed, in"),
                format!("{}/{}, {:.1} s", t.ok, t.failed, t.seconds),
                String::new(),
            );
        }
        let big = &self.big;
        row(
            "f. server RSS before the uploads",
            format!("{:.1} MiB", mib(big.before.rss_kib)),
            String::new(),
        );
        row(
            "f. server RSS peak, 20 MB uploads: sampled / HWM",
            format!(
                "{:.1} / {}",
                mib(big.peak.sampled_kib),
                big.peak
                    .hwm_kib
                    .map_or("-".to_owned(), |k| format!("{:.1}", mib(k)))
            ),
            format!("{} samples", big.peak.samples),
        );
        let parts = |m: &server::Memory| {
            format!(
                "{:.1} / {:.1} / {:.1}",
                mib(m.anon_kib),
                mib(m.file_kib),
                mib(m.shmem_kib)
            )
        };
        row(
            "f. before: anon / file / shmem, MiB",
            parts(&big.before),
            String::new(),
        );
        row(
            "f. highest sample: anon / file / shmem, MiB",
            parts(&big.peak.at_peak),
            String::new(),
        );
        row(
            "f. server RSS peak above idle, 20 MB uploads",
            format!("{:.1} MiB", mib(big.above_before_kib())),
            String::new(),
        );
        row(
            "f. server RSS just after the 20 MB uploads",
            format!("{:.1} MiB", mib(self.after_big_kib)),
            String::new(),
        );
        for (what, t) in [
            ("1 MB uploads", &self.small),
            ("downloads", &self.downloads),
        ] {
            row(
                &format!("f. server RSS before / peak, {what}"),
                format!("{:.1} / {:.1}", mib(t.before.rss_kib), mib(t.peak.kib())),
                String::new(),
            );
        }
    }

    pub fn json(&self) -> Value {
        json!({
            "uploads_20mb": self.big.json(),
            "rss_after_20mb_uploads_kib": self.after_big_kib,
            "uploads_1mb": self.small.json(),
            "downloads_20mb": self.downloads.json(),
        })
    }
}
