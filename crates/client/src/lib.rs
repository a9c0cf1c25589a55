//! The console's engine: everything the staff console does that is not drawing pixels.
//!
//! - [`api`]: the clinic API over HTTP; [`engine`]: the live stream, catch-up and resync, and
//!   the outbox that sends staff actions exactly once, in order, across crashes;
//! - [`store`]: the local SQLite cache and outbox; [`state`]: the confirmed clinic state;
//! - [`view`]: what the UI draws: confirmed state with pending actions laid on top;
//!   [`rows`]: its rows kept between looks, and what changed since a screen was sent them.
//!
//! No Tauri here: the desktop shell is a thin adapter, and tests drive this crate directly
//! against a real server.
#![forbid(unsafe_code)]

pub mod admin;
pub mod api;
pub mod engine;
pub mod error;
pub mod rows;
pub mod seal;
pub mod state;
pub mod store;
pub mod view;

pub use engine::{Engine, EngineConfig, TokenProvider};
pub use error::ClientError;
pub use seal::CacheKey;
