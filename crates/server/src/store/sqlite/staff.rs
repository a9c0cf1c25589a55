//! Members of staff: how they are stored (with their rooms and secrets), each change with its
//! staff event, and their alert subscriptions.

use super::event_log::{Hub, record_event};
use super::{availability_str, corrupt, parse_id, text_columns, to_json};
use crate::events::EventBody;
use crate::model::{AlertSubscription, StaffInfo};
use crate::store::rows::staff_from_cols;
use crate::store::{StaffEdit, StaffSecrets, StoreError};
use frontdesk_domain::{Availability, ClinicId, StaffId, Timestamp};
use rusqlite::{Connection, OptionalExtension, params};

const STAFF_COLUMNS: &str = "s.id, s.clinic_id, s.name, s.email, s.roles, s.availability, \
     (SELECT group_concat(room_id) FROM room_members m WHERE m.staff_id = s.id), \
     s.password_hash, s.pin_hash, s.phone, CAST(s.deactivated_at AS TEXT), \
     CAST(s.pin_failures AS TEXT), CAST(s.all_rooms AS TEXT)";

pub(super) fn staff_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<[Option<String>; 13]> {
    text_columns(r)
}

pub(super) fn load_staff(
    conn: &Connection,
    clinic: ClinicId,
) -> Result<Vec<StaffInfo>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {STAFF_COLUMNS} FROM staff s WHERE s.clinic_id = ?1 ORDER BY s.name"
    ))?;
    let rows = stmt.query_map([clinic.to_string()], staff_from_row)?;
    rows.map(|r| staff_from_cols(r?).map(|(s, _)| s)).collect()
}

/// Reads the member of staff as just changed in `tx`, records their staff event, commits and
/// tells the live subscribers.
pub(super) fn commit_staff_change(
    tx: rusqlite::Transaction<'_>,
    hub: &Hub,
    clinic: ClinicId,
    staff: StaffId,
    at: Timestamp,
) -> Result<(StaffInfo, u64), StoreError> {
    let info = load_one_staff(&tx, clinic, staff)?.ok_or_else(|| corrupt("staff vanished"))?;
    let published = record_event(
        &tx,
        clinic,
        at,
        EventBody::Staff {
            staff: info.clone(),
        },
    )?;
    tx.commit()?;
    let seq = published.seq;
    hub.publish(clinic, published);
    Ok((info, seq))
}

pub(super) fn load_one_staff(
    conn: &Connection,
    clinic: ClinicId,
    id: StaffId,
) -> Result<Option<StaffInfo>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {STAFF_COLUMNS} FROM staff s WHERE s.clinic_id = ?1 AND s.id = ?2"
    ))?;
    let row = stmt
        .query_row([clinic.to_string(), id.to_string()], staff_from_row)
        .optional()?;
    row.map(|c| staff_from_cols(c).map(|(s, _)| s)).transpose()
}

pub(super) fn create_staff(
    conn: &mut Connection,
    hub: &Hub,
    staff: StaffInfo,
    secrets: &StaffSecrets,
    at: Timestamp,
) -> Result<u64, StoreError> {
    let tx = conn.transaction()?;
    tx.execute(
        "INSERT INTO staff (id, clinic_id, name, email, roles, availability, password_hash, pin_hash, phone,
             deactivated_at, all_rooms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            staff.id.to_string(),
            staff.clinic_id.to_string(),
            staff.name,
            staff.email,
            to_json(&staff.roles)?,
            availability_str(staff.availability),
            secrets.password_hash,
            secrets.pin_hash,
            staff.phone,
            staff.deactivated.then_some(at.as_millis()),
            staff.all_rooms
        ],
    )?;
    for room in &staff.rooms {
        let n = tx.execute(
            "INSERT OR IGNORE INTO room_members (room_id, staff_id)
             SELECT id, ?2 FROM rooms WHERE id = ?1 AND clinic_id = ?3",
            [
                room.to_string(),
                staff.id.to_string(),
                staff.clinic_id.to_string(),
            ],
        )?;
        if n == 0 {
            return Err(corrupt(format!("no room {room} in this clinic")));
        }
    }
    let clinic = staff.clinic_id;
    let published = record_event(&tx, clinic, at, EventBody::Staff { staff })?;
    tx.commit()?;
    let seq = published.seq;
    hub.publish(clinic, published);
    Ok(seq)
}

