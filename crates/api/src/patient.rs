//! The patient's side of the wire: who a patient is when they come in or are asked for, what
//! they send, the visit opened for them with the token they act through, and what their own
//! screen shows.

use crate::IntakeQuestion;
use frontdesk_domain::{
    Contact, InputError, IntakeAnswer, Label, Patient, PersonName, StaffId, Status, Visit, VisitId,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use utoipa::ToSchema;

/// The patient a request or walk-in is for.
#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct PatientBody {
    #[schema(value_type = String)]
    pub name: PersonName,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

impl PatientBody {
    /// The patient coming through a front door, who must give a way to reach them (the
    /// domain's [`frontdesk_domain::front_door_patient`]).
    pub fn into_arriving_patient(self) -> Result<Patient, InputError> {
        frontdesk_domain::front_door_patient(
            self.name,
            self.phone.as_deref(),
            self.email.as_deref(),
        )
    }

    /// The patient, with their contact when either way of reaching them is given.
    pub fn into_patient(self) -> Result<Patient, InputError> {
        let has_any = [&self.phone, &self.email]
            .iter()
            .any(|v| v.as_deref().is_some_and(|s| !s.trim().is_empty()));
        let contact = has_any
            .then(|| Contact::parse(self.phone.as_deref(), self.email.as_deref()))
            .transpose()?;
        Ok(Patient {
            name: self.name,
            contact,
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PatientRequestBody {
    #[serde(flatten)]
    pub patient: PatientBody,
    #[schema(value_type = String)]
    pub provider: StaffId,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct IntakeBody {
    /// Answers by question.
    #[schema(value_type = Object)]
    pub answers: BTreeMap<Label, IntakeAnswer>,
}

/// A newly opened visit, with the token the patient acts through. A request retried with
/// its idempotency key gets the same token again.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Opened {
    pub seq: u64,
    #[schema(value_type = Object)]
    pub visit: Visit,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patient_token: Option<String>,
    /// A retry answered from the first time (told by the `Idempotent-Replayed` header).
    #[serde(skip)]
    pub replayed: bool,
}

/// What the patient's own screen shows.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct PatientView {
    #[schema(value_type = String)]
    pub visit_id: VisitId,
    #[schema(value_type = String)]
    pub status: Status,
    pub version: u64,
    pub clinic: String,
    pub room: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting_message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emergency_info: Option<String>,
    pub intake_questions: Vec<IntakeQuestion>,
    pub intake: HashMap<String, String>,
    pub intake_finished: bool,
    /// Messages from staff, oldest first.
    pub messages: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decline_note: Option<String>,
    /// 1 for next in line; absent when not waiting or the room does not show it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<usize>,
    /// Minutes until the patient is likely seen, when the room gives minutes per patient.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_wait_minutes: Option<u32>,
    /// The call's join link, while staff are in the call with the patient.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_link: Option<String>,
    /// Came in outside office hours.
    #[serde(default)]
    pub after_hours: bool,
    /// A scheduled session's start, in the clinic's time and words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts: Option<String>,
}
