//! Password hashing, bounded. One Argon2id check takes about 19 MiB and tens of milliseconds of
//! a core, so a flood of sign-ins would otherwise take the machine's memory: at most `workers`
//! hashes run at once (one per core by default), at most `queue` requests wait for one, and a
//! request beyond that, or one that waited too long, is answered "busy, retry later" (503 with
//! `Retry-After`) rather than piling up.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use tokio::sync::Semaphore;

use crate::AppError;

/// A hash no password matches, verified when the account does not exist, so that the answer
/// takes as long for unknown usernames as for known ones.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$kQ9hJpuoVsyvTgJXUy3ok4xGQuKSC2ml9X6tJ0E7Zlk";

#[derive(Debug)]
pub struct HashGate {
    permits: Semaphore,
    workers: usize,
    queue: usize,
    wait: Duration,
    waiting: AtomicUsize,
    running: AtomicUsize,
    /// The most hashes that ever ran at once (for tests and the flood benchmark).
    peak: AtomicUsize,
}

impl HashGate {
    /// `workers` 0 means one per core.
    pub fn new(workers: usize, queue: usize, wait: Duration) -> Self {
        let workers = if workers == 0 { std::thread::available_parallelism().map_or(2, |n| n.get()) } else { workers };
        Self {
            permits: Semaphore::new(workers),
            workers,
            queue,
            wait,
            waiting: AtomicUsize::new(0),
            running: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
        }
    }

    pub fn workers(&self) -> usize {
        self.workers
    }

    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::Relaxed)
    }

    fn busy(&self) -> AppError {
        AppError::Busy { retry_after_seconds: self.wait.as_secs().max(1) }
    }

    /// Runs `work` on the blocking pool once a permit is free; busy when the queue is full or the
    /// wait too long.
    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, AppError> {
        let permit = match self.permits.try_acquire() {
            Ok(permit) => permit,
            Err(_) => {
                if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.queue {
                    self.waiting.fetch_sub(1, Ordering::AcqRel);
                    return Err(self.busy());
                }
                let acquired = tokio::time::timeout(self.wait, self.permits.acquire()).await;
                self.waiting.fetch_sub(1, Ordering::AcqRel);
                match acquired {
                    Ok(Ok(permit)) => permit,
                    _ => return Err(self.busy()),
                }
            }
        };
        let now = self.running.fetch_add(1, Ordering::AcqRel) + 1;
        self.peak.fetch_max(now, Ordering::AcqRel);
        let result = tokio::task::spawn_blocking(work).await;
        self.running.fetch_sub(1, Ordering::AcqRel);
        drop(permit);
        result.map_err(|e| AppError::internal(format!("hashing task: {e}")))
    }

    /// Hashes a password with Argon2id.
    pub async fn hash(&self, password: String) -> Result<String, AppError> {
        self.run(move || {
            Argon2::default()
                .hash_password(password.as_bytes())
                .map(|h| h.to_string())
                .map_err(|e| AppError::internal(format!("password hash: {e}")))
        })
        .await?
    }

    /// Checks a password against a stored hash (a dummy one when the account does not exist,
    /// which never matches, so that both take as long).
    pub async fn verify(&self, hash: Option<String>, password: String) -> Result<bool, AppError> {
        self.run(move || {
            let known = hash.is_some();
            let hash = hash.unwrap_or_else(|| DUMMY_HASH.to_owned());
            Argon2::default().verify_password(password.as_bytes(), hash.as_str()).is_ok() && known
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn no_more_than_the_workers_hash_at_once_and_the_rest_wait_or_are_turned_away() {
        let gate = Arc::new(HashGate::new(2, 3, Duration::from_secs(30)));
        let hash = gate.hash("Gs-Test-2026!".into()).await.expect("hash");
        let barrier = Arc::new(tokio::sync::Barrier::new(12));
        let mut tasks = Vec::new();
        for _ in 0..12 {
            let (gate, hash, barrier) = (gate.clone(), hash.clone(), barrier.clone());
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                gate.verify(Some(hash), "wrong".into()).await
            }));
        }
        let mut busy = 0;
        for t in tasks {
            match t.await.expect("task") {
                Ok(ok) => assert!(!ok),
                Err(AppError::Busy { retry_after_seconds }) => {
                    assert!(retry_after_seconds >= 1);
                    busy += 1;
                }
                Err(other) => panic!("{other}"),
            }
        }
        assert!(gate.peak() <= 2, "at most two at once, saw {}", gate.peak());
        assert!(busy >= 12 - 2 - 3, "beyond two running and three waiting, turned away: {busy}");
        assert!(!gate.verify(None, "x".into()).await.expect("unknown"), "an unknown account never matches");
    }
}
