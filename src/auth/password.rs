//! argon2id password hashes (PHC strings). Hashing is slow on purpose, so it runs on the
//! blocking pool, never on the async workers.
//!
//! Each check also takes 19 MiB (argon2's memory cost), so the checks are bounded: as many
//! at once as the machine has cores, a short queue behind them, and past that a refusal
//! ("busy", 503 with Retry-After) rather than memory without end. A queue of hundreds
//! would only make everyone wait; a refusal answers at once and costs nothing.

use std::sync::LazyLock;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use tokio::sync::Semaphore;

use crate::error::Error;

/// Checks that may wait for a core, per core.
const QUEUE_PER_CORE: usize = 4;

/// What a refused check's client is told to wait: the queue drains in a fraction of that.
pub const RETRY_AFTER_S: u64 = 1;

fn hash_now(password: &str) -> Result<String, Error> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| Error::Internal(format!("hashing a password: {e}")))
}

fn verify_now(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash of nothing anyone knows: checking an unknown user against it takes as long as a
/// real check, so the answer time does not reveal which usernames exist.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_now(&crate::auth::token::random_base64(24)).unwrap_or_default());

/// The bound on password work in flight. One for the process: the cores and the memory
/// it protects are the machine's.
struct Checks {
    /// Checks running or waiting; a check that finds none free is refused.
    admitted: Semaphore,
    /// Checks running.
    running: Semaphore,
}

impl Checks {
    fn new(cores: usize, queue: usize) -> Checks {
        Checks {
            admitted: Semaphore::new(cores + queue),
            running: Semaphore::new(cores),
        }
    }

    /// Runs `work` on the blocking pool once a core is free, or refuses at once when the
    /// queue is full. Both permits go into the blocking task, so a request that is dropped
    /// while its check runs cannot free a place for another check before it ends.
    async fn run<T: Send + 'static>(
        &'static self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Error> {
        let admitted = self.admitted.try_acquire().map_err(|_| Error::Busy {
            retry_after_s: RETRY_AFTER_S,
        })?;
        let running = self
            .running
            .acquire()
            .await
            .map_err(|e| Error::Internal(format!("password checks: {e}")))?;
        tokio::task::spawn_blocking(move || {
            let _permits = (admitted, running);
            work()
        })
        .await
        .map_err(|e| Error::Internal(format!("password hashing task: {e}")))
    }
}

static CHECKS: LazyLock<Checks> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    Checks::new(cores, cores * QUEUE_PER_CORE)
});

pub async fn hash(password: String) -> Result<String, Error> {
    CHECKS.run(move || hash_now(&password)).await?
}

/// Checks `password` against `hash`, or against the dummy hash when there is no user.
/// `Err(Error::Busy)` when too many checks are already under way.
pub async fn verify(password: String, hash: Option<String>) -> Result<bool, Error> {
    CHECKS
        .run(move || match hash {
            Some(hash) => verify_now(&password, &hash),
            None => {
                verify_now(&password, &DUMMY_HASH);
                false
            }
        })
        .await
}

/// Blocking variants for the command line.
pub fn hash_blocking(password: &str) -> Result<String, Error> {
    hash_now(password)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A check that holds its core until `release` is sent.
    fn held(checks: &'static Checks) -> (tokio::sync::oneshot::Sender<()>, JoinHandle) {
        let (release, wait) = tokio::sync::oneshot::channel::<()>();
        let check = tokio::spawn(checks.run(move || {
            let _ = wait.blocking_recv();
        }));
        (release, check)
    }

    type JoinHandle = tokio::task::JoinHandle<Result<(), Error>>;

    #[tokio::test]
    async fn checks_past_the_cores_and_the_queue_are_refused_with_a_retry_time() {
        let checks: &'static Checks = Box::leak(Box::new(Checks::new(1, 2)));
        let (release_running, running) = held(checks);
        // The first holds the core; wait until it does.
        while checks.running.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
        let (release_queued, queued) = held(checks);
        let (release_last, last) = held(checks);
        while checks.admitted.available_permits() > 0 {
            tokio::task::yield_now().await;
        }

        let refused = checks.run(|| ()).await;

        assert!(
            matches!(refused, Err(Error::Busy { retry_after_s }) if retry_after_s == RETRY_AFTER_S),
            "{refused:?}"
        );
        for release in [release_running, release_queued, release_last] {
            let _ = release.send(());
        }
        for check in [running, queued, last] {
            assert!(check.await.expect("joined").is_ok(), "a queued check runs");
        }
        assert!(checks.run(|| ()).await.is_ok(), "room again once they end");
    }

    #[test]
    fn a_refusal_is_a_503_busy_with_its_retry_time() {
        let problem = Error::Busy {
            retry_after_s: RETRY_AFTER_S,
        }
        .problem();
        assert_eq!(problem.status, rocket::http::Status::ServiceUnavailable);
        assert_eq!(problem.code, "busy");
        assert_eq!(problem.retry_after_s, Some(RETRY_AFTER_S));
        assert!(problem.message.contains("try again"), "{}", problem.message);
    }

    #[tokio::test]
    async fn a_right_password_verifies_and_a_wrong_one_does_not() {
        let stored = hash("correct horse".into()).await.expect("hashed");
        assert!(verify("correct horse".into(), Some(stored.clone()))
            .await
            .expect("checked"));
        assert!(!verify("wrong".into(), Some(stored)).await.expect("checked"));
        assert!(!verify("anything".into(), None).await.expect("checked"));
    }
}
