//! FHIR R4: a clinic's day exported as Encounters and Appointments, each Bundle checked by an
//! independent R4 validator (the `fhir.resources` models, run by `fhir/validate.py`), and
//! Appointments from a practice management system booked, recognised when sent again,
//! rescheduled, cancelled and refused when malformed, on both stores.

mod sinks;

use frontdesk_server::messages::transport::Mailer;
use frontdesk_testkit::{
    ADMIN, Backend, OMAR, PRIYA, RECEPTION, SCHEDULER, TestServer, both_backends, eventually,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sinks::{SmtpMode, SmtpSink};
use std::path::PathBuf;
use std::time::Duration;

const HOUR: i64 = 3_600_000;

/// The Python with `fhir.resources` that `tests/setup.sh` installs, or `$FHIR_PYTHON`.
fn fhir_python() -> PathBuf {
    if let Some(path) = std::env::var_os("FHIR_PYTHON") {
        return PathBuf::from(path);
    }
    let cache = std::env::var_os("FRONTDESK_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("XDG_CACHE_HOME").map(|d| PathBuf::from(d).join("frontdesk")))
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/frontdesk")))
        .expect("HOME is set");
    cache.join("fhir-resources/bin/python")
}

/// Runs the R4 validator over a Bundle; panics with its errors.
fn validate(bundle: &Value) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bundle.json");
    std::fs::write(&file, serde_json::to_vec_pretty(bundle).unwrap()).unwrap();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fhir/validate.py");
    let out = std::process::Command::new(fhir_python())
        .arg(&script)
        .arg(&file)
        .output()
        .expect("the fhir.resources Python (bash tests/setup.sh installs it)");
    assert!(
        out.status.success(),
        "the R4 validator refused the Bundle:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

async fn server(backend: Backend, smtp: Option<&SmtpSink>) -> TestServer {
    let smtp_url = smtp.map(SmtpSink::url);
    TestServer::builder()
        .on(backend)
        .demo_clinic()
        .settings(move |s| {
            s.background_tick = Duration::from_millis(50);
            if let Some(url) = smtp_url {
                s.transports.email =
                    Some(Mailer::new(&url, "Demo Clinic <desk@demo.clinic>").unwrap());
            }
        })
        .start()
        .await
}

/// Today in the clinic's time zone, as the server reads it.
async fn today(app: &TestServer, token: &str) -> String {
    let listed = app.get("/v1/visits", token).await;
    listed.body["day"].as_str().unwrap().to_owned()
}

async fn fhir_get(app: &TestServer, token: &str, path: &str) -> Value {
    let res = reqwest::Client::new()
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()["content-type"].to_str().unwrap(),
        "application/fhir+json"
    );
    res.json().await.unwrap()
}

fn entries(bundle: &Value) -> Vec<Value> {
    bundle["entry"].as_array().cloned().unwrap_or_default()
}

fn resource_of(bundle: &Value, id: &str) -> Value {
    entries(bundle)
        .into_iter()
        .map(|e| e["resource"].clone())
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("{id} is not in the Bundle: {bundle:#}"))
}

async fn a_clinic_day_exports_as_valid_r4_encounters_and_appointments(backend: Backend) {
    let app = server(backend, None).await;
    let reception = app.sign_in(RECEPTION).await;
    let priya = app.sign_in(PRIYA).await;
    let scheduler = app.sign_in(SCHEDULER).await;
    let admin = app.sign_in(ADMIN).await;

    // The day: one waiting, one in a call, one seen and done, one declined, one who left,
    // one booked for later, one booked and cancelled.
    let (waiting, _, _) = app.waiting_patient("Wanda Waiting").await;
    let (in_call, _, v) = app.waiting_patient("Ike Incall").await;
    let a = app.command(&priya, &in_call, "claim", v, None).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    let (done, _, v) = app.waiting_patient("Dora Done").await;
    let a = app.command(&priya, &done, "claim", v, None).await;
    let a = app
        .command(&priya, &done, "end-call", a.version(), None)
        .await;
    assert_eq!(a.status_of_visit(), "completed", "{:?}", a.body);
    // Seen by two, then back in the waiting area for the provider.
    let (on_hold, _, v) = app.waiting_patient("Hana Hold").await;
    let a = app.command(&priya, &on_hold, "claim", v, None).await;
    let a = app
        .command(&reception, &on_hold, "join", a.version(), None)
        .await;
    let a = app
        .command(&reception, &on_hold, "leave-call", a.version(), None)
        .await;
    let a = app
        .command(&priya, &on_hold, "leave-call", a.version(), None)
        .await;
    assert_eq!(a.status_of_visit(), "on_hold", "{:?}", a.body);
    let (declined, _, v) = app.waiting_patient("Dex Declined").await;
    let note = json!({"note": "Please see your GP"});
    let a = app
        .command(&reception, &declined, "decline", v, Some(note))
        .await;
    assert_eq!(a.status_of_visit(), "declined", "{:?}", a.body);
    let (left, token, _) = app.waiting_patient("Lee Left").await;
    let a = app
        .patient(&token, Method::POST, "/v1/patient/visit/leave", None)
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    let room = app.room_id("Dr. Shah's room");
    let starts = app.clock().now().as_millis() + 60_000;
    let mut booked = Vec::new();
    for name in ["Bea Booked", "Cy Cancelled", "Noa Noshow"] {
        let a = app
            .send(
                Method::POST,
                &format!("/v1/rooms/{room}/scheduled"),
                Some(&scheduler),
                Some(json!({"booking": {
                    "provider": app.staff_id(PRIYA.0),
                    "starts_at": starts,
                    "guests": [{"name": name, "contact": {"email": "guest@example.org"}}],
                }})),
                &[],
            )
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
        booked.push((
            a.body["visit"]["id"].as_str().unwrap().to_owned(),
            a.version(),
        ));
    }
    let (cancelled, v) = booked[1].clone();
    let a = app
        .command(&scheduler, &cancelled, "cancel", v, Some(json!({})))
        .await;
    assert_eq!(a.status_of_visit(), "cancelled", "{:?}", a.body);
    let (no_show, v) = booked[2].clone();
    let a = app.command(&scheduler, &no_show, "no-show", v, None).await;
    assert_eq!(a.status_of_visit(), "no_show", "{:?}", a.body);

    let day = today(&app, &admin).await;
    let encounters = fhir_get(&app, &admin, &format!("/v1/fhir/Encounter?date={day}")).await;
    validate(&encounters);
    assert_eq!(encounters["resourceType"], "Bundle");
    assert_eq!(encounters["type"], "searchset");
    assert_eq!(encounters["total"], 9, "{encounters:#}");
    assert_eq!(entries(&encounters).len(), 9);
    for e in entries(&encounters) {
        assert_eq!(e["search"]["mode"], "match");
        let id = e["resource"]["id"].as_str().unwrap();
        assert!(
            e["fullUrl"]
                .as_str()
                .unwrap()
                .ends_with(&format!("/Encounter/{id}"))
        );
        assert_eq!(e["resource"]["class"]["code"], "VR");
        assert!(e["resource"]["period"]["start"].is_string());
    }
    let statuses = [
        (&waiting, "arrived"),
        (&in_call, "in-progress"),
        (&done, "finished"),
        (&declined, "cancelled"),
        (&left, "cancelled"),
        (&booked[0].0, "planned"),
        (&cancelled, "cancelled"),
        (&on_hold, "in-progress"),
        (&no_show, "cancelled"),
    ];
    for (id, status) in statuses {
        assert_eq!(resource_of(&encounters, id)["status"], status, "{id}");
    }
    let seen = resource_of(&encounters, &done);
    assert!(seen["period"]["end"].is_string(), "a finished visit ends");
    assert_eq!(seen["subject"]["display"], "Dora Done");
    let history: Vec<&str> = seen["statusHistory"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["status"].as_str().unwrap())
        .collect();
    assert_eq!(history, ["arrived", "in-progress", "finished"]);
    let performer = &seen["participant"][0];
    assert_eq!(performer["type"][0]["coding"][0]["code"], "PPRF");
    assert_eq!(performer["individual"]["display"], "Dr. Priya Shah");
    assert!(
        performer["period"]["end"].is_string(),
        "she left when the call ended"
    );
    assert_eq!(seen["location"][0]["location"]["display"], "Reception");
    let held = resource_of(&encounters, &on_hold);
    let with: Vec<(&str, &str)> = held["participant"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            assert!(p["period"]["end"].is_string(), "both left the call: {p}");
            (
                p["type"][0]["coding"][0]["code"].as_str().unwrap(),
                p["individual"]["display"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        with,
        [("PPRF", "Dr. Priya Shah"), ("PART", "Rita Reception")]
    );
    assert!(held["period"]["end"].is_null(), "still open");

    let appointments = fhir_get(&app, &admin, &format!("/v1/fhir/Appointment?date={day}")).await;
    validate(&appointments);
    assert_eq!(appointments["total"], 3, "{appointments:#}");
    assert_eq!(resource_of(&appointments, &no_show)["status"], "noshow");
    assert_eq!(resource_of(&appointments, &booked[0].0)["status"], "booked");
    assert_eq!(
        resource_of(&appointments, &cancelled)["status"],
        "cancelled"
    );
    let bea = resource_of(&appointments, &booked[0].0);
    assert_eq!(bea["participant"][1]["actor"]["display"], "Dr. Priya Shah");
    assert_eq!(bea["participant"][2]["actor"]["display"], "Dr. Shah's room");

    // Another provider reads what minimum necessary gives him: Reception, where he works, and
    // the booked sessions not started (any staff may cover one), but not Dr. Shah's sessions
    // that are over.
    let omar = app.sign_in(OMAR).await;
    let his = fhir_get(&app, &omar, &format!("/v1/fhir/Encounter?date={day}")).await;
    validate(&his);
    let ids: Vec<String> = entries(&his)
        .iter()
        .map(|e| e["resource"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        !ids.contains(&cancelled) && !ids.contains(&no_show),
        "{ids:?}"
    );
    assert!(
        ids.contains(&booked[0].0) && ids.contains(&waiting),
        "{ids:?}"
    );
    assert_eq!(his["total"], 7);

    // Another day holds none of them; a bad date is refused.
    let other = fhir_get(&app, &admin, "/v1/fhir/Encounter?date=2001-01-01").await;
    assert_eq!(other["total"], 0);
    let bad = app.get("/v1/fhir/Encounter?date=yesterday", &admin).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    // The reads are in the audit trail, with the visits they named.
    let trail = eventually(10, "the FHIR reads in the audit trail", || async {
        let res = reqwest::Client::new()
            .get(app.url(&format!(
                "/v1/audit/export?from={day}&to={day}&format=jsonl"
            )))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        (res.matches("fhir.read").count() >= 3).then_some(res)
    })
    .await;
    let read = trail
        .lines()
        .find(|l| l.contains("fhir.read") && l.contains("Encounter") && l.contains(&done))
        .expect("the Encounter search names the visits it read");
    assert!(read.contains(&waiting), "{read}");
}

/// An Appointment as a practice management system sends it.
fn appointment(id: &str, status: &str, start_ms: i64, email: &str) -> Value {
    let start = frontdesk_domain::fhir::datetime::instant(
        frontdesk_domain::Timestamp::from_millis(start_ms),
    );
    let end = frontdesk_domain::fhir::datetime::instant(frontdesk_domain::Timestamp::from_millis(
        start_ms + 30 * 60_000,
    ));
    json!({
        "resourceType": "Appointment",
        "identifier": [{"system": "https://pms.example/appointments", "value": id}],
        "status": status,
        "serviceType": [{"text": "Follow-up"}],
        "start": start,
        "end": end,
        "contained": [
            {"resourceType": "Patient", "id": "p", "name": [{"given": ["Ana"], "family": "Pires"}],
             "telecom": [{"system": "email", "value": email}, {"system": "phone", "value": "+61 400 000 111"}]},
            {"resourceType": "Practitioner", "id": "d", "telecom": [{"system": "email", "value": "priya@demo.clinic"}]}
        ],
        "participant": [
            {"actor": {"reference": "#p"}, "status": "accepted"},
            {"actor": {"reference": "#d"}, "status": "accepted"},
            {"actor": {"display": "Dr. Shah's room"}, "status": "accepted"}
        ]
    })
}

async fn post(app: &TestServer, token: &str, path: &str, body: Value) -> frontdesk_testkit::Answer {
    app.send(Method::POST, path, Some(token), Some(body), &[])
        .await
}

/// The sessions a member of staff's console lists from the snapshot, by patient name.
async fn sessions_named(app: &TestServer, token: &str, name: &str) -> Vec<Value> {
    let snapshot = app.get("/v1/snapshot", token).await;
    snapshot.body["visits"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["patient"]["name"] == name && v["status"] == "scheduled")
        .cloned()
        .collect()
}

async fn appointments_from_practice_software_are_booked_once_moved_and_cancelled(backend: Backend) {
    let smtp = SmtpSink::start(SmtpMode::Accept).await;
    let app = server(backend, Some(&smtp)).await;
    let scheduler = app.sign_in(SCHEDULER).await;
    let priya = app.sign_in(PRIYA).await;
    let reception = app.sign_in(RECEPTION).await;
    let now = app.clock().now().as_millis();
    let first = appointment("A-100", "booked", now + 30 * HOUR, "ana@example.org");

    // Booked: in Dr. Shah's sessions, and Ana is told.
    let a = post(&app, &scheduler, "/v1/fhir/Appointment", first.clone()).await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
    assert_eq!(a.body["resourceType"], "Appointment");
    assert_eq!(a.body["status"], "booked");
    assert_eq!(a.body["minutesDuration"], 30);
    let id = a.body["id"].as_str().unwrap().to_owned();
    let listed = sessions_named(&app, &priya, "Ana Pires").await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], id);
    assert_eq!(listed[0]["room_id"], app.room_id("Dr. Shah's room"));
    eventually(10, "Ana's booking email", || async {
        (!smtp.to("ana@example.org", "is booked").is_empty()).then_some(())
    })
    .await;

    // Sent again: the same session, nothing new.
    let again = post(&app, &scheduler, "/v1/fhir/Appointment", first.clone()).await;
    assert_eq!(again.status, StatusCode::OK, "{:?}", again.body);
    assert_eq!(again.body["id"], id);
    assert_eq!(sessions_named(&app, &reception, "Ana Pires").await.len(), 1);

    // Malformed: an OperationOutcome, and nothing changed.
    let mut bad = first.clone();
    bad["start"] = json!("next tuesday");
    bad["contained"][0]["telecom"] = json!([]);
    let refused = post(&app, &scheduler, "/v1/fhir/Appointment", bad).await;
    assert_eq!(
        refused.status,
        StatusCode::BAD_REQUEST,
        "{:?}",
        refused.body
    );
    assert_eq!(refused.body["resourceType"], "OperationOutcome");
    let issues = refused.body["issue"].as_array().unwrap();
    assert!(
        issues
            .iter()
            .any(|i| i["expression"][0] == "Appointment.start"),
        "{issues:?}"
    );
    assert!(
        issues
            .iter()
            .all(|i| i["severity"] == "error" && i["diagnostics"].is_string())
    );
    let no_identifier = post(
        &app,
        &scheduler,
        "/v1/fhir/Appointment",
        json!({"resourceType": "Appointment", "status": "booked"}),
    )
    .await;
    assert_eq!(no_identifier.status, StatusCode::BAD_REQUEST);
    let not_json = app
        .send(
            Method::POST,
            "/v1/fhir/Appointment",
            Some(&scheduler),
            Some(json!([1, 2])),
            &[],
        )
        .await;
    assert_eq!(not_json.status, StatusCode::BAD_REQUEST);
    assert_eq!(not_json.body["issue"][0]["code"], "structure");
    // A transaction is all or nothing: one bad entry books neither, whether it is malformed
    // or names a provider no one here is (found while planning, before any is written).
    let good = appointment("B-1", "booked", now + 40 * HOUR, "bo@example.org");
    let waitlisted = json!({"resourceType": "Appointment", "status": "waitlist",
        "identifier": [{"system": "s", "value": "B-2"}]});
    let mut stranger = appointment("B-3", "booked", now + 41 * HOUR, "bo@example.org");
    stranger["contained"][1]["telecom"][0]["value"] = json!("nobody@elsewhere.org");
    for (bad, code, at) in [
        (
            waitlisted,
            "not-supported",
            "Bundle.entry[1].resource.status",
        ),
        (
            stranger,
            "not-found",
            "Bundle.entry[1].resource.participant",
        ),
    ] {
        let bundle = json!({"resourceType": "Bundle", "type": "transaction", "entry": [
            {"resource": good, "request": {"method": "POST", "url": "Appointment"}},
            {"resource": bad, "request": {"method": "POST", "url": "Appointment"}}
        ]});
        let refused = post(&app, &scheduler, "/v1/fhir", bundle).await;
        assert_eq!(
            refused.status,
            StatusCode::BAD_REQUEST,
            "{:?}",
            refused.body
        );
        assert_eq!(refused.body["issue"][0]["code"], code);
        assert_eq!(refused.body["issue"][0]["expression"][0], at);
    }
    assert!(sessions_named(&app, &reception, "Ana Pires").await.len() == 1);
    let snapshot = app.get("/v1/snapshot", &reception).await;
    assert_eq!(
        snapshot.body["visits"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|v| v["status"] == "scheduled")
            .count(),
        1
    );
    // A provider may not send bookings in.
    let a = post(&app, &priya, "/v1/fhir/Appointment", first.clone()).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert_eq!(a.body["issue"][0]["code"], "forbidden");

    // A new start: rescheduled (a new session at the new time, the old one cancelled).
    let moved = appointment("A-100", "booked", now + 50 * HOUR, "ana@example.org");
    let a = post(&app, &scheduler, "/v1/fhir/Appointment", moved.clone()).await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
    let new_id = a.body["id"].as_str().unwrap().to_owned();
    assert_ne!(new_id, id);
    assert_eq!(a.body["start"], moved["start"]);
    let listed = sessions_named(&app, &priya, "Ana Pires").await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], new_id);
    assert_eq!(listed[0]["booking"]["starts_at"], now + 50 * HOUR);
    assert_eq!(app.visit(&scheduler, &id).await["status"], "cancelled");

    // Cancelled.
    let cancel = json!({"resourceType": "Appointment", "status": "cancelled",
        "identifier": [{"system": "https://pms.example/appointments", "value": "A-100"}]});
    let a = post(&app, &scheduler, "/v1/fhir/Appointment", cancel.clone()).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    assert_eq!(a.body["status"], "cancelled");
    assert_eq!(a.body["id"], new_id);
    assert!(sessions_named(&app, &priya, "Ana Pires").await.is_empty());
    let a = post(&app, &scheduler, "/v1/fhir/Appointment", cancel).await;
    assert_eq!(a.status, StatusCode::OK, "cancelling twice changes nothing");

    // A transaction Bundle books each of its Appointments.
    let bundle = json!({"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": appointment("C-1", "booked", now + 26 * HOUR, "cat@example.org")},
        {"resource": appointment("C-2", "booked", now + 27 * HOUR, "cal@example.org")}
    ]});
    let a = post(&app, &scheduler, "/v1/fhir", bundle).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    assert_eq!(a.body["type"], "transaction-response");
    assert_eq!(a.body["entry"][0]["response"]["status"], "201 Created");
    assert_eq!(a.body["entry"][1]["response"]["status"], "201 Created");

    // Emails: one booking email for the first booking (the repeat sent none), one for the
    // reschedule, and the cancellations.
    eventually(
        10,
        "the reschedule's and the transaction's emails",
        || async {
            (smtp.to("ana@example.org", "is booked").len() == 2
                && smtp.to("cal@example.org", "is booked").len() == 1
                && !smtp.to("ana@example.org", "cancelled").is_empty())
            .then_some(())
        },
    )
    .await;

    // Another clinic's admin sees none of it and cannot touch it.
    let other = other_clinic_admin(&app).await;
    let answer = post(&app, &other, "/v1/fhir/Appointment", json!({"resourceType": "Appointment",
        "status": "cancelled", "identifier": [{"system": "https://pms.example/appointments", "value": "C-1"}]})).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{:?}", answer.body);
    assert_eq!(answer.body["issue"][0]["code"], "not-found");
    // C-1 and C-2 (both for a patient of the same name) are still booked.
    let booked = sessions_named(&app, &priya, "Ana Pires").await;
    assert_eq!(booked.len(), 2, "{booked:?}");
    let day_after = frontdesk_domain::fhir::datetime::instant(
        frontdesk_domain::Timestamp::from_millis(now + 26 * HOUR),
    );
    let day = &day_after[..10];
    let theirs = fhir_get(&app, &other, &format!("/v1/fhir/Appointment?date=ge{day}")).await;
    assert_eq!(theirs["total"], 0, "{theirs:#}");
    let ours = fhir_get(
        &app,
        &scheduler,
        &format!("/v1/fhir/Appointment?date=ge{day}"),
    )
    .await;
    validate(&ours);
    assert!(ours["total"].as_u64().unwrap() >= 2, "{ours:#}");
    let c1 = entries(&ours)
        .into_iter()
        .map(|e| e["resource"].clone())
        .find(|r| r["identifier"][0]["value"] == "C-1")
        .expect("C-1 exported with its identifier");
    assert_eq!(c1["status"], "booked");
    assert_eq!(c1["minutesDuration"], 30);
}

