//! What the console needs from the computer it runs on, and nothing more: where secrets are
//! kept, desktop alerts, starting with the desktop session, and the devices a video visit
//! needs. The desktop app implements it over the OS; tests implement it in memory.

use crate::secrets::Secrets;
use frontdesk_domain::alerts::Notice;

/// The computer under the console.
pub trait Host: Send + Sync + 'static {
    /// Where sign-in tokens and a station's device token are kept (the OS keyring).
    fn secrets(&self) -> &dyn Secrets;

    /// Shows one desktop alert, with the alert sound or silently. Clicking it should bring the
    /// console forward on the notice's visit.
    fn alert(&self, notice: &Notice, sound: bool);

    /// The desktop's notification service, as its name and version, or why there is none.
    fn notification_service(&self) -> Result<String, String>;

    /// Starts the console with the desktop session from now on, or stops doing so.
    fn set_autostart(&self, on: bool) -> Result<(), String>;

    /// The cameras and microphones this computer has.
    fn media_devices(&self) -> MediaDevices;

    /// Opens a web link in the person's default browser (a call's join link).
    fn open_link(&self, url: &str) -> Result<(), String>;

    /// Saves a file the person asked for (an exported report) where the computer keeps
    /// downloads; answers the path it was saved at.
    fn save_download(&self, file_name: &str, contents: &[u8]) -> Result<String, String> {
        let _ = (file_name, contents);
        Err("this computer has no place for downloads".into())
    }
}

/// How many cameras and microphones a video visit could use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MediaDevices {
    pub cameras: usize,
    pub microphones: usize,
}
