//! The managers' figures for a day, week or month: arrivals by hour, how long patients waited
//! for the first member of staff and for a provider, how long they were in calls, and how
//! their visits ended, for the clinic and per provider.
//!
//! All of it is read off the visits' histories (the audit trail), so the figures of a past
//! period never change. The server fetches the histories and the window; what counts as what,
//! the percentiles and the bucketing by local hour are decided here and nowhere else.
//!
//! What the words mean:
//! - A visit is in the period when the patient **arrived** in it (the visit's `arrived_at`:
//!   first in a waiting area or a call); one who never arrived (a declined request, a no-show)
//!   is in the period in which the visit ended.
//! - **First staff contact** is the first time a member of staff took the patient into a call
//!   (claimed, joined, or accepted the request straight into the call). A message is not one.
//! - **Wait for a provider** runs from arrival to the first time a provider was in the call.
//! - **Time in call** adds up every stretch the visit was `in_call` that has ended.
//! - A visit's **provider** is the first provider who saw the patient; for someone never seen,
//!   the provider they were booked with, asked for, assigned or transferred to.
//! - The median and the 90th percentile interpolate between the two nearest ranks (as
//!   spreadsheets' `PERCENTILE.INC` does), rounded to the millisecond.

use crate::ids::{RoomId, StaffId, VisitId};
use crate::time::Timestamp;
use crate::visit::{ActorRef, Change, HistoryEntry, Status, Visit};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How long a report's window is: the clinic-local day, the week (Monday to Sunday) or the
/// calendar month holding the chosen date.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Period {
    Day,
    Week,
    Month,
}

impl Period {
    pub fn parse(s: &str) -> Option<Period> {
        match s {
            "day" => Some(Period::Day),
            "week" => Some(Period::Week),
            "month" => Some(Period::Month),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Period::Day => "day",
            Period::Week => "week",
            Period::Month => "month",
        }
    }
}

/// The stretch of time a report covers: clinic-local days `first_day` to `last_day`
/// (included), which are the instants `[from, to)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct ReportWindow {
    pub period: Period,
    /// `YYYY-MM-DD`
    pub first_day: String,
    /// `YYYY-MM-DD`, included.
    pub last_day: String,
    pub from: Timestamp,
    pub to: Timestamp,
    /// The clinic's time zone the days and hours are read in.
    pub time_zone: String,
}

/// The middle and the long tail of a set of durations, in milliseconds. None when there were
/// none to measure.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct Spread {
    /// How many durations were measured.
    pub count: u32,
    pub median_ms: Option<i64>,
    pub p90_ms: Option<i64>,
}

impl Spread {
    pub fn of(mut durations: Vec<i64>) -> Spread {
        durations.sort_unstable();
        Spread {
            count: durations.len() as u32,
            median_ms: percentile(&durations, 50),
            p90_ms: percentile(&durations, 90),
        }
    }
}

/// The `pct`th percentile of sorted values, interpolated between the nearest ranks and rounded
/// half up to a whole millisecond; None for no values.
pub fn percentile(sorted: &[i64], pct: u32) -> Option<i64> {
    let last = sorted.len().checked_sub(1)?;
    // The rank is pct/100 of the way from the first value to the last: kept in hundredths so
    // the arithmetic stays exact.
    let rank_hundredths = u64::from(pct.min(100)) * last as u64;
    let below = (rank_hundredths / 100) as usize;
    let part = (rank_hundredths % 100) as i64;
    let low = sorted[below];
    let high = sorted[(below + 1).min(last)];
    Some(low + ((high - low) * part + 50).div_euclid(100))
}

/// How the visits of the period ended (or that they have not yet).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct Outcomes {
    pub completed: u32,
    pub left: u32,
    pub declined: u32,
    pub no_show: u32,
    pub cancelled: u32,
    /// Still open (waiting, in a call, on hold) when the report was made.
    pub open: u32,
}

impl Outcomes {
    fn count(&mut self, status: Status) {
        match status {
            Status::Completed => self.completed += 1,
            Status::Left => self.left += 1,
            Status::Declined => self.declined += 1,
            Status::NoShow => self.no_show += 1,
            Status::Cancelled => self.cancelled += 1,
            _ => self.open += 1,
        }
    }
}

/// One clinic-local hour of the day (0 to 23) across the period.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct HourFigures {
    pub hour: u8,
    /// Patients who arrived in this hour.
    pub arrivals: u32,
    /// Their wait to first staff contact.
    pub wait_for_staff: Spread,
}

