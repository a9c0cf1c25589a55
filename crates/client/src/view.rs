//! What the console shows: confirmed state with this console's pending actions laid on top
//! (marked pending, never shown as done) and the outcomes of refused ones. The rows are made
//! and kept by [`crate::rows`].

use crate::state::ClinicState;
use crate::store::{Action, ActionKind, Outcome};
use frontdesk_api::{Clinic, RoomInfo, StaffInfo, StaffRef};
use frontdesk_domain::board::{ProviderNow, RequestAnswer};
use frontdesk_domain::queue::Section;
use frontdesk_domain::{Availability, CommandKind, RoomId, StaffId, Status, VisitId};
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
    /// The console's workspaces this person has, as the domain answers it (the queue first).
    pub workspaces: Vec<frontdesk_domain::Workspace>,
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
    /// All time spent waiting so far (ms), as of the visit's last change (a finished visit's is
    /// final; while waiting, count from `total_wait_from`).
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
    /// Where the row goes in its list: rows are in ascending order of these numbers, compared
    /// one by one, then of visit id (the queue's is the domain's triage order).
    pub rank: Vec<i64>,
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

/// Builds the whole view at once, from no rows kept before (see [`crate::rows::RowBook`]).
/// `day` is today's span in the clinic's local time, for sessions and the day's list.
pub fn build(
    state: &ClinicState,
    pending: &[Action],
    outcomes: Vec<Outcome>,
    connection: ConnectionView,
    now: frontdesk_domain::Timestamp,
    day: (frontdesk_domain::Timestamp, frontdesk_domain::Timestamp),
) -> View {
    let mut book = crate::rows::RowBook::default();
    book.refresh(state, pending, &Default::default(), now, day);
    book.view(connection, outcomes, now).0
}
