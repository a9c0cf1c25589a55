//! Which session each Appointment identifier from a practice management system booked.

use super::db;
use crate::store::StoreError;
use crate::store::rows::parse_id;
use frontdesk_domain::fhir::export::ExternalBooking;
use frontdesk_domain::{ClinicId, VisitId};
use rusqlite::{Connection, OptionalExtension, params};

pub(super) fn external_booking(
    c: &Connection,
    clinic: ClinicId,
    system: &str,
    value: &str,
) -> Result<Option<(VisitId, Option<u32>)>, StoreError> {
    let row: Option<(String, Option<i64>)> = c
        .query_row(
            "SELECT visit_id, minutes FROM external_bookings
             WHERE clinic_id = ?1 AND system = ?2 AND value = ?3",
            params![clinic.to_string(), system, value],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(db)?;
    row.map(|(visit, minutes)| Ok((parse_id(&visit)?, minutes.map(|m| m as u32))))
        .transpose()
}

pub(super) fn link_external_booking(
    c: &Connection,
    clinic: ClinicId,
    booking: &ExternalBooking,
    visit: VisitId,
) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO external_bookings (clinic_id, system, value, visit_id, minutes)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (clinic_id, system, value)
         DO UPDATE SET visit_id = excluded.visit_id, minutes = excluded.minutes",
        params![
            clinic.to_string(),
            booking.system,
            booking.value,
            visit.to_string(),
            booking.minutes.map(i64::from),
        ],
    )
    .map_err(db)?;
    Ok(())
}

pub(super) fn external_bookings_of(
    c: &Connection,
    clinic: ClinicId,
    visits: &[VisitId],
) -> Result<Vec<(VisitId, ExternalBooking)>, StoreError> {
    let mut stmt = c
        .prepare_cached(
            "SELECT system, value, minutes FROM external_bookings
             WHERE clinic_id = ?1 AND visit_id = ?2",
        )
        .map_err(db)?;
    let mut found = Vec::new();
    for visit in visits {
        let rows = stmt
            .query_map(params![clinic.to_string(), visit.to_string()], |r| {
                Ok(ExternalBooking {
                    system: r.get(0)?,
                    value: r.get(1)?,
                    minutes: r.get::<_, Option<i64>>(2)?.map(|m| m as u32),
                })
            })
            .map_err(db)?;
        for row in rows {
            found.push((*visit, row.map_err(db)?));
        }
    }
    Ok(found)
}
