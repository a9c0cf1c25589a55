//! Our visits as FHIR R4 resources: each visit an Encounter, each booked session an
//! Appointment, gathered in a `searchset` Bundle. Pure: the server reads the visits (as far as
//! the reader may) and the names, and wraps what this makes.
//!
//! Every resource stands alone: the patient, the staff and the room are `contained` in it and
//! referred to as `#patient`, `#staff-N` and `#room`, each contained Practitioner and Location
//! carrying our id as a `urn:uuid:` identifier.

use super::datetime::instant;
use super::resources::*;
use super::{appointment_status, encounter_status};
use crate::ids::{RoomId, StaffId};
use crate::time::{Span, Timestamp};
use crate::visit::{Change, Priority, Visit};
use std::collections::BTreeMap;

/// The identifier system for our own ids (RFC 3986 URIs, here `urn:uuid:`).
pub const URI_SYSTEM: &str = "urn:ietf:rfc:3986";
const ACT_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
const PARTICIPATION: &str = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType";
const ACT_PRIORITY: &str = "http://terminology.hl7.org/CodeSystem/v3-ActPriority";

/// The names a resource shows for the ids a visit holds.
#[derive(Clone, Debug, Default)]
pub struct Names {
    pub staff: BTreeMap<StaffId, String>,
    pub rooms: BTreeMap<RoomId, String>,
}

/// An Appointment's identifier in the system that booked it, and how long it was booked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExternalBooking {
    pub system: String,
    pub value: String,
    pub minutes: Option<u32>,
}

fn uuid_identifier(id: impl std::fmt::Display) -> Identifier {
    Identifier {
        system: Some(URI_SYSTEM.into()),
        value: Some(format!("urn:uuid:{id}")),
    }
}

fn text(s: impl Into<String>) -> CodeableConcept {
    CodeableConcept {
        coding: Vec::new(),
        text: Some(s.into()),
    }
}

fn participation(code: &str, display: &str) -> Vec<CodeableConcept> {
    vec![CodeableConcept {
        coding: vec![Coding::new(PARTICIPATION, code, display)],
        text: None,
    }]
}

fn local(id: &str, display: Option<String>) -> Reference {
    Reference {
        reference: Some(format!("#{id}")),
        identifier: None,
        display,
    }
}

/// The patient as a contained Patient (`#patient`).
fn patient(visit: &Visit) -> Contained {
    let contact = visit.patient.contact.as_ref();
    let telecom = contact
        .into_iter()
        .flat_map(|c| {
            let email = c.email.as_ref().map(|e| ("email", e.as_str()));
            let phone = c.phone.as_ref().map(|p| ("phone", p.as_str()));
            email.into_iter().chain(phone)
        })
        .map(|(system, value)| ContactPoint {
            system: Some(system.into()),
            value: Some(value.into()),
        })
        .collect();
    Contained::Patient {
        id: "patient".into(),
        name: vec![HumanName {
            text: Some(visit.patient.name.to_string()),
            ..HumanName::default()
        }],
        telecom,
    }
}

/// The room as a contained Location (`#room`).
fn room(visit: &Visit, names: &Names) -> (Contained, String) {
    let name = names
        .rooms
        .get(&visit.room_id)
        .cloned()
        .unwrap_or_else(|| "Room".into());
    let location = Contained::Location {
        id: "room".into(),
        identifier: vec![uuid_identifier(visit.room_id)],
        name: Some(name.clone()),
    };
    (location, name)
}

/// The members of staff a resource names, each contained once as `#staff-N`.
#[derive(Default)]
struct Practitioners {
    ids: Vec<StaffId>,
}

impl Practitioners {
    fn refer(&mut self, id: StaffId, names: &Names) -> Reference {
        let n = match self.ids.iter().position(|s| *s == id) {
            Some(n) => n,
            None => {
                self.ids.push(id);
                self.ids.len() - 1
            }
        };
        local(&format!("staff-{}", n + 1), names.staff.get(&id).cloned())
    }

    fn contained(&self, names: &Names) -> impl Iterator<Item = Contained> + '_ {
        let names = names.clone();
        self.ids
            .iter()
            .enumerate()
            .map(move |(n, id)| Contained::Practitioner {
                id: format!("staff-{}", n + 1),
                identifier: vec![uuid_identifier(id)],
                name: names
                    .staff
                    .get(id)
                    .map(|name| HumanName {
                        text: Some(name.clone()),
                        ..HumanName::default()
                    })
                    .into_iter()
                    .collect(),
                telecom: Vec::new(),
            })
    }
}

