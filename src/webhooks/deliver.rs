//! One webhook delivery: the message and its chat as JSON, signed with the bot key
//! (`X-Kanect-Signature: sha256=<hex HMAC-SHA256>`), POSTed with a 7 s deadline and up to
//! three retries with back-off, every try logged; a 2xx answer with text (or JSON
//! `{"body"}`) is posted as the bot's reply.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use reqwest::header::{HeaderValue, CONTENT_TYPE};
use reqwest::redirect;
use serde::Deserialize;
use sha2::Sha256;
use tokio::sync::Semaphore;
use url::Url;

use super::KeySeal;
use crate::db::chats::{self, Chat};
use crate::db::messages::Message;
use crate::db::send_queue::{SendQueue, Sender};
use crate::db::webhooks::{self, Attempt, Outcome, Target};
use crate::db::Pools;
use crate::outbound::{self, names_private_host, PrivateAddress};
use crate::push::Push;
use crate::validate::MessageBody;

/// The whole of one try: connecting, sending, and reading the answer.
const TIMEOUT: Duration = Duration::from_secs(7);
/// The first try and three retries.
const TRIES: usize = 4;
/// The wait before each retry.
const BACK_OFF: [Duration; TRIES - 1] = [
    Duration::from_secs(1),
    Duration::from_secs(4),
    Duration::from_secs(16),
];
/// Redirects followed, each to a public address (unless private ones are allowed).
const REDIRECTS: usize = 3;
/// The most of an answer that is read: a reply is one message (4,000 characters); more
/// is not read, so a 10 MB answer costs 64 KiB.
const ANSWER_MAX: usize = 64 * 1024;
/// Tries on the wire at once.
const SENDING: usize = 16;

/// What a webhook POSTs: the message, and the chat as the bot sees it in the API.
#[derive(serde::Serialize)]
struct Payload<'a> {
    message: &'a Message,
    chat: &'a Chat,
}

#[derive(Deserialize)]
struct Reply {
    body: String,
}

pub struct Deliverer {
    client: reqwest::Client,
    allow_private: bool,
    seal: Arc<KeySeal>,
    db: Pools,
    queue: SendQueue,
    push: Push,
    sending: Semaphore,
}

/// What one try came to.
struct Tried {
    outcome: Outcome,
    status: Option<u16>,
    detail: String,
    /// Worth another try (a timeout, a failed connection, 5xx, 408, 429).
    again: bool,
    /// The text to post as the bot (2xx answers only).
    reply: Option<String>,
}

impl Tried {
    fn refused(detail: impl Into<String>) -> Tried {
        Tried {
            outcome: Outcome::Refused,
            status: None,
            detail: detail.into(),
            again: false,
            reply: None,
        }
    }

    fn failed(status: Option<u16>, detail: String, again: bool) -> Tried {
        Tried {
            outcome: Outcome::Failed,
            status,
            detail,
            again,
            reply: None,
        }
    }

    fn delivered(status: u16, detail: String, reply: Option<String>) -> Tried {
        Tried {
            outcome: Outcome::Delivered,
            status: Some(status),
            detail,
            again: false,
            reply,
        }
    }
}

impl Deliverer {
    pub fn new(
        allow_private: bool,
        seal: Arc<KeySeal>,
        db: Pools,
        queue: SendQueue,
        push: Push,
    ) -> reqwest::Result<Deliverer> {
        Ok(Deliverer {
            client: outbound::client(allow_private, TIMEOUT, redirects(allow_private))?,
            allow_private,
            seal,
            db,
            queue,
            push,
            sending: Semaphore::new(SENDING),
        })
    }

