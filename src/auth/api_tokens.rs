//! Personal API tokens: `/api/me/tokens` and the "API tokens" section of `/account`. A
//! token is shown once, when made; revoking one stops it at once (the session cache
//! forgets it).

use rocket::form::FromForm;
use rocket::http::Status;
use rocket::response::{Flash, Redirect};
use rocket::serde::json::Json;
use rocket::{delete, get, post, routes, Route, State};
use rocket_dyn_templates::Template;
use serde::{Deserialize, Serialize};

use crate::auth::account::{self, Fields};
use crate::auth::cache::Sessions;
use crate::auth::csrf::NoFields;
use crate::auth::{token, Csrf, CsrfForm, User};
use crate::config::Settings;
use crate::db::tokens::{self, Token};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::json::JsonBody;
use crate::model::Timestamp;
use crate::security::NoStore;
use crate::validate::{Invalid, TokenName};

pub fn api_routes() -> Vec<Route> {
    routes![list, create, revoke]
}

pub fn page_routes() -> Vec<Route> {
    routes![create_on_page, revoke_on_page]
}

/// A token just made: the only answer that carries `token`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Created {
    id: i64,
    name: String,
    token: String,
    created_at: Timestamp,
}

/// Makes a token named `raw_name` for `user`.
async fn make(db: &Db, user: &User, raw_name: &str) -> Result<Created> {
    let name = TokenName::parse(raw_name)?;
    let secret = token::new_api_token();
    let made = tokens::create(&db.write, user.id, name.as_str(), &token::hash(&secret))
        .await?
        .ok_or_else(|| {
            Invalid::new(
                "name",
                format!(
                    "You have {} tokens, the most one person may hold: revoke one first.",
                    tokens::MAX_PER_USER
                ),
            )
        })?;
    Ok(Created {
        id: made.id,
        name: made.name,
        token: secret,
        created_at: made.created_at,
    })
}

/// Revokes `user`'s token `id` (404 when it is not theirs) and forgets it at once.
async fn withdraw(db: &Db, sessions: &Sessions, user: &User, id: &str) -> Result<()> {
    let id: i64 = id.parse().map_err(|_| Error::NotFound)?;
    if !tokens::delete_own(&db.write, user.id, id).await? {
        return Err(Error::NotFound);
    }
    sessions.forget_token(id);
    Ok(())
}

#[utoipa::path(get, path = "/api/me/tokens", tag = "people", responses((status = 200, description = "The caller's tokens, never the tokens themselves", body = Vec<Token>), (status = "4XX", description = "The error shape: 400 malformed, 401 not signed in, 403 CSRF or role, 404 unknown or not a member, 413 too large, 422 invalid (with `field`), 429 throttled", body = crate::openapi::ErrorBody)))]
#[get("/me/tokens")]
async fn list(user: User, db: &Db) -> Result<Json<Vec<Token>>> {
    Ok(Json(tokens::for_user(&db.read, user.id).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct NewToken {
    name: String,
}

#[utoipa::path(post, path = "/api/me/tokens", tag = "people", request_body = NewToken, responses((status = 201, description = "The token, shown this once", body = Created), (status = "4XX", description = "The error shape: 400 malformed, 401 not signed in, 403 CSRF or role, 404 unknown or not a member, 413 too large, 422 invalid (with `field`), 429 throttled", body = crate::openapi::ErrorBody)))]
#[post("/me/tokens", data = "<body>")]
async fn create(
    user: User,
    _csrf: Csrf,
    db: &Db,
    body: JsonBody<NewToken>,
) -> Result<(Status, NoStore<Json<Created>>)> {
    let made = make(db, &user, &body.0.name).await?;
    Ok((Status::Created, NoStore::new(Json(made))))
}

#[utoipa::path(delete, path = "/api/me/tokens/{id}", tag = "people", params(("id" = i64, Path, description = "The token")), responses((status = 204, description = "Revoked: it stops at once"), (status = "4XX", description = "The error shape: 400 malformed, 401 not signed in, 403 CSRF or role, 404 unknown or not a member, 413 too large, 422 invalid (with `field`), 429 throttled", body = crate::openapi::ErrorBody)))]
#[delete("/me/tokens/<id>")]
async fn revoke(
    id: &str,
    user: User,
    _csrf: Csrf,
    db: &Db,
    sessions: &State<Sessions>,
) -> Result<Status> {
    withdraw(db, sessions, &user, id).await?;
    Ok(Status::NoContent)
}

#[derive(FromForm)]
struct TokenForm {
    name: String,
}

/// The account page again, the new token shown once (never through a redirect, which
/// would have to carry it in a cookie).
#[post("/account/tokens", data = "<form>")]
async fn create_on_page(
    form: CsrfForm<TokenForm>,
    user: User,
    db: &Db,
    settings: &State<Settings>,
) -> Result<NoStore<Template>> {
    let CsrfForm(TokenForm { name }) = form;
    let mut values = Fields::new();
    let mut errors = Fields::new();
    match make(db, &user, &name).await {
        Ok(made) => {
            values.insert("new_token", made.token);
            values.insert("new_token_name", made.name);
        }
        Err(Error::Invalid(invalid)) => {
            values.insert("token_name", name);
            errors.insert("token_name", invalid.message);
        }
        Err(e) => return Err(e),
    }
    Ok(NoStore::new(
        account::page(&user, db, settings, None, &values, &errors).await?,
    ))
}

#[post("/account/tokens/<id>/revoke", data = "<form>")]
async fn revoke_on_page(
    id: &str,
    form: CsrfForm<NoFields>,
    user: User,
    db: &Db,
    sessions: &State<Sessions>,
) -> Result<Flash<Redirect>> {
    let CsrfForm(NoFields) = form;
    withdraw(db, sessions, &user, id).await?;
    Ok(Flash::success(
        Redirect::to("/account"),
        "The token was revoked: it no longer works.",
    ))
}
