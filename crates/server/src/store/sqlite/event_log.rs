//! The clinic's event log: each committed change takes the clinic's next `seq` and its event
//! row in the same transaction, and the hub hands it to live subscribers once committed.

use super::directory::{load_clinic, load_rooms};
use super::staff::load_staff;
use super::visits::load_open_visits;
use super::{corrupt, from_json, lock, to_json};
use crate::events::{ClinicFeed, Event, EventBody, LiveBudget, Published};
use crate::store::{SnapshotData, StoreError};
use frontdesk_domain::access::Audience;
use frontdesk_domain::{ClinicId, HistoryEntry, Timestamp, Visit};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Live subscribers per clinic (see [`ClinicFeed`] for how far each may fall behind).
pub(super) struct Hub {
    pub(super) budget: LiveBudget,
    pub(super) feeds: Mutex<HashMap<ClinicId, Arc<ClinicFeed>>>,
}

impl Hub {
    pub(super) fn feed(&self, clinic: ClinicId) -> Arc<ClinicFeed> {
        lock(&self.feeds)
            .entry(clinic)
            .or_insert_with(|| ClinicFeed::new(self.budget))
            .clone()
    }

    pub(super) fn publish(&self, clinic: ClinicId, published: Published) {
        // No subscriber is fine: the event is in the table for whoever comes later.
        self.feed(clinic).publish(published);
    }
}

pub(super) fn next_seq(tx: &Connection, clinic: ClinicId) -> Result<u64, StoreError> {
    let seq: Option<i64> = tx
        .prepare_cached("UPDATE clinics SET seq = seq + 1 WHERE id = ?1 RETURNING seq")?
        .query_row([clinic.to_string()], |r| r.get(0))
        .optional()?;
    let seq = seq.ok_or_else(|| corrupt(format!("no clinic {clinic}")))?;
    Ok(seq as u64)
}

/// Records an event in the transaction; returns what to publish once it commits.
pub(super) fn record_event(
    tx: &Connection,
    clinic: ClinicId,
    at: Timestamp,
    body: EventBody,
) -> Result<Published, StoreError> {
    let seq = next_seq(tx, clinic)?;
    let visit_id = match &body {
        EventBody::Visit { visit_id, .. } => Some(visit_id.to_string()),
        _ => None,
    };
    let kind = body.kind();
    let event = Event {
        seq,
        clinic_id: clinic,
        at,
        body,
    };
    let payload = to_json(&event)?;
    insert_event(tx, clinic, seq, at, kind, visit_id, payload)
}

pub(super) fn insert_event(
    tx: &Connection,
    clinic: ClinicId,
    seq: u64,
    at: Timestamp,
    kind: &str,
    visit_id: Option<String>,
    payload: String,
) -> Result<Published, StoreError> {
    write_event_row(tx, clinic, seq, at, kind, visit_id, &payload, None)?;
    Ok(Published::new(seq, &payload))
}

/// Records a visit's change with who may read it (see [`Audience`]).
pub(super) fn insert_visit_event(
    tx: &Connection,
    head: Event,
    visit: &Visit,
    entries: &[HistoryEntry],
    payload: String,
) -> Result<Published, StoreError> {
    let audience = Audience::of_change(visit, entries);
    write_event_row(
        tx,
        head.clinic_id,
        head.seq,
        head.at,
        "visit",
        Some(visit.id.to_string()),
        &payload,
        Some(to_json(&audience)?),
    )?;
    Ok(Published::for_audience(
        head,
        visit.id,
        visit.version,
        entries,
        &payload,
        audience,
    ))
}

#[allow(clippy::too_many_arguments)]
fn write_event_row(
    tx: &Connection,
    clinic: ClinicId,
    seq: u64,
    at: Timestamp,
    kind: &str,
    visit_id: Option<String>,
    payload: &str,
    audience: Option<String>,
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO events (clinic_id, seq, at, kind, visit_id, payload, audience) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![clinic.to_string(), seq as i64, at.as_millis(), kind, visit_id, payload, audience])?;
    Ok(())
}

pub(super) fn events_after(
    c: &Connection,
    clinic: ClinicId,
    after: u64,
    limit: u32,
) -> Result<Vec<Event>, StoreError> {
    let mut stmt = c.prepare_cached(
        "SELECT payload FROM events WHERE clinic_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
    )?;
    let rows = stmt.query_map(
        params![clinic.to_string(), after.min(i64::MAX as u64) as i64, limit],
        |r| r.get::<_, String>(0),
    )?;
    rows.map(|r| from_json(&r?)).collect()
}

/// The clinic as a console may start from: everything as of one `seq`.
pub(super) fn snapshot(
    c: &Connection,
    clinic: ClinicId,
) -> Result<Option<SnapshotData>, StoreError> {
    // One read transaction: everything reflects exactly `seq`.
    c.execute_batch("BEGIN")?;
    let out = (|| {
        let Some((info, seq)) = load_clinic(c, "id", &clinic.to_string())? else {
            return Ok(None);
        };
        Ok(Some(SnapshotData {
            seq,
            clinic: info,
            rooms: load_rooms(c, clinic)?,
            staff: load_staff(c, clinic)?,
            open_visits: load_open_visits(c, clinic)?,
        }))
    })();
    c.execute_batch("COMMIT")?;
    out
}