    /// Delivers `message` to `target`, trying again after a failure that may pass.
    pub async fn deliver(&self, target: &Target, message: &Message) {
        let key = target
            .key_sealed
            .as_deref()
            .and_then(|sealed| self.seal.open(target.bot_id.0, sealed));
        let Some(key) = key else {
            let why = "The bot has no key that can sign (none yet, or one made under another \
                       secret_key): make a new one on its Bot key page.";
            self.log(target, message, 1, &Tried::refused(why), Duration::ZERO)
                .await;
            return;
        };
        let chat = match chats::one_for_member(&self.db.read, target.bot_id, message.chat_id).await
        {
            Ok(Some(chat)) => chat,
            // The bot left the chat meanwhile.
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, "webhook: cannot read the chat");
                return;
            }
        };
        let body = match serde_json::to_vec(&Payload {
            message,
            chat: &chat,
        }) {
            Ok(body) => body,
            Err(e) => {
                tracing::warn!(error = %e, "webhook: cannot write the payload");
                return;
            }
        };
        let url = match self.address(&target.webhook_url) {
            Ok(url) => url,
            Err(why) => {
                self.log(target, message, 1, &Tried::refused(why), Duration::ZERO)
                    .await;
                return;
            }
        };
        let Ok(signature) = HeaderValue::from_str(&format!("sha256={}", sign(&key, &body))) else {
            return;
        };
        let body = bytes::Bytes::from(body);
        for try_number in 1..=TRIES {
            let started = Instant::now();
            let mut tried = match self.sending.acquire().await {
                Ok(_permit) => self.try_once(&url, &body, &signature).await,
                Err(_) => return,
            };
            let took = started.elapsed();
            if let Some(text) = tried.reply.take() {
                self.post_reply(target, message, &text, &mut tried).await;
            }
            self.log(target, message, try_number, &tried, took).await;
            match BACK_OFF.get(try_number - 1) {
                Some(wait) if tried.again => tokio::time::sleep(*wait).await,
                _ => return,
            }
        }
    }

    /// The stored URL, checked again at send time: it may have been saved while private
    /// addresses were allowed. Names are checked as they resolve, by the client's resolver.
    fn address(&self, raw: &str) -> Result<Url, &'static str> {
        let url = Url::parse(raw).map_err(|_| "The webhook URL does not parse.")?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err("The webhook URL is not http or https.");
        }
        if !self.allow_private && names_private_host(&url) {
            return Err("The address is private or loopback.");
        }
        Ok(url)
    }

    async fn try_once(&self, url: &Url, body: &bytes::Bytes, signature: &HeaderValue) -> Tried {
        let sent = self
            .client
            .post(url.clone())
            .header(CONTENT_TYPE, "application/json")
            .header("X-Kanect-Signature", signature.clone())
            .body(body.clone())
            .send()
            .await;
        let mut answer = match sent {
            Ok(answer) => answer,
            Err(e) => return failed_to_send(&e),
        };
        let status = answer.status();
        let code = status.as_u16();
        if !status.is_success() {
            let again = status.is_server_error() || matches!(code, 408 | 429);
            return Tried::failed(Some(code), format!("Answered {status}."), again);
        }
        let json = answer
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.trim_start().starts_with("application/json"));
        let mut read = Vec::new();
        loop {
            match answer.chunk().await {
                Ok(Some(chunk)) if read.len() + chunk.len() > ANSWER_MAX => {
                    let detail = format!(
                        "Answered {status} with over {} KiB: not posted.",
                        ANSWER_MAX / 1024
                    );
                    return Tried::delivered(code, detail, None);
                }
                Ok(Some(chunk)) => read.extend_from_slice(&chunk),
                Ok(None) => break,
                Err(e) => {
                    let detail = format!(
                        "Answered {status}, but the answer broke off: {}",
                        causes(&e)
                    );
                    return Tried::delivered(code, detail, None);
                }
            }
        }
        let text = if json {
            match serde_json::from_slice::<Reply>(&read) {
                Ok(reply) => reply.body,
                Err(_) => {
                    let detail = format!(
                        "Answered {status} with JSON that has no \"body\" text: not posted."
                    );
                    return Tried::delivered(code, detail, None);
                }
            }
        } else {
            match String::from_utf8(read) {
                Ok(text) => text,
                Err(_) => {
                    let detail =
                        format!("Answered {status} with text that is not UTF-8: not posted.");
                    return Tried::delivered(code, detail, None);
                }
            }
        };
        let reply = (!text.trim().is_empty()).then_some(text);
        Tried::delivered(code, format!("Answered {status}."), reply)
    }

    /// Posts `text` as the bot's reply in the message's chat, as the bot URL would.
    async fn post_reply(&self, target: &Target, message: &Message, text: &str, tried: &mut Tried) {
        let body = match MessageBody::parse(text) {
            Ok(body) => body,
            Err(invalid) => {
                tried.detail = format!(
                    "{} The reply was not posted: {}",
                    tried.detail, invalid.message
                );
                return;
            }
        };
        let sender = Sender {
            id: target.bot_id,
            username: &target.username,
            display_name: &target.display_name,
            avatar_url: target.avatar_url.as_deref(),
        };
        match self
            .queue
            .send(message.chat_id, sender, &body, Vec::new())
            .await
        {
            Ok(sent) => {
                self.push.message_stored(target.bot_id, &sent);
                tried.outcome = Outcome::Replied;
                tried.detail = format!(
                    "{} Posted the reply as message {}.",
                    tried.detail, sent.message.id
                );
            }
            Err(e) => {
                tried.detail = format!("{} The reply could not be posted: {e}.", tried.detail);
            }
        }
    }

    async fn log(
        &self,
        target: &Target,
        message: &Message,
        try_number: usize,
        tried: &Tried,
        took: Duration,
    ) {
        let attempt = Attempt {
            bot: target.bot_id,
            message: message.id,
            try_number: i32::try_from(try_number).unwrap_or(i32::MAX),
            url: &target.webhook_url,
            outcome: tried.outcome,
            status: tried.status,
            detail: &tried.detail,
            duration_ms: i64::try_from(took.as_millis()).unwrap_or(i64::MAX),
        };
        if let Err(e) = webhooks::log(&self.db.write, &attempt).await {
            tracing::warn!(error = %e, "webhook: cannot log a try");
        }
        if tried.outcome != Outcome::Delivered && tried.outcome != Outcome::Replied {
            tracing::info!(bot = %target.username, message = %message.id, try_number, detail = %tried.detail, "webhook not delivered");
        }
    }
}

