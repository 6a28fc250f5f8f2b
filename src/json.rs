//! JSON request bodies with the contract's errors: 400 when it is not JSON, 413 when too
//! large, 422 (naming the field) when it is JSON of the wrong shape.

use rocket::data::{self, Data, FromData, ToByteUnit};
use rocket::request::Request;
use serde::de::DeserializeOwned;

use crate::error::{fail, Error};
use crate::validate::Invalid;

pub struct JsonBody<T>(pub T);

/// Default when Rocket.toml sets no `limits.json`: a 4000-character message fits many times.
const DEFAULT_LIMIT_KIB: u64 = 64;

#[rocket::async_trait]
impl<'r, T: DeserializeOwned> FromData<'r> for JsonBody<T> {
    type Error = Error;

    async fn from_data(req: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self, Error> {
        if !req.content_type().is_some_and(|ct| ct.is_json()) {
            return fail(
                req,
                Error::BadRequest("Send a JSON body with Content-Type: application/json.".into()),
            );
        }
        let limit = req
            .limits()
            .get("json")
            .unwrap_or(DEFAULT_LIMIT_KIB.kibibytes());
        let text = match data.open(limit).into_string().await {
            Ok(text) if text.is_complete() => text.into_inner(),
            Ok(_) => return fail(req, Error::TooLarge),
            Err(e) => {
                return fail(
                    req,
                    Error::BadRequest(format!("Could not read the body: {e}")),
                )
            }
        };
        // Syntax first: a body that is not JSON at all is 400 even when its first bytes
        // already have the wrong type (`[1, 2` would otherwise be a 422 about the `1`).
        if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(&text) {
            return fail(req, Error::BadRequest(format!("Malformed JSON: {e}")));
        }
        let de = &mut serde_json::Deserializer::from_str(&text);
        match serde_path_to_error::deserialize(&mut *de) {
            Ok(value) => match de.end() {
                Ok(()) => rocket::outcome::Outcome::Success(JsonBody(value)),
                Err(e) => fail(req, Error::BadRequest(format!("Malformed JSON: {e}"))),
            },
            Err(e) => {
                let path = e.path().clone();
                let inner = e.into_inner();
                if inner.classify() == serde_json::error::Category::Data {
                    fail(req, Error::Invalid(rejection(&text, &path, &inner)))
                } else {
                    fail(req, Error::BadRequest(format!("Malformed JSON: {inner}")))
                }
            }
        }
    }
}

/// What is wrong with a body of the wrong shape, told by its shape alone: the field, what
/// it must be and what kind of value (and how long) it was, never the value itself. The
/// message is the 422's, and the only account of the body that reaches a log (Rocket logs
/// a failed data guard's error at warn level).
fn rejection(text: &str, path: &serde_path_to_error::Path, error: &serde_json::Error) -> Invalid {
    let serde_says = error.to_string();
    if let Some(missing) = serde_says.strip_prefix("missing field `") {
        let name = missing.split('`').next().and_then(known_field);
        return match name {
            Some(name) => Invalid::new(name, format!("`{name}` is required.")),
            None => Invalid::new("__all__", "A field is missing."),
        };
    }
    let mut shown = Vec::new();
    let mut value = serde_json::from_str::<serde_json::Value>(text).ok();
    for segment in path.iter() {
        use serde_path_to_error::Segment;
        let (part, next) = match (segment, &value) {
            (Segment::Seq { index }, Some(serde_json::Value::Array(items))) => {
                (format!("[{index}]"), items.get(*index).cloned())
            }
            (Segment::Map { key }, Some(serde_json::Value::Object(fields))) => {
                let name = known_field(key).map_or_else(|| ".…".to_owned(), |n| format!(".{n}"));
                (name, fields.get(key).cloned())
            }
            _ => (".…".to_owned(), None),
        };
        shown.push(part);
        value = next;
    }
    let field = path
        .iter()
        .next()
        .and_then(|segment| match segment {
            serde_path_to_error::Segment::Map { key } => known_field(key),
            _ => None,
        })
        .unwrap_or("__all__");
    let place = match shown.concat().trim_start_matches('.') {
        "" => "The request body".to_owned(),
        place => format!("`{place}`"),
    };
    // serde lists what it takes after "expected": our own names, never the input.
    let takes = serde_says
        .split(" at line ")
        .next()
        .and_then(|bare| bare.split_once(", expected "))
        .map(|(_, takes)| takes);
    if serde_says.starts_with("unknown field") {
        let takes = takes.map_or_else(String::new, |t| format!(": use {t}"));
        return Invalid::new(
            field,
            format!("{place} is not a field Kanect knows{takes}."),
        );
    }
    if serde_says.starts_with("unknown variant") {
        let takes = takes.unwrap_or("another value");
        return Invalid::new(field, format!("{place} must be {takes}."));
    }
    let expected = expected_kind(&serde_says);
    let found = value.as_ref().map_or("something else".to_owned(), kind_of);
    Invalid::new(field, format!("{place} must be {expected}, not {found}."))
}

/// The kind serde expected, in the API's words (serde's own text is not repeated: some of
/// its messages quote the value).
fn expected_kind(serde_says: &str) -> &'static str {
    let expected = serde_says.rsplit(", expected ").next().unwrap_or_default();
    if expected.contains("bool") {
        "true or false"
    } else if ["i64", "u64", "i32", "u32", "integer"]
        .iter()
        .any(|t| expected.contains(t))
    {
        "a whole number"
    } else if expected.contains("string") {
        "a string"
    } else if expected.contains("sequence") {
        "a list"
    } else if expected.contains("struct") || expected.contains("map") {
        "an object"
    } else {
        "of another kind"
    }
}

