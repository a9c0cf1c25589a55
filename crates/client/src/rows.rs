//! The view's rows, kept from one look to the next. A visit's row is made again only when the
//! visit's version or this console's pending actions on it moved, or when what every row reads
//! changed (who I am, the rooms, the staff's names, the clinic, the day). A row that comes out
//! different gets a new stamp from one counter, so a screen holding the rows it was sent is
//! brought up to date by the rows whose stamp moved and the ids that left: [`ViewChanges`],
//! whose size follows what changed, not how long the queue is.

use crate::state::ClinicState;
use crate::store::{Action, ActionKind, Outcome};
use crate::view::{
    ConnectionView, DayRow, MeView, MyRequest, PendingView, ProviderRow, QueueRow, View,
    effective_availability, my_rooms,
};
use frontdesk_api::{Clinic, RoomInfo, StaffInfo, StaffRef};
use frontdesk_domain::board::{provider_now, request_by_staff};
use frontdesk_domain::queue::{Section, finished_at, seen_by, triage_rank, wait_figures};
use frontdesk_domain::{
    Actor, Availability, Command, RoomId, StaffId, Status, Timestamp, Visit, VisitId,
};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// A visit's row and the list it is in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(tag = "list", rename_all = "snake_case")]
pub enum Listed {
    Queue { row: QueueRow },
    Requests { row: QueueRow },
    Sessions { row: QueueRow },
    Today { row: DayRow },
}

/// One visit's row as it is now; without `listed`, the visit left every list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct RowChange {
    pub visit_id: VisitId,
    pub version: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub listed: Option<Listed>,
}

/// The clinic's directory: it changes seldom, and is sent only when it did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct Directory {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clinic: Option<Clinic>,
    pub rooms: Vec<RoomInfo>,
    pub staff: Vec<StaffInfo>,
}

/// What changed since the screen was last sent the view: the rows that changed or left, the
/// header's figures (who I am, the connection with the actions waiting, refusals to show, the
/// time), and the directory and the providers board only when they changed.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct ViewChanges {
    pub rows: Vec<RowChange>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub me: Option<MeView>,
    pub connection: ConnectionView,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub directory: Option<Directory>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub providers: Option<Vec<ProviderRow>>,
    pub outcomes: Vec<Outcome>,
    pub now: i64,
}

/// What a screen was sent: the stamp of each row it holds, of its directory and of its board.
#[derive(Clone, Debug, Default)]
pub struct Sent {
    rows: HashMap<VisitId, u64>,
    directory: u64,
    providers: u64,
}

/// What every row reads besides its own visit.
#[derive(Clone, Debug, PartialEq)]
struct Context {
    me: Option<StaffInfo>,
    rooms: BTreeMap<RoomId, RoomInfo>,
    staff: BTreeMap<StaffId, StaffInfo>,
    clinic: Option<Clinic>,
    day: (Timestamp, Timestamp),
}

/// One visit's row as last made, with what it was made from.
#[derive(Debug)]
struct Held {
    version: u64,
    pending: Vec<String>,
    stamp: u64,
    /// Boxed, like the visits in [`ClinicState`](crate::state::ClinicState): a row is some
    /// hundreds of bytes, and a map keeps room for twice the rows it holds.
    listed: Option<Box<Listed>>,
    /// Staff in this visit's call now (for the providers board).
    in_call: Vec<StaffId>,
    /// A session request I made, to the provider asked (for the providers board).
    my_request: Option<(StaffId, MyRequest)>,
}

/// The rows of the last look, and the counter their stamps come from.
#[derive(Debug, Default)]
pub struct RowBook {
    rows: HashMap<VisitId, Held>,
    context: Option<Context>,
    stamp: u64,
    directory_stamp: u64,
    providers: Vec<ProviderRow>,
    providers_stamp: u64,
    me: Option<MeView>,
}

/// The pending actions on one visit, as its row shows them.
fn pending_on(visit: VisitId, pending: &[Action]) -> Vec<PendingView> {
    pending
        .iter()
        .filter_map(|a| match &a.kind {
            ActionKind::Visit {
                visit_id, command, ..
            } if *visit_id == visit => Some(PendingView {
                action_id: a.action_id.clone(),
                command: command.name().to_string(),
                since: a.at.as_millis(),
            }),
            _ => None,
        })
        .collect()
}

