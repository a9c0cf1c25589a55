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
    /// The rooms whose provider this person is, when the store read them with the session
    /// (in the same statement, so as fresh): what narrows what a provider reads, without a
    /// read of the clinic's rooms on each request. `None`: ask the store for the rooms.
    pub provider_of: Option<Vec<frontdesk_domain::RoomId>>,
}
