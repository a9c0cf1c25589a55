//! What streams cost the server in memory, as an operator would see it: the process's resident
//! memory (the server runs in this test process) while consoles catch up on a long backlog, and
//! while one console stops reading as the clinic carries on. Figures are printed.

use super::{Ws, close_reason, connect, next_frame, report};
use frontdesk_domain::{Availability, Timestamp};
use frontdesk_testkit::{RECEPTION, TestServer};
use futures_util::StreamExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

const MB: u64 = 1024 * 1024;

/// The figures are the whole process's: these tests take turns so one's memory is not
/// counted as another's.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The process's resident memory, from `/proc/self/status`.
fn resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("a VmRSS line");
    kb * 1024
}

/// Samples resident memory every few milliseconds from its start until [`Self::growth`].
struct MemoryWatch {
    baseline: u64,
    peak: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    sampler: std::thread::JoinHandle<()>,
}

impl MemoryWatch {
    fn start() -> Self {
        let baseline = resident_bytes();
        let peak = Arc::new(AtomicU64::new(baseline));
        let stop = Arc::new(AtomicBool::new(false));
        let sampler = {
            let (peak, stop) = (peak.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    peak.fetch_max(resident_bytes(), Ordering::Relaxed);
                    std::thread::sleep(Duration::from_millis(2));
                }
            })
        };
        Self {
            baseline,
            peak,
            stop,
            sampler,
        }
    }

    /// How far the peak rose above the baseline, in bytes; prints both.
    fn growth(self, what: &str) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.sampler.join().unwrap();
        let peak = self.peak.load(Ordering::Relaxed);
        let growth = peak.saturating_sub(self.baseline);
        report(format_args!(
            "{what}: resident {} MB before, peak {} MB, growth {:.1} MB",
            self.baseline / MB,
            peak / MB,
            growth as f64 / MB as f64
        ));
        growth
    }
}

/// Background work (reminders, deliveries) reads the event log too; keep it out of the figures.
fn quiet(s: &mut frontdesk_server::Settings) {
    s.background_tick = Duration::from_secs(3600);
}

/// `n` staff events, written through the store as an availability change would be; the seq of
/// the last.
async fn staff_changes(app: &TestServer, n: usize) -> u64 {
    let store = app.server().store();
    let desk = app.demo().staff_by_email(RECEPTION.0).unwrap();
    let (clinic, staff) = (desk.clinic_id, desk.id);
    let at = Timestamp::from_millis(1_800_000_000_000);
    futures_util::stream::iter(0..n)
        .map(|i| {
            let availability = if i % 2 == 0 {
                Availability::Away
            } else {
                Availability::Available
            };
            store.set_availability(clinic, staff, availability, at)
        })
        // Many in flight so the writer never waits on the test.
        .buffer_unordered(64)
        .fold(0, |last, written| async move {
            last.max(written.unwrap().unwrap().1)
        })
        .await
}

/// One room event of about `size` bytes (a long waiting-room message), written through the
/// store; its seq.
async fn room_change(app: &TestServer, size: usize) -> u64 {
    let mut room = app.demo().reception.clone();
    room.waiting_message = Some("w".repeat(size));
    let at = Timestamp::from_millis(1_800_000_000_000);
    app.server().store().put_room(room, at).await.unwrap()
}

/// Reads events until `through`, returning every seq seen in order.
async fn read_through(mut ws: Ws, through: u64, progress: Arc<AtomicU64>) -> Vec<u64> {
    let mut seqs = Vec::new();
    while seqs.last().is_none_or(|&s| s < through) {
        let f = next_frame(&mut ws).await.expect("closed before the end");
        match f["type"].as_str().unwrap() {
            "event" => {
                let seq = f["event"]["seq"].as_u64().unwrap();
                seqs.push(seq);
                progress.store(seq, Ordering::Relaxed);
            }
            other => assert_eq!(other, "heartbeat", "{f}"),
        }
    }
    seqs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn six_consoles_catching_up_on_100_000_events_hold_a_page_each_and_start_at_once() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let app = TestServer::builder()
        .demo_clinic()
        .settings(quiet)
        .start()
        .await;
    let reception = app.sign_in(RECEPTION).await;
    let written = Instant::now();
    let last = staff_changes(&app, 100_000).await;
    report(format_args!(
        "100,000 events written in {:?}; the clinic is at seq {last}",
        written.elapsed()
    ));

    let memory = MemoryWatch::start();
    let consoles: Vec<_> = (0..6)
        .map(|_| {
            let request = app.stream_request(&reception, 0);
            tokio::spawn(async move {
                let opened = Instant::now();
                let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
                let first = next_frame(&mut ws).await.expect("a first frame");
                let first_after = opened.elapsed();
                assert_eq!(first["type"], "event", "{first}");
                let seqs = read_through(ws, last, Arc::default()).await;
                (first_after, seqs.len() + 1)
            })
        })
        .collect();
    let mut firsts = Vec::new();
    for console in consoles {
        let (first_after, events) = console.await.unwrap();
        assert_eq!(events as u64, last, "every event from the first");
        firsts.push(first_after);
    }
    let growth = memory.growth("six streams from seq 0 over 100,000 events");
    report(format_args!("first frame after: {firsts:?}"));
    assert!(growth < 100 * MB, "memory grew by {growth} bytes");
    for first in firsts {
        assert!(
            first < Duration::from_secs(1),
            "first frame after {first:?}"
        );
    }
}

