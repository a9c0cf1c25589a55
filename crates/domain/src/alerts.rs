//! Who is told what, and when: the alert rules as a pure function of a visit's change, the
//! person, their subscriptions and their availability. The console turns the result into
//! desktop notifications; the server into email and SMS.
//!
//! Rules:
//! - a patient arrives (front door, guest joining, transfer in) in a room I am subscribed to;
//! - a session request is made to me;
//! - a patient is assigned or transferred to me;
//! - a patient is put on hold, ready for a provider, and I am their provider (assigned, or a
//!   provider subscribed to the room when none is assigned);
//! - nothing for what I did myself, nothing while I am unavailable;
//! - an alert is raised only if it is still true when it is decided: catching up after hours
//!   offline does not announce patients who have since been seen or have left;
//! - with `first_in_queue_only`, an arrival alerts only when nobody is waiting ahead of it
//!   in that room; later arrivals just show in the queue.
//!
//! Each alert has a key (visit, reason, version) so the caller can make sure one arrival gives
//! one alert, also when the same change is seen again after a replay or a resync.

use crate::ids::{RoomId, StaffId, VisitId};
use crate::people::Availability;
use crate::visit::{ActorRef, Change, HistoryEntry, Priority, Status, TransferTarget, Visit};
use serde::{Deserialize, Serialize};

/// What the rules need to know about the person being alerted.
#[derive(Clone, Debug)]
pub struct Recipient<'a> {
    pub me: StaffId,
    pub is_provider: bool,
    pub availability: Availability,
    /// Rooms I want arrival alerts for.
    pub subscribed_rooms: &'a [RoomId],
    pub first_in_queue_only: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    Arrived,
    RequestToMe,
    AssignedToMe,
    ReadyForProvider,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Arrived => "arrived",
            Reason::RequestToMe => "request_to_me",
            Reason::AssignedToMe => "assigned_to_me",
            Reason::ReadyForProvider => "ready_for_provider",
        }
    }
}

/// One thing worth interrupting someone for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    pub visit_id: VisitId,
    pub room_id: RoomId,
    pub reason: Reason,
    /// The visit version whose change raised it: with `visit_id` and `reason`, the dedup key.
    pub version: u64,
    pub patient_name: String,
    pub priority: Priority,
}

impl Alert {
    /// A stable key: the same change seen twice gives the same key.
    pub fn key(&self) -> String {
        format!(
            "{}:{}:{}",
            self.visit_id,
            self.reason.as_str(),
            self.version
        )
    }
}

/// The alerts `me` should get for the entries a visit gained (`new_entries`, oldest first),
/// given the visit as it now stands. `waiting_ahead` is how many patients wait ahead of this
/// one in its room's queue now (for the first-in-queue option).
pub fn alerts_for(
    recipient: &Recipient<'_>,
    visit: &Visit,
    new_entries: &[HistoryEntry],
    waiting_ahead: usize,
) -> Vec<Alert> {
    if !recipient.availability.receives_alerts() {
        return Vec::new();
    }
    let me = recipient.me;
    let mut out: Vec<Alert> = Vec::new();
    for entry in new_entries {
        if entry.actor == (ActorRef::Staff { id: me }) {
            continue;
        }
        let Some(reason) = reason_for(recipient, visit, entry) else {
            continue;
        };
        if !still_true(reason, recipient, visit) {
            continue;
        }
        if reason == Reason::Arrived && recipient.first_in_queue_only && waiting_ahead > 0 {
            continue;
        }
        // One command, one alert, even if several of its entries would alert.
        if out.iter().any(|a| a.version == entry.version) {
            continue;
        }
        out.push(Alert {
            visit_id: visit.id,
            room_id: visit.room_id,
            reason,
            version: entry.version,
            patient_name: visit.patient.name.to_string(),
            priority: visit.priority,
        });
    }
    out
}

fn reason_for(r: &Recipient<'_>, visit: &Visit, entry: &HistoryEntry) -> Option<Reason> {
    let subscribed = |room: RoomId| r.subscribed_rooms.contains(&room);
    match &entry.change {
        Change::Opened(o) => match o.status {
            Status::Intake | Status::Waiting if subscribed(o.room_id) => Some(Reason::Arrived),
            Status::Requested if o.requested_provider == Some(r.me) => Some(Reason::RequestToMe),
            _ => None,
        },
        Change::GuestArrived { .. } if entry.status == Status::Waiting => {
            if visit.assigned_provider == Some(r.me) {
                Some(Reason::AssignedToMe)
            } else {
                subscribed(visit.room_id).then_some(Reason::Arrived)
            }
        }
        Change::Transferred { to, .. } => match to {
            TransferTarget::Provider { provider, .. } if *provider == r.me => {
                Some(Reason::AssignedToMe)
            }
            to if subscribed(to.room()) => Some(Reason::Arrived),
            _ => None,
        },
        Change::Assigned { provider, .. } if *provider == r.me => Some(Reason::AssignedToMe),
        Change::PutOnHold if r.is_provider => match visit.assigned_provider {
            Some(p) if p == r.me => Some(Reason::ReadyForProvider),
            None if subscribed(visit.room_id) => Some(Reason::ReadyForProvider),
            _ => None,
        },
        _ => None,
    }
}