/// A JSON value's kind and size, never its content.
fn kind_of(value: &serde_json::Value) -> String {
    use serde_json::Value;
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(_) => "true or false".to_owned(),
        Value::Number(_) => "a number".to_owned(),
        Value::String(s) => format!("a string of {} characters", s.chars().count()),
        Value::Array(items) => format!("a list of {} items", items.len()),
        Value::Object(fields) => format!("an object with {} fields", fields.len()),
    }
}

/// The field names the API accepts, so an error can name one without echoing input.
fn known_field(path: &str) -> Option<&'static str> {
    const FIELDS: &[&str] = &[
        "body",
        "with",
        "title",
        "members",
        "archived",
        "notify",
        "up_to",
        "username",
        "password",
        "display_name",
        "email",
        "preferences",
        "current",
        "password1",
        "password2",
        "name",
        // Inside `preferences`.
        "notifications",
        "sound",
        "theme",
        "enter_sends",
        // A push subscription (`keys` holds `p256dh` and `auth`).
        "endpoint",
        "keys",
        "p256dh",
        "auth",
    ];
    let top = path.split(['.', '[']).next().unwrap_or_default();
    FIELDS.iter().find(|f| **f == top).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Shape {
        body: String,
        archived: Option<bool>,
        up_to: Option<i64>,
        members: Option<Vec<String>>,
    }

    /// The message for `text` when parsed as `Shape`.
    fn rejected(text: &str) -> Invalid {
        let de = &mut serde_json::Deserializer::from_str(text);
        match serde_path_to_error::deserialize::<_, Shape>(de) {
            Ok(shape) => panic!("{text} was accepted as {shape:?}"),
            Err(e) => rejection(text, e.path(), e.inner()),
        }
    }

    #[test]
    fn a_rejected_body_is_described_by_its_shape_never_its_values() {
        let secret = "the-launch-code-is-swordfish";
        for (text, field, message) in [
            (
                format!(r#"{{"body": "x", "archived": "{secret}"}}"#),
                "archived",
                "`archived` must be true or false, not a string of 28 characters.",
            ),
            (
                r#"{"body": 31415926535}"#.to_owned(),
                "body",
                "`body` must be a string, not a number.",
            ),
            (
                format!(r#"{{"body": "x", "up_to": "{secret}"}}"#),
                "up_to",
                "`up_to` must be a whole number, not a string of 28 characters.",
            ),
            (
                r#"{"body": "x", "up_to": 99999999999999999999}"#.to_owned(),
                "up_to",
                "`up_to` must be a whole number, not a number.",
            ),
            (
                format!(r#"{{"body": "x", "members": ["bob", 27182818, "{secret}"]}}"#),
                "members",
                "`members[1]` must be a string, not a number.",
            ),
            (
                format!(r#"{{"body": ["{secret}"]}}"#),
                "body",
                "`body` must be a string, not a list of 1 items.",
            ),
            (
                format!(r#"["{secret}"]"#),
                "__all__",
                "The request body must be an object, not a list of 1 items.",
            ),
            (
                r#"{"archived": true}"#.to_owned(),
                "body",
                "`body` is required.",
            ),
        ] {
            let invalid = rejected(&text);
            assert_eq!(
                (invalid.field, invalid.message.as_str()),
                (field, message),
                "{text}"
            );
            for value in [secret, "swordfish", "31415926535", "27182818", "9999999999"] {
                assert!(!invalid.message.contains(value), "{text}: {invalid:?}");
            }
        }
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Strict {
        preferences: Option<crate::profile::preferences::Change>,
    }

    #[test]
    fn unknown_keys_and_words_name_what_is_taken_never_what_was_sent() {
        let secret = "swordfish";
        for (text, message) in [
            (
                format!(r#"{{"preferences": {{"{secret}": true}}}}"#),
                "`preferences.…` is not a field Kanect knows: use one of `notifications`, \
                 `sound`, `theme`, `enter_sends`.",
            ),
            (
                format!(r#"{{"preferences": {{"theme": "{secret}"}}}}"#),
                "`preferences.theme` must be one of `system`, `light`, `dark`.",
            ),
            (
                format!(r#"{{"{secret}": 1}}"#),
                "`…` is not a field Kanect knows: use `preferences`.",
            ),
        ] {
            let de = &mut serde_json::Deserializer::from_str(&text);
            let error = match serde_path_to_error::deserialize::<_, Strict>(de) {
                Ok(strict) => panic!("{text} was accepted as {strict:?}"),
                Err(e) => rejection(&text, e.path(), e.inner()),
            };
            assert_eq!(error.message, message, "{text}");
            assert!(!error.message.contains(secret));
        }
    }
}
