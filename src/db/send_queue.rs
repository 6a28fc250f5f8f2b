//! Group commit for sends. Concurrent sends queue here and one task writes whatever has
//! queued as one transaction of a few set-based statements, so a busy chat server pays
//! for one commit (and a handful of statements) per batch instead of per message.
//!
//! A sender is answered only after the commit that holds its message has returned: a 2xx
//! still means the message is on disk. If anything in a batch fails, the whole batch rolls
//! back and every sender in it gets the error; none of them is stored.

use std::collections::HashSet;

use rocket::fairing::{self, Fairing, Info, Kind};
use rocket::{Build, Rocket};
use rocket_db_pools::Database;
use serde_json::json;
use tokio::sync::{mpsc, oneshot};

use super::backend::on;
use super::files::{self, Attachment};
use super::messages::{self, Message, SendError, Sent};
use super::writer::{is_storage_error, Writer};
use super::{Db, WriteTx};
use crate::mentions::{self, Mentioned};
use crate::model::{ChatId, ChatStatus, FileId, MessageId, Timestamp, UserId};
use crate::validate::MessageBody;

/// The most sends one transaction takes; more wait for the next one.
const MAX_BATCH: usize = 512;
/// Sends waiting beyond this make new senders wait for room (back-pressure).
const QUEUE: usize = 4096;

struct Job {
    chat: ChatId,
    sender: UserId,
    sender_name: String,
    sender_display_name: String,
    sender_avatar_url: Option<String>,
    body: String,
    /// Read from the body before it queues, off the writer's task.
    mentioned: Mentioned,
    /// Uploads the message claims (rarely any).
    attachments: Vec<FileId>,
    reply: oneshot::Sender<Result<Sent, SendError>>,
}

/// Who sends, as the stored message shows them.
pub struct Sender<'a> {
    pub id: UserId,
    pub username: &'a str,
    pub display_name: &'a str,
    pub avatar_url: Option<&'a str>,
}

/// The queue, as Rocket manages it (`&State<SendQueue>`).
#[derive(Clone)]
pub struct SendQueue {
    jobs: mpsc::Sender<Job>,
}

impl SendQueue {
    /// Starts the writing task on the writer.
    pub fn start(write: Writer) -> SendQueue {
        let (jobs, queued) = mpsc::channel(QUEUE);
        tokio::spawn(run(write, queued));
        SendQueue { jobs }
    }

    /// Stores a message: checks membership and status, moves the chat up, marks it read for
    /// the sender and brings it back from the archive of everyone else.
    pub async fn send(
        &self,
        chat: ChatId,
        sender: Sender<'_>,
        body: &MessageBody,
        attachments: Vec<FileId>,
    ) -> Result<Sent, SendError> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            chat,
            sender: sender.id,
            sender_name: sender.username.to_owned(),
            sender_display_name: sender.display_name.to_owned(),
            sender_avatar_url: sender.avatar_url.map(str::to_owned),
            body: body.as_str().to_owned(),
            mentioned: mentions::parse(body.as_str()),
            attachments,
            reply,
        };
        let stopped = || SendError::Db(sqlx::Error::PoolClosed);
        self.jobs.send(job).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

async fn run(write: Writer, mut queued: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queued.recv_many(&mut batch, MAX_BATCH).await > 0 {
        match commit(&write, &batch).await {
            Ok(results) => {
                let stored = results.iter().filter(|r| r.is_ok()).count();
                crate::monitoring::send_batch(results.len(), stored);
                for (job, result) in batch.drain(..).zip(results) {
                    // A sender that went away meanwhile: its message is stored all the same.
                    let _ = job.reply.send(result);
                }
            }
            Err(e) => {
                // Rolled back: nobody in the batch is told their message was stored.
                tracing::warn!(error = %e, sends = batch.len(), "a batch of sends failed");
                crate::monitoring::send_batch(batch.len(), 0);
                let storage = is_storage_error(&e);
                let cause = e.to_string();
                for job in batch.drain(..) {
                    let failed = if storage {
                        SendError::Unavailable(cause.clone())
                    } else {
                        SendError::Db(sqlx::Error::Protocol(format!("the batch failed: {cause}")))
                    };
                    let _ = job.reply.send(Err(failed));
                }
            }
        }
    }
}

