//! One error type for the whole app. Its cause goes to the log; the person gets a safe
//! message: the JSON error shape under /api, a friendly page (or the sign-in redirect)
//! elsewhere.

use rocket::http::{Header, Status};
use rocket::outcome::Outcome;
use rocket::request::Request;
use rocket::response::{self, Redirect, Responder};
use rocket::serde::json::Json;
use rocket_dyn_templates::{context, Template};
use serde_json::json;

use crate::validate::Invalid;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("malformed request: {0}")]
    BadRequest(String),
    #[error("not signed in")]
    NotSignedIn,
    /// An API token that is malformed, unknown or revoked.
    #[error("bad API token")]
    BadToken,
    #[error("missing or wrong CSRF token")]
    Csrf,
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    #[error("not found")]
    NotFound,
    /// A stream cursor from before what the server keeps, or from another database.
    #[error("the cursor has expired")]
    CursorExpired,
    #[error("request body too large")]
    TooLarge,
    /// An invite link that is unknown, used up, revoked or expired.
    #[error("invite link no longer works")]
    InviteUnusable,
    /// An upload past `max_upload_mb`.
    #[error("file larger than {max_mb} MB")]
    FileTooLarge { max_mb: u64 },
    /// A data download whose files come to more than it may carry.
    #[error("data download larger than {max_mb} MB")]
    DataTooLarge { max_mb: u64 },
    #[error("invalid {}: {}", .0.field, .0.message)]
    Invalid(Invalid),
    #[error("too many attempts")]
    Throttled { retry_after_s: u64 },
    /// Too much work of one kind under way for the whole server (password checks).
    #[error("busy")]
    Busy { retry_after_s: u64 },
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// The storage cannot take writes now (disk full, I/O error); nothing was stored.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    #[error("internal: {0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<Invalid> for Error {
    fn from(invalid: Invalid) -> Self {
        Error::Invalid(invalid)
    }
}

/// What a person is told about an error: status, a stable code, a message, maybe a field.
#[derive(Debug, Clone)]
pub struct Problem {
    pub status: Status,
    pub code: &'static str,
    pub message: String,
    pub field: Option<&'static str>,
    pub retry_after_s: Option<u64>,
}

impl Problem {
    fn new(status: Status, code: &'static str, message: impl Into<String>) -> Self {
        Problem {
            status,
            code,
            message: message.into(),
            field: None,
            retry_after_s: None,
        }
    }

    /// The generic problem for a bare status (what the catchers answer).
    pub fn from_status(status: Status) -> Self {
        let (code, message) = match status.code {
            400 => ("bad_request", "The request could not be understood."),
            401 => ("not_signed_in", "Sign in to continue."),
            403 => ("forbidden", "You are not allowed to do that."),
            404 => ("not_found", "There is nothing here."),
            413 => ("too_large", "The request is too large."),
            415 => (
                "bad_request",
                "The request has an unsupported content type.",
            ),
            422 => ("invalid", "The request has invalid data."),
            429 => ("throttled", "Too many attempts. Try again later."),
            500..=599 => ("internal", "Something went wrong on our side."),
            _ => ("error", status.reason_lossy()),
        };
        let status = if status.code == 415 {
            Status::BadRequest
        } else {
            status
        };
        Problem::new(status, code, message)
    }
}

impl Error {
    pub fn problem(&self) -> Problem {
        match self {
            Error::BadRequest(detail) => Problem::new(Status::BadRequest, "bad_request", detail),
            Error::Csrf => Problem::new(
                Status::Forbidden,
                "csrf",
                "The security token is missing or out of date. Reload the page and try again.",
            ),
            Error::Forbidden(why) => Problem::new(Status::Forbidden, "forbidden", *why),
            Error::Invalid(invalid) => Problem {
                field: Some(invalid.field),
                ..Problem::new(Status::UnprocessableEntity, "invalid", &invalid.message)
            },
            Error::Throttled { retry_after_s } => Problem {
                retry_after_s: Some(*retry_after_s),
                ..Problem::from_status(Status::TooManyRequests)
            },
            Error::Busy { retry_after_s } => Problem {
                retry_after_s: Some(*retry_after_s),
                ..Problem::new(
                    Status::ServiceUnavailable,
                    "busy",
                    "Kanect is busy checking other passwords. Please try again in a few seconds.",
                )
            },
            Error::NotSignedIn => Problem::from_status(Status::Unauthorized),
            Error::BadToken => Problem::new(
                Status::Unauthorized,
                "bad_token",
                "This API token is not valid: it may have been revoked. Make a new one on \
                 your account page.",
            ),
            Error::NotFound => Problem::from_status(Status::NotFound),
            Error::CursorExpired => Problem::new(
                Status::Gone,
                "cursor_expired",
                "This page has been away too long to catch up. Reload it.",
            ),
            Error::TooLarge => Problem::from_status(Status::PayloadTooLarge),
            Error::InviteUnusable => Problem::new(
                Status::Gone,
                "invite_unusable",
                "This invite link does not work any more: it may have expired, been used up \
                 or been withdrawn. Ask the person who sent it for a new one.",
            ),
            Error::FileTooLarge { max_mb } => Problem::new(
                Status::PayloadTooLarge,
                "too_large",
                format!("A file can be at most {max_mb} MB."),
            ),
            Error::DataTooLarge { max_mb } => Problem::new(
                Status::PayloadTooLarge,
                "too_large",
                format!(
                    "Your files come to more than {max_mb} MB, too much for one download. \
                     Ask an administrator for an export (kanect export)."
                ),
            ),
            Error::Database(e) if crate::db::writer::is_storage_error(e) => unavailable(),
            // Text PostgreSQL cannot hold (a NUL) in a look-up nothing validated first.
            Error::Database(e) if crate::db::is_unstorable_text(e) => {
                Problem::from_status(Status::BadRequest)
            }
            Error::Unavailable(_) => unavailable(),
            Error::Database(_) | Error::Internal(_) => {
                Problem::from_status(Status::InternalServerError)
            }
        }
    }
}

