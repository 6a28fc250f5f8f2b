//! CSRF synchronizer tokens. A signed-in session has its own token (stored with the
//! session); before sign-in the token lives in an encrypted cookie, so the sign-in and
//! sign-up forms are protected too. Pages carry the token in a meta tag and in every
//! form; unsafe API calls send it in `X-CSRF-Token`.
//!
//! A signed-in request acts with the session's authority, so it must carry the session's
//! token: the anonymous token is not enough, since whoever can plant the anonymous cookie
//! (a sibling subdomain, a man in the middle of plain HTTP) also knows its token. Only
//! the sign-in and sign-up forms (`SignInForm`) take the anonymous token from a browser
//! with a session: they replace the session and never act with it.

use rocket::data::{self, Data, FromData};
use rocket::form::{self, DataField, Form, FromForm, ValueField};
use rocket::http::{SameSite, Status};
use rocket::outcome::Outcome;
use rocket::request::{self, FromRequest, Request};

use crate::auth::client::Client;
use crate::auth::{cookies, token, User};
use crate::error::{fail, Error};

pub const HEADER: &str = "X-CSRF-Token";
pub const FIELD: &str = "csrf_token";

/// The token to put into the page being rendered, masked (see `token::masked`).
pub struct CsrfToken(pub String);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for CsrfToken {
    type Error = Error;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, Error> {
        match User::current(req).await {
            Ok(Some(user)) => return Outcome::Success(CsrfToken(user.csrf_token())),
            Ok(None) => {}
            Err(e) => return fail(req, e),
        }
        let client = Client::of(req);
        let jar = req.cookies();
        if let Some(cookie) = jar.get_private(cookies::CSRF.on(client)) {
            return Outcome::Success(CsrfToken(token::masked(cookie.value())));
        }
        let token = token::random_base64(32);
        jar.add_private(cookies::build(
            cookies::CSRF,
            token.clone(),
            client,
            SameSite::Strict,
        ));
        Outcome::Success(CsrfToken(token::masked(&token)))
    }
}

/// What a request may do with its token, and so which tokens it may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// Anything a signed-in person does: the session's token, or the anonymous one when
    /// there is no session.
    Session,
    /// Signing in or up: the anonymous token, or the session's (the form is shown again
    /// to a browser with a session after a wrong password, carrying the session's token).
    SignIn,
}

/// `true` when `presented` is a token this browser was given for `scope`.
async fn accepted(req: &Request<'_>, presented: Option<&str>, scope: Scope) -> Result<bool, Error> {
    let user = User::current(req).await?;
    // An API token comes in a header no browser adds by itself, so a cross-site request
    // cannot carry it: it needs no CSRF token (the cookie does).
    if user.is_some_and(|user| user.bearer.is_some()) {
        return Ok(true);
    }
    let Some(presented) = presented.filter(|p| !p.is_empty()) else {
        return Ok(false);
    };
    if let Some(user) = user {
        if token::same_masked(presented, &user.csrf_secret) {
            return Ok(true);
        }
        if scope == Scope::Session {
            return Ok(false);
        }
    }
    Ok(req
        .cookies()
        .get_private(cookies::CSRF.on(Client::of(req)))
        .is_some_and(|cookie| token::same_masked(presented, cookie.value())))
}

/// Guard for unsafe API calls: the `X-CSRF-Token` header must carry the session's token.
pub struct Csrf;

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Csrf {
    type Error = Error;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, Error> {
        match accepted(req, req.headers().get_one(HEADER), Scope::Session).await {
            Ok(true) => Outcome::Success(Csrf),
            Ok(false) => fail(req, Error::Csrf),
            Err(e) => fail(req, e),
        }
    }
}

/// A submitted HTML form whose `csrf_token` field was checked before the handler runs.
pub struct CsrfForm<T>(pub T);

/// `T` plus the `csrf_token` field, which `T` itself need not declare.
struct WithToken<T> {
    token: Option<String>,
    form: T,
}

#[rocket::async_trait]
impl<'r, T: FromForm<'r>> FromForm<'r> for WithToken<T> {
    type Context = (Option<String>, T::Context);

    fn init(opts: form::Options) -> Self::Context {
        (None, T::init(opts))
    }

    fn push_value(ctxt: &mut Self::Context, field: ValueField<'r>) {
        if field.name.key_lossy().as_str() == FIELD {
            ctxt.0 = Some(field.value.to_owned());
        } else {
            T::push_value(&mut ctxt.1, field);
        }
    }

    async fn push_data(ctxt: &mut Self::Context, field: DataField<'r, '_>) {
        T::push_data(&mut ctxt.1, field).await;
    }

    fn finalize(ctxt: Self::Context) -> form::Result<'r, Self> {
        Ok(WithToken {
            token: ctxt.0,
            form: T::finalize(ctxt.1)?,
        })
    }
}

/// A submitted sign-in or sign-up form, its `csrf_token` checked as `Scope::SignIn`.
pub struct SignInForm<T>(pub T);

/// Reads a form and checks its token for `scope`.
async fn checked_form<'r, T: FromForm<'r> + Send + 'r>(
    req: &'r Request<'_>,
    data: Data<'r>,
    scope: Scope,
) -> data::Outcome<'r, T, Error> {
    let parsed = match Form::<WithToken<T>>::from_data(req, data).await {
        Outcome::Success(form) => form.into_inner(),
        Outcome::Error((Status::PayloadTooLarge, _)) => return fail(req, Error::TooLarge),
        Outcome::Error((_, errors)) => {
            let detail = errors
                .iter()
                .next()
                .map(|e| e.to_string())
                .unwrap_or_default();
            return fail(
                req,
                Error::BadRequest(format!("The form could not be read. {detail}")),
            );
        }
        Outcome::Forward(_) => {
            return fail(req, Error::BadRequest("Expected a form submission.".into()))
        }
    };
    match accepted(req, parsed.token.as_deref(), scope).await {
        Ok(true) => Outcome::Success(parsed.form),
        Ok(false) => fail(req, Error::Csrf),
        Err(e) => fail(req, e),
    }
}

#[rocket::async_trait]
impl<'r, T: FromForm<'r> + Send + 'r> FromData<'r> for CsrfForm<T> {
    type Error = Error;

    async fn from_data(req: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self, Error> {
        checked_form(req, data, Scope::Session).await.map(CsrfForm)
    }
}

#[rocket::async_trait]
impl<'r, T: FromForm<'r> + Send + 'r> FromData<'r> for SignInForm<T> {
    type Error = Error;

    async fn from_data(req: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self, Error> {
        checked_form(req, data, Scope::SignIn).await.map(SignInForm)
    }
}

/// A form that carries nothing but its CSRF token (sign-out, say).
pub struct NoFields;

#[rocket::async_trait]
impl<'r> FromForm<'r> for NoFields {
    type Context = ();

    fn init(_: form::Options) -> Self::Context {}

    fn push_value(_: &mut Self::Context, _: ValueField<'r>) {}

    async fn push_data(_: &mut Self::Context, _: DataField<'r, '_>) {}

    fn finalize(_: Self::Context) -> form::Result<'r, Self> {
        Ok(NoFields)
    }
}
