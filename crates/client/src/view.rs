//! What the console shows, built from confirmed state with this console's pending actions laid
//! on top (marked pending, never shown as done) and the outcomes of refused ones.

use crate::state::ClinicState;
use crate::store::{Action, ActionKind, Outcome};
use frontdesk_api::{Clinic, RoomInfo, StaffInfo, StaffRef};
use frontdesk_domain::board::{ProviderNow, RequestAnswer, provider_now, request_by_staff};
use frontdesk_domain::queue::{Section, finished_at, finished_in, seen_by, triage, wait_figures};
use frontdesk_domain::{
    Actor, Availability, Command, CommandKind, RoomId, StaffId, Status, Timestamp, Visit, VisitId,
};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ConnectionState {
    Online,
    Connecting,
    Offline,
    Resyncing,
    /// The server no longer accepts our token.
    SignedOut,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct ConnectionView {
    pub state: ConnectionState,
    /// Offline since (epoch ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<i64>,
    /// When the data shown was last confirmed by the server (epoch ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_of: Option<i64>,
    /// Actions waiting to be sent.
    pub pending: usize,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct MeView {
    #[serde(flatten)]
    pub staff: StaffInfo,
    /// The availability just asked for is not confirmed yet.
    pub availability_pending: bool,
    /// What this person may set their availability to, as the domain answers it.
    pub availability_choices: Vec<Availability>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct PendingView {
    pub action_id: String,
    pub command: String,
    pub since: i64,
}

/// One line of a queue, request list or session list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct QueueRow {
    pub visit_id: VisitId,
    pub room_id: RoomId,
    pub room_name: String,
    pub status: Status,
    pub priority: frontdesk_domain::Priority,
    pub patient_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrived_at: Option<i64>,
    /// When the current stretch in the waiting area began: the UI counts from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting_since: Option<i64>,
    /// While waiting, the instant the total wait since arrival counts from (every stretch in
    /// a waiting area added up): the total wait is now minus this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_wait_from: Option<i64>,
    /// All time spent waiting so far (ms), as of the view's `now`.
    pub total_waited: i64,
    /// When the call going on now began: the UI's call timer counts from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_started_at: Option<i64>,
    /// The call's join link, for someone in this call, when the clinic makes links.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_link: Option<String>,
    /// In a room whose queue is mine (the domain's queue_rooms). Rows of other rooms are in
    /// the queue only for those who may look over every room (the "All rooms" view).
    pub in_my_rooms: bool,
    /// The queue's section for triage (Waiting, With staff); none outside the queue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub section: Option<Section>,
    pub in_call: Vec<StaffRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigned_provider: Option<StaffRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_provider: Option<StaffRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub triage_note: Option<String>,
    pub version: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts_at: Option<i64>,
    pub pending: Vec<PendingView>,
    pub intake_finished: bool,
    pub after_hours: bool,
    /// What I may do to this visit now, as the domain answers it, in the order to offer them.
    pub allowed: Vec<CommandKind>,
    /// A booked session I may take as mine (assign to myself).
    pub takes_session: bool,
}

/// A session request I made, as I follow it on the providers board.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct MyRequest {
    pub visit_id: VisitId,
    pub patient_name: String,
    pub answer: RequestAnswer,
    /// When I asked (epoch ms).
    pub asked_at: i64,
}

/// A provider on the providers board: what they are doing now, their own room (where a
/// request to them goes), and the requests I made to them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct ProviderRow {
    pub id: StaffId,
    pub name: String,
    pub now: ProviderNow,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room_id: Option<RoomId>,
    pub requests: Vec<MyRequest>,
}

/// One line of the day view: a patient who finished today.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct DayRow {
    #[serde(flatten)]
    #[cfg_attr(feature = "typescript", ts(flatten))]
    pub row: QueueRow,
    /// When the visit finished (completed, left, declined, no-show, cancelled), epoch ms.
    pub finished_at: i64,
    /// Who saw the patient (took them into a call or joined it), first first.
    pub seen_by: Vec<StaffRef>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct View {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub me: Option<MeView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clinic: Option<Clinic>,
    pub connection: ConnectionView,
    pub rooms: Vec<RoomInfo>,
    pub staff: Vec<StaffInfo>,
    pub queue: Vec<QueueRow>,
    pub requests: Vec<QueueRow>,
    pub sessions: Vec<QueueRow>,
    /// Today's finished visits in the rooms I see, the latest to finish first.
    pub today: Vec<DayRow>,
    /// The clinic's providers, by name, with the session requests I made to them.
    pub providers: Vec<ProviderRow>,
    pub outcomes: Vec<Outcome>,
    pub now: i64,
}

/// The availability this person asked for last, pending or confirmed.
pub fn effective_availability(state: &ClinicState, pending: &[Action]) -> Option<Availability> {
    let me = state.me.as_ref().map(|m| m.id);
    let asked = pending
        .iter()
        .rev()
        .filter(|a| a.queued_by(me))
        .find_map(|a| match a.kind {
            ActionKind::Availability { availability } => Some(availability),
            ActionKind::Visit { .. } => None,
        });
    asked.or(state.me.as_ref().map(|m| m.availability))
}

/// The rooms whose queue this person sees, as the domain answers it.
pub fn my_rooms(state: &ClinicState) -> Vec<RoomId> {
    let mine = state
        .me
        .as_ref()
        .map(|m| m.rooms.as_slice())
        .unwrap_or_default();
    frontdesk_domain::queue_rooms(mine, state.rooms.keys().copied())
}

