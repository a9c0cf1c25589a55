//! The console through a whole clinic day, compressed: the release app signed in as Rita the
//! receptionist watches a busy queue for 8 simulated hours while a simulator drives the day
//! through the real server's API, and the memory of every process of the app is printed each
//! simulated hour. A benchmark, not a CI test: memory after the last hour should be within
//! 10 % of memory after the first, and every arrival should raise its desktop alert.
//!
//!     cargo build --release -p frontdesk --bin frontdesk
//!     cargo build --release -p frontdesk-tests --example console_soak
//!     bash tests/e2e/env.sh target/release/examples/console_soak
//!
//! (or `bash tests/e2e/env.sh cargo run --release -p frontdesk-tests --example console_soak`).
//! `FRONTDESK_SOAK_HOURS=N` simulates N hours instead of 8, `FRONTDESK_SOAK_MINUTES_PER_HOUR=M`
//! spends M real minutes on each simulated hour instead of 2 (the default day takes 16
//! minutes), `FRONTDESK_SOAK_SEED=S` changes the day (the same seed gives the same plan).
//!
//! The day: ~20 waiting when the app starts; each hour 40 patients come through Reception's
//! front door, spread over it; Dr. Shah and Dr. Haddad (signed in through the API, not the app)
//! claim patients, message them, put some on hold and come back to end those calls, transfer
//! some to each other and decline a few; some patients give up and leave. The doctors see
//! patients faster when the queue is long and slower when it is short, so it stays around
//! 10–40. Nobody acts on a patient in their first seconds, so the app has had the arrival
//! before the patient is gone (an alert is raised only while it is still true).
//!
//! Alerts: the app raises a desktop notification per arrival in Rita's rooms while she is
//! available (the test clinic makes her available; Reception is her room); under `env.sh` a
//! recorder logs them. An arrival counts as alerted when a notification names it for Reception
//! ("NAME is waiting" / "Arrived in Reception", or a room's burst "N patients arrived in
//! Reception" listing it). The console's idle lock is off (the desk is staffed): a locked
//! console's notices carry no names.
#![allow(clippy::print_stdout)]

use frontdesk_client::api::ApiClient;
use frontdesk_domain::{
    Command, MessageText, Note, RoomId, StaffId, Status, TransferTarget, VisitId,
};
use frontdesk_server::demo::Dice;
use frontdesk_tests::TestClinic;
use frontdesk_tests::notifications::{Notification, NotificationLog};
use frontdesk_tests::perf::{Launch, prepare_signed_in, process_name, release_binary, tree_parts};
use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

const RITA: &str = "reception@demo.clinic";
const DOCTORS: [&str; 2] = ["priya@demo.clinic", "omar@demo.clinic"];
/// Simulated hours, unless `FRONTDESK_SOAK_HOURS` says otherwise.
const HOURS: u32 = 8;
/// Real minutes per simulated hour, unless `FRONTDESK_SOAK_MINUTES_PER_HOUR` says otherwise.
const MINUTES_PER_HOUR: f64 = 2.0;
const ARRIVALS_PER_HOUR: u32 = 40;
/// Waiting when the app starts.
const FIRST_QUEUE: usize = 20;
/// Nobody touches a patient younger than this (real time): the app decides the arrival's
/// alert first.
const UNTOUCHED_FOR: Duration = Duration::from_secs(3);
/// How long after the last arrival its alert may still be on its way.
const LAST_ALERTS_WITHIN: Duration = Duration::from_secs(15);

/// A patient in a waiting area, as the simulator knows them.
struct Waiting {
    id: VisitId,
    /// Their own token, to leave with.
    token: String,
    since: Instant,
    /// Transferred to a doctor: only that doctor takes them.
    for_doctor: Option<StaffId>,
}

/// What a doctor does when a call's time is up.
#[derive(Clone, Copy)]
enum Then {
    End,
    /// Leaves the call (the patient is on hold), comes back a little later and ends it.
    Hold,
    /// Sends the patient to the other doctor's room.
    Transfer,
}

