//! The server's use cases, between the handlers and the store: resolve references inside the
//! caller's clinic, ask the domain to decide, write through the store, and turn refusals into
//! [`AppError`]s. No HTTP here, so the demo simulator drives the same code the API does.

use crate::auth::{PATIENT_TOKEN_PREFIX, derived_token, new_token, token_hash};
use crate::error::AppError;
use crate::hours::{Openness, openness};
use crate::model::{
    AfterHours, Clinic, CommandReply, IntakeQuestion, QueueItem, RoomInfo, Session, Snapshot,
    StaffInfo, StaffRef,
};
use crate::store::{Committed, Idempotency, Store, VisitWrite, WriteAction, WriteRefused};
use frontdesk_domain::queue::{queue, wait_figures};
use frontdesk_domain::{
    Actor, Booking, ClinicId, Command, Context, DomainError, Opening, Patient, Role, RoomId,
    StaffId, Status, Timestamp, TransferTarget, Visit, VisitId, apply, open,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashMap};
use utoipa::ToSchema;

pub fn actor_of(staff: &StaffInfo) -> Actor {
    Actor::Staff {
        id: staff.id,
        roles: staff.roles,
    }
}

fn fingerprint(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    crate::auth::hex(&h.finalize())
}

async fn staff_refs(store: &dyn Store, clinic: ClinicId, ids: &[StaffId]) -> Vec<StaffRef> {
    let names: HashMap<StaffId, String> = store
        .staff(clinic)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect();
    ids.iter()
        .map(|id| StaffRef {
            id: *id,
            name: names.get(id).cloned().unwrap_or_else(|| "someone".into()),
        })
        .collect()
}

/// Turns a refused write into the answer the caller sees.
pub async fn refusal(store: &dyn Store, clinic: ClinicId, r: WriteRefused) -> AppError {
    match r {
        WriteRefused::NotFound => AppError::NotFound("visit"),
        WriteRefused::KeyReused => AppError::IdempotencyKeyReused,
        WriteRefused::Store(e) => e.into(),
        WriteRefused::Domain { error, visit } => {
            let message = error.to_string();
            match error {
                DomainError::Forbidden { .. } => AppError::Forbidden(message),
                DomainError::Invalid(e) => AppError::Validation(e.to_string()),
                other => {
                    let holders = match &other {
                        DomainError::AlreadyClaimed { by } => by.clone(),
                        _ => visit.in_call.clone(),
                    };
                    AppError::Conflict {
                        code: other.code(),
                        message,
                        held_by: staff_refs(store, clinic, &holders).await,
                        visit,
                    }
                }
            }
        }
    }
}

/// Where a transfer goes: a room, a provider (their own room unless one is named), or both.
pub async fn transfer_target(
    store: &dyn Store,
    clinic: ClinicId,
    room: Option<RoomId>,
    provider: Option<StaffId>,
) -> Result<TransferTarget, AppError> {
    let rooms = store.rooms(clinic).await?;
    let known_room = |id: RoomId| {
        rooms
            .iter()
            .any(|r| r.id == id)
            .then_some(id)
            .ok_or_else(|| AppError::Validation("room: no such room in this clinic".into()))
    };
    match (room, provider) {
        (Some(room), None) => Ok(TransferTarget::Room {
            room: known_room(room)?,
        }),
        (room, Some(provider)) => {
            provider_in_clinic(store, clinic, provider).await?;
            let room = match room {
                Some(r) => known_room(r)?,
                None => rooms
                    .iter()
                    .find(|r| r.provider == Some(provider))
                    .map(|r| r.id)
                    .ok_or_else(|| {
                        AppError::Validation("room: this provider has no room; name one".into())
                    })?,
            };
            Ok(TransferTarget::Provider { provider, room })
        }
        (None, None) => Err(AppError::Validation(
            "to: give a room, a provider, or both".into(),
        )),
    }
}

/// A provider of this clinic, with their current availability.
pub async fn provider_in_clinic(
    store: &dyn Store,
    clinic: ClinicId,
    provider: StaffId,
) -> Result<StaffInfo, AppError> {
    store
        .staff(clinic)
        .await?
        .into_iter()
        .find(|s| s.id == provider && s.roles.has(Role::Provider))
        .ok_or_else(|| AppError::Validation("provider: no such provider in this clinic".into()))
}

async fn room_in_clinic(
    store: &dyn Store,
    clinic: ClinicId,
    room: RoomId,
) -> Result<RoomInfo, AppError> {
    store
        .rooms(clinic)
        .await?
        .into_iter()
        .find(|r| r.id == room)
        .ok_or(AppError::NotFound("room"))
}

