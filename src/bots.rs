//! The bot URL: `POST /bots/<bot key>/chats/<id>/messages` posts as the bot, through the
//! same send queue as anyone's message (stored, then events and live polls). The key is
//! the whole credential, so the URL needs no cookie, CSRF token or header: one `curl`
//! line in a CI job. A wrong key, and a chat the bot is not in, are the same 404.

use rocket::data::{self, Data, FromData, ToByteUnit};
use rocket::http::Status;
use rocket::request::Request;
use rocket::serde::json::Json;
use rocket::{post, routes, Route, State};
use serde::Deserialize;

use crate::auth::token;
use crate::chat::messages::not_sent;
use crate::chat::{chat_id, require_member};
use crate::db::bots::{self, Bot};
use crate::db::messages::Message;
use crate::db::send_queue::{SendQueue, Sender};
use crate::db::Db;
use crate::error::{fail, Error, Result};
use crate::json::JsonBody;
use crate::model::ChatId;
use crate::push::Push;
use crate::validate::MessageBody;

pub fn routes() -> Vec<Route> {
    routes![post_message]
}

/// The most a bot's body may be before it is refused (413): a 4000-character message in
/// any script fits many times.
const BODY_LIMIT_KIB: u64 = 64;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BotMessage {
    body: String,
}

/// The message text: JSON `{"body"}` when the request says JSON, else the body as text
/// (`text/plain`, or whatever `curl -d` sends).
struct Text(String);

#[rocket::async_trait]
impl<'r> FromData<'r> for Text {
    type Error = Error;

    async fn from_data(req: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self, Error> {
        if req.content_type().is_some_and(|ct| ct.is_json()) {
            return JsonBody::<BotMessage>::from_data(req, data)
                .await
                .map(|json| Text(json.0.body));
        }
        match data.open(BODY_LIMIT_KIB.kibibytes()).into_string().await {
            Ok(text) if text.is_complete() => {
                rocket::outcome::Outcome::Success(Text(text.into_inner()))
            }
            Ok(_) => fail(req, Error::TooLarge),
            Err(_) => fail(
                req,
                Error::BadRequest("Send the message as UTF-8 text, or JSON {\"body\"}.".into()),
            ),
        }
    }
}

/// The bot whose key this is; any other key, well-formed or not, names nothing.
async fn bot_of(db: &Db, key: &str) -> Result<Bot> {
    if !token::is_bot_key(key) {
        return Err(Error::NotFound);
    }
    // The look-up is by the key's SHA-256 through a unique index: its timing tells
    // nothing about any key's bytes.
    bots::by_key(&db.read, &token::hash(key))
        .await?
        .ok_or(Error::NotFound)
}

#[post("/bots/<key>/chats/<id>/messages", data = "<text>")]
async fn post_message(
    key: &str,
    id: Result<ChatId, &str>,
    db: &Db,
    queue: &State<SendQueue>,
    push: &State<Push>,
    text: Text,
) -> Result<(Status, Json<Message>)> {
    let bot = bot_of(db, key).await?;
    let id = chat_id(id)?;
    let body = match MessageBody::parse(&text.0) {
        Ok(body) => body,
        Err(invalid) => {
            // As for anyone: outside the chat, not even the text's fault is told.
            require_member(db, id, bot.id).await?;
            return Err(invalid.into());
        }
    };
    let sender = Sender {
        id: bot.id,
        username: &bot.username,
        display_name: &bot.display_name,
        avatar_url: bot.avatar_url.as_deref(),
    };
    let sent = queue
        .send(id, sender, &body, Vec::new())
        .await
        .map_err(not_sent)?;
    // People hear of it as of anyone's message; bots (webhooks) do not, so that bots
    // cannot keep each other talking.
    push.message_stored(bot.id, &sent);
    Ok((Status::Created, Json(sent.message)))
}
