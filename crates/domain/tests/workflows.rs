//! The clinics' everyday workflows, told as tests.

mod common;
use common::*;
use frontdesk_domain::queue::{queue, wait_figures};
use frontdesk_domain::*;

#[test]
fn reception_sees_the_patient_puts_them_on_hold_and_the_provider_takes_over() {
    let v = arrive(1, 0, false);
    assert_eq!(v.status, Status::Waiting);

    let v = ok(&v, reception(), 3, Command::Claim);
    assert_eq!(
        (v.status, v.in_call.clone()),
        (Status::InCall, vec![RECEPTIONIST])
    );

    let left = apply(&v, &ctx(reception(), 8), &Command::LeaveCall).unwrap();
    assert_eq!(
        left.visit.status,
        Status::OnHold,
        "last one out puts the patient on hold"
    );
    assert!(left.visit.in_call.is_empty());
    let told: Vec<_> = left.entries.iter().map(|e| e.change.kind()).collect();
    assert_eq!(
        told,
        ["left_call", "put_on_hold"],
        "providers are told the patient is ready"
    );

    let v = ok(&left.visit, dr_lee(), 10, Command::Claim);
    assert_eq!(
        (v.status, v.in_call.clone()),
        (Status::InCall, vec![DR_LEE])
    );
    let v = ok(&v, dr_lee(), 25, Command::EndCall);
    assert_eq!(v.status, Status::Completed);
    assert_eq!(
        kinds(&v),
        [
            "opened",
            "claimed",
            "left_call",
            "put_on_hold",
            "claimed",
            "call_ended"
        ]
    );

    let f = wait_figures(&v, at(60));
    assert_eq!(f.time_to_first_seen, Some(Span::from_mins(3)));
    assert_eq!(f.total_waiting, Span::from_mins(3 + 2));
    assert_eq!(f.total_in_call, Span::from_mins(5 + 15));
    assert_eq!(f.waiting_now, None, "a finished visit is not waiting");
}

#[test]
fn a_second_member_of_staff_joins_and_the_call_goes_on_until_the_last_leaves() {
    let v = ok(&arrive(1, 0, false), reception(), 1, Command::Claim);
    let v = ok(&v, dr_lee(), 2, Command::Join);
    assert_eq!(v.in_call, vec![RECEPTIONIST, DR_LEE]);
    let v = ok(&v, reception(), 3, Command::LeaveCall);
    assert_eq!(
        (v.status, v.in_call.clone()),
        (Status::InCall, vec![DR_LEE])
    );
    assert_eq!(
        apply(&v, &ctx(reception(), 4), &Command::LeaveCall).unwrap_err(),
        DomainError::NotInCall
    );
    assert_eq!(
        apply(&v, &ctx(dr_lee(), 4), &Command::Join).unwrap_err(),
        DomainError::AlreadyInCall
    );
    let v = ok(&v, dr_lee(), 5, Command::LeaveCall);
    assert_eq!(v.status, Status::OnHold);
}

#[test]
fn ending_the_call_ends_it_for_everyone() {
    let v = ok(&arrive(1, 0, false), reception(), 1, Command::Claim);
    let v = ok(&v, dr_lee(), 2, Command::Join);
    let v = ok(&v, dr_lee(), 9, Command::EndCall);
    assert_eq!(v.status, Status::Completed);
    assert!(v.in_call.is_empty());
}