/// One staff command on one visit.
pub async fn staff_command(
    store: &dyn Store,
    at: Timestamp,
    who: &Session,
    visit_id: VisitId,
    command: Command,
    expected_version: Option<u64>,
    idempotency_key: Option<String>,
) -> Result<Committed, AppError> {
    let clinic = who.staff.clinic_id;
    let idempotency = idempotency_key.map(|key| Idempotency {
        scope: format!("staff:{}", who.staff.id),
        fingerprint: fingerprint(&[
            &visit_id.to_string(),
            &format!("{expected_version:?}"),
            &serde_json::to_string(&command).unwrap_or_default(),
        ]),
        key,
    });
    let ctx = Context {
        actor: actor_of(&who.staff),
        at,
        expected_version,
    };
    let write = VisitWrite {
        clinic,
        visit_id,
        at,
        idempotency,
        action: WriteAction::Change(Box::new(move |v: &Visit| apply(v, &ctx, &command))),
    };
    match store.write_visit(write).await {
        Ok(c) => Ok(c),
        Err(r) => Err(refusal(store, clinic, r).await),
    }
}

/// One of the patient's own commands on their visit.
pub async fn patient_command(
    store: &dyn Store,
    at: Timestamp,
    visit: &Visit,
    command: Command,
) -> Result<Committed, AppError> {
    visit_command(store, at, visit, Actor::Patient, command, None).await
}

/// A command the clinic's own rules issue (a closed waiting page, a missed session).
pub async fn system_command(
    store: &dyn Store,
    at: Timestamp,
    visit: &Visit,
    command: Command,
) -> Result<Committed, AppError> {
    visit_command(store, at, visit, Actor::System, command, None).await
}

