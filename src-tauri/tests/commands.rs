//! The app's commands through Tauri's mock runtime, against a real clinic server on loopback:
//! what the UI gets back when it invokes them.

use frontdesk::console::Console;
use frontdesk::secrets::{InMemory, Secrets};
use frontdesk_client::api::ApiClient;
use frontdesk_server::demo::seed_demo;
use frontdesk_server::{HashCost, RunningServer, Settings};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tauri::test::mock_builder;

mod common;

struct Rig {
    console: Arc<Console>,
    webview: tauri::WebviewWindow<tauri::test::MockRuntime>,
    secrets: Arc<InMemory>,
    address: String,
    /// The clinic server's base URL.
    url: String,
    _server: RunningServer,
    dir: tempfile::TempDir,
}

fn rig() -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("clinic.db");
    let server = tauri::async_runtime::block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut settings = Settings::new(db);
        settings.hash_cost = HashCost::Fast;
        let server = RunningServer::start(settings, listener).await.unwrap();
        seed_demo(server.store(), HashCost::Fast).await.unwrap();
        server
    });
    let secrets = Arc::new(InMemory::default());
    let (console, _notices) = Console::new(dir.path().join("app"), secrets.clone());
    let console = Arc::new(console);
    let app = frontdesk::with_console(mock_builder(), console.clone())
        .build(tauri::generate_context!())
        .unwrap();
    let webview = tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .unwrap();
    Rig {
        console,
        webview,
        secrets,
        address: format!("{}/demo", server.url()),
        url: server.url(),
        _server: server,
        dir,
    }
}

impl Rig {
    fn invoke(&self, cmd: &str, args: Value) -> Result<Value, Value> {
        common::invoke(&self.webview, cmd, args)
    }

