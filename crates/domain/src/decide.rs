//! The one place a visit's rules are decided: [`open`] and [`apply`], what a person may do to
//! a visit now ([`allowed`], [`permits`]) and who is shown a request. Pure: reads the visit,
//! returns what would change or why not.

use crate::command::{
    Actor, Command, CommandKind, Context, DomainError, MAX_INTAKE_ANSWERS, MAX_INTAKE_CHARS,
    MAX_INTAKE_UPDATES, MAX_MESSAGE_CHARS, MAX_MESSAGES, Opening, Outcome, may_issue, may_open,
    role_hint,
};
use crate::ids::{ClinicId, StaffId, VisitId};
use crate::input::{InputError, Note};
use crate::people::{Role, Roles};
use crate::visit::{
    ActorRef, Change, HistoryEntry, Opened, Patient, Priority, Status, TransferTarget, Visit,
};

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
            crate::booking::check_start(booking.starts_at, ctx.at)?;
            crate::booking::check_duration(booking.duration_mins)?;
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
    // A new start is checked against the time of asking, which only the context knows.
    if let (
        Command::Reschedule {
            starts_at,
            duration_mins,
        },
        Some(booking),
    ) = (command, visit.booking.as_ref())
    {
        crate::booking::check_reschedule(booking, *starts_at, *duration_mins, ctx.at)?;
    }
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
        K::Claim | K::TakeOver => {
            match status {
                Intake | Waiting | OnHold if me.is_some() => {}
                InCall => {
                    return Err(DomainError::AlreadyClaimed {
                        by: visit.in_call.clone(),
                    });
                }
                _ => return Err(invalid()),
            }
            // A patient assigned to another provider is theirs: another provider claiming them
            // takes them over, asked for and recorded as such. The front desk (and admins)
            // still take an assigned patient in for the provider (a pre-call check).
            let elsewhere = visit.assigned_provider.filter(|p| Some(*p) != me);
            let desk = matches!(actor, Actor::Staff { roles, .. }
                if roles.has(Role::Receptionist) || roles.has(Role::Admin));
            match (kind, elsewhere) {
                (K::Claim, Some(provider)) if !desk => {
                    Err(DomainError::AssignedElsewhere { provider })
                }
                (K::Claim, _) => Ok(()),
                (K::TakeOver, Some(_)) if !desk => Ok(()),
                // Nothing to take over, or the desk, who claims them plainly.
                _ => Err(invalid()),
            }
        }
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
        K::EndCall => {
            open_to(&[InCall, OnHold])?;
            // Ending is for someone in the call (on hold: who was, or the patient's provider),
            // or an admin.
            let admin = matches!(actor, Actor::Staff { roles, .. } if roles.has(Role::Admin));
            let part_of_it = me.is_some_and(|me| {
                visit.in_call.contains(&me)
                    || (status == OnHold
                        && (visit.assigned_provider == Some(me)
                            || crate::queue::seen_by(visit).contains(&me)))
            });
            if admin || part_of_it {
                Ok(())
            } else {
                Err(DomainError::Forbidden {
                    command: kind.name(),
                    role_hint: "only someone in the call, or an admin,",
                })
            }
        }
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
        K::Reschedule => {
            open_to(&[Scheduled])?;
            visit.booking.as_ref().map(|_| ()).ok_or_else(invalid)
        }
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
        Command::Claim | Command::TakeOver | Command::Join | Command::LeaveCall => {
            // The gate has checked that the actor is staff.
            let Some(me) = me else {
                return Err(DomainError::Forbidden {
                    command: command.name(),
                    role_hint: role_hint(actor),
                });
            };
            match command {
                Command::Claim => vec![Change::Claimed { staff: me }],
                Command::TakeOver => match visit.assigned_provider {
                    Some(from) => vec![Change::TakenOver { from }, Change::Claimed { staff: me }],
                    None => vec![Change::Claimed { staff: me }],
                },
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
        Command::Reschedule {
            starts_at,
            duration_mins,
        } => {
            let from = visit.booking.as_ref().map_or(*starts_at, |b| b.starts_at);
            vec![Change::Rescheduled {
                from,
                starts_at: *starts_at,
                duration_mins: *duration_mins,
            }]
        }
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
