//! An Appointment sent in by a practice management system, read into what it asks of us:
//! book a session (the patient, the provider, the room, when) or cancel one, keyed by the
//! Appointment's identifier in the sender's system. Pure: matching the practitioner to a
//! member of staff and the location to a room is the server's, from what this reads.

use super::datetime::parse_instant;
use super::resources::{Appointment, ContactPoint, Contained, HumanName, Reference};
use crate::ids::{RoomId, StaffId};
use crate::input::{Contact, Label, PersonName};
use crate::time::Timestamp;
use crate::visit::Guest;

/// Why a resource was refused: a FHIR `issue-type` code, what is wrong, and where (FHIRPath).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Issue {
    pub code: &'static str,
    pub diagnostics: String,
    pub expression: String,
}

impl Issue {
    pub fn new(code: &'static str, at: &str, diagnostics: impl Into<String>) -> Self {
        Self {
            code,
            diagnostics: diagnostics.into(),
            expression: at.to_owned(),
        }
    }
}

/// Who the sender names as the provider: our id (`Practitioner/<id>`, or an identifier
/// `urn:uuid:<id>`) or an email.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PractitionerKey {
    Id(StaffId),
    Email(String),
}

/// Which room: our id (`Location/<id>`) or its name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RoomKey {
    Id(RoomId),
    Name(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Wanted {
    Book {
        starts_at: Timestamp,
        minutes: Option<u32>,
        patient: Guest,
        provider: PractitionerKey,
        /// None: the provider's own room, or the clinic's default.
        room: Option<RoomKey>,
        service_type: Option<Label>,
    },
    Cancel,
}

/// One Appointment, read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Incoming {
    pub system: String,
    pub value: String,
    pub wanted: Wanted,
}

/// The statuses that book a session, and those that cancel it.
const BOOKING: [&str; 3] = ["booked", "pending", "proposed"];
const CANCELLING: [&str; 2] = ["cancelled", "entered-in-error"];
/// The longest session an Appointment may ask for (a day).
const MAX_MINUTES: i64 = 24 * 60;

fn contained<'a>(a: &'a Appointment, r: &Reference) -> Option<&'a Contained> {
    let id = r.reference.as_deref()?.strip_prefix('#')?;
    a.contained.iter().find(|c| c.id() == Some(id))
}

/// What kind of resource a participant's actor is: by its reference (`Patient/…`, `#id` of a
/// contained one).
fn actor_kind<'a>(a: &'a Appointment, r: &'a Reference) -> Option<&'a str> {
    if let Some(c) = contained(a, r) {
        return Some(match c {
            Contained::Patient { .. } => "Patient",
            Contained::Practitioner { .. } => "Practitioner",
            Contained::Location { .. } => "Location",
            Contained::Other => "Other",
        });
    }
    let reference = r.reference.as_deref()?;
    let kind = reference.rsplit('/').nth(1)?;
    Some(kind)
}

fn telecom(points: &[ContactPoint], system: &str) -> Option<String> {
    points
        .iter()
        .find(|p| p.system.as_deref() == Some(system))
        .and_then(|p| p.value.clone())
}

fn first_name(names: &[HumanName]) -> Option<String> {
    names.iter().find_map(HumanName::whole)
}

fn read_patient(a: &Appointment, r: &Reference, at: &str) -> Result<Guest, Issue> {
    let (name, points): (Option<String>, &[ContactPoint]) = match contained(a, r) {
        Some(Contained::Patient { name, telecom, .. }) => (first_name(name), telecom),
        _ => (r.display.clone(), &[]),
    };
    let name = name.ok_or_else(|| {
        Issue::new(
            "required",
            at,
            "the patient needs a name: contain the Patient (name, telecom) and refer to it as #id",
        )
    })?;
    let name = PersonName::parse(&name).map_err(|e| Issue::new("value", at, e.to_string()))?;
    let (email, phone) = (telecom(points, "email"), telecom(points, "phone"));
    let contact = Contact::parse(phone.as_deref(), email.as_deref())
        .map_err(|e| Issue::new("value", &format!("{at}.telecom"), e.to_string()))?;
    Ok(Guest {
        name,
        contact,
        arrived: false,
    })
}

