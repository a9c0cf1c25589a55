//! Property tests: whatever commands arrive, in whatever order, from whoever, a visit keeps its
//! promises.

mod common;
use common::*;
use frontdesk_domain::*;
use proptest::prelude::*;

fn actor() -> impl Strategy<Value = Actor> {
    prop_oneof![
        Just(Actor::Patient),
        Just(Actor::System),
        Just(admin()),
        Just(reception()),
        Just(dr_lee()),
        Just(dr_okafor()),
        Just(scheduler()),
    ]
}

fn command() -> impl Strategy<Value = Command> {
    let staff = prop_oneof![Just(DR_LEE), Just(DR_OKAFOR), Just(RECEPTIONIST)];
    let room = prop_oneof![Just(RECEPTION), Just(DR_LEE_ROOM), Just(DR_OKAFOR_ROOM)];
    let priority = prop_oneof![
        Just(Priority::Routine),
        Just(Priority::Urgent),
        Just(Priority::Emergency)
    ];
    prop_oneof![
        Just(Command::UpdateIntake {
            answers: answers(&[("reason", "cough")])
        }),
        Just(Command::FinishIntake),
        Just(Command::Leave),
        (0usize..3).prop_map(|guest| Command::GuestArrive { guest }),
        Just(Command::Claim),
        Just(Command::Claim),
        Just(Command::TakeOver),
        Just(Command::Join),
        Just(Command::LeaveCall),
        Just(Command::LeaveCall),
        Just(Command::EndCall),
        room.clone().prop_map(|room| Command::Transfer {
            to: TransferTarget::Room { room },
            note: None
        }),
        (staff.clone(), room).prop_map(|(provider, room)| Command::Transfer {
            to: TransferTarget::Provider { provider, room },
            note: Some(note("over to you")),
        }),
        staff.prop_map(|provider| Command::Assign {
            provider,
            note: None
        }),
        Just(Command::Decline {
            note: note("Please call us")
        }),
        Just(Command::Message {
            text: MessageText::parse("5 minutes").unwrap()
        }),
        priority.prop_map(|priority| Command::SetPriority {
            priority,
            note: None
        }),
        Just(Command::Accept),
        Just(Command::AcceptAndEnter),
        Just(Command::Cancel { note: None }),
        Just(Command::MarkNoShow),
        Just(Command::Reschedule {
            starts_at: at(3 * 24 * 60),
            duration_mins: 45,
        }),
    ]
}

fn start() -> impl Strategy<Value = Visit> {
    prop_oneof![
        Just(arrive(1, 0, true)),
        Just(arrive(1, 0, false)),
        Just(schedule(1)),
        Just(request(1, Availability::Available).visit),
        Just(request(1, Availability::Unavailable).visit),
    ]
}

/// A step: who, what, and whether they act on the current version, a stale one, or none.
fn step() -> impl Strategy<Value = (Actor, Command, u8)> {
    (actor(), command(), 0u8..4)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_command_sequences_keep_the_visits_promises(
        start in start(),
        steps in prop::collection::vec(step(), 1..60),
    ) {
        let mut visit = start;
        let mut minute = 1;
        for (actor, command, version_choice) in steps {
            minute += 1;
            let expected_version = match version_choice {
                0 => None,
                1 => visit.version.checked_sub(1),
                _ => Some(visit.version),
            };
            let ctx = Context { actor, at: at(minute), expected_version };
            let before = visit.clone();
            match apply(&visit, &ctx, &command) {
                Ok(outcome) => {
                    prop_assert!(!before.status.is_terminal(), "a terminal visit changed: {command}");
                    prop_assert_eq!(outcome.visit.version, before.version + 1, "version grows by one");
                    prop_assert!(expected_version.is_none_or(|v| v == before.version));
                    prop_assert!(outcome.entries.iter().all(|e| e.version == outcome.visit.version));
                    visit = outcome.visit;
                }
                Err(_) => {
                    // Refused: nothing changed (we still hold the old visit, and it is intact).
                    prop_assert_eq!(&visit, &before);
                }
            }
            prop_assert_eq!(
                visit.status == Status::InCall,
                !visit.in_call.is_empty(),
                "in_call has staff exactly when the status is in_call ({:?})", visit.status
            );
            let mut staff = visit.in_call.clone();
            staff.sort();
            staff.dedup();
            prop_assert_eq!(staff.len(), visit.in_call.len(), "no one is in the call twice");
            prop_assert_eq!(visit.history.last().map(|e| e.status), Some(visit.status));
            prop_assert!(visit.history.windows(2).all(|w| w[0].version <= w[1].version));
            let replayed = Visit::replay(visit.id, &visit.history).unwrap();
            prop_assert_eq!(&replayed, &visit, "the history replays to the same visit");
            if before.status.is_terminal() {
                prop_assert_eq!(visit.status, before.status, "terminal stays terminal");
            }
        }
    }
}

