//! Durability: kill the server process outright in the middle of a stream of commands,
//! start it again on the same data, and every command it had answered 2xx is still there;
//! messages in flight go out after the restart. Each test runs on an SQLite file and on a
//! PostgreSQL database.

mod sinks;

use frontdesk_server::store::Store;
use frontdesk_server::{HashCost, PgStore, SqliteStore, demo};
use frontdesk_testkit::{Backend, PgCluster, both_backends};
use serde_json::{Value, json};
use std::process::{Child, Command};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::Mutex;

/// A crash test's clinic: an SQLite file in a temp dir, or a fresh database of this test
/// binary's PostgreSQL cluster. The server binary is started on it by its URL again and again;
/// the data outlives each process.
struct Data {
    _dir: tempfile::TempDir,
    url: String,
}

impl Data {
    /// The demo clinic, seeded.
    async fn seeded(backend: Backend) -> (Data, demo::DemoClinic) {
        let dir = tempfile::tempdir().unwrap();
        let (url, store): (String, Box<dyn Store>) = match backend {
            Backend::Sqlite => {
                let path = dir.path().join("frontdesk.db");
                let store = SqliteStore::open(&path, 16).unwrap();
                (format!("sqlite://{}", path.display()), Box::new(store))
            }
            Backend::Postgres => {
                let url = PgCluster::shared().fresh_database();
                let store = PgStore::connect(&url, 16).await.unwrap();
                (url, Box::new(store))
            }
        };
        let clinic = demo::seed_demo(store.as_ref(), HashCost::Fast)
            .await
            .unwrap();
        (Data { _dir: dir, url }, clinic)
    }

    /// The server binary on this data, with `extra` arguments.
    fn serve(&self, extra: &[&str]) -> (Child, String) {
        let bin = env!("CARGO_BIN_EXE_frontdesk-server");
        frontdesk_testkit::serve_binary_at(bin, &self.url, extra)
    }

    /// The server, taking arrivals from one address as fast as they come.
    fn serve_unbounded(&self) -> (Child, String) {
        let unbounded = "100000";
        self.serve(&[
            "--arrivals-per-address-per-minute",
            unbounded,
            "--arrivals-per-room-per-minute",
            unbounded,
        ])
    }
}

async fn sign_in(http: &reqwest::Client, url: &str) -> String {
    sign_in_as(http, url, "reception@demo.clinic", "demo-reception").await
}

