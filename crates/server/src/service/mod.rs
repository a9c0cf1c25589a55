//! The server's use cases, between the handlers and the store: resolve references inside the
//! caller's clinic, ask the domain to decide, write through the store, and turn refusals into
//! [`AppError`]s. No HTTP here, so the demo simulator drives the same code the API does.
//!
//! Split by job: [`commands`] (commands on a visit that exists), [`openings`] (what opens a
//! visit: an arrival, a request, a booking) and [`views`] (what staff and patients see). This
//! module keeps what they share: who the caller is, idempotency, references inside the clinic
//! and the answer to a refused write.

mod commands;
pub mod fhir;
mod openings;
mod views;

pub use commands::{
    left_by_closing_the_page, patient_command, save_intake, staff_command, staff_command_read_by,
    system_command,
};
pub use frontdesk_api::{Opened, PatientView};
pub use openings::{Repeat, Requester, arrive, arrive_at, request_session, schedule};
pub use views::{finished_on, patient_view, queue_for, reader, snapshot, visit_for};

use crate::auth::{PATIENT_TOKEN_PREFIX, derived_token};
use crate::error::AppError;
use crate::model::{Clinic, CommandReply, RoomInfo, Session, StaffInfo, StaffRef};
use crate::store::{Committed, Idempotency, Store, WriteRefused};
use frontdesk_domain::{
    Actor, ClinicId, Command, DomainError, Role, RoomId, StaffId, TransferTarget, Visit, VisitId,
};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

pub fn actor_of(staff: &StaffInfo) -> Actor {
    Actor::Staff {
        id: staff.id,
        roles: staff.roles,
    }
}

pub(crate) fn fingerprint(parts: &[&str]) -> String {
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
            // The domain's code decides the answer, whichever variant carries it.
            match error {
                DomainError::NotVisible => AppError::NotFound("visit"),
                e if e.code() == "forbidden" => AppError::Forbidden(message),
                DomainError::Invalid(e) => AppError::Validation(e.to_string()),
                other => {
                    let holders = match &other {
                        DomainError::AlreadyClaimed { by } => by.clone(),
                        DomainError::AssignedElsewhere { provider } => vec![*provider],
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
    match (room, provider) {
        (Some(room), None) => Ok(TransferTarget::Room {
            room: known_room(&rooms, room)?,
        }),
        (room, Some(provider)) => {
            provider_in_clinic(store, clinic, provider).await?;
            let room = match room {
                Some(r) => known_room(&rooms, r)?,
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

/// A room a command names, if it is one of the clinic's.
fn known_room(rooms: &[RoomInfo], id: RoomId) -> Result<RoomId, AppError> {
    rooms
        .iter()
        .any(|r| r.id == id)
        .then_some(id)
        .ok_or_else(|| AppError::Validation("room: no such room in this clinic".into()))
}

/// Holds a command sent whole to what the per-action routes check while building it: the
/// rooms and providers it names are the caller's clinic's. The visit is looked up first, so
/// another clinic's visit is "not found" whatever the command names.
pub async fn check_references(
    store: &dyn Store,
    clinic: ClinicId,
    visit: VisitId,
    command: &Command,
) -> Result<(), AppError> {
    let (room, provider) = match command {
        Command::Transfer {
            to: TransferTarget::Room { room },
            ..
        } => (Some(*room), None),
        Command::Transfer {
            to: TransferTarget::Provider { provider, room },
            ..
        } => (Some(*room), Some(*provider)),
        Command::Assign { provider, .. } => (None, Some(*provider)),
        _ => return Ok(()),
    };
    store
        .visit(clinic, visit)
        .await?
        .ok_or(AppError::NotFound("visit"))?;
    if let Some(provider) = provider {
        provider_in_clinic(store, clinic, provider).await?;
    }
    if let Some(room) = room {
        known_room(&store.rooms(clinic).await?, room)?;
    }
    Ok(())
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
        // Someone deactivated is not anyone's provider any more.
        .find(|s| s.id == provider && s.roles.has(Role::Provider) && !s.deactivated)
        .ok_or_else(|| AppError::Validation("provider: no such provider in this clinic".into()))
}

pub(crate) async fn room_in_clinic(
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

/// A scheduled session guest's own link token (made again whenever a message needs it).
pub fn guest_token(secret: &[u8; 32], visit: VisitId, guest: usize) -> String {
    derived_token(
        secret,
        PATIENT_TOKEN_PREFIX,
        &["guest", &visit.to_string(), &guest.to_string()],
    )
}

pub(crate) fn staff_idempotency(
    who: &Session,
    key: Option<String>,
    parts: &[&str],
) -> Option<Idempotency> {
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

impl From<Committed> for CommandReply {
    fn from(c: Committed) -> Self {
        c.reply
    }
}
