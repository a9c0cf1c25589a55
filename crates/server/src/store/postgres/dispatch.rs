//! The [`Store`] trait for the PostgreSQL store: each write is one transaction (run again on a
//! serialization failure or a lost race), each read one statement or a read-only transaction,
//! and each seq taken is handed to the event bus once committed.

use super::cached::Cached;
use super::{Fail, PgStore, audit, directory, messages, sessions, transaction, visits};
use crate::audit::{AuditRecord, ChainMark, ChainedRecord};
use crate::events::{Event, Subscription};
use crate::model::{AlertSubscription, Clinic, RoomInfo, Session, StaffInfo, Station};
use crate::store::rows::from_json;
use crate::store::{
    Attempt, Committed, Delivery, DeliveryState, NewMessage, NewSession, PasswordReset,
    SnapshotData, StaffEdit, StaffSecrets, Store, StoreError, VisitWrite, WriteAction,
    WriteRefused,
};
use async_trait::async_trait;
use frontdesk_domain::access::Audience;
use frontdesk_domain::{Availability, ClinicId, RoomId, StaffId, Timestamp, Visit, VisitId};

type Client = deadpool_postgres::Object;

impl PgStore {
    async fn client(&self) -> Result<Client, StoreError> {
        Ok(self.inner.pool.get().await.map_err(Fail::from)?)
    }

    /// Hands what a committed transaction published to the event bus.
    fn published(&self, clinic: ClinicId, seq: Option<u64>) {
        if let Some(seq) = seq.filter(|s| *s > 0) {
            self.inner.bus.committed(clinic, seq);
        }
    }

    /// A staff change's answer, its event handed on.
    fn staff_published(
        &self,
        clinic: ClinicId,
        done: Result<Option<(StaffInfo, u64)>, Fail>,
    ) -> Result<Option<(StaffInfo, u64)>, StoreError> {
        let done = done?;
        self.published(clinic, done.as_ref().map(|(_, seq)| *seq));
        Ok(done)
    }
}

#[async_trait]
impl Store for PgStore {
    async fn create_clinic(&self, clinic: Clinic) -> Result<(), StoreError> {
        let c = self.client().await?;
        Ok(directory::create_clinic(&c, &clinic).await?)
    }

    async fn clinic(&self, id: ClinicId) -> Result<Option<Clinic>, StoreError> {
        let c = self.client().await?;
        let found = directory::load_clinic(&c, "id", &id.to_string()).await?;
        Ok(found.map(|(clinic, _)| clinic))
    }

    async fn clinic_by_slug(&self, slug: &str) -> Result<Option<Clinic>, StoreError> {
        let c = self.client().await?;
        let found = directory::load_clinic(&c, "slug", slug).await?;
        Ok(found.map(|(clinic, _)| clinic))
    }

    async fn put_room(&self, room: RoomInfo, at: Timestamp) -> Result<u64, StoreError> {
        let seq = transaction!(self.inner, |tx| {
            directory::put_room(tx, &room, at).await?
        })?;
        self.published(room.clinic_id, Some(seq));
        Ok(seq)
    }

    async fn rooms(&self, clinic: ClinicId) -> Result<Vec<RoomInfo>, StoreError> {
        let c = self.client().await?;
        directory::load_rooms(&c, clinic).await
    }

    async fn create_staff(
        &self,
        staff: StaffInfo,
        secrets: StaffSecrets,
        at: Timestamp,
    ) -> Result<u64, StoreError> {
        let seq = transaction!(self.inner, |tx| {
            directory::create_staff(tx, &staff, &secrets, at).await?
        })?;
        self.published(staff.clinic_id, Some(seq));
        Ok(seq)
    }

    async fn staff(&self, clinic: ClinicId) -> Result<Vec<StaffInfo>, StoreError> {
        let c = self.client().await?;
        directory::load_staff(&c, clinic).await
    }

