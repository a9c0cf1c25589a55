//! Patients who closed their waiting screen, on their way out: the pages record a closed page,
//! its poll cancels the departure when the page comes back, and the background work marks
//! the patient `left` once the grace time runs out.
//!
//! On a store several processes share, the page may close on one process and come back on
//! another: there the store alone says what is pending. A poll cancels any stored departure
//! of its visit, and the timer (run by the leading process) reads the due ones from the store.

use crate::store::{Store, StoreError};
use frontdesk_domain::{ClinicId, Span, Timestamp, Visit, VisitId};
use std::collections::HashMap;

/// Patients whose waiting screen was closed: unless the page comes back (a reload, a phone
/// waking up) within the grace time, the visit is marked `left`. Each pending departure is
/// written to the store, so a restart inside the grace time still marks the patient, and
/// mirrored here, so the waiting screen's poll costs no write unless one is pending and the
/// timer reads no table. [`Departures::load`] fills the mirror at start-up. When the store is
/// shared, the mirror is not used: another process may have recorded or cancelled a departure.
#[derive(Debug, Default)]
pub struct Departures {
    closing: std::sync::Mutex<HashMap<VisitId, (ClinicId, Timestamp)>>,
    shared: bool,
}

impl Departures {
    /// How long a closed page may come back before the patient counts as gone.
    pub const GRACE: Span = Span::from_secs(45);

    /// Departures of a store that other processes share too: each question goes to the store.
    pub fn shared() -> Self {
        Self {
            shared: true,
            ..Self::default()
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<VisitId, (ClinicId, Timestamp)>> {
        self.closing
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Re-arms what a stopped server left pending. Returns how many.
    pub async fn load(&self, store: &dyn Store) -> Result<usize, StoreError> {
        if self.shared {
            return Ok(0);
        }
        let pending = store.departures().await?;
        let mut map = self.lock();
        for (clinic, visit, until) in pending {
            map.insert(visit, (clinic, until));
        }
        Ok(map.len())
    }

    /// The page closed at `at`.
    pub async fn closed(
        &self,
        store: &dyn Store,
        visit: &Visit,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let until = at + Self::GRACE;
        store.depart_at(visit.clinic_id, visit.id, until).await?;
        if !self.shared {
            self.lock().insert(visit.id, (visit.clinic_id, until));
        }
        Ok(())
    }

    /// The page is open again.
    pub async fn back(&self, store: &dyn Store, visit: VisitId) -> Result<(), StoreError> {
        if self.shared {
            // The page may have closed on another process.
            return store.cancel_departure(visit).await;
        }
        if self.lock().contains_key(&visit) {
            // The stored one first: should that fail, the next poll tries again.
            store.cancel_departure(visit).await?;
            self.lock().remove(&visit);
        }
        Ok(())
    }

    /// Those whose grace ran out by `now`: (clinic, visit). They stay pending until
    /// [`Departures::done`], so a crash before the visit is marked leaves them for the restart.
    pub async fn gone(
        &self,
        store: &dyn Store,
        now: Timestamp,
    ) -> Result<Vec<(ClinicId, VisitId)>, StoreError> {
        if self.shared {
            return Ok(store
                .departures()
                .await?
                .into_iter()
                .filter(|(_, _, until)| *until <= now)
                .map(|(clinic, visit, _)| (clinic, visit))
                .collect());
        }
        Ok(self
            .lock()
            .iter()
            .filter(|(_, (_, until))| *until <= now)
            .map(|(visit, (clinic, _))| (*clinic, *visit))
            .collect())
    }

    /// Whether the timer is to mark `visit` `left` now. On a shared store, the departure is
    /// taken from the store first, so a page that came back on another process meanwhile
    /// (and cancelled it) wins; should marking then fail, the patient stays in line.
    pub async fn take(
        &self,
        store: &dyn Store,
        visit: VisitId,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        if self.shared {
            return store.take_departure(visit, now).await;
        }
        Ok(true)
    }

    /// The visit was marked `left` (or had moved on).
    pub async fn done(&self, store: &dyn Store, visit: VisitId) -> Result<(), StoreError> {
        self.lock().remove(&visit);
        store.cancel_departure(visit).await
    }
}