/// Who provides the visit: the booked, assigned or requested provider, whoever accepted the
/// request, else whoever first took the patient into a call.
fn provider(visit: &Visit) -> Option<StaffId> {
    let accepted = visit.history.iter().find_map(|e| match e.change {
        Change::RequestAccepted { provider, .. } => Some(provider),
        _ => None,
    });
    let claimed = visit.history.iter().find_map(|e| match e.change {
        Change::Claimed { staff } => Some(staff),
        _ => None,
    });
    visit
        .booking
        .as_ref()
        .map(|b| b.provider)
        .or(visit.assigned_provider)
        .or(accepted)
        .or(visit.requested_provider)
        .or(claimed)
}

/// When each member of staff was with the patient: from their first claim or join to when
/// they left the call or it ended (open while they are still in it).
fn staff_periods(visit: &Visit) -> Vec<(StaffId, Timestamp, Option<Timestamp>)> {
    let mut periods: Vec<(StaffId, Timestamp, Option<Timestamp>)> = Vec::new();
    for e in &visit.history {
        match &e.change {
            Change::Claimed { staff } | Change::Joined { staff } => {
                match periods.iter_mut().find(|p| p.0 == *staff) {
                    Some(p) => p.2 = None,
                    None => periods.push((*staff, e.at, None)),
                }
            }
            Change::RequestAccepted {
                provider,
                enter: true,
            } if !periods.iter().any(|p| p.0 == *provider) => {
                periods.push((*provider, e.at, None));
            }
            Change::LeftCall { staff } => {
                if let Some(p) = periods.iter_mut().find(|p| p.0 == *staff) {
                    p.2 = Some(e.at);
                }
            }
            Change::CallEnded | Change::PutOnHold => {
                for p in periods.iter_mut().filter(|p| p.2.is_none()) {
                    p.2 = Some(e.at);
                }
            }
            _ => {}
        }
    }
    periods
}

/// When the encounter began: the patient's arrival, else the session's start, else when it
/// was opened.
fn began(visit: &Visit) -> Timestamp {
    visit
        .arrived_at
        .or(visit.booking.as_ref().map(|b| b.starts_at))
        .unwrap_or(visit.created_at)
}

/// The instant a visit is dated by (its encounter's start), for searching by date.
pub fn encounter_date(visit: &Visit) -> Timestamp {
    began(visit)
}

/// A visit as an R4 Encounter. `visit` is as the reader may see it, with its history.
pub fn encounter(visit: &Visit, names: &Names) -> Encounter {
    let mut staff = Practitioners::default();
    let main = provider(visit);
    let mut participant = Vec::new();
    let periods = staff_periods(visit);
    if let Some(p) = main.filter(|p| !periods.iter().any(|s| s.0 == *p)) {
        participant.push(EncounterParticipant {
            kind: participation("PPRF", "primary performer"),
            period: None,
            individual: staff.refer(p, names),
        });
    }
    for (id, from, to) in periods {
        let (code, display) = if Some(id) == main {
            ("PPRF", "primary performer")
        } else {
            ("PART", "Participation")
        };
        participant.push(EncounterParticipant {
            kind: participation(code, display),
            period: Some(Period {
                start: Some(instant(from)),
                end: to.map(instant),
            }),
            individual: staff.refer(id, names),
        });
    }

    let mut status_history: Vec<StatusHistory> = Vec::new();
    for e in &visit.history {
        let code = encounter_status(e.status);
        if status_history.last().is_some_and(|h| h.status == code) {
            continue;
        }
        if let Some(last) = status_history.last_mut() {
            last.period.end = Some(instant(e.at));
        }
        status_history.push(StatusHistory {
            status: code.into(),
            period: Period {
                start: Some(instant(e.at)),
                end: None,
            },
        });
    }

    let (location, room_name) = room(visit, names);
    let mut contained = vec![patient(visit)];
    contained.extend(staff.contained(names));
    contained.push(location);
    let service = visit
        .booking
        .as_ref()
        .and_then(|b| b.service_type.as_ref())
        .map_or_else(|| room_name.clone(), ToString::to_string);
    let (code, display) = match visit.priority {
        Priority::Routine => ("R", "routine"),
        Priority::Urgent => ("UR", "urgent"),
        Priority::Emergency => ("EM", "emergency"),
    };
    Encounter {
        resource_type: "Encounter".into(),
        id: visit.id.to_string(),
        contained,
        status: encounter_status(visit.status).into(),
        status_history,
        class: Coding::new(ACT_CODE, "VR", "virtual"),
        service_type: Some(text(service)),
        priority: Some(CodeableConcept {
            coding: vec![Coding::new(ACT_PRIORITY, code, display)],
            text: None,
        }),
        subject: local("patient", Some(visit.patient.name.to_string())),
        participant,
        appointment: visit
            .booking
            .iter()
            .map(|_| Reference {
                reference: Some(format!("Appointment/{}", visit.id)),
                ..Reference::default()
            })
            .collect(),
        period: Period {
            start: Some(instant(began(visit))),
            end: visit
                .status
                .is_terminal()
                .then(|| instant(visit.updated_at.max(began(visit)))),
        },
        location: vec![EncounterLocation {
            location: local("room", Some(room_name)),
        }],
    }
}

