//! The history `s` searches, written straight into a freshly migrated database (SQLite or
//! PostgreSQL), on top of the people `seed` writes: `CHATS` group chats of 8 to 30 of
//! `AUTHORS` people each, one searcher who is a member of every tenth of them (20), and
//! the messages of the corpus, each in a chat drawn at random, from a member of it drawn at
//! random, one after the other over the past year.
//!
//! Messages go in `ROWS` to a statement and `STATEMENTS` statements to a transaction.
//! The search index is the schema's own (triggers on SQLite, an expression index on
//! PostgreSQL), so it is kept by the inserts, as by the server's sends. No event is
//! written for these messages: the event stream is pruned by age, and search reads none.

use std::time::Instant;

use kanect::model::Timestamp;
use rand::rngs::StdRng;
use rand::seq::index;
use rand::{Rng, SeedableRng};

use crate::client::{Login, Result};
use crate::corpus::Corpus;
use crate::seed::{self, execute, PASSWORD};
use crate::store::{Connection, Store};

pub const CHATS: usize = 200;
/// The searcher is a member of chat `k` when `k % MEMBER_EVERY == 0`.
pub const MEMBER_EVERY: usize = 10;
const AUTHORS: usize = 1000;
const ROWS: usize = 1000;
const STATEMENTS: usize = 50;
/// Messages of the searcher's chats kept (their words' ranks) for the queries.
const SAMPLES: usize = 2000;

pub struct History {
    pub searcher: Login,
    pub messages: u64,
    /// Messages in the searcher's chats.
    pub visible: u64,
    pub seconds: f64,
    /// Some messages of the searcher's chats, as their words' ranks.
    pub samples: Vec<Vec<u16>>,
}

/// A chat and its members (user indices).
struct Chat {
    id: i64,
    members: Vec<usize>,
}

/// Writes the history for `messages` messages; the users so far are `0..first`.
pub async fn seed(store: &Store, corpus: &Corpus, first: usize, messages: u64) -> Result<History> {
    let began = Instant::now();
    let mut rng = StdRng::seed_from_u64(1_000_000);
    let hash = kanect::auth::password::hash_blocking(PASSWORD)?;
    let mut db = store.open().await?;
    if !db.is_postgres() {
        // The seeding connection's page cache: the indexes of `messages` take writes all
        // over (sender, chat), and the default 2 MB would spill every statement.
        execute(&mut db, "PRAGMA cache_size = -262144").await?;
    }
    execute(&mut db, "BEGIN").await?;
    let now = Timestamp::now();
    let searcher = seed::person(&mut db, first, &hash, now).await?;
    for i in 1..=AUTHORS {
        seed::person(&mut db, first + i, &hash, now).await?;
    }
    seed::ids_handed_out(&mut db, first + 1 + AUTHORS).await?;
    let mut chats = Vec::with_capacity(CHATS);
    for k in 0..CHATS {
        let size = rng.gen_range(8..=30);
        let mut members: Vec<usize> = index::sample(&mut rng, AUTHORS, size)
            .into_iter()
            .map(|a| first + 1 + a)
            .collect();
        if k % MEMBER_EVERY == 0 {
            members.push(first);
        }
        let id = seed::group(&mut db, &format!("search {k}"), &members, now).await?;
        chats.push(Chat { id, members });
    }
    execute(&mut db, "COMMIT").await?;

    let mut history = History {
        searcher,
        messages,
        visible: 0,
        seconds: 0.0,
        samples: Vec::new(),
    };
    write_messages(&mut db, corpus, &chats, &mut history, &mut rng).await?;
    finish(&mut db, first).await?;
    db.close().await?;
    history.seconds = began.elapsed().as_secs_f64();
    Ok(history)
}

/// The messages, in transactions of `ROWS * STATEMENTS`.
async fn write_messages(
    db: &mut Connection,
    corpus: &Corpus,
    chats: &[Chat],
    history: &mut History,
    rng: &mut StdRng,
) -> Result<()> {
    let total = history.messages;
    let year_ms: i64 = 365 * 86_400_000;
    let start = Timestamp::now().0 - year_ms;
    let step = year_ms / total.max(1) as i64;
    // The searcher sees about one message in MEMBER_EVERY; keep SAMPLES of those.
    let keep_every = (total / MEMBER_EVERY as u64 / SAMPLES as u64).max(1);
    let mut text = String::new();
    let mut written = 0u64;
    let mut last_report = Instant::now();
    while written < total {
        execute(db, "BEGIN").await?;
        for _ in 0..STATEMENTS {
            let n = (total - written).min(ROWS as u64) as usize;
            if n == 0 {
                break;
            }
            let mut rows = Vec::with_capacity(n);
            for i in 0..n {
                let k = rng.gen_range(0..chats.len());
                let chat = &chats[k];
                let sender = chat.members[rng.gen_range(0..chat.members.len())];
                let ranks = corpus.message(rng, &mut text);
                if k % MEMBER_EVERY == 0 {
                    if history.visible % keep_every == 0 && history.samples.len() < SAMPLES {
                        history.samples.push(ranks);
                    }
                    history.visible += 1;
                }
                let at = start + step * (written as i64 + i as i64);
                rows.push((chat.id, seed::id(sender), text.clone(), at));
            }
            insert(db, &rows).await?;
            written += n as u64;
        }
        execute(db, "COMMIT").await?;
        if last_report.elapsed().as_secs() >= 10 {
            eprintln!("   {written} of {total} messages");
            last_report = Instant::now();
        }
    }
    Ok(())
}

/// One multi-row insert.
async fn insert(db: &mut Connection, rows: &[(i64, i64, String, i64)]) -> Result<()> {
    let mut sql =
        String::from("INSERT INTO messages (chat_id, sender_id, body, created_at) VALUES ");
    for i in 0..rows.len() {
        let p = i * 4;
        if i > 0 {
            sql.push(',');
        }
        sql.push_str(&format!("(${},${},${},${})", p + 1, p + 2, p + 3, p + 4));
    }
    kanect::on!(db.on(), |c| {
        let mut query = sqlx::query(&sql);
        for (chat, sender, body, at) in rows {
            query = query.bind(chat).bind(sender).bind(body.as_str()).bind(at);
        }
        query.execute(c).await?;
    });
    Ok(())
}

/// What a send also keeps: each chat's last message time, and the searcher's chats read
/// up to their newest message (so that nothing else of the server's is unusual).
async fn finish(db: &mut Connection, searcher: usize) -> Result<()> {
    execute(
        db,
        "UPDATE chats SET last_message_at =
             (SELECT MAX(created_at) FROM messages WHERE messages.chat_id = chats.id)
         WHERE title LIKE 'search %'",
    )
    .await?;
    kanect::on!(db.on(), |c| {
        sqlx::query(
            "UPDATE chat_members SET last_read_message_id = COALESCE(
                 (SELECT MAX(id) FROM messages WHERE messages.chat_id = chat_members.chat_id), 0)
             WHERE user_id = $1",
        )
        .bind(seed::id(searcher))
        .execute(c)
        .await?;
    });
    seed::statistics(db).await?;
    Ok(())
}
