//! The console's own figures, on a release build under the headless desktop: cold start to the
//! first queue painted from the cache and the memory of the app with its WebKit processes, with
//! 500 patients in the queue; and how long a new arrival takes from the server's commit to its
//! row on screen. Beside them, the floor: an empty window of the same Tauri app shell on the
//! same WebKit (`src-tauri/examples/empty_window.rs`), started and measured the same way.
//!
//!     cargo build --release -p frontdesk --bin frontdesk --example empty_window
//!     bash tests/e2e/env.sh cargo run --release -p frontdesk-tests --example console_perf
//!
//! `FRONTDESK_PERF_PATIENTS=N` puts N patients in the queue instead of 500 (the figures
//! are at 500 and 2,000). Each arrival's pushes to the UI are counted in bytes (the app prints
//! them with `FRONTDESK_REPORT_PUSHES=1`): what one arrival costs should not grow with the queue.
//! `FRONTDESK_PERF_RUNS=N` changes the number of starts; `FRONTDESK_PERF_APP=PATH` measures
//! another build of the app, and `FRONTDESK_PERF_ARRIVALS=0` leaves out the arrivals (for a
//! build that does not report them). `FRONTDESK_PERF_COMPOSITING=1` starts the apps without `WEBKIT_DISABLE_COMPOSITING_MODE`
//! (which `env.sh` sets), as on an ordinary desktop. `FRONTDESK_PERF_STEPS=1` prints the steps
//! of each start as the app logs them, and `FRONTDESK_PERF_SMAPS=1` each process's largest
//! mappings: where the time and the memory go.
//!
//! A clinic server runs in this process; the app is started five times on a cache already
//! holding the queue, signed in from the keyring, and medians with ranges are printed. Each
//! run also takes a few arrivals: the commit is timed where the server publishes it, the row
//! when the UI reports it drawn (both on this machine's wall clock).
#![allow(clippy::print_stdout)]

use frontdesk_tests::TestClinic;
use frontdesk_tests::perf::{Launch, mib, ms, prepare_signed_in, release_binary, summary};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const RITA: &str = "reception@demo.clinic";
/// Patients in the queue, unless `FRONTDESK_PERF_PATIENTS` says otherwise.
const PATIENTS: usize = 500;
/// Starts of each app, unless `FRONTDESK_PERF_RUNS` says otherwise.
const RUNS: usize = 5;
/// Arrivals timed in each run, after its memory reading.
const ARRIVALS: usize = 4;

fn now_us() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros())
}

