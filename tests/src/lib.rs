//! What only the whole-system tests in `tests/tests/` need, on top of the test kit's server
//! rig and patients: the demo clinic staffed for consoles, console engines signed in as demo
//! staff, a TCP proxy that can cut every connection at will, the desktop alerts the app
//! raised, and the release app started and measured for the console's benchmarks ([`perf`]).
#![forbid(unsafe_code)]

pub mod e2e;
pub mod notifications;
pub mod perf;

use frontdesk_api::{RoomInfo, Snapshot};
use frontdesk_client::api::ApiClient;
use frontdesk_client::{Engine, EngineConfig};
use frontdesk_domain::alerts::Notice;
use frontdesk_server::demo::DemoClinic;
use frontdesk_server::{RunningServer, Settings};
pub use frontdesk_testkit::Backend;
use frontdesk_testkit::TestServer;
pub use frontdesk_testkit::proxy::CuttingProxy;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// The demo clinic on a server in this process (the test kit's rig), staffed and tuned for
/// consoles: the receptionist is available, heartbeats come often, sign-ins and arrivals are
/// not rate limited (a test signs in many consoles and arrives many patients from one address).
#[derive(Debug)]
pub struct TestClinic {
    rig: TestServer,
}

impl TestClinic {
    pub async fn start() -> TestClinic {
        Self::start_with(|_| {}).await
    }

    /// A clinic whose server runs with adjusted settings (a tiny stream buffer, say).
    pub async fn start_with(adjust: impl FnOnce(&mut Settings)) -> TestClinic {
        Self::start_on(Backend::Sqlite, adjust).await
    }

    /// [`TestClinic::start_with`] on `backend`.
    pub async fn start_on(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> TestClinic {
        let rig = TestServer::builder()
            .on(backend)
            .demo_clinic()
            .settings(|s| {
                s.heartbeat = Duration::from_secs(2);
                s.sign_in_failures_per_ip_per_minute = 10_000;
                // Every simulated patient comes from this one address too.
                s.arrivals_per_address_per_minute = 100_000;
                s.arrivals_per_room_per_minute = 100_000;
                s.intake_updates_per_address_per_minute = 100_000;
                adjust(s);
            })
            .start()
            .await;
        // The front desk is staffed: the receptionist is available (and so gets alerts).
        let demo = rig.demo();
        if let Some(rita) = demo.staff_by_email("reception@demo.clinic") {
            let server = rig.server();
            server
                .store()
                .set_availability(
                    demo.clinic.id,
                    rita.id,
                    frontdesk_domain::Availability::Available,
                    server.state.now(),
                )
                .await
                .expect("availability");
        }
        TestClinic { rig }
    }

    /// Another replica of this clinic's server on its PostgreSQL database.
    pub async fn replica(&self) -> TestClinic {
        TestClinic {
            rig: self.rig.replica().await,
        }
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        self.rig.base_url()
    }

    /// The server's address; it stays the same across restarts.
    pub fn addr(&self) -> SocketAddr {
        self.rig.addr()
    }

    /// The server's temp dir, where consoles' caches go too.
    pub fn dir(&self) -> &Path {
        self.rig.dir()
    }

    pub fn demo(&self) -> &DemoClinic {
        self.rig.demo()
    }

    /// The running server. Panics while stopped.
    pub fn server(&self) -> &RunningServer {
        self.rig.server()
    }

    /// Stops the server (connections drop; the database stays).
    pub async fn stop(&mut self) {
        self.rig.stop().await;
    }

    /// Starts the server again on the same address and database.
    pub async fn restart(&mut self) {
        self.rig.restart().await;
    }

    pub fn room(&self, name: &str) -> RoomInfo {
        self.rig.room(name).clone()
    }

    /// A patient comes through the room's front door. Returns the visit id.
    pub async fn arrive(&self, room: &RoomInfo, name: &str) -> String {
        let slug = &self.demo().clinic.slug;
        let room = room.id.to_string();
        frontdesk_testkit::arrive(&self.rig.http, &self.url(), slug, &room, name)
            .await
            .visit_id
    }

    /// Signs a demo account in over HTTP and returns its token.
    pub async fn sign_in(&self, email: &str) -> String {
        let account = demo_account(email);
        ApiClient::new(&self.url())
            .expect("client")
            .sign_in(&self.demo().clinic.slug, email, account.password)
            .await
            .expect("sign in")
            .token
    }

    /// The admin registers a clinic station: its device token.
    pub async fn register_station(&self, name: &str) -> String {
        let admin = self.sign_in("admin@demo.clinic").await;
        ApiClient::new(&self.url())
            .expect("client")
            .register_station(&admin, name)
            .await
            .expect("station registered")
    }

    /// A demo account switches on the station with their PIN: their station session.
    pub async fn switch_on(&self, device: &str, email: &str) -> frontdesk_api::auth::Token {
        let account = demo_account(email);
        ApiClient::new(&self.url())
            .expect("client")
            .switch_on_station(device, email, account.pin)
            .await
            .expect("switched on")
    }

    /// How many event streams the server has opened so far.
    pub fn streams_opened(&self) -> u64 {
        self.server().state.streams_opened()
    }

    /// The server's view of the clinic for `token`.
    pub async fn snapshot(&self, token: &str) -> Snapshot {
        ApiClient::new(&self.url())
            .expect("client")
            .snapshot(token)
            .await
            .expect("snapshot")
    }
}

/// A demo account by its email.
fn demo_account(email: &str) -> &'static frontdesk_server::demo::DemoAccount {
    frontdesk_server::demo::ACCOUNTS
        .iter()
        .find(|a| a.email == email)
        .expect("demo account")
}

