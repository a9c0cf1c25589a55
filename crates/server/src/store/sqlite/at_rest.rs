//! The database encrypted at rest: with a key, every page of the database file and its WAL
//! is encrypted (SQLCipher: AES-256 with an HMAC per page), so a copy of the files, a backup
//! or a stolen disk gives no patient data without the key, which is kept apart from them.

use super::StoreError;
use rusqlite::Connection;

const DB_KEY: (&str, &[u8]) = ("database key", b"frontdesk database key\0");

/// The key the database is encrypted with: 256 bits, derived from the key text given.
#[derive(Clone)]
pub struct DbKey([u8; 32]);

impl std::fmt::Debug for DbKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DbKey(…)")
    }
}

impl DbKey {
    /// From key text of at least 32 characters. The key is the text's SHA-256 (with a label
    /// of its own), used as SQLCipher's raw key: each connection opens without a slow key
    /// derivation, so the text must be random rather than a password.
    pub fn from_text(text: &str) -> Result<Self, String> {
        crate::auth::secrets::key_from_text(DB_KEY.0, DB_KEY.1, text).map(Self)
    }

    /// From a key file holding the key text.
    pub fn from_file(path: &std::path::Path) -> Result<Self, String> {
        crate::auth::secrets::key_from_file(DB_KEY.0, DB_KEY.1, path).map(Self)
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