    fn state_until(&self, what: &str, check: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let state = self.invoke("app_state", json!({})).unwrap();
            if check(&state) {
                return state;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}: {state}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn sign_in_as_reception(&self) -> Value {
        self.invoke(
            "sign_in",
            json!({"server": self.address, "email": "reception@demo.clinic", "password": "demo-reception", "remember": false}),
        )
        .unwrap()
    }

    /// A patient comes through Reception's front door; returns the visit id.
    fn arrive(&self, name: &str) -> String {
        let url = self.url.clone();
        let name = name.to_string();
        tauri::async_runtime::block_on(async move {
            let api = ApiClient::new(&url).unwrap();
            let token = api
                .sign_in("demo", "admin@demo.clinic", "demo-admin")
                .await
                .unwrap()
                .token;
            let room = api
                .snapshot(&token)
                .await
                .unwrap()
                .rooms
                .into_iter()
                .find(|r| r.name == "Reception")
                .unwrap()
                .id;
            let body: Value = reqwest::Client::new()
                .post(format!("{url}/v1/join/demo/{room}"))
                .json(&json!({"name": name, "phone": "+61400000002"}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            body["visit"]["id"].as_str().unwrap().to_string()
        })
    }
}

#[test]
fn signing_in_keeps_the_token_in_the_keyring_and_shows_the_queue() {
    let rig = rig();
    let state = rig.invoke("app_state", json!({})).unwrap();
    assert_eq!(state["screen"], "sign_in");

    let wrong = rig
        .invoke(
            "sign_in",
            json!({"server": rig.address, "email": "reception@demo.clinic", "password": "nope", "remember": true}),
        )
        .unwrap_err();
    assert_eq!(wrong["code"], "unauthorized");
    assert!(
        rig.secrets
            .get(&format!("token|{}|reception@demo.clinic", rig.url))
            .unwrap()
            .is_none()
    );

    let bad = rig
        .invoke(
            "sign_in",
            json!({"server": "clinic.example.org", "email": "a@b.c", "password": "x", "remember": false}),
        )
        .unwrap_err();
    assert_eq!(bad["code"], "validation");

    let state = rig
        .invoke(
            "sign_in",
            json!({"server": rig.address, "email": "reception@demo.clinic", "password": "demo-reception", "remember": true}),
        )
        .unwrap();
    assert_eq!(state["screen"], "queue");
    assert_eq!(state["me"]["email"], "reception@demo.clinic");
    let token = rig
        .secrets
        .get(&format!("token|{}|reception@demo.clinic", rig.url))
        .unwrap();
    assert!(
        token.is_some_and(|t| !t.is_empty()),
        "the token is in the keyring"
    );
}

#[test]
fn the_lock_hides_every_patient_and_the_password_unlocks() {
    let rig = rig();
    rig.invoke(
        "sign_in",
        json!({"server": rig.address, "email": "reception@demo.clinic", "password": "demo-reception", "remember": false}),
    )
    .unwrap();
    let id = rig.arrive("Hana Sato");
    let state = rig.state_until("the patient in the queue", |s| {
        s["queue"]
            .as_array()
            .is_some_and(|q| q.iter().any(|r| r["visit_id"] == id.as_str()))
    });
    assert!(state.to_string().contains("Hana Sato"));

    let locked = rig.invoke("lock", json!({})).unwrap();
    assert_eq!(locked["screen"], "locked");
    assert!(
        !locked.to_string().contains("Hana Sato"),
        "no patient detail while locked"
    );
    let refused = rig
        .invoke("visit_details", json!({"visitId": id}))
        .unwrap_err();
    assert_eq!(refused["code"], "locked");
    let refused = rig
        .invoke(
            "act",
            json!({"visitId": id, "command": {"command": "claim"}}),
        )
        .unwrap_err();
    assert_eq!(refused["code"], "locked");

    let wrong = rig.invoke("unlock", json!({"pin": "0000"})).unwrap_err();
    assert_eq!(wrong["code"], "unauthorized");
    let open = rig
        .invoke("unlock", json!({"pin": "demo-reception"}))
        .unwrap();
    assert_eq!(open["screen"], "queue");
    assert!(open.to_string().contains("Hana Sato"));
}

#[test]
fn an_action_is_queued_and_its_result_arrives_in_the_state() {
    let rig = rig();
    rig.invoke(
        "sign_in",
        json!({"server": rig.address, "email": "reception@demo.clinic", "password": "demo-reception", "remember": false}),
    )
    .unwrap();
    let id = rig.arrive("Ivo Petrov");
    rig.state_until("the patient in the queue", |s| {
        s["queue"]
            .as_array()
            .is_some_and(|q| q.iter().any(|r| r["visit_id"] == id.as_str()))
    });
    let queued = rig
        .invoke(
            "act",
            json!({"visitId": id, "command": {"command": "claim"}}),
        )
        .unwrap();
    assert!(queued["action_id"].as_str().is_some_and(|a| !a.is_empty()));
    let state = rig.state_until("the claim confirmed", |s| {
        s["queue"].as_array().is_some_and(|q| {
            q.iter()
                .any(|r| r["visit_id"] == id.as_str() && r["status"] == "in_call")
        })
    });
    let row = state["queue"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["visit_id"] == id.as_str())
        .unwrap()
        .clone();
    assert_eq!(row["in_call"][0]["name"], "Rita Reception");

    let details = rig.invoke("visit_details", json!({"visitId": id})).unwrap();
    assert_eq!(details["patient"]["name"], "Ivo Petrov");
    assert!(details["history"].as_array().unwrap().len() >= 2);

    let bad = rig
        .invoke(
            "act",
            json!({"visitId": "not-an-id", "command": {"command": "claim"}}),
        )
        .unwrap_err();
    assert_eq!(bad["code"], "not_found");

    let state = rig
        .invoke("set_availability", json!({"availability": "away"}))
        .unwrap();
    assert_eq!(state["me"]["availability"], "away", "shown at once");
    assert_eq!(
        state["me"]["availability_pending"], true,
        "and marked pending"
    );

    let mut settings = state["settings"].clone();
    settings["lock_after_minutes"] = json!(3);
    settings["quick_messages"] = json!(["Back in 2 minutes"]);
    let saved = rig
        .invoke("save_settings", json!({"settings": settings}))
        .unwrap();
    assert_eq!(saved["settings"]["quick_messages"][0], "Back in 2 minutes");
    settings["quick_messages"] = json!([""]);
    let refused = rig
        .invoke("save_settings", json!({"settings": settings}))
        .unwrap_err();
    assert_eq!(refused["code"], "validation");
}

#[test]
fn on_a_clinic_station_a_pin_unlocks_and_switches_user() {
    let rig = rig();
    rig.invoke(
        "sign_in",
        json!({"server": rig.address, "email": "reception@demo.clinic", "password": "demo-reception", "remember": false}),
    )
    .unwrap();
    // The clinic's admin registers this computer as a station.
    let url = rig.url.clone();
    let device = tauri::async_runtime::block_on(async move {
        let api = ApiClient::new(&url).unwrap();
        let admin = api
            .sign_in("demo", "admin@demo.clinic", "demo-admin")
            .await
            .unwrap();
        api.register_station(&admin.token, "Front desk 1")
            .await
            .unwrap()
    });
    rig.console.make_station(&device).unwrap();
    let locked = rig.invoke("lock", json!({})).unwrap();
    assert_eq!(
        (locked["screen"].as_str(), locked["station"].as_bool()),
        (Some("locked"), Some(true))
    );

    let wrong = rig.invoke("unlock", json!({"pin": "9999"})).unwrap_err();
    assert_eq!(wrong["code"], "unauthorized");
    let open = rig.invoke("unlock", json!({"pin": "2222"})).unwrap();
    assert_eq!(open["screen"], "queue");
    assert_eq!(open["me"]["email"], "reception@demo.clinic");

    // Dr. Shah switches on at the same station with her own PIN: her own session.
    rig.invoke("lock", json!({})).unwrap();
    rig.invoke(
        "unlock",
        json!({"pin": "3333", "staffEmail": "priya@demo.clinic"}),
    )
    .unwrap();
    let state = rig.state_until("Dr. Shah signed in", |s| {
        s["me"]["email"] == "priya@demo.clinic"
    });
    assert_eq!(state["screen"], "queue");

    // The PC goes missing and the admin ends the station. A PIN no longer opens it; the
    // console says why, forgets the device token and asks for the password instead.
    rig.invoke("lock", json!({})).unwrap();
    let url = rig.url.clone();
    tauri::async_runtime::block_on(async move {
        let api = ApiClient::new(&url).unwrap();
        let admin = api
            .sign_in("demo", "admin@demo.clinic", "demo-admin")
            .await
            .unwrap();
        let http = reqwest::Client::new();
        let stations: Value = http
            .get(format!("{url}/v1/stations"))
            .bearer_auth(&admin.token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = stations[0]["id"].as_str().unwrap();
        let ended = http
            .delete(format!("{url}/v1/stations/{id}"))
            .bearer_auth(&admin.token)
            .send()
            .await
            .unwrap();
        assert_eq!(ended.status(), 204);
    });
    let refused = rig.invoke("unlock", json!({"pin": "3333"})).unwrap_err();
    assert_eq!(refused["code"], "station_unknown", "{refused}");
    assert!(
        refused["message"].as_str().unwrap().contains("password"),
        "{refused}"
    );
    let state = rig.invoke("app_state", json!({})).unwrap();
    assert_eq!(
        (state["screen"].as_str(), state["station"].as_bool()),
        (Some("locked"), Some(false)),
        "still locked, now asking for a password"
    );
    let open = rig
        .invoke("unlock", json!({"pin": "demo-provider"}))
        .unwrap();
    assert_eq!(open["screen"], "queue");
    assert_eq!(open["me"]["email"], "priya@demo.clinic");
}

/// Patients the tray counts as waiting in a state sent to the UI: arrived and not yet being
/// seen (still on the intake form, waiting, or back on hold).
fn waiting_in(state: &Value) -> usize {
    state["queue"].as_array().map_or(0, |q| {
        q.iter()
            .filter(|r| matches!(r["status"].as_str(), Some("intake" | "waiting" | "on_hold")))
            .count()
    })
}

/// The last count the tray was given within `quiet` of silence.
fn latest(counts: &std::sync::mpsc::Receiver<usize>, quiet: Duration) -> Option<usize> {
    let mut last = None;
    while let Ok(n) = counts.recv_timeout(quiet) {
        last = Some(n);
    }
    last
}

#[test]
fn the_tray_says_how_many_wait_and_an_arrival_adds_one() {
    let rig = rig();
    let app = tauri::Manager::app_handle(&rig.webview).clone();
    let (sent_tx, sent) = std::sync::mpsc::channel::<Value>();
    tauri::Listener::listen_any(&app, "state", move |event| {
        let _ = sent_tx.send(serde_json::from_str(event.payload()).unwrap());
    });
    let (count_tx, counts) = std::sync::mpsc::channel::<usize>();
    tauri::async_runtime::spawn(frontdesk::forward_changes(
        app,
        rig.console.clone(),
        move |n| {
            let _ = count_tx.send(n);
        },
    ));
    assert_eq!(
        counts.recv_timeout(Duration::from_secs(10)),
        Ok(0),
        "signed out, nobody waits"
    );

    rig.sign_in_as_reception();
    let state = rig.state_until("the queue synced", |s| {
        s["connection"]["state"] == "online" && s["me"]["email"] == "reception@demo.clinic"
    });
    let before = latest(&counts, Duration::from_millis(500)).unwrap_or(0);
    assert_eq!(before, waiting_in(&state), "the tray counts the queue");

    let id = rig.arrive("Noor Haddad");
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut shown = before;
    while shown != before + 1 {
        let left = deadline.saturating_duration_since(Instant::now());
        shown = counts
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("the tray never showed {} (still {shown})", before + 1));
    }
    assert_eq!(
        frontdesk::tray_text(shown),
        format!("{} waiting", before + 1)
    );
    // The same change reached the UI as a `state` event with the new patient in it.
    let pushed = std::iter::from_fn(|| sent.recv_timeout(Duration::from_secs(5)).ok())
        .find(|s| {
            s["queue"]
                .as_array()
                .is_some_and(|q| q.iter().any(|r| r["visit_id"] == id.as_str()))
        })
        .expect("a state event with the arrival");
    assert_eq!(waiting_in(&pushed), before + 1);

    // Locked, the console shows no patients, and the tray no count of them.
    rig.invoke("lock", json!({})).unwrap();
    assert_eq!(latest(&counts, Duration::from_millis(500)), Some(0));
}

fn check<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["name"] == name))
        .unwrap_or_else(|| panic!("no {name} check in {report}"))
}

