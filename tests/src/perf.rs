//! What the console's benchmarks (`examples/console_perf.rs`, `examples/console_soak.rs`)
//! share: the release app started on a data folder prepared as a signed-in run would leave it,
//! its log lines as it prints them, and the memory (PSS) of the app and its WebKit processes
//! read from /proc. Run under `tests/e2e/env.sh` (the keyring and the headless desktop).
#![allow(clippy::print_stdout)]

use crate::TestClinic;
use frontdesk_client::state::ClinicState;
use frontdesk_client::store::{Store, cache_file_name};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

/// A binary of the release build: `target/release/PATH`, found from the running example.
pub fn release_binary(path: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("own path");
    // target/release/examples/console_perf → target/release
    let release = exe.parent().and_then(Path::parent).expect("target/release");
    release.join(path)
}

/// Fills `data` (the app's data folder) as a run signed in as `email` with "keep me signed in"
/// would have left it: settings (with `settings` as the console's preferences, `{}` for the
/// defaults), the cache holding the clinic as `token` sees it now, and the token and the
/// cache's key in the keyring.
pub async fn prepare_signed_in(
    clinic: &TestClinic,
    data: &Path,
    email: &str,
    token: &str,
    settings: serde_json::Value,
) {
    let base = clinic.url();
    std::fs::write(
        data.join("settings.json"),
        serde_json::json!({
            "server": format!("{base}/{}", clinic.demo().clinic.slug),
            "email": email,
            "remember": true,
            "settings": settings,
        })
        .to_string(),
    )
    .expect("settings");
    let snapshot = clinic.snapshot(token).await;
    let (state, _) = ClinicState::from_snapshot(
        snapshot,
        &ClinicState::default(),
        frontdesk_client::engine::now(),
    );
    let cache_key = frontdesk_client::CacheKey::generate().expect("cache key");
    Store::open(&data.join(cache_file_name(&base, email)), &cache_key)
        .expect("cache")
        .replace_all(&state)
        .expect("cache written");
    keyring_put(&format!("token|{base}|{email}"), token);
    keyring_put(&format!("cache-key|{base}|{email}"), &cache_key.to_hex());
}

