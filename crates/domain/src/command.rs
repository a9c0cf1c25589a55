//! What people ask of a visit and who may ask it: the actor, the commands and their kinds, how
//! a visit opens, why a command is refused, and the limits a visit keeps to. The decisions
//! themselves are in [`crate::decide`] ([`apply`] takes a visit, who is acting, when, the
//! version they saw and a command, and returns the new visit with the history entries it
//! caused, or a [`DomainError`] that says why not).

pub use crate::decide::{allowed, apply, open, permits, sees_request};
use crate::ids::{RoomId, StaffId};
use crate::input::{InputError, IntakeAnswer, Label, MessageText, Note};
use crate::people::{Availability, Role, Roles};
use crate::time::Timestamp;
use crate::visit::{
    ActorRef, Booking, HistoryEntry, Patient, Priority, Status, TransferTarget, Visit,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Who is acting, with what they may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Actor {
    Staff {
        id: StaffId,
        roles: Roles,
    },
    /// The patient or guest, through their own visit's link.
    Patient,
    /// The clinic itself (timers, automatic rules).
    System,
}

impl Actor {
    pub fn staff(id: StaffId, roles: &[Role]) -> Self {
        Actor::Staff {
            id,
            roles: Roles::of(roles),
        }
    }

    pub fn as_ref(&self) -> ActorRef {
        match self {
            Actor::Staff { id, .. } => ActorRef::Staff { id: *id },
            Actor::Patient => ActorRef::Patient,
            Actor::System => ActorRef::System,
        }
    }

    pub(crate) fn staff_id(&self) -> Option<StaffId> {
        match self {
            Actor::Staff { id, .. } => Some(*id),
            _ => None,
        }
    }

    pub(crate) fn has_any(&self, roles: &[Role]) -> bool {
        match self {
            Actor::Staff { roles: mine, .. } => roles.iter().any(|r| mine.has(*r)),
            _ => false,
        }
    }
}

/// The circumstances of one command: who, when, and which version of the visit they acted on
/// (None for actions that do not depend on what the actor saw).
#[derive(Clone, Copy, Debug)]
pub struct Context {
    pub actor: Actor,
    pub at: Timestamp,
    pub expected_version: Option<u64>,
}

/// Everything that can be done to an existing visit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Command {
    // The patient's own.
    UpdateIntake {
        answers: BTreeMap<Label, IntakeAnswer>,
    },
    FinishIntake,
    Leave,
    /// A guest of a scheduled session confirms their name and joins.
    GuestArrive {
        guest: usize,
    },
    // Staff.
    Claim,
    /// Claims a patient assigned to another provider: recorded as taken over from them.
    TakeOver,
    Join,
    LeaveCall,
    EndCall,
    Transfer {
        to: TransferTarget,
        #[serde(default)]
        #[cfg_attr(feature = "typescript", ts(optional = nullable))]
        note: Option<Note>,
    },
    Assign {
        provider: StaffId,
        #[serde(default)]
        #[cfg_attr(feature = "typescript", ts(optional = nullable))]
        note: Option<Note>,
    },
    Decline {
        note: Note,
    },
    Message {
        text: MessageText,
    },
    SetPriority {
        priority: Priority,
        #[serde(default)]
        #[cfg_attr(feature = "typescript", ts(optional = nullable))]
        note: Option<Note>,
    },
    Accept,
    AcceptAndEnter,
    Cancel {
        #[serde(default)]
        #[cfg_attr(feature = "typescript", ts(optional = nullable))]
        note: Option<Note>,
    },
    MarkNoShow,
    /// Moves a booked session to another start (and length), before it begins.
    Reschedule {
        starts_at: Timestamp,
        duration_mins: u32,
    },
}

