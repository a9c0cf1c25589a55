//! Where the console keeps secrets (sign-in tokens, a station's device token): the OS keyring
//! behind a small trait, or memory when there is no usable keyring. Nothing secret ever goes
//! to a file.

use std::collections::HashMap;
use std::sync::Mutex;

/// A store of secrets by key. Errors are the store's own words, shown to staff as they are.
pub trait Secrets: Send + Sync + 'static {
    fn get(&self, key: &str) -> Result<Option<String>, String>;
    fn set(&self, key: &str, value: &str) -> Result<(), String>;
    fn delete(&self, key: &str) -> Result<(), String>;
}

/// Secrets held in memory only (tests, and a computer without a usable keyring).
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

/// The keyring when it works, else memory: a locked or missing keyring must not stop the
/// console, it only means the person signs in again at each start.
pub fn usable_or_in_memory(keyring: impl Secrets) -> Box<dyn Secrets> {
    let probe = "startup-probe";
    let works = keyring
        .set(probe, "ok")
        .and_then(|_| keyring.delete(probe))
        .is_ok();
    if works {
        Box::new(keyring)
    } else {
        log::warn!("no usable keyring: sign-in will not be remembered");
        Box::new(InMemory::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_memory_secrets() {
        let s = InMemory::default();
        s.set("token", "abc").unwrap();
        assert_eq!(s.get("token").unwrap().as_deref(), Some("abc"));
        s.delete("token").unwrap();
        assert_eq!(s.get("token").unwrap(), None);
    }

    /// A keyring that refuses everything, as a locked one does.
    struct Refusing;

    impl Secrets for Refusing {
        fn get(&self, _: &str) -> Result<Option<String>, String> {
            Err("locked".into())
        }
        fn set(&self, _: &str, _: &str) -> Result<(), String> {
            Err("locked".into())
        }
        fn delete(&self, _: &str) -> Result<(), String> {
            Err("locked".into())
        }
    }

    #[test]
    fn a_keyring_that_refuses_gives_way_to_memory_and_a_working_one_is_kept() {
        let fallback = usable_or_in_memory(Refusing);
        fallback.set("token", "abc").unwrap();
        assert_eq!(fallback.get("token").unwrap().as_deref(), Some("abc"));

        let keyring = InMemory::default();
        keyring.set("kept", "yes").unwrap();
        let chosen = usable_or_in_memory(keyring);
        assert_eq!(chosen.get("kept").unwrap().as_deref(), Some("yes"));
        assert_eq!(
            chosen.get("startup-probe").unwrap(),
            None,
            "the probe is gone"
        );
    }
}
