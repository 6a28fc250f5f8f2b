//! Open tabs: long pollers that each hold `/api/updates?wait=30` on their own connection and
//! poll again as soon as an answer comes, as the UI does. They also time the delivery of
//! the latency messages (`b`), whose bodies are `lat-<n>`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;

use crate::client::{Conn, Login, Result};

/// Send times of latency messages, and the delivery times seen so far.
#[derive(Default)]
pub struct Latency {
    sent: Mutex<HashMap<u64, Instant>>,
    delivered: Mutex<Vec<Duration>>,
}

impl Latency {
    pub fn sending(&self, n: u64) {
        self.sent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(n, Instant::now());
    }

    fn delivered(&self, n: u64) {
        let now = Instant::now();
        // Taken out on first delivery: a repeat (which the cursor should prevent) is not
        // timed twice.
        if let Some(at) = self
            .sent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&n)
        {
            self.delivered
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(now - at);
        }
    }

    pub fn count(&self) -> usize {
        self.delivered
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    pub fn take(&self) -> Vec<Duration> {
        std::mem::take(
            &mut *self
                .delivered
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }
}

#[derive(Default)]
pub struct Pollers {
    tasks: Vec<JoinHandle<()>>,
    pub connected: Arc<AtomicU64>,
    pub answers: Arc<AtomicU64>,
    pub errors: Arc<AtomicU64>,
    pub latency: Arc<Latency>,
}

impl Pollers {
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// Starts one poller per login, a batch at a time (the listen backlog is finite), and
    /// waits until all are connected.
    pub async fn add(&mut self, addr: SocketAddr, logins: &[Login]) -> Result<()> {
        for batch in logins.chunks(250) {
            for login in batch {
                self.tasks.push(tokio::spawn(poll(
                    addr,
                    login.clone(),
                    self.connected.clone(),
                    self.answers.clone(),
                    self.errors.clone(),
                    self.latency.clone(),
                )));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let want = self.tasks.len() as u64;
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.connected.load(Ordering::Acquire) < want {
            if Instant::now() > deadline {
                return Err(format!(
                    "only {} of {want} pollers connected",
                    self.connected.load(Ordering::Acquire)
                )
                .into());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(())
    }

    /// Waits until no poll has been answered for a second (people coming online wake every
    /// poll with a presence change; that settles), at most `max`. Returns the time waited.
    pub async fn quiet(&self, max: Duration) -> Duration {
        let start = Instant::now();
        let mut last = self.answers.load(Ordering::Acquire);
        while start.elapsed() < max {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let now = self.answers.load(Ordering::Acquire);
            if now == last {
                break;
            }
            last = now;
        }
        start.elapsed()
    }

    pub fn stop(&mut self) {
        for task in self.tasks.drain(..) {
            task.abort();
        }
    }
}

async fn poll(
    addr: SocketAddr,
    login: Login,
    connected: Arc<AtomicU64>,
    answers: Arc<AtomicU64>,
    errors: Arc<AtomicU64>,
    latency: Arc<Latency>,
) {
    let mut cursor = 0i64;
    let mut conn = None;
    loop {
        let c = match conn.as_mut() {
            Some(c) => c,
            None => match Conn::open(addr).await {
                Ok(c) => {
                    connected.fetch_add(1, Ordering::AcqRel);
                    conn.insert(c)
                }
                Err(_) => {
                    errors.fetch_add(1, Ordering::AcqRel);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let path = format!("/api/updates?after={cursor}&wait=30");
        match c.get(&path, Some(&login)).await {
            Ok((status, body)) if status.is_success() => {
                answers.fetch_add(1, Ordering::AcqRel);
                let Ok(updates) = serde_json::from_slice::<serde_json::Value>(&body) else {
                    errors.fetch_add(1, Ordering::AcqRel);
                    continue;
                };
                for message in updates["messages"].as_array().into_iter().flatten() {
                    if let Some(n) = message["body"]
                        .as_str()
                        .and_then(|b| b.strip_prefix("lat-"))
                        .and_then(|n| n.parse().ok())
                    {
                        latency.delivered(n);
                    }
                }
                cursor = updates["cursor"].as_i64().unwrap_or(cursor);
            }
            Ok(_) => {
                errors.fetch_add(1, Ordering::AcqRel);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(_) => {
                errors.fetch_add(1, Ordering::AcqRel);
                connected.fetch_sub(1, Ordering::AcqRel);
                conn = None;
            }
        }
    }
}

/// `b`: `rate` messages a second for `duration`, round-robin over `senders`, each into its
/// chat with one of the pollers; returns sorted delivery times and how many were sent.
pub async fn delivery(
    addr: SocketAddr,
    pollers: &Pollers,
    senders: &[(Login, i64)],
    rate: u32,
    duration: Duration,
) -> Result<(Vec<Duration>, u64, u64)> {
    let mut conns = Vec::with_capacity(senders.len());
    for _ in senders {
        conns.push(Arc::new(tokio::sync::Mutex::new(Conn::open(addr).await?)));
    }
    let failed = Arc::new(AtomicU64::new(0));
    let mut ticks = tokio::time::interval(Duration::from_secs(1) / rate);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let total = u64::from(rate) * duration.as_secs();
    let mut sends = Vec::with_capacity(total as usize);
    for n in 0..total {
        ticks.tick().await;
        let k = n as usize % senders.len();
        let (login, chat) = senders[k].clone();
        let conn = conns[k].clone();
        let latency = pollers.latency.clone();
        let failed = failed.clone();
        sends.push(tokio::spawn(async move {
            let mut conn = conn.lock().await;
            latency.sending(n);
            let body = format!(r#"{{"body":"lat-{n}"}}"#);
            let path = format!("/api/chats/{chat}/messages");
            match conn.post_json(&path, &login, body).await {
                Ok((status, _)) if status.as_u16() == 201 => {}
                _ => {
                    failed.fetch_add(1, Ordering::AcqRel);
                }
            }
        }));
    }
    for send in sends {
        send.await?;
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    let acknowledged = total - failed.load(Ordering::Acquire);
    while (pollers.latency.count() as u64) < acknowledged && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut times = pollers.latency.take();
    times.sort();
    Ok((times, total, acknowledged))
}
