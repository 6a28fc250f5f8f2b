//! The changes whose delivery the bench times while pollers wait: `b` (messages, then
//! edits and reactions of those messages) and `g` (a busy group).

use std::net::SocketAddr;
use std::time::Duration;

use hyper::Method;

use crate::client::{Login, Result};
use crate::pollers::{self, Change, Pollers};
use crate::report::{Delivery, Report};
use crate::seed::{Cast, DEPARTMENT, STRIDE};

/// Changes per second in `b`: messages, edits and reactions alike.
const RATE: u32 = 100;
/// Messages per second into the group of `g`.
const GROUP_RATE: u32 = 20;
/// Members of the group who write in `g`.
const TALKERS: usize = 5;

/// `b` and `g`, with 1,000 pollers waiting.
pub async fn at_1000(
    report: &mut Report,
    addr: SocketAddr,
    cast: &Cast,
    pollers: &Pollers,
    duration: Duration,
) -> Result<()> {
    eprintln!("b. delivery latency: messages");
    let (delivery, sent) = messages(addr, cast, pollers, duration).await?;
    report.delivery = Some(delivery);
    let senders = latency_senders(cast);
    let n = pollers.len();

    eprintln!("b. delivery latency: edits");
    let edits = sent
        .iter()
        .map(|&(sender, chat, id)| Change {
            sender,
            method: Method::PATCH,
            path: format!("/api/chats/{chat}/messages/{id}"),
            body: format!(r#"{{"body":"edit-{id}"}}"#),
            key: id,
            recipients: 1,
        })
        .collect();
    let paced = pollers::paced(addr, &senders, edits, RATE, &pollers.clocks.edits).await?;
    report.edits = Some(Delivery::new(n, RATE, 1, paced));

    eprintln!("b. delivery latency: reactions");
    let reactions = sent
        .iter()
        .map(|&(sender, chat, id)| Change {
            sender,
            method: Method::PUT,
            // 👍, percent-encoded as the UI sends it.
            path: format!("/api/chats/{chat}/messages/{id}/reactions/%F0%9F%91%8D"),
            body: String::new(),
            key: id,
            recipients: 1,
        })
        .collect();
    let clock = &pollers.clocks.reactions;
    let paced = pollers::paced(addr, &senders, reactions, RATE, clock).await?;
    report.reactions = Some(Delivery::new(n, RATE, 1, paced));

    eprintln!("g. a group of {DEPARTMENT} receiving {GROUP_RATE} messages/s");
    // A few members talk; every member's tab (the talkers' own included) gets each message.
    let talkers: Vec<Login> = (0..TALKERS)
        .map(|t| cast.logins[cast.pollers.start + 1 + t * STRIDE].clone())
        .collect();
    let total = u64::from(GROUP_RATE) * duration.as_secs();
    let said = (0..total)
        .map(|n| Change {
            sender: n as usize % TALKERS,
            method: Method::POST,
            path: format!("/api/chats/{}/messages", cast.group_chat),
            body: format!(r#"{{"body":"grp-{n}"}}"#),
            key: n,
            recipients: DEPARTMENT,
        })
        .collect();
    let clock = &pollers.clocks.group;
    let paced = pollers::paced(addr, &talkers, said, GROUP_RATE, clock).await?;
    report.group = Some(Delivery::new(n, GROUP_RATE, DEPARTMENT, paced));
    Ok(())
}

fn latency_senders(cast: &Cast) -> Vec<Login> {
    cast.latency_senders
        .clone()
        .map(|i| cast.logins[i].clone())
        .collect()
}

/// `RATE` messages a second for `duration`, round-robin over the latency senders, each
/// into its chat with one of the pollers (bodies `lat-<n>`). Returns the delivery, and
/// each stored message as (sender, chat, id).
pub async fn messages(
    addr: SocketAddr,
    cast: &Cast,
    pollers: &Pollers,
    duration: Duration,
) -> Result<(Delivery, Vec<(usize, i64, u64)>)> {
    let senders = latency_senders(cast);
    let total = u64::from(RATE) * duration.as_secs();
    let changes = (0..total)
        .map(|n| {
            let sender = n as usize % senders.len();
            Change {
                sender,
                method: Method::POST,
                path: format!("/api/chats/{}/messages", cast.latency_chats[sender]),
                body: format!(r#"{{"body":"lat-{n}"}}"#),
                key: n,
                recipients: 1,
            }
        })
        .collect();
    let clock = &pollers.clocks.messages;
    let paced = pollers::paced(addr, &senders, changes, RATE, clock).await?;
    let sent = paced
        .answers
        .iter()
        .enumerate()
        .filter_map(|(n, answer)| {
            let id = answer.as_ref()?["id"].as_u64()?;
            let sender = n % senders.len();
            Some((sender, cast.latency_chats[sender], id))
        })
        .collect();
    Ok((Delivery::new(pollers.len(), RATE, 1, paced), sent))
}
