//! What every handler shares: the settings the server was started with and the state built
//! from them (the store, the sign-in limiters, the session cache, pending departures). It sits
//! below the router so handlers reach it without importing the module that assembles them.

use crate::auth::limits::{RateLimiter, SessionCache};
use crate::auth::secrets::HashCost;
use crate::clock::Clock;
use crate::error::AppError;
use crate::events::LiveBudget;
use crate::messages::transport::Transports;
use crate::store::Store;
use crate::store::sqlite::SqliteStore;
use frontdesk_domain::Timestamp;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Settings {
    /// The SQLite file (created if missing).
    pub db_path: PathBuf,
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
    /// A request taking longer than this is answered 408.
    pub request_timeout: Duration,
    /// How long a password sign-in lasts.
    pub session_ttl: Duration,
    /// How long a PIN switch on a station lasts.
    pub station_session_ttl: Duration,
    /// Idle time before the stream sends a heartbeat.
    pub heartbeat: Duration,
    /// Live events a stream may fall behind by; one further behind is told to resync.
    pub stream_buffer: usize,
    /// Bytes of live events a stream may fall behind by; one further behind is told to resync.
    /// All of a clinic's streams together hold no more than this (see [`crate::events`]).
    pub stream_buffer_bytes: usize,
    /// A stream whose frame has not gone out within this long is closed: the console is gone
    /// or cannot keep up, and it catches up by pages when it comes back.
    pub stream_write_timeout: Duration,
    /// Failed sign-ins allowed per email (and per station) per minute.
    pub sign_in_failures_per_minute: usize,
    /// Failed sign-ins allowed per client address per minute.
    pub sign_in_failures_per_ip_per_minute: usize,
    /// Cost of hashing passwords created through the API.
    pub hash_cost: HashCost,
    /// How long a resolved session is trusted before it is read again (zero: every request).
    pub session_cache_ttl: Duration,
    /// The time everything reads (see [`Clock`]).
    pub clock: Clock,
    /// Where patients reach this server, for links in emails and texts
    /// (`https://clinic.example`); by default the address it listens on.
    pub public_url: Option<String>,
    /// How email and SMS go out (none set up: such messages are recorded as failed).
    pub transports: Transports,
    /// How often the background work runs: notifying, delivering, timers.
    pub background_tick: Duration,
    /// A scheduled session no guest joined is a no-show this long after its start.
    pub no_show_after: Duration,
    /// How often old idempotency records and sessions are swept (see [`crate::store::Store::sweep`]).
    pub sweep_every: Duration,
    /// How long a patient's link works while its visit is open, from when the visit opened
    /// (a booked session: from its start); past it the page says the link has expired.
    pub open_link_lifetime: Duration,
    /// The secret links are derived from (guests' links, retried arrivals' answers), given
    /// from outside; without it, the one kept in the database.
    pub link_secret: Option<crate::links::LinkSecret>,
}

impl Settings {
    pub fn new(db_path: impl Into<PathBuf>) -> Self {
        Self {
            db_path: db_path.into(),
            body_limit: 64 * 1024,
            request_timeout: Duration::from_secs(15),
            session_ttl: Duration::from_secs(12 * 3600),
            station_session_ttl: Duration::from_secs(8 * 3600),
            heartbeat: Duration::from_secs(10),
            stream_buffer: 4096,
            stream_buffer_bytes: LiveBudget::DEFAULT_BYTES,
            stream_write_timeout: Duration::from_secs(5),
            sign_in_failures_per_minute: 10,
            sign_in_failures_per_ip_per_minute: 100,
            hash_cost: HashCost::Standard,
            session_cache_ttl: Duration::from_secs(2),
            clock: Clock::system(),
            public_url: None,
            transports: Transports::default(),
            background_tick: Duration::from_secs(1),
            no_show_after: Duration::from_secs(30 * 60),
            sweep_every: Duration::from_secs(60),
            open_link_lifetime: Duration::from_secs(12 * 3600),
            link_secret: None,
        }
    }
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub settings: Arc<Settings>,
    pub email_limiter: Arc<RateLimiter>,
    pub ip_limiter: Arc<RateLimiter>,
    pub sessions: Arc<SessionCache>,
    pub departures: Arc<crate::departures::Departures>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, settings: Settings) -> Self {
        let minute = Duration::from_secs(60);
        Self {
            email_limiter: Arc::new(RateLimiter::new(
                settings.sign_in_failures_per_minute,
                minute,
            )),
            ip_limiter: Arc::new(RateLimiter::new(
                settings.sign_in_failures_per_ip_per_minute,
                minute,
            )),
            sessions: Arc::new(SessionCache::new(settings.session_cache_ttl)),
            departures: Arc::default(),
            store,
            settings: Arc::new(settings),
        }
    }

    /// The time now, by the server's clock.
    pub fn now(&self) -> Timestamp {
        self.settings.clock.now()
    }

    /// Opens the SQLite store the settings name (running its migrations).
    pub fn open(settings: Settings) -> Result<Self, AppError> {
        let live = LiveBudget {
            events: settings.stream_buffer,
            bytes: settings.stream_buffer_bytes,
        };
        let store = SqliteStore::open_with_secret(
            &settings.db_path,
            live,
            settings.link_secret.as_ref().map(|s| *s.bytes()),
        )?;
        Ok(Self::new(Arc::new(store), settings))
    }
}
