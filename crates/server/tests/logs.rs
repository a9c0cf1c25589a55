//! No token reaches the log, at any level: a whole working day's requests (sign-in, a station
//! and its PIN switch, a patient arriving and retrying, the waiting screen through its link,
//! the patient's own API, staff commands, the event feed and the live stream with the token in
//! the query) run against a server in this process while every log line, down to TRACE, is
//! captured in memory; none of them holds a staff, device or patient token.
//!
//! This binary holds one test: the capture is the process's global subscriber.

use frontdesk_testkit::{RECEPTION, TestServer, open_link};
use futures_util::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_day_of_requests_leaves_no_token_in_the_log() {
    let log = Captured::default();
    let writer = log.clone();
    // Everything, but what the test's own clients log of the requests they send.
    let filter = "trace,tungstenite::handshake::client=off,reqwest=off,hyper_util::client=off";
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();
    let app = TestServer::with_demo().await;

    // Staff: a password sign-in, a station registered and a PIN switch on it.
    let admin = app.sign_in(frontdesk_testkit::ADMIN).await;
    let station = app
        .send(
            Method::POST,
            "/v1/stations",
            Some(&admin),
            Some(json!({"name": "Front desk PC"})),
            &[],
        )
        .await;
    assert_eq!(station.status, StatusCode::CREATED, "{:?}", station.body);
    let device = station.body["device_token"].as_str().unwrap().to_owned();
    let switched = app
        .send(
            Method::POST,
            "/v1/stations/switch",
            None,
            Some(json!({"device_token": device, "email": RECEPTION.0, "pin": "2222"})),
            &[],
        )
        .await;
    assert_eq!(switched.status, StatusCode::OK, "{:?}", switched.body);
    let reception = switched.body["token"].as_str().unwrap().to_owned();

    // A patient arrives (and retries), opens the waiting screen by its link, uses their API.
    let door = format!("/v1/join/demo/{}", app.room_id("Reception"));
    let body = json!({"name": "Lou Logless", "phone": "0400 000 010"});
    let arrive = || {
        app.send(
            Method::POST,
            &door,
            None,
            Some(body.clone()),
            &[("idempotency-key", "log-1")],
        )
    };
    let arrived = arrive().await;
    assert_eq!(arrived.status, StatusCode::CREATED, "{:?}", arrived.body);
    assert!(arrive().await.replayed);
    let patient = arrived.body["patient_token"].as_str().unwrap().to_owned();
    let visit = arrived.body["visit"]["id"].as_str().unwrap().to_owned();
    let screen = open_link(&app.url(&format!("/wait/{patient}"))).await;
    assert!(screen.html.contains("Lou Logless"), "{}", screen.html);
    let intake = json!({"answers": {"Reason for visit": "Cough"}});
    let a = app
        .patient(
            &patient,
            Method::PUT,
            "/v1/patient/visit/intake",
            Some(intake),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    let a = app
        .send(Method::GET, "/v1/patient/visit", Some(&patient), None, &[])
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    // A mistyped link and a mistyped token in the query are refused, and not logged either.
    let cut = &patient[..patient.len() - 1];
    assert_eq!(
        open_link(&app.url(&format!("/wait/{cut}"))).await.status,
        404
    );

    // The live stream, opened by the header; a client that also puts the token in the query
    // (as old consoles did) must not have it logged.
    let base = app.server().url().replace("http://", "ws://");
    let mut req = format!("{base}/v1/stream?after=0&token={reception}")
        .into_client_request()
        .unwrap();
    req.headers_mut().insert(
        "authorization",
        format!("Bearer {reception}").parse().unwrap(),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();

    // Staff act on the visit; the change reaches the stream and the event feed.
    let version = app.visit(&reception, &visit).await["version"]
        .as_u64()
        .unwrap();
    let claimed = app
        .command(&reception, &visit, "claim", version, None)
        .await;
    assert_eq!(claimed.status, StatusCode::OK, "{:?}", claimed.body);
    let frame = tokio::time::timeout(Duration::from_secs(30), ws.next()).await;
    assert!(matches!(frame, Ok(Some(Ok(_)))), "{frame:?}");
    let feed = app
        .get(&format!("/v1/events?after=0&token={reception}"), &reception)
        .await;
    assert_eq!(feed.status, StatusCode::OK, "{:?}", feed.body);
    drop(ws);
    let out = app
        .send(Method::POST, "/v1/auth/sign-out", Some(&admin), None, &[])
        .await;
    assert!(out.status.is_success(), "{:?}", out.body);

    let text = log.text();
    assert!(
        text.contains("/wait/{token}") && text.contains("/v1/stream"),
        "the requests were logged:\n{text}"
    );
    for (what, token) in [
        ("staff", admin.as_str()),
        ("staff on a station", reception.as_str()),
        ("device", device.as_str()),
        ("patient", patient.as_str()),
        ("mistyped patient", cut),
    ] {
        // A token's first half is as telling as all of it.
        let half = &token[..token.len() / 2];
        assert!(
            !text.contains(half),
            "the {what} token is in the log:\n{text}"
        );
    }
}
