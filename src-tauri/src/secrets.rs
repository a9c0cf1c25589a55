//! Where the console keeps secrets: the OS keyring (Secret Service on Linux). Behind a small
//! trait so tests use an in-memory store; nothing secret ever goes to a file.

use std::collections::HashMap;
use std::sync::Mutex;

pub trait Secrets: Send + Sync + 'static {
    fn get(&self, key: &str) -> Result<Option<String>, String>;
    fn set(&self, key: &str, value: &str) -> Result<(), String>;
    fn delete(&self, key: &str) -> Result<(), String>;
}

/// The OS keyring, under the service name "frontdesk".
#[derive(Debug, Default)]
pub struct Keyring;

const SERVICE: &str = "frontdesk";

impl Secrets for Keyring {
    fn get(&self, key: &str) -> Result<Option<String>, String> {
        let entry = keyring::Entry::new(SERVICE, key).map_err(|e| e.to_string())?;
        match entry.get_password() {
            Ok(v) => Ok(Some(v)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(e.to_string()),
        }
    }

    fn set(&self, key: &str, value: &str) -> Result<(), String> {
        keyring::Entry::new(SERVICE, key)
            .and_then(|e| e.set_password(value))
            .map_err(|e| e.to_string())
    }

    fn delete(&self, key: &str) -> Result<(), String> {
        let entry = keyring::Entry::new(SERVICE, key).map_err(|e| e.to_string())?;
        match entry.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(e.to_string()),
        }
    }
}

/// Secrets held in memory only (tests, and "do not keep me signed in").
#[derive(Debug, Default)]
pub struct InMemory(Mutex<HashMap<String, String>>);

impl Secrets for InMemory {
    fn get(&self, key: &str) -> Result<Option<String>, String> {
        Ok(self.0.lock().map_err(|e| e.to_string())?.get(key).cloned())
    }

    fn set(&self, key: &str, value: &str) -> Result<(), String> {
        self.0
            .lock()
            .map_err(|e| e.to_string())?
            .insert(key.into(), value.into());
        Ok(())
    }

    fn delete(&self, key: &str) -> Result<(), String> {
        self.0.lock().map_err(|e| e.to_string())?.remove(key);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_keyring_crate_mock_round_trips_through_our_trait() {
        keyring::set_default_credential_builder(keyring::mock::default_credential_builder());
        // The mock keeps nothing between entries; our trait must still say "absent" cleanly.
        let k = Keyring;
        assert_eq!(k.get("nobody").unwrap(), None);
        k.delete("nobody").unwrap();
    }

    #[test]
    fn in_memory_secrets() {
        let s = InMemory::default();
        s.set("token", "abc").unwrap();
        assert_eq!(s.get("token").unwrap().as_deref(), Some("abc"));
        s.delete("token").unwrap();
        assert_eq!(s.get("token").unwrap(), None);
    }
}