/// Builds the whole view. `day` is today's span in the clinic's local time, for sessions.
pub fn build(
    state: &ClinicState,
    pending: &[Action],
    outcomes: Vec<Outcome>,
    connection: ConnectionView,
    now: Timestamp,
    day: (Timestamp, Timestamp),
) -> View {
    let name_of = |id: StaffId| StaffRef {
        id,
        name: state
            .staff
            .get(&id)
            .map(|s| s.name.clone())
            .unwrap_or_else(|| "someone".into()),
    };
    let actor = state.me.as_ref().map(|m| Actor::Staff {
        id: m.id,
        roles: m.roles,
    });
    let rooms = my_rooms(state);
    // Reception and admins may look over every room: the other rooms' rows come too, marked.
    let all_rooms = state
        .me
        .as_ref()
        .is_some_and(|m| frontdesk_domain::sees_all_rooms(m.roles));
    // The link is for those in the call: it is how they get into it.
    let call_link = |v: &Visit| {
        let me = state.me.as_ref()?;
        let clinic = state.clinic.as_ref()?;
        (v.status == Status::InCall && v.in_call.contains(&me.id))
            .then(|| clinic.video_link(v.room_id, v.id))
            .flatten()
    };
    let row = |v: &Visit| {
        let figures = wait_figures(v, now);
        let allowed = actor
            .map(|a| frontdesk_domain::allowed(v, &a))
            .unwrap_or_default();
        let takes_session = match (&actor, &state.me) {
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
            room_name: state
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
            call_link: call_link(v),
            section: Section::of(v.status),
            in_my_rooms: rooms.contains(&v.room_id),
            in_call: v.in_call.iter().map(|id| name_of(*id)).collect(),
            assigned_provider: v.assigned_provider.map(name_of),
            requested_provider: v.requested_provider.map(name_of),
            triage_note: v.triage_note.as_ref().map(|n| n.to_string()),
            version: v.version,
            starts_at: v.booking.as_ref().map(|b| b.starts_at.as_millis()),
            pending: pending
                .iter()
                .filter_map(|a| match &a.kind {
                    ActionKind::Visit {
                        visit_id, command, ..
                    } if *visit_id == v.id => Some(PendingView {
                        action_id: a.action_id.clone(),
                        command: command.name().to_string(),
                        since: a.at.as_millis(),
                    }),
                    _ => None,
                })
                .collect(),
            intake_finished: v.intake_finished,
            after_hours: v.after_hours,
            allowed,
            takes_session,
        }
    };
    // Laid out for triage by the domain: Waiting (priority, longest total wait), then With staff.
    let queue = triage(
        state
            .visits
            .values()
            .filter(|v| v.status.is_in_queue() && (all_rooms || rooms.contains(&v.room_id))),
        now,
    );
    let mut requests: Vec<&Visit> = state
        .visits
        .values()
        .filter(|v| {
            v.status == Status::Requested
                && actor.is_some_and(|a| frontdesk_domain::sees_request(v, &a))
        })
        .collect();
    requests.sort_by_key(|v| (v.created_at, v.id));
    let mut sessions: Vec<&Visit> = state
        .visits
        .values()
        .filter(|v| {
            v.status == Status::Scheduled
                && v.booking
                    .as_ref()
                    .is_some_and(|b| b.starts_at >= day.0 && b.starts_at < day.1)
        })
        .collect();
    sessions.sort_by_key(|v| (v.booking.as_ref().map(|b| b.starts_at), v.id));

    // The day: who finished today in the rooms this person sees (as the queue's rooms).
    let today = finished_in(
        state
            .today
            .values()
            .filter(|v| all_rooms || rooms.contains(&v.room_id)),
        day,
    );

    // The providers board: a call they are in shows before what they set; my requests to each.
    let my_id = state.me.as_ref().map(|m| m.id);
    let mut mine: Vec<(StaffId, MyRequest)> = state
        .visits
        .values()
        .chain(state.today.values())
        .filter_map(|v| {
            let (by, provider, answer) = request_by_staff(v)?;
            (Some(by) == my_id).then(|| {
                let request = MyRequest {
                    visit_id: v.id,
                    patient_name: v.patient.name.to_string(),
                    answer,
                    asked_at: v.created_at.as_millis(),
                };
                (provider, request)
            })
        })
        .collect();
    mine.sort_by_key(|(_, r)| std::cmp::Reverse((r.asked_at, r.visit_id)));
    let mut providers: Vec<ProviderRow> = state
        .staff
        .values()
        .filter(|s| s.roles.has(frontdesk_domain::Role::Provider))
        .map(|s| ProviderRow {
            id: s.id,
            name: s.name.clone(),
            now: provider_now(
                s.availability,
                state.visits.values().any(|v| {
                    v.status == frontdesk_domain::Status::InCall && v.in_call.contains(&s.id)
                }),
            ),
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

    let me_view = state.me.clone().map(|mut staff| {
        let effective = effective_availability(state, pending).unwrap_or(staff.availability);
        let availability_pending = effective != staff.availability
            || pending.iter().any(|a| {
                a.queued_by(Some(staff.id)) && matches!(a.kind, ActionKind::Availability { .. })
            });
        staff.availability = effective;
        MeView {
            availability_choices: Availability::choices_for(staff.roles).to_vec(),
            staff,
            availability_pending,
        }
    });
    View {
        me: me_view,
        clinic: state.clinic.clone(),
        connection,
        rooms: state.rooms.values().cloned().collect(),
        staff: state.staff.values().cloned().collect(),
        queue: queue.into_iter().map(row).collect(),
        requests: requests.into_iter().map(row).collect(),
        sessions: sessions.into_iter().map(row).collect(),
        today: today
            .into_iter()
            .map(|v| DayRow {
                row: row(v),
                finished_at: finished_at(v).map_or(0, Timestamp::as_millis),
                seen_by: seen_by(v).into_iter().map(name_of).collect(),
            })
            .collect(),
        providers,
        outcomes,
        now: now.as_millis(),
    }
}
