//! The clinic API's wire shapes: what `frontdesk-server` answers and the console's engine
//! reads. One definition for both sides, so they cannot drift apart; the golden tests in
//! `tests/` lock the JSON.
#![forbid(unsafe_code)]

pub mod admin;
pub mod auth;
pub mod events;
pub mod patient;
pub mod requests;

pub use events::EventPage;
pub use patient::{IntakeBody, Opened, PatientBody, PatientRequestBody, PatientView};
pub use requests::{
    AssignBody, AvailabilityBody, CancelBody, MessageBody, NoteBody, PinBody, PriorityBody,
    RequestBody, RescheduleBody, ScheduleBody, TransferBody,
};

use frontdesk_domain::{
    Availability, ClinicId, Contact, HistoryEntry, Priority, Roles, RoomId, StaffId, Status,
    Timestamp, Visit, VisitId,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct Clinic {
    #[schema(value_type = String)]
    pub id: ClinicId,
    /// The short name in the clinic's front-door links and at sign-in.
    pub slug: String,
    pub name: String,
    /// The clinic's IANA time zone ("Australia/Sydney"): office hours are read in it.
    #[serde(default = "utc")]
    pub time_zone: String,
    /// How a call's join link is made, e.g. `https://video.example/{clinic}/{visit}`; the
    /// placeholders `{clinic}`, `{room}` and `{visit}` are filled in. None: no link is shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_link_template: Option<String>,
    /// Desktop alerts never carry a patient's name on any of the clinic's consoles (a clinic
    /// whose screens are in view of the waiting room), not only on a locked one.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub nameless_alerts: bool,
    /// How many hours a patient's link keeps opening a visit that is still open (from when
    /// the visit opened, or a booked session's start). None: the server's default (12).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub open_link_hours: Option<u32>,
}

fn utc() -> String {
    "UTC".into()
}

impl Clinic {
    /// The join link of a visit's call, when the clinic has a template.
    pub fn video_link(&self, room: RoomId, visit: VisitId) -> Option<String> {
        let t = self.video_link_template.as_deref()?;
        Some(
            t.replace("{clinic}", &self.slug)
                .replace("{room}", &room.to_string())
                .replace("{visit}", &visit.to_string()),
        )
    }
}

/// Opening hours for one weekday (0 = Monday), local clinic time as "HH:MM".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct OfficeHours {
    pub day: u8,
    pub opens: String,
    pub closes: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct RoomInfo {
    #[schema(value_type = String)]
    pub id: RoomId,
    #[schema(value_type = String)]
    pub clinic_id: ClinicId,
    pub name: String,
    /// Set for a provider's own room; absent for a shared room such as Reception.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub provider: Option<StaffId>,
    #[serde(default)]
    pub office_hours: Vec<OfficeHours>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emergency_info: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting_message: Option<String>,
    /// Questions the front door asks; with none, patients go straight to `waiting`.
    #[serde(default)]
    pub intake_questions: Vec<IntakeQuestion>,
    /// Outside office hours: refuse patients, or take them in marked after-hours.
    #[serde(default, skip_serializing_if = "AfterHours::is_refuse")]
    #[schema(value_type = String)]
    pub after_hours: AfterHours,
    /// Show waiting patients their place in line (and, with `minutes_per_patient`, an
    /// estimated wait).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub show_place_in_line: bool,
    /// Typical minutes a patient takes, for the estimated wait.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minutes_per_patient: Option<u32>,
}

/// What the front door does outside office hours.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum AfterHours {
    /// Says the clinic is closed and takes no one.
    #[default]
    Refuse,
    /// Says the clinic is closed but lets patients wait, marked after-hours.
    Accept,
}

impl AfterHours {
    pub fn is_refuse(&self) -> bool {
        *self == AfterHours::Refuse
    }
}

/// What kind of answer an intake question takes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum QuestionKind {
    #[default]
    Text,
    /// One of the question's `options`.
    Choice,
    YesNo,
}

/// One intake question. A plain text question is written as just its label, so
/// `["Reason for visit"]` is a valid list.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[cfg_attr(
    feature = "typescript",
    derive(ts_rs::TS),
    ts(type = "string | { label: string, kind: QuestionKind, options?: Array<string> }")
)]
#[serde(from = "QuestionRepr")]
pub struct IntakeQuestion {
    pub label: String,
    pub kind: QuestionKind,
    /// The choices of a `choice` question.
    pub options: Vec<String>,
}

impl IntakeQuestion {
    pub fn text(label: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            kind: QuestionKind::Text,
            options: Vec::new(),
        }
    }

    /// The answers this question accepts: any for text, its options, or Yes / No.
    pub fn accepts(&self, answer: &str) -> bool {
        self.answer_rule().accepts(answer)
    }

    /// The domain's rule for this question's answers.
    pub fn answer_rule(&self) -> frontdesk_domain::AnswerRule<'_> {
        use frontdesk_domain::AnswerRule;
        match self.kind {
            QuestionKind::Text => AnswerRule::AnyText,
            QuestionKind::Choice => AnswerRule::OneOf(&self.options),
            QuestionKind::YesNo => AnswerRule::YesNo,
        }
    }
}

