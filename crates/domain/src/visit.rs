//! The visit: one patient's pass through the clinic, and the history that is its audit trail.
//!
//! A visit changes only through [`crate::command`]; this module owns its shape and `evolve`,
//! the one function that lays a recorded change onto a visit. Replaying a visit's history with
//! `evolve` from nothing gives back the same visit, so the history is the whole truth.

use crate::ids::{ClinicId, RoomId, StaffId, VisitId};
use crate::input::{Contact, IntakeAnswer, Label, MessageText, Note, PersonName};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Where a visit stands. See the architecture doc's table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// A future session booked with guests who have no account.
    Scheduled,
    /// A request to a named provider, waiting for accept or decline.
    Requested,
    /// Came through the front door and is still on the intake form; already claimable.
    Intake,
    /// In the waiting area, not yet seen.
    Waiting,
    /// Being seen by one or more staff.
    InCall,
    /// Back in the waiting area after being seen; "ready for provider".
    OnHold,
    Completed,
    Declined,
    Left,
    NoShow,
    Cancelled,
}

impl Status {
    pub const ALL: [Status; 11] = [
        Status::Scheduled,
        Status::Requested,
        Status::Intake,
        Status::Waiting,
        Status::InCall,
        Status::OnHold,
        Status::Completed,
        Status::Declined,
        Status::Left,
        Status::NoShow,
        Status::Cancelled,
    ];

    /// Whether a patient who closes their waiting screen for good has left the clinic: yes
    /// while they wait (or fill in the form, or wait on hold, or for an answer to a request);
    /// not while they are in a call, which runs in a page of its own.
    pub fn left_by_closing_the_waiting_screen(self) -> bool {
        matches!(
            self,
            Status::Intake | Status::Waiting | Status::OnHold | Status::Requested
        )
    }

    /// Terminal statuses never change again.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Status::Completed
                | Status::Declined
                | Status::Left
                | Status::NoShow
                | Status::Cancelled
        )
    }

    /// The patient is in a waiting area, waiting on staff (the queue's "waiting" stretches).
    pub fn is_waiting(self) -> bool {
        matches!(self, Status::Intake | Status::Waiting | Status::OnHold)
    }

    /// Shown in a room's queue: arrived and not yet gone.
    pub fn is_in_queue(self) -> bool {
        self.is_waiting() || self == Status::InCall
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Scheduled => "scheduled",
            Status::Requested => "requested",
            Status::Intake => "intake",
            Status::Waiting => "waiting",
            Status::InCall => "in_call",
            Status::OnHold => "on_hold",
            Status::Completed => "completed",
            Status::Declined => "declined",
            Status::Left => "left",
            Status::NoShow => "no_show",
            Status::Cancelled => "cancelled",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Triage priority. Orders the queue before wait time does.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    #[default]
    Routine,
    Urgent,
    Emergency,
}

/// Who the visit is for: the patient, or for a scheduled session the first guest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct Patient {
    pub name: PersonName,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<Contact>,
}

/// A guest of a scheduled session: no account, reached by email or SMS.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct Guest {
    pub name: PersonName,
    pub contact: Contact,
    #[serde(default)]
    pub arrived: bool,
}

/// What was booked for a scheduled session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct Booking {
    pub provider: StaffId,
    pub starts_at: Timestamp,
    /// How long the session is booked for, in minutes (see [`crate::booking::check_duration`]).
    #[serde(default = "crate::booking::default_duration")]
    pub duration_mins: u32,
    pub guests: Vec<Guest>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_type: Option<Label>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Label>,
    /// Other staff taking part ("include me" adds the scheduler).
    #[serde(default)]
    pub staff: Vec<StaffId>,
}

/// A message from staff, shown on the patient's waiting screen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct StaffMessage {
    pub at: Timestamp,
    pub from: StaffId,
    pub text: MessageText,
}

/// Who did something, as the audit trail records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ActorRef {
    Staff {
        id: StaffId,
    },
    Patient,
    /// The clinic itself: automatic declines, no-shows, timers.
    System,
}

/// Where a transfer sends the patient.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TransferTarget {
    /// Another room's waiting area (for example from Reception to Nurse triage).
    Room { room: RoomId },
    /// A provider's queue: their own room, with the provider assigned.
    Provider { provider: StaffId, room: RoomId },
}

impl TransferTarget {
    pub fn room(&self) -> RoomId {
        match self {
            TransferTarget::Room { room } | TransferTarget::Provider { room, .. } => *room,
        }
    }
}

