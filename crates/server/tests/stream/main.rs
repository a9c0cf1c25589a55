//! The live stream: resume from the last seq without gaps or repeats, heartbeats, a slow
//! subscriber told to resync rather than silently skipped, the token only in the header, and a
//! stream closed as soon as its session ends. What streams cost in memory is in [`memory`]; a
//! person switching on a clinic station taking over its stream is in [`reauth`].

mod memory;
mod reauth;

use frontdesk_testkit::{RECEPTION, TestServer, get_json};
use futures_util::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(app: &TestServer, token: &str, after: u64) -> Ws {
    tokio_tungstenite::connect_async(app.stream_request(token, after))
        .await
        .unwrap()
        .0
}

/// The next frame; a guard stops a broken server from hanging the test.
async fn next_frame(ws: &mut Ws) -> Option<Value> {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(30), ws.next())
            .await
            .expect("no frame within 30 s");
        match msg {
            Some(Ok(Message::Text(t))) => return Some(serde_json::from_str(t.as_str()).unwrap()),
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
            Some(Ok(_)) => {}
        }
    }
}

async fn next_event(ws: &mut Ws) -> Value {
    loop {
        let f = next_frame(ws).await.expect("stream closed");
        if f["type"] == "event" {
            return f["event"].clone();
        }
        assert_eq!(f["type"], "heartbeat", "{f}");
    }
}

async fn message(app: &TestServer, token: &str, id: &str, text: &str) {
    let v = app.visit(token, id).await["version"].as_u64().unwrap();
    let a = app
        .command(token, id, "message", v, Some(json!({"text": text})))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
}

#[tokio::test]
async fn a_subscriber_that_resumes_from_its_last_seq_misses_nothing_and_sees_nothing_twice() {
    let app = TestServer::with_demo().await;
    let reception = app.sign_in(RECEPTION).await;
    let (id, _, _) = app.waiting_patient("Tom R.").await;
    let start = app.last_seq(&reception).await;
    let mut seen = Vec::new();

    let mut ws = connect(&app, &reception, start).await;
    for i in 0..3 {
        message(&app, &reception, &id, &format!("live {i}")).await;
        seen.push(next_event(&mut ws).await);
    }
    drop(ws);
    for i in 0..4 {
        message(&app, &reception, &id, &format!("while away {i}")).await;
    }
    let last = seen.last().unwrap()["seq"].as_u64().unwrap();
    let mut ws = connect(&app, &reception, last).await;
    // Commands keep landing while the backlog is being sent.
    let writer = {
        let (app_url, token, id) = (app.server().url(), reception.clone(), id.clone());
        let http = app.http.clone();
        tokio::spawn(async move {
            for i in 0..20 {
                let v = get_json(&http, &format!("{app_url}/v1/visits/{id}"), &token).await;
                let res = http
                    .post(format!("{app_url}/v1/visits/{id}/message"))
                    .bearer_auth(&token)
                    .header("if-match", v["version"].to_string())
                    .json(&json!({"text": format!("racing {i}")}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), StatusCode::OK);
            }
        })
    };
    for _ in 0..24 {
        seen.push(next_event(&mut ws).await);
    }
    writer.await.unwrap();

    let seqs: Vec<u64> = seen.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    let expected: Vec<u64> = (start + 1..=start + 27).collect();
    assert_eq!(seqs, expected, "every event once, in seq order");
    assert_eq!(app.last_seq(&reception).await, start + 27);
    let final_visit = app.visit(&reception, &id).await;
    let last = seen.last().unwrap();
    assert_eq!(last["visit_id"], id.as_str());
    assert_eq!(
        last["version"], final_visit["version"],
        "the last event brings the visit to its stored version"
    );
    let history = final_visit["history"].as_array().unwrap();
    assert_eq!(
        last["entries"].as_array().unwrap().as_slice(),
        &history[history.len() - 1..],
        "and carries the change that did it, not the visit"
    );
}

