//! Users: accounts, sign-in data and presence timestamps.

use sqlx::SqliteConnection;

use super::backend::{on, ConnRef, Pool};
use super::{WriteTx, Writer};

use crate::model::{Role, Timestamp, UserId};
use crate::validate::{look_alike_key, username_key, Email, Username};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub email: String,
    pub role: Role,
    pub is_active: bool,
    pub created_at: Timestamp,
    pub last_login: Option<Timestamp>,
    pub last_seen: Option<Timestamp>,
}

/// What sign-in needs to check a password.
#[derive(Debug, sqlx::FromRow)]
pub struct Credentials {
    pub id: UserId,
    pub username: String,
    pub password_hash: String,
    pub is_active: bool,
    /// Bots never sign in, whatever their password column holds.
    pub is_bot: bool,
}

/// A person as the people list shows them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Person {
    pub id: UserId,
    pub username: String,
    /// Their display name, or their username when they chose none.
    pub display_name: String,
    pub avatar_url: Option<String>,
    pub last_seen: Option<Timestamp>,
    pub is_bot: bool,
}

/// The columns of a [`Person`] over `users`.
fn person_columns() -> String {
    format!(
        "id, username, {} AS display_name, {} AS avatar_url, last_seen, is_bot",
        super::profiles::display_name_sql("users"),
        super::profiles::avatar_url_sql("users"),
    )
}

pub struct NewUser<'a> {
    pub username: &'a Username,
    pub email: &'a Email,
    pub password_hash: &'a str,
    pub role: Role,
}

#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error("that username is already taken")]
    Taken,
    #[error("that username looks like one already taken")]
    LooksLike,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

pub async fn create(db: &Writer, user: NewUser<'_>) -> Result<UserId, CreateError> {
    let mut tx = db.begin().await?;
    let id = create_in(&mut tx, user).await;
    match id {
        Ok(id) => {
            tx.commit().await?;
            Ok(id)
        }
        Err(e) => {
            tx.rollback().await;
            Err(e)
        }
    }
}

/// The first user (the superuser of a first run), or `None` when someone exists already:
/// checked and inserted in one write transaction, which every instance on one database
/// takes in turn, so two setups at once never make two first users.
pub async fn create_first(db: &Writer, user: NewUser<'_>) -> Result<Option<UserId>, CreateError> {
    let mut tx = db.begin().await?;
    let someone: Option<i64> = on!(&mut tx, |c| {
        sqlx::query_scalar("SELECT id FROM users LIMIT 1")
            .fetch_optional(c)
            .await
    })?;
    if someone.is_some() {
        tx.rollback().await;
        return Ok(None);
    }
    match create_in(&mut tx, user).await {
        Ok(id) => {
            tx.commit().await?;
            Ok(Some(id))
        }
        Err(e) => {
            tx.rollback().await;
            Err(e)
        }
    }
}

/// `true` once any account exists (a first run is over).
pub async fn any(db: &Pool) -> sqlx::Result<bool> {
    let someone: Option<i64> = on!(db, |c| {
        sqlx::query_scalar("SELECT id FROM users LIMIT 1")
            .fetch_optional(c)
            .await
    })?;
    Ok(someone.is_some())
}

/// Inserts `user` inside a write transaction (an invite's use goes with it).
pub async fn create_in(tx: &mut WriteTx, user: NewUser<'_>) -> Result<UserId, CreateError> {
    let ids: Vec<UserId> = on!(tx, |c| {
        sqlx::query_scalar(
            "INSERT INTO users
                 (username, username_key, username_skeleton, email, password_hash, role,
                  created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(user.username.as_str())
        .bind(user.username.key())
        .bind(user.username.look_alike())
        .bind(user.email.as_str())
        .bind(user.password_hash)
        .bind(user.role)
        .bind(Timestamp::now())
        .fetch_all(c)
        .await
    })
    .map_err(|e| match e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            // SQLite names the column in its message, PostgreSQL the index.
            let index = d.constraint().unwrap_or_default();
            if d.message().contains("username_skeleton") || index.contains("skeleton") {
                CreateError::LooksLike
            } else {
                CreateError::Taken
            }
        }
        e => CreateError::Db(e),
    })?;
    Ok(ids.first().copied().ok_or(sqlx::Error::RowNotFound)?)
}