/// Makes rows as the person signed in sees them.
struct RowMaker<'a> {
    state: &'a ClinicState,
    actor: Option<Actor>,
    rooms: Vec<RoomId>,
    all_rooms: bool,
    now: Timestamp,
    day: (Timestamp, Timestamp),
}

impl RowMaker<'_> {
    fn name_of(&self, id: StaffId) -> StaffRef {
        StaffRef {
            id,
            name: self
                .state
                .staff
                .get(&id)
                .map(|s| s.name.clone())
                .unwrap_or_else(|| "someone".into()),
        }
    }

    /// The link is for those in the call: it is how they get into it.
    fn call_link(&self, v: &Visit) -> Option<String> {
        let me = self.state.me.as_ref()?;
        let clinic = self.state.clinic.as_ref()?;
        (v.status == Status::InCall && v.in_call.contains(&me.id))
            .then(|| clinic.video_link(v.room_id, v.id))
            .flatten()
    }

    fn row(&self, v: &Visit, rank: Vec<i64>, pending: Vec<PendingView>) -> QueueRow {
        let now = self.now;
        let figures = wait_figures(v, now);
        let takes_session = match (&self.actor, &self.state.me) {
            (Some(a), Some(m)) if v.status == Status::Scheduled => {
                let take = Command::Assign {
                    provider: m.id,
                    note: None,
                };
                frontdesk_domain::permits(v, a, &take).is_ok()
            }
            _ => false,
        };
        QueueRow {
            visit_id: v.id,
            room_id: v.room_id,
            room_name: self
                .state
                .rooms
                .get(&v.room_id)
                .map(|r| r.name.clone())
                .unwrap_or_default(),
            status: v.status,
            priority: v.priority,
            patient_name: v.patient.name.to_string(),
            arrived_at: v.arrived_at.map(Timestamp::as_millis),
            waiting_since: figures.waiting_since.map(Timestamp::as_millis),
            total_wait_from: figures.total_wait_from(now).map(Timestamp::as_millis),
            total_waited: figures.total_waiting.as_millis(),
            call_started_at: figures.in_call_since.map(Timestamp::as_millis),
            call_link: self.call_link(v),
            section: Section::of(v.status),
            in_my_rooms: self.rooms.contains(&v.room_id),
            in_call: v.in_call.iter().map(|id| self.name_of(*id)).collect(),
            assigned_provider: v.assigned_provider.map(|id| self.name_of(id)),
            requested_provider: v.requested_provider.map(|id| self.name_of(id)),
            triage_note: v.triage_note.as_ref().map(|n| n.to_string()),
            version: v.version,
            rank,
            starts_at: v.booking.as_ref().map(|b| b.starts_at.as_millis()),
            pending,
            intake_finished: v.intake_finished,
            after_hours: v.after_hours,
            allowed: self
                .actor
                .map(|a| frontdesk_domain::allowed(v, &a))
                .unwrap_or_default(),
            takes_session,
        }
    }

    /// The list a visit's row is in, if any, and the row. `finished` says it is one of the
    /// day's finished visits.
    fn listed(&self, v: &Visit, finished: bool, pending: Vec<PendingView>) -> Option<Listed> {
        let in_rooms = self.all_rooms || self.rooms.contains(&v.room_id);
        if finished {
            let at = finished_at(v).filter(|at| *at >= self.day.0 && *at < self.day.1)?;
            return in_rooms.then(|| Listed::Today {
                row: DayRow {
                    row: self.row(v, vec![-at.as_millis()], pending),
                    finished_at: at.as_millis(),
                    seen_by: seen_by(v).into_iter().map(|id| self.name_of(id)).collect(),
                },
            });
        }
        if v.status.is_in_queue() && in_rooms {
            let rank = triage_rank(v, self.now)?.to_vec();
            return Some(Listed::Queue {
                row: self.row(v, rank, pending),
            });
        }
        if v.status == Status::Requested
            && self
                .actor
                .is_some_and(|a| frontdesk_domain::sees_request(v, &a))
        {
            let rank = vec![v.created_at.as_millis()];
            return Some(Listed::Requests {
                row: self.row(v, rank, pending),
            });
        }
        let starts = v.booking.as_ref().map(|b| b.starts_at);
        if v.status == Status::Scheduled
            && starts.is_some_and(|at| at >= self.day.0 && at < self.day.1)
        {
            let rank = vec![starts.map_or(0, Timestamp::as_millis)];
            return Some(Listed::Sessions {
                row: self.row(v, rank, pending),
            });
        }
        None
    }

    fn my_request(&self, v: &Visit) -> Option<(StaffId, MyRequest)> {
        let (by, provider, answer) = request_by_staff(v)?;
        (Some(by) == self.state.me.as_ref().map(|m| m.id)).then(|| {
            let request = MyRequest {
                visit_id: v.id,
                patient_name: v.patient.name.to_string(),
                answer,
                asked_at: v.created_at.as_millis(),
            };
            (provider, request)
        })
    }
}

