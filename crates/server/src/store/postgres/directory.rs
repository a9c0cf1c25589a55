//! Clinics, rooms and staff in PostgreSQL (each change that others see takes a seq and an
//! event in its transaction), and staff's alert subscriptions and PIN tries.

use super::cached::Cached;
use super::visits::record_event;
use super::{Fail, big, text_columns};
use crate::events::EventBody;
use crate::model::{AlertSubscription, Clinic, RoomInfo, StaffInfo};
use crate::store::rows::{
    ROOM_COLUMNS, availability_str, corrupt, parse_id, room_from_cols, room_settings_json,
    staff_from_cols, to_json,
};
use crate::store::{StaffEdit, StaffSecrets, StoreError};
use deadpool_postgres::GenericClient;
use frontdesk_domain::{ClinicId, RoomId, StaffId, Timestamp};
use std::sync::LazyLock;

fn db(e: tokio_postgres::Error) -> StoreError {
    StoreError::from(Fail::from(e))
}

const CLINIC_COLUMNS: &str = "id, slug, name, seq, time_zone, video_link_template, \
     nameless_alerts, open_link_hours";

pub(super) async fn create_clinic<C: GenericClient + Sync>(
    c: &C,
    clinic: &Clinic,
) -> Result<(), Fail> {
    c.run(
        "INSERT INTO clinics (id, slug, name, time_zone, video_link_template, nameless_alerts,
            open_link_hours)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            &clinic.id.to_string(),
            &clinic.slug,
            &clinic.name,
            &clinic.time_zone,
            &clinic.video_link_template,
            &clinic.nameless_alerts,
            &clinic.open_link_hours.map(i64::from),
        ],
    )
    .await?;
    Ok(())
}

pub(super) async fn update_clinic<C: GenericClient + Sync>(
    c: &C,
    clinic: &Clinic,
) -> Result<(), Fail> {
    c.run(
        "UPDATE clinics SET name = $2, time_zone = $3, video_link_template = $4,
            nameless_alerts = $5, open_link_hours = $6 WHERE id = $1",
        &[
            &clinic.id.to_string(),
            &clinic.name,
            &clinic.time_zone,
            &clinic.video_link_template,
            &clinic.nameless_alerts,
            &clinic.open_link_hours.map(i64::from),
        ],
    )
    .await?;
    Ok(())
}

/// A clinic by `id` or `slug`, with its seq.
pub(super) async fn load_clinic<C: GenericClient + Sync>(
    c: &C,
    by: &str,
    value: &str,
) -> Result<Option<(Clinic, u64)>, StoreError> {
    let row = c
        .fetch_opt(
            &format!("SELECT {CLINIC_COLUMNS} FROM clinics WHERE {by} = $1"),
            &[&value],
        )
        .await
        .map_err(db)?;
    row.map(|r| {
        Ok((
            Clinic {
                id: parse_id(r.get::<_, &str>(0))?,
                slug: r.get(1),
                name: r.get(2),
                time_zone: r.get(4),
                video_link_template: r.get(5),
                nameless_alerts: r.get(6),
                open_link_hours: r
                    .get::<_, Option<i64>>(7)
                    .map(u32::try_from)
                    .transpose()
                    .map_err(corrupt)?,
            },
            r.get::<_, i64>(3) as u64,
        ))
    })
    .transpose()
}

