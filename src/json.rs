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
                let path = e.path().to_string();
                let inner = e.into_inner();
                if inner.classify() == serde_json::error::Category::Data {
                    let message = inner.to_string();
                    let field = known_field(&path)
                        .or_else(|| message.split('`').nth(1).and_then(known_field))
                        .unwrap_or("__all__");
                    fail(req, Error::Invalid(Invalid::new(field, message)))
                } else {
                    fail(req, Error::BadRequest(format!("Malformed JSON: {inner}")))
                }
            }
        }
    }
}

/// The field names the API accepts, so an error can name one without echoing input.
fn known_field(path: &str) -> Option<&'static str> {
    const FIELDS: &[&str] = &["body", "with", "title", "members", "archived", "up_to"];
    let top = path.split(['.', '[']).next().unwrap_or_default();
    FIELDS.iter().find(|f| **f == top).copied()
}
