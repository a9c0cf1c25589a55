//! Accounts, as a clinic's admin and its staff check them: someone who left is deactivated and
//! every way in they had (their tokens, the station they were switched on, their open stream)
//! stops at once; they come back when reactivated; an admin signs a person out everywhere or
//! sends a one-time reset code; changing one's password ends one's other sessions.
//!
//! The streams here are opened with a heartbeat of an hour and a session cache of an hour, so
//! nothing but the notice of the ended session can close a stream or refuse a cached token:
//! what the tests see is the immediate path, without timing it.

mod sinks;

use frontdesk_domain::Span;
use frontdesk_server::messages::transport::Mailer;
use frontdesk_testkit::{ADMIN, Answer, PRIYA, RECEPTION, TestServer, eventually};
use futures_util::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sinks::{Mail, SmtpMode, SmtpSink};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn clinic() -> TestServer {
    TestServer::builder()
        .demo_clinic()
        .settings(|s| {
            s.heartbeat = Duration::from_secs(3600);
            s.session_cache_ttl = Duration::from_secs(3600);
        })
        .start()
        .await
}

/// The clinic with its email going to a real SMTP server on loopback.
async fn clinic_with_mail() -> (TestServer, SmtpSink) {
    let smtp = SmtpSink::start(SmtpMode::Accept).await;
    let url = smtp.url();
    let app = TestServer::builder()
        .demo_clinic()
        .settings(move |s| {
            s.heartbeat = Duration::from_secs(3600);
            s.session_cache_ttl = Duration::from_secs(3600);
            s.background_tick = Duration::from_millis(50);
            s.transports.email = Some(Mailer::new(&url, "Demo Clinic <desk@demo.clinic>").unwrap());
        })
        .start()
        .await;
    (app, smtp)
}

/// The `n`th email (counting from 1) to `to` whose subject has `subject`, once it came.
async fn nth_mail(smtp: &SmtpSink, to: &str, subject: &str, n: usize) -> Mail {
    eventually(30, "the email", || async {
        smtp.to(to, subject).get(n - 1).cloned()
    })
    .await
}

async fn post(app: &TestServer, path: &str, token: Option<&str>, body: Option<Value>) -> Answer {
    app.send(Method::POST, path, token, body, &[]).await
}

/// An admin's action on a person: `deactivate`, `reactivate`, `sign-out`, `password-reset`.
async fn on_staff(
    app: &TestServer,
    admin: &str,
    id: &impl std::fmt::Display,
    action: &str,
) -> Answer {
    post(app, &format!("/v1/staff/{id}/{action}"), Some(admin), None).await
}

async fn sign_in(app: &TestServer, email: &str, password: &str) -> Answer {
    let body = json!({"clinic": "demo", "email": email, "password": password});
    post(app, "/v1/auth/sign-in", None, Some(body)).await
}

/// Registers a clinic station as the admin; gives its device token.
async fn station(app: &TestServer, admin: &str, name: &str) -> String {
    let a = post(
        app,
        "/v1/stations",
        Some(admin),
        Some(json!({"name": name})),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
    a.body["device_token"].as_str().unwrap().to_owned()
}

async fn switch_on(app: &TestServer, device: &str, email: &str, pin: &str) -> Answer {
    let body = json!({"device_token": device, "email": email, "pin": pin});
    post(app, "/v1/stations/switch", None, Some(body)).await
}

async fn me(app: &TestServer, token: &str) -> StatusCode {
    app.get("/v1/me", token).await.status
}

async fn open_stream(app: &TestServer, token: &str) -> Ws {
    let base = app.server().url().replace("http://", "ws://");
    let seq = app.last_seq(token).await;
    let mut req = format!("{base}/v1/stream?after={seq}")
        .into_client_request()
        .unwrap();
    req.headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    tokio_tungstenite::connect_async(req).await.unwrap().0
}

/// The reason the server gave when it closed the stream, reading past frames on the way
/// (None: the line ended without a close frame). The guard only stops a broken server from
/// hanging the test: with hour-long heartbeats, only the ended session's notice closes it.
async fn close_reason(ws: &mut Ws) -> Option<String> {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(30), ws.next())
            .await
            .expect("the stream was not closed");
        match msg {
            Some(Ok(Message::Close(frame))) => return frame.map(|f| f.reason.to_string()),
            None | Some(Err(_)) => return None,
            Some(Ok(_)) => {}
        }
    }
}