#[test]
fn the_precall_check_reaches_the_live_server_and_says_when_it_cannot() {
    let rig = rig();
    let report = rig.invoke("precall_check", json!({})).unwrap();
    assert_eq!(check(&report, "Clinic server")["ok"], false);
    assert_eq!(check(&report, "Clinic server")["detail"], "Not signed in");

    rig.sign_in_as_reception();
    rig.state_until("online", |s| s["connection"]["state"] == "online");
    let report = rig.invoke("precall_check", json!({})).unwrap();
    let server = check(&report, "Clinic server");
    assert_eq!(server["ok"], true, "{report}");
    assert!(
        server["detail"]
            .as_str()
            .is_some_and(|d| d.starts_with("Reachable, ") && d.ends_with(" ms")),
        "{server}"
    );
    assert_eq!(check(&report, "Live updates")["ok"], true);
    assert_eq!(check(&report, "Live updates")["detail"], "Connected");
    assert_eq!(check(&report, "Keyring")["ok"], true);
    for name in ["Desktop notifications", "Camera", "Microphone"] {
        check(&report, name);
    }

    // A console whose clinic server cannot be reached at all (nothing listens there).
    let dead = {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        format!("http://127.0.0.1:{port}")
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("settings.json"),
        json!({"server": format!("{dead}/demo"), "email": "reception@demo.clinic", "remember": true})
            .to_string(),
    )
    .unwrap();
    let secrets = Arc::new(InMemory::default());
    secrets
        .set(&format!("token|{dead}|reception@demo.clinic"), "a-token")
        .unwrap();
    let (offline, _notices) = Console::new(dir.path().into(), secrets);
    let report = tauri::async_runtime::block_on(async {
        assert_eq!(offline.resume(), Ok(true), "signed in from the keyring");
        serde_json::to_value(frontdesk::precall::run(&offline).await).unwrap()
    });
    assert_eq!(check(&report, "Clinic server")["ok"], false, "{report}");
    assert!(
        check(&report, "Clinic server")["detail"]
            .as_str()
            .is_some_and(|d| !d.is_empty()),
        "says why: {report}"
    );
    assert_eq!(check(&report, "Live updates")["ok"], false, "{report}");
    assert!(
        check(&report, "Live updates")["detail"]
            .as_str()
            .is_some_and(|d| d.starts_with("Not connected")),
        "{report}"
    );
}

