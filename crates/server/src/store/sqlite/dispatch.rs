//! The [`Store`] trait for the SQLite store: each method sends the work of its job's module
//! to the reader pool or to the writer, and keeps the directory's cache in step with writes.

use super::writer::Job;
use super::{
    SqliteStore, audit, db, directory, event_log, messages, sessions, staff, visits, writer,
};
use crate::audit::{AuditRecord, ChainMark, ChainedRecord};
use crate::events::{Event, Subscription};
use crate::model::{AlertSubscription, Clinic, RoomInfo, Session, StaffInfo, Station};
use crate::store::{
    Attempt, Committed, Delivery, DeliveryState, NewMessage, NewSession, PasswordReset,
    SnapshotData, StaffEdit, StaffSecrets, Store, StoreError, VisitWrite, WriteRefused,
};
use async_trait::async_trait;
use frontdesk_domain::{
    Audience, Availability, ClinicId, RoomId, StaffId, Timestamp, Visit, VisitId,
};

#[async_trait]
impl Store for SqliteStore {
    async fn create_clinic(&self, clinic: Clinic) -> Result<(), StoreError> {
        self.write(move |conn, _| directory::create_clinic(conn, &clinic))
            .await
    }

    async fn clinic(&self, id: ClinicId) -> Result<Option<Clinic>, StoreError> {
        self.clinic_cached(id).await
    }

    async fn clinic_by_slug(&self, slug: &str) -> Result<Option<Clinic>, StoreError> {
        self.clinic_by_slug_cached(slug).await
    }

    async fn put_room(&self, room: RoomInfo, at: Timestamp) -> Result<u64, StoreError> {
        let clinic = room.clinic_id;
        let written = self
            .write(move |conn, hub| directory::put_room(conn, hub, room, at))
            .await;
        self.forget_rooms(clinic);
        written
    }

    async fn rooms(&self, clinic: ClinicId) -> Result<Vec<RoomInfo>, StoreError> {
        self.rooms_cached(clinic).await
    }

    async fn create_staff(
        &self,
        staff: StaffInfo,
        secrets: StaffSecrets,
        at: Timestamp,
    ) -> Result<u64, StoreError> {
        self.write(move |conn, hub| staff::create_staff(conn, hub, staff, &secrets, at))
            .await
    }

    async fn staff(&self, clinic: ClinicId) -> Result<Vec<StaffInfo>, StoreError> {
        self.read(move |c| staff::load_staff(c, clinic)).await
    }

    async fn staff_with_secrets(
        &self,
        clinic: ClinicId,
        email: &str,
    ) -> Result<Option<(StaffInfo, StaffSecrets)>, StoreError> {
        let email = email.to_owned();
        self.read(move |c| staff::staff_with_secrets(c, clinic, email))
            .await
    }

    async fn sweep(&self, now: Timestamp) -> Result<usize, StoreError> {
        self.write(move |conn, _| sessions::sweep(conn, now)).await
    }

    async fn set_pin(
        &self,
        clinic: ClinicId,
        staff: StaffId,
        pin_hash: String,
    ) -> Result<(), StoreError> {
        self.write(move |conn, _| staff::set_pin(conn, clinic, staff, pin_hash))
            .await
    }

    async fn update_staff(
        &self,
        clinic: ClinicId,
        staff: StaffId,
        edit: StaffEdit,
        at: Timestamp,
    ) -> Result<Option<(StaffInfo, u64)>, StoreError> {
        self.write(move |conn, hub| staff::update_staff(conn, hub, clinic, staff, edit, at))
            .await
    }

    async fn set_staff_active(
        &self,
        clinic: ClinicId,
        staff: StaffId,
        active: bool,
        at: Timestamp,
    ) -> Result<Option<(StaffInfo, u64)>, StoreError> {
        self.write(move |conn, hub| staff::set_active(conn, hub, clinic, staff, active, at))
            .await
    }

    async fn set_password(
        &self,
        clinic: ClinicId,
        staff: StaffId,
        password_hash: String,
        keep: Option<String>,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        self.write(move |conn, _| {
            staff::set_password(
                conn,
                clinic,
                staff,
                &password_hash,
                keep.as_deref(),
                now.as_millis(),
            )
        })
        .await
    }

    async fn revoke_staff_sessions(
        &self,
        clinic: ClinicId,
        staff: StaffId,
        now: Timestamp,
    ) -> Result<usize, StoreError> {
        self.write(move |conn, _| {
            sessions::revoke_staff_sessions(conn, clinic, staff, None, now.as_millis())
        })
        .await
    }

