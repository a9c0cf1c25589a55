//! The providers board: who is available, in a call, on call or away, and reception asking a
//! provider for a session and following the answer (pending, accepted, or declined with the
//! note), then putting it away.

use crate::rig::{json, rig};
use frontdesk_client::api::ApiClient;
use frontdesk_domain::{Availability, Command, StaffId, VisitId};
use serde_json::Value;

fn provider<'a>(state: &'a Value, name: &str) -> &'a Value {
    state["providers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("{name} on the board: {state}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reception_asks_providers_for_sessions_and_sees_each_answer() {
    let rig = rig().await;
    rig.sign_in_as_reception().await;
    let api = ApiClient::new(&rig.url).unwrap();
    let priya = api
        .sign_in("demo", "priya@demo.clinic", "demo-provider")
        .await
        .unwrap()
        .token;
    let omar = api
        .sign_in("demo", "omar@demo.clinic", "demo-provider")
        .await
        .unwrap()
        .token;
    // Dr Haddad goes home.
    api.set_availability(&omar, Availability::Unavailable, "omar-home")
        .await
        .unwrap();
    let state = rig
        .state_until("the board", |s| {
            s["providers"].as_array().is_some_and(|p| {
                p.iter()
                    .any(|p| p["name"] == "Dr. Omar Haddad" && p["now"] == "unavailable")
            })
        })
        .await;
    assert_eq!(provider(&state, "Dr. Priya Shah")["now"], "available");
    let priya_id: StaffId =
        serde_json::from_value(provider(&state, "Dr. Priya Shah")["id"].clone()).unwrap();
    let omar_id: StaffId =
        serde_json::from_value(provider(&state, "Dr. Omar Haddad")["id"].clone()).unwrap();

    // Reception asks Dr Shah for a session with Sam: pending under her.
    rig.console
        .request_session(priya_id, "Sam Rivera")
        .await
        .unwrap();
    let state = rig
        .state_until("the request pending", |s| {
            provider(s, "Dr. Priya Shah")["requests"][0]["answer"]["state"] == "pending"
        })
        .await;
    let asked = &provider(&state, "Dr. Priya Shah")["requests"][0];
    assert_eq!(asked["patient_name"], "Sam Rivera");
    let sam: VisitId = serde_json::from_value(asked["visit_id"].clone()).unwrap();

    // She accepts and goes straight into the call: accepted, and she shows as in a call.
    let version = api.visit(&priya, sam).await.unwrap().version;
    api.command(
        &priya,
        sam,
        &Command::AcceptAndEnter,
        Some(version),
        "priya-accepts",
    )
    .await
    .unwrap();
    rig.state_until("accepted, and Dr Shah in a call", |s| {
        let p = provider(s, "Dr. Priya Shah");
        p["requests"][0]["answer"]["state"] == "accepted" && p["now"] == "in_call"
    })
    .await;

    // Dr Haddad is unavailable: the request is declined at once, with the clinic's note.
    rig.console
        .request_session(omar_id, "Lee Chan")
        .await
        .unwrap();
    let state = rig
        .state_until("declined", |s| {
            provider(s, "Dr. Omar Haddad")["requests"][0]["answer"]["state"] == "declined"
        })
        .await;
    let note = provider(&state, "Dr. Omar Haddad")["requests"][0]["answer"]["note"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(!note.is_empty(), "the note says why");
    let lee: VisitId = serde_json::from_value(
        provider(&state, "Dr. Omar Haddad")["requests"][0]["visit_id"].clone(),
    )
    .unwrap();

    // Dismiss puts it away; locked, the board keeps no patient names.
    let state = json(&rig.console.dismiss_request(lee).unwrap());
    assert_eq!(
        provider(&state, "Dr. Omar Haddad")["requests"],
        serde_json::json!([])
    );
    let locked = json(&rig.console.lock_now());
    assert_eq!(
        provider(&locked, "Dr. Priya Shah")["requests"],
        serde_json::json!([])
    );
}
