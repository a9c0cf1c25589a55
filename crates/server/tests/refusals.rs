//! Bad input is refused with a 422 that names the field, and nothing is saved: bookings at the
//! end of time or years ahead, a weekly series that runs past what may be booked, staff from
//! nowhere on a booking, and a patient at the front door with no way to be reached.

use frontdesk_domain::Role;
use frontdesk_server::HashCost;
use frontdesk_server::admin::{self, NewStaff};
use frontdesk_testkit::{PRIYA, SCHEDULER, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const HOUR: i64 = 3_600_000;
const WEEK: i64 = 7 * 24 * HOUR;
const YEAR: i64 = 365 * 24 * HOUR;

fn booking(app: &TestServer, starts_at: i64, extra: Value) -> Value {
    let mut body = json!({
        "booking": {
            "provider": app.staff_id(PRIYA.0),
            "starts_at": starts_at,
            "guests": [{"name": "Gil Guest", "contact": {"email": "gil@example.org"}}]
        }
    });
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            if k == "staff" {
                body["booking"]["staff"] = v.clone();
            } else {
                body.insert(k.clone(), v.clone());
            }
        }
    }
    body
}

/// Books in Reception as the scheduler; asserts a 422 naming `field` and that no event (so
/// no visit) was committed.
async fn refused(app: &TestServer, token: &str, body: Value, field: &str) {
    let before = app.last_seq(token).await;
    let path = format!("/v1/rooms/{}/scheduled", app.room_id("Reception"));
    let a = app
        .send(Method::POST, &path, Some(token), Some(body.clone()), &[])
        .await;
    assert_eq!(
        a.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{body}: {:?}",
        a.body
    );
    assert_eq!(a.code(), "validation", "{:?}", a.body);
    let message = a.body["message"].as_str().unwrap_or("");
    assert!(message.starts_with(&format!("{field}:")), "{message}");
    assert_eq!(
        app.last_seq(token).await,
        before,
        "nothing saved for {body}"
    );
}

#[tokio::test]
async fn a_weekly_booking_at_the_end_of_time_is_refused_not_a_crash() {
    let app = TestServer::with_demo().await;
    let scheduler = app.sign_in(SCHEDULER).await;
    for starts_at in [i64::MAX, i64::MAX - WEEK / 2] {
        let body = booking(&app, starts_at, json!({"repeat_weeks": 52}));
        refused(&app, &scheduler, body, "starts_at").await;
    }
}

#[tokio::test]
async fn a_session_more_than_two_years_ahead_is_refused() {
    let app = TestServer::with_demo().await;
    let scheduler = app.sign_in(SCHEDULER).await;
    let now = app.server().state.now().as_millis();
    let body = booking(&app, now + 2 * YEAR + HOUR, json!({}));
    refused(&app, &scheduler, body, "starts_at").await;
    // Just inside the horizon is booked.
    let path = format!("/v1/rooms/{}/scheduled", app.room_id("Reception"));
    let body = booking(&app, now + 2 * YEAR - HOUR, json!({}));
    let a = app
        .send(Method::POST, &path, Some(&scheduler), Some(body), &[])
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
}

#[tokio::test]
async fn a_weekly_series_that_runs_past_the_horizon_books_no_week_at_all() {
    let app = TestServer::with_demo().await;
    let scheduler = app.sign_in(SCHEDULER).await;
    let now = app.server().state.now().as_millis();
    // Weeks 1 and 2 fall inside two years; week 3 falls outside.
    let body = booking(
        &app,
        now + 2 * YEAR - WEEK - HOUR,
        json!({"repeat_weeks": 3}),
    );
    refused(&app, &scheduler, body, "starts_at").await;
    let snapshot = app.get("/v1/snapshot", &scheduler).await;
    let scheduled = snapshot.body["visits"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["status"] == "scheduled")
        .count();
    assert_eq!(scheduled, 0, "no week of the series is kept");
}

#[tokio::test]
async fn a_booking_naming_staff_from_another_clinic_or_no_one_is_refused() {
    let app = TestServer::with_demo().await;
    let scheduler = app.sign_in(SCHEDULER).await;
    let store = app.server().store();
    let at = app.server().state.now();
    let other = admin::create_clinic(store, "other", "Other Clinic")
        .await
        .unwrap();
    let olga = admin::create_staff(
        store,
        other.id,
        NewStaff {
            name: "Olga Other".into(),
            email: "olga@other.clinic".into(),
            roles: vec![Role::Provider],
            password: "other-password".into(),
            pin: None,
            rooms: vec![],
            all_rooms: false,
            availability: None,
            phone: None,
        },
        HashCost::Fast,
        at,
    )
    .await
    .unwrap();
    let starts_at = at.as_millis() + 24 * HOUR;
    for staff in [
        json!([olga.id]),
        json!(["00000000-0000-0000-0000-000000000000"]),
        json!([app.staff_id(PRIYA.0), olga.id]),
    ] {
        let body = booking(&app, starts_at, json!({ "staff": staff }));
        refused(&app, &scheduler, body, "staff").await;
    }
}

#[tokio::test]
async fn a_patient_arriving_by_json_gives_a_phone_or_an_email_as_the_form_asks() {
    let app = TestServer::with_demo().await;
    let path = format!("/v1/join/demo/{}", app.room_id("Reception"));
    for body in [
        json!({"name": "Nat No-Contact"}),
        json!({"name": "Nat No-Contact", "phone": "", "email": "  "}),
    ] {
        let a = app
            .send(Method::POST, &path, None, Some(body.clone()), &[])
            .await;
        assert_eq!(
            a.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {:?}",
            a.body
        );
        assert!(
            a.body["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("contact:")),
            "{:?}",
            a.body
        );
    }
    let a = app
        .send(
            Method::POST,
            &path,
            None,
            Some(json!({"name": "Nat Reachable", "email": "nat@example.org"})),
            &[],
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
}