/// Whether the alert still describes the visit as it now stands.
fn still_true(reason: Reason, r: &Recipient<'_>, visit: &Visit) -> bool {
    match reason {
        Reason::Arrived => visit.status.is_waiting() && r.subscribed_rooms.contains(&visit.room_id),
        Reason::RequestToMe => visit.status == Status::Requested,
        Reason::AssignedToMe => {
            visit.assigned_provider == Some(r.me)
                && (visit.status.is_waiting() || visit.status == Status::Scheduled)
        }
        Reason::ReadyForProvider => visit.status == Status::OnHold,
    }
}

/// A desktop notification: one alert, or several of a kind in one room folded together.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub summary: String,
    pub body: String,
    /// The same notice without any patient's name, for a screen others may see (a locked
    /// clinic station): "A patient is waiting", "3 patients arrived in Reception".
    pub private_summary: String,
    pub private_body: String,
    /// The visit to bring forward when the notice is clicked (the first one for a group).
    pub visit_id: VisitId,
    pub alerts: Vec<Alert>,
}

impl Notice {
    /// The notice as a screen others may see shows it: no patient's name.
    pub fn without_names(mut self) -> Notice {
        self.summary = std::mem::take(&mut self.private_summary);
        self.body = std::mem::take(&mut self.private_body);
        self.private_summary = self.summary.clone();
        self.private_body = self.body.clone();
        for alert in &mut self.alerts {
            alert.patient_name.clear();
        }
        self
    }
}

/// Folds a burst of alerts: arrivals in one room become one notice ("4 patients arrived in
/// Reception"); other reasons stay one notice each. `room_name` names rooms.
pub fn coalesce(alerts: Vec<Alert>, room_name: impl Fn(RoomId) -> String) -> Vec<Notice> {
    let mut notices: Vec<Notice> = Vec::new();
    let mut arrivals: Vec<(RoomId, Vec<Alert>)> = Vec::new();
    for alert in alerts {
        if alert.reason == Reason::Arrived {
            match arrivals.iter_mut().find(|(room, _)| *room == alert.room_id) {
                Some((_, group)) => group.push(alert),
                None => arrivals.push((alert.room_id, vec![alert])),
            }
        } else {
            notices.push(single(alert, &room_name));
        }
    }
    for (room, mut group) in arrivals {
        if group.len() == 1 {
            if let Some(alert) = group.pop() {
                notices.push(single(alert, &room_name));
            }
            continue;
        }
        // The most pressing first: it is the one a click opens.
        group.sort_by_key(|a| std::cmp::Reverse(a.priority));
        let names: Vec<&str> = group.iter().map(|a| a.patient_name.as_str()).collect();
        let summary = format!("{} patients arrived in {}", group.len(), room_name(room));
        notices.push(Notice {
            private_summary: summary.clone(),
            private_body: "Open Frontdesk to see them".to_string(),
            summary,
            body: names.join(", "),
            visit_id: group[0].visit_id,
            alerts: group,
        });
    }
    notices
}

fn single(alert: Alert, room_name: &impl Fn(RoomId) -> String) -> Notice {
    let room = room_name(alert.room_id);
    let flag = match alert.priority {
        Priority::Routine => "",
        Priority::Urgent => "Urgent: ",
        Priority::Emergency => "EMERGENCY: ",
    };
    let name = &alert.patient_name;
    let (summary, private_summary, body) = match alert.reason {
        Reason::Arrived => (
            format!("{flag}{name} is waiting"),
            format!("{flag}A patient is waiting"),
            format!("Arrived in {room}"),
        ),
        Reason::RequestToMe => (
            format!("{flag}Session request from {name}"),
            format!("{flag}A session request for you"),
            "Accept or decline in Frontdesk".to_string(),
        ),
        Reason::AssignedToMe => (
            format!("{flag}{name} was assigned to you"),
            format!("{flag}A patient was assigned to you"),
            format!("Waiting in {room}"),
        ),
        Reason::ReadyForProvider => (
            format!("{flag}{name} is ready for a provider"),
            format!("{flag}A patient is ready for a provider"),
            format!("On hold in {room}"),
        ),
    };
    Notice {
        summary,
        private_summary,
        private_body: body.clone(),
        body,
        visit_id: alert.visit_id,
        alerts: vec![alert],
    }
}
