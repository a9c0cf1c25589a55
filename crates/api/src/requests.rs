//! What staff send: the bodies of the per-action command routes, of opening a request or a
//! booked session, and of a member of staff's own settings.

use crate::patient::PatientBody;
use frontdesk_domain::{Availability, Booking, MessageText, Note, Priority, RoomId, StaffId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
pub struct TransferBody {
    /// A room's waiting area.
    #[schema(value_type = Option<String>)]
    pub room: Option<RoomId>,
    /// A provider's queue (their own room unless `room` is given).
    #[schema(value_type = Option<String>)]
    pub provider: Option<StaffId>,
    #[schema(value_type = Option<String>)]
    pub note: Option<Note>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AssignBody {
    #[schema(value_type = String)]
    pub provider: StaffId,
    #[schema(value_type = Option<String>)]
    pub note: Option<Note>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NoteBody {
    /// The patient sees this note.
    #[schema(value_type = String)]
    pub note: Note,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct MessageBody {
    #[schema(value_type = String)]
    pub text: MessageText,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PriorityBody {
    #[schema(value_type = String)]
    pub priority: Priority,
    #[schema(value_type = Option<String>)]
    pub note: Option<Note>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct CancelBody {
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub note: Option<Note>,
}

/// A booked session's new start and length.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RescheduleBody {
    /// The new start, in milliseconds since the Unix epoch.
    #[schema(value_type = i64)]
    pub starts_at: frontdesk_domain::Timestamp,
    /// The session's length in minutes (5 to 480).
    pub duration_mins: u32,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RequestBody {
    pub patient: PatientBody,
    #[schema(value_type = String)]
    pub provider: StaffId,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ScheduleBody {
    #[schema(value_type = Object)]
    pub booking: Booking,
    /// Book the same session weekly: this many sessions in all (default 1).
    #[serde(default = "one")]
    pub repeat_weeks: u32,
    /// Add me (the scheduler) to the session's staff.
    #[serde(default)]
    pub include_me: bool,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AvailabilityBody {
    #[schema(value_type = String)]
    pub availability: Availability,
}

#[derive(Deserialize, ToSchema)]
pub struct PinBody {
    pub pin: String,
}

impl std::fmt::Debug for PinBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PinBody(..)")
    }
}
