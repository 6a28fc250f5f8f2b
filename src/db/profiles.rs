//! Profiles: display names, email changes, preferences and avatars. A change that others
//! see (name, avatar) is a `chat` event in every chat the person is in, in the change's
//! transaction, so open tabs learn it from the chat object's `profiles`.

use super::backend::{on, Pool};
use super::{events, Writer};
use crate::model::{Role, Timestamp, UserId};
use crate::validate::{DisplayName, Email};

/// The name a person shows, as SQL over users `{u}`: their display name, else their
/// username.
pub(super) fn display_name_sql(u: &str) -> String {
    format!("COALESCE({u}.display_name, {u}.username)")
}

/// Their avatar's URL as SQL over users `{u}`, NULL without one: what [`avatar_url`] says.
pub(super) fn avatar_url_sql(u: &str) -> String {
    format!("('/avatars/' || {u}.id || '/' || {u}.avatar_version)")
}

/// The URL of `user`'s avatar at `version`: a new avatar is a new URL, so the old one may
/// be kept by browsers for a year.
pub fn avatar_url(user: UserId, version: &str) -> String {
    format!("/avatars/{user}/{version}")
}

/// A person's own profile, as `/account` and `GET /api/me` show it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Profile {
    pub id: UserId,
    pub username: String,
    pub email: String,
    pub role: Role,
    pub display_name: Option<String>,
    pub preferences: String,
    pub avatar_version: Option<String>,
}

impl Profile {
    pub fn shown_name(&self) -> &str {
        self.display_name.as_deref().unwrap_or(&self.username)
    }

    pub fn avatar_url(&self) -> Option<String> {
        self.avatar_version
            .as_deref()
            .map(|v| avatar_url(self.id, v))
    }
}

pub async fn profile(db: &Pool, id: UserId) -> sqlx::Result<Option<Profile>> {
    on!(db, |c| {
        sqlx::query_as(
            "SELECT id, username, email, role, display_name, preferences, avatar_version
             FROM users WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(c)
        .await
    })
}

/// What a profile change sets; `None` leaves a field as it is. `display_name:
/// Some(None)` goes back to showing the username.
#[derive(Debug, Default)]
pub struct Change<'a> {
    pub display_name: Option<Option<&'a DisplayName>>,
    pub email: Option<&'a Email>,
    /// Stored JSON (`profile::Preferences::to_stored`).
    pub preferences: Option<String>,
}

/// Applies `change` in one transaction; others hear of a new name at once.
pub async fn update(db: &Writer, id: UserId, change: &Change<'_>) -> sqlx::Result<()> {
    let mut tx = db.begin().await?;
    if let Some(name) = change.display_name {
        on!(&mut tx, |c| {
            sqlx::query("UPDATE users SET display_name = $1 WHERE id = $2")
                .bind(name.map(DisplayName::as_str))
                .bind(id)
                .execute(c)
                .await
                .map(drop)
        })?;
    }
    if let Some(email) = change.email {
        on!(&mut tx, |c| {
            sqlx::query("UPDATE users SET email = $1 WHERE id = $2")
                .bind(email.as_str())
                .bind(id)
                .execute(c)
                .await
                .map(drop)
        })?;
    }
    if let Some(preferences) = &change.preferences {
        on!(&mut tx, |c| {
            sqlx::query("UPDATE users SET preferences = $1 WHERE id = $2")
                .bind(preferences)
                .bind(id)
                .execute(c)
                .await
                .map(drop)
        })?;
    }
    if change.display_name.is_some() {
        events::users_changed(&mut tx, &[id.0], false).await?;
    }
    tx.commit().await
}

/// Stores `data` (already re-encoded) as `user`'s avatar under a new `version`.
pub async fn set_avatar(
    db: &Writer,
    user: UserId,
    content_type: &str,
    data: &[u8],
    version: &str,
) -> sqlx::Result<()> {
    let mut tx = db.begin().await?;
    on!(&mut tx, |c| {
        sqlx::query(
            "INSERT INTO avatars (user_id, content_type, data, updated_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (user_id) DO UPDATE SET content_type = excluded.content_type,
                 data = excluded.data, updated_at = excluded.updated_at",
        )
        .bind(user)
        .bind(content_type)
        .bind(data)
        .bind(Timestamp::now())
        .execute(c)
        .await
        .map(drop)
    })?;
    on!(&mut tx, |c| {
        sqlx::query("UPDATE users SET avatar_version = $1 WHERE id = $2")
            .bind(version)
            .bind(user)
            .execute(c)
            .await
            .map(drop)
    })?;
    events::users_changed(&mut tx, &[user.0], false).await?;
    tx.commit().await
}

/// Removes `user`'s avatar; `false` when there was none.
pub async fn remove_avatar(db: &Writer, user: UserId) -> sqlx::Result<bool> {
    let mut tx = db.begin().await?;
    let removed = on!(&mut tx, |c| {
        sqlx::query("DELETE FROM avatars WHERE user_id = $1")
            .bind(user)
            .execute(c)
            .await
            .map(|done| done.rows_affected() > 0)
    })?;
    on!(&mut tx, |c| {
        sqlx::query("UPDATE users SET avatar_version = NULL WHERE id = $1")
            .bind(user)
            .execute(c)
            .await
            .map(drop)
    })?;
    if removed {
        events::users_changed(&mut tx, &[user.0], false).await?;
    }
    tx.commit().await?;
    Ok(removed)
}

/// `user`'s avatar when `version` is the current one: its type and bytes.
pub async fn avatar(
    db: &Pool,
    user: UserId,
    version: &str,
) -> sqlx::Result<Option<(String, Vec<u8>)>> {
    on!(db, |c| {
        sqlx::query_as(
            "SELECT a.content_type, a.data FROM avatars a JOIN users u ON u.id = a.user_id
             WHERE a.user_id = $1 AND u.avatar_version = $2",
        )
        .bind(user)
        .bind(version)
        .fetch_optional(c)
        .await
    })
}
