//! The clinic as this console knows it: confirmed by the server up to `seq`. Events are laid on
//! in order, each at most once; a gap is reported so the engine can take a snapshot.
//!
//! A visit event carries the change (the entries one command added), and the console evolves
//! its copy by laying them on through the domain; an event it cannot lay on (a copy too far
//! behind, a visit never seen) is a gap like a missing `seq`.

use frontdesk_api::{Clinic, Event, EventBody, RoomInfo, Snapshot, StaffInfo};
use frontdesk_domain::{HistoryEntry, RoomId, StaffId, Timestamp, Visit, VisitId};
use std::collections::{BTreeMap, BTreeSet, HashMap};

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ClinicState {
    /// The last clinic `seq` laid on.
    pub seq: u64,
    pub clinic: Option<Clinic>,
    pub me: Option<StaffInfo>,
    /// When the server last confirmed this state (for "showing the queue as of 10:42").
    pub as_of: Option<Timestamp>,
    pub rooms: BTreeMap<RoomId, RoomInfo>,
    pub staff: BTreeMap<StaffId, StaffInfo>,
    /// Open visits only; finished ones leave (for `today`). Each is boxed: a visit is several
    /// hundred bytes before its history, and a map keeps room for up to twice what it holds.
    pub visits: HashMap<VisitId, Box<Visit>>,
    /// Visits that finished lately, whole (the day view): the server's list of the day's
    /// finished visits, plus those seen finishing since. The view keeps today's.
    pub today: HashMap<VisitId, Box<Visit>>,
    /// Versions at which visits finished, so a late, older copy cannot bring one back.
    finished: HashMap<VisitId, u64>,
}

/// A visit that changed, and the history entries it gained (what alerts are decided on).
#[derive(Clone, Debug, PartialEq)]
pub struct VisitChange {
    pub visit_id: VisitId,
    pub new_entries: Vec<HistoryEntry>,
}

/// What a batch changed, for the cache to write and the alert rules to read.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Changed {
    pub rooms: BTreeSet<RoomId>,
    pub staff: BTreeSet<StaffId>,
    pub visits: BTreeSet<VisitId>,
    pub visit_changes: Vec<VisitChange>,
}

impl Changed {
    pub fn is_empty(&self) -> bool {
        self.rooms.is_empty() && self.staff.is_empty() && self.visits.is_empty()
    }

    /// Folds a later batch into this one, keeping each visit's new entries in order.
    pub fn merge(&mut self, later: Changed) {
        self.rooms.extend(later.rooms);
        self.staff.extend(later.staff);
        self.visits.extend(later.visits);
        for change in later.visit_changes {
            match self
                .visit_changes
                .iter_mut()
                .find(|c| c.visit_id == change.visit_id)
            {
                Some(known) => known.new_entries.extend(change.new_entries),
                None => self.visit_changes.push(change),
            }
        }
    }
}

/// The batch stopped at a missing `seq`, or at a visit event whose base this console does not
/// hold: the engine must take a snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Gap {
    pub expected: u64,
    pub got: u64,
    /// Set when the seq was next but the visit's copy could not take the change.
    pub visit: Option<VisitId>,
}

/// What laying one visit change on did.
enum Laid {
    /// The copy took the entries (or the visit is new, or just finished).
    Changed(Vec<HistoryEntry>),
    /// The copy already had this version.
    Known,
    /// The copy is missing or too far behind to take these entries.
    Missing,
}

impl ClinicState {
    /// The state a snapshot describes. Compared with `previous`, it also says which visits
    /// gained history in between (for alerts after a resync).
    pub fn from_snapshot(
        snapshot: Snapshot,
        previous: &ClinicState,
        at: Timestamp,
    ) -> (ClinicState, Changed) {
        let mut state = ClinicState {
            seq: snapshot.seq,
            clinic: Some(snapshot.clinic),
            me: Some(snapshot.me.clone()),
            as_of: Some(at),
            rooms: snapshot.rooms.into_iter().map(|r| (r.id, r)).collect(),
            staff: snapshot.staff.into_iter().map(|s| (s.id, s)).collect(),
            visits: HashMap::new(),
            // Until the day's list comes again, the finished visits known so far stay.
            today: previous.today.clone(),
            finished: previous.today.values().map(|v| (v.id, v.version)).collect(),
        };
        state.staff.insert(snapshot.me.id, snapshot.me);
        let mut changed = Changed {
            rooms: state.rooms.keys().copied().collect(),
            staff: state.staff.keys().copied().collect(),
            ..Changed::default()
        };
        for visit in snapshot.visits {
            let known = previous.visits.get(&visit.id).map(|v| v.version);
            let new_entries: Vec<HistoryEntry> = visit
                .history
                .iter()
                .filter(|e| known.is_none_or(|k| e.version > k))
                .cloned()
                .collect();
            if !new_entries.is_empty() {
                changed.visit_changes.push(VisitChange {
                    visit_id: visit.id,
                    new_entries,
                });
            }
            changed.visits.insert(visit.id);
            if !visit.status.is_terminal() {
                state.today.remove(&visit.id);
                state.finished.remove(&visit.id);
                state.visits.insert(visit.id, Box::new(visit));
            }
        }
        (state, changed)
    }

