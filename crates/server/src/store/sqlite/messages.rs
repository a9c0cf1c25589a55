//! The SQLite side of outbound messages: the server's secret, link tokens, the notifier's
//! place in each clinic's events, and the durable message queue with its delivery record.

use super::{corrupt, db, parse_id};
use crate::model::AlertSubscription;
use crate::store::rows::state_str;
use crate::store::{Attempt, Channel, Delivery, DeliveryState, NewMessage, StoreError};
use frontdesk_domain::{ClinicId, StaffId, Timestamp, Visit};
use rusqlite::{Connection, OptionalExtension, params};

/// Reads the server's secret, making it on first start.
pub(super) fn server_secret(conn: &Connection) -> Result<[u8; 32], StoreError> {
    let stored: Option<Vec<u8>> = conn
        .query_row(
            "SELECT value FROM server_keys WHERE name = 'links'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(v) = stored {
        return v
            .try_into()
            .map_err(|_| corrupt("the server's secret has the wrong length"));
    }
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(db)?;
    conn.execute(
        "INSERT INTO server_keys (name, value) VALUES ('links', ?1)",
        [secret.as_slice()],
    )?;
    Ok(secret)
}

pub(super) fn visit_for_token(
    c: &Connection,
    token_hash: &str,
) -> Result<Option<(Visit, Option<usize>)>, StoreError> {
    let patient: Option<String> = c
        .prepare_cached("SELECT data FROM visits WHERE patient_token_hash = ?1")?
        .query_row([token_hash], |r| r.get(0))
        .optional()?;
    if let Some(data) = patient {
        return Ok(Some((super::from_json(&data)?, None)));
    }
    let guest: Option<(String, Option<i64>)> = c
        .prepare_cached(
            "SELECT v.data, t.guest FROM visit_tokens t JOIN visits v ON v.id = t.visit_id
             WHERE t.token_hash = ?1",
        )?
        .query_row([token_hash], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    guest
        .map(|(data, g)| Ok((super::from_json(&data)?, g.map(|g| g as usize))))
        .transpose()
}

pub(super) fn clinic_subscriptions(
    c: &Connection,
    clinic: ClinicId,
) -> Result<Vec<(StaffId, AlertSubscription)>, StoreError> {
    let mut stmt = c.prepare_cached(
        "SELECT a.staff_id, a.room_id, a.desktop, a.email, a.sms FROM alert_subscriptions a
         JOIN staff s ON s.id = a.staff_id WHERE s.clinic_id = ?1 AND s.deactivated_at IS NULL
         ORDER BY a.staff_id, a.room_id",
    )?;
    let rows = stmt.query_map([clinic.to_string()], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, bool>(2)?,
            r.get::<_, bool>(3)?,
            r.get::<_, bool>(4)?,
        ))
    })?;
    rows.map(|r| {
        let (staff, room, desktop, email, sms) = r?;
        Ok((
            parse_id(&staff)?,
            AlertSubscription {
                room_id: parse_id(&room)?,
                desktop,
                email,
                sms,
            },
        ))
    })
    .collect()
}

pub(super) fn unnotified(c: &Connection) -> Result<Vec<(ClinicId, u64)>, StoreError> {
    let mut stmt = c.prepare_cached(
        "SELECT c.id, COALESCE(n.seq, 0) FROM clinics c LEFT JOIN notifier n ON n.clinic_id = c.id
         WHERE c.seq > COALESCE(n.seq, 0)",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    rows.map(|r| {
        let (id, seq) = r?;
        Ok((parse_id(&id)?, seq as u64))
    })
    .collect()
}

pub(super) fn queue(
    conn: &mut Connection,
    clinic: ClinicId,
    through: u64,
    messages: &[NewMessage],
    now: Timestamp,
) -> Result<(), StoreError> {
    let tx = conn.transaction()?;
    let clinic_id = clinic.to_string();
    for m in messages {
        insert(&tx, clinic, m, now)?;
    }
    tx.execute(
        "INSERT INTO notifier (clinic_id, seq) VALUES (?1, ?2)
         ON CONFLICT (clinic_id) DO UPDATE SET seq = MAX(seq, excluded.seq)",
        params![clinic_id, through as i64],
    )?;
    tx.commit()?;
    Ok(())
}

/// Queues one message (a key already queued is left alone), inside the caller's transaction.
pub(super) fn insert(
    conn: &Connection,
    clinic: ClinicId,
    m: &NewMessage,
    now: Timestamp,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO messages (clinic_id, key, visit_id, kind, channel, recipient, subject, body,
             due_at, only_while_open, state, next_at, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'pending', ?9, ?11)
         ON CONFLICT (clinic_id, key) DO NOTHING",
    )?
    .execute(params![
        clinic.to_string(),
        m.key,
        m.visit.map(|v| v.to_string()),
        m.kind,
        m.channel.as_str(),
        m.to,
        m.subject,
        m.body,
        m.due_at.as_millis(),
        m.only_while_open,
        now.as_millis()
    ])?;
    Ok(())
}

