//! Visits in PostgreSQL: reading them, and one command's write — its idempotency claim, the
//! version-guarded change, its history, the clinic's next seq and its event, all in the
//! caller's transaction — plus answering a retried command as it was first answered.

use super::cached::Cached;
use super::{Fail, big};
use crate::events::EventBody;
use crate::model::CommandReply;
use crate::store::rows::{
    OPEN_STATUSES, WAITING_STATUSES, corrupt, event_visit, from_json, parse_id, replayed_reply,
    to_json, visit_event_after_seq, visit_event_json,
};
use crate::store::{
    Committed, Decided, Idempotency, StoreError, VisitWrite, WriteAction, WriteRefused,
};
use deadpool_postgres::GenericClient;
use frontdesk_domain::access::Audience;
use frontdesk_domain::{ClinicId, HistoryEntry, RoomId, Timestamp, Visit, VisitId};
use std::collections::HashMap;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;

type Pg = tokio_postgres::Error;

/// Takes the clinic's next seq: the counter row stays locked until the commit, so the
/// clinic's seqs commit in order and none is skipped. The caller hands the seq to the event
/// bus once committed, which announces it to the other processes.
pub(super) async fn next_seq<C: GenericClient + Sync>(
    tx: &C,
    clinic: ClinicId,
) -> Result<u64, Fail> {
    let row = tx
        .fetch_opt(
            "UPDATE clinics SET seq = seq + 1 WHERE id = $1 RETURNING seq",
            &[&clinic.to_string()],
        )
        .await?;
    let seq = row
        .map(|r| r.get::<_, i64>(0) as u64)
        .ok_or_else(|| corrupt(format!("no clinic {clinic}")))?;
    Ok(seq)
}

/// Records an event of the clinic's in the transaction; returns its seq.
pub(super) async fn record_event<C: GenericClient + Sync>(
    tx: &C,
    clinic: ClinicId,
    at: Timestamp,
    body: EventBody,
) -> Result<u64, Fail> {
    let seq = next_seq(tx, clinic).await?;
    let visit_id = match &body {
        EventBody::Visit { visit_id, .. } => Some(visit_id.to_string()),
        _ => None,
    };
    let kind = body.kind();
    let event = crate::events::Event {
        seq,
        clinic_id: clinic,
        at,
        body,
    };
    insert_event(tx, clinic, seq, at, kind, visit_id, &to_json(&event)?, None).await?;
    Ok(seq)
}

/// Writes an event's row; `audience` (JSON) is who may read a visit's change.
#[allow(clippy::too_many_arguments)]
async fn insert_event<C: GenericClient + Sync>(
    tx: &C,
    clinic: ClinicId,
    seq: u64,
    at: Timestamp,
    kind: &str,
    visit_id: Option<String>,
    payload: &str,
    audience: Option<String>,
) -> Result<(), Pg> {
    tx.run(
        "INSERT INTO events (clinic_id, seq, at, kind, visit_id, payload, audience)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            &clinic.to_string(),
            &big(seq),
            &at.as_millis(),
            &kind,
            &visit_id,
            &payload,
            &audience,
        ],
    )
    .await?;
    Ok(())
}

/// A visit's state as its row holds it, with its version: what commands decide on.
pub(super) async fn load_visit_state<C: GenericClient + Sync>(
    c: &C,
    clinic: ClinicId,
    id: VisitId,
) -> Result<Option<Visit>, StoreError> {
    let row = c
        .fetch_opt(
            "SELECT data FROM visits WHERE id = $1 AND clinic_id = $2",
            &[&id.to_string(), &clinic.to_string()],
        )
        .await
        .map_err(|e| StoreError::from(Fail::from(e)))?;
    row.map(|r| from_json(r.get::<_, &str>(0))).transpose()
}

pub(super) async fn load_visit<C: GenericClient + Sync>(
    c: &C,
    clinic: ClinicId,
    id: VisitId,
) -> Result<Option<Visit>, StoreError> {
    let Some(mut visit) = load_visit_state(c, clinic, id).await? else {
        return Ok(None);
    };
    visit.history = history_page(c, clinic, id, 0, u32::MAX).await?;
    Ok(Some(visit))
}

