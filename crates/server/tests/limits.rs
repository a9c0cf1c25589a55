//! Bounded work per request, as an operator checks it: a burst of wrong passwords or PINs gets
//! no more checks than the budget allows and the rest are told when to come back; a flood of
//! arrivals or intake saves from one address is refused before anything is created; a client
//! that opens a connection and then dribbles or goes silent is disconnected.

use frontdesk_domain::{Role, Span};
use frontdesk_server::HashCost;
use frontdesk_server::admin::{NewStaff, create_staff};
use frontdesk_testkit::{ADMIN, PRIYA, RECEPTION, TestServer};
use futures_util::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The server's resident memory, in MiB (it runs in this process).
fn resident_mib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("a VmRSS line");
    kib / 1024
}

/// A status with the `Retry-After` it came with and the error code.
#[derive(Debug)]
struct Refusal {
    status: StatusCode,
    retry_after: Option<u64>,
    code: String,
}

async fn post(app: &TestServer, path: &str, body: Value) -> Refusal {
    let res = app
        .http
        .post(app.url(path))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status();
    let retry_after = res
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok()?.parse().ok());
    let body: Value = res.json().await.unwrap_or(Value::Null);
    Refusal {
        status,
        retry_after,
        code: body["code"].as_str().unwrap_or("").to_owned(),
    }
}

async fn sign_in(app: &TestServer, email: &str, password: &str) -> Refusal {
    let body = json!({"clinic": "demo", "email": email, "password": password});
    post(app, "/v1/auth/sign-in", body).await
}

fn checks_run(app: &TestServer) -> u64 {
    app.server().state.secret_checks.run()
}

/// Sends `n` wrong secrets at once through `attempt` and checks the rule: at most `limit` are
/// checked (each answered 401, or 503 if it could not get a turn), every other one is 429 with
/// a `Retry-After`.
async fn burst<F, Fut>(app: &TestServer, n: usize, limit: u64, attempt: F)
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = Refusal>,
{
    let before = checks_run(app);
    let answers = join_all((0..n).map(attempt)).await;
    let checked = checks_run(app) - before;
    let refused: Vec<_> = answers
        .iter()
        .filter(|a| a.status == StatusCode::TOO_MANY_REQUESTS)
        .collect();
    let wrong = answers
        .iter()
        .filter(|a| a.status == StatusCode::UNAUTHORIZED)
        .count();
    let busy = answers
        .iter()
        .filter(|a| a.status == StatusCode::SERVICE_UNAVAILABLE)
        .count();
    eprintln!(
        "{n} wrong at once: {checked} checked, {wrong} answered 401, {busy} 503, {} 429",
        refused.len()
    );
    assert!(checked <= limit, "{checked} checks for a budget of {limit}");
    assert_eq!(wrong + busy + refused.len(), n, "{answers:?}");
    assert!((wrong + busy) as u64 <= limit, "{answers:?}");
    assert!(refused.len() >= n - limit as usize);
    for r in refused {
        assert_eq!(r.code, "rate_limited");
        let after = r.retry_after.expect("a 429 says when to come back");
        assert!((1..=60).contains(&after), "Retry-After: {after}");
    }
}

#[tokio::test]
async fn sixty_four_wrong_passwords_at_once_get_at_most_ten_checks_and_memory_stays_flat() {
    // Full-cost checks are slow in a debug build on a shared machine: every admitted guess
    // waits for its turn, so all ten are checked and count.
    let app = TestServer::builder()
        .demo_clinic()
        .settings(|s| s.secret_check_wait = Duration::from_secs(120))
        .start()
        .await;
    // This account's password is hashed at full cost (19 MiB per check): unchecked, 64 at
    // once would take over a gigabyte.
    create_staff(
        app.server().store(),
        app.demo().clinic.id,
        NewStaff {
            name: "Nadia Full-Cost".into(),
            email: "nadia@demo.clinic".into(),
            roles: vec![Role::Receptionist],
            password: "the-right-password".into(),
            pin: None,
            rooms: vec![],
            all_rooms: false,
            availability: None,
            phone: None,
        },
        HashCost::Standard,
        app.server().state.now(),
    )
    .await
    .unwrap();
    let guesses = |i: usize| {
        let app = &app;
        async move { sign_in(app, "nadia@demo.clinic", &format!("guess-{i}")).await }
    };
    let rss_before = resident_mib();
    burst(&app, 64, 10, guesses).await;
    let rss_after = resident_mib();
    eprintln!("server memory: {rss_before} MiB before, {rss_after} MiB after the burst");
    assert!(
        rss_after < rss_before + 200,
        "memory grew from {rss_before} to {rss_after} MiB"
    );
    // A next minute's burst reuses the same memory.
    app.clock().advance(Span::from_secs(61));
    burst(&app, 64, 10, guesses).await;
    let rss_again = resident_mib();
    eprintln!("server memory: {rss_again} MiB after a second burst");
    assert!(
        rss_again < rss_after + 50,
        "memory grew from {rss_after} to {rss_again} MiB"
    );

    // The account is locked for the rest of the minute, even with the right password...
    let a = sign_in(&app, "nadia@demo.clinic", "the-right-password").await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS);
    // ...and answered again once the window has passed.
    app.clock().advance(Span::from_secs(61));
    let a = sign_in(&app, "nadia@demo.clinic", "the-right-password").await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
}

