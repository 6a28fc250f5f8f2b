//! Web Push subscriptions: each browser's push service endpoint and keys, for the person
//! signed in there, and who of a chat has one when a message arrives.

use std::collections::HashSet;

use super::backend::{on, Pool};
use super::Writer;
use crate::model::{ChatId, ChatKind, NotifyLevel, Timestamp, UserId};

/// The most browsers one person keeps subscribed: a new one past it replaces the oldest.
pub const MAX_PER_USER: i64 = 20;

/// A subscription as a browser's `PushSubscription` gives it (already checked).
pub struct NewSubscription<'a> {
    pub user: UserId,
    pub endpoint: &'a str,
    pub p256dh: &'a str,
    pub auth: &'a str,
}

/// Subscribes a browser. The same endpoint again (the same browser subscribing anew, or
/// signed into by someone else) replaces its keys and owner: one row per endpoint.
pub async fn subscribe(db: &Writer, new: NewSubscription<'_>) -> sqlx::Result<()> {
    on!(db, |c| {
        sqlx::query(
            "INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth, created_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (endpoint) DO UPDATE
             SET user_id = excluded.user_id, p256dh = excluded.p256dh, auth = excluded.auth",
        )
        .bind(new.user)
        .bind(new.endpoint)
        .bind(new.p256dh)
        .bind(new.auth)
        .bind(Timestamp::now())
        .execute(c)
        .await
        .map(|r| r.rows_affected())
    })?;
    on!(db, |c| {
        sqlx::query(
            "DELETE FROM push_subscriptions WHERE user_id = $1 AND id NOT IN (
                 SELECT id FROM push_subscriptions WHERE user_id = $1 ORDER BY id DESC LIMIT $2)",
        )
        .bind(new.user)
        .bind(MAX_PER_USER)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Removes `user`'s subscription at `endpoint`; whether there was one.
pub async fn unsubscribe(db: &Writer, user: UserId, endpoint: &str) -> sqlx::Result<bool> {
    let done = on!(db, |c| {
        sqlx::query("DELETE FROM push_subscriptions WHERE user_id = $1 AND endpoint = $2")
            .bind(user)
            .bind(endpoint)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(done > 0)
}

/// Drops a subscription its push service said is gone (404 or 410).
pub async fn forget(db: &Writer, id: i64) -> sqlx::Result<()> {
    on!(db, |c| {
        sqlx::query("DELETE FROM push_subscriptions WHERE id = $1")
            .bind(id)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// A subscription of a member of the chat a message went to, with what decides whether
/// the message is pushed to it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Recipient {
    pub id: i64,
    pub user_id: UserId,
    pub username: String,
    /// The member's stored preferences (JSON).
    pub preferences: String,
    pub notify: NotifyLevel,
    pub kind: ChatKind,
    pub title: Option<String>,
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
}

/// Every subscription of the active members of `chat` but `sender` whose level for the
/// chat is not `none`: one query per message.
pub async fn recipients(db: &Pool, chat: ChatId, sender: UserId) -> sqlx::Result<Vec<Recipient>> {
    on!(db, |c| {
        sqlx::query_as(
            "SELECT s.id, s.user_id, u.username, u.preferences, cm.notify, ch.kind, ch.title,
                    s.endpoint, s.p256dh, s.auth
             FROM chat_members cm
             JOIN chats ch ON ch.id = cm.chat_id
             JOIN users u ON u.id = cm.user_id
             JOIN push_subscriptions s ON s.user_id = cm.user_id
             WHERE cm.chat_id = $1 AND cm.user_id <> $2 AND cm.notify <> 'none'
               AND u.is_active = TRUE
             ORDER BY s.id",
        )
        .bind(chat)
        .bind(sender)
        .fetch_all(c)
        .await
    })
}

/// Everyone with a subscription (the push task keeps this, see `refreshed`).
pub async fn subscribed(db: &Pool) -> sqlx::Result<HashSet<UserId>> {
    let ids: Vec<UserId> = on!(db, |c| {
        sqlx::query_scalar("SELECT DISTINCT user_id FROM push_subscriptions")
            .fetch_all(c)
            .await
    })?;
    Ok(ids.into_iter().collect())
}
