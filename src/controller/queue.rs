//! The work queue: each object is queued at most once, never reconciled by two workers at
//! once, and can be scheduled for later. A request that arrives while the object is being
//! reconciled is kept and runs right after (so no trigger is lost).
//!
//! ```text
//!  add(k) ──► ready ──► next() (a worker) ──► running ──► done(k) ──► dirty? ──► ready again
//!  add_after(k, d) ──► delayed (earliest wins) ──► due ──► add(k)
//! ```

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::fmt;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

/// Which controller an object belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    GitRepository,
    Kustomization,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::GitRepository => "GitRepository",
            Kind::Kustomization => "Kustomization",
        }
    }
}

/// One object to reconcile.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub kind: Kind,
    pub namespace: String,
    pub name: String,
}

impl Key {
    pub fn new(kind: Kind, namespace: &str, name: &str) -> Key {
        Key {
            kind,
            namespace: namespace.to_string(),
            name: name.to_string(),
        }
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.kind.as_str(), self.namespace, self.name)
    }
}

#[derive(Default)]
struct Inner {
    ready: VecDeque<Key>,
    queued: HashSet<Key>,
    running: HashSet<Key>,
    dirty: HashSet<Key>,
    delayed: BTreeSet<(Instant, Key)>,
    due: HashMap<Key, Instant>,
}

impl Inner {
    fn add(&mut self, key: Key) {
        if let Some(at) = self.due.remove(&key) {
            self.delayed.remove(&(at, key.clone()));
        }
        if self.running.contains(&key) {
            self.dirty.insert(key);
        } else if self.queued.insert(key.clone()) {
            self.ready.push_back(key);
        }
    }

    fn promote_due(&mut self, now: Instant) {
        while let Some((at, _)) = self.delayed.first() {
            if *at > now {
                break;
            }
            if let Some((_, key)) = self.delayed.pop_first() {
                self.due.remove(&key);
                self.add(key);
            }
        }
    }
}

/// A deduplicating, delaying work queue shared by the workers.
#[derive(Default)]
pub struct Queue {
    inner: Mutex<Inner>,
    notify: Notify,
}

impl Queue {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A worker that panicked while holding the lock leaves consistent data behind: every
        // operation above completes its invariants before it can panic.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `key` now.
    pub fn add(&self, key: Key) {
        self.lock().add(key);
        self.notify.notify_one();
    }

    /// Queues `key` after `delay`, unless it is already due earlier.
    pub fn add_after(&self, key: Key, delay: Duration) {
        let at = Instant::now() + delay;
        {
            let mut q = self.lock();
            if q.queued.contains(&key) {
                return;
            }
            match q.due.get(&key) {
                Some(old) if *old <= at => return,
                Some(old) => {
                    let old = *old;
                    q.delayed.remove(&(old, key.clone()));
                }
                None => {}
            }
            q.due.insert(key.clone(), at);
            q.delayed.insert((at, key));
        }
        self.notify.notify_one();
    }

    /// Waits for the next object to reconcile and marks it running.
    pub async fn next(&self) -> Key {
        loop {
            let deadline = {
                let mut q = self.lock();
                q.promote_due(Instant::now());
                if let Some(key) = q.ready.pop_front() {
                    q.queued.remove(&key);
                    q.running.insert(key.clone());
                    if !q.ready.is_empty() {
                        // Wake another worker for the rest.
                        self.notify.notify_one();
                    }
                    return key;
                }
                q.delayed.first().map(|(at, _)| *at)
            };
            match deadline {
                Some(at) => {
                    tokio::select! {
                        _ = self.notify.notified() => {}
                        _ = tokio::time::sleep_until(at) => {}
                    }
                }
                None => self.notify.notified().await,
            }
        }
    }

    /// Marks `key` finished; it runs again at once if it was requested meanwhile.
    pub fn done(&self, key: &Key) {
        let again = {
            let mut q = self.lock();
            q.running.remove(key);
            if q.dirty.remove(key) {
                q.add(key.clone());
                true
            } else {
                false
            }
        };
        if again {
            self.notify.notify_one();
        }
    }

    /// Objects queued or scheduled (for tests and metrics).
    pub fn len(&self) -> usize {
        let q = self.lock();
        q.ready.len() + q.delayed.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(name: &str) -> Key {
        Key::new(Kind::Kustomization, "ns", name)
    }

    #[tokio::test]
    async fn deduplicates_and_reruns_requests_made_while_running() {
        let q = Queue::default();
        q.add(k("a"));
        q.add(k("a"));
        assert_eq!(q.next().await, k("a"));
        assert!(q.is_empty());
        q.add(k("a")); // while running
        assert!(q.is_empty());
        q.done(&k("a"));
        assert_eq!(q.next().await, k("a"));
    }

    #[tokio::test(start_paused = true)]
    async fn delayed_items_come_due_and_earliest_schedule_wins() {
        let q = Queue::default();
        q.add_after(k("late"), Duration::from_secs(10));
        q.add_after(k("late"), Duration::from_secs(1));
        q.add_after(k("later"), Duration::from_secs(5));
        let start = Instant::now();
        assert_eq!(q.next().await, k("late"));
        assert!(start.elapsed() >= Duration::from_secs(1));
        assert!(start.elapsed() < Duration::from_secs(5));
        assert_eq!(q.next().await, k("later"));
    }

    #[tokio::test(start_paused = true)]
    async fn add_now_replaces_a_pending_delay() {
        let q = Queue::default();
        q.add_after(k("a"), Duration::from_secs(100));
        q.add(k("a"));
        let start = Instant::now();
        assert_eq!(q.next().await, k("a"));
        assert!(start.elapsed() < Duration::from_secs(1));
        assert!(q.is_empty());
    }
}
