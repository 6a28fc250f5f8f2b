//! The password meter's verdict: `POST /api/password/strength` answers with what the
//! server's own policy says of a password (zxcvbn's score and advice, and every rule it
//! breaks), so the meter and the form's field error never disagree. It takes no session:
//! the sign-up, join and setup pages use it before anyone is signed in.

use rocket::serde::json::Json;
use rocket::{post, routes, Route};
use serde::{Deserialize, Serialize};

use crate::auth::Csrf;
use crate::error::Result;
use crate::json::JsonBody;
use crate::validate::{password_problems, Strength, PASSWORD_MAX};

pub fn routes() -> Vec<Route> {
    routes![strength]
}

#[derive(utoipa::ToSchema, Deserialize)]
#[serde(deny_unknown_fields)]
struct Candidate {
    password: String,
    /// The username typed so far: a password like it is refused.
    #[serde(default)]
    username: String,
}

#[derive(utoipa::ToSchema, Serialize)]
struct Verdict {
    /// zxcvbn's score, 0 (guessed at once) to 4.
    score: u8,
    /// `true` when sign-up would take this password.
    acceptable: bool,
    warning: Option<String>,
    suggestions: Vec<String>,
    /// Every rule the password breaks, worded as the form's field error.
    problems: Vec<String>,
}

#[utoipa::path(post, path = "/api/password/strength", tag = "people", request_body = Candidate, responses((status = 200, description = "zxcvbn's verdict", body = Verdict), (status = "4XX", description = "The error shape: 400 malformed, 401 not signed in, 403 CSRF or role, 404 unknown or not a member, 413 too large, 422 invalid (with `field`), 429 throttled", body = crate::openapi::ErrorBody)))]
#[post("/password/strength", data = "<body>")]
async fn strength(_csrf: Csrf, body: JsonBody<Candidate>) -> Result<Json<Verdict>> {
    let Candidate { password, username } = body.0;
    // Past the longest password sign-up takes, the answer is known without scoring.
    let password: String = password.chars().take(PASSWORD_MAX + 1).collect();
    let verdict = tokio::task::spawn_blocking(move || {
        let problems = password_problems(&password, &username);
        let strength = Strength::of(&password, &[&username]);
        Verdict {
            score: if problems.is_empty() {
                strength.score
            } else {
                strength.score.min(1)
            },
            acceptable: problems.is_empty(),
            warning: strength.warning,
            suggestions: strength.suggestions,
            problems,
        }
    })
    .await
    .map_err(|e| crate::error::Error::Internal(format!("scoring a password: {e}")))?;
    Ok(Json(verdict))
}
