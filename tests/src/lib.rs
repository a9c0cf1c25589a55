//! Shared pieces for the whole-system tests in `tests/tests/`: a real clinic server on
//! loopback with the demo clinic seeded, simulated patients who arrive over HTTP, console
//! engines signed in as demo staff, and a TCP proxy that can cut every connection at will.
#![forbid(unsafe_code)]

pub mod e2e;

use frontdesk_api::{RoomInfo, Snapshot};
use frontdesk_client::api::ApiClient;
use frontdesk_client::{Engine, EngineConfig};
use frontdesk_domain::alerts::Notice;
use frontdesk_server::demo::{DemoClinic, seed_demo};
use frontdesk_server::{HashCost, RunningServer, Settings};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, mpsc};

/// A clinic server running in this process on 127.0.0.1, with the demo clinic seeded.
#[allow(missing_debug_implementations)]
pub struct TestClinic {
    pub server: Option<RunningServer>,
    pub demo: DemoClinic,
    pub addr: SocketAddr,
    pub dir: tempfile::TempDir,
    http: reqwest::Client,
}

impl TestClinic {
    pub async fn start() -> TestClinic {
        Self::start_with(|_| {}).await
    }

    /// A clinic whose server runs with adjusted settings (a tiny stream buffer, say).
    pub async fn start_with(adjust: impl Fn(&mut Settings)) -> TestClinic {
        let dir = tempfile::tempdir().expect("temp dir");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let mut settings = Self::settings(dir.path());
        adjust(&mut settings);
        let server = RunningServer::start(settings, listener)
            .await
            .expect("server starts");
        let demo = seed_demo(server.store(), HashCost::Fast)
            .await
            .expect("demo seeds");
        // The front desk is staffed: the receptionist is available (and so gets alerts).
        if let Some(rita) = demo.staff_by_email("reception@demo.clinic") {
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
        TestClinic {
            server: Some(server),
            demo,
            addr,
            dir,
            http: reqwest::Client::new(),
        }
    }

    fn settings(dir: &Path) -> Settings {
        let mut settings = Settings::new(dir.join("clinic.db"));
        settings.hash_cost = HashCost::Fast;
        settings.heartbeat = Duration::from_secs(2);
        settings.sign_in_failures_per_ip_per_minute = 10_000;
        settings
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops the server (connections drop; the database stays).
    pub async fn stop(&mut self) {
        if let Some(server) = self.server.take() {
            server.stop().await;
        }
    }

    /// Starts the server again on the same address and database.
    pub async fn restart(&mut self) {
        self.stop().await;
        let listener = loop {
            match TcpListener::bind(self.addr).await {
                Ok(l) => break l,
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        };
        self.server = Some(
            RunningServer::start(Self::settings(self.dir.path()), listener)
                .await
                .expect("server restarts"),
        );
    }

    pub fn room(&self, name: &str) -> RoomInfo {
        self.demo
            .rooms
            .iter()
            .chain(std::iter::once(&self.demo.reception))
            .find(|r| r.name == name)
            .cloned()
            .unwrap_or_else(|| panic!("no room {name}"))
    }

    /// A patient comes through the room's front door. Returns the visit id.
    pub async fn arrive(&self, room: &RoomInfo, name: &str) -> String {
        let resp = self
            .http
            .post(format!(
                "{}/v1/join/{}/{}",
                self.url(),
                self.demo.clinic.slug,
                room.id
            ))
            .json(&json!({ "name": name, "phone": "+61 400 000 001" }))
            .send()
            .await
            .expect("arrive request");
        assert!(resp.status().is_success(), "arrive: {}", resp.status());
        let body: Value = resp.json().await.expect("arrive body");
        body["visit"]["id"].as_str().expect("visit id").to_string()
    }

    /// Signs a demo account in over HTTP and returns its token.
    pub async fn sign_in(&self, email: &str) -> String {
        let account = frontdesk_server::demo::ACCOUNTS
            .iter()
            .find(|a| a.email == email)
            .expect("demo account");
        ApiClient::new(&self.url())
            .expect("client")
            .sign_in(&self.demo.clinic.slug, email, account.password)
            .await
            .expect("sign in")
            .token
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
        let mut config = EngineConfig::new(server_url, cache.clone());
        config.dead_after = Duration::from_secs(6);
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

/// A TCP proxy on loopback in front of the server, which can cut every open connection.
#[derive(Debug)]
pub struct CuttingProxy {
    pub addr: SocketAddr,
    cut: Arc<Notify>,
    down: Arc<AtomicBool>,
}

impl CuttingProxy {
    pub async fn start(upstream: SocketAddr) -> CuttingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy addr");
        let cut = Arc::new(Notify::new());
        let down = Arc::new(AtomicBool::new(false));
        let (c, d) = (cut.clone(), down.clone());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if d.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let cut = c.clone();
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    let (mut cr, mut cw) = client.into_split();
                    let (mut sr, mut sw) = server.into_split();
                    tokio::select! {
                        _ = tokio::io::copy(&mut cr, &mut sw) => {}
                        _ = tokio::io::copy(&mut sr, &mut cw) => {}
                        _ = cut.notified() => {}
                    }
                });
            }
        });
        CuttingProxy { addr, cut, down }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Drops every connection open now.
    pub fn cut(&self) {
        self.cut.notify_waiters();
    }

    /// While down, new connections are refused at once.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
        if down {
            self.cut();
        }
    }
}
