//! The queue as staff see it: order (priority first, then longest wait), the triage layout
//! (a Waiting section, then With staff) and wait-time figures, all derived from a visit's
//! status history.

use crate::time::{Span, Timestamp};
use crate::visit::{Status, Visit};
use serde::{Deserialize, Serialize};
use std::cmp::{Ordering, Reverse};

/// Orders two visits as the queue shows them: higher priority first, then the one who arrived
/// earliest, then by id so the order is stable.
pub fn queue_order(a: &Visit, b: &Visit) -> Ordering {
    queue_key(a).cmp(&queue_key(b))
}

fn queue_key(
    v: &Visit,
) -> (
    Reverse<crate::visit::Priority>,
    Timestamp,
    crate::ids::VisitId,
) {
    let (priority, since) = line_position(v);
    (Reverse(priority), since, v.id)
}

/// Where a visit stands in its room's line: its priority (higher first), then since when it
/// has been in line (earlier first); the id settles a tie. What a store indexes to count who
/// is ahead without reading every visit.
pub fn line_position(v: &Visit) -> (crate::visit::Priority, Timestamp) {
    (v.priority, v.arrived_at.unwrap_or(v.created_at))
}

/// Sorts visits into queue order, keeping only those that belong in a queue.
pub fn queue<'a>(visits: impl IntoIterator<Item = &'a Visit>) -> Vec<&'a Visit> {
    let mut q: Vec<&Visit> = visits
        .into_iter()
        .filter(|v| v.status.is_in_queue())
        .collect();
    q.sort_by(|a, b| queue_order(a, b));
    q
}

/// How long a patient has waited and been seen, read off the history.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitFigures {
    /// The current stretch in a waiting area (intake, waiting, on hold), if waiting now.
    pub waiting_now: Option<Span>,
    /// When that stretch began, so a screen can keep counting without asking again.
    pub waiting_since: Option<Timestamp>,
    /// All time spent in waiting areas since arrival.
    pub total_waiting: Span,
    /// All time spent in calls.
    pub total_in_call: Span,
    /// From arrival to the first time staff took the patient into a call.
    pub time_to_first_seen: Option<Span>,
    /// When the call going on now began, if the patient is in a call.
    pub in_call_since: Option<Timestamp>,
}

impl WaitFigures {
    /// While the patient waits, the instant the total wait counts from: the total wait is
    /// `now - total_wait_from`, and this instant stays put while the wait goes on (each
    /// waiting stretch moves it by as long as the patient was away from the waiting area).
    pub fn total_wait_from(&self, now: Timestamp) -> Option<Timestamp> {
        self.waiting_now.map(|_| now - self.total_waiting)
    }
}

/// Works the figures out from the status history, as of `now` for a visit still open.
pub fn wait_figures(visit: &Visit, now: Timestamp) -> WaitFigures {
    let mut figures = WaitFigures {
        waiting_now: None,
        waiting_since: None,
        total_waiting: Span::ZERO,
        total_in_call: Span::ZERO,
        time_to_first_seen: None,
        in_call_since: None,
    };
    // Walk the stretches between status changes: (status, from, to).
    let mut stretch: Option<(Status, Timestamp)> = None;
    let mut waiting_since: Option<Timestamp> = None;
    let close = |status: Status, from: Timestamp, to: Timestamp, f: &mut WaitFigures| {
        let len = to.since(from);
        if status.is_waiting() {
            f.total_waiting = f.total_waiting + len;
        } else if status == Status::InCall {
            f.total_in_call = f.total_in_call + len;
        }
    };
    for entry in &visit.history {
        match stretch {
            Some((status, _)) if status == entry.status => continue,
            Some((status, from)) => close(status, from, entry.at, &mut figures),
            None => {}
        }
        if entry.status == Status::InCall
            && figures.time_to_first_seen.is_none()
            && let Some(arrived) = visit.arrived_at
        {
            figures.time_to_first_seen = Some(entry.at.since(arrived));
        }
        // A waiting stretch continues across waiting statuses (intake → waiting).
        let was_waiting = stretch.is_some_and(|(s, _)| s.is_waiting());
        if entry.status.is_waiting() && !was_waiting {
            waiting_since = Some(entry.at);
        }
        stretch = Some((entry.status, entry.at));
    }
    if let Some((status, from)) = stretch
        && !status.is_terminal()
    {
        close(status, from, now, &mut figures);
        if status.is_waiting() {
            figures.waiting_now = waiting_since.map(|s| now.since(s));
            figures.waiting_since = waiting_since;
        } else if status == Status::InCall {
            figures.in_call_since = Some(from);
        }
    }
    figures
}

