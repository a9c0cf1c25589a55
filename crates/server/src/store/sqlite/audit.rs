//! What the minimum-necessary reads and the audit trail keep in SQLite: the events with who
//! may read each (so a page of events is filtered as the live stream was), and each clinic's
//! hash-chained audit records with their head and the anchor pruning leaves (see
//! [`crate::audit`]). Plain SQL another database takes too.

use super::{from_json, parse_id};
use crate::audit::{AuditRecord, ChainMark, ChainedRecord, GENESIS, chain_hash, visits_text};
use crate::events::Event;
use crate::store::StoreError;
use crate::store::rows::{audit_entry_from_cols, event_audience};
use frontdesk_domain::access::Audience;
use frontdesk_domain::{ClinicId, Timestamp, VisitId};
use rusqlite::{Connection, OptionalExtension, params};

/// Events after `after` with who may read each: None for everyone (staff, rooms). A visit
/// event recorded before events kept their audience is for those who see every room.
pub(super) fn events_with_audience(
    c: &Connection,
    clinic: ClinicId,
    after: u64,
    limit: u32,
) -> Result<Vec<(Event, Option<Audience>)>, StoreError> {
    let mut stmt = c.prepare_cached(
        "SELECT payload, kind, audience FROM events WHERE clinic_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
    )?;
    let rows = stmt.query_map(
        params![clinic.to_string(), after.min(i64::MAX as u64) as i64, limit],
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
            ))
        },
    )?;
    rows.map(|r| {
        let (payload, kind, audience) = r?;
        let audience = event_audience(&kind, audience.as_deref())?;
        Ok((from_json(&payload)?, audience))
    })
    .collect()
}

