//! What the UI draws: the screen it is on, who is signed in where, the settings, and the
//! engine's view of the clinic. Sent whole at start, on a change of screen or person and after
//! a resync; otherwise as the changes since the last push ([`StateChanges`]).

use crate::settings::Settings;
use frontdesk_client::engine::now;
use frontdesk_client::rows::ViewChanges;
use frontdesk_client::view::{ConnectionState, ConnectionView, View};
use frontdesk_domain::queue::Section;
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Screen {
    SignIn,
    Queue,
    Locked,
}

/// Everything the UI draws.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct AppState {
    /// The number of the last push made when this state was taken: the UI keeps a state only
    /// over one with a lower or the same number, and lays on the changes whose `base` it is.
    pub push: u64,
    pub screen: Screen,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub settings: Settings,
    /// This computer is a registered clinic station (staff switch on with a PIN).
    pub station: bool,
    /// Why the sign-in screen shows when the server ended the session (signed out elsewhere,
    /// the station ended by an admin, expired).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub session_ended: Option<String>,
    #[serde(flatten)]
    pub view: View,
}

impl AppState {
    /// Patients in the Waiting section of my rooms' queue in what this state shows (none while
    /// locked; other rooms' rows, in the queue for the "All rooms" view, do not count):
    /// the tray's and the window title's count, taken from the state the UI was sent rather
    /// than worked out again. Those on hold are with staff, not counted.
    pub fn waiting(&self) -> usize {
        self.view
            .queue
            .iter()
            .filter(|r| r.in_my_rooms && r.section == Some(Section::Waiting))
            .count()
    }
}

/// The changes of one push, to lay onto the state of push `base`.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct StateChanges {
    pub push: u64,
    pub base: u64,
    #[serde(flatten)]
    pub view: ViewChanges,
}

/// One push to the UI: the whole state, or what changed since the last push.
#[derive(Clone, Debug)]
pub enum Push {
    State(AppState),
    Changes(StateChanges),
}

/// The view before anyone signs in.
pub(crate) fn signed_out_view() -> View {
    View {
        me: None,
        clinic: None,
        connection: ConnectionView {
            state: ConnectionState::SignedOut,
            since: None,
            as_of: None,
            pending: 0,
        },
        rooms: vec![],
        staff: vec![],
        queue: vec![],
        requests: vec![],
        sessions: vec![],
        today: vec![],
        providers: vec![],
        outcomes: vec![],
        now: now().as_millis(),
    }
}