enum Doing {
    Free,
    InCall {
        patient: Waiting,
        until: u32,
        then: Then,
    },
    OnHold {
        visit: VisitId,
        until: u32,
    },
}

struct Doctor {
    token: String,
    id: StaffId,
    doing: Doing,
}

/// What the simulator did, for the hourly lines.
#[derive(Default)]
struct Tally {
    arrivals: Vec<String>,
    claims: u32,
    messages: u32,
    holds: u32,
    ended: u32,
    transfers: u32,
    declines: u32,
    left: u32,
    refused: u32,
}

/// The clinic's day as staff and patients make it, through the API.
struct Day {
    api: ApiClient,
    http: reqwest::Client,
    base: String,
    slug: String,
    reception: String,
    doctors: Vec<Doctor>,
    /// Each doctor's room, by the doctor's index.
    rooms: Vec<RoomId>,
    waiting: Vec<Waiting>,
    dice: Dice,
    tally: Tally,
    keys: u64,
}

impl Day {
    /// A patient comes through Reception's front door.
    async fn arrive(&mut self, name: String) {
        let a =
            frontdesk_testkit::arrive(&self.http, &self.base, &self.slug, &self.reception, &name)
                .await;
        self.waiting.push(Waiting {
            id: a.visit_id.parse().expect("a visit id"),
            token: a.patient_token,
            since: Instant::now(),
            for_doctor: None,
        });
        self.tally.arrivals.push(name);
    }

    /// A doctor's command at the visit's current version; false if the server refused it.
    async fn staff(&mut self, doctor: usize, visit: VisitId, command: Command) -> bool {
        let token = self.doctors[doctor].token.clone();
        let Ok(now) = self.api.visit(&token, visit).await else {
            self.tally.refused += 1;
            return false;
        };
        self.keys += 1;
        let key = format!("soak-{}", self.keys);
        match self
            .api
            .command(&token, visit, &command, Some(now.version), &key)
            .await
        {
            Ok(_) => true,
            Err(e) => {
                println!("  ({} on {visit} refused: {e})", command.name());
                self.tally.refused += 1;
                false
            }
        }
    }

    /// How long a call lasts, in simulated minutes: quicker with more waiting.
    fn call_minutes(&mut self) -> u32 {
        match self.waiting.len() {
            31.. => self.dice.between(1, 2),
            21..=30 => self.dice.between(2, 3),
            12..=20 => self.dice.between(3, 5),
            _ => self.dice.between(5, 8),
        }
    }

    /// One simulated minute of the staff's and waiting patients' doings.
    async fn minute(&mut self, minute: u32) {
        for d in 0..self.doctors.len() {
            self.doctor_minute(d, minute).await;
        }
        // Someone gives up, more often when the wait is long.
        if self.waiting.len() >= 12 && self.dice.chance(10) {
            let ready: Vec<usize> = (0..self.waiting.len())
                .filter(|&i| self.waiting[i].since.elapsed() >= UNTOUCHED_FOR)
                .collect();
            if !ready.is_empty() {
                let i = ready[self.dice.below(ready.len())];
                let patient = self.waiting.remove(i);
                let res = self
                    .http
                    .post(format!("{}/v1/patient/visit/leave", self.base))
                    .header("x-patient-token", &patient.token)
                    .send()
                    .await
                    .expect("the server answers");
                if res.status().is_success() {
                    self.tally.left += 1;
                } else {
                    println!("  (leaving refused: {})", res.status());
                    self.tally.refused += 1;
                }
            }
        }
    }

