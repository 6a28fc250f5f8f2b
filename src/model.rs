//! The product's vocabulary: ids, roles, kinds and timestamps shared by every layer.

use serde::{Deserialize, Serialize, Serializer};
use time::OffsetDateTime;

macro_rules! id_type {
    ($($name:ident),*) => {$(
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        #[derive(Serialize, Deserialize, sqlx::Type, utoipa::ToSchema)]
        #[serde(transparent)]
        #[sqlx(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    )*};
}

id_type!(UserId, ChatId, MessageId, FileId);

/// Ids in URLs: a positive whole number, or nothing at all (the route answers 404).
macro_rules! id_param {
    ($($name:ident),*) => {$(
        impl<'a> rocket::request::FromParam<'a> for $name {
            type Error = &'a str;

            fn from_param(param: &'a str) -> Result<Self, Self::Error> {
                match param.parse::<i64>() {
                    Ok(id) if id > 0 => Ok($name(id)),
                    _ => Err(param),
                }
            }
        }
    )*};
}

id_param!(ChatId, MessageId, FileId);

/// A text column restricted to a fixed set of words, stored and shown as those words.
macro_rules! word_enum {
    ($name:ident { $($variant:ident = $word:literal),* $(,)? }) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type)]
        #[derive(utoipa::ToSchema)]
        #[serde(rename_all = "lowercase")]
        #[sqlx(type_name = "TEXT", rename_all = "lowercase")]
        pub enum $name { $($variant),* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $word),* }
            }

            pub fn parse(word: &str) -> Option<Self> {
                match word { $($word => Some($name::$variant),)* _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

word_enum!(Role { Member = "member", Staff = "staff", Superuser = "superuser" });
word_enum!(ChatKind { Direct = "direct", Group = "group" });
word_enum!(ChatStatus { Open = "open", Closed = "closed" });
// What of a chat notifies one member: everything, messages that mention them, or nothing.
word_enum!(NotifyLevel { All = "all", Mentions = "mentions", None = "none" });

impl Role {
    pub fn is_staff(self) -> bool {
        matches!(self, Role::Staff | Role::Superuser)
    }
}

/// A moment in UTC, stored as Unix milliseconds and shown as RFC 3339.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, sqlx::Type, utoipa::ToSchema,
)]
#[schema(value_type = String, format = DateTime)]
#[sqlx(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn now() -> Self {
        Timestamp((OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64)
    }

    pub fn plus_days(self, days: u32) -> Self {
        Timestamp(self.0 + i64::from(days) * 86_400_000)
    }

    pub fn plus_millis(self, millis: i64) -> Self {
        Timestamp(self.0 + millis)
    }

    /// As pages show it to people: "2026-11-24 09:15 UTC".
    pub fn to_display(self) -> String {
        let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000_000)
            .ok()
            .and_then(|t| t.format(&format).ok())
            .unwrap_or_default()
    }

    pub fn to_rfc3339(self) -> String {
        let nanos = i128::from(self.0) * 1_000_000;
        let format = time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        );
        OffsetDateTime::from_unix_timestamp_nanos(nanos)
            .ok()
            .and_then(|t| t.format(&format).ok())
            .unwrap_or_default()
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_rfc3339())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_show_as_rfc3339_utc() {
        assert_eq!(Timestamp(0).to_rfc3339(), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            Timestamp(1_764_000_000_123).to_rfc3339(),
            "2025-11-24T16:00:00.123Z"
        );
    }

    #[test]
    fn words_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(*role));
        }
        assert_eq!(Role::parse("admin"), None);
    }
}
