//! The people and chats of the run, written straight into a freshly migrated database.
//!
//! Signing up thousands of people through the form would spend the setup on argon2 (that
//! cost is the point of it). Instead every account gets the same real argon2id hash, and
//! sessions are rows made exactly as sign-in makes them: a random token in the cookie, its
//! SHA-256 in the table. The server reads them as it reads any session; `main` checks that
//! it accepts one (`/api/me`) before measuring. Rows are what the server itself would
//! write: usernames with their look-alike skeleton, a message with its event.

use std::ops::Range;
use std::path::Path;

use kanect::auth::token;
use kanect::model::Timestamp;
use kanect::validate::{look_alike_key, username_key};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, SqliteConnection};

use crate::client::{Login, Result};

pub const PASSWORD: &str = "bench-walrus-sings-42";

/// Who is who: index ranges into the seeded users.
///
/// The pollers know each other as a team does: each is in a group of `TEAM` (their team),
/// a group of `DEPARTMENT` (their department) and direct chats with the `DIRECT` pollers
/// after them and the `DIRECT` before them, so each shares a chat with about 55 others.
pub struct Cast {
    pub logins: Vec<Login>,
    /// Idle long pollers (`a`); the first `LATENCY_CHATS * STRIDE` include the recipients of `b`.
    pub pollers: Range<usize>,
    /// Senders of `b`: sender `k` shares chat `latency_chats[k]` with poller `k * STRIDE`.
    pub latency_senders: Range<usize>,
    pub latency_chats: Vec<i64>,
    /// `g`: the first department's group, whose members are the first `DEPARTMENT` pollers.
    pub group_chat: i64,
    /// Senders of `c`, each with a chat of their own (with a member nobody polls for).
    pub throughput_senders: Range<usize>,
    pub throughput_chats: Vec<i64>,
    /// Pollers of `d`: each has a chat with one old message, and nothing new.
    pub empty_pollers: Range<usize>,
}

pub const STRIDE: usize = 10;
pub const TEAM: usize = 10;
pub const DEPARTMENT: usize = 50;
pub const DIRECT: usize = 3;

pub struct Sizes {
    pub pollers: usize,
    pub latency_chats: usize,
    pub throughput_senders: usize,
    pub empty_pollers: usize,
}

/// A user's id from their index (ids start at 1).
fn id(index: usize) -> i64 {
    index as i64 + 1
}

pub async fn seed(data_dir: &Path, sizes: &Sizes) -> Result<Cast> {
    let hash = kanect::auth::password::hash_blocking(PASSWORD)?;
    let mut conn = SqliteConnectOptions::new()
        .filename(data_dir.join("kanect.db"))
        .foreign_keys(true)
        .connect()
        .await?;
    let mut tx = conn.begin().await?;
    let now = Timestamp::now();

    let mut next = 0;
    let mut take = |n: usize| {
        let range = next..next + n;
        next += n;
        range
    };
    let pollers = take(sizes.pollers);
    let latency_senders = take(sizes.latency_chats);
    let throughput_senders = take(sizes.throughput_senders);
    let throughput_peers = take(sizes.throughput_senders);
    let empty_pollers = take(sizes.empty_pollers);
    let users = next;

    let mut logins = Vec::with_capacity(users);
    for i in 0..users {
        logins.push(person(&mut tx, i, &hash, now).await?);
    }

    let mut latency_chats = Vec::with_capacity(sizes.latency_chats);
    for k in 0..sizes.latency_chats {
        let members = [latency_senders.start + k, pollers.start + k * STRIDE];
        latency_chats.push(group(&mut tx, &format!("latency {k}"), &members, now).await?);
    }
    let mut throughput_chats = Vec::with_capacity(sizes.throughput_senders);
    for k in 0..sizes.throughput_senders {
        let members = [throughput_senders.start + k, throughput_peers.start + k];
        throughput_chats.push(group(&mut tx, &format!("throughput {k}"), &members, now).await?);
    }
    for k in empty_pollers.clone() {
        // A chat of one's own: its message is old news, and nobody else wakes for it.
        let chat = group(&mut tx, &format!("notes {k}"), &[k], now).await?;
        old_message(&mut tx, chat, k, now).await?;
    }

    let everyone: Vec<usize> = pollers.clone().collect();
    let mut group_chat = 0;
    for (n, team) in everyone.chunks(TEAM).enumerate() {
        group(&mut tx, &format!("team {n}"), team, now).await?;
    }
    for (n, department) in everyone.chunks(DEPARTMENT).enumerate() {
        let chat = group(&mut tx, &format!("department {n}"), department, now).await?;
        if n == 0 {
            group_chat = chat;
        }
    }
    for (i, &a) in everyone.iter().enumerate() {
        for step in 1..=DIRECT {
            let b = everyone[(i + step) % everyone.len()];
            if a != b {
                direct(&mut tx, a, b, now).await?;
            }
        }
    }

    tx.commit().await?;
    conn.close().await?;
    Ok(Cast {
        logins,
        pollers,
        latency_senders,
        latency_chats,
        group_chat,
        throughput_senders,
        throughput_chats,
        empty_pollers,
    })
}