pub(super) fn staff_with_secrets(
    c: &Connection,
    clinic: ClinicId,
    email: String,
) -> Result<Option<(StaffInfo, StaffSecrets)>, StoreError> {
    let row = c
        .prepare_cached(&format!(
            "SELECT {STAFF_COLUMNS} FROM staff s WHERE s.clinic_id = ?1 AND s.email = ?2"
        ))?
        .query_row([clinic.to_string(), email], staff_from_row)
        .optional()?;
    row.map(staff_from_cols).transpose()
}

pub(super) fn set_pin(
    conn: &Connection,
    clinic: ClinicId,
    staff: StaffId,
    pin_hash: String,
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE staff SET pin_hash = ?3, pin_failures = 0 WHERE id = ?1 AND clinic_id = ?2",
        [staff.to_string(), clinic.to_string(), pin_hash],
    )?;
    Ok(())
}

pub(super) fn update_staff(
    conn: &mut Connection,
    hub: &Hub,
    clinic: ClinicId,
    staff: StaffId,
    edit: StaffEdit,
    at: Timestamp,
) -> Result<Option<(StaffInfo, u64)>, StoreError> {
    let tx = conn.transaction()?;
    let (id, clinic_id) = (staff.to_string(), clinic.to_string());
    let roles = edit.roles.as_ref().map(to_json).transpose()?;
    let n = tx.execute(
        "UPDATE staff SET name = COALESCE(?3, name), roles = COALESCE(?4, roles),
             phone = CASE WHEN ?5 THEN ?6 ELSE phone END,
             all_rooms = COALESCE(?7, all_rooms)
         WHERE id = ?1 AND clinic_id = ?2",
        params![
            id,
            clinic_id,
            edit.name,
            roles,
            edit.phone.is_some(),
            edit.phone.flatten(),
            edit.all_rooms
        ],
    )?;
    if n == 0 {
        return Ok(None);
    }
    if let Some(rooms) = &edit.rooms {
        tx.execute("DELETE FROM room_members WHERE staff_id = ?1", [&id])?;
        for room in rooms {
            let n = tx.execute(
                "INSERT OR IGNORE INTO room_members (room_id, staff_id)
                 SELECT id, ?2 FROM rooms WHERE id = ?1 AND clinic_id = ?3",
                [room.to_string(), id.clone(), clinic_id.clone()],
            )?;
            if n == 0 {
                return Err(corrupt(format!("no room {room} in this clinic")));
            }
        }
    }
    commit_staff_change(tx, hub, clinic, staff, at).map(Some)
}

pub(super) fn set_availability(
    conn: &mut Connection,
    hub: &Hub,
    clinic: ClinicId,
    staff: StaffId,
    availability: Availability,
    at: Timestamp,
) -> Result<Option<(StaffInfo, u64)>, StoreError> {
    let tx = conn.transaction()?;
    let n = tx.execute(
        "UPDATE staff SET availability = ?3 WHERE id = ?1 AND clinic_id = ?2",
        [
            staff.to_string(),
            clinic.to_string(),
            availability_str(availability).to_owned(),
        ],
    )?;
    if n == 0 {
        return Ok(None);
    }
    commit_staff_change(tx, hub, clinic, staff, at).map(Some)
}

pub(super) fn alert_subscriptions(
    c: &Connection,
    clinic: ClinicId,
    staff: StaffId,
) -> Result<Vec<AlertSubscription>, StoreError> {
    let mut stmt = c.prepare_cached(
        "SELECT a.room_id, a.desktop, a.email, a.sms FROM alert_subscriptions a
         JOIN staff s ON s.id = a.staff_id
         WHERE a.staff_id = ?1 AND s.clinic_id = ?2 ORDER BY a.room_id",
    )?;
    let rows = stmt.query_map([staff.to_string(), clinic.to_string()], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, bool>(1)?,
            r.get::<_, bool>(2)?,
            r.get::<_, bool>(3)?,
        ))
    })?;
    rows.map(|r| {
        let (room, desktop, email, sms) = r?;
        Ok(AlertSubscription {
            room_id: parse_id(&room)?,
            desktop,
            email,
            sms,
        })
    })
    .collect()
}