async fn other_clinic_admin(app: &TestServer) -> String {
    use frontdesk_server::HashCost;
    use frontdesk_server::admin::{self, NewRoom, NewStaff};
    let store = app.server().store();
    let clinic = admin::create_clinic(store, "other", "Other Clinic")
        .await
        .unwrap();
    let room = admin::create_room(
        store,
        clinic.id,
        NewRoom {
            name: "Front desk".into(),
            ..NewRoom::default()
        },
        app.server().state.now(),
    )
    .await
    .unwrap();
    admin::create_staff(
        store,
        clinic.id,
        NewStaff {
            name: "Olga Other".into(),
            email: "olga@other.clinic".into(),
            roles: vec![
                frontdesk_domain::Role::Admin,
                frontdesk_domain::Role::Provider,
            ],
            password: "other-password".into(),
            pin: None,
            rooms: vec![room.id],
            all_rooms: false,
            availability: None,
            phone: None,
        },
        HashCost::Fast,
        app.server().state.now(),
    )
    .await
    .unwrap();
    app.sign_in_at("other", "olga@other.clinic", "other-password")
        .await
}

both_backends!(
    a_clinic_day_exports_as_valid_r4_encounters_and_appointments,
    appointments_from_practice_software_are_booked_once_moved_and_cancelled,
);
