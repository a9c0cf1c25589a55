//! FHIR R4 for the server: the visits of a clinic-local day (as far as the reader may read
//! them) with the names their resources show, and Appointments from a practice management
//! system planned whole, then booked, rescheduled or cancelled. The resources themselves are
//! made and read by the domain (`frontdesk_domain::fhir`).

use super::openings::book_sessions;
use super::{actor_of, reader, staff_command};
use crate::error::AppError;
use crate::model::Session;
use crate::store::Store;
use frontdesk_domain::fhir::export::{ExternalBooking, Names, encounter_date};
use frontdesk_domain::fhir::import::{Incoming, Issue, PractitionerKey, RoomKey, Wanted};
use frontdesk_domain::{
    Booking, Command, Label, Note, Opening, Role, Span, Status, Timestamp, Visit, VisitId,
};
use std::collections::{BTreeMap, BTreeSet};

/// Longest span one search may cover with a `ge`/`gt`/`le`/`lt` prefix.
const SEARCH_DAYS: i64 = 31;
const DAY: Span = Span::from_mins(24 * 60);

/// The span `date` asks for, `[from, to)`: a clinic-local day, or with a FHIR prefix the
/// 31 days from or up to it.
pub async fn date_span(
    store: &dyn Store,
    now: Timestamp,
    who: &Session,
    date: &str,
) -> Result<(Timestamp, Timestamp), AppError> {
    let clinic = store
        .clinic(who.staff.clinic_id)
        .await?
        .ok_or(AppError::NotFound("clinic"))?;
    let (prefix, day) = match date.get(..2) {
        Some(p @ ("eq" | "ge" | "gt" | "le" | "lt")) => (p, &date[2..]),
        _ => ("eq", date),
    };
    let (_, from, to) =
        crate::hours::day_span(&clinic.time_zone, Some(day), now).ok_or_else(|| {
            AppError::BadRequest(
                "date: expected YYYY-MM-DD, with eq, ge, gt, le or lt before it".into(),
            )
        })?;
    let reach = Span::from_mins(SEARCH_DAYS * 24 * 60);
    Ok(match prefix {
        "ge" => (from, from + reach),
        "gt" => (to, to + reach),
        "le" => (to - reach, to),
        "lt" => (from - reach, from),
        _ => (from, to),
    })
}

/// The clinic's visits dated in `[from, to)` (by arrival, else a session's start, else when
/// opened) that the caller may read, whole with their history, oldest first; and the names of
/// the clinic's staff and rooms.
pub async fn visits_between(
    store: &dyn Store,
    who: &Session,
    (from, to): (Timestamp, Timestamp),
) -> Result<(Vec<Visit>, Names), AppError> {
    let clinic = who.staff.clinic_id;
    let reader = reader(store, who).await?;
    let mut candidates = store.open_visits(clinic).await?;
    // A visit finishes after it began; a day either side covers a late evening's visits.
    let mut after = None;
    loop {
        let page = store
            .finished_visits(clinic, from - DAY, to + DAY, after, 500)
            .await?;
        let full = page.len() == 500;
        after = page.last().map(|v| (v.updated_at, v.id));
        candidates.extend(page);
        if !full {
            break;
        }
    }
    let mut seen = BTreeSet::new();
    let mut visits = Vec::new();
    for v in candidates {
        let date = encounter_date(&v);
        if date < from || date >= to || !seen.insert(v.id) {
            continue;
        }
        let Some(mut v) = reader.visit(v) else {
            continue;
        };
        if v.history.is_empty() {
            v.history = store
                .visit_history(clinic, v.id, 0, u32::MAX)
                .await?
                .unwrap_or_default();
        }
        visits.push(v);
    }
    visits.sort_by_key(|v| (encounter_date(v), v.id));
    Ok((visits, names(store, clinic).await?))
}

/// The names of the clinic's staff and rooms, for the resources to show.
pub async fn names(
    store: &dyn Store,
    clinic: frontdesk_domain::ClinicId,
) -> Result<Names, AppError> {
    Ok(Names {
        staff: store
            .staff(clinic)
            .await?
            .into_iter()
            .map(|s| (s.id, s.name))
            .collect(),
        rooms: store
            .rooms(clinic)
            .await?
            .into_iter()
            .map(|r| (r.id, r.name))
            .collect(),
    })
}

/// The Appointment identifiers of visits booked from outside.
pub async fn external_of(
    store: &dyn Store,
    who: &Session,
    visits: &[Visit],
) -> Result<BTreeMap<VisitId, ExternalBooking>, AppError> {
    let ids = visits
        .iter()
        .filter(|v| v.booking.is_some())
        .map(|v| v.id)
        .collect();
    Ok(store
        .external_bookings_of(who.staff.clinic_id, ids)
        .await?
        .into_iter()
        .collect())
}

/// Why an import was refused: the resources' issues (nothing changed), or the server's error.
#[derive(Debug)]
pub enum ImportError {
    Issues(Vec<Issue>),
    App(AppError),
}

impl From<AppError> for ImportError {
    fn from(e: AppError) -> Self {
        ImportError::App(e)
    }
}

