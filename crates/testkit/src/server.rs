//! The server rig: the real clinic server started in this process on 127.0.0.1:0, on a fresh
//! SQLite file in a temp dir or a fresh PostgreSQL database ([`Backend`]), with fast password
//! hashing and, when asked, the demo clinic seeded. It can be stopped and started again on the
//! same address and database, which is how suites test what survives a restart; on PostgreSQL
//! more replicas can serve the same database ([`TestServer::replica`]).

use crate::pg::PgCluster;
use frontdesk_domain::Timestamp;
use frontdesk_server::demo::{self, DemoClinic};
use frontdesk_server::{Clock, Database, HashCost, RunningServer, Settings};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Once;
use std::time::Duration;
use tempfile::TempDir;
use tokio::net::TcpListener;

/// The database file's name inside the server's temp dir.
const DB_FILE: &str = "clinic.db";

/// Sets up tracing once per test binary; output only when `TEST_LOG` is set (its value is the
/// filter, e.g. `TEST_LOG=frontdesk_server=debug`), so a passing run stays quiet.
pub fn init_tracing() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if let Ok(filter) = std::env::var("TEST_LOG") {
            let filter = if filter.is_empty() {
                "info".into()
            } else {
                filter
            };
            tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_test_writer()
                .init();
        }
    });
}

/// Which store a test server keeps its data in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A fresh SQLite file in the server's temp dir.
    Sqlite,
    /// A fresh database of the test binary's PostgreSQL cluster ([`PgCluster::shared`]).
    Postgres,
}

/// A suite's test, run once on each [`Backend`]: `both_backends!(name);` beside
/// `async fn name(backend: Backend)` makes the tests `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                super::$name($crate::Backend::Sqlite).await
            }

            #[tokio::test]
            async fn postgres() {
                super::$name($crate::Backend::Postgres).await
            }
        }
    )+};
}

/// Starts a server with `settings` on 127.0.0.1:0; gives it and the address it bound.
async fn start_on_a_free_port(settings: &Settings) -> (RunningServer, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("the bound address");
    let running = RunningServer::start(settings.clone(), listener)
        .await
        .expect("the server starts");
    (running, addr)
}

/// How to start a [`TestServer`]: made by [`TestServer::builder`].
#[must_use]
pub struct ServerBuilder {
    dir: TempDir,
    settings: Settings,
    seed_demo: bool,
}

impl std::fmt::Debug for ServerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerBuilder")
            .field("dir", &self.dir.path())
            .field("seed_demo", &self.seed_demo)
            .finish_non_exhaustive()
    }
}

impl ServerBuilder {
    /// Keeps the data in `backend` (SQLite unless told).
    pub fn on(mut self, backend: Backend) -> Self {
        self.settings.database = match backend {
            Backend::Sqlite => Database::Sqlite(self.dir.path().join(DB_FILE)),
            Backend::Postgres => Database::Postgres(PgCluster::shared().fresh_database()),
        };
        self
    }

    /// Seeds the demo clinic (Reception, two providers' rooms, the demo staff) before the
    /// first request, its setup stamped by the server's clock.
    pub fn demo_clinic(mut self) -> Self {
        self.seed_demo = true;
        self
    }

    /// Adjusts the server's settings (a tiny stream buffer, a fast background tick, ...).
    pub fn settings(mut self, adjust: impl FnOnce(&mut Settings)) -> Self {
        adjust(&mut self.settings);
        self
    }

    /// Starts the server's clock at `at`; it flows on from there and the test can move it
    /// with [`TestServer::clock`].
    pub fn clock_at(self, at: Timestamp) -> Self {
        self.settings.clock.set(at);
        self
    }

    /// Starts the server (and seeds the demo clinic if asked).
    pub async fn start(self) -> TestServer {
        init_tracing();
        let (running, addr) = start_on_a_free_port(&self.settings).await;
        let demo = if self.seed_demo {
            let seeded = demo::seed_demo_at(running.store(), HashCost::Fast, &self.settings.clock)
                .await
                .expect("the demo clinic seeds");
            Some(seeded)
        } else {
            None
        };
        TestServer {
            running: Some(running),
            settings: self.settings,
            addr,
            demo,
            http: reqwest::Client::new(),
            dir: self.dir,
        }
    }
}