impl RowBook {
    /// Brings the rows up to date with the state and the outbox. `day` is today's span in the
    /// clinic's local time; `dismissed` the requests put away from the providers board.
    pub fn refresh(
        &mut self,
        state: &ClinicState,
        pending: &[Action],
        dismissed: &BTreeSet<VisitId>,
        now: Timestamp,
        day: (Timestamp, Timestamp),
    ) {
        let context = Context {
            me: state.me.clone(),
            rooms: state.rooms.clone(),
            staff: state.staff.clone(),
            clinic: state.clinic.clone(),
            day,
        };
        let all = self.context.as_ref() != Some(&context);
        if all {
            self.context = Some(context);
            self.stamp += 1;
            self.directory_stamp = self.stamp;
        }
        let maker = RowMaker {
            state,
            actor: state.me.as_ref().map(|m| Actor::Staff {
                id: m.id,
                roles: m.roles,
            }),
            rooms: my_rooms(state),
            all_rooms: state
                .me
                .as_ref()
                .is_some_and(|m| frontdesk_domain::sees_all_rooms(m.roles)),
            now,
            day,
        };
        let mut pending_ids: HashMap<VisitId, Vec<String>> = HashMap::new();
        for a in pending {
            if let ActionKind::Visit { visit_id, .. } = &a.kind {
                pending_ids
                    .entry(*visit_id)
                    .or_default()
                    .push(a.action_id.clone());
            }
        }
        let mut seen = HashSet::with_capacity(state.visits.len() + state.today.len());
        let visits = state.visits.values().map(|v| (v, false));
        for (v, finished) in visits.chain(state.today.values().map(|v| (v, true))) {
            seen.insert(v.id);
            let ids = pending_ids.remove(&v.id).unwrap_or_default();
            if let Some(held) = self.rows.get(&v.id)
                && !all
                && held.version == v.version
                && held.pending == ids
            {
                continue;
            }
            let listed = maker.listed(v, finished, pending_on(v.id, pending));
            let stamp = match self.rows.get(&v.id) {
                Some(held) if held.listed.as_deref() == listed.as_ref() => held.stamp,
                _ => {
                    self.stamp += 1;
                    self.stamp
                }
            };
            let held = Held {
                version: v.version,
                pending: ids,
                stamp,
                listed: listed.map(Box::new),
                in_call: if v.status == Status::InCall {
                    v.in_call.clone()
                } else {
                    Vec::new()
                },
                my_request: maker.my_request(v),
            };
            self.rows.insert(v.id, held);
        }
        self.rows.retain(|id, _| seen.contains(id));
        self.refresh_board(state, dismissed);
        self.me = state.me.clone().map(|mut staff| {
            let effective = effective_availability(state, pending).unwrap_or(staff.availability);
            let availability_pending = effective != staff.availability
                || pending.iter().any(|a| {
                    a.queued_by(Some(staff.id)) && matches!(a.kind, ActionKind::Availability { .. })
                });
            staff.availability = effective;
            MeView {
                availability_choices: Availability::choices_for(staff.roles).to_vec(),
                workspaces: frontdesk_domain::Workspace::for_roles(staff.roles),
                staff,
                availability_pending,
            }
        });
    }

