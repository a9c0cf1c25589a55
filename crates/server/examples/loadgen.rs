//! Load generator for the embedded server: staff commands per second from many concurrent
//! clients with their latency percentiles (first as fast as answered, then paced at a fixed
//! rate), then patient arrivals fanned out to many WebSocket subscribers with the delay from
//! commit to delivery, beside the same frames fanned out to as many subscribers by a bare
//! WebSocket broadcaster (no database, no auth) in this process, the floor to read it against.
//! Starts the real server on 127.0.0.1:0 with a fresh SQLite file (in this
//! process, or as its own process with `--server-bin`); loopback traffic only, bounded in time.
//! It reports the CPU the server and the generator used, since the two share the machine.
//!
//! With `--postgres` the server keeps its data in a fresh database of a throwaway PostgreSQL
//! cluster instead, and the run ends with `pgbench` on that same cluster: a command-shaped
//! transaction (one UPDATE and three INSERTs, 100 clients), PostgreSQL's own ceiling on this
//! machine to read the API's figures against. With `--replicas N` (and `--server-bin`) it starts
//! N server processes on that one database: the clients take turns over them, the fan-out's
//! subscribers listen on the last while the arrivals go through the first. Each phase prints
//! the CPU the database's processes used beside the servers', as pgbench's line does.
//!
//!     cargo build --release -p frontdesk-server --example loadgen --bin frontdesk-server
//!     target/release/examples/loadgen --server-bin target/release/frontdesk-server
//!
//! `--clinics N` spreads the clients over N clinics, as a hosted API serves many.

use clap::Parser;
use frontdesk_api::AfterHours;
use frontdesk_domain::Role;
use frontdesk_server::admin::{NewRoom, NewStaff, create_clinic, create_room, create_staff};
use frontdesk_server::store::Store;
use frontdesk_server::{Database, HashCost, PgStore, RunningServer, Settings, SqliteStore, demo};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

#[derive(Parser, Debug)]
struct Args {
    /// Concurrent staff clients sending commands.
    #[arg(long, default_value_t = 100)]
    clients: usize,
    /// After the run as fast as answered, a paced run: this many staff commands per second in
    /// all, spread over the clients, each latency measured from when the command was due (so
    /// a stall is not hidden). 0 skips it.
    #[arg(long, default_value_t = 5000.0)]
    rate: f64,
    /// Threads of the load generator's own runtime. One keeps it off the server's second core
    /// as much as it can; add `taskset` to pin it.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// How long each command run lasts.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// WebSocket subscribers for the fan-out phase.
    #[arg(long, default_value_t = 1000)]
    subscribers: usize,
    /// Patient arrivals sent during the fan-out phase, 100 ms apart.
    #[arg(long, default_value_t = 20)]
    arrivals: usize,
    /// Run the server as this `frontdesk-server` binary in its own process (`serve`), rather
    /// than in this one, so the two do not share a runtime.
    #[arg(long)]
    server_bin: Option<std::path::PathBuf>,
    /// Keep the data in a fresh database of a throwaway PostgreSQL cluster (Debian's
    /// `postgresql`, as the tests start it), and end with `pgbench` on it.
    #[arg(long)]
    postgres: bool,
    /// How long the `pgbench` baseline runs, with `--postgres`.
    #[arg(long, default_value_t = 10)]
    pgbench_seconds: u64,
    /// Server processes on the one database (with `--postgres` and `--server-bin`).
    #[arg(long, default_value_t = 1)]
    replicas: usize,
    /// Each server's `--database-connections` (with `--postgres` and `--server-bin`).
    #[arg(long)]
    database_connections: Option<usize>,
    /// With `--postgres`: before pgbench, print the statements that took the database's time
    /// (the cluster must load the module: `FRONTDESK_PG_OPTIONS="-c
    /// shared_preload_libraries=pg_stat_statements"`; add `-c
    /// pg_stat_statements.track_planning=on` for each statement's planning time too).
    #[arg(long)]
    statements: bool,
    /// Spread the clients over this many clinics (the demo clinic and `load-2`, `load-3`, …,
    /// each with one room), as a hosted API serves many: each clinic's changes are ordered by
    /// its own counter, so one clinic's commands queue for it while others' do not. The
    /// fan-out phase stays in the demo clinic.
    #[arg(long, default_value_t = 1)]
    clinics: usize,
}

