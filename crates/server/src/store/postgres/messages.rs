//! The server's secret, patients' links, the outbox of email and SMS (with the notifier's mark
//! of how far it has looked) and the departures of patients whose waiting page closed, in
//! PostgreSQL.

use super::cached::Cached;
use super::leader::CLAIMER_GONE;
use super::{Fail, big};
use crate::store::rows::{corrupt, from_json, parse_id, state_str};
use crate::store::{Attempt, Channel, Delivery, DeliveryState, NewMessage, StoreError};
use deadpool_postgres::GenericClient;
use deadpool_postgres::Pool;
use frontdesk_domain::{ClinicId, Timestamp, Visit, VisitId};

fn db(e: tokio_postgres::Error) -> StoreError {
    StoreError::from(Fail::from(e))
}

/// The secret links are derived from: made by whichever process comes first, kept for all.
pub(super) async fn server_secret(pool: &Pool) -> Result<[u8; 32], StoreError> {
    let client = pool.get().await.map_err(Fail::from)?;
    let mut fresh = [0u8; 32];
    getrandom::fill(&mut fresh).map_err(|e| StoreError::Database(e.to_string()))?;
    client
        .run(
            "INSERT INTO server_keys (name, value) VALUES ('links', $1) ON CONFLICT DO NOTHING",
            &[&fresh.as_slice()],
        )
        .await
        .map_err(db)?;
    let kept: Vec<u8> = client
        .fetch_one("SELECT value FROM server_keys WHERE name = 'links'", &[])
        .await
        .map_err(db)?
        .get(0);
    kept.try_into()
        .map_err(|_| corrupt("the server's secret has the wrong length"))
}

pub(super) async fn visit_for_token<C: GenericClient + Sync>(
    c: &C,
    token_hash: &str,
) -> Result<Option<(Visit, Option<usize>)>, StoreError> {
    let patient = c
        .fetch_opt(
            "SELECT data FROM visits WHERE patient_token_hash = $1",
            &[&token_hash],
        )
        .await
        .map_err(db)?;
    if let Some(row) = patient {
        return Ok(Some((from_json(row.get::<_, &str>(0))?, None)));
    }
    let guest = c
        .fetch_opt(
            "SELECT v.data, t.guest FROM visit_tokens t JOIN visits v ON v.id = t.visit_id
             WHERE t.token_hash = $1",
            &[&token_hash],
        )
        .await
        .map_err(db)?;
    guest
        .map(|r| {
            Ok((
                from_json(r.get::<_, &str>(0))?,
                r.get::<_, Option<i64>>(1).map(|g| g as usize),
            ))
        })
        .transpose()
}

pub(super) async fn unnotified<C: GenericClient + Sync>(
    c: &C,
) -> Result<Vec<(ClinicId, u64)>, StoreError> {
    let rows = c
        .fetch(
            "SELECT c.id, COALESCE(n.seq, 0) FROM clinics c
             LEFT JOIN notifier n ON n.clinic_id = c.id
             WHERE c.seq > COALESCE(n.seq, 0)",
            &[],
        )
        .await
        .map_err(db)?;
    rows.iter()
        .map(|r| Ok((parse_id(r.get::<_, &str>(0))?, r.get::<_, i64>(1) as u64)))
        .collect()
}

pub(super) async fn queue<C: GenericClient + Sync>(
    tx: &C,
    clinic: ClinicId,
    through: u64,
    messages: &[NewMessage],
    now: Timestamp,
) -> Result<(), Fail> {
    for m in messages {
        insert(tx, clinic, m, now).await?;
    }
    tx.run(
        "INSERT INTO notifier (clinic_id, seq) VALUES ($1, $2)
         ON CONFLICT (clinic_id) DO UPDATE SET seq = GREATEST(notifier.seq, excluded.seq)",
        &[&clinic.to_string(), &big(through)],
    )
    .await?;
    Ok(())
}

pub(super) async fn insert<C: GenericClient + Sync>(
    c: &C,
    clinic: ClinicId,
    m: &NewMessage,
    now: Timestamp,
) -> Result<(), Fail> {
    c.run(
        "INSERT INTO messages (clinic_id, key, visit_id, kind, channel, recipient, subject, body,
             due_at, only_while_open, state, next_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'pending', $9, $11)
         ON CONFLICT (clinic_id, key) DO NOTHING",
        &[
            &clinic.to_string(),
            &m.key,
            &m.visit.map(|v| v.to_string()),
            &m.kind,
            &m.channel.as_str(),
            &m.to,
            &m.subject,
            &m.body,
            &m.due_at.as_millis(),
            &m.only_while_open,
            &now.as_millis(),
        ],
    )
    .await?;
    Ok(())
}