/// Why `name` cannot be had, if it cannot: someone has it (in any case or width), or a
/// name that looks like it. The insert still decides races; this names the problem early.
pub async fn clash(db: &Pool, name: &Username) -> sqlx::Result<Option<CreateError>> {
    let same: Option<bool> = on!(db, |c| {
        sqlx::query_scalar(
            "SELECT username_key = $1 FROM users WHERE username_key = $1 OR username_skeleton = $2
             ORDER BY 1 DESC LIMIT 1",
        )
        .bind(name.key())
        .bind(name.look_alike())
        .fetch_optional(c)
        .await
    })?;
    Ok(same.map(|same| {
        if same {
            CreateError::Taken
        } else {
            CreateError::LooksLike
        }
    }))
}

/// Brings names stored under older rules up to the current ones, at every opening of the
/// database: computes the look-alike skeleton (and the RFC 8265 key) that SQL cannot. The
/// older account keeps a contested key or skeleton; the newer one keeps working under its
/// old key, without a skeleton, and is reported at every start until someone renames it.
pub async fn settle_names(conn: &mut SqliteConnection) -> sqlx::Result<()> {
    let unsettled: Vec<(UserId, String)> = sqlx::query_as(
        "SELECT id, username FROM users WHERE username_skeleton IS NULL ORDER BY id",
    )
    .fetch_all(&mut *conn)
    .await?;
    if unsettled.is_empty() {
        return Ok(());
    }
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    for (id, name) in unsettled {
        let key = username_key(&name);
        let skeleton = look_alike_key(&key);
        let settled = settle_one(&mut tx, id, Some(&key), &skeleton).await?
            || settle_one(&mut tx, id, None, &skeleton).await?;
        if !settled {
            let older: Option<(UserId, String)> = sqlx::query_as(
                "SELECT id, username FROM users
                 WHERE (username_skeleton = $1 OR username_key = $2) AND id <> $3 ORDER BY id",
            )
            .bind(&skeleton)
            .bind(&key)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
            let (older_id, older_name) = older.unwrap_or((UserId(0), "?".to_owned()));
            tracing::warn!(
                "the usernames {name:?} (user {id}) and {older_name:?} (user {older_id}) look \
                 alike: both can still sign in, but rename one of them in the admin console"
            );
        }
    }
    tx.commit().await
}

/// Sets a user's skeleton (and key, when given); `false` when another user holds either.
async fn settle_one(
    tx: &mut SqliteConnection,
    id: UserId,
    key: Option<&str>,
    skeleton: &str,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE users SET username_key = COALESCE($1, username_key), username_skeleton = $2
         WHERE id = $3",
    )
    .bind(key)
    .bind(skeleton)
    .bind(id)
    .execute(&mut *tx)
    .await;
    match done {
        Ok(_) => Ok(true),
        Err(e) if super::is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

const USER_COLUMNS: &str =
    "id, username, email, role, is_active, created_at, last_login, last_seen";

pub async fn by_id(db: &Pool, id: UserId) -> sqlx::Result<Option<User>> {
    on!(db, |c| {
        sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
            .bind(id)
            .fetch_optional(c)
            .await
    })
}

/// Looks a user up by name, ignoring case (`key` is `validate::username_key`).
pub async fn by_username(db: &Pool, key: &str) -> sqlx::Result<Option<User>> {
    if !could_be_stored(key) {
        return Ok(None);
    }
    on!(db, |c| {
        sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE username_key = $1"
        ))
        .bind(key)
        .fetch_optional(c)
        .await
    })
}

/// No stored name holds a NUL, and PostgreSQL refuses to compare one: such a key names
/// nobody, on either database.
fn could_be_stored(key: &str) -> bool {
    !key.contains('\0')
}

pub async fn credentials(db: &Pool, key: &str) -> sqlx::Result<Option<Credentials>> {
    if !could_be_stored(key) {
        return Ok(None);
    }
    on!(db, |c| {
        sqlx::query_as(
            "SELECT id, username, password_hash, is_active, is_bot FROM users
             WHERE username_key = $1",
        )
        .bind(key)
        .fetch_optional(c)
        .await
    })
}

