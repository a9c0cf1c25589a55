//! Moving a booked session: who may, to when, and what the visit keeps of it.

mod common;
use common::*;
use frontdesk_domain::*;

fn reschedule(minutes: i64, duration_mins: u32) -> Command {
    Command::Reschedule {
        starts_at: at(minutes),
        duration_mins,
    }
}

#[test]
fn the_scheduler_moves_a_booked_session_and_its_history_says_from_when() {
    let booked = schedule(1);
    let outcome = apply(&booked, &ctx(scheduler(), 10), &reschedule(2 * 24 * 60, 45)).unwrap();
    let b = outcome.visit.booking.as_ref().unwrap();
    assert_eq!(b.starts_at, at(2 * 24 * 60));
    assert_eq!(b.duration_mins, 45);
    assert_eq!(outcome.visit.status, Status::Scheduled);
    assert_eq!(outcome.visit.version, booked.version + 1);
    assert_eq!(
        outcome.entries[0].change,
        Change::Rescheduled {
            from: at(24 * 60),
            starts_at: at(2 * 24 * 60),
            duration_mins: 45,
        }
    );
    // The guests and the provider stay as booked.
    assert_eq!(b.guests, booked.booking.as_ref().unwrap().guests);
    assert_eq!(b.provider, DR_LEE);
}

#[test]
fn a_session_moves_only_to_a_time_it_could_be_booked_for() {
    let booked = schedule(1);
    let refused = |minutes: i64, duration: u32| {
        let err = apply(
            &booked,
            &ctx(scheduler(), 10),
            &reschedule(minutes, duration),
        )
        .unwrap_err();
        assert_eq!(err.code(), "validation", "{minutes} {duration}");
        match err {
            DomainError::Invalid(e) => e.field,
            other => panic!("{other}"),
        }
    };
    assert_eq!(refused(5, 30), "starts_at", "in the past");
    assert_eq!(
        refused(3 * 365 * 24 * 60, 30),
        "starts_at",
        "past the horizon"
    );
    assert_eq!(refused(24 * 60, 30), "starts_at", "the time it already has");
    assert_eq!(refused(2 * 24 * 60, 4), "duration_mins");
    assert_eq!(refused(2 * 24 * 60, 8 * 60 + 1), "duration_mins");
    // The same start with another length is a change.
    let longer = ok(&booked, scheduler(), 10, reschedule(24 * 60, 60));
    assert_eq!(longer.booking.unwrap().duration_mins, 60);
}

#[test]
fn only_those_who_book_move_a_session_and_only_before_it_is_over() {
    let booked = schedule(1);
    for actor in [dr_lee(), reception()] {
        let err = apply(&booked, &ctx(actor, 10), &reschedule(2 * 24 * 60, 30)).unwrap_err();
        assert_eq!(err.code(), "forbidden");
        assert!(!allowed(&booked, &actor).contains(&CommandKind::Reschedule));
    }
    assert!(allowed(&booked, &scheduler()).contains(&CommandKind::Reschedule));
    assert!(allowed(&booked, &admin()).contains(&CommandKind::Reschedule));
    let cancelled = ok(&booked, scheduler(), 10, Command::Cancel { note: None });
    let err = apply(
        &cancelled,
        &ctx(scheduler(), 11),
        &reschedule(2 * 24 * 60, 30),
    )
    .unwrap_err();
    assert_eq!(err.code(), "invalid_transition");
    let waiting = arrive(2, 0, false);
    assert!(!allowed(&waiting, &scheduler()).contains(&CommandKind::Reschedule));
}

#[test]
fn a_booking_lasts_from_five_minutes_to_eight_hours() {
    assert!(booking::check_duration(5).is_ok());
    assert!(booking::check_duration(480).is_ok());
    assert_eq!(
        booking::check_duration(0).unwrap_err().field,
        "duration_mins"
    );
    let mut b = schedule(1).booking.unwrap();
    b.duration_mins = 600;
    let err = open(
        VisitId::from_u128(9),
        CLINIC,
        &ctx(scheduler(), 0),
        Opening::Schedule {
            room: DR_LEE_ROOM,
            booking: b,
        },
    )
    .unwrap_err();
    assert_eq!(err.code(), "validation");
}

#[test]
fn a_provider_takes_a_session_booked_with_someone_else_as_theirs() {
    let booked = schedule(1);
    let take = Command::Assign {
        provider: DR_OKAFOR,
        note: None,
    };
    assert!(permits(&booked, &dr_okafor(), &take).is_ok());
    let taken = ok(&booked, dr_okafor(), 10, take);
    assert_eq!(taken.booking.unwrap().provider, DR_OKAFOR);
    assert_eq!(taken.assigned_provider, Some(DR_OKAFOR));
}