    async fn doctor_minute(&mut self, d: usize, minute: u32) {
        let other = (d + 1) % self.doctors.len();
        match std::mem::replace(&mut self.doctors[d].doing, Doing::Free) {
            Doing::InCall {
                patient,
                until,
                then,
            } if minute >= until => match then {
                Then::End => {
                    if self.staff(d, patient.id, Command::EndCall).await {
                        self.tally.ended += 1;
                    }
                }
                Then::Hold => {
                    if self.staff(d, patient.id, Command::LeaveCall).await {
                        self.tally.holds += 1;
                        let until = minute + self.dice.between(1, 3);
                        self.doctors[d].doing = Doing::OnHold {
                            visit: patient.id,
                            until,
                        };
                        return;
                    }
                }
                Then::Transfer => {
                    let to = TransferTarget::Provider {
                        provider: self.doctors[other].id,
                        room: self.rooms[other],
                    };
                    let note = Note::parse("Dr. colleague will take it from here").ok();
                    if self
                        .staff(d, patient.id, Command::Transfer { to, note })
                        .await
                    {
                        self.tally.transfers += 1;
                        self.waiting.push(Waiting {
                            since: Instant::now(),
                            for_doctor: Some(self.doctors[other].id),
                            ..patient
                        });
                    }
                }
            },
            // Back to the patient on hold for the rest of the call, or the call ended
            // straight from hold.
            Doing::OnHold { visit, until } if minute >= until => {
                let back = !self.dice.chance(50) || self.staff(d, visit, Command::Claim).await;
                if back && self.staff(d, visit, Command::EndCall).await {
                    self.tally.ended += 1;
                }
            }
            busy @ (Doing::InCall { .. } | Doing::OnHold { .. }) => {
                self.doctors[d].doing = busy;
                return;
            }
            Doing::Free => {}
        }
        // Free: the longest-waiting patient this doctor may take.
        let me = self.doctors[d].id;
        let Some(i) = self.waiting.iter().position(|w| {
            w.for_doctor.is_none_or(|p| p == me) && w.since.elapsed() >= UNTOUCHED_FOR
        }) else {
            return;
        };
        let patient = self.waiting.remove(i);
        if patient.for_doctor.is_none() && self.dice.chance(6) {
            let note =
                Note::parse("This needs an in-person visit; please book one.").expect("note");
            if self.staff(d, patient.id, Command::Decline { note }).await {
                self.tally.declines += 1;
            }
            return;
        }
        if !self.staff(d, patient.id, Command::Claim).await {
            return;
        }
        self.tally.claims += 1;
        if self.dice.chance(50) {
            let text =
                MessageText::parse("Hello, I can see you now. Is your camera on?").expect("text");
            if self.staff(d, patient.id, Command::Message { text }).await {
                self.tally.messages += 1;
            }
        }
        let until = minute + self.call_minutes();
        let then = match self.dice.below(100) {
            0..15 => Then::Hold,
            15..23 => Then::Transfer,
            _ => Then::End,
        };
        // A patient transferred once is seen by the doctor they were sent to.
        let then = match (then, patient.for_doctor) {
            (Then::Transfer, Some(_)) => Then::End,
            (then, _) => then,
        };
        self.doctors[d].doing = Doing::InCall {
            patient,
            until,
            then,
        };
    }
}

/// The arrivals a recorded notification announces in Reception (by name).
fn announced_in_reception(n: &Notification) -> Vec<String> {
    if n.body == "Arrived in Reception"
        && let Some(name) = n.summary.strip_suffix(" is waiting")
    {
        return vec![name.to_owned()];
    }
    if n.summary.ends_with(" patients arrived in Reception") {
        return n.body.split(", ").map(str::to_owned).collect();
    }
    Vec::new()
}

