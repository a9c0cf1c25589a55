//! The shapes the API speaks that are not the domain's own: clinics, rooms and staff as the
//! console sees them, queue items, snapshots and replies to commands.

pub use frontdesk_api::{
    AfterHours, AlertSubscription, Clinic, CommandReply, IntakeQuestion, OfficeHours, QuestionKind,
    QueueItem, RoomInfo, Snapshot, StaffInfo, StaffRef, Station,
};

/// A staff member's signed-in identity, as the auth layer resolves a token.
#[derive(Clone, Debug)]
pub struct Session {
    pub staff: StaffInfo,
    pub station: Option<uuid::Uuid>,
    pub expires_at: i64,
}