/// Account `i` and one session of theirs, made as sign-in makes it.
async fn person(tx: &mut SqliteConnection, i: usize, hash: &str, now: Timestamp) -> Result<Login> {
    let name = format!("user{i:05}");
    let key = username_key(&name);
    sqlx::query(
        "INSERT INTO users (id, username, username_key, username_skeleton, email,
                            password_hash, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(id(i))
    .bind(&name)
    .bind(&key)
    .bind(look_alike_key(&key))
    .bind(format!("{name}@example.com"))
    .bind(hash)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let login = Login {
        token: token::new_session_token(),
        csrf: token::random_base64(32),
    };
    sqlx::query(
        "INSERT INTO sessions
            (token_hash, user_id, csrf_token, created_at, last_used_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(&token::hash(&login.token)[..])
    .bind(id(i))
    .bind(&login.csrf)
    .bind(now)
    .bind(now)
    .bind(now.plus_days(14))
    .execute(&mut *tx)
    .await?;
    Ok(login)
}

async fn group(
    tx: &mut SqliteConnection,
    title: &str,
    members: &[usize],
    now: Timestamp,
) -> Result<i64> {
    let chat: i64 = sqlx::query_scalar(
        "INSERT INTO chats (kind, title, created_at) VALUES ('group', ?, ?) RETURNING id",
    )
    .bind(title)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    for member in members {
        join(tx, chat, *member, now).await?;
    }
    Ok(chat)
}

async fn direct(tx: &mut SqliteConnection, a: usize, b: usize, now: Timestamp) -> Result<()> {
    let (low, high) = (id(a).min(id(b)), id(a).max(id(b)));
    let chat: Option<i64> = sqlx::query_scalar(
        "INSERT INTO chats (kind, direct_key, created_at) VALUES ('direct', ?, ?)
         ON CONFLICT (direct_key) DO NOTHING RETURNING id",
    )
    .bind(format!("{low}:{high}"))
    .bind(now)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(chat) = chat {
        join(tx, chat, a, now).await?;
        join(tx, chat, b, now).await?;
    }
    Ok(())
}

async fn join(tx: &mut SqliteConnection, chat: i64, member: usize, now: Timestamp) -> Result<()> {
    sqlx::query("INSERT INTO chat_members (chat_id, user_id, joined_at) VALUES (?, ?, ?)")
        .bind(chat)
        .bind(id(member))
        .bind(now)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// A message by `sender` in `chat`, with the event a send records.
async fn old_message(
    tx: &mut SqliteConnection,
    chat: i64,
    sender: usize,
    now: Timestamp,
) -> Result<()> {
    let message: i64 = sqlx::query_scalar(
        "INSERT INTO messages (chat_id, sender_id, body, created_at)
         VALUES (?, ?, 'an old message', ?) RETURNING id",
    )
    .bind(chat)
    .bind(id(sender))
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO events (chat_id, kind, message_id, created_at) VALUES (?, 'message', ?, ?)",
    )
    .bind(chat)
    .bind(message)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE chat_members SET last_read_message_id = ? WHERE chat_id = ?")
        .bind(message)
        .bind(chat)
        .execute(&mut *tx)
        .await?;
    Ok(())
}