/// A clinic server running in this process on loopback, with its own temp dir and database.
pub struct TestServer {
    running: Option<RunningServer>,
    /// As started: a restart uses them again (same database, same clock).
    settings: Settings,
    addr: SocketAddr,
    demo: Option<DemoClinic>,
    /// A plain HTTP client for the test's own requests.
    pub http: reqwest::Client,
    dir: TempDir,
}

impl std::fmt::Debug for TestServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestServer")
            .field("addr", &self.addr)
            .field("running", &self.running.is_some())
            .field("dir", &self.dir.path())
            .finish_non_exhaustive()
    }
}

impl TestServer {
    /// A server with the demo clinic seeded and every other setting as the server's default
    /// (but fast password hashing).
    pub async fn with_demo() -> TestServer {
        TestServer::builder().demo_clinic().start().await
    }

    /// [`TestServer::with_demo`] on `backend`.
    pub async fn with_demo_on(backend: Backend) -> TestServer {
        TestServer::builder()
            .on(backend)
            .demo_clinic()
            .start()
            .await
    }

    /// Another server process's worth of server (its own state, port and connections) on
    /// this one's PostgreSQL database, with the same settings and clock: what a second
    /// replica behind a load balancer is. Panics on SQLite (one server per file).
    pub async fn replica(&self) -> TestServer {
        assert!(
            matches!(self.settings.database, Database::Postgres(_)),
            "replicas share a PostgreSQL database; this server is on SQLite"
        );
        let (running, addr) = start_on_a_free_port(&self.settings).await;
        TestServer {
            running: Some(running),
            settings: self.settings.clone(),
            addr,
            demo: self.demo.clone(),
            http: reqwest::Client::new(),
            dir: tempfile::tempdir().expect("a temp dir"),
        }
    }

    /// A server on an empty database.
    pub async fn empty() -> TestServer {
        TestServer::builder().start().await
    }

    /// Settings to adjust before starting: a fresh temp dir and database, fast hashing.
    pub fn builder() -> ServerBuilder {
        let dir = tempfile::tempdir().expect("a temp dir");
        let mut settings = Settings::new(dir.path().join(DB_FILE));
        // Real password hashing costs seconds per sign-in on a busy machine.
        settings.hash_cost = HashCost::Fast;
        ServerBuilder {
            dir,
            settings,
            seed_demo: false,
        }
    }

    /// The running server (its state, store and address). Panics while stopped.
    pub fn server(&self) -> &RunningServer {
        self.running
            .as_ref()
            .expect("the server is stopped: restart it first")
    }

    /// The demo clinic as seeded. Panics if the server was started without it.
    pub fn demo(&self) -> &DemoClinic {
        self.demo
            .as_ref()
            .expect("this server was started without the demo clinic")
    }

    /// The address the server listens on; it stays the same across restarts.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The full URL of `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url())
    }

    /// The server's temp dir (it holds the database; engines' caches can go here too).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The server's SQLite file. Panics for a server on PostgreSQL.
    pub fn db_path(&self) -> std::path::PathBuf {
        self.settings
            .database
            .sqlite_path()
            .expect("this server keeps its data in PostgreSQL, not a file")
            .to_path_buf()
    }

    /// The server's clock: moving it moves the server's time, across restarts too.
    pub fn clock(&self) -> Clock {
        self.settings.clock.clone()
    }

    /// The settings the server runs with.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Stops the server: connections drop; the database stays.
    pub async fn stop(&mut self) {
        if let Some(running) = self.running.take() {
            running.stop().await;
        }
    }

    /// Starts the server again on the same address, database and settings.
    pub async fn restart(&mut self) {
        self.stop().await;
        // The old socket may linger for a moment after the stop.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        let listener = loop {
            match TcpListener::bind(self.addr).await {
                Ok(listener) => break listener,
                Err(e) if tokio::time::Instant::now() > deadline => {
                    panic!("could not bind {} again: {e}", self.addr)
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        };
        let running = RunningServer::start(self.settings.clone(), listener)
            .await
            .expect("the server restarts");
        self.running = Some(running);
    }
}