#[test]
fn receptionist_transfers_the_patient_to_a_providers_room() {
    let v = arrive(1, 0, false);
    let v = ok(&v, reception(), 2, Command::Claim);
    let out = apply(
        &v,
        &ctx(reception(), 4),
        &Command::Transfer {
            to: TransferTarget::Provider {
                provider: DR_LEE,
                room: DR_LEE_ROOM,
            },
            note: Some(note("Repeat prescription")),
        },
    )
    .unwrap();
    let v = out.visit;
    assert_eq!(v.room_id, DR_LEE_ROOM);
    assert_eq!(v.assigned_provider, Some(DR_LEE));
    assert_eq!(v.status, Status::Waiting, "waits in the provider's queue");
    assert!(v.in_call.is_empty(), "reception is out of the call");
    match &out.entries[0] {
        HistoryEntry {
            actor: ActorRef::Staff { id },
            change: Change::Transferred {
                from_room, note, ..
            },
            ..
        } => {
            assert_eq!(*id, RECEPTIONIST, "transferred by");
            assert_eq!(*from_room, RECEPTION);
            assert_eq!(note.as_ref().unwrap().as_str(), "Repeat prescription");
        }
        other => panic!("unexpected entry {other:?}"),
    }
    // Sending them where they already are is refused and changes nothing.
    let err = apply(
        &v,
        &ctx(reception(), 5),
        &Command::Transfer {
            to: TransferTarget::Provider {
                provider: DR_LEE,
                room: DR_LEE_ROOM,
            },
            note: None,
        },
    )
    .unwrap_err();
    assert_eq!(err.code(), "validation");
}

#[test]
fn a_request_to_an_unavailable_provider_is_declined_at_once() {
    let out = request(1, Availability::Unavailable);
    assert_eq!(out.visit.status, Status::Declined);
    assert_eq!(out.visit.version, 1, "one step, as the patient sees it");
    match &out.entries[..] {
        [opened, declined] => {
            assert_eq!(opened.change.kind(), "opened");
            assert_eq!(opened.status, Status::Requested);
            assert_eq!(declined.actor, ActorRef::System);
            assert!(matches!(
                declined.change,
                Change::Declined {
                    automatic: true,
                    ..
                }
            ));
        }
        other => panic!("expected opened + declined, got {other:?}"),
    }
    assert!(out.visit.decline_note.is_some(), "the patient is told why");
}

#[test]
fn the_provider_accepts_a_request_or_accepts_and_enters_or_declines_it() {
    let v = request(1, Availability::Busy).visit;
    assert_eq!(
        v.status,
        Status::Requested,
        "busy providers still get requests"
    );

    let accepted = ok(&v, dr_lee(), 1, Command::Accept);
    assert_eq!(accepted.status, Status::Waiting);
    assert_eq!(accepted.assigned_provider, Some(DR_LEE));

    let entered = ok(&v, dr_lee(), 1, Command::AcceptAndEnter);
    assert_eq!(
        (entered.status, entered.in_call.clone()),
        (Status::InCall, vec![DR_LEE])
    );

    let declined = ok(
        &v,
        dr_lee(),
        1,
        Command::Decline {
            note: note("Please book a longer appointment"),
        },
    );
    assert_eq!(declined.status, Status::Declined);
    assert_eq!(
        declined.decline_note.unwrap().as_str(),
        "Please book a longer appointment"
    );

    // Only the provider asked (or an admin) answers a request.
    for other in [dr_okafor(), reception()] {
        let err = apply(&v, &ctx(other, 1), &Command::Accept).unwrap_err();
        assert_eq!(err.code(), "forbidden", "{other:?}");
    }
    let err = apply(
        &v,
        &ctx(dr_okafor(), 1),
        &Command::Decline { note: note("no") },
    )
    .unwrap_err();
    assert_eq!(err.code(), "forbidden");
}

#[test]
fn a_patient_is_claimed_while_still_filling_in_the_intake_form() {
    let v = arrive(1, 0, true);
    assert_eq!(v.status, Status::Intake);
    let v = ok(
        &v,
        Actor::Patient,
        1,
        Command::UpdateIntake {
            answers: answers(&[("reason", "Rash on arm")]),
        },
    );
    let v = ok(&v, reception(), 2, Command::Claim);
    assert_eq!(v.status, Status::InCall);
    // Answers keep arriving during the call and staff see them.
    let v = ok(
        &v,
        Actor::Patient,
        3,
        Command::UpdateIntake {
            answers: answers(&[("allergies", "Penicillin")]),
        },
    );
    let v = ok(&v, Actor::Patient, 4, Command::FinishIntake);
    assert_eq!(
        v.status,
        Status::InCall,
        "finishing the form does not end the call"
    );
    assert!(v.intake_finished);
    let keys: Vec<_> = v.intake.keys().map(|k| k.as_str()).collect();
    assert_eq!(keys, ["allergies", "reason"]);
    // Assigned to a provider, then declined by reception with a note.
    let v = ok(&v, reception(), 5, Command::LeaveCall);
    let v = ok(
        &v,
        reception(),
        6,
        Command::Assign {
            provider: DR_OKAFOR,
            note: Some(note("Dermatology")),
        },
    );
    assert_eq!(v.assigned_provider, Some(DR_OKAFOR));
    let v = ok(
        &v,
        reception(),
        7,
        Command::Decline {
            note: note("Dr Okafor can see you tomorrow at 9"),
        },
    );
    assert_eq!(v.status, Status::Declined);
}

