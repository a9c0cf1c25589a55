//! Who is asking: opaque bearer tokens (random, stored only as SHA-256, expiring, revocable),
//! argon2id for passwords and station PINs with a bound on how many are checked at once, and
//! the extractors that turn a request into a signed-in staff member or a patient's own visit.
//! How many sign-in attempts one account or address gets is [`crate::limits`]' job.

use crate::error::AppError;
use crate::model::Session;
use crate::state::AppState;
use argon2::password_hash::{Output, PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use frontdesk_domain::{Span, Timestamp, Visit};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
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
    verify_in(secret, hash, &mut Vec::new())
}

/// The most memory a stored hash may ask a check for, in argon2 blocks of 1 KiB: far above
/// what [`HashCost::Standard`] uses (19 MiB), and a hash asking for more is not ours.
const MAX_CHECK_BLOCKS: usize = 256 * 1024;

/// [`verify_secret`] with argon2's working memory in `memory`, grown as needed and kept for
/// the next check. A checking thread reuses one block of memory for all its checks, instead
/// of allocating and freeing tens of MiB each time, which the allocator keeps hold of.
fn verify_in(secret: &str, hash: &str, memory: &mut Vec<Block>) -> bool {
    let Ok(hash) = PasswordHash::new(hash) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (hash.salt, hash.hash) else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) =
        (Algorithm::try_from(hash.algorithm), Params::try_from(&hash))
    else {
        return false;
    };
    let Ok(version) = hash
        .version
        .map_or(Ok(Version::default()), Version::try_from)
    else {
        return false;
    };
    let blocks = params.block_count();
    if blocks > MAX_CHECK_BLOCKS {
        return false;
    }
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let mut computed = vec![0u8; expected.len()];
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(secret.as_bytes(), salt, &mut computed, &mut memory[..blocks])
        .is_ok()
        // `Output` compares in constant time.
        && Output::new(&computed).is_ok_and(|c| c == expected)
}

/// Where password and PIN checks run. Argon2 is slow and memory-hungry on purpose, so checks
/// run on a few threads of their own, one at a time each; a sign-in that finds them all taken
/// waits a short while, then is told the server is busy. Keeping the threads few also keeps
/// the memory the allocator holds on to after each check to a few checks' worth. A sign-in
/// for an email with no account (or no PIN) is checked against a decoy hash of the same cost,
/// so it takes as long as one for a real account and the answer's timing does not tell which
/// emails exist.
pub struct SecretChecks {
    permits: Arc<tokio::sync::Semaphore>,
    wait: Duration,
    jobs: std::sync::mpsc::Sender<Check>,
    run: Arc<AtomicU64>,
}

impl std::fmt::Debug for SecretChecks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretChecks")
            .field("free", &self.permits.available_permits())
            .field("wait", &self.wait)
            .field("run", &self.run())
            .finish_non_exhaustive()
    }
}

/// One check handed to the threads; its permit is let go when the check is done, so a
/// sign-in whose client hung up does not free a turn that is still being used.
struct Check {
    secret: String,
    hash: Option<String>,
    answer: tokio::sync::oneshot::Sender<bool>,
    _turn: tokio::sync::OwnedSemaphorePermit,
}

impl SecretChecks {
    /// `at_once` threads checking (at least one); a sign-in waits up to `wait` for its turn.
    /// The threads end when this is dropped.
    pub fn new(at_once: usize, wait: Duration, cost: HashCost) -> Self {
        let at_once = at_once.max(1);
        let (jobs, queue) = std::sync::mpsc::channel::<Check>();
        let queue = Arc::new(Mutex::new(queue));
        let decoy = Arc::new(OnceLock::<String>::new());
        let run = Arc::new(AtomicU64::new(0));
        for i in 0..at_once {
            let (queue, decoy, run) = (queue.clone(), decoy.clone(), run.clone());
            let checker = move || {
                let mut memory = Vec::new();
                loop {
                    let next = queue
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .recv();
                    let Ok(check) = next else { return };
                    run.fetch_add(1, Ordering::Relaxed);
                    let right = match &check.hash {
                        Some(hash) => verify_in(&check.secret, hash, &mut memory),
                        None => {
                            let decoy = decoy.get_or_init(|| decoy_hash(cost));
                            verify_in(&check.secret, decoy, &mut memory);
                            false
                        }
                    };
                    let _ = check.answer.send(right);
                }
            };
            let spawned = std::thread::Builder::new()
                .name(format!("secret-check-{i}"))
                .spawn(checker);
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a password-check thread");
            }
        }
        Self {
            permits: Arc::new(tokio::sync::Semaphore::new(at_once)),
            wait,
            jobs,
            run,
        }
    }

    /// How many checks have run since the server started (decoys included).
    pub fn run(&self) -> u64 {
        self.run.load(Ordering::Relaxed)
    }

    /// Whether `secret` matches `hash`; with no hash, the decoy is checked and the answer is
    /// no. [`AppError::Busy`] when no check freed up in time.
    pub async fn check(&self, secret: String, hash: Option<String>) -> Result<bool, AppError> {
        let turn = tokio::time::timeout(self.wait, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| AppError::Busy {
                retry_after: Duration::from_secs(1),
            })?
            .map_err(AppError::internal)?;
        let (answer, answered) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Check {
                secret,
                hash,
                answer,
                _turn: turn,
            })
            .map_err(|_| AppError::internal("no password-check thread is running"))?;
        answered
            .await
            .map_err(|_| AppError::internal("a password check ended without an answer"))
    }
}

/// A hash of nothing anyone knows, at the cost new hashes get. Its salt is fixed because only
/// its cost matters, and so making it needs no randomness that could fail.
fn decoy_hash(cost: HashCost) -> String {
    let salt = SaltString::encode_b64(b"frontdesk decoy!").expect("16 bytes is a valid salt");
    hasher(cost)
        .and_then(|h| {
            h.hash_password(b"no account has this secret", &salt)
                .map_err(AppError::internal)
        })
        .map(|h| h.to_string())
        .unwrap_or_default()
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

    #[tokio::test]
    async fn an_unknown_account_costs_a_check_and_is_never_right() {
        let checks = SecretChecks::new(1, Duration::from_secs(5), HashCost::Fast);
        let decoy = decoy_hash(HashCost::Fast);
        assert!(decoy.starts_with("$argon2id$"));
        assert!(!checks.check("anything".into(), None).await.unwrap());
        let real = hash_secret("1234", HashCost::Fast).unwrap();
        assert!(checks.check("1234".into(), Some(real)).await.unwrap());
        assert_eq!(checks.run(), 2);
    }
}