const DELIVERY_COLUMNS: &str = "id, clinic_id, visit_id, kind, channel, recipient, subject, body, \
    due_at, state, attempts, last_error, next_at, sent_at, only_while_open, key";

fn delivery(r: &tokio_postgres::Row) -> Result<Delivery, StoreError> {
    Ok(Delivery {
        id: r.get(0),
        clinic_id: parse_id(r.get::<_, &str>(1))?,
        visit_id: r.get::<_, Option<&str>>(2).map(parse_id).transpose()?,
        kind: r.get(3),
        channel: match r.get::<_, &str>(4) {
            "email" => Channel::Email,
            "sms" => Channel::Sms,
            other => return Err(corrupt(format!("unknown channel {other:?}"))),
        },
        to: r.get(5),
        subject: r.get(6),
        body: r.get(7),
        due_at: Timestamp::from_millis(r.get(8)),
        state: from_json(&format!("\"{}\"", r.get::<_, &str>(9)))?,
        attempts: r.get::<_, i64>(10) as u32,
        last_error: r.get(11),
        next_at: Timestamp::from_millis(r.get(12)),
        sent_at: r.get::<_, Option<i64>>(13).map(Timestamp::from_millis),
        only_while_open: r.get(14),
        key: r.get(15),
    })
}

/// The database's own clock in milliseconds: claims are timed by it, whatever clock the
/// server's clinic time runs on, so every process judges a claim's lease alike.
const DB_NOW: &str = "(extract(epoch from clock_timestamp()) * 1000)::bigint";

/// How long a claim on a message stands: long enough for a round's claimed messages each to
/// meet the transport's timeout; a process that dies holding claims frees them after this.
pub(super) const CLAIM_LEASE_MS: i64 = 5 * 60 * 1000;

/// Messages claimed per round at most, so a round fits in its lease.
const CLAIMED_PER_ROUND: u32 = 10;