/// Arrivals with no alert among `notes`.
fn missed(arrivals: &[String], notes: &[Notification]) -> Vec<String> {
    let alerted: HashSet<String> = notes.iter().flat_map(announced_in_reception).collect();
    arrivals
        .iter()
        .filter(|a| !alerted.contains(*a))
        .cloned()
        .collect()
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Least-squares slope of `ys` against 1, 2, 3, … (per hour).
fn slope(ys: &[f64]) -> f64 {
    let n = ys.len() as f64;
    if ys.len() < 2 {
        return 0.0;
    }
    let mean_x = (n + 1.0) / 2.0;
    let mean_y = ys.iter().sum::<f64>() / n;
    let (mut num, mut den) = (0.0, 0.0);
    for (i, y) in ys.iter().enumerate() {
        let dx = (i + 1) as f64 - mean_x;
        num += dx * (y - mean_y);
        den += dx * dx;
    }
    num / den
}

fn mib_f(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

#[tokio::main]
async fn main() {
    let hours: u32 = env_or("FRONTDESK_SOAK_HOURS", HOURS);
    let minutes_per_hour: f64 = env_or("FRONTDESK_SOAK_MINUTES_PER_HOUR", MINUTES_PER_HOUR);
    let seed: u64 = env_or("FRONTDESK_SOAK_SEED", 17);
    let notes = NotificationLog::from_env().expect("run under tests/e2e/env.sh");
    let app = release_binary("frontdesk");
    assert!(
        app.exists(),
        "build it first: cargo build --release -p frontdesk --bin frontdesk"
    );

    let clinic = TestClinic::start().await;
    let demo = clinic.demo();
    let reception = clinic.room("Reception");
    let api = ApiClient::new(&clinic.url()).expect("client");
    let mut doctors = Vec::new();
    let mut rooms = Vec::new();
    for email in DOCTORS {
        let id = demo.staff_by_email(email).expect("a demo doctor").id;
        rooms.push(
            demo.rooms
                .iter()
                .find(|r| r.provider == Some(id))
                .expect("the doctor's room")
                .id,
        );
        doctors.push(Doctor {
            token: clinic.sign_in(email).await,
            id,
            doing: Doing::Free,
        });
    }
    let mut day = Day {
        api,
        http: reqwest::Client::new(),
        base: clinic.url(),
        slug: demo.clinic.slug.clone(),
        reception: reception.id.to_string(),
        doctors,
        rooms,
        waiting: Vec::new(),
        dice: Dice::seeded(seed),
        tally: Tally::default(),
        keys: 0,
    };
    for i in 0..FIRST_QUEUE {
        day.arrive(format!("Early Patient {i}")).await;
    }
    // The early ones were there before the app: not counted as the day's arrivals.
    day.tally.arrivals.clear();

    let rita = clinic.sign_in(RITA).await;
    let data = tempfile::tempdir().expect("data dir");
    prepare_signed_in(
        &clinic,
        data.path(),
        RITA,
        &rita,
        serde_json::json!({"lock_after_minutes": 0}),
    )
    .await;
    let mut launch = Launch::start(&app, data.path());
    let (line, painted) = launch.wait_for("first queue painted");
    println!(
        "app started: {line} ({} ms after launch)",
        painted.as_millis()
    );
    let notes_before = notes.count();

    let minute = Duration::from_secs_f64(minutes_per_hour);
    println!(
        "soak: {hours} simulated hours, {minutes_per_hour} real minutes each; {ARRIVALS_PER_HOUR} arrivals an hour; seed {seed}"
    );
    // The hour's arrivals: one in each 40th of the hour, at a random moment within it.
    let start = Instant::now();
    let mut per_hour: Vec<BTreeMap<String, u64>> = Vec::new();
    let mut totals: Vec<u64> = Vec::new();
    let mut app_lines = 0usize;
    let mut pushes = (0usize, 0usize);
    let mut odd_lines: Vec<String> = Vec::new();
    for hour in 0..hours {
        let mut due: Vec<f64> = (0..ARRIVALS_PER_HOUR)
            .map(|i| {
                f64::from(hour) * 60.0
                    + (f64::from(i) + day.dice.fraction()) * 60.0 / f64::from(ARRIVALS_PER_HOUR)
            })
            .collect();
        due.reverse();
        for m in hour * 60..(hour + 1) * 60 {
            tokio::time::sleep_until((start + minute.mul_f64(f64::from(m))).into()).await;
            day.minute(m).await;
            while due.last().is_some_and(|at| *at < f64::from(m + 1)) {
                let at = due.pop().unwrap_or_default();
                tokio::time::sleep_until((start + minute.mul_f64(at)).into()).await;
                let n = day.tally.arrivals.len();
                day.arrive(format!("Soak Patient {n}")).await;
            }
            for line in launch.printed() {
                app_lines += 1;
                if let Some(bytes) = line
                    .split_once("pushed changes: ")
                    .and_then(|(_, rest)| rest.trim_end_matches(" bytes").parse::<usize>().ok())
                {
                    pushes.0 += 1;
                    pushes.1 += bytes;
                } else if (line.contains("ERROR")
                    || line.contains("WARN")
                    || line.contains("panicked"))
                    && odd_lines.len() < 20
                {
                    odd_lines.push(line);
                }
            }
        }
        tokio::time::sleep_until((start + minute.mul_f64(f64::from((hour + 1) * 60))).into()).await;
        assert!(
            launch.running(),
            "the app is still running after hour {}",
            hour + 1
        );

        // The hour's figures.
        let mut by_name: BTreeMap<String, u64> = BTreeMap::new();
        for (pid, _, kib) in tree_parts(launch.pid()) {
            *by_name.entry(process_name(pid)).or_default() += kib;
        }
        let total: u64 = by_name.values().sum();
        let snapshot = clinic.snapshot(&rita).await;
        let queue = snapshot
            .visits
            .iter()
            .filter(|v| v.status.is_waiting())
            .count();
        let in_calls = snapshot
            .visits
            .iter()
            .filter(|v| v.status == Status::InCall)
            .count();
        let recorded = notes.read().unwrap_or_default();
        let since_start = &recorded[notes_before.min(recorded.len())..];
        let not_yet = missed(&day.tally.arrivals, since_start).len();
        let parts: Vec<String> = by_name
            .iter()
            .map(|(name, kib)| format!("{name} {:.1} MiB", mib_f(*kib)))
            .collect();
        let t = &day.tally;
        println!(
            "hour {}: PSS {} = total {:.1} MiB; queue {queue} waiting, {in_calls} in calls; arrivals {}; alerts recorded {} ({} arrivals not alerted yet); pushed to the UI this hour {} times, {} KiB",
            hour + 1,
            parts.join(", "),
            mib_f(total),
            t.arrivals.len(),
            since_start.len(),
            not_yet,
            pushes.0,
            pushes.1 / 1024,
        );
        println!(
            "  staff so far: {} claims, {} messages, {} holds, {} ended, {} transfers, {} declines; {} left; {} refused",
            t.claims, t.messages, t.holds, t.ended, t.transfers, t.declines, t.left, t.refused
        );
        pushes = (0, 0);
        per_hour.push(by_name);
        totals.push(total);
    }

    // The last arrivals' alerts may be a moment behind.
    let deadline = Instant::now() + LAST_ALERTS_WITHIN;
    let mut recorded;
    let mut unalerted;
    loop {
        recorded = notes.read().unwrap_or_default();
        unalerted = missed(
            &day.tally.arrivals,
            &recorded[notes_before.min(recorded.len())..],
        );
        if unalerted.is_empty() || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    launch.stop();

    println!();
    let (first, last) = (totals[0], totals[totals.len() - 1]);
    println!("memory after hour 1: {:.1} MiB", mib_f(first));
    println!("memory after hour {}: {:.1} MiB", totals.len(), mib_f(last));
    println!(
        "ratio: {:.3} (target ≤ 1.10)",
        last as f64 / first.max(1) as f64
    );
    for name in per_hour[0].keys() {
        let series: Vec<f64> = per_hour
            .iter()
            .map(|h| mib_f(h.get(name).copied().unwrap_or(0)))
            .collect();
        let shown: Vec<String> = series.iter().map(|m| format!("{m:.1}")).collect();
        println!(
            "{name}: {} MiB by hour; growth {:+.2} MiB per hour (least squares), {:+.2} MiB per hour (hour 1 to {})",
            shown.join(" "),
            slope(&series),
            (series[series.len() - 1] - series[0]) / (series.len().max(2) - 1) as f64,
            series.len()
        );
    }
    println!(
        "arrivals: {}; notifications recorded: {}; app printed {app_lines} lines",
        day.tally.arrivals.len(),
        recorded.len() - notes_before.min(recorded.len()),
    );
    println!("missed alerts: {} (target 0)", unalerted.len());
    if !unalerted.is_empty() {
        println!("  not alerted: {}", unalerted.join(", "));
    }
    if !odd_lines.is_empty() {
        println!("the app's warnings and errors (first {}):", odd_lines.len());
        for line in &odd_lines {
            println!("  {line}");
        }
    }
}