pub(super) async fn history_page<C: GenericClient + Sync>(
    c: &C,
    clinic: ClinicId,
    id: VisitId,
    after: u64,
    limit: u32,
) -> Result<Vec<HistoryEntry>, StoreError> {
    let rows = c
        .fetch(
            "SELECT entry FROM visit_history WHERE visit_id = $1 AND clinic_id = $2
               AND version > $3 ORDER BY version, position LIMIT $4",
            &[
                &id.to_string(),
                &clinic.to_string(),
                &big(after),
                &i64::from(limit),
            ],
        )
        .await
        .map_err(|e| StoreError::from(Fail::from(e)))?;
    rows.iter()
        .map(|r| from_json(r.get::<_, &str>(0)))
        .collect()
}

pub(super) async fn load_open_visits<C: GenericClient + Sync>(
    c: &C,
    clinic: ClinicId,
) -> Result<Vec<Visit>, StoreError> {
    let db = |e| StoreError::from(Fail::from(e));
    let rows = c
        .fetch(
            &format!(
                "SELECT data FROM visits WHERE clinic_id = $1 AND status IN {OPEN_STATUSES}
                 ORDER BY id"
            ),
            &[&clinic.to_string()],
        )
        .await
        .map_err(db)?;
    let mut visits: Vec<Visit> = rows
        .iter()
        .map(|r| from_json(r.get::<_, &str>(0)))
        .collect::<Result<_, _>>()?;
    let rows = c
        .fetch(
            &format!(
                "SELECT h.visit_id, h.entry FROM visit_history h JOIN visits v ON v.id = h.visit_id
                 WHERE v.clinic_id = $1 AND v.status IN {OPEN_STATUSES}
                 ORDER BY h.visit_id, h.version, h.position"
            ),
            &[&clinic.to_string()],
        )
        .await
        .map_err(db)?;
    let mut histories: HashMap<VisitId, Vec<HistoryEntry>> = HashMap::new();
    for r in &rows {
        histories
            .entry(parse_id(r.get::<_, &str>(0))?)
            .or_default()
            .push(from_json(r.get::<_, &str>(1))?);
    }
    for visit in &mut visits {
        visit.history = histories.remove(&visit.id).unwrap_or_default();
    }
    Ok(visits)
}

pub(super) async fn load_finished_visits<C: GenericClient + Sync>(
    c: &C,
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
    let rows = c
        .fetch(
            "SELECT id, data FROM visits
             WHERE clinic_id = $1 AND finished_at >= $2 AND finished_at < $3
               AND (finished_at > $4 OR (finished_at = $4 AND id > $5))
             ORDER BY finished_at, id LIMIT $6",
            &[
                &clinic.to_string(),
                &from.as_millis(),
                &to.as_millis(),
                &after_at,
                &after_id,
                &i64::from(limit),
            ],
        )
        .await
        .map_err(|e| StoreError::from(Fail::from(e)))?;
    let mut visits = Vec::with_capacity(rows.len());
    for r in &rows {
        let mut visit: Visit = from_json(r.get::<_, &str>(1))?;
        visit.history =
            history_page(c, clinic, parse_id(r.get::<_, &str>(0))?, 0, u32::MAX).await?;
        visits.push(visit);
    }
    Ok(visits)
}

pub(super) async fn place_in_line<C: GenericClient + Sync>(
    c: &C,
    clinic: ClinicId,
    room: RoomId,
    visit: VisitId,
) -> Result<Option<usize>, StoreError> {
    let row = c
        .fetch_opt(
            &format!(
                "SELECT (SELECT COUNT(*) FROM visits v
                         WHERE v.room_id = me.room_id AND v.clinic_id = me.clinic_id
                           AND v.status IN {WAITING_STATUSES} AND v.id <> me.id
                           AND (v.line_priority > me.line_priority
                                OR (v.line_priority = me.line_priority
                                    AND (v.line_since < me.line_since
                                         OR (v.line_since = me.line_since AND v.id < me.id)))))
                 FROM visits me
                 WHERE me.id = $1 AND me.clinic_id = $2 AND me.room_id = $3
                   AND me.status IN {WAITING_STATUSES}"
            ),
            &[&visit.to_string(), &clinic.to_string(), &room.to_string()],
        )
        .await
        .map_err(|e| StoreError::from(Fail::from(e)))?;
    Ok(row.map(|r| 1 + r.get::<_, i64>(0) as usize))
}