impl From<crate::store::StoreError> for ImportError {
    fn from(e: crate::store::StoreError) -> Self {
        ImportError::App(e.into())
    }
}

/// What became of one Appointment.
#[derive(Clone, Debug)]
pub struct Imported {
    /// The session it booked (or booked before), as it stands now.
    pub visit: Visit,
    /// A session was booked for it now (a new one, or a reschedule's).
    pub created: bool,
    pub external: ExternalBooking,
}

/// What to do for one Appointment, decided before anything is written.
enum Step {
    /// Already as asked: nothing changes.
    Keep(VisitId),
    /// Book a session, cancelling the one it replaces (a reschedule).
    Book {
        room: frontdesk_domain::RoomId,
        booking: Booking,
        replaces: Option<VisitId>,
    },
    Cancel(VisitId),
}

/// Books, reschedules or cancels the sessions `appointments` ask for (`at` is where each sat,
/// for the issues). Every Appointment is planned before any is written, and a refusal of any
/// changes nothing. New sessions (reschedules' included) are written in one transaction; then
/// each identifier is pointed at its session; then the sessions replaced or cancelled are
/// cancelled, each as the sender's own `cancel` (the domain may still refuse one whose patient
/// joined in between: the answer is then that refusal, the new sessions stay booked).
pub async fn import(
    store: &dyn Store,
    now: Timestamp,
    who: &Session,
    appointments: Vec<(String, Incoming)>,
) -> Result<Vec<Imported>, ImportError> {
    let clinic = who.staff.clinic_id;
    // Whoever may book a session may send bookings in: the domain's rule.
    let may = frontdesk_domain::command::may_open(
        &actor_of(&who.staff),
        &Opening::Schedule {
            room: frontdesk_domain::RoomId::from_uuid(uuid::Uuid::nil()),
            booking: Booking {
                provider: who.staff.id,
                starts_at: now,
                duration_mins: frontdesk_domain::booking::DEFAULT_DURATION_MINS,
                guests: Vec::new(),
                service_type: None,
                location: None,
                staff: Vec::new(),
            },
        },
    );
    if !may {
        return Err(
            AppError::Forbidden("only schedulers and admins may book sessions".into()).into(),
        );
    }
    let staff = store.staff(clinic).await?;
    let rooms = store.rooms(clinic).await?;
    let mut issues = Vec::new();
    let mut steps = Vec::new();
    let mut keys = BTreeSet::new();
    for (at, a) in &appointments {
        if !keys.insert((a.system.clone(), a.value.clone())) {
            issues.push(Issue::new(
                "duplicate",
                &format!("{at}.identifier"),
                "the same identifier twice in one transaction",
            ));
            continue;
        }
        let existing = match store.external_booking(clinic, &a.system, &a.value).await? {
            Some((id, _)) => store.visit(clinic, id).await?,
            None => None,
        };
        let step = match &a.wanted {
            Wanted::Cancel => match existing {
                None => Err(Issue::new(
                    "not-found",
                    &format!("{at}.identifier"),
                    "no session was booked with this identifier",
                )),
                Some(v) if v.status == Status::Cancelled => Ok(Step::Keep(v.id)),
                Some(v) if v.status == Status::Scheduled => Ok(Step::Cancel(v.id)),
                Some(v) => Err(Issue::new(
                    "business-rule",
                    &format!("{at}.status"),
                    format!("the session is {} and can no longer be cancelled", v.status),
                )),
            },
            Wanted::Book {
                starts_at,
                minutes,
                patient,
                provider,
                room,
                service_type,
            } => plan_booking(
                at,
                now,
                &staff,
                &rooms,
                existing.as_ref(),
                (
                    *starts_at,
                    *minutes,
                    patient,
                    provider,
                    room.as_ref(),
                    service_type,
                ),
            ),
        };
        match step {
            Ok(s) => steps.push(s),
            Err(issue) => issues.push(issue),
        }
    }
    if !issues.is_empty() {
        return Err(ImportError::Issues(issues));
    }

    let retry_key = |a: &Incoming, replaces: Option<VisitId>| {
        let replacing = replaces.map_or_else(|| "new".to_owned(), |id| id.to_string());
        format!("fhir:{}|{}|{replacing}", a.system, a.value)
    };
    let to_book: Vec<_> = steps
        .iter()
        .zip(&appointments)
        .filter_map(|(s, (_, a))| match s {
            Step::Book {
                room,
                booking,
                replaces,
            } => Some((*room, booking.clone(), Some(retry_key(a, *replaces)))),
            _ => None,
        })
        .collect();
    let mut booked = book_sessions(store, now, who, to_book).await?.into_iter();
    // Each identifier names its session before any old one is cancelled: should a cancel be
    // refused (the patient joined meanwhile), a retry finds the new session as it was sent.
    let mut linked = Vec::with_capacity(steps.len());
    let mut cancels = Vec::new();
    for (step, (_, a)) in steps.into_iter().zip(&appointments) {
        let (visit, created) = match step {
            Step::Keep(id) => (id, false),
            Step::Book { replaces, .. } => {
                let opened = booked
                    .next()
                    .ok_or_else(|| AppError::internal("a booking went unanswered"))?;
                if let Some(old) = replaces {
                    cancels.push((old, "Rescheduled in the practice management system."));
                }
                (opened.visit.id, !opened.replayed)
            }
            Step::Cancel(id) => {
                cancels.push((id, "Cancelled in the practice management system."));
                (id, false)
            }
        };
        // Without a length of its own, an Appointment keeps the one booked before.
        let before = store
            .external_booking(clinic, &a.system, &a.value)
            .await?
            .and_then(|(_, m)| m);
        let minutes = match &a.wanted {
            Wanted::Book { minutes, .. } => *minutes,
            Wanted::Cancel => None,
        };
        let external = ExternalBooking {
            system: a.system.clone(),
            value: a.value.clone(),
            minutes: minutes.or(before),
        };
        store
            .link_external_booking(clinic, external.clone(), visit)
            .await?;
        linked.push((visit, created, external));
    }
    for (old, why) in cancels {
        let note = Note::parse(why).map_err(|e| AppError::internal(e.to_string()))?;
        let cancel = Command::Cancel { note: Some(note) };
        staff_command(store, now, who, old, cancel, None, None).await?;
    }
    let mut results = Vec::with_capacity(linked.len());
    for (visit, created, external) in linked {
        let visit = store
            .visit(clinic, visit)
            .await?
            .ok_or(AppError::NotFound("visit"))?;
        results.push(Imported {
            visit,
            created,
            external,
        });
    }
    Ok(results)
}