/// Adds or replaces a room (never another clinic's); its provider becomes a member. Returns
/// the room event's seq (a staff event comes first when the provider joined).
pub(super) async fn put_room<C: GenericClient + Sync>(
    tx: &C,
    room: &RoomInfo,
    at: Timestamp,
) -> Result<u64, Fail> {
    let clinic = room.clinic_id;
    tx.run(
        "INSERT INTO rooms (id, clinic_id, name, provider_id, office_hours, emergency_info,
                waiting_message, intake_questions, settings)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name,
               provider_id = excluded.provider_id, office_hours = excluded.office_hours,
               emergency_info = excluded.emergency_info,
               waiting_message = excluded.waiting_message,
               intake_questions = excluded.intake_questions, settings = excluded.settings
             WHERE rooms.clinic_id = excluded.clinic_id",
        &[
            &room.id.to_string(),
            &clinic.to_string(),
            &room.name,
            &room.provider.map(|p| p.to_string()),
            &to_json(&room.office_hours)?,
            &room.emergency_info,
            &room.waiting_message,
            &to_json(&room.intake_questions)?,
            &room_settings_json(room)?,
        ],
    )
    .await?;
    if let Some(provider) = room.provider {
        let added = tx
            .run(
                "INSERT INTO room_members (room_id, staff_id) VALUES ($1, $2)
                 ON CONFLICT DO NOTHING",
                &[&room.id.to_string(), &provider.to_string()],
            )
            .await?;
        if added > 0
            && let Some(staff) = load_one_staff(tx, clinic, provider).await?
        {
            record_event(tx, clinic, at, EventBody::Staff { staff }).await?;
        }
    }
    let room = Box::new(room.clone());
    record_event(tx, clinic, at, EventBody::Room { room }).await
}

pub(super) async fn load_rooms<C: GenericClient + Sync>(
    c: &C,
    clinic: ClinicId,
) -> Result<Vec<RoomInfo>, StoreError> {
    let rows = c
        .fetch(
            &format!(
                "SELECT {ROOM_COLUMNS} FROM rooms WHERE clinic_id = $1
                 ORDER BY provider_id IS NOT NULL, name"
            ),
            &[&clinic.to_string()],
        )
        .await
        .map_err(db)?;
    rows.iter()
        .map(|r| room_from_cols(text_columns(r)?))
        .collect()
}

const STAFF_COLUMNS: &str = "s.id, s.clinic_id, s.name, s.email, s.roles, s.availability, \
     (SELECT string_agg(room_id, ',') FROM room_members m WHERE m.staff_id = s.id), \
     s.password_hash, s.pin_hash, s.phone, s.deactivated_at::text, s.pin_failures::text, \
     s.all_rooms::int::text";

/// How many columns [`STAFF_COLUMNS`] names.
const STAFF_COLUMN_COUNT: usize = 13;

async fn staff_where<C: GenericClient + Sync>(
    c: &C,
    condition: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<Vec<(StaffInfo, StaffSecrets)>, StoreError> {
    let rows = c
        .fetch(
            &format!("SELECT {STAFF_COLUMNS} FROM staff s WHERE {condition}"),
            params,
        )
        .await
        .map_err(db)?;
    rows.iter()
        .map(|r| staff_from_cols(text_columns(r)?))
        .collect()
}

pub(super) async fn load_staff<C: GenericClient + Sync>(
    c: &C,
    clinic: ClinicId,
) -> Result<Vec<StaffInfo>, StoreError> {
    let all = staff_where(
        c,
        "s.clinic_id = $1 ORDER BY s.name",
        &[&clinic.to_string()],
    )
    .await?;
    Ok(all.into_iter().map(|(s, _)| s).collect())
}

/// [`staff_of_session`]'s query, made once: every request asks it.
static STAFF_OF_SESSION: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {STAFF_COLUMNS}, x.station_id, x.expires_at,
            (SELECT string_agg(r.id, ',') FROM rooms r
             WHERE r.clinic_id = s.clinic_id AND r.provider_id = s.id)
         FROM sessions x JOIN staff s ON s.id = x.staff_id AND s.clinic_id = x.clinic_id
         WHERE x.token_hash = $1 AND x.revoked_at IS NULL AND x.expires_at > $2"
    )
});

/// A live session's member of staff, station and expiry, and the rooms whose provider they
/// are.
pub(super) struct SessionRow {
    pub staff: StaffInfo,
    pub station: Option<String>,
    pub expires_at: i64,
    pub provider_of: Vec<RoomId>,
}

