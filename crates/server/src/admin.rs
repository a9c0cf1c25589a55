//! Setting a clinic up: clinics, rooms and staff. Used by the admin CLI, the admin endpoints,
//! the demo seed and tests, so every way in validates the same.

use crate::app::now;
use crate::auth::{HashCost, hash_secret};
use crate::error::AppError;
use crate::model::{Clinic, OfficeHours, RoomInfo, StaffInfo};
use crate::service::provider_in_clinic;
use crate::store::{StaffSecrets, Store};
use frontdesk_domain::{Availability, ClinicId, Email, Label, Role, Roles, RoomId, StaffId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub async fn create_clinic(store: &dyn Store, slug: &str, name: &str) -> Result<Clinic, AppError> {
    let slug_ok = (2..=40).contains(&slug.len())
        && slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !slug_ok {
        return Err(AppError::Validation(
            "slug: 2 to 40 characters of a-z, 0-9 and -".into(),
        ));
    }
    let clinic = Clinic {
        id: ClinicId::from_uuid(uuid::Uuid::new_v4()),
        slug: slug.to_owned(),
        name: Label::parse(name)?.to_string(),
    };
    store.create_clinic(clinic.clone()).await?;
    Ok(clinic)
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct NewRoom {
    pub name: String,
    /// Makes it this provider's own room.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub provider: Option<StaffId>,
    #[serde(default)]
    pub office_hours: Vec<OfficeHours>,
    #[serde(default)]
    pub emergency_info: Option<String>,
    #[serde(default)]
    pub waiting_message: Option<String>,
    #[serde(default)]
    pub intake_questions: Vec<String>,
}

fn optional_text(field: &'static str, v: Option<String>) -> Result<Option<String>, AppError> {
    v.filter(|s| !s.trim().is_empty())
        .map(|s| {
            frontdesk_domain::Note::parse(&s)
                .map(|n| n.to_string())
                .map_err(|e| AppError::Validation(format!("{field}: {}", e.message)))
        })
        .transpose()
}

pub async fn create_room(
    store: &dyn Store,
    clinic: ClinicId,
    new: NewRoom,
) -> Result<RoomInfo, AppError> {
    if let Some(p) = new.provider {
        provider_in_clinic(store, clinic, p).await?;
    }
    for h in &new.office_hours {
        let hhmm = |s: &str| {
            s.split_once(':').is_some_and(|(h, m)| {
                h.parse::<u8>().is_ok_and(|h| h < 24)
                    && m.len() == 2
                    && m.parse::<u8>().is_ok_and(|m| m < 60)
            })
        };
        if h.day > 6 || !hhmm(&h.opens) || !hhmm(&h.closes) {
            return Err(AppError::Validation(
                "office_hours: day 0-6 and times as HH:MM".into(),
            ));
        }
    }
    let questions = new
        .intake_questions
        .iter()
        .map(|q| Label::parse(q).map(|l| l.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    let room = RoomInfo {
        id: RoomId::from_uuid(uuid::Uuid::new_v4()),
        clinic_id: clinic,
        name: Label::parse(&new.name)?.to_string(),
        provider: new.provider,
        office_hours: new.office_hours,
        emergency_info: optional_text("emergency_info", new.emergency_info)?,
        waiting_message: optional_text("waiting_message", new.waiting_message)?,
        intake_questions: questions,
    };
    store.put_room(room.clone(), now()).await?;
    Ok(room)
}

#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct NewStaff {
    pub name: String,
    pub email: String,
    #[schema(value_type = Vec<String>)]
    pub roles: Vec<Role>,
    pub password: String,
    /// A short PIN for switching on a clinic station (4 to 8 digits).
    #[serde(default)]
    pub pin: Option<String>,
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub rooms: Vec<RoomId>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub availability: Option<Availability>,
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

pub fn check_pin(pin: &str) -> Result<(), AppError> {
    if (4..=8).contains(&pin.len()) && pin.chars().all(|c| c.is_ascii_digit()) {
        Ok(())
    } else {
        Err(AppError::Validation("pin: 4 to 8 digits".into()))
    }
}

pub async fn create_staff(
    store: &dyn Store,
    clinic: ClinicId,
    new: NewStaff,
    cost: HashCost,
) -> Result<StaffInfo, AppError> {
    if new.roles.is_empty() {
        return Err(AppError::Validation("roles: give at least one role".into()));
    }
    if new.password.chars().count() < 8 {
        return Err(AppError::Validation(
            "password: at least 8 characters".into(),
        ));
    }
    if let Some(pin) = &new.pin {
        check_pin(pin)?;
    }
    let rooms = store.rooms(clinic).await?;
    if let Some(r) = new
        .rooms
        .iter()
        .find(|r| !rooms.iter().any(|x| x.id == **r))
    {
        return Err(AppError::Validation(format!(
            "rooms: no room {r} in this clinic"
        )));
    }
    let mut member_of = new.rooms;
    member_of.sort();
    member_of.dedup();
    let staff = StaffInfo {
        id: StaffId::from_uuid(uuid::Uuid::new_v4()),
        clinic_id: clinic,
        name: Label::parse(&new.name)?.to_string(),
        email: Email::parse(&new.email)?.as_str().to_owned(),
        roles: Roles::of(&new.roles),
        availability: new.availability.unwrap_or_default(),
        rooms: member_of,
    };
    let (password, pin) = (new.password, new.pin);
    let secrets = tokio::task::spawn_blocking(move || -> Result<StaffSecrets, AppError> {
        Ok(StaffSecrets {
            password_hash: hash_secret(&password, cost)?,
            pin_hash: pin.map(|p| hash_secret(&p, cost)).transpose()?,
        })
    })
    .await
    .map_err(AppError::internal)??;
    store.create_staff(staff.clone(), secrets, now()).await?;
    Ok(staff)
}