/// A try that got no answer: refused by the address rules, or failed (worth retrying).
fn failed_to_send(e: &reqwest::Error) -> Tried {
    if outbound::is_refused(e) {
        return Tried::refused(if e.is_redirect() {
            "Redirected to a private or loopback address: not followed."
        } else {
            "The address resolves to private or loopback addresses only."
        });
    }
    if e.is_redirect() {
        let detail = format!("Too many redirects (more than {REDIRECTS}).");
        return Tried::failed(None, detail, false);
    }
    let detail = if e.is_timeout() {
        format!("No answer within {} s.", TIMEOUT.as_secs())
    } else {
        format!("Could not send: {}", causes(e))
    };
    Tried::failed(None, detail, true)
}

/// An error and its causes on one line.
fn causes(e: &(dyn std::error::Error + 'static)) -> String {
    let mut line = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        line.push_str(": ");
        line.push_str(&c.to_string());
        cause = c.source();
    }
    line.chars().take(300).collect()
}

/// Redirects to public http(s) addresses only (names are checked by the resolver when
/// the client connects), at most `REDIRECTS` of them.
fn redirects(allow_private: bool) -> redirect::Policy {
    redirect::Policy::custom(move |attempt| {
        if !may_redirect_to(attempt.url(), allow_private) {
            attempt.error(PrivateAddress)
        } else if attempt.previous().len() > REDIRECTS {
            attempt.error(TooManyRedirects)
        } else {
            attempt.follow()
        }
    })
}

fn may_redirect_to(url: &Url, allow_private: bool) -> bool {
    matches!(url.scheme(), "http" | "https") && (allow_private || !names_private_host(url))
}

#[derive(Debug, thiserror::Error)]
#[error("too many redirects")]
struct TooManyRedirects;

/// The hex HMAC-SHA256 of `body` with `key`.
pub fn sign(key: &str, body: &[u8]) -> String {
    // HMAC takes a key of any length: `new_from_slice` cannot fail.
    match Hmac::<Sha256>::new_from_slice(key.as_bytes()) {
        Ok(mut mac) => {
            mac.update(body);
            hex::encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_go_to_public_http_addresses_only() {
        let url = |s: &str| Url::parse(s).expect("a URL");
        assert!(may_redirect_to(&url("https://ci.example.com/hook"), false));
        for private in [
            "http://127.0.0.1/",
            "http://localhost:8080/",
            "http://10.0.0.1/",
            "http://[fe80::1]/",
            "http://169.254.169.254/latest/meta-data",
        ] {
            assert!(!may_redirect_to(&url(private), false), "{private}");
            assert!(
                may_redirect_to(&url(private), true),
                "{private} when allowed"
            );
        }
        assert!(!may_redirect_to(&url("file:///etc/passwd"), true));
        assert!(!may_redirect_to(&url("gopher://ci.example.com/"), true));
    }

    #[test]
    fn the_signature_is_rfc_4231s_hmac_sha256() {
        // RFC 4231, test case 2.
        assert_eq!(
            sign("Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