/// A message the batch stored: id, chat, sender, body.
type Stored = (MessageId, ChatId, UserId, String);

/// One transaction for `batch`: the result of each job, in order, once committed.
async fn commit(
    write: &Writer,
    batch: &[Job],
) -> Result<Vec<Result<Sent, SendError>>, sqlx::Error> {
    let now = Timestamp::now();
    let mut tx = write.begin().await?;
    let files = attachable(&mut tx, batch).await?;
    // A job whose files cannot be attached stores nothing; the rest go in together.
    let tried: Vec<&Job> = batch
        .iter()
        .zip(&files)
        .filter(|(_, files)| files.is_some())
        .map(|(job, _)| job)
        .collect();
    let mut stored = insert(&mut tx, &tried, now).await?;
    // Ids were given in job order (ORDER BY key); RETURNING's own order is unspecified.
    stored.sort_unstable_by_key(|(id, ..)| *id);
    let taken: HashSet<(ChatId, UserId)> = stored
        .iter()
        .map(|(_, chat, sender, _)| (*chat, *sender))
        .collect();
    let kept: Vec<bool> = batch
        .iter()
        .zip(&files)
        .map(|(job, files)| files.is_some() && taken.contains(&(job.chat, job.sender)))
        .collect();
    // In queue order, as the stored rows are.
    let accepted: Vec<&Job> = batch
        .iter()
        .zip(&kept)
        .filter(|(_, kept)| **kept)
        .map(|(job, _)| job)
        .collect();
    let (members, mentions) = if stored.is_empty() {
        (Vec::new(), Vec::new())
    } else {
        let sent: Vec<_> = accepted
            .iter()
            .zip(&stored)
            .map(|(job, (id, chat, sender, _))| (*id, *chat, *sender, job.mentioned.clone()))
            .collect();
        messages::sent(&mut tx, &sent, now).await?
    };
    for (job, (id, ..)) in accepted.iter().zip(&stored) {
        if !job.attachments.is_empty() {
            files::claim(&mut tx, *id, &job.attachments).await?;
        }
    }
    let refused = refusals(&mut tx, batch, &kept, &files).await?;
    tx.commit().await?;
    Ok(answers(
        batch, refused, stored, files, &members, &mentions, now,
    ))
}

/// For each job, the files it attaches (none, mostly), or `None` when they are not all
/// its sender's unclaimed uploads to its chat. Two sends of a batch cannot both have one.
async fn attachable(tx: &mut WriteTx, batch: &[Job]) -> sqlx::Result<Vec<Option<Vec<Attachment>>>> {
    let mut claimed: HashSet<FileId> = HashSet::new();
    let mut out = Vec::with_capacity(batch.len());
    for job in batch {
        if job.attachments.is_empty() {
            out.push(Some(Vec::new()));
            continue;
        }
        let found = files::claimable(tx, job.chat, job.sender, &job.attachments).await?;
        let whole = found.len() == job.attachments.len()
            && found.iter().all(|file| claimed.insert(file.id));
        out.push(whole.then_some(found));
    }
    Ok(out)
}

/// The messages of every job whose sender may write in its chat, in queue order.
async fn insert(tx: &mut WriteTx, batch: &[&Job], now: Timestamp) -> sqlx::Result<Vec<Stored>> {
    let wanted: Vec<_> = batch
        .iter()
        .map(|job| json!([job.chat, job.sender, job.body]))
        .collect();
    // Rows go in in array order (ORDER BY key), so ids follow the order of the queue.
    on!(tx, |c, pg| {
        sqlx::query_as(if pg {
            "INSERT INTO messages (chat_id, sender_id, body, created_at)
             SELECT (j.value ->> 0)::bigint, (j.value ->> 1)::bigint, j.value ->> 2, $1
             FROM json_array_elements($2::json) WITH ORDINALITY AS j(value, key)
             WHERE EXISTS (
                 SELECT 1 FROM chats c JOIN chat_members cm ON cm.chat_id = c.id
                 WHERE c.id = (j.value ->> 0)::bigint AND cm.user_id = (j.value ->> 1)::bigint
                   AND c.status = 'open')
             ORDER BY j.key
             RETURNING id, chat_id, sender_id, body"
        } else {
            "INSERT INTO messages (chat_id, sender_id, body, created_at)
             SELECT j.value ->> 0, j.value ->> 1, j.value ->> 2, $1 FROM json_each($2) j
             WHERE EXISTS (
                 SELECT 1 FROM chats c JOIN chat_members cm ON cm.chat_id = c.id
                 WHERE c.id = j.value ->> 0 AND cm.user_id = j.value ->> 1 AND c.status = 'open')
             ORDER BY j.key
             RETURNING id, chat_id, sender_id, body"
        })
        .bind(now)
        .bind(serde_json::Value::Array(wanted).to_string())
        .fetch_all(c)
        .await
    })
}

