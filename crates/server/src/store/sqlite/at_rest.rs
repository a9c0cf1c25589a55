//! The database encrypted at rest: with a key, every page of the database file and its WAL
//! is encrypted (SQLCipher: AES-256 with an HMAC per page), so a copy of the files, a backup
//! or a stolen disk gives no patient data without the key, which is kept apart from them.

use super::StoreError;
use rusqlite::Connection;

/// At least this many characters of key text (as made by `openssl rand -hex 32`).
pub const DB_KEY_MIN_CHARS: usize = 32;

/// The key the database is encrypted with: 256 bits, derived from the key text given.
#[derive(Clone)]
pub struct DbKey([u8; 32]);

impl std::fmt::Debug for DbKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DbKey(…)")
    }
}

impl DbKey {
    /// From key text of at least [`DB_KEY_MIN_CHARS`] characters. The key is the text's
    /// SHA-256 (with a label of its own), used as SQLCipher's raw key: each connection opens
    /// without a slow key derivation, so the text must be random rather than a password.
    pub fn from_text(text: &str) -> Result<Self, String> {
        use sha2::{Digest, Sha256};
        let text = text.trim();
        if text.chars().count() < DB_KEY_MIN_CHARS {
            return Err(format!(
                "the database key must be at least {DB_KEY_MIN_CHARS} characters (try `openssl rand -hex 32`)"
            ));
        }
        let mut hasher = Sha256::new();
        hasher.update(b"frontdesk database key\0");
        hasher.update(text.as_bytes());
        Ok(Self(hasher.finalize().into()))
    }

    /// From a key file holding the key text.
    pub fn from_file(path: &std::path::Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the database key file {}: {e}", path.display()))?;
        Self::from_text(&text)
    }

    fn hex(&self) -> String {
        crate::auth::hex(&self.0)
    }
}

/// Keys a fresh connection (the first thing done on it), and checks the key opens the file:
/// a wrong key, or a key for a file that was never encrypted, is a clear error rather than
/// a "not a database" later.
pub(super) fn unlock(conn: &Connection, key: &DbKey) -> Result<(), StoreError> {
    conn.execute_batch(&format!("PRAGMA key = \"x'{}'\";", key.hex()))
        .map_err(|e| StoreError::Database(format!("cannot set the database key: {e}")))?;
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    })
    .map(|_| ())
    .map_err(|_| {
        StoreError::Database(
            "the database cannot be read with this key: the key is wrong, or the database \
                 was created without one"
                .into(),
        )
    })
}

/// Whether this SQLite can encrypt (it is SQLCipher).
pub fn encryption_available() -> bool {
    Connection::open_in_memory()
        .and_then(|c| c.query_row("PRAGMA cipher_version", [], |r| r.get::<_, String>(0)))
        .is_ok()
}