    async fn staff_with_secrets(
        &self,
        clinic: ClinicId,
        email: &str,
    ) -> Result<Option<(StaffInfo, StaffSecrets)>, StoreError> {
        let c = self.client().await?;
        directory::staff_with_secrets(&c, clinic, email).await
    }

    async fn set_pin(
        &self,
        clinic: ClinicId,
        staff: StaffId,
        pin_hash: String,
    ) -> Result<(), StoreError> {
        let c = self.client().await?;
        c.run(
            "UPDATE staff SET pin_hash = $3, pin_failures = 0 WHERE id = $1 AND clinic_id = $2",
            &[&staff.to_string(), &clinic.to_string(), &pin_hash],
        )
        .await
        .map_err(Fail::from)?;
        Ok(())
    }

    async fn update_staff(
        &self,
        clinic: ClinicId,
        staff: StaffId,
        edit: StaffEdit,
        at: Timestamp,
    ) -> Result<Option<(StaffInfo, u64)>, StoreError> {
        let done = transaction!(self.inner, |tx| {
            directory::update_staff(tx, clinic, staff, &edit, at).await?
        });
        self.staff_published(clinic, done)
    }

    async fn set_staff_active(
        &self,
        clinic: ClinicId,
        staff: StaffId,
        active: bool,
        at: Timestamp,
    ) -> Result<Option<(StaffInfo, u64)>, StoreError> {
        let done = transaction!(self.inner, |tx| {
            directory::set_active(tx, clinic, staff, active, at).await?
        });
        self.staff_published(clinic, done)
    }

    async fn set_password(
        &self,
        clinic: ClinicId,
        staff: StaffId,
        password_hash: String,
        keep: Option<String>,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        Ok(transaction!(self.inner, |tx| {
            directory::set_password(
                tx,
                clinic,
                staff,
                &password_hash,
                keep.as_deref(),
                now.as_millis(),
            )
            .await?
        })?)
    }

    async fn revoke_staff_sessions(
        &self,
        clinic: ClinicId,
        staff: StaffId,
        now: Timestamp,
    ) -> Result<usize, StoreError> {
        let c = self.client().await?;
        Ok(sessions::revoke_staff_sessions(&c, clinic, staff, None, now.as_millis()).await?)
    }

    async fn take_pin_try(
        &self,
        clinic: ClinicId,
        staff: StaffId,
        limit: u32,
    ) -> Result<Option<u32>, StoreError> {
        let c = self.client().await?;
        directory::pin_tries(
            &c,
            "UPDATE staff SET pin_failures = pin_failures + 1
             WHERE id = $1 AND clinic_id = $2 AND pin_failures < $3 RETURNING pin_failures",
            clinic,
            staff,
            Some(limit),
        )
        .await
    }

    async fn give_back_pin_try(&self, clinic: ClinicId, staff: StaffId) -> Result<(), StoreError> {
        let c = self.client().await?;
        directory::pin_tries(
            &c,
            "UPDATE staff SET pin_failures = pin_failures - 1
             WHERE id = $1 AND clinic_id = $2 AND pin_failures > 0",
            clinic,
            staff,
            None,
        )
        .await
        .map(drop)
    }

    async fn clear_pin_failures(&self, clinic: ClinicId, staff: StaffId) -> Result<(), StoreError> {
        let c = self.client().await?;
        directory::pin_tries(
            &c,
            "UPDATE staff SET pin_failures = 0
             WHERE id = $1 AND clinic_id = $2 AND pin_failures > 0",
            clinic,
            staff,
            None,
        )
        .await
        .map(drop)
    }

    async fn create_password_reset(
        &self,
        reset: PasswordReset,
        email: NewMessage,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        Ok(transaction!(self.inner, |tx| {
            sessions::create_password_reset(tx, &reset, &email, now).await?
        })?)
    }

