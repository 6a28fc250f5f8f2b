//! The chat home: `/`, its deep links `/chats/<id>` and `/u/<username>`.

use rocket::response::Redirect;
use rocket::{get, routes, Route, State};
use rocket_dyn_templates::{context, Template};

use super::{chat_id, require_member};
use crate::auth::{CsrfToken, User};
use crate::compress::Compressed;
use crate::config::Settings;
use crate::db::{chats, users, Db};
use crate::error::{Error, Result};
use crate::model::ChatId;
use crate::validate::username_key;

pub fn routes() -> Vec<Route> {
    routes![home, chat, direct]
}

/// How long the page's long poll asks to wait; the server caps it at `poll_wait_max_s`.
const POLL_WAIT_S: u64 = 25;

fn page(user: &User, csrf: &CsrfToken, settings: &Settings, open: Option<ChatId>) -> Template {
    Template::render(
        "chat/home.html",
        context! {
            csrf_token: &csrf.0,
            theme: user.preferences.theme.as_str(),
            me: context! {
                id: user.id,
                username: &user.username,
                display_name: &user.display_name,
                avatar_url: &user.avatar_url,
                role: user.role,
                enter_sends: user.preferences.enter_sends,
                notifications: user.preferences.notifications,
                sound: user.preferences.sound,
            },
            open_chat_id: open,
            poll_wait: POLL_WAIT_S.min(settings.poll_wait_max_s.max(1)),
            // The composer refuses a file past it before sending a byte.
            max_upload_mb: settings.max_upload_mb,
            // The same rule as `POST /api/invites`.
            can_invite: settings.signup != crate::config::Signup::Closed
                && (user.role.is_staff() || settings.members_can_invite),
        },
    )
}

#[get("/")]
fn home(
    user: User,
    csrf: CsrfToken,
    settings: &State<Settings>,
    _compressed: Compressed,
) -> Template {
    page(&user, &csrf, settings, None)
}

#[get("/chats/<id>")]
async fn chat(
    id: Result<ChatId, &str>,
    user: User,
    csrf: CsrfToken,
    db: &Db,
    settings: &State<Settings>,
    _compressed: Compressed,
) -> Result<Template> {
    let id = chat_id(id)?;
    require_member(db, id, user.id).await?;
    Ok(page(&user, &csrf, settings, Some(id)))
}

/// Opens (creating if needed) the direct chat with `username`.
#[get("/u/<username>")]
async fn direct(username: &str, user: User, db: &Db) -> Result<Redirect> {
    let other = users::by_username(&db.read, &username_key(username))
        .await?
        .filter(|other| other.is_active)
        .ok_or(Error::NotFound)?;
    if other.id == user.id {
        return Ok(Redirect::to("/"));
    }
    let (id, _) = chats::open_direct(&db.write, user.id, other.id).await?;
    Ok(Redirect::to(format!("/chats/{id}")))
}