pub(super) fn set_alert_subscriptions(
    conn: &mut Connection,
    clinic: ClinicId,
    staff: StaffId,
    subscriptions: Vec<AlertSubscription>,
) -> Result<(), StoreError> {
    let tx = conn.transaction()?;
    tx.execute(
        "DELETE FROM alert_subscriptions WHERE staff_id = ?1
         AND staff_id IN (SELECT id FROM staff WHERE clinic_id = ?2)",
        [staff.to_string(), clinic.to_string()],
    )?;
    for s in subscriptions {
        let n = tx.execute(
            "INSERT INTO alert_subscriptions (staff_id, room_id, desktop, email, sms)
             SELECT ?1, r.id, ?3, ?4, ?5 FROM rooms r JOIN staff s ON s.id = ?1
             WHERE r.id = ?2 AND r.clinic_id = ?6 AND s.clinic_id = ?6",
            params![
                staff.to_string(),
                s.room_id.to_string(),
                s.desktop,
                s.email,
                s.sms,
                clinic.to_string()
            ],
        )?;
        if n == 0 {
            return Err(StoreError::Corrupt(format!("no room {}", s.room_id)));
        }
    }
    tx.commit()?;
    Ok(())
}

/// Deactivates (ending every session of theirs in the same transaction) or reactivates a
/// member of staff; publishes a staff event when something changed. None if no such staff.
pub(super) fn set_active(
    conn: &mut Connection,
    hub: &Hub,
    clinic: ClinicId,
    staff: StaffId,
    active: bool,
    at: Timestamp,
) -> Result<Option<(StaffInfo, u64)>, StoreError> {
    let tx = conn.transaction()?;
    let (id, clinic_id) = (staff.to_string(), clinic.to_string());
    let Some(current) = load_one_staff(&tx, clinic, staff)? else {
        return Ok(None);
    };
    if current.deactivated != active {
        // Already as asked: nothing to publish.
        return Ok(Some((current, 0)));
    }
    tx.execute(
        "UPDATE staff SET deactivated_at = ?3, pin_failures = 0 WHERE id = ?1 AND clinic_id = ?2",
        params![id, clinic_id, (!active).then_some(at.as_millis())],
    )?;
    if !active {
        super::sessions::revoke_staff_sessions(&tx, clinic, staff, None, at.as_millis())?;
    }
    commit_staff_change(tx, hub, clinic, staff, at).map(Some)
}

/// A new password hash; every session of theirs but `keep` ends, and a locked PIN unlocks.
/// False if no such staff.
pub(super) fn set_password(
    conn: &mut Connection,
    clinic: ClinicId,
    staff: StaffId,
    password_hash: &str,
    keep: Option<&str>,
    now: i64,
) -> Result<bool, StoreError> {
    let tx = conn.transaction()?;
    let n = tx.execute(
        "UPDATE staff SET password_hash = ?3, pin_failures = 0 WHERE id = ?1 AND clinic_id = ?2",
        params![staff.to_string(), clinic.to_string(), password_hash],
    )?;
    if n == 0 {
        return Ok(false);
    }
    super::sessions::revoke_staff_sessions(&tx, clinic, staff, keep, now)?;
    tx.commit()?;
    Ok(true)
}

/// Takes one try from the person's station PIN allowance before the PIN is checked: the number
/// of this try (1 for the first wrong-in-a-row), or None when `limit` tries are already spent
/// (the PIN is locked). One statement, so concurrent guesses cannot get more than `limit`.
pub(super) fn take_pin_try(
    conn: &Connection,
    clinic: ClinicId,
    staff: StaffId,
    limit: u32,
) -> Result<Option<u32>, StoreError> {
    conn.query_row(
        "UPDATE staff SET pin_failures = pin_failures + 1
         WHERE id = ?1 AND clinic_id = ?2 AND pin_failures < ?3 RETURNING pin_failures",
        params![staff.to_string(), clinic.to_string(), limit],
        |r| r.get::<_, u32>(0),
    )
    .optional()
    .map_err(Into::into)
}

/// A try taken whose PIN could not be checked (the server was busy): it does not count.
pub(super) fn give_back_pin_try(
    conn: &Connection,
    clinic: ClinicId,
    staff: StaffId,
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE staff SET pin_failures = pin_failures - 1
         WHERE id = ?1 AND clinic_id = ?2 AND pin_failures > 0",
        [staff.to_string(), clinic.to_string()],
    )?;
    Ok(())
}

/// The PIN was right, or the password proved who they are: the count of wrong tries starts
/// again.
pub(super) fn clear_pin_failures(
    conn: &Connection,
    clinic: ClinicId,
    staff: StaffId,
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE staff SET pin_failures = 0 WHERE id = ?1 AND clinic_id = ?2 AND pin_failures > 0",
        [staff.to_string(), clinic.to_string()],
    )?;
    Ok(())
}