/// The member of staff a live session is theirs, with the session's station and expiry and the
/// rooms they are the provider of: one read, the session joined to its staff row.
pub(super) async fn staff_of_session<C: GenericClient + Sync>(
    c: &C,
    token_hash: &str,
    now: i64,
) -> Result<Option<SessionRow>, StoreError> {
    let row = c
        .fetch_opt(STAFF_OF_SESSION.as_str(), &[&token_hash, &now])
        .await
        .map_err(db)?;
    let Some(row) = row else {
        return Ok(None);
    };
    let (staff, _) = staff_from_cols(text_columns::<STAFF_COLUMN_COUNT>(&row)?)?;
    let provider_of = row
        .get::<_, Option<&str>>(STAFF_COLUMN_COUNT + 2)
        .map_or(Ok(Vec::new()), |ids| ids.split(',').map(parse_id).collect())?;
    Ok(Some(SessionRow {
        staff,
        station: row.get(STAFF_COLUMN_COUNT),
        expires_at: row.get(STAFF_COLUMN_COUNT + 1),
        provider_of,
    }))
}

pub(super) async fn load_one_staff<C: GenericClient + Sync>(
    c: &C,
    clinic: ClinicId,
    id: StaffId,
) -> Result<Option<StaffInfo>, StoreError> {
    let found = staff_where(
        c,
        "s.clinic_id = $1 AND s.id = $2",
        &[&clinic.to_string(), &id.to_string()],
    )
    .await?;
    Ok(found.into_iter().next().map(|(s, _)| s))
}

pub(super) async fn staff_with_secrets<C: GenericClient + Sync>(
    c: &C,
    clinic: ClinicId,
    email: &str,
) -> Result<Option<(StaffInfo, StaffSecrets)>, StoreError> {
    let found = staff_where(
        c,
        "s.clinic_id = $1 AND s.email = $2",
        &[&clinic.to_string(), &email],
    )
    .await?;
    Ok(found.into_iter().next())
}

/// Adds the rooms (each of the clinic's) to a member of staff.
async fn add_rooms<C: GenericClient + Sync>(
    tx: &C,
    clinic: ClinicId,
    staff: StaffId,
    rooms: &[frontdesk_domain::RoomId],
) -> Result<(), Fail> {
    for room in rooms {
        let n = tx
            .run(
                "INSERT INTO room_members (room_id, staff_id)
                 SELECT id, $2 FROM rooms WHERE id = $1 AND clinic_id = $3
                 ON CONFLICT DO NOTHING",
                &[&room.to_string(), &staff.to_string(), &clinic.to_string()],
            )
            .await?;
        if n == 0 {
            return Err(corrupt(format!("no room {room} in this clinic")).into());
        }
    }
    Ok(())
}

pub(super) async fn create_staff<C: GenericClient + Sync>(
    tx: &C,
    staff: &StaffInfo,
    secrets: &StaffSecrets,
    at: Timestamp,
) -> Result<u64, Fail> {
    tx.run(
        "INSERT INTO staff (id, clinic_id, name, email, roles, availability, password_hash,
             pin_hash, phone, deactivated_at, all_rooms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        &[
            &staff.id.to_string(),
            &staff.clinic_id.to_string(),
            &staff.name,
            &staff.email,
            &to_json(&staff.roles)?,
            &availability_str(staff.availability),
            &secrets.password_hash,
            &secrets.pin_hash,
            &staff.phone,
            &staff.deactivated.then_some(at.as_millis()),
            &staff.all_rooms,
        ],
    )
    .await?;
    add_rooms(tx, staff.clinic_id, staff.id, &staff.rooms).await?;
    let body = EventBody::Staff {
        staff: staff.clone(),
    };
    record_event(tx, staff.clinic_id, at, body).await
}

/// Publishes the member of staff as they now are.
pub(super) async fn staff_changed<C: GenericClient + Sync>(
    tx: &C,
    clinic: ClinicId,
    staff: StaffId,
    at: Timestamp,
) -> Result<(StaffInfo, u64), Fail> {
    let info = load_one_staff(tx, clinic, staff)
        .await?
        .ok_or_else(|| corrupt("staff vanished"))?;
    let body = EventBody::Staff {
        staff: info.clone(),
    };
    let seq = record_event(tx, clinic, at, body).await?;
    Ok((info, seq))
}