    /// The providers board: a call they are in shows before what they set; my requests to
    /// each, the latest first, less those put away.
    fn refresh_board(&mut self, state: &ClinicState, dismissed: &BTreeSet<VisitId>) {
        let mut mine: Vec<&(StaffId, MyRequest)> = self
            .rows
            .values()
            .filter_map(|h| h.my_request.as_ref())
            .filter(|(_, r)| !dismissed.contains(&r.visit_id))
            .collect();
        mine.sort_by_key(|(_, r)| std::cmp::Reverse((r.asked_at, r.visit_id)));
        let in_call: HashSet<StaffId> = self
            .rows
            .values()
            .flat_map(|h| h.in_call.iter().copied())
            .collect();
        let mut providers: Vec<ProviderRow> = state
            .staff
            .values()
            .filter(|s| s.roles.has(frontdesk_domain::Role::Provider))
            .map(|s| ProviderRow {
                id: s.id,
                name: s.name.clone(),
                now: provider_now(s.availability, in_call.contains(&s.id)),
                room_id: state
                    .rooms
                    .values()
                    .find(|r| r.provider == Some(s.id))
                    .map(|r| r.id),
                requests: mine
                    .iter()
                    .filter(|(p, _)| *p == s.id)
                    .map(|(_, r)| r.clone())
                    .collect(),
            })
            .collect();
        providers.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        if providers != self.providers {
            self.providers = providers;
            self.stamp += 1;
            self.providers_stamp = self.stamp;
        }
    }

    fn directory(&self) -> Directory {
        let context = self.context.as_ref();
        Directory {
            clinic: context.and_then(|c| c.clinic.clone()),
            rooms: context
                .map(|c| c.rooms.values().cloned().collect())
                .unwrap_or_default(),
            staff: context
                .map(|c| c.staff.values().cloned().collect())
                .unwrap_or_default(),
        }
    }

    /// The whole view as last refreshed, and what a screen sent it holds.
    pub fn view(
        &self,
        connection: ConnectionView,
        outcomes: Vec<Outcome>,
        now: Timestamp,
    ) -> (View, Sent) {
        let mut held: Vec<(&VisitId, &Held)> = self.rows.iter().collect();
        held.sort_by(|a, b| a.0.cmp(b.0));
        let mut lists: [Vec<(&[i64], VisitId, &Listed)>; 4] = Default::default();
        for (id, h) in &held {
            let Some(listed) = h.listed.as_deref() else {
                continue;
            };
            let (list, rank) = match listed {
                Listed::Queue { row } => (0, &row.rank),
                Listed::Requests { row } => (1, &row.rank),
                Listed::Sessions { row } => (2, &row.rank),
                Listed::Today { row } => (3, &row.row.rank),
            };
            lists[list].push((rank.as_slice(), **id, listed));
        }
        for list in &mut lists {
            list.sort_by(|a, b| a.0.cmp(b.0).then(a.1.cmp(&b.1)));
        }
        let [queue, requests, sessions, today] = lists;
        let rows = |list: Vec<(&[i64], VisitId, &Listed)>| -> Vec<QueueRow> {
            list.into_iter()
                .filter_map(|(_, _, l)| match l {
                    Listed::Queue { row } | Listed::Requests { row } | Listed::Sessions { row } => {
                        Some(row.clone())
                    }
                    Listed::Today { .. } => None,
                })
                .collect()
        };
        let directory = self.directory();
        let view = View {
            me: self.me.clone(),
            clinic: directory.clinic,
            connection,
            rooms: directory.rooms,
            staff: directory.staff,
            queue: rows(queue),
            requests: rows(requests),
            sessions: rows(sessions),
            today: today
                .into_iter()
                .filter_map(|(_, _, l)| match l {
                    Listed::Today { row } => Some(row.clone()),
                    _ => None,
                })
                .collect(),
            providers: self.providers.clone(),
            outcomes,
            now: now.as_millis(),
        };
        let sent = Sent {
            rows: held.iter().map(|(id, h)| (**id, h.stamp)).collect(),
            directory: self.directory_stamp,
            providers: self.providers_stamp,
        };
        (view, sent)
    }

