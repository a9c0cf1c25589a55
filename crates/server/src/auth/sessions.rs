//! The cache of recently resolved sessions, and the notices that close a session's streams
//! when it ends. Both live in this process (see the architecture notes on replicas).

use crate::model::Session;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Recently resolved sessions, so a busy console does not cost a database read per request.
/// Entries live for a short while: sign-out in this process forgets at once; a revocation
/// elsewhere (another server process) takes effect within the entry's lifetime.
///
/// It also tells the open streams in this process when a session ends here, so each can close
/// at once without reading its session again.
#[derive(Debug)]
pub struct SessionCache {
    ttl: Duration,
    entries: Mutex<HashMap<String, (Session, Instant)>>,
    ended: tokio::sync::broadcast::Sender<SessionEnded>,
}

/// A session ended in this process (its streams close).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionEnded {
    /// Signed out: the session with this token hash.
    Session(String),
    /// A station was revoked: every session started on it.
    Station(uuid::Uuid),
    /// A person was deactivated, signed out everywhere or changed their password: every
    /// session of theirs (stations included) but the one with the token hash `except`.
    Staff {
        staff: frontdesk_domain::StaffId,
        except: Option<String>,
    },
}

impl SessionEnded {
    /// Whether this ends the session of `token_hash`.
    pub fn ends(&self, token_hash: &str, session: &Session) -> bool {
        match self {
            SessionEnded::Session(hash) => hash == token_hash,
            SessionEnded::Station(station) => session.station == Some(*station),
            SessionEnded::Staff { staff, except } => {
                session.staff.id == *staff && except.as_deref() != Some(token_hash)
            }
        }
    }
}

/// Notices of ended sessions held for streams that have not looked yet; one that misses some
/// reads its session again instead.
const ENDED_NOTICES_KEPT: usize = 64;

impl SessionCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
            ended: tokio::sync::broadcast::channel(ENDED_NOTICES_KEPT).0,
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

    /// After a sign-out: the session is forgotten and its streams are told.
    pub fn end(&self, token_hash: &str) {
        self.with(|m| m.remove(token_hash));
        // No stream open is fine.
        let _ = self
            .ended
            .send(SessionEnded::Session(token_hash.to_owned()));
    }

    /// After a station is revoked, the sessions on it are read afresh (and found ended), and
    /// their streams are told.
    pub fn end_station(&self, station: uuid::Uuid) {
        self.with(|m| m.retain(|_, (s, _)| s.station != Some(station)));
        let _ = self.ended.send(SessionEnded::Station(station));
    }

    /// After a person's sessions were ended in the store (all but `except`): they are read
    /// afresh, and their streams are told.
    pub fn end_staff(&self, staff: frontdesk_domain::StaffId, except: Option<String>) {
        self.forget_staff(staff);
        let _ = self.ended.send(SessionEnded::Staff { staff, except });
    }

    /// Sessions ending from now on.
    pub fn ended(&self) -> tokio::sync::broadcast::Receiver<SessionEnded> {
        self.ended.subscribe()
    }

    /// After a change to the person (availability, roles), their sessions are read afresh.
    pub fn forget_staff(&self, staff: frontdesk_domain::StaffId) {
        self.with(|m| m.retain(|_, (s, _)| s.staff.id != staff));
    }
}
