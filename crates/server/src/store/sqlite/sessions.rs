//! Sign-ins and stations: sessions (revocable, expiring), the stations a clinic left logged in,
//! and the sweep of old sessions and idempotency records.

use super::parse_id;
use super::staff::load_one_staff;
use crate::model::{Session, Station};
use crate::store::{NewSession, StoreError};
use frontdesk_domain::{ClinicId, StaffId, Timestamp};
use rusqlite::{Connection, OptionalExtension, params};

/// Forgets idempotency records and sessions that ended more than a day before `now`; how
/// many went.
pub(super) fn sweep(conn: &Connection, now: Timestamp) -> Result<usize, StoreError> {
    let day_ago = now.as_millis() - 86_400_000;
    let idempotency = conn.execute("DELETE FROM idempotency WHERE created_at < ?1", [day_ago])?;
    let sessions = conn.execute("DELETE FROM sessions WHERE expires_at < ?1", [day_ago])?;
    let resets = conn.execute(
        "DELETE FROM password_resets WHERE expires_at < ?1",
        [day_ago],
    )?;
    Ok(idempotency + sessions + resets)
}

pub(super) fn create_session(conn: &Connection, s: &NewSession) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO sessions (token_hash, clinic_id, staff_id, station_id, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            s.token_hash,
            s.clinic.to_string(),
            s.staff.to_string(),
            s.station.map(|x| x.to_string()),
            s.created_at,
            s.expires_at
        ],
    )?;
    Ok(())
}

pub(super) fn session(
    c: &Connection,
    token_hash: &str,
    now: i64,
) -> Result<Option<Session>, StoreError> {
    let row: Option<(String, String, Option<String>, i64)> = c
        .prepare_cached(
            "SELECT clinic_id, staff_id, station_id, expires_at FROM sessions
             WHERE token_hash = ?1 AND revoked_at IS NULL AND expires_at > ?2",
        )?
        .query_row(params![token_hash, now], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    let Some((clinic, staff, station, expires_at)) = row else {
        return Ok(None);
    };
    let Some(staff) = load_one_staff(c, parse_id(&clinic)?, parse_id(&staff)?)? else {
        return Ok(None);
    };
    // Deactivating ends the sessions too; this holds even for one that slipped past.
    if staff.deactivated {
        return Ok(None);
    }
    Ok(Some(Session {
        staff,
        station: station.as_deref().map(parse_id).transpose()?,
        expires_at,
        // The rooms are in this process's memory: nothing to save by reading them here.
        provider_of: None,
    }))
}

pub(super) fn revoke_session(
    conn: &Connection,
    token_hash: &str,
    now: i64,
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE sessions SET revoked_at = ?2 WHERE token_hash = ?1 AND revoked_at IS NULL",
        params![token_hash, now],
    )?;
    Ok(())
}

pub(super) fn create_station(
    conn: &Connection,
    station: &Station,
    token_hash: &str,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO stations (id, clinic_id, name, token_hash) VALUES (?1, ?2, ?3, ?4)",
        params![
            station.id.to_string(),
            station.clinic_id.to_string(),
            station.name,
            token_hash
        ],
    )?;
    Ok(())
}

pub(super) fn station_by_token(
    c: &Connection,
    token_hash: &str,
) -> Result<Option<Station>, StoreError> {
    let row: Option<(String, String, String)> = c
        .query_row(
            "SELECT id, clinic_id, name FROM stations WHERE token_hash = ?1 AND revoked_at IS NULL",
            [token_hash],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    row.map(|(id, clinic, name)| {
        Ok(Station {
            id: parse_id(&id)?,
            clinic_id: parse_id(&clinic)?,
            name,
            last_seen_at: None,
        })
    })
    .transpose()
}

pub(super) fn stations(c: &Connection, clinic: ClinicId) -> Result<Vec<Station>, StoreError> {
    let mut stmt = c.prepare_cached(
        "SELECT s.id, s.name,
                (SELECT MAX(x.created_at) FROM sessions x WHERE x.station_id = s.id)
         FROM stations s
         WHERE s.clinic_id = ?1 AND s.revoked_at IS NULL ORDER BY s.name, s.id",
    )?;
    let rows = stmt.query_map([clinic.to_string()], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Option<i64>>(2)?,
        ))
    })?;
    rows.map(|r| {
        let (id, name, last_seen_at) = r?;
        Ok(Station {
            id: parse_id(&id)?,
            clinic_id: clinic,
            name,
            last_seen_at,
        })
    })
    .collect()
}