/// Puts one entry in the desktop keyring where the console looks for it.
pub fn keyring_put(name: &str, value: &str) {
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

/// One start of an app, with every line it prints (stdout and stderr) as it prints it.
#[derive(Debug)]
pub struct Launch {
    child: Child,
    started: Instant,
    lines: Receiver<String>,
    /// The steps of start-up the app logged ("start-up: … at N ms"), as they went by.
    steps: std::sync::Mutex<Vec<String>>,
}

impl Launch {
    /// Starts `binary` on the data folder `data`, with its pushes to the UI reported.
    /// `FRONTDESK_PERF_COMPOSITING=1` starts it as on a desktop that has not turned WebKit's
    /// compositing off.
    pub fn start(binary: &Path, data: &Path) -> Launch {
        let started = Instant::now();
        let mut command = Command::new(binary);
        if std::env::var_os("FRONTDESK_PERF_COMPOSITING").is_some_and(|v| v == "1") {
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
            steps: std::sync::Mutex::default(),
        }
    }

    /// The app's process id (the root of its WebKit processes).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the app is still running.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// The lines printed since the last look, without waiting.
    pub fn printed(&self) -> Vec<String> {
        self.lines.try_iter().collect()
    }

    /// The steps of start-up the app has logged while it was waited for.
    pub fn steps(&self) -> Vec<String> {
        self.steps.lock().expect("steps").clone()
    }

    /// The first line from now on that contains `needle`, and how long after launch it came.
    pub fn wait_for(&self, needle: &str) -> (String, Duration) {
        let (line, after, _) = self.wait_counting_pushes(needle);
        (line, after)
    }

    /// [`Launch::wait_for`], and the bytes of the changes pushed to the UI in the meantime.
    pub fn wait_counting_pushes(&self, needle: &str) -> (String, Duration, usize) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut pushed = 0;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self
                .lines
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("the app printed {needle:?}"));
            if line.contains("start-up: ") {
                self.steps.lock().expect("steps").push(line.clone());
            }
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
    pub fn settled_pss(&self, what: &str, painted: Duration) -> u64 {
        // FRONTDESK_PERF_SETTLE_SECS: how long after the paint to read it (3 s unless set).
        let settle = std::env::var("FRONTDESK_PERF_SETTLE_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(3);
        std::thread::sleep(Duration::from_secs(settle));
        let (pss, parts) = tree_pss(self.child.id());
        println!(
            "{what} painted {} after launch; PSS {} ({parts})",
            ms(painted),
            mib(pss)
        );
        if std::env::var_os("FRONTDESK_PERF_SMAPS").is_some() {
            for (pid, name, _) in tree_parts(self.child.id()) {
                println!("  {name}: {}", largest_mappings(pid, 10));
            }
        }
        pss
    }

    pub fn stop(mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// A process and all its descendants.
pub fn process_tree(root: u32) -> Vec<u32> {
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
pub fn pss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("Pss:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .unwrap_or(0)
}

/// Each process of a tree (a process and its descendants): its id, its name as the kernel
/// keeps it (cut to 15 characters) and its PSS in KiB.
pub fn tree_parts(root: u32) -> Vec<(u32, String, u64)> {
    process_tree(root)
        .into_iter()
        .map(|pid| {
            let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            (pid, name.trim().to_owned(), pss_kib(pid))
        })
        .collect()
}

/// Where a process's memory is (`FRONTDESK_PERF_SMAPS=1`, to find what to cut): its `n`
/// largest mappings by PSS, the anonymous ones by kind, each file's mappings together.
pub fn largest_mappings(pid: u32, n: usize) -> String {
    let smaps = std::fs::read_to_string(format!("/proc/{pid}/smaps")).unwrap_or_default();
    let mut by: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
    let mut current = String::new();
    for line in smaps.lines() {
        let mut fields = line.split_whitespace();
        let first = fields.next().unwrap_or_default();
        if first.contains('-') && first.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
            // "start-end perms offset dev inode [path]"
            let path = fields.nth(4).unwrap_or("[anon]");
            let perms = line.split_whitespace().nth(1).unwrap_or_default();
            current = format!("{path} {perms}");
        } else if first == "Pss:" {
            let kib: u64 = fields.next().and_then(|v| v.parse().ok()).unwrap_or(0);
            *by.entry(current.clone()).or_default() += kib;
        }
    }
    let mut all: Vec<_> = by.into_iter().collect();
    all.sort_by_key(|(_, kib)| std::cmp::Reverse(*kib));
    all.truncate(n);
    all.iter()
        .map(|(what, kib)| format!("{what} {:.1} MiB", *kib as f64 / 1024.0))
        .collect::<Vec<_>>()
        .join("; ")
}

/// A process's program name in full (`WebKitWebProcess`, where the kernel keeps
/// `WebKitWebProces`): the file name of its first argument.
pub fn process_name(pid: u32) -> String {
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let first = cmdline.split(|b| *b == 0).next().unwrap_or_default();
    let program = String::from_utf8_lossy(first);
    match program.rsplit('/').next() {
        Some(name) if !name.is_empty() => name.to_owned(),
        _ => std::fs::read_to_string(format!("/proc/{pid}/comm"))
            .unwrap_or_default()
            .trim()
            .to_owned(),
    }
}

/// PSS of a process and its descendants, in KiB, and "name N MiB" for each of them.
pub fn tree_pss(root: u32) -> (u64, String) {
    let parts = tree_parts(root);
    let total = parts.iter().map(|(_, _, kib)| kib).sum();
    let shown: Vec<String> = parts
        .iter()
        .map(|(_, name, kib)| format!("{name} {}", mib(*kib)))
        .collect();
    (total, shown.join(", "))
}

/// "median (range min–max)" of some figures.
pub fn summary<T: Ord + Copy>(mut xs: Vec<T>, show: impl Fn(T) -> String) -> String {
    xs.sort();
    format!(
        "{} median of {} (range {}–{})",
        show(xs[xs.len() / 2]),
        xs.len(),
        show(xs[0]),
        show(xs[xs.len() - 1])
    )
}

pub fn ms(d: Duration) -> String {
    format!("{} ms", d.as_millis())
}

pub fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}