/// The figures of the visits one provider saw (or was to see).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct ProviderFigures {
    pub provider: StaffId,
    pub name: String,
    /// Visits of the period that were this provider's.
    pub visits: u32,
    /// Patients this provider saw first among providers.
    pub seen: u32,
    pub wait_for_provider: Spread,
    pub time_in_call: Spread,
    pub outcomes: Outcomes,
}

/// A report for one window, and optionally one room.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct Report {
    pub window: ReportWindow,
    /// Only visits that were in this room at some point; None: the whole clinic.
    pub room: Option<RoomId>,
    /// Visits in the period (see the module doc).
    pub visits: u32,
    /// Of them, patients who arrived.
    pub arrivals: u32,
    /// All 24 clinic-local hours, from 0.
    pub by_hour: Vec<HourFigures>,
    pub wait_for_staff: Spread,
    pub wait_for_provider: Spread,
    pub time_in_call: Spread,
    pub outcomes: Outcomes,
    /// One line per provider with a visit in the period, by name.
    pub providers: Vec<ProviderFigures>,
}

/// A provider of the clinic: who counts as one, and the name their line shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderName {
    pub id: StaffId,
    pub name: String,
}

/// What one visit's history says, for the report.
#[derive(Clone, Debug, PartialEq, Eq)]
struct VisitFacts {
    arrived_at: Option<Timestamp>,
    ended: Option<(Timestamp, Status)>,
    status: Status,
    first_call_at: Option<Timestamp>,
    first_provider: Option<(StaffId, Timestamp)>,
    /// The provider named for the visit, when none has seen the patient yet.
    named_provider: Option<StaffId>,
    in_call_ms: i64,
    had_call: bool,
    rooms: Vec<RoomId>,
}

impl VisitFacts {
    /// None for a history that does not replay (which no store holds).
    fn of(
        id: VisitId,
        history: &[HistoryEntry],
        is_provider: &dyn Fn(StaffId) -> bool,
    ) -> Option<VisitFacts> {
        // Arrival and the status reached are the visit's own, as replaying gives them.
        let visit = Visit::replay(id, history).ok()?;
        let mut f = VisitFacts {
            arrived_at: visit.arrived_at,
            ended: None,
            status: visit.status,
            first_call_at: None,
            first_provider: None,
            named_provider: None,
            in_call_ms: 0,
            had_call: false,
            rooms: Vec::new(),
        };
        let mut call_since: Option<Timestamp> = None;
        for e in history {
            match (&e.change, e.actor) {
                (Change::Opened(o), _) => {
                    f.rooms.push(o.room_id);
                    f.named_provider = o
                        .booking
                        .as_ref()
                        .map(|b| b.provider)
                        .or(o.requested_provider);
                }
                (Change::Transferred { to, .. }, _) => {
                    f.rooms.push(to.room());
                    if let crate::visit::TransferTarget::Provider { provider, .. } = to {
                        f.named_provider = Some(*provider);
                    }
                }
                (Change::Assigned { provider, .. }, _) => f.named_provider = Some(*provider),
                (Change::TakenOver { .. }, ActorRef::Staff { id }) => f.named_provider = Some(id),
                (Change::Claimed { staff } | Change::Joined { staff }, _) => {
                    f.saw(*staff, e.at, is_provider)
                }
                (Change::RequestAccepted { provider, enter }, _) => {
                    f.named_provider = Some(*provider);
                    if *enter {
                        f.saw(*provider, e.at, is_provider);
                    }
                }
                _ => {}
            }
            if e.status == Status::InCall {
                f.first_call_at.get_or_insert(e.at);
                call_since.get_or_insert(e.at);
            } else if let Some(since) = call_since.take() {
                f.in_call_ms += e.at.since(since).as_millis();
                f.had_call = true;
            }
            if e.status.is_terminal() {
                f.ended = Some((e.at, e.status));
            }
        }
        Some(f)
    }

    fn saw(&mut self, staff: StaffId, at: Timestamp, is_provider: &dyn Fn(StaffId) -> bool) {
        if self.first_provider.is_none() && is_provider(staff) {
            self.first_provider = Some((staff, at));
        }
    }

    /// When the visit counts: at arrival, or for one who never arrived, when it ended.
    fn counts_at(&self) -> Option<Timestamp> {
        self.arrived_at.or(self.ended.map(|(at, _)| at))
    }

    fn wait_for_staff(&self) -> Option<i64> {
        Some(self.first_call_at?.since(self.arrived_at?).as_millis())
    }

    fn wait_for_provider(&self) -> Option<i64> {
        Some(self.first_provider?.1.since(self.arrived_at?).as_millis())
    }

