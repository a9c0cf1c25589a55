//! What people ask of a visit, who may ask it, and the one function that decides: [`apply`]
//! takes a visit, who is acting, when, the version they saw and a command, and returns the new
//! visit with the history entries it caused, or a [`DomainError`] that says why not.

use crate::ids::{ClinicId, RoomId, StaffId, VisitId};
use crate::input::{InputError, IntakeAnswer, Label, MessageText, Note};
use crate::people::{Availability, Role, Roles};
use crate::time::Timestamp;
use crate::visit::{
    ActorRef, Booking, Change, HistoryEntry, Opened, Patient, Priority, Status, TransferTarget,
    Visit,
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

    fn staff_id(&self) -> Option<StaffId> {
        match self {
            Actor::Staff { id, .. } => Some(*id),
            _ => None,
        }
    }

    fn has_any(&self, roles: &[Role]) -> bool {
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
    UpdateIntake,
    FinishIntake,
    Leave,
    GuestArrive,
}

impl CommandKind {
    /// Every kind, in the order a console offers them.
    pub const ALL: [CommandKind; 17] = [
        CommandKind::Claim,
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
    #[error("you are already in this call")]
    AlreadyInCall,
    #[error("you are not in this call")]
    NotInCall,
    #[error("the visit changed (version {actual}, you saw {expected}); look again and retry")]
    VersionConflict { expected: u64, actual: u64 },
    #[error("{0}")]
    Invalid(#[from] InputError),
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
            DomainError::VersionConflict { .. } => "version_conflict",
            DomainError::Invalid(_) => "validation",
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
        Opening::Schedule { .. } => actor.has_any(&[Admin, Scheduler]),
    }
}

fn role_hint(actor: &Actor) -> &'static str {
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

/// Opens a new visit. `id` and `clinic` are minted and checked by the caller.
pub fn open(
    id: VisitId,
    clinic: ClinicId,
    ctx: &Context,
    opening: Opening,
) -> Result<Outcome, DomainError> {
    if !may_open(&ctx.actor, &opening) {
        return Err(DomainError::Forbidden {
            command: "open",
            role_hint: role_hint(&ctx.actor),
        });
    }
    let mut follow_up = None;
    let opened = match opening {
        Opening::Arrive {
            room,
            patient,
            has_intake,
            after_hours,
        } => Opened {
            clinic_id: clinic,
            room_id: room,
            patient,
            status: if has_intake {
                Status::Intake
            } else {
                Status::Waiting
            },
            priority: Priority::Routine,
            requested_provider: None,
            booking: None,
            after_hours,
        },
        Opening::Request {
            room,
            patient,
            provider,
            provider_availability,
        } => {
            if !provider_availability.takes_requests() {
                follow_up = Some(Change::Declined {
                    note: Note::parse(
                        "The provider is not available right now. Please try again later or choose another provider.",
                    )?,
                    automatic: true,
                });
            }
            Opened {
                clinic_id: clinic,
                room_id: room,
                patient,
                status: Status::Requested,
                priority: Priority::Routine,
                requested_provider: Some(provider),
                booking: None,
                after_hours: false,
            }
        }
        Opening::Schedule { room, mut booking } => {
            let first = booking.guests.first().ok_or_else(|| {
                InputError::new("guests", "a scheduled session needs at least one guest")
            })?;
            if booking.guests.len() > 20 {
                return Err(InputError::new("guests", "at most 20 guests").into());
            }
            if booking.starts_at < ctx.at {
                return Err(InputError::new("starts_at", "must be in the future").into());
            }
            let patient = Patient {
                name: first.name.clone(),
                contact: Some(first.contact.clone()),
            };
            for g in &mut booking.guests {
                g.arrived = false;
            }
            Opened {
                clinic_id: clinic,
                room_id: room,
                patient,
                status: Status::Scheduled,
                priority: Priority::Routine,
                requested_provider: None,
                booking: Some(booking),
                after_hours: false,
            }
        }
    };
    let first = HistoryEntry {
        version: 1,
        at: ctx.at,
        actor: ctx.actor.as_ref(),
        status: opened.status,
        change: Change::Opened(Box::new(opened)),
    };
    let mut visit = Visit::opened(id, &first).ok_or_else(|| {
        // Unreachable by construction: `first` is an opening.
        InputError::new("opening", "not an opening")
    })?;
    let mut entries = vec![first];
    if let Some(change) = follow_up {
        entries.push(visit.commit(1, ctx.at, ActorRef::System, change));
    }
    Ok(Outcome { visit, entries })
}

/// Applies one command to a visit. On success the visit's version has grown by one and
/// `entries` holds what happened; on error nothing changed.
pub fn apply(visit: &Visit, ctx: &Context, command: &Command) -> Result<Outcome, DomainError> {
    let changes = decide(visit, ctx, command)?;
    let version = visit.version + 1;
    let mut next = visit.clone();
    let entries = changes
        .into_iter()
        .map(|change| next.commit(version, ctx.at, ctx.actor.as_ref(), change))
        .collect();
    Ok(Outcome {
        visit: next,
        entries,
    })
}

/// Decides what a command changes, or why it may not. Pure: reads the visit, writes nothing.
fn decide(visit: &Visit, ctx: &Context, command: &Command) -> Result<Vec<Change>, DomainError> {
    let changes = permitted_changes(visit, &ctx.actor, command)?;
    if let Some(expected) = ctx.expected_version
        && expected != visit.version
    {
        return Err(DomainError::VersionConflict {
            expected,
            actual: visit.version,
        });
    }
    Ok(changes)
}

/// Whether `actor` may issue `command` on `visit` as it is now, payload included, leaving out
/// only the version check. The console asks this before offering a choice that depends on
/// what is in the command (taking a booked session for oneself, say).
pub fn permits(visit: &Visit, actor: &Actor, command: &Command) -> Result<(), DomainError> {
    permitted_changes(visit, actor, command).map(|_| ())
}

/// The actions `actor` may take on `visit` now, in the order a console offers them. Each one
/// given a valid payload (a different room, a note, another provider) is accepted by [`apply`];
/// every other action is refused with a stable code. The one answer to "which buttons".
pub fn allowed(visit: &Visit, actor: &Actor) -> Vec<CommandKind> {
    CommandKind::ALL
        .into_iter()
        .filter(|kind| gate(visit, actor, *kind).is_ok())
        .collect()
}

fn permitted_changes(
    visit: &Visit,
    actor: &Actor,
    command: &Command,
) -> Result<Vec<Change>, DomainError> {
    gate(visit, actor, command.kind())?;
    changes(visit, actor, command)
}

/// The part of the rules that does not look inside the command: the actor's role, the visit's
/// status, and the actor's place in it (in the call or not, the provider asked or not).
fn gate(visit: &Visit, actor: &Actor, kind: CommandKind) -> Result<(), DomainError> {
    use CommandKind as K;
    use Status::*;
    if !may_issue(actor, kind) {
        return Err(DomainError::Forbidden {
            command: kind.name(),
            role_hint: role_hint(actor),
        });
    }
    let status = visit.status;
    let invalid = || DomainError::InvalidTransition {
        command: kind.name(),
        status,
    };
    let open_to = |statuses: &[Status]| {
        if statuses.contains(&status) {
            Ok(())
        } else {
            Err(invalid())
        }
    };
    if status.is_terminal() {
        return Err(invalid());
    }
    let me = actor.staff_id();
    match kind {
        K::UpdateIntake | K::FinishIntake => {
            if visit.intake_finished {
                return Err(invalid());
            }
            open_to(&[Intake, InCall, OnHold])?;
            if kind == K::UpdateIntake && visit.intake_updates >= MAX_INTAKE_UPDATES {
                return Err(InputError::new(
                    "answers",
                    format!(
                        "the form has been saved {MAX_INTAKE_UPDATES} times; \
                         please tell the clinic the rest when you are seen"
                    ),
                )
                .into());
            }
            Ok(())
        }
        K::Leave => open_to(&[Requested, Intake, Waiting, InCall, OnHold]),
        K::GuestArrive => {
            let booking = visit.booking.as_ref().ok_or_else(invalid)?;
            open_to(&[Scheduled, Waiting, InCall, OnHold])?;
            if booking.guests.iter().all(|g| g.arrived) {
                return Err(InputError::new("guest", "every guest has already joined").into());
            }
            Ok(())
        }
        K::Claim => match status {
            Intake | Waiting | OnHold if me.is_some() => Ok(()),
            InCall => Err(DomainError::AlreadyClaimed {
                by: visit.in_call.clone(),
            }),
            _ => Err(invalid()),
        },
        K::Join => {
            let me = me.ok_or_else(invalid)?;
            open_to(&[InCall])?;
            if visit.in_call.contains(&me) {
                return Err(DomainError::AlreadyInCall);
            }
            Ok(())
        }
        K::LeaveCall => {
            let me = me.ok_or_else(invalid)?;
            open_to(&[InCall])?;
            if !visit.in_call.contains(&me) {
                return Err(DomainError::NotInCall);
            }
            Ok(())
        }
        K::EndCall => open_to(&[InCall, OnHold]),
        K::Transfer => open_to(&[Intake, Waiting, InCall, OnHold]),
        K::Assign => {
            let only_schedules = matches!(
                actor,
                Actor::Staff { roles, .. } if roles == &Roles::of(&[Role::Scheduler])
            );
            match status {
                Scheduled => Ok(()),
                Intake | Waiting | OnHold | InCall if !only_schedules => Ok(()),
                _ => Err(invalid()),
            }
        }
        K::Decline => match status {
            Requested => answering_own_request(visit, actor, kind).map(|_| ()),
            Intake | Waiting | OnHold => Ok(()),
            _ => Err(invalid()),
        },
        K::Message | K::SetPriority => {
            open_to(&[Requested, Intake, Waiting, InCall, OnHold])?;
            if kind == K::Message && visit.messages.len() >= MAX_MESSAGES {
                return Err(InputError::new(
                    "text",
                    format!("a visit holds at most {MAX_MESSAGES} messages"),
                )
                .into());
            }
            Ok(())
        }
        K::Accept | K::AcceptAndEnter => {
            open_to(&[Requested])?;
            answering_own_request(visit, actor, kind).map(|_| ())
        }
        K::Cancel => open_to(&[Scheduled, Requested]),
        K::MarkNoShow => open_to(&[Scheduled]),
    }
}

/// What a command changes, once [`gate`] has let it through: the checks on what it carries.
fn changes(visit: &Visit, actor: &Actor, command: &Command) -> Result<Vec<Change>, DomainError> {
    let me = actor.staff_id();
    let changes = match command {
        Command::UpdateIntake { answers } => {
            if answers.is_empty() {
                return Err(InputError::new("answers", "give at least one answer").into());
            }
            let total = visit
                .intake
                .keys()
                .chain(answers.keys())
                .collect::<std::collections::BTreeSet<_>>()
                .len();
            if total > MAX_INTAKE_ANSWERS {
                return Err(InputError::new(
                    "answers",
                    format!("at most {MAX_INTAKE_ANSWERS} answers"),
                )
                .into());
            }
            let chars: usize = visit
                .intake
                .iter()
                .filter(|(label, _)| !answers.contains_key(*label))
                .chain(answers.iter())
                .map(|(label, answer)| {
                    label.as_str().chars().count() + answer.as_str().chars().count()
                })
                .sum();
            if chars > MAX_INTAKE_CHARS {
                return Err(InputError::new(
                    "answers",
                    format!("the answers may hold at most {MAX_INTAKE_CHARS} characters in all"),
                )
                .into());
            }
            vec![Change::IntakeUpdated {
                answers: answers.clone(),
            }]
        }
        Command::FinishIntake => vec![Change::IntakeFinished],
        Command::Leave => vec![Change::PatientLeft],
        Command::GuestArrive { guest } => {
            let g = visit
                .booking
                .as_ref()
                .and_then(|b| b.guests.get(*guest))
                .ok_or_else(|| InputError::new("guest", "no such guest in this session"))?;
            if g.arrived {
                return Err(InputError::new("guest", "this guest has already joined").into());
            }
            vec![Change::GuestArrived { guest: *guest }]
        }
        Command::Claim | Command::Join | Command::LeaveCall => {
            // The gate has checked that the actor is staff.
            let Some(me) = me else {
                return Err(DomainError::Forbidden {
                    command: command.name(),
                    role_hint: role_hint(actor),
                });
            };
            match command {
                Command::Claim => vec![Change::Claimed { staff: me }],
                Command::Join => vec![Change::Joined { staff: me }],
                _ => {
                    let mut changes = vec![Change::LeftCall { staff: me }];
                    if visit.in_call.len() == 1 {
                        changes.push(Change::PutOnHold);
                    }
                    changes
                }
            }
        }
        Command::EndCall => vec![Change::CallEnded],
        Command::Transfer { to, note } => {
            let same_place = to.room() == visit.room_id
                && match to {
                    TransferTarget::Room { .. } => true,
                    TransferTarget::Provider { provider, .. } => {
                        visit.assigned_provider == Some(*provider)
                    }
                };
            if same_place {
                return Err(InputError::new("to", "the patient is already there").into());
            }
            vec![Change::Transferred {
                from_room: visit.room_id,
                to: to.clone(),
                note: note.clone(),
            }]
        }
        Command::Assign { provider, note } => {
            if visit.assigned_provider == Some(*provider) {
                return Err(
                    InputError::new("provider", "already assigned to this provider").into(),
                );
            }
            vec![Change::Assigned {
                provider: *provider,
                note: note.clone(),
            }]
        }
        Command::Decline { note } => vec![Change::Declined {
            note: note.clone(),
            automatic: false,
        }],
        Command::Message { text } => {
            let held: usize = visit
                .messages
                .iter()
                .map(|m| m.text.as_str().chars().count())
                .sum();
            if held + text.as_str().chars().count() > MAX_MESSAGE_CHARS {
                return Err(InputError::new(
                    "text",
                    format!("a visit's messages may hold at most {MAX_MESSAGE_CHARS} characters"),
                )
                .into());
            }
            vec![Change::Messaged { text: text.clone() }]
        }
        Command::SetPriority { priority, note } => {
            if *priority == visit.priority && note.is_none() {
                return Err(InputError::new("priority", "the priority is already that").into());
            }
            vec![Change::PriorityChanged {
                priority: *priority,
                note: note.clone(),
            }]
        }
        Command::Accept | Command::AcceptAndEnter => {
            let provider = answering_own_request(visit, actor, command.kind())?;
            vec![Change::RequestAccepted {
                provider,
                enter: matches!(command, Command::AcceptAndEnter),
            }]
        }
        Command::Cancel { note } => vec![Change::Cancelled { note: note.clone() }],
        Command::MarkNoShow => vec![Change::MarkedNoShow],
    };
    Ok(changes)
}

/// Who is shown a session request: the provider it was made to, and the admins and reception
/// who watch over every request (to message, triage or cancel it).
pub fn sees_request(visit: &Visit, actor: &Actor) -> bool {
    match actor {
        Actor::Staff { id, roles } => {
            visit.requested_provider == Some(*id)
                || roles.has(Role::Admin)
                || roles.has(Role::Receptionist)
        }
        Actor::Patient | Actor::System => false,
    }
}

/// A request is answered by the provider it was made to (or an admin, on their behalf).
/// Returns the provider who takes the patient.
fn answering_own_request(
    visit: &Visit,
    actor: &Actor,
    kind: CommandKind,
) -> Result<StaffId, DomainError> {
    let requested = visit
        .requested_provider
        .ok_or(DomainError::InvalidTransition {
            command: kind.name(),
            status: visit.status,
        })?;
    match actor {
        Actor::Staff { id, .. } if *id == requested => Ok(requested),
        Actor::Staff { roles, .. } if roles.has(Role::Admin) => Ok(requested),
        _ => Err(DomainError::NotYourRequest {
            command: kind.name(),
        }),
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
