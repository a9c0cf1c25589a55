//! The clinic as this console knows it: confirmed by the server up to `seq`. Events are laid on
//! in order, each at most once; a gap is reported so the engine can take a snapshot.

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
    /// Open visits only; finished ones leave.
    pub visits: HashMap<VisitId, Visit>,
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

/// The batch stopped at a missing `seq`: the engine must take a snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Gap {
    pub expected: u64,
    pub got: u64,
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
            finished: HashMap::new(),
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
                state.visits.insert(visit.id, visit);
            }
        }
        (state, changed)
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
                    }),
                );
            }
            self.seq = event.seq;
            self.as_of = Some(at);
            match event.body {
                EventBody::Visit { visit, entries, .. } => {
                    let id = visit.id;
                    if self.take_visit(*visit) {
                        changed.visits.insert(id);
                        changed.visit_changes.push(VisitChange {
                            visit_id: id,
                            new_entries: entries,
                        });
                    }
                }
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

    /// Takes a visit as the server now has it (from a command's answer), unless what we hold
    /// is newer. Returns whether anything changed.
    pub fn lay_visit(&mut self, visit: &Visit) -> bool {
        self.is_newer(visit) && self.take_visit(visit.clone())
    }

    fn is_newer(&self, visit: &Visit) -> bool {
        let held = self
            .visits
            .get(&visit.id)
            .map(|v| v.version)
            .or_else(|| self.finished.get(&visit.id).copied());
        held.is_none_or(|h| visit.version > h)
    }

    fn take_visit(&mut self, visit: Visit) -> bool {
        if !self.is_newer(&visit) {
            return false;
        }
        if visit.status.is_terminal() {
            self.visits.remove(&visit.id);
            self.finished.insert(visit.id, visit.version);
        } else {
            self.visits.insert(visit.id, visit);
        }
        true
    }
}
