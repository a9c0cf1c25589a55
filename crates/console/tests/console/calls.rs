//! Taking a patient into a call: the queue laid out for triage, the call's link for those in
//! it, and "Open call" opening that link in the browser.

use crate::rig::{in_queue, json, rig};
use frontdesk_domain::Command;
use serde_json::Value;

fn row<'a>(state: &'a Value, id: &str) -> &'a Value {
    state["queue"]
        .as_array()
        .and_then(|q| q.iter().find(|r| r["visit_id"] == id))
        .unwrap_or_else(|| panic!("{id} in the queue: {state}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reception_claims_a_patient_and_opens_the_call_in_the_browser() {
    let rig = rig().await;
    rig.sign_in_as_reception().await;
    let ana = rig.arrive("Ana Pereira").await;
    let ben = rig.arrive("Ben Okoro").await;
    let state = rig
        .state_until("both in the queue", |s| {
            in_queue(s, &ana) && in_queue(s, &ben)
        })
        .await;
    // Waiting: no link, nothing to open, and the total wait counting.
    let waiting = row(&state, &ana);
    assert_eq!(waiting["section"], "waiting");
    assert!(waiting["call_link"].is_null(), "{waiting}");
    assert!(waiting["total_wait_from"].as_i64().is_some(), "{waiting}");
    let visit = ana.parse().unwrap();
    let refused = rig.console.open_call(visit).unwrap_err();
    assert_eq!(refused.code, "no_call_link");
    assert!(rig.host.opened.lock().unwrap().is_empty());

    rig.console.act(visit, Command::Claim).unwrap();
    let state = rig
        .state_until("the claim confirmed", |s| {
            row(s, &ana)["status"] == "in_call"
        })
        .await;
    let in_call = row(&state, &ana);
    assert_eq!(in_call["section"], "with_staff");
    assert!(in_call["call_started_at"].as_i64().is_some(), "{in_call}");
    let link = format!("https://meet.jit.si/frontdesk-demo-{ana}");
    assert_eq!(in_call["call_link"], link.as_str());
    // The Waiting section comes first: Ben, still waiting, is now the first row.
    assert_eq!(state["queue"][0]["visit_id"], ben.as_str());

    assert_eq!(rig.console.open_call(visit).unwrap(), link);
    assert_eq!(*rig.host.opened.lock().unwrap(), vec![link.clone()]);

    // On hold, the link is gone again: no call to open.
    rig.console.act(visit, Command::LeaveCall).unwrap();
    let state = rig
        .state_until("on hold", |s| row(s, &ana)["status"] == "on_hold")
        .await;
    assert!(row(&state, &ana)["call_link"].is_null());
    assert_eq!(
        rig.console.open_call(visit).unwrap_err().code,
        "no_call_link"
    );
    assert_eq!(json(&rig.host.opened.lock().unwrap().len()), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reception_looks_over_every_room_and_the_tray_counts_its_own() {
    let rig = rig().await;
    rig.sign_in_as_reception().await;
    let ana = rig.arrive("Ana Pereira").await;
    let shah_room = rig.server.room_id("Dr. Shah's room");
    let omar = rig.server.arrive(&shah_room, "Omar Farouk").await.0;
    let state = rig
        .state_until("both in the queue", |s| {
            in_queue(s, &ana) && in_queue(s, &omar)
        })
        .await;
    assert_eq!(row(&state, &ana)["in_my_rooms"], true);
    let other = row(&state, &omar);
    assert_eq!(other["in_my_rooms"], false, "shown for the All rooms view");
    assert_eq!(other["room_name"], "Dr. Shah's room");
    assert_eq!(
        rig.console.app_state().waiting(),
        1,
        "the tray counts Reception's only"
    );
}
