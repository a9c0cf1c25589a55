//! The Calendar workspace's answers, worked out here so the UI only draws them: the days of a
//! day or week page in the clinic's time zone, where each booked session sits in them, and the
//! booking form read through the domain's own parsing and booking rules (nothing of it is
//! decided in TypeScript).

use frontdesk_api::{Clinic, StaffRef};
use frontdesk_client::state::ClinicState;
use frontdesk_domain::{
    Actor, Booking, CommandKind, Contact, Role, RoomId, StaffId, Status, Timestamp, Visit, VisitId,
};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

/// Which page of the calendar: `days` (1 or 7; a week starts on Monday) from `start_day`
/// (`YYYY-MM-DD`, clinic-local; today when absent), of one provider's or one room's sessions.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct CalendarQuery {
    #[serde(default)]
    #[cfg_attr(feature = "typescript", ts(optional = nullable))]
    pub start_day: Option<String>,
    pub days: u32,
    #[serde(default)]
    #[cfg_attr(feature = "typescript", ts(optional = nullable))]
    pub provider: Option<StaffId>,
    #[serde(default)]
    #[cfg_attr(feature = "typescript", ts(optional = nullable))]
    pub room: Option<RoomId>,
    /// Without `start_day`: the page with this booked session on it.
    #[serde(default)]
    #[cfg_attr(feature = "typescript", ts(optional = nullable))]
    pub session: Option<VisitId>,
}

/// One day column.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct CalendarDay {
    /// `YYYY-MM-DD`, clinic-local.
    pub date: String,
    /// "Mon 7 Dec".
    pub label: String,
    pub today: bool,
}

/// A guest as the calendar shows them: name and how they are reached.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct CalendarGuest {
    pub name: String,
    /// "ana@example.org" or "SMS +61400111222".
    pub reached_by: String,
    pub arrived: bool,
}

/// A booked session, placed on its day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct CalendarSession {
    pub visit_id: VisitId,
    pub version: u64,
    pub status: Status,
    pub room_name: String,
    pub provider: StaffRef,
    /// Other staff taking part ("include me").
    pub staff: Vec<StaffRef>,
    pub guests: Vec<CalendarGuest>,
    pub starts_at: i64,
    pub duration_mins: u32,
    /// The column (index into `days`) and the minutes from its midnight it spans.
    pub day: usize,
    pub start_minute: u32,
    pub end_minute: u32,
    /// "09:30–10:00".
    pub time_label: String,
    /// `YYYY-MM-DD` and `HH:MM`, clinic-local: the reschedule form starts from them.
    pub date: String,
    pub time: String,
    /// What I may do to it now, as the domain answers it.
    pub allowed: Vec<CommandKind>,
    /// I may take it as mine (a provider claiming a booked session).
    pub takes_session: bool,
}

/// Where the current time line is: a column and minutes from its midnight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct NowLine {
    pub day: usize,
    pub minute: u32,
}

/// A room to look at the sessions of.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct CalendarRoom {
    pub id: RoomId,
    pub name: String,
}

/// One page of the calendar, ready to draw.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct CalendarView {
    /// "7 – 13 December 2026" or "Monday 7 December 2026".
    pub title: String,
    pub time_zone: String,
    pub days: Vec<CalendarDay>,
    /// The hours the grid shows: from `first_hour`:00 to `last_hour`:00 (every session fits).
    pub first_hour: u32,
    pub last_hour: u32,
    pub sessions: Vec<CalendarSession>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub now_line: Option<NowLine>,
    /// `start_day` of the page before and after.
    pub previous: String,
    pub next: String,
    /// Who a session can be booked with, and the rooms to look at.
    pub providers: Vec<StaffRef>,
    pub rooms: Vec<CalendarRoom>,
    /// I may book sessions (the domain's rule).
    pub can_book: bool,
}

/// The clinic's time zone (UTC when it names none this computer knows).
pub fn clinic_zone(clinic: Option<&Clinic>) -> TimeZone {
    clinic
        .and_then(|c| TimeZone::get(&c.time_zone).ok())
        .unwrap_or(TimeZone::UTC)
}