fn uuid_in(s: &str) -> Option<uuid::Uuid> {
    s.strip_prefix("urn:uuid:").unwrap_or(s).parse().ok()
}

fn read_practitioner(a: &Appointment, r: &Reference, at: &str) -> Result<PractitionerKey, Issue> {
    let mut identifiers: Vec<&str> = r
        .identifier
        .iter()
        .filter_map(|i| i.value.as_deref())
        .collect();
    let mut emails = Vec::new();
    if let Some(Contained::Practitioner {
        identifier,
        telecom: points,
        ..
    }) = contained(a, r)
    {
        identifiers.extend(identifier.iter().filter_map(|i| i.value.as_deref()));
        emails.extend(telecom(points, "email"));
    }
    if let Some(id) = r
        .reference
        .as_deref()
        .and_then(|s| s.strip_prefix("Practitioner/"))
        .and_then(uuid_in)
    {
        return Ok(PractitionerKey::Id(StaffId::from_uuid(id)));
    }
    if let Some(id) = identifiers.iter().find_map(|s| uuid_in(s)) {
        return Ok(PractitionerKey::Id(StaffId::from_uuid(id)));
    }
    emails.extend(
        identifiers
            .iter()
            .filter(|s| s.contains('@'))
            .map(|s| (*s).to_owned()),
    );
    emails
        .into_iter()
        .next()
        .map(|e| PractitionerKey::Email(e.trim().to_lowercase()))
        .ok_or_else(|| {
            Issue::new(
                "required",
                at,
                "the practitioner is matched to staff by email (telecom or identifier) or by Practitioner/<id>",
            )
        })
}

fn read_location(a: &Appointment, r: &Reference) -> Option<RoomKey> {
    if let Some(id) = r
        .reference
        .as_deref()
        .and_then(|s| s.strip_prefix("Location/"))
        .and_then(uuid_in)
    {
        return Some(RoomKey::Id(RoomId::from_uuid(id)));
    }
    if let Some(Contained::Location {
        identifier, name, ..
    }) = contained(a, r)
    {
        if let Some(id) = identifier
            .iter()
            .find_map(|i| i.value.as_deref().and_then(uuid_in))
        {
            return Some(RoomKey::Id(RoomId::from_uuid(id)));
        }
        if let Some(name) = name {
            return Some(RoomKey::Name(name.clone()));
        }
    }
    r.display.clone().map(RoomKey::Name)
}

