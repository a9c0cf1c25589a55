//! Several server replicas on one PostgreSQL database, as behind a load balancer: a race for
//! one patient across replicas has one winner, and a console following its clinic on one
//! replica sees what was committed through the others, in order and without a gap, even when
//! the replica's listening connection is cut.

mod sinks;

use frontdesk_domain::{Patient, PersonName};
use frontdesk_server::messages::transport::Mailer;
use frontdesk_server::{Database, PgStore, Settings, service};
use frontdesk_testkit::{
    ADMIN, Backend, DESK_PASSWORD, OMAR, PRIYA, PgCluster, RECEPTION, TestServer, arrive,
    eventually,
};
use futures_util::StreamExt;
use reqwest::StatusCode;
use serde_json::Value;
use sinks::{SmtpMode, SmtpSink};
use std::collections::HashSet;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Three replicas of the demo clinic's server on one fresh PostgreSQL database. The front
/// door's per-address budget is raised: every test patient comes from 127.0.0.1.
async fn three_replicas() -> [TestServer; 3] {
    three_replicas_with(|_| {}).await
}

/// [`three_replicas`] with other settings too.
async fn three_replicas_with(
    adjust: impl FnOnce(&mut Settings) + Send + 'static,
) -> [TestServer; 3] {
    let a = TestServer::builder()
        .on(Backend::Postgres)
        .demo_clinic()
        .settings(|s| {
            s.arrivals_per_address_per_minute = 10_000;
            s.arrivals_per_room_per_minute = 10_000;
            adjust(s);
        })
        .start()
        .await;
    let b = a.replica().await;
    let c = a.replica().await;
    [a, b, c]
}

#[tokio::test]
async fn fifty_claims_of_one_patient_over_three_replicas_have_one_winner() {
    let replicas = three_replicas().await;
    let a = &replicas[0];
    let (id, _, version) = a.waiting_patient("Mia T.").await;
    let mut desks = Vec::new();
    for (i, email) in a.add_desks(50).await.into_iter().enumerate() {
        // Each desk signs in and claims through its own replica.
        let replica = &replicas[i % 3];
        desks.push((replica, replica.sign_in((&email, DESK_PASSWORD)).await));
    }
    let seq_before = a.last_seq(&desks[0].1).await;

    let answers = futures_util::future::join_all(
        desks
            .iter()
            .map(|(replica, token)| replica.command(token, &id, "claim", version, None)),
    )
    .await;

    let winners: Vec<_> = answers.iter().filter(|a| a.status.is_success()).collect();
    assert_eq!(winners.len(), 1, "exactly one claim wins");
    let winner = winners[0].body["visit"]["in_call"][0].as_str().unwrap();
    let losers: Vec<_> = answers.iter().filter(|a| !a.status.is_success()).collect();
    assert_eq!(losers.len(), 49);
    for lost in losers {
        assert_eq!(lost.status, StatusCode::CONFLICT, "{:?}", lost.body);
        assert_eq!(lost.code(), "already_claimed");
        assert_eq!(
            lost.body["held_by"][0]["id"], winner,
            "the loser is told who won"
        );
    }
    // Every replica reads the same one change.
    for replica in &replicas {
        let token = &desks[0].1;
        assert_eq!(replica.last_seq(token).await, seq_before + 1);
        assert_eq!(replica.visit(token, &id).await["version"], version + 1);
    }
}

/// A receptionist signed in on `replica` following the clinic's stream from its latest seq:
/// their token, that seq and the stream.
async fn follow(replica: &TestServer) -> (String, u64, Ws) {
    let token = replica.sign_in(RECEPTION).await;
    let start = replica.last_seq(&token).await;
    let (ws, _) = tokio_tungstenite::connect_async(replica.stream_request(&token, start))
        .await
        .unwrap();
    (token, start, ws)
}

