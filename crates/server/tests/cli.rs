//! The admin CLI sets up a clinic from nothing; `serve` then lets its staff in.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

fn run(db: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_frontdesk-server"))
        .args(args)
        .arg("--db")
        .arg(db)
        .env("RUST_LOG", "warn")
        .env("FRONTDESK_PASSWORD", "a-long-password")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn the_admin_cli_sets_up_a_clinic_whose_staff_can_sign_in() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("clinic.db");
    assert!(
        run(
            &db,
            &[
                "clinic",
                "create",
                "--slug",
                "north",
                "--name",
                "North Clinic"
            ]
        )
        .starts_with("clinic ")
    );
    run(
        &db,
        &[
            "room",
            "create",
            "--clinic",
            "north",
            "--name",
            "Reception",
            "--intake-question",
            "Reason for visit",
        ],
    );
    run(
        &db,
        &[
            "staff",
            "create",
            "--clinic",
            "north",
            "--name",
            "Nora Desk",
            "--email",
            "nora@north.clinic",
            "--role",
            "receptionist",
            "--room",
            "Reception",
        ],
    );
    let refused = Command::new(env!("CARGO_BIN_EXE_frontdesk-server"))
        .args([
            "staff",
            "create",
            "--clinic",
            "north",
            "--name",
            "X",
            "--email",
            "x@north.clinic",
            "--role",
            "janitor",
            "--password",
            "a-long-password",
            "--db",
        ])
        .arg(&db)
        .output()
        .unwrap();
    assert!(!refused.status.success(), "an unknown role is refused");

    let mut child = Command::new(env!("CARGO_BIN_EXE_frontdesk-server"))
        .args(["serve", "--listen", "127.0.0.1:0", "--db"])
        .arg(&db)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_owned();
    let http = reqwest::Client::new();
    let token: Value = http
        .post(format!("{url}/v1/auth/sign-in"))
        .json(&json!({"clinic": "north", "email": "nora@north.clinic", "password": "a-long-password"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["token"].as_str().expect("signed in").to_owned();
    let me: Value = http
        .get(format!("{url}/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["roles"], json!(["receptionist"]));
    let rooms: Value = http
        .get(format!("{url}/v1/rooms"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rooms[0]["intake_questions"], json!(["Reason for visit"]));
    assert_eq!(me["rooms"], json!([rooms[0]["id"]]));
    child.kill().unwrap();
    child.wait().unwrap();
}