    fn provider(&self) -> Option<StaffId> {
        self.first_provider.map(|(p, _)| p).or(self.named_provider)
    }
}

/// The report of `window` (and `room`, if given) from the histories of every visit that may
/// fall in it (the caller may pass more: those outside are left out here). `local_hour` gives
/// the clinic-local hour (0 to 23) of an instant.
pub fn summarize(
    histories: &[(VisitId, Vec<HistoryEntry>)],
    window: ReportWindow,
    room: Option<RoomId>,
    providers: &[ProviderName],
    local_hour: &dyn Fn(Timestamp) -> u8,
) -> Report {
    let is_provider = |id: StaffId| providers.iter().any(|p| p.id == id);
    let facts: Vec<VisitFacts> = histories
        .iter()
        .filter_map(|(id, h)| VisitFacts::of(*id, h, &is_provider))
        .filter(|f| {
            f.counts_at()
                .is_some_and(|at| window.from <= at && at < window.to)
        })
        .filter(|f| room.is_none_or(|r| f.rooms.contains(&r)))
        .collect();

    let mut hours: Vec<(u32, Vec<i64>)> = vec![(0, Vec::new()); 24];
    let mut outcomes = Outcomes::default();
    let (mut for_staff, mut for_provider, mut in_call) = (Vec::new(), Vec::new(), Vec::new());
    let mut per_provider: BTreeMap<StaffId, ProviderTally> = BTreeMap::new();
    for f in &facts {
        if let Some(at) = f.arrived_at {
            let hour = &mut hours[usize::from(local_hour(at).min(23))];
            hour.0 += 1;
            hour.1.extend(f.wait_for_staff());
        }
        outcomes.count(f.status);
        for_staff.extend(f.wait_for_staff());
        for_provider.extend(f.wait_for_provider());
        if f.had_call {
            in_call.push(f.in_call_ms);
        }
        if let Some(p) = f.provider().filter(|p| is_provider(*p)) {
            let t = per_provider.entry(p).or_default();
            t.visits += 1;
            t.outcomes.count(f.status);
            if f.first_provider.is_some() {
                t.seen += 1;
            }
            t.wait.extend(f.wait_for_provider());
            if f.had_call {
                t.in_call.push(f.in_call_ms);
            }
        }
    }
    let mut lines: Vec<ProviderFigures> = providers
        .iter()
        .filter_map(|p| {
            let t = per_provider.remove(&p.id)?;
            Some(ProviderFigures {
                provider: p.id,
                name: p.name.clone(),
                visits: t.visits,
                seen: t.seen,
                wait_for_provider: Spread::of(t.wait),
                time_in_call: Spread::of(t.in_call),
                outcomes: t.outcomes,
            })
        })
        .collect();
    lines.sort_by(|a, b| a.name.cmp(&b.name).then(a.provider.cmp(&b.provider)));
    Report {
        window,
        room,
        visits: facts.len() as u32,
        arrivals: facts.iter().filter(|f| f.arrived_at.is_some()).count() as u32,
        by_hour: hours
            .into_iter()
            .enumerate()
            .map(|(hour, (arrivals, waits))| HourFigures {
                hour: hour as u8,
                arrivals,
                wait_for_staff: Spread::of(waits),
            })
            .collect(),
        wait_for_staff: Spread::of(for_staff),
        wait_for_provider: Spread::of(for_provider),
        time_in_call: Spread::of(in_call),
        outcomes,
        providers: lines,
    }
}

#[derive(Default)]
struct ProviderTally {
    visits: u32,
    seen: u32,
    wait: Vec<i64>,
    in_call: Vec<i64>,
    outcomes: Outcomes,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::ClinicId;
    use crate::input::{Note, PersonName};
    use crate::visit::{Opened, Patient, Priority, TransferTarget};

    const MIN: i64 = 60_000;
    /// 2026-12-03 00:00 UTC.
    const DAY: i64 = 1_796_256_000_000;

    fn ids() -> (RoomId, RoomId, StaffId, StaffId, StaffId) {
        (
            RoomId::from_u128(1),
            RoomId::from_u128(2),
            StaffId::from_u128(10), // reception
            StaffId::from_u128(11), // Dr Priya
            StaffId::from_u128(12), // Dr Omar
        )
    }

    fn providers() -> Vec<ProviderName> {
        let (_, _, _, priya, omar) = ids();
        vec![
            ProviderName {
                id: omar,
                name: "Dr. Omar Haddad".into(),
            },
            ProviderName {
                id: priya,
                name: "Dr. Priya Shah".into(),
            },
        ]
    }

