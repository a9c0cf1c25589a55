//! The computer under the console, for the console crate's [`Host`]: the OS keyring, desktop
//! notifications (notify-rust, clicking one brings the window forward on that visit), the
//! autostart plugin, the cameras and microphones Linux lists under /dev, and links opened in
//! the browser through the opener plugin, and exported files saved in the downloads folder.

use frontdesk_console::{Host, MediaDevices, Secrets};
use frontdesk_domain::alerts::Notice;
use tauri::{AppHandle, Emitter, Manager, Runtime};

/// The desktop the app runs on.
pub struct DesktopHost<R: Runtime> {
    app: AppHandle<R>,
    secrets: Box<dyn Secrets>,
}

impl<R: Runtime> std::fmt::Debug for DesktopHost<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DesktopHost").finish_non_exhaustive()
    }
}

impl<R: Runtime> DesktopHost<R> {
    /// The desktop of `app`, keeping secrets in `secrets`.
    pub fn new(app: AppHandle<R>, secrets: Box<dyn Secrets>) -> Self {
        DesktopHost { app, secrets }
    }
}

impl<R: Runtime> Host for DesktopHost<R> {
    fn secrets(&self) -> &dyn Secrets {
        self.secrets.as_ref()
    }

    fn alert(&self, notice: &Notice, sound: bool) {
        let alert = desktop_alert(notice, sound);
        let app = self.app.clone();
        let visit = notice.visit_id.to_string();
        // Waiting for a click blocks: one thread per alert on screen.
        std::thread::spawn(move || match alert.show() {
            Ok(handle) => handle.wait_for_action(|action| {
                if action == "default" {
                    crate::show_main(&app);
                    let _ = app.emit("focus_visit", serde_json::json!({ "visit_id": visit }));
                }
            }),
            Err(e) => log::warn!("desktop notification failed: {e}"),
        });
    }

    fn notification_service(&self) -> Result<String, String> {
        notify_rust::get_server_information()
            .map(|info| format!("{} {}", info.name, info.version))
            .map_err(|e| e.to_string())
    }

    fn set_autostart(&self, on: bool) -> Result<(), String> {
        // Absent when the plugin is not loaded (the mock runtime in tests).
        let Some(launcher) = self
            .app
            .try_state::<tauri_plugin_autostart::AutoLaunchManager>()
        else {
            return Ok(());
        };
        let done = if on {
            launcher.enable()
        } else {
            launcher.disable()
        };
        done.map_err(|e| e.to_string())
    }

    fn media_devices(&self) -> MediaDevices {
        // Capture devices are the sound cards' PCM entries ending in 'c'.
        let microphones = count_entries("/dev/snd", |name| {
            name.starts_with("pcmC") && name.ends_with('c')
        });
        MediaDevices {
            cameras: count_entries("/dev", |name| name.starts_with("video")),
            microphones,
        }
    }

    fn open_link(&self, url: &str) -> Result<(), String> {
        // Absent when the plugin is not loaded (the mock runtime in tests).
        let Some(opener) = self.app.try_state::<tauri_plugin_opener::Opener<R>>() else {
            return Err("this app cannot open links".into());
        };
        opener
            .open_url(url, link_opener())
            .map_err(|e| e.to_string())
    }

    fn save_download(&self, file_name: &str, contents: &[u8]) -> Result<String, String> {
        let dir = self.app.path().download_dir().map_err(|e| e.to_string())?;
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        // Only the name's last part: a name never writes outside the downloads.
        let name = std::path::Path::new(file_name)
            .file_name()
            .ok_or("no file name")?;
        let path = dir.join(name);
        std::fs::write(&path, contents).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(path.display().to_string())
    }
}

/// The program that opens links instead of the desktop's default browser, if
/// `FRONTDESK_OPENER` names one (like `BROWSER`: a kiosk's own browser, or a test's recorder).
pub fn link_opener() -> Option<String> {
    std::env::var("FRONTDESK_OPENER")
        .ok()
        .filter(|p| !p.trim().is_empty())
}

fn count_entries(dir: &str, wanted: impl Fn(&str) -> bool) -> usize {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| wanted(&e.file_name().to_string_lossy()))
                .count()
        })
        .unwrap_or(0)
}

/// The sound an alert asks the desktop to play (a freedesktop sound theme name).
pub const ALERT_SOUND: &str = "message-new-instant";

/// The desktop notification for a notice: with the alert sound when the setting is on.
pub fn desktop_alert(notice: &Notice, sound: bool) -> notify_rust::Notification {
    let mut n = notify_rust::Notification::new();
    n.appname("Frontdesk")
        .summary(&notice.summary)
        .body(&notice.body)
        .action("default", "Open")
        .hint(notify_rust::Hint::Category("presence.online".into()));
    if sound {
        n.sound_name(ALERT_SOUND);
    }
    n
}

/// The OS keyring (Secret Service on Linux), under the service name "frontdesk".
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
}
