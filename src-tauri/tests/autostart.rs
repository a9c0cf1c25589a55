//! "Start at login" through the real autostart plugin, in a home of its own: saving the setting
//! writes the desktop's autostart entry for this program, and turning it off removes it.
//!
//! The plugin finds the folder from HOME (`~/.config/autostart`, whatever XDG_CONFIG_HOME
//! says), and a test cannot safely change its own process's environment, so the test runs
//! itself again with HOME set to a temporary folder and checks the entry from outside too.

use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;
use tauri::test::mock_builder;

mod common;

const TEST: &str = "start_at_login_writes_and_removes_the_autostart_entry";
/// Set (to the temporary HOME) in the run that does the work.
const INNER: &str = "FRONTDESK_TEST_AUTOSTART_HOME";

fn entry(home: &Path) -> PathBuf {
    home.join(".config/autostart/Frontdesk.desktop")
}

#[test]
fn start_at_login_writes_and_removes_the_autostart_entry() {
    let Some(home) = std::env::var_os(INNER).map(PathBuf::from) else {
        let home = tempfile::tempdir().unwrap();
        let out = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", TEST, "--nocapture", "--test-threads=1"])
            .env(INNER, home.path())
            .env("HOME", home.path())
            .output()
            .unwrap();
        let log = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success() && log.contains("1 passed"), "{log}");
        assert!(!entry(home.path()).exists(), "turned off at the end");
        return;
    };

    let data = tempfile::tempdir().unwrap();
    let app = common::mock_app(
        mock_builder().plugin(frontdesk::autostart_plugin()),
        data.path(),
    );
    let webview = &app.webview;
    let state = common::invoke(webview, "app_state", json!({})).unwrap();
    assert_eq!(state["settings"]["autostart"], false, "off by default");
    assert!(!entry(&home).exists());

    let mut settings = state["settings"].clone();
    settings["autostart"] = json!(true);
    let saved = common::invoke(webview, "save_settings", json!({"settings": settings})).unwrap();
    assert_eq!(saved["settings"]["autostart"], true);
    assert!(
        app.console.settings().autostart,
        "the console keeps the setting"
    );
    let desktop = std::fs::read_to_string(entry(&home)).expect("the autostart entry is written");
    let exe = std::env::current_exe().unwrap();
    assert!(desktop.contains("[Desktop Entry]"), "{desktop}");
    assert!(desktop.contains("Name=Frontdesk"), "{desktop}");
    assert!(
        desktop.contains(&format!("Exec={}", exe.display())),
        "starts this program: {desktop}"
    );

    settings["autostart"] = json!(false);
    common::invoke(webview, "save_settings", json!({"settings": settings})).unwrap();
    assert!(!entry(&home).exists(), "turning it off removes the entry");
}