/// The schema says what the wire carries: a text question as its label alone, any other as
/// an object (see the `Serialize` below).
impl utoipa::PartialSchema for IntakeQuestion {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Type};
        let text = || ObjectBuilder::new().schema_type(Type::String);
        OneOfBuilder::new()
            .description(Some(
                "a question: its label alone (free text), or an object",
            ))
            .item(text().description(Some("the label of a free-text question")))
            .item(
                ObjectBuilder::new()
                    .property("label", text())
                    .required("label")
                    .property(
                        "kind",
                        text().enum_values(Some(["text", "choice", "yes_no"])),
                    )
                    .property("options", ArrayBuilder::new().items(text()))
                    .description(Some("a question with its kind (and a choice's options)")),
            )
            .into()
    }
}

impl ToSchema for IntakeQuestion {}

impl From<&str> for IntakeQuestion {
    fn from(label: &str) -> Self {
        IntakeQuestion::text(label)
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum QuestionRepr {
    Plain(String),
    Full {
        label: String,
        #[serde(default)]
        kind: QuestionKind,
        #[serde(default)]
        options: Vec<String>,
    },
}

impl From<QuestionRepr> for IntakeQuestion {
    fn from(r: QuestionRepr) -> Self {
        match r {
            QuestionRepr::Plain(label) => IntakeQuestion::text(label),
            QuestionRepr::Full {
                label,
                kind,
                options,
            } => IntakeQuestion {
                label,
                kind,
                options,
            },
        }
    }
}

impl Serialize for IntakeQuestion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        if self.kind == QuestionKind::Text {
            return s.serialize_str(&self.label);
        }
        let mut m = s.serialize_map(Some(3))?;
        m.serialize_entry("label", &self.label)?;
        m.serialize_entry("kind", &self.kind)?;
        if !self.options.is_empty() {
            m.serialize_entry("options", &self.options)?;
        }
        m.end()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct StaffInfo {
    #[schema(value_type = String)]
    pub id: StaffId,
    #[schema(value_type = String)]
    pub clinic_id: ClinicId,
    pub name: String,
    pub email: String,
    /// For SMS alerts, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[schema(value_type = Vec<String>)]
    pub roles: Roles,
    #[schema(value_type = String)]
    pub availability: Availability,
    /// Rooms this person works in: their queue "across my rooms".
    #[schema(value_type = Vec<String>)]
    pub rooms: Vec<RoomId>,
    /// Reception given every room of the clinic (the front desk): they read every room's
    /// visits, not only those of the rooms they work in.
    #[serde(default)]
    pub all_rooms: bool,
    /// An admin deactivated the account (someone who left): it cannot sign in and has no
    /// sessions; it may hold no role.
    #[serde(default)]
    pub deactivated: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct StaffRef {
    #[schema(value_type = String)]
    pub id: StaffId,
    pub name: String,
}

/// Which alerts one member of staff wants for one room.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct AlertSubscription {
    #[schema(value_type = String)]
    pub room_id: RoomId,
    pub desktop: bool,
    pub email: bool,
    pub sms: bool,
}

/// The answer to every accepted visit command: the event's seq, the visit as it now stands
/// (without its history: `GET /v1/visits/{id}` has it whole), and the history entries this
/// command added, which a copy one version behind lays on to catch up.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct CommandReply {
    pub seq: u64,
    #[schema(value_type = Object)]
    pub visit: Visit,
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub entries: Vec<HistoryEntry>,
}

/// One line of a room's queue, with what the front desk needs at a glance.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct QueueItem {
    #[schema(value_type = String)]
    pub visit_id: VisitId,
    #[schema(value_type = String)]
    pub room_id: RoomId,
    #[schema(value_type = String)]
    pub status: Status,
    #[schema(value_type = String)]
    pub priority: Priority,
    pub version: u64,
    pub patient_name: String,
    #[schema(value_type = Option<Object>)]
    pub contact: Option<Contact>,
    /// Case info: intake answers by question.
    pub intake: BTreeMap<String, String>,
    pub intake_finished: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub triage_note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigned_provider: Option<StaffRef>,
    pub in_call: Vec<StaffRef>,
    #[schema(value_type = Option<i64>)]
    pub arrived_at: Option<Timestamp>,
    /// The current stretch in the waiting area, if waiting now.
    pub waiting_now_ms: Option<i64>,
    pub total_waiting_ms: i64,
    /// The wait as people read it ("7 min").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait: Option<String>,
}

/// What a staff member may see of their clinic, as of `seq`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct Snapshot {
    pub seq: u64,
    pub clinic: Clinic,
    pub me: StaffInfo,
    pub rooms: Vec<RoomInfo>,
    pub staff: Vec<StaffInfo>,
    /// Every visit not yet finished: queues, open requests, scheduled sessions.
    #[schema(value_type = Vec<Object>)]
    pub visits: Vec<Visit>,
}

