//! Sign-in sessions, stations and password reset links in PostgreSQL. A revocation is a row
//! every process reads, so a signed-out token stops working on every replica at once.

use super::cached::Cached;
use super::directory::{SessionRow, staff_of_session};
use super::{Fail, messages};
use crate::model::{Session, Station};
use crate::store::rows::parse_id;
use crate::store::{NewMessage, NewSession, PasswordReset, StoreError};
use deadpool_postgres::GenericClient;
use frontdesk_domain::{ClinicId, StaffId, Timestamp};

fn db(e: tokio_postgres::Error) -> StoreError {
    StoreError::from(Fail::from(e))
}

pub(super) async fn sweep<C: GenericClient + Sync>(tx: &C, now: Timestamp) -> Result<usize, Fail> {
    let day_ago = now.as_millis() - 86_400_000;
    let mut gone = 0;
    for sql in [
        "DELETE FROM idempotency WHERE created_at < $1",
        "DELETE FROM sessions WHERE expires_at < $1",
        "DELETE FROM password_resets WHERE expires_at < $1",
        // Sign-in and other attempts long out of their minute's window.
        "DELETE FROM attempts WHERE at < $1",
    ] {
        gone += tx.run(sql, &[&day_ago]).await? as usize;
    }
    Ok(gone)
}

pub(super) async fn create_session<C: GenericClient + Sync>(
    c: &C,
    s: &NewSession,
) -> Result<(), Fail> {
    c.run(
        "INSERT INTO sessions (token_hash, clinic_id, staff_id, station_id, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            &s.token_hash,
            &s.clinic.to_string(),
            &s.staff.to_string(),
            &s.station.map(|x| x.to_string()),
            &s.created_at,
            &s.expires_at,
        ],
    )
    .await?;
    Ok(())
}

pub(super) async fn session<C: GenericClient + Sync>(
    c: &C,
    token_hash: &str,
    now: i64,
) -> Result<Option<Session>, StoreError> {
    let Some(SessionRow {
        staff,
        station,
        expires_at,
        provider_of,
    }) = staff_of_session(c, token_hash, now).await?
    else {
        return Ok(None);
    };
    if staff.deactivated {
        return Ok(None);
    }
    Ok(Some(Session {
        staff,
        station: station.as_deref().map(parse_id).transpose()?,
        expires_at,
        provider_of: Some(provider_of),
    }))
}

pub(super) async fn revoke_session<C: GenericClient + Sync>(
    c: &C,
    token_hash: &str,
    now: i64,
) -> Result<(), Fail> {
    c.run(
        "UPDATE sessions SET revoked_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL",
        &[&token_hash, &now],
    )
    .await?;
    Ok(())
}

pub(super) async fn create_station<C: GenericClient + Sync>(
    c: &C,
    station: &Station,
    token_hash: &str,
) -> Result<(), Fail> {
    c.run(
        "INSERT INTO stations (id, clinic_id, name, token_hash) VALUES ($1, $2, $3, $4)",
        &[
            &station.id.to_string(),
            &station.clinic_id.to_string(),
            &station.name,
            &token_hash,
        ],
    )
    .await?;
    Ok(())
}

pub(super) async fn station_by_token<C: GenericClient + Sync>(
    c: &C,
    token_hash: &str,
) -> Result<Option<Station>, StoreError> {
    let row = c
        .fetch_opt(
            "SELECT id, clinic_id, name FROM stations
             WHERE token_hash = $1 AND revoked_at IS NULL",
            &[&token_hash],
        )
        .await
        .map_err(db)?;
    row.map(|r| {
        Ok(Station {
            id: parse_id(r.get::<_, &str>(0))?,
            clinic_id: parse_id(r.get::<_, &str>(1))?,
            name: r.get(2),
            last_seen_at: None,
        })
    })
    .transpose()
}

