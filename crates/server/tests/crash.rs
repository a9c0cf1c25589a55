//! Durability: kill the server process outright in the middle of a stream of commands,
//! start it again on the same file, and every command it had answered 2xx is still there.

mod common;

use frontdesk_server::{HashCost, SqliteStore, demo};
use serde_json::{Value, json};
use std::path::Path;
use std::process::Child;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::Mutex;

fn serve(db: &Path) -> (Child, String) {
    common::serve_binary(env!("CARGO_BIN_EXE_frontdesk-server"), db, &[])
}

async fn sign_in(http: &reqwest::Client, url: &str) -> String {
    let res: Value = http
        .post(format!("{url}/v1/auth/sign-in"))
        .json(&json!({"clinic": "demo", "email": "reception@demo.clinic", "password": "demo-reception"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    res["token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn every_command_answered_before_a_sigkill_survives_the_restart() {
    common::init_tracing();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("frontdesk.db");
    let reception = {
        let store = SqliteStore::open(&db, 16).unwrap();
        demo::seed_demo(&store, HashCost::Fast)
            .await
            .unwrap()
            .reception
            .id
    };

    let (mut child, url) = serve(&db);
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
                    .json(&json!({"name": format!("Patient {w}-{i}")}))
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

    let (mut child, url) = serve(&db);
    let acked = acked.lock().await.clone();
    assert!(acked.len() >= 60);
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
    let snapshot: Value = http
        .get(format!("{url}/v1/snapshot"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let events: Value = http
        .get(format!("{url}/v1/events?after=0&limit=1000"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
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
