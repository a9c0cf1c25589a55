//! Load generator for the embedded server: staff commands per second from many concurrent
//! clients with their latency percentiles, then patient arrivals fanned out to many WebSocket
//! subscribers with the delay from commit to delivery. Starts the real server on 127.0.0.1:0
//! with a fresh SQLite file (in this process, or as its own process with `--server-bin`);
//! loopback traffic only, bounded in time.
//!
//!     cargo build --release -p frontdesk-server --example loadgen --bin frontdesk-server
//!     target/release/examples/loadgen --server-bin target/release/frontdesk-server

use clap::Parser;
use frontdesk_domain::Role;
use frontdesk_server::admin::{NewStaff, create_staff};
use frontdesk_server::{HashCost, RunningServer, Settings, SqliteStore, demo};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

#[derive(Parser, Debug)]
struct Args {
    /// Concurrent staff clients sending commands.
    #[arg(long, default_value_t = 100)]
    clients: usize,
    /// Paced load: this many staff commands per second in all, spread over the clients, with
    /// each latency measured from when the command was due (so a stall is not hidden).
    /// Without it every client sends its next command as soon as the last is answered.
    #[arg(long)]
    rate: Option<f64>,
    /// How long the command phase runs.
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
    frontdesk_server::clock::system_now().as_millis()
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

async fn post(
    http: &reqwest::Client,
    url: String,
    token: &str,
    version: u64,
    body: Option<Value>,
) -> Option<u64> {
    let mut req = http
        .post(url)
        .bearer_auth(token)
        .header("if-match", version.to_string());
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.ok()?;
    if !res.status().is_success() {
        return None;
    }
    Some(res.json::<Reply>().await.ok()?.visit.version)
}

enum Server {
    InProcess(RunningServer),
    Child(std::process::Child),
}

async fn start(
    args: &Args,
    db: &std::path::Path,
    settings: Settings,
) -> anyhow::Result<(Server, String)> {
    Ok(match &args.server_bin {
        Some(bin) => {
            let mut c = std::process::Command::new(bin)
                .args(["serve", "--listen", "127.0.0.1:0", "--db"])
                .arg(db)
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
            (Server::Child(c), url)
        }
        None => {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            let server = RunningServer::start(settings, listener).await?;
            let url = server.url();
            (Server::InProcess(server), url)
        }
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("load.db");
    let mut settings = Settings::new(&db);
    settings.hash_cost = HashCost::Fast;
    let seeded = {
        let store = SqliteStore::open(&db, 16)?;
        let seeded = demo::seed_demo(&store, HashCost::Fast).await?;
        for i in 0..args.clients {
            create_staff(
                &store,
                seeded.clinic.id,
                NewStaff {
                    name: format!("Load {i}"),
                    email: format!("load{i}@demo.clinic"),
                    roles: vec![Role::Receptionist],
                    password: "load-password".into(),
                    pin: None,
                    rooms: vec![],
                    availability: None,
                    phone: None,
                },
                HashCost::Fast,
            )
            .await?;
        }
        seeded
    };
    let (server, base) = start(&args, &db, settings).await?;
    let room = seeded.reception.id;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.clients * 2)
        .build()?;
    let mut tokens = Vec::new();
    for i in 0..args.clients {
        let t: Value = http
            .post(format!("{base}/v1/auth/sign-in"))
            .json(&json!({"clinic": "demo", "email": format!("load{i}@demo.clinic"), "password": "load-password"}))
            .send()
            .await?
            .json()
            .await?;
        tokens.push(t["token"].as_str().unwrap_or_default().to_owned());
    }

    // Phase 1: staff commands. Each client walks its own patients through
    // claim → message → leave-call (on hold) → claim → end-call.
    say(&format!(
        "commands: {} clients for {} s, {}",
        args.clients,
        args.seconds,
        args.rate.map_or("as fast as answered".into(), |r| format!(
            "paced at {r} commands/s"
        ))
    ));
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    let pace = args
        .rate
        .map(|r| Duration::from_secs_f64(args.clients as f64 / r.max(1.0)));
    for (c, token) in tokens.iter().cloned().enumerate() {
        let (http, base) = (http.clone(), base.clone());
        // Spread the clients' schedules over one interval.
        let mut due =
            Instant::now() + pace.map_or(Duration::ZERO, |p| p * c as u32 / args.clients as u32);
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut failed = 0usize;
            let mut n = 0;
            while Instant::now() < deadline {
                n += 1;
                let arrived = http
                    .post(format!("{base}/v1/join/demo/{room}"))
                    .json(&json!({"name": format!("Load patient {c}-{n}")}))
                    .send()
                    .await;
                let Ok(Reply { visit }) = (match arrived {
                    Ok(res) => res.json::<Reply>().await,
                    Err(e) => Err(e),
                }) else {
                    failed += 1;
                    continue;
                };
                let mut version = visit.version;
                let steps: [(&str, Option<Value>); 5] = [
                    ("claim", None),
                    (
                        "message",
                        Some(json!({"text": "The doctor will see you now"})),
                    ),
                    ("leave-call", None),
                    ("claim", None),
                    ("end-call", None),
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
                    let url = format!("{base}/v1/visits/{}/{op}", visit.id);
                    match post(&http, url, &token, version, body).await {
                        Some(v) => {
                            let second = t0.duration_since(started).as_secs() as usize;
                            lat.push((second, t0.elapsed().as_secs_f64() * 1000.0));
                            version = v;
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
    // Where the slow answers fell, second by second: a stall shows as one bad second.
    let mut worst = vec![0f64; args.seconds as usize + 2];
    for (second, ms) in &timed {
        if let Some(w) = worst.get_mut(*second) {
            *w = w.max(*ms);
        }
    }
    let mut lat: Vec<f64> = timed.into_iter().map(|(_, ms)| ms).collect();
    let elapsed = started.elapsed().as_secs_f64();
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

    // Phase 2: each arrival fanned out to every subscriber.
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
    let ws_base = base.replace("http://", "ws://");
    // One warm-up arrival first: every subscriber has it before the measured ones are sent.
    let expected = args.arrivals + 1;
    let mut subs = Vec::new();
    for i in 0..args.subscribers {
        let token = &tokens[i % tokens.len()];
        let url = format!("{ws_base}/v1/stream?after={after}&token={token}");
        subs.push(tokio_tungstenite::connect_async(url).await?.0);
    }
    #[derive(Deserialize)]
    struct Head {
        event: Option<EventHead>,
    }
    #[derive(Deserialize)]
    struct EventHead {
        at: i64,
    }
    let (warm_tx, mut warm_rx) = tokio::sync::mpsc::channel::<()>(args.subscribers.max(1));
    let readers: Vec<_> = subs
        .into_iter()
        .map(|mut ws| {
            let warm_tx = warm_tx.clone();
            tokio::spawn(async move {
                let mut delays = Vec::with_capacity(expected);
                while delays.len() < expected {
                    match tokio::time::timeout(Duration::from_secs(30), ws.next()).await {
                        Ok(Some(Ok(Message::Text(t)))) => {
                            let received = now_ms();
                            if let Ok(Head { event: Some(e) }) = serde_json::from_str(t.as_str()) {
                                delays.push((received - e.at) as f64);
                                if delays.len() == 1 {
                                    let _ = warm_tx.send(()).await;
                                }
                            }
                        }
                        Ok(Some(Ok(_))) => {}
                        _ => break,
                    }
                }
                delays.split_off(1.min(delays.len()))
            })
        })
        .collect();
    drop(warm_tx);
    http.post(format!("{base}/v1/join/demo/{room}"))
        .json(&json!({"name": "Warm-up patient"}))
        .send()
        .await?;
    for _ in 0..args.subscribers {
        warm_rx.recv().await;
    }
    for n in 0..args.arrivals {
        http.post(format!("{base}/v1/join/demo/{room}"))
            .json(&json!({"name": format!("Fan-out patient {n}")}))
            .send()
            .await?;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut delays = Vec::new();
    let mut short = 0;
    for r in readers {
        let d = r.await?;
        if d.len() < args.arrivals {
            short += 1;
        }
        delays.extend(d);
    }
    delays.sort_by(f64::total_cmp);
    say(&format!(
        "  {} deliveries; commit-to-delivery ms p50 {:.0} p99 {:.0} max {:.0}; subscribers short of events {}",
        delays.len(),
        percentile(&delays, 50.0),
        percentile(&delays, 99.0),
        percentile(&delays, 100.0),
        short
    ));
    match server {
        Server::InProcess(s) => s.stop().await,
        Server::Child(mut c) => {
            c.kill()?;
            c.wait()?;
        }
    }
    Ok(())
}
