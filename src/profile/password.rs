//! A person changing their own password: the current one first, checked under the
//! sign-in throttle (a stolen session must not become a way to guess it), then the new
//! one under sign-up's policy. Every other session of theirs ends; this one stays.

use crate::auth::cache::Sessions;
use crate::auth::throttle::{Key, Throttle};
use crate::auth::{password, Client, User};
use crate::db::{users, Db};
use crate::error::{Error, Result};
use crate::validate::{username_key, Invalid, NewPassword};

/// What the form or the API sent.
pub struct Typed<'a> {
    pub current: &'a str,
    pub password1: &'a str,
    pub password2: &'a str,
}

/// Changes `user`'s password, or says what is wrong: `Ok(Err(..))` with the field errors
/// (a wrong `current` alone, else the new password's), `Err(Throttled)` after too many
/// wrong ones.
pub async fn change(
    db: &Db,
    throttle: &Throttle,
    sessions: &Sessions,
    client: &Client,
    user: &User,
    typed: Typed<'_>,
) -> Result<Result<(), Vec<Invalid>>> {
    if typed.current.is_empty() {
        return Ok(Err(vec![Invalid::new(
            "current",
            "Enter your current password.",
        )]));
    }
    // The keys a sign-in from an unknown browser counts against.
    let mut keys = vec![Key::Account(username_key(&user.username))];
    keys.extend(client.address.map(Key::Address));
    let attempt = match throttle.begin(db, keys).await? {
        Ok(attempt) => attempt,
        Err(retry_after_s) => return Err(Error::Throttled { retry_after_s }),
    };
    let stored = users::credentials(&db.read, &username_key(&user.username))
        .await?
        .filter(|found| found.id == user.id)
        .map(|found| found.password_hash);
    if !password::verify(typed.current.to_owned(), stored).await? {
        // The failure stays counted.
        return Ok(Err(vec![Invalid::new(
            "current",
            "Your current password was entered incorrectly.",
        )]));
    }
    throttle.refund(db, attempt).await?;
    let new = match NewPassword::parse(typed.password1, typed.password2, &user.username) {
        Ok(new) => new,
        Err(invalid) => return Ok(Err(invalid)),
    };
    let hash = password::hash(new.as_str().to_owned()).await?;
    let mut tx = db.write.begin().await?;
    users::change_password(&mut tx, user.id, &hash, Some(user.session_id)).await?;
    tx.commit().await?;
    // Cached sessions go too (this one is read again from the table); long polls of the
    // others notice and end.
    sessions.forget_user(user.id);
    tracing::info!(user = %user.username, "changed their password");
    Ok(Ok(()))
}
