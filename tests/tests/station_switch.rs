//! A clinic station's console engine when another person switches on with their PIN: the engine
//! keeps its connection (the server re-authenticates the open stream), then acts and sees as
//! the new person, and never sends what the person before queued as the new one.

use frontdesk_api::auth::Token;
use frontdesk_client::view::ConnectionState;
use frontdesk_domain::{Command, Status, VisitId};
use frontdesk_tests::{Console, CuttingProxy, TestClinic, eventually};
use std::time::Duration;

const LONG: Duration = Duration::from_secs(30);
const RITA: &str = "reception@demo.clinic";
const PRIYA: &str = "priya@demo.clinic";

fn state(c: &Console) -> ConnectionState {
    c.engine.connection_state()
}

fn me(c: &Console) -> Option<String> {
    c.engine.confirmed().me.map(|m| m.email)
}

/// A patient arrives in Reception; returns once the console shows them.
async fn arrives(clinic: &TestClinic, desk: &Console, name: &str) -> VisitId {
    let id: VisitId = clinic
        .arrive(&clinic.room("Reception"), name)
        .await
        .parse()
        .unwrap();
    eventually(&desk.engine, LONG, "the arrival on the live stream", || {
        desk.engine.visit(id).is_some()
    })
    .await;
    id
}

/// A station with Rita switched on, and its console online as her.
async fn front_desk_as_rita(clinic: &TestClinic) -> (String, Token, Console) {
    let device = clinic.register_station("Front desk 1").await;
    let rita = clinic.switch_on(&device, RITA).await;
    let desk = Console::start(&clinic.url(), clinic.dir().join("desk.db"), &rita.token);
    eventually(&desk.engine, LONG, "online as Rita", || {
        state(&desk) == ConnectionState::Online && me(&desk).as_deref() == Some(RITA)
    })
    .await;
    (device, rita, desk)
}

async fn sign_out(clinic: &TestClinic, token: &str) {
    frontdesk_client::api::ApiClient::new(&clinic.url())
        .unwrap()
        .sign_out(token)
        .await
        .expect("signed out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dr_shah_switches_on_at_the_front_desk_and_the_console_keeps_its_connection() {
    let clinic = TestClinic::start().await;
    let (device, rita, desk) = front_desk_as_rita(&clinic).await;
    let opened = clinic.streams_opened();
    assert!(opened >= 1, "the console is online on a stream");

    let priya = clinic.switch_on(&device, PRIYA).await;
    desk.engine
        .switch_person(&priya.token)
        .await
        .expect("the open stream takes Dr Shah");
    assert_eq!(me(&desk).as_deref(), Some(PRIYA), "the console shows her");
    assert_eq!(state(&desk), ConnectionState::Online);
    assert_eq!(clinic.streams_opened(), opened, "no new stream");

    // What she does goes out as her.
    let id = arrives(&clinic, &desk, "Uma Leclerc").await;
    desk.engine.act(id, Command::Claim).unwrap();
    eventually(&desk.engine, LONG, "claimed", || {
        desk.engine
            .visit(id)
            .is_some_and(|v| v.status == Status::InCall)
    })
    .await;
    let visit = desk.engine.visit(id).unwrap();
    assert!(
        visit.in_call.contains(&priya.staff.id),
        "Dr Shah is in the call: {:?}",
        visit.in_call
    );

    // Rita's session ending is no business of the station's stream any more; Dr Shah's is.
    sign_out(&clinic, &rita.token).await;
    arrives(&clinic, &desk, "Vic Moreau").await;
    assert_eq!(clinic.streams_opened(), opened, "still no new stream");
    sign_out(&clinic, &priya.token).await;
    eventually(&desk.engine, LONG, "signed out with Dr Shah", || {
        state(&desk) == ConnectionState::SignedOut
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_the_stream_refuses_leaves_the_console_as_it_was() {
    let clinic = TestClinic::start().await;
    let (_, rita, desk) = front_desk_as_rita(&clinic).await;
    // Dr Shah signed in with her password on her own PC: not a session of this station.
    let elsewhere = clinic.sign_in(PRIYA).await;
    let refused = desk.engine.switch_person(&elsewhere).await.unwrap_err();
    assert_eq!(refused.code(), "forbidden", "{refused}");
    assert_eq!(me(&desk).as_deref(), Some(RITA));
    let id = arrives(&clinic, &desk, "Wes Tanaka").await;
    desk.engine.act(id, Command::Claim).unwrap();
    eventually(&desk.engine, LONG, "claimed as Rita", || {
        desk.engine
            .visit(id)
            .is_some_and(|v| v.in_call.contains(&rita.staff.id))
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_the_person_before_left_unsent_never_goes_out_as_the_next_one() {
    let mut clinic = TestClinic::start().await;
    let proxy = CuttingProxy::start(clinic.addr()).await;
    let device = clinic.register_station("Front desk 1").await;
    let rita = clinic.switch_on(&device, RITA).await;
    let cache = clinic.dir().join("desk.db");
    let desk = Console::start(&proxy.url(), cache.clone(), &rita.token);
    let id: VisitId = clinic
        .arrive(&clinic.room("Reception"), "Xia Brandt")
        .await
        .parse()
        .unwrap();
    eventually(&desk.engine, LONG, "Rita sees the patient", || {
        desk.engine.visit(id).is_some() && me(&desk).as_deref() == Some(RITA)
    })
    .await;

    // Rita claims with the server away, and the console closes with the claim unsent.
    proxy.set_down(true);
    clinic.stop().await;
    eventually(&desk.engine, LONG, "offline", || {
        state(&desk) == ConnectionState::Offline
    })
    .await;
    desk.engine.act(id, Command::Claim).unwrap();
    drop(desk);

    // The station opens on the same cache with Dr Shah's token: Rita's claim is shown as not
    // sent, and the server never sees it.
    clinic.restart().await;
    proxy.set_down(false);
    let priya = clinic.switch_on(&device, PRIYA).await;
    let desk = Console::start_with(&proxy.url(), cache, &priya.token, |c| {
        c.person_email = Some(PRIYA.into());
    });
    // Her claim may be held before the station has read who Dr Shah is: wait for both.
    eventually(&desk.engine, LONG, "held and shown, to Dr Shah", || {
        let view = desk.engine.view();
        view.connection.pending == 0
            && view.outcomes.iter().any(|o| o.code == "not_sent")
            && me(&desk).as_deref() == Some(PRIYA)
    })
    .await;
    let admin = clinic.sign_in("admin@demo.clinic").await;
    let on_server = clinic
        .snapshot(&admin)
        .await
        .visits
        .into_iter()
        .find(|v| v.id == id)
        .expect("the patient is still open");
    assert!(on_server.in_call.is_empty(), "nobody claimed her");
    assert_ne!(on_server.status, Status::InCall);
}
