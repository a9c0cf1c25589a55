//! Clinics and their rooms: how they are stored, and the directory that keeps them in memory
//! for a moment so the patient pages and the front door rarely read the database.

use super::event_log::{Hub, record_event};
use super::staff::load_one_staff;
use super::{SqliteStore, lock, parse_id, text_columns, to_json};
use crate::events::EventBody;
use crate::model::{Clinic, RoomInfo};
use crate::store::StoreError;
use crate::store::rows::{ROOM_COLUMNS, room_from_cols, room_settings_json};
use frontdesk_domain::{ClinicId, Timestamp};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::HashMap;

/// How long a clinic and its rooms are used as read before being read again: changes through
/// this store are seen at once, changes by another process (the admin commands) within this.
const DIRECTORY_FRESH: std::time::Duration = std::time::Duration::from_secs(1);

/// Clinics and their rooms as last read, so a patient coming through a front-door link (a
/// clinic slug and a room) costs no database read. A clinic's slug never changes; its name,
/// time zone and call link may.
#[derive(Default)]
pub(super) struct Directory {
    clinics: HashMap<ClinicId, (std::time::Instant, Clinic)>,
    slugs: HashMap<String, ClinicId>,
    rooms: HashMap<ClinicId, (std::time::Instant, Vec<RoomInfo>)>,
    /// Count changes, so a read that raced one is not kept.
    clinic_changes: u64,
    room_changes: u64,
}

impl Directory {
    fn add_clinic(&mut self, clinic: &Clinic, read_at: std::time::Instant) {
        self.slugs.insert(clinic.slug.clone(), clinic.id);
        self.clinics.insert(clinic.id, (read_at, clinic.clone()));
    }

    fn fresh_clinic(&self, id: ClinicId) -> Option<Clinic> {
        self.clinics
            .get(&id)
            .filter(|(read_at, _)| read_at.elapsed() < DIRECTORY_FRESH)
            .map(|(_, clinic)| clinic.clone())
    }

    fn fresh_rooms(&self, clinic: ClinicId) -> Option<Vec<RoomInfo>> {
        self.rooms
            .get(&clinic)
            .filter(|(read_at, _)| read_at.elapsed() < DIRECTORY_FRESH)
            .map(|(_, rooms)| rooms.clone())
    }
}

impl SqliteStore {
    /// A clinic by id, from the directory while it is fresh.
    pub(super) async fn clinic_cached(&self, id: ClinicId) -> Result<Option<Clinic>, StoreError> {
        if let Some(known) = lock(&self.inner.directory).fresh_clinic(id) {
            return Ok(Some(known));
        }
        self.read_clinic("id", id.to_string()).await
    }

    /// A clinic by its front-door slug, from the directory while it is fresh.
    pub(super) async fn clinic_by_slug_cached(
        &self,
        slug: &str,
    ) -> Result<Option<Clinic>, StoreError> {
        {
            let directory = lock(&self.inner.directory);
            if let Some(known) = directory
                .slugs
                .get(slug)
                .and_then(|id| directory.fresh_clinic(*id))
            {
                return Ok(Some(known));
            }
        }
        self.read_clinic("slug", slug.to_owned()).await
    }

    /// A clinic's rooms, from the directory while they are fresh.
    pub(super) async fn rooms_cached(&self, clinic: ClinicId) -> Result<Vec<RoomInfo>, StoreError> {
        let changes = {
            let directory = lock(&self.inner.directory);
            if let Some(rooms) = directory.fresh_rooms(clinic) {
                return Ok(rooms);
            }
            directory.room_changes
        };
        let read_at = std::time::Instant::now();
        let rooms = self.read(move |c| load_rooms(c, clinic)).await?;
        let mut directory = lock(&self.inner.directory);
        if directory.room_changes == changes {
            directory.rooms.insert(clinic, (read_at, rooms.clone()));
        }
        Ok(rooms)
    }

    /// After a change to a clinic's rooms: read them again on next use, whatever the write did.
    pub(super) fn forget_rooms(&self, clinic: ClinicId) {
        let mut directory = lock(&self.inner.directory);
        directory.room_changes += 1;
        directory.rooms.remove(&clinic);
    }

    /// After a change to a clinic: read it again on next use, whatever the write did.
    pub(super) fn forget_clinic(&self, id: ClinicId) {
        let mut directory = lock(&self.inner.directory);
        directory.clinic_changes += 1;
        directory.clinics.remove(&id);
    }

