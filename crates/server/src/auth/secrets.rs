//! Tokens and secrets: opaque bearer tokens (random, stored only as SHA-256), tokens derived
//! from the server's secret, and argon2id for passwords and station PINs.

use crate::error::AppError;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use sha2::{Digest, Sha256};

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
}
