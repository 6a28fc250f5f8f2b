//! The admin console under /admin/, modelled on Django admin. Six models (users, chats,
//! messages, files, invites, the log) are descriptions (`describe::Model`); every page is generic
//! over them.

pub mod describe;
pub mod guard;
pub mod params;
pub mod rules;
pub mod value;

mod bot_avatar;
mod bot_key;
mod changelist;
mod chats;
mod delete;
mod facets;
mod files;
mod form;
mod history;
mod index;
mod invites;
pub(crate) mod list;
mod log;
mod messages;
mod page;
mod password;
mod users;
mod webhook_attempts;

use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::uri::Origin;
use rocket::{Data, Request, Route};

use crate::error::{Error, Result};
pub use describe::Model;
pub use guard::{Staff, Superuser};

/// Every model of the console, in the index's order.
pub static MODELS: &[&Model] = &[
    &users::USERS,
    &chats::CHATS,
    &messages::MESSAGES,
    &files::FILES,
    &invites::INVITES,
    &webhook_attempts::WEBHOOK_ATTEMPTS,
    &log::LOG,
];

pub fn model(slug: &str) -> Result<&'static Model> {
    MODELS
        .iter()
        .copied()
        .find(|m| m.slug == slug)
        .ok_or(Error::NotFound)
}

/// An object id from the URL: a positive whole number, or nothing here.
pub fn object_id(raw: &str) -> Result<i64> {
    match raw.parse::<i64>() {
        Ok(id) if id > 0 => Ok(id),
        _ => Err(Error::NotFound),
    }
}

pub fn routes() -> Vec<Route> {
    [
        index::routes(),
        changelist::routes(),
        form::routes(),
        delete::routes(),
        history::routes(),
        password::routes(),
        bot_key::routes(),
        bot_avatar::routes(),
        files::routes(),
    ]
    .concat()
}

/// Console URLs work with or without their trailing slash, as Django's: the slash is
/// dropped before routing.
pub struct TrailingSlash;

#[rocket::async_trait]
impl Fairing for TrailingSlash {
    fn info(&self) -> Info {
        Info {
            name: "admin trailing slash",
            kind: Kind::Request,
        }
    }

    async fn on_request(&self, req: &mut Request<'_>, _: &mut Data<'_>) {
        let path = req.uri().path().as_str();
        if !(path.starts_with("/admin/") && path.ends_with('/')) {
            return;
        }
        let trimmed = path.trim_end_matches('/');
        let uri = match req.uri().query() {
            Some(query) => format!("{trimmed}?{query}"),
            None => trimmed.to_owned(),
        };
        if let Ok(uri) = Origin::parse_owned(uri) {
            req.set_uri(uri);
        }
    }
}
