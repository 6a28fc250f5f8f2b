//! `/api/push`: the server's public key, and each browser's subscription.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{delete, get, post, routes, Route, State};
use serde::{Deserialize, Serialize};

use super::{endpoint, Push};
use crate::auth::{Csrf, User};
use crate::db::push::{self, NewSubscription};
use crate::db::Db;
use crate::error::Result;
use crate::json::JsonBody;
use crate::validate::Invalid;

pub fn routes() -> Vec<Route> {
    routes![key, subscribe, unsubscribe]
}

#[derive(Serialize, utoipa::ToSchema)]
struct Key<'a> {
    /// The VAPID public key, the `applicationServerKey` of `pushManager.subscribe`.
    public_key: &'a str,
}

#[utoipa::path(get, path = "/api/push/key", tag = "people", responses((status = 200, description = "The server's VAPID public key (base64url)", body = Key), (status = "4XX", description = "The error shape: 400 malformed, 401 not signed in, 403 CSRF or role, 404 unknown or not a member, 413 too large, 422 invalid (with `field`), 429 throttled", body = crate::openapi::ErrorBody)))]
#[get("/push/key")]
fn key(_user: User, push: &State<Push>) -> Json<Key<'_>> {
    Json(Key {
        public_key: push.public_key(),
    })
}

/// `PushSubscription.toJSON()`: `expirationTime` and anything else is ignored.
#[derive(Deserialize, utoipa::ToSchema)]
struct Subscription {
    endpoint: String,
    keys: Keys,
}

#[derive(Deserialize, utoipa::ToSchema)]
struct Keys {
    p256dh: String,
    auth: String,
}

/// Subscribes the caller's browser; the same endpoint again replaces it (204 each time).
#[utoipa::path(post, path = "/api/push/subscriptions", tag = "people", request_body = Subscription, responses((status = 204, description = "Subscribed: pushes reach this browser while no tab is open"), (status = "4XX", description = "The error shape: 400 malformed, 401 not signed in, 403 CSRF or role, 404 unknown or not a member, 413 too large, 422 invalid (with `field`), 429 throttled", body = crate::openapi::ErrorBody)))]
#[post("/push/subscriptions", data = "<body>")]
async fn subscribe(
    user: User,
    _csrf: Csrf,
    db: &Db,
    push: &State<Push>,
    body: JsonBody<Subscription>,
) -> Result<Status> {
    let Subscription { endpoint, keys } = body.0;
    let endpoint = endpoint::check(&endpoint, push.allow_private)?;
    let p256dh = checked_key(&keys.p256dh, "p256dh", 65)?;
    if p256::PublicKey::from_sec1_bytes(&p256dh).is_err() || p256dh.first() != Some(&4) {
        return Err(Invalid::new(
            "p256dh",
            "`p256dh` must be an uncompressed P-256 public key.",
        )
        .into());
    }
    let auth = checked_key(&keys.auth, "auth", 16)?;
    push::subscribe(
        &db.write,
        NewSubscription {
            user: user.id,
            endpoint: endpoint.as_str(),
            p256dh: &URL_SAFE_NO_PAD.encode(p256dh),
            auth: &URL_SAFE_NO_PAD.encode(auth),
        },
    )
    .await?;
    push.subscribed.mark();
    Ok(Status::NoContent)
}

/// `raw` decoded from base64url (padded or not) when it is `len` bytes long.
fn checked_key(raw: &str, field: &'static str, len: usize) -> Result<Vec<u8>, Invalid> {
    let wrong = || {
        Invalid::new(
            field,
            format!("`{field}` must be {len} bytes in base64url."),
        )
    };
    if raw.len() > 2 * len + 4 {
        return Err(wrong());
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(raw.trim_end_matches('='))
        .map_err(|_| wrong())?;
    if bytes.len() != len {
        return Err(wrong());
    }
    Ok(bytes)
}

#[derive(Deserialize, utoipa::ToSchema)]
struct Unsubscription {
    endpoint: String,
}

/// Removes the caller's subscription at `endpoint` (204 whether or not there was one: the
/// browser only wants it gone).
#[utoipa::path(delete, path = "/api/push/subscriptions", tag = "people", request_body = Unsubscription, responses((status = 204, description = "Unsubscribed"), (status = "4XX", description = "The error shape: 400 malformed, 401 not signed in, 403 CSRF or role, 404 unknown or not a member, 413 too large, 422 invalid (with `field`), 429 throttled", body = crate::openapi::ErrorBody)))]
#[delete("/push/subscriptions", data = "<body>")]
async fn unsubscribe(
    user: User,
    _csrf: Csrf,
    db: &Db,
    body: JsonBody<Unsubscription>,
) -> Result<Status> {
    let endpoint = &body.0.endpoint;
    if endpoint.len() > endpoint::MAX_LEN {
        return Err(Invalid::new("endpoint", "The endpoint is too long.").into());
    }
    // Stored as the URL parser wrote it.
    let endpoint = url::Url::parse(endpoint).map_or_else(|_| endpoint.clone(), String::from);
    push::unsubscribe(&db.write, user.id, &endpoint).await?;
    Ok(Status::NoContent)
}