both_backends!(every_command_answered_before_a_sigkill_survives_the_restart);
async fn every_command_answered_before_a_sigkill_survives_the_restart(backend: Backend) {
    frontdesk_testkit::init_tracing();
    let (data, clinic) = Data::seeded(backend).await;
    let reception = clinic.reception.id;

    // Four workers arrive patients from one address as fast as they can.
    let (mut child, url) = data.serve_unbounded();
    let http = reqwest::Client::new();
    let token = sign_in(&http, &url).await;
    // (visit id, version the server answered with)
    let acked: Arc<Mutex<Vec<(String, u64)>>> = Arc::default();
    let count = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for w in 0..4 {
        let (http, url, token, acked, count) = (
            http.clone(),
            url.clone(),
            token.clone(),
            acked.clone(),
            count.clone(),
        );
        workers.push(tokio::spawn(async move {
            for i in 0.. {
                let Ok(res) = http
                    .post(format!("{url}/v1/join/demo/{reception}"))
                    .json(&json!({"name": format!("Patient {w}-{i}"), "phone": "0400 000 001"}))
                    .send()
                    .await
                else {
                    return;
                };
                if !res.status().is_success() {
                    return;
                }
                let Ok(body) = res.json::<Value>().await else {
                    return;
                };
                let id = body["visit"]["id"].as_str().unwrap().to_owned();
                acked.lock().await.push((id.clone(), 1));
                count.fetch_add(1, Ordering::SeqCst);
                let Ok(res) = http
                    .post(format!("{url}/v1/visits/{id}/claim"))
                    .bearer_auth(&token)
                    .header("if-match", "1")
                    .send()
                    .await
                else {
                    return;
                };
                if res.status().is_success() {
                    let Ok(body) = res.json::<Value>().await else {
                        return;
                    };
                    acked
                        .lock()
                        .await
                        .push((id, body["visit"]["version"].as_u64().unwrap()));
                    count.fetch_add(1, Ordering::SeqCst);
                }
            }
        }));
    }
    while count.load(Ordering::SeqCst) < 60 {
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    child.kill().unwrap(); // SIGKILL on Unix: no shutdown, no flush.
    child.wait().unwrap();
    for w in workers {
        w.await.unwrap();
    }

    let (mut child, url) = data.serve_unbounded();
    let acked = acked.lock().await.clone();
    // The session survived too: tokens are stored, not held in memory.
    for (id, version) in &acked {
        let res = http
            .get(format!("{url}/v1/visits/{id}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "visit {id} lost");
        let visit: Value = res.json().await.unwrap();
        assert!(
            visit["version"].as_u64().unwrap() >= *version,
            "visit {id} lost its version {version}"
        );
    }
    let snapshot: Value =
        frontdesk_testkit::get_json(&http, &format!("{url}/v1/snapshot"), &token).await;
    let events: Value = frontdesk_testkit::get_json(
        &http,
        &format!("{url}/v1/events?after=0&limit=1000"),
        &token,
    )
    .await;
    let seqs: Vec<u64> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as u64).collect::<Vec<_>>(),
        "the event log has no holes"
    );
    assert_eq!(snapshot["seq"].as_u64().unwrap(), seqs.len() as u64);
    child.kill().unwrap();
    child.wait().unwrap();
}

async fn sign_in_as(http: &reqwest::Client, url: &str, email: &str, password: &str) -> String {
    frontdesk_testkit::sign_in_to(http, url, "demo", email, password).await
}

async fn deliveries(http: &reqwest::Client, url: &str, admin: &str) -> Vec<Value> {
    let res: Value =
        frontdesk_testkit::get_json(http, &format!("{url}/v1/deliveries"), admin).await;
    res.as_array().unwrap().clone()
}

/// The demo clinic's Dr. Shah and her room.
fn priyas_room(demo: &demo::DemoClinic) -> (frontdesk_domain::StaffId, frontdesk_domain::RoomId) {
    let priya = demo.staff_by_email("priya@demo.clinic").unwrap().id;
    let room = demo
        .rooms
        .iter()
        .find(|r| r.provider == Some(priya))
        .unwrap()
        .id;
    (priya, room)
}

both_backends!(messages_due_when_the_server_is_killed_go_out_exactly_once_after_the_restart);
/// A message is due and being handed to the relay when the server is killed outright; after
/// the restart it goes out, and every message of the booking arrives exactly once. (On
/// PostgreSQL the dead process's claim on it ends with its connection, not its lease.)
async fn messages_due_when_the_server_is_killed_go_out_exactly_once_after_the_restart(
    backend: Backend,
) {
    use sinks::{SmtpMode, SmtpSink};
    frontdesk_testkit::init_tracing();
    let (data, clinic) = Data::seeded(backend).await;
    let (provider, room) = priyas_room(&clinic);
    // The relay takes the connection and then says nothing: a send hangs mid-way.
    let smtp = SmtpSink::start(SmtpMode::Stall).await;
    let smtp_url = smtp.url();
    let args = ["--smtp-url", &smtp_url, "--background-tick-ms", "50"];
    let (mut child, url) = data.serve(&args);
    let http = reqwest::Client::new();
    let scheduler = sign_in_as(&http, &url, "scheduler@demo.clinic", "demo-scheduler").await;
    let admin = sign_in_as(&http, &url, "admin@demo.clinic", "demo-admin").await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    // Thirty minutes ahead: the booking and the link (due at once) go to the guest.
    let booked = http
        .post(format!("{url}/v1/rooms/{room}/scheduled"))
        .bearer_auth(&scheduler)
        .json(
            &json!({"booking": {"provider": provider, "starts_at": now + 30 * 60_000,
            "guests": [{"name": "Gia Guest", "contact": {"email": "gia@example.org"}}]}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(booked.status(), 201);
    frontdesk_testkit::eventually(10, "a message stuck mid-send", || async {
        let d = deliveries(&http, &url, &admin).await;
        (d.len() == 3 && d.iter().any(|m| m["state"] == "sending")).then_some(())
    })
    .await;
    assert!(smtp.received().is_empty());
    child.kill().unwrap(); // SIGKILL: the send in flight and the queue's bookkeeping die here.
    child.wait().unwrap();

    smtp.set_mode(SmtpMode::Accept);
    let (mut child, url) = data.serve(&args);
    frontdesk_testkit::eventually(15, "every message sent after the restart", || async {
        let d = deliveries(&http, &url, &admin).await;
        d.iter().all(|m| m["state"] == "sent").then_some(())
    })
    .await;
    // A little longer, in case anything were to go twice.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(smtp.to("gia@example.org", "is booked").len(), 1);
    assert_eq!(smtp.to("gia@example.org", "starts soon").len(), 1);
    assert_eq!(smtp.to("priya@demo.clinic", "Session booked").len(), 1);
    assert_eq!(smtp.received().len(), 3);
    let d = deliveries(&http, &url, &admin).await;
    assert_eq!(
        d.iter().filter(|m| m["attempts"] == 2).count(),
        1,
        "the interrupted one was tried again: {d:?}"
    );
    child.kill().unwrap();
    child.wait().unwrap();
}

both_backends!(a_message_taken_just_before_a_kill_goes_again_with_the_same_message_id);
/// The one case the queue cannot rule out: the relay (or SMS gateway) took a message, and
/// the server was killed before it heard so and recorded it as sent. After the restart the
/// message goes again, at most once more, with the same `Message-ID` (for a text, the same
/// `Idempotency-Key`), so the receiver can drop the copy.
async fn a_message_taken_just_before_a_kill_goes_again_with_the_same_message_id(backend: Backend) {
    use sinks::{SmsSink, SmtpMode, SmtpSink};
    use std::collections::HashMap;
    frontdesk_testkit::init_tracing();
    let (data, clinic) = Data::seeded(backend).await;
    let (provider, room) = priyas_room(&clinic);
    let smtp = SmtpSink::start(SmtpMode::TakeThenHang).await;
    let sms = SmsSink::start().await;
    sms.set_take_then_hang(true);
    let (smtp_url, sms_url) = (smtp.url(), sms.url.clone());
    let args = [
        "--smtp-url",
        &smtp_url,
        "--sms-webhook",
        &sms_url,
        "--background-tick-ms",
        "50",
    ];
    let http = reqwest::Client::new();
    let book = |url: String, guest: Value| {
        let http = http.clone();
        async move {
            let scheduler =
                sign_in_as(&http, &url, "scheduler@demo.clinic", "demo-scheduler").await;
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis() as i64;
            let booked = http
                .post(format!("{url}/v1/rooms/{room}/scheduled"))
                .bearer_auth(&scheduler)
                .json(
                    &json!({"booking": {"provider": provider, "starts_at": now + 30 * 60_000,
                    "guests": [guest]}}),
                )
                .send()
                .await
                .unwrap();
            assert_eq!(booked.status(), 201);
        }
    };
    let all_sent = |url: String| {
        let http = http.clone();
        async move {
            let admin = sign_in_as(&http, &url, "admin@demo.clinic", "demo-admin").await;
            frontdesk_testkit::eventually(15, "every message sent after the restart", || async {
                let d = deliveries(&http, &url, &admin).await;
                d.iter().all(|m| m["state"] == "sent").then_some(())
            })
            .await;
            // A little longer, in case anything were to go a third time.
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            deliveries(&http, &url, &admin).await.len()
        }
    };

    // Email: the relay takes the first message in full and the server is killed before the
    // relay's answer.
    let (mut child, url) = data.serve(&args);
    book(
        url,
        json!({"name": "Gia Guest", "contact": {"email": "gia@example.org"}}),
    )
    .await;
    frontdesk_testkit::eventually(10, "the relay holding a message", || async {
        (!smtp.received().is_empty()).then_some(())
    })
    .await;
    child.kill().unwrap();
    child.wait().unwrap();
    let taken = smtp.received()[0].clone();
    smtp.set_mode(SmtpMode::Accept);
    let (mut child, url) = data.serve(&args);
    let queued = all_sent(url).await;
    let mail = smtp.received();
    let mut by_id: HashMap<String, Vec<_>> = HashMap::new();
    for m in &mail {
        let id = m
            .header("Message-ID")
            .expect("every email has a Message-ID");
        by_id.entry(id).or_default().push(m.clone());
    }
    assert_eq!(by_id.len(), queued, "one Message-ID per queued message");
    let copies = &by_id[&taken.header("Message-ID").unwrap()];
    assert_eq!(copies.len(), 2, "the taken message went once more");
    assert_eq!(copies[1].to, taken.to);
    assert_eq!(copies[1].subject(), taken.subject());
    assert!(
        by_id.values().all(|v| v.len() <= 2),
        "nothing went a third time"
    );
    assert_eq!(mail.len(), queued + 1);
    child.kill().unwrap();
    child.wait().unwrap();

    // SMS: the same with the gateway.
    let (mut child, url) = data.serve(&args);
    book(
        url,
        json!({"name": "Hal Guest", "contact": {"phone": "+61 400 333 444"}}),
    )
    .await;
    frontdesk_testkit::eventually(10, "the gateway holding a text", || async {
        (!sms.received().is_empty()).then_some(())
    })
    .await;
    child.kill().unwrap();
    child.wait().unwrap();
    let taken = sms.received()[0].clone();
    sms.set_take_then_hang(false);
    let (mut child, url) = data.serve(&args);
    all_sent(url).await;
    let texts = sms.received();
    let mut by_key: HashMap<String, Vec<_>> = HashMap::new();
    for t in &texts {
        assert!(!t.idempotency_key.is_empty());
        by_key
            .entry(t.idempotency_key.clone())
            .or_default()
            .push(t.clone());
    }
    let copies = &by_key[&taken.idempotency_key];
    assert_eq!(copies.len(), 2, "the taken text went once more: {texts:?}");
    assert_eq!((&copies[1].to, &copies[1].body), (&taken.to, &taken.body));
    assert!(by_key.values().all(|v| v.len() <= 2));
    assert_eq!(texts.len(), by_key.len() + 1, "{texts:?}");
    child.kill().unwrap();
    child.wait().unwrap();
}

both_backends!(reads_answered_just_before_a_stop_are_in_the_audit_after_it);
/// The server's records of reads wait a moment to be written together; a stop (SIGTERM, as a
/// service manager sends) writes them before the process goes.
async fn reads_answered_just_before_a_stop_are_in_the_audit_after_it(backend: Backend) {
    let (data, _) = Data::seeded(backend).await;
    let (mut child, url) = data.serve(&[]);
    let http = reqwest::Client::new();
    let admin = sign_in_as(&http, &url, "admin@demo.clinic", "demo-admin").await;
    let snapshot = frontdesk_testkit::get_json(&http, &format!("{url}/v1/snapshot"), &admin).await;
    assert!(snapshot.is_object(), "{snapshot}");
    let stopped = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(stopped.success());
    assert!(child.wait().unwrap().success(), "a clean stop");

    let (mut child, url) = data.serve(&[]);
    let admin = sign_in_as(&http, &url, "admin@demo.clinic", "demo-admin").await;
    let export = http
        .get(format!(
            "{url}/v1/audit/export?from=2000-01-01&to=2099-12-31"
        ))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(export.status(), 200);
    let text = export.text().await.unwrap();
    let reads = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|r| r["action"] == "snapshot.read")
        .count();
    assert_eq!(reads, 1, "the snapshot read before the stop:\n{text}");
    child.kill().unwrap();
    child.wait().unwrap();
}
