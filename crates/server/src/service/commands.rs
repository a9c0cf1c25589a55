//! Commands on a visit that exists: a member of staff's, the patient's own, and those the
//! clinic's own rules issue; the domain decides each inside the write.

use super::{actor_of, fingerprint, refusal, room_in_clinic};
use crate::error::AppError;
use crate::model::Session;
use crate::store::{Committed, Idempotency, Store, VisitWrite, WriteAction};
use frontdesk_domain::{
    Actor, Command, Context, DomainError, Timestamp, Visit, VisitId, apply, intake_answers,
};

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
    let sent = (expected_version, idempotency_key);
    staff_command_read_by(store, at, who, None, visit_id, command, sent).await
}

/// [`staff_command`] by someone who reads visits through `reader` (None: they read every
/// visit): a visit they may not read is refused as not found, on the visit the write decides
/// on (no read of its own).
pub async fn staff_command_read_by(
    store: &dyn Store,
    at: Timestamp,
    who: &Session,
    reader: Option<frontdesk_domain::Reader>,
    visit_id: VisitId,
    command: Command,
    (expected_version, idempotency_key): (Option<u64>, Option<String>),
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
        action: WriteAction::Change(Box::new(move |v: &Visit| {
            if let Some(r) = &reader
                && r.detail(&frontdesk_domain::Audience::of(v)).is_none()
            {
                return Err(DomainError::NotVisible);
            }
            apply(v, &ctx, &command)
        })),
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
    let questions: Vec<_> = room
        .intake_questions
        .iter()
        .map(|q| (q.label.as_str(), q.answer_rule()))
        .collect();
    let parsed = intake_answers(&questions, answers)?;
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
