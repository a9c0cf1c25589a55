//! The demo clinic: a seed (Reception plus two providers' rooms, staff accounts with known
//! passwords) and a simulator that keeps patients arriving, being seen and leaving, so a
//! console pointed at it has something real to show. Used by `frontdesk-server demo` and by the
//! console's demo mode.

use crate::admin::{self, NewRoom, NewStaff};
use crate::auth::HashCost;
use crate::clock::Clock;
use crate::error::AppError;
use crate::model::{
    AfterHours, Clinic, IntakeQuestion, OfficeHours, QuestionKind, RoomInfo, Session, StaffInfo,
};
use crate::service;
use crate::store::Store;
use frontdesk_domain::{
    Command, IntakeAnswer, Label, Patient, PersonName, Role, Status, Timestamp, Visit,
};
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

pub const DEMO_SLUG: &str = "demo";

/// A staff account of the demo clinic, password included (it is a demo).
#[derive(Clone, Debug)]
pub struct DemoAccount {
    pub name: &'static str,
    pub email: &'static str,
    pub password: &'static str,
    pub pin: &'static str,
    pub roles: &'static [Role],
}

pub const ACCOUNTS: &[DemoAccount] = &[
    DemoAccount {
        name: "Alex Admin",
        email: "admin@demo.clinic",
        password: "demo-admin",
        pin: "1111",
        roles: &[Role::Admin],
    },
    DemoAccount {
        name: "Rita Reception",
        email: "reception@demo.clinic",
        password: "demo-reception",
        pin: "2222",
        roles: &[Role::Receptionist],
    },
    DemoAccount {
        name: "Dr. Priya Shah",
        email: "priya@demo.clinic",
        password: "demo-provider",
        pin: "3333",
        roles: &[Role::Provider],
    },
    DemoAccount {
        name: "Dr. Omar Haddad",
        email: "omar@demo.clinic",
        password: "demo-provider",
        pin: "4444",
        roles: &[Role::Provider],
    },
    DemoAccount {
        name: "Sam Scheduler",
        email: "scheduler@demo.clinic",
        password: "demo-scheduler",
        pin: "5555",
        roles: &[Role::Scheduler],
    },
];

/// The simulator acts as these two, so people's own calls are never touched.
const SIM_DESK: &str = "sim-desk@demo.clinic";
const SIM_PROVIDER: &str = "sim-provider@demo.clinic";

#[derive(Clone, Debug)]
pub struct DemoClinic {
    pub clinic: Clinic,
    pub reception: RoomInfo,
    pub rooms: Vec<RoomInfo>,
    pub staff: Vec<StaffInfo>,
}

impl DemoClinic {
    pub fn staff_by_email(&self, email: &str) -> Option<&StaffInfo> {
        self.staff.iter().find(|s| s.email == email)
    }
}

/// Office hours that take in `at` (the demo clinic keeps UTC): every day from two hours
/// before it (on the hour) to eight hours after, within the day. A demo is opened at any hour,
/// and its front door should be open then, its patients not all "after hours"; one opened in
/// the first two hours of a day is open all day, as its morning (see [`morning`]) began
/// before midnight.
pub fn hours_around(at: Timestamp) -> Vec<OfficeHours> {
    let minute = at.as_millis().rem_euclid(86_400_000) / 60_000;
    let (opens, closes) = if minute < 120 {
        (0, 23 * 60 + 59)
    } else {
        (
            (minute - 120) / 60 * 60,
            (minute + 8 * 60).min(23 * 60 + 59),
        )
    };
    let hhmm = |m: i64| format!("{:02}:{:02}", m / 60, m % 60);
    (0..7)
        .map(|day| OfficeHours {
            day,
            opens: hhmm(opens),
            closes: hhmm(closes),
        })
        .collect()
}

