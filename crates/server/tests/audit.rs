//! Audit controls: reads of patient data and security events are recorded with who, when,
//! from where and which visits; each clinic's records are hash-chained, and
//! `frontdesk-server audit verify` fails naming the first record changed or removed in the
//! file; admins export a date range as JSON lines or CSV and find, for one patient, everyone
//! who read or changed their visit, in order; old records are pruned and the chain still
//! verifies from its anchor. Every test runs on SQLite and on PostgreSQL.

use frontdesk_domain::Span;
use frontdesk_server::Database;
use frontdesk_testkit::{
    ADMIN, Backend, OMAR, PRIYA, PgCluster, RECEPTION, TestServer, both_backends, eventually,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

/// A stopped server's database, to verify and to tamper with as someone with access to the
/// database (not the API) would.
enum Stored {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Stored {
    /// The database of `app` (stopped: nothing else writes to it).
    async fn of_stopped(app: &mut TestServer) -> Stored {
        let database = app.settings().database.clone();
        app.stop().await;
        match database {
            Database::Sqlite(path) => Stored::Sqlite(path),
            Database::Postgres(url) => Stored::Postgres(url),
        }
    }

    /// `frontdesk-server audit verify` on it.
    fn verify(&self) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_frontdesk-server"));
        cmd.args(["audit", "verify"]);
        match self {
            Stored::Sqlite(path) => cmd.arg("--db").arg(path),
            Stored::Postgres(url) => cmd.args(["--database-url", url]),
        };
        cmd.env("RUST_LOG", "warn").output().unwrap()
    }

    /// A copy to tamper with, leaving this one as it is.
    fn copy(&self, name: &str) -> Stored {
        match self {
            Stored::Sqlite(db) => {
                let copy = db.with_extension(format!("{name}.db"));
                std::fs::copy(db, &copy).unwrap();
                let wal = |p: &Path| PathBuf::from(format!("{}-wal", p.display()));
                if wal(db).exists() {
                    std::fs::copy(wal(db), wal(&copy)).unwrap();
                }
                Stored::Sqlite(copy)
            }
            Stored::Postgres(url) => {
                let cluster = PgCluster::shared();
                let original = database_name(url);
                let copy = format!("{original}_{name}");
                // A template may have no one connected (the stopped server's pool may still
                // be closing its connections).
                cluster.sql(&format!(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                     WHERE datname = '{original}' AND pid <> pg_backend_pid()"
                ));
                cluster.sql(&format!("CREATE DATABASE {copy} TEMPLATE {original}"));
                Stored::Postgres(cluster.url(&copy))
            }
        }
    }

    /// Runs one statement on it, through the database's own client; how many rows it changed.
    async fn sql(&self, statement: &str) -> u64 {
        match self {
            Stored::Sqlite(db) => {
                let c = rusqlite::Connection::open(db).unwrap();
                c.execute(statement, []).unwrap() as u64
            }
            Stored::Postgres(url) => {
                let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                    .await
                    .unwrap();
                let driver = tokio::spawn(connection);
                let n = client.execute(statement, &[]).await.unwrap();
                drop(client);
                let _ = driver.await;
                n
            }
        }
    }
}

/// The database's name in a URL the test cluster gives (`postgres://postgres@/NAME?host=…`).
fn database_name(url: &str) -> &str {
    let (_, rest) = url.split_once("@/").expect("a test cluster URL");
    rest.split('?').next().unwrap()
}

fn said(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A server whose clients come through a trusted proxy on loopback, so the records carry
/// the address the proxy names.
async fn server(backend: Backend) -> TestServer {
    TestServer::builder()
        .on(backend)
        .demo_clinic()
        .settings(|s| {
            s.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
            s.sweep_every = Duration::from_millis(10);
            s.background_tick = Duration::from_millis(20);
            s.audit_retention = Duration::from_secs(24 * 3600);
        })
        .start()
        .await
}

/// A minute passes (so the trail's order is the order things were done in).
fn a_minute_later(app: &TestServer) {
    app.clock().advance(Span::from_mins(1));
}

/// The clinic's records from yesterday to tomorrow, exported as JSON lines.
async fn exported(app: &TestServer, admin: &str) -> Vec<Value> {
    app.server().state.audit.flush().await;
    let (from, to) = (day(app, -1), day(app, 1));
    let a = app
        .get(&format!("/v1/audit/export?from={from}&to={to}"), admin)
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    let text = match &a.body {
        Value::String(s) => s.clone(),
        // A single line parses as JSON on its own.
        other => other.to_string(),
    };
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The UTC date `days` from now, by the server's clock (a range from the day before to the
/// day after holds today in any clinic's time zone).
fn day(app: &TestServer, days: i64) -> String {
    let ms = app.clock().now().as_millis() + days * 24 * 3_600_000;
    let day = jiff::Timestamp::from_millisecond(ms)
        .unwrap()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date();
    day.to_string()
}

both_backends!(an_admin_finds_everyone_who_read_or_changed_a_patients_visit_in_order);
async fn an_admin_finds_everyone_who_read_or_changed_a_patients_visit_in_order(backend: Backend) {
    let app = server(backend).await;
    let admin = app.sign_in(ADMIN).await;
    let reception = app.sign_in(RECEPTION).await;
    let priya = app.sign_in(PRIYA).await;
    let omar = app.sign_in(OMAR).await;
    // Omar works in his own room only: Reception's patients are not his to read.
    let omar_id = app.staff_id(OMAR.0);
    let a = app.edit_staff(&admin, &omar_id, json!({"rooms": []})).await;
    assert_eq!(a.status, StatusCode::OK);

    let (id, _, _) = app.waiting_patient("Tess Trail").await;
    a_minute_later(&app);
    let seen = app
        .send(
            Method::GET,
            &format!("/v1/visits/{id}"),
            Some(&reception),
            None,
            &[("x-forwarded-for", "192.0.2.7")],
        )
        .await;
    assert_eq!(seen.status, StatusCode::OK);
    a_minute_later(&app);
    assert_eq!(app.get("/v1/snapshot", &priya).await.status, StatusCode::OK);
    a_minute_later(&app);
    let v = seen.body["version"].as_u64().unwrap();
    assert_eq!(
        app.command(&reception, &id, "claim", v, None).await.status,
        StatusCode::OK
    );
    a_minute_later(&app);
    assert_eq!(app.get("/v1/snapshot", &omar).await.status, StatusCode::OK);
    assert_eq!(
        app.get(&format!("/v1/visits/{id}"), &omar).await.status,
        StatusCode::NOT_FOUND
    );
    a_minute_later(&app);

    let trail = app.get(&format!("/v1/visits/{id}/audit"), &admin).await;
    assert_eq!(trail.status, StatusCode::OK, "{:?}", trail.body);
    let lines: Vec<(String, String, String)> = trail
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["name"]
                    .as_str()
                    .unwrap_or(l["actor"].as_str().unwrap())
                    .to_owned(),
                l["what"].as_str().unwrap().to_owned(),
                l["action"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let line = |who: &str, what: &str, action: &str| (who.into(), what.into(), action.into());
    assert_eq!(
        lines,
        vec![
            line("patient", "changed", "opened"),
            line("patient", "changed", "intake_updated"),
            line("patient", "changed", "intake_finished"),
            line("Rita Reception", "read", "visit.read"),
            line("Dr. Priya Shah", "read", "snapshot.read"),
            line("Rita Reception", "changed", "claimed"),
            line("Alex Admin", "read", "audit.visit_trail_read"),
        ],
        "Omar, who may not read it, is not in it"
    );
    let read = &trail.body[3];
    assert_eq!(read["client"], "192.0.2.7", "the address the proxy named");

    // Only admins read it.
    let refused = app.get(&format!("/v1/visits/{id}/audit"), &reception).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

both_backends!(security_events_are_exported_as_json_lines_and_csv_with_actor_address_and_what);
async fn security_events_are_exported_as_json_lines_and_csv_with_actor_address_and_what(
    backend: Backend,
) {
    let app = server(backend).await;
    let admin = app.sign_in(ADMIN).await;
    let wrong = app
        .send(
            Method::POST,
            "/v1/auth/sign-in",
            None,
            Some(json!({"clinic": "demo", "email": PRIYA.0, "password": "not-hers"})),
            &[("x-forwarded-for", "198.51.100.4")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let priya_id = app.staff_id(PRIYA.0);
    let reception_room = app.room_id("Reception");
    let a = app
        .edit_staff(
            &admin,
            &priya_id,
            json!({"roles": ["provider", "scheduler"], "rooms": [reception_room]}),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK);
    let pin = app
        .send(
            Method::PUT,
            "/v1/me/pin",
            Some(&admin),
            Some(json!({"pin": "8642"})),
            &[],
        )
        .await;
    assert_eq!(pin.status, StatusCode::NO_CONTENT);
    let out = app
        .send(Method::POST, "/v1/auth/sign-out", Some(&admin), None, &[])
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    let admin = app.sign_in(ADMIN).await;

    let records = exported(&app, &admin).await;
    let find = |action: &str| {
        records
            .iter()
            .find(|r| r["action"] == action)
            .unwrap_or_else(|| panic!("no {action} in {records:#?}"))
            .clone()
    };
    let failed = find("sign_in.failed");
    assert_eq!(failed["actor"], format!("email:{}", PRIYA.0));
    assert_eq!(failed["client"], "198.51.100.4");
    let admin_id = app.staff_id(ADMIN.0);
    let changed = find("staff.changed");
    assert_eq!(changed["actor"], format!("staff:{admin_id}"));
    assert_eq!(changed["detail"]["staff"], priya_id.as_str());
    assert_eq!(changed["detail"]["roles"], json!(["provider", "scheduler"]));
    assert_eq!(changed["detail"]["rooms"], json!([reception_room]));
    for action in ["pin.changed", "signed_out", "sign_in.succeeded"] {
        assert_eq!(
            find(action)["actor"],
            format!("staff:{admin_id}"),
            "{action}"
        );
    }
    // In chain order, each linked to the one before.
    for pair in records.windows(2) {
        assert_eq!(pair[1]["n"].as_u64(), pair[0]["n"].as_u64().map(|n| n + 1));
        assert_eq!(pair[1]["prev_hash"], pair[0]["hash"]);
    }

    let (from, to) = (day(&app, -1), day(&app, 1));
    let csv = app
        .http
        .get(app.url(&format!("/v1/audit/export?from={from}&to={to}&format=csv")))
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
    let mut rows = csv.lines();
    assert_eq!(
        rows.next(),
        Some("n,at,actor,client,action,visits,detail,prev_hash,hash")
    );
    let failed_row = rows
        .find(|r| r.contains(",sign_in.failed,"))
        .expect("the failed sign-in in the CSV");
    assert!(failed_row.contains(&format!(",email:{},198.51.100.4,", PRIYA.0)));

    let reception = app.sign_in(RECEPTION).await;
    let refused = app
        .get(&format!("/v1/audit/export?from={from}&to={to}"), &reception)
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let bad = app
        .get(
            &format!("/v1/audit/export?from={from}&to={to}&format=xml"),
            &admin,
        )
        .await;
    assert_eq!(
        (bad.status, bad.code()),
        (StatusCode::BAD_REQUEST, "bad_request")
    );
    let bad = app
        .get("/v1/audit/export?from=yesterday&to=today", &admin)
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

/// Reads and sign-ins enough to make a chain of some length.
async fn some_activity(app: &TestServer) {
    let reception = app.sign_in(RECEPTION).await;
    let (id, _, _) = app.waiting_patient("Chain Link").await;
    for _ in 0..3 {
        assert_eq!(
            app.get(&format!("/v1/visits/{id}"), &reception)
                .await
                .status,
            StatusCode::OK
        );
        assert_eq!(
            app.get("/v1/queue", &reception).await.status,
            StatusCode::OK
        );
    }
    app.server().state.audit.flush().await;
}

both_backends!(audit_verify_passes_on_a_fresh_database_and_names_the_record_changed_or_removed);
async fn audit_verify_passes_on_a_fresh_database_and_names_the_record_changed_or_removed(
    backend: Backend,
) {
    let mut app = server(backend).await;
    some_activity(&app).await;
    let db = Stored::of_stopped(&mut app).await;

    let ok = db.verify();
    assert!(ok.status.success(), "{}", said(&ok));
    assert!(said(&ok).contains("chain intact"), "{}", said(&ok));

    // One record's address changed in the database.
    let copy = db.copy("altered");
    assert_eq!(
        copy.sql("UPDATE audit_log SET client = '203.0.113.9' WHERE n = 3")
            .await,
        1
    );
    let bad = copy.verify();
    assert!(!bad.status.success());
    assert!(said(&bad).contains("record 3"), "{}", said(&bad));

    // One record removed from the middle, and the last one.
    let copy = db.copy("deleted");
    assert_eq!(copy.sql("DELETE FROM audit_log WHERE n = 4").await, 1);
    let bad = copy.verify();
    assert!(!bad.status.success());
    assert!(said(&bad).contains("record 4 is missing"), "{}", said(&bad));
    let copy = db.copy("cut");
    assert_eq!(
        copy.sql("DELETE FROM audit_log WHERE n = (SELECT MAX(n) FROM audit_log)")
            .await,
        1
    );
    let bad = copy.verify();
    assert!(!bad.status.success());
    assert!(said(&bad).contains("are missing"), "{}", said(&bad));
}

both_backends!(records_past_the_retention_are_pruned_and_the_chain_still_verifies_from_its_anchor);
async fn records_past_the_retention_are_pruned_and_the_chain_still_verifies_from_its_anchor(
    backend: Backend,
) {
    let mut app = server(backend).await;
    some_activity(&app).await;
    let admin = app.sign_in(ADMIN).await;
    let before = exported(&app, &admin).await.len();
    assert!(before > 5, "{before}");
    // Two days on (the retention is one): the sweep prunes them all but what comes now.
    app.clock().advance(Span::from_mins(2 * 24 * 60));
    let admin = app.sign_in(ADMIN).await;
    let kept = eventually(30, "old audit records pruned", || {
        let (app, admin) = (&app, &admin);
        async move {
            let records = exported(app, admin).await;
            let first = records.first()?["n"].as_u64()?;
            (first as usize > before).then_some(records)
        }
    })
    .await;
    assert_eq!(kept[0]["action"], "sign_in.succeeded");
    let db = Stored::of_stopped(&mut app).await;
    let ok = db.verify();
    assert!(ok.status.success(), "{}", said(&ok));
    // The anchor is what it checks from: a removed first record still shows.
    assert_eq!(
        db.sql("DELETE FROM audit_log WHERE n = (SELECT MIN(n) FROM audit_log)")
            .await,
        1
    );
    let bad = db.verify();
    assert!(!bad.status.success(), "{}", said(&bad));
}
