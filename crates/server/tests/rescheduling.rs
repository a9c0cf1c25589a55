//! Moving a booked session through the API: the guests and the provider are told by a real
//! SMTP server and SMS webhook, the reminders follow the new time, and a bad move changes
//! nothing. On SQLite and PostgreSQL.

mod sinks;

use frontdesk_domain::Timestamp;
use frontdesk_testkit::{
    ADMIN, Backend, PRIYA, RECEPTION, SCHEDULER, TestServer, both_backends, eventually,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sinks::{Rig, SmtpMode, rig};

const HOUR: i64 = 3_600_000;
const BEN: &str = "+61400111222";

/// Books a session with Dr. Shah for Ana (by email) and Ben (by SMS); gives its id and start.
async fn book_ana_and_ben(app: &TestServer, scheduler: &str, starts: i64) -> String {
    let room = app.room_id("Dr. Shah's room");
    let booked = app
        .send(
            Method::POST,
            &format!("/v1/rooms/{room}/scheduled"),
            Some(scheduler),
            Some(json!({"booking": {
                "provider": app.staff_id(PRIYA.0),
                "starts_at": starts,
                "duration_mins": 30,
                "guests": [
                    {"name": "Ana Guest", "contact": {"email": "ana@example.org"}},
                    {"name": "Ben Guest", "contact": {"phone": "+61 400 111 222"}}
                ]
            }})),
            &[],
        )
        .await;
    assert_eq!(booked.status, StatusCode::CREATED, "{:?}", booked.body);
    booked.body["visit"]["id"].as_str().unwrap().to_owned()
}

async fn reschedule(
    app: &TestServer,
    token: &str,
    id: &str,
    version: u64,
    body: Value,
) -> frontdesk_testkit::Answer {
    app.command(token, id, "reschedule", version, Some(body))
        .await
}

/// The start and length a move asks for.
fn to(starts_at: impl Into<Value>, duration_mins: u32) -> Value {
    json!({"starts_at": starts_at.into(), "duration_mins": duration_mins})
}

both_backends!(a_moved_session_tells_guests_and_provider_and_its_reminders_follow_the_new_time);
async fn a_moved_session_tells_guests_and_provider_and_its_reminders_follow_the_new_time(
    backend: Backend,
) {
    let Rig {
        app,
        clock,
        smtp,
        sms,
    } = rig(backend, SmtpMode::Accept, true).await;
    let scheduler = app.sign_in(SCHEDULER).await;
    let starts = clock.now().as_millis() + 72 * HOUR;
    let id = book_ana_and_ben(&app, &scheduler, starts).await;
    eventually(10, "booking messages", || async {
        (smtp.to("ana@example.org", "is booked").len() == 1 && sms.to(BEN, "is booked").len() == 1)
            .then_some(())
    })
    .await;

    // A day later, for 45 minutes.
    let moved_to = starts + 24 * HOUR;
    let moved = reschedule(&app, &scheduler, &id, 1, to(moved_to, 45)).await;
    assert_eq!(moved.status, StatusCode::OK, "{:?}", moved.body);
    assert_eq!(moved.status_of_visit(), "scheduled");
    assert_eq!(moved.body["visit"]["booking"]["starts_at"], moved_to);
    assert_eq!(moved.body["visit"]["booking"]["duration_mins"], 45);

    eventually(10, "the move told", || async {
        (smtp.to("ana@example.org", "has moved").len() == 1
            && sms.to(BEN, "has moved").len() == 1
            && smtp.to("priya@demo.clinic", "Session moved").len() == 1)
            .then_some(())
    })
    .await;
    let to_ana = smtp.to("ana@example.org", "has moved")[0].body();
    assert!(to_ana.contains("45 minutes"), "{to_ana}");
    assert!(to_ana.contains("Dr. Priya Shah"), "{to_ana}");
    let to_priya = smtp.to("priya@demo.clinic", "Session moved")[0].body();
    assert!(to_priya.contains("Ana Guest, Ben Guest"), "{to_priya}");

    // The history says from when to when.
    let history = app
        .get(&format!("/v1/visits/{id}/history"), &scheduler)
        .await;
    let last = history.body["entries"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["change"]["type"], "rescheduled");
    assert_eq!(last["change"]["from"], starts);
    assert_eq!(last["change"]["starts_at"], moved_to);

    // A day before the old time: those reminders are skipped, none goes.
    clock.set(Timestamp::from_millis(starts - 24 * HOUR + 1_000));
    // Signed in after the clock moved: earlier sessions have expired by it.
    let admin = app.sign_in(ADMIN).await;
    eventually(10, "the old time's reminders skipped", || async {
        let skipped = app.get("/v1/deliveries?state=skipped", &admin).await.body;
        let moved: Vec<&Value> = skipped
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["visit_id"] == id.as_str() && d["last_error"] == "the session has moved")
            .collect();
        (moved.len() == 2).then_some(())
    })
    .await;
    assert!(smtp.to("ana@example.org", "Reminder").is_empty());
    assert!(sms.to(BEN, "Reminder").is_empty());

    // A day before the new time: one reminder each.
    clock.set(Timestamp::from_millis(moved_to - 24 * HOUR + 1_000));
    eventually(10, "the new time's reminders", || async {
        (smtp.to("ana@example.org", "Reminder").len() == 1 && sms.to(BEN, "Reminder").len() == 1)
            .then_some(())
    })
    .await;
    let reminder = smtp.to("ana@example.org", "Reminder")[0].body();
    assert!(reminder.contains("Dr. Priya Shah"), "{reminder}");
}