/// Claims what is due for sending by `replica`: messages pending and due at `now`, and those
/// whose earlier claim ran out or whose claimer holds its own lock no more (its process died
/// mid-send). Rows another process is claiming
/// at this moment are skipped (`FOR UPDATE SKIP LOCKED`), so each message is claimed by one.
/// The claimed rows are `sending`, by `replica`, until the lease runs out.
pub(super) async fn claim_due<C: GenericClient + Sync>(
    c: &C,
    replica: &str,
    now: Timestamp,
    limit: u32,
) -> Result<Vec<Delivery>, StoreError> {
    let columns: String = DELIVERY_COLUMNS
        .split(", ")
        .map(|c| format!("m.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let rows = c
        .fetch(
            &format!(
                "WITH due AS (
                     SELECT id FROM messages
                     WHERE (state = 'pending' AND next_at <= $1)
                        OR (state = 'sending'
                            AND (COALESCE(claimed_until, 0) < {DB_NOW} OR {CLAIMER_GONE}))
                     ORDER BY next_at, id LIMIT $2
                     FOR UPDATE SKIP LOCKED)
                 UPDATE messages m SET state = 'sending', claimed_by = $3,
                     claimed_until = {DB_NOW} + $4
                 FROM due WHERE m.id = due.id
                 RETURNING {columns}"
            ),
            &[
                &now.as_millis(),
                &i64::from(limit.min(CLAIMED_PER_ROUND)),
                &replica,
                &CLAIM_LEASE_MS,
            ],
        )
        .await
        .map_err(db)?;
    let mut claimed = rows.iter().map(delivery).collect::<Result<Vec<_>, _>>()?;
    claimed.sort_by_key(|d| (d.next_at, d.id));
    Ok(claimed)
}

/// Messages whose claim ran out or whose claimer is gone (their process stopped mid-send) go
/// back to `pending`; claims of live processes within their lease are theirs to finish.
pub(super) async fn requeue_interrupted<C: GenericClient + Sync>(c: &C) -> Result<usize, Fail> {
    Ok(c.run(
        &format!(
            "UPDATE messages SET state = 'pending', claimed_by = NULL, claimed_until = NULL
             WHERE state = 'sending'
               AND (COALESCE(claimed_until, 0) < {DB_NOW} OR {CLAIMER_GONE})"
        ),
        &[],
    )
    .await? as usize)
}

pub(super) async fn record_attempt<C: GenericClient + Sync>(
    c: &C,
    id: i64,
    attempt: &Attempt,
    now: Timestamp,
) -> Result<(), Fail> {
    let now = now.as_millis();
    let n = match attempt {
        Attempt::Sending => {
            c.run(
                "UPDATE messages SET state = 'sending', attempts = attempts + 1 WHERE id = $1",
                &[&id],
            )
            .await
        }
        Attempt::Sent => {
            c.run(
                "UPDATE messages SET state = 'sent', sent_at = $2, last_error = NULL WHERE id = $1",
                &[&id, &now],
            )
            .await
        }
        Attempt::Retry { error, next_at } => {
            c.run(
                "UPDATE messages SET state = 'pending', last_error = $2, next_at = $3 WHERE id = $1",
                &[&id, error, &next_at.as_millis()],
            )
            .await
        }
        Attempt::Failed { error } => {
            c.run(
                "UPDATE messages SET state = 'failed', last_error = $2 WHERE id = $1",
                &[&id, error],
            )
            .await
        }
        Attempt::Skipped { reason } => {
            c.run(
                "UPDATE messages SET state = 'skipped', last_error = $2 WHERE id = $1",
                &[&id, reason],
            )
            .await
        }
    }?;
    if n == 0 {
        return Err(corrupt(format!("no message {id}")).into());
    }
    Ok(())
}

pub(super) async fn deliveries<C: GenericClient + Sync>(
    c: &C,
    clinic: ClinicId,
    state: Option<DeliveryState>,
    limit: u32,
) -> Result<Vec<Delivery>, StoreError> {
    let rows = c
        .fetch(
            &format!(
                "SELECT {DELIVERY_COLUMNS} FROM messages
                 WHERE clinic_id = $1 AND ($2::text IS NULL OR state = $2)
                 ORDER BY id DESC LIMIT $3"
            ),
            &[
                &clinic.to_string(),
                &state.map(state_str),
                &i64::from(limit),
            ],
        )
        .await
        .map_err(db)?;
    rows.iter().map(delivery).collect()
}

pub(super) async fn depart_at<C: GenericClient + Sync>(
    c: &C,
    clinic: ClinicId,
    visit: VisitId,
    leave_at: Timestamp,
) -> Result<(), Fail> {
    c.run(
        "INSERT INTO departures (visit_id, clinic_id, leave_at) VALUES ($1, $2, $3)
         ON CONFLICT (visit_id) DO UPDATE SET leave_at = excluded.leave_at",
        &[
            &visit.to_string(),
            &clinic.to_string(),
            &leave_at.as_millis(),
        ],
    )
    .await?;
    Ok(())
}

pub(super) async fn cancel_departure<C: GenericClient + Sync>(
    c: &C,
    visit: VisitId,
) -> Result<(), Fail> {
    c.run(
        "DELETE FROM departures WHERE visit_id = $1",
        &[&visit.to_string()],
    )
    .await?;
    Ok(())
}

pub(super) async fn take_departure<C: GenericClient + Sync>(
    c: &C,
    visit: VisitId,
    now: Timestamp,
) -> Result<bool, Fail> {
    Ok(c.run(
        "DELETE FROM departures WHERE visit_id = $1 AND leave_at <= $2",
        &[&visit.to_string(), &now.as_millis()],
    )
    .await?
        == 1)
}

pub(super) async fn departures<C: GenericClient + Sync>(
    c: &C,
) -> Result<Vec<(ClinicId, VisitId, Timestamp)>, StoreError> {
    let rows = c
        .fetch(
            "SELECT clinic_id, visit_id, leave_at FROM departures ORDER BY leave_at",
            &[],
        )
        .await
        .map_err(db)?;
    rows.iter()
        .map(|r| {
            Ok((
                parse_id(r.get::<_, &str>(0))?,
                parse_id(r.get::<_, &str>(1))?,
                Timestamp::from_millis(r.get(2)),
            ))
        })
        .collect()
}

pub(super) async fn retry_delivery<C: GenericClient + Sync>(
    c: &C,
    clinic: ClinicId,
    id: i64,
    now: Timestamp,
) -> Result<Option<(bool, Delivery)>, StoreError> {
    // One statement: the row as it stands after the update, and whether this call moved it.
    let row = c
        .fetch_opt(
            &format!(
                "WITH queued AS (
                     UPDATE messages SET state = 'pending', next_at = $3
                     WHERE id = $1 AND clinic_id = $2 AND state = 'failed'
                     RETURNING id
                 )
                 SELECT {DELIVERY_COLUMNS}, EXISTS (SELECT 1 FROM queued)
                 FROM messages m WHERE m.id = $1 AND m.clinic_id = $2"
            ),
            &[&id, &clinic.to_string(), &now.as_millis()],
        )
        .await
        .map_err(db)?;
    row.map(|r| {
        let queued: bool = r.get(r.len() - 1);
        let mut d = delivery(&r)?;
        if queued {
            // The statement's snapshot was taken before its own update.
            d.state = DeliveryState::Pending;
            d.next_at = now;
        }
        Ok((queued, d))
    })
    .transpose()
}