    async fn take_pin_try(
        &self,
        clinic: ClinicId,
        staff: StaffId,
        limit: u32,
    ) -> Result<Option<u32>, StoreError> {
        self.write(move |conn, _| staff::take_pin_try(conn, clinic, staff, limit))
            .await
    }

    async fn give_back_pin_try(&self, clinic: ClinicId, staff: StaffId) -> Result<(), StoreError> {
        self.write(move |conn, _| staff::give_back_pin_try(conn, clinic, staff))
            .await
    }

    async fn clear_pin_failures(&self, clinic: ClinicId, staff: StaffId) -> Result<(), StoreError> {
        self.write(move |conn, _| staff::clear_pin_failures(conn, clinic, staff))
            .await
    }

    async fn create_password_reset(
        &self,
        reset: PasswordReset,
        email: NewMessage,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.write(move |conn, _| sessions::create_password_reset(conn, &reset, &email, now))
            .await
    }

    async fn password_reset(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<(ClinicId, StaffId)>, StoreError> {
        let token_hash = token_hash.to_owned();
        self.read(move |c| sessions::password_reset(c, &token_hash, now))
            .await
    }

    async fn use_password_reset(
        &self,
        token_hash: &str,
        password_hash: String,
        now: Timestamp,
    ) -> Result<Option<(ClinicId, StaffId)>, StoreError> {
        let token_hash = token_hash.to_owned();
        self.write(move |conn, _| {
            sessions::use_password_reset(conn, &token_hash, &password_hash, now)
        })
        .await
    }

    async fn queue_message(
        &self,
        clinic: ClinicId,
        message: NewMessage,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.write(move |conn, _| messages::insert(conn, clinic, &message, now))
            .await
    }

    async fn set_availability(
        &self,
        clinic: ClinicId,
        staff: StaffId,
        availability: Availability,
        at: Timestamp,
    ) -> Result<Option<(StaffInfo, u64)>, StoreError> {
        self.write(move |conn, hub| {
            staff::set_availability(conn, hub, clinic, staff, availability, at)
        })
        .await
    }

    async fn alert_subscriptions(
        &self,
        clinic: ClinicId,
        staff: StaffId,
    ) -> Result<Vec<AlertSubscription>, StoreError> {
        self.read(move |c| staff::alert_subscriptions(c, clinic, staff))
            .await
    }

    async fn set_alert_subscriptions(
        &self,
        clinic: ClinicId,
        staff: StaffId,
        subscriptions: Vec<AlertSubscription>,
    ) -> Result<(), StoreError> {
        self.write(move |conn, _| {
            staff::set_alert_subscriptions(conn, clinic, staff, subscriptions)
        })
        .await
    }

    async fn create_session(&self, s: NewSession) -> Result<(), StoreError> {
        self.write(move |conn, _| sessions::create_session(conn, &s))
            .await
    }

    async fn session(&self, token_hash: &str, now: i64) -> Result<Option<Session>, StoreError> {
        let token_hash = token_hash.to_owned();
        self.read(move |c| sessions::session(c, &token_hash, now))
            .await
    }

    async fn revoke_session(&self, token_hash: &str, now: i64) -> Result<(), StoreError> {
        let token_hash = token_hash.to_owned();
        self.write(move |conn, _| sessions::revoke_session(conn, &token_hash, now))
            .await
    }

    async fn create_station(&self, station: Station, token_hash: String) -> Result<(), StoreError> {
        self.write(move |conn, _| sessions::create_station(conn, &station, &token_hash))
            .await
    }

    async fn station_by_token(&self, token_hash: &str) -> Result<Option<Station>, StoreError> {
        let token_hash = token_hash.to_owned();
        self.read(move |c| sessions::station_by_token(c, &token_hash))
            .await
    }

    async fn stations(&self, clinic: ClinicId) -> Result<Vec<Station>, StoreError> {
        self.read(move |c| sessions::stations(c, clinic)).await
    }

    async fn revoke_station(
        &self,
        clinic: ClinicId,
        station: uuid::Uuid,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.write(move |conn, _| sessions::revoke_station(conn, clinic, station, now))
            .await
    }

    async fn write_visit(&self, write: VisitWrite) -> Result<Committed, WriteRefused> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let stopped = || WriteRefused::Store(db("the writer has stopped"));
        self.inner
            .jobs
            .send(Job::Visit(write, tx))
            .map_err(|_| stopped())?;
        rx.await.map_err(|_| stopped())?
    }

