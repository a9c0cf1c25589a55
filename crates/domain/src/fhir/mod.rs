//! HL7 FHIR R4 for clinics that export to an EHR or book in practice management software:
//! how our statuses map to FHIR's (here), our visits as Encounters and Appointments
//! ([`export`]), and Appointments sent in read into bookings ([`import`]).
//!
//! FHIR R4 `Encounter.status` codes (value set `encounter-status`): planned | arrived | triaged |
//! in-progress | onleave | finished | cancelled | entered-in-error | unknown.
//! FHIR R4 `Appointment.status` codes (value set `appointmentstatus`): proposed | pending |
//! booked | arrived | fulfilled | cancelled | noshow | entered-in-error | checked-in | waitlist.
//!
//! Choices worth knowing:
//! - `intake` is Encounter `arrived` (the patient is here, paperwork not done) and Appointment
//!   `arrived`; `waiting` has finished the intake, so the Appointment is `checked-in`.
//! - `on_hold` is Encounter `in-progress`, not `onleave`: the encounter has begun and the patient
//!   is still in the clinic's waiting area (`onleave` is for a patient who has left the
//!   facility temporarily).
//! - `declined`, `left` and `cancelled` are Encounter `cancelled` ("ended before it has begun");
//!   FHIR has no "declined" Appointment status, so those are Appointment `cancelled` too.
//! - `requested` is Appointment `proposed` (not yet agreed by the provider).

pub mod datetime;
pub mod export;
pub mod import;
pub mod resources;

use crate::visit::Status;

/// The FHIR R4 `Encounter.status` code for a visit status.
pub fn encounter_status(status: Status) -> &'static str {
    match status {
        Status::Scheduled | Status::Requested => "planned",
        Status::Intake | Status::Waiting => "arrived",
        Status::InCall | Status::OnHold => "in-progress",
        Status::Completed => "finished",
        Status::Declined | Status::Left | Status::NoShow | Status::Cancelled => "cancelled",
    }
}

/// The FHIR R4 `Appointment.status` code for a visit status.
pub fn appointment_status(status: Status) -> &'static str {
    match status {
        Status::Scheduled => "booked",
        Status::Requested => "proposed",
        Status::Intake => "arrived",
        Status::Waiting => "checked-in",
        Status::InCall | Status::OnHold => "arrived",
        Status::Completed => "fulfilled",
        Status::Declined | Status::Left | Status::Cancelled => "cancelled",
        Status::NoShow => "noshow",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENCOUNTER_CODES: [&str; 9] = [
        "planned",
        "arrived",
        "triaged",
        "in-progress",
        "onleave",
        "finished",
        "cancelled",
        "entered-in-error",
        "unknown",
    ];
    const APPOINTMENT_CODES: [&str; 10] = [
        "proposed",
        "pending",
        "booked",
        "arrived",
        "fulfilled",
        "cancelled",
        "noshow",
        "entered-in-error",
        "checked-in",
        "waitlist",
    ];

    #[test]
    fn every_status_maps_to_a_valid_r4_code() {
        for s in Status::ALL {
            assert!(ENCOUNTER_CODES.contains(&encounter_status(s)), "{s}");
            assert!(APPOINTMENT_CODES.contains(&appointment_status(s)), "{s}");
        }
    }

    #[test]
    fn terminal_statuses_map_to_ended_encounters() {
        for s in Status::ALL.into_iter().filter(|s| s.is_terminal()) {
            assert!(
                matches!(encounter_status(s), "finished" | "cancelled"),
                "{s}"
            );
        }
        assert_eq!(appointment_status(Status::NoShow), "noshow");
        assert_eq!(encounter_status(Status::OnHold), "in-progress");
    }
}