/// A command of `kind` that carries a valid payload for `visit`: another room, another provider,
/// a note with a new priority, a guest who has not joined yet.
fn with_valid_payload(kind: CommandKind, visit: &Visit) -> Command {
    let other_room = [RECEPTION, DR_LEE_ROOM, DR_OKAFOR_ROOM]
        .into_iter()
        .find(|r| *r != visit.room_id)
        .unwrap();
    let other_provider = [DR_LEE, DR_OKAFOR]
        .into_iter()
        .find(|p| visit.assigned_provider != Some(*p))
        .unwrap();
    match kind {
        CommandKind::UpdateIntake => Command::UpdateIntake {
            answers: answers(&[("reason", "cough")]),
        },
        CommandKind::FinishIntake => Command::FinishIntake,
        CommandKind::Leave => Command::Leave,
        CommandKind::GuestArrive => Command::GuestArrive {
            guest: visit
                .booking
                .as_ref()
                .and_then(|b| b.guests.iter().position(|g| !g.arrived))
                .unwrap_or(0),
        },
        CommandKind::Claim => Command::Claim,
        CommandKind::TakeOver => Command::TakeOver,
        CommandKind::Join => Command::Join,
        CommandKind::LeaveCall => Command::LeaveCall,
        CommandKind::EndCall => Command::EndCall,
        CommandKind::Transfer => Command::Transfer {
            to: TransferTarget::Room { room: other_room },
            note: Some(note("over to you")),
        },
        CommandKind::Assign => Command::Assign {
            provider: other_provider,
            note: None,
        },
        CommandKind::Decline => Command::Decline {
            note: note("Please call us"),
        },
        CommandKind::Message => Command::Message {
            text: MessageText::parse("5 minutes").unwrap(),
        },
        CommandKind::SetPriority => Command::SetPriority {
            priority: Priority::Urgent,
            note: Some(note("triaged")),
        },
        CommandKind::Accept => Command::Accept,
        CommandKind::AcceptAndEnter => Command::AcceptAndEnter,
        CommandKind::Cancel => Command::Cancel { note: None },
        CommandKind::MarkNoShow => Command::MarkNoShow,
        // A day after it is booked for now: never the same time again.
        CommandKind::Reschedule => Command::Reschedule {
            starts_at: visit
                .booking
                .as_ref()
                .map_or(at(3 * 24 * 60), |b| b.starts_at + Span::from_mins(24 * 60)),
            duration_mins: 45,
        },
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(384))]

    /// The domain's list of what someone may do is the truth about `apply`: each action on it,
    /// with a valid payload, goes through; each action off it is refused with a stable code.
    #[test]
    fn what_the_domain_allows_is_exactly_what_apply_accepts(
        start in start(),
        steps in prop::collection::vec(step(), 0..40),
        who in actor(),
    ) {
        let mut visit = start;
        let mut minute = 1;
        for (actor, command, _) in steps {
            minute += 1;
            let ctx = Context { actor, at: at(minute), expected_version: None };
            if let Ok(outcome) = apply(&visit, &ctx, &command) {
                visit = outcome.visit;
            }
        }
        let offered = allowed(&visit, &who);
        let ctx = Context { actor: who, at: at(minute + 1), expected_version: Some(visit.version) };
        for kind in CommandKind::ALL {
            let command = with_valid_payload(kind, &visit);
            let result = apply(&visit, &ctx, &command);
            if offered.contains(&kind) {
                prop_assert!(
                    result.is_ok(),
                    "{kind:?} is allowed for {who:?} on a {:?} visit but apply refused it: {:?}",
                    visit.status, result.err()
                );
            } else {
                let err = result.err().unwrap_or_else(|| {
                    panic!("{kind:?} is not allowed for {who:?} on a {:?} visit but apply accepted it", visit.status)
                });
                prop_assert!(
                    ["forbidden", "invalid_transition", "already_claimed", "assigned_elsewhere", "validation"].contains(&err.code()),
                    "{kind:?} refused with an unstable code {}", err.code()
                );
            }
        }
    }
}

#[test]
fn a_history_that_does_not_start_with_an_opening_does_not_replay() {
    let v = ok(&arrive(1, 0, false), reception(), 1, Command::Claim);
    assert!(Visit::replay(v.id, &v.history[1..]).is_err());
    assert!(Visit::replay(v.id, &[]).is_err());
    let mut forged = v.history.clone();
    forged[1].status = Status::Completed;
    assert!(matches!(
        Visit::replay(v.id, &forged),
        Err(visit::ReplayError::StatusMismatch { index: 1, .. })
    ));
}
