//! First run in the browser: while no user exists, the sign-in page leads to `/setup`,
//! where the one-time setup code from the log (and `data_dir/setup_code`) makes the first
//! superuser. The code proves that whoever sets up can read the server's log or files:
//! without it, the first stranger to reach a fresh server would own it.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

use either::Either::{Left, Right};
use rocket::fairing::{AdHoc, Fairing};
use rocket::form::FromForm;
use rocket::http::CookieJar;
use rocket::response::Redirect;
use rocket::{get, post, routes, Route, State};
use rocket_db_pools::Database;

use super::pages::{self, Answer, Fields, SignupForm, Via};
use super::throttle::{Key, Throttle};
use super::{device, session, token, Client, CsrfToken, SignInForm};
use crate::compress::Compressed;
use crate::config::Settings;
use crate::db::{users, Db};
use crate::error::{Error, Result};
use crate::model::Role;
use crate::validate::Invalid;

/// The file in data_dir that holds the setup code of a first run.
pub const CODE_FILE: &str = "setup_code";

pub fn routes() -> Vec<Route> {
    routes![setup_page, setup]
}

/// The setup code of this instance while its first run lasts.
pub struct Setup {
    code: Mutex<Option<String>>,
    /// Cleared for good once someone exists (set up here, by the command line, or by
    /// another instance on the same database).
    pending: AtomicBool,
    file: PathBuf,
}

impl Setup {
    /// `true` while nobody has an account. Asks the database only while it looked so.
    pub async fn pending(&self, db: &Db) -> Result<bool> {
        if !self.pending.load(Ordering::Acquire) {
            return Ok(false);
        }
        if users::any(&db.read).await? {
            self.finish();
            return Ok(false);
        }
        Ok(true)
    }

    /// What this instance last knew, without asking the database: for the redirect of a
    /// page that needs a person, which cannot wait for a query.
    pub fn looks_pending(&self) -> bool {
        self.pending.load(Ordering::Acquire)
    }

    /// Ends the first run: the code works no more and its file goes.
    fn finish(&self) {
        self.pending.store(false, Ordering::Release);
        *self.code.lock().unwrap_or_else(PoisonError::into_inner) = None;
        remove_code_file(self.file.parent().unwrap_or(Path::new(".")));
    }

    /// Compares in constant time, so the answer's timing tells nothing of the code.
    fn accepts(&self, presented: &str) -> bool {
        let code = self.code.lock().unwrap_or_else(PoisonError::into_inner);
        code.as_deref()
            .is_some_and(|code| token::same(presented.trim(), code))
    }
}

/// Removes `data_dir/setup_code` if it is there (a first run has ended).
pub fn remove_code_file(data_dir: &Path) {
    let path = data_dir.join(CODE_FILE);
    match std::fs::remove_file(&path) {
        Ok(()) => tracing::info!(path = %path.display(), "setup is done: removed the setup code"),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            tracing::warn!(error = %e, path = %path.display(), "could not remove the setup code")
        }
    }
}

/// Keeps `looks_pending` true to the database while a first run lasts: before each
/// request, one look at whether someone exists now (made by the command line or another
/// instance, say). Once someone does, this costs nothing.
pub struct Watch;

#[rocket::async_trait]
impl Fairing for Watch {
    fn info(&self) -> rocket::fairing::Info {
        rocket::fairing::Info {
            name: "setup watch",
            kind: rocket::fairing::Kind::Request,
        }
    }

    async fn on_request(&self, req: &mut rocket::Request<'_>, _: &mut rocket::Data<'_>) {
        let rocket = req.rocket();
        let (Some(setup), Some(db)) = (rocket.state::<Setup>(), Db::fetch(rocket)) else {
            return;
        };
        if setup.looks_pending() {
            if let Err(e) = setup.pending(db).await {
                tracing::warn!(error = %e, "cannot tell whether the first run is over");
            }
        }
    }
}

