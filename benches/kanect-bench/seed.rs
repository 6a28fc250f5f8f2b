//! The people and chats of the run, written straight into a freshly migrated database.
//!
//! Signing up thousands of people through the form would spend the setup on argon2 (that
//! cost is the point of it). Instead every account gets the same real argon2id hash, and
//! sessions are rows made exactly as sign-in makes them: a random token in the cookie, its
//! SHA-256 in the table. The server reads them as it reads any session; `main` checks that
//! it accepts one (`/api/me`) before measuring.

use std::ops::Range;
use std::path::Path;

use kanect::auth::token;
use kanect::model::Timestamp;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};

use crate::client::{Login, Result};

pub const PASSWORD: &str = "bench-walrus-sings-42";

/// Who is who: index ranges into the seeded users.
pub struct Cast {
    pub logins: Vec<Login>,
    /// Idle long pollers (`a`); the first `LATENCY_CHATS * STRIDE` include the recipients of `b`.
    pub pollers: Range<usize>,
    /// Senders of `b`: sender `k` shares chat `latency_chats[k]` with poller `k * STRIDE`.
    pub latency_senders: Range<usize>,
    pub latency_chats: Vec<i64>,
    /// Senders of `c`, each with a chat of their own (with a member nobody polls for).
    pub throughput_senders: Range<usize>,
    pub throughput_chats: Vec<i64>,
    /// Pollers of `d`: each has a chat with one old message, and nothing new.
    pub empty_pollers: Range<usize>,
    pub empty_cursor: Vec<i64>,
}

pub const STRIDE: usize = 10;

pub struct Sizes {
    pub pollers: usize,
    pub latency_chats: usize,
    pub throughput_senders: usize,
    pub empty_pollers: usize,
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
    let expires = now.plus_days(14);

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
        let name = format!("user{i:05}");
        sqlx::query(
            "INSERT INTO users (id, username, username_key, email, password_hash, created_at)
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(i as i64 + 1)
        .bind(&name)
        .bind(&name)
        .bind(format!("{name}@example.com"))
        .bind(&hash)
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
        .bind(i as i64 + 1)
        .bind(&login.csrf)
        .bind(now)
        .bind(now)
        .bind(expires)
        .execute(&mut *tx)
        .await?;
        logins.push(login);
    }

    let mut group: Vec<Vec<usize>> = Vec::new();
    for k in 0..sizes.latency_chats {
        group.push(vec![latency_senders.start + k, pollers.start + k * STRIDE]);
    }
    for k in 0..sizes.throughput_senders {
        group.push(vec![
            throughput_senders.start + k,
            throughput_peers.start + k,
        ]);
    }
    for k in empty_pollers.clone() {
        // A chat of one's own: its message is old news, and nobody else wakes for it.
        group.push(vec![k]);
    }
    let mut ids = Vec::with_capacity(group.len());
    for (n, members) in group.iter().enumerate() {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO chats (kind, title, created_at) VALUES ('group', ?, ?) RETURNING id",
        )
        .bind(format!("bench {n}"))
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        for member in members.iter() {
            sqlx::query("INSERT INTO chat_members (chat_id, user_id, joined_at) VALUES (?, ?, ?)")
                .bind(id)
                .bind(*member as i64 + 1)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        ids.push(id);
    }
    let latency_chats = ids[..sizes.latency_chats].to_vec();
    let throughput_chats =
        ids[sizes.latency_chats..sizes.latency_chats + sizes.throughput_senders].to_vec();
    let mut empty_cursor = Vec::new();
    for (k, chat) in ids[sizes.latency_chats + sizes.throughput_senders..]
        .iter()
        .enumerate()
    {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO messages (chat_id, sender_id, body, created_at)
             VALUES (?, ?, 'an old message', ?) RETURNING id",
        )
        .bind(chat)
        .bind((empty_pollers.start + k) as i64 + 1)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        empty_cursor.push(id);
    }
    tx.commit().await?;
    conn.close().await?;
    Ok(Cast {
        logins,
        pollers,
        latency_senders,
        latency_chats,
        throughput_senders,
        throughput_chats,
        empty_pollers,
        empty_cursor,
    })
}