#[test]
fn two_staff_claim_the_same_patient_and_the_second_is_told_who_has_them() {
    let v = arrive(1, 0, false);
    let seen = v.version;
    let first = apply(
        &v,
        &Context {
            expected_version: Some(seen),
            ..ctx(reception(), 1)
        },
        &Command::Claim,
    )
    .unwrap()
    .visit;
    let err = apply(
        &first,
        &Context {
            expected_version: Some(seen),
            ..ctx(dr_lee(), 1)
        },
        &Command::Claim,
    )
    .unwrap_err();
    assert_eq!(
        err,
        DomainError::AlreadyClaimed {
            by: vec![RECEPTIONIST]
        }
    );
    assert_eq!(err.code(), "already_claimed");
}

#[test]
fn an_action_on_a_stale_version_is_refused() {
    let v = arrive(1, 0, false);
    let v2 = ok(
        &v,
        reception(),
        1,
        Command::Message {
            text: MessageText::parse("We are running 5 minutes late").unwrap(),
        },
    );
    let err = apply(
        &v2,
        &Context {
            expected_version: Some(v.version),
            ..ctx(dr_lee(), 2)
        },
        &Command::SetPriority {
            priority: Priority::Urgent,
            note: None,
        },
    )
    .unwrap_err();
    assert_eq!(
        err,
        DomainError::VersionConflict {
            expected: 1,
            actual: 2
        }
    );
}

#[test]
fn staff_messages_reach_the_patients_screen_in_order() {
    let v = arrive(1, 0, false);
    let v = ok(
        &v,
        reception(),
        1,
        Command::Message {
            text: MessageText::parse("Hello Ana").unwrap(),
        },
    );
    let v = ok(
        &v,
        dr_lee(),
        2,
        Command::Message {
            text: MessageText::parse("Running 5 minutes late").unwrap(),
        },
    );
    let texts: Vec<_> = v
        .messages
        .iter()
        .map(|m| (m.from, m.text.as_str()))
        .collect();
    assert_eq!(
        texts,
        [
            (RECEPTIONIST, "Hello Ana"),
            (DR_LEE, "Running 5 minutes late")
        ]
    );
}

#[test]
fn roles_decide_who_may_act() {
    let waiting = arrive(1, 0, false);
    let forbidden = |actor: Actor, command: Command| {
        let err = apply(&waiting, &ctx(actor, 1), &command).unwrap_err();
        assert_eq!(err.code(), "forbidden", "{actor:?} {command}");
    };
    forbidden(Actor::Patient, Command::Claim);
    forbidden(scheduler(), Command::Claim);
    forbidden(
        scheduler(),
        Command::Message {
            text: MessageText::parse("hi").unwrap(),
        },
    );
    forbidden(reception(), Command::Leave);
    forbidden(Actor::System, Command::Claim);
    forbidden(reception(), Command::FinishIntake);
    // A scheduler re-assigns booked sessions, not patients in the waiting area.
    let err = apply(
        &waiting,
        &ctx(scheduler(), 1),
        &Command::Assign {
            provider: DR_LEE,
            note: None,
        },
    )
    .unwrap_err();
    assert_eq!(err.code(), "invalid_transition");
    let booked = schedule(2);
    let v = ok(
        &booked,
        scheduler(),
        1,
        Command::Assign {
            provider: DR_OKAFOR,
            note: None,
        },
    );
    assert_eq!(v.booking.unwrap().provider, DR_OKAFOR);
    // Only schedulers and admins book sessions.
    let err = open(
        VisitId::from_u128(3),
        CLINIC,
        &ctx(reception(), 0),
        Opening::Schedule {
            room: DR_LEE_ROOM,
            booking: booked.booking.clone().unwrap(),
        },
    )
    .unwrap_err();
    assert_eq!(err.code(), "forbidden");
}