/// The statements the database spent its time on so far, from `pg_stat_statements`.
fn statements(cluster: &frontdesk_testkit::PgCluster) -> anyhow::Result<String> {
    let url = cluster.fresh_database();
    let out = std::process::Command::new("psql")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", &url, "-c"])
        .arg(
            "CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
             SELECT calls, round(total_exec_time) AS ms,
                    round((1000 * total_exec_time / calls)::numeric, 1) AS us_each,
                    round((1000 * total_plan_time / calls)::numeric, 1) AS plan_us,
                    left(regexp_replace(query, '\\s+', ' ', 'g'), 110) AS query
             FROM pg_stat_statements WHERE calls > 0 ORDER BY total_exec_time DESC LIMIT 15",
        )
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "pg_stat_statements: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// PostgreSQL's own ceiling for a transaction shaped like a visit command: one UPDATE of a
/// visit-sized row and three INSERTs (history, event, idempotency record), from 100 clients.
fn pgbench(cluster: &frontdesk_testkit::PgCluster, seconds: u64) -> anyhow::Result<String> {
    let postmaster = cluster.server_pid();
    let url = cluster.fresh_database();
    let setup = "CREATE TABLE bench_visits (id int PRIMARY KEY, version bigint NOT NULL, data text NOT NULL);
         INSERT INTO bench_visits SELECT g, 1, repeat('x', 600) FROM generate_series(1, 100000) g;
         CREATE TABLE bench_history (visit int, version bigint, entry text, PRIMARY KEY (visit, version));
         CREATE TABLE bench_events (seq bigserial PRIMARY KEY, visit int, payload text);
         CREATE TABLE bench_keys (key text PRIMARY KEY, seq bigint);";
    let psql = |sql: &str| {
        std::process::Command::new("psql")
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", &url, "-c", sql])
            .status()
    };
    anyhow::ensure!(
        psql(setup)?.success(),
        "the pgbench tables could not be made"
    );
    let dir = tempfile::tempdir()?;
    let script = dir.path().join("command.sql");
    std::fs::write(
        &script,
        "\\set v random(1, 100000)
BEGIN;
UPDATE bench_visits SET version = version + 1, data = repeat('y', 600) WHERE id = :v RETURNING version \\gset
INSERT INTO bench_history VALUES (:v, :version, repeat('h', 300));
INSERT INTO bench_events (visit, payload) VALUES (:v, repeat('e', 400));
INSERT INTO bench_keys VALUES (md5(random()::text || clock_timestamp()::text), currval('bench_events_seq_seq'));
COMMIT;
",
    )?;
    let cpu_before = postmaster.and_then(database_cpu);
    let out = std::process::Command::new("pgbench")
        .args(["-n", "-M", "prepared", "-c", "100", "-j", "2", "-T"])
        .arg(seconds.to_string())
        .arg("-f")
        .arg(&script)
        .arg(&url)
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    anyhow::ensure!(
        out.status.success(),
        "pgbench failed: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cpu = cpu_before
        .zip(postmaster.and_then(database_cpu))
        .map(|(b, a)| a - b);
    let tps: Option<f64> = text
        .lines()
        .find_map(|l| l.strip_prefix("tps = "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok());
    let mut line: Vec<String> = text
        .lines()
        .filter(|l| l.starts_with("tps") || l.starts_with("latency average"))
        .map(str::to_owned)
        .collect();
    if let Some(cpu) = cpu {
        line.push(format!(
            "database CPU cores busy {:.2}, µs per transaction {}",
            cpu / seconds as f64,
            tps.map_or("n/a".into(), |t| format!(
                "{:.0}",
                cpu * 1e6 / (t * seconds as f64).max(1.0)
            ))
        ));
    }
    Ok(line.join("; "))
}

/// CPU seconds so far of a PostgreSQL cluster: its postmaster's, its backends' that have ended
/// (reaped into the postmaster's children's times) and those of the backends still running.
fn database_cpu(postmaster: u32) -> Option<f64> {
    let fields = |pid: &str| -> Option<Vec<String>> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let rest = stat.rsplit_once(") ")?.1;
        Some(rest.split(' ').map(str::to_owned).collect())
    };
    let ticks = |f: &[String], at: usize| f.get(at).and_then(|v| v.parse::<f64>().ok());
    let me = fields(&postmaster.to_string())?;
    // utime, stime, cutime, cstime: fields 14–17 of stat(5), counted after the name.
    let mut total = ticks(&me, 11)? + ticks(&me, 12)? + ticks(&me, 13)? + ticks(&me, 14)?;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        if let Some(f) = fields(pid)
            && f.get(1).map(String::as_str) == Some(&postmaster.to_string())
        {
            total += ticks(&f, 11).unwrap_or(0.0) + ticks(&f, 12).unwrap_or(0.0);
        }
    }
    // USER_HZ is 100 on every Linux the kernel ABI promises it to user space.
    Some(total / 100.0)
}

fn say(s: &str) {
    let _ = writeln!(std::io::stdout(), "{s}");
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn now_ms() -> i64 {
    // The server it starts runs on the system clock.
    frontdesk_server::Clock::system().now().as_millis()
}

#[derive(Deserialize)]
struct Reply {
    visit: VisitHead,
}

#[derive(Deserialize)]
struct VisitHead {
    id: String,
    version: u64,
}

/// One keep-alive HTTP/1.1 connection per client: requests written as bytes, answers read by
/// their Content-Length. The load side does as little work per request as the protocol
/// allows, so what the two cores spend goes to the server being measured.
struct Conn {
    stream: tokio::net::TcpStream,
    host: String,
    buf: Vec<u8>,
    request: Vec<u8>,
}

impl Conn {
    async fn open(base: &str) -> anyhow::Result<Self> {
        let host = base.trim_start_matches("http://").to_owned();
        let stream = tokio::net::TcpStream::connect(&host).await?;
        stream.set_nodelay(true)?;
        Ok(Self {
            stream,
            host,
            buf: Vec::with_capacity(16 * 1024),
            request: Vec::with_capacity(1024),
        })
    }

    /// POSTs `body` (JSON) with extra header lines; the answer's status and body.
    async fn post(
        &mut self,
        path: &str,
        headers: &str,
        body: &str,
    ) -> anyhow::Result<(u16, &[u8])> {
        use tokio::io::AsyncWriteExt;
        self.request.clear();
        write!(
            self.request,
            "POST {path} HTTP/1.1\r\nhost: {}\r\n{headers}content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            self.host,
            body.len()
        )?;
        self.stream.write_all(&self.request).await?;
        self.buf.clear();
        let (status, head, len) = loop {
            if let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = std::str::from_utf8(&self.buf[..end])?;
                let status = head.get(9..12).and_then(|s| s.parse().ok());
                let len = head.lines().find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                });
                match (status, len) {
                    (Some(s), Some(n)) => break (s, end + 4, n),
                    _ => anyhow::bail!("unexpected answer head: {head}"),
                }
            }
            self.read_more().await?;
        };
        while self.buf.len() < head + len {
            self.read_more().await?;
        }
        Ok((status, &self.buf[head..head + len]))
    }

    async fn read_more(&mut self) -> anyhow::Result<()> {
        use tokio::io::AsyncReadExt;
        let at = self.buf.len();
        self.buf.resize(at + 8192, 0);
        let n = self.stream.read(&mut self.buf[at..]).await?;
        self.buf.truncate(at + n);
        anyhow::ensure!(n > 0, "the server closed the connection");
        Ok(())
    }
}