    async fn password_reset(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<(ClinicId, StaffId)>, StoreError> {
        let c = self.client().await?;
        sessions::password_reset(&c, token_hash, now).await
    }

    async fn use_password_reset(
        &self,
        token_hash: &str,
        password_hash: String,
        now: Timestamp,
    ) -> Result<Option<(ClinicId, StaffId)>, StoreError> {
        Ok(transaction!(self.inner, |tx| {
            sessions::use_password_reset(tx, token_hash, &password_hash, now).await?
        })?)
    }

    async fn queue_message(
        &self,
        clinic: ClinicId,
        message: NewMessage,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let c = self.client().await?;
        Ok(messages::insert(&c, clinic, &message, now).await?)
    }

    async fn set_availability(
        &self,
        clinic: ClinicId,
        staff: StaffId,
        availability: Availability,
        at: Timestamp,
    ) -> Result<Option<(StaffInfo, u64)>, StoreError> {
        let done = transaction!(self.inner, |tx| {
            directory::set_availability(tx, clinic, staff, availability, at).await?
        });
        self.staff_published(clinic, done)
    }

    async fn alert_subscriptions(
        &self,
        clinic: ClinicId,
        staff: StaffId,
    ) -> Result<Vec<AlertSubscription>, StoreError> {
        let c = self.client().await?;
        directory::alert_subscriptions(&c, clinic, staff).await
    }

    async fn set_alert_subscriptions(
        &self,
        clinic: ClinicId,
        staff: StaffId,
        subscriptions: Vec<AlertSubscription>,
    ) -> Result<(), StoreError> {
        Ok(transaction!(self.inner, |tx| {
            directory::set_alert_subscriptions(tx, clinic, staff, &subscriptions).await?
        })?)
    }

    async fn create_session(&self, session: NewSession) -> Result<(), StoreError> {
        let c = self.client().await?;
        Ok(sessions::create_session(&c, &session).await?)
    }

    async fn sweep(&self, now: Timestamp) -> Result<usize, StoreError> {
        Ok(transaction!(self.inner, |tx| {
            sessions::sweep(tx, now).await?
        })?)
    }

    async fn session(&self, token_hash: &str, now: i64) -> Result<Option<Session>, StoreError> {
        let c = self.client().await?;
        sessions::session(&c, token_hash, now).await
    }

    async fn revoke_session(&self, token_hash: &str, now: i64) -> Result<(), StoreError> {
        let c = self.client().await?;
        Ok(sessions::revoke_session(&c, token_hash, now).await?)
    }

    async fn create_station(&self, station: Station, token_hash: String) -> Result<(), StoreError> {
        let c = self.client().await?;
        Ok(sessions::create_station(&c, &station, &token_hash).await?)
    }

    async fn station_by_token(&self, token_hash: &str) -> Result<Option<Station>, StoreError> {
        let c = self.client().await?;
        sessions::station_by_token(&c, token_hash).await
    }

    async fn stations(&self, clinic: ClinicId) -> Result<Vec<Station>, StoreError> {
        let c = self.client().await?;
        sessions::stations(&c, clinic).await
    }

    async fn revoke_station(
        &self,
        clinic: ClinicId,
        station: uuid::Uuid,
        now: i64,
    ) -> Result<bool, StoreError> {
        Ok(transaction!(self.inner, |tx| {
            sessions::revoke_station(tx, clinic, station, now).await?
        })?)
    }

    async fn write_visit(&self, mut write: VisitWrite) -> Result<Committed, WriteRefused> {
        let mut tries = 0;
        loop {
            let client = self.client().await?;
            match visits::write_in_one_statement(&client, &mut write).await {
                Ok(visits::OneStatement::Done(committed, seq)) => {
                    self.published(write.clinic, Some(seq));
                    return Ok(*committed);
                }
                Ok(visits::OneStatement::Transaction) => break,
                Err(Fail::Retry) if tries < super::MAX_TRIES => tries += 1,
                Err(e) => return Err(e.into()),
            }
        }
        let (committed, seq) = transaction!(self.inner, |tx| {
            visits::write_visit_in(tx, &mut write).await?
        })?;
        self.published(write.clinic, seq);
        Ok(committed)
    }

    async fn write_openings(
        &self,
        mut writes: Vec<VisitWrite>,
    ) -> Result<Vec<Committed>, WriteRefused> {
        if writes
            .iter()
            .any(|w| !matches!(w.action, WriteAction::Open { .. }))
        {
            return Err(StoreError::Corrupt("only openings are written together".into()).into());
        }
        let done = transaction!(self.inner, |tx| {
            let mut done = Vec::with_capacity(writes.len());
            for w in writes.iter_mut() {
                done.push(visits::write_visit_in(tx, w).await?);
            }
            done
        })?;
        Ok(writes
            .iter()
            .zip(done)
            .map(|(w, (committed, seq))| {
                self.published(w.clinic, seq);
                committed
            })
            .collect())
    }

    async fn visit(&self, clinic: ClinicId, id: VisitId) -> Result<Option<Visit>, StoreError> {
        let mut c = self.client().await?;
        // One snapshot: the state and its history agree.
        let tx = c
            .build_transaction()
            .read_only(true)
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .start()
            .await
            .map_err(Fail::from)?;
        visits::load_visit(&tx, clinic, id).await
    }

    async fn visit_history(
        &self,
        clinic: ClinicId,
        id: VisitId,
        after: u64,
        limit: u32,
    ) -> Result<Option<Vec<frontdesk_domain::HistoryEntry>>, StoreError> {
        let c = self.client().await?;
        if visits::load_visit_state(&c, clinic, id).await?.is_none() {
            return Ok(None);
        }
        visits::history_page(&c, clinic, id, after, limit)
            .await
            .map(Some)
    }

    async fn place_in_line(
        &self,
        clinic: ClinicId,
        room: RoomId,
        visit: VisitId,
    ) -> Result<Option<usize>, StoreError> {
        let c = self.client().await?;
        visits::place_in_line(&c, clinic, room, visit).await
    }

    async fn open_visits(&self, clinic: ClinicId) -> Result<Vec<Visit>, StoreError> {
        let mut c = self.client().await?;
        let tx = c
            .build_transaction()
            .read_only(true)
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .start()
            .await
            .map_err(Fail::from)?;
        visits::load_open_visits(&tx, clinic).await
    }

    async fn finished_visits(
        &self,
        clinic: ClinicId,
        from: Timestamp,
        to: Timestamp,
        after: Option<(Timestamp, VisitId)>,
        limit: u32,
    ) -> Result<Vec<Visit>, StoreError> {
        let c = self.client().await?;
        visits::load_finished_visits(&c, clinic, from, to, after, limit).await
    }

    async fn report_histories(
        &self,
        clinic: ClinicId,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<(VisitId, Vec<frontdesk_domain::HistoryEntry>)>, StoreError> {
        let c = self.client().await?;
        let rows = c
            .query(
                crate::store::rows::REPORT_HISTORY_SQL,
                &[&clinic.to_string(), &from.as_millis(), &to.as_millis()],
            )
            .await
            .map_err(Fail::from)?;
        crate::store::rows::histories_from_rows(
            rows.iter()
                .map(|r| (r.get::<_, &str>(0), r.get(1), r.get(2), r.get::<_, &str>(3))),
        )
    }

    async fn events_after(
        &self,
        clinic: ClinicId,
        after: u64,
        limit: u32,
    ) -> Result<Vec<Event>, StoreError> {
        let c = self.client().await?;
        let rows = c
            .fetch(
                "SELECT payload FROM events WHERE clinic_id = $1 AND seq > $2
                 ORDER BY seq LIMIT $3",
                &[&clinic.to_string(), &super::big(after), &i64::from(limit)],
            )
            .await
            .map_err(Fail::from)?;
        rows.iter()
            .map(|r| from_json(r.get::<_, &str>(0)))
            .collect()
    }

    async fn snapshot(&self, clinic: ClinicId) -> Result<Option<SnapshotData>, StoreError> {
        let mut c = self.client().await?;
        // Everything as of one seq: one repeatable-read snapshot.
        let tx = c
            .build_transaction()
            .read_only(true)
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .start()
            .await
            .map_err(Fail::from)?;
        let Some((info, seq)) = directory::load_clinic(&tx, "id", &clinic.to_string()).await?
        else {
            return Ok(None);
        };
        Ok(Some(SnapshotData {
            seq,
            clinic: info,
            rooms: directory::load_rooms(&tx, clinic).await?,
            staff: directory::load_staff(&tx, clinic).await?,
            open_visits: visits::load_open_visits(&tx, clinic).await?,
        }))
    }

    fn subscribe(&self, clinic: ClinicId) -> Subscription {
        self.inner.bus.feed(clinic).subscribe()
    }

    async fn flush(&self) {
        self.inner.bus.flush().await;
    }

    fn shared(&self) -> bool {
        true
    }

    async fn lead(&self) -> bool {
        self.inner.leader.lead().await
    }

    async fn take_departure(&self, visit: VisitId, now: Timestamp) -> Result<bool, StoreError> {
        let c = self.client().await?;
        Ok(messages::take_departure(&c, visit, now).await?)
    }

    fn attempt_budgets(&self) -> Option<std::sync::Arc<dyn crate::limits::AttemptBudgets>> {
        Some(std::sync::Arc::new(super::budgets::PgBudgets {
            pool: self.inner.pool.clone(),
        }))
    }

    async fn announce_session_end(
        &self,
        ended: &crate::auth::SessionEnded,
    ) -> Result<(), StoreError> {
        let c = self.client().await?;
        super::bus::announce_session_end(&**c, &self.inner.replica, ended).await
    }

    fn session_ends(&self) -> Option<tokio::sync::broadcast::Receiver<crate::auth::SessionEnded>> {
        Some(self.inner.bus.session_ends())
    }

    fn secret(&self) -> [u8; 32] {
        self.inner.secret
    }

    async fn visit_for_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<(Visit, Option<usize>)>, StoreError> {
        let c = self.client().await?;
        messages::visit_for_token(&c, token_hash).await
    }

    async fn clinic_subscriptions(
        &self,
        clinic: ClinicId,
    ) -> Result<Vec<(StaffId, AlertSubscription)>, StoreError> {
        let c = self.client().await?;
        directory::clinic_subscriptions(&c, clinic).await
    }

    async fn unnotified(&self) -> Result<Vec<(ClinicId, u64)>, StoreError> {
        let c = self.client().await?;
        messages::unnotified(&c).await
    }

    async fn queue_messages(
        &self,
        clinic: ClinicId,
        through: u64,
        queued: Vec<NewMessage>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        Ok(transaction!(self.inner, |tx| {
            messages::queue(tx, clinic, through, &queued, now).await?
        })?)
    }

    async fn due_messages(&self, now: Timestamp, limit: u32) -> Result<Vec<Delivery>, StoreError> {
        // Claims only while this process holds its own lock: others would free them at once.
        if !self.inner.leader.alive().await {
            return Ok(Vec::new());
        }
        let c = self.client().await?;
        messages::claim_due(&c, &self.inner.replica, now, limit).await
    }

    async fn requeue_interrupted(&self) -> Result<usize, StoreError> {
        let c = self.client().await?;
        Ok(messages::requeue_interrupted(&c).await?)
    }

    async fn record_attempt(
        &self,
        id: i64,
        attempt: Attempt,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let c = self.client().await?;
        Ok(messages::record_attempt(&c, id, &attempt, now).await?)
    }

    async fn deliveries(
        &self,
        clinic: ClinicId,
        state: Option<DeliveryState>,
        limit: u32,
    ) -> Result<Vec<Delivery>, StoreError> {
        let c = self.client().await?;
        messages::deliveries(&c, clinic, state, limit).await
    }

    async fn retry_delivery(
        &self,
        clinic: ClinicId,
        id: i64,
        now: Timestamp,
    ) -> Result<Option<(bool, Delivery)>, StoreError> {
        let c = self.client().await?;
        messages::retry_delivery(&c, clinic, id, now).await
    }

    async fn depart_at(
        &self,
        clinic: ClinicId,
        visit: VisitId,
        leave_at: Timestamp,
    ) -> Result<(), StoreError> {
        let c = self.client().await?;
        Ok(messages::depart_at(&c, clinic, visit, leave_at).await?)
    }

    async fn cancel_departure(&self, visit: VisitId) -> Result<(), StoreError> {
        let c = self.client().await?;
        Ok(messages::cancel_departure(&c, visit).await?)
    }

    async fn departures(&self) -> Result<Vec<(ClinicId, VisitId, Timestamp)>, StoreError> {
        let c = self.client().await?;
        messages::departures(&c).await
    }

    async fn scheduled_visits(&self) -> Result<Vec<Visit>, StoreError> {
        let c = self.client().await?;
        visits::scheduled_visits(&c).await
    }

    async fn update_clinic(&self, clinic: Clinic) -> Result<(), StoreError> {
        let c = self.client().await?;
        Ok(directory::update_clinic(&c, &clinic).await?)
    }

    async fn external_booking(
        &self,
        clinic: ClinicId,
        system: &str,
        value: &str,
    ) -> Result<Option<(VisitId, Option<u32>)>, StoreError> {
        let c = self.client().await?;
        super::fhir::external_booking(&**c, clinic, system, value).await
    }

    async fn link_external_booking(
        &self,
        clinic: ClinicId,
        booking: frontdesk_domain::fhir::export::ExternalBooking,
        visit: VisitId,
    ) -> Result<(), StoreError> {
        let c = self.client().await?;
        super::fhir::link_external_booking(&**c, clinic, &booking, visit).await
    }

    async fn external_bookings_of(
        &self,
        clinic: ClinicId,
        visits: Vec<VisitId>,
    ) -> Result<Vec<(VisitId, frontdesk_domain::fhir::export::ExternalBooking)>, StoreError> {
        let c = self.client().await?;
        super::fhir::external_bookings_of(&**c, clinic, &visits).await
    }

    // ---- Minimum necessary and the audit trail ----

    async fn events_with_audience(
        &self,
        clinic: ClinicId,
        after: u64,
        limit: u32,
    ) -> Result<Vec<(Event, Option<Audience>)>, StoreError> {
        let c = self.client().await?;
        audit::events_with_audience(&c, clinic, after, limit).await
    }

    async fn append_audit(&self, records: Vec<AuditRecord>) -> Result<(), StoreError> {
        Ok(transaction!(self.inner, |tx| {
            audit::append(tx, &records).await?
        })?)
    }

    async fn audit_marks(
        &self,
        clinic: ClinicId,
    ) -> Result<(Option<ChainMark>, Option<ChainMark>), StoreError> {
        let c = self.client().await?;
        audit::marks(&c, clinic).await
    }

    async fn audit_chain(
        &self,
        clinic: ClinicId,
        after: u64,
        limit: u32,
    ) -> Result<Vec<ChainedRecord>, StoreError> {
        let c = self.client().await?;
        audit::chain(&c, clinic, after, limit).await
    }

    async fn audit_range(
        &self,
        clinic: ClinicId,
        span: (Timestamp, Timestamp),
        after: u64,
        limit: u32,
    ) -> Result<Vec<ChainedRecord>, StoreError> {
        let c = self.client().await?;
        audit::range(&c, clinic, span, after, limit).await
    }

    async fn audit_for_visit(
        &self,
        clinic: ClinicId,
        visit: VisitId,
    ) -> Result<Vec<ChainedRecord>, StoreError> {
        let c = self.client().await?;
        audit::for_visit(&c, clinic, visit).await
    }

    async fn audit_clinics(&self) -> Result<Vec<ClinicId>, StoreError> {
        let c = self.client().await?;
        audit::clinics(&c).await
    }

    async fn prune_audit(&self, before: Timestamp) -> Result<usize, StoreError> {
        Ok(transaction!(self.inner, |tx| {
            audit::prune(tx, before).await?
        })?)
    }
}
