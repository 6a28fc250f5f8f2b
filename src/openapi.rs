//! `/api/openapi.json`: the JSON API described in OpenAPI 3.1. Each operation is declared
//! beside its handler (`#[utoipa::path]`) and every body's schema is derived from the type
//! that is serialized, so the document changes with the code; tests/openapi.rs fails when
//! a mounted `/api` route is missing from it or it names one that is not mounted.

use rocket::serde::json::Json;
use rocket::{get, routes, Route};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::{auth, chat, profile, push};

pub fn routes() -> Vec<Route> {
    routes![document]
}

#[utoipa::path(get, path = "/api/openapi.json", tag = "meta", security(()), responses((status = 200, description = "This document (OpenAPI 3.1)", content_type = "application/json")))]
#[get("/openapi.json")]
fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(api())
}

/// The document, as `/api/openapi.json` serves it.
pub fn api() -> utoipa::openapi::OpenApi {
    Document::openapi()
}

/// Every error: a stable `code`, a message for people, and for a 422 the field at fault.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ErrorBody {
    error: ErrorDetail,
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct ErrorDetail {
    /// `bad_request`, `unauthorized`, `forbidden`, `not_found`, `too_large`, `invalid`,
    /// `throttled`, `cursor_expired`, ...
    code: String,
    message: String,
    /// Set on a 422: the request field that is wrong (`__all__` for the whole body).
    #[schema(required = false)]
    field: Option<String>,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Kanect",
        description = "The JSON API of a Kanect server. A script sends a personal API token \
            (`Authorization: Bearer kanect_...`, made on /account); a browser sends its \
            session cookie, with the page's CSRF token in `X-CSRF-Token` on every unsafe \
            request."
    ),
    paths(
        document,
        profile::api::me,
        profile::api::update,
        profile::api::change_password,
        profile::api::put_avatar,
        profile::api::delete_avatar,
        chat::api::people,
        chat::api::list,
        chat::api::create,
        chat::api::update,
        chat::messages::history,
        chat::messages::send,
        chat::messages::edit,
        chat::messages::delete,
        chat::attachments::create,
        chat::reactions::add,
        chat::reactions::remove,
        chat::members::add,
        chat::members::remove,
        chat::activity::read,
        chat::activity::typing,
        chat::updates::updates,
        chat::search::search,
        auth::strength::strength,
        auth::invites::create,
        auth::invites::list,
        auth::invites::revoke,
        auth::api_tokens::list,
        auth::api_tokens::create,
        auth::api_tokens::revoke,
        push::api::key,
        push::api::subscribe,
        push::api::unsubscribe,
    ),
    components(schemas(ErrorBody)),
    modifiers(&Security),
    security(("bearer" = []), ("session" = [], "csrf" = []))
)]
struct Document;

/// How a caller authenticates: a personal API token, or the session cookie with the CSRF
/// header on unsafe methods.
struct Security;

impl Modify for Security {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A personal API token: no cookie, no CSRF header."))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "kanect_session",
                "The session cookie a sign-in sets (`__Host-` prefixed over HTTPS).",
            ))),
        );
        components.add_security_scheme(
            "csrf",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-CSRF-Token",
                "The page's `<meta name=\"csrf-token\">`; needed on POST, PUT, PATCH, DELETE.",
            ))),
        );
    }
}
