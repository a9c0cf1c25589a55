//! Signing in and out, and what the console keeps between runs.

use crate::rig::{json, rig};
use frontdesk_console::{Console, Secrets};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_in_keeps_the_token_in_the_keyring_and_shows_the_queue() {
    let rig = rig().await;
    let state = json(&rig.console.app_state());
    assert_eq!(state["screen"], "sign_in");

    let wrong = rig
        .console
        .sign_in(&rig.address, "reception@demo.clinic", "nope", true)
        .await
        .unwrap_err();
    assert_eq!(wrong.code, "unauthorized");
    assert!(
        rig.host
            .secrets
            .get(&format!("token|{}|reception@demo.clinic", rig.url))
            .unwrap()
            .is_none()
    );

    let bad = rig
        .console
        .sign_in("clinic.example.org", "a@b.c", "x", false)
        .await
        .unwrap_err();
    assert_eq!(bad.code, "validation");

    let state = rig
        .console
        .sign_in(
            &rig.address,
            "reception@demo.clinic",
            "demo-reception",
            true,
        )
        .await
        .unwrap();
    let state = json(&state);
    assert_eq!(state["screen"], "queue");
    assert_eq!(state["me"]["email"], "reception@demo.clinic");
    let token = rig
        .host
        .secrets
        .get(&format!("token|{}|reception@demo.clinic", rig.url))
        .unwrap();
    assert!(
        token.is_some_and(|t| !t.is_empty()),
        "the token is in the keyring"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keep_me_signed_in_survives_a_restart_and_signing_out_forgets_it() {
    let rig = rig().await;
    rig.console
        .sign_in(
            &rig.address,
            "reception@demo.clinic",
            "demo-reception",
            true,
        )
        .await
        .unwrap();

    // The next start of the app, on the same computer.
    let (again, _notices) = Console::new(rig.dir.path().join("app"), rig.host.clone());
    let again = std::sync::Arc::new(again);
    again.clone().resume_last_session().await;
    let state = json(&again.app_state());
    assert_eq!(state["screen"], "queue", "{state}");
    assert_eq!(state["email"], "reception@demo.clinic");

    let out = json(&again.sign_out().await);
    assert_eq!(out["screen"], "sign_in");
    assert!(
        rig.host
            .secrets
            .get(&format!("token|{}|reception@demo.clinic", rig.url))
            .unwrap()
            .is_none(),
        "the token left the keyring"
    );
    let (third, _notices) = Console::new(rig.dir.path().join("app"), rig.host.clone());
    assert_eq!(third.resume(), Ok(false), "signed out stays signed out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_are_checked_kept_and_start_at_login_goes_to_the_desktop() {
    let rig = rig().await;
    let state = json(&rig.console.app_state());
    assert_eq!(state["settings"]["sound"], true, "on by default");
    assert_eq!(state["settings"]["autostart"], false, "off by default");

    let mut settings = rig.console.settings();
    settings.sound = false;
    settings.autostart = true;
    let saved = json(&rig.console.save_settings(settings.clone()).unwrap());
    assert_eq!(saved["settings"]["sound"], false);
    assert_eq!(saved["settings"]["autostart"], true);
    assert_eq!(*rig.host.autostart.lock().unwrap(), Some(true));

    // The next start of the app reads them back from disk.
    let (again, _notices) = Console::new(rig.dir.path().join("app"), rig.host.clone());
    assert!(!again.settings().sound);

    let mut refused = settings.clone();
    refused.quick_messages = vec![String::new()];
    assert_eq!(
        rig.console.save_settings(refused).unwrap_err().code,
        "validation"
    );
    let mut refused = settings;
    refused.lock_after_minutes = 24 * 60 + 1;
    assert_eq!(
        rig.console.save_settings(refused).unwrap_err().code,
        "validation"
    );
    assert_eq!(
        json(&rig.console.app_state())["settings"]["sound"],
        json!(false),
        "a refused save changes nothing"
    );
}