/// Reads one Appointment; `at` is where it sits (`Appointment`, or
/// `Bundle.entry[2].resource`), for the issues' expressions. Every issue found is told.
pub fn read_appointment(a: &Appointment, at: &str) -> Result<Incoming, Vec<Issue>> {
    let mut issues = Vec::new();
    if a.resource_type != "Appointment" {
        issues.push(Issue::new(
            "not-supported",
            &format!("{at}.resourceType"),
            format!("expected an Appointment, not {:?}", a.resource_type),
        ));
        return Err(issues);
    }
    let identifier = a.identifier.iter().find(|i| {
        i.system.as_deref().is_some_and(|s| !s.trim().is_empty())
            && i.value.as_deref().is_some_and(|v| !v.trim().is_empty())
    });
    if identifier.is_none() {
        issues.push(Issue::new(
            "required",
            &format!("{at}.identifier"),
            "an identifier with a system and a value is needed, so a booking sent again is recognised",
        ));
    }
    let status = a.status.as_deref().unwrap_or_default();
    let cancelling = CANCELLING.contains(&status);
    if !cancelling && !BOOKING.contains(&status) {
        issues.push(Issue::new(
            if a.status.is_none() {
                "required"
            } else {
                "not-supported"
            },
            &format!("{at}.status"),
            format!(
                "status {status:?}: send one of {} to book, or {} to cancel",
                BOOKING.join(", "),
                CANCELLING.join(", ")
            ),
        ));
    }
    if cancelling {
        return match (issues.is_empty(), identifier) {
            (true, Some(i)) => Ok(Incoming {
                system: i.system.clone().unwrap_or_default().trim().to_owned(),
                value: i.value.clone().unwrap_or_default().trim().to_owned(),
                wanted: Wanted::Cancel,
            }),
            _ => Err(issues),
        };
    }

    let starts_at = match a.start.as_deref().map(parse_instant) {
        Some(Some(t)) => Some(t),
        Some(None) => {
            issues.push(Issue::new(
                "value",
                &format!("{at}.start"),
                "start must be an instant with a time zone, e.g. 2026-12-03T09:30:00Z",
            ));
            None
        }
        None => {
            issues.push(Issue::new(
                "required",
                &format!("{at}.start"),
                "start is needed",
            ));
            None
        }
    };
    let minutes = match (a.end.as_deref().map(parse_instant), a.minutes_duration) {
        (Some(Some(end)), _) => match starts_at {
            Some(start) if end > start => {
                Some((end.as_millis() - start.as_millis() + 59_999) / 60_000)
            }
            Some(_) => {
                issues.push(Issue::new(
                    "value",
                    &format!("{at}.end"),
                    "end must be after start",
                ));
                None
            }
            None => None,
        },
        (Some(None), _) => {
            issues.push(Issue::new(
                "value",
                &format!("{at}.end"),
                "end must be an instant with a time zone",
            ));
            None
        }
        (None, m) => m.map(i64::from),
    };
    let minutes = match minutes {
        Some(m) if !(1..=MAX_MINUTES).contains(&m) => {
            issues.push(Issue::new(
                "value",
                &format!("{at}.end"),
                format!("a session lasts from 1 minute to {MAX_MINUTES}"),
            ));
            None
        }
        m => m.map(|m| m as u32),
    };

    let mut patient = None;
    let mut provider = None;
    let mut room = None;
    for (n, p) in a.participant.iter().enumerate() {
        let here = format!("{at}.participant[{n}].actor");
        let Some(actor) = p.actor.as_ref() else {
            continue;
        };
        match actor_kind(a, actor) {
            Some("Patient") if patient.is_none() => match read_patient(a, actor, &here) {
                Ok(g) => patient = Some(g),
                Err(e) => issues.push(e),
            },
            Some("Practitioner") if provider.is_none() => {
                match read_practitioner(a, actor, &here) {
                    Ok(k) => provider = Some(k),
                    Err(e) => issues.push(e),
                }
            }
            Some("Location") if room.is_none() => room = read_location(a, actor),
            _ => {}
        }
    }
    let participants = format!("{at}.participant");
    if patient.is_none()
        && !issues
            .iter()
            .any(|i| i.expression.starts_with(&participants))
    {
        issues.push(Issue::new(
            "required",
            &participants,
            "a Patient participant (contained, with name and telecom) is needed",
        ));
    }
    if provider.is_none()
        && !issues
            .iter()
            .any(|i| i.expression.starts_with(&participants))
    {
        issues.push(Issue::new(
            "required",
            &participants,
            "a Practitioner participant (the provider) is needed",
        ));
    }
    let service_type = match a.service_type.iter().find_map(|c| {
        c.text.clone().or_else(|| {
            c.coding
                .iter()
                .find_map(|k| k.display.clone().or(k.code.clone()))
        })
    }) {
        Some(s) => match Label::parse(&s) {
            Ok(l) => Some(l),
            Err(e) => {
                issues.push(Issue::new(
                    "value",
                    &format!("{at}.serviceType"),
                    e.to_string(),
                ));
                None
            }
        },
        None => None,
    };
    match (identifier, starts_at, patient, provider) {
        (Some(i), Some(starts_at), Some(patient), Some(provider)) if issues.is_empty() => {
            Ok(Incoming {
                system: i.system.clone().unwrap_or_default().trim().to_owned(),
                value: i.value.clone().unwrap_or_default().trim().to_owned(),
                wanted: Wanted::Book {
                    starts_at,
                    minutes,
                    patient,
                    provider,
                    room,
                    service_type,
                },
            })
        }
        _ => Err(issues),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fhir::resources::{AppointmentParticipant, Identifier};

    fn sent() -> Appointment {
        let patient = Contained::Patient {
            id: "p".into(),
            name: vec![HumanName {
                given: vec!["Ana".into()],
                family: Some("Pires".into()),
                ..HumanName::default()
            }],
            telecom: vec![ContactPoint {
                system: Some("email".into()),
                value: Some("ana@example.org".into()),
            }],
        };
        let actor = |r: &str| AppointmentParticipant {
            actor: Some(Reference {
                reference: Some(r.into()),
                ..Reference::default()
            }),
            ..AppointmentParticipant::default()
        };
        Appointment {
            resource_type: "Appointment".into(),
            identifier: vec![Identifier {
                system: Some("https://pms.example".into()),
                value: Some("A-1".into()),
            }],
            status: Some("booked".into()),
            start: Some("2026-12-03T09:00:00Z".into()),
            end: Some("2026-12-03T09:20:00Z".into()),
            contained: vec![patient],
            participant: vec![
                actor("#p"),
                AppointmentParticipant {
                    actor: Some(Reference {
                        reference: Some("Practitioner/x".into()),
                        identifier: Some(Identifier {
                            system: None,
                            value: Some("Priya@Demo.Clinic".into()),
                        }),
                        display: None,
                    }),
                    ..AppointmentParticipant::default()
                },
                AppointmentParticipant {
                    actor: Some(Reference {
                        reference: Some("Location/room-1".into()),
                        display: Some("Reception".into()),
                        identifier: None,
                    }),
                    ..AppointmentParticipant::default()
                },
            ],
            ..Appointment::default()
        }
    }

    #[test]
    fn a_booked_appointment_reads_as_a_session_for_the_patient_with_the_provider() {
        let read = read_appointment(&sent(), "Appointment").unwrap();
        assert_eq!(
            (read.system.as_str(), read.value.as_str()),
            ("https://pms.example", "A-1")
        );
        let Wanted::Book {
            starts_at,
            minutes,
            patient,
            provider,
            room,
            ..
        } = read.wanted
        else {
            panic!("a booking")
        };
        assert_eq!(starts_at, parse_instant("2026-12-03T09:00:00Z").unwrap());
        assert_eq!(minutes, Some(20));
        assert_eq!(patient.name.as_str(), "Ana Pires");
        assert_eq!(patient.contact.email.unwrap().as_str(), "ana@example.org");
        assert_eq!(provider, PractitionerKey::Email("priya@demo.clinic".into()));
        assert_eq!(room, Some(RoomKey::Name("Reception".into())));
    }

    #[test]
    fn every_problem_is_told_with_where_it_is() {
        let mut a = sent();
        a.identifier.clear();
        a.start = Some("2026-12-03".into());
        a.contained.clear();
        let issues = read_appointment(&a, "Bundle.entry[3].resource").unwrap_err();
        let at: Vec<&str> = issues.iter().map(|i| i.expression.as_str()).collect();
        assert_eq!(
            at,
            [
                "Bundle.entry[3].resource.identifier",
                "Bundle.entry[3].resource.start",
                "Bundle.entry[3].resource.participant",
            ],
            "{issues:?}"
        );
        assert_eq!(issues[0].code, "required");
        assert_eq!(issues[1].code, "value");
    }

    #[test]
    fn a_cancellation_needs_only_its_identifier() {
        let a = Appointment {
            resource_type: "Appointment".into(),
            status: Some("cancelled".into()),
            ..sent()
        };
        assert_eq!(
            read_appointment(&a, "Appointment").unwrap().wanted,
            Wanted::Cancel
        );
        let other = Appointment {
            resource_type: "Patient".into(),
            ..sent()
        };
        assert_eq!(
            read_appointment(&other, "Appointment").unwrap_err()[0].code,
            "not-supported"
        );
    }
}