pub(super) async fn scheduled_visits<C: GenericClient + Sync>(
    c: &C,
) -> Result<Vec<Visit>, StoreError> {
    let rows = c
        .fetch("SELECT data FROM visits WHERE status = 'scheduled'", &[])
        .await
        .map_err(|e| StoreError::from(Fail::from(e)))?;
    rows.iter()
        .map(|r| from_json(r.get::<_, &str>(0)))
        .collect()
}

/// Adds one command's history entries beside the visit (an opening's follow-up entries share
/// the first one's version, so positions count on within a version).
async fn record_history<C: GenericClient + Sync>(
    tx: &C,
    clinic: &str,
    entries: &[HistoryEntry],
    visit: VisitId,
) -> Result<(), Fail> {
    let visit = visit.to_string();
    let mut position = 0i64;
    let mut last_version = None;
    for entry in entries {
        if last_version != Some(entry.version) {
            position = tx
                .fetch_one(
                    "SELECT COALESCE(MAX(position) + 1, 0) FROM visit_history
                     WHERE visit_id = $1 AND version = $2",
                    &[&visit, &big(entry.version)],
                )
                .await?
                .get(0);
            last_version = Some(entry.version);
        }
        tx.run(
            "INSERT INTO visit_history (visit_id, version, position, clinic_id, entry)
             VALUES ($1, $2, $3, $4, $5)",
            &[
                &visit,
                &big(entry.version),
                &position,
                &clinic,
                &to_json(entry)?,
            ],
        )
        .await?;
        position += 1;
    }
    Ok(())
}

/// One visit command inside the caller's transaction: the answer, and its seq unless it is a
/// replay. [`Fail::Retry`] when the visit changed since it was read (decide again).
pub(super) async fn write_visit_in<C: GenericClient + Sync>(
    tx: &C,
    // Mutable only so that the future stays `Send` (a decision is `Send`, not `Sync`).
    w: &mut VisitWrite,
) -> Result<(Committed, Option<u64>), Fail> {
    let clinic = w.clinic.to_string();
    let status: i64 = match w.action {
        WriteAction::Open { .. } => 201,
        WriteAction::Change(_) => 200,
    };
    if let Some(idem) = &w.idempotency
        && let Some(saved) = claim_key(tx, &clinic, idem, status, w.at).await?
    {
        return Ok((saved, None));
    }
    let current = match w.action {
        WriteAction::Open { .. } => None,
        WriteAction::Change(_) => load_visit_state(tx, w.clinic, w.visit_id).await?,
    };
    // Decided before the next wait: a borrowed decision must not wait on the database.
    let d = w.decide_on(current.as_ref())?;
    let id = d.visit.id.to_string();
    match d.decided_on {
        None => {
            tx.run(
                "INSERT INTO visits (id, clinic_id, room_id, status, version, patient_token_hash,
                    data, line_priority, line_since)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                &[
                    &id,
                    &clinic,
                    &d.room,
                    &d.visit.status.as_str(),
                    &big(d.visit.version),
                    &d.token_hash,
                    &d.data,
                    &d.line_priority,
                    &d.line_since,
                ],
            )
            .await?;
            for (guest, hash) in d.guest_tokens.iter().enumerate() {
                tx.run(
                    "INSERT INTO visit_tokens (token_hash, visit_id, guest) VALUES ($1, $2, $3)",
                    &[hash, &id, &big(guest)],
                )
                .await?;
            }
        }
        Some(version) => {
            let changed = tx
                .run(
                    "UPDATE visits SET room_id = $4, status = $5, version = $6, data = $7,
                        line_priority = $8, line_since = $9, finished_at = $10
                     WHERE id = $1 AND clinic_id = $2 AND version = $3",
                    &[
                        &id,
                        &clinic,
                        &big(version),
                        &d.room,
                        &d.visit.status.as_str(),
                        &big(d.visit.version),
                        &d.data,
                        &d.line_priority,
                        &d.line_since,
                        &d.finished_at,
                    ],
                )
                .await?;
            if changed == 0 {
                // Someone else's command committed first: decide again on what it left.
                return Err(Fail::Retry);
            }
        }
    }
    let Decided {
        visit,
        entries,
        data,
        ..
    } = d;
    record_history(tx, &clinic, &entries, visit.id).await?;
    let seq = next_seq(tx, w.clinic).await?;
    let entries_json = to_json(&entries)?;
    let payload = visit_event_json(seq, w.clinic, w.at, visit.id, visit.version, &entries_json);
    insert_event(
        tx,
        w.clinic,
        seq,
        w.at,
        "visit",
        Some(visit.id.to_string()),
        &payload,
        Some(to_json(&Audience::of_change(&visit, &entries))?),
    )
    .await?;
    if let Some(idem) = &w.idempotency {
        tx.run(
            "UPDATE idempotency SET seq = $4 WHERE clinic_id = $1 AND scope = $2 AND key = $3",
            &[&clinic, &idem.scope, &idem.key, &big(seq)],
        )
        .await?;
    }
    let reply = CommandReply {
        seq,
        visit,
        entries,
    };
    Ok((
        Committed::first(status as u16, reply, &data, &entries_json),
        Some(seq),
    ))
}

