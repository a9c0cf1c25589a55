//! The clinic's smaller rules that the server, the patient pages and the console each need:
//! when the intake form is open, which answers an intake question takes, who may come through
//! the front door, whose queue a member of staff sees, and a patient's place in line. One
//! answer each, asked rather than copied.

use crate::ids::RoomId;
use crate::input::{Contact, InputError, IntakeAnswer, Label, PersonName};
use crate::people::{Role, Roles};
use crate::queue::queue_order;
use crate::visit::{Patient, Status, Visit};
use std::collections::BTreeMap;

/// Whether a visit in `status` still takes the patient's intake answers (until they finish
/// the form): while they wait to be seen, and between and during calls, but not once a
/// request, a booking or the visit itself is over.
pub fn intake_open(status: Status) -> bool {
    matches!(status, Status::Intake | Status::InCall | Status::OnHold)
}

/// What one intake question takes for an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AnswerRule<'a> {
    /// Any text.
    AnyText,
    /// One of the question's choices, exactly as offered.
    OneOf(&'a [String]),
    /// "Yes" or "No".
    YesNo,
}

impl AnswerRule<'_> {
    pub fn accepts(self, answer: &str) -> bool {
        match self {
            AnswerRule::AnyText => true,
            AnswerRule::OneOf(choices) => choices.iter().any(|c| c == answer),
            AnswerRule::YesNo => answer == "Yes" || answer == "No",
        }
    }
}

/// The intake answers a patient submitted as (question, answer) pairs, checked against the
/// room's questions (label and rule): blank answers are skipped, every other answer must be to
/// one of the room's questions and be one its rule accepts.
pub fn intake_answers(
    questions: &[(&str, AnswerRule<'_>)],
    submitted: &[(String, String)],
) -> Result<BTreeMap<Label, IntakeAnswer>, InputError> {
    let mut answers = BTreeMap::new();
    for (question, answer) in submitted.iter().filter(|(_, a)| !a.trim().is_empty()) {
        let Some((_, rule)) = questions.iter().find(|(label, _)| label == question) else {
            return Err(InputError::new(
                "answers",
                format!("{question:?} is not a question of this room"),
            ));
        };
        if !rule.accepts(answer.trim()) {
            return Err(InputError::new(
                "answer",
                format!("{answer:?} is not one of the choices for {question:?}"),
            ));
        }
        answers.insert(Label::parse(question)?, IntakeAnswer::parse(answer)?);
    }
    Ok(answers)
}

/// A patient coming through a room's front door, by its form or by JSON alike: a name, and
/// a phone number or an email (at least one) so the clinic can reach them if the call drops.
pub fn front_door_patient(
    name: PersonName,
    phone: Option<&str>,
    email: Option<&str>,
) -> Result<Patient, InputError> {
    Ok(Patient {
        name,
        contact: Some(Contact::parse(phone, email)?),
    })
}

/// The rooms whose queue a member of staff sees: the rooms they work in, or every room of the
/// clinic when they belong to none (a clinic manager, a new hire).
pub fn queue_rooms(
    my_rooms: &[RoomId],
    clinic_rooms: impl IntoIterator<Item = RoomId>,
) -> Vec<RoomId> {
    if my_rooms.is_empty() {
        clinic_rooms.into_iter().collect()
    } else {
        my_rooms.to_vec()
    }
}

/// Whether a member of staff may look over the queues of every room of the clinic, beyond
/// the rooms whose queue is theirs (the front desk's "All rooms" view): reception and admins
/// watch over the whole clinic; a provider's console stays on their own rooms.
pub fn sees_all_rooms(roles: Roles) -> bool {
    roles.has(Role::Receptionist) || roles.has(Role::Admin)
}

/// How many patients wait ahead of `visit` in its room's waiting area, in queue order, among
/// `visits` (which may include `visit` itself).
pub fn waiting_ahead<'a>(visit: &Visit, visits: impl IntoIterator<Item = &'a Visit>) -> usize {
    visits
        .into_iter()
        .filter(|v| {
            v.id != visit.id
                && v.room_id == visit.room_id
                && v.status.is_waiting()
                && queue_order(v, visit).is_lt()
        })
        .count()
}

/// A waiting patient's place in line in their room (1: next); None when they are not waiting.
pub fn place_in_line<'a>(
    visit: &Visit,
    visits: impl IntoIterator<Item = &'a Visit>,
) -> Option<usize> {
    visit
        .status
        .is_waiting()
        .then(|| 1 + waiting_ahead(visit, visits))
}