fn staff_row(list: &Answer, id: &str) -> Value {
    list.body
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .cloned()
        .unwrap()
}

#[tokio::test]
async fn a_receptionist_who_left_is_locked_out_everywhere_at_once_and_can_come_back() {
    let app = clinic().await;
    let admin = app.sign_in(ADMIN).await;
    let rita = app.staff_id(RECEPTION.0);
    let desk = app.sign_in(RECEPTION).await;
    let device = station(&app, &admin, "Front desk PC").await;
    let switched = switch_on(&app, &device, RECEPTION.0, "2222").await;
    assert_eq!(switched.status, StatusCode::OK, "{:?}", switched.body);
    let on_station = switched.body["token"].as_str().unwrap().to_owned();
    let mut desk_stream = open_stream(&app, &desk).await;
    let mut station_stream = open_stream(&app, &on_station).await;
    let mut admin_stream = open_stream(&app, &admin).await;
    assert_eq!(me(&app, &desk).await, StatusCode::OK, "cached from now on");

    let gone = on_staff(&app, &admin, &rita, "deactivate").await;
    assert_eq!(gone.status, StatusCode::OK, "{:?}", gone.body);
    assert_eq!(gone.body["deactivated"], true);

    assert_eq!(
        close_reason(&mut desk_stream).await.as_deref(),
        Some("signed out")
    );
    assert_eq!(
        close_reason(&mut station_stream).await.as_deref(),
        Some("signed out")
    );
    assert_eq!(me(&app, &desk).await, StatusCode::UNAUTHORIZED);
    assert_eq!(me(&app, &on_station).await, StatusCode::UNAUTHORIZED);
    let again = sign_in(&app, RECEPTION.0, RECEPTION.1).await;
    assert_eq!(again.status, StatusCode::FORBIDDEN, "{:?}", again.body);
    assert_eq!(again.code(), "account_deactivated");
    let pin = switch_on(&app, &device, RECEPTION.0, "2222").await;
    assert_eq!(
        (pin.status, pin.code()),
        (StatusCode::FORBIDDEN, "account_deactivated")
    );
    let wrong = sign_in(&app, RECEPTION.0, "not her password").await;
    assert_eq!(
        (wrong.status, wrong.code()),
        (StatusCode::UNAUTHORIZED, "unauthorized"),
        "without the password nothing says the account exists"
    );
    let listed = app.get("/v1/staff", &admin).await;
    assert_eq!(staff_row(&listed, &rita)["deactivated"], true);
    // The admin's own stream heard of it as a staff change, and goes on.
    let staff_event = loop {
        let Some(Ok(Message::Text(t))) = admin_stream.next().await else {
            panic!("the admin's stream closed");
        };
        let f: Value = serde_json::from_str(t.as_str()).unwrap();
        if f["type"] == "event" && f["event"]["kind"] == "staff" {
            break f;
        }
    };
    assert_eq!(staff_event["event"]["staff"]["deactivated"], true);

    // Only while deactivated may the account hold no role, and it comes back with one.
    let priya = app.staff_id(PRIYA.0);
    let stripped = app.edit_staff(&admin, &priya, json!({"roles": []})).await;
    assert_eq!(
        (stripped.status, stripped.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "validation")
    );
    let none = app.edit_staff(&admin, &rita, json!({"roles": []})).await;
    assert_eq!(none.status, StatusCode::OK, "{:?}", none.body);
    let back = on_staff(&app, &admin, &rita, "reactivate").await;
    assert_eq!(
        (back.status, back.code()),
        (StatusCode::CONFLICT, "no_role")
    );
    assert_eq!(
        staff_row(&app.get("/v1/staff", &admin).await, &rita)["deactivated"],
        true
    );
    let role = app
        .edit_staff(&admin, &rita, json!({"roles": ["receptionist"]}))
        .await;
    assert_eq!(role.status, StatusCode::OK, "{:?}", role.body);
    let back = on_staff(&app, &admin, &rita, "reactivate").await;
    assert_eq!(back.status, StatusCode::OK, "{:?}", back.body);
    assert_eq!(back.body["deactivated"], false);

    let token = app.sign_in(RECEPTION).await;
    assert_eq!(me(&app, &token).await, StatusCode::OK);
    let pin = switch_on(&app, &device, RECEPTION.0, "2222").await;
    assert_eq!(pin.status, StatusCode::OK, "{:?}", pin.body);
    assert_eq!(
        me(&app, &desk).await,
        StatusCode::UNAUTHORIZED,
        "old tokens stay ended"
    );
}

