//! What the console's tests share: a computer in memory, a clinic server on loopback with the
//! demo clinic seeded, and a console on both.

use frontdesk_client::api::ApiClient;
use frontdesk_console::{Console, Host, InMemory, MediaDevices, Notices, Secrets};
use frontdesk_domain::alerts::Notice;
use frontdesk_testkit::server::TestServer;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A computer in memory: secrets in a map, alerts, the autostart entry, the links opened and
/// the files saved written down, a notification service, one camera and no microphone.
#[derive(Debug, Default)]
pub(crate) struct FakeHost {
    pub(crate) secrets: InMemory,
    /// Every alert raised, with whether it asked for the sound.
    pub(crate) alerts: Mutex<Vec<(Notice, bool)>>,
    /// The last autostart the console asked for.
    pub(crate) autostart: Mutex<Option<bool>>,
    /// Every link opened in the browser, in order.
    pub(crate) opened: Mutex<Vec<String>>,
    /// Every file saved to the downloads, by name.
    pub(crate) downloads: Mutex<Vec<(String, Vec<u8>)>>,
}

impl Host for FakeHost {
    fn secrets(&self) -> &dyn Secrets {
        &self.secrets
    }

    fn alert(&self, notice: &Notice, sound: bool) {
        self.alerts.lock().unwrap().push((notice.clone(), sound));
    }

    fn notification_service(&self) -> Result<String, String> {
        Ok("Recorder 1.0".into())
    }

    fn set_autostart(&self, on: bool) -> Result<(), String> {
        *self.autostart.lock().unwrap() = Some(on);
        Ok(())
    }

    fn media_devices(&self) -> MediaDevices {
        MediaDevices {
            cameras: 1,
            microphones: 0,
        }
    }

    fn open_link(&self, url: &str) -> Result<(), String> {
        self.opened.lock().unwrap().push(url.to_owned());
        Ok(())
    }

    fn save_download(&self, file_name: &str, contents: &[u8]) -> Result<String, String> {
        let saved = (file_name.to_owned(), contents.to_vec());
        self.downloads.lock().unwrap().push(saved);
        Ok(format!("/downloads/{file_name}"))
    }
}

pub(crate) struct Rig {
    pub(crate) console: Arc<Console>,
    pub(crate) host: Arc<FakeHost>,
    pub(crate) notices: Option<Notices>,
    /// The clinic's address as staff type it at sign-in.
    pub(crate) address: String,
    /// The clinic server's base URL.
    pub(crate) url: String,
    pub(crate) server: TestServer,
    pub(crate) dir: tempfile::TempDir,
}

/// A signed-out console beside a running clinic.
pub(crate) async fn rig() -> Rig {
    let dir = tempfile::tempdir().unwrap();
    // Every patient in these tests arrives from this one address.
    let server = TestServer::builder()
        .demo_clinic()
        .settings(|s| {
            s.arrivals_per_address_per_minute = 1_000;
            s.intake_updates_per_address_per_minute = 1_000;
        })
        .start()
        .await;
    let host = Arc::new(FakeHost::default());
    let (console, notices) = Console::new(dir.path().join("app"), host.clone());
    Rig {
        console: Arc::new(console),
        host,
        notices: Some(notices),
        address: format!("{}/demo", server.base_url()),
        url: server.base_url(),
        server,
        dir,
    }
}

/// A state as the UI gets it.
pub(crate) fn json(state: &impl serde::Serialize) -> Value {
    serde_json::to_value(state).unwrap()
}

impl Rig {
    /// The state the UI draws, as JSON, once `check` holds (or the test fails after 30 s).
    pub(crate) async fn state_until(&self, what: &str, check: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let state = json(&self.console.app_state());
            if check(&state) {
                return state;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}: {state}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub(crate) async fn sign_in_as_reception(&self) -> Value {
        self.sign_in_reception(false).await
    }

    /// Signed in with "keep me signed in": the token goes to the keyring.
    pub(crate) async fn sign_in_as_reception_kept(&self) -> Value {
        self.sign_in_reception(true).await
    }

    async fn sign_in_reception(&self, remember: bool) -> Value {
        let state = self
            .console
            .sign_in(
                &self.address,
                "reception@demo.clinic",
                "demo-reception",
                remember,
            )
            .await
            .unwrap();
        json(&state)
    }

    /// The admin ends the clinic's one registered station, as when its PC goes missing.
    pub(crate) async fn end_the_station(&self, admin: &str) {
        let http = reqwest::Client::new();
        let stations: Value = http
            .get(format!("{}/v1/stations", self.url))
            .bearer_auth(admin)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = stations[0]["id"].as_str().unwrap();
        let ended = http
            .delete(format!("{}/v1/stations/{id}", self.url))
            .bearer_auth(admin)
            .send()
            .await
            .unwrap();
        assert_eq!(ended.status(), 204);
    }

    /// The clinic's admin, signed in over the API.
    pub(crate) async fn admin(&self) -> (ApiClient, String) {
        let api = ApiClient::new(&self.url).unwrap();
        let token = api
            .sign_in("demo", "admin@demo.clinic", "demo-admin")
            .await
            .unwrap()
            .token;
        (api, token)
    }

    /// The clinic's admin registers this computer as a clinic station; returns the admin's
    /// token.
    pub(crate) async fn make_this_a_station(&self, name: &str) -> String {
        let (api, admin) = self.admin().await;
        let device = api.register_station(&admin, name).await.unwrap();
        self.console.make_station(&device).unwrap();
        admin
    }

    /// A patient comes through Reception's front door; returns the visit id.
    pub(crate) async fn arrive(&self, name: &str) -> String {
        let reception = self.server.room_id("Reception");
        self.server.arrive(&reception, name).await.0
    }
}

/// The visit is in the queue a state shows.
pub(crate) fn in_queue(state: &Value, visit: &str) -> bool {
    state["queue"]
        .as_array()
        .is_some_and(|q| q.iter().any(|r| r["visit_id"] == visit))
}

/// Waits (up to 10 s) until `check` holds: for what the console finishes just after the
/// screen changes, such as deleting a closed session's files.
pub(crate) async fn eventually(what: &str, check: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