    /// What changed since `sent`, which is brought up to date.
    pub fn changes(
        &self,
        sent: &mut Sent,
        connection: ConnectionView,
        outcomes: Vec<Outcome>,
        now: Timestamp,
    ) -> ViewChanges {
        let mut rows = Vec::new();
        for (id, held) in &self.rows {
            if sent.rows.get(id) != Some(&held.stamp) {
                sent.rows.insert(*id, held.stamp);
                rows.push(RowChange {
                    visit_id: *id,
                    version: held.version,
                    listed: held.listed.as_deref().cloned(),
                });
            }
        }
        sent.rows.retain(|id, _| {
            let kept = self.rows.contains_key(id);
            if !kept {
                rows.push(RowChange {
                    visit_id: *id,
                    version: 0,
                    listed: None,
                });
            }
            kept
        });
        rows.sort_by_key(|r| r.visit_id);
        let directory = (sent.directory != self.directory_stamp).then(|| self.directory());
        sent.directory = self.directory_stamp;
        let providers = (sent.providers != self.providers_stamp).then(|| self.providers.clone());
        sent.providers = self.providers_stamp;
        ViewChanges {
            rows,
            me: self.me.clone(),
            connection,
            directory,
            providers,
            outcomes,
            now: now.as_millis(),
        }
    }

    /// Patients in the Waiting section of my rooms' queue (the tray's count).
    pub fn waiting(&self) -> usize {
        self.rows
            .values()
            .filter(|h| {
                matches!(h.listed.as_deref(), Some(Listed::Queue { row })
                    if row.in_my_rooms && row.section == Some(Section::Waiting))
            })
            .count()
    }
}

#[cfg(test)]
mod tests {
    //! What the rows hand a screen for an arrival, a claim and a patient leaving, in a queue of
    //! fifty: only that patient's row, whatever the queue's length.

    use super::*;
    use frontdesk_domain::{
        ClinicId, Context, Opening, Patient, PersonName, Role, Roles, apply, open,
    };

    const CLINIC: ClinicId = ClinicId::from_u128(1);
    const ROSA: StaffId = StaffId::from_u128(2);
    const T0: i64 = 1_800_000_000_000;

    struct Desk {
        state: ClinicState,
        book: RowBook,
        sent: Sent,
        now: Timestamp,
    }

    fn day() -> (Timestamp, Timestamp) {
        let start = T0 - T0.rem_euclid(86_400_000);
        (
            Timestamp::from_millis(start),
            Timestamp::from_millis(start + 86_400_000),
        )
    }

    fn online() -> ConnectionView {
        ConnectionView {
            state: crate::view::ConnectionState::Online,
            since: None,
            as_of: None,
            pending: 0,
        }
    }

    fn rosa() -> Actor {
        Actor::staff(ROSA, &[Role::Receptionist])
    }

    impl Desk {
        /// Reception with `waiting` patients in its queue, the screen sent the whole view.
        fn with_queue(waiting: u128) -> Desk {
            let room = RoomId::from_u128(3);
            let mut state = ClinicState::default();
            state.rooms.insert(
                room,
                serde_json::from_value(serde_json::json!({
                    "id": room, "clinic_id": CLINIC, "name": "Reception",
                }))
                .expect("a room"),
            );
            let me: StaffInfo = serde_json::from_value(serde_json::json!({
                "id": ROSA, "clinic_id": CLINIC, "name": "Rosa Martinez",
                "email": "rosa@harbour.test", "roles": Roles::of(&[Role::Receptionist]),
                "availability": "available", "rooms": [room],
            }))
            .expect("a person");
            state.staff.insert(ROSA, me.clone());
            state.me = Some(me);
            let mut desk = Desk {
                state,
                book: RowBook::default(),
                sent: Sent::default(),
                now: Timestamp::from_millis(T0),
            };
            for n in 0..waiting {
                desk.arrive(100 + n, &format!("Patient {n}"));
            }
            desk.book
                .refresh(&desk.state, &[], &BTreeSet::new(), desk.now, day());
            desk.sent = desk.book.view(online(), Vec::new(), desk.now).1;
            desk
        }

        fn arrive(&mut self, n: u128, name: &str) -> VisitId {
            self.now = self.now + frontdesk_domain::Span::from_millis(1_000);
            let ctx = Context {
                actor: Actor::Patient,
                at: self.now,
                expected_version: None,
            };
            let opening = Opening::Arrive {
                room: RoomId::from_u128(3),
                patient: Patient {
                    name: PersonName::parse(name).expect("a name"),
                    contact: None,
                },
                has_intake: false,
                after_hours: false,
            };
            let visit = open(VisitId::from_u128(n), CLINIC, &ctx, opening)
                .expect("the patient arrives")
                .visit;
            self.state.visits.insert(visit.id, Box::new(visit.clone()));
            visit.id
        }

