//! `/api/invites`: invite links that members make from the chat ("Invite people") when
//! `members_can_invite`, and staff always. Only a hash of each code is kept, so the link
//! is in the answer that makes it and nowhere else: whoever makes it copies it then.

use rocket::http::uri::Host;
use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{delete, get, post, routes, Route, State};
use serde::{Deserialize, Serialize};

use super::{token, Client, Csrf, User};
use crate::config::{Settings, Signup};
use crate::db::{invites, Db};
use crate::error::{Error, Result};
use crate::json::JsonBody;
use crate::model::Timestamp;
use crate::validate::Invalid;

pub fn routes() -> Vec<Route> {
    routes![create, list, revoke]
}

/// An invite lasts a week unless its maker says otherwise; at most a month.
pub const DEFAULT_DAYS: u32 = 7;
pub const MAX_DAYS: u32 = 30;
pub const MAX_USES: i64 = 1_000;
pub const NOTE_MAX: usize = 200;
/// `GET /api/invites` shows the newest this many.
const LIST_MAX: i64 = 100;

/// 128 random bits, URL-safe.
pub fn new_code() -> String {
    token::random_base64(16)
}

/// An invite as the API shows it; `code` and `url` only in the answer that made it.
#[derive(utoipa::ToSchema, Serialize)]
pub struct Shown {
    #[serde(flatten)]
    invite: invites::Invite,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    /// Still works: not revoked, not expired, not used up.
    usable: bool,
}

impl Shown {
    fn of(invite: invites::Invite) -> Self {
        let usable = !invite.revoked
            && invite.expires_at > Timestamp::now()
            && invite.max_uses.is_none_or(|max| invite.uses < max);
        Shown {
            invite,
            code: None,
            path: None,
            url: None,
            usable,
        }
    }
}

#[derive(utoipa::ToSchema, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewInvite {
    note: Option<String>,
    expires_in_days: Option<u32>,
    max_uses: Option<i64>,
}

/// Staff always; members when `members_can_invite`; nobody when sign-up is closed.
fn may_invite(user: &User, settings: &Settings) -> Result<()> {
    if settings.signup == Signup::Closed {
        return Err(Error::Forbidden(
            "Sign-up is closed on this server, so invite links would not work.",
        ));
    }
    if user.role.is_staff() || settings.members_can_invite {
        Ok(())
    } else {
        Err(Error::Forbidden("Only staff can invite people here."))
    }
}

fn parse_note(raw: Option<String>) -> Result<String, Invalid> {
    let note = raw.unwrap_or_default();
    let note = note.trim();
    if note.chars().count() > NOTE_MAX {
        return Err(Invalid::new(
            "note",
            format!("A note can be at most {NOTE_MAX} characters."),
        ));
    }
    if note.chars().any(char::is_control) {
        return Err(Invalid::new(
            "note",
            "A note cannot hold control characters.",
        ));
    }
    Ok(note.to_owned())
}

#[utoipa::path(post, path = "/api/invites", tag = "people", request_body = NewInvite, responses((status = 201, description = "The invite, with its code shown once", body = Shown), (status = "4XX", description = "The error shape: 400 malformed, 401 not signed in, 403 CSRF or role, 404 unknown or not a member, 413 too large, 422 invalid (with `field`), 429 throttled", body = crate::openapi::ErrorBody)))]
#[post("/invites", data = "<body>")]
async fn create(
    user: User,
    _csrf: Csrf,
    db: &Db,
    settings: &State<Settings>,
    client: Client,
    host: Option<&Host<'_>>,
    body: JsonBody<NewInvite>,
) -> Result<(Status, Json<Shown>)> {
    may_invite(&user, settings)?;
    let NewInvite {
        note,
        expires_in_days,
        max_uses,
    } = body.0;
    let note = parse_note(note)?;
    let days = expires_in_days.unwrap_or(DEFAULT_DAYS);
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(Invalid::new(
            "expires_in_days",
            format!("An invite lasts 1 to {MAX_DAYS} days."),
        )
        .into());
    }
    if max_uses.is_some_and(|uses| !(1..=MAX_USES).contains(&uses)) {
        return Err(Invalid::new(
            "max_uses",
            format!("Allow 1 to {MAX_USES} uses, or leave it empty for no limit."),
        )
        .into());
    }
    let code = new_code();
    let invite = invites::create(
        &db.write,
        invites::NewInvite {
            code_hash: &token::hash(&code),
            note: &note,
            created_by: user.id,
            expires_at: Timestamp::now().plus_days(days),
            max_uses,
        },
    )
    .await?;
    tracing::info!(invite = invite.id, user_id = %user.id, "invite link made");
    let path = format!("/join/{code}");
    // The browser builds the link from its own address too; this is for API clients.
    let url = host.map(|host| {
        let scheme = if client.secure { "https" } else { "http" };
        format!("{scheme}://{host}{path}")
    });
    Ok((
        Status::Created,
        Json(Shown {
            code: Some(code),
            path: Some(path),
            url,
            ..Shown::of(invite)
        }),
    ))
}

#[utoipa::path(get, path = "/api/invites", tag = "people", responses((status = 200, description = "The invites the caller made", body = Vec<Shown>), (status = "4XX", description = "The error shape: 400 malformed, 401 not signed in, 403 CSRF or role, 404 unknown or not a member, 413 too large, 422 invalid (with `field`), 429 throttled", body = crate::openapi::ErrorBody)))]
#[get("/invites")]
async fn list(user: User, db: &Db) -> Result<Json<Vec<Shown>>> {
    let made = invites::made_by(&db.read, user.id, LIST_MAX).await?;
    Ok(Json(made.into_iter().map(Shown::of).collect()))
}

/// Revokes one of the caller's invites (staff: anyone's). 204, also when it was revoked.
#[utoipa::path(delete, path = "/api/invites/{id}", tag = "people", params(("id" = i64, Path, description = "The invite")), responses((status = 204, description = "Revoked"), (status = "4XX", description = "The error shape: 400 malformed, 401 not signed in, 403 CSRF or role, 404 unknown or not a member, 413 too large, 422 invalid (with `field`), 429 throttled", body = crate::openapi::ErrorBody)))]
#[delete("/invites/<id>")]
async fn revoke(id: i64, user: User, _csrf: Csrf, db: &Db) -> Result<Status> {
    let invite = invites::by_id(&db.read, id).await?.ok_or(Error::NotFound)?;
    if invite.created_by != Some(user.id) && !user.role.is_staff() {
        return Err(Error::NotFound);
    }
    invites::revoke(&db.write, id).await?;
    tracing::info!(invite = id, user_id = %user.id, "invite link revoked");
    Ok(Status::NoContent)
}