fn to_jiff(at: Timestamp) -> jiff::Timestamp {
    jiff::Timestamp::from_millisecond(at.as_millis()).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

fn ms(z: &jiff::Zoned) -> i64 {
    z.timestamp().as_millisecond()
}

fn midnight(date: Date, tz: &TimeZone) -> i64 {
    date.to_zoned(tz.clone()).map_or(0, |z| ms(&z))
}

/// The page's first day: the day asked for (else the day of the session asked for, else
/// today), and for a week the Monday on or before it.
fn first_day(query: &CalendarQuery, session_day: Option<Date>, today: Date) -> Date {
    let day = query
        .start_day
        .as_deref()
        .and_then(|d| d.parse::<Date>().ok())
        .or(session_day)
        .unwrap_or(today);
    if query.days == 7 {
        let back = i64::from(day.weekday().to_monday_zero_offset());
        day.checked_sub(jiff::Span::new().days(back)).unwrap_or(day)
    } else {
        day
    }
}

fn staff_ref(state: &ClinicState, id: StaffId) -> StaffRef {
    StaffRef {
        id,
        name: state
            .staff
            .get(&id)
            .map_or_else(|| "someone".into(), |s| s.name.clone()),
    }
}

fn reached_by(contact: &Contact) -> String {
    match (&contact.email, &contact.phone) {
        (Some(e), _) => e.as_str().to_owned(),
        (None, Some(p)) => format!("SMS {}", p.as_str()),
        (None, None) => String::new(),
    }
}

/// I, as the domain sees me acting.
pub fn actor_of(state: &ClinicState) -> Option<Actor> {
    state.me.as_ref().map(|m| Actor::Staff {
        id: m.id,
        roles: m.roles,
    })
}

/// The clinic's providers (who a session may be booked with).
pub fn provider_ids(state: &ClinicState) -> Vec<StaffId> {
    state
        .staff
        .values()
        .filter(|s| s.roles.has(Role::Provider) && !s.deactivated)
        .map(|s| s.id)
        .collect()
}

/// The page of the calendar `query` asks for, from the sessions the engine holds.
pub fn calendar(state: &ClinicState, query: &CalendarQuery, now: Timestamp) -> CalendarView {
    let tz = clinic_zone(state.clinic.as_ref());
    let now_z = to_jiff(now).to_zoned(tz.clone());
    let days_n = if query.days == 7 { 7 } else { 1 };
    let session_day = query
        .session
        .and_then(|id| state.visits.get(&id))
        .and_then(|v| v.booking.as_ref())
        .map(|b| to_jiff(b.starts_at).to_zoned(tz.clone()).date());
    let first = first_day(query, session_day, now_z.date());
    let dates: Vec<Date> = (0..days_n)
        .filter_map(|i| first.checked_add(jiff::Span::new().days(i)).ok())
        .collect();
    let bounds: Vec<(i64, i64)> = dates
        .iter()
        .map(|d| {
            let next = d.tomorrow().unwrap_or(*d);
            (midnight(*d, &tz), midnight(next, &tz))
        })
        .collect();
    let place = |at: i64| bounds.iter().position(|(s, e)| at >= *s && at < *e);
    let actor = actor_of(state);
    let me = state.me.as_ref().map(|m| m.id);
    let mut sessions: Vec<CalendarSession> = state
        .visits
        .values()
        .chain(state.today.values())
        .filter_map(|v| {
            let b = v.booking.as_ref()?;
            let day = place(b.starts_at.as_millis())?;
            let shown = query.provider.is_none_or(|p| b.provider == p)
                && query.room.is_none_or(|r| v.room_id == r);
            shown.then(|| session(state, v, b, day, bounds[day].0, &tz, actor, me))
        })
        .collect();
    sessions.sort_by_key(|s| (s.starts_at, s.visit_id));
    let first_hour = sessions
        .iter()
        .map(|s| s.start_minute / 60)
        .min()
        .map_or(7, |h| h.min(7));
    let last_hour = sessions
        .iter()
        .map(|s| s.end_minute.div_ceil(60))
        .max()
        .map_or(19, |h| h.clamp(19, 24));
    let now_line = place(now.as_millis()).map(|day| NowLine {
        day,
        minute: ((now.as_millis() - bounds[day].0) / 60_000) as u32,
    });
    let step = jiff::Span::new().days(i64::from(days_n));
    let shift = |forward: bool| {
        let d = if forward {
            first.checked_add(step)
        } else {
            first.checked_sub(step)
        };
        d.unwrap_or(first).to_string()
    };
    let last = dates.last().copied().unwrap_or(first);
    let title = if days_n == 1 {
        first.strftime("%A %-d %B %Y").to_string()
    } else if first.month() == last.month() {
        format!("{} – {}", first.strftime("%-d"), last.strftime("%-d %B %Y"))
    } else {
        format!(
            "{} – {}",
            first.strftime("%-d %B"),
            last.strftime("%-d %B %Y")
        )
    };
    let mut providers: Vec<StaffRef> = state
        .staff
        .values()
        .filter(|s| s.roles.has(Role::Provider) && !s.deactivated)
        .map(|s| StaffRef {
            id: s.id,
            name: s.name.clone(),
        })
        .collect();
    providers.sort_by(|a, b| a.name.cmp(&b.name));
    let rooms = state
        .rooms
        .values()
        .map(|r| CalendarRoom {
            id: r.id,
            name: r.name.clone(),
        })
        .collect();
    CalendarView {
        title,
        time_zone: state
            .clinic
            .as_ref()
            .map_or_else(|| "UTC".into(), |c| c.time_zone.clone()),
        days: dates
            .iter()
            .map(|d| CalendarDay {
                date: d.to_string(),
                label: d.strftime("%a %-d %b").to_string(),
                today: *d == now_z.date(),
            })
            .collect(),
        first_hour,
        last_hour,
        sessions,
        now_line,
        previous: shift(false),
        next: shift(true),
        providers,
        rooms,
        can_book: actor.is_some_and(|a| frontdesk_domain::booking::may_book(&a)),
    }
}

#[allow(clippy::too_many_arguments)]
fn session(
    state: &ClinicState,
    v: &Visit,
    b: &Booking,
    day: usize,
    day_start: i64,
    tz: &TimeZone,
    actor: Option<Actor>,
    me: Option<StaffId>,
) -> CalendarSession {
    let start_minute = ((b.starts_at.as_millis() - day_start) / 60_000) as u32;
    let end_minute = (start_minute + b.duration_mins).min(24 * 60);
    let starts = to_jiff(b.starts_at).to_zoned(tz.clone());
    let ends = to_jiff(b.starts_at + frontdesk_domain::Span::from_mins(i64::from(b.duration_mins)))
        .to_zoned(tz.clone());
    let takes_session = match (actor, me) {
        (Some(a), Some(me)) if v.status == Status::Scheduled && b.provider != me => {
            let take = frontdesk_domain::Command::Assign {
                provider: me,
                note: None,
            };
            frontdesk_domain::permits(v, &a, &take).is_ok()
        }
        _ => false,
    };
    CalendarSession {
        visit_id: v.id,
        version: v.version,
        status: v.status,
        room_name: state
            .rooms
            .get(&v.room_id)
            .map(|r| r.name.clone())
            .unwrap_or_default(),
        provider: staff_ref(state, b.provider),
        staff: b
            .staff
            .iter()
            .filter(|s| **s != b.provider)
            .map(|s| staff_ref(state, *s))
            .collect(),
        guests: b
            .guests
            .iter()
            .map(|g| CalendarGuest {
                name: g.name.to_string(),
                reached_by: reached_by(&g.contact),
                arrived: g.arrived,
            })
            .collect(),
        starts_at: b.starts_at.as_millis(),
        duration_mins: b.duration_mins,
        day,
        start_minute,
        end_minute,
        time_label: format!("{}–{}", starts.strftime("%H:%M"), ends.strftime("%H:%M")),
        date: starts.date().to_string(),
        time: starts.strftime("%H:%M").to_string(),
        allowed: actor
            .map(|a| frontdesk_domain::allowed(v, &a))
            .unwrap_or_default(),
        takes_session,
    }
}

mod form;
pub use form::*;

#[cfg(test)]
mod tests;