/// Seeds the demo clinic, or finds it if this database already has it, for a server on the
/// system clock. A server whose clock is moved seeds with [`seed_demo_at`] and its clock.
pub async fn seed_demo(store: &dyn Store, cost: HashCost) -> Result<DemoClinic, AppError> {
    seed_demo_at(store, cost, &Clock::system()).await
}

/// Seeds the demo clinic as [`seed_demo`] does, its setup stamped by `clock`.
pub async fn seed_demo_at(
    store: &dyn Store,
    cost: HashCost,
    clock: &Clock,
) -> Result<DemoClinic, AppError> {
    if let Some(clinic) = store.clinic_by_slug(DEMO_SLUG).await? {
        return load(store, clinic).await;
    }
    let clinic = admin::create_clinic(store, DEMO_SLUG, "Demo Family Clinic").await?;
    // Jitsi Meet makes a room for any name, so the demo's call links open a real call.
    let video = admin::ClinicSettings {
        video_link_template: Some("https://meet.jit.si/frontdesk-{clinic}-{visit}".into()),
        ..admin::ClinicSettings::default()
    };
    let clinic = admin::update_clinic(store, clinic.id, video).await?;
    let reception = admin::create_room(
        store,
        clinic.id,
        NewRoom {
            name: "Reception".into(),
            office_hours: hours_around(clock.now()),
            // Should the demo run past its hours, the front door still lets patients wait.
            after_hours: AfterHours::Accept,
            show_place_in_line: true,
            minutes_per_patient: Some(10),
            emergency_info: Some(
                "In an emergency call 000 or go to your nearest emergency department.".into(),
            ),
            waiting_message: Some(
                "Thanks for waiting. The front desk will be with you shortly.".into(),
            ),
            intake_questions: vec![
                "Reason for visit".into(),
                "Date of birth".into(),
                IntakeQuestion {
                    label: "First visit to the clinic?".into(),
                    kind: QuestionKind::YesNo,
                    options: Vec::new(),
                },
            ],
            ..NewRoom::default()
        },
        clock.now(),
    )
    .await?;
    let mut staff = Vec::new();
    for a in ACCOUNTS {
        let rooms = if a.roles.contains(&Role::Receptionist) || a.roles.contains(&Role::Provider) {
            vec![reception.id]
        } else {
            vec![]
        };
        staff.push(
            create(
                store,
                &clinic,
                a.name,
                a.email,
                a.password,
                Some(a.pin),
                a.roles,
                rooms,
                cost,
                clock,
            )
            .await?,
        );
    }
    let sim_password = crate::auth::new_token("sim_")?;
    staff.push(
        create(
            store,
            &clinic,
            "Desk Bot (simulated)",
            SIM_DESK,
            &sim_password,
            None,
            &[Role::Receptionist],
            vec![reception.id],
            cost,
            clock,
        )
        .await?,
    );
    staff.push(
        create(
            store,
            &clinic,
            "Dr. Sim (simulated)",
            SIM_PROVIDER,
            &sim_password,
            None,
            &[Role::Provider],
            vec![reception.id],
            cost,
            clock,
        )
        .await?,
    );
    for email in ["priya@demo.clinic", "omar@demo.clinic"] {
        if let Some(p) = staff.iter().find(|s| s.email == email) {
            store
                .set_availability(
                    clinic.id,
                    p.id,
                    frontdesk_domain::Availability::Available,
                    clock.now(),
                )
                .await?;
            let surname = p.name.rsplit(' ').next().unwrap_or("Provider");
            admin::create_room(
                store,
                clinic.id,
                NewRoom {
                    name: format!("Dr. {surname}'s room"),
                    provider: Some(p.id),
                    office_hours: hours_around(clock.now()),
                    after_hours: AfterHours::Accept,
                    waiting_message: Some(format!("Dr. {surname} will see you soon.")),
                    ..NewRoom::default()
                },
                clock.now(),
            )
            .await?;
        }
    }
    load(store, clinic).await
}

