//! What the minimum-necessary reads and the audit trail keep in PostgreSQL: the events with who
//! may read each, and each clinic's hash-chained audit records with their head and the anchor
//! pruning leaves (see [`crate::audit`]). Every server process appends to the same chains: an
//! append locks its clinic's `audit_chains` row for the rest of its transaction, so records
//! take their places one at a time and each links to the one before.

use super::cached::Cached;
use super::{Fail, big};
use crate::audit::{AuditRecord, ChainMark, ChainedRecord, GENESIS, chain_hash, visits_text};
use crate::events::Event;
use crate::store::StoreError;
use crate::store::rows::{audit_entry_from_cols, event_audience, from_json, parse_id};
use deadpool_postgres::GenericClient;
use frontdesk_domain::access::Audience;
use frontdesk_domain::{ClinicId, Timestamp, VisitId};
use tokio_postgres::types::ToSql;

fn db(e: tokio_postgres::Error) -> StoreError {
    super::pg_error(&e)
}

/// Events after `after` with who may read each (see [`event_audience`]).
pub(super) async fn events_with_audience<C: GenericClient + Sync>(
    c: &C,
    clinic: ClinicId,
    after: u64,
    limit: u32,
) -> Result<Vec<(Event, Option<Audience>)>, StoreError> {
    let rows = c
        .fetch(
            "SELECT payload, kind, audience FROM events WHERE clinic_id = $1 AND seq > $2
             ORDER BY seq LIMIT $3",
            &[&clinic.to_string(), &big(after), &i64::from(limit)],
        )
        .await
        .map_err(db)?;
    rows.iter()
        .map(|r| {
            let audience = event_audience(r.get(1), r.get::<_, Option<&str>>(2))?;
            Ok((from_json(r.get(0))?, audience))
        })
        .collect()
}

/// Appends records to their clinics' chains, in the order given, in the transaction.
pub(super) async fn append<C: GenericClient + Sync>(
    tx: &C,
    records: &[AuditRecord],
) -> Result<(), Fail> {
    for r in records {
        let clinic = r.clinic_id.to_string();
        // The chain's row exists before it is locked, so the first appends of two processes
        // wait for each other too.
        tx.run(
            "INSERT INTO audit_chains (clinic_id, head_n, head_hash, anchor_n, anchor_hash)
             VALUES ($1, 0, $2, 0, $2) ON CONFLICT (clinic_id) DO NOTHING",
            &[&clinic, &GENESIS],
        )
        .await?;
        let head = tx
            .fetch_one(
                "SELECT head_n, head_hash FROM audit_chains WHERE clinic_id = $1 FOR UPDATE",
                &[&clinic],
            )
            .await?;
        let (last, prev): (i64, String) = (head.get(0), head.get(1));
        let n = last as u64 + 1;
        let hash = chain_hash(&prev, n, r);
        tx.run(
            "INSERT INTO audit_log (clinic_id, n, at, actor, client, action, visits, detail,
                 prev_hash, hash)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            &[
                &clinic,
                &big(n),
                &r.at.as_millis(),
                &r.actor,
                &r.client,
                &r.action,
                &visits_text(&r.visits),
                &r.detail.to_string(),
                &prev,
                &hash,
            ],
        )
        .await?;
        for v in &r.visits {
            tx.run(
                "INSERT INTO audit_visits (clinic_id, visit_id, n) VALUES ($1, $2, $3)
                 ON CONFLICT DO NOTHING",
                &[&clinic, &v.to_string(), &big(n)],
            )
            .await?;
        }
        tx.run(
            "UPDATE audit_chains SET head_n = $2, head_hash = $3 WHERE clinic_id = $1",
            &[&clinic, &big(n), &hash],
        )
        .await?;
    }
    Ok(())
}

const ENTRY_COLUMNS: &str = "l.n, l.clinic_id, l.at::text, l.actor, l.client, l.action, l.visits, \
     l.detail, l.prev_hash, l.hash";

async fn entries<C: GenericClient + Sync>(
    c: &C,
    sql: &str,
    args: &[&(dyn ToSql + Sync)],
) -> Result<Vec<ChainedRecord>, StoreError> {
    let rows = c.fetch(sql, args).await.map_err(db)?;
    rows.iter()
        .map(|r| {
            let cols: [String; 9] = std::array::from_fn(|i| r.get(i + 1));
            audit_entry_from_cols((r.get(0), cols))
        })
        .collect()
}

/// A clinic's records after place `after`, in chain order.
pub(super) async fn chain<C: GenericClient + Sync>(
    c: &C,
    clinic: ClinicId,
    after: u64,
    limit: u32,
) -> Result<Vec<ChainedRecord>, StoreError> {
    entries(
        c,
        &format!(
            "SELECT {ENTRY_COLUMNS} FROM audit_log l WHERE l.clinic_id = $1 AND l.n > $2
             ORDER BY l.n LIMIT $3"
        ),
        &[&clinic.to_string(), &big(after), &i64::from(limit)],
    )
    .await
}