pub(super) async fn stations<C: GenericClient + Sync>(
    c: &C,
    clinic: ClinicId,
) -> Result<Vec<Station>, StoreError> {
    let rows = c
        .fetch(
            "SELECT s.id, s.name,
                    (SELECT MAX(x.created_at) FROM sessions x WHERE x.station_id = s.id)
             FROM stations s
             WHERE s.clinic_id = $1 AND s.revoked_at IS NULL ORDER BY s.name, s.id",
            &[&clinic.to_string()],
        )
        .await
        .map_err(db)?;
    rows.iter()
        .map(|r| {
            Ok(Station {
                id: parse_id(r.get::<_, &str>(0))?,
                clinic_id: clinic,
                name: r.get(1),
                last_seen_at: r.get::<_, Option<i64>>(2),
            })
        })
        .collect()
}

pub(super) async fn revoke_station<C: GenericClient + Sync>(
    tx: &C,
    clinic: ClinicId,
    station: uuid::Uuid,
    now: i64,
) -> Result<bool, Fail> {
    let (id, clinic) = (station.to_string(), clinic.to_string());
    let n = tx
        .run(
            "UPDATE stations SET revoked_at = $3
             WHERE id = $1 AND clinic_id = $2 AND revoked_at IS NULL",
            &[&id, &clinic, &now],
        )
        .await?;
    if n == 0 {
        return Ok(false);
    }
    tx.run(
        "UPDATE sessions SET revoked_at = $3
         WHERE station_id = $1 AND clinic_id = $2 AND revoked_at IS NULL",
        &[&id, &clinic, &now],
    )
    .await?;
    Ok(true)
}

pub(super) async fn revoke_staff_sessions<C: GenericClient + Sync>(
    tx: &C,
    clinic: ClinicId,
    staff: StaffId,
    keep: Option<&str>,
    now: i64,
) -> Result<usize, Fail> {
    Ok(tx
        .run(
            "UPDATE sessions SET revoked_at = $3
             WHERE staff_id = $1 AND clinic_id = $2 AND revoked_at IS NULL
               AND token_hash IS DISTINCT FROM $4",
            &[&staff.to_string(), &clinic.to_string(), &now, &keep],
        )
        .await? as usize)
}

pub(super) async fn create_password_reset<C: GenericClient + Sync>(
    tx: &C,
    reset: &PasswordReset,
    email: &NewMessage,
    now: Timestamp,
) -> Result<(), Fail> {
    tx.run(
        "INSERT INTO password_resets (token_hash, clinic_id, staff_id, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5)",
        &[
            &reset.token_hash,
            &reset.clinic.to_string(),
            &reset.staff.to_string(),
            &now.as_millis(),
            &reset.expires_at.as_millis(),
        ],
    )
    .await?;
    messages::insert(tx, reset.clinic, email, now).await
}

pub(super) async fn password_reset<C: GenericClient + Sync>(
    c: &C,
    token_hash: &str,
    now: Timestamp,
) -> Result<Option<(ClinicId, StaffId)>, StoreError> {
    let row = c
        .fetch_opt(
            "SELECT clinic_id, staff_id FROM password_resets
             WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
            &[&token_hash, &now.as_millis()],
        )
        .await
        .map_err(db)?;
    row.map(|r| {
        Ok((
            parse_id(r.get::<_, &str>(0))?,
            parse_id(r.get::<_, &str>(1))?,
        ))
    })
    .transpose()
}

pub(super) async fn use_password_reset<C: GenericClient + Sync>(
    tx: &C,
    token_hash: &str,
    password_hash: &str,
    now: Timestamp,
) -> Result<Option<(ClinicId, StaffId)>, Fail> {
    let row = tx
        .fetch_opt(
            "UPDATE password_resets SET used_at = $2
             WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2
             RETURNING clinic_id, staff_id",
            &[&token_hash, &now.as_millis()],
        )
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let clinic: ClinicId = parse_id(row.get::<_, &str>(0))?;
    let staff: StaffId = parse_id(row.get::<_, &str>(1))?;
    super::directory::set_password(tx, clinic, staff, password_hash, None, now.as_millis()).await?;
    Ok(Some((clinic, staff)))
}