/// A stream on a socket with a tiny receive window, whose test never reads it: the server's
/// writes stall after a few kilobytes instead of filling the kernel's buffers.
async fn connect_and_never_read(app: &TestServer, token: &str, after: u64) -> Ws {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4 * 1024).unwrap();
    let tcp = socket.connect(app.addr()).await.unwrap();
    let request = app.stream_request(token, after);
    let stream = tokio_tungstenite::MaybeTlsStream::Plain(tcp);
    tokio_tungstenite::client_async(request, stream)
        .await
        .unwrap()
        .0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_console_that_stops_reading_is_told_to_resync_and_costs_no_more_than_its_budget() {
    let _turn = ONE_AT_A_TIME.lock().await;
    const EVENTS: u64 = 5_000;
    const EVENT_SIZE: usize = 4 * 1024;
    const PACE: u64 = 25;
    let app = TestServer::builder()
        .demo_clinic()
        .settings(|s| {
            quiet(s);
            s.stream_buffer_bytes = 1024 * 1024;
            // The stalled line must wait for the test to read, not time out first.
            s.stream_write_timeout = Duration::from_secs(600);
        })
        .start()
        .await;
    let reception = app.sign_in(RECEPTION).await;
    let start = app.last_seq(&reception).await;
    let end = start + EVENTS;
    let mut asleep = connect_and_never_read(&app, &reception, start).await;
    let mut readers = Vec::new();
    let mut progress = Vec::new();
    for _ in 0..2 {
        let seen = Arc::new(AtomicU64::new(start));
        let ws = connect(&app, &reception, start).await;
        readers.push(tokio::spawn(read_through(ws, end, seen.clone())));
        progress.push(seen);
    }

    let memory = MemoryWatch::start();
    let mut seq = start;
    while seq < end {
        seq = room_change(&app, EVENT_SIZE).await;
        // The readers are never more than a few events behind (well within their budget),
        // however busy the machine: only the sleeping console falls behind.
        if (seq - start) % PACE == 0 {
            for seen in &progress {
                while seen.load(Ordering::Relaxed) < seq {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            }
        }
    }
    assert_eq!(seq, end);
    let growth = memory.growth("one console not reading while 5,000 events of 4 KB commit");
    assert!(growth < 50 * MB, "memory grew by {growth} bytes");

    for reader in readers {
        let seqs = reader.await.unwrap();
        let expected: Vec<u64> = (start + 1..=end).collect();
        assert!(
            seqs == expected,
            "a reading console missed or repeated events"
        );
    }
    // Waking up, the console gets what was already on its way, then the resync.
    let mut last = start;
    let resync = loop {
        let f = next_frame(&mut asleep)
            .await
            .expect("closed without a resync");
        match f["type"].as_str().unwrap() {
            "event" => {
                let seq = f["event"]["seq"].as_u64().unwrap();
                assert_eq!(seq, last + 1, "no silent skip");
                last = seq;
            }
            "resync" => break f,
            other => assert_eq!(other, "heartbeat", "{f}"),
        }
    };
    report(format_args!(
        "the sleeping console had {} events when told to resync",
        last - start
    ));
    assert_eq!(resync["seq"], last, "resync names the last seq delivered");
    assert!(last < end, "it fell behind");
    assert_eq!(close_reason(&mut asleep).await.as_deref(), Some("resync"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_whose_frames_cannot_go_out_in_time_is_closed() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let app = TestServer::builder()
        .demo_clinic()
        .settings(|s| {
            quiet(s);
            // Only the write timeout can end this stream.
            s.stream_buffer = usize::MAX;
            s.stream_buffer_bytes = usize::MAX;
            s.stream_write_timeout = Duration::from_millis(300);
        })
        .start()
        .await;
    let reception = app.sign_in(RECEPTION).await;
    let start = app.last_seq(&reception).await;
    let mut asleep = connect_and_never_read(&app, &reception, start).await;
    let mut last = start;
    for _ in 0..2_000 {
        last = room_change(&app, 4 * 1024).await;
    }
    // Long past the timeout for the frame that could not go out.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut got = start;
    while let Some(f) = next_frame(&mut asleep).await {
        assert_eq!(f["type"], "event", "only events, no resync: {f}");
        let seq = f["event"]["seq"].as_u64().unwrap();
        assert_eq!(seq, got + 1, "in order");
        got = seq;
    }
    report(format_args!(
        "the stalled stream delivered {} of {} events before it was closed",
        got - start,
        last - start
    ));
    assert!(got < last, "the stream was closed before the end");
}