/// When the server published the event that carries `id` (its listener may be a moment behind).
async fn commit_time(commits: &Mutex<Vec<(u128, String)>>, id: &str) -> u128 {
    for _ in 0..1000 {
        let found = commits
            .lock()
            .expect("log")
            .iter()
            .find(|(_, frame)| frame.contains(id))
            .map(|(at, _)| *at);
        if let Some(at) = found {
            return at;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("the arrival {id} was never published");
}

#[tokio::main]
async fn main() {
    let patients: usize = std::env::var("FRONTDESK_PERF_PATIENTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(PATIENTS);
    let clinic = TestClinic::start().await;
    let reception = clinic.room("Reception");
    for i in 0..patients {
        clinic.arrive(&reception, &format!("Patient {i}")).await;
    }
    let token = clinic.sign_in(RITA).await;

    // The app's data folder as a previous run would have left it: settings, the cache, and
    // the token in the keyring ("keep me signed in").
    let data = tempfile::tempdir().expect("data dir");
    prepare_signed_in(&clinic, data.path(), RITA, &token, serde_json::json!({})).await;

    let runs = std::env::var("FRONTDESK_PERF_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(RUNS);

    // The floor: the same shell and WebKit showing an empty page.
    let floor = release_binary("examples/empty_window");
    let mut floor_starts = Vec::new();
    let mut floor_memory = Vec::new();
    if floor.exists() {
        for run in 0..runs {
            let launch = Launch::start(&floor, data.path());
            let (_, painted) = launch.wait_for("empty window painted");
            let pss = launch.settled_pss(&format!("floor run {run}: empty window"), painted);
            floor_starts.push(painted);
            floor_memory.push(pss);
            launch.stop();
        }
    } else {
        println!(
            "(no floor: build it with cargo build --release -p frontdesk --example empty_window)"
        );
    }

    // Every event the server publishes, with when: published right after its commit.
    let commits: Arc<Mutex<Vec<(u128, String)>>> = Arc::default();
    let mut published = clinic.server().store().subscribe(clinic.demo().clinic.id);
    let log = commits.clone();
    // It stops when it falls further behind than a stream may: nothing more comes.
    tokio::spawn(async move {
        while let Ok(p) = published.recv().await {
            let at = now_us();
            log.lock()
                .expect("log")
                .push((at, p.frame.as_str().to_owned()));
        }
    });

    // Another build of the app (say, an older one) to set beside this one.
    let app = std::env::var_os("FRONTDESK_PERF_APP")
        .map_or_else(|| release_binary("frontdesk"), PathBuf::from);
    let arrivals_per_run = std::env::var("FRONTDESK_PERF_ARRIVALS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(ARRIVALS);
    assert!(
        app.exists(),
        "build it first: cargo build --release -p frontdesk"
    );
    let mut starts = Vec::new();
    let mut memory = Vec::new();
    let mut arrivals = Vec::new();
    let mut arrival_bytes = Vec::new();
    let mut arrived = 0;
    for run in 0..runs {
        let launch = Launch::start(&app, data.path());
        let (line, cold) = launch.wait_for("first queue painted");
        // FRONTDESK_PERF_STEPS=1: where start-up spent its time, as the app logged it.
        if std::env::var_os("FRONTDESK_PERF_STEPS").is_some() {
            for step in launch.steps() {
                println!("  {step}");
            }
        }
        // The queue grows by the arrivals timed in earlier runs.
        assert!(
            line.contains(&format!("{} rows", patients + arrived)),
            "{line}"
        );
        let pss = launch.settled_pss(&format!("run {run}: first queue"), cold);
        starts.push(cold);
        memory.push(pss);

        for _ in 0..arrivals_per_run {
            let id = clinic
                .arrive(&reception, &format!("Arrival {arrived}"))
                .await;
            arrived += 1;
            let committed = commit_time(&commits, &id).await;
            let (line, _, bytes) = launch.wait_counting_pushes(&format!("row on screen: {id} at "));
            let painted: u128 = line
                .rsplit_once(" at ")
                .and_then(|(_, rest)| rest.trim_end_matches(" us").trim().parse().ok())
                .unwrap_or_else(|| panic!("a time in {line:?}"));
            let latency = Duration::from_micros((painted.saturating_sub(committed)) as u64);
            println!(
                "run {run}: arrival on screen {latency:?} after its commit; {bytes} bytes pushed"
            );
            arrivals.push(latency);
            arrival_bytes.push(bytes);
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        launch.stop();
    }
    println!();
    if !floor_starts.is_empty() {
        println!(
            "floor, an empty window painted: {}",
            summary(floor_starts.clone(), ms)
        );
        println!(
            "floor, memory of the empty window's processes: {}",
            summary(floor_memory.clone(), mib)
        );
    }
    println!(
        "cold start to the first queue painted from the cache ({patients} waiting): {}",
        summary(starts, ms)
    );
    println!(
        "memory of the app and its WebKit processes ({patients} in the queue): {} PSS",
        summary(memory, mib)
    );
    if !arrivals.is_empty() {
        println!(
            "a new arrival from the server's commit to its row on screen: {}",
            summary(arrivals, |d| format!("{:.1} ms", d.as_secs_f64() * 1000.0))
        );
        println!(
            "bytes pushed to the UI for one arrival ({patients} in the queue): {}",
            summary(arrival_bytes, |b| format!("{b} B"))
        );
    }
}