/// How a visit came to be: the first entry of every history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct Opened {
    pub clinic_id: ClinicId,
    pub room_id: RoomId,
    pub patient: Patient,
    pub status: Status,
    #[serde(default)]
    pub priority: Priority,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_provider: Option<StaffId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booking: Option<Booking>,
    /// Came in outside the room's office hours (the room accepts after-hours patients).
    #[serde(default)]
    pub after_hours: bool,
}

/// One recorded change to a visit. Together with who and when, this is a history entry and an
/// event on the clinic's stream.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Change {
    Opened(Box<Opened>),
    IntakeUpdated {
        answers: BTreeMap<Label, IntakeAnswer>,
    },
    IntakeFinished,
    GuestArrived {
        guest: usize,
    },
    PatientLeft,
    Claimed {
        staff: StaffId,
    },
    /// The actor took over a patient assigned to another provider (a claim follows).
    TakenOver {
        from: StaffId,
    },
    Joined {
        staff: StaffId,
    },
    LeftCall {
        staff: StaffId,
    },
    /// The last staff member left the call: back in the waiting area, ready for a provider.
    PutOnHold,
    CallEnded,
    Transferred {
        from_room: RoomId,
        to: TransferTarget,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<Note>,
    },
    Assigned {
        provider: StaffId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<Note>,
    },
    Declined {
        note: Note,
        /// Declined by the clinic at once because the provider was unavailable.
        #[serde(default)]
        automatic: bool,
    },
    Messaged {
        text: MessageText,
    },
    PriorityChanged {
        priority: Priority,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<Note>,
    },
    RequestAccepted {
        provider: StaffId,
        /// Accepted and went straight into the call.
        enter: bool,
    },
    Cancelled {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<Note>,
    },
    MarkedNoShow,
    /// A booked session moved to another time (or length); `from` is when it was to start.
    Rescheduled {
        from: Timestamp,
        starts_at: Timestamp,
        duration_mins: u32,
    },
}

impl Change {
    /// A stable name for the kind of change, as used on the wire and in alert rules.
    pub fn kind(&self) -> &'static str {
        match self {
            Change::Opened(_) => "opened",
            Change::IntakeUpdated { .. } => "intake_updated",
            Change::IntakeFinished => "intake_finished",
            Change::GuestArrived { .. } => "guest_arrived",
            Change::PatientLeft => "patient_left",
            Change::Claimed { .. } => "claimed",
            Change::TakenOver { .. } => "taken_over",
            Change::Joined { .. } => "joined",
            Change::LeftCall { .. } => "left_call",
            Change::PutOnHold => "put_on_hold",
            Change::CallEnded => "call_ended",
            Change::Transferred { .. } => "transferred",
            Change::Assigned { .. } => "assigned",
            Change::Declined { .. } => "declined",
            Change::Messaged { .. } => "messaged",
            Change::PriorityChanged { .. } => "priority_changed",
            Change::RequestAccepted { .. } => "request_accepted",
            Change::Cancelled { .. } => "cancelled",
            Change::MarkedNoShow => "marked_no_show",
            Change::Rescheduled { .. } => "rescheduled",
        }
    }
}

/// One line of a visit's audit trail: the version the visit reached, when, who, what, and the
/// status after it. One command may record several entries that share a version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct HistoryEntry {
    pub version: u64,
    pub at: Timestamp,
    pub actor: ActorRef,
    pub change: Change,
    pub status: Status,
}

