//! Reports for managers (`GET /v1/reports/summary` and its CSV): a morning at the demo clinic
//! driven through the real API on a moved clock, so every wait is known; the test works out
//! the medians and 90th percentiles itself from what it did and compares. Only admins read
//! reports, reading one is in the audit trail, and no clinic sees another's figures.

use frontdesk_domain::Timestamp;
use frontdesk_testkit::{
    ADMIN, Backend, OMAR, PRIYA, RECEPTION, SCHEDULER, TestServer, both_backends, eventually,
    percentile_ms,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// 2026-12-03 08:00 UTC (the demo clinic keeps UTC).
const EIGHT: i64 = 1_796_284_800_000;
const MIN: i64 = 60_000;
/// Clock moves are exact, but each request then takes a moment: waits agree to this.
const SLACK_MS: i64 = 2_000;

fn at(minute: i64) -> Timestamp {
    Timestamp::from_millis(EIGHT + minute * MIN)
}

fn close(got: &Value, want_ms: i64, what: &str) {
    let got = got
        .as_i64()
        .unwrap_or_else(|| panic!("{what}: no figure in {got}"));
    assert!(
        (got - want_ms).abs() <= SLACK_MS,
        "{what}: {got} ms, expected {want_ms} ms"
    );
}

/// A staff command on a visit at the version the visit is at now.
async fn act(app: &TestServer, token: &str, visit: &str, op: &str, body: Option<Value>) {
    let version = app.visit(token, visit).await["version"].as_u64().unwrap();
    let a = app.command(token, visit, op, version, body).await;
    assert!(a.status.is_success(), "{op} on {visit}: {:?}", a.body);
}

/// The other clinic's admin, having seen their own patient this morning, and its room.
async fn other_clinic(app: &TestServer) -> (String, String) {
    let other = app.other_clinic().await;
    act(app, &other.token, &other.visit, "claim", None).await;
    act(app, &other.token, &other.visit, "end-call", None).await;
    (other.token, other.room)
}

async fn a_morning_at_the_clinic_reads_as_the_test_lived_it(backend: Backend) {
    let app = TestServer::builder()
        .on(backend)
        .demo_clinic()
        .clock_at(at(-18 * 60))
        .start()
        .await;
    let clock = app.clock();

    // Yesterday afternoon's patient is not in today's report.
    let rita = app.sign_in(RECEPTION).await;
    let (old, _, _) = app.waiting_patient("Olu Yesterday").await;
    clock.set(at(-17 * 60));
    act(&app, &rita, &old, "claim", None).await;
    act(&app, &rita, &old, "end-call", None).await;

    // A session with Dr. Shah at 09:45 is booked; nobody comes.
    clock.set(at(0));
    let rita = app.sign_in(RECEPTION).await;
    let priya = app.sign_in(PRIYA).await;
    let omar = app.sign_in(OMAR).await;
    let admin = app.sign_in(ADMIN).await;
    let scheduler = app.sign_in(SCHEDULER).await;
    let shah_room = app.room_id("Dr. Shah's room");
    let booking = json!({"booking": {"provider": app.staff_id(PRIYA.0), "starts_at": at(105).as_millis(),
        "guests": [{"name": "Nia Absent", "contact": {"email": "nia@example.org"}}]}});
    let a = app
        .send(
            Method::POST,
            &format!("/v1/rooms/{shah_room}/scheduled"),
            Some(&scheduler),
            Some(booking),
            &[],
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
    let nia = a.body["visit"]["id"].as_str().unwrap().to_owned();

    // 08:00 Ana arrives; Rita triages her at 08:04 and puts her on hold at 08:06; Dr. Shah
    // sees her from 08:10 to 08:30.
    let (ana, _, _) = app.waiting_patient("Ana Pereira").await;
    clock.set(at(4));
    act(&app, &rita, &ana, "claim", None).await;
    clock.set(at(6));
    act(&app, &rita, &ana, "leave-call", None).await;
    clock.set(at(10));
    act(&app, &priya, &ana, "claim", None).await;
    // 08:15 Ben arrives.
    clock.set(at(15));
    let (ben, _, _) = app.waiting_patient("Ben Okoro").await;
    clock.set(at(30));
    act(&app, &priya, &ana, "end-call", None).await;
    // Dr. Haddad sees Ben from 08:40 to 08:45.
    clock.set(at(40));
    act(&app, &omar, &ben, "claim", None).await;
    clock.set(at(45));
    act(&app, &omar, &ben, "end-call", None).await;
    // 08:50 Cai arrives and is declined at 08:53.
    clock.set(at(50));
    let (cai, _, _) = app.waiting_patient("Cai Wong").await;
    clock.set(at(53));
    let note = json!({"note": "Please book with your GP"});
    act(&app, &rita, &cai, "decline", Some(note)).await;
    // 09:10 Dee arrives and leaves at 09:20.
    clock.set(at(70));
    let (_, dee_token, _) = app.waiting_patient("Dee Lane").await;
    // 09:15 Eve arrives; Dr. Shah sees her from 09:18 to 09:38.
    clock.set(at(75));
    let (eve, _, _) = app.waiting_patient("Eve Marsh").await;
    clock.set(at(78));
    act(&app, &priya, &eve, "claim", None).await;
    clock.set(at(80));
    let a = app
        .patient(&dee_token, Method::POST, "/v1/patient/visit/leave", None)
        .await;
    assert!(a.status.is_success(), "{:?}", a.body);
    clock.set(at(98));
    act(&app, &priya, &eve, "end-call", None).await;
    // 09:40 Fay arrives; Rita sees her herself from 09:41 to 09:51.
    clock.set(at(100));
    let (fay, _, _) = app.waiting_patient("Fay Dunn").await;
    clock.set(at(101));
    act(&app, &rita, &fay, "claim", None).await;
    clock.set(at(111));
    act(&app, &rita, &fay, "end-call", None).await;
    // 10:00 Nia is marked no-show.
    clock.set(at(120));
    act(&app, &rita, &nia, "no-show", None).await;
    let (olga, other_room) = other_clinic(&app).await;

    // What the test did, in minutes: first staff contact, a provider, time in calls.
    let staff_waits = [4, 25, 3, 1]; // Ana, Ben, Eve, Fay
    let provider_waits = [10, 25, 3]; // Ana (Shah), Ben (Haddad), Eve (Shah)
    let calls = [2 + 20, 5, 20, 10];

    clock.set(at(10 * 60));
    let r = app
        .get("/v1/reports/summary?period=day&date=2026-12-03", &admin)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let b = &r.body;
    assert_eq!(b["window"]["first_day"], "2026-12-03");
    assert_eq!(b["window"]["from"], json!(at(-8 * 60).as_millis()));
    assert_eq!(b["visits"], 7, "six who came and the no-show: {b}");
    assert_eq!(b["arrivals"], 6);
    let hours: Vec<u64> = b["by_hour"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["arrivals"].as_u64().unwrap())
        .collect();
    assert_eq!(hours.len(), 24);
    assert_eq!((hours[8], hours[9]), (3, 3));
    assert_eq!(hours.iter().sum::<u64>(), 6);
    for (key, values) in [
        ("wait_for_staff", &staff_waits[..]),
        ("wait_for_provider", &provider_waits[..]),
        ("time_in_call", &calls[..]),
    ] {
        assert_eq!(b[key]["count"], values.len(), "{key}");
        close(&b[key]["median_ms"], percentile_ms(values, 50.0), key);
        close(&b[key]["p90_ms"], percentile_ms(values, 90.0), key);
    }
    close(
        &b["by_hour"][8]["wait_for_staff"]["median_ms"],
        percentile_ms(&[4, 25], 50.0),
        "08:00's wait",
    );
    let o = &b["outcomes"];
    assert_eq!(
        [
            &o["completed"],
            &o["declined"],
            &o["left"],
            &o["no_show"],
            &o["open"]
        ],
        [4, 1, 1, 1, 0],
        "{o}"
    );
    let names: Vec<&str> = b["providers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Dr. Omar Haddad", "Dr. Priya Shah"]);
    let shah = &b["providers"][1];
    assert_eq!((&shah["visits"], &shah["seen"]), (&json!(3), &json!(2)));
    assert_eq!(shah["outcomes"]["no_show"], 1);
    close(
        &shah["wait_for_provider"]["median_ms"],
        percentile_ms(&[10, 3], 50.0),
        "Dr. Shah's wait",
    );
    close(
        &shah["time_in_call"]["median_ms"],
        percentile_ms(&[22, 20], 50.0),
        "Dr. Shah's calls",
    );

    // The CSV says the same.
    let csv = app
        .http
        .get(app.url("/v1/reports/summary.csv?period=day&date=2026-12-03"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = csv.text().await.unwrap();
    let lines: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
    let header = &lines[0];
    let cell = |line: &[&str], name: &str| {
        let i = header.iter().position(|h| *h == name).unwrap();
        line[i].to_owned()
    };
    let ms = |s: String| -> Value {
        let secs: f64 = s.parse().unwrap();
        json!((secs * 1000.0).round() as i64)
    };
    let clinic = &lines[1];
    assert_eq!(cell(clinic, "scope"), "clinic");
    assert_eq!(cell(clinic, "visits"), b["visits"].to_string());
    assert_eq!(cell(clinic, "completed"), o["completed"].to_string());
    for key in ["wait_for_staff", "wait_for_provider", "time_in_call"] {
        assert_eq!(
            ms(cell(clinic, &format!("{key}_median_s"))),
            b[key]["median_ms"]
        );
        assert_eq!(ms(cell(clinic, &format!("{key}_p90_s"))), b[key]["p90_ms"]);
    }
    let shah_line = lines
        .iter()
        .find(|l| l.len() > 3 && l[3] == "Dr. Priya Shah")
        .expect("Dr. Shah's line");
    assert_eq!(cell(shah_line, "seen"), "2");
    assert_eq!(
        ms(cell(shah_line, "wait_for_provider_median_s")),
        shah["wait_for_provider"]["median_ms"]
    );
    let nine = lines
        .iter()
        .find(|l| l[0] == "hour" && l[1] == "9")
        .unwrap();
    assert_eq!(cell(nine, "arrivals"), "3");

    // One room: Reception had everyone but the no-show.
    let reception = app.room_id("Reception");
    let r = app
        .get(
            &format!("/v1/reports/summary?period=day&date=2026-12-03&room={reception}"),
            &admin,
        )
        .await;
    assert_eq!(r.body["visits"], 6, "{:?}", r.body);
    assert_eq!(r.body["outcomes"]["no_show"], 0);
    // The week and the month hold the day, and yesterday's patient.
    for period in ["week", "month"] {
        let r = app
            .get(
                &format!("/v1/reports/summary?period={period}&date=2026-12-03"),
                &admin,
            )
            .await;
        assert_eq!(r.body["visits"], 8, "{period}: {:?}", r.body);
    }

    // The other clinic sees its own morning only, and neither sees the other's room.
    let theirs = app
        .get("/v1/reports/summary?period=day&date=2026-12-03", &olga)
        .await;
    assert_eq!(theirs.status, StatusCode::OK, "{:?}", theirs.body);
    assert_eq!(theirs.body["visits"], 1);
    assert!(theirs.body["providers"].as_array().unwrap().is_empty());
    let r = app
        .get(&format!("/v1/reports/summary?room={other_room}"), &admin)
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));

    // Reading a report is in the audit trail.
    eventually(10, "the report read in the audit trail", || async {
        let export = app
            .http
            .get(app.url("/v1/audit/export?from=2026-12-03&to=2026-12-03"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let admin_id = app.staff_id(ADMIN.0);
        export
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|r| {
                r["action"] == "report.read"
                    && r["actor"] == format!("staff:{admin_id}")
                    && r["detail"]["format"] == "csv"
            })
    })
    .await;
}

async fn only_admins_read_reports_and_bad_input_is_refused(backend: Backend) {
    let app = TestServer::with_demo_on(backend).await;
    let admin = app.sign_in(ADMIN).await;
    for who in [RECEPTION, PRIYA, SCHEDULER] {
        let token = app.sign_in(who).await;
        for path in ["/v1/reports/summary", "/v1/reports/summary.csv"] {
            let r = app.get(path, &token).await;
            assert_eq!(
                (r.status, r.code()),
                (StatusCode::FORBIDDEN, "forbidden"),
                "{}",
                who.0
            );
        }
    }
    let r = app
        .send(Method::GET, "/v1/reports/summary", None, None, &[])
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    for (query, status) in [
        ("period=year", StatusCode::BAD_REQUEST),
        ("date=03/12/2026", StatusCode::BAD_REQUEST),
        ("date=2026-02-30", StatusCode::BAD_REQUEST),
        ("room=not-a-room", StatusCode::NOT_FOUND),
        (
            "room=00000000-0000-0000-0000-000000000001",
            StatusCode::NOT_FOUND,
        ),
    ] {
        let r = app
            .get(&format!("/v1/reports/summary?{query}"), &admin)
            .await;
        assert_eq!(r.status, status, "{query}: {:?}", r.body);
        assert!(!r.body["message"].as_str().unwrap_or("").is_empty());
    }
    // Today, with nothing yet: every hour is there, with nothing in it.
    let r = app.get("/v1/reports/summary", &admin).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["window"]["period"], "day");
    assert_eq!(r.body["visits"], 0);
    assert_eq!(r.body["by_hour"].as_array().unwrap().len(), 24);
    assert!(r.body["wait_for_staff"]["median_ms"].is_null());
}

both_backends!(
    a_morning_at_the_clinic_reads_as_the_test_lived_it,
    only_admins_read_reports_and_bad_input_is_refused
);
