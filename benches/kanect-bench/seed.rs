//! The people and chats of the run, written straight into a freshly migrated database
//! (SQLite or PostgreSQL: every statement runs on either, through `kanect::on!`).
//!
//! Signing up thousands of people through the form would spend the setup on argon2 (that
//! cost is the point of it). Instead every account gets the same real argon2id hash, and
//! sessions are rows made exactly as sign-in makes them: a random token in the cookie, its
//! SHA-256 in the table. The server reads them as it reads any session; `main` checks that
//! it accepts one (`/api/me`) before measuring. Rows are what the server itself would
//! write: usernames with their look-alike skeleton, a message with its event.

use std::ops::Range;

use kanect::auth::token;
use kanect::model::Timestamp;
use kanect::validate::{look_alike_key, username_key};

use crate::client::{Login, Result};
use crate::store::{Connection, Store};

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
    /// The other member of each chat of `c`, in the same order (they poll for nothing).
    pub throughput_peers: Range<usize>,
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
pub fn id(index: usize) -> i64 {
    index as i64 + 1
}

pub async fn seed(store: &Store, sizes: &Sizes) -> Result<Cast> {
    let hash = kanect::auth::password::hash_blocking(PASSWORD)?;
    let mut db = store.open().await?;
    // One transaction: a few seconds on SQLite instead of one sync per row.
    execute(&mut db, "BEGIN").await?;
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
        logins.push(person(&mut db, i, &hash, now).await?);
    }
    ids_handed_out(&mut db, users).await?;

    let mut latency_chats = Vec::with_capacity(sizes.latency_chats);
    for k in 0..sizes.latency_chats {
        let members = [latency_senders.start + k, pollers.start + k * STRIDE];
        latency_chats.push(group(&mut db, &format!("latency {k}"), &members, now).await?);
    }
    let mut throughput_chats = Vec::with_capacity(sizes.throughput_senders);
    for k in 0..sizes.throughput_senders {
        let members = [throughput_senders.start + k, throughput_peers.start + k];
        throughput_chats.push(group(&mut db, &format!("throughput {k}"), &members, now).await?);
    }
    for k in empty_pollers.clone() {
        // A chat of one's own: its message is old news, and nobody else wakes for it.
        let chat = group(&mut db, &format!("notes {k}"), &[k], now).await?;
        old_message(&mut db, chat, k, now).await?;
    }

    let everyone: Vec<usize> = pollers.clone().collect();
    let mut group_chat = 0;
    for (n, team) in everyone.chunks(TEAM).enumerate() {
        group(&mut db, &format!("team {n}"), team, now).await?;
    }
    for (n, department) in everyone.chunks(DEPARTMENT).enumerate() {
        let chat = group(&mut db, &format!("department {n}"), department, now).await?;
        if n == 0 {
            group_chat = chat;
        }
    }
    for (i, &a) in everyone.iter().enumerate() {
        for step in 1..=DIRECT {
            let b = everyone[(i + step) % everyone.len()];
            if a != b {
                direct(&mut db, a, b, now).await?;
            }
        }
    }

    execute(&mut db, "COMMIT").await?;
    statistics(&mut db).await?;
    db.close().await?;
    Ok(Cast {
        logins,
        pollers,
        latency_senders,
        latency_chats,
        group_chat,
        throughput_senders,
        throughput_chats,
        throughput_peers,
        empty_pollers,
    })
}

/// A statement without parameters or rows.
pub async fn execute(db: &mut Connection, sql: &str) -> Result<()> {
    kanect::on!(db.on(), |c| {
        sqlx::query(sql).execute(c).await?;
    });
    Ok(())
}

