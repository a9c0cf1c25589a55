//! Turning what changed into desktop alerts: decided by the domain's rules for this person,
//! raised once per key whatever replays and resyncs bring, coalesced per room.

use super::{Inner, lock, now};
use crate::error::ClientError;
use crate::state::Changed;
use crate::view;
use frontdesk_domain::alerts::{Recipient, alerts_for, coalesce};
use frontdesk_domain::{Role, RoomId};

impl Inner {
    /// Decides alerts for what changed and sends the ones never raised before.
    pub(super) fn raise_alerts(&self, changed: &Changed) -> Result<(), ClientError> {
        if changed.visit_changes.is_empty() {
            return Ok(());
        }
        let (first_only, alert_rooms) = {
            let c = lock(&self.config);
            (c.first_in_queue_only, c.alert_rooms.clone())
        };
        let pending = lock(&self.store).pending()?;
        let state = lock(&self.state);
        let Some(me) = state.me.as_ref() else {
            return Ok(());
        };
        let rooms = alert_rooms.unwrap_or_else(|| view::my_rooms(&state));
        let recipient = Recipient {
            me: me.id,
            is_provider: me.roles.has(Role::Provider),
            availability: view::effective_availability(&state, &pending).unwrap_or(me.availability),
            subscribed_rooms: &rooms,
            first_in_queue_only: first_only,
        };
        let mut alerts = Vec::new();
        for change in &changed.visit_changes {
            let Some(visit) = state.visits.get(&change.visit_id) else {
                continue;
            };
            let ahead = frontdesk_domain::waiting_ahead(visit, state.visits.values().map(|v| &**v));
            alerts.extend(alerts_for(&recipient, visit, &change.new_entries, ahead));
        }
        if alerts.is_empty() {
            return Ok(());
        }
        let keys: Vec<String> = alerts.iter().map(|a| a.key()).collect();
        let fresh = lock(&self.store).first_time(&keys, now())?;
        alerts.retain(|a| fresh.contains(&a.key()));
        let room_name = |id: RoomId| {
            state
                .rooms
                .get(&id)
                .map(|r| r.name.clone())
                .unwrap_or_else(|| "a room".into())
        };
        for notice in coalesce(alerts, room_name) {
            let _ = self.notices.send(notice);
        }
        Ok(())
    }
}