/// How a command went that was offered to [`write_in_one_statement`].
pub(super) enum OneStatement {
    /// Committed, with its seq.
    Done(Box<Committed>, u64),
    /// Not one for a single statement: its key was used before (the first answer is given in a
    /// transaction, [`write_visit_in`]), or it adds history at a version the visit has already.
    Transaction,
}

/// A change's first read: the visit as its row holds it, and whether the command's key was
/// used before.
const READ_FOR_CHANGE: &str = "SELECT (SELECT data FROM visits WHERE id = $1 AND clinic_id = $2),
        EXISTS (SELECT 1 FROM idempotency WHERE clinic_id = $2 AND scope = $3 AND key = $4)";

/// What follows the visit's own write (the `changed` CTE) in both statements: the clinic's
/// next seq once the visit is written, the history, the event (its JSON around that seq) and
/// the key with its seq. `$11…$20`. The seq is announced to the other processes after the
/// commit (see `bus`), not by a notice in the statement: PostgreSQL puts the commits of every
/// transaction that notifies in one line (their notices queue in commit order), which on a
/// durable cluster held each clinic's commands behind every other clinic's WAL flush.
macro_rules! then_the_event {
    () => {
        "taken AS (
    UPDATE clinics SET seq = seq + 1 WHERE id = $2 AND EXISTS (SELECT 1 FROM changed)
    RETURNING seq),
history AS (
    INSERT INTO visit_history (visit_id, version, position, clinic_id, entry)
    SELECT $1, h.version, h.position, $2, h.entry
    FROM taken, unnest($11::bigint[], $12::bigint[], $13::text[]) AS h(version, position, entry)),
event AS (
    INSERT INTO events (clinic_id, seq, at, kind, visit_id, payload, audience)
    SELECT $2, seq, $14, 'visit', $1, '{\"seq\":' || seq::text || $15::text, $16 FROM taken),
key AS (
    INSERT INTO idempotency (clinic_id, scope, key, fingerprint, status, seq, created_at)
    SELECT $2, $17, $18, $19, $20, seq, $14 FROM taken WHERE $17::text IS NOT NULL)
SELECT seq FROM taken"
    };
}

