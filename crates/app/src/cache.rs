//! What was read at one [`Version`] of the stored data, kept while the data stays there.
//!
//! A reader asks [`App::version`](crate::App::version) first, then looks here; on a miss it
//! reads from the database and keeps what it read under the version it asked before reading.
//! Any commit (of this process or another) changes the version, so nothing kept is served once a
//! write may have changed it: no write has to remember to invalidate anything. The time is not
//! part of the data: what depends on the clock (a session's idle timeout, a deadline) is judged
//! after the lookup, on every request.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

pub use gridsafe_store::Version;

/// At most `capacity` values, all read at one version: keeping a value read at another version
/// drops the others (they can never be served again), and a full cache drops one entry for a
/// new one.
pub struct Kept<K, V, At = Version> {
    capacity: usize,
    inner: Mutex<Inner<K, V, At>>,
    /// How many lookups were served.
    hits: std::sync::atomic::AtomicU64,
}

struct Inner<K, V, At> {
    version: Option<At>,
    entries: HashMap<K, V>,
}

impl<K, V, At> std::fmt::Debug for Kept<K, V, At> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kept").field("capacity", &self.capacity).finish_non_exhaustive()
    }
}

impl<K: Eq + Hash + Clone, V: Clone, At: PartialEq> Kept<K, V, At> {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            inner: Mutex::new(Inner { version: None, entries: HashMap::new() }),
            hits: std::sync::atomic::AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner<K, V, At>> {
        // A panic while holding the lock leaves a map that is still a map.
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The value kept for `key`, if it was read at `version`.
    pub fn get(&self, version: &At, key: &K) -> Option<V> {
        let inner = self.lock();
        if inner.version.as_ref() != Some(version) {
            return None;
        }
        let value = inner.entries.get(key).cloned();
        if value.is_some() {
            self.hits.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        value
    }

    /// How many lookups were served so far.
    pub fn hits(&self) -> u64 {
        self.hits.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Keeps `value`, read at `version` (asked before reading it).
    pub fn put(&self, version: At, key: K, value: V) {
        let mut inner = self.lock();
        if inner.version.as_ref() != Some(&version) {
            inner.entries.clear();
            inner.version = Some(version);
        }
        if inner.entries.len() >= self.capacity
            && !inner.entries.contains_key(&key)
            && let Some(any) = inner.entries.keys().next().cloned()
        {
            inner.entries.remove(&any);
        }
        inner.entries.insert(key, value);
    }

    /// How many values are kept.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::Kept;

    #[test]
    fn serves_only_what_was_read_at_the_version_asked() {
        let kept: Kept<&str, i32, u64> = Kept::new(8);
        assert_eq!(kept.get(&1, &"a"), None);
        kept.put(1, "a", 10);
        assert_eq!(kept.get(&1, &"a"), Some(10));
        assert_eq!(kept.hits(), 1);
        // The data moved on: nothing read before is served.
        assert_eq!(kept.get(&2, &"a"), None);
        kept.put(2, "b", 20);
        assert_eq!(kept.get(&2, &"a"), None, "a value of another version is dropped");
        assert_eq!(kept.get(&2, &"b"), Some(20));
        // A slow reader keeping what it read at an older version drops the newer ones (a miss,
        // never a stale answer) and is served only at its own version.
        kept.put(1, "c", 30);
        assert_eq!(kept.get(&2, &"b"), None);
        assert_eq!(kept.get(&1, &"c"), Some(30));
        assert_eq!(kept.len(), 1);
    }

    #[test]
    fn holds_at_most_its_capacity() {
        let kept: Kept<u32, u32, u64> = Kept::new(3);
        for k in 0..100 {
            kept.put(7, k, k * 2);
            assert!(kept.len() <= 3);
        }
        assert_eq!(kept.get(&7, &99), Some(198), "the newest is kept");
        kept.put(7, 99, 1);
        assert_eq!(kept.len(), 3, "replacing a kept key drops nothing");
        assert_eq!(kept.get(&7, &99), Some(1));
    }
}