/// A booked session as an R4 Appointment; None for a visit that was not booked.
pub fn appointment(
    visit: &Visit,
    names: &Names,
    external: Option<&ExternalBooking>,
) -> Option<Appointment> {
    let booking = visit.booking.as_ref()?;
    let mut staff = Practitioners::default();
    let accepted = Some("accepted".to_owned());
    let mut participant = vec![AppointmentParticipant {
        kind: Vec::new(),
        actor: Some(local("patient", Some(visit.patient.name.to_string()))),
        status: accepted.clone(),
    }];
    participant.push(AppointmentParticipant {
        kind: participation("PPRF", "primary performer"),
        actor: Some(staff.refer(booking.provider, names)),
        status: accepted.clone(),
    });
    for id in booking.staff.iter().filter(|s| **s != booking.provider) {
        participant.push(AppointmentParticipant {
            kind: participation("PART", "Participation"),
            actor: Some(staff.refer(*id, names)),
            status: accepted.clone(),
        });
    }
    // The first guest is the patient; the others by name.
    for guest in booking.guests.iter().skip(1) {
        participant.push(AppointmentParticipant {
            kind: participation("PART", "Participation"),
            actor: Some(Reference {
                display: Some(guest.name.to_string()),
                ..Reference::default()
            }),
            status: accepted.clone(),
        });
    }
    let (location, room_name) = room(visit, names);
    participant.push(AppointmentParticipant {
        kind: Vec::new(),
        actor: Some(local("room", Some(room_name))),
        status: accepted,
    });
    let mut contained = vec![patient(visit)];
    contained.extend(staff.contained(names));
    contained.push(location);
    let mut identifier: Vec<Identifier> = external
        .map(|e| Identifier {
            system: Some(e.system.clone()),
            value: Some(e.value.clone()),
        })
        .into_iter()
        .collect();
    identifier.push(uuid_identifier(visit.id));
    let minutes = external.and_then(|e| e.minutes);
    Some(Appointment {
        resource_type: "Appointment".into(),
        id: Some(visit.id.to_string()),
        contained,
        identifier,
        status: Some(appointment_status(visit.status).into()),
        service_type: booking
            .service_type
            .iter()
            .map(|s| text(s.to_string()))
            .collect(),
        start: Some(instant(booking.starts_at)),
        end: minutes.map(|m| instant(booking.starts_at + Span::from_mins(i64::from(m)))),
        minutes_duration: minutes,
        created: Some(instant(visit.created_at)),
        participant,
    })
}

/// A `searchset` Bundle of `resources`, each at `{base}/{kind}/{id}`, all matches.
pub fn searchset<R>(
    kind: &str,
    base: &str,
    self_url: &str,
    resources: Vec<(String, R)>,
) -> Bundle<R> {
    Bundle {
        resource_type: "Bundle".into(),
        kind: "searchset".into(),
        total: Some(resources.len()),
        link: vec![BundleLink {
            relation: "self".into(),
            url: self_url.into(),
        }],
        entry: resources
            .into_iter()
            .map(|(id, resource)| BundleEntry {
                full_url: Some(format!("{base}/{kind}/{id}")),
                resource: Some(resource),
                search: Some(BundleSearch {
                    mode: "match".into(),
                }),
                request: None,
                response: None,
            })
            .collect(),
    }
}