#[test]
fn guests_of_a_scheduled_session_arrive_or_do_not() {
    let v = schedule(1);
    assert_eq!(v.status, Status::Scheduled);
    assert_eq!(v.assigned_provider, Some(DR_LEE));
    assert_eq!(v.patient.name.as_str(), "Mia K.");
    let v = ok(
        &v,
        Actor::Patient,
        24 * 60 + 2,
        Command::GuestArrive { guest: 1 },
    );
    assert_eq!(v.status, Status::Waiting, "waits in the provider's queue");
    let v = ok(
        &v,
        Actor::Patient,
        24 * 60 + 3,
        Command::GuestArrive { guest: 0 },
    );
    assert!(v.booking.as_ref().unwrap().guests.iter().all(|g| g.arrived));
    let err = apply(
        &v,
        &ctx(Actor::Patient, 24 * 60 + 4),
        &Command::GuestArrive { guest: 0 },
    )
    .unwrap_err();
    assert_eq!(err.code(), "validation");
    let err = apply(
        &v,
        &ctx(Actor::Patient, 24 * 60 + 4),
        &Command::GuestArrive { guest: 7 },
    )
    .unwrap_err();
    assert_eq!(err.code(), "validation");

    let nobody = ok(
        &schedule(2),
        Actor::System,
        24 * 60 + 30,
        Command::MarkNoShow,
    );
    assert_eq!(nobody.status, Status::NoShow);
}

#[test]
fn a_session_cannot_be_booked_in_the_past_or_without_guests() {
    let mut booking = schedule(1).booking.unwrap();
    booking.starts_at = at(-5);
    let err = open(
        VisitId::from_u128(2),
        CLINIC,
        &ctx(scheduler(), 0),
        Opening::Schedule {
            room: DR_LEE_ROOM,
            booking: booking.clone(),
        },
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "starts_at: must be in the future");
    booking.starts_at = at(60);
    booking.guests.clear();
    let err = open(
        VisitId::from_u128(2),
        CLINIC,
        &ctx(scheduler(), 0),
        Opening::Schedule {
            room: DR_LEE_ROOM,
            booking,
        },
    )
    .unwrap_err();
    assert_eq!(err.code(), "validation");
}

#[test]
fn the_queue_puts_emergencies_first_then_the_longest_wait() {
    let early = arrive(1, 0, false);
    let later = arrive(2, 5, false);
    let latest = arrive(3, 9, true);
    let urgent = ok(
        &arrive(4, 12, false),
        reception(),
        13,
        Command::SetPriority {
            priority: Priority::Emergency,
            note: Some(note("Short of breath")),
        },
    );
    let gone = ok(&arrive(5, 1, false), Actor::Patient, 2, Command::Leave);
    let all = [
        later.clone(),
        latest.clone(),
        gone,
        urgent.clone(),
        early.clone(),
    ];
    let ids: Vec<_> = queue(all.iter()).iter().map(|v| v.id).collect();
    assert_eq!(
        ids,
        [urgent.id, early.id, later.id, latest.id],
        "left patients drop out"
    );
    assert_eq!(urgent.triage_note.unwrap().as_str(), "Short of breath");
}

