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

/// A shared store is a store.
impl<T: Secrets> Secrets for std::sync::Arc<T> {
    fn get(&self, key: &str) -> Result<Option<String>, String> {
        (**self).get(key)
    }
    fn set(&self, key: &str, value: &str) -> Result<(), String> {
        (**self).set(key, value)
    }
    fn delete(&self, key: &str) -> Result<(), String> {
        (**self).delete(key)
    }
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
/// console, it only means the person signs in again at each start. Asked at every use, not
/// once at start: a keyring that comes up after the app (an app started with the desktop
/// session, a keyring slow to answer on a busy PC) is used as soon as it answers.
pub fn usable_or_in_memory(keyring: impl Secrets) -> Box<dyn Secrets> {
    Box::new(KeyringOrMemory {
        keyring,
        memory: InMemory::default(),
        warned: std::sync::atomic::AtomicBool::new(false),
    })
}

struct KeyringOrMemory<K> {
    keyring: K,
    memory: InMemory,
    warned: std::sync::atomic::AtomicBool,
}

impl<K: Secrets> KeyringOrMemory<K> {
    fn warn(&self, e: &str) {
        if !self.warned.swap(true, std::sync::atomic::Ordering::Relaxed) {
            log::warn!("the keyring does not answer ({e}): sign-in will not be remembered");
        }
    }
}

impl<K: Secrets> Secrets for KeyringOrMemory<K> {
    fn get(&self, key: &str) -> Result<Option<String>, String> {
        match self.keyring.get(key) {
            Ok(Some(value)) => Ok(Some(value)),
            Ok(None) => self.memory.get(key),
            Err(e) => {
                self.warn(&e);
                self.memory.get(key)
            }
        }
    }

    fn set(&self, key: &str, value: &str) -> Result<(), String> {
        // A keyring slow to answer on a busy PC gets a second chance before memory takes it.
        let stored = self.keyring.set(key, value).or_else(|_| {
            std::thread::sleep(std::time::Duration::from_millis(200));
            self.keyring.set(key, value)
        });
        match stored {
            Ok(()) => {
                // An older copy held while the keyring was away must not outlive this one.
                self.memory.delete(key)
            }
            Err(e) => {
                self.warn(&e);
                self.memory.set(key, value)
            }
        }
    }

    fn delete(&self, key: &str) -> Result<(), String> {
        self.memory.delete(key)?;
        self.keyring.delete(key)
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
    fn a_keyring_that_refuses_gives_way_to_memory_and_a_working_one_is_used() {
        let fallback = usable_or_in_memory(Refusing);
        fallback.set("token", "abc").unwrap();
        assert_eq!(fallback.get("token").unwrap().as_deref(), Some("abc"));
        assert!(
            fallback.delete("token").is_err(),
            "the keyring's refusal is told"
        );
        assert_eq!(fallback.get("token").unwrap(), None, "gone from memory");

        let keyring = std::sync::Arc::new(InMemory::default());
        keyring.set("kept", "yes").unwrap();
        let chosen = usable_or_in_memory(keyring.clone());
        assert_eq!(chosen.get("kept").unwrap().as_deref(), Some("yes"));
        chosen.set("token", "t").unwrap();
        assert_eq!(
            keyring.get("token").unwrap().as_deref(),
            Some("t"),
            "in the keyring"
        );
        chosen.delete("token").unwrap();
        assert_eq!(keyring.get("token").unwrap(), None);
    }

    /// A keyring that is late: refuses until it comes up, then works.
    struct Late(std::sync::atomic::AtomicBool, InMemory);
    impl Secrets for Late {
        fn get(&self, key: &str) -> Result<Option<String>, String> {
            self.up()?;
            self.1.get(key)
        }
        fn set(&self, key: &str, value: &str) -> Result<(), String> {
            self.up()?;
            self.1.set(key, value)
        }
        fn delete(&self, key: &str) -> Result<(), String> {
            self.up()?;
            self.1.delete(key)
        }
    }
    impl Late {
        fn up(&self) -> Result<(), String> {
            if self.0.load(std::sync::atomic::Ordering::Relaxed) {
                Ok(())
            } else {
                Err("not yet".into())
            }
        }
    }

    #[test]
    fn a_keyring_that_comes_up_late_is_used_from_then_on() {
        let late = std::sync::Arc::new(Late(
            std::sync::atomic::AtomicBool::new(false),
            InMemory::default(),
        ));
        let secrets = usable_or_in_memory(late.clone());
        secrets.set("early", "1").unwrap();
        assert_eq!(
            secrets.get("early").unwrap().as_deref(),
            Some("1"),
            "held in memory"
        );
        late.0.store(true, std::sync::atomic::Ordering::Relaxed);
        secrets.set("token", "t").unwrap();
        assert_eq!(
            late.1.get("token").unwrap().as_deref(),
            Some("t"),
            "now in the keyring"
        );
        assert_eq!(
            secrets.get("early").unwrap().as_deref(),
            Some("1"),
            "the early one still read"
        );
    }
}
