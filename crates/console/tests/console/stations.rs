//! Stations at a front desk: locking can set the person unavailable (and unlocking gives back
//! what they had), and a clinic can keep patients' names out of every alert.

use crate::rig::{json, rig};
use frontdesk_client::api::ApiClient;
use frontdesk_domain::Availability;
use reqwest::Method;
use std::time::{Duration, Instant};

/// Rita's availability as the server has it.
async fn on_server(api: &ApiClient, admin: &str) -> Availability {
    let snapshot = api.snapshot(admin).await.unwrap();
    snapshot
        .staff
        .iter()
        .find(|s| s.name == "Rita Reception")
        .unwrap()
        .availability
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn locking_sets_me_unavailable_when_asked_and_unlocking_gives_it_back() {
    let rig = rig().await;
    rig.sign_in_as_reception().await;
    rig.console
        .set_availability(Availability::Available)
        .unwrap();
    rig.state_until("available, confirmed", |s| {
        s["me"]["availability"] == "available" && s["me"]["availability_pending"] == false
    })
    .await;
    let (api, admin) = rig.admin().await;

    // Without the setting, locking leaves availability alone.
    rig.console.lock_now();
    rig.console.unlock("demo-reception", None).await.unwrap();
    assert_eq!(on_server(&api, &admin).await, Availability::Available);
    assert_eq!(json(&rig.console.app_state())["connection"]["pending"], 0);

    // With it, the lock sets Rita unavailable, through the normal action.
    let mut settings = rig.console.settings();
    settings.unavailable_when_locked = true;
    rig.console.save_settings(settings).unwrap();
    rig.console.lock_now();
    let deadline = Instant::now() + Duration::from_secs(30);
    while on_server(&api, &admin).await != Availability::Unavailable {
        assert!(Instant::now() < deadline, "never unavailable on the server");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Back at the desk: available again.
    rig.console.unlock("demo-reception", None).await.unwrap();
    let state = rig
        .state_until("available again, confirmed", |s| {
            s["me"]["availability"] == "available" && s["me"]["availability_pending"] == false
        })
        .await;
    assert_eq!(state["screen"], "queue");
    assert_eq!(on_server(&api, &admin).await, Availability::Available);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clinic_that_wants_no_names_in_alerts_gets_none_even_at_an_unlocked_desk() {
    let mut rig = rig().await;
    let (_, admin) = rig.admin().await;
    let set = rig
        .server
        .send(
            Method::PUT,
            "/v1/clinic",
            Some(&admin),
            Some(serde_json::json!({"nameless_alerts": true})),
            &[],
        )
        .await;
    assert_eq!(set.body["nameless_alerts"], true, "{:?}", set.body);

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
    assert_eq!(
        json(&rig.console.app_state())["screen"],
        "queue",
        "not locked"
    );
    assert_eq!(notice.summary, "A patient is waiting", "{notice:?}");
    let shown = format!("{notice:?}");
    assert!(
        !shown.contains("Noor"),
        "the name is nowhere in the alert: {shown}"
    );
}