/// At start: with nobody there yet, a new setup code, in the log and in its file (0600).
pub fn fairing() -> impl Fairing {
    AdHoc::try_on_ignite("setup code", |rocket| async move {
        let Some(db) = Db::fetch(&rocket) else {
            return Err(rocket);
        };
        let Some(settings) = rocket.state::<Settings>() else {
            return Err(rocket);
        };
        let data_dir = settings.data_dir.clone();
        let file = PathBuf::from(crate::cli::shown_dir(&data_dir.join(CODE_FILE)));
        let someone = match users::any(&db.read).await {
            Ok(someone) => someone,
            Err(e) => {
                tracing::error!(error = %e, "cannot tell whether this is a first run");
                return Err(rocket);
            }
        };
        if someone {
            remove_code_file(&data_dir);
            let setup = Setup {
                code: Mutex::new(None),
                pending: AtomicBool::new(false),
                file,
            };
            return Ok(rocket.manage(setup));
        }
        // 160 bits; URL-safe base64, so it survives copying from a terminal.
        let code = token::random_base64(20);
        let _ = std::fs::remove_file(&file);
        if let Err(e) = crate::config::write_private(&file, &format!("{code}\n")) {
            tracing::warn!(error = %e, path = %file.display(), "could not write the setup code file");
        }
        tracing::warn!(
            "No account exists yet. Open Kanect in a browser and set it up at /setup with the \
             setup code {code} (also in {})",
            file.display()
        );
        let setup = Setup {
            code: Mutex::new(Some(code)),
            pending: AtomicBool::new(true),
            file,
        };
        Ok(rocket.manage(setup))
    })
}

#[derive(FromForm)]
pub struct SetupForm {
    setup_code: Option<String>,
    username: Option<String>,
    email: Option<String>,
    password1: Option<String>,
    password2: Option<String>,
}

#[get("/setup")]
async fn setup_page(
    setup: &State<Setup>,
    db: &Db,
    csrf: CsrfToken,
    _compressed: Compressed,
) -> Result<pages::FormPage> {
    if !setup.pending(db).await? {
        return Err(Error::NotFound);
    }
    Ok(pages::signup_page_for(
        Via::Setup(&setup.file),
        &csrf,
        Fields::from([("next", "/".to_owned())]),
        Fields::new(),
    ))
}

#[allow(clippy::too_many_arguments)]
#[post("/setup", data = "<form>")]
async fn setup(
    form: SignInForm<SetupForm>,
    setup: &State<Setup>,
    csrf: CsrfToken,
    db: &Db,
    cookies: &CookieJar<'_>,
    settings: &State<Settings>,
    client: Client,
    throttle: &State<Throttle>,
) -> Result<Answer> {
    if !setup.pending(db).await? {
        return Err(Error::NotFound);
    }
    let SetupForm {
        setup_code,
        username,
        email,
        password1,
        password2,
    } = form.0;
    let account = SignupForm {
        username,
        email,
        password1,
        password2,
        next: None,
    };
    let via = Via::Setup(&setup.file);
    let values = pages::typed_values(&account);
    // Every attempt counts until its code proves right: 5 wrong codes per address.
    let keys: Vec<Key> = client.address.map(Key::Setup).into_iter().collect();
    let attempt = match throttle.begin(db, keys).await? {
        Ok(attempt) => attempt,
        Err(wait) => {
            tracing::warn!(ip = %client.ip, "setup throttled");
            return Ok(Right(pages::throttled_signup(via, &csrf, values, wait)));
        }
    };
    let mut errors = Fields::new();
    if setup.accepts(setup_code.as_deref().unwrap_or_default()) {
        throttle.refund(db, attempt).await?;
    } else {
        tracing::warn!(ip = %client.ip, "wrong setup code");
        pages::add(
            &mut errors,
            Invalid::new(
                "setup_code",
                "That is not the setup code. Kanect wrote it to its log at start, and to \
                 the file named below.",
            ),
        );
    }
    let Some(checked) = pages::check_fields(db, &account, &mut errors).await? else {
        return Ok(Right(pages::signup_page_for(via, &csrf, values, errors)));
    };
    let user = users::NewUser {
        username: &checked.username,
        email: &checked.email,
        password_hash: &checked.password_hash,
        role: Role::Superuser,
    };
    let id = match users::create_first(&db.write, user).await {
        Ok(Some(id)) => id,
        // Someone finished setting up first (on this instance or another).
        Ok(None) => {
            setup.finish();
            return Err(Error::NotFound);
        }
        Err(clash) => {
            pages::add(&mut errors, pages::unavailable(clash)?);
            return Ok(Right(pages::signup_page_for(via, &csrf, values, errors)));
        }
    };
    setup.finish();
    users::record_login(&db.write, id).await?;
    session::sign_in(db, cookies, settings, id, &client).await?;
    device::remember(cookies, &client, id);
    tracing::info!(user_id = %id, "first run: superuser created in the browser");
    Ok(Left(Redirect::to("/")))
}
