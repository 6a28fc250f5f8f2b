//! Role guards: a route names the role it needs in its signature. Anonymous visitors are
//! sent to sign in; members get 403.

use rocket::request::{FlashMessage, FromRequest, Outcome, Request};

use crate::auth::User;
use crate::error::{fail, Error};
use crate::model::Role;

/// Staff or superuser, with the flash message left by the previous page.
pub struct Staff {
    pub user: User,
    pub flash: Option<(String, String)>,
}

/// A superuser only.
pub struct Superuser(pub User);

async fn signed_in<'r>(req: &'r Request<'_>) -> Result<&'r User, Error> {
    User::current(req).await?.ok_or(Error::NotSignedIn)
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Staff {
    type Error = Error;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Error> {
        match signed_in(req).await {
            Ok(user) if user.role.is_staff() => {
                let flash = match req.guard::<Option<FlashMessage<'_>>>().await {
                    Outcome::Success(Some(flash)) => {
                        Some((flash.kind().to_owned(), flash.message().to_owned()))
                    }
                    _ => None,
                };
                Outcome::Success(Staff {
                    user: user.clone(),
                    flash,
                })
            }
            Ok(_) => fail(
                req,
                Error::Forbidden("Only staff can use the admin console."),
            ),
            Err(e) => fail(req, e),
        }
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Superuser {
    type Error = Error;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Error> {
        match signed_in(req).await {
            Ok(user) if user.role == Role::Superuser => Outcome::Success(Superuser(user.clone())),
            Ok(_) => fail(req, Error::Forbidden("Only a superuser can do that.")),
            Err(e) => fail(req, e),
        }
    }
}

impl Staff {
    pub fn is_superuser(&self) -> bool {
        self.user.role == Role::Superuser
    }
}
