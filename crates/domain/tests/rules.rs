//! The smaller rules each side asks the domain: the intake form, answers to its questions,
//! whose queue a member of staff sees, a patient's place in line.

mod common;
use common::*;
use frontdesk_domain::*;

#[test]
fn the_intake_form_is_open_exactly_when_the_patient_may_still_answer() {
    for status in Status::ALL {
        let mut visit = visit_in(status);
        visit.intake_finished = false;
        let may_answer = allowed(&visit, &Actor::Patient).contains(&CommandKind::UpdateIntake);
        assert_eq!(intake_open(status), may_answer, "{status}");
    }
}

fn submitted(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(q, a)| (q.to_string(), a.to_string()))
        .collect()
}

#[test]
fn intake_answers_are_to_the_rooms_questions_and_among_their_choices() {
    let kinds = ["Video".to_owned(), "Phone".to_owned()];
    let questions = [
        ("Reason for visit", AnswerRule::AnyText),
        ("How would you like to be seen?", AnswerRule::OneOf(&kinds)),
        ("First visit?", AnswerRule::YesNo),
    ];
    let ok = intake_answers(
        &questions,
        &submitted(&[
            ("Reason for visit", "Sore throat"),
            ("How would you like to be seen?", "Video"),
            ("First visit?", " Yes "),
        ]),
    )
    .unwrap();
    assert_eq!(ok.len(), 3);

    // A blank answer is no answer, whatever the question.
    let blank = intake_answers(&questions, &submitted(&[("Not asked", "  ")])).unwrap();
    assert!(blank.is_empty());

    let e = intake_answers(&questions, &submitted(&[("Not asked", "x")])).unwrap_err();
    assert_eq!(
        e.to_string(),
        "answers: \"Not asked\" is not a question of this room"
    );
    let e = intake_answers(&questions, &submitted(&[("First visit?", "Maybe")])).unwrap_err();
    assert_eq!(e.field, "answer");
    let e = intake_answers(
        &questions,
        &submitted(&[("How would you like to be seen?", "Carrier pigeon")]),
    )
    .unwrap_err();
    assert_eq!(e.field, "answer");
}

#[test]
fn staff_see_the_queues_of_their_rooms_or_of_every_room_when_they_have_none() {
    let clinic = [RECEPTION, DR_LEE_ROOM, DR_OKAFOR_ROOM];
    assert_eq!(queue_rooms(&[DR_LEE_ROOM], clinic), vec![DR_LEE_ROOM]);
    assert_eq!(queue_rooms(&[], clinic), clinic.to_vec());
}

#[test]
fn reception_and_admins_may_look_over_every_room_and_providers_keep_to_theirs() {
    assert!(sees_all_rooms(Roles::of(&[Role::Receptionist])));
    assert!(sees_all_rooms(Roles::of(&[Role::Admin])));
    assert!(sees_all_rooms(Roles::of(&[
        Role::Provider,
        Role::Receptionist
    ])));
    assert!(!sees_all_rooms(Roles::of(&[Role::Provider])));
    assert!(!sees_all_rooms(Roles::of(&[Role::Scheduler])));
}

#[test]
fn an_urgent_patient_goes_ahead_and_other_rooms_do_not_count() {
    let first = arrive(1, 0, false);
    let second = arrive(2, 5, false);
    let mut urgent = arrive(3, 10, false);
    urgent.priority = Priority::Urgent;
    let mut elsewhere = arrive(4, 0, false);
    elsewhere.room_id = DR_LEE_ROOM;
    let seen = ok(&arrive(5, 0, false), reception(), 1, Command::Claim);
    let all = [&first, &second, &urgent, &elsewhere, &seen];

    assert_eq!(place_in_line(&urgent, all), Some(1));
    assert_eq!(place_in_line(&first, all), Some(2));
    assert_eq!(place_in_line(&second, all), Some(3));
    assert_eq!(place_in_line(&elsewhere, all), Some(1));
    assert_eq!(waiting_ahead(&second, all), 2);
    assert_eq!(place_in_line(&seen, all), None, "in a call, not in line");
}

#[test]
fn a_weekly_booking_is_checked_week_by_week_against_the_horizon() {
    use frontdesk_domain::booking::{BOOKING_HORIZON, weekly};
    use frontdesk_domain::{Booking, StaffId, Timestamp};
    let now = Timestamp::from_millis(1_000_000);
    let week = 7 * 24 * 3_600_000;
    let at = |starts_at: i64| Booking {
        provider: StaffId::from_u128(1),
        starts_at: Timestamp::from_millis(starts_at),
        duration_mins: 30,
        guests: Vec::new(),
        service_type: None,
        location: None,
        staff: Vec::new(),
    };
    let series = weekly(&at(now.as_millis() + 60_000), 3, now).unwrap();
    let starts: Vec<i64> = series.iter().map(|b| b.starts_at.as_millis()).collect();
    let first = now.as_millis() + 60_000;
    assert_eq!(starts, [first, first + week, first + 2 * week]);
    let edge = now.as_millis() + BOOKING_HORIZON.as_millis() - week;
    assert_eq!(weekly(&at(edge), 3, now).unwrap_err().field, "starts_at");
    assert_eq!(
        weekly(&at(i64::MAX), 52, now).unwrap_err().field,
        "starts_at"
    );
    assert_eq!(
        weekly(&at(first), 0, now).unwrap_err().field,
        "repeat_weeks"
    );
    assert_eq!(
        weekly(&at(first), 53, now).unwrap_err().field,
        "repeat_weeks"
    );
}