impl Command {
    /// A stable name, as in URLs and error bodies.
    pub fn name(&self) -> &'static str {
        self.kind().name()
    }

    /// Which action this is, without what it carries.
    pub fn kind(&self) -> CommandKind {
        match self {
            Command::UpdateIntake { .. } => CommandKind::UpdateIntake,
            Command::FinishIntake => CommandKind::FinishIntake,
            Command::Leave => CommandKind::Leave,
            Command::GuestArrive { .. } => CommandKind::GuestArrive,
            Command::Claim => CommandKind::Claim,
            Command::TakeOver => CommandKind::TakeOver,
            Command::Join => CommandKind::Join,
            Command::LeaveCall => CommandKind::LeaveCall,
            Command::EndCall => CommandKind::EndCall,
            Command::Transfer { .. } => CommandKind::Transfer,
            Command::Assign { .. } => CommandKind::Assign,
            Command::Decline { .. } => CommandKind::Decline,
            Command::Message { .. } => CommandKind::Message,
            Command::SetPriority { .. } => CommandKind::SetPriority,
            Command::Accept => CommandKind::Accept,
            Command::AcceptAndEnter => CommandKind::AcceptAndEnter,
            Command::Cancel { .. } => CommandKind::Cancel,
            Command::MarkNoShow => CommandKind::MarkNoShow,
            Command::Reschedule { .. } => CommandKind::Reschedule,
        }
    }

    /// Whether the command is decided on the version of the visit its sender saw. A message
    /// to the patient or a new priority means the same whatever others did meanwhile, and
    /// the patient's own actions carry no version: those apply to the visit as it is.
    pub fn needs_version(&self) -> bool {
        !matches!(
            self.kind(),
            CommandKind::Message
                | CommandKind::SetPriority
                | CommandKind::UpdateIntake
                | CommandKind::FinishIntake
                | CommandKind::Leave
                | CommandKind::GuestArrive
        )
    }
}

/// The kinds of [`Command`], without their payloads: what a console offers as buttons.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum CommandKind {
    Claim,
    TakeOver,
    Join,
    LeaveCall,
    Accept,
    AcceptAndEnter,
    Message,
    SetPriority,
    Transfer,
    Assign,
    Decline,
    EndCall,
    Cancel,
    MarkNoShow,
    Reschedule,
    UpdateIntake,
    FinishIntake,
    Leave,
    GuestArrive,
}

impl CommandKind {
    /// Every kind, in the order a console offers them.
    pub const ALL: [CommandKind; 19] = [
        CommandKind::Claim,
        CommandKind::TakeOver,
        CommandKind::Join,
        CommandKind::LeaveCall,
        CommandKind::Accept,
        CommandKind::AcceptAndEnter,
        CommandKind::Message,
        CommandKind::SetPriority,
        CommandKind::Transfer,
        CommandKind::Assign,
        CommandKind::Decline,
        CommandKind::EndCall,
        CommandKind::Cancel,
        CommandKind::MarkNoShow,
        CommandKind::Reschedule,
        CommandKind::UpdateIntake,
        CommandKind::FinishIntake,
        CommandKind::Leave,
        CommandKind::GuestArrive,
    ];

    /// A stable name, as in URLs and error bodies.
    pub fn name(self) -> &'static str {
        match self {
            CommandKind::UpdateIntake => "update_intake",
            CommandKind::FinishIntake => "finish_intake",
            CommandKind::Leave => "leave",
            CommandKind::GuestArrive => "guest_arrive",
            CommandKind::Claim => "claim",
            CommandKind::TakeOver => "take_over",
            CommandKind::Join => "join",
            CommandKind::LeaveCall => "leave_call",
            CommandKind::EndCall => "end_call",
            CommandKind::Transfer => "transfer",
            CommandKind::Assign => "assign",
            CommandKind::Decline => "decline",
            CommandKind::Message => "message",
            CommandKind::SetPriority => "set_priority",
            CommandKind::Accept => "accept",
            CommandKind::AcceptAndEnter => "accept_and_enter",
            CommandKind::Cancel => "cancel",
            CommandKind::MarkNoShow => "mark_no_show",
            CommandKind::Reschedule => "reschedule",
        }
    }
}

/// How a visit begins.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Opening {
    /// A patient comes through a room's front door (or staff add a walk-in). With intake
    /// questions to answer the visit starts in `intake`, else in `waiting`.
    Arrive {
        room: RoomId,
        patient: Patient,
        has_intake: bool,
        #[serde(default)]
        after_hours: bool,
    },
    /// A request for a session with a named provider. The caller says how available the
    /// provider is now: an unavailable provider's request is declined at once.
    Request {
        room: RoomId,
        patient: Patient,
        provider: StaffId,
        provider_availability: Availability,
    },
    /// A session booked ahead with guests; the first guest is the visit's patient.
    Schedule { room: RoomId, booking: Booking },
}

