//! How long a month's report takes for a busy clinic. Seeds November 2026 at the demo clinic,
//! 200 patients a day (6,000 visits), each through the server's own write path with a history
//! like a real one (arrival, intake, triage at the desk, on hold, the provider's call; some
//! declined, some who left, a few booked sessions nobody came to), then asks for the month's
//! report over HTTP, again and again, and prints its median beside two floors from the same
//! run: a trivial signed-in request (`GET /v1/me`) and the report of an empty month.
//!
//! ```sh
//! cargo run --release -p frontdesk-server --example report_timing -- [--postgres] [RUNS]
//! ```

use frontdesk_domain::{
    Booking, Command, Guest, IntakeAnswer, Label, Note, Patient, PersonName, Span, Timestamp,
};
use frontdesk_server::model::Session;
use frontdesk_server::service::{self, Repeat};
use frontdesk_server::store::Store;
use frontdesk_testkit::{ADMIN, Backend, TestServer};
use std::collections::BTreeMap;
use std::io::Write;
use std::time::{Duration, Instant};

/// 2026-11-01 00:00 UTC (the demo clinic keeps UTC).
const NOVEMBER: i64 = 1_793_491_200_000;
const DAYS: i64 = 30;
const PER_DAY: i64 = 200;
const MIN: i64 = 60_000;

/// A small deterministic generator, so every run seeds the same month.
struct Dice(u64);

impl Dice {
    fn below(&mut self, n: i64) -> i64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as i64
    }
}

fn session(server: &TestServer, email: &str) -> Session {
    Session {
        staff: server
            .demo()
            .staff_by_email(email)
            .expect("a demo account")
            .clone(),
        station: None,
        expires_at: i64::MAX,
        provider_of: None,
    }
}

struct Staff {
    desk: Session,
    doctors: [Session; 2],
    scheduler: Session,
}

/// One patient's visit, from the front door to its end, at times after `arrives`.
async fn one_visit(
    store: &dyn Store,
    server: &TestServer,
    staff: &Staff,
    arrives: Timestamp,
    dice: &mut Dice,
) -> anyhow::Result<()> {
    let at = |after_min: i64| arrives + Span::from_millis(after_min * MIN + dice_ms(after_min));
    let demo = server.demo();
    let name = PersonName::parse(&format!("Patient {}", dice.below(100_000)))?;
    let patient = Patient {
        name,
        contact: None,
    };
    let opened = service::arrive(store, arrives, "demo", demo.reception.id, patient, None).await?;
    let mut visit = opened.visit;
    let mut answers = BTreeMap::new();
    answers.insert(
        Label::parse("Reason for visit")?,
        IntakeAnswer::parse("Sore throat")?,
    );
    let c =
        service::patient_command(store, at(1), &visit, Command::UpdateIntake { answers }).await?;
    visit = c.reply.visit;
    let c = service::patient_command(store, at(2), &visit, Command::FinishIntake).await?;
    visit = c.reply.visit;
    let id = visit.id;
    let mut version = visit.version;
    let mut run = async |who: &Session, at: Timestamp, command: Command| {
        let c = service::staff_command(store, at, who, id, command, Some(version), None).await?;
        version = c.reply.visit.version;
        Ok::<_, anyhow::Error>(())
    };
    let roll = dice.below(100);
    let desk_wait = 2 + dice.below(20);
    if roll < 8 {
        // Declined at the desk.
        let note = Note::parse("Please see your GP for this")?;
        return run(&staff.desk, at(desk_wait), Command::Decline { note }).await;
    }
    if roll < 13 {
        // Left before anyone came.
        let visit = store.visit(visit.clinic_id, id).await?.expect("the visit");
        service::patient_command(store, at(desk_wait + 5), &visit, Command::Leave).await?;
        return Ok(());
    }
    let doctor = &staff.doctors[dice.below(2) as usize];
    run(&staff.desk, at(desk_wait), Command::Claim).await?;
    run(&staff.desk, at(desk_wait + 3), Command::LeaveCall).await?;
    let provider_wait = desk_wait + 5 + dice.below(40);
    run(doctor, at(provider_wait), Command::Claim).await?;
    run(
        doctor,
        at(provider_wait + 5 + dice.below(20)),
        Command::EndCall,
    )
    .await?;
    Ok(())
}

/// A little jitter in the seconds, so no two waits are alike.
fn dice_ms(minute: i64) -> i64 {
    (minute * 7_919) % 60_000
}

