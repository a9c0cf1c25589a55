//! What the console's Admin workspace asks of the API beyond the setup endpoints: office hours
//! tried out before a room is saved, a failed email or text sent again once, when a station was
//! last used, and validation errors that name their field. Each on SQLite and PostgreSQL.

mod sinks;

use frontdesk_domain::{Role, Span, Timestamp};
use frontdesk_server::admin::{self, NewStaff};
use frontdesk_server::messages::transport::Mailer;
use frontdesk_server::{Clock, HashCost};
use frontdesk_testkit::{ADMIN, Backend, PRIYA, RECEPTION, TestServer, both_backends, eventually};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sinks::{SmtpMode, SmtpSink, declined_at_reception};
use std::time::Duration;

/// Monday 23 November 2026, 10:00 in London (GMT).
const MONDAY_10AM_LONDON: i64 = 1_795_428_000_000;

async fn post(
    app: &TestServer,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> frontdesk_testkit::Answer {
    app.send(Method::POST, path, Some(token), body, &[]).await
}

/// A second clinic with an admin of its own; gives their token.
async fn other_clinics_admin(app: &TestServer) -> String {
    let store = app.server().store();
    let clinic = admin::create_clinic(store, "other", "Other Clinic")
        .await
        .unwrap();
    let new = NewStaff {
        name: "Olga Other".into(),
        email: "olga@other.clinic".into(),
        roles: vec![Role::Admin],
        password: "other-password".into(),
        pin: None,
        rooms: vec![],
        all_rooms: false,
        availability: None,
        phone: None,
    };
    admin::create_staff(
        store,
        clinic.id,
        new,
        HashCost::Fast,
        app.server().state.now(),
    )
    .await
    .unwrap();
    app.sign_in_at("other", "olga@other.clinic", "other-password")
        .await
}

/// The demo clinic on `backend`, and its admin's token.
async fn demo_clinic_on(backend: Backend) -> (TestServer, String) {
    let app = TestServer::builder()
        .on(backend)
        .demo_clinic()
        .start()
        .await;
    let admin = app.sign_in(ADMIN).await;
    (app, admin)
}

async fn an_admin_tries_office_hours_before_saving_the_room(backend: Backend) {
    let app = TestServer::builder()
        .on(backend)
        .demo_clinic()
        .clock_at(Timestamp::from_millis(MONDAY_10AM_LONDON))
        .start()
        .await;
    let admin = app.sign_in(ADMIN).await;
    let zone = app
        .send(
            Method::PUT,
            "/v1/clinic",
            Some(&admin),
            Some(json!({"time_zone": "Europe/London"})),
            &[],
        )
        .await;
    assert_eq!(zone.status, StatusCode::OK, "{:?}", zone.body);
    let preview = |hours: Value| {
        let (app, admin) = (&app, &admin);
        async move {
            post(
                app,
                "/v1/rooms/hours-preview",
                admin,
                Some(json!({"office_hours": hours})),
            )
            .await
        }
    };

    let monday = preview(json!([{"day": 0, "opens": "09:00", "closes": "17:00"}])).await;
    assert_eq!(monday.status, StatusCode::OK, "{:?}", monday.body);
    assert_eq!(monday.body["open"], true);
    assert_eq!(monday.body["time_zone"], "Europe/London");
    assert_eq!(monday.body["local_time"], "10:00");
    assert_eq!(monday.body["local_day"], 0);

    let tuesday = preview(json!([{"day": 1, "opens": "09:00", "closes": "17:00"}])).await;
    assert_eq!(tuesday.body["open"], false, "{:?}", tuesday.body);
    assert_eq!(tuesday.body["reopens"], "tomorrow at 09:00");

    let later_today = preview(json!([{"day": 0, "opens": "13:30", "closes": "17:00"}])).await;
    assert_eq!(later_today.body["open"], false);
    assert_eq!(later_today.body["reopens"], "today at 13:30");

    // No hours: always open, as the front door takes it.
    assert_eq!(preview(json!([])).await.body["open"], true);

    // Hours that close before they open are refused, naming the field.
    let backwards = preview(json!([{"day": 0, "opens": "17:00", "closes": "09:00"}])).await;
    assert_eq!(backwards.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        backwards.body["field"], "office_hours",
        "{:?}",
        backwards.body
    );

    // Only admins set rooms up.
    let desk = app.sign_in(RECEPTION).await;
    let refused = post(
        &app,
        "/v1/rooms/hours-preview",
        &desk,
        Some(json!({"office_hours": []})),
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

async fn a_room_or_a_person_refused_says_which_field_and_nothing_changes(backend: Backend) {
    let (app, admin) = demo_clinic_on(backend).await;
    let rooms_before = app.get("/v1/rooms", &admin).await.body;

    let unnamed = post(&app, "/v1/rooms", &admin, Some(json!({"name": "  "}))).await;
    assert_eq!(unnamed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(unnamed.body["code"], "validation");
    assert_eq!(unnamed.body["field"], "name");
    assert_eq!(unnamed.body["message"], "name: must not be empty");

    let one_option = post(
        &app,
        "/v1/rooms",
        &admin,
        Some(json!({"name": "Triage", "intake_questions": [{"label": "Which?", "kind": "choice", "options": ["A"]}]})),
    )
    .await;
    assert_eq!(
        one_option.body["field"], "intake_questions",
        "{:?}",
        one_option.body
    );
    assert_eq!(app.get("/v1/rooms", &admin).await.body, rooms_before);

    let short = post(
        &app,
        "/v1/staff",
        &admin,
        Some(json!({"name": "Tess", "email": "tess@demo.clinic", "roles": ["receptionist"], "password": "short"})),
    )
    .await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(short.body["field"], "password");
    // A refusal that is not about one field names none.
    let not_found = post(
        &app,
        "/v1/staff/00000000-0000-0000-0000-000000000000/deactivate",
        &admin,
        None,
    )
    .await;
    assert_eq!(not_found.status, StatusCode::NOT_FOUND);
    assert!(
        not_found.body.get("field").is_none(),
        "{:?}",
        not_found.body
    );
}

async fn a_failed_text_goes_again_exactly_once_when_an_admin_retries_it(backend: Backend) {
    // No SMS gateway is set up: a text fails at its first try, and again at each retry.
    let smtp = SmtpSink::start(SmtpMode::Accept).await;
    let clock = Clock::system();
    let (c, smtp_url) = (clock.clone(), smtp.url());
    let app = TestServer::builder()
        .on(backend)
        .demo_clinic()
        .settings(move |s| {
            s.clock = c;
            s.background_tick = Duration::from_millis(50);
            s.transports.email =
                Some(Mailer::new(&smtp_url, "Demo Clinic <desk@demo.clinic>").unwrap());
        })
        .start()
        .await;
    let admin = app.sign_in(ADMIN).await;
    let reception = app.sign_in(RECEPTION).await;
    let contact = json!({"name": "Rae R.", "phone": "+61 400 222 333"});
    declined_at_reception(&app, contact, "Closed today").await;
    let failed_text = || {
        let (app, admin) = (&app, &admin);
        async move {
            let list = app.get("/v1/deliveries?state=failed", admin).await.body;
            list.as_array().and_then(|l| l.first().cloned())
        }
    };
    let failed = eventually(10, "the text failed", failed_text).await;
    assert_eq!(failed["channel"], "sms");
    assert_eq!(failed["last_error"], "SMS is not set up on this server");
    let first_due = failed["next_at"].as_i64().unwrap();
    let id = failed["id"].as_i64().unwrap();
    let path = format!("/v1/deliveries/{id}/retry");

    // Another clinic's admin cannot touch it; a receptionist may not.
    let olga = other_clinics_admin(&app).await;
    assert_eq!(
        post(&app, &path, &olga, None).await.status,
        StatusCode::NOT_FOUND
    );
    let desk = post(&app, &path, &reception, None).await;
    assert_eq!(desk.status, StatusCode::FORBIDDEN);
    let unknown = post(&app, "/v1/deliveries/99999/retry", &admin, None).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);

    // The admin sends it again: it is queued, and a second press while it is on its way is
    // refused rather than queued twice.
    let retried = post(&app, &path, &admin, None).await;
    assert_eq!(retried.status, StatusCode::OK, "{:?}", retried.body);
    assert_eq!(retried.body["id"], id);
    assert_eq!(retried.body["state"], "pending");
    // It goes once: taken up again from the retry's time, failed again, and left failed
    // however much time passes.
    let again = eventually(10, "the retry tried", || async {
        failed_text()
            .await
            .filter(|d| d["next_at"].as_i64().unwrap() > first_due)
    })
    .await;
    assert_eq!(again["last_error"], "SMS is not set up on this server");
    clock.advance(Span::from_secs(6 * 3600));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(failed_text().await.unwrap(), again);

    // Only a failed message goes again: an email that was sent does not.
    let priya = app.staff_id(PRIYA.0);
    let reset = post(
        &app,
        &format!("/v1/staff/{priya}/password-reset"),
        &admin,
        None,
    )
    .await;
    assert_eq!(reset.status, StatusCode::ACCEPTED, "{:?}", reset.body);
    let sent = eventually(10, "the reset email sent", || async {
        let list = app.get("/v1/deliveries?state=sent", &admin).await.body;
        list.as_array()
            .and_then(|l| l.iter().find(|d| d["kind"] == "password_reset").cloned())
    })
    .await;
    let sent_path = format!("/v1/deliveries/{}/retry", sent["id"]);
    let refused = post(&app, &sent_path, &admin, None).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{:?}", refused.body);
    assert_eq!(refused.body["code"], "not_failed");
    assert!(
        refused.body["message"]
            .as_str()
            .unwrap()
            .contains("was sent")
    );
    assert_eq!(smtp.to(PRIYA.0, "Reset").len(), 1);
}

async fn a_station_shows_when_it_was_last_used(backend: Backend) {
    let (app, admin) = demo_clinic_on(backend).await;
    let registered = post(
        &app,
        "/v1/stations",
        &admin,
        Some(json!({"name": "Desk 1"})),
    )
    .await;
    assert_eq!(
        registered.status,
        StatusCode::CREATED,
        "{:?}",
        registered.body
    );
    let device = registered.body["device_token"].as_str().unwrap().to_owned();
    let list = app.get("/v1/stations", &admin).await.body;
    assert_eq!(list[0]["name"], "Desk 1");
    assert!(list[0].get("last_seen_at").is_none(), "{list:?}");

    let before = app.server().state.now().as_millis();
    let on = app
        .send(
            Method::POST,
            "/v1/stations/switch",
            None,
            Some(json!({"device_token": device, "email": RECEPTION.0, "pin": "2222"})),
            &[],
        )
        .await;
    assert_eq!(on.status, StatusCode::OK, "{:?}", on.body);
    let list = app.get("/v1/stations", &admin).await.body;
    let seen = list[0]["last_seen_at"].as_i64().expect("last seen");
    assert!(seen >= before, "{seen} {before}");
    // Another clinic sees none of ours.
    let olga = other_clinics_admin(&app).await;
    assert_eq!(app.get("/v1/stations", &olga).await.body, json!([]));
}

async fn an_admin_sets_a_persons_station_pin_and_a_locked_one_works_again(backend: Backend) {
    let (app, admin) = demo_clinic_on(backend).await;
    let registered = post(
        &app,
        "/v1/stations",
        &admin,
        Some(json!({"name": "Desk 2"})),
    )
    .await;
    let device = registered.body["device_token"].as_str().unwrap().to_owned();
    let switch = |pin: &'static str| {
        let (app, device) = (&app, &device);
        async move {
            let body = json!({"device_token": device, "email": RECEPTION.0, "pin": pin});
            app.send(Method::POST, "/v1/stations/switch", None, Some(body), &[])
                .await
                .status
        }
    };
    // (Her password sign-in comes first: one after the lock would unlock the PIN.)
    let desk = app.sign_in(RECEPTION).await;
    // Five wrong PINs lock Rita's PIN.
    for _ in 0..4 {
        assert_eq!(switch("0000").await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(switch("0000").await, StatusCode::LOCKED);
    assert_eq!(switch("2222").await, StatusCode::LOCKED);

    let rita = app.staff_id(RECEPTION.0);
    let path = format!("/v1/staff/{rita}/pin");
    let set = |token: String, pin: &'static str| {
        let (app, path) = (&app, &path);
        async move {
            let body = json!({ "pin": pin });
            app.send(Method::PUT, path, Some(&token), Some(body), &[])
                .await
        }
    };
    let bad = set(admin.clone(), "12ab").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.body["field"], "pin");
    assert_eq!(set(desk, "4321").await.status, StatusCode::FORBIDDEN);
    let olga = other_clinics_admin(&app).await;
    assert_eq!(set(olga, "4321").await.status, StatusCode::NOT_FOUND);
    assert_eq!(switch("2222").await, StatusCode::LOCKED, "nothing changed");

    assert_eq!(
        set(admin.clone(), "4321").await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(switch("2222").await, StatusCode::UNAUTHORIZED);
    assert_eq!(switch("4321").await, StatusCode::OK);
}

both_backends!(
    an_admin_sets_a_persons_station_pin_and_a_locked_one_works_again,
    an_admin_tries_office_hours_before_saving_the_room,
    a_room_or_a_person_refused_says_which_field_and_nothing_changes,
    a_failed_text_goes_again_exactly_once_when_an_admin_retries_it,
    a_station_shows_when_it_was_last_used,
);
