//! Sealing what the cache keeps: every row's body is encrypted and authenticated with a key
//! the console keeps in the OS keyring, so the file on a shared front-desk PC holds no patient
//! name, contact or answer in readable form. Each body is bound to its table and row, so a
//! sealed body cannot be moved to another row unnoticed.

use crate::error::ClientError;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use std::fmt;

const NONCE_LEN: usize = 24;

/// The key that opens one console's cache. Kept in the OS keyring beside the session token;
/// without it the cache file is noise.
#[derive(Clone, PartialEq, Eq)]
pub struct CacheKey([u8; 32]);

impl CacheKey {
    /// A fresh random key, for a cache about to be created.
    pub fn generate() -> Result<CacheKey, ClientError> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key)
            .map_err(|e| ClientError::Corrupt(format!("no randomness for a cache key: {e}")))?;
        Ok(CacheKey(key))
    }

    pub fn from_bytes(bytes: [u8; 32]) -> CacheKey {
        CacheKey(bytes)
    }

    /// The key as text, for a keyring entry.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    pub fn from_hex(text: &str) -> Option<CacheKey> {
        let text = text.trim();
        if text.len() != 64 || !text.is_ascii() {
            return None;
        }
        let mut key = [0u8; 32];
        for (i, byte) in key.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(CacheKey(key))
    }
}

impl fmt::Debug for CacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CacheKey(…)")
    }
}

/// Seals and opens row bodies with one key.
pub(crate) struct Sealer {
    cipher: XChaCha20Poly1305,
}

impl fmt::Debug for Sealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sealer")
    }
}

impl Sealer {
    pub(crate) fn new(key: &CacheKey) -> Sealer {
        Sealer {
            cipher: XChaCha20Poly1305::new((&key.0).into()),
        }
    }

    /// A random nonce, then the ciphertext of `plain` bound to `place` (table and row).
    pub(crate) fn seal(&self, place: &str, plain: &[u8]) -> Result<Vec<u8>, ClientError> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce)
            .map_err(|e| ClientError::Corrupt(format!("no randomness for a nonce: {e}")))?;
        let sealed = self
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plain,
                    aad: place.as_bytes(),
                },
            )
            .map_err(|_| ClientError::Corrupt("sealing a cache row failed".into()))?;
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// The plain body, or [`ClientError::CacheKey`] if this key did not seal it for `place`.
    pub(crate) fn open(&self, place: &str, sealed: &[u8]) -> Result<Vec<u8>, ClientError> {
        if sealed.len() < NONCE_LEN {
            return Err(ClientError::CacheKey);
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        self.cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: place.as_bytes(),
                },
            )
            .map_err(|_| ClientError::CacheKey)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_body_opens_only_with_its_key_and_in_its_place() {
        let key = CacheKey::generate().unwrap();
        let sealer = Sealer::new(&key);
        let sealed = sealer.seal("visits:1", b"Ella Parker").unwrap();
        assert!(!sealed.windows(4).any(|w| w == b"Ella"));
        assert_eq!(sealer.open("visits:1", &sealed).unwrap(), b"Ella Parker");
        assert!(matches!(
            sealer.open("visits:2", &sealed),
            Err(ClientError::CacheKey)
        ));
        let other = Sealer::new(&CacheKey::generate().unwrap());
        assert!(matches!(
            other.open("visits:1", &sealed),
            Err(ClientError::CacheKey)
        ));
    }

    #[test]
    fn a_key_survives_the_keyring_as_text() {
        let key = CacheKey::generate().unwrap();
        assert_eq!(CacheKey::from_hex(&key.to_hex()), Some(key.clone()));
        assert_eq!(CacheKey::from_hex("not a key"), None);
        assert_eq!(
            format!("{key:?}"),
            "CacheKey(…)",
            "a key never reaches a log"
        );
    }
}
