//! The cache of recently resolved sessions, and the notices that close a session's streams
//! when it ends. Both live in this process. On a store several processes share, the server
//! caches no session (each request reads its session, so an end committed anywhere fails the
//! token everywhere at once), and the notices are passed between processes through the store
//! ([`SessionCache::tell_others`] gives what ends here, [`SessionCache::heard`] takes what
//! ended elsewhere), so a stream on one process closes when its session ends on another.

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
    /// Where the ends decided here go to be told to other processes, once asked for.
    others: Mutex<Option<tokio::sync::mpsc::UnboundedSender<SessionEnded>>>,
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

impl SessionEnded {
    /// The notice as text, to pass between processes: `session:HASH`, `station:ID`,
    /// `staff:ID:` or `staff:ID:KEPT_HASH`.
    pub fn to_wire(&self) -> String {
        match self {
            SessionEnded::Session(hash) => format!("session:{hash}"),
            SessionEnded::Station(station) => format!("station:{station}"),
            SessionEnded::Staff { staff, except } => {
                format!("staff:{staff}:{}", except.as_deref().unwrap_or_default())
            }
        }
    }

    /// A notice from [`SessionEnded::to_wire`].
    pub fn from_wire(text: &str) -> Option<Self> {
        let (kind, rest) = text.split_once(':')?;
        match kind {
            "session" => Some(SessionEnded::Session(rest.to_owned())),
            "station" => Some(SessionEnded::Station(rest.parse().ok()?)),
            "staff" => {
                let (staff, except) = rest.split_once(':')?;
                Some(SessionEnded::Staff {
                    staff: staff.parse().ok()?,
                    except: (!except.is_empty()).then(|| except.to_owned()),
                })
            }
            _ => None,
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
            others: Mutex::new(None),
        }
    }

    /// The sessions that end in this process from now on, to tell other processes.
    pub fn tell_others(&self) -> tokio::sync::mpsc::UnboundedReceiver<SessionEnded> {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        *self
            .others
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(tx);
        rx
    }

    /// Tells this process's streams (and other processes, if asked) that sessions ended.
    fn announce(&self, notice: SessionEnded) {
        if let Some(others) = self
            .others
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
        {
            let _ = others.send(notice.clone());
        }
        // No stream open is fine.
        let _ = self.ended.send(notice);
    }

    /// Sessions ended in another process: forgotten here, and their streams here are told.
    pub fn heard(&self, notice: SessionEnded) {
        match &notice {
            SessionEnded::Session(hash) => {
                self.with(|m| m.remove(hash));
            }
            SessionEnded::Station(station) => {
                self.with(|m| m.retain(|_, (s, _)| s.station != Some(*station)));
            }
            SessionEnded::Staff { staff, .. } => self.forget_staff(*staff),
        }
        let _ = self.ended.send(notice);
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
        self.announce(SessionEnded::Session(token_hash.to_owned()));
    }

    /// After a station is revoked, the sessions on it are read afresh (and found ended), and
    /// their streams are told.
    pub fn end_station(&self, station: uuid::Uuid) {
        self.with(|m| m.retain(|_, (s, _)| s.station != Some(station)));
        self.announce(SessionEnded::Station(station));
    }

    /// After a person's sessions were ended in the store (all but `except`): they are read
    /// afresh, and their streams are told.
    pub fn end_staff(&self, staff: frontdesk_domain::StaffId, except: Option<String>) {
        self.forget_staff(staff);
        self.announce(SessionEnded::Staff { staff, except });
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notice_passed_between_processes_reads_back_the_same() {
        let staff = frontdesk_domain::StaffId::from_u128(9);
        for notice in [
            SessionEnded::Session("abc".into()),
            SessionEnded::Station(uuid::Uuid::from_u128(4)),
            SessionEnded::Staff {
                staff,
                except: None,
            },
            SessionEnded::Staff {
                staff,
                except: Some("kept".into()),
            },
        ] {
            assert_eq!(SessionEnded::from_wire(&notice.to_wire()), Some(notice));
        }
        assert_eq!(SessionEnded::from_wire("nonsense"), None);
    }
}
