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