/// Account `i` and one session of theirs, made as sign-in makes it.
pub async fn person(db: &mut Connection, i: usize, hash: &str, now: Timestamp) -> Result<Login> {
    let name = format!("user{i:05}");
    let key = username_key(&name);
    let login = Login {
        token: token::new_session_token(),
        csrf: token::random_base64(32),
    };
    kanect::on!(db.on(), |c| {
        sqlx::query(
            "INSERT INTO users (id, username, username_key, username_skeleton, email,
                                password_hash, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id(i))
        .bind(&name)
        .bind(&key)
        .bind(look_alike_key(&key))
        .bind(format!("{name}@example.com"))
        .bind(hash)
        .bind(now)
        .execute(&mut *c)
        .await?;
        sqlx::query(
            "INSERT INTO sessions
                (token_hash, user_id, csrf_token, created_at, last_used_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&token::hash(&login.token)[..])
        .bind(id(i))
        .bind(&login.csrf)
        .bind(now)
        .bind(now)
        .bind(now.plus_days(14))
        .execute(&mut *c)
        .await?;
    });
    Ok(login)
}

/// After `users` accounts inserted with their own ids: PostgreSQL's identity sequence
/// knows nothing of them and would hand out id 1 to the next sign-up (SQLite's rowid
/// carries on from the largest by itself).
pub async fn ids_handed_out(db: &mut Connection, users: usize) -> Result<()> {
    if db.is_postgres() && users > 0 {
        kanect::on!(db.on(), |c| {
            sqlx::query("SELECT setval(pg_get_serial_sequence('users', 'id'), $1)")
                .bind(id(users - 1))
                .execute(c)
                .await?;
        });
    }
    Ok(())
}

/// PostgreSQL plans by the statistics ANALYZE gathers, which autovacuum would have
/// gathered long before a real team's database held this many rows; without them every
/// statement of the run is planned on guesses (a long poll's query on 60,000 events was
/// estimated costly enough to be JIT-compiled each time: 30 ms for 0.1 ms of work).
/// SQLite is left as it always was (it has no statistics unless asked to, and its plans
/// here do not need them).
pub async fn statistics(db: &mut Connection) -> Result<()> {
    if db.is_postgres() {
        execute(
            db,
            "ANALYZE users, sessions, chats, chat_members, messages, events",
        )
        .await?;
    }
    Ok(())
}

pub async fn group(
    db: &mut Connection,
    title: &str,
    members: &[usize],
    now: Timestamp,
) -> Result<i64> {
    let chat: i64 = kanect::on!(db.on(), |c| sqlx::query_scalar(
        "INSERT INTO chats (kind, title, created_at) VALUES ('group', $1, $2) RETURNING id",
    )
    .bind(title)
    .bind(now)
    .fetch_one(c)
    .await?);
    for member in members {
        join(db, chat, *member, now).await?;
    }
    Ok(chat)
}

async fn direct(db: &mut Connection, a: usize, b: usize, now: Timestamp) -> Result<()> {
    let (low, high) = (id(a).min(id(b)), id(a).max(id(b)));
    let chat: Option<i64> = kanect::on!(db.on(), |c| sqlx::query_scalar(
        "INSERT INTO chats (kind, direct_key, created_at) VALUES ('direct', $1, $2)
         ON CONFLICT (direct_key) DO NOTHING RETURNING id",
    )
    .bind(format!("{low}:{high}"))
    .bind(now)
    .fetch_optional(c)
    .await?);
    if let Some(chat) = chat {
        join(db, chat, a, now).await?;
        join(db, chat, b, now).await?;
    }
    Ok(())
}

async fn join(db: &mut Connection, chat: i64, member: usize, now: Timestamp) -> Result<()> {
    kanect::on!(db.on(), |c| {
        sqlx::query("INSERT INTO chat_members (chat_id, user_id, joined_at) VALUES ($1, $2, $3)")
            .bind(chat)
            .bind(id(member))
            .bind(now)
            .execute(c)
            .await?;
    });
    Ok(())
}

/// A message by `sender` in `chat`, with the event a send records.
async fn old_message(db: &mut Connection, chat: i64, sender: usize, now: Timestamp) -> Result<()> {
    kanect::on!(db.on(), |c| {
        let message: i64 = sqlx::query_scalar(
            "INSERT INTO messages (chat_id, sender_id, body, created_at)
             VALUES ($1, $2, 'an old message', $3) RETURNING id",
        )
        .bind(chat)
        .bind(id(sender))
        .bind(now)
        .fetch_one(&mut *c)
        .await?;
        sqlx::query(
            "INSERT INTO events (chat_id, kind, message_id, created_at)
             VALUES ($1, 'message', $2, $3)",
        )
        .bind(chat)
        .bind(message)
        .bind(now)
        .execute(&mut *c)
        .await?;
        sqlx::query("UPDATE chat_members SET last_read_message_id = $1 WHERE chat_id = $2")
            .bind(message)
            .bind(chat)
            .execute(&mut *c)
            .await?;
    });
    Ok(())
}
