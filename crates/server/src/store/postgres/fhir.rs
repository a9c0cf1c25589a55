//! Which session each Appointment identifier from a practice management system booked.

use super::pg_error;
use crate::store::StoreError;
use crate::store::rows::parse_id;
use frontdesk_domain::fhir::export::ExternalBooking;
use frontdesk_domain::{ClinicId, VisitId};
use tokio_postgres::GenericClient;

fn db(e: tokio_postgres::Error) -> StoreError {
    pg_error(&e)
}

pub(super) async fn external_booking<C: GenericClient + Sync>(
    c: &C,
    clinic: ClinicId,
    system: &str,
    value: &str,
) -> Result<Option<(VisitId, Option<u32>)>, StoreError> {
    let row = c
        .query_opt(
            "SELECT visit_id, minutes FROM external_bookings
             WHERE clinic_id = $1 AND system = $2 AND value = $3",
            &[&clinic.to_string(), &system, &value],
        )
        .await
        .map_err(db)?;
    row.map(|r| {
        let minutes: Option<i32> = r.get(1);
        Ok((parse_id(r.get::<_, &str>(0))?, minutes.map(|m| m as u32)))
    })
    .transpose()
}

pub(super) async fn link_external_booking<C: GenericClient + Sync>(
    c: &C,
    clinic: ClinicId,
    booking: &ExternalBooking,
    visit: VisitId,
) -> Result<(), StoreError> {
    let minutes = booking.minutes.map(|m| m as i32);
    c.execute(
        "INSERT INTO external_bookings (clinic_id, system, value, visit_id, minutes)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (clinic_id, system, value)
         DO UPDATE SET visit_id = excluded.visit_id, minutes = excluded.minutes",
        &[
            &clinic.to_string(),
            &booking.system,
            &booking.value,
            &visit.to_string(),
            &minutes,
        ],
    )
    .await
    .map_err(db)?;
    Ok(())
}

pub(super) async fn external_bookings_of<C: GenericClient + Sync>(
    c: &C,
    clinic: ClinicId,
    visits: &[VisitId],
) -> Result<Vec<(VisitId, ExternalBooking)>, StoreError> {
    let ids: Vec<String> = visits.iter().map(ToString::to_string).collect();
    let rows = c
        .query(
            "SELECT visit_id, system, value, minutes FROM external_bookings
             WHERE clinic_id = $1 AND visit_id = ANY($2)",
            &[&clinic.to_string(), &ids],
        )
        .await
        .map_err(db)?;
    rows.iter()
        .map(|r| {
            let minutes: Option<i32> = r.get(3);
            Ok((
                parse_id(r.get::<_, &str>(0))?,
                ExternalBooking {
                    system: r.get(1),
                    value: r.get(2),
                    minutes: minutes.map(|m| m as u32),
                },
            ))
        })
        .collect()
}