/// One patient encounter. Built only by replaying its history (see [`Visit::replay`]) or by
/// the commands in [`crate::command`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct Visit {
    pub id: VisitId,
    pub clinic_id: ClinicId,
    pub room_id: RoomId,
    pub status: Status,
    pub priority: Priority,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub triage_note: Option<Note>,
    pub patient: Patient,
    /// Intake answers (case info), by question key.
    #[serde(default)]
    pub intake: BTreeMap<Label, IntakeAnswer>,
    #[serde(default)]
    pub intake_finished: bool,
    /// How many intake updates the patient has sent (each is capped, and so is their number).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub intake_updates: u32,
    pub created_at: Timestamp,
    /// When the patient first reached a waiting area (None until they arrive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrived_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_provider: Option<StaffId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigned_provider: Option<StaffId>,
    /// Staff in the call, in the order they joined. Non-empty exactly when `status` is `in_call`.
    #[serde(default)]
    pub in_call: Vec<StaffId>,
    /// Staff who took the patient into a call or joined one, first seen first, each once: who
    /// may end a call left on hold. Kept on the visit, so a command is decided without its
    /// history (visits stored before it was kept have it empty; see `queue::seen_by`).
    #[serde(default)]
    pub seen_by: Vec<StaffId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booking: Option<Booking>,
    #[serde(default)]
    pub messages: Vec<StaffMessage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decline_note: Option<Note>,
    #[serde(default)]
    pub after_hours: bool,
    /// Grows by one with every accepted command; used for optimistic concurrency.
    pub version: u64,
    /// When the last change was recorded (for a finished visit, when it ended).
    pub updated_at: Timestamp,
    /// The audit trail. Whole in a snapshot and a visit read on its own; a working copy that
    /// follows events (or a stored row) may hold only what it needs, since every figure the
    /// screens show is kept on the visit itself.
    #[serde(default)]
    pub history: Vec<HistoryEntry>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// Why a history could not be replayed into a visit.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReplayError {
    #[error("a history must start with an `opened` entry")]
    NotOpened,
    #[error("entry {0} opens a visit that is already open")]
    OpenedTwice(usize),
    #[error("the entries are for version {got}, but the visit is at version {held}")]
    NotNext { held: u64, got: u64 },
    #[error("entry {index} says status {recorded} but replaying gives {replayed}")]
    StatusMismatch {
        index: usize,
        recorded: Status,
        replayed: Status,
    },
}

impl Visit {
    /// Rebuilds a visit from its history alone.
    pub fn replay(id: VisitId, history: &[HistoryEntry]) -> Result<Visit, ReplayError> {
        let (first, rest) = history.split_first().ok_or(ReplayError::NotOpened)?;
        let mut visit = Visit::opened(id, first).ok_or(ReplayError::NotOpened)?;
        for (i, entry) in rest.iter().enumerate() {
            if matches!(entry.change, Change::Opened(_)) {
                return Err(ReplayError::OpenedTwice(i + 1));
            }
            visit.evolve(entry);
            if visit.status != entry.status {
                return Err(ReplayError::StatusMismatch {
                    index: i + 1,
                    recorded: entry.status,
                    replayed: visit.status,
                });
            }
        }
        Ok(visit)
    }

    /// Lays one command's entries (all of the next version) onto the visit: how a console
    /// keeps its copy in step with events that carry the change rather than the visit. On
    /// error the visit is unchanged, and the caller fetches the visit whole.
    pub fn continue_with(&mut self, entries: &[HistoryEntry]) -> Result<(), ReplayError> {
        let next = self.version + 1;
        if let Some(e) = entries.iter().find(|e| e.version != next) {
            return Err(ReplayError::NotNext {
                held: self.version,
                got: e.version,
            });
        }
        // Set the history aside so the copy kept for a refusal costs the same at any age.
        let history = std::mem::take(&mut self.history);
        let before = self.clone();
        let mut laid = Ok(());
        for (i, entry) in entries.iter().enumerate() {
            if matches!(entry.change, Change::Opened(_)) {
                laid = Err(ReplayError::OpenedTwice(i));
                break;
            }
            self.lay(entry.at, entry.actor, &entry.change);
            if self.status != entry.status {
                laid = Err(ReplayError::StatusMismatch {
                    index: i,
                    recorded: entry.status,
                    replayed: self.status,
                });
                break;
            }
            self.version = entry.version;
            self.updated_at = entry.at;
        }
        if laid.is_err() {
            *self = before;
        }
        self.history = history;
        if laid.is_ok() {
            self.history.extend_from_slice(entries);
        }
        laid
    }

    /// The visit as its opening entry makes it, or None if the entry is not an opening.
    pub(crate) fn opened(id: VisitId, entry: &HistoryEntry) -> Option<Visit> {
        let Change::Opened(o) = &entry.change else {
            return None;
        };
        let arrived = o.status.is_waiting() || o.status == Status::InCall;
        Some(Visit {
            id,
            clinic_id: o.clinic_id,
            room_id: o.room_id,
            status: o.status,
            priority: o.priority,
            triage_note: None,
            patient: o.patient.clone(),
            intake: BTreeMap::new(),
            intake_finished: o.status != Status::Intake,
            intake_updates: 0,
            created_at: entry.at,
            arrived_at: arrived.then_some(entry.at),
            requested_provider: o.requested_provider,
            assigned_provider: o.booking.as_ref().map(|b| b.provider),
            in_call: Vec::new(),
            seen_by: Vec::new(),
            booking: o.booking.clone(),
            messages: Vec::new(),
            decline_note: None,
            after_hours: o.after_hours,
            version: entry.version,
            updated_at: entry.at,
            history: vec![entry.clone()],
        })
    }