#[test]
fn wait_figures_come_from_the_status_history() {
    let v = arrive(1, 0, true);
    let v = ok(&v, Actor::Patient, 4, Command::FinishIntake);
    // Intake then waiting is one stretch in the waiting area.
    assert_eq!(
        wait_figures(&v, at(10)).waiting_now,
        Some(Span::from_mins(10))
    );
    let v = ok(&v, reception(), 10, Command::Claim);
    let v = ok(&v, reception(), 16, Command::LeaveCall);
    let f = wait_figures(&v, at(20));
    assert_eq!(
        f.waiting_now,
        Some(Span::from_mins(4)),
        "on hold since minute 16"
    );
    assert_eq!(f.total_waiting, Span::from_mins(14));
    assert_eq!(f.total_in_call, Span::from_mins(6));
    assert_eq!(f.time_to_first_seen, Some(Span::from_mins(10)));
}

#[test]
fn a_provider_takes_over_a_patient_assigned_to_a_colleague_only_when_asking_to_and_it_is_recorded()
{
    let v = arrive(1, 0, false);
    let assign = Command::Assign {
        provider: DR_LEE,
        note: None,
    };
    let v = ok(&v, reception(), 1, assign);
    // Dr. Okafor may not just claim Dr. Lee's patient: the console offers a takeover instead.
    let err = apply(&v, &ctx(dr_okafor(), 2), &Command::Claim).unwrap_err();
    assert_eq!(err, DomainError::AssignedElsewhere { provider: DR_LEE });
    assert_eq!(err.code(), "assigned_elsewhere");
    let offered = allowed(&v, &dr_okafor());
    assert!(offered.contains(&CommandKind::TakeOver) && !offered.contains(&CommandKind::Claim));
    // Dr. Lee claims his own; the front desk may still take the patient in for him.
    assert!(allowed(&v, &dr_lee()).contains(&CommandKind::Claim));
    assert!(!allowed(&v, &dr_lee()).contains(&CommandKind::TakeOver));
    assert!(allowed(&v, &reception()).contains(&CommandKind::Claim));
    assert!(!allowed(&v, &reception()).contains(&CommandKind::TakeOver));

    let taken = apply(&v, &ctx(dr_okafor(), 3), &Command::TakeOver).unwrap();
    let told: Vec<_> = taken
        .entries
        .iter()
        .map(|e| (e.actor, e.change.clone()))
        .collect();
    let by = ActorRef::Staff { id: DR_OKAFOR };
    assert_eq!(
        told,
        [
            (by, Change::TakenOver { from: DR_LEE }),
            (by, Change::Claimed { staff: DR_OKAFOR }),
        ],
        "who took over from whom"
    );
    assert_eq!(taken.visit.assigned_provider, Some(DR_OKAFOR));
    assert_eq!(taken.visit.status, Status::InCall);
    // Nothing to take over on a patient nobody is assigned to.
    let err = apply(
        &arrive(2, 0, false),
        &ctx(dr_okafor(), 3),
        &Command::TakeOver,
    );
    assert_eq!(err.unwrap_err().code(), "invalid_transition");
}

#[test]
fn only_someone_in_the_call_or_an_admin_ends_it() {
    let v = ok(&arrive(1, 0, false), dr_lee(), 1, Command::Claim);
    for outsider in [reception(), dr_okafor()] {
        let err = apply(&v, &ctx(outsider, 2), &Command::EndCall).unwrap_err();
        assert_eq!(err.code(), "forbidden", "{outsider:?}");
        assert!(!allowed(&v, &outsider).contains(&CommandKind::EndCall));
    }
    assert_eq!(
        ok(&v, admin(), 2, Command::EndCall).status,
        Status::Completed
    );
    assert_eq!(
        ok(&v, dr_lee(), 2, Command::EndCall).status,
        Status::Completed
    );
    // On hold, no one is in the call: whoever saw the patient may end the visit.
    let held = ok(&v, dr_lee(), 3, Command::LeaveCall);
    assert_eq!(held.status, Status::OnHold);
    assert_eq!(
        ok(&held, dr_lee(), 4, Command::EndCall).status,
        Status::Completed
    );
    let err = apply(&held, &ctx(dr_okafor(), 4), &Command::EndCall).unwrap_err();
    assert_eq!(err.code(), "forbidden");
}