#[allow(clippy::too_many_arguments)]
async fn create(
    store: &dyn Store,
    clinic: &Clinic,
    name: &str,
    email: &str,
    password: &str,
    pin: Option<&str>,
    roles: &[Role],
    rooms: Vec<frontdesk_domain::RoomId>,
    cost: HashCost,
    clock: &Clock,
) -> Result<StaffInfo, AppError> {
    admin::create_staff(
        store,
        clinic.id,
        NewStaff {
            name: name.into(),
            email: email.into(),
            roles: roles.to_vec(),
            password: password.into(),
            pin: pin.map(Into::into),
            // The front desk watches over every room.
            all_rooms: roles.contains(&Role::Receptionist),
            rooms,
            availability: None,
            phone: None,
        },
        cost,
        clock.now(),
    )
    .await
}

async fn load(store: &dyn Store, clinic: Clinic) -> Result<DemoClinic, AppError> {
    let rooms = store.rooms(clinic.id).await?;
    let reception = rooms
        .iter()
        .find(|r| r.provider.is_none())
        .cloned()
        .ok_or(AppError::NotFound("demo reception room"))?;
    Ok(DemoClinic {
        staff: store.staff(clinic.id).await?,
        clinic,
        reception,
        rooms,
    })
}

/// A small generator, so a simulated day needs no dependency and can be replayed from its seed
/// (the demo's simulator, and the console's soak benchmark).
#[derive(Debug)]
pub struct Dice(u64);