        fn act(&mut self, id: VisitId, actor: Actor, command: Command) {
            self.now = self.now + frontdesk_domain::Span::from_millis(1_000);
            let visit = self.state.visits[&id].clone();
            let ctx = Context {
                actor,
                at: self.now,
                expected_version: Some(visit.version),
            };
            let done = apply(&visit, &ctx, &command).expect("accepted");
            assert!(self.state.lay_answer(id, done.visit.version, &done.entries));
        }

        /// The rows the next push carries.
        fn pushed(&mut self) -> Vec<RowChange> {
            self.book
                .refresh(&self.state, &[], &BTreeSet::new(), self.now, day());
            self.book
                .changes(&mut self.sent, online(), Vec::new(), self.now)
                .rows
        }
    }

    #[test]
    fn an_arrival_pushes_its_row_alone_into_the_queue() {
        let mut desk = Desk::with_queue(50);
        let id = desk.arrive(7, "Noor Haddad");
        let rows = desk.pushed();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].visit_id, id);
        assert_eq!(rows[0].version, 1);
        let Some(Listed::Queue { row }) = &rows[0].listed else {
            panic!("in the queue: {rows:?}");
        };
        assert_eq!(row.patient_name, "Noor Haddad");
        // The latest to arrive waits least: the row ranks after the fifty.
        let (view, _) = desk.book.view(online(), Vec::new(), desk.now);
        assert_eq!(view.queue.len(), 51);
        assert_eq!(view.queue.last().map(|r| r.visit_id), Some(id));
        assert!(
            desk.pushed().is_empty(),
            "nothing more until something changes"
        );
    }

    #[test]
    fn a_claim_pushes_the_claimed_row_with_staff() {
        let mut desk = Desk::with_queue(50);
        let id = VisitId::from_u128(120);
        desk.act(id, rosa(), Command::Claim);
        let rows = desk.pushed();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].visit_id, id);
        assert_eq!(rows[0].version, 2);
        let Some(Listed::Queue { row }) = &rows[0].listed else {
            panic!("still in the queue: {rows:?}");
        };
        assert_eq!(row.status, Status::InCall);
        assert_eq!(row.section, Some(Section::WithStaff));
        assert_eq!(row.in_call[0].name, "Rosa Martinez");
    }

    #[test]
    fn a_patient_who_leaves_moves_to_the_day_and_one_gone_from_the_state_is_removed() {
        let mut desk = Desk::with_queue(50);
        let left = VisitId::from_u128(110);
        desk.act(left, Actor::Patient, Command::Leave);
        let rows = desk.pushed();
        assert_eq!(rows.len(), 1);
        assert!(
            matches!(&rows[0].listed, Some(Listed::Today { row }) if row.row.status == Status::Left)
        );

        let gone = VisitId::from_u128(111);
        desk.state.visits.remove(&gone);
        let rows = desk.pushed();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].visit_id, gone);
        assert_eq!(rows[0].listed, None, "a removal");
    }

    #[test]
    fn rows_of_unchanged_visits_are_not_made_again() {
        let mut desk = Desk::with_queue(50);
        let stamp_of = |book: &RowBook, id: u128| book.rows[&VisitId::from_u128(id)].stamp;
        let before = stamp_of(&desk.book, 100);
        desk.arrive(7, "Noor Haddad");
        assert_eq!(desk.pushed().len(), 1);
        assert_eq!(stamp_of(&desk.book, 100), before);
        // A change every row reads (the staff's names) makes them all again, and the directory
        // goes with them.
        desk.state.staff.get_mut(&ROSA).expect("Rosa").name = "Rosa M.".into();
        desk.book
            .refresh(&desk.state, &[], &BTreeSet::new(), desk.now, day());
        let changes = desk
            .book
            .changes(&mut desk.sent, online(), Vec::new(), desk.now);
        // The fifty rows made earlier are sent again (their wait so far moved on); Noor's,
        // made again at the same instant, came out the same and is not.
        assert_eq!(changes.rows.len(), 50);
        let directory = changes.directory.expect("the directory changed");
        assert_eq!(directory.staff[0].name, "Rosa M.");
    }
}
