//! The console's own figures, on a release build under the headless desktop:
//! cold start to the first queue painted from the cache, and the memory of the app with its
//! WebKit processes, with 500 patients in the queue.
//!
//!     cargo build --release -p frontdesk
//!     bash tests/e2e/env.sh cargo run --release -p frontdesk-tests --example console_perf
//!
//! A clinic server runs in this process; the app is started five times on a cache already
//! holding the queue, signed in from the keyring, and the medians are printed.
#![allow(clippy::print_stdout)]

use frontdesk_client::state::ClinicState;
use frontdesk_client::store::{Store, cache_file_name};
use frontdesk_tests::TestClinic;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const RITA: &str = "reception@demo.clinic";
const PATIENTS: usize = 500;
const RUNS: usize = 5;

fn app_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("own path");
    // target/release/examples/console_perf → target/release/frontdesk
    let release = exe.parent().and_then(Path::parent).expect("target/release");
    let app = release.join("frontdesk");
    assert!(
        app.exists(),
        "build it first: cargo build --release -p frontdesk"
    );
    app
}

/// Proportional memory (PSS) of a process and all its descendants, in KiB.
fn tree_pss_kib(root: u32) -> u64 {
    let mut pids = vec![root];
    let mut i = 0;
    while i < pids.len() {
        let parent = pids[i];
        if let Ok(dir) = std::fs::read_dir("/proc") {
            for e in dir.flatten() {
                let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
                    continue;
                };
                let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
                // The parent pid is the second field after the parenthesised name.
                let ppid = stat
                    .rsplit_once(')')
                    .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                    .and_then(|p| p.parse::<u32>().ok());
                if ppid == Some(parent) && !pids.contains(&pid) {
                    pids.push(pid);
                }
            }
        }
        i += 1;
    }
    pids.iter()
        .map(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
                .unwrap_or_default()
                .lines()
                .find_map(|l| l.strip_prefix("Pss:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                .unwrap_or(0)
        })
        .sum()
}

fn median<T: Ord + Copy>(mut xs: Vec<T>) -> T {
    xs.sort();
    xs[xs.len() / 2]
}

#[tokio::main]
async fn main() {
    let clinic = TestClinic::start().await;
    let reception = clinic.room("Reception");
    for i in 0..PATIENTS {
        clinic.arrive(&reception, &format!("Patient {i}")).await;
    }
    let token = clinic.sign_in(RITA).await;
    let snapshot = clinic.snapshot(&token).await;

    // The app's data folder as a previous run would have left it: settings, the cache, and
    // the token in the keyring ("keep me signed in").
    let data = tempfile::tempdir().expect("data dir");
    let base = clinic.url();
    std::fs::write(
        data.path().join("settings.json"),
        serde_json::json!({"server": format!("{base}/{}", clinic.demo.clinic.slug), "email": RITA, "remember": true})
            .to_string(),
    )
    .expect("settings");
    let (state, _) = ClinicState::from_snapshot(
        snapshot,
        &ClinicState::default(),
        frontdesk_client::engine::now(),
    );
    Store::open(&data.path().join(cache_file_name(&base, RITA)))
        .expect("cache")
        .replace_all(&state)
        .expect("cache written");
    let mut store = Command::new("secret-tool")
        .args([
            "store",
            "--label=frontdesk",
            "service",
            "frontdesk",
            "username",
        ])
        .arg(format!("token|{base}|{RITA}"))
        .args(["application", "rust-keyring", "target", "default"])
        .stdin(Stdio::piped())
        .spawn()
        .expect("secret-tool (run under tests/e2e/env.sh)");
    store
        .stdin
        .take()
        .expect("stdin")
        .write_all(token.as_bytes())
        .expect("token");
    assert!(store.wait().expect("secret-tool").success());

    let app = app_binary();
    let mut starts = Vec::new();
    let mut memory = Vec::new();
    for run in 0..RUNS {
        let started = Instant::now();
        let mut child = Command::new(&app)
            .env("FRONTDESK_DATA_DIR", data.path())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("app starts");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("first queue painted") {
                    let _ = tx.send(line);
                }
            }
        });
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the queue is painted");
        let cold = started.elapsed();
        assert!(line.contains(&format!("{PATIENTS} rows")), "{line}");
        std::thread::sleep(Duration::from_secs(3));
        let pss = tree_pss_kib(child.id());
        println!(
            "run {run}: first queue painted {cold:?} after launch; app + WebKit PSS {} MiB",
            pss / 1024
        );
        starts.push(cold);
        memory.push(pss);
        let _ = Command::new("kill").arg(child.id().to_string()).status();
        let _ = child.wait();
        std::thread::sleep(Duration::from_millis(500));
    }
    println!(
        "cold start to the first queue painted from the cache ({PATIENTS} waiting): {:?} median of {RUNS}",
        median(starts)
    );
    println!(
        "memory of the app and its WebKit processes ({PATIENTS} in the queue): {} MiB PSS median of {RUNS}",
        median(memory) / 1024
    );
}