    /// Lays one recorded entry onto the visit (replay).
    pub(crate) fn evolve(&mut self, entry: &HistoryEntry) {
        self.lay(entry.at, entry.actor, &entry.change);
        self.version = entry.version;
        self.updated_at = entry.at;
        self.history.push(entry.clone());
    }

    /// Lays a newly decided change onto the visit and records it in the history, with the
    /// status it led to. Returns the new entry.
    pub(crate) fn commit(
        &mut self,
        version: u64,
        at: Timestamp,
        actor: ActorRef,
        change: Change,
    ) -> HistoryEntry {
        self.lay(at, actor, &change);
        let entry = HistoryEntry {
            version,
            at,
            actor,
            change,
            status: self.status,
        };
        self.version = version;
        self.updated_at = at;
        self.history.push(entry.clone());
        entry
    }

    /// What a change does to the visit's state. Never fails: whether a change may happen was
    /// decided before it was recorded.
    fn lay(&mut self, at: Timestamp, actor: ActorRef, change: &Change) {
        match change {
            Change::Opened(_) => {}
            Change::IntakeUpdated { answers } => {
                self.intake
                    .extend(answers.iter().map(|(k, v)| (k.clone(), v.clone())));
                self.intake_updates = self.intake_updates.saturating_add(1);
            }
            Change::IntakeFinished => {
                self.intake_finished = true;
                if self.status == Status::Intake {
                    self.status = Status::Waiting;
                }
            }
            Change::GuestArrived { guest } => {
                if let Some(g) = self.booking.as_mut().and_then(|b| b.guests.get_mut(*guest)) {
                    g.arrived = true;
                }
                if self.status == Status::Scheduled {
                    self.status = Status::Waiting;
                }
                self.arrived_at.get_or_insert(at);
            }
            Change::PatientLeft => self.finish(Status::Left),
            Change::Claimed { staff } => {
                self.status = Status::InCall;
                self.in_call = vec![*staff];
                self.saw(*staff);
                self.arrived_at.get_or_insert(at);
            }
            Change::TakenOver { .. } => {
                if let ActorRef::Staff { id } = actor {
                    self.assigned_provider = Some(id);
                }
            }
            Change::Joined { staff } => {
                if !self.in_call.contains(staff) {
                    self.in_call.push(*staff);
                }
                self.saw(*staff);
                self.status = Status::InCall;
            }
            Change::LeftCall { staff } => self.in_call.retain(|s| s != staff),
            Change::PutOnHold => {
                self.in_call.clear();
                self.status = Status::OnHold;
            }
            Change::CallEnded => self.finish(Status::Completed),
            Change::Transferred { to, .. } => {
                self.room_id = to.room();
                self.in_call.clear();
                if let TransferTarget::Provider { provider, .. } = to {
                    self.assigned_provider = Some(*provider);
                }
                if self.status != Status::Intake {
                    self.status = Status::Waiting;
                }
            }
            Change::Assigned { provider, .. } => {
                self.assigned_provider = Some(*provider);
                if let Some(b) = self.booking.as_mut() {
                    b.provider = *provider;
                }
            }
            Change::Declined { note, .. } => {
                self.decline_note = Some(note.clone());
                self.finish(Status::Declined);
            }
            Change::Messaged { text } => {
                if let ActorRef::Staff { id } = actor {
                    self.messages.push(StaffMessage {
                        at,
                        from: id,
                        text: text.clone(),
                    });
                }
            }
            Change::PriorityChanged { priority, note } => {
                self.priority = *priority;
                if note.is_some() {
                    self.triage_note = note.clone();
                }
            }
            Change::RequestAccepted { provider, enter } => {
                self.assigned_provider = Some(*provider);
                self.arrived_at.get_or_insert(at);
                if *enter {
                    self.status = Status::InCall;
                    self.in_call = vec![*provider];
                } else {
                    self.status = Status::Waiting;
                }
            }
            Change::Cancelled { .. } => self.finish(Status::Cancelled),
            Change::MarkedNoShow => self.finish(Status::NoShow),
            Change::Rescheduled {
                starts_at,
                duration_mins,
                ..
            } => {
                if let Some(b) = self.booking.as_mut() {
                    b.starts_at = *starts_at;
                    b.duration_mins = *duration_mins;
                }
            }
        }
    }

    /// `staff` has seen the patient (see [`Visit::seen_by`]).
    fn saw(&mut self, staff: StaffId) {
        if !self.seen_by.contains(&staff) {
            self.seen_by.push(staff);
        }
    }

    fn finish(&mut self, status: Status) {
        self.status = status;
        self.in_call.clear();
    }
}
