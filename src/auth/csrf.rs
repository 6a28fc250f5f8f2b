//! CSRF synchronizer tokens. A signed-in session has its own token (stored with the
//! session); before sign-in the token lives in an encrypted cookie, so the sign-in and
//! sign-up forms are protected too. Pages carry the token in a meta tag and in every
//! form; unsafe API calls send it in `X-CSRF-Token`.

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

/// The token to put into the page being rendered.
pub struct CsrfToken(pub String);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for CsrfToken {
    type Error = Error;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, Error> {
        match User::current(req).await {
            Ok(Some(user)) => return Outcome::Success(CsrfToken(user.csrf_token.clone())),
            Ok(None) => {}
            Err(e) => return fail(req, e),
        }
        let client = Client::of(req);
        let jar = req.cookies();
        if let Some(cookie) = jar.get_private(cookies::CSRF.on(client)) {
            return Outcome::Success(CsrfToken(cookie.value().to_owned()));
        }
        let token = token::random_base64(32);
        jar.add_private(cookies::build(
            cookies::CSRF,
            token.clone(),
            client,
            SameSite::Strict,
        ));
        Outcome::Success(CsrfToken(token))
    }
}

/// `true` when `presented` is a token this browser was given.
async fn accepted(req: &Request<'_>, presented: Option<&str>) -> Result<bool, Error> {
    let Some(presented) = presented.filter(|p| !p.is_empty()) else {
        return Ok(false);
    };
    if let Some(user) = User::current(req).await? {
        if token::same(presented, &user.csrf_token) {
            return Ok(true);
        }
    }
    Ok(req
        .cookies()
        .get_private(cookies::CSRF.on(Client::of(req)))
        .is_some_and(|cookie| token::same(presented, cookie.value())))
}

/// Guard for unsafe API calls: the `X-CSRF-Token` header must carry the session's token.
pub struct Csrf;

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Csrf {
    type Error = Error;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, Error> {
        match accepted(req, req.headers().get_one(HEADER)).await {
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

#[rocket::async_trait]
impl<'r, T: FromForm<'r> + Send + 'r> FromData<'r> for CsrfForm<T> {
    type Error = Error;

    async fn from_data(req: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self, Error> {
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
        match accepted(req, parsed.token.as_deref()).await {
            Ok(true) => Outcome::Success(CsrfForm(parsed.form)),
            Ok(false) => fail(req, Error::Csrf),
            Err(e) => fail(req, e),
        }
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
