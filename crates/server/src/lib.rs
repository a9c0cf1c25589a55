//! Frontdesk's hosted clinic API as a library: the router, its state, the store, the event
//! stream, the demo clinic. The `frontdesk-server` binary is a thin CLI over it; tests and the
//! console's demo mode start it in-process with [`RunningServer::start`].
#![forbid(unsafe_code)]

pub mod admin;
pub mod api;
pub mod app;
pub mod audit;
pub mod auth;
pub mod clock;
pub mod connections;
pub mod demo;
pub mod departures;
pub mod error;
pub mod events;
pub mod hours;
pub mod limits;
pub mod links;
pub mod messages;
pub mod model;
pub mod openapi;
pub mod pages;
pub mod privacy;
pub mod service;
pub mod state;
pub mod store;

pub use app::{RunningServer, launch, router};
pub use auth::HashCost;
pub use clock::Clock;
pub use error::{AppError, ErrorBody};
pub use state::{AppState, Database, Settings};
pub use store::Store;
pub use store::postgres::PgStore;
pub use store::sqlite::SqliteStore;
pub use store::sqlite::at_rest::DbKey;