/// An event frame's commit time, read off the front of the text: a thousand readers share the
/// load generator's core, so each reads no more of a frame than it needs.
fn event_at(frame: &str) -> Option<i64> {
    let rest = frame.strip_prefix(r#"{"type":"event","#)?;
    let at = &rest[rest.find(r#""at":"#)? + 5..];
    at[..at.find(|c: char| !c.is_ascii_digit())?].parse().ok()
}

/// The size of the database's write-ahead log, the `-wal` file beside it.
fn wal_size(db: &std::path::Path) -> String {
    if !db.exists() {
        return "n/a (not SQLite)".to_owned();
    }
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    match std::fs::metadata(&wal) {
        Ok(m) => format!("{:.1} MB", m.len() as f64 / 1e6),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => "absent (0 MB)".to_owned(),
        Err(e) => format!("unreadable ({e})"),
    }
}

/// What the subscribers of one fan-out saw: each delivery's delay from the event's `at`.
struct FanOut {
    delays: Vec<f64>,
    /// Each event's first delivery (to whichever subscriber had it first).
    first: Vec<f64>,
    /// Each delivery's delay after its event's first delivery: the fan-out's own spread.
    spread: Vec<f64>,
    /// Subscribers that did not get every event.
    short: usize,
    /// The length of the frames delivered (the last one seen).
    frame_len: usize,
}

impl FanOut {
    fn p99(&self) -> f64 {
        percentile(&self.delays, 99.0)
    }

    fn line(&self) -> String {
        format!(
            "{} deliveries of {} B frames; commit-to-delivery ms p50 {:.0} p99 {:.0} max {:.0}; first delivery of an event p50 {:.1}; after the first p50 {:.0} p99 {:.0}; subscribers short of events {}",
            self.delays.len(),
            self.frame_len,
            percentile(&self.delays, 50.0),
            self.p99(),
            percentile(&self.delays, 100.0),
            percentile(&self.first, 50.0),
            percentile(&self.spread, 50.0),
            percentile(&self.spread, 99.0),
            self.short
        )
    }
}

/// The subscribers' reading tasks, each timing the frames it gets. The first frame is a
/// warm-up: every subscriber has it before the measured ones are sent.
struct Readers(Vec<tokio::task::JoinHandle<(Vec<f64>, usize)>>);

/// Told once by each subscriber when its warm-up frame has come.
struct Warm(tokio::sync::mpsc::Receiver<()>);

impl Warm {
    async fn wait(&mut self, subscribers: usize) {
        for _ in 0..subscribers {
            self.0.recv().await;
        }
    }
}

impl Readers {
    /// Opens a stream per URL, with its bearer token in the header when it has one.
    async fn connect(
        urls: impl Iterator<Item = (String, Option<String>)>,
        arrivals: usize,
    ) -> anyhow::Result<(Readers, Warm)> {
        let expected = arrivals + 1;
        let mut subs = Vec::new();
        for (url, token) in urls {
            let mut request = url.into_client_request()?;
            if let Some(token) = token {
                request
                    .headers_mut()
                    .insert("authorization", format!("Bearer {token}").parse()?);
            }
            subs.push(tokio_tungstenite::connect_async(request).await?.0);
        }
        let (warm_tx, warm_rx) = tokio::sync::mpsc::channel::<()>(subs.len().max(1));
        let readers = subs
            .into_iter()
            .map(|mut ws| {
                let warm_tx = warm_tx.clone();
                tokio::spawn(async move {
                    let mut delays = Vec::with_capacity(expected);
                    let mut frame_len = 0;
                    while delays.len() < expected {
                        match tokio::time::timeout(Duration::from_secs(30), ws.next()).await {
                            Ok(Some(Ok(Message::Text(t)))) => {
                                let received = now_ms();
                                if let Some(at) = event_at(t.as_str()) {
                                    delays.push((received - at) as f64);
                                    frame_len = t.len();
                                    if delays.len() == 1 {
                                        let _ = warm_tx.send(()).await;
                                    }
                                }
                            }
                            Ok(Some(Ok(_))) => {}
                            _ => break,
                        }
                    }
                    (delays.split_off(1.min(delays.len())), frame_len)
                })
            })
            .collect();
        Ok((Readers(readers), Warm(warm_rx)))
    }

    async fn collect(self, arrivals: usize) -> anyhow::Result<FanOut> {
        let mut out = FanOut {
            delays: Vec::new(),
            first: Vec::new(),
            spread: Vec::new(),
            short: 0,
            frame_len: 0,
        };
        let mut by_reader = Vec::new();
        for r in self.0 {
            let (d, len) = r.await?;
            if d.len() < arrivals {
                out.short += 1;
            }
            out.frame_len = out.frame_len.max(len);
            by_reader.push(d);
        }
        // Every reader has the events in the same order: the k-th delay of each is event k's.
        out.first = (0..arrivals)
            .map(|k| {
                by_reader
                    .iter()
                    .filter_map(|d| d.get(k))
                    .copied()
                    .fold(f64::INFINITY, f64::min)
            })
            .collect();
        for d in &by_reader {
            for (k, delay) in d.iter().enumerate() {
                if let Some(first) = out.first.get(k) {
                    out.spread.push(delay - first);
                }
            }
        }
        out.delays = by_reader.into_iter().flatten().collect();
        out.delays.sort_by(f64::total_cmp);
        out.first.sort_by(f64::total_cmp);
        out.spread.sort_by(f64::total_cmp);
        Ok(out)
    }
}

/// The floor for the fan-out: a minimal axum WebSocket broadcaster on its own runtime (as the
/// server has its own), no database and no auth. Each frame is put on a broadcast channel
/// once and sent as is to every subscriber, as the server does with a committed event.
struct BareBroadcaster {
    addr: std::net::SocketAddr,
    frames: tokio::sync::broadcast::Sender<axum::extract::ws::Utf8Bytes>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl BareBroadcaster {
    fn start() -> anyhow::Result<Self> {
        use axum::extract::State;
        use axum::extract::ws::{Message as WsMessage, Utf8Bytes, WebSocketUpgrade};
        use tokio::sync::broadcast;

        async fn stream(
            ws: WebSocketUpgrade,
            State(frames): State<broadcast::Sender<Utf8Bytes>>,
        ) -> axum::response::Response {
            // Subscribed before the upgrade is answered, so a connected reader misses nothing.
            let mut rx = frames.subscribe();
            ws.on_upgrade(move |mut socket| async move {
                while let Ok(frame) = rx.recv().await {
                    if socket.send(WsMessage::Text(frame)).await.is_err() {
                        return;
                    }
                }
            })
        }

        let (frames, _) = broadcast::channel(4096);
        let app = axum::Router::new()
            .route("/stream", axum::routing::get(stream))
            .with_state(frames.clone());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (bound, addr) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("bare-broadcaster".into())
            .spawn(move || {
                let served = tokio::runtime::Builder::new_multi_thread()
                    .enable_all()
                    .build()
                    .and_then(|runtime| {
                        let listener =
                            runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
                        let _ = bound.send(listener.local_addr());
                        runtime.spawn(async move {
                            if let Err(e) = axum::serve(listener, app).await {
                                say(&format!("bare broadcaster: {e}"));
                            }
                        });
                        let _ = runtime.block_on(stopped);
                        // Its connections' tasks end with the runtime.
                        runtime.shutdown_background();
                        Ok(())
                    });
                if let Err(e) = served {
                    let _ = bound.send(Err(e));
                }
            })?;
        let addr = addr.recv()??;
        Ok(Self {
            addr,
            frames,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Sends one event-shaped frame of `len` bytes stamped now, to every subscriber.
    fn send(&self, seq: u64, len: usize) {
        let head = format!(
            r#"{{"type":"event","event":{{"seq":{seq},"at":{},"pad":""#,
            now_ms()
        );
        let tail = r#""}}"#;
        let pad = len.saturating_sub(head.len() + tail.len());
        let frame = format!("{head}{}{tail}", "x".repeat(pad));
        let _ = self.frames.send(frame.into());
    }

    fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The name and CPU seconds (user + system) so far of a process or thread, from its `/proc`
/// stat file (Linux; None elsewhere).
fn stat_cpu(path: &str) -> Option<(String, f64)> {
    let stat = std::fs::read_to_string(path).ok()?;
    // The name is in parentheses and may hold spaces; the counters follow it.
    let (name, rest) = stat.split_once(" (")?.1.rsplit_once(") ")?;
    let fields: Vec<&str> = rest.split(' ').collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    // USER_HZ is 100 on every Linux the kernel ABI promises it to user space.
    Some((name.to_owned(), ticks / 100.0))
}

fn cpu_seconds(pid: &str) -> Option<f64> {
    stat_cpu(&format!("/proc/{pid}/stat")).map(|(_, s)| s)
}

/// Bytes a process has written through to storage so far (its WAL and database file, not its
/// sockets): `write_bytes` of `/proc/<pid>/io`.
fn bytes_written(pid: &str) -> Option<f64> {
    let io = std::fs::read_to_string(format!("/proc/{pid}/io")).ok()?;
    io.lines()
        .find_map(|l| l.strip_prefix("write_bytes:"))
        .and_then(|v| v.trim().parse().ok())
}

/// CPU seconds so far of a process's threads, summed by thread name.
fn cpu_by_thread(pid: &str) -> std::collections::BTreeMap<String, f64> {
    let mut by_name = std::collections::BTreeMap::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))
        .into_iter()
        .flatten()
    {
        let Ok(task) = task else { continue };
        if let Some((name, s)) = stat_cpu(&format!("{}/stat", task.path().display())) {
            *by_name.entry(name).or_insert(0.0) += s;
        }
    }
    by_name
}

enum Server {
    InProcess(RunningServer),
    Child(ChildServer),
}

/// The server's process, killed when dropped, so a load generator that fails half-way does
/// not leave it running.
struct ChildServer(std::process::Child);

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn start(args: &Args, settings: Settings) -> anyhow::Result<Vec<(Server, String)>> {
    let database = match &settings.database {
        Database::Sqlite(path) => format!("sqlite://{}", path.display()),
        Database::Postgres(url) => url.clone(),
    };
    Ok(match &args.server_bin {
        Some(bin) => {
            let mut servers = Vec::new();
            let connections = args
                .database_connections
                .map(|n| vec!["--database-connections".to_owned(), n.to_string()])
                .unwrap_or_default();
            for _ in 0..args.replicas {
                let mut c = std::process::Command::new(bin)
                    .args([
                        "serve",
                        "--listen",
                        "127.0.0.1:0",
                        "--database-url",
                        &database,
                    ])
                    // The load comes from one address: it measures the clinic's work, not the
                    // front door's bounds (as `settings` says for a server in this process).
                    .args(["--arrivals-per-address-per-minute", &usize::MAX.to_string()])
                    .args(["--arrivals-per-room-per-minute", &usize::MAX.to_string()])
                    .args(&connections)
                    .env("RUST_LOG", "warn")
                    .stdout(std::process::Stdio::piped())
                    .spawn()?;
                let out = c
                    .stdout
                    .take()
                    .ok_or_else(|| anyhow::anyhow!("no stdout"))?;
                let mut line = String::new();
                BufReader::new(out).read_line(&mut line)?;
                let url = line.trim().trim_start_matches("listening on ").to_owned();
                servers.push((Server::Child(ChildServer(c)), url));
            }
            servers
        }
        None => {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            let server = RunningServer::start(settings, listener).await?;
            let url = server.url();
            vec![(Server::InProcess(server), url)]
        }
    })
}

/// One run of staff commands: every client walks its own patients through
/// arrive → claim → message → leave-call (on hold) → claim → end-call; the five staff commands
/// are timed (the arrivals are load, not timed).
#[derive(Clone, Copy)]
struct Phase<'a> {
    /// The servers' addresses: client `c` sends to `bases[c % bases.len()]`.
    bases: &'a [String],
    tokens: &'a [String],
    /// Each clinic's slug and the room its patients join: client `c` works in
    /// `rooms[c % rooms.len()]`.
    rooms: &'a [(String, frontdesk_domain::RoomId)],
    seconds: u64,
    /// Staff commands per second in all, or None for as fast as answered.
    rate: Option<f64>,
    /// The servers' process ids, or `["self"]` for the one in this process.
    server_pids: &'a [String],
    /// The PostgreSQL cluster's postmaster, whose CPU is the database's.
    database_pid: Option<u32>,
    db: &'a std::path::Path,
}

/// CPU seconds so far of the servers' processes together.
fn servers_cpu(pids: &[String]) -> Option<f64> {
    pids.iter().map(|p| cpu_seconds(p)).sum()
}

impl Phase<'_> {
    async fn run(self) -> anyhow::Result<()> {
        let clients = self.tokens.len();
        say(&format!(
            "commands: {clients} clients for {} s, {}",
            self.seconds,
            self.rate.map_or("as fast as answered".into(), |r| format!(
                "paced at {r} commands/s (latency from when each was due)"
            ))
        ));
        let server_pid = self.server_pids[0].as_str();
        let cpu_before = (servers_cpu(self.server_pids), cpu_seconds("self"));
        let database_before = self.database_pid.and_then(database_cpu);
        let threads_before = cpu_by_thread(server_pid);
        let written_before = bytes_written(server_pid);
        let deadline = Instant::now() + Duration::from_secs(self.seconds);
        let started = Instant::now();
        // Each client sends every `pace`, its schedule offset so the clients spread over one.
        let pace = self
            .rate
            .map(|r| Duration::from_secs_f64(clients as f64 / r.max(1.0)));
        let mut tasks = Vec::new();
        for (c, token) in self.tokens.iter().enumerate() {
            let mut conn = Conn::open(&self.bases[c % self.bases.len()]).await?;
            let auth = format!("authorization: Bearer {token}\r\n");
            let (slug, room) = &self.rooms[c % self.rooms.len()];
            let join = format!("/v1/join/{slug}/{room}");
            let mut due = started + pace.map_or(Duration::ZERO, |p| p * c as u32 / clients as u32);
            tasks.push(tokio::spawn(async move {
                let mut lat = Vec::new();
                let mut failed = 0usize;
                let mut n = 0;
                let mut headers = String::new();
                while Instant::now() < deadline {
                    n += 1;
                    let body =
                        format!(r#"{{"name":"Load patient {c}-{n}","phone":"0400 000 000"}}"#);
                    let visit = match conn.post(&join, "", &body).await {
                        Ok((201, reply)) => serde_json::from_slice::<Reply>(reply).ok(),
                        Ok(_) => None,
                        Err(_) => return (lat, failed + 1),
                    };
                    let Some(Reply { visit }) = visit else {
                        failed += 1;
                        continue;
                    };
                    let mut version = visit.version;
                    let steps = [
                        ("claim", "{}"),
                        ("message", r#"{"text":"The doctor will see you now"}"#),
                        ("leave-call", "{}"),
                        ("claim", "{}"),
                        ("end-call", "{}"),
                    ];
                    for (op, body) in steps {
                        let t0 = match pace {
                            Some(p) => {
                                tokio::time::sleep_until(due.into()).await;
                                let t = due;
                                due += p;
                                t
                            }
                            None => Instant::now(),
                        };
                        let path = format!("/v1/visits/{}/{op}", visit.id);
                        headers.clear();
                        headers.push_str(&auth);
                        headers.push_str(&format!("if-match: {version}\r\n"));
                        let answered = match conn.post(&path, &headers, body).await {
                            Ok((200, reply)) => serde_json::from_slice::<Reply>(reply).ok(),
                            Ok(_) => None,
                            Err(_) => return (lat, failed + 1),
                        };
                        match answered {
                            Some(r) => {
                                let second = t0.duration_since(started).as_secs() as usize;
                                lat.push((second, t0.elapsed().as_secs_f64() * 1000.0));
                                version = r.visit.version;
                            }
                            None => {
                                failed += 1;
                                break;
                            }
                        }
                    }
                }
                (lat, failed)
            }));
        }
        let mut timed = Vec::new();
        let mut failed = 0;
        for t in tasks {
            let (l, f) = t.await?;
            timed.extend(l);
            failed += f;
        }
        let elapsed = started.elapsed().as_secs_f64();
        let cpu_after = (servers_cpu(self.server_pids), cpu_seconds("self"));
        let database_after = self.database_pid.and_then(database_cpu);
        let threads_after = cpu_by_thread(server_pid);
        // Where the slow answers fell, second by second: a stall shows as one bad second.
        let mut worst = vec![0f64; self.seconds as usize + 2];
        for (second, ms) in &timed {
            if let Some(w) = worst.get_mut(*second) {
                *w = w.max(*ms);
            }
        }
        let mut lat: Vec<f64> = timed.into_iter().map(|(_, ms)| ms).collect();
        lat.sort_by(f64::total_cmp);
        let worst: Vec<String> = worst.iter().map(|w| format!("{w:.0}")).collect();
        say(&format!(
            "  {} staff commands in {:.1} s = {:.0} commands/s; latency ms p50 {:.2} p99 {:.2} max {:.2}; failed {}",
            lat.len(),
            elapsed,
            lat.len() as f64 / elapsed,
            percentile(&lat, 50.0),
            percentile(&lat, 99.0),
            percentile(&lat, 100.0),
            failed
        ));
        say(&format!(
            "  slowest answer (ms) in each second: {}",
            worst.join(" ")
        ));
        let written = bytes_written(server_pid)
            .zip(written_before)
            .map_or("n/a".to_owned(), |(a, b)| {
                format!("{:.1}", (a - b) / 1024.0 / lat.len().max(1) as f64)
            });
        say(&format!(
            "  WAL file now {}; written to storage per staff command (arrivals and checkpoints included): {written} KB",
            wal_size(self.db)
        ));
        let share = |before: Option<f64>, after: Option<f64>| {
            before.zip(after).map_or("n/a".to_owned(), |(b, a)| {
                format!("{:.2}", (a - b) / elapsed)
            })
        };
        if server_pid == "self" {
            say(&format!(
                "  CPU cores busy: server and load together {}",
                share(cpu_before.1, cpu_after.1)
            ));
        } else {
            let per_command = cpu_before
                .0
                .zip(cpu_after.0)
                .map_or("n/a".to_owned(), |(b, a)| {
                    format!("{:.0}", (a - b) * 1e6 / lat.len().max(1) as f64)
                });
            say(&format!(
                "  CPU cores busy: {} {}, load generator {}; server CPU µs per staff command (arrivals included) {per_command}",
                if self.server_pids.len() == 1 {
                    "server".to_owned()
                } else {
                    format!("{} servers", self.server_pids.len())
                },
                share(cpu_before.0, cpu_after.0),
                share(cpu_before.1, cpu_after.1)
            ));
            if let Some((b, a)) = database_before.zip(database_after) {
                say(&format!(
                    "  database CPU cores busy {:.2}, µs per staff command (arrivals included) {:.0}",
                    (a - b) / elapsed,
                    (a - b) * 1e6 / lat.len().max(1) as f64
                ));
            }
            // Threads that came and went in between (idle blocking threads) are not counted.
            let by_thread: Vec<String> = threads_after
                .iter()
                .map(|(name, after)| {
                    let used = after - threads_before.get(name).copied().unwrap_or(0.0);
                    format!("{name} {:.0}", used * 1e6 / lat.len().max(1) as f64)
                })
                .collect();
            say(&format!(
                "  of which by thread of the first server, µs per staff command: {}",
                by_thread.join(", ")
            ));
        }
        // Figures over commands that were refused or never answered measure nothing.
        anyhow::ensure!(
            failed * 100 <= lat.len(),
            "{failed} commands failed against {} answered: the figures above do not count",
            lat.len()
        );
        Ok(())
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let runtime = if args.threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(args.threads);
        b
    }
    .enable_all()
    .build()?;
    runtime.block_on(run(args))
}

async fn run(args: Args) -> anyhow::Result<()> {
    anyhow::ensure!(
        (1..=args.clients.max(1)).contains(&args.clinics),
        "--clinics is between 1 and the number of clients"
    );
    anyhow::ensure!(
        args.replicas == 1 || (args.postgres && args.server_bin.is_some()),
        "--replicas takes --postgres and --server-bin: replicas share one PostgreSQL database"
    );
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("load.db");
    let cluster = args.postgres.then(frontdesk_testkit::PgCluster::start);
    let mut settings = match &cluster {
        Some(cluster) => Settings::on(Database::Postgres(cluster.fresh_database())),
        None => Settings::new(&db),
    };
    settings.hash_cost = HashCost::Fast;
    // The load comes from one address: it measures the clinic's work, not the front door's bounds.
    settings.arrivals_per_address_per_minute = usize::MAX;
    settings.arrivals_per_room_per_minute = usize::MAX;
    settings.sign_in_failures_per_ip_per_minute = usize::MAX;
    let seeded = {
        let store: Box<dyn Store> = match &settings.database {
            Database::Postgres(url) => Box::new(PgStore::connect(url, 16).await?),
            Database::Sqlite(path) => Box::new(SqliteStore::open(path, 16)?),
        };
        let store = store.as_ref();
        let seeded = demo::seed_demo(store, HashCost::Fast).await?;
        let mut clinics = vec![(
            seeded.clinic.id,
            seeded.clinic.slug.clone(),
            seeded.reception.id,
        )];
        for k in 2..=args.clinics {
            let slug = format!("load-{k}");
            let clinic = create_clinic(store, &slug, &format!("Load Clinic {k}")).await?;
            let room = create_room(
                store,
                clinic.id,
                NewRoom {
                    name: "Reception".into(),
                    after_hours: AfterHours::Accept,
                    ..NewRoom::default()
                },
                settings.clock.now(),
            )
            .await?;
            clinics.push((clinic.id, slug, room.id));
        }
        for i in 0..args.clients {
            create_staff(
                store,
                clinics[i % clinics.len()].0,
                NewStaff {
                    name: format!("Load {i}"),
                    email: format!("load{i}@demo.clinic"),
                    roles: vec![Role::Receptionist],
                    password: "load-password".into(),
                    pin: None,
                    // A front desk looks over every room: a visit one may not read cannot
                    // be acted on either.
                    rooms: vec![],
                    all_rooms: true,
                    availability: None,
                    phone: None,
                },
                HashCost::Fast,
                settings.clock.now(),
            )
            .await?;
        }
        (seeded, clinics)
    };
    let (seeded, clinics) = seeded;
    let rooms: Vec<(String, frontdesk_domain::RoomId)> = clinics
        .iter()
        .map(|(_, slug, room)| (slug.clone(), *room))
        .collect();
    if clinics.len() > 1 {
        say(&format!(
            "clinics: {} (the clients spread over them, {} each)",
            clinics.len(),
            args.clients / clinics.len()
        ));
    }
    let servers = start(&args, settings).await?;
    let bases: Vec<String> = servers.iter().map(|(_, url)| url.clone()).collect();
    if bases.len() > 1 {
        say(&format!("servers: {} on one database", bases.len()));
    }
    // Arrivals and sign-ins go through the first; the fan-out listens on the last.
    let base = bases[0].clone();
    let room = seeded.reception.id;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.clients * 2)
        .build()?;
    let mut tokens = Vec::new();
    for i in 0..args.clients {
        let slug = &rooms[i % rooms.len()].0;
        let t: Value = http
            .post(format!("{base}/v1/auth/sign-in"))
            .json(&json!({"clinic": slug, "email": format!("load{i}@demo.clinic"), "password": "load-password"}))
            .send()
            .await?
            .json()
            .await?;
        tokens.push(t["token"].as_str().unwrap_or_default().to_owned());
    }

    let server_pids: Vec<String> = servers
        .iter()
        .map(|(server, _)| match server {
            Server::Child(c) => c.0.id().to_string(),
            Server::InProcess(_) => "self".to_owned(),
        })
        .collect();
    let full = Phase {
        bases: &bases,
        tokens: &tokens,
        rooms: &rooms,
        seconds: args.seconds,
        rate: None,
        server_pids: &server_pids,
        database_pid: cluster.as_ref().and_then(|c| c.server_pid()),
        db: &db,
    };
    full.run().await?;
    if args.rate > 0.0 {
        Phase {
            rate: Some(args.rate),
            ..full
        }
        .run()
        .await?;
    }

    // Phase 2: each arrival fanned out to every subscriber, then the same frames through a
    // bare broadcaster for the floor.
    say(&format!(
        "fan-out: {} subscribers, {} arrivals",
        args.subscribers, args.arrivals
    ));
    let snap: Value = http
        .get(format!("{base}/v1/snapshot"))
        .bearer_auth(&tokens[0])
        .send()
        .await?
        .json()
        .await?;
    let after = snap["seq"].as_u64().unwrap_or(0);
    let ws_base = bases[bases.len() - 1].replace("http://", "ws://");
    // The subscribers are the demo clinic's staff, where the arrivals come.
    let demo_tokens: Vec<&String> = tokens.iter().step_by(rooms.len()).collect();
    let urls = (0..args.subscribers).map(|i| {
        let token = demo_tokens[i % demo_tokens.len()];
        (
            format!("{ws_base}/v1/stream?after={after}"),
            Some(token.clone()),
        )
    });
    let (readers, mut warm) = Readers::connect(urls, args.arrivals).await?;
    http.post(format!("{base}/v1/join/demo/{room}"))
        .json(&json!({"name": "Warm-up patient", "phone": "0400 000 000"}))
        .send()
        .await?;
    warm.wait(args.subscribers).await;
    for n in 0..args.arrivals {
        http.post(format!("{base}/v1/join/demo/{room}"))
            .json(&json!({"name": format!("Fan-out patient {n}"), "phone": "0400 000 000"}))
            .send()
            .await?;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let server_fanout = readers.collect(args.arrivals).await?;
    let across = if bases.len() > 1 {
        " (arrivals through the first, subscribers on the last)"
    } else {
        ""
    };
    say(&format!("  server{across}: {}", server_fanout.line()));

    let bare = BareBroadcaster::start()?;
    let urls = (0..args.subscribers).map(|_| (format!("ws://{}/stream", bare.addr), None));
    let (readers, mut warm) = Readers::connect(urls, args.arrivals).await?;
    bare.send(0, server_fanout.frame_len);
    warm.wait(args.subscribers).await;
    for n in 0..args.arrivals {
        bare.send(n as u64 + 1, server_fanout.frame_len);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let bare_fanout = readers.collect(args.arrivals).await?;
    bare.stop();
    say(&format!(
        "  bare broadcaster (no database, no auth), same frames: {}",
        bare_fanout.line()
    ));
    say(&format!(
        "  fan-out p99 server / bare = {:.2}",
        server_fanout.p99() / bare_fanout.p99().max(1.0)
    ));
    say(&format!("WAL file at the end: {}", wal_size(&db)));
    for (server, _) in servers {
        match server {
            Server::InProcess(s) => s.stop().await,
            Server::Child(c) => drop(c),
        }
    }
    if let Some(cluster) = cluster.as_ref().filter(|_| args.statements) {
        say(&format!(
            "statements by the database's time:\n{}",
            statements(cluster)?
        ));
    }
    if let Some(cluster) = &cluster {
        say(&format!(
            "pgbench, one UPDATE + three INSERTs, -M prepared -c 100 -j 2, {} s, same cluster: {}",
            args.pgbench_seconds,
            pgbench(cluster, args.pgbench_seconds)?
        ));
    }
    Ok(())
}