pub(super) async fn update_staff<C: GenericClient + Sync>(
    tx: &C,
    clinic: ClinicId,
    staff: StaffId,
    edit: &StaffEdit,
    at: Timestamp,
) -> Result<Option<(StaffInfo, u64)>, Fail> {
    let roles = edit.roles.as_ref().map(to_json).transpose()?;
    let n = tx
        .run(
            "UPDATE staff SET name = COALESCE($3, name), roles = COALESCE($4, roles),
                 phone = CASE WHEN $5 THEN $6 ELSE phone END,
                 all_rooms = COALESCE($7, all_rooms)
             WHERE id = $1 AND clinic_id = $2",
            &[
                &staff.to_string(),
                &clinic.to_string(),
                &edit.name,
                &roles,
                &edit.phone.is_some(),
                &edit.phone.clone().flatten(),
                &edit.all_rooms,
            ],
        )
        .await?;
    if n == 0 {
        return Ok(None);
    }
    if let Some(rooms) = &edit.rooms {
        tx.run(
            "DELETE FROM room_members WHERE staff_id = $1",
            &[&staff.to_string()],
        )
        .await?;
        add_rooms(tx, clinic, staff, rooms).await?;
    }
    staff_changed(tx, clinic, staff, at).await.map(Some)
}

pub(super) async fn set_availability<C: GenericClient + Sync>(
    tx: &C,
    clinic: ClinicId,
    staff: StaffId,
    availability: frontdesk_domain::Availability,
    at: Timestamp,
) -> Result<Option<(StaffInfo, u64)>, Fail> {
    let n = tx
        .run(
            "UPDATE staff SET availability = $3 WHERE id = $1 AND clinic_id = $2",
            &[
                &staff.to_string(),
                &clinic.to_string(),
                &availability_str(availability),
            ],
        )
        .await?;
    if n == 0 {
        return Ok(None);
    }
    staff_changed(tx, clinic, staff, at).await.map(Some)
}

pub(super) async fn set_active<C: GenericClient + Sync>(
    tx: &C,
    clinic: ClinicId,
    staff: StaffId,
    active: bool,
    at: Timestamp,
) -> Result<Option<(StaffInfo, u64)>, Fail> {
    // Locks the row: two admins flipping the same person take turns.
    let row = tx
        .fetch_opt(
            "SELECT deactivated_at IS NOT NULL FROM staff WHERE id = $1 AND clinic_id = $2
             FOR UPDATE",
            &[&staff.to_string(), &clinic.to_string()],
        )
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let deactivated: bool = row.get(0);
    if deactivated != active {
        let current = load_one_staff(tx, clinic, staff)
            .await?
            .ok_or_else(|| corrupt("staff vanished"))?;
        return Ok(Some((current, 0)));
    }
    tx.run(
        "UPDATE staff SET deactivated_at = $3, pin_failures = 0 WHERE id = $1 AND clinic_id = $2",
        &[
            &staff.to_string(),
            &clinic.to_string(),
            &(!active).then_some(at.as_millis()),
        ],
    )
    .await?;
    if !active {
        super::sessions::revoke_staff_sessions(tx, clinic, staff, None, at.as_millis()).await?;
    }
    staff_changed(tx, clinic, staff, at).await.map(Some)
}

/// Sets a staff member's password; every session but `keep` ends and the PIN unlocks.
pub(super) async fn set_password<C: GenericClient + Sync>(
    tx: &C,
    clinic: ClinicId,
    staff: StaffId,
    password_hash: &str,
    keep: Option<&str>,
    now: i64,
) -> Result<bool, Fail> {
    let n = tx
        .run(
            "UPDATE staff SET password_hash = $3, pin_failures = 0
             WHERE id = $1 AND clinic_id = $2",
            &[&staff.to_string(), &clinic.to_string(), &password_hash],
        )
        .await?;
    if n == 0 {
        return Ok(false);
    }
    super::sessions::revoke_staff_sessions(tx, clinic, staff, keep, now).await?;
    Ok(true)
}

