//! What keeps sign-in cheap and guessing slow: the failed-attempt limiter and the cache of
//! recently resolved sessions. Both live in this process (see the architecture notes on
//! replicas).

use crate::model::Session;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Counts failed attempts per key in a sliding window.
#[derive(Debug)]
pub struct RateLimiter {
    window: Duration,
    max_failures: usize,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl RateLimiter {
    pub fn new(max_failures: usize, window: Duration) -> Self {
        Self {
            window,
            max_failures,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut HashMap<String, VecDeque<Instant>>) -> T) -> T {
        let mut map = self
            .failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut map)
    }

    /// Whether another attempt is allowed for every one of `keys`.
    pub fn allows(&self, keys: &[String]) -> bool {
        let now = Instant::now();
        self.with(|map| {
            keys.iter().all(|k| {
                map.get_mut(k).is_none_or(|q| {
                    while q
                        .front()
                        .is_some_and(|t| now.duration_since(*t) > self.window)
                    {
                        q.pop_front();
                    }
                    q.len() < self.max_failures
                })
            })
        })
    }

    pub fn record_failure(&self, keys: &[String]) {
        let now = Instant::now();
        self.with(|map| {
            // Forget idle keys now and then so the map cannot grow without bound.
            if map.len() > 10_000 {
                map.retain(|_, q| {
                    q.back()
                        .is_some_and(|t| now.duration_since(*t) <= self.window)
                });
            }
            for k in keys {
                map.entry(k.clone()).or_default().push_back(now);
            }
        });
    }
}

/// Recently resolved sessions, so a busy console does not cost a database read per request.
/// Entries live for a short while: sign-out in this process forgets at once; a revocation
/// elsewhere (another server process) takes effect within the entry's lifetime.
#[derive(Debug)]
pub struct SessionCache {
    ttl: Duration,
    entries: Mutex<HashMap<String, (Session, Instant)>>,
}

impl SessionCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut HashMap<String, (Session, Instant)>) -> T) -> T {
        f(&mut self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    pub fn get(&self, token_hash: &str, now_ms: i64) -> Option<Session> {
        self.with(|m| {
            m.get(token_hash)
                .filter(|(s, at)| at.elapsed() < self.ttl && s.expires_at > now_ms)
                .map(|(s, _)| s.clone())
        })
    }

    pub fn put(&self, token_hash: String, session: Session) {
        if self.ttl.is_zero() {
            return;
        }
        self.with(|m| {
            if m.len() >= 50_000 {
                m.retain(|_, (_, at)| at.elapsed() < self.ttl);
            }
            m.insert(token_hash, (session, Instant::now()));
        });
    }

    pub fn forget(&self, token_hash: &str) {
        self.with(|m| m.remove(token_hash));
    }

    /// After a station is revoked, the sessions on it are read afresh (and found ended).
    pub fn forget_station(&self, station: uuid::Uuid) {
        self.with(|m| m.retain(|_, (s, _)| s.station != Some(station)));
    }

    /// After a change to the person (availability, roles), their sessions are read afresh.
    pub fn forget_staff(&self, staff: frontdesk_domain::StaffId) {
        self.with(|m| m.retain(|_, (s, _)| s.staff.id != staff));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limiter_stops_after_the_allowed_failures() {
        let l = RateLimiter::new(3, Duration::from_secs(60));
        let keys = vec!["email:a".to_owned()];
        for _ in 0..3 {
            assert!(l.allows(&keys));
            l.record_failure(&keys);
        }
        assert!(!l.allows(&keys));
        assert!(l.allows(&["email:b".to_owned()]));
    }
}
