//! What presence must know of chats and the team (see `live`): who shares a chat with
//! whom, and how many people the people list shows.

use super::backend::{on, Pool};

use crate::model::UserId;

/// The people `user` shares a direct chat with, or a group of at most `group_up_to`
/// members (active accounts only, `user` not included).
pub async fn contacts(db: &Pool, user: UserId, group_up_to: usize) -> sqlx::Result<Vec<UserId>> {
    on!(db, |c| sqlx::query_scalar(
        "SELECT DISTINCT other.user_id
         FROM chat_members mine
         JOIN chats c ON c.id = mine.chat_id
         JOIN chat_members other ON other.chat_id = mine.chat_id AND other.user_id <> mine.user_id
         JOIN users u ON u.id = other.user_id AND u.is_active
         WHERE mine.user_id = $1
           AND (c.kind = 'direct'
                OR (SELECT COUNT(*) FROM chat_members n WHERE n.chat_id = c.id) <= $2)",
    )
    .bind(user)
    .bind(i64::try_from(group_up_to).unwrap_or(i64::MAX))
    .fetch_all(c)
    .await)
}

/// Active accounts: everyone the people list shows.
pub async fn team(db: &Pool) -> sqlx::Result<usize> {
    let active: i64 = on!(db, |c| {
        sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE is_active")
            .fetch_one(c)
            .await
    })?;
    Ok(usize::try_from(active).unwrap_or(0))
}