both_backends!(a_bad_move_is_refused_with_a_stable_code_and_changes_nothing);
async fn a_bad_move_is_refused_with_a_stable_code_and_changes_nothing(backend: Backend) {
    let Rig { app, clock, .. } = rig(backend, SmtpMode::Accept, true).await;
    let scheduler = app.sign_in(SCHEDULER).await;
    let starts = clock.now().as_millis() + 48 * HOUR;
    let id = book_ana_and_ben(&app, &scheduler, starts).await;
    let later = starts + HOUR;
    let refused = [
        (
            to(clock.now().as_millis() - HOUR, 30),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            "must be in the future",
        ),
        (
            to(later, 2),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            "from 5 minutes to 8 hours",
        ),
        (
            to(starts, 30),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            "already booked for then",
        ),
        (to("tomorrow", 30), StatusCode::UNPROCESSABLE_ENTITY, "", ""),
    ];
    for (body, status, code, message) in refused {
        let a = reschedule(&app, &scheduler, &id, 1, body.clone()).await;
        assert_eq!(a.status, status, "{body}: {:?}", a.body);
        if !code.is_empty() {
            assert_eq!(a.code(), code, "{body}");
            let said = a.body["message"].as_str().unwrap();
            assert!(said.contains(message), "{body}: {said}");
        }
    }
    // Reception and providers do not move sessions.
    for who in [RECEPTION, PRIYA] {
        let token = app.sign_in(who).await;
        let a = reschedule(&app, &token, &id, 1, to(later, 30)).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{:?}", a.body);
        assert_eq!(a.code(), "forbidden");
    }
    // A stale version is a conflict.
    let a = reschedule(&app, &scheduler, &id, 7, to(later, 30)).await;
    assert_eq!(a.status, StatusCode::CONFLICT, "{:?}", a.body);
    assert_eq!(a.code(), "version_conflict");
    // Another clinic's admin finds no such session.
    let other = app.another_clinic_admin().await;
    let a = reschedule(&app, &other, &id, 1, to(later, 30)).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND, "{:?}", a.body);
    assert_eq!(a.code(), "not_found");

    let visit = app.visit(&scheduler, &id).await;
    assert_eq!(visit["version"], 1, "nothing changed");
    assert_eq!(visit["booking"]["starts_at"], starts);
    assert_eq!(visit["booking"]["duration_mins"], 30);

    // A cancelled session stays where it was.
    let cancelled = app
        .command(&scheduler, &id, "cancel", 1, Some(json!({})))
        .await;
    assert_eq!(cancelled.status_of_visit(), "cancelled");
    let a = reschedule(&app, &scheduler, &id, 2, to(later, 30)).await;
    assert_eq!(a.status, StatusCode::CONFLICT, "{:?}", a.body);
    assert_eq!(a.code(), "invalid_transition");
}