impl Dice {
    /// A generator for `seed` (any value, 0 included).
    pub fn seeded(seed: u64) -> Self {
        Dice(seed.max(1).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number in `lo..=hi`.
    pub fn between(&mut self, lo: u32, hi: u32) -> u32 {
        lo + (self.next() % u64::from(hi - lo + 1)) as u32
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// True `percent` times in a hundred.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    /// A fraction in `0..1`.
    pub fn fraction(&mut self) -> f64 {
        (self.next() % 1_000_000) as f64 / 1_000_000.0
    }
}

const FIRST: &[&str] = &[
    "Ana", "Ben", "Chloe", "Dev", "Ella", "Finn", "Grace", "Hiro", "Isla", "Jack", "Kai", "Lena",
    "Mia", "Noah", "Olive", "Ravi", "Sofia", "Tom", "Uma", "Zoe",
];
const LAST: &[&str] = &["P.", "K.", "M.", "T.", "R.", "W.", "N.", "L.", "S.", "B."];
const REASONS: &[&str] = &[
    "Sore throat",
    "Repeat prescription",
    "Follow-up on test results",
    "Rash on arm",
    "Back pain",
    "Travel vaccination advice",
];

/// Keeps patients arriving, filling the intake, being seen, put on hold, seen again and leaving,
/// one step per `tick`, until `shutdown` completes. Errors (someone else got there first) are
/// part of a busy clinic and are skipped.
pub async fn simulate(
    store: Arc<dyn Store>,
    clock: Clock,
    demo: DemoClinic,
    tick: Duration,
    shutdown: impl Future<Output = ()> + Send,
) {
    let session = |email: &str| {
        demo.staff_by_email(email).map(|s| Session {
            staff: s.clone(),
            station: None,
            expires_at: i64::MAX,
            provider_of: None,
        })
    };
    let (Some(desk), Some(doctor)) = (session(SIM_DESK), session(SIM_PROVIDER)) else {
        tracing::warn!("demo simulator: simulated staff missing; not simulating");
        return;
    };
    let mut dice = Dice::seeded(clock.now().as_millis() as u64);
    if let Err(e) = morning(store.as_ref(), clock.now(), &demo, &doctor, &mut dice).await {
        tracing::warn!(error = %e, "demo simulator: no morning queue");
    }
    let mut interval = tokio::time::interval(tick);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => return,
            _ = interval.tick() => {
                let at = clock.now();
                if let Err(e) = step(store.as_ref(), at, &demo, &desk, &doctor, &mut dice, tick).await {
                    tracing::debug!(error = %e, "demo simulator step skipped");
                }
            }
        }
    }
}

fn idle_for(v: &Visit, now: Timestamp) -> Duration {
    let last = v.updated_at;
    Duration::from_millis(now.since(last).as_millis().max(0) as u64)
}

fn patient_name(dice: &mut Dice) -> Result<Patient, AppError> {
    let name = format!(
        "{} {}",
        FIRST[dice.below(FIRST.len())],
        LAST[dice.below(LAST.len())]
    );
    Ok(Patient {
        name: PersonName::parse(&name)?,
        contact: None,
    })
}

/// The patient fills in the intake form and says it is done.
async fn fill_intake(
    store: &dyn Store,
    at: Timestamp,
    v: &Visit,
    dice: &mut Dice,
) -> Result<(), AppError> {
    let mut answers = BTreeMap::new();
    answers.insert(
        Label::parse("Reason for visit")?,
        IntakeAnswer::parse(REASONS[dice.below(REASONS.len())])?,
    );
    service::patient_command(store, at, v, Command::UpdateIntake { answers }).await?;
    let v = store
        .visit(v.clinic_id, v.id)
        .await?
        .ok_or(AppError::NotFound("visit"))?;
    service::patient_command(store, at, &v, Command::FinishIntake).await?;
    Ok(())
}

/// When the morning's patients came in, in minutes before the demo started.
const MORNING_ARRIVALS: [i64; 10] = [48, 41, 27, 22, 18, 14, 11, 7, 4, 2];

/// A clinic morning from the first second: patients who came in over the last hour, most
/// through the intake form and waiting, and two the doctor has already seen today.
async fn morning(
    store: &dyn Store,
    now: Timestamp,
    demo: &DemoClinic,
    doctor: &Session,
    dice: &mut Dice,
) -> Result<(), AppError> {
    let open = store.open_visits(demo.clinic.id).await?;
    if open.iter().filter(|v| v.status.is_waiting()).count() >= 5 {
        return Ok(());
    }
    let minutes_ago = |m: i64| Timestamp::from_millis(now.as_millis() - m * 60_000);
    for (i, ago) in MORNING_ARRIVALS.into_iter().enumerate() {
        let at = minutes_ago(ago);
        let room = if i % 4 == 3 {
            demo.rooms[dice.below(demo.rooms.len())].clone()
        } else {
            demo.reception.clone()
        };
        let opened = service::arrive(
            store,
            at,
            &demo.clinic.slug,
            room.id,
            patient_name(dice)?,
            None,
        )
        .await?;
        let v = opened.visit;
        // The newest is still on the form.
        if ago > 2 && v.status == Status::Intake {
            fill_intake(store, minutes_ago(ago - 1), &v, dice).await?;
        }
        // The first two came early and have been seen.
        if i < 2 {
            let v = store
                .visit(v.clinic_id, v.id)
                .await?
                .ok_or(AppError::NotFound("visit"))?;
            let seen = service::staff_command(
                store,
                minutes_ago(ago - 4),
                doctor,
                v.id,
                Command::Claim,
                Some(v.version),
                None,
            )
            .await?;
            let version = Some(seen.reply.visit.version);
            service::staff_command(
                store,
                minutes_ago(ago - 15),
                doctor,
                v.id,
                Command::EndCall,
                version,
                None,
            )
            .await?;
        }
    }
    Ok(())
}

/// How likely a new patient walks in this tick, by how many wait: the line builds to 5–15 and
/// hovers there, as on a busy morning.
fn arrival_chance(waiting: usize) -> u64 {
    match waiting {
        0..5 => 60,
        5..12 => 30,
        12..15 => 15,
        _ => 0,
    }
}

async fn step(
    store: &dyn Store,
    at: Timestamp,
    demo: &DemoClinic,
    desk: &Session,
    doctor: &Session,
    dice: &mut Dice,
    tick: Duration,
) -> Result<(), AppError> {
    let open = store.open_visits(demo.clinic.id).await?;
    let waiting = open.iter().filter(|v| v.status.is_waiting()).count();
    if dice.chance(arrival_chance(waiting)) {
        let room = if dice.chance(70) {
            demo.reception.clone()
        } else {
            demo.rooms[dice.below(demo.rooms.len())].clone()
        };
        service::arrive(
            store,
            at,
            &demo.clinic.slug,
            room.id,
            patient_name(dice)?,
            None,
        )
        .await?;
        return Ok(());
    }
    // A form filled in takes the patient a little while.
    if let Some(v) = open
        .iter()
        .find(|v| v.status == Status::Intake && idle_for(v, at) >= tick * 2)
    {
        return fill_intake(store, at, v, dice).await;
    }
    if let Some(v) = open
        .iter()
        .find(|v| v.status == Status::Waiting && idle_for(v, at) >= tick * 4)
        && dice.chance(3)
    {
        service::patient_command(store, at, v, Command::Leave).await?;
        return Ok(());
    }
    // The simulated staff see one patient at a time, and a call takes a while: the line builds.
    for who in [desk, doctor] {
        let me = who.staff.id;
        if let Some(v) = open.iter().find(|v| v.in_call.contains(&me)) {
            if idle_for(v, at) >= tick * 8 {
                let command = if me == desk.staff.id {
                    Command::LeaveCall
                } else {
                    Command::EndCall
                };
                service::staff_command(store, at, who, v.id, command, Some(v.version), None)
                    .await?;
                return Ok(());
            }
            continue;
        }
        // Free: the desk takes Reception's next patient; the doctor those on hold first, then
        // the next in any room.
        let mine = |v: &&Visit| {
            idle_for(v, at) >= tick * 3
                && if me == desk.staff.id {
                    v.room_id == demo.reception.id && v.status == Status::Waiting
                } else {
                    matches!(v.status, Status::Waiting | Status::OnHold)
                        && (v.status == Status::OnHold || v.room_id != demo.reception.id)
                }
        };
        let next = frontdesk_domain::queue::queue(open.iter().filter(mine))
            .into_iter()
            .next();
        if let Some(v) = next
            && dice.chance(50)
        {
            service::staff_command(store, at, who, v.id, Command::Claim, Some(v.version), None)
                .await?;
            return Ok(());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minutes(hhmm: &str) -> i64 {
        let (h, m) = hhmm.split_once(':').unwrap();
        h.parse::<i64>().unwrap() * 60 + m.parse::<i64>().unwrap()
    }

    #[test]
    fn the_demo_is_open_whenever_it_is_started() {
        for hour in 0..24 {
            for minute in [0, 1, 30, 59] {
                let at = Timestamp::from_millis(1_796_256_000_000 + (hour * 60 + minute) * 60_000);
                let hours = hours_around(at);
                assert_eq!(hours.len(), 7, "every day");
                let now = hour * 60 + minute;
                for h in &hours {
                    let (o, c) = (minutes(&h.opens), minutes(&h.closes));
                    assert!(
                        o <= now && now < c || (now == 23 * 60 + 59 && c == now),
                        "{hour}:{minute} in {h:?}"
                    );
                    // The morning's first patient came in open hours too, even the day before.
                    let first = (now - MORNING_ARRIVALS[0]).rem_euclid(24 * 60);
                    assert!(o <= first && first < c, "{hour}:{minute}: {first} in {h:?}");
                    assert!(crate::hours::minutes_of(&h.opens).is_some());
                    assert!(crate::hours::minutes_of(&h.closes).is_some());
                }
            }
        }
    }

    #[test]
    fn the_line_builds_to_between_five_and_fifteen() {
        assert!(arrival_chance(0) > arrival_chance(8));
        assert!(arrival_chance(8) > 0);
        assert_eq!(arrival_chance(15), 0);
    }
}