#[tokio::test]
async fn an_idle_stream_sends_heartbeats_with_the_last_seq() {
    let app = TestServer::builder()
        .demo_clinic()
        .settings(|s| s.heartbeat = Duration::from_millis(50))
        .start()
        .await;
    let reception = app.sign_in(RECEPTION).await;
    let seq = app.last_seq(&reception).await;
    let mut ws = connect(&app, &reception, seq).await;
    let f = next_frame(&mut ws).await.unwrap();
    assert_eq!(f, json!({"type": "heartbeat", "seq": seq}));
}

#[tokio::test]
async fn signing_out_ends_the_stream_of_that_session_only() {
    let app = TestServer::builder()
        .demo_clinic()
        .settings(|s| {
            s.heartbeat = Duration::from_millis(50);
            s.session_cache_ttl = Duration::ZERO;
        })
        .start()
        .await;
    let leaving = app.sign_in(RECEPTION).await;
    let staying = app.sign_in(RECEPTION).await;
    let seq = app.last_seq(&leaving).await;
    let mut gone = connect(&app, &leaving, seq).await;
    let mut kept = connect(&app, &staying, seq).await;
    assert!(next_frame(&mut gone).await.is_some(), "streaming");
    let a = app
        .send(
            reqwest::Method::POST,
            "/v1/auth/sign-out",
            Some(&leaving),
            None,
            &[],
        )
        .await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    // Heartbeats may still be on the way; then the server closes the line.
    let mut frames = 0;
    while let Some(f) = next_frame(&mut gone).await {
        assert_eq!(
            f["type"], "heartbeat",
            "no clinic events after sign-out: {f}"
        );
        frames += 1;
        assert!(frames < 100, "the signed-out stream was not closed");
    }
    // The other session's stream goes on, and carries what happens next.
    let (id, _, _) = app.waiting_patient("Ned S.").await;
    let e = next_event(&mut kept).await;
    assert_eq!(e["visit_id"], id.as_str(), "{e}");
}

#[tokio::test]
async fn a_subscriber_too_slow_to_keep_up_is_told_to_resync_and_closed() {
    let app = TestServer::builder()
        .demo_clinic()
        .settings(|s| {
            s.stream_buffer = 4;
            // This is about the budget: the stalled line must not time out first.
            s.stream_write_timeout = Duration::from_secs(300);
            // The many patients below all arrive (and finish their intake) from this one address.
            s.arrivals_per_address_per_minute = 1_000;
            s.arrivals_per_room_per_minute = 1_000;
            s.intake_updates_per_address_per_minute = 1_000;
        })
        .start()
        .await;
    let reception = app.sign_in(RECEPTION).await;
    let mut patients = Vec::new();
    for n in 0..150 {
        patients.push(app.waiting_patient(&format!("Uma W{n}.")).await.0);
    }
    let start = app.last_seq(&reception).await;
    let mut ws = connect(&app, &reception, start).await;
    // Events are small now (the change, not the visit): it takes a few megabytes of them to
    // fill every socket buffer on the way, so that the server's sender stalls while the
    // clinic carries on. A message needs no version; each visit holds 20,000 characters of them.
    let long = "x".repeat(1_000);
    for _ in 0..20 {
        for id in &patients {
            let a = app
                .send(
                    Method::POST,
                    &format!("/v1/visits/{id}/message"),
                    Some(&reception),
                    Some(json!({"text": long})),
                    &[],
                )
                .await;
            assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
        }
    }
    let mut last = start;
    loop {
        let f = next_frame(&mut ws)
            .await
            .expect("closed without a resync frame");
        match f["type"].as_str().unwrap() {
            "event" => {
                let seq = f["event"]["seq"].as_u64().unwrap();
                assert_eq!(seq, last + 1, "no silent skip");
                last = seq;
            }
            "resync" => {
                assert_eq!(f["seq"], last, "resync names the last seq delivered");
                break;
            }
            other => assert_eq!(other, "heartbeat"),
        }
    }
    assert!(last < start + 3_000, "the slow subscriber fell behind");
    assert!(
        next_frame(&mut ws).await.is_none(),
        "then the socket closes"
    );
}