#[test]
fn the_sound_setting_is_kept_and_decides_the_alert_sound() {
    let rig = rig();
    let state = rig.invoke("app_state", json!({})).unwrap();
    assert_eq!(state["settings"]["sound"], true, "on by default");
    let mut settings = state["settings"].clone();
    settings["sound"] = json!(false);
    let saved = rig
        .invoke("save_settings", json!({"settings": settings}))
        .unwrap();
    assert_eq!(saved["settings"]["sound"], false);

    // The next start of the app reads it back from disk.
    let (again, _notices) = Console::new(rig.dir.path().join("app"), rig.secrets.clone());
    assert!(!again.settings().sound);

    let notice = frontdesk_domain::alerts::Notice {
        summary: "Noor Haddad is waiting".into(),
        body: "Arrived in Reception".into(),
        visit_id: frontdesk_domain::VisitId::from_u128(7),
        alerts: vec![],
    };
    let sound = notify_rust::Hint::SoundName(frontdesk::ALERT_SOUND.into());
    assert!(
        frontdesk::desktop_alert(&notice, true)
            .hints
            .contains(&sound)
    );
    assert!(
        !frontdesk::desktop_alert(&notice, false)
            .hints
            .iter()
            .any(|h| matches!(h, notify_rust::Hint::SoundName(_)))
    );
}