type Asked<'a> = (
    Timestamp,
    Option<u32>,
    &'a frontdesk_domain::Guest,
    &'a PractitionerKey,
    Option<&'a RoomKey>,
    &'a Option<Label>,
);

/// What booking an Appointment asks for, against the session its identifier booked before.
fn plan_booking(
    at: &str,
    now: Timestamp,
    staff: &[crate::model::StaffInfo],
    rooms: &[crate::model::RoomInfo],
    existing: Option<&Visit>,
    (starts_at, minutes, patient, provider, room, service_type): Asked<'_>,
) -> Result<Step, Issue> {
    // Without a length of its own, an Appointment keeps the one booked before.
    let duration_mins = minutes
        .or_else(|| existing.and_then(|v| v.booking.as_ref().map(|b| b.duration_mins)))
        .unwrap_or(frontdesk_domain::booking::DEFAULT_DURATION_MINS);
    frontdesk_domain::booking::check_duration(duration_mins)
        .map_err(|e| Issue::new("value", &format!("{at}.end"), e.to_string()))?;
    let participants = format!("{at}.participant");
    let provider = staff
        .iter()
        .filter(|s| s.roles.has(Role::Provider) && !s.deactivated)
        .find(|s| match provider {
            PractitionerKey::Id(id) => s.id == *id,
            PractitionerKey::Email(email) => s.email.eq_ignore_ascii_case(email),
        })
        .ok_or_else(|| {
            Issue::new(
                "not-found",
                &participants,
                "the practitioner is not a provider of this clinic",
            )
        })?;
    let room = match room {
        Some(RoomKey::Id(id)) => rooms.iter().find(|r| r.id == *id),
        Some(RoomKey::Name(name)) => rooms
            .iter()
            .find(|r| r.name.eq_ignore_ascii_case(name.trim())),
        // The provider's own room, else the clinic's first shared room.
        None => rooms
            .iter()
            .find(|r| r.provider == Some(provider.id))
            .or_else(|| rooms.iter().find(|r| r.provider.is_none())),
    }
    .ok_or_else(|| {
        Issue::new(
            "not-found",
            &participants,
            "no such room (Location) in this clinic",
        )
    })?;
    let booking = Booking {
        provider: provider.id,
        starts_at,
        duration_mins,
        guests: vec![patient.clone()],
        service_type: service_type.clone(),
        location: None,
        staff: Vec::new(),
    };
    let same = |v: &Visit| {
        v.room_id == room.id
            && v.booking.as_ref().is_some_and(|b| {
                b.provider == booking.provider
                    && b.starts_at == booking.starts_at
                    && b.duration_mins == booking.duration_mins
                    && b.service_type == booking.service_type
                    && b.guests.first().map(|g| (&g.name, &g.contact))
                        == Some((&patient.name, &patient.contact))
            })
    };
    let replaces = match existing {
        Some(v) if same(v) && v.status != Status::Cancelled => return Ok(Step::Keep(v.id)),
        Some(v) if v.status == Status::Scheduled => Some(v.id),
        Some(v) if v.status != Status::Cancelled => {
            return Err(Issue::new(
                "business-rule",
                &format!("{at}.start"),
                format!("the session is {} and can no longer be moved", v.status),
            ));
        }
        _ => None,
    };
    frontdesk_domain::booking::check_start(starts_at, now)
        .map_err(|e| Issue::new("value", &format!("{at}.start"), e.to_string()))?;
    Ok(Step::Book {
        room: room.id,
        booking,
        replaces,
    })
}
