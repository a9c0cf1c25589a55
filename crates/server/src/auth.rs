//! Who is asking: opaque bearer tokens (random, stored only as SHA-256, expiring, revocable),
//! argon2id for passwords and station PINs, a sign-in rate limiter, and the extractors that
//! turn a request into a signed-in staff member or a patient's own visit.

use crate::error::AppError;
use crate::model::Session;
use crate::state::AppState;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use frontdesk_domain::{Span, Timestamp, Visit};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Prefixes say what a token is for, so a misplaced one is recognised at a glance in logs.
pub const STAFF_TOKEN_PREFIX: &str = "fds_";
pub const PATIENT_TOKEN_PREFIX: &str = "fdp_";
pub const STATION_TOKEN_PREFIX: &str = "fdd_";

/// A new unguessable token: 256 random bits, hex, with a prefix.
pub fn new_token(prefix: &str) -> Result<String, AppError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(AppError::internal)?;
    Ok(format!("{prefix}{}", hex(&bytes)))
}

/// A token made from this server's secret and `parts`: the same parts give the same token, so
/// it can be made again later (a guest's link in a reminder, a retried arrival's answer) while
/// the database keeps only its hash. Unguessable without the secret.
pub fn derived_token(secret: &[u8; 32], prefix: &str, parts: &[&str]) -> String {
    use hmac::{Hmac, Mac};
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC takes a key of any length");
    for p in parts {
        mac.update(p.as_bytes());
        mac.update(&[0]);
    }
    format!("{prefix}{}", hex(&mac.finalize().into_bytes()))
}

/// What the database keeps of a token.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// How hard password hashing works. `Fast` is for tests and demos only.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HashCost {
    #[default]
    Standard,
    Fast,
}

fn hasher(cost: HashCost) -> Result<Argon2<'static>, AppError> {
    let params = match cost {
        HashCost::Standard => Params::default(),
        HashCost::Fast => Params::new(256, 1, 1, None).map_err(AppError::internal)?,
    };
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// An argon2id PHC string for a password or PIN.
pub fn hash_secret(secret: &str, cost: HashCost) -> Result<String, AppError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(AppError::internal)?;
    let salt = SaltString::encode_b64(&salt).map_err(AppError::internal)?;
    Ok(hasher(cost)?
        .hash_password(secret.as_bytes(), &salt)
        .map_err(AppError::internal)?
        .to_string())
}

/// Checks a secret against its stored hash (the hash carries its own parameters).
pub fn verify_secret(secret: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(secret.as_bytes(), &h)
            .is_ok()
    })
}

/// Verifying is deliberately slow; keep it off the async workers.
pub async fn verify_secret_blocking(secret: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || verify_secret(&secret, &hash))
        .await
        .unwrap_or(false)
}

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
}

impl SessionEnded {
    /// Whether this ends the session of `token_hash`.
    pub fn ends(&self, token_hash: &str, session: &Session) -> bool {
        match self {
            SessionEnded::Session(hash) => hash == token_hash,
            SessionEnded::Station(station) => session.station == Some(*station),
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

    /// Sessions ending from now on.
    pub fn ended(&self) -> tokio::sync::broadcast::Receiver<SessionEnded> {
        self.ended.subscribe()
    }

    /// After a change to the person (availability, roles), their sessions are read afresh.
    pub fn forget_staff(&self, staff: frontdesk_domain::StaffId) {
        self.with(|m| m.retain(|_, (s, _)| s.staff.id != staff));
    }
}

/// The bearer token of a request, if any.
pub fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// A signed-in member of staff. Rejects with 401 otherwise.
#[derive(Clone, Debug)]
pub struct StaffAuth {
    pub session: Session,
    pub token_hash: String,
}

impl StaffAuth {
    pub async fn from_token(state: &AppState, token: &str) -> Result<Self, AppError> {
        if !token.starts_with(STAFF_TOKEN_PREFIX) {
            return Err(AppError::Unauthorized);
        }
        let token_hash = token_hash(token);
        let now = state.now().as_millis();
        if let Some(session) = state.sessions.get(&token_hash, now) {
            return Ok(Self {
                session,
                token_hash,
            });
        }
        let session = state
            .store
            .session(&token_hash, now)
            .await?
            .ok_or(AppError::Unauthorized)?;
        state.sessions.put(token_hash.clone(), session.clone());
        Ok(Self {
            session,
            token_hash,
        })
    }

    pub fn require(&self, role: frontdesk_domain::Role) -> Result<(), AppError> {
        if self.session.staff.roles.has(role) {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!(
                "only {role} staff may do this"
            )))
        }
    }
}

impl FromRequestParts<AppState> for StaffAuth {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let token = bearer(parts).ok_or(AppError::Unauthorized)?;
        Self::from_token(state, token).await
    }
}

/// The patient acting through their own visit's token (bearer, or `X-Patient-Token`).
#[derive(Clone, Debug)]
pub struct PatientAuth {
    pub visit: Visit,
    pub token_hash: String,
    /// Set when the token is a scheduled session's guest link: which guest.
    pub guest: Option<usize>,
}

impl FromRequestParts<AppState> for PatientAuth {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let token = parts
            .headers
            .get("x-patient-token")
            .and_then(|v| v.to_str().ok())
            .or_else(|| bearer(parts))
            .ok_or(AppError::Unauthorized)?;
        Self::from_token(state.store.as_ref(), token, state.now())
            .await?
            .ok_or(AppError::Unauthorized)
    }
}

/// How long a patient's or guest's link keeps working after its visit ended (any terminal
/// status: completed, declined, left, no-show, cancelled), by the server's clock: long enough
/// to read the last word on the waiting screen again, short enough that an old link in a text
/// message or a browser's history no longer opens anyone's visit. Past it, the pages show
/// "This link has expired" and the API answers 410 with code `link_expired`.
pub const LINK_LIFETIME_AFTER_END: Span = Span::from_secs(24 * 3600);

/// When a visit ended: the time of its last history entry, once its status is terminal.
pub fn ended_at(visit: &Visit) -> Option<Timestamp> {
    if !visit.status.is_terminal() {
        return None;
    }
    visit.history.last().map(|h| h.at)
}

impl PatientAuth {
    /// The visit a patient token opens at `now`; None for anything that is not a patient
    /// token we know, [`AppError::LinkExpired`] for one whose visit ended too long ago.
    pub async fn from_token(
        store: &dyn crate::store::Store,
        token: &str,
        now: Timestamp,
    ) -> Result<Option<Self>, AppError> {
        if !token.starts_with(PATIENT_TOKEN_PREFIX) || token.len() > 200 {
            return Ok(None);
        }
        let token_hash = token_hash(token);
        let Some((visit, guest)) = store.visit_for_token(&token_hash).await? else {
            return Ok(None);
        };
        if ended_at(&visit).is_some_and(|end| end + LINK_LIFETIME_AFTER_END <= now) {
            return Err(AppError::LinkExpired);
        }
        Ok(Some(Self {
            visit,
            token_hash,
            guest,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_only_their_hash_is_kept() {
        let a = new_token(STAFF_TOKEN_PREFIX).unwrap();
        let b = new_token(STAFF_TOKEN_PREFIX).unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 4 + 64);
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
    }

    #[test]
    fn secrets_verify_only_with_the_right_value() {
        let h = hash_secret("correct horse", HashCost::Fast).unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_secret("correct horse", &h));
        assert!(!verify_secret("wrong horse", &h));
        assert!(!verify_secret("correct horse", "not a hash"));
    }

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