/// A page of the visits that finished (completed, left, declined, no-show, cancelled) on one
/// clinic-local day, whole with their history, in the order they finished.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct FinishedVisits {
    /// The clinic-local day, `YYYY-MM-DD`.
    pub day: String,
    #[schema(value_type = Vec<Object>)]
    pub visits: Vec<Visit>,
    /// Pass as `after` for the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// A dedicated clinic station.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct Station {
    #[schema(value_type = String)]
    pub id: uuid::Uuid,
    #[schema(value_type = String)]
    pub clinic_id: ClinicId,
    pub name: String,
    /// When someone last signed in or switched on at it (epoch milliseconds); absent when no
    /// one has yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<i64>)]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub last_seen_at: Option<i64>,
}

impl StaffInfo {
    /// What this person may read (the domain's minimum-necessary table), given the clinic's
    /// rooms: the rooms they work in and their own provider's room.
    pub fn reader(&self, clinic_rooms: &[RoomInfo]) -> frontdesk_domain::Reader {
        self.reader_owning(
            clinic_rooms
                .iter()
                .filter(|r| r.provider == Some(self.id))
                .map(|r| r.id),
        )
    }

    /// [`StaffInfo::reader`] given only the rooms this person is the provider of.
    pub fn reader_owning(&self, own: impl IntoIterator<Item = RoomId>) -> frontdesk_domain::Reader {
        frontdesk_domain::Reader::new(
            self.id,
            self.roles,
            self.rooms.iter().copied().chain(own),
            self.all_rooms,
        )
    }

    pub fn as_ref(&self) -> StaffRef {
        StaffRef {
            id: self.id,
            name: self.name.clone(),
        }
    }
}

// The event stream.

/// One committed change, numbered by the clinic's `seq` (a total order, no gaps).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct Event {
    pub seq: u64,
    #[schema(value_type = String)]
    pub clinic_id: ClinicId,
    #[schema(value_type = i64)]
    pub at: Timestamp,
    #[serde(flatten)]
    pub body: EventBody,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventBody {
    /// A visit was opened or changed: the version it reached and the history lines this
    /// change added (all of that version). The change, not the visit: its size does not grow
    /// with the visit's age. A copy at `version - 1` lays the entries on
    /// (`Visit::continue_with`); one further behind takes the visit whole.
    Visit {
        #[schema(value_type = String)]
        visit_id: VisitId,
        version: u64,
        #[schema(value_type = Vec<Object>)]
        entries: Vec<HistoryEntry>,
    },
    /// A member of staff was added or changed (availability included).
    Staff { staff: StaffInfo },
    /// A room was added or changed.
    Room { room: Box<RoomInfo> },
    /// A change this reader may not see (a visit of a room they do not work in): it only
    /// moves their `seq` on, so the order stays whole without telling what changed.
    Withheld,
}

impl EventBody {
    pub fn kind(&self) -> &'static str {
        match self {
            EventBody::Visit { .. } => "visit",
            EventBody::Staff { .. } => "staff",
            EventBody::Room { .. } => "room",
            EventBody::Withheld => "withheld",
        }
    }
}

/// A frame on `/v1/stream`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Frame {
    Event {
        event: Event,
    },
    /// Sent when idle; `seq` is the last one sent so far.
    Heartbeat {
        seq: u64,
    },
    /// The subscriber fell too far behind: take a snapshot and reconnect. The socket closes.
    Resync {
        seq: u64,
    },
    /// The answer to a `reauth` frame: from here on the stream serves the session of the token
    /// it carried, whose person is `staff`. `seq` is the last one sent so far.
    Reauthed {
        #[schema(value_type = String)]
        staff: StaffId,
        seq: u64,
    },
    /// A frame from the console was refused (`code` is stable: `bad_request`, `unauthorized`,
    /// `forbidden`); the stream goes on as it was.
    Error {
        code: String,
        message: String,
    },
}

/// A frame the console sends on `/v1/stream`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    /// Serve this stream to another session of the same clinic station from now on (a person
    /// switching on the station with their PIN), without a new connection. The server answers
    /// `reauthed`, or `error` and nothing changes. The upgrade itself still takes its token only
    /// from the `Authorization` header.
    Reauth { token: String },
}

impl std::fmt::Debug for ClientFrame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientFrame::Reauth { .. } => f.write_str("Reauth { .. }"),
        }
    }
}

// Errors.
/// The body of every error answer. `code` is stable; `message` is for people.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
    /// On a 409: the visit as it stands now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub visit: Option<Box<Visit>>,
    /// On a 409: the staff in the call with the patient (the winner of a lost race).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_by: Option<Vec<StaffRef>>,
    /// On a 422: the field of the request the message is about (`name`, `office_hours`, ...),
    /// when it is about one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub field: Option<String>,
}

impl ErrorBody {
    /// The field a validation message names: the messages read "field: what is wrong".
    pub fn field_of(message: &str) -> Option<String> {
        let (head, _) = message.split_once(": ")?;
        let named = !head.is_empty()
            && head.len() <= 40
            && head
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        named.then(|| head.to_owned())
    }
}
