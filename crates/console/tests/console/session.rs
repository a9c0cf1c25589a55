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
    rig.sign_in_as_reception_kept().await;

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cache_on_disk_holds_no_patient_detail_and_signing_out_deletes_it_and_its_key() {
    let rig = rig().await;
    rig.sign_in_as_reception().await;
    let reception = rig.server.room_id("Reception");
    let names: Vec<String> = (1..=50)
        .map(|n| format!("Margarethe Quill{n:02}"))
        .collect();
    let mut last_token = String::new();
    for name in &names {
        last_token = rig.server.arrive(&reception, name).await.1;
    }
    let answer = rig
        .server
        .answer_intake(
            &last_token,
            serde_json::json!({"Reason for visit": "Wheezing since Tuesday"}),
        )
        .await;
    assert!(answer.status.is_success(), "{:?}", answer.body);
    rig.state_until("fifty patients in the queue", |s| {
        s["queue"].as_array().is_some_and(|q| q.len() >= 50)
    })
    .await;

    // Everything the console keeps on this PC: its data folder, the cache and its journal.
    let files: Vec<std::path::PathBuf> = std::fs::read_dir(rig.dir.path().join("app"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let caches: Vec<_> = files
        .iter()
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("cache-")
        })
        .collect();
    assert!(
        !caches.is_empty(),
        "a cache is kept while signed in: {files:?}"
    );
    for file in &files {
        let bytes = std::fs::read(file).unwrap_or_default();
        let has = |text: &str| bytes.windows(text.len()).any(|w| w == text.as_bytes());
        for name in [&names[0], &names[24], &names[49]] {
            assert!(!has(name), "{name} is readable in {}", file.display());
        }
        assert!(
            !has("Wheezing since Tuesday"),
            "an intake answer in {}",
            file.display()
        );
        assert!(
            !has(frontdesk_testkit::patients::PATIENT_PHONE),
            "a phone in {}",
            file.display()
        );
    }
    let key_name = format!("cache-key|{}|reception@demo.clinic", rig.url);
    assert!(
        rig.host.secrets.get(&key_name).unwrap().is_some(),
        "its key is in the keyring"
    );

    rig.console.sign_out().await;
    for cache in caches {
        assert!(
            !cache.exists(),
            "{} is still on disk after sign-out",
            cache.display()
        );
    }
    assert!(
        rig.host.secrets.get(&key_name).unwrap().is_none(),
        "the cache's key left the keyring"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_the_server_ends_is_closed_here_and_leaves_no_cache_key_or_token() {
    let rig = rig().await;
    rig.sign_in_as_reception_kept().await;
    let visit = rig.arrive("Octavia Brightwater").await;
    rig.state_until("the patient in the queue", |s| {
        crate::rig::in_queue(s, &visit)
    })
    .await;
    let token_name = format!("token|{}|reception@demo.clinic", rig.url);
    let key_name = format!("cache-key|{}|reception@demo.clinic", rig.url);
    let token = rig
        .host
        .secrets
        .get(&token_name)
        .unwrap()
        .expect("token kept");
    assert!(rig.host.secrets.get(&key_name).unwrap().is_some());
    let cache = |dir: &std::path::Path| -> Vec<std::path::PathBuf> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("cache-")
            })
            .collect()
    };
    let app_dir = rig.dir.path().join("app");
    assert!(!cache(&app_dir).is_empty(), "a cache while signed in");

    // The console runs as the app runs it: every change goes to the UI.
    let console = rig.console.clone();
    tokio::spawn(async move { console.forward_changes(|_| {}, |_| {}).await });
    // The session ends on the server, not here (signed out on another PC, say).
    frontdesk_client::api::ApiClient::new(&rig.url)
        .unwrap()
        .sign_out(&token)
        .await
        .unwrap();

    let state = rig
        .state_until("the sign-in screen", |s| s["screen"] == "sign_in")
        .await;
    let why = state["session_ended"].as_str().unwrap_or_default();
    assert!(why.contains("Your session ended"), "{state}");
    assert_eq!(state["queue"], json!([]), "no patient is shown");
    crate::rig::eventually("the cache deleted", || cache(&app_dir).is_empty()).await;
    crate::rig::eventually("its key and the token gone", || {
        rig.host.secrets.get(&key_name).unwrap().is_none()
            && rig.host.secrets.get(&token_name).unwrap().is_none()
    })
    .await;

    // Signing in again starts afresh, without the notice.
    let state = json(&rig.sign_in_as_reception().await);
    assert_eq!(state["screen"], "queue");
    assert!(state.get("session_ended").is_none(), "{state}");
}
