//! Staff acting on patients: an action goes to the outbox and its result arrives in the state.

use crate::rig::{in_queue, json, rig};
use frontdesk_domain::{Availability, Command};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_action_is_queued_and_its_result_arrives_in_the_state() {
    let mut rig = rig().await;
    rig.sign_in_as_reception().await;
    let id = rig.arrive("Ivo Petrov").await;
    rig.state_until("the patient in the queue", |s| in_queue(s, &id))
        .await;
    let visit = id.parse().unwrap();
    let queued = json(&rig.console.act(visit, Command::Claim).unwrap());
    assert!(queued["action_id"].as_str().is_some_and(|a| !a.is_empty()));
    let state = rig
        .state_until("the claim confirmed", |s| {
            s["queue"].as_array().is_some_and(|q| {
                q.iter()
                    .any(|r| r["visit_id"] == id.as_str() && r["status"] == "in_call")
            })
        })
        .await;
    let row = state["queue"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["visit_id"] == id.as_str())
        .unwrap()
        .clone();
    assert_eq!(row["in_call"][0]["name"], "Rita Reception");

    let details = json(&rig.console.visit_details(visit).await.unwrap());
    assert_eq!(details["patient"]["name"], "Ivo Petrov");
    assert!(details["history"].as_array().unwrap().len() >= 2);

    // With the server out of reach the change cannot be confirmed before it is looked at (on
    // loopback the answer can otherwise beat the state this call returns).
    rig.server.stop().await;
    let state = json(&rig.console.set_availability(Availability::Away).unwrap());
    assert_eq!(state["me"]["availability"], "away", "shown at once");
    assert_eq!(
        state["me"]["availability_pending"], true,
        "and marked pending"
    );

    let mut settings = rig.console.settings();
    settings.lock_after_minutes = 3;
    settings.quick_messages = vec!["Back in 2 minutes".into()];
    let saved = json(&rig.console.save_settings(settings.clone()).unwrap());
    assert_eq!(saved["settings"]["quick_messages"][0], "Back in 2 minutes");
    settings.quick_messages = vec![String::new()];
    let refused = rig.console.save_settings(settings).unwrap_err();
    assert_eq!(refused.code, "validation");
    assert_eq!(
        json(&rig.console.app_state())["settings"]["quick_messages"],
        json!(["Back in 2 minutes"])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_done_for_someone_who_is_not_signed_in() {
    let rig = rig().await;
    let visit = frontdesk_domain::VisitId::from_u128(7);
    assert_eq!(
        rig.console.act(visit, Command::Claim).unwrap_err().code,
        "unauthorized"
    );
    assert_eq!(
        rig.console.visit_details(visit).await.unwrap_err().code,
        "unauthorized"
    );
    assert_eq!(
        rig.console
            .set_availability(Availability::Away)
            .unwrap_err()
            .code,
        "unauthorized"
    );
    assert_eq!(
        rig.console.dismiss_outcome("an-action").unwrap_err().code,
        "unauthorized"
    );
}
