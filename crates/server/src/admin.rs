//! Setting a clinic up: clinics, rooms and staff. Used by the admin CLI, the admin endpoints,
//! the demo seed and tests, so every way in validates the same.

use crate::auth::{HashCost, hash_secret};
use crate::error::AppError;
use crate::hours::minutes_of;
use crate::model::{Clinic, IntakeQuestion, OfficeHours, QuestionKind, RoomInfo, StaffInfo};
use crate::service::provider_in_clinic;
use crate::store::{StaffEdit, StaffSecrets, Store};
use frontdesk_domain::{ClinicId, Email, Label, Phone, Role, Roles, RoomId, StaffId, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use frontdesk_api::admin::{NewRoom, NewStaff, StaffChange};

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
        time_zone: "UTC".into(),
        video_link_template: None,
        nameless_alerts: false,
        open_link_hours: None,
    };
    store.create_clinic(clinic.clone()).await?;
    Ok(clinic)
}

/// A clinic's settings as an admin changes them; absent fields stay as they are.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct ClinicSettings {
    #[serde(default)]
    pub name: Option<String>,
    /// IANA time zone such as "Australia/Sydney".
    #[serde(default)]
    pub time_zone: Option<String>,
    /// The call link, with `{clinic}`, `{room}` and `{visit}` filled in; "" removes it.
    #[serde(default)]
    pub video_link_template: Option<String>,
    /// Desktop alerts without patients' names on every console of the clinic.
    #[serde(default)]
    pub nameless_alerts: Option<bool>,
    /// Hours a patient's link keeps opening a visit still open, 1 to 168.
    #[serde(default)]
    pub open_link_hours: Option<u32>,
}

pub async fn update_clinic(
    store: &dyn Store,
    clinic: ClinicId,
    change: ClinicSettings,
) -> Result<Clinic, AppError> {
    let mut c = store
        .clinic(clinic)
        .await?
        .ok_or(AppError::NotFound("clinic"))?;
    if let Some(name) = change.name {
        c.name = Label::parse(&name)?.to_string();
    }
    if let Some(tz) = change.time_zone {
        crate::hours::time_zone(&tz)
            .map_err(|e| AppError::Validation(format!("time_zone: {e}")))?;
        c.time_zone = tz;
    }
    if let Some(t) = change.video_link_template {
        let t = t.trim();
        let ok = t.is_empty()
            || ((t.starts_with("https://") || t.starts_with("http://"))
                && t.len() <= 500
                && !t.chars().any(|c| c.is_whitespace() || c.is_control()));
        if !ok {
            return Err(AppError::Validation(
                "video_link_template: an http(s) link of at most 500 characters, without spaces"
                    .into(),
            ));
        }
        c.video_link_template = (!t.is_empty()).then(|| t.to_owned());
    }
    if let Some(nameless) = change.nameless_alerts {
        c.nameless_alerts = nameless;
    }
    if let Some(hours) = change.open_link_hours {
        if !(1..=168).contains(&hours) {
            return Err(AppError::Validation(
                "open_link_hours: from 1 to 168 (a week)".into(),
            ));
        }
        c.open_link_hours = Some(hours);
    }
    store.update_clinic(c.clone()).await?;
    Ok(c)
}