/// Active people, by name.
pub async fn active(db: &Pool) -> sqlx::Result<Vec<Person>> {
    on!(db, |c| {
        sqlx::query_as(&format!(
            "SELECT {} FROM users WHERE is_active ORDER BY username_key",
            person_columns()
        ))
        .fetch_all(c)
        .await
    })
}

/// Users (active or not) whose username keys are among `keys`: id, name and key.
pub async fn named(
    db: ConnRef<'_>,
    keys: &[String],
) -> sqlx::Result<Vec<(UserId, String, String)>> {
    let keys = serde_json::to_string(keys).unwrap_or_else(|_| "[]".to_owned());
    on!(db, |c, pg| {
        sqlx::query_as(if pg {
            "SELECT id, username, username_key FROM users
             WHERE username_key IN (SELECT json_array_elements_text($1::json))"
        } else {
            "SELECT id, username, username_key FROM users
             WHERE username_key IN (SELECT value FROM json_each($1))"
        })
        .bind(keys)
        .fetch_all(c)
        .await
    })
}

/// Active users named in `keys` (username keys); unknown names are simply absent.
pub async fn active_by_usernames(db: &Pool, keys: &[String]) -> sqlx::Result<Vec<Person>> {
    let keys = serde_json::to_string(keys).unwrap_or_else(|_| "[]".to_owned());
    on!(db, |c, pg| {
        sqlx::query_as(&format!(
            "SELECT {} FROM users WHERE is_active AND username_key IN {}",
            person_columns(),
            if pg {
                "(SELECT json_array_elements_text($1::json))"
            } else {
                "(SELECT value FROM json_each($1))"
            }
        ))
        .bind(keys)
        .fetch_all(c)
        .await
    })
}

pub async fn record_login(db: &Writer, id: UserId) -> sqlx::Result<()> {
    on!(db, |c| {
        sqlx::query("UPDATE users SET last_login = $1 WHERE id = $2")
            .bind(Timestamp::now())
            .bind(id)
            .execute(c)
            .await
            .map(drop)
    })
}

/// Sets a new password and ends every session of the user, in one transaction.
pub async fn set_password(db: &Writer, id: UserId, password_hash: &str) -> sqlx::Result<bool> {
    let mut tx = db.begin().await?;
    let changed = change_password(&mut tx, id, password_hash, None).await?;
    tx.commit().await?;
    Ok(changed)
}

/// Sets a new password within `tx` and ends every session of the user but `keep` (the
/// one of a person changing their own); `false` when there is no such user.
pub async fn change_password(
    tx: &mut WriteTx,
    id: UserId,
    password_hash: &str,
    keep: Option<i64>,
) -> sqlx::Result<bool> {
    let changed = on!(&mut *tx, |c| {
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(id)
            .execute(c)
            .await?
            .rows_affected()
    });
    super::sessions::delete_for_user(tx, id.0, keep).await?;
    Ok(changed == 1)
}

/// How many active superusers there are (the console keeps at least one).
pub async fn active_superusers(tx: &mut WriteTx) -> sqlx::Result<i64> {
    on!(tx, |c| {
        sqlx::query_scalar("SELECT count(*) FROM users WHERE role = 'superuser' AND is_active")
            .fetch_one(c)
            .await
    })
}

/// Writes presence timestamps kept in memory, all in one statement: the writer is shared
/// with sends, and a wave of people coming online makes them due at the same tick.
pub async fn store_last_seen(db: &Writer, seen: &[(UserId, Timestamp)]) -> sqlx::Result<()> {
    if seen.is_empty() {
        return Ok(());
    }
    let pairs: Vec<[i64; 2]> = seen.iter().map(|(id, at)| [id.0, at.0]).collect();
    let pairs = serde_json::to_string(&pairs).unwrap_or_else(|_| "[]".to_owned());
    on!(db, |c, pg| {
        sqlx::query(if pg {
            "UPDATE users SET last_seen = (j.value ->> 1)::bigint
             FROM json_array_elements($1::json) j WHERE users.id = (j.value ->> 0)::bigint"
        } else {
            "UPDATE users SET last_seen = j.value ->> 1
             FROM json_each($1) j WHERE users.id = j.value ->> 0"
        })
        .bind(pairs)
        .execute(c)
        .await
        .map(drop)
    })
}
