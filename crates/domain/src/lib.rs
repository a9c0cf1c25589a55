//! Frontdesk's domain: the clinic's vocabulary and the rules of a visit.
//!
//! Pure on purpose: no IO, no async, no clock. The server decides with it, the console shows
//! with it, and both can be tested without a network.
#![forbid(unsafe_code)]

pub mod access;
pub mod alerts;
pub mod board;
pub mod booking;
pub mod command;
pub mod decide;
pub mod fhir;
pub mod ids;
pub mod input;
pub mod people;
pub mod queue;
pub mod report;
pub mod rules;
pub mod time;
pub mod visit;

pub use access::{Audience, Detail, Reader};
pub use command::{Actor, Command, CommandKind, Context, DomainError, Opening, Outcome};
pub use decide::{allowed, apply, open, permits, sees_request};
pub use ids::{ClinicId, RoomId, StaffId, VisitId};
pub use input::{
    Contact, Email, InputError, IntakeAnswer, Label, MessageText, Note, PersonName, Phone,
    escape_html,
};
pub use people::{Availability, Role, Roles, Room, RoomKind, Staff, Workspace};
pub use rules::{
    AnswerRule, front_door_patient, intake_answers, intake_open, place_in_line, queue_rooms,
    sees_all_rooms, waiting_ahead,
};
pub use time::{Span, Timestamp};
pub use visit::{
    ActorRef, Booking, Change, Guest, HistoryEntry, Patient, Priority, Status, TransferTarget,
    Visit,
};
