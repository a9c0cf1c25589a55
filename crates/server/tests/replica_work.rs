//! The server's own work with three replicas on one PostgreSQL database: two minutes of
//! arrivals, declines and bookings spread over the replicas while they send, a real SMTP server
//! and SMS webhook on loopback counting what arrives. Every email and text goes once, every
//! reminder once, and a patient whose waiting page closed on one replica and came back on
//! another stays in line.

mod sinks;

use frontdesk_server::Clock;
use frontdesk_server::messages::transport::{Mailer, SmsHook};
use frontdesk_testkit::{ADMIN, Backend, PRIYA, RECEPTION, SCHEDULER, TestServer, eventually};
use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};
use sinks::{SmsSink, SmtpMode, SmtpSink};
use std::collections::BTreeSet;
use std::time::Duration;

const HOUR: i64 = 3_600_000;

struct Replicas {
    all: [TestServer; 3],
    clock: Clock,
    smtp: SmtpSink,
    sms: SmsSink,
}

/// Three replicas of the demo clinic on one fresh database, sending through the same relay
/// and webhook, doing their background work often.
async fn three_replicas_sending() -> Replicas {
    let smtp = SmtpSink::start(SmtpMode::Accept).await;
    let sms = SmsSink::start().await;
    let clock = Clock::system();
    let (c, smtp_url, sms_url) = (clock.clone(), smtp.url(), sms.url.clone());
    let a = TestServer::builder()
        .on(Backend::Postgres)
        .demo_clinic()
        .settings(move |s| {
            s.clock = c;
            s.background_tick = Duration::from_millis(50);
            s.arrivals_per_address_per_minute = 10_000;
            s.arrivals_per_room_per_minute = 10_000;
            s.transports.email =
                Some(Mailer::new(&smtp_url, "Demo Clinic <desk@demo.clinic>").unwrap());
            s.transports.sms = Some(SmsHook::new(&sms_url).unwrap());
        })
        .start()
        .await;
    let b = a.replica().await;
    let c = a.replica().await;
    Replicas {
        all: [a, b, c],
        clock,
        smtp,
        sms,
    }
}

