//! Tokens and secrets: opaque bearer tokens (random, stored only as SHA-256), tokens derived
//! from the server's secret, and argon2id for passwords and station PINs, checked on a few
//! threads of their own so that a burst of sign-ins cannot take the server's memory.

use crate::error::AppError;
use argon2::password_hash::{Output, PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// Prefixes say what a token is for, so a misplaced one is recognised at a glance in logs.
pub const STAFF_TOKEN_PREFIX: &str = "fds_";
pub const PATIENT_TOKEN_PREFIX: &str = "fdp_";
pub const STATION_TOKEN_PREFIX: &str = "fdd_";
/// A one-time password reset code (sent by email).
pub const RESET_TOKEN_PREFIX: &str = "fdr_";

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

/// Key text an operator gives (a key file, an environment variable) is at least this long:
/// shorter, it is more likely a placeholder than a key.
pub const KEY_TEXT_MIN_CHARS: usize = 32;

/// A 256-bit key from key text: at least [`KEY_TEXT_MIN_CHARS`] characters once trimmed (a
/// key file's last newline is not part of it), hashed under `label` so that one text gives
/// unrelated keys for different uses. `what` names the key in the refusal.
pub fn key_from_text(what: &str, label: &[u8], text: &str) -> Result<[u8; 32], String> {
    let text = text.trim();
    if text.chars().count() < KEY_TEXT_MIN_CHARS {
        return Err(format!(
            "the {what} must be at least {KEY_TEXT_MIN_CHARS} characters (try `openssl rand -hex 32`)"
        ));
    }
    let mut hasher = Sha256::new();
    hasher.update(label);
    hasher.update(text.as_bytes());
    Ok(hasher.finalize().into())
}

/// [`key_from_text`] from a key file holding the text.
pub fn key_from_file(what: &str, label: &[u8], path: &std::path::Path) -> Result<[u8; 32], String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the {what} file {}: {e}", path.display()))?;
    key_from_text(what, label, &text)
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
