//! The lock: no patient is shown while locked; the password, or on a clinic station a PIN,
//! opens it.

use crate::rig::{in_queue, json, rig};
use frontdesk_console::Secrets;
use frontdesk_domain::Command;
use std::sync::{Arc, Mutex};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lock_hides_every_patient_and_the_password_unlocks() {
    let rig = rig().await;
    rig.sign_in_as_reception().await;
    let id = rig.arrive("Hana Sato").await;
    let state = rig
        .state_until("the patient in the queue", |s| in_queue(s, &id))
        .await;
    assert!(state.to_string().contains("Hana Sato"));

    let locked = json(&rig.console.lock_now());
    assert_eq!(locked["screen"], "locked");
    assert!(
        !locked.to_string().contains("Hana Sato"),
        "no patient detail while locked"
    );
    let visit = id.parse().unwrap();
    let refused = rig.console.visit_details(visit).await.unwrap_err();
    assert_eq!(refused.code, "locked");
    let refused = rig.console.act(visit, Command::Claim).unwrap_err();
    assert_eq!(refused.code, "locked");

    let wrong = rig.console.unlock("0000", None).await.unwrap_err();
    assert_eq!(wrong.code, "unauthorized");
    let open = json(&rig.console.unlock("demo-reception", None).await.unwrap());
    assert_eq!(open["screen"], "queue");
    assert!(open.to_string().contains("Hana Sato"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_console_locks_itself_after_the_minutes_set_and_never_at_zero() {
    let rig = rig().await;
    assert!(
        !rig.console.lock_if_idle(),
        "nobody signed in: nothing to lock"
    );
    rig.sign_in_as_reception().await;
    assert!(!rig.console.lock_if_idle(), "just used");

    let mut settings = rig.console.settings();
    settings.lock_after_minutes = 0;
    rig.console.save_settings(settings).unwrap();
    assert!(!rig.console.lock_if_idle(), "0 never locks");
    assert_eq!(json(&rig.console.app_state())["screen"], "queue");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_clinic_station_a_pin_unlocks_and_switches_user() {
    let rig = rig().await;
    rig.sign_in_as_reception().await;
    // The clinic's admin registers this computer as a station.
    let admin = rig.make_this_a_station("Front desk 1").await;
    let locked = json(&rig.console.lock_now());
    assert_eq!(
        (locked["screen"].as_str(), locked["station"].as_bool()),
        (Some("locked"), Some(true))
    );

    let wrong = rig.console.unlock("9999", None).await.unwrap_err();
    assert_eq!(wrong.code, "unauthorized");
    let open = json(&rig.console.unlock("2222", None).await.unwrap());
    assert_eq!(open["screen"], "queue");
    assert_eq!(open["me"]["email"], "reception@demo.clinic");

    // Dr. Shah switches on at the same station with her own PIN: her own session.
    rig.console.lock_now();
    rig.console
        .unlock("3333", Some("priya@demo.clinic"))
        .await
        .unwrap();
    let state = rig
        .state_until("Dr. Shah signed in", |s| {
            s["me"]["email"] == "priya@demo.clinic"
        })
        .await;
    assert_eq!(state["screen"], "queue");

    // The PC goes missing and the admin ends the station. A PIN no longer opens it; the
    // console says why, forgets the device token and asks for the password instead.
    rig.console.lock_now();
    rig.end_the_station(&admin).await;
    let refused = rig.console.unlock("3333", None).await.unwrap_err();
    assert_eq!(refused.code, "station_unknown", "{refused:?}");
    assert!(refused.message.contains("password"), "{refused:?}");
    let state = json(&rig.console.app_state());
    assert_eq!(
        (state["screen"].as_str(), state["station"].as_bool()),
        (Some("locked"), Some(false)),
        "still locked, now asking for a password"
    );
    let open = json(&rig.console.unlock("demo-provider", None).await.unwrap());
    assert_eq!(open["screen"], "queue");
    assert_eq!(open["me"]["email"], "priya@demo.clinic");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pin_switch_at_a_station_keeps_the_connection_and_never_shows_the_sign_in_screen() {
    let rig = rig().await;
    rig.sign_in_as_reception().await;
    rig.make_this_a_station("Front desk 1").await;
    let screens = Arc::new(Mutex::new(Vec::<String>::new()));
    let (console, seen) = (rig.console.clone(), screens.clone());
    tokio::spawn(async move {
        console
            .forward_changes(
                |s| {
                    let screen = json(s)["screen"].as_str().unwrap_or_default().to_owned();
                    seen.lock().unwrap().push(screen);
                },
                |_| {},
            )
            .await;
    });
    // Rita unlocks with her PIN (her stream moves onto the station session), then Dr. Shah
    // switches on with hers.
    rig.console.lock_now();
    rig.console.unlock("2222", None).await.unwrap();
    let visit = rig.arrive("Nadia Okonkwo").await;
    rig.state_until("the station live", |s| in_queue(s, &visit))
        .await;
    let streams = rig.server.server().state.streams_opened();
    rig.console.lock_now();
    let open = json(
        &rig.console
            .unlock("3333", Some("priya@demo.clinic"))
            .await
            .unwrap(),
    );
    assert_eq!(
        (open["screen"].as_str(), open["me"]["email"].as_str()),
        (Some("queue"), Some("priya@demo.clinic")),
        "her queue as soon as the PIN is taken"
    );
    assert_eq!(
        rig.server.server().state.streams_opened(),
        streams,
        "the same connection carries her console"
    );
    let next = rig.arrive("Oskar Lindqvist").await;
    rig.state_until("live for her", |s| in_queue(s, &next))
        .await;
    assert_eq!(rig.server.server().state.streams_opened(), streams);
    let screens = screens.lock().unwrap().clone();
    assert!(screens.iter().any(|s| s == "locked"), "{screens:?}");
    assert!(
        !screens.iter().any(|s| s == "sign_in"),
        "never the sign-in screen: {screens:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switching_user_without_a_station_is_refused() {
    let rig = rig().await;
    rig.sign_in_as_reception().await;
    rig.console.lock_now();
    let refused = rig
        .console
        .unlock("demo-provider", Some("priya@demo.clinic"))
        .await
        .unwrap_err();
    assert_eq!(refused.code, "forbidden");
    assert_eq!(json(&rig.console.app_state())["screen"], "locked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_station_ended_by_an_admin_closes_its_session_and_deletes_its_cache() {
    let rig = rig().await;
    rig.sign_in_as_reception().await;
    let admin = rig.make_this_a_station("Front desk 2").await;
    // Dr. Shah switches on at the station with her PIN: her session is the station's.
    rig.console.lock_now();
    rig.console
        .unlock("3333", Some("priya@demo.clinic"))
        .await
        .unwrap();
    let visit = rig.arrive("Rosalind Fairweather-Kent").await;
    rig.state_until("the patient on the station", |s| in_queue(s, &visit))
        .await;
    let console = rig.console.clone();
    tokio::spawn(async move { console.forward_changes(|_| {}, |_| {}).await });

    rig.end_the_station(&admin).await;

    let state = rig
        .state_until("the sign-in screen", |s| s["screen"] == "sign_in")
        .await;
    assert!(
        state["session_ended"]
            .as_str()
            .is_some_and(|why| why.contains("station")),
        "{state}"
    );
    // Hers is gone; the receptionist's, who switched away earlier, is hers to keep.
    let app = rig.dir.path().join("app");
    let base = &rig.url;
    let priya = app.join(frontdesk_client::store::cache_file_name(
        base,
        "priya@demo.clinic",
    ));
    let rita = app.join(frontdesk_client::store::cache_file_name(
        base,
        "reception@demo.clinic",
    ));
    crate::rig::eventually("the station session's cache deleted", || !priya.exists()).await;
    assert!(rita.exists(), "another person's cache is not touched");
    let key = format!("cache-key|{}|priya@demo.clinic", rig.url);
    crate::rig::eventually("its key gone", || {
        rig.host.secrets.get(&key).unwrap().is_none()
    })
    .await;
}