/// What the waiting screen sends as it goes away, to `through`.
async fn close_the_page(through: &TestServer, patient_token: &str) {
    let closed = through
        .http
        .post(through.url("/wait/closed"))
        .header(header::COOKIE, format!("fd_patient={patient_token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(closed.status(), StatusCode::NO_CONTENT);
}

/// The waiting screen's poll, to `through`: the page is open.
async fn poll_the_page(through: &TestServer, patient_token: &str) {
    let polled = through
        .patient(patient_token, Method::GET, "/v1/patient/visit", None)
        .await;
    assert_eq!(polled.status, StatusCode::OK, "{:?}", polled.body);
}

/// A patient with an email address comes to Reception through `through`: (visit id, token,
/// version).
async fn arrive_with_email(through: &TestServer, n: usize) -> (String, String, u64) {
    let room = through.room_id("Reception");
    let arrived = through
        .send(
            Method::POST,
            &format!("/v1/join/demo/{room}"),
            None,
            Some(json!({"name": format!("Patient {n}"), "email": format!("p{n}@example.org")})),
            &[],
        )
        .await;
    assert_eq!(arrived.status, StatusCode::CREATED, "{:?}", arrived.body);
    (
        arrived.body["visit"]["id"].as_str().unwrap().to_owned(),
        arrived.body["patient_token"].as_str().unwrap().to_owned(),
        arrived.version(),
    )
}

/// Books a session in Dr. Shah's room through `through`, starting at `starts`, for one guest
/// reached by email at `guest`.
async fn book(through: &TestServer, scheduler: &str, starts: i64, guest: &str) {
    let room = through.room_id("Dr. Shah's room");
    let booked = through
        .send(
            Method::POST,
            &format!("/v1/rooms/{room}/scheduled"),
            Some(scheduler),
            Some(json!({
                "booking": {
                    "provider": through.staff_id(PRIYA.0),
                    "starts_at": starts,
                    "guests": [{"name": "A Guest", "contact": {"email": guest}}],
                    "service_type": "Follow-up",
                    "location": "Video"
                }
            })),
            &[],
        )
        .await;
    assert_eq!(booked.status, StatusCode::CREATED, "{:?}", booked.body);
}

/// The clinic's messages in `state`, as the admins' list shows them.
async fn deliveries(app: &TestServer, admin: &str, state: &str) -> Vec<Value> {
    let listed = app
        .get(&format!("/v1/deliveries?state={state}&limit=1000"), admin)
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{:?}", listed.body);
    listed.body.as_array().unwrap().clone()
}

const ARRIVALS: usize = 150;
const BOOKINGS: usize = 10;
/// How long the arrivals, declines and bookings go on, spread evenly.
const LOAD: Duration = Duration::from_secs(120);

/// Whether the `n`th arrival's replica books a session too.
fn books(n: usize) -> bool {
    n.is_multiple_of(ARRIVALS / BOOKINGS)
}

#[tokio::test]
async fn three_replicas_send_every_message_once_and_keep_patients_whose_page_came_back() {
    let Replicas {
        all,
        clock,
        smtp,
        sms,
    } = three_replicas_sending().await;
    sinks::nina_hears_of_arrivals(&all[0]).await;
    let receptions = futures_util::future::join_all(all.iter().map(|r| r.sign_in(RECEPTION))).await;
    let schedulers = futures_util::future::join_all(all.iter().map(|r| r.sign_in(SCHEDULER))).await;
    let starts = clock.now().as_millis() + 25 * HOUR;

    // The load, for two minutes: each replica takes a third of the arrivals (every third one
    // declined through the next replica) and of the bookings, evenly spread; a waiting page
    // closes after each arrival kept waiting, and every other one comes back on another
    // replica.
    let started = tokio::time::Instant::now();
    let work = (0..3).map(|r| {
        let (all, receptions, schedulers) = (&all, &receptions, &schedulers);
        async move {
            let mut patients = Vec::new();
            for (i, n) in (r..ARRIVALS).step_by(3).enumerate() {
                tokio::time::sleep_until(started + LOAD * i as u32 / (ARRIVALS / 3) as u32).await;
                let (id, token, version) = arrive_with_email(&all[r], n).await;
                if n % 3 == 0 {
                    let next = (r + 1) % 3;
                    let note = json!({"note": format!("Please see your GP, patient {n}.")});
                    let declined = all[next]
                        .command(&receptions[next], &id, "decline", version, Some(note))
                        .await;
                    assert_eq!(
                        declined.status_of_visit(),
                        "declined",
                        "{:?}",
                        declined.body
                    );
                } else {
                    close_the_page(&all[r], &token).await;
                    if n % 2 == 0 {
                        poll_the_page(&all[(r + 1) % 3], &token).await;
                    }
                    patients.push((n, id, token));
                }
                if books(n) {
                    book(
                        &all[r],
                        &schedulers[r],
                        starts,
                        &format!("g{n}@example.org"),
                    )
                    .await;
                }
            }
            patients
        }
    });
    let waiting: Vec<(usize, String, String)> = futures_util::future::join_all(work)
        .await
        .into_iter()
        .flatten()
        .collect();

    let (came_back, gone): (Vec<_>, Vec<_>) = waiting.iter().partition(|(n, ..)| n % 2 == 0);

    // An hour and a bit later: the day-before reminders are due, the grace time is over.
    clock.advance(frontdesk_domain::Span::from_millis(HOUR + 2_000));
    let staff = all[1].sign_in(RECEPTION).await;
    for (n, id, _) in &gone {
        let replica = &all[n % 3];
        eventually(20, "a closed page's patient marked left", || async {
            (replica.visit(&staff, id).await["status"] == "left").then_some(())
        })
        .await;
    }

    let declined = ARRIVALS.div_ceil(3);
    let admin = all[2].sign_in(ADMIN).await;
    eventually(60, "every message sent", || async {
        let now = clock.now().as_millis();
        // The hour-before reminders are not due yet.
        let due_unsent = deliveries(&all[2], &admin, "pending")
            .await
            .iter()
            .filter(|d| d["next_at"].as_i64().unwrap() <= now)
            .count();
        let unsent = due_unsent + deliveries(&all[2], &admin, "sending").await.len();
        let sent = deliveries(&all[2], &admin, "sent").await.len();
        let expected = 2 * ARRIVALS + declined + 3 * BOOKINGS;
        (unsent == 0 && sent >= expected).then_some(())
    })
    .await;
    assert!(deliveries(&all[2], &admin, "failed").await.is_empty());

    // Each message once, counted where it arrived.
    let mail = smtp.received();
    let ids: BTreeSet<String> = mail.iter().filter_map(|m| m.header("Message-ID")).collect();
    assert_eq!(ids.len(), mail.len(), "no email went twice");
    let texts = sms.received();
    let keys: BTreeSet<&str> = texts.iter().map(|t| t.idempotency_key.as_str()).collect();
    assert_eq!(keys.len(), texts.len(), "no text went twice");
    let sent = deliveries(&all[2], &admin, "sent").await;
    assert_eq!(
        sent.len(),
        mail.len() + texts.len(),
        "every message the database calls sent arrived, once"
    );
    assert_eq!(smtp.to("nina@demo.clinic", "is waiting").len(), ARRIVALS);
    assert_eq!(sms.to("+61400999888", "is waiting").len(), ARRIVALS);
    for n in (0..ARRIVALS).step_by(3) {
        let notes = smtp.to(&format!("p{n}@example.org"), "A note from");
        assert_eq!(notes.len(), 1, "patient {n}'s decline note");
    }
    for n in (0..ARRIVALS).filter(|n| books(*n)) {
        let guest = format!("g{n}@example.org");
        assert_eq!(smtp.to(&guest, "is booked").len(), 1, "{guest} booked");
        assert_eq!(smtp.to(&guest, "Reminder").len(), 1, "{guest} reminded");
    }
    assert_eq!(
        smtp.to("priya@demo.clinic", "Session booked").len(),
        BOOKINGS
    );

    // Nobody whose page came back was marked `left`.
    for (n, id, _) in &came_back {
        let visit = all[n % 3].visit(&staff, id).await;
        assert_ne!(visit["status"], "left", "patient {n} came back: {visit}");
    }
}