/// The next event on the stream (heartbeats skipped); a guard stops a broken server from
/// hanging the test.
async fn next_event(ws: &mut Ws) -> Value {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(30), ws.next())
            .await
            .expect("no frame within 30 s");
        let Some(Ok(Message::Text(text))) = msg else {
            match msg {
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                other => panic!("the stream ended: {other:?}"),
            }
        };
        let frame: Value = serde_json::from_str(text.as_str()).unwrap();
        match frame["type"].as_str() {
            Some("event") => return frame["event"].clone(),
            Some("heartbeat") => {}
            _ => panic!("unexpected frame {frame}"),
        }
    }
}

/// A burst of arrivals through replicas A and C while a console follows the clinic on B:
/// B's stream carries every event, each once, in seq order, with no gap. With `cut`, every
/// replica's listening connection is cut in the middle of the burst.
async fn a_follower_on_b_sees_a_burst_through_a_and_c(cut: bool) {
    let replicas = three_replicas().await;
    let [a, b, c] = &replicas;
    let (reception, start, mut ws) = follow(b).await;
    let room = a.room_id("Reception");

    let arrivals = (0..40).map(|i| {
        let through = if i % 2 == 0 { a } else { c };
        let room = room.clone();
        async move {
            if cut && i == 20 {
                PgCluster::shared().sql(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                     WHERE query LIKE 'LISTEN %' AND pid <> pg_backend_pid()",
                );
            }
            through.arrive(&room, &format!("Patient {i}")).await.0
        }
    });
    let arrived: HashSet<String> = futures_util::future::join_all(arrivals)
        .await
        .into_iter()
        .collect();
    let end = a.last_seq(&reception).await;
    assert!(end >= start + 40, "each arrival is an event");

    let mut seen = Vec::new();
    let mut visits = HashSet::new();
    // A guard, not a measure: heartbeats alone would keep a broken stream waiting forever.
    tokio::time::timeout(Duration::from_secs(60), async {
        while seen.last().copied().unwrap_or(start) < end {
            let event = next_event(&mut ws).await;
            seen.push(event["seq"].as_u64().unwrap());
            if let Some(visit) = event["visit_id"].as_str() {
                visits.insert(visit.to_owned());
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("B's stream stopped short of seq {end}: {seen:?}"));
    assert_eq!(
        seen,
        (start + 1..=end).collect::<Vec<_>>(),
        "every seq once, in order"
    );
    assert!(arrived.is_subset(&visits), "every arrival reached B");
}

#[tokio::test]
async fn a_console_on_one_replica_sees_arrivals_through_the_others_in_order() {
    a_follower_on_b_sees_a_burst_through_a_and_c(false).await;
}

#[tokio::test]
async fn a_replica_whose_listening_connection_is_cut_catches_up_in_order() {
    a_follower_on_b_sees_a_burst_through_a_and_c(true).await;
}

/// A process commits an arrival and ends before it announced it to the others (its notice goes
/// a couple of milliseconds after the commit): a console following the clinic on another
/// replica still gets the arrival, as that replica looks at its clinics' seqs every second.
#[tokio::test]
async fn an_arrival_whose_process_ended_before_announcing_it_still_reaches_the_console() {
    let replicas = three_replicas().await;
    let [a, b, _] = &replicas;
    let (_, start, mut ws) = follow(b).await;
    let Database::Postgres(url) = &a.settings().database else {
        unreachable!("three replicas are on PostgreSQL")
    };
    let process = PgStore::connect(url, 64).await.unwrap();
    let opened = service::arrive(
        &process,
        a.clock().now(),
        &a.demo().clinic.slug,
        a.room("Reception").id,
        Patient {
            name: PersonName::parse("Noor H.").unwrap(),
            contact: None,
        },
        None,
    )
    .await
    .unwrap();
    // The process ends with its notice still waiting for more commits to go with.
    drop(process);

    // A guard, not a measure: heartbeats alone would keep the stream waiting forever.
    let event = tokio::time::timeout(Duration::from_secs(20), next_event(&mut ws))
        .await
        .expect("the arrival never reached the console on B");
    assert_eq!(event["seq"], start + 1, "{event}");
    assert_eq!(event["visit_id"], opened.visit.id.to_string());
}

/// Why the stream was closed, from its close frame (None if it just ended). A guard stops a
/// stream that never closes from hanging the test.
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

/// A sign-out through replica A fails the token on every replica as soon as it is answered,
/// and closes its stream open on replica C. The heartbeat (when a stream would read its
/// session again) is set far beyond the test, so only the notice from A can close it.
#[tokio::test]
async fn a_sign_out_on_one_replica_ends_the_session_on_every_replica_at_once() {
    let replicas = three_replicas_with(|s| {
        s.heartbeat = Duration::from_secs(3600);
        s.idle_connection_timeout = Duration::from_secs(7200);
    })
    .await;
    let [a, b, c] = &replicas;
    let token = a.sign_in(RECEPTION).await;
    let other = b.sign_in(RECEPTION).await;
    // Every replica knows the session (and would have cached it, were it caching).
    for replica in &replicas {
        assert_eq!(replica.get("/v1/me", &token).await.status, StatusCode::OK);
    }
    let seq = c.last_seq(&token).await;
    let (mut ws, _) = tokio_tungstenite::connect_async(c.stream_request(&token, seq))
        .await
        .unwrap();
    // The stream is open once an event reached it.
    let (id, _, _) = b.waiting_patient("Ida K.").await;
    loop {
        if next_event(&mut ws).await["visit_id"] == id.as_str() {
            break;
        }
    }

    let out = a
        .send(
            reqwest::Method::POST,
            "/v1/auth/sign-out",
            Some(&token),
            None,
            &[],
        )
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    for replica in &replicas {
        let refused = replica.get("/v1/me", &token).await;
        assert_eq!(
            refused.status,
            StatusCode::UNAUTHORIZED,
            "{:?}",
            refused.body
        );
        // The same person's other session is untouched.
        assert_eq!(replica.get("/v1/me", &other).await.status, StatusCode::OK);
    }
    assert_eq!(close_reason(&mut ws).await.as_deref(), Some("signed out"));
}

/// Sets who is the provider of the room named `room`, through `replica`.
async fn give_room(replica: &TestServer, admin: &str, room: &str, provider: Option<String>) {
    let path = format!("/v1/rooms/{}", replica.room_id(room));
    let body = serde_json::json!({"name": room, "provider": provider});
    let put = replica
        .send(reqwest::Method::PUT, &path, Some(admin), Some(body), &[])
        .await;
    assert_eq!(put.status, StatusCode::OK, "{:?}", put.body);
}

#[tokio::test]
async fn a_room_given_to_a_provider_through_one_replica_shows_its_patients_on_every_replica_at_once()
 {
    let replicas = three_replicas().await;
    let [a, b, c] = &replicas;
    let admin = a.sign_in(ADMIN).await;
    let omar = c.sign_in(OMAR).await;
    let (id, _, _) = b.arrive(&b.room_id("Dr. Shah's room"), "Pia N.").await;
    let path = format!("/v1/visits/{id}");
    // Dr. Haddad neither works in Dr. Shah's room nor is its provider: not his to read, on
    // any replica (each has answered him, so any that kept his rooms would keep them now).
    for replica in &replicas {
        let hidden = replica.get(&path, &omar).await;
        assert_eq!(hidden.status, StatusCode::NOT_FOUND, "{:?}", hidden.body);
    }

    give_room(a, &admin, "Dr. Shah's room", Some(a.staff_id(OMAR.0))).await;
    for replica in &replicas {
        let shown = replica.get(&path, &omar).await;
        assert_eq!(shown.status, StatusCode::OK, "{:?}", shown.body);
        assert_eq!(shown.body["patient"]["name"], "Pia N.");
    }
    // Out of the room's staff (through another replica), he reads it as its provider.
    let edited = b
        .edit_staff(
            &admin,
            &b.staff_id(OMAR.0),
            serde_json::json!({"rooms": []}),
        )
        .await;
    assert_eq!(edited.status, StatusCode::OK, "{:?}", edited.body);
    for replica in &replicas {
        assert_eq!(replica.get(&path, &omar).await.status, StatusCode::OK);
    }
    // The room given back to Dr. Shah: hidden from him again everywhere, at once.
    give_room(c, &admin, "Dr. Shah's room", Some(a.staff_id(PRIYA.0))).await;
    for replica in &replicas {
        let hidden = replica.get(&path, &omar).await;
        assert_eq!(hidden.status, StatusCode::NOT_FOUND, "{:?}", hidden.body);
        let claim = replica.command(&omar, &id, "claim", 1, None).await;
        assert_eq!(claim.status, StatusCode::NOT_FOUND, "{:?}", claim.body);
    }
}

/// A sign-in through `replica`: its status, error code and `Retry-After`.
async fn sign_in_status(replica: &TestServer, password: &str) -> (StatusCode, String, Option<u64>) {
    let res = replica
        .http
        .post(replica.url("/v1/auth/sign-in"))
        .json(&serde_json::json!({"clinic": "demo", "email": RECEPTION.0, "password": password}))
        .send()
        .await
        .unwrap();
    let status = res.status();
    let retry_after = res
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok()?.parse().ok());
    let body: Value = res.json().await.unwrap_or(Value::Null);
    (
        status,
        body["code"].as_str().unwrap_or("").to_owned(),
        retry_after,
    )
}

/// The sign-in budget (ten wrong passwords a minute per account) is one budget whichever
/// replica a try reaches: right passwords give their try back, the eleventh wrong one is
/// refused on every replica with a `Retry-After`, and a minute later the account opens again.
#[tokio::test]
async fn sign_in_limits_hold_across_replicas() {
    let replicas = three_replicas().await;
    for i in 0..15 {
        let (status, code, _) = sign_in_status(&replicas[i % 3], RECEPTION.1).await;
        assert_eq!(status, StatusCode::OK, "right password {i}: {code}");
    }
    let wrong = futures_util::future::join_all(
        (0..10).map(|i| sign_in_status(&replicas[i % 3], "not the password")),
    )
    .await;
    for (status, code, _) in &wrong {
        assert_eq!(*status, StatusCode::UNAUTHORIZED, "{code}");
    }
    for replica in &replicas {
        for password in ["not the password", RECEPTION.1] {
            let (status, code, retry_after) = sign_in_status(replica, password).await;
            assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
            assert_eq!(code, "rate_limited");
            let after = retry_after.expect("a Retry-After");
            assert!((1..=60).contains(&after), "Retry-After: {after}");
        }
    }
    replicas[0]
        .clock()
        .advance(frontdesk_domain::Span::from_secs(61));
    for replica in &replicas {
        let (status, code, _) = sign_in_status(replica, RECEPTION.1).await;
        assert_eq!(status, StatusCode::OK, "{code}");
    }
}

/// A replica killed outright (SIGKILL, a real process) in the middle of a run of arrivals,
/// while it leads: a console following the clinic on another replica misses nothing, and the
/// leader's work moves to the survivor: the notifier (email alerts of arrivals, counted at a
/// real SMTP server, each once) and the departures timer.
#[tokio::test]
async fn a_killed_leader_loses_nothing_and_its_work_moves_to_a_survivor() {
    let smtp = SmtpSink::start(SmtpMode::Accept).await;
    let smtp_url = smtp.url();
    let mut seed = TestServer::builder()
        .on(Backend::Postgres)
        .demo_clinic()
        .settings(move |s| {
            s.arrivals_per_address_per_minute = 10_000;
            s.arrivals_per_room_per_minute = 10_000;
            s.background_tick = Duration::from_millis(50);
            s.transports.email =
                Some(Mailer::new(&smtp_url, "Demo Clinic <desk@demo.clinic>").unwrap());
        })
        .start()
        .await;
    let room = seed.room_id("Reception");
    let reception = seed.sign_in(RECEPTION).await;
    let subscribed = seed
        .send(
            reqwest::Method::PUT,
            "/v1/me/alerts",
            Some(&reception),
            Some(serde_json::json!([{"room_id": room, "desktop": true, "email": true, "sms": false}])),
            &[],
        )
        .await;
    assert_eq!(subscribed.status, StatusCode::OK, "{:?}", subscribed.body);
    let Database::Postgres(url) = seed.settings().database.clone() else {
        unreachable!("the seed server is on PostgreSQL")
    };
    seed.stop().await;

    // K is the only process on the database, so it leads: an arrival through it is announced.
    let bin = env!("CARGO_BIN_EXE_frontdesk-server");
    let smtp_url = smtp.url();
    let (mut k, k_url) = frontdesk_testkit::serve_binary_at(
        bin,
        &url,
        &[
            "--smtp-url",
            &smtp_url,
            "--background-tick-ms",
            "50",
            "--arrivals-per-address-per-minute",
            "10000",
            "--arrivals-per-room-per-minute",
            "10000",
        ],
    );
    let http = reqwest::Client::new();
    let announced = |n: usize| {
        let smtp = smtp.clone();
        move || {
            let smtp = smtp.clone();
            async move { (smtp.to(RECEPTION.0, "is waiting").len() == n).then_some(()) }
        }
    };
    arrive(&http, &k_url, "demo", &room, "First").await;
    eventually(20, "K to announce the first arrival", announced(1)).await;

    // B joins, a console follows the clinic on it, and arrivals come through K and B at once.
    let b = seed.replica().await;
    let (token, start, mut ws) = follow(&b).await;
    let through_both = (0..20).map(|i| {
        let base = if i % 2 == 0 {
            k_url.clone()
        } else {
            b.base_url()
        };
        let (http, room) = (&http, &room);
        async move {
            arrive(http, &base, "demo", room, &format!("Patient {i}"))
                .await
                .visit_id
        }
    });
    let mut arrived: HashSet<String> = futures_util::future::join_all(through_both)
        .await
        .into_iter()
        .collect();
    // Once K's work in hand is done (a message claimed by a dead process waits out its
    // lease), K dies outright; the arrivals go on through B.
    eventually(20, "the arrivals so far announced", announced(21)).await;
    k.kill().unwrap();
    k.wait().unwrap();
    for i in 20..40 {
        arrived.insert(b.arrive(&room, &format!("Patient {i}")).await.0);
    }

    // The console on B saw every event, once, in order.
    let end = b.last_seq(&token).await;
    let mut seen = Vec::new();
    let mut visits = HashSet::new();
    while seen.last().copied().unwrap_or(start) < end {
        let event = next_event(&mut ws).await;
        seen.push(event["seq"].as_u64().unwrap());
        if let Some(visit) = event["visit_id"].as_str() {
            visits.insert(visit.to_owned());
        }
    }
    assert_eq!(
        seen,
        (start + 1..=end).collect::<Vec<_>>(),
        "every seq once, in order"
    );
    assert_eq!(arrived.len(), 40);
    assert!(
        arrived.is_subset(&visits),
        "every arrival since B's console opened reached it"
    );

    // B took the lead: every arrival is announced, once.
    eventually(30, "B to announce the arrivals after K died", announced(41)).await;
    let mail = smtp.received();
    let ids: HashSet<String> = mail.iter().filter_map(|m| m.header("Message-ID")).collect();
    assert_eq!(ids.len(), mail.len(), "no email went twice");

    // And B keeps time: a page that closes and stays closed past the grace time.
    let (id, patient, _) = b.arrive(&room, "Lou Leaving").await;
    let closed = b
        .http
        .post(b.url("/wait/closed"))
        .header(reqwest::header::COOKIE, format!("fd_patient={patient}"))
        .send()
        .await
        .unwrap();
    assert_eq!(closed.status(), StatusCode::NO_CONTENT);
    b.clock().advance(frontdesk_domain::Span::from_secs(46));
    eventually(20, "the closed page's patient marked left", || async {
        (b.visit(&token, &id).await["status"] == "left").then_some(())
    })
    .await;
}