/// A room's or a person's name, its errors naming the `name` field.
fn named(name: &str) -> Result<String, AppError> {
    Label::parse(name)
        .map(|l| l.to_string())
        .map_err(|e| AppError::Validation(format!("name: {}", e.message)))
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

/// Adds a room; `at` (the server's clock) stamps its event.
pub async fn create_room(
    store: &dyn Store,
    clinic: ClinicId,
    new: NewRoom,
    at: Timestamp,
) -> Result<RoomInfo, AppError> {
    let id = RoomId::from_uuid(uuid::Uuid::new_v4());
    put_room(store, clinic, id, new, at).await
}

/// Replaces a room's settings (the same checks as creating it).
pub async fn update_room(
    store: &dyn Store,
    clinic: ClinicId,
    room: RoomId,
    new: NewRoom,
    at: Timestamp,
) -> Result<RoomInfo, AppError> {
    if !store.rooms(clinic).await?.iter().any(|r| r.id == room) {
        return Err(AppError::NotFound("room"));
    }
    put_room(store, clinic, room, new, at).await
}

/// Each day's hours as "HH:MM", closing after they open.
pub fn check_office_hours(hours: &[OfficeHours]) -> Result<(), AppError> {
    for h in hours {
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
        if minutes_of(&h.opens) >= minutes_of(&h.closes) {
            return Err(AppError::Validation(
                "office_hours: a day's hours must close after they open".into(),
            ));
        }
    }
    Ok(())
}

async fn put_room(
    store: &dyn Store,
    clinic: ClinicId,
    id: RoomId,
    new: NewRoom,
    at: Timestamp,
) -> Result<RoomInfo, AppError> {
    if let Some(p) = new.provider {
        provider_in_clinic(store, clinic, p).await?;
    }
    check_office_hours(&new.office_hours)?;
    let mut questions = Vec::with_capacity(new.intake_questions.len());
    for q in new.intake_questions {
        let label = Label::parse(&q.label)?.to_string();
        if questions.iter().any(|x: &IntakeQuestion| x.label == label) {
            return Err(AppError::Validation(format!(
                "intake_questions: {label:?} is asked twice"
            )));
        }
        let options = q
            .options
            .iter()
            .map(|o| Label::parse(o).map(|l| l.to_string()))
            .collect::<Result<Vec<_>, _>>()?;
        match q.kind {
            QuestionKind::Choice if options.len() < 2 => {
                return Err(AppError::Validation(format!(
                    "intake_questions: {label:?} needs at least two options"
                )));
            }
            QuestionKind::Text | QuestionKind::YesNo if !options.is_empty() => {
                return Err(AppError::Validation(format!(
                    "intake_questions: only a choice question has options ({label:?})"
                )));
            }
            _ => {}
        }
        questions.push(IntakeQuestion {
            label,
            kind: q.kind,
            options,
        });
    }
    if new
        .minutes_per_patient
        .is_some_and(|m| !(1..=240).contains(&m))
    {
        return Err(AppError::Validation(
            "minutes_per_patient: from 1 to 240".into(),
        ));
    }
    let room = RoomInfo {
        id,
        clinic_id: clinic,
        name: named(&new.name)?,
        provider: new.provider,
        office_hours: new.office_hours,
        emergency_info: optional_text("emergency_info", new.emergency_info)?,
        waiting_message: optional_text("waiting_message", new.waiting_message)?,
        intake_questions: questions,
        after_hours: new.after_hours,
        show_place_in_line: new.show_place_in_line,
        minutes_per_patient: new.minutes_per_patient,
    };
    store.put_room(room.clone(), at).await?;
    Ok(room)
}

pub fn check_pin(pin: &str) -> Result<(), AppError> {
    if (4..=8).contains(&pin.len()) && pin.chars().all(|c| c.is_ascii_digit()) {
        Ok(())
    } else {
        Err(AppError::Validation("pin: 4 to 8 digits".into()))
    }
}

/// A new station PIN checked and hashed (off the async threads: argon2 takes a while).
pub async fn pin_hash(pin: String, cost: HashCost) -> Result<String, AppError> {
    check_pin(&pin)?;
    tokio::task::spawn_blocking(move || hash_secret(&pin, cost))
        .await
        .map_err(AppError::internal)?
}

/// The one rule for a new password, however it is set.
pub fn check_password(password: &str) -> Result<(), AppError> {
    if password.chars().count() < 8 {
        return Err(AppError::Validation(
            "password: at least 8 characters".into(),
        ));
    }
    Ok(())
}

/// Deactivates (`active` false) or reactivates a member of staff. `by` is the admin doing it:
/// no one deactivates their own account (the clinic could be left without a way in), and an
/// account comes back only with a role.
pub async fn set_staff_active(
    store: &dyn Store,
    by: StaffId,
    staff: &StaffInfo,
    active: bool,
    at: Timestamp,
) -> Result<StaffInfo, AppError> {
    if !active && staff.id == by {
        return Err(AppError::Validation(
            "you cannot deactivate your own account; ask another admin".into(),
        ));
    }
    if active && staff.roles.is_empty() {
        return Err(AppError::NoRole(
            "this account holds no role: give it one before reactivating it".into(),
        ));
    }
    let (info, _) = store
        .set_staff_active(staff.clinic_id, staff.id, active, at)
        .await?
        .ok_or(AppError::NotFound("staff"))?;
    Ok(info)
}

/// Adds a member of staff; `at` (the server's clock) stamps the event.
pub async fn create_staff(
    store: &dyn Store,
    clinic: ClinicId,
    new: NewStaff,
    cost: HashCost,
    at: Timestamp,
) -> Result<StaffInfo, AppError> {
    if new.roles.is_empty() {
        return Err(AppError::Validation("roles: give at least one role".into()));
    }
    check_password(&new.password)?;
    if let Some(pin) = &new.pin {
        check_pin(pin)?;
    }
    let staff = StaffInfo {
        id: StaffId::from_uuid(uuid::Uuid::new_v4()),
        clinic_id: clinic,
        name: named(&new.name)?,
        email: Email::parse(&new.email)?.as_str().to_owned(),
        phone: phone_or_none(new.phone.as_deref())?,
        roles: Roles::of(&new.roles),
        availability: new.availability.unwrap_or_default(),
        rooms: rooms_in_clinic(store, clinic, new.rooms).await?,
        all_rooms: new.all_rooms,
        deactivated: false,
    };
    let (password, pin) = (new.password, new.pin);
    let secrets = tokio::task::spawn_blocking(move || -> Result<StaffSecrets, AppError> {
        Ok(StaffSecrets {
            password_hash: hash_secret(&password, cost)?,
            pin_hash: pin.map(|p| hash_secret(&p, cost)).transpose()?,
            pin_failures: 0,
        })
    })
    .await
    .map_err(AppError::internal)??;
    store.create_staff(staff.clone(), secrets, at).await?;
    Ok(staff)
}

/// A phone number, or none for an empty one.
fn phone_or_none(phone: Option<&str>) -> Result<Option<String>, AppError> {
    Ok(phone
        .filter(|p| !p.trim().is_empty())
        .map(Phone::parse)
        .transpose()?
        .map(|p| p.as_str().to_owned()))
}

/// The rooms, each once and in order, if every one is a room of the clinic.
async fn rooms_in_clinic(
    store: &dyn Store,
    clinic: ClinicId,
    mut wanted: Vec<RoomId>,
) -> Result<Vec<RoomId>, AppError> {
    let rooms = store.rooms(clinic).await?;
    if let Some(r) = wanted.iter().find(|r| !rooms.iter().any(|x| x.id == **r)) {
        return Err(AppError::Validation(format!(
            "rooms: no room {r} in this clinic"
        )));
    }
    wanted.sort();
    wanted.dedup();
    Ok(wanted)
}

/// Changes a member of staff's name, phone, roles or rooms. `by` is the admin doing it: an
/// admin cannot take away their own admin role (the clinic would be left without a way in).
pub async fn update_staff(
    store: &dyn Store,
    clinic: ClinicId,
    by: StaffId,
    id: StaffId,
    change: StaffChange,
    at: Timestamp,
) -> Result<StaffInfo, AppError> {
    let mut edit = StaffEdit::default();
    if let Some(name) = &change.name {
        edit.name = Some(Label::parse(name)?.to_string());
    }
    if let Some(phone) = &change.phone {
        edit.phone = Some(phone_or_none(Some(phone))?);
    }
    if let Some(roles) = &change.roles {
        if roles.is_empty() {
            let deactivated = store
                .staff(clinic)
                .await?
                .iter()
                .any(|s| s.id == id && s.deactivated);
            if !deactivated {
                return Err(AppError::Validation(
                    "roles: give at least one role (only a deactivated account may hold none)"
                        .into(),
                ));
            }
        }
        if id == by && !roles.contains(&Role::Admin) {
            return Err(AppError::Validation(
                "roles: you cannot remove your own admin role; ask another admin".into(),
            ));
        }
        edit.roles = Some(Roles::of(roles));
    }
    if let Some(rooms) = change.rooms {
        edit.rooms = Some(rooms_in_clinic(store, clinic, rooms).await?);
    }
    edit.all_rooms = change.all_rooms;
    let (staff, _) = store
        .update_staff(clinic, id, edit, at)
        .await?
        .ok_or(AppError::NotFound("staff"))?;
    Ok(staff)
}