/// A clinic's records from `span.0` (inclusive) to `span.1` (exclusive) after place `after`.
pub(super) async fn range<C: GenericClient + Sync>(
    c: &C,
    clinic: ClinicId,
    span: (Timestamp, Timestamp),
    after: u64,
    limit: u32,
) -> Result<Vec<ChainedRecord>, StoreError> {
    entries(
        c,
        &format!(
            "SELECT {ENTRY_COLUMNS} FROM audit_log l
             WHERE l.clinic_id = $1 AND l.at >= $2 AND l.at < $3 AND l.n > $4
             ORDER BY l.n LIMIT $5"
        ),
        &[
            &clinic.to_string(),
            &span.0.as_millis(),
            &span.1.as_millis(),
            &big(after),
            &i64::from(limit),
        ],
    )
    .await
}

/// The records that touched one visit, in chain order.
pub(super) async fn for_visit<C: GenericClient + Sync>(
    c: &C,
    clinic: ClinicId,
    visit: VisitId,
) -> Result<Vec<ChainedRecord>, StoreError> {
    entries(
        c,
        &format!(
            "SELECT {ENTRY_COLUMNS} FROM audit_visits v
             JOIN audit_log l ON l.clinic_id = v.clinic_id AND l.n = v.n
             WHERE v.clinic_id = $1 AND v.visit_id = $2 ORDER BY l.n"
        ),
        &[&clinic.to_string(), &visit.to_string()],
    )
    .await
}

/// A clinic's anchor (what pruning left) and head (the last record written).
pub(super) async fn marks<C: GenericClient + Sync>(
    c: &C,
    clinic: ClinicId,
) -> Result<(Option<ChainMark>, Option<ChainMark>), StoreError> {
    let row = c
        .fetch_opt(
            "SELECT anchor_n, anchor_hash, head_n, head_hash FROM audit_chains
             WHERE clinic_id = $1 AND head_n > 0",
            &[&clinic.to_string()],
        )
        .await
        .map_err(db)?;
    Ok(match row {
        None => (None, None),
        Some(r) => {
            let (an, hn): (i64, i64) = (r.get(0), r.get(2));
            (
                (an > 0).then(|| ChainMark {
                    n: an as u64,
                    hash: r.get(1),
                }),
                Some(ChainMark {
                    n: hn as u64,
                    hash: r.get(3),
                }),
            )
        }
    })
}

/// Every clinic, and every clinic with an audit chain or records.
pub(super) async fn clinics<C: GenericClient + Sync>(c: &C) -> Result<Vec<ClinicId>, StoreError> {
    let rows = c
        .fetch(
            "SELECT id FROM clinics UNION SELECT clinic_id FROM audit_chains
             UNION SELECT DISTINCT clinic_id FROM audit_log",
            &[],
        )
        .await
        .map_err(db)?;
    rows.iter().map(|r| parse_id(r.get::<_, &str>(0))).collect()
}

/// Removes records older than `before` from every chain, keeping the last one removed as the
/// chain's anchor; how many were removed. Prunes from several processes may overlap: the
/// anchor only ever moves on, to the last record any of them removed.
pub(super) async fn prune<C: GenericClient + Sync>(
    tx: &C,
    before: Timestamp,
) -> Result<usize, Fail> {
    let cut = tx
        .fetch(
            "SELECT l.clinic_id, l.n, l.hash FROM audit_log l
             WHERE l.n = (SELECT MAX(x.n) FROM audit_log x
                          WHERE x.clinic_id = l.clinic_id AND x.at < $1)
             ORDER BY l.clinic_id",
            &[&before.as_millis()],
        )
        .await?;
    let mut removed = 0;
    for row in cut {
        let (clinic, n, hash): (String, i64, String) = (row.get(0), row.get(1), row.get(2));
        // Another process's prune may have cut further meanwhile: an anchor only moves on.
        tx.run(
            "UPDATE audit_chains SET anchor_n = $2, anchor_hash = $3
             WHERE clinic_id = $1 AND anchor_n < $2",
            &[&clinic, &n, &hash],
        )
        .await?;
        tx.run(
            "DELETE FROM audit_visits WHERE clinic_id = $1 AND n <= $2",
            &[&clinic, &n],
        )
        .await?;
        removed += tx
            .run(
                "DELETE FROM audit_log WHERE clinic_id = $1 AND n <= $2",
                &[&clinic, &n],
            )
            .await? as usize;
    }
    Ok(removed)
}
