//! What opens a visit: a patient at the front door, a request for a named provider, a session
//! booked ahead. Each is decided by the domain's `open` and written with the patient's link.

use super::{
    actor_of, fingerprint, guest_token, provider_in_clinic, refusal, room_in_clinic,
    staff_idempotency,
};
use crate::auth::{PATIENT_TOKEN_PREFIX, derived_token, new_token, token_hash};
use crate::error::AppError;
use crate::hours::{Openness, openness};
use crate::model::{AfterHours, Clinic, RoomInfo, Session};
use crate::store::{Idempotency, Store, VisitWrite, WriteAction};
use frontdesk_api::Opened;
use frontdesk_domain::{
    Actor, Booking, ClinicId, Context, Opening, Patient, RoomId, StaffId, Timestamp, VisitId,
    booking, open,
};

/// A new visit the domain has decided on, ready to be written, with the patient's link.
struct Decided {
    write: VisitWrite,
    token: String,
}

fn decide_opening(
    store: &dyn Store,
    at: Timestamp,
    clinic: ClinicId,
    actor: Actor,
    opening: Opening,
    idempotency: Option<Idempotency>,
) -> Result<Decided, AppError> {
    // Time-ordered ids: a clinic's open visits are its newest, so their rows, their history
    // and the index entries a command writes sit together at the end of each B-tree instead
    // of on a page of their own each (what the write-ahead log copies is whole pages).
    let visit_id = VisitId::from_uuid(uuid::Uuid::now_v7());
    let ctx = Context {
        actor,
        at,
        expected_version: None,
    };
    let outcome = open(visit_id, clinic, &ctx, opening).map_err(|e| match e {
        e if e.code() == "forbidden" => AppError::Forbidden(e.to_string()),
        other => AppError::Validation(other.to_string()),
    })?;
    // A retried request must get the same link back: derive it from the key.
    let token = match &idempotency {
        Some(i) => derived_token(
            &store.secret(),
            PATIENT_TOKEN_PREFIX,
            &["visit", &clinic.to_string(), &i.scope, &i.key],
        ),
        None => new_token(PATIENT_TOKEN_PREFIX)?,
    };
    let guests = outcome.visit.booking.as_ref().map_or(0, |b| b.guests.len());
    let guest_token_hashes = (0..guests)
        .map(|g| token_hash(&guest_token(&store.secret(), visit_id, g)))
        .collect();
    let write = VisitWrite {
        clinic,
        visit_id,
        at,
        idempotency,
        action: WriteAction::Open {
            outcome: Box::new(outcome),
            patient_token_hash: Some(token_hash(&token)),
            guest_token_hashes,
        },
    };
    Ok(Decided { write, token })
}

async fn open_visit(
    store: &dyn Store,
    at: Timestamp,
    clinic: ClinicId,
    actor: Actor,
    opening: Opening,
    idempotency: Option<Idempotency>,
) -> Result<Opened, AppError> {
    let Decided { write, token } = decide_opening(store, at, clinic, actor, opening, idempotency)?;
    match store.write_visit(write).await {
        Ok(c) => Ok(opened(c, Some(token))),
        Err(r) => Err(refusal(store, clinic, r).await),
    }
}

/// A patient comes through a room's front door.
pub async fn arrive(
    store: &dyn Store,
    at: Timestamp,
    clinic_slug: &str,
    room: RoomId,
    patient: Patient,
    idempotency_key: Option<String>,
) -> Result<Opened, AppError> {
    let clinic = store
        .clinic_by_slug(clinic_slug)
        .await?
        .ok_or(AppError::NotFound("clinic"))?;
    let room = room_in_clinic(store, clinic.id, room).await?;
    arrive_at(store, at, &clinic, &room, patient, idempotency_key).await
}

/// [`arrive`] at a front door already looked up (as the patient's page and the API do first).
pub async fn arrive_at(
    store: &dyn Store,
    at: Timestamp,
    clinic: &Clinic,
    room: &RoomInfo,
    patient: Patient,
    idempotency_key: Option<String>,
) -> Result<Opened, AppError> {
    let after_hours = match openness(&clinic.time_zone, &room.office_hours, at) {
        Openness::Open => false,
        Openness::Closed { .. } if room.after_hours == AfterHours::Accept => true,
        Openness::Closed { reopens } => return Err(AppError::Closed { reopens }),
    };
    let opening = Opening::Arrive {
        room: room.id,
        patient,
        has_intake: !room.intake_questions.is_empty(),
        after_hours,
    };
    // Keyed per room: a patient's retry of the same arrival gets the same visit back.
    let idempotency = idempotency_key.map(|key| Idempotency {
        scope: format!("arrive:{}", room.id),
        fingerprint: fingerprint(&[&serde_json::to_string(&opening).unwrap_or_default()]),
        key,
    });
    open_visit(store, at, clinic.id, Actor::Patient, opening, idempotency).await
}

/// Who asks for a session: the front desk (retries keyed), or the patient of a clinic.
#[derive(Debug)]
pub enum Requester<'a> {
    Staff {
        who: &'a Session,
        idempotency_key: Option<String>,
    },
    Patient {
        clinic: ClinicId,
    },
}

