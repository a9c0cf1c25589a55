//! What every handler shares: the settings the server was started with and the state built
//! from them (the store, the budgets of attempts, the password checks, the session cache,
//! pending departures). It sits below the router so handlers reach it without importing the
//! module that assembles them.

use crate::auth::{HashCost, SecretChecks, SessionCache};
use crate::clock::Clock;
use crate::error::AppError;
use crate::events::LiveBudget;
use crate::limits::{Limits, MemoryBudgets};
use crate::messages::transport::Transports;
use crate::store::Store;
use crate::store::postgres::PgStore;
use crate::store::sqlite::SqliteStore;
use frontdesk_domain::Timestamp;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Where the clinics' data is kept.
#[derive(Clone, PartialEq, Eq)]
pub enum Database {
    /// An SQLite file (created if missing): one server process.
    Sqlite(PathBuf),
    /// A PostgreSQL database, by its URL (`postgres://…`): any number of server processes.
    Postgres(String),
}

impl Database {
    /// The SQLite file, when the data is kept in one.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match self {
            Database::Sqlite(path) => Some(path),
            Database::Postgres(_) => None,
        }
    }
}

/// A PostgreSQL URL's password stays out of logs and panics.
impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Database::Sqlite(path) => f.debug_tuple("Sqlite").field(path).finish(),
            Database::Postgres(url) => {
                let shown = match url.split_once("://") {
                    Some((scheme, rest)) => match rest.rsplit_once('@') {
                        Some((_, host)) => format!("{scheme}://…@{host}"),
                        None => url.clone(),
                    },
                    None => "…".into(),
                };
                f.debug_tuple("Postgres").field(&shown).finish()
            }
        }
    }
}

#[derive(Clone, Debug)]
pub struct Settings {
    /// Where the data is kept.
    pub database: Database,
    /// PostgreSQL: connections this process uses at most for requests. A few per database
    /// core in all serve best; many more make commands queue for their clinic's counter row
    /// while its holder waits for a core.
    pub database_connections: usize,
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
    /// Failed sign-ins allowed per email (and per station) per minute. Each attempt counts as
    /// failed from before its check until it proves right, so concurrent guesses cannot
    /// overdraw it.
    pub sign_in_failures_per_minute: usize,
    /// Failed sign-ins allowed per client address per minute.
    pub sign_in_failures_per_ip_per_minute: usize,
    /// Wrong station PINs in a row, across all stations, after which a person's PIN is locked
    /// until they sign in with their password (the clinic's admins are told by email).
    pub pin_tries_before_lock: u32,
    /// How long an admin's password reset link works (once).
    pub password_reset_lifetime: Duration,
    /// Proxies in front of the server (addresses or CIDR ranges) whose `X-Forwarded-For`
    /// names the client address the per-address limits count; from anyone else it is ignored.
    pub trusted_proxies: Vec<crate::limits::TrustedProxy>,
    /// Password and PIN checks (argon2) run at once; the rest wait their turn.
    pub secret_checks_at_once: usize,
    /// How long a sign-in waits for its turn before it is answered 503 `busy`.
    pub secret_check_wait: Duration,
    /// Patients arriving (front door, API, requests to a provider) per client address per minute.
    pub arrivals_per_address_per_minute: usize,
    /// Patients arriving in one room per minute, from anywhere.
    pub arrivals_per_room_per_minute: usize,
    /// Intake saves per client address per minute.
    pub intake_updates_per_address_per_minute: usize,
    /// Intake saves for one visit per minute.
    pub intake_updates_per_visit_per_minute: usize,
    /// A client must send a request's line and headers within this. On HTTP/1 it is counted
    /// from when the connection is ready for its next request, so a silent, dribbling or idle
    /// kept-alive connection is closed after it.
    pub request_head_timeout: Duration,
    /// A connection with nothing read or written for this long is closed (HTTP/2 and live
    /// streams included). Keep it above `heartbeat` and `request_timeout`.
    pub idle_connection_timeout: Duration,
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
    /// The key the database is encrypted with at rest (None: not encrypted).
    pub db_key: Option<crate::store::sqlite::at_rest::DbKey>,
    /// How long audit records are kept; older ones are pruned by the sweep (the chain stays
    /// verifiable from the anchor it leaves). Default six years.
    pub audit_retention: Duration,
}