    async fn write_openings(
        &self,
        writes: Vec<VisitWrite>,
    ) -> Result<Vec<Committed>, WriteRefused> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let stopped = || WriteRefused::Store(db("the writer has stopped"));
        let job = Job::Other(Box::new(move |conn, hub| {
            let _ = tx.send(writer::write_openings(conn, hub, &writes));
        }));
        self.inner.jobs.send(job).map_err(|_| stopped())?;
        rx.await.map_err(|_| stopped())?
    }

    async fn place_in_line(
        &self,
        clinic: ClinicId,
        room: RoomId,
        visit: VisitId,
    ) -> Result<Option<usize>, StoreError> {
        self.read(move |c| visits::place_in_line(c, clinic, room, visit))
            .await
    }

    async fn visit(&self, clinic: ClinicId, id: VisitId) -> Result<Option<Visit>, StoreError> {
        self.read(move |c| visits::load_visit(c, clinic, id)).await
    }

    async fn visit_history(
        &self,
        clinic: ClinicId,
        id: VisitId,
        after: u64,
        limit: u32,
    ) -> Result<Option<Vec<frontdesk_domain::HistoryEntry>>, StoreError> {
        self.read(move |c| {
            if visits::load_visit_state(c, clinic, id)?.is_none() {
                return Ok(None);
            }
            visits::history_page(c, clinic, id, after, limit).map(Some)
        })
        .await
    }

    async fn open_visits(&self, clinic: ClinicId) -> Result<Vec<Visit>, StoreError> {
        self.read(move |c| visits::load_open_visits(c, clinic))
            .await
    }

    async fn finished_visits(
        &self,
        clinic: ClinicId,
        from: Timestamp,
        to: Timestamp,
        after: Option<(Timestamp, VisitId)>,
        limit: u32,
    ) -> Result<Vec<Visit>, StoreError> {
        self.read(move |c| visits::load_finished_visits(c, clinic, from, to, after, limit))
            .await
    }

    async fn report_histories(
        &self,
        clinic: ClinicId,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<(VisitId, Vec<frontdesk_domain::HistoryEntry>)>, StoreError> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached(crate::store::rows::REPORT_HISTORY_SQL)?;
            let rows = stmt.query_map(
                rusqlite::params![clinic.to_string(), from.as_millis(), to.as_millis()],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, String>(3)?,
                    ))
                },
            )?;
            let rows: Vec<(String, i64, i64, String)> = rows.collect::<Result<_, _>>()?;
            crate::store::rows::histories_from_rows(
                rows.iter()
                    .map(|(v, version, position, e)| (v.as_str(), *version, *position, e.as_str())),
            )
        })
        .await
    }

    async fn events_after(
        &self,
        clinic: ClinicId,
        after: u64,
        limit: u32,
    ) -> Result<Vec<Event>, StoreError> {
        self.read(move |c| event_log::events_after(c, clinic, after, limit))
            .await
    }

    async fn snapshot(&self, clinic: ClinicId) -> Result<Option<SnapshotData>, StoreError> {
        self.read(move |c| event_log::snapshot(c, clinic)).await
    }

    fn subscribe(&self, clinic: ClinicId) -> Subscription {
        self.inner.hub.feed(clinic).subscribe()
    }

    fn secret(&self) -> [u8; 32] {
        self.inner.secret
    }

    async fn visit_for_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<(Visit, Option<usize>)>, StoreError> {
        let token_hash = token_hash.to_owned();
        self.read(move |c| messages::visit_for_token(c, &token_hash))
            .await
    }

    async fn clinic_subscriptions(
        &self,
        clinic: ClinicId,
    ) -> Result<Vec<(StaffId, AlertSubscription)>, StoreError> {
        self.read(move |c| messages::clinic_subscriptions(c, clinic))
            .await
    }

    async fn unnotified(&self) -> Result<Vec<(ClinicId, u64)>, StoreError> {
        self.read(messages::unnotified).await
    }

    async fn queue_messages(
        &self,
        clinic: ClinicId,
        through: u64,
        messages: Vec<NewMessage>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.write(move |conn, _| messages::queue(conn, clinic, through, &messages, now))
            .await
    }

    async fn due_messages(&self, now: Timestamp, limit: u32) -> Result<Vec<Delivery>, StoreError> {
        self.read(move |c| messages::due(c, now, limit)).await
    }

    async fn requeue_interrupted(&self) -> Result<usize, StoreError> {
        self.write(|conn, _| messages::requeue_interrupted(conn))
            .await
    }

    async fn record_attempt(
        &self,
        id: i64,
        attempt: Attempt,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.write(move |conn, _| messages::record_attempt(conn, id, &attempt, now))
            .await
    }

    async fn deliveries(
        &self,
        clinic: ClinicId,
        state: Option<DeliveryState>,
        limit: u32,
    ) -> Result<Vec<Delivery>, StoreError> {
        self.read(move |c| messages::deliveries(c, clinic, state, limit))
            .await
    }

    async fn retry_delivery(
        &self,
        clinic: ClinicId,
        id: i64,
        now: Timestamp,
    ) -> Result<Option<(bool, Delivery)>, StoreError> {
        self.write(move |conn, _| messages::retry_delivery(conn, clinic, id, now))
            .await
    }

    async fn depart_at(
        &self,
        clinic: ClinicId,
        visit: VisitId,
        leave_at: Timestamp,
    ) -> Result<(), StoreError> {
        self.write(move |conn, _| visits::depart_at(conn, clinic, visit, leave_at))
            .await
    }

    async fn cancel_departure(&self, visit: VisitId) -> Result<(), StoreError> {
        self.write(move |conn, _| visits::cancel_departure(conn, visit))
            .await
    }

    async fn departures(&self) -> Result<Vec<(ClinicId, VisitId, Timestamp)>, StoreError> {
        self.read(visits::departures).await
    }

    async fn scheduled_visits(&self) -> Result<Vec<Visit>, StoreError> {
        self.read(visits::scheduled_visits).await
    }

    async fn update_clinic(&self, clinic: Clinic) -> Result<(), StoreError> {
        let id = clinic.id;
        let written = self
            .write(move |conn, _| directory::update_clinic(conn, &clinic))
            .await;
        self.forget_clinic(id);
        written
    }

    async fn external_booking(
        &self,
        clinic: ClinicId,
        system: &str,
        value: &str,
    ) -> Result<Option<(VisitId, Option<u32>)>, StoreError> {
        let (system, value) = (system.to_owned(), value.to_owned());
        self.read(move |c| super::fhir::external_booking(c, clinic, &system, &value))
            .await
    }

    async fn link_external_booking(
        &self,
        clinic: ClinicId,
        booking: frontdesk_domain::fhir::export::ExternalBooking,
        visit: VisitId,
    ) -> Result<(), StoreError> {
        self.write(move |conn, _| super::fhir::link_external_booking(conn, clinic, &booking, visit))
            .await
    }

    async fn external_bookings_of(
        &self,
        clinic: ClinicId,
        visits: Vec<VisitId>,
    ) -> Result<Vec<(VisitId, frontdesk_domain::fhir::export::ExternalBooking)>, StoreError> {
        self.read(move |c| super::fhir::external_bookings_of(c, clinic, &visits))
            .await
    }

    // ---- Minimum necessary and the audit trail (issue 13, parts 3 and 4) ----

    async fn events_with_audience(
        &self,
        clinic: ClinicId,
        after: u64,
        limit: u32,
    ) -> Result<Vec<(Event, Option<Audience>)>, StoreError> {
        self.read(move |c| audit::events_with_audience(c, clinic, after, limit))
            .await
    }

    async fn append_audit(&self, records: Vec<AuditRecord>) -> Result<(), StoreError> {
        self.write(move |conn, _| audit::append(conn, records))
            .await
    }

    async fn audit_marks(
        &self,
        clinic: ClinicId,
    ) -> Result<(Option<ChainMark>, Option<ChainMark>), StoreError> {
        self.read(move |c| audit::marks(c, clinic)).await
    }

    async fn audit_chain(
        &self,
        clinic: ClinicId,
        after: u64,
        limit: u32,
    ) -> Result<Vec<ChainedRecord>, StoreError> {
        self.read(move |c| audit::chain(c, clinic, after, limit))
            .await
    }

    async fn audit_range(
        &self,
        clinic: ClinicId,
        span: (Timestamp, Timestamp),
        after: u64,
        limit: u32,
    ) -> Result<Vec<ChainedRecord>, StoreError> {
        self.read(move |c| audit::range(c, clinic, span, after, limit))
            .await
    }

    async fn audit_for_visit(
        &self,
        clinic: ClinicId,
        visit: VisitId,
    ) -> Result<Vec<ChainedRecord>, StoreError> {
        self.read(move |c| audit::for_visit(c, clinic, visit)).await
    }

    async fn audit_clinics(&self) -> Result<Vec<ClinicId>, StoreError> {
        self.read(audit::clinics).await
    }

    async fn prune_audit(&self, before: Timestamp) -> Result<usize, StoreError> {
        self.write(move |conn, _| audit::prune(conn, before)).await
    }
}
