//! `/join/<code>`: the sign-up form of an invite link (`signup = invite`, the default, or
//! `open`). A link that does not work any more says so (410) and creates nothing.

use either::Either::Left;
use rocket::http::CookieJar;
use rocket::response::Redirect;
use rocket::{get, post, routes, Route, State};

use super::pages::{self, Answer, Fields, SignupForm, Via};
use super::setup::Setup;
use super::throttle::Throttle;
use super::{token, Client, CsrfToken, SignInForm, User};
use crate::compress::Compressed;
use crate::config::{Settings, Signup};
use crate::db::{invites, Db};
use crate::error::{Error, Result};

pub fn routes() -> Vec<Route> {
    routes![join_page, join]
}

/// The longest code worth looking up: codes Kanect makes are 22 characters.
const CODE_MAX: usize = 64;

fn require_invites(settings: &Settings) -> Result<()> {
    match settings.signup {
        Signup::Open | Signup::Invite => Ok(()),
        Signup::Closed => Err(Error::NotFound),
    }
}

/// Whether `code` names an invite that still works.
async fn check(db: &Db, code: &str) -> Result<()> {
    if code.len() > CODE_MAX {
        return Err(Error::InviteUnusable);
    }
    match invites::usable(&db.read, &token::hash(code)).await? {
        Some(_) => Ok(()),
        None => Err(Error::InviteUnusable),
    }
}

#[get("/join/<code>")]
async fn join_page(
    code: &str,
    user: Option<User>,
    csrf: CsrfToken,
    db: &Db,
    setup: &State<Setup>,
    settings: &State<Settings>,
    _compressed: Compressed,
) -> Result<Answer> {
    require_invites(settings)?;
    if setup.pending(db).await? {
        return Ok(Left(Redirect::to("/setup")));
    }
    check(db, code).await?;
    if user.is_some() {
        return Ok(Left(Redirect::to("/")));
    }
    Ok(either::Either::Right(pages::signup_page_for(
        Via::Invite(code),
        &csrf,
        Fields::from([("next", "/".to_owned())]),
        Fields::new(),
    )))
}

#[allow(clippy::too_many_arguments)]
#[post("/join/<code>", data = "<form>")]
async fn join(
    code: &str,
    form: SignInForm<SignupForm>,
    csrf: CsrfToken,
    db: &Db,
    cookies: &CookieJar<'_>,
    settings: &State<Settings>,
    client: Client,
    throttle: &State<Throttle>,
) -> Result<Answer> {
    require_invites(settings)?;
    check(db, code).await?;
    pages::sign_up(
        form.0,
        Via::Invite(code),
        &csrf,
        db,
        cookies,
        settings,
        &client,
        throttle,
    )
    .await
}