    /// A history built entry by entry, at minutes after `DAY`.
    struct Trail(Vec<HistoryEntry>);

    impl Trail {
        fn opened(minute: i64, room: RoomId, status: Status) -> Trail {
            let opened = Opened {
                clinic_id: ClinicId::from_u128(9),
                room_id: room,
                patient: Patient {
                    name: PersonName::parse("Pat").unwrap(),
                    contact: None,
                },
                status,
                priority: Priority::Routine,
                requested_provider: None,
                booking: None,
                after_hours: false,
            };
            let mut t = Trail(Vec::new());
            t.push(
                minute,
                ActorRef::Patient,
                Change::Opened(Box::new(opened)),
                status,
            );
            t
        }

        fn push(&mut self, minute: i64, actor: ActorRef, change: Change, status: Status) {
            self.0.push(HistoryEntry {
                version: self.0.len() as u64 + 1,
                at: Timestamp::from_millis(DAY + minute * MIN),
                actor,
                change,
                status,
            });
        }

        fn then(mut self, minute: i64, staff: StaffId, change: Change, status: Status) -> Trail {
            self.push(minute, ActorRef::Staff { id: staff }, change, status);
            self
        }
    }

    fn window(period: Period) -> ReportWindow {
        ReportWindow {
            period,
            first_day: "2026-12-03".into(),
            last_day: "2026-12-03".into(),
            from: Timestamp::from_millis(DAY),
            to: Timestamp::from_millis(DAY + 24 * 60 * MIN),
            time_zone: "UTC".into(),
        }
    }

    fn utc_hour(at: Timestamp) -> u8 {
        ((at.as_millis() - DAY).rem_euclid(86_400_000) / 3_600_000) as u8
    }

    fn report(trails: Vec<Trail>, room: Option<RoomId>) -> Report {
        let histories: Vec<_> = trails
            .into_iter()
            .enumerate()
            .map(|(i, t)| (VisitId::from_u128(i as u128), t.0))
            .collect();
        summarize(
            &histories,
            window(Period::Day),
            room,
            &providers(),
            &utc_hour,
        )
    }

    #[test]
    fn percentiles_interpolate_between_the_nearest_ranks() {
        assert_eq!(percentile(&[], 50), None);
        assert_eq!(percentile(&[7], 90), Some(7));
        assert_eq!(percentile(&[1, 2, 3, 4], 50), Some(3)); // 2.5 rounds up
        assert_eq!(percentile(&[10, 20, 30, 40, 50], 50), Some(30));
        // 0.9 × 4 = 3.6: 40 + 0.6 × 10
        assert_eq!(percentile(&[10, 20, 30, 40, 50], 90), Some(46));
        assert_eq!(percentile(&[0, 1000], 90), Some(900));
        assert_eq!(percentile(&[5, 5, 5], 100), Some(5));
        let s = Spread::of(vec![40, 10, 30, 20]);
        assert_eq!((s.count, s.median_ms, s.p90_ms), (4, Some(25), Some(37)));
    }