/// The storage refused a write, or the database server is away: say that nothing was
/// kept, and when to try again.
fn unavailable() -> Problem {
    Problem {
        retry_after_s: Some(30),
        ..Problem::new(
            Status::ServiceUnavailable,
            "unavailable",
            "The server cannot store anything right now (its storage is failing, perhaps \
             full, or its database is out of reach). Nothing was saved; please try again in \
             a little while.",
        )
    }
}

/// For request guards: keep the detailed problem for the catcher, then fail with its status.
pub fn fail<S, F>(req: &Request<'_>, error: Error) -> Outcome<S, (Status, Error), F> {
    let problem = error.problem();
    let status = problem.status;
    req.local_cache(|| Stashed(Some(problem)));
    Outcome::Error((status, error))
}

/// A guard's problem, waiting for the catcher.
struct Stashed(Option<Problem>);

/// The problem a catcher should answer with: the guard's own, or the status's generic one.
pub fn stashed_or(req: &Request<'_>, status: Status) -> Problem {
    match &req.local_cache(|| Stashed(None)).0 {
        Some(problem) if problem.status == status => problem.clone(),
        _ => Problem::from_status(status),
    }
}

/// API clients get JSON: anything under /api, and requests that ask for JSON.
pub fn wants_json(req: &Request<'_>) -> bool {
    let path = req.uri().path();
    path == "/api"
        || path.starts_with("/api/")
        || path == "/healthz"
        || path.starts_with("/bots/")
        || req.format().is_some_and(|f| f.is_json())
}

/// `/login?next=<this page>` for a page that needs a signed-in person.
pub fn login_url(req: &Request<'_>) -> String {
    let here = req.uri().to_string();
    format!(
        "/login?next={}",
        rocket::http::RawStr::new(&here).percent_encode()
    )
}

impl<'r> Responder<'r, 'static> for Problem {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let mut response = if wants_json(req) {
            let mut error = json!({ "code": self.code, "message": self.message });
            if let Some(field) = self.field {
                error["field"] = json!(field);
            }
            Json(json!({ "error": error })).respond_to(req)?
        } else if self.status == Status::Unauthorized {
            // A first run: nobody could sign in, so the page leads to setup instead.
            let first_run = req
                .rocket()
                .state::<crate::auth::setup::Setup>()
                .is_some_and(crate::auth::setup::Setup::looks_pending);
            if first_run {
                return Redirect::to("/setup").respond_to(req);
            }
            return Redirect::to(login_url(req)).respond_to(req);
        } else {
            let page = Template::render(
                "error.html",
                context! {
                    status: self.status.code,
                    title: self.status.reason_lossy(),
                    message: &self.message,
                    request_id: crate::request_log::request_id(req),
                    csrf_token: "",
                    theme: crate::auth::session::theme_of(req).as_str(),
                },
            );
            page.respond_to(req)?
        };
        response.set_status(self.status);
        if let Some(seconds) = self.retry_after_s {
            response.set_header(Header::new("Retry-After", seconds.to_string()));
        }
        Ok(response)
    }
}

impl<'r> Responder<'r, 'static> for Error {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let problem = self.problem();
        if matches!(self, Error::Database(_) | Error::Internal(_)) {
            tracing::error!(
                request_id = %crate::request_log::request_id(req),
                error = %self,
                "request failed"
            );
        }
        problem.respond_to(req)
    }
}
