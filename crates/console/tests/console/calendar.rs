//! The Calendar against a real clinic server: the scheduler books a weekly session through the
//! console (a bad form is refused by its fields and books nothing), finds it on its day in the
//! week, moves it, and prepares the next appointment of a patient at reception.

use crate::rig::{json, rig};
use frontdesk_client::api::ApiClient;
use frontdesk_console::calendar::{BookingForm, CalendarQuery, ContactBy, GuestForm};
use frontdesk_domain::VisitId;
use serde_json::Value;
use std::time::{Duration, Instant};

fn form(provider: frontdesk_domain::StaffId, date: &str) -> BookingForm {
    BookingForm {
        provider: Some(provider),
        include_me: true,
        guests: vec![
            GuestForm {
                first_name: "Ana".into(),
                last_name: "Pereira".into(),
                contact_by: ContactBy::Email,
                contact: "ana@example.org".into(),
            },
            GuestForm {
                first_name: "Ben".into(),
                last_name: "Okoro".into(),
                contact_by: ContactBy::Sms,
                contact: "+61 400 111 222".into(),
            },
        ],
        date: date.into(),
        time: "10:00".into(),
        duration_mins: 45,
        repeat_weeks: 2,
    }
}

async fn sign_in_scheduler(rig: &crate::rig::Rig) {
    let (email, password) = ("scheduler@demo.clinic", "demo-scheduler");
    rig.console
        .sign_in(&rig.address, email, password, false)
        .await
        .unwrap();
}

/// A week from today, clinic-local (the demo clinic keeps UTC).
fn in_a_week() -> String {
    let at = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(7 * 24);
    at.to_zoned(jiff::tz::TimeZone::UTC).date().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduler_books_finds_and_moves_a_weekly_session() {
    let rig = rig().await;
    sign_in_scheduler(&rig).await;
    let priya = rig
        .server
        .demo()
        .staff_by_email("priya@demo.clinic")
        .unwrap()
        .id;
    let day = in_a_week();

    // A bad form: each field named, nothing sent.
    let mut bad = form(priya, "2020-01-01");
    bad.guests[1].contact = "not a number".into();
    let refused = rig.console.book_session(&bad).await.unwrap();
    let fields: Vec<&str> = refused.errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["guests.1.contact", "starts_at"], "{refused:?}");
    assert!(refused.booked.is_empty());
    let check = rig.console.check_booking(&form(priya, &day)).unwrap();
    assert!(check.errors.is_empty(), "{check:?}");
    assert_eq!(check.sessions.len(), 2);

    // Booked: two sessions, the first on its day at 10:00 in the week.
    let done = rig.console.book_session(&form(priya, &day)).await.unwrap();
    assert!(done.errors.is_empty(), "{done:?}");
    assert_eq!(done.booked.len(), 2);
    let first = done.booked[0];
    let query = CalendarQuery {
        start_day: Some(day.clone()),
        days: 7,
        provider: None,
        room: None,
        session: None,
    };
    let session = calendar_until(&rig, &query, first, |s| s["time_label"] == "10:00–10:45").await;
    assert_eq!(session["date"], day.as_str());
    assert_eq!(session["provider"]["name"], "Dr. Priya Shah");
    assert_eq!(session["guests"][1]["reached_by"], "SMS +61400111222");
    assert_eq!(session["staff"][0]["name"], "Sam Scheduler");
    let page = json(&rig.console.calendar(&query).unwrap());
    assert_eq!(page["can_book"], true);

    // Moved: a bad time is named, a good one goes through the outbox to the server.
    let not_a_time = rig
        .console
        .reschedule_session(first, &day, "half ten", 30)
        .unwrap();
    assert_eq!(not_a_time.errors[0].field, "time");
    let moved = rig
        .console
        .reschedule_session(first, &day, "14:30", 30)
        .unwrap();
    assert!(moved.errors.is_empty(), "{moved:?}");
    calendar_until(&rig, &query, first, |s| s["time_label"] == "14:30–15:00").await;
    let token = ApiClient::new(&rig.url)
        .unwrap()
        .sign_in("demo", "scheduler@demo.clinic", "demo-scheduler")
        .await
        .unwrap()
        .token;
    let on_server = ApiClient::new(&rig.url)
        .unwrap()
        .visit(&token, first)
        .await
        .unwrap();
    assert_eq!(on_server.booking.unwrap().duration_mins, 30);
}

/// The calendar page's session `id`, once `check` holds of it (or the test fails after 30 s).
async fn calendar_until(
    rig: &crate::rig::Rig,
    query: &CalendarQuery,
    id: VisitId,
    check: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let page = json(&rig.console.calendar(query).unwrap());
        let found = page["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["visit_id"] == id.to_string())
            .cloned();
        if let Some(s) = found.filter(|s| check(s)) {
            return s;
        }
        assert!(
            Instant::now() < deadline,
            "the session {id} as wanted: {page}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_next_appointment_is_for_the_patient_at_reception() {
    let rig = rig().await;
    sign_in_scheduler(&rig).await;
    let reception = rig.server.room_id("Reception");
    let (visit, _, _) = rig.server.arrive(&reception, "Mia Kovac").await;
    let form = rig
        .console
        .next_appointment(visit.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(form.guests[0].first_name, "Mia");
    assert_eq!(form.guests[0].last_name, "Kovac");
    assert_eq!(form.repeat_weeks, 1);
    assert_eq!(form.date, in_a_week());
}
