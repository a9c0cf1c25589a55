//! A patient's place in line is counted by the database (an index over the waiting areas), and
//! the count is the domain's `place_in_line` on a mixed queue: priorities, arrivals at the same
//! moment, someone in a call, someone back on hold, and a second room.

use frontdesk_domain::{ClinicId, RoomId, Span, place_in_line};
use frontdesk_testkit::{PRIYA, RECEPTION, TestServer};
use serde_json::json;

#[tokio::test]
async fn the_databases_place_in_line_is_the_domains_on_a_mixed_queue() {
    let app = TestServer::with_demo().await;
    let desk = app.sign_in(RECEPTION).await;
    let priya = app.sign_in(PRIYA).await;
    let clock = app.clock();
    let reception = app.room_id("Reception");
    let other_room = app
        .demo()
        .rooms
        .iter()
        .find(|r| r.id.to_string() != reception)
        .expect("a provider's room")
        .id
        .to_string();

    let mut arrivals = Vec::new();
    for (n, name) in ["Ada", "Ben", "Cy", "Di", "Eve", "Fay", "Gus"]
        .iter()
        .enumerate()
    {
        // Ben and Cy come in at the same moment: the id settles who is first.
        if n != 2 {
            clock.advance(Span::from_secs(30));
        }
        let (id, token, _) = app.waiting_patient(name).await;
        arrivals.push((id, token));
    }
    // One still on the intake form, one in the provider's own room.
    app.arrive(&reception, "Hal").await;
    app.arrive(&other_room, "Ivy").await;

    let version = |id: String| {
        let app = &app;
        let desk = desk.clone();
        async move { app.visit(&desk, &id).await["version"].as_u64().unwrap() }
    };
    let (ada, ben, cy, di, eve, fay) = (
        &arrivals[0].0,
        &arrivals[1].0,
        &arrivals[2].0,
        &arrivals[3].0,
        &arrivals[4].0,
        &arrivals[5].0,
    );
    let urgent = json!({"priority": "urgent", "note": "chest pain"});
    let emergency = json!({"priority": "emergency", "note": "breathless"});
    let v = version(cy.clone()).await;
    assert!(
        app.command(&desk, cy, "priority", v, Some(urgent.clone()))
            .await
            .status
            .is_success()
    );
    let v = version(fay.clone()).await;
    assert!(
        app.command(&desk, fay, "priority", v, Some(emergency))
            .await
            .status
            .is_success()
    );
    let v = version(di.clone()).await;
    assert!(
        app.command(&desk, di, "priority", v, Some(urgent))
            .await
            .status
            .is_success()
    );
    // Eve is in a call; Ada was seen and is back on hold, keeping her arrival.
    let v = version(eve.clone()).await;
    assert!(
        app.command(&desk, eve, "claim", v, None)
            .await
            .status
            .is_success()
    );
    let v = version(ada.clone()).await;
    assert!(
        app.command(&priya, ada, "claim", v, None)
            .await
            .status
            .is_success()
    );
    let v = version(ada.clone()).await;
    let left = app.command(&priya, ada, "leave-call", v, None).await;
    assert_eq!(left.status_of_visit(), "on_hold", "{:?}", left.body);

    let store = app.server().store();
    let clinic: ClinicId = app.demo().clinic.id;
    let open = store.open_visits(clinic).await.unwrap();
    assert!(open.len() >= 9, "the whole queue is open");
    let mut counted = 0;
    for visit in &open {
        let domain = place_in_line(visit, &open);
        let database = store
            .place_in_line(clinic, visit.room_id, visit.id)
            .await
            .unwrap();
        assert_eq!(
            database, domain,
            "{} ({})",
            visit.patient.name, visit.status
        );
        counted += usize::from(domain.is_some());
    }
    assert_eq!(counted, 8, "everyone but the patient in a call is in line");
    // A room the visit is not in has no place for it.
    let other: RoomId = other_room.parse().unwrap();
    let ben_id = ben.parse().unwrap();
    assert_eq!(
        store.place_in_line(clinic, other, ben_id).await.unwrap(),
        None
    );
}
