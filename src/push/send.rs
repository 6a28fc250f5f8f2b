//! Sending one push: the payload encrypted to the browser's keys (RFC 8291, aes128gcm, by
//! `web-push-native`), signed for with VAPID (RFC 8292), POSTed with a TTL and a timeout.
//! A push service answering 404 or 410 says the subscription is gone: it is dropped.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use web_push_native::{Auth, WebPushBuilder};

use super::vapid::Vapid;
use crate::db::push::{self, Recipient};
use crate::db::Writer;

/// The whole of one push, connecting included.
pub const TIMEOUT: Duration = Duration::from_secs(5);
/// How long a push service keeps a push for a browser that is offline: a chat message
/// older than this is news no more.
const TTL: Duration = Duration::from_secs(12 * 3600);

/// The HTTP client for pushes: no redirects (a push service has no reason to send one,
/// and following it would let an endpoint point Kanect elsewhere), public addresses only
/// unless private ones are allowed.
pub fn client(allow_private: bool) -> reqwest::Result<reqwest::Client> {
    crate::outbound::client(allow_private, TIMEOUT, reqwest::redirect::Policy::none())
}

pub struct Sender {
    pub client: reqwest::Client,
    pub vapid: std::sync::Arc<Vapid>,
    pub db: Writer,
}

impl Sender {
    /// Sends `payload` to `to`, logging what goes wrong (a push is never retried).
    pub async fn deliver(&self, to: &Recipient, payload: &str) {
        let request = match self.request(to, payload) {
            Ok(request) => request,
            Err(why) => {
                tracing::warn!(subscription = to.id, "web push not sent: {why}");
                return;
            }
        };
        match self.client.execute(request).await {
            Ok(answer) if answer.status().is_success() => {}
            Ok(answer) if matches!(answer.status().as_u16(), 404 | 410) => {
                if let Err(e) = push::forget(&self.db, to.id).await {
                    tracing::warn!(error = %e, "web push: cannot drop a gone subscription");
                }
            }
            Ok(answer) => {
                tracing::warn!(subscription = to.id, status = %answer.status(), "web push refused");
            }
            Err(e) => tracing::warn!(subscription = to.id, error = %e, "web push failed"),
        }
    }

    fn request(&self, to: &Recipient, payload: &str) -> Result<reqwest::Request, String> {
        let endpoint: http::Uri = to.endpoint.parse().map_err(|_| "a bad endpoint")?;
        let origin = match (endpoint.scheme_str(), endpoint.authority()) {
            (Some(scheme), Some(authority)) => format!("{scheme}://{}", authority.as_str()),
            _ => return Err("an endpoint without an origin".into()),
        };
        let (public, auth) = keys(to).ok_or("stored keys that do not parse")?;
        let mut request = WebPushBuilder::new(endpoint, public, auth)
            .with_valid_duration(TTL)
            .build(payload.as_bytes())
            .map_err(|e| e.to_string())?;
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let authorization = self.vapid.authorization(&origin, now);
        let value = http::HeaderValue::from_str(&authorization).map_err(|e| e.to_string())?;
        request
            .headers_mut()
            .insert(http::header::AUTHORIZATION, value);
        reqwest::Request::try_from(request).map_err(|e| e.to_string())
    }
}

/// The browser's public key and auth secret, as `api` checked them when it subscribed.
fn keys(to: &Recipient) -> Option<(p256::PublicKey, Auth)> {
    let public = URL_SAFE_NO_PAD.decode(&to.p256dh).ok()?;
    let public = p256::PublicKey::from_sec1_bytes(&public).ok()?;
    let auth = URL_SAFE_NO_PAD.decode(&to.auth).ok()?;
    let auth: [u8; 16] = auth.try_into().ok()?;
    Some((public, Auth::from(auth)))
}
