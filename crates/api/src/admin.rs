//! What a clinic admin sends and reads to set the clinic up: rooms, staff, stations, the
//! outbound emails and texts. The server checks every field (`frontdesk_server::admin`); these
//! are the shapes only, shared by the server, the console and the console's UI.

use crate::{IntakeQuestion, OfficeHours};
use frontdesk_domain::{Availability, ClinicId, Role, RoomId, StaffId, Timestamp, VisitId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A room as an admin creates it or replaces its settings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct NewRoom {
    pub name: String,
    /// Makes it this provider's own room.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub provider: Option<StaffId>,
    #[serde(default)]
    pub office_hours: Vec<OfficeHours>,
    #[serde(default)]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub emergency_info: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub waiting_message: Option<String>,
    #[serde(default)]
    pub intake_questions: Vec<IntakeQuestion>,
    #[serde(default)]
    #[schema(value_type = String)]
    pub after_hours: crate::AfterHours,
    #[serde(default)]
    pub show_place_in_line: bool,
    #[serde(default)]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub minutes_per_patient: Option<u32>,
}

/// A new member of staff, with the password (and PIN) they first sign in with.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct NewStaff {
    pub name: String,
    pub email: String,
    #[schema(value_type = Vec<String>)]
    pub roles: Vec<Role>,
    pub password: String,
    /// A short PIN for switching on a clinic station (4 to 8 digits).
    #[serde(default)]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub pin: Option<String>,
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub rooms: Vec<RoomId>,
    /// Reception only: read every room's visits (the front desk), not only those of `rooms`.
    #[serde(default)]
    pub all_rooms: bool,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub availability: Option<Availability>,
    /// For SMS alerts.
    #[serde(default)]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub phone: Option<String>,
}

impl std::fmt::Debug for NewStaff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewStaff")
            .field("name", &self.name)
            .field("email", &self.email)
            .field("roles", &self.roles)
            .finish_non_exhaustive()
    }
}

/// What an admin changes about a member of staff; what is left out stays as it is.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct StaffChange {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub name: Option<String>,
    /// An empty string removes the phone number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<String>>)]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub roles: Option<Vec<Role>>,
    /// The rooms whose waiting areas they work in (replaces the list).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<String>>)]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub rooms: Option<Vec<RoomId>>,
    /// Reception only: read every room's visits, not only those of the rooms they work in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub all_rooms: Option<bool>,
}

/// Office hours to try out before saving them (`POST /v1/rooms/hours-preview`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct HoursDraft {
    #[serde(default)]
    pub office_hours: Vec<OfficeHours>,
}

/// Whether a room with those hours takes patients now, by the front door's own rule, in the
/// clinic's time zone and by the server's clock.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct HoursPreview {
    pub open: bool,
    /// When closed: when it opens next, in words ("today at 09:00", "Tuesday at 09:00");
    /// absent when it never does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub reopens: Option<String>,
    /// The clinic's IANA time zone the hours are read in.
    pub time_zone: String,
    /// The clinic-local time now, "HH:MM", and its weekday (0 = Monday).
    pub local_time: String,
    pub local_day: u8,
}

/// How a message goes out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Email,
    Sms,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
        }
    }
}

/// Where a queued message stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Waiting to be sent (first try or a retry) at `next_at`.
    Pending,
    /// Handed to the transport; unknown outcome if the server died meanwhile.
    Sending,
    Sent,
    /// Not sent and not going to be: the visit was over, for instance.
    Skipped,
    /// Gave up after repeated failures, or the channel is not set up. Admins see these.
    Failed,
}

/// A queued message with how its delivery went.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct Delivery {
    pub id: i64,
    #[schema(value_type = String)]
    pub clinic_id: ClinicId,
    #[schema(value_type = Option<String>)]
    pub visit_id: Option<VisitId>,
    pub kind: String,
    pub channel: Channel,
    pub to: String,
    pub subject: String,
    pub body: String,
    #[schema(value_type = i64)]
    pub due_at: Timestamp,
    pub state: DeliveryState,
    pub attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub last_error: Option<String>,
    #[schema(value_type = i64)]
    pub next_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<i64>)]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub sent_at: Option<Timestamp>,
    #[serde(skip)]
    pub only_while_open: bool,
    /// What makes the message unique (a reminder's names the session start it is for).
    #[serde(skip)]
    pub key: String,
}
