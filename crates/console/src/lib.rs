//! The staff console as an application, without Tauri: who is signed in, the running engine,
//! the lock, settings, desktop alerts, the pre-call check and the state the UI draws.
//!
//! What it needs from the computer (the keyring, desktop notifications, starting with the
//! desktop session, cameras and microphones) it asks a [`Host`]; the desktop app (`src-tauri`)
//! implements one over the OS and its Tauri commands are one-line calls into [`Console`], so
//! everything here is tested with a host in memory.
#![forbid(unsafe_code)]

pub mod calendar;
mod console;
#[cfg(feature = "demo")]
pub mod demo;
mod error;
mod host;
mod secrets;
mod settings;
mod state;

pub use console::admin::RoomEntry;
pub use console::precall::{Check, PrecallReport};
pub use console::{Console, Queued};
pub use error::UiError;
pub use frontdesk_client::api::ReportQuery;
pub use host::{Host, MediaDevices};
pub use secrets::{InMemory, Secrets, usable_or_in_memory};
pub use settings::Settings;
pub use state::{AppState, Push, Screen, StateChanges};

/// Desktop alerts the console raises, in the order they come (see [`Console::deliver_alerts`]).
pub type Notices = tokio::sync::mpsc::UnboundedReceiver<frontdesk_domain::alerts::Notice>;
