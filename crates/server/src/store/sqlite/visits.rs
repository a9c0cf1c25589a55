//! Visits in the database: reading them, writing one command's change with its event and
//! idempotency record, answering a retried command as it was first answered, and the
//! departures of patients who closed their waiting page.
//!
//! A visit's row holds its state without its history; each command adds its history entries
//! as rows of `visit_history` and an event that carries just those entries. What a command
//! writes is the same size on the first day of a visit as on its last.

use super::event_log::{insert_visit_event, next_seq};
use super::schema::{OPEN_STATUSES, WAITING_STATUSES};
use super::{corrupt, from_json, parse_id, to_json};
use crate::events::Published;
use crate::model::CommandReply;
use crate::store::rows::{event_visit, replayed_reply, visit_event_json};
use crate::store::{
    Committed, Decided, Idempotency, StoreError, VisitWrite, WriteAction, WriteRefused,
};
use frontdesk_domain::{ClinicId, HistoryEntry, RoomId, Timestamp, Visit, VisitId};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::HashMap;

/// A visit's state as its row holds it: everything but the history (what commands decide on).
pub(super) fn load_visit_state(
    conn: &Connection,
    clinic: ClinicId,
    id: VisitId,
) -> Result<Option<Visit>, StoreError> {
    let data: Option<String> = conn
        .prepare_cached("SELECT data FROM visits WHERE id = ?1 AND clinic_id = ?2")?
        .query_row([id.to_string(), clinic.to_string()], |r| r.get(0))
        .optional()?;
    data.map(|d| from_json(&d)).transpose()
}

/// A visit whole, with its history.
pub(super) fn load_visit(
    conn: &Connection,
    clinic: ClinicId,
    id: VisitId,
) -> Result<Option<Visit>, StoreError> {
    let Some(mut visit) = load_visit_state(conn, clinic, id)? else {
        return Ok(None);
    };
    visit.history = history_page(conn, clinic, id, 0, u32::MAX)?;
    Ok(Some(visit))
}

/// Up to `limit` of a visit's history entries of versions after `after`, in order.
pub(super) fn history_page(
    conn: &Connection,
    clinic: ClinicId,
    id: VisitId,
    after: u64,
    limit: u32,
) -> Result<Vec<HistoryEntry>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT entry FROM visit_history WHERE visit_id = ?1 AND clinic_id = ?2 AND version > ?3
         ORDER BY version, position LIMIT ?4",
    )?;
    let rows = stmt.query_map(
        params![
            id.to_string(),
            clinic.to_string(),
            after.min(i64::MAX as u64) as i64,
            limit
        ],
        |r| r.get::<_, String>(0),
    )?;
    rows.map(|r| from_json(&r?)).collect()
}

/// The clinic's open visits, whole: each with its history (a snapshot, the queue's figures).
pub(super) fn load_open_visits(
    conn: &Connection,
    clinic: ClinicId,
) -> Result<Vec<Visit>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT data FROM visits WHERE clinic_id = ?1 AND status IN {OPEN_STATUSES}
         ORDER BY id"
    ))?;
    let rows = stmt.query_map([clinic.to_string()], |r| r.get::<_, String>(0))?;
    let mut visits: Vec<Visit> = rows.map(|r| from_json(&r?)).collect::<Result<_, _>>()?;
    let mut histories: HashMap<VisitId, Vec<HistoryEntry>> = HashMap::new();
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT h.visit_id, h.entry FROM visit_history h JOIN visits v ON v.id = h.visit_id
         WHERE v.clinic_id = ?1 AND v.status IN {OPEN_STATUSES}
         ORDER BY h.visit_id, h.version, h.position"
    ))?;
    let rows = stmt.query_map([clinic.to_string()], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
    })?;
    for row in rows {
        let (id, entry) = row?;
        histories
            .entry(parse_id(&id)?)
            .or_default()
            .push(from_json(&entry)?);
    }
    for visit in &mut visits {
        visit.history = histories.remove(&visit.id).unwrap_or_default();
    }
    Ok(visits)
}

/// Up to `limit` of the clinic's visits that finished in `[from, to)`, whole, in the order they
/// finished (then by id), starting after `after` (a page's last `(finished_at, id)`).
pub(super) fn load_finished_visits(
    conn: &Connection,
    clinic: ClinicId,
    from: Timestamp,
    to: Timestamp,
    after: Option<(Timestamp, VisitId)>,
    limit: u32,
) -> Result<Vec<Visit>, StoreError> {
    let (after_at, after_id) = match after {
        Some((at, id)) => (at.as_millis(), id.to_string()),
        None => (i64::MIN, String::new()),
    };
    let mut stmt = conn.prepare_cached(
        "SELECT id, data FROM visits
         WHERE clinic_id = ?1 AND finished_at >= ?2 AND finished_at < ?3
           AND (finished_at > ?4 OR (finished_at = ?4 AND id > ?5))
         ORDER BY finished_at, id LIMIT ?6",
    )?;
    let rows = stmt.query_map(
        params![
            clinic.to_string(),
            from.as_millis(),
            to.as_millis(),
            after_at,
            after_id,
            limit
        ],
        |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
    )?;
    let mut visits = Vec::new();
    for row in rows {
        let (id, data) = row?;
        let mut visit: Visit = from_json(&data)?;
        visit.history = history_page(conn, clinic, parse_id(&id)?, 0, u32::MAX)?;
        visits.push(visit);
    }
    Ok(visits)
}

