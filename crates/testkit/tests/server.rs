//! The server rig itself: what a suite relies on when it starts, seeds, restarts and moves
//! the clock of a test server.

use frontdesk_domain::{Span, Timestamp};
use frontdesk_testkit::{RECEPTION, TestServer, arrive};

#[tokio::test]
async fn a_patient_who_arrived_is_still_waiting_after_a_restart_on_the_same_address() {
    let mut clinic = TestServer::with_demo().await;
    let staff = clinic.sign_in(RECEPTION).await;
    let (id, _, version) = clinic.waiting_patient("Ana P.").await;
    assert!(version > 1, "the intake moved the visit on");
    let addr = clinic.addr();

    clinic.restart().await;
    assert_eq!(clinic.addr(), addr);
    assert_eq!(clinic.server().addr, addr);
    let visit = clinic.visit(&staff, &id).await;
    assert_eq!(visit["status"], "waiting");
    assert_eq!(visit["version"], version);
}

#[tokio::test]
async fn the_front_door_helper_works_for_any_server_url() {
    let clinic = TestServer::with_demo().await;
    let room = clinic.room_id("Reception");
    let a = arrive(&clinic.http, &clinic.base_url(), "demo", &room, "Ben O.").await;
    assert!(a.patient_token.starts_with("fdp_"), "{a:?}");
    let staff = clinic.sign_in(RECEPTION).await;
    assert_eq!(clinic.visit(&staff, &a.visit_id).await["status"], "intake");
}

#[tokio::test]
async fn the_clock_starts_where_asked_and_moves_with_the_test() {
    let at = Timestamp::from_millis(1_795_316_400_000);
    let clinic = TestServer::builder().clock_at(at).start().await;
    let clock = clinic.clock();
    let now = clinic.server().state.now().as_millis();
    assert!((now - at.as_millis()).abs() < 60_000, "{now}");
    clock.advance(Span::from_secs(3_600));
    let later = clinic.server().state.now().as_millis();
    assert!(later - now >= 3_600_000, "{later}");
}

#[tokio::test]
#[should_panic(expected = "started without the demo clinic")]
async fn an_empty_server_has_no_demo_clinic() {
    let clinic = TestServer::empty().await;
    let _ = clinic.demo();
}