/// Prints a figure a test measured, for whoever runs it (`-- --nocapture`).
#[allow(clippy::print_stdout)]
fn report(figure: std::fmt::Arguments<'_>) {
    println!("{figure}");
}

/// The reason the server gave when it closed the stream, reading past any frames still on the
/// way (None: the line ended without a close frame).
async fn close_reason(ws: &mut Ws) -> Option<String> {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(30), ws.next())
            .await
            .expect("not closed within 30 s");
        match msg {
            Some(Ok(Message::Close(frame))) => return frame.map(|f| f.reason.to_string()),
            None | Some(Err(_)) => return None,
            Some(Ok(_)) => {}
        }
    }
}

#[tokio::test]
async fn a_token_in_the_url_is_not_accepted_only_the_authorization_header() {
    let app = TestServer::with_demo().await;
    let reception = app.sign_in(RECEPTION).await;
    let base = app.server().url().replace("http://", "ws://");
    let url = format!("{base}/v1/stream?after=0&token={reception}");
    match tokio_tungstenite::connect_async(url).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => {
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        }
        Err(e) => panic!("expected 401, got {e}"),
        Ok(_) => panic!("a token in the URL opened the stream"),
    }
    let mut ws = connect(&app, &reception, 0).await;
    assert!(next_frame(&mut ws).await.is_some(), "the header opens it");
    let doc = get_json(&app.http, &app.url("/v1/openapi.json"), &reception).await;
    let params = &doc["paths"]["/v1/stream"]["get"]["parameters"];
    let names: Vec<&str> = params
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["after"], "no token parameter is offered");
}

#[tokio::test]
async fn a_signed_out_sessions_stream_closes_within_two_seconds() {
    // Default heartbeat and session cache: no periodic check would catch it in time.
    let app = TestServer::with_demo().await;
    let reception = app.sign_in(RECEPTION).await;
    let seq = app.last_seq(&reception).await;
    let mut ws = connect(&app, &reception, seq).await;
    // The stream is open once the server answered a command's event on it.
    let (id, _, _) = app.waiting_patient("Ida K.").await;
    assert_eq!(next_event(&mut ws).await["visit_id"], id.as_str());
    while next_event_now(&mut ws).await {}
    let signed_out = std::time::Instant::now();
    let a = app
        .send(
            reqwest::Method::POST,
            "/v1/auth/sign-out",
            Some(&reception),
            None,
            &[],
        )
        .await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    let reason = close_reason(&mut ws).await;
    let took = signed_out.elapsed();
    report(format_args!(
        "signed-out stream closed {took:?} after the sign-out was sent"
    ));
    assert_eq!(reason.as_deref(), Some("signed out"));
    assert!(took < Duration::from_secs(2), "closed after {took:?}");
}

/// Takes the next frame if one is already on its way: whether there was one.
async fn next_event_now(ws: &mut Ws) -> bool {
    tokio::time::timeout(Duration::from_millis(200), ws.next())
        .await
        .is_ok()
}

#[tokio::test]
async fn revoking_a_station_closes_the_streams_of_sessions_on_it() {
    let app = TestServer::with_demo().await;
    let admin = app.sign_in(frontdesk_testkit::ADMIN).await;
    let (station, device) = reauth::register_station(&app, &admin, "Front desk 1").await;
    let on_station = reauth::switch_on(&app, &device, RECEPTION.0, "2222").await;
    let seq = app.last_seq(&admin).await;
    let mut on_desk = connect(&app, &on_station, seq).await;
    let mut admins = connect(&app, &admin, seq).await;
    let gone = app
        .send(
            reqwest::Method::DELETE,
            &format!("/v1/stations/{station}"),
            Some(&admin),
            None,
            &[],
        )
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT, "{:?}", gone.body);
    assert_eq!(
        close_reason(&mut on_desk).await.as_deref(),
        Some("signed out")
    );
    let (id, _, _) = app.waiting_patient("Lea M.").await;
    assert_eq!(next_event(&mut admins).await["visit_id"], id.as_str());
}