/// A booked session nobody came to, marked no-show half an hour after its start.
async fn no_show(
    store: &dyn Store,
    server: &TestServer,
    staff: &Staff,
    starts: Timestamp,
) -> anyhow::Result<()> {
    let doctor = &staff.doctors[0];
    let room = server
        .demo()
        .rooms
        .iter()
        .find(|r| r.name.contains("Shah"))
        .expect("Dr. Shah's room");
    let booking = Booking {
        provider: doctor.staff.id,
        starts_at: starts,
        duration_mins: frontdesk_domain::booking::DEFAULT_DURATION_MINS,
        guests: vec![Guest {
            name: PersonName::parse("Absent Guest")?,
            contact: frontdesk_domain::Contact::parse(None, Some("guest@example.org"))?,
            arrived: false,
        }],
        service_type: None,
        location: None,
        staff: Vec::new(),
    };
    let booked_at = starts - Span::from_mins(24 * 60);
    let once = Repeat {
        weeks: 1,
        include_me: false,
    };
    let opened = service::schedule(
        store,
        booked_at,
        &staff.scheduler,
        room.id,
        booking,
        once,
        None,
    )
    .await?;
    let visit = &opened[0].visit;
    service::system_command(
        store,
        starts + Span::from_mins(30),
        visit,
        Command::MarkNoShow,
    )
    .await?;
    Ok(())
}

async fn seed(server: &TestServer) -> anyhow::Result<usize> {
    let store = server.server().store();
    let staff = Staff {
        desk: session(server, "reception@demo.clinic"),
        doctors: [
            session(server, "priya@demo.clinic"),
            session(server, "omar@demo.clinic"),
        ],
        scheduler: session(server, "scheduler@demo.clinic"),
    };
    let mut dice = Dice(0x5eed_1234_abcd_0001);
    let mut visits = 0;
    for day in 0..DAYS {
        let opens = NOVEMBER + day * 24 * 60 * MIN + 8 * 60 * MIN;
        for n in 0..PER_DAY {
            // Spread over ten hours, busier in the morning.
            let minute = (n * n * 600) / (PER_DAY * PER_DAY) + dice.below(3);
            let arrives = Timestamp::from_millis(opens + minute * MIN);
            if n % 40 == 39 {
                no_show(store, server, &staff, arrives).await?;
            } else {
                one_visit(store, server, &staff, arrives, &mut dice).await?;
            }
            visits += 1;
        }
        eprint!("\rseeded {visits} visits");
    }
    eprintln!();
    Ok(visits)
}

fn median(mut times: Vec<Duration>) -> f64 {
    times.sort();
    times[times.len() / 2].as_secs_f64() * 1000.0
}

async fn time_get(server: &TestServer, token: &str, path: &str, runs: usize) -> Vec<Duration> {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        let res = server
            .http
            .get(server.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("answered");
        assert_eq!(res.status(), 200, "{path}");
        res.bytes().await.expect("the body");
        times.push(started.elapsed());
    }
    times
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let backend = if args.iter().any(|a| a == "--postgres") {
        Backend::Postgres
    } else {
        Backend::Sqlite
    };
    let runs: usize = args.iter().find_map(|a| a.parse().ok()).unwrap_or(30);
    let server = TestServer::builder()
        .on(backend)
        .demo_clinic()
        .start()
        .await;
    let seeding = Instant::now();
    let visits = seed(&server).await?;
    let seeded_in = seeding.elapsed();
    let token = server.sign_in(ADMIN).await;

    let month = "/v1/reports/summary?period=month&date=2026-11-15";
    let report: serde_json::Value = server
        .http
        .get(server.url(month))
        .bearer_auth(&token)
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(
        report["visits"], visits,
        "every seeded visit is in the month"
    );
    // Warm both paths once, then take turns so the machine's moods fall on all three alike.
    time_get(&server, &token, "/v1/me", 3).await;
    let empty = "/v1/reports/summary?period=month&date=2026-06-15";
    let (mut me, mut full, mut none) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        me.extend(time_get(&server, &token, "/v1/me", 1).await);
        full.extend(time_get(&server, &token, month, 1).await);
        none.extend(time_get(&server, &token, empty, 1).await);
    }
    let csv = "/v1/reports/summary.csv?period=month&date=2026-11-15";
    let csv_times = time_get(&server, &token, csv, runs).await;
    let (me, full, none, csv_ms) = (median(me), median(full), median(none), median(csv_times));
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "month report, {visits} visits seeded on {backend:?} in {:.1} s; median of {runs} runs:",
        seeded_in.as_secs_f64()
    )?;
    writeln!(out, "  GET /v1/me (floor)             {me:>8.1} ms")?;
    writeln!(out, "  empty month's report (floor)   {none:>8.1} ms")?;
    writeln!(out, "  November's report (JSON)       {full:>8.1} ms")?;
    writeln!(out, "  November's report (CSV)        {csv_ms:>8.1} ms")?;
    writeln!(
        out,
        "  report / me: {:.1}x   report / empty month: {:.1}x   target < 200 ms: {}",
        full / me,
        full / none,
        if full < 200.0 { "met" } else { "missed" }
    )?;
    Ok(())
}