/// A request for a session with a named provider, by the patient or the front desk. The
/// provider's availability now decides whether it is declined at once.
pub async fn request_session(
    store: &dyn Store,
    at: Timestamp,
    by: Requester<'_>,
    room: RoomId,
    patient: Patient,
    provider: StaffId,
) -> Result<Opened, AppError> {
    let clinic = match &by {
        Requester::Staff { who, .. } => who.staff.clinic_id,
        Requester::Patient { clinic } => *clinic,
    };
    room_in_clinic(store, clinic, room).await?;
    let provider = provider_in_clinic(store, clinic, provider).await?;
    let opening = Opening::Request {
        room,
        patient,
        provider: provider.id,
        provider_availability: provider.availability,
    };
    let (actor, idempotency) = match by {
        Requester::Staff {
            who,
            idempotency_key,
        } => {
            let body = serde_json::to_string(&opening).unwrap_or_default();
            let key = staff_idempotency(who, idempotency_key, &["request", &body]);
            (actor_of(&who.staff), key)
        }
        Requester::Patient { .. } => (Actor::Patient, None),
    };
    open_visit(store, at, clinic, actor, opening, idempotency).await
}

/// How a session is booked: once, or weekly for a number of weeks.
#[derive(Clone, Debug)]
pub struct Repeat {
    /// How many sessions in all, a week apart (1: just the one).
    pub weeks: u32,
    /// "Include me": the scheduler takes part too.
    pub include_me: bool,
}

/// A session booked ahead for guests, repeated weekly when asked: one visit per week, each
/// with its own links. Every week is decided before any is written, and all are written in
/// one transaction: a series is booked whole or not at all. With an idempotency key, a retry
/// books nothing twice.
pub async fn schedule(
    store: &dyn Store,
    at: Timestamp,
    who: &Session,
    room: RoomId,
    mut booking: Booking,
    repeat: Repeat,
    idempotency_key: Option<String>,
) -> Result<Vec<Opened>, AppError> {
    let clinic = who.staff.clinic_id;
    room_in_clinic(store, clinic, room).await?;
    provider_in_clinic(store, clinic, booking.provider).await?;
    staff_in_clinic(store, clinic, &booking.staff).await?;
    if repeat.include_me && !booking.staff.contains(&who.staff.id) {
        booking.staff.push(who.staff.id);
    }
    let mut decided = Vec::with_capacity(repeat.weeks as usize);
    for (week, this) in booking::weekly(&booking, repeat.weeks, at)?
        .into_iter()
        .enumerate()
    {
        let key = idempotency_key.as_ref().map(|k| format!("{k}#{week}"));
        decided.push(decide_booking(store, at, who, room, this, key)?);
    }
    write_decided(store, clinic, decided).await
}

/// One session booked by a member of staff, decided (with its retry key, if any).
fn decide_booking(
    store: &dyn Store,
    at: Timestamp,
    who: &Session,
    room: RoomId,
    booking: Booking,
    key: Option<String>,
) -> Result<Decided, AppError> {
    let opening = Opening::Schedule { room, booking };
    let body = serde_json::to_string(&opening).unwrap_or_default();
    let idempotency = staff_idempotency(who, key, &["schedule", &body]);
    let actor = actor_of(&who.staff);
    decide_opening(store, at, who.staff.clinic_id, actor, opening, idempotency)
}

/// Writes decided openings in one transaction: all of them, or none.
async fn write_decided(
    store: &dyn Store,
    clinic: ClinicId,
    decided: Vec<Decided>,
) -> Result<Vec<Opened>, AppError> {
    let (writes, tokens): (Vec<VisitWrite>, Vec<String>) =
        decided.into_iter().map(|d| (d.write, d.token)).unzip();
    match store.write_openings(writes).await {
        Ok(committed) => Ok(committed
            .into_iter()
            .zip(tokens)
            .map(|(c, token)| opened(c, Some(token)))
            .collect()),
        Err(r) => Err(refusal(store, clinic, r).await),
    }
}

/// Sessions booked one each (the Appointments of a FHIR transaction), all written in one
/// transaction or none. Each may carry a retry key of its own; the caller has checked the
/// rooms and providers are the clinic's.
pub(crate) async fn book_sessions(
    store: &dyn Store,
    at: Timestamp,
    who: &Session,
    sessions: Vec<(RoomId, Booking, Option<String>)>,
) -> Result<Vec<Opened>, AppError> {
    let decided = sessions
        .into_iter()
        .map(|(room, booking, key)| decide_booking(store, at, who, room, booking, key))
        .collect::<Result<Vec<_>, _>>()?;
    write_decided(store, who.staff.clinic_id, decided).await
}

/// Every member of staff a booking names is one of this clinic's (a nil or another clinic's
/// id names no one here).
async fn staff_in_clinic(
    store: &dyn Store,
    clinic: ClinicId,
    named: &[StaffId],
) -> Result<(), AppError> {
    let staff = store.staff(clinic).await?;
    match named.iter().find(|id| !staff.iter().any(|s| s.id == **id)) {
        Some(id) => Err(AppError::Validation(format!(
            "staff: {id} is not a member of staff of this clinic"
        ))),
        None => Ok(()),
    }
}

/// A new visit's answer: its history is the entries the opening made, so it comes whole.
fn opened(c: crate::store::Committed, patient_token: Option<String>) -> Opened {
    let mut visit = c.reply.visit;
    visit.history = c.reply.entries;
    Opened {
        seq: c.reply.seq,
        visit,
        patient_token,
        replayed: c.replayed,
    }
}
