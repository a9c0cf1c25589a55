//! The front desk's day and its connection: who finished today (kept across a restart of the
//! console, hidden while locked), and the console back with the server by itself or at once
//! on "Reconnect now".

use crate::rig::{in_queue, json, rig};
use frontdesk_console::Console;
use frontdesk_domain::{Availability, Command};
use frontdesk_testkit::proxy::CuttingProxy;
use serde_json::Value;

fn in_today(state: &Value, visit: &str) -> Option<Value> {
    state["today"]
        .as_array()?
        .iter()
        .find(|r| r["visit_id"] == visit)
        .cloned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reception_sees_who_was_seen_today_with_their_wait_and_it_stays_after_a_restart() {
    let mut rig = rig().await;
    rig.console
        .sign_in(
            &rig.address,
            "reception@demo.clinic",
            "demo-reception",
            true,
        )
        .await
        .unwrap();
    // Ana finished before this console ever looked (the day's list comes from the server);
    // Ben finishes while it watches (kept live from the events).
    let ana = rig.arrive("Ana Pereira").await;
    let ben = rig.arrive("Ben Okoro").await;
    rig.state_until("both in the queue", |s| {
        in_queue(s, &ana) && in_queue(s, &ben)
    })
    .await;
    for (id, command) in [
        (&ana, Command::Claim),
        (&ana, Command::EndCall),
        (&ben, Command::Claim),
        (&ben, Command::EndCall),
    ] {
        let visit = id.parse().unwrap();
        rig.console.act(visit, command).unwrap();
        rig.state_until("the action confirmed", |s| s["connection"]["pending"] == 0)
            .await;
    }
    let state = rig
        .state_until("both in today's list", |s| {
            in_today(s, &ana).is_some() && in_today(s, &ben).is_some()
        })
        .await;
    assert!(!in_queue(&state, &ana), "out of the queue");
    let row = in_today(&state, &ana).unwrap();
    assert_eq!(row["status"], "completed");
    assert_eq!(row["patient_name"], "Ana Pereira");
    assert_eq!(row["seen_by"][0]["name"], "Rita Reception");
    assert!(row["total_waited"].as_i64().unwrap() >= 0);
    assert!(row["finished_at"].as_i64().unwrap() >= row["arrived_at"].as_i64().unwrap());
    // The latest to finish comes first.
    assert_eq!(state["today"][0]["visit_id"], ben.as_str());
    // Her history opens from the row.
    let details = json(
        &rig.console
            .visit_details(ana.parse().unwrap())
            .await
            .unwrap(),
    );
    assert_eq!(details["status"], "completed");

    // Locked: no patient's name leaves the console, the day's included.
    let locked = json(&rig.console.lock_now());
    assert_eq!(locked["today"], serde_json::json!([]));

    // The console restarts with the server gone: the day is still there, from the cache.
    rig.server.stop().await;
    let host = rig.host.clone();
    drop(std::mem::replace(
        &mut rig.console,
        std::sync::Arc::new(Console::new(rig.dir.path().join("app"), host).0),
    ));
    rig.console.clone().resume_last_session().await;
    let state = json(&rig.console.app_state());
    assert_eq!(state["screen"], "queue", "{state}");
    assert!(in_today(&state, &ana).is_some(), "from the cache: {state}");
    assert!(in_today(&state, &ben).is_some(), "from the cache: {state}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_availability_change_made_offline_is_marked_and_goes_through_on_reconnect_now() {
    let mut rig = rig().await;
    // Through a proxy that drops the connections when the server goes, as a network does.
    let proxy = CuttingProxy::start(rig.server.addr()).await;
    rig.console
        .sign_in(
            &format!("{}/demo", proxy.url()),
            "reception@demo.clinic",
            "demo-reception",
            false,
        )
        .await
        .unwrap();
    rig.state_until("online", |s| s["connection"]["state"] == "online")
        .await;
    proxy.set_down(true);
    rig.server.stop().await;
    rig.state_until("offline", |s| s["connection"]["state"] == "offline")
        .await;
    let state = json(&rig.console.set_availability(Availability::Away).unwrap());
    assert_eq!(state["me"]["availability"], "away");
    assert_eq!(state["me"]["availability_pending"], true, "marked pending");
    assert_eq!(
        state["connection"]["pending"], 1,
        "one action waiting to send"
    );

    // The server is back; "Reconnect now" asks at once (the retries would get there too).
    rig.server.restart().await;
    proxy.set_down(false);
    rig.console.reconnect_now().unwrap();
    let state = rig
        .state_until("online with nothing to send", |s| {
            s["connection"]["state"] == "online" && s["connection"]["pending"] == 0
        })
        .await;
    assert_eq!(state["me"]["availability"], "away");
    assert_eq!(state["me"]["availability_pending"], false);
    let (api, admin) = rig.admin().await;
    let snapshot = api.snapshot(&admin).await.unwrap();
    let rita = snapshot
        .staff
        .iter()
        .find(|s| s.name == "Rita Reception")
        .unwrap();
    assert_eq!(rita.availability, Availability::Away, "the server has it");

    // Away and back once more, no one touching it: live again by itself, a new arrival shows.
    proxy.set_down(true);
    rig.server.stop().await;
    rig.state_until("offline again", |s| s["connection"]["state"] == "offline")
        .await;
    rig.server.restart().await;
    proxy.set_down(false);
    rig.state_until("online again", |s| s["connection"]["state"] == "online")
        .await;
    let cleo = rig.arrive("Cleo Park").await;
    rig.state_until("the new arrival", |s| in_queue(s, &cleo))
        .await;
}
