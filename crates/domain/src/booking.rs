//! How far ahead a session may be booked, and a booking repeated weekly. The scheduler's
//! rules: the server asks them before it saves anything, so a series is refused whole.

use crate::command::Actor;
use crate::input::InputError;
use crate::people::Role;
use crate::time::{Span, Timestamp};
use crate::visit::Booking;

/// A session starts at most this far ahead: two years of 365 days. Further out is almost
/// always a typo in the year, and nothing (reminders, the provider's rota) plans that far.
pub const BOOKING_HORIZON: Span = Span::from_mins(2 * 365 * 24 * 60);

/// Most sessions one weekly booking makes (a year of weeks).
pub const MAX_WEEKLY_SESSIONS: u32 = 52;

/// Who books sessions ahead: schedulers and admins (the calendar offers others no booking).
pub fn may_book(actor: &Actor) -> bool {
    actor.has_any(&[Role::Admin, Role::Scheduler])
}

/// A session's length when none is given, in minutes.
pub const DEFAULT_DURATION_MINS: u32 = 30;
/// The shortest and longest session one booking holds, in minutes.
pub const MIN_DURATION_MINS: u32 = 5;
pub const MAX_DURATION_MINS: u32 = 8 * 60;

pub(crate) fn default_duration() -> u32 {
    DEFAULT_DURATION_MINS
}

/// Whether a session may last `minutes`: from [`MIN_DURATION_MINS`] to [`MAX_DURATION_MINS`].
pub fn check_duration(minutes: u32) -> Result<(), InputError> {
    if !(MIN_DURATION_MINS..=MAX_DURATION_MINS).contains(&minutes) {
        return Err(InputError::new(
            "duration_mins",
            format!(
                "from {MIN_DURATION_MINS} minutes to {} hours",
                MAX_DURATION_MINS / 60
            ),
        ));
    }
    Ok(())
}

/// Whether a booked session may move to `starts_at` for `duration_mins`, asked at `now`: a
/// start a booking could have, a length it could have, and not the time it already has.
pub fn check_reschedule(
    booking: &Booking,
    starts_at: Timestamp,
    duration_mins: u32,
    now: Timestamp,
) -> Result<(), InputError> {
    check_start(starts_at, now)?;
    check_duration(duration_mins)?;
    if booking.starts_at == starts_at && booking.duration_mins == duration_mins {
        return Err(InputError::new(
            "starts_at",
            "the session is already booked for then",
        ));
    }
    Ok(())
}

const WEEK: Span = Span::from_mins(7 * 24 * 60);

/// Whether a session may start at `starts_at`, booked at `now`: not in the past, and within
/// [`BOOKING_HORIZON`].
pub fn check_start(starts_at: Timestamp, now: Timestamp) -> Result<(), InputError> {
    if starts_at < now {
        return Err(InputError::new("starts_at", "must be in the future"));
    }
    if starts_at > now + BOOKING_HORIZON {
        return Err(InputError::new(
            "starts_at",
            "must be within 2 years from now",
        ));
    }
    Ok(())
}

/// The sessions of a booking repeated weekly: `weeks` of them in all, the first as booked,
/// each later one a week after the one before. Every start is checked against `now`, so a
/// series that runs past the horizon is refused before any of it is kept.
pub fn weekly(first: &Booking, weeks: u32, now: Timestamp) -> Result<Vec<Booking>, InputError> {
    if !(1..=MAX_WEEKLY_SESSIONS).contains(&weeks) {
        return Err(InputError::new(
            "repeat_weeks",
            format!("from 1 to {MAX_WEEKLY_SESSIONS} sessions"),
        ));
    }
    let mut sessions = Vec::with_capacity(weeks as usize);
    let mut starts_at = first.starts_at;
    for _ in 0..weeks {
        check_start(starts_at, now)?;
        sessions.push(Booking {
            starts_at,
            ..first.clone()
        });
        // Saturating: a start near the end of time is refused above, never wrapped round.
        starts_at = starts_at + WEEK;
    }
    Ok(sessions)
}
