//! A small clinic for the domain tests: Reception and two providers' rooms, four staff.
#![allow(dead_code, unreachable_pub)]

use frontdesk_domain::*;
use std::collections::BTreeMap;

pub const CLINIC: ClinicId = ClinicId::from_u128(1);
pub const RECEPTION: RoomId = RoomId::from_u128(10);
pub const DR_LEE_ROOM: RoomId = RoomId::from_u128(11);
pub const DR_OKAFOR_ROOM: RoomId = RoomId::from_u128(12);

pub const ADMIN: StaffId = StaffId::from_u128(100);
pub const RECEPTIONIST: StaffId = StaffId::from_u128(101);
pub const DR_LEE: StaffId = StaffId::from_u128(102);
pub const DR_OKAFOR: StaffId = StaffId::from_u128(103);
pub const SCHEDULER: StaffId = StaffId::from_u128(104);

pub const T0: Timestamp = Timestamp::from_millis(1_790_000_000_000);

pub fn admin() -> Actor {
    Actor::staff(ADMIN, &[Role::Admin])
}
pub fn reception() -> Actor {
    Actor::staff(RECEPTIONIST, &[Role::Receptionist])
}
pub fn dr_lee() -> Actor {
    Actor::staff(DR_LEE, &[Role::Provider])
}
pub fn dr_okafor() -> Actor {
    Actor::staff(DR_OKAFOR, &[Role::Provider])
}
pub fn scheduler() -> Actor {
    Actor::staff(SCHEDULER, &[Role::Scheduler])
}

pub fn at(minutes: i64) -> Timestamp {
    T0 + Span::from_mins(minutes)
}

pub fn ctx(actor: Actor, minutes: i64) -> Context {
    Context {
        actor,
        at: at(minutes),
        expected_version: None,
    }
}

pub fn patient(name: &str) -> Patient {
    Patient {
        name: PersonName::parse(name).unwrap(),
        contact: Some(Contact::parse(Some("+61 400 000 000"), None).unwrap()),
    }
}

pub fn note(s: &str) -> Note {
    Note::parse(s).unwrap()
}

pub fn answers(pairs: &[(&str, &str)]) -> BTreeMap<Label, IntakeAnswer> {
    pairs
        .iter()
        .map(|(k, v)| (Label::parse(k).unwrap(), IntakeAnswer::parse(v).unwrap()))
        .collect()
}

pub fn arrive(id: u128, minutes: i64, has_intake: bool) -> Visit {
    open(
        VisitId::from_u128(id),
        CLINIC,
        &ctx(Actor::Patient, minutes),
        Opening::Arrive {
            room: RECEPTION,
            patient: patient("Ana P."),
            has_intake,
            after_hours: false,
        },
    )
    .unwrap()
    .visit
}

pub fn request(id: u128, availability: Availability) -> Outcome {
    open(
        VisitId::from_u128(id),
        CLINIC,
        &ctx(Actor::Patient, 0),
        Opening::Request {
            room: DR_LEE_ROOM,
            patient: patient("Sam R."),
            provider: DR_LEE,
            provider_availability: availability,
        },
    )
    .unwrap()
}

pub fn guest(name: &str, email: &str) -> Guest {
    Guest {
        name: PersonName::parse(name).unwrap(),
        contact: Contact::parse(None, Some(email)).unwrap(),
        arrived: false,
    }
}

pub fn schedule(id: u128) -> Visit {
    open(
        VisitId::from_u128(id),
        CLINIC,
        &ctx(scheduler(), 0),
        Opening::Schedule {
            room: DR_LEE_ROOM,
            booking: Booking {
                provider: DR_LEE,
                starts_at: at(24 * 60),
                duration_mins: 30,
                guests: vec![
                    guest("Mia K.", "mia@example.org"),
                    guest("Joe K.", "joe@example.org"),
                ],
                service_type: Some(Label::parse("Follow-up").unwrap()),
                location: None,
                staff: vec![],
            },
        },
    )
    .unwrap()
    .visit
}

/// Applies a command that must succeed, returning the new visit.
pub fn ok(visit: &Visit, actor: Actor, minutes: i64, command: Command) -> Visit {
    match apply(visit, &ctx(actor, minutes), &command) {
        Ok(outcome) => outcome.visit,
        Err(e) => panic!("{command} on a {} visit failed: {e}", visit.status),
    }
}

/// A visit brought to `status` by the ordinary path.
pub fn visit_in(status: Status) -> Visit {
    use Status::*;
    match status {
        Scheduled => schedule(1),
        Requested => request(1, Availability::Available).visit,
        Intake => arrive(1, 0, true),
        Waiting => arrive(1, 0, false),
        InCall => ok(&visit_in(Waiting), reception(), 1, Command::Claim),
        OnHold => ok(&visit_in(InCall), reception(), 2, Command::LeaveCall),
        Completed => ok(&visit_in(InCall), reception(), 2, Command::EndCall),
        Declined => ok(
            &visit_in(Waiting),
            reception(),
            1,
            Command::Decline {
                note: note("Please call the clinic"),
            },
        ),
        Left => ok(&visit_in(Waiting), Actor::Patient, 1, Command::Leave),
        NoShow => ok(&visit_in(Scheduled), scheduler(), 1, Command::MarkNoShow),
        Cancelled => ok(
            &visit_in(Scheduled),
            scheduler(),
            1,
            Command::Cancel { note: None },
        ),
    }
}

pub fn kinds(visit: &Visit) -> Vec<&'static str> {
    visit.history.iter().map(|e| e.change.kind()).collect()
}
