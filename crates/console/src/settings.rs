//! The console's preferences, kept in a small JSON file in the app's data folder. Nothing
//! secret: the token lives in the keyring.

use serde::{Deserialize, Serialize};
use std::path::Path;

/// What staff can change in the settings dialog.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(default)]
pub struct Settings {
    pub sound: bool,
    /// Lock the console after this many idle minutes; 0 never locks.
    pub lock_after_minutes: u32,
    pub quick_messages: Vec<String>,
    /// Only the first patient in a room's queue raises a desktop alert.
    pub first_in_queue_only: bool,
    pub autostart: bool,
    /// Locking this console (by hand or when idle) sets me unavailable; unlocking sets back
    /// what I had.
    pub unavailable_when_locked: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            sound: true,
            lock_after_minutes: 10,
            quick_messages: vec![
                "We are running 5 minutes late".into(),
                "A provider will be with you shortly".into(),
                "Please check your camera and microphone".into(),
            ],
            first_in_queue_only: false,
            autostart: false,
            unavailable_when_locked: false,
        }
    }
}

/// Everything remembered between runs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct Prefs {
    /// The clinic address as typed at sign-in, e.g. `https://api.harbourhealth.org/harbour`.
    pub(crate) server: Option<String>,
    pub(crate) email: Option<String>,
    /// Keep me signed in on this computer (the token is in the keyring).
    pub(crate) remember: bool,
    pub(crate) settings: Settings,
}

impl Prefs {
    pub(crate) fn load(path: &Path) -> Prefs {
        std::fs::read_to_string(path)
            .ok()
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default()
    }

    pub(crate) fn save(&self, path: &Path) -> Result<(), String> {
        let text = serde_json::to_string_pretty(self).map_err(|e| e.to_string())?;
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, text).map_err(|e| e.to_string())?;
        std::fs::rename(&tmp, path).map_err(|e| e.to_string())
    }
}

/// A clinic address splits into the API's base URL and the clinic's short name: the last path
/// segment names the clinic (`https://api.harbourhealth.org/harbour` → base
/// `https://api.harbourhealth.org`, clinic `harbour`). The reserved example hosts are refused:
/// an address on one is the sign-in box's sample, typed as it stands.
pub(crate) fn split_clinic_address(address: &str) -> Result<(String, String), String> {
    let address = address.trim().trim_end_matches('/');
    let rest = address
        .strip_prefix("https://")
        .or_else(|| address.strip_prefix("http://"))
        .ok_or("The clinic address starts with https:// (or http:// on this computer).")?;
    let host_name = rest.split(['/', ':']).next().unwrap_or_default();
    if is_example_host(host_name) {
        return Err(format!(
            "{host_name} is only an example. Type your clinic's own address, as your clinic's \
             admin gave it to you (the server, then your clinic's short name)."
        ));
    }
    let (host, path) = rest.split_once('/').ok_or(
        "The address needs your clinic's short name at the end, after a slash \
         (the server, then the clinic: https://<server>/<clinic>). Your clinic's admin has it.",
    )?;
    let (prefix, clinic) = match path.rsplit_once('/') {
        Some((prefix, clinic)) => (format!("/{prefix}"), clinic),
        None => (String::new(), path),
    };
    if host.is_empty() || clinic.is_empty() {
        return Err("That does not look like a clinic address.".into());
    }
    let scheme = &address[..address.len() - rest.len()];
    Ok((format!("{scheme}{host}{prefix}"), clinic.to_string()))
}

/// Hosts reserved for examples (RFC 2606): an address on one is a sample copied, never a
/// clinic's server.
fn is_example_host(host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    [
        "example.org",
        "example.com",
        "example.net",
        "example",
        "invalid",
    ]
    .iter()
    .any(|reserved| host == *reserved || host.ends_with(&format!(".{reserved}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clinic_addresses_name_the_server_and_the_clinic() {
        assert_eq!(
            split_clinic_address(" https://api.harbourhealth.org/harbour/ ").unwrap(),
            ("https://api.harbourhealth.org".into(), "harbour".into())
        );
        assert_eq!(
            split_clinic_address("http://127.0.0.1:7878/demo").unwrap(),
            ("http://127.0.0.1:7878".into(), "demo".into())
        );
        assert_eq!(
            split_clinic_address("https://host/api/v2/harbour").unwrap(),
            ("https://host/api/v2".into(), "harbour".into())
        );
        assert!(split_clinic_address("https://api.harbourhealth.org").is_err());
        assert!(split_clinic_address("api.harbourhealth.org/harbour").is_err());
    }

    #[test]
    fn the_sample_address_is_not_taken_for_a_clinic() {
        // The sign-in box's placeholder, typed as it stands, with or without a clinic.
        for sample in [
            "https://clinic.example.org",
            "https://frontdesk.example.org/your-clinic",
            "https://EXAMPLE.com:8443/north",
        ] {
            let err = split_clinic_address(sample).unwrap_err();
            assert!(err.contains("only an example"), "{sample}: {err}");
        }
        let err = split_clinic_address("https://frontdesk.harbourhealth.org").unwrap_err();
        assert!(err.contains("clinic's short name at the end"), "{err}");
        assert!(!err.contains("Add your clinic's name"), "{err}");
    }

    #[test]
    fn prefs_survive_a_restart_and_a_bad_file_is_not_fatal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        assert_eq!(Prefs::load(&path), Prefs::default());
        let mut prefs = Prefs {
            email: Some("rita@demo.clinic".into()),
            ..Prefs::default()
        };
        prefs.settings.lock_after_minutes = 3;
        prefs.save(&path).unwrap();
        assert_eq!(Prefs::load(&path), prefs);
        std::fs::write(&path, "{not json").unwrap();
        assert_eq!(Prefs::load(&path), Prefs::default());
    }
}