/// A change: the visit's update at the version it was decided on (`$3`), then the event.
const CHANGE: &str = concat!(
    "WITH changed AS (
    UPDATE visits SET room_id = $4, status = $5, version = $6, data = $7,
        line_priority = $8, line_since = $9, finished_at = $10
    WHERE id = $1 AND clinic_id = $2 AND version = $3
    RETURNING id),
",
    then_the_event!()
);

/// An opening: the visit with its patient's token hash (`$3`) and its guests' (`$10`), then
/// the event.
const OPEN: &str = concat!(
    "WITH changed AS (
    INSERT INTO visits (id, clinic_id, room_id, status, version, patient_token_hash, data,
        line_priority, line_since)
    VALUES ($1, $2, $4, $5, $6, $3, $7, $8, $9)
    RETURNING id),
guests AS (
    INSERT INTO visit_tokens (token_hash, visit_id, guest)
    SELECT g.hash, $1, g.n - 1 FROM unnest($10::text[]) WITH ORDINALITY AS g(hash, n)),
",
    then_the_event!()
);

/// One visit command in one statement and no transaction around it: a change is read (with
/// whether its key was used before) and decided here, then written with its history, seq,
/// event and key by one statement, which commits on its own. The clinic's counter row is
/// locked for that statement only, not for the round trips of a transaction.
/// [`Fail::Retry`] when the visit changed since it was read (decide again).
pub(super) async fn write_in_one_statement<C: GenericClient + Sync>(
    c: &C,
    w: &mut VisitWrite,
) -> Result<OneStatement, Fail> {
    let clinic = w.clinic.to_string();
    let id = w.visit_id.to_string();
    let (scope, key, fingerprint) = match &w.idempotency {
        Some(i) => (
            Some(i.scope.as_str()),
            Some(i.key.as_str()),
            Some(i.fingerprint.as_str()),
        ),
        None => (None, None, None),
    };
    // An opening's key is checked by the statement itself (a second use is a unique
    // violation); a change's before its decision, which a replay must not make again.
    let current: Option<Visit> = match w.action {
        WriteAction::Open { .. } => None,
        WriteAction::Change(_) => {
            let row = c
                .fetch_one(READ_FOR_CHANGE, &[&id, &clinic, &scope, &key])
                .await?;
            if row.get::<_, bool>(1) {
                return Ok(OneStatement::Transaction);
            }
            match row.get::<_, Option<&str>>(0) {
                Some(data) => Some(from_json(data)?),
                None => return Err(WriteRefused::NotFound.into()),
            }
        }
    };
    let d = w.decide_on(current.as_ref())?;
    // Each version's entries count from 0: every version here is new to the visit.
    let (mut versions, mut positions, mut texts) = (Vec::new(), Vec::new(), Vec::new());
    let mut last: Option<u64> = None;
    for entry in &d.entries {
        let seen = d.decided_on.is_some_and(|v| entry.version <= v);
        if seen || last.is_some_and(|l| entry.version < l) {
            return Ok(OneStatement::Transaction);
        }
        let position = match (last, positions.last()) {
            (Some(l), Some(p)) if l == entry.version => p + 1,
            _ => 0i64,
        };
        last = Some(entry.version);
        versions.push(big(entry.version));
        positions.push(position);
        texts.push(to_json(entry)?);
    }
    let status = i64::from(d.status);
    let Decided {
        visit,
        entries,
        decided_on,
        token_hash,
        guest_tokens,
        data,
        room,
        line_priority,
        line_since,
        finished_at,
        ..
    } = d;
    let entries_json = to_json(&entries)?;
    let after_seq = visit_event_after_seq(w.clinic, w.at, visit.id, visit.version, &entries_json);
    let audience = to_json(&Audience::of_change(&visit, &entries))?;
    let expected = decided_on.map(big);
    let (sql, third, tenth): (_, &(dyn ToSql + Sync), &(dyn ToSql + Sync)) = match expected {
        Some(ref version) => (CHANGE, version, &finished_at),
        None => (OPEN, &token_hash, &guest_tokens),
    };
    let row = c
        .fetch_opt(
            sql,
            &[
                &id,
                &clinic,
                third,
                &room,
                &visit.status.as_str(),
                &big(visit.version),
                &data,
                &line_priority,
                &line_since,
                tenth,
                &versions,
                &positions,
                &texts,
                &w.at.as_millis(),
                &after_seq,
                &audience,
                &scope,
                &key,
                &fingerprint,
                &status,
            ],
        )
        .await;
    let row = match row {
        Ok(row) => row,
        // The key was used meanwhile, by a command that has committed: answer its answer.
        Err(e) if key_taken(&e) => return Ok(OneStatement::Transaction),
        Err(e) => return Err(e.into()),
    };
    // Someone else's command changed the visit first: decide again on what it left.
    let seq = row.ok_or(Fail::Retry)?.get::<_, i64>(0) as u64;
    let reply = CommandReply {
        seq,
        visit,
        entries,
    };
    Ok(OneStatement::Done(
        Box::new(Committed::first(status as u16, reply, &data, &entries_json)),
        seq,
    ))
}

