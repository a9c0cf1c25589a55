//! What people see: a room's queue for staff, the clinic's snapshot for a console, and the
//! patient's own screen.

use super::room_in_clinic;
use crate::error::AppError;
use crate::model::{Clinic, QueueItem, Session, Snapshot, StaffRef};
use crate::store::Store;
use frontdesk_api::PatientView;
use frontdesk_domain::queue::{queue, wait_figures};
use frontdesk_domain::{Reader, RoomId, StaffId, Status, Timestamp, Visit, VisitId, queue_rooms};
use std::collections::{BTreeSet, HashMap};

/// What the caller may read (the domain's minimum-necessary table), from their session as it
/// is now.
pub async fn reader(store: &dyn Store, who: &Session) -> Result<Reader, AppError> {
    // The clinic's rooms only narrow what a reader of some rooms reads: none to read for
    // someone who reads everything (an admin, a front desk over every room).
    let without_rooms = who.staff.reader(&[]);
    if without_rooms.reads_everything() {
        return Ok(without_rooms);
    }
    // Read with the session, at once: no second read (the PostgreSQL store).
    if let Some(own) = &who.provider_of {
        return Ok(who.staff.reader_owning(own.iter().copied()));
    }
    let rooms = store.rooms(who.staff.clinic_id).await?;
    Ok(who.staff.reader(&rooms))
}

/// The visit as the caller may read it; another clinic's, or one they may not read, is not
/// found.
pub async fn visit_for(store: &dyn Store, who: &Session, id: VisitId) -> Result<Visit, AppError> {
    let visit = store
        .visit(who.staff.clinic_id, id)
        .await?
        .ok_or(AppError::NotFound("visit"))?;
    reader(store, who)
        .await?
        .visit(visit)
        .ok_or(AppError::NotFound("visit"))
}

/// The queue of one room, or of all the rooms I work in (all rooms if I belong to none), as
/// far as I may read it.
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
        None => queue_rooms(&who.staff.rooms, rooms.iter().map(|r| r.id))
            .into_iter()
            .collect(),
    };
    let reader = who.staff.reader(&rooms);
    let visits: Vec<Visit> = store
        .open_visits(clinic)
        .await?
        .into_iter()
        .filter_map(|v| reader.visit(v))
        .collect();
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
    let reader = who.staff.reader(&data.rooms);
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
        visits: data
            .open_visits
            .into_iter()
            .filter_map(|v| reader.visit(v))
            .collect(),
    })
}

/// The visits of the caller's clinic that finished on `day` (clinic-local `YYYY-MM-DD`; today
/// when none), a page at a time. `after` is the previous page's `next`: `<ms>.<visit id>`.
pub async fn finished_on(
    store: &dyn Store,
    now: Timestamp,
    who: &Session,
    day: Option<&str>,
    after: Option<&str>,
    limit: u32,
) -> Result<frontdesk_api::FinishedVisits, AppError> {
    let clinic_id = who.staff.clinic_id;
    let clinic: Clinic = store
        .clinic(clinic_id)
        .await?
        .ok_or(AppError::NotFound("clinic"))?;
    let (day, from, to) = crate::hours::day_span(&clinic.time_zone, day, now)
        .ok_or_else(|| AppError::BadRequest("day: expected YYYY-MM-DD".into()))?;
    let after = after
        .map(|a| {
            let (ms, id) = a.split_once('.')?;
            Some((Timestamp::from_millis(ms.parse().ok()?), id.parse().ok()?))
        })
        .map(|a| a.ok_or_else(|| AppError::BadRequest("after: not a page's `next`".into())))
        .transpose()?;
    let visits = store
        .finished_visits(clinic_id, from, to, after, limit)
        .await?;
    let next = (visits.len() == limit as usize)
        .then(|| visits.last())
        .flatten()
        .map(|v| format!("{}.{}", v.updated_at.as_millis(), v.id));
    // A page may come out shorter than asked: `next` still goes on from where the store
    // stopped.
    let reader = reader(store, who).await?;
    let visits = visits.into_iter().filter_map(|v| reader.visit(v)).collect();
    Ok(frontdesk_api::FinishedVisits { day, visits, next })
}

pub async fn patient_view(store: &dyn Store, visit: &Visit) -> Result<PatientView, AppError> {
    let clinic: Clinic = store
        .clinic(visit.clinic_id)
        .await?
        .ok_or(AppError::NotFound("clinic"))?;
    let room = room_in_clinic(store, visit.clinic_id, visit.room_id).await?;
    let position = if visit.status.is_waiting() && room.show_place_in_line {
        // As the clinic has it now, not as this request first read it; counted by the store
        // as the domain's `place_in_line` orders the line (a test holds the two together).
        store
            .place_in_line(visit.clinic_id, visit.room_id, visit.id)
            .await?
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
