//! Open tabs: long pollers that each start as a page does (`/api/updates` without `after`
//! gives the cursor now), then hold `/api/updates?after=<cursor>&wait=30` on their own
//! connection and poll again as soon as an answer comes, as the UI does. They also time
//! the delivery of the changes the bench makes on purpose: messages whose bodies are
//! `lat-<n>` (`b`) and `grp-<n>` (`g`), and edits and reactions of known messages.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use hyper::Method;
use serde_json::Value;
use tokio::task::JoinHandle;

use crate::client::{Conn, Login, Result};

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// When each timed change was made, and how long until the polls brought it: to each
/// recipient (`each`), and to the last of them (`all`).
#[derive(Default)]
pub struct Clock {
    started: Mutex<HashMap<u64, (Instant, usize)>>,
    each: Mutex<Vec<Duration>>,
    all: Mutex<Vec<Duration>>,
}

/// A clock's readings, sorted.
#[derive(Default)]
pub struct Timings {
    pub each: Vec<Duration>,
    pub all: Vec<Duration>,
}

impl Clock {
    /// Change `key` is being made now; `recipients` polls should bring it.
    pub fn start(&self, key: u64, recipients: usize) {
        lock(&self.started).insert(key, (Instant::now(), recipients));
    }

    fn arrived(&self, key: u64) {
        let now = Instant::now();
        let mut started = lock(&self.started);
        // Unknown keys are not timed: changes of other phases, or a repeat (which the
        // cursor should prevent) after the last recipient had it.
        let Some((at, left)) = started.get_mut(&key) else {
            return;
        };
        let took = now - *at;
        *left -= 1;
        if *left == 0 {
            started.remove(&key);
            lock(&self.all).push(took);
        }
        drop(started);
        lock(&self.each).push(took);
    }

    /// Changes every recipient has had.
    pub fn complete(&self) -> usize {
        lock(&self.all).len()
    }

    pub fn take(&self) -> Timings {
        lock(&self.started).clear();
        let mut each = std::mem::take(&mut *lock(&self.each));
        let mut all = std::mem::take(&mut *lock(&self.all));
        each.sort();
        all.sort();
        Timings { each, all }
    }
}

/// One clock per kind of timed change.
#[derive(Default)]
pub struct Clocks {
    /// `lat-<n>` messages, by n.
    pub messages: Arc<Clock>,
    /// `grp-<n>` messages in the group, by n.
    pub group: Arc<Clock>,
    /// Edits, by message id.
    pub edits: Arc<Clock>,
    /// Reactions, by message id.
    pub reactions: Arc<Clock>,
}

impl Clocks {
    fn saw(&self, event: &Value) {
        let message = &event["message"];
        match event["type"].as_str() {
            Some("message") => {
                let body = message["body"].as_str().unwrap_or_default();
                let number = |prefix: &str| body.strip_prefix(prefix).and_then(|n| n.parse().ok());
                if let Some(n) = number("lat-") {
                    self.messages.arrived(n);
                } else if let Some(n) = number("grp-") {
                    self.group.arrived(n);
                }
            }
            Some("message_edited") => {
                if let Some(id) = message["id"].as_u64() {
                    self.edits.arrived(id);
                }
            }
            Some("reaction") => {
                if let Some(id) = message["id"].as_u64() {
                    self.reactions.arrived(id);
                }
            }
            _ => {}
        }
    }
}

/// What the pollers have done so far.
#[derive(Default)]
pub struct Counters {
    /// Pollers with a connection open.
    pub connected: AtomicU64,
    /// Pages loaded: `/api/updates` without `after`, answered.
    pub loads: AtomicU64,
    /// Long polls answered.
    pub answers: AtomicU64,
    /// Answers that carried presence changes, and how many changes in all.
    pub presence_answers: AtomicU64,
    pub presence_changes: AtomicU64,
    pub errors: AtomicU64,
}

#[derive(Default)]
pub struct Pollers {
    tasks: Vec<JoinHandle<()>>,
    pub counters: Arc<Counters>,
    pub clocks: Arc<Clocks>,
}

