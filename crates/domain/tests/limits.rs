//! A visit stays a bounded thing whatever a patient or a busy morning sends it: intake and
//! messages are capped, and a refusal changes nothing. And a console can follow a visit by the
//! entries each command adds, instead of by whole copies.

mod common;
use common::*;
use frontdesk_domain::command::{MAX_INTAKE_CHARS, MAX_INTAKE_UPDATES, MAX_MESSAGES};
use frontdesk_domain::*;

fn message(n: usize) -> Command {
    Command::Message {
        text: MessageText::parse(&format!("Update {n}: running a little late")).unwrap(),
    }
}

#[test]
fn a_waiting_patient_gets_at_most_the_message_cap_and_the_next_is_refused_plainly() {
    let mut visit = arrive(1, 0, false);
    for n in 0..MAX_MESSAGES {
        visit = ok(&visit, reception(), 1, message(n));
    }
    assert!(!allowed(&visit, &reception()).contains(&CommandKind::Message));
    let err = apply(&visit, &ctx(reception(), 2), &message(MAX_MESSAGES)).unwrap_err();
    assert_eq!(err.code(), "validation");
    assert!(err.to_string().contains("at most"), "{err}");
    // Everything else still works: the patient can still be seen.
    let claimed = ok(&visit, reception(), 3, Command::Claim);
    assert_eq!(claimed.status, Status::InCall);
}

#[test]
fn a_patient_saving_the_intake_form_over_and_over_is_stopped_at_the_cap() {
    let mut visit = arrive(1, 0, true);
    for n in 0..MAX_INTAKE_UPDATES {
        let update = Command::UpdateIntake {
            answers: answers(&[("reason", &format!("cough, day {n}"))]),
        };
        visit = apply(&visit, &ctx(Actor::Patient, 1), &update)
            .unwrap()
            .visit;
    }
    assert_eq!(visit.intake_updates, MAX_INTAKE_UPDATES);
    let more = Command::UpdateIntake {
        answers: answers(&[("reason", "still coughing")]),
    };
    let err = apply(&visit, &ctx(Actor::Patient, 2), &more).unwrap_err();
    assert_eq!(err.code(), "validation");
    // Finishing the form is still possible.
    let done = apply(&visit, &ctx(Actor::Patient, 3), &Command::FinishIntake).unwrap();
    assert_eq!(done.visit.status, Status::Waiting);
}

#[test]
fn intake_answers_may_not_grow_past_the_character_cap() {
    let visit = arrive(1, 0, true);
    let long = "x".repeat(IntakeAnswer::MAX_CHARS);
    let labels: Vec<String> = (0..MAX_INTAKE_CHARS / IntakeAnswer::MAX_CHARS + 1)
        .map(|n| format!("q{n}"))
        .collect();
    let pairs: Vec<(&str, &str)> = labels.iter().map(|l| (l.as_str(), long.as_str())).collect();
    let err = apply(
        &visit,
        &ctx(Actor::Patient, 1),
        &Command::UpdateIntake {
            answers: answers(&pairs),
        },
    )
    .unwrap_err();
    assert_eq!(err.code(), "validation");
    // Replacing an answer counts the new text, not both.
    let mut v = visit;
    for _ in 0..3 {
        v = apply(
            &v,
            &ctx(Actor::Patient, 2),
            &Command::UpdateIntake {
                answers: answers(&pairs[..2]),
            },
        )
        .unwrap()
        .visit;
    }
    assert_eq!(v.intake.len(), 2);
}

#[test]
fn a_console_follows_a_visit_by_the_entries_each_command_adds() {
    let opened = arrive(1, 0, false);
    let mut copy = Visit::replay(opened.id, &opened.history).unwrap();
    let mut server = opened;
    for (minute, actor, command) in [
        (1, reception(), message(1)),
        (2, reception(), Command::Claim),
        (3, dr_lee(), Command::Join),
        (4, reception(), Command::LeaveCall),
        (5, dr_lee(), Command::LeaveCall),
    ] {
        let outcome = apply(&server, &ctx(actor, minute), &command).unwrap();
        copy.continue_with(&outcome.entries).unwrap();
        server = outcome.visit;
        assert_eq!(copy, server, "after {command}");
    }
    assert_eq!(copy.status, Status::OnHold);
}

#[test]
fn entries_that_do_not_follow_on_are_refused_and_change_nothing() {
    let visit = arrive(1, 0, false);
    let v2 = apply(&visit, &ctx(reception(), 1), &message(1)).unwrap();
    let v3 = apply(&v2.visit, &ctx(reception(), 2), &Command::Claim).unwrap();
    let mut copy = visit.clone();
    // Version 3's entries on a copy at version 1: a version was missed.
    let err = copy.continue_with(&v3.entries).unwrap_err();
    assert!(matches!(
        err,
        visit::ReplayError::NotNext { held: 1, got: 3 }
    ));
    assert_eq!(copy, visit);
    // A forged status is caught too.
    let mut forged = v2.entries.clone();
    forged[0].status = Status::Completed;
    assert!(copy.continue_with(&forged).is_err());
    assert_eq!(copy, visit);
}

#[test]
fn long_messages_stop_at_the_character_cap_before_the_count_cap() {
    let mut visit = arrive(1, 0, false);
    let long = MessageText::parse(&"a".repeat(MessageText::MAX_CHARS)).unwrap();
    let fits = frontdesk_domain::command::MAX_MESSAGE_CHARS / MessageText::MAX_CHARS;
    for _ in 0..fits {
        visit = ok(
            &visit,
            reception(),
            1,
            Command::Message { text: long.clone() },
        );
    }
    let err = apply(
        &visit,
        &ctx(reception(), 2),
        &Command::Message { text: long },
    )
    .unwrap_err();
    assert_eq!(err.code(), "validation");
    assert!(err.to_string().contains("characters"), "{err}");
    assert!(
        visit.messages.len() < MAX_MESSAGES,
        "the characters ran out first"
    );
}
