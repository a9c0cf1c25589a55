//! The server's use cases, between the handlers and the store: resolve references inside the
//! caller's clinic, ask the domain to decide, write through the store, and turn refusals into
//! [`AppError`]s. No HTTP here, so the demo simulator drives the same code the API does.

use crate::app::now;
use crate::auth::{PATIENT_TOKEN_PREFIX, new_token, token_hash};
use crate::error::AppError;
use crate::model::{
    Clinic, CommandReply, QueueItem, RoomInfo, Session, Snapshot, StaffInfo, StaffRef,
};
use crate::store::{Committed, Idempotency, Store, VisitWrite, WriteAction, WriteRefused};
use frontdesk_domain::queue::{queue, wait_figures};
use frontdesk_domain::{
    Actor, Booking, ClinicId, Command, Context, DomainError, Opening, Patient, Role, RoomId,
    StaffId, Status, TransferTarget, Visit, VisitId, apply, open,
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
    who: &Session,
    visit_id: VisitId,
    command: Command,
    expected_version: Option<u64>,
    idempotency_key: Option<String>,
) -> Result<Committed, AppError> {
    let clinic = who.staff.clinic_id;
    let at = now();
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
    visit: &Visit,
    command: Command,
) -> Result<Committed, AppError> {
    let at = now();
    let ctx = Context {
        actor: Actor::Patient,
        at,
        expected_version: None,
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

/// A newly opened visit, with the token the patient (or guest) acts through. The token is
/// given once: a replayed answer omits it, since only its hash is kept.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Opened {
    pub seq: u64,
    #[schema(value_type = Object)]
    pub visit: Visit,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patient_token: Option<String>,
}

async fn open_visit(
    store: &dyn Store,
    clinic: ClinicId,
    actor: Actor,
    opening: Opening,
    idempotency: Option<Idempotency>,
) -> Result<Opened, AppError> {
    let at = now();
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
    let token = new_token(PATIENT_TOKEN_PREFIX)?;
    let write = VisitWrite {
        clinic,
        visit_id,
        at,
        idempotency,
        action: WriteAction::Open {
            outcome: Box::new(outcome),
            patient_token_hash: Some(token_hash(&token)),
        },
    };
    match store.write_visit(write).await {
        Ok(c) => Ok(Opened {
            seq: c.reply.seq,
            visit: c.reply.visit,
            patient_token: (!c.replayed).then_some(token),
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
/// validation error, so the patient is told rather than silently ignored.
pub async fn save_intake(
    store: &dyn Store,
    visit: &Visit,
    answers: &[(String, String)],
    finish: bool,
) -> Result<(), AppError> {
    let mut parsed = std::collections::BTreeMap::new();
    for (question, answer) in answers.iter().filter(|(_, a)| !a.trim().is_empty()) {
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
    if !parsed.is_empty() {
        patient_command(store, visit, Command::UpdateIntake { answers: parsed }).await?;
    }
    if finish {
        patient_command(store, visit, Command::FinishIntake).await?;
    }
    Ok(())
}

/// A patient comes through a room's front door.
pub async fn arrive(
    store: &dyn Store,
    clinic_slug: &str,
    room: RoomId,
    patient: Patient,
) -> Result<Opened, AppError> {
    let clinic = store
        .clinic_by_slug(clinic_slug)
        .await?
        .ok_or(AppError::NotFound("clinic"))?;
    let room = room_in_clinic(store, clinic.id, room).await?;
    let opening = Opening::Arrive {
        room: room.id,
        patient,
        has_intake: !room.intake_questions.is_empty(),
        after_hours: false,
    };
    open_visit(store, clinic.id, Actor::Patient, opening, None).await
}

/// A request for a session with a named provider, by the patient (no `who`) or the front desk.
/// The provider's availability now decides whether it is declined at once.
pub async fn request_session(
    store: &dyn Store,
    clinic: ClinicId,
    who: Option<&Session>,
    room: RoomId,
    patient: Patient,
    provider: StaffId,
    idempotency_key: Option<String>,
) -> Result<Opened, AppError> {
    room_in_clinic(store, clinic, room).await?;
    let provider = provider_in_clinic(store, clinic, provider).await?;
    let opening = Opening::Request {
        room,
        patient,
        provider: provider.id,
        provider_availability: provider.availability,
    };
    let (actor, idempotency) = match who {
        Some(who) => {
            let body = serde_json::to_string(&opening).unwrap_or_default();
            let key = staff_idempotency(who, idempotency_key, &["request", &body]);
            (actor_of(&who.staff), key)
        }
        None => (Actor::Patient, None),
    };
    open_visit(store, clinic, actor, opening, idempotency).await
}

/// A session booked ahead for guests.
pub async fn schedule(
    store: &dyn Store,
    who: &Session,
    room: RoomId,
    booking: Booking,
    idempotency_key: Option<String>,
) -> Result<Opened, AppError> {
    let clinic = who.staff.clinic_id;
    room_in_clinic(store, clinic, room).await?;
    provider_in_clinic(store, clinic, booking.provider).await?;
    let opening = Opening::Schedule { room, booking };
    let body = serde_json::to_string(&opening).unwrap_or_default();
    let idempotency = staff_idempotency(who, idempotency_key, &["schedule", &body]);
    open_visit(store, clinic, actor_of(&who.staff), opening, idempotency).await
}

/// The queue of one room, or of all the rooms I work in (all rooms if I belong to none).
pub async fn queue_for(
    store: &dyn Store,
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
    let at = now();
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
    pub intake_questions: Vec<String>,
    pub intake: HashMap<String, String>,
    pub intake_finished: bool,
    /// Messages from staff, oldest first.
    pub messages: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decline_note: Option<String>,
    /// 1 for next in line; absent when not waiting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<usize>,
}

pub async fn patient_view(store: &dyn Store, visit: &Visit) -> Result<PatientView, AppError> {
    let clinic: Clinic = store
        .clinic(visit.clinic_id)
        .await?
        .ok_or(AppError::NotFound("clinic"))?;
    let room = room_in_clinic(store, visit.clinic_id, visit.room_id).await?;
    let position = if visit.status.is_waiting() {
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
        clinic: clinic.name,
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
        position,
    })
}

impl From<Committed> for CommandReply {
    fn from(c: Committed) -> Self {
        c.reply
    }
}