pub(super) fn revoke_station(
    conn: &mut Connection,
    clinic: ClinicId,
    station: uuid::Uuid,
    now: i64,
) -> Result<bool, StoreError> {
    let tx = conn.transaction()?;
    let (id, clinic) = (station.to_string(), clinic.to_string());
    let n = tx.execute(
        "UPDATE stations SET revoked_at = ?3
         WHERE id = ?1 AND clinic_id = ?2 AND revoked_at IS NULL",
        params![id, clinic, now],
    )?;
    if n == 0 {
        return Ok(false);
    }
    tx.execute(
        "UPDATE sessions SET revoked_at = ?3
         WHERE station_id = ?1 AND clinic_id = ?2 AND revoked_at IS NULL",
        params![id, clinic, now],
    )?;
    tx.commit()?;
    Ok(true)
}

/// Ends every live session of a member of staff (on stations too) but `keep`; how many ended.
pub(super) fn revoke_staff_sessions(
    conn: &Connection,
    clinic: ClinicId,
    staff: StaffId,
    keep: Option<&str>,
    now: i64,
) -> Result<usize, StoreError> {
    Ok(conn.execute(
        "UPDATE sessions SET revoked_at = ?3
         WHERE staff_id = ?1 AND clinic_id = ?2 AND revoked_at IS NULL
           AND token_hash IS NOT ?4",
        params![staff.to_string(), clinic.to_string(), now, keep],
    )?)
}

/// Keeps a one-time password reset link (by its hash) and queues the email carrying it, in
/// one transaction: no link without its email, no email for a link not kept.
pub(super) fn create_password_reset(
    conn: &mut Connection,
    reset: &crate::store::PasswordReset,
    email: &crate::store::NewMessage,
    now: Timestamp,
) -> Result<(), StoreError> {
    let tx = conn.transaction()?;
    tx.execute(
        "INSERT INTO password_resets (token_hash, clinic_id, staff_id, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            reset.token_hash,
            reset.clinic.to_string(),
            reset.staff.to_string(),
            now.as_millis(),
            reset.expires_at.as_millis()
        ],
    )?;
    super::messages::insert(&tx, reset.clinic, email, now)?;
    tx.commit()?;
    Ok(())
}

/// Who a reset link is for, while it can still be used at `now` (not used, not expired).
pub(super) fn password_reset(
    c: &Connection,
    token_hash: &str,
    now: Timestamp,
) -> Result<Option<(ClinicId, StaffId)>, StoreError> {
    let row: Option<(String, String)> = c
        .query_row(
            "SELECT clinic_id, staff_id FROM password_resets
             WHERE token_hash = ?1 AND used_at IS NULL AND expires_at > ?2",
            params![token_hash, now.as_millis()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    row.map(|(c, s)| Ok((parse_id(&c)?, parse_id(&s)?)))
        .transpose()
}

/// Uses a reset link once: marks it used and sets the new password (every session of the
/// person ends, a locked PIN unlocks), in one transaction. None when the link is unknown,
/// used or expired at `now`: then nothing changes.
pub(super) fn use_password_reset(
    conn: &mut Connection,
    token_hash: &str,
    password_hash: &str,
    now: Timestamp,
) -> Result<Option<(ClinicId, StaffId)>, StoreError> {
    let tx = conn.transaction()?;
    let row: Option<(String, String)> = tx
        .query_row(
            "UPDATE password_resets SET used_at = ?2
             WHERE token_hash = ?1 AND used_at IS NULL AND expires_at > ?2
             RETURNING clinic_id, staff_id",
            params![token_hash, now.as_millis()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((clinic, staff)) = row else {
        return Ok(None);
    };
    let (clinic, staff): (ClinicId, StaffId) = (parse_id(&clinic)?, parse_id(&staff)?);
    tx.execute(
        "UPDATE staff SET password_hash = ?3, pin_failures = 0 WHERE id = ?1 AND clinic_id = ?2",
        params![staff.to_string(), clinic.to_string(), password_hash],
    )?;
    revoke_staff_sessions(&tx, clinic, staff, None, now.as_millis())?;
    tx.commit()?;
    Ok(Some((clinic, staff)))
}
