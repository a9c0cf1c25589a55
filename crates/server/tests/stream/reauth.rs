//! A person switching on a clinic station takes over the station's open stream (`reauth`)
//! instead of opening another: the stream then serves, and ends with, the new session; a token
//! that is not a session on the same station (or the same person's, on a station) is refused
//! and the stream goes on as it was. After a switch, events are filtered by what the new
//! person may read.

use super::{Ws, close_reason, connect, next_event, next_frame};
use frontdesk_testkit::{ADMIN, PRIYA, RECEPTION, TestServer};
use futures_util::SinkExt;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

/// A clinic station registered by the admin: its id and its device token.
pub(super) async fn register_station(app: &TestServer, admin: &str, name: &str) -> (String, Value) {
    let a = app
        .send(
            Method::POST,
            "/v1/stations",
            Some(admin),
            Some(json!({ "name": name })),
            &[],
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
    let id = a.body["station"]["id"].as_str().unwrap().to_owned();
    (id, a.body["device_token"].clone())
}

/// A person switches on the station with their PIN: the token of their station session.
pub(super) async fn switch_on(app: &TestServer, device: &Value, email: &str, pin: &str) -> String {
    let a = app
        .send(
            Method::POST,
            "/v1/stations/switch",
            None,
            Some(json!({"device_token": device, "email": email, "pin": pin})),
            &[],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    a.body["token"].as_str().unwrap().to_owned()
}

async fn sign_out(app: &TestServer, token: &str) {
    let a = app
        .send(Method::POST, "/v1/auth/sign-out", Some(token), None, &[])
        .await;
    assert_eq!(a.status, StatusCode::NO_CONTENT, "{:?}", a.body);
}

/// Sends `frame` and returns the server's answer to it (heartbeats and events skipped).
async fn ask(ws: &mut Ws, frame: Value) -> Value {
    ws.send(Message::Text(frame.to_string().into()))
        .await
        .unwrap();
    loop {
        let f = next_frame(ws).await.expect("the stream stays open");
        if f["type"] != "heartbeat" && f["type"] != "event" {
            return f;
        }
    }
}

async fn reauth(ws: &mut Ws, token: &str) -> Value {
    ask(ws, json!({"type": "reauth", "token": token})).await
}

#[tokio::test]
async fn a_pin_switch_hands_the_stations_stream_to_the_new_person_and_it_ends_with_their_session() {
    let app = TestServer::with_demo().await;
    let admin = app.sign_in(ADMIN).await;
    let (_, device) = register_station(&app, &admin, "Front desk 1").await;
    let rita = switch_on(&app, &device, RECEPTION.0, "2222").await;
    let seq = app.last_seq(&admin).await;
    let mut ws = connect(&app, &rita, seq).await;
    let opened = app.server().state.streams_opened();

    // Dr Shah switches on at the station: the console hands her the open stream.
    let priya = switch_on(&app, &device, PRIYA.0, "3333").await;
    let answer = reauth(&mut ws, &priya).await;
    assert_eq!(answer["type"], "reauthed", "{answer}");
    assert_eq!(answer["staff"], app.staff_id(PRIYA.0).as_str());
    assert_eq!(app.server().state.streams_opened(), opened, "no new stream");

    // Rita's session ending no longer ends the stream: it carries what happens next.
    sign_out(&app, &rita).await;
    let (id, _, _) = app.waiting_patient("Ola N.").await;
    assert_eq!(next_event(&mut ws).await["visit_id"], id.as_str());

    // Dr Shah's does.
    sign_out(&app, &priya).await;
    assert_eq!(close_reason(&mut ws).await.as_deref(), Some("signed out"));
}

#[tokio::test]
async fn a_token_that_is_not_another_session_on_the_same_station_is_refused_and_changes_nothing() {
    let app = TestServer::with_demo().await;
    let admin = app.sign_in(ADMIN).await;
    let (_, desk) = register_station(&app, &admin, "Front desk 1").await;
    let (_, other_desk) = register_station(&app, &admin, "Front desk 2").await;
    let rita = switch_on(&app, &desk, RECEPTION.0, "2222").await;
    let seq = app.last_seq(&admin).await;
    let mut ws = connect(&app, &rita, seq).await;

    let on_other_station = switch_on(&app, &other_desk, PRIYA.0, "3333").await;
    let rita_on_other_station = switch_on(&app, &other_desk, RECEPTION.0, "2222").await;
    let signed_in_with_password = app.sign_in(PRIYA).await;
    let signed_out = switch_on(&app, &desk, PRIYA.0, "3333").await;
    sign_out(&app, &signed_out).await;
    let refusals = [
        (
            "an unknown token",
            "fd_staff_not-a-token".to_owned(),
            "unauthorized",
        ),
        ("a session that ended", signed_out, "unauthorized"),
        (
            "a session on another station",
            on_other_station,
            "forbidden",
        ),
        (
            "her own session on another station",
            rita_on_other_station,
            "forbidden",
        ),
        (
            "a session not on a station",
            signed_in_with_password.clone(),
            "forbidden",
        ),
    ];
    for (what, token, code) in refusals {
        let answer = reauth(&mut ws, &token).await;
        assert_eq!(answer["type"], "error", "{what}: {answer}");
        assert_eq!(answer["code"], code, "{what}: {answer}");
        assert!(
            !answer["message"].as_str().unwrap_or_default().is_empty(),
            "{what}: said why"
        );
    }
    let answer = ask(&mut ws, json!({"type": "take_over", "who": "me"})).await;
    assert_eq!(answer["code"], "bad_request", "{answer}");

    // The stream still serves Rita: it carries events, and ends with her session only.
    sign_out(&app, &signed_in_with_password).await;
    let (id, _, _) = app.waiting_patient("Pia V.").await;
    assert_eq!(next_event(&mut ws).await["visit_id"], id.as_str());
    sign_out(&app, &rita).await;
    assert_eq!(close_reason(&mut ws).await.as_deref(), Some("signed out"));
}

#[tokio::test]
async fn a_password_session_on_a_station_passes_its_stream_only_to_the_same_persons_pin() {
    let app = TestServer::with_demo().await;
    let admin = app.sign_in(ADMIN).await;
    let (_, desk) = register_station(&app, &admin, "Front desk 1").await;
    let rita = app.sign_in(RECEPTION).await;
    let seq = app.last_seq(&admin).await;
    let mut ws = connect(&app, &rita, seq).await;
    // Someone else's PIN cannot take a stream no station session holds yet.
    let priya = switch_on(&app, &desk, PRIYA.0, "3333").await;
    let answer = reauth(&mut ws, &priya).await;
    assert_eq!(answer["code"], "forbidden", "{answer}");
    // Rita unlocking the station with her own PIN moves her stream onto that session; from
    // there Dr Shah can take it.
    let rita_on_desk = switch_on(&app, &desk, RECEPTION.0, "2222").await;
    let answer = reauth(&mut ws, &rita_on_desk).await;
    assert_eq!(answer["type"], "reauthed", "{answer}");
    assert_eq!(answer["staff"], app.staff_id(RECEPTION.0).as_str());
    sign_out(&app, &rita).await;
    let answer = reauth(&mut ws, &priya).await;
    assert_eq!(answer["type"], "reauthed", "{answer}");
    sign_out(&app, &priya).await;
    assert_eq!(close_reason(&mut ws).await.as_deref(), Some("signed out"));
}

#[tokio::test]
async fn after_a_pin_switch_the_stream_shows_only_what_the_new_person_may_read() {
    let app = TestServer::with_demo().await;
    let admin = app.sign_in(ADMIN).await;
    let (_, device) = register_station(&app, &admin, "Front desk 1").await;
    let rita = switch_on(&app, &device, RECEPTION.0, "2222").await;
    let seq = app.last_seq(&admin).await;
    let mut ws = connect(&app, &rita, seq).await;
    let haddad = app.room_id("Dr. Haddad's room");

    // Rita works at the desk for every room: Dr Haddad's patient comes to her whole.
    let (before, _, _) = app.arrive(&haddad, "Hal Before").await;
    let event = next_event(&mut ws).await;
    assert_eq!(event["kind"], "visit", "{event}");
    assert_eq!(event["visit_id"], before.as_str());

    // Dr Shah switches on: she works in her own room and Reception, not Dr Haddad's.
    let priya = switch_on(&app, &device, PRIYA.0, "3333").await;
    assert_eq!(reauth(&mut ws, &priya).await["type"], "reauthed");
    let (after, _, _) = app.arrive(&haddad, "Hal After").await;
    let event = next_event(&mut ws).await;
    assert_eq!(event["kind"], "withheld", "{event}");
    assert!(event.get("visit_id").is_none(), "{event}");
    assert!(!event.to_string().contains(after.as_str()), "{event}");
    assert_eq!(event["seq"], app.last_seq(&admin).await);
}
