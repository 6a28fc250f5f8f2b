//! Closed-loop throughput: sends (`c`, then a check of the database), empty polls (`d`)
//! and the trivial route (`e`).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::client::{closed_loop, closed_loop_on, Counted, Login, Result};
use crate::store::Store;

pub struct Window {
    pub conns: usize,
    pub warmup: Duration,
    pub duration: Duration,
}

/// What `c` acknowledged and what the database holds.
pub struct Sends {
    pub counted: Counted,
    pub acknowledged: usize,
    pub stored: usize,
    pub lost: usize,
    pub duplicated: usize,
}

/// `c`: each connection sends into its own chat as fast as answers come back, the
/// connections split evenly among `addrs` (instances of one Kanect on one database).
/// Bodies are `<tag>-<worker>-<n>`: a run's tag picks out its own messages in the check.
pub async fn sends(
    addrs: &[SocketAddr],
    senders: Vec<(Login, i64)>,
    window: &Window,
    store: &Store,
    tag: &'static str,
) -> Result<Sends> {
    let acked: Arc<Mutex<Vec<(i64, String)>>> = Arc::default();
    let senders = Arc::new(senders);
    let record = acked.clone();
    let counted = closed_loop_on(
        addrs,
        window.conns.min(senders.len()),
        window.warmup,
        window.duration,
        move |worker, n, mut conn| {
            let (login, chat) = senders[worker].clone();
            let record = record.clone();
            async move {
                let text = format!("{tag}-{worker}-{n}");
                let body = format!(r#"{{"body":"{text}"}}"#);
                let path = format!("/api/chats/{chat}/messages");
                match conn.post_json(&path, &login, body).await {
                    Ok((status, answer)) if status.as_u16() == 201 => {
                        let id = serde_json::from_slice::<serde_json::Value>(&answer)
                            .ok()
                            .and_then(|m| m["id"].as_i64());
                        match id {
                            Some(id) => {
                                record
                                    .lock()
                                    .unwrap_or_else(PoisonError::into_inner)
                                    .push((id, text));
                                (true, Some(conn))
                            }
                            None => (false, Some(conn)),
                        }
                    }
                    Ok(_) => (false, Some(conn)),
                    Err(_) => (false, None),
                }
            }
        },
    )
    .await?;
    let acked = std::mem::take(&mut *acked.lock().unwrap_or_else(PoisonError::into_inner));

    // Every acknowledged message, warm-up included, must be in the table exactly once,
    // under the id its sender was given.
    let mut db = store.open_read_only().await?;
    let rows: Vec<(i64, String)> = kanect::on!(db.on(), |c| {
        sqlx::query_as("SELECT id, body FROM messages WHERE body LIKE $1")
            .bind(format!("{tag}-%"))
            .fetch_all(c)
            .await?
    });
    db.close().await?;
    let mut stored: HashMap<&str, Vec<i64>> = HashMap::new();
    for (id, body) in &rows {
        stored.entry(body.as_str()).or_default().push(*id);
    }
    let mut lost = 0;
    let mut duplicated = 0;
    for (id, body) in &acked {
        match stored.get(body.as_str()).map(Vec::as_slice) {
            Some([only]) if only == id => {}
            Some([]) | None => lost += 1,
            Some(_) => duplicated += 1,
        }
    }
    let mut ids: Vec<i64> = acked.iter().map(|(id, _)| *id).collect();
    ids.sort_unstable();
    ids.dedup();
    duplicated += acked.len() - ids.len();
    Ok(Sends {
        counted,
        acknowledged: acked.len(),
        stored: rows.len(),
        lost,
        duplicated,
    })
}

/// `d`: each connection polls without waiting, from a cursor with nothing after it (the
/// one its page load was given).
pub async fn empty_polls(
    addr: SocketAddr,
    pollers: Vec<(Login, i64)>,
    window: &Window,
) -> Result<Counted> {
    let pollers = Arc::new(pollers);
    closed_loop(
        addr,
        window.conns.min(pollers.len()),
        window.warmup,
        window.duration,
        move |worker, _, mut conn| {
            let (login, cursor) = pollers[worker].clone();
            async move {
                let path = format!("/api/updates?after={cursor}");
                match conn.get(&path, Some(&login)).await {
                    Ok((status, body)) => (
                        status.is_success() && body.starts_with(br#"{"events":[]"#),
                        Some(conn),
                    ),
                    Err(_) => (false, None),
                }
            }
        },
    )
    .await
}

/// `e`: the trivial route, same connections and window.
pub async fn trivial(addr: SocketAddr, window: &Window) -> Result<Counted> {
    closed_loop(
        addr,
        window.conns,
        window.warmup,
        window.duration,
        move |_, _, mut conn| async move {
            match conn.get("/", None).await {
                Ok((status, _)) => (status.is_success(), Some(conn)),
                Err(_) => (false, None),
            }
        },
    )
    .await
}