/// One statement on a member of staff's PIN tries (see the [`Store`] methods).
pub(super) async fn pin_tries<C: GenericClient + Sync>(
    c: &C,
    sql: &str,
    clinic: ClinicId,
    staff: StaffId,
    limit: Option<u32>,
) -> Result<Option<u32>, StoreError> {
    let (id, clinic) = (staff.to_string(), clinic.to_string());
    let rows = match limit {
        Some(limit) => c.fetch(sql, &[&id, &clinic, &big(limit)]).await,
        None => c.fetch(sql, &[&id, &clinic]).await,
    }
    .map_err(db)?;
    Ok(rows
        .first()
        .and_then(|r| r.try_get::<_, i64>(0).ok())
        .map(|n| n as u32))
}

pub(super) async fn alert_subscriptions<C: GenericClient + Sync>(
    c: &C,
    clinic: ClinicId,
    staff: StaffId,
) -> Result<Vec<AlertSubscription>, StoreError> {
    let rows = c
        .fetch(
            "SELECT a.room_id, a.desktop, a.email, a.sms FROM alert_subscriptions a
             JOIN staff s ON s.id = a.staff_id
             WHERE a.staff_id = $1 AND s.clinic_id = $2 ORDER BY a.room_id",
            &[&staff.to_string(), &clinic.to_string()],
        )
        .await
        .map_err(db)?;
    rows.iter()
        .map(|r| {
            Ok(AlertSubscription {
                room_id: parse_id(r.get::<_, &str>(0))?,
                desktop: r.get(1),
                email: r.get(2),
                sms: r.get(3),
            })
        })
        .collect()
}

pub(super) async fn set_alert_subscriptions<C: GenericClient + Sync>(
    tx: &C,
    clinic: ClinicId,
    staff: StaffId,
    subscriptions: &[AlertSubscription],
) -> Result<(), Fail> {
    tx.run(
        "DELETE FROM alert_subscriptions WHERE staff_id = $1
         AND staff_id IN (SELECT id FROM staff WHERE clinic_id = $2)",
        &[&staff.to_string(), &clinic.to_string()],
    )
    .await?;
    for s in subscriptions {
        let n = tx
            .run(
                "INSERT INTO alert_subscriptions (staff_id, room_id, desktop, email, sms)
                 SELECT $1, r.id, $3, $4, $5 FROM rooms r JOIN staff s ON s.id = $1
                 WHERE r.id = $2 AND r.clinic_id = $6 AND s.clinic_id = $6",
                &[
                    &staff.to_string(),
                    &s.room_id.to_string(),
                    &s.desktop,
                    &s.email,
                    &s.sms,
                    &clinic.to_string(),
                ],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::Corrupt(format!("no room {}", s.room_id)).into());
        }
    }
    Ok(())
}

pub(super) async fn clinic_subscriptions<C: GenericClient + Sync>(
    c: &C,
    clinic: ClinicId,
) -> Result<Vec<(StaffId, AlertSubscription)>, StoreError> {
    let rows = c
        .fetch(
            "SELECT a.staff_id, a.room_id, a.desktop, a.email, a.sms FROM alert_subscriptions a
             JOIN staff s ON s.id = a.staff_id
             WHERE s.clinic_id = $1 AND s.deactivated_at IS NULL
             ORDER BY a.staff_id, a.room_id",
            &[&clinic.to_string()],
        )
        .await
        .map_err(db)?;
    rows.iter()
        .map(|r| {
            Ok((
                parse_id(r.get::<_, &str>(0))?,
                AlertSubscription {
                    room_id: parse_id(r.get::<_, &str>(1))?,
                    desktop: r.get(2),
                    email: r.get(3),
                    sms: r.get(4),
                },
            ))
        })
        .collect()
}
