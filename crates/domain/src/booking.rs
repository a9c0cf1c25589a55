//! How far ahead a session may be booked, and a booking repeated weekly. The scheduler's
//! rules: the server asks them before it saves anything, so a series is refused whole.

use crate::input::InputError;
use crate::time::{Span, Timestamp};
use crate::visit::Booking;

/// A session starts at most this far ahead: two years of 365 days. Further out is almost
/// always a typo in the year, and nothing (reminders, the provider's rota) plans that far.
pub const BOOKING_HORIZON: Span = Span::from_mins(2 * 365 * 24 * 60);

/// Most sessions one weekly booking makes (a year of weeks).
pub const MAX_WEEKLY_SESSIONS: u32 = 52;

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
