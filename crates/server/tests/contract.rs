//! The contract is the code: `/v1/openapi.json` states every answer the server gives, and
//! Schemathesis holds the real `frontdesk-server` binary to it with real ids from the demo
//! clinic. Schemathesis comes from `tests/setup.sh` (a virtual environment under the cache
//! dir, or wherever `$SCHEMATHESIS` points); without it the test fails and says so.

use frontdesk_testkit::{ADMIN, PRIYA, TestServer, get_json, sign_in_to};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::io::{BufRead, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// What Schemathesis checks, as the issue asks: no 5xx, only documented statuses, and bodies
/// that match their schemas.
const CHECKS: &str = "not_a_server_error,status_code_conformance,response_schema_conformance";

/// The run is bounded: past this it is stopped and the test fails.
const RUN_LIMIT: Duration = Duration::from_secs(180);

fn operations(doc: &Value) -> Vec<(String, &Value)> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("a path item") {
            ops.push((format!("{} {path}", method.to_uppercase()), op));
        }
    }
    ops
}

#[tokio::test]
async fn the_document_states_the_answers_every_extractor_can_give() {
    let app = TestServer::with_demo().await;
    let doc = app
        .http
        .get(app.url("/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    for (name, op) in operations(&doc) {
        let answers = &op["responses"];
        let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
        if secured {
            assert!(answers.get("401").is_some(), "{name} needs a token: 401");
        }
        if op.get("requestBody").is_some() {
            for status in ["400", "415", "422"] {
                assert!(answers.get(status).is_some(), "{name} takes JSON: {status}");
            }
        }
    }
    // Intake questions go out as a label alone or as an object.
    let question = &doc["components"]["schemas"]["IntakeQuestion"];
    let kinds: Vec<&str> = question["oneOf"]
        .as_array()
        .unwrap_or_else(|| panic!("IntakeQuestion is oneOf: {question}"))
        .iter()
        .filter_map(|s| s["type"].as_str())
        .collect();
    assert_eq!(kinds, ["string", "object"], "{question}");

    // The stream asked for without an upgrade answers a status its operation documents.
    let admin = app.sign_in(ADMIN).await;
    let plain = app.get("/v1/stream", &admin).await;
    let documented = &doc["paths"]["/v1/stream"]["get"]["responses"];
    assert!(
        documented.get(plain.status.as_str()).is_some(),
        "{} is not documented for /v1/stream: {documented}",
        plain.status
    );
    assert_eq!(plain.status, StatusCode::BAD_REQUEST, "{:?}", plain.body);
}

/// Schemathesis as `tests/setup.sh` installs it, or at `$SCHEMATHESIS`.
fn schemathesis() -> PathBuf {
    if let Some(path) = std::env::var_os("SCHEMATHESIS") {
        return PathBuf::from(path);
    }
    let cache = std::env::var_os("FRONTDESK_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("XDG_CACHE_HOME").map(|d| PathBuf::from(d).join("frontdesk")))
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/frontdesk")))
        .expect("HOME is set");
    cache.join("schemathesis/bin/schemathesis")
}

/// The real binary serving the demo clinic on a free port; the simulator is slowed to a step
/// an hour so the clinic holds still while it is tested.
fn serve_demo(db: &std::path::Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_frontdesk-server"))
        .args([
            "demo",
            "--listen",
            "127.0.0.1:0",
            "--tick-ms",
            "3600000",
            "--db",
        ])
        .arg(db)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server binary starts");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("the server's stdout"))
        .read_line(&mut line)
        .expect("the server's first line");
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    (child, url)
}

/// Kills the server and Schemathesis however the test ends.
struct Killed(Vec<Child>);

impl Drop for Killed {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[tokio::test]
async fn schemathesis_finds_nothing_wrong_with_the_real_server() {
    let bin = schemathesis();
    assert!(
        bin.exists(),
        "Schemathesis is not installed at {}: run tests/setup.sh (or set SCHEMATHESIS)",
        bin.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let (server, url) = serve_demo(&dir.path().join("demo.db"));
    let mut running = Killed(vec![server]);

    // Real ids, so operations on a visit, a room or a member of staff get past "not found".
    let http = reqwest::Client::new();
    let token = sign_in_to(&http, &url, "demo", ADMIN.0, ADMIN.1).await;
    let rooms = get_json(&http, &format!("{url}/v1/rooms"), &token).await;
    let reception = rooms
        .as_array()
        .and_then(|r| r.iter().find(|r| r["name"] == "Reception"))
        .and_then(|r| r["id"].as_str())
        .expect("Reception")
        .to_owned();
    let staff = get_json(&http, &format!("{url}/v1/staff"), &token).await;
    // Not the admin: Schemathesis may edit whom it is given, and must stay signed in.
    let priya = staff
        .as_array()
        .and_then(|s| s.iter().find(|s| s["email"] == PRIYA.0))
        .and_then(|s| s["id"].as_str())
        .expect("Priya")
        .to_owned();
    let arrived: Value = http
        .post(format!("{url}/v1/join/demo/{reception}"))
        .json(&json!({"name": "Cora Contract", "phone": "0400 000 010"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let visit = arrived["visit"]["id"].as_str().expect("a visit").to_owned();

    let config = dir.path().join("schemathesis.toml");
    std::fs::write(
        &config,
        format!(
            r#"[parameters]
"path.id" = "{visit}"
"path.room" = "{reception}"
"path.staff" = "{priya}"
"path.clinic" = "demo"

# Signing out would end the token every other operation runs with.
[[operations]]
include-name = "POST /v1/auth/sign-out"
enabled = false
"#
        ),
    )
    .unwrap();
    let mut run = Command::new(&bin)
        .arg("--config-file")
        .arg(&config)
        .args(["run", &format!("{url}/v1/openapi.json")])
        .args(["-H", &format!("Authorization: Bearer {token}")])
        .args(["-c", CHECKS, "-n", "15", "--seed", "7"])
        .env("NO_COLOR", "1")
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("could not start {}: {e}", bin.display()));
    let mut out = run.stdout.take().expect("its stdout");
    let mut err = run.stderr.take().expect("its stderr");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = out.read_to_string(&mut text);
        let _ = err.read_to_string(&mut text);
        text
    });
    running.0.push(run);
    let started = Instant::now();
    let status = loop {
        if let Some(status) = running.0[1].try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > RUN_LIMIT {
            break None;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    drop(running);
    let text = reader.join().unwrap_or_default();
    let status = status.unwrap_or_else(|| panic!("Schemathesis ran past {RUN_LIMIT:?}:\n{text}"));
    // The summary, for whoever runs this with --nocapture.
    println!("{text}");
    assert!(status.success(), "Schemathesis found problems:\n{text}");
}
