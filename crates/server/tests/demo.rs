//! The demo clinic the console's demo mode starts: seeded once, and alive with simulated
//! patients arriving, being seen, put on hold, seen again and leaving.

use frontdesk_server::demo;
use frontdesk_testkit::{RECEPTION, TestServer};
use reqwest::StatusCode;
use std::collections::BTreeSet;
use std::time::Duration;

#[tokio::test]
async fn the_demo_clinic_is_seeded_once_and_the_simulator_keeps_it_busy() {
    let app = TestServer::with_demo().await;
    let again = demo::seed_demo(app.server().store(), frontdesk_server::HashCost::Fast)
        .await
        .unwrap();
    assert_eq!(
        again.clinic,
        app.demo().clinic,
        "seeding twice finds the same clinic"
    );
    let names: BTreeSet<&str> = app.demo().rooms.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        BTreeSet::from(["Reception", "Dr. Haddad's room", "Dr. Shah's room"])
    );
    for account in demo::ACCOUNTS {
        app.sign_in((account.email, account.password)).await;
    }

    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let sim = tokio::spawn(demo::simulate(
        app.server().state.store.clone(),
        app.server().state.settings.clock.clone(),
        app.demo().clone(),
        Duration::from_millis(5),
        async {
            let _ = stopped.await;
        },
    ));
    let token = app.sign_in(RECEPTION).await;
    let wanted = [
        "opened",
        "intake_finished",
        "claimed",
        "put_on_hold",
        "call_ended",
    ];
    let mut seen = BTreeSet::new();
    let mut after = 0;
    // Guarded, not timed: a broken simulator fails here instead of hanging.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while !wanted.iter().all(|w| seen.contains(*w)) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the simulator never got to {wanted:?}; saw {seen:?}"
        );
        let page = app
            .get(&format!("/v1/events?after={after}&limit=1000"), &token)
            .await;
        assert_eq!(page.status, StatusCode::OK);
        for e in page.body["events"].as_array().unwrap() {
            after = e["seq"].as_u64().unwrap();
            for entry in e["entries"].as_array().into_iter().flatten() {
                seen.insert(entry["change"]["type"].as_str().unwrap().to_owned());
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.send(()).unwrap();
    sim.await.unwrap();
}

#[tokio::test]
async fn the_demo_opens_on_a_clinic_morning_with_a_line_and_the_front_door_open() {
    let app = TestServer::with_demo().await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    // Ticks an hour apart: only the morning the simulator starts with happens here.
    let sim = tokio::spawn(demo::simulate(
        app.server().state.store.clone(),
        app.server().state.settings.clock.clone(),
        app.demo().clone(),
        Duration::from_secs(3600),
        async {
            let _ = stopped.await;
        },
    ));
    let token = app.sign_in(RECEPTION).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    // Seen half an hour ago: just after midnight that was yesterday in the clinic's day view.
    let done = loop {
        let today = app.get("/v1/visits", &token).await;
        let day: jiff::civil::Date = today.body["day"].as_str().unwrap().parse().unwrap();
        let yesterday = app
            .get(
                &format!("/v1/visits?day={}", day.yesterday().unwrap()),
                &token,
            )
            .await;
        let seen: Vec<serde_json::Value> = [&today, &yesterday]
            .iter()
            .flat_map(|d| d.body["visits"].as_array().cloned().unwrap_or_default())
            .collect();
        if seen.len() == 2 {
            break seen;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no morning: {today:?} {yesterday:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    for v in &done {
        assert_eq!(v["status"], "completed", "seen earlier this morning");
    }
    let in_line =
        |v: &serde_json::Value| matches!(v["status"].as_str(), Some("intake" | "waiting"));
    let visits = loop {
        let snapshot = app.get("/v1/snapshot", &token).await;
        let visits = snapshot.body["visits"].as_array().unwrap().clone();
        if visits.iter().filter(|v| in_line(v)).count() >= 8 {
            break visits;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no line: {visits:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let waiting = visits.iter().filter(|v| in_line(v)).count();
    assert!((5..=15).contains(&waiting), "{waiting} in the line");
    assert!(
        visits.iter().all(|v| v["after_hours"] != true),
        "the front door is open when the demo starts: {visits:?}"
    );
    let first = app
        .get("/v1/queue", &token)
        .await
        .body
        .as_array()
        .unwrap()
        .first()
        .cloned()
        .unwrap();
    assert!(
        first["total_waiting_ms"].as_i64().unwrap() >= 15 * 60_000,
        "someone has waited a while: {first}"
    );
    stop.send(()).unwrap();
    sim.await.unwrap();
}