/// Why a command was refused. Nothing changes when one is returned.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("{role_hint} may not {command}")]
    Forbidden {
        command: &'static str,
        role_hint: &'static str,
    },
    #[error("cannot {command} a visit that is {status}")]
    InvalidTransition {
        command: &'static str,
        status: Status,
    },
    #[error("only the provider this request was made to, or an admin, may {command} it")]
    NotYourRequest { command: &'static str },
    #[error("already claimed by someone else")]
    AlreadyClaimed { by: Vec<StaffId> },
    #[error("this patient is assigned to another provider; take over to claim them")]
    AssignedElsewhere { provider: StaffId },
    #[error("you are already in this call")]
    AlreadyInCall,
    #[error("you are not in this call")]
    NotInCall,
    #[error("the visit changed (version {actual}, you saw {expected}); look again and retry")]
    VersionConflict { expected: u64, actual: u64 },
    #[error("{0}")]
    Invalid(#[from] InputError),
    /// The visit is not one the sender may read ([`crate::Reader`]): acting on it would read
    /// it, so it is not found for them.
    #[error("visit not found")]
    NotVisible,
}

impl DomainError {
    /// The stable code clients switch on.
    pub fn code(&self) -> &'static str {
        match self {
            DomainError::Forbidden { .. } | DomainError::NotYourRequest { .. } => "forbidden",
            DomainError::InvalidTransition { .. }
            | DomainError::AlreadyInCall
            | DomainError::NotInCall => "invalid_transition",
            DomainError::AlreadyClaimed { .. } => "already_claimed",
            DomainError::AssignedElsewhere { .. } => "assigned_elsewhere",
            DomainError::VersionConflict { .. } => "version_conflict",
            DomainError::Invalid(_) => "validation",
            DomainError::NotVisible => "not_found",
        }
    }
}

/// The result of an accepted command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub visit: Visit,
    /// The history entries this command added, in order (also the events to publish).
    pub entries: Vec<HistoryEntry>,
}

/// The role rules: who may issue which command, before looking at the visit's status.
pub fn may_issue(actor: &Actor, kind: CommandKind) -> bool {
    use CommandKind as K;
    use Role::*;
    const CARE: &[Role] = &[Admin, Receptionist, Provider];
    match kind {
        K::UpdateIntake | K::FinishIntake | K::GuestArrive => matches!(actor, Actor::Patient),
        K::Leave => matches!(actor, Actor::Patient | Actor::System),
        K::Claim
        | K::TakeOver
        | K::Join
        | K::LeaveCall
        | K::EndCall
        | K::Transfer
        | K::Decline
        | K::Message
        | K::SetPriority => actor.has_any(CARE),
        K::Assign => actor.has_any(&[Admin, Receptionist, Provider, Scheduler]),
        K::Accept | K::AcceptAndEnter => actor.has_any(&[Admin, Provider]),
        K::Cancel => actor.has_any(&[Admin, Receptionist, Scheduler]),
        // Moving a session is booking it again: for those who book.
        K::Reschedule => actor.has_any(&[Admin, Scheduler]),
        K::MarkNoShow => {
            matches!(actor, Actor::System)
                || actor.has_any(&[Admin, Receptionist, Scheduler, Provider])
        }
    }
}

/// Who may open a visit each way.
pub fn may_open(actor: &Actor, opening: &Opening) -> bool {
    use Role::*;
    match opening {
        Opening::Arrive { .. } | Opening::Request { .. } => {
            matches!(actor, Actor::Patient) || actor.has_any(&[Admin, Receptionist])
        }
        Opening::Schedule { .. } => crate::booking::may_book(actor),
    }
}

pub(crate) fn role_hint(actor: &Actor) -> &'static str {
    match actor {
        Actor::Staff { .. } => "your role",
        Actor::Patient => "a patient",
        Actor::System => "the clinic",
    }
}

/// Most intake answers one update may carry, and one visit may hold.
pub const MAX_INTAKE_ANSWERS: usize = 100;
/// Most characters all of a visit's intake answers may hold together: a long form, well
/// filled in, is a few thousand.
pub const MAX_INTAKE_CHARS: usize = 20_000;
/// Most intake updates one visit takes: a form saved as the patient goes, many times over.
pub const MAX_INTAKE_UPDATES: u32 = 200;
/// Most staff messages one visit takes: each stays on the patient's screen and in the visit.
pub const MAX_MESSAGES: usize = 100;
/// Most characters all of a visit's staff messages may hold together.
pub const MAX_MESSAGE_CHARS: usize = 20_000;

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