/// Why the jobs that stored nothing were refused, read in the same transaction as the
/// insert. Jobs of one (chat, sender) pair stand or fall together: they saw the same
/// membership and status. A member's send to an open chat was refused for its files.
async fn refusals(
    tx: &mut WriteTx,
    batch: &[Job],
    kept: &[bool],
    files: &[Option<Vec<Attachment>>],
) -> sqlx::Result<Vec<Option<SendError>>> {
    let mut refused = Vec::with_capacity(batch.len());
    for ((job, kept), files) in batch.iter().zip(kept).zip(files) {
        if *kept {
            refused.push(None);
            continue;
        }
        let status: Option<ChatStatus> = on!(&mut *tx, |c| {
            sqlx::query_scalar(
                "SELECT c.status FROM chats c JOIN chat_members cm ON cm.chat_id = c.id
                 WHERE c.id = $1 AND cm.user_id = $2",
            )
            .bind(job.chat)
            .bind(job.sender)
            .fetch_optional(c)
            .await
        })?;
        refused.push(Some(match status {
            None => SendError::NotMember,
            Some(ChatStatus::Closed) => SendError::Closed,
            Some(ChatStatus::Open) if files.is_none() => SendError::Attachments,
            Some(ChatStatus::Open) => SendError::Db(sqlx::Error::RowNotFound),
        }));
    }
    Ok(refused)
}

/// Each job's answer, in queue order.
fn answers(
    batch: &[Job],
    refused: Vec<Option<SendError>>,
    stored: Vec<Stored>,
    files: Vec<Option<Vec<Attachment>>>,
    members: &[(ChatId, UserId)],
    mentions: &[(MessageId, String)],
    now: Timestamp,
) -> Vec<Result<Sent, SendError>> {
    let mut rows = stored.into_iter();
    let mut out = Vec::with_capacity(batch.len());
    for ((job, refused), files) in batch.iter().zip(refused).zip(files) {
        if let Some(refused) = refused {
            out.push(Err(refused));
            continue;
        }
        match rows.next() {
            Some((id, chat, sender, body)) if chat == job.chat && sender == job.sender => {
                out.push(Ok(Sent {
                    message: Message {
                        id,
                        chat_id: chat,
                        sender: job.sender_name.clone(),
                        sender_display_name: job.sender_display_name.clone(),
                        sender_avatar_url: job.sender_avatar_url.clone(),
                        body,
                        created_at: now,
                        edited_at: None,
                        added_by: None,
                        reactions: Vec::new(),
                        mentions: mentions
                            .iter()
                            .filter(|(m, _)| *m == id)
                            .map(|(_, name)| name.clone())
                            .collect(),
                        attachments: files.unwrap_or_default(),
                    },
                    members: members
                        .iter()
                        .filter(|(c, _)| *c == chat)
                        .map(|(_, user)| *user)
                        .collect(),
                }))
            }
            // Cannot happen while the insert keeps job order; never hand out a wrong id.
            _ => out.push(Err(SendError::Db(sqlx::Error::RowNotFound))),
        }
    }
    out
}

/// Starts the queue once the database is attached (attach after `Db::init()`).
pub struct Start;

#[rocket::async_trait]
impl Fairing for Start {
    fn info(&self) -> Info {
        Info {
            name: "send queue",
            kind: Kind::Ignite,
        }
    }

    async fn on_ignite(&self, rocket: Rocket<Build>) -> fairing::Result {
        let Some(db) = Db::fetch(&rocket) else {
            return Err(rocket);
        };
        let queue = SendQueue::start(db.write.clone());
        Ok(rocket.manage(queue))
    }
}