#[tokio::test]
async fn sixteen_wrong_passwords_at_once_get_at_most_ten_checks() {
    let app = TestServer::with_demo().await;
    burst(&app, 16, 10, |i| {
        let app = &app;
        async move { sign_in(app, PRIYA.0, &format!("guess-{i}")).await }
    })
    .await;
    app.clock().advance(Span::from_secs(61));
    assert_eq!(sign_in(&app, PRIYA.0, PRIYA.1).await.status, StatusCode::OK);
}

#[tokio::test]
async fn an_unknown_email_costs_the_same_check_as_a_known_one() {
    let app = TestServer::with_demo().await;
    let before = checks_run(&app);
    let a = sign_in(&app, "nobody@demo.clinic", "demo-provider").await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    let a = sign_in(&app, PRIYA.0, "wrong-password").await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(checks_run(&app) - before, 2, "one check each");
}

#[tokio::test]
async fn wrong_pins_at_a_station_take_the_same_path() {
    // The budgets alone: the person's PIN lock (5 wrong in a row) is tested in `accounts.rs`.
    let app = TestServer::builder()
        .demo_clinic()
        .settings(|s| s.pin_tries_before_lock = 1000)
        .start()
        .await;
    let admin = app.sign_in(ADMIN).await;
    let a = app
        .send(
            Method::POST,
            "/v1/stations",
            Some(&admin),
            Some(json!({"name": "Front desk PC"})),
            &[],
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
    let device = a.body["device_token"].as_str().unwrap().to_owned();
    let switch = |pin: String| {
        let body = json!({"device_token": device, "email": RECEPTION.0, "pin": pin});
        let app = &app;
        async move { post(app, "/v1/stations/switch", body).await }
    };
    burst(&app, 16, 10, |i| switch(format!("9{i:03}"))).await;
    assert_eq!(
        switch("2222".into()).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    app.clock().advance(Span::from_secs(61));
    assert_eq!(switch("2222".into()).await.status, StatusCode::OK);
}

async fn open_visits(app: &TestServer) -> usize {
    let clinic = app.demo().clinic.id;
    app.server()
        .store()
        .open_visits(clinic)
        .await
        .unwrap()
        .len()
}

#[tokio::test]
async fn a_flood_of_arrivals_from_one_address_is_refused_before_anything_is_created() {
    let app = TestServer::with_demo().await;
    let room = app.room_id("Reception");
    let join = format!("/v1/join/demo/{room}");
    let before = open_visits(&app).await;
    let answers = join_all((0..30).map(|i| {
        let body = json!({"name": format!("Flood {i}"), "phone": "+61 400 000 000"});
        post(&app, &join, body)
    }))
    .await;
    let created = answers
        .iter()
        .filter(|a| a.status == StatusCode::CREATED)
        .count();
    let refused: Vec<_> = answers
        .iter()
        .filter(|a| a.status == StatusCode::TOO_MANY_REQUESTS)
        .collect();
    eprintln!(
        "30 arrivals from one address: {created} created, {} refused",
        refused.len()
    );
    assert_eq!((created, refused.len()), (20, 10), "{answers:?}");
    for r in &refused {
        assert_eq!(r.code, "rate_limited");
        assert!(r.retry_after.is_some_and(|s| (1..=60).contains(&s)));
    }
    assert_eq!(
        open_visits(&app).await,
        before + 20,
        "refused ones made nothing"
    );

    // The front door's form says so as a page, with the same Retry-After.
    let res = app
        .http
        .post(app.url(&format!("/join/demo/{room}")))
        .form(&[("name", "Form Flood"), ("phone", "+61 400 000 000")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().contains_key("retry-after"));
    let page = res.text().await.unwrap();
    assert!(page.contains("Please wait a moment"), "{page}");
    assert_eq!(open_visits(&app).await, before + 20);

    // A minute later the front door opens again.
    app.clock().advance(Span::from_secs(61));
    let a = post(
        &app,
        &join,
        json!({"name": "Later", "phone": "+61 400 000 000"}),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED);
}

#[tokio::test]
async fn a_busy_room_takes_a_bounded_number_of_arrivals_per_minute() {
    let app = TestServer::builder()
        .demo_clinic()
        .settings(|s| s.arrivals_per_room_per_minute = 3)
        .start()
        .await;
    let join = format!("/v1/join/demo/{}", app.room_id("Reception"));
    for i in 0..3 {
        let a = post(
            &app,
            &join,
            json!({"name": format!("P{i}"), "phone": "+61 400 000 000"}),
        );
        assert_eq!(a.await.status, StatusCode::CREATED);
    }
    let a = post(
        &app,
        &join,
        json!({"name": "P4", "phone": "+61 400 000 000"}),
    )
    .await;
    assert_eq!(
        (a.status, a.code.as_str()),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited")
    );
    // Another room is not affected.
    let reception = app.demo().reception.id;
    let elsewhere = app.demo().rooms.iter().find(|r| r.id != reception).unwrap();
    let other = format!("/v1/join/demo/{}", elsewhere.id);
    let a = post(
        &app,
        &other,
        json!({"name": "P5", "phone": "+61 400 000 000"}),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED);
}

#[tokio::test]
async fn intake_saves_for_one_visit_are_limited_likewise() {
    let app = TestServer::builder()
        .demo_clinic()
        .settings(|s| s.intake_updates_per_visit_per_minute = 5)
        .start()
        .await;
    let (_, token, _) = app.arrive(&app.room_id("Reception"), "Ivy Intake").await;
    for i in 0..5 {
        let a = app
            .answer_intake(&token, json!({"Reason for visit": format!("take {i}")}))
            .await;
        assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    }
    let res = app
        .http
        .put(app.url("/v1/patient/visit/intake"))
        .header("x-patient-token", &token)
        .json(&json!({"answers": {"Reason for visit": "one too many"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().contains_key("retry-after"));
    // The refused save changed nothing.
    let me = app
        .patient(&token, Method::GET, "/v1/patient/visit", None)
        .await;
    assert!(!me.body.to_string().contains("one too many"), "{}", me.body);
}

/// Reads until the server closes the connection; panics if it is still open after `bound`.
async fn closed_within(conn: &mut TcpStream, bound: Duration) {
    let mut buf = [0u8; 1024];
    let closed = tokio::time::timeout(bound, async {
        loop {
            match conn.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {} // a 408 or 400 answer on its way out
            }
        }
    })
    .await;
    assert!(
        closed.is_ok(),
        "the connection is still open after {bound:?}"
    );
}

#[tokio::test]
async fn a_client_that_sends_half_a_request_line_and_stops_is_disconnected() {
    let app = TestServer::builder()
        .settings(|s| s.request_head_timeout = Duration::from_secs(1))
        .start()
        .await;
    let mut conn = TcpStream::connect(app.addr()).await.unwrap();
    conn.write_all(b"GET /heal").await.unwrap();
    closed_within(&mut conn, Duration::from_secs(20)).await;
}

#[tokio::test]
async fn a_client_that_dribbles_its_headers_is_disconnected() {
    let app = TestServer::builder()
        .settings(|s| s.request_head_timeout = Duration::from_secs(1))
        .start()
        .await;
    let mut conn = TcpStream::connect(app.addr()).await.unwrap();
    conn.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    // A header byte every 100 ms keeps the connection busy but never finishes the request.
    let dribble = async {
        loop {
            if conn.write_all(b"X").await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let finished = tokio::time::timeout(Duration::from_secs(20), dribble).await;
    assert!(finished.is_ok(), "still accepting header bytes after 20 s");
}

#[tokio::test]
async fn a_silent_connection_is_closed_after_the_idle_timeout() {
    let app = TestServer::builder()
        .settings(|s| {
            s.request_head_timeout = Duration::from_secs(600);
            s.idle_connection_timeout = Duration::from_secs(1);
        })
        .start()
        .await;
    let mut conn = TcpStream::connect(app.addr()).await.unwrap();
    closed_within(&mut conn, Duration::from_secs(20)).await;

    // A kept-alive connection that answered a request and then went quiet goes the same way.
    let mut conn = TcpStream::connect(app.addr()).await.unwrap();
    conn.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    closed_within(&mut conn, Duration::from_secs(20)).await;
}
