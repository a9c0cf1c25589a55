//! The pre-call check: the live server and the computer's parts, each with what was found.

use crate::rig::{json, rig};
use frontdesk_console::{Console, Secrets};
use serde_json::{Value, json};
use std::sync::Arc;

fn check<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["name"] == name))
        .unwrap_or_else(|| panic!("no {name} check in {report}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_precall_check_reaches_the_live_server_and_says_when_it_cannot() {
    let rig = rig().await;
    let report = json(&rig.console.precall_check().await);
    assert_eq!(check(&report, "Clinic server")["ok"], false);
    assert_eq!(check(&report, "Clinic server")["detail"], "Not signed in");

    rig.sign_in_as_reception().await;
    rig.state_until("online", |s| s["connection"]["state"] == "online")
        .await;
    let report = json(&rig.console.precall_check().await);
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
    // What the computer says, as it says it.
    assert_eq!(
        check(&report, "Desktop notifications")["detail"],
        "Recorder 1.0"
    );
    assert_eq!(check(&report, "Camera")["detail"], "1 found");
    assert_eq!(
        (
            check(&report, "Microphone")["ok"].as_bool(),
            check(&report, "Microphone")["detail"].as_str()
        ),
        (Some(false), Some("No microphone found"))
    );

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
    let host = Arc::new(crate::rig::FakeHost::default());
    host.secrets
        .set(&format!("token|{dead}|reception@demo.clinic"), "a-token")
        .unwrap();
    let (offline, _notices) = Console::new(dir.path().into(), host);
    assert_eq!(offline.resume(), Ok(true), "signed in from the keyring");
    let report = json(&offline.precall_check().await);
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