#[tokio::test]
async fn an_admin_cannot_lock_themselves_out_and_others_cannot_deactivate_anyone() {
    let app = clinic().await;
    let admin = app.sign_in(ADMIN).await;
    let desk = app.sign_in(RECEPTION).await;
    let me_id = app.staff_id(ADMIN.0);
    let priya = app.staff_id(PRIYA.0);
    let own = on_staff(&app, &admin, &me_id, "deactivate").await;
    assert_eq!(
        (own.status, own.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "validation")
    );
    assert_eq!(me(&app, &admin).await, StatusCode::OK);
    for path in ["deactivate", "sign-out", "password-reset"] {
        let a = post(
            &app,
            &format!("/v1/staff/{priya}/{path}"),
            Some(&desk),
            None,
        )
        .await;
        assert_eq!(
            (a.status, a.code()),
            (StatusCode::FORBIDDEN, "forbidden"),
            "{path}"
        );
    }
    let unknown = post(
        &app,
        "/v1/staff/00000000-0000-0000-0000-000000000000/deactivate",
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(
        (unknown.status, unknown.code()),
        (StatusCode::NOT_FOUND, "not_found")
    );
    let priya_token = app.sign_in(PRIYA).await;
    assert_eq!(
        me(&app, &priya_token).await,
        StatusCode::OK,
        "nothing changed"
    );
}

#[tokio::test]
async fn a_provider_who_left_is_no_ones_provider_and_gets_no_alerts() {
    let (app, smtp) = clinic_with_mail().await;
    let admin = app.sign_in(ADMIN).await;
    let desk = app.sign_in(RECEPTION).await;
    let priya_id = app.staff_id(PRIYA.0);
    let priya = app.sign_in(PRIYA).await;
    let reception = app.room_id("Reception");
    let alerts = json!([{"room_id": reception, "desktop": true, "email": true, "sms": false}]);
    let set = app
        .send(
            Method::PUT,
            "/v1/me/alerts",
            Some(&priya),
            Some(alerts),
            &[],
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{:?}", set.body);
    let gone = on_staff(&app, &admin, &priya_id, "deactivate").await;
    assert_eq!(gone.status, StatusCode::OK, "{:?}", gone.body);

    let (id, _, version) = app.waiting_patient("Ben C.").await;
    let assign = app
        .command(
            &desk,
            &id,
            "assign",
            version,
            Some(json!({"provider": priya_id})),
        )
        .await;
    assert_eq!(
        (assign.status, assign.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "validation"),
        "{:?}",
        assign.body
    );
    // Another subscriber's arrival email shows the notifier has been past the arrival.
    let omar = app.sign_in(frontdesk_testkit::OMAR).await;
    let alerts = json!([{"room_id": reception, "desktop": true, "email": true, "sms": false}]);
    let set = app
        .send(Method::PUT, "/v1/me/alerts", Some(&omar), Some(alerts), &[])
        .await;
    assert_eq!(set.status, StatusCode::OK, "{:?}", set.body);
    app.waiting_patient("Cal D.").await;
    nth_mail(&smtp, frontdesk_testkit::OMAR.0, "", 1).await;
    // What the notifier decided for an arrival is queued at once, in one transaction.
    let queued = app.get("/v1/deliveries", &admin).await;
    let to_priya: Vec<&Value> = queued
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["to"] == PRIYA.0)
        .collect();
    assert!(to_priya.is_empty(), "{to_priya:?}");
}

#[tokio::test]
async fn signing_a_person_out_everywhere_ends_every_session_but_not_their_password() {
    let app = clinic().await;
    let admin = app.sign_in(ADMIN).await;
    let rita = app.staff_id(RECEPTION.0);
    let laptop = app.sign_in(RECEPTION).await;
    let desktop = app.sign_in(RECEPTION).await;
    let device = station(&app, &admin, "Front desk PC").await;
    let on_station = switch_on(&app, &device, RECEPTION.0, "2222").await.body["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let priya = app.sign_in(PRIYA).await;
    let mut stream = open_stream(&app, &desktop).await;
    let mut priyas_stream = open_stream(&app, &priya).await;

    let out = on_staff(&app, &admin, &rita, "sign-out").await;
    assert_eq!(out.status, StatusCode::NO_CONTENT, "{:?}", out.body);
    assert_eq!(
        close_reason(&mut stream).await.as_deref(),
        Some("signed out")
    );
    for token in [&laptop, &desktop, &on_station] {
        assert_eq!(me(&app, token).await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        me(&app, &priya).await,
        StatusCode::OK,
        "others stay signed in"
    );
    let (id, _, _) = app.waiting_patient("Ada B.").await;
    let event = loop {
        let Some(Ok(Message::Text(t))) = priyas_stream.next().await else {
            panic!("Priya's stream closed");
        };
        let f: Value = serde_json::from_str(t.as_str()).unwrap();
        if f["type"] == "event" {
            break f;
        }
    };
    assert_eq!(event["event"]["visit_id"], id.as_str());
    let back = app.sign_in(RECEPTION).await;
    assert_eq!(me(&app, &back).await, StatusCode::OK);
}

/// The reset code in an email.
fn code_in(mail: &Mail) -> String {
    mail.body()
        .split_whitespace()
        .find(|w| w.starts_with("fdr_"))
        .expect("a code in the email")
        .to_owned()
}

async fn reset(app: &TestServer, token: &str, password: &str) -> Answer {
    let body = json!({"token": token, "password": password});
    post(app, "/v1/auth/password-reset", None, Some(body)).await
}

#[tokio::test]
async fn a_reset_code_sets_a_new_password_once_and_expires_after_an_hour() {
    let (app, smtp) = clinic_with_mail().await;
    let admin = app.sign_in(ADMIN).await;
    let rita = app.staff_id(RECEPTION.0);
    let old_session = app.sign_in(RECEPTION).await;
    let mut stream = open_stream(&app, &old_session).await;

    let sent = on_staff(&app, &admin, &rita, "password-reset").await;
    assert_eq!(sent.status, StatusCode::ACCEPTED, "{:?}", sent.body);
    assert_eq!(sent.body["email"], RECEPTION.0);
    let code = code_in(&nth_mail(&smtp, RECEPTION.0, "Reset your", 1).await);
    assert_eq!(
        me(&app, &old_session).await,
        StatusCode::OK,
        "sending it ends nothing"
    );
    // The admin sees that it went, not the code: it is Rita's alone.
    let list = app.get("/v1/deliveries", &admin).await;
    let queued = list
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["kind"] == "password_reset");
    let shown = queued.expect("the reset email in the admin's list")["body"].to_string();
    assert!(
        !shown.contains(&code) && shown.contains("fdr_(hidden)"),
        "{shown}"
    );

    let short = reset(&app, &code, "short").await;
    assert_eq!(
        (short.status, short.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "validation")
    );
    let done = reset(&app, &code, "a new secret 1").await;
    assert_eq!(done.status, StatusCode::NO_CONTENT, "{:?}", done.body);
    assert_eq!(
        close_reason(&mut stream).await.as_deref(),
        Some("signed out")
    );
    assert_eq!(me(&app, &old_session).await, StatusCode::UNAUTHORIZED);
    let old = sign_in(&app, RECEPTION.0, RECEPTION.1).await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        sign_in(&app, RECEPTION.0, "a new secret 1").await.status,
        StatusCode::OK
    );

    let twice = reset(&app, &code, "another secret 2").await;
    assert_eq!(
        (twice.status, twice.code()),
        (StatusCode::GONE, "reset_link_expired")
    );
    let made_up = reset(&app, "fdr_made-up", "another secret 2").await;
    assert_eq!(made_up.code(), "reset_link_expired");

    let sent = on_staff(&app, &admin, &rita, "password-reset").await;
    assert_eq!(sent.status, StatusCode::ACCEPTED);
    let later = code_in(&nth_mail(&smtp, RECEPTION.0, "Reset your", 2).await);
    assert_ne!(later, code);
    app.clock().advance(Span::from_secs(61 * 60));
    let late = reset(&app, &later, "another secret 2").await;
    assert_eq!(
        (late.status, late.code()),
        (StatusCode::GONE, "reset_link_expired")
    );
    assert_eq!(
        sign_in(&app, RECEPTION.0, "a new secret 1").await.status,
        StatusCode::OK,
        "an expired code changes nothing"
    );
}

#[tokio::test]
async fn changing_ones_password_ends_ones_other_sessions_and_keeps_this_one() {
    let app = clinic().await;
    let here = app.sign_in(RECEPTION).await;
    let elsewhere = app.sign_in(RECEPTION).await;
    let mut there = open_stream(&app, &elsewhere).await;
    let change =
        |current: &str, new: &str| json!({"current_password": current, "new_password": new});

    let wrong = app
        .send(
            Method::PUT,
            "/v1/me/password",
            Some(&here),
            Some(change("guess", "a new secret 1")),
            &[],
        )
        .await;
    assert_eq!(
        (wrong.status, wrong.code()),
        (StatusCode::FORBIDDEN, "wrong_password")
    );
    assert_eq!(
        me(&app, &here).await,
        StatusCode::OK,
        "a wrong current password changes nothing"
    );
    assert_eq!(me(&app, &elsewhere).await, StatusCode::OK);
    let short = app
        .send(
            Method::PUT,
            "/v1/me/password",
            Some(&here),
            Some(change(RECEPTION.1, "short")),
            &[],
        )
        .await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);

    let done = app
        .send(
            Method::PUT,
            "/v1/me/password",
            Some(&here),
            Some(change(RECEPTION.1, "a new secret 1")),
            &[],
        )
        .await;
    assert_eq!(done.status, StatusCode::NO_CONTENT, "{:?}", done.body);
    assert_eq!(
        close_reason(&mut there).await.as_deref(),
        Some("signed out")
    );
    assert_eq!(me(&app, &elsewhere).await, StatusCode::UNAUTHORIZED);
    assert_eq!(me(&app, &here).await, StatusCode::OK);
    assert_eq!(
        sign_in(&app, RECEPTION.0, RECEPTION.1).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        sign_in(&app, RECEPTION.0, "a new secret 1").await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn five_wrong_pins_across_two_stations_lock_the_pin_until_a_password_sign_in() {
    let (app, smtp) = clinic_with_mail().await;
    let admin = app.sign_in(ADMIN).await;
    let front = station(&app, &admin, "Front desk").await;
    let back = station(&app, &admin, "Back office").await;
    for (i, device) in [&front, &back, &front, &back].into_iter().enumerate() {
        let a = switch_on(&app, device, RECEPTION.0, &format!("90{i:02}")).await;
        assert_eq!(
            (a.status, a.code()),
            (StatusCode::UNAUTHORIZED, "unauthorized")
        );
    }
    let fifth = switch_on(&app, &back, RECEPTION.0, "9999").await;
    assert_eq!(
        (fifth.status, fifth.code()),
        (StatusCode::LOCKED, "pin_locked")
    );
    for device in [&front, &back] {
        let right = switch_on(&app, device, RECEPTION.0, "2222").await;
        assert_eq!(
            (right.status, right.code()),
            (StatusCode::LOCKED, "pin_locked"),
            "even the right PIN, on any station"
        );
    }
    // Another person's PIN is theirs alone.
    let priya = switch_on(&app, &front, PRIYA.0, "3333").await;
    assert_eq!(priya.status, StatusCode::OK, "{:?}", priya.body);

    let alert = nth_mail(&smtp, ADMIN.0, "station PIN is locked", 1).await;
    assert!(alert.subject().contains("Rita"), "{}", alert.subject());
    assert!(alert.body().contains("Back office"), "{}", alert.body());
    let alerts = smtp
        .received()
        .into_iter()
        .filter(|m| m.subject().contains("PIN is locked"))
        .count();
    assert_eq!(alerts, 1, "one alert, to the clinic's one admin");

    app.sign_in(RECEPTION).await;
    let unlocked = switch_on(&app, &front, RECEPTION.0, "2222").await;
    assert_eq!(unlocked.status, StatusCode::OK, "{:?}", unlocked.body);
    // A right PIN starts the count again: four wrong ones do not lock it.
    for i in 0..4 {
        let a = switch_on(&app, &back, RECEPTION.0, &format!("80{i:02}")).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    }
    let ok = switch_on(&app, &back, RECEPTION.0, "2222").await;
    assert_eq!(ok.status, StatusCode::OK, "{:?}", ok.body);
}

/// Wrong passwords from `client` (named in `X-Forwarded-For`) for an unknown email: the status.
async fn wrong_from(app: &TestServer, forwarded_for: &str) -> StatusCode {
    let body = json!({"clinic": "demo", "email": "nobody@demo.clinic", "password": "guess"});
    app.send(
        Method::POST,
        "/v1/auth/sign-in",
        None,
        Some(body),
        &[("x-forwarded-for", forwarded_for)],
    )
    .await
    .status
}

async fn behind(trusted: &[&str]) -> TestServer {
    let trusted = trusted.iter().map(|t| t.parse().unwrap()).collect();
    TestServer::builder()
        .demo_clinic()
        .settings(|s| {
            s.sign_in_failures_per_ip_per_minute = 3;
            s.sign_in_failures_per_minute = 100;
            s.trusted_proxies = trusted;
        })
        .start()
        .await
}

#[tokio::test]
async fn forwarded_for_names_the_client_only_when_a_trusted_proxy_sends_it() {
    // The clinic's TLS proxy on this machine: each client has its own budget.
    let app = behind(&["127.0.0.0/8"]).await;
    for _ in 0..3 {
        assert_eq!(
            wrong_from(&app, "203.0.113.1").await,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        wrong_from(&app, "203.0.113.1").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        wrong_from(&app, "203.0.113.2").await,
        StatusCode::UNAUTHORIZED,
        "a colleague behind the same proxy is not locked out"
    );
    assert_eq!(
        wrong_from(&app, "203.0.113.2, 203.0.113.1").await,
        StatusCode::TOO_MANY_REQUESTS,
        "the address the proxy saw counts, not what the client wrote before it"
    );

    // No trusted proxy: the header is anyone's to write, and ignored.
    let app = behind(&[]).await;
    for i in 0..3 {
        assert_eq!(
            wrong_from(&app, &format!("198.51.100.{i}")).await,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        wrong_from(&app, "198.51.100.9").await,
        StatusCode::TOO_MANY_REQUESTS
    );
}