    /// A clinic from the database, remembered in the directory.
    async fn read_clinic(
        &self,
        by: &'static str,
        value: String,
    ) -> Result<Option<Clinic>, StoreError> {
        let changes = lock(&self.inner.directory).clinic_changes;
        let read_at = std::time::Instant::now();
        let clinic = self
            .read(move |c| Ok(load_clinic(c, by, &value)?.map(|(c, _)| c)))
            .await?;
        if let Some(clinic) = &clinic {
            let mut directory = lock(&self.inner.directory);
            if directory.clinic_changes == changes {
                directory.add_clinic(clinic, read_at);
            }
        }
        Ok(clinic)
    }
}

pub(super) fn create_clinic(conn: &Connection, clinic: &Clinic) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO clinics (id, slug, name, time_zone, video_link_template, nameless_alerts,
            open_link_hours)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            clinic.id.to_string(),
            clinic.slug,
            clinic.name,
            clinic.time_zone,
            clinic.video_link_template,
            clinic.nameless_alerts,
            clinic.open_link_hours
        ],
    )?;
    Ok(())
}

pub(super) fn update_clinic(conn: &Connection, clinic: &Clinic) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE clinics SET name = ?2, time_zone = ?3, video_link_template = ?4,
            nameless_alerts = ?5, open_link_hours = ?6 WHERE id = ?1",
        params![
            clinic.id.to_string(),
            clinic.name,
            clinic.time_zone,
            clinic.video_link_template,
            clinic.nameless_alerts,
            clinic.open_link_hours
        ],
    )?;
    Ok(())
}

pub(super) fn load_clinic(
    conn: &Connection,
    by: &str,
    value: &str,
) -> Result<Option<(Clinic, u64)>, StoreError> {
    let sql = format!(
        "SELECT id, slug, name, seq, time_zone, video_link_template, nameless_alerts,
            open_link_hours
         FROM clinics WHERE {by} = ?1"
    );
    let row = conn
        .query_row(&sql, [value], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, bool>(6)?,
                r.get::<_, Option<u32>>(7)?,
            ))
        })
        .optional()?;
    row.map(
        |(
            id,
            slug,
            name,
            seq,
            time_zone,
            video_link_template,
            nameless_alerts,
            open_link_hours,
        )| {
            Ok((
                Clinic {
                    id: parse_id(&id)?,
                    slug,
                    name,
                    time_zone,
                    video_link_template,
                    nameless_alerts,
                    open_link_hours,
                },
                seq as u64,
            ))
        },
    )
    .transpose()
}

/// Adds or changes a room, with its event (and its provider's, who works in it); the last
/// event's seq.
pub(super) fn put_room(
    conn: &mut Connection,
    hub: &Hub,
    room: RoomInfo,
    at: Timestamp,
) -> Result<u64, StoreError> {
    let tx = conn.transaction()?;
    tx.execute(
        "INSERT INTO rooms (id, clinic_id, name, provider_id, office_hours, emergency_info, waiting_message, intake_questions, settings)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, provider_id = excluded.provider_id,
           office_hours = excluded.office_hours, emergency_info = excluded.emergency_info,
           waiting_message = excluded.waiting_message, intake_questions = excluded.intake_questions,
           settings = excluded.settings
         WHERE rooms.clinic_id = excluded.clinic_id",
        params![
            room.id.to_string(),
            room.clinic_id.to_string(),
            room.name,
            room.provider.map(|p| p.to_string()),
            to_json(&room.office_hours)?,
            room.emergency_info,
            room.waiting_message,
            to_json(&room.intake_questions)?,
            room_settings_json(&room)?
        ],
    )?;
    let clinic = room.clinic_id;
    let mut published = Vec::new();
    // A provider works in their own room: that changes them too, so say so.
    if let Some(provider) = room.provider {
        let added = tx.execute(
            "INSERT OR IGNORE INTO room_members (room_id, staff_id) VALUES (?1, ?2)",
            [room.id.to_string(), provider.to_string()],
        )?;
        if added > 0
            && let Some(staff) = load_one_staff(&tx, clinic, provider)?
        {
            published.push(record_event(&tx, clinic, at, EventBody::Staff { staff })?);
        }
    }
    published.push(record_event(
        &tx,
        clinic,
        at,
        EventBody::Room {
            room: Box::new(room),
        },
    )?);
    tx.commit()?;
    let seq = published.last().map_or(0, |p| p.seq);
    for p in published {
        hub.publish(clinic, p);
    }
    Ok(seq)
}

fn room_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<[Option<String>; 9]> {
    text_columns(r)
}

pub(super) fn load_rooms(conn: &Connection, clinic: ClinicId) -> Result<Vec<RoomInfo>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {ROOM_COLUMNS} FROM rooms WHERE clinic_id = ?1 ORDER BY provider_id IS NOT NULL, name"
    ))?;
    let rows = stmt.query_map([clinic.to_string()], room_from_row)?;
    rows.map(|r| room_from_cols(r?)).collect()
}