/// A console engine for one member of staff, with its cache file and its desktop notices.
#[allow(missing_debug_implementations)]
pub struct Console {
    pub engine: Engine,
    pub notices: mpsc::UnboundedReceiver<Notice>,
    pub cache: PathBuf,
    pub token: String,
}

impl Console {
    pub fn start(server_url: &str, cache: PathBuf, token: &str) -> Console {
        Self::start_with(server_url, cache, token, |_| {})
    }

    /// A console whose engine runs with adjusted settings.
    pub fn start_with(
        server_url: &str,
        cache: PathBuf,
        token: &str,
        adjust: impl FnOnce(&mut EngineConfig),
    ) -> Console {
        // One key per cache file, as the console keeps one per person in the keyring.
        let mut config = EngineConfig::new(server_url, cache.clone(), cache_key_for(&cache));
        config.dead_after = Duration::from_secs(6);
        adjust(&mut config);
        let (engine, notices) =
            Engine::start(config, Arc::new(token.to_string())).expect("engine starts");
        Console {
            engine,
            notices,
            cache,
            token: token.to_string(),
        }
    }

    /// The next notice, waiting for it up to `limit` (a hang guard, not a speed check).
    pub async fn next_notice(&mut self, limit: Duration) -> Notice {
        tokio::time::timeout(limit, self.notices.recv())
            .await
            .expect("a desktop notice in time")
            .expect("engine running")
    }

    /// Every notice received so far.
    pub fn drain_notices(&mut self) -> Vec<Notice> {
        let mut out = Vec::new();
        while let Ok(n) = self.notices.try_recv() {
            out.push(n);
        }
        out
    }
}

/// Waits until `check` holds, re-checking whenever the engine reports a change (and at least
/// every 100 ms). Panics with `what` after `limit`: a hang, not a speed measurement.
pub async fn eventually(engine: &Engine, limit: Duration, what: &str, check: impl Fn() -> bool) {
    let mut changes = engine.changes();
    let deadline = tokio::time::Instant::now() + limit;
    while !check() {
        if tokio::time::Instant::now() > deadline {
            panic!("timed out waiting for: {what}");
        }
        let _ = tokio::time::timeout(Duration::from_millis(100), changes.changed()).await;
    }
}

/// A fixed key for a cache file: a console restarted on the same file opens it again.
pub fn cache_key_for(cache: &Path) -> frontdesk_client::CacheKey {
    let name = cache.to_string_lossy();
    let mut key = [0u8; 32];
    for (i, b) in name.bytes().enumerate() {
        key[i % 32] = key[i % 32].wrapping_mul(31).wrapping_add(b);
    }
    frontdesk_client::CacheKey::from_bytes(key)
}