impl Pollers {
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// Starts one poller per login, a batch at a time (the listen backlog is finite), and
    /// waits until every page has loaded.
    pub async fn add(&mut self, addr: SocketAddr, logins: &[Login]) -> Result<()> {
        for batch in logins.chunks(250) {
            for login in batch {
                let tab = self.tasks.len() as u64;
                self.tasks.push(tokio::spawn(poll(
                    addr,
                    login.clone(),
                    tab,
                    self.counters.clone(),
                    self.clocks.clone(),
                )));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let want = self.tasks.len() as u64;
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.counters.loads.load(Ordering::Acquire) < want {
            if Instant::now() > deadline {
                return Err(format!(
                    "only {} of {want} pollers loaded their page",
                    self.counters.loads.load(Ordering::Acquire)
                )
                .into());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(())
    }

    /// Waits until no poll has been answered for a second (people coming online wake the
    /// polls of those who see them; that settles), at most `max`. Returns the time from
    /// `since` to the last answer before the quiet second.
    pub async fn quiet(&self, since: Instant, max: Duration) -> Duration {
        let mut last = self.counters.answers.load(Ordering::Acquire);
        let mut last_at = Instant::now();
        while since.elapsed() < max {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let now = self.counters.answers.load(Ordering::Acquire);
            if now != last {
                last = now;
                last_at = Instant::now();
            } else if last_at.elapsed() >= Duration::from_secs(1) {
                break;
            }
        }
        last_at.saturating_duration_since(since)
    }

    /// Ends every poller (their connections close), as when the server goes away.
    pub fn stop(&mut self) {
        for task in self.tasks.drain(..) {
            task.abort();
        }
        self.counters.connected.store(0, Ordering::Release);
        self.counters.loads.store(0, Ordering::Release);
    }
}

/// The cursor now, as a page that has just loaded asks for it.
async fn load(conn: &mut Conn, login: &Login, tab: u64) -> Result<i64> {
    let (status, body) = conn
        .get(&format!("/api/updates?tab={tab}"), Some(login))
        .await?;
    if !status.is_success() {
        return Err(format!("page load answered {status}").into());
    }
    let updates: Value = serde_json::from_slice(&body)?;
    updates["cursor"]
        .as_i64()
        .ok_or_else(|| "no cursor in the answer".into())
}

async fn poll(
    addr: SocketAddr,
    login: Login,
    tab: u64,
    counters: Arc<Counters>,
    clocks: Arc<Clocks>,
) {
    let mut cursor = None;
    let mut conn = None;
    loop {
        let c = match conn.as_mut() {
            Some(c) => c,
            None => match Conn::open(addr).await {
                Ok(c) => {
                    counters.connected.fetch_add(1, Ordering::AcqRel);
                    conn.insert(c)
                }
                Err(_) => {
                    counters.errors.fetch_add(1, Ordering::AcqRel);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let Some(after) = cursor else {
            match load(c, &login, tab).await {
                Ok(now) => {
                    counters.loads.fetch_add(1, Ordering::AcqRel);
                    cursor = Some(now);
                }
                Err(_) => {
                    counters.errors.fetch_add(1, Ordering::AcqRel);
                    counters.connected.fetch_sub(1, Ordering::AcqRel);
                    conn = None;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
            continue;
        };
        let path = format!("/api/updates?after={after}&wait=30&tab={tab}");
        match c.get(&path, Some(&login)).await {
            Ok((status, body)) if status.is_success() => {
                counters.answers.fetch_add(1, Ordering::AcqRel);
                let Ok(updates) = serde_json::from_slice::<Value>(&body) else {
                    counters.errors.fetch_add(1, Ordering::AcqRel);
                    continue;
                };
                for event in updates["events"].as_array().into_iter().flatten() {
                    clocks.saw(event);
                }
                let presence = updates["presence"].as_array().map_or(0, Vec::len) as u64;
                if presence > 0 {
                    counters.presence_answers.fetch_add(1, Ordering::AcqRel);
                    counters
                        .presence_changes
                        .fetch_add(presence, Ordering::AcqRel);
                }
                cursor = updates["cursor"].as_i64().or(cursor);
            }
            Ok((status, _)) => {
                counters.errors.fetch_add(1, Ordering::AcqRel);
                if status.as_u16() == 410 {
                    // The cursor expired: the page reloads.
                    cursor = None;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(_) => {
                counters.errors.fetch_add(1, Ordering::AcqRel);
                counters.connected.fetch_sub(1, Ordering::AcqRel);
                conn = None;
            }
        }
    }
}

/// A change the bench makes and times: a request by one of the senders, which
/// `recipients` polls should bring back, known to the clock by `key`.
pub struct Change {
    pub sender: usize,
    pub method: Method,
    pub path: String,
    pub body: String,
    pub key: u64,
    pub recipients: usize,
}

/// What a paced run did.
pub struct Paced {
    pub sent: u64,
    pub acknowledged: u64,
    /// Each change's answer (2xx) in order, `None` for one that failed.
    pub answers: Vec<Option<Value>>,
    pub timings: Timings,
}

/// Makes `changes` at `rate` a second, each on its sender's own keep-alive connection
/// (a tab's sends do not share the connection of its poll), timing each on `clock` from
/// just before its request until the polls bring it; waits up to 5 s for stragglers.
pub async fn paced(
    addr: SocketAddr,
    senders: &[Login],
    changes: Vec<Change>,
    rate: u32,
    clock: &Arc<Clock>,
) -> Result<Paced> {
    let mut conns = Vec::with_capacity(senders.len());
    for _ in senders {
        conns.push(Arc::new(tokio::sync::Mutex::new(Conn::open(addr).await?)));
    }
    let mut ticks = tokio::time::interval(Duration::from_secs(1) / rate);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let sent = changes.len() as u64;
    let mut requests = Vec::with_capacity(changes.len());
    for change in changes {
        ticks.tick().await;
        let login = senders[change.sender].clone();
        let conn = conns[change.sender].clone();
        let clock = clock.clone();
        requests.push(tokio::spawn(async move {
            let mut conn = conn.lock().await;
            clock.start(change.key, change.recipients);
            match conn
                .unsafe_call(change.method, &change.path, &login, change.body)
                .await
            {
                Ok((status, body)) if status.is_success() => {
                    Some(serde_json::from_slice::<Value>(&body).unwrap_or(Value::Null))
                }
                _ => None,
            }
        }));
    }
    let mut answers = Vec::with_capacity(requests.len());
    for request in requests {
        answers.push(request.await?);
    }
    let acknowledged = answers.iter().filter(|a| a.is_some()).count() as u64;
    let deadline = Instant::now() + Duration::from_secs(5);
    while (clock.complete() as u64) < acknowledged && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(Paced {
        sent,
        acknowledged,
        answers,
        timings: clock.take(),
    })
}