const DELIVERY_COLUMNS: &str = "id, clinic_id, visit_id, kind, channel, recipient, subject, body, \
    due_at, state, attempts, last_error, next_at, sent_at, only_while_open, key";

fn delivery(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<Delivery, StoreError>> {
    let clinic: String = r.get(1)?;
    let visit: Option<String> = r.get(2)?;
    let channel: String = r.get(4)?;
    let state: String = r.get(9)?;
    let row = (
        r.get::<_, i64>(0)?,
        r.get::<_, String>(3)?,
        r.get::<_, String>(5)?,
        r.get::<_, String>(6)?,
        r.get::<_, String>(7)?,
        r.get::<_, i64>(8)?,
        r.get::<_, i64>(10)?,
        r.get::<_, Option<String>>(11)?,
        r.get::<_, i64>(12)?,
        r.get::<_, Option<i64>>(13)?,
        r.get::<_, bool>(14)?,
    );
    let key: String = r.get(15)?;
    Ok((|| {
        let (id, kind, to, subject, body, due, attempts, last_error, next, sent, open) = row;
        Ok(Delivery {
            id,
            clinic_id: parse_id(&clinic)?,
            visit_id: visit.as_deref().map(parse_id).transpose()?,
            kind,
            channel: match channel.as_str() {
                "email" => Channel::Email,
                "sms" => Channel::Sms,
                other => return Err(corrupt(format!("unknown channel {other:?}"))),
            },
            to,
            subject,
            body,
            due_at: Timestamp::from_millis(due),
            state: serde_json::from_value(serde_json::Value::String(state)).map_err(corrupt)?,
            attempts: attempts as u32,
            last_error,
            next_at: Timestamp::from_millis(next),
            sent_at: sent.map(Timestamp::from_millis),
            only_while_open: open,
            key,
        })
    })())
}

pub(super) fn due(c: &Connection, now: Timestamp, limit: u32) -> Result<Vec<Delivery>, StoreError> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM messages WHERE state = 'pending' AND next_at <= ?1
         ORDER BY next_at, id LIMIT ?2"
    ))?;
    let rows = stmt.query_map(params![now.as_millis(), limit], delivery)?;
    rows.map(|r| r?).collect()
}

pub(super) fn requeue_interrupted(conn: &mut Connection) -> Result<usize, StoreError> {
    Ok(conn.execute(
        "UPDATE messages SET state = 'pending' WHERE state = 'sending'",
        [],
    )?)
}

pub(super) fn record_attempt(
    conn: &mut Connection,
    id: i64,
    attempt: &Attempt,
    now: Timestamp,
) -> Result<(), StoreError> {
    let now = now.as_millis();
    let n = match attempt {
        Attempt::Sending => conn.execute(
            "UPDATE messages SET state = 'sending', attempts = attempts + 1 WHERE id = ?1",
            params![id],
        ),
        Attempt::Sent => conn.execute(
            "UPDATE messages SET state = 'sent', sent_at = ?2, last_error = NULL WHERE id = ?1",
            params![id, now],
        ),
        Attempt::Retry { error, next_at } => conn.execute(
            "UPDATE messages SET state = 'pending', last_error = ?2, next_at = ?3 WHERE id = ?1",
            params![id, error, next_at.as_millis()],
        ),
        Attempt::Failed { error } => conn.execute(
            "UPDATE messages SET state = 'failed', last_error = ?2 WHERE id = ?1",
            params![id, error],
        ),
        Attempt::Skipped { reason } => conn.execute(
            "UPDATE messages SET state = 'skipped', last_error = ?2 WHERE id = ?1",
            params![id, reason],
        ),
    }?;
    if n == 0 {
        return Err(corrupt(format!("no message {id}")));
    }
    Ok(())
}

pub(super) fn deliveries(
    c: &Connection,
    clinic: ClinicId,
    state: Option<DeliveryState>,
    limit: u32,
) -> Result<Vec<Delivery>, StoreError> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM messages WHERE clinic_id = ?1 AND (?2 IS NULL OR state = ?2)
         ORDER BY id DESC LIMIT ?3"
    ))?;
    let rows = stmt.query_map(
        params![clinic.to_string(), state.map(state_str), limit],
        delivery,
    )?;
    rows.map(|r| r?).collect()
}

pub(super) fn retry_delivery(
    c: &mut Connection,
    clinic: ClinicId,
    id: i64,
    now: Timestamp,
) -> Result<Option<(bool, Delivery)>, StoreError> {
    let tx = c.transaction()?;
    let queued = tx.execute(
        "UPDATE messages SET state = 'pending', next_at = ?3
         WHERE id = ?1 AND clinic_id = ?2 AND state = 'failed'",
        params![id, clinic.to_string(), now.as_millis()],
    )? == 1;
    let row = tx
        .query_row(
            &format!("SELECT {DELIVERY_COLUMNS} FROM messages WHERE id = ?1 AND clinic_id = ?2"),
            params![id, clinic.to_string()],
            delivery,
        )
        .optional()?
        .transpose()?;
    tx.commit()?;
    Ok(row.map(|d| (queued, d)))
}