    /// Takes the server's list of the day's finished visits as the day view's, keeping those
    /// seen finishing meanwhile. A listed visit newer than an open copy replaces it (it
    /// finished after the snapshot). Returns what changed, for the cache.
    pub fn set_today(&mut self, finished: Vec<Visit>, day_start: Timestamp) -> Changed {
        let mut changed = Changed::default();
        changed.visits.extend(self.today.keys().copied());
        let mut today: HashMap<VisitId, Box<Visit>> = self
            .today
            .drain()
            .filter(|(_, v)| v.updated_at >= day_start)
            .collect();
        for visit in finished {
            if !visit.status.is_terminal() {
                continue;
            }
            if self
                .visits
                .get(&visit.id)
                .is_some_and(|open| open.version >= visit.version)
            {
                continue;
            }
            self.visits.remove(&visit.id);
            self.finished.insert(visit.id, visit.version);
            changed.visits.insert(visit.id);
            match today.get(&visit.id) {
                Some(known) if known.version >= visit.version => {}
                _ => {
                    today.insert(visit.id, Box::new(visit));
                }
            }
        }
        changed.visits.extend(today.keys().copied());
        self.today = today;
        changed
    }

    /// Lays events on in `seq` order. Events at or below `seq` were seen already and are
    /// skipped; a jump past `seq + 1` stops the batch and is returned as a gap. Takes the
    /// events by value: a caught-up page moves into the state without copies.
    pub fn apply_events(
        &mut self,
        events: impl IntoIterator<Item = Event>,
        at: Timestamp,
    ) -> (Changed, Option<Gap>) {
        let mut changed = Changed::default();
        for event in events {
            if event.seq <= self.seq {
                continue;
            }
            if event.seq != self.seq + 1 {
                return (
                    changed,
                    Some(Gap {
                        expected: self.seq + 1,
                        got: event.seq,
                        visit: None,
                    }),
                );
            }
            if let EventBody::Visit {
                visit_id,
                version,
                entries,
            } = event.body
            {
                match self.lay_change(visit_id, version, entries) {
                    Laid::Changed(new_entries) => {
                        changed.visits.insert(visit_id);
                        changed.visit_changes.push(VisitChange {
                            visit_id,
                            new_entries,
                        });
                    }
                    Laid::Known => {}
                    Laid::Missing => {
                        return (
                            changed,
                            Some(Gap {
                                expected: event.seq,
                                got: event.seq,
                                visit: Some(visit_id),
                            }),
                        );
                    }
                }
                self.seq = event.seq;
                self.as_of = Some(at);
                continue;
            }
            self.seq = event.seq;
            self.as_of = Some(at);
            match event.body {
                EventBody::Visit { .. } | EventBody::Withheld => {}
                EventBody::Staff { staff } => {
                    if self.me.as_ref().is_some_and(|me| me.id == staff.id) {
                        self.me = Some(staff.clone());
                    }
                    changed.staff.insert(staff.id);
                    self.staff.insert(staff.id, staff);
                }
                EventBody::Room { room } => {
                    changed.rooms.insert(room.id);
                    self.rooms.insert(room.id, *room);
                }
            }
        }
        (changed, None)
    }

    /// Lays on the change a command's answer carries (the server answers before its event
    /// reaches the stream), when this console's copy is the version just before it. Returns
    /// whether anything changed; a copy further behind waits for the events.
    pub fn lay_answer(
        &mut self,
        visit_id: VisitId,
        version: u64,
        entries: &[HistoryEntry],
    ) -> bool {
        matches!(
            self.lay_change(visit_id, version, entries.to_vec()),
            Laid::Changed(_)
        )
    }

    /// Lays one command's entries (all of `version`) onto the visit's copy.
    fn lay_change(&mut self, id: VisitId, version: u64, entries: Vec<HistoryEntry>) -> Laid {
        if let Some(done) = self.finished.get(&id) {
            return if version <= *done {
                Laid::Known
            } else {
                Laid::Missing
            };
        }
        let visit = match self.visits.get_mut(&id) {
            Some(held) if version <= held.version => return Laid::Known,
            Some(held) => match held.continue_with(&entries) {
                Ok(()) => held,
                Err(_) => return Laid::Missing,
            },
            None => match Visit::replay(id, &entries) {
                // A visit this console has never seen can only be one just opened.
                Ok(opened) => self.visits.entry(id).or_insert(Box::new(opened)),
                Err(_) => return Laid::Missing,
            },
        };
        if visit.status.is_terminal() {
            let version = visit.version;
            if let Some(done) = self.visits.remove(&id) {
                self.today.insert(id, done);
            }
            self.finished.insert(id, version);
        }
        Laid::Changed(entries)
    }
}