/// A patient whose waiting screen closed for good and did not come back has left, if what
/// they were doing is still what it was when `visit` was read (not, say, claimed since).
pub async fn left_by_closing_the_page(
    store: &dyn Store,
    at: Timestamp,
    visit: &Visit,
) -> Result<(), AppError> {
    if !visit.status.left_by_closing_the_waiting_screen() {
        return Ok(());
    }
    let version = Some(visit.version);
    match visit_command(store, at, visit, Actor::System, Command::Leave, version).await {
        // Moved on meanwhile: the patient is where staff put them.
        Ok(_) | Err(AppError::PatientConflict { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

async fn visit_command(
    store: &dyn Store,
    at: Timestamp,
    visit: &Visit,
    actor: Actor,
    command: Command,
    expected_version: Option<u64>,
) -> Result<Committed, AppError> {
    let ctx = Context {
        actor,
        at,
        expected_version,
    };
    let write = VisitWrite {
        clinic: visit.clinic_id,
        visit_id: visit.id,
        at,
        idempotency: None,
        action: WriteAction::Change(Box::new(move |v: &Visit| apply(v, &ctx, &command))),
    };
    match store.write_visit(write).await {
        Ok(c) => Ok(c),
        Err(r) => Err(match refusal(store, visit.clinic_id, r).await {
            AppError::Conflict { code, message, .. } => AppError::PatientConflict { code, message },
            other => other,
        }),
    }
}

/// A scheduled session guest's own link token (made again whenever a message needs it).
pub fn guest_token(secret: &[u8; 32], visit: VisitId, guest: usize) -> String {
    derived_token(
        secret,
        PATIENT_TOKEN_PREFIX,
        &["guest", &visit.to_string(), &guest.to_string()],
    )
}

/// A newly opened visit, with the token the patient acts through. A request retried with
/// its idempotency key gets the same token again.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Opened {
    pub seq: u64,
    #[schema(value_type = Object)]
    pub visit: Visit,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patient_token: Option<String>,
    /// A retry answered from the first time (told by the `Idempotent-Replayed` header).
    #[serde(skip)]
    pub replayed: bool,
}

async fn open_visit(
    store: &dyn Store,
    at: Timestamp,
    clinic: ClinicId,
    actor: Actor,
    opening: Opening,
    idempotency: Option<Idempotency>,
) -> Result<Opened, AppError> {
    let visit_id = VisitId::from_uuid(uuid::Uuid::new_v4());
    let ctx = Context {
        actor,
        at,
        expected_version: None,
    };
    let outcome = open(visit_id, clinic, &ctx, opening).map_err(|e| match e {
        DomainError::Forbidden { .. } => AppError::Forbidden(e.to_string()),
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
    match store.write_visit(write).await {
        Ok(c) => Ok(Opened {
            seq: c.reply.seq,
            visit: c.reply.visit,
            patient_token: Some(token),
            replayed: c.replayed,
        }),
        Err(r) => Err(refusal(store, clinic, r).await),
    }
}

fn staff_idempotency(who: &Session, key: Option<String>, parts: &[&str]) -> Option<Idempotency> {
    key.map(|key| Idempotency {
        scope: format!("staff:{}", who.staff.id),
        fingerprint: fingerprint(parts),
        key,
    })
}

/// The clinic and room a front-door link names.
pub async fn front_door(
    store: &dyn Store,
    clinic_slug: &str,
    room: RoomId,
) -> Result<(Clinic, RoomInfo), AppError> {
    let clinic = store
        .clinic_by_slug(clinic_slug)
        .await?
        .ok_or(AppError::NotFound("clinic"))?;
    let room = room_in_clinic(store, clinic.id, room).await?;
    Ok((clinic, room))
}

/// The room a visit is in now, as its patient may see it.
pub async fn room_of(store: &dyn Store, visit: &Visit) -> Result<RoomInfo, AppError> {
    room_in_clinic(store, visit.clinic_id, visit.room_id).await
}

/// Saves the intake answers a patient submitted as (question, answer) pairs, skipping blank
/// answers, and finishes the intake when asked. Nothing to save and nothing to finish is a
/// validation error, so the patient is told rather than silently ignored. Answers must be to
/// the room's own questions, and a choice or yes/no question takes only its choices. Returns
/// the visit as it now stands.
pub async fn save_intake(
    store: &dyn Store,
    at: Timestamp,
    visit: &Visit,
    answers: &[(String, String)],
    finish: bool,
) -> Result<Visit, AppError> {
    let room = room_in_clinic(store, visit.clinic_id, visit.room_id).await?;
    let mut parsed = std::collections::BTreeMap::new();
    for (question, answer) in answers.iter().filter(|(_, a)| !a.trim().is_empty()) {
        let asked = room.intake_questions.iter().find(|q| &q.label == question);
        match asked {
            None => {
                return Err(AppError::Validation(format!(
                    "answers: {question:?} is not a question of this room"
                )));
            }
            Some(q) if !q.accepts(answer.trim()) => {
                return Err(AppError::Validation(format!(
                    "answer: {answer:?} is not one of the choices for {question:?}"
                )));
            }
            Some(_) => {}
        }
        parsed.insert(
            frontdesk_domain::Label::parse(question)?,
            frontdesk_domain::IntakeAnswer::parse(answer)?,
        );
    }
    if parsed.is_empty() && !finish {
        return Err(AppError::Validation(
            "answers: answer at least one question, or press Done".into(),
        ));
    }
    let mut latest = visit.clone();
    if !parsed.is_empty() {
        let c =
            patient_command(store, at, visit, Command::UpdateIntake { answers: parsed }).await?;
        latest = c.reply.visit;
    }
    if finish {
        latest = patient_command(store, at, visit, Command::FinishIntake)
            .await?
            .reply
            .visit;
    }
    Ok(latest)
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

const WEEK_MS: i64 = 7 * 24 * 3_600_000;

/// A session booked ahead for guests, repeated weekly when asked: one visit per week, each
/// with its own links. With an idempotency key, a retry books nothing twice.
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
    if !(1..=52).contains(&repeat.weeks) {
        return Err(AppError::Validation(
            "repeat_weeks: from 1 to 52 sessions".into(),
        ));
    }
    room_in_clinic(store, clinic, room).await?;
    provider_in_clinic(store, clinic, booking.provider).await?;
    if repeat.include_me && !booking.staff.contains(&who.staff.id) {
        booking.staff.push(who.staff.id);
    }
    let first = booking.starts_at;
    let mut opened = Vec::with_capacity(repeat.weeks as usize);
    for week in 0..repeat.weeks {
        let mut this = booking.clone();
        this.starts_at = Timestamp::from_millis(first.as_millis() + i64::from(week) * WEEK_MS);
        let opening = Opening::Schedule {
            room,
            booking: this,
        };
        let body = serde_json::to_string(&opening).unwrap_or_default();
        let key = idempotency_key.as_ref().map(|k| format!("{k}#{week}"));
        let idempotency = staff_idempotency(who, key, &["schedule", &body]);
        let actor = actor_of(&who.staff);
        opened.push(open_visit(store, at, clinic, actor, opening, idempotency).await?);
    }
    Ok(opened)
}

/// The queue of one room, or of all the rooms I work in (all rooms if I belong to none).
pub async fn queue_for(
    store: &dyn Store,
    at: Timestamp,
    who: &Session,
    room: Option<RoomId>,
) -> Result<Vec<QueueItem>, AppError> {
    let clinic = who.staff.clinic_id;
    let rooms = store.rooms(clinic).await?;
    let wanted: BTreeSet<RoomId> = match room {
        Some(r) => {
            if !rooms.iter().any(|x| x.id == r) {
                return Err(AppError::NotFound("room"));
            }
            BTreeSet::from([r])
        }
        None if who.staff.rooms.is_empty() => rooms.iter().map(|r| r.id).collect(),
        None => who.staff.rooms.iter().copied().collect(),
    };
    let visits = store.open_visits(clinic).await?;
    let staff: HashMap<StaffId, String> = store
        .staff(clinic)
        .await?
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect();
    let sref = |id: &StaffId| StaffRef {
        id: *id,
        name: staff.get(id).cloned().unwrap_or_default(),
    };
    Ok(queue(visits.iter().filter(|v| wanted.contains(&v.room_id)))
        .into_iter()
        .map(|v| {
            let figures = wait_figures(v, at);
            QueueItem {
                visit_id: v.id,
                room_id: v.room_id,
                status: v.status,
                priority: v.priority,
                version: v.version,
                patient_name: v.patient.name.to_string(),
                contact: v.patient.contact.clone(),
                intake: v
                    .intake
                    .iter()
                    .map(|(k, a)| (k.to_string(), a.to_string()))
                    .collect(),
                intake_finished: v.intake_finished,
                triage_note: v.triage_note.as_ref().map(ToString::to_string),
                assigned_provider: v.assigned_provider.as_ref().map(sref),
                in_call: v.in_call.iter().map(sref).collect(),
                arrived_at: v.arrived_at,
                waiting_now_ms: figures.waiting_now.map(|s| s.as_millis()),
                total_waiting_ms: figures.total_waiting.as_millis(),
                wait: figures.waiting_now.map(|s| s.to_string()),
            }
        })
        .collect())
}

pub async fn snapshot(store: &dyn Store, who: &Session) -> Result<Snapshot, AppError> {
    let data = store
        .snapshot(who.staff.clinic_id)
        .await?
        .ok_or(AppError::NotFound("clinic"))?;
    let me = data
        .staff
        .iter()
        .find(|s| s.id == who.staff.id)
        .cloned()
        .unwrap_or_else(|| who.staff.clone());
    Ok(Snapshot {
        seq: data.seq,
        clinic: data.clinic,
        me,
        rooms: data.rooms,
        staff: data.staff,
        visits: data.open_visits,
    })
}

/// What the patient's own screen shows.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct PatientView {
    #[schema(value_type = String)]
    pub visit_id: VisitId,
    #[schema(value_type = String)]
    pub status: Status,
    pub version: u64,
    pub clinic: String,
    pub room: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting_message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emergency_info: Option<String>,
    pub intake_questions: Vec<IntakeQuestion>,
    pub intake: HashMap<String, String>,
    pub intake_finished: bool,
    /// Messages from staff, oldest first.
    pub messages: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decline_note: Option<String>,
    /// 1 for next in line; absent when not waiting or the room does not show it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<usize>,
    /// Minutes until the patient is likely seen, when the room gives minutes per patient.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_wait_minutes: Option<u32>,
    /// The call's join link, while staff are in the call with the patient.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_link: Option<String>,
    /// Came in outside office hours.
    #[serde(default)]
    pub after_hours: bool,
    /// A scheduled session's start, in the clinic's time and words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts: Option<String>,
}

pub async fn patient_view(store: &dyn Store, visit: &Visit) -> Result<PatientView, AppError> {
    let clinic: Clinic = store
        .clinic(visit.clinic_id)
        .await?
        .ok_or(AppError::NotFound("clinic"))?;
    let room = room_in_clinic(store, visit.clinic_id, visit.room_id).await?;
    let position = if visit.status.is_waiting() && room.show_place_in_line {
        let open = store.open_visits(visit.clinic_id).await?;
        queue(
            open.iter()
                .filter(|v| v.room_id == visit.room_id && v.status.is_waiting()),
        )
        .iter()
        .position(|v| v.id == visit.id)
        .map(|p| p + 1)
    } else {
        None
    };
    Ok(PatientView {
        visit_id: visit.id,
        status: visit.status,
        version: visit.version,
        clinic: clinic.name.clone(),
        room: room.name,
        waiting_message: room.waiting_message,
        emergency_info: room.emergency_info,
        intake_questions: room.intake_questions,
        intake: visit
            .intake
            .iter()
            .map(|(k, a)| (k.to_string(), a.to_string()))
            .collect(),
        intake_finished: visit.intake_finished,
        messages: visit.messages.iter().map(|m| m.text.to_string()).collect(),
        decline_note: visit.decline_note.as_ref().map(ToString::to_string),
        estimated_wait_minutes: position
            .zip(room.minutes_per_patient)
            .map(|(p, m)| (p as u32 - 1) * m),
        position,
        video_link: (visit.status == Status::InCall)
            .then(|| clinic.video_link(visit.room_id, visit.id))
            .flatten(),
        after_hours: visit.after_hours,
        starts: visit
            .booking
            .as_ref()
            .map(|b| crate::hours::local_words(&clinic.time_zone, b.starts_at)),
    })
}

impl From<Committed> for CommandReply {
    fn from(c: Committed) -> Self {
        c.reply
    }
}