/// Appends records to their clinics' chains, in the order given, in one transaction.
pub(super) fn append(conn: &mut Connection, records: Vec<AuditRecord>) -> Result<(), StoreError> {
    let tx = conn.transaction()?;
    for r in records {
        let clinic = r.clinic_id.to_string();
        let head: Option<(i64, String)> = tx
            .prepare_cached("SELECT head_n, head_hash FROM audit_chains WHERE clinic_id = ?1")?
            .query_row([&clinic], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()?;
        let (last, prev) = head.unwrap_or((0, GENESIS.to_owned()));
        let n = last as u64 + 1;
        let hash = chain_hash(&prev, n, &r);
        tx.prepare_cached(
            "INSERT INTO audit_log (clinic_id, n, at, actor, client, action, visits, detail, prev_hash, hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?
        .execute(params![
            clinic,
            n as i64,
            r.at.as_millis(),
            r.actor,
            r.client,
            r.action,
            visits_text(&r.visits),
            r.detail.to_string(),
            prev,
            hash
        ])?;
        for v in &r.visits {
            tx.prepare_cached(
                "INSERT INTO audit_visits (clinic_id, visit_id, n) VALUES (?1, ?2, ?3)
                 ON CONFLICT DO NOTHING",
            )?
            .execute(params![clinic, v.to_string(), n as i64])?;
        }
        tx.prepare_cached(
            "INSERT INTO audit_chains (clinic_id, head_n, head_hash, anchor_n, anchor_hash)
             VALUES (?1, ?2, ?3, 0, ?4)
             ON CONFLICT (clinic_id) DO UPDATE SET head_n = excluded.head_n, head_hash = excluded.head_hash",
        )?
        .execute(params![clinic, n as i64, hash, GENESIS])?;
    }
    tx.commit()?;
    Ok(())
}

const ENTRY_COLUMNS: &str =
    "l.n, l.clinic_id, l.at, l.actor, l.client, l.action, l.visits, l.detail, l.prev_hash, l.hash";

fn entry(row: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, [String; 9])> {
    Ok((
        row.get(0)?,
        [
            row.get(1)?,
            row.get::<_, i64>(2)?.to_string(),
            row.get(3)?,
            row.get(4)?,
            row.get(5)?,
            row.get(6)?,
            row.get(7)?,
            row.get(8)?,
            row.get(9)?,
        ],
    ))
}

fn entries(
    c: &Connection,
    sql: &str,
    args: impl rusqlite::Params,
) -> Result<Vec<ChainedRecord>, StoreError> {
    let mut stmt = c.prepare_cached(sql)?;
    let rows = stmt.query_map(args, entry)?;
    rows.map(|r| audit_entry_from_cols(r?)).collect()
}

/// A clinic's records after place `after`, in chain order.
pub(super) fn chain(
    c: &Connection,
    clinic: ClinicId,
    after: u64,
    limit: u32,
) -> Result<Vec<ChainedRecord>, StoreError> {
    entries(
        c,
        &format!(
            "SELECT {ENTRY_COLUMNS} FROM audit_log l WHERE l.clinic_id = ?1 AND l.n > ?2 ORDER BY l.n LIMIT ?3"
        ),
        params![clinic.to_string(), after as i64, limit],
    )
}

/// A clinic's records from `from` (inclusive) to `to` (exclusive) after place `after`.
pub(super) fn range(
    c: &Connection,
    clinic: ClinicId,
    span: (Timestamp, Timestamp),
    after: u64,
    limit: u32,
) -> Result<Vec<ChainedRecord>, StoreError> {
    entries(
        c,
        &format!(
            "SELECT {ENTRY_COLUMNS} FROM audit_log l
             WHERE l.clinic_id = ?1 AND l.at >= ?2 AND l.at < ?3 AND l.n > ?4 ORDER BY l.n LIMIT ?5"
        ),
        params![
            clinic.to_string(),
            span.0.as_millis(),
            span.1.as_millis(),
            after as i64,
            limit
        ],
    )
}

/// The records that touched one visit, in chain order.
pub(super) fn for_visit(
    c: &Connection,
    clinic: ClinicId,
    visit: VisitId,
) -> Result<Vec<ChainedRecord>, StoreError> {
    entries(
        c,
        &format!(
            "SELECT {ENTRY_COLUMNS} FROM audit_visits v
             JOIN audit_log l ON l.clinic_id = v.clinic_id AND l.n = v.n
             WHERE v.clinic_id = ?1 AND v.visit_id = ?2 ORDER BY l.n"
        ),
        params![clinic.to_string(), visit.to_string()],
    )
}

/// A clinic's anchor (what pruning left) and head (the last record written).
pub(super) fn marks(
    c: &Connection,
    clinic: ClinicId,
) -> Result<(Option<ChainMark>, Option<ChainMark>), StoreError> {
    let row: Option<(i64, String, i64, String)> = c
        .prepare_cached(
            "SELECT anchor_n, anchor_hash, head_n, head_hash FROM audit_chains WHERE clinic_id = ?1",
        )?
        .query_row([clinic.to_string()], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    Ok(match row {
        None => (None, None),
        Some((an, ah, hn, hh)) => (
            (an > 0).then_some(ChainMark {
                n: an as u64,
                hash: ah,
            }),
            Some(ChainMark {
                n: hn as u64,
                hash: hh,
            }),
        ),
    })
}

/// Every clinic with an audit chain, and every clinic (a chain may be empty or missing).
pub(super) fn clinics(c: &Connection) -> Result<Vec<ClinicId>, StoreError> {
    let mut stmt = c.prepare_cached(
        "SELECT id FROM clinics UNION SELECT clinic_id FROM audit_chains UNION SELECT DISTINCT clinic_id FROM audit_log",
    )?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    rows.map(|r| parse_id(&r?)).collect()
}

/// Removes records older than `before` from every chain, keeping the last one removed as the
/// chain's anchor; how many were removed.
pub(super) fn prune(conn: &mut Connection, before: Timestamp) -> Result<usize, StoreError> {
    let tx = conn.transaction()?;
    let cut: Vec<(String, i64, String)> = tx
        .prepare(
            "SELECT l.clinic_id, l.n, l.hash FROM audit_log l
             WHERE l.n = (SELECT MAX(x.n) FROM audit_log x WHERE x.clinic_id = l.clinic_id AND x.at < ?1)",
        )?
        .query_map([before.as_millis()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    let mut removed = 0;
    for (clinic, n, hash) in cut {
        tx.execute(
            "UPDATE audit_chains SET anchor_n = ?2, anchor_hash = ?3 WHERE clinic_id = ?1",
            params![clinic, n, hash],
        )?;
        tx.execute(
            "DELETE FROM audit_visits WHERE clinic_id = ?1 AND n <= ?2",
            params![clinic, n],
        )?;
        removed += tx.execute(
            "DELETE FROM audit_log WHERE clinic_id = ?1 AND n <= ?2",
            params![clinic, n],
        )?;
    }
    tx.commit()?;
    Ok(removed)
}