impl Settings {
    /// Settings for a server on the SQLite file at `db_path`.
    pub fn new(db_path: impl Into<PathBuf>) -> Self {
        Self::on(Database::Sqlite(db_path.into()))
    }

    /// Settings for a server on `database`, every other setting its default.
    pub fn on(database: Database) -> Self {
        Self {
            database,
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
            pin_tries_before_lock: 5,
            password_reset_lifetime: Duration::from_secs(3600),
            trusted_proxies: Vec::new(),
            secret_checks_at_once: 4,
            secret_check_wait: Duration::from_secs(2),
            arrivals_per_address_per_minute: 20,
            arrivals_per_room_per_minute: 120,
            intake_updates_per_address_per_minute: 60,
            intake_updates_per_visit_per_minute: 30,
            request_head_timeout: Duration::from_secs(10),
            idle_connection_timeout: Duration::from_secs(60),
            hash_cost: HashCost::Standard,
            session_cache_ttl: Duration::from_secs(2),
            clock: Clock::system(),
            public_url: None,
            transports: Transports::default(),
            background_tick: Duration::from_secs(1),
            database_connections: 8,
            no_show_after: Duration::from_secs(30 * 60),
            sweep_every: Duration::from_secs(60),
            open_link_lifetime: Duration::from_secs(12 * 3600),
            link_secret: None,
            db_key: None,
            audit_retention: Duration::from_secs(6 * 365 * 24 * 3600),
        }
    }
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub settings: Arc<Settings>,
    pub limits: Arc<Limits>,
    pub secret_checks: Arc<SecretChecks>,
    pub sessions: Arc<SessionCache>,
    pub departures: Arc<crate::departures::Departures>,
    /// How many event streams this process has opened (WebSocket upgrades taken), for
    /// diagnostics and for tests that show a console kept its connection.
    pub streams_opened: Arc<std::sync::atomic::AtomicU64>,
    /// Where reads and security events are recorded (see [`crate::audit`]).
    pub audit: Arc<crate::audit::AuditSink>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// How many event streams this process has opened so far.
    pub fn streams_opened(&self) -> u64 {
        self.streams_opened
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn new(store: Arc<dyn Store>, settings: Settings) -> Self {
        Self {
            limits: Arc::new(Limits::new(
                store
                    .attempt_budgets()
                    .unwrap_or_else(|| Arc::new(MemoryBudgets::default())),
                &settings,
            )),
            secret_checks: Arc::new(SecretChecks::new(
                settings.secret_checks_at_once,
                settings.secret_check_wait,
                settings.hash_cost,
            )),
            // Shared by other processes, a session cached here could outlive its end there.
            sessions: Arc::new(SessionCache::new(if store.shared() {
                Duration::ZERO
            } else {
                settings.session_cache_ttl
            })),
            departures: Arc::new(if store.shared() {
                crate::departures::Departures::shared()
            } else {
                crate::departures::Departures::default()
            }),
            streams_opened: Arc::default(),
            audit: crate::audit::AuditSink::new(store.clone()),
            store,
            settings: Arc::new(settings),
        }
    }

    /// The time now, by the server's clock.
    pub fn now(&self) -> Timestamp {
        self.settings.clock.now()
    }

    /// Opens the store the settings name, SQLite or PostgreSQL (running its migrations).
    pub async fn open(settings: Settings) -> Result<Self, AppError> {
        let live = LiveBudget {
            events: settings.stream_buffer,
            bytes: settings.stream_buffer_bytes,
        };
        let link_secret = settings.link_secret.as_ref().map(|s| *s.bytes());
        let store: Arc<dyn Store> = match &settings.database {
            Database::Sqlite(path) => {
                let options = crate::store::sqlite::OpenOptions {
                    link_secret,
                    key: settings.db_key.clone(),
                };
                Arc::new(SqliteStore::open_with(path, live, options)?)
            }
            Database::Postgres(url) => {
                let connections = settings.database_connections;
                Arc::new(PgStore::connect_with(url, live, link_secret, connections).await?)
            }
        };
        Ok(Self::new(store, settings))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_never_show_a_database_password() {
        let settings = Settings::on(Database::Postgres(
            "postgres://frontdesk:s3cret@db.internal:5432/clinic".into(),
        ));
        let shown = format!("{settings:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("db.internal:5432/clinic"), "{shown}");
    }
}
