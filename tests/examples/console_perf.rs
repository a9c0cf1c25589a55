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
//! (which `env.sh` sets), as on an ordinary desktop.
//!
//! A clinic server runs in this process; the app is started five times on a cache already
//! holding the queue, signed in from the keyring, and medians with ranges are printed. Each
//! run also takes a few arrivals: the commit is timed where the server publishes it, the row
//! when the UI reports it drawn (both on this machine's wall clock).
#![allow(clippy::print_stdout)]

use frontdesk_client::state::ClinicState;
use frontdesk_client::store::{Store, cache_file_name};
use frontdesk_tests::TestClinic;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const RITA: &str = "reception@demo.clinic";
/// Patients in the queue, unless `FRONTDESK_PERF_PATIENTS` says otherwise.
const PATIENTS: usize = 500;
/// Starts of each app, unless `FRONTDESK_PERF_RUNS` says otherwise.
const RUNS: usize = 5;
/// Arrivals timed in each run, after its memory reading.
const ARRIVALS: usize = 4;

/// A binary of the release build: `target/release/PATH`.
fn release_binary(path: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("own path");
    // target/release/examples/console_perf → target/release
    let release = exe.parent().and_then(Path::parent).expect("target/release");
    release.join(path)
}

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

/// One start of an app, with every line it prints (stdout and stderr) as it prints it.
struct Launch {
    child: Child,
    started: Instant,
    lines: Receiver<String>,
}

impl Launch {
    fn start(binary: &Path, data: &Path) -> Launch {
        let started = Instant::now();
        let mut command = Command::new(binary);
        if std::env::var_os("FRONTDESK_PERF_COMPOSITING").is_some_and(|v| v == "1") {
            // As on a desktop that has not turned WebKit's compositing off.
            command.env_remove("WEBKIT_DISABLE_COMPOSITING_MODE");
        }
        let mut child = command
            .env("FRONTDESK_DATA_DIR", data)
            .env("FRONTDESK_REPORT_PUSHES", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("app starts");
        let (tx, lines) = std::sync::mpsc::channel();
        let out: Box<dyn Read + Send> = Box::new(child.stdout.take().expect("stdout"));
        let err: Box<dyn Read + Send> = Box::new(child.stderr.take().expect("stderr"));
        for stream in [out, err] {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let _ = tx.send(line);
                }
            });
        }
        Launch {
            child,
            started,
            lines,
        }
    }

    /// The first line from now on that contains `needle`, and how long after launch it came.
    fn wait_for(&self, needle: &str) -> (String, Duration) {
        let (line, after, _) = self.wait_counting_pushes(needle);
        (line, after)
    }

    /// [`Launch::wait_for`], and the bytes of the changes pushed to the UI in the meantime.
    fn wait_counting_pushes(&self, needle: &str) -> (String, Duration, usize) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut pushed = 0;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self
                .lines
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("the app printed {needle:?}"));
            if line.contains(needle) {
                return (line, self.started.elapsed(), pushed);
            }
            if let Some(bytes) = line
                .split_once("pushed changes: ")
                .and_then(|(_, rest)| rest.trim_end_matches(" bytes").parse::<usize>().ok())
            {
                pushed += bytes;
            }
        }
    }

    /// PSS of the app and its WebKit processes, in KiB, a few seconds after it painted (which
    /// is printed, with the parts).
    fn settled_pss(&self, what: &str, painted: Duration) -> u64 {
        std::thread::sleep(Duration::from_secs(3));
        let (pss, parts) = tree_pss(self.child.id());
        println!(
            "{what} painted {} after launch; PSS {} ({parts})",
            ms(painted),
            mib(pss)
        );
        pss
    }

    fn stop(mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// A process and all its descendants.
fn process_tree(root: u32) -> Vec<u32> {
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
    pids
}

/// Proportional memory (PSS) of one process, in KiB.
fn pss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("Pss:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .unwrap_or(0)
}

/// PSS of a process and its descendants, in KiB, and "name N MiB" for each of them.
fn tree_pss(root: u32) -> (u64, String) {
    let mut total = 0;
    let mut parts = Vec::new();
    for pid in process_tree(root) {
        let kib = pss_kib(pid);
        let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        parts.push(format!("{} {}", name.trim(), mib(kib)));
        total += kib;
    }
    (total, parts.join(", "))
}

/// "median (range min–max)" of some figures.
fn summary<T: Ord + Copy>(mut xs: Vec<T>, show: impl Fn(T) -> String) -> String {
    xs.sort();
    format!(
        "{} median of {} (range {}–{})",
        show(xs[xs.len() / 2]),
        xs.len(),
        show(xs[0]),
        show(xs[xs.len() - 1])
    )
}

fn ms(d: Duration) -> String {
    format!("{} ms", d.as_millis())
}

fn mib(kib: u64) -> String {
    format!("{} MiB", kib / 1024)
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
    let snapshot = clinic.snapshot(&token).await;

    // The app's data folder as a previous run would have left it: settings, the cache, and
    // the token in the keyring ("keep me signed in").
    let data = tempfile::tempdir().expect("data dir");
    let base = clinic.url();
    std::fs::write(
        data.path().join("settings.json"),
        serde_json::json!({"server": format!("{base}/{}", clinic.demo().clinic.slug), "email": RITA, "remember": true})
            .to_string(),
    )
    .expect("settings");
    let (state, _) = ClinicState::from_snapshot(
        snapshot,
        &ClinicState::default(),
        frontdesk_client::engine::now(),
    );
    let cache_key = frontdesk_client::CacheKey::generate().expect("cache key");
    Store::open(&data.path().join(cache_file_name(&base, RITA)), &cache_key)
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
    keyring_put(&format!("cache-key|{base}|{RITA}"), &cache_key.to_hex());

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

/// Puts one entry in the desktop keyring where the console looks for it.
fn keyring_put(name: &str, value: &str) {
    let mut put = Command::new("secret-tool")
        .args([
            "store",
            "--label=frontdesk",
            "service",
            "frontdesk",
            "username",
        ])
        .arg(name)
        .args(["application", "rust-keyring", "target", "default"])
        .stdin(Stdio::piped())
        .spawn()
        .expect("secret-tool (run under tests/e2e/env.sh)");
    put.stdin
        .take()
        .expect("stdin")
        .write_all(value.as_bytes())
        .expect("keyring entry");
    assert!(put.wait().expect("secret-tool").success());
}