/// A waiting patient's place in line in `room` (1: next), counted by the `visits_in_line`
/// index as the domain's `place_in_line` orders the line; None when not waiting there.
pub(super) fn place_in_line(
    conn: &Connection,
    clinic: ClinicId,
    room: RoomId,
    visit: VisitId,
) -> Result<Option<usize>, StoreError> {
    let ahead: Option<i64> = conn
        .prepare_cached(&format!(
            "SELECT (SELECT COUNT(*) FROM visits v
                     WHERE v.room_id = me.room_id AND v.clinic_id = me.clinic_id
                       AND v.status IN {WAITING_STATUSES} AND v.id <> me.id
                       AND (v.line_priority > me.line_priority
                            OR (v.line_priority = me.line_priority
                                AND (v.line_since < me.line_since
                                     OR (v.line_since = me.line_since AND v.id < me.id)))))
             FROM visits me
             WHERE me.id = ?1 AND me.clinic_id = ?2 AND me.room_id = ?3
               AND me.status IN {WAITING_STATUSES}"
        ))?
        .query_row(
            params![visit.to_string(), clinic.to_string(), room.to_string()],
            |r| r.get(0),
        )
        .optional()?;
    Ok(ahead.map(|n| 1 + n as usize))
}

/// Adds one command's history entries beside the visit.
fn record_history(
    tx: &Connection,
    clinic: &str,
    entries: &[HistoryEntry],
    visit: VisitId,
) -> Result<(), StoreError> {
    let mut insert = tx.prepare_cached(
        "INSERT INTO visit_history (visit_id, version, position, clinic_id, entry)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    // Entries of one command share a version; an opening's follow-up shares the first's.
    let mut position = 0i64;
    let mut last_version = None;
    for entry in entries {
        if last_version != Some(entry.version) {
            position = next_position(tx, visit, entry.version)?;
            last_version = Some(entry.version);
        }
        insert.execute(params![
            visit.to_string(),
            entry.version as i64,
            position,
            clinic,
            to_json(entry)?
        ])?;
        position += 1;
    }
    Ok(())
}

fn next_position(tx: &Connection, visit: VisitId, version: u64) -> Result<i64, StoreError> {
    Ok(tx
        .prepare_cached(
            "SELECT COALESCE(MAX(position) + 1, 0) FROM visit_history
             WHERE visit_id = ?1 AND version = ?2",
        )?
        .query_row(params![visit.to_string(), version as i64], |r| r.get(0))?)
}

/// One visit command inside the caller's transaction. Returns the answer and, unless it was
/// a replay, the event to publish once committed.
pub(super) fn write_visit_in(
    tx: &Connection,
    known: Option<&Visit>,
    w: &VisitWrite,
) -> Result<(Committed, Option<Published>), WriteRefused> {
    let clinic = w.clinic.to_string();
    if let Some(idem) = &w.idempotency
        && let Some(saved) = saved_response(tx, &clinic, idem)?
    {
        return Ok((saved, None));
    }
    let loaded;
    let current = match (&w.action, known) {
        (WriteAction::Open { .. }, _) => None,
        (WriteAction::Change(_), Some(v)) => Some(v),
        (WriteAction::Change(_), None) => {
            loaded = load_visit_state(tx, w.clinic, w.visit_id)?;
            loaded.as_ref()
        }
    };
    let d = w.decide_on(current)?;
    if d.decided_on.is_none() {
        tx.prepare_cached(
            "INSERT INTO visits (id, clinic_id, room_id, status, version, patient_token_hash, data,
                line_priority, line_since)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?
        .execute(params![
            d.visit.id.to_string(),
            clinic,
            d.room,
            d.visit.status.as_str(),
            d.visit.version as i64,
            d.token_hash,
            d.data,
            d.line_priority,
            d.line_since
        ])?;
        for (guest, hash) in d.guest_tokens.iter().enumerate() {
            tx.prepare_cached(
                "INSERT INTO visit_tokens (token_hash, visit_id, guest) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![hash, d.visit.id.to_string(), guest as i64])?;
        }
    } else {
        tx.prepare_cached(
            "UPDATE visits SET room_id = ?3, status = ?4, version = ?5, data = ?6,
                line_priority = ?7, line_since = ?8, finished_at = ?9
             WHERE id = ?1 AND clinic_id = ?2",
        )?
        .execute(params![
            d.visit.id.to_string(),
            clinic,
            d.room,
            d.visit.status.as_str(),
            d.visit.version as i64,
            d.data,
            d.line_priority,
            d.line_since,
            d.finished_at
        ])?;
    }
    let Decided {
        status,
        visit,
        entries,
        data,
        ..
    } = d;
    record_history(tx, &clinic, &entries, visit.id)?;
    let seq = next_seq(tx, w.clinic)?;
    let entries_json = to_json(&entries)?;
    let payload = visit_event_json(seq, w.clinic, w.at, visit.id, visit.version, &entries_json);
    let head = crate::events::Event {
        seq,
        clinic_id: w.clinic,
        at: w.at,
        body: crate::events::EventBody::Withheld,
    };
    let published = insert_visit_event(tx, head, &visit, &entries, payload)?;
    if let Some(idem) = &w.idempotency {
        tx.prepare_cached(
            "INSERT INTO idempotency (clinic_id, scope, key, fingerprint, status, response, created_at, seq)
             VALUES (?1, ?2, ?3, ?4, ?5, '', ?6, ?7)",
        )?
        .execute(params![
            clinic,
            idem.scope,
            idem.key,
            idem.fingerprint,
            status,
            w.at.as_millis(),
            seq as i64
        ])?;
    }
    let reply = CommandReply {
        seq,
        visit,
        entries,
    };
    Ok((
        Committed::first(status, reply, &data, &entries_json),
        Some(published),
    ))
}

/// The reply to a command as it was first answered: the visit at the version its event
/// recorded, rebuilt from the history up to that version, and that version's entries.
fn answered_from_event(tx: &Connection, clinic: &str, seq: i64) -> Result<String, StoreError> {
    let payload: String = tx
        .prepare_cached("SELECT payload FROM events WHERE clinic_id = ?1 AND seq = ?2")?
        .query_row(params![clinic, seq], |r| r.get(0))
        .optional()?
        .ok_or_else(|| corrupt(format!("no event {seq} for an idempotency record")))?;
    let (visit_id, version) = event_visit(&payload)?;
    let history: Vec<HistoryEntry> = tx
        .prepare_cached(
            "SELECT entry FROM visit_history WHERE visit_id = ?1 AND version <= ?2
             ORDER BY version, position",
        )?
        .query_map(params![visit_id.to_string(), version as i64], |r| {
            r.get::<_, String>(0)
        })?
        .map(|r| from_json(&r?))
        .collect::<Result<_, _>>()?;
    replayed_reply(seq as u64, visit_id, version, &history)
}

fn saved_response(
    tx: &Connection,
    clinic: &str,
    idem: &Idempotency,
) -> Result<Option<Committed>, WriteRefused> {
    let row: Option<(String, u16, String, Option<i64>)> = tx
        .prepare_cached(
            "SELECT fingerprint, status, response, seq FROM idempotency
             WHERE clinic_id = ?1 AND scope = ?2 AND key = ?3",
        )?
        .query_row(params![clinic, idem.scope, idem.key], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    let Some((fingerprint, status, response, seq)) = row else {
        return Ok(None);
    };
    if fingerprint != idem.fingerprint {
        return Err(WriteRefused::KeyReused);
    }
    // Records written before the seq column carry the reply itself.
    let response = match seq {
        Some(seq) => answered_from_event(tx, clinic, seq)?,
        None => response,
    };
    Ok(Some(Committed {
        status,
        reply: from_json(&response)?,
        reply_json: response,
        replayed: true,
    }))
}

pub(super) fn scheduled_visits(c: &Connection) -> Result<Vec<Visit>, StoreError> {
    let mut stmt = c.prepare_cached("SELECT data FROM visits WHERE status = 'scheduled'")?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    rows.map(|r| from_json(&r?)).collect()
}

pub(super) fn depart_at(
    conn: &Connection,
    clinic: ClinicId,
    visit: VisitId,
    leave_at: Timestamp,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO departures (visit_id, clinic_id, leave_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (visit_id) DO UPDATE SET leave_at = excluded.leave_at",
        params![visit.to_string(), clinic.to_string(), leave_at.as_millis()],
    )?;
    Ok(())
}

pub(super) fn cancel_departure(conn: &Connection, visit: VisitId) -> Result<(), StoreError> {
    conn.execute(
        "DELETE FROM departures WHERE visit_id = ?1",
        [visit.to_string()],
    )?;
    Ok(())
}

pub(super) fn departures(
    c: &Connection,
) -> Result<Vec<(ClinicId, VisitId, Timestamp)>, StoreError> {
    let mut stmt =
        c.prepare_cached("SELECT clinic_id, visit_id, leave_at FROM departures ORDER BY leave_at")?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
        ))
    })?;
    rows.map(|r| {
        let (clinic, visit, at) = r?;
        Ok((
            parse_id(&clinic)?,
            parse_id(&visit)?,
            Timestamp::from_millis(at),
        ))
    })
    .collect()
}
