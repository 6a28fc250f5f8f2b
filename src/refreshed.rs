//! A value a background task reads from the database now and then rather than once per
//! message: who has a push subscription, which bots have a webhook. With it, a send
//! that concerns nobody (nearly all of them) costs the task no query at all.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How old the value may get: a change made on another instance (or straight in the
/// database) is seen within this; one made through this instance at once (`Stale`).
pub const MAX_AGE: Duration = Duration::from_secs(2);

/// Marks the value out of date, from a request handler of this instance.
#[derive(Clone, Default)]
pub struct Stale(Arc<AtomicBool>);

impl Stale {
    pub fn mark(&self) {
        self.0.store(true, Ordering::Release);
    }

    fn take(&self) -> bool {
        self.0.swap(false, Ordering::AcqRel)
    }
}

/// The value and when it was read; only its task holds it.
pub struct Refreshed<T> {
    value: T,
    read_at: Option<Instant>,
    stale: Stale,
}

impl<T: Default> Refreshed<T> {
    pub fn new(stale: Stale) -> Refreshed<T> {
        Refreshed {
            value: T::default(),
            read_at: None,
            stale,
        }
    }

    /// The value, read again first if it is older than `MAX_AGE` or was marked stale. If
    /// reading fails, the old value serves until the next try.
    pub async fn get<F, Fut>(&mut self, what: &str, read: F) -> &T
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = sqlx::Result<T>>,
    {
        let due = self.read_at.is_none_or(|at| at.elapsed() >= MAX_AGE);
        if self.stale.take() || due {
            match read().await {
                Ok(value) => {
                    self.value = value;
                    self.read_at = Some(Instant::now());
                }
                Err(e) => tracing::warn!(error = %e, "cannot read {what}"),
            }
        }
        &self.value
    }
}