/// When a finished visit finished (its last change); None while it is open.
pub fn finished_at(visit: &Visit) -> Option<Timestamp> {
    visit
        .status
        .is_terminal()
        .then(|| visit.history.last().map_or(visit.updated_at, |e| e.at))
}

/// The staff who saw the patient (took them into a call or joined one), first seen first,
/// each once: as the visit keeps them, or from its history for a visit stored before it did.
pub fn seen_by(visit: &Visit) -> Vec<crate::StaffId> {
    if !visit.seen_by.is_empty() {
        return visit.seen_by.clone();
    }
    let mut staff = Vec::new();
    for entry in &visit.history {
        if let crate::visit::Change::Claimed { staff: s }
        | crate::visit::Change::Joined { staff: s } = &entry.change
            && !staff.contains(s)
        {
            staff.push(*s);
        }
    }
    staff
}

/// The day's list: the visits that finished within `[day.0, day.1)`, the latest to finish
/// first (the day view's order).
pub fn finished_in<'a>(
    visits: impl IntoIterator<Item = &'a Visit>,
    day: (Timestamp, Timestamp),
) -> Vec<&'a Visit> {
    let mut done: Vec<(&Visit, Timestamp)> = visits
        .into_iter()
        .filter_map(|v| Some((v, finished_at(v)?)))
        .filter(|(_, at)| *at >= day.0 && *at < day.1)
        .collect();
    done.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.id.cmp(&b.0.id)));
    done.into_iter().map(|(v, _)| v).collect()
}

/// The two parts of a queue laid out for triage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Section {
    /// Not seen yet, or sent back to wait (intake, waiting): the ones to pick up next.
    Waiting,
    /// Being seen, or on hold between calls: staff have them.
    WithStaff,
}

impl Section {
    /// The section a visit in a queue sits in; None for one not in a queue.
    pub fn of(status: Status) -> Option<Section> {
        match status {
            Status::Intake | Status::Waiting => Some(Section::Waiting),
            Status::InCall | Status::OnHold => Some(Section::WithStaff),
            _ => None,
        }
    }
}

/// The queue for triage: the Waiting section first, then With staff; within each, the higher
/// priority band first, then the longest total wait since arrival (every stretch in a waiting
/// area added up, as of `now`; a call's time does not count), then arrival, then id so the
/// order is stable. Visits not in a queue are left out.
pub fn triage<'a>(visits: impl IntoIterator<Item = &'a Visit>, now: Timestamp) -> Vec<&'a Visit> {
    let mut keyed: Vec<_> = visits
        .into_iter()
        .filter_map(|v| Some(((triage_rank(v, now)?, v.id), v)))
        .collect();
    keyed.sort_by_key(|a| a.0);
    keyed.into_iter().map(|(_, v)| v).collect()
}

/// Where a visit stands in the triage order, as numbers a screen compares one by one (then the
/// visit id): the section, the priority band, the instant its total wait counts from (the
/// earlier, the longer the wait) and its arrival. None for a visit not in a queue. While a
/// patient waits, none of these moves with the clock, so a row ranked once keeps its place
/// until the visit changes; for one with staff the wait is as of `now`.
pub fn triage_rank(v: &Visit, now: Timestamp) -> Option<[i64; 4]> {
    let section = Section::of(v.status)?;
    let figures = wait_figures(v, now);
    Some([
        i64::from(section == Section::WithStaff),
        -(v.priority as i64),
        (now - figures.total_waiting).as_millis(),
        line_position(v).1.as_millis(),
    ])
}
