//! The app's wiring through Tauri's mock runtime: every command the UI calls answers under its
//! name and with its argument names, errors arrive as `{code, message}`, changes go out as
//! `state` events with the tray's count, and alerts carry the sound or not. What the console
//! does with a live clinic is tested in `crates/console`.

use serde_json::{Value, json};
use std::time::Duration;
use tauri::test::mock_builder;

mod common;

fn app() -> (common::MockApp, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    (common::mock_app(mock_builder(), dir.path()), dir)
}

/// A well-formed visit id nobody has.
fn some_visit() -> String {
    frontdesk_domain::VisitId::from_u128(7).to_string()
}

#[test]
fn every_command_answers_under_its_name_with_its_arguments() {
    let (app, _dir) = app();
    let invoke = |cmd: &str, args: Value| common::invoke(&app.webview, cmd, args);
    let code = |answer: Result<Value, Value>| answer.unwrap_err()["code"].clone();

    let state = invoke("app_state", json!({})).unwrap();
    assert_eq!(state["screen"], "sign_in");
    let bad = invoke(
        "sign_in",
        json!({"server": "clinic.example.org", "email": "a@b.c", "password": "x", "remember": false}),
    )
    .unwrap_err();
    assert_eq!(bad["code"], "validation");
    assert!(
        bad["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{bad}"
    );

    // A visit id the UI garbled is "no such patient" before the console is asked.
    let garbled = json!({"visitId": "not-an-id", "command": {"command": "claim"}});
    assert_eq!(code(invoke("act", garbled)), "not_found");
    assert_eq!(
        code(invoke("visit_details", json!({"visitId": "not-an-id"}))),
        "not_found"
    );
    // Well-formed, they reach the console, which wants someone signed in.
    let claim = json!({"visitId": some_visit(), "command": {"command": "claim"}});
    assert_eq!(code(invoke("act", claim)), "unauthorized");
    assert_eq!(
        code(invoke("visit_details", json!({"visitId": some_visit()}))),
        "unauthorized"
    );
    assert_eq!(
        code(invoke("set_availability", json!({"availability": "away"}))),
        "unauthorized"
    );
    assert_eq!(
        code(invoke("dismiss_outcome", json!({"actionId": "an-action"}))),
        "unauthorized"
    );
    assert_eq!(
        code(invoke(
            "unlock",
            json!({"pin": "3333", "staffEmail": "priya@demo.clinic"})
        )),
        "unauthorized"
    );
    // The Calendar's commands take their arguments by these names; signed out, none answers.
    let form = json!({"provider": null, "include_me": false, "guests": [], "date": "2026-12-07",
        "time": "09:00", "duration_mins": 30, "repeat_weeks": 1});
    let calendar = [
        ("calendar", json!({"query": {"days": 7}})),
        ("check_booking", json!({"form": form})),
        ("book_session", json!({"form": form})),
        (
            "reschedule_session",
            json!({"visitId": some_visit(), "date": "2026-12-07", "time": "10:00", "durationMins": 30}),
        ),
        ("next_appointment", json!({"visitId": some_visit()})),
    ];
    for (cmd, args) in calendar {
        assert_eq!(code(invoke(cmd, args)), "unauthorized", "{cmd}");
    }
    assert_eq!(invoke("lock", json!({})).unwrap()["screen"], "sign_in");
    assert_eq!(invoke("sign_out", json!({})).unwrap()["screen"], "sign_in");

    let mut settings = state["settings"].clone();
    settings["lock_after_minutes"] = json!(3);
    settings["quick_messages"] = json!(["Back in 2 minutes"]);
    let saved = invoke("save_settings", json!({"settings": settings})).unwrap();
    assert_eq!(saved["settings"]["quick_messages"][0], "Back in 2 minutes");
    settings["quick_messages"] = json!([""]);
    assert_eq!(
        code(invoke("save_settings", json!({"settings": settings}))),
        "validation"
    );

    let report = invoke("precall_check", json!({})).unwrap();
    let names: Vec<&str> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(
        names,
        [
            "Clinic server",
            "Desktop notifications",
            "Keyring",
            "Camera",
            "Microphone"
        ],
        "{report}"
    );
    assert_eq!(report["checks"][0]["detail"], "Not signed in");

    for (cmd, args) in [
        ("activity", json!({})),
        ("first_paint", json!({"rows": 3})),
        ("rows_painted", json!({"visitIds": [some_visit()]})),
    ] {
        assert_eq!(invoke(cmd, args), Ok(Value::Null), "{cmd}");
    }
}

#[test]
fn every_change_goes_to_the_ui_as_a_state_event_and_the_tray_shows_the_count() {
    let (app, _dir) = app();
    let handle = tauri::Manager::app_handle(&app.webview).clone();
    let (sent_tx, sent) = std::sync::mpsc::channel::<Value>();
    tauri::Listener::listen_any(&handle, "state", move |event| {
        let _ = sent_tx.send(serde_json::from_str(event.payload()).unwrap());
    });
    let (count_tx, counts) = std::sync::mpsc::channel::<usize>();
    tauri::async_runtime::spawn(frontdesk::forward_changes(
        handle,
        app.console.clone(),
        move |n| {
            let _ = count_tx.send(n);
        },
    ));
    assert_eq!(
        counts.recv_timeout(Duration::from_secs(10)),
        Ok(0),
        "signed out, nobody waits"
    );
    let first = sent.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(first["screen"], "sign_in");

    let mut settings = first["settings"].clone();
    settings["sound"] = json!(false);
    common::invoke(&app.webview, "save_settings", json!({"settings": settings})).unwrap();
    let pushed = std::iter::from_fn(|| sent.recv_timeout(Duration::from_secs(5)).ok())
        .find(|s| s["settings"]["sound"] == false)
        .expect("a state event with the new settings");
    assert_eq!(pushed["screen"], "sign_in");
    assert_eq!(frontdesk::tray_text(3), "3 waiting");
    assert_eq!(frontdesk::window_title(3), "Frontdesk — 3 waiting");
    assert_eq!(
        frontdesk::window_title(0),
        "Frontdesk",
        "no count when nobody waits"
    );
}

#[test]
fn the_sound_setting_decides_the_alert_sound() {
    let notice = frontdesk_domain::alerts::Notice {
        summary: "Noor Haddad is waiting".into(),
        body: "Arrived in Reception".into(),
        private_summary: "A patient is waiting".into(),
        private_body: "Arrived in Reception".into(),
        visit_id: frontdesk_domain::VisitId::from_u128(7),
        alerts: vec![],
    };
    let sound = notify_rust::Hint::SoundName(frontdesk::host::ALERT_SOUND.into());
    assert!(
        frontdesk::host::desktop_alert(&notice, true)
            .hints
            .contains(&sound)
    );
    assert!(
        !frontdesk::host::desktop_alert(&notice, false)
            .hints
            .iter()
            .any(|h| matches!(h, notify_rust::Hint::SoundName(_)))
    );
}