    #[test]
    fn a_morning_at_reception_gives_its_waits_outcomes_and_providers() {
        let (reception, _, rita, priya, omar) = ids();
        let note = || Note::parse("Please see your GP").unwrap();
        let trails = vec![
            // Ana arrives 09:00, Rita triages at 09:04, puts her on hold, Dr Priya sees her at
            // 09:10 and the call ends at 09:30.
            Trail::opened(9 * 60, reception, Status::Waiting)
                .then(
                    9 * 60 + 4,
                    rita,
                    Change::Claimed { staff: rita },
                    Status::InCall,
                )
                .then(
                    9 * 60 + 6,
                    rita,
                    Change::LeftCall { staff: rita },
                    Status::InCall,
                )
                .then(9 * 60 + 6, rita, Change::PutOnHold, Status::OnHold)
                .then(
                    9 * 60 + 10,
                    priya,
                    Change::Claimed { staff: priya },
                    Status::InCall,
                )
                .then(9 * 60 + 30, priya, Change::CallEnded, Status::Completed),
            // Ben arrives 09:20, Dr Omar claims him at 09:40 and ends at 09:45.
            Trail::opened(9 * 60 + 20, reception, Status::Waiting)
                .then(
                    9 * 60 + 40,
                    omar,
                    Change::Claimed { staff: omar },
                    Status::InCall,
                )
                .then(9 * 60 + 45, omar, Change::CallEnded, Status::Completed),
            // Cai arrives 10:15 and is declined by Rita at 10:16 (no contact).
            Trail::opened(10 * 60 + 15, reception, Status::Waiting).then(
                10 * 60 + 16,
                rita,
                Change::Declined {
                    note: note(),
                    automatic: false,
                },
                Status::Declined,
            ),
        ];
        let mut trails = trails;
        // Dee arrives 10:30 and leaves at 10:50.
        let mut dee = Trail::opened(10 * 60 + 30, reception, Status::Waiting);
        dee.push(
            10 * 60 + 50,
            ActorRef::Patient,
            Change::PatientLeft,
            Status::Left,
        );
        trails.push(dee);
        // Yesterday's patient does not count.
        trails.push(Trail::opened(-60, reception, Status::Waiting).then(
            -50,
            rita,
            Change::Claimed { staff: rita },
            Status::InCall,
        ));
        let r = report(trails, None);
        assert_eq!((r.visits, r.arrivals), (4, 4));
        assert_eq!(r.by_hour.len(), 24);
        assert_eq!(r.by_hour[9].arrivals, 2);
        assert_eq!(r.by_hour[10].arrivals, 2);
        assert_eq!(r.by_hour[9].wait_for_staff.median_ms, Some(12 * MIN)); // 4 and 20
        assert_eq!(r.by_hour[10].wait_for_staff.count, 0);
        // Staff contact: 4 and 20 minutes.
        assert_eq!(r.wait_for_staff.count, 2);
        assert_eq!(r.wait_for_staff.median_ms, Some(12 * MIN));
        assert_eq!(r.wait_for_staff.p90_ms, Some(4 * MIN + 16 * MIN * 9 / 10));
        // A provider: 10 (Ana, Priya) and 20 (Ben, Omar) minutes.
        assert_eq!(r.wait_for_provider.median_ms, Some(15 * MIN));
        // In calls: Ana 2 + 20 = 22 minutes, Ben 5.
        assert_eq!(r.time_in_call.count, 2);
        assert_eq!(r.time_in_call.median_ms, Some(27 * MIN / 2));
        let o = r.outcomes;
        assert_eq!(
            (o.completed, o.declined, o.left, o.no_show, o.open),
            (2, 1, 1, 0, 0)
        );
        // By name: Omar, then Priya; the receptionist has no line.
        let names: Vec<_> = r.providers.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["Dr. Omar Haddad", "Dr. Priya Shah"]);
        let priya_line = &r.providers[1];
        assert_eq!((priya_line.visits, priya_line.seen), (1, 1));
        assert_eq!(priya_line.wait_for_provider.median_ms, Some(10 * MIN));
        assert_eq!(priya_line.time_in_call.median_ms, Some(22 * MIN));
        assert_eq!(priya_line.outcomes.completed, 1);
    }

    #[test]
    fn a_room_counts_the_visits_that_passed_through_it() {
        let (reception, own_room, rita, priya, _) = ids();
        let transferred = Trail::opened(9 * 60, reception, Status::Waiting).then(
            9 * 60 + 5,
            rita,
            Change::Transferred {
                from_room: reception,
                to: TransferTarget::Provider {
                    provider: priya,
                    room: own_room,
                },
                note: None,
            },
            Status::Waiting,
        );
        let stayed = Trail::opened(9 * 60, reception, Status::Waiting);
        let r = report(vec![transferred, stayed], Some(own_room));
        assert_eq!(r.visits, 1);
        assert_eq!(r.outcomes.open, 1);
        // Not yet seen: it is the provider's it was sent to.
        assert_eq!(r.providers.len(), 1);
        assert_eq!((r.providers[0].visits, r.providers[0].seen), (1, 0));
        assert_eq!(r.wait_for_provider.count, 0);
    }

    #[test]
    fn one_who_never_arrived_counts_when_the_visit_ended() {
        let (reception, _, _, priya, _) = ids();
        // A request opened yesterday evening, declined by the clinic this morning.
        let mut t = Trail::opened(-120, reception, Status::Requested);
        if let Change::Opened(o) = &mut t.0[0].change {
            o.requested_provider = Some(priya);
        }
        t.push(
            8 * 60,
            ActorRef::System,
            Change::Declined {
                note: Note::parse("Unavailable").unwrap(),
                automatic: true,
            },
            Status::Declined,
        );
        let r = report(vec![t], None);
        assert_eq!((r.visits, r.arrivals), (1, 0));
        assert_eq!(r.outcomes.declined, 1);
        assert!(r.by_hour.iter().all(|h| h.arrivals == 0));
        assert_eq!(r.providers[0].outcomes.declined, 1);
    }
}
