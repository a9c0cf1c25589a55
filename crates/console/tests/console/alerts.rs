//! What the console tells staff without being asked: every change to the UI, the number
//! waiting to the tray, and desktop alerts with or without the sound.

use crate::rig::{in_queue, json, rig};
use frontdesk_console::Push;
use frontdesk_domain::Availability;
use serde_json::Value;
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

/// Patients the tray counts as waiting in a state sent to the UI: the Waiting section of my
/// rooms (still on the intake form, or waiting; those on hold are with staff).
fn waiting_in(state: &Value) -> usize {
    state["queue"].as_array().map_or(0, |q| {
        q.iter()
            .filter(|r| {
                r["in_my_rooms"] == true
                    && matches!(r["status"].as_str(), Some("intake" | "waiting"))
            })
            .count()
    })
}

/// The last count the tray was given within `quiet` of silence.
fn latest(counts: &Receiver<usize>, quiet: Duration) -> Option<usize> {
    let mut last = None;
    while let Ok(n) = counts.recv_timeout(quiet) {
        last = Some(n);
    }
    last
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tray_says_how_many_wait_and_an_arrival_adds_one() {
    let rig = rig().await;
    let (sent_tx, sent) = channel::<Value>();
    let (count_tx, counts) = channel::<usize>();
    let console = rig.console.clone();
    tokio::spawn(async move {
        // The whole states only: the count is checked against the queue they carry.
        let send = move |push: &Push| {
            if let Push::State(state) = push {
                let _ = sent_tx.send(serde_json::to_value(state).unwrap());
            }
        };
        let show_count = move |n| {
            let _ = count_tx.send(n);
        };
        console.forward_changes(send, show_count).await;
    });
    // The receivers block: read them off the runtime's threads.
    let (counts, first) = tokio::task::spawn_blocking(move || {
        let first = counts.recv_timeout(Duration::from_secs(10));
        (counts, first)
    })
    .await
    .unwrap();
    assert_eq!(first, Ok(0), "signed out, nobody waits");

    rig.sign_in_as_reception().await;
    let state = rig
        .state_until("the queue synced", |s| {
            s["connection"]["state"] == "online" && s["me"]["email"] == "reception@demo.clinic"
        })
        .await;
    let (counts, before) = tokio::task::spawn_blocking(move || {
        let before = latest(&counts, Duration::from_millis(500)).unwrap_or(0);
        (counts, before)
    })
    .await
    .unwrap();
    assert_eq!(before, waiting_in(&state), "the tray counts the queue");

    let id = rig.arrive("Noor Haddad").await;
    let (counts, sent) = tokio::task::spawn_blocking(move || {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut shown = before;
        while shown != before + 1 {
            let left = deadline.saturating_duration_since(Instant::now());
            shown = counts
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("the tray never showed {} (still {shown})", before + 1));
        }
        (counts, sent)
    })
    .await
    .unwrap();
    // The state the UI holds after that push has the new patient in it, and the count.
    let now = json(&rig.console.app_state());
    assert!(in_queue(&now, &id));
    assert_eq!(waiting_in(&now), before + 1);

    // Locked, the console shows no patients, and the tray no count of them.
    rig.console.lock_now();
    let last = tokio::task::spawn_blocking(move || {
        let _keep = sent;
        latest(&counts, Duration::from_millis(500))
    })
    .await
    .unwrap();
    assert_eq!(last, Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_arrival_raises_one_desktop_alert_and_the_sound_setting_decides_its_sound() {
    let mut rig = rig().await;
    let notices = rig.notices.take().unwrap();
    let console = rig.console.clone();
    tokio::spawn(async move { console.deliver_alerts(notices).await });
    let mut settings = rig.console.settings();
    settings.sound = false;
    rig.console.save_settings(settings).unwrap();
    rig.sign_in_as_reception().await;
    // At the desk: someone unavailable gets no alerts.
    rig.console
        .set_availability(Availability::Available)
        .unwrap();
    rig.state_until("online and at the desk", |s| {
        s["connection"]["state"] == "online"
            && s["me"]["availability"] == "available"
            && s["me"]["availability_pending"] == false
    })
    .await;

    rig.arrive("Noor Haddad").await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let alerts = loop {
        let alerts = rig.host.alerts.lock().unwrap().clone();
        if !alerts.is_empty() {
            break alerts;
        }
        assert!(
            Instant::now() < deadline,
            "no desktop alert for the arrival"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    // Anything else would have come with the first one.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let alerts_now = rig.host.alerts.lock().unwrap().clone();
    assert_eq!(
        alerts_now.len(),
        1,
        "one arrival, one alert: {alerts_now:?}"
    );
    let (notice, sound) = &alerts[0];
    assert!(notice.summary.contains("Noor Haddad"), "{notice:?}");
    assert!(!sound, "the sound is off in the settings");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_station_announces_an_arrival_without_the_patients_name() {
    let mut rig = rig().await;
    let notices = rig.notices.take().unwrap();
    let console = rig.console.clone();
    tokio::spawn(async move { console.deliver_alerts(notices).await });
    rig.sign_in_as_reception().await;
    rig.console
        .set_availability(Availability::Available)
        .unwrap();
    rig.state_until("online and at the desk", |s| {
        s["connection"]["state"] == "online"
            && s["me"]["availability"] == "available"
            && s["me"]["availability_pending"] == false
    })
    .await;
    // The receptionist steps away; the station locks.
    rig.console.lock_now();
    rig.arrive("Noor Haddad").await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let (notice, _) = loop {
        if let Some(first) = rig.host.alerts.lock().unwrap().first().cloned() {
            break first;
        }
        assert!(
            Instant::now() < deadline,
            "no desktop alert for the arrival"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(notice.summary, "A patient is waiting", "{notice:?}");
    assert_eq!(notice.body, "Arrived in Reception");
    let shown = format!("{notice:?}");
    assert!(
        !shown.contains("Noor"),
        "the name is nowhere in the alert: {shown}"
    );
}