/// A unique violation on the idempotency table: the command's key is taken.
fn key_taken(e: &Pg) -> bool {
    e.code() == Some(&SqlState::UNIQUE_VIOLATION)
        && e.as_db_error().and_then(|d| d.table()) == Some("idempotency")
}

/// Claims the key for this command, or gives the first answer to it. A concurrent command with
/// the same key waits here until the first commits (its answer) or rolls back (the key is
/// free again).
async fn claim_key<C: GenericClient + Sync>(
    tx: &C,
    clinic: &str,
    idem: &Idempotency,
    status: i64,
    at: Timestamp,
) -> Result<Option<Committed>, Fail> {
    let claimed = tx
        .run(
            "INSERT INTO idempotency (clinic_id, scope, key, fingerprint, status, created_at)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            &[
                &clinic,
                &idem.scope,
                &idem.key,
                &idem.fingerprint,
                &status,
                &at.as_millis(),
            ],
        )
        .await?;
    if claimed == 1 {
        return Ok(None);
    }
    let row = tx
        .fetch_opt(
            "SELECT fingerprint, status, seq FROM idempotency
             WHERE clinic_id = $1 AND scope = $2 AND key = $3",
            &[&clinic, &idem.scope, &idem.key],
        )
        .await?;
    // Swept between the two statements: as if never seen, on a fresh try.
    let Some(row) = row else {
        return Err(Fail::Retry);
    };
    if row.get::<_, &str>(0) != idem.fingerprint {
        return Err(WriteRefused::KeyReused.into());
    }
    let status: i64 = row.get(1);
    let seq: i64 = row
        .get::<_, Option<i64>>(2)
        .ok_or_else(|| corrupt("an idempotency record without its seq"))?;
    let response = answered_from_event(tx, clinic, seq).await?;
    Ok(Some(Committed {
        status: status as u16,
        reply: from_json(&response)?,
        reply_json: response,
        replayed: true,
    }))
}

/// The reply to a command as it was first answered: the visit at the version its event
/// recorded, rebuilt from the history up to that version, and that version's entries.
async fn answered_from_event<C: GenericClient + Sync>(
    tx: &C,
    clinic: &str,
    seq: i64,
) -> Result<String, Fail> {
    let payload: String = tx
        .fetch_opt(
            "SELECT payload FROM events WHERE clinic_id = $1 AND seq = $2",
            &[&clinic, &seq],
        )
        .await?
        .ok_or_else(|| corrupt(format!("no event {seq} for an idempotency record")))?
        .get(0);
    let (visit_id, version) = event_visit(&payload)?;
    let rows = tx
        .fetch(
            "SELECT entry FROM visit_history WHERE visit_id = $1 AND version <= $2
             ORDER BY version, position",
            &[&visit_id.to_string(), &big(version)],
        )
        .await?;
    let history: Vec<HistoryEntry> = rows
        .iter()
        .map(|r| from_json(r.get::<_, &str>(0)))
        .collect::<Result<_, _>>()?;
    Ok(replayed_reply(seq as u64, visit_id, version, &history)?)
}
