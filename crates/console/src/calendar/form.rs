//! The booking form: what is typed, read through the domain's parsing and booking rules
//! (names, contacts, the start in the clinic's time zone, the length, the weekly series), and
//! the form for a patient's next appointment.

use super::{ms, to_jiff};
use frontdesk_domain::booking::{self, DEFAULT_DURATION_MINS};
use frontdesk_domain::{
    Booking, Contact, Guest, InputError, PersonName, StaffId, Timestamp, Visit, VisitId,
};
use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

/// How a guest is to be reached.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ContactBy {
    #[default]
    Email,
    Sms,
}

/// A guest as typed in the booking form.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct GuestForm {
    pub first_name: String,
    pub last_name: String,
    pub contact_by: ContactBy,
    /// The email address or the number for text messages.
    pub contact: String,
}

/// The booking form as typed. `date` is `YYYY-MM-DD` and `time` `HH:MM`, clinic-local.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct BookingForm {
    #[serde(default)]
    #[cfg_attr(feature = "typescript", ts(optional = nullable))]
    pub provider: Option<StaffId>,
    pub include_me: bool,
    pub guests: Vec<GuestForm>,
    pub date: String,
    pub time: String,
    pub duration_mins: u32,
    /// Sessions in all, a week apart (1: no repeats).
    pub repeat_weeks: u32,
}

/// A field of a form and what is wrong with it. `field` names the input: `provider`, `date`,
/// `time`, `starts_at` (the date and time together), `duration_mins`, `repeat_weeks`,
/// `guests`, or `guests.<i>.first_name` / `.last_name` / `.contact`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// What the booking form would book, or what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct BookingCheck {
    pub errors: Vec<FieldError>,
    /// The sessions it books, in the clinic's words ("Monday 7 December, 09:30").
    pub sessions: Vec<String>,
}

/// What a booking (or a move) came to: the sessions booked, or the fields the clinic refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct BookingDone {
    pub errors: Vec<FieldError>,
    pub booked: Vec<VisitId>,
}

/// A booking read from the form, ready to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadBooking {
    pub booking: Booking,
    pub repeat_weeks: u32,
    pub include_me: bool,
    /// Every session's start, the first first.
    pub starts: Vec<Timestamp>,
}

fn field_error(field: impl Into<String>, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        message: message.into(),
    }
}

/// The start of a session from the form's clinic-local date and time.
pub fn read_start(
    date: &str,
    time: &str,
    tz: &TimeZone,
    errors: &mut Vec<FieldError>,
) -> Option<Timestamp> {
    let d = date.trim().parse::<Date>().ok();
    if d.is_none() {
        errors.push(field_error("date", "choose a date"));
    }
    let t = Time::strptime("%H:%M", time.trim()).ok();
    if t.is_none() {
        errors.push(field_error("time", "a time like 09:30"));
    }
    let at = d?.to_datetime(t?).to_zoned(tz.clone()).ok()?;
    Some(Timestamp::from_millis(ms(&at)))
}

/// The message of a domain refusal, by the form's field it is about.
fn by_field(e: InputError, field: &str) -> FieldError {
    field_error(field, e.message)
}

/// Reads the booking form through the domain: names, contacts, the start in the clinic's time
/// zone, the length and the weekly series, each against the booking rules as of `now`.
/// `providers` are those a session may be booked with.
pub fn read_booking(
    form: &BookingForm,
    providers: &[StaffId],
    tz: &TimeZone,
    now: Timestamp,
) -> Result<ReadBooking, Vec<FieldError>> {
    let mut errors = Vec::new();
    let provider = match form.provider {
        Some(p) if providers.contains(&p) => Some(p),
        Some(_) => {
            errors.push(field_error("provider", "not a provider of this clinic"));
            None
        }
        None => {
            errors.push(field_error("provider", "choose a provider"));
            None
        }
    };
    if form.guests.is_empty() {
        errors.push(field_error("guests", "add at least one guest"));
    }
    let mut guests = Vec::new();
    for (i, g) in form.guests.iter().enumerate() {
        let first = PersonName::parse(&g.first_name)
            .map_err(|e| errors.push(by_field(e, &format!("guests.{i}.first_name"))));
        let last = PersonName::parse(&g.last_name)
            .map_err(|e| errors.push(by_field(e, &format!("guests.{i}.last_name"))));
        let contact = match g.contact_by {
            ContactBy::Email => Contact::parse(None, Some(&g.contact)),
            ContactBy::Sms => Contact::parse(Some(&g.contact), None),
        }
        .map_err(|e| {
            let message = match (g.contact_by, e.field) {
                (ContactBy::Email, "contact") => "give an email address".into(),
                (ContactBy::Sms, "contact") => "give a mobile number".into(),
                _ => e.message,
            };
            errors.push(field_error(format!("guests.{i}.contact"), message));
        });
        if let (Ok(first), Ok(last), Ok(contact)) = (first, last, contact) {
            match PersonName::parse(&format!("{first} {last}")) {
                Ok(name) => guests.push(Guest {
                    name,
                    contact,
                    arrived: false,
                }),
                Err(e) => errors.push(by_field(e, &format!("guests.{i}.last_name"))),
            }
        }
    }
    if let Err(e) = booking::check_duration(form.duration_mins) {
        errors.push(by_field(e, "duration_mins"));
    }
    let starts_at = read_start(&form.date, &form.time, tz, &mut errors);
    let mut starts = Vec::new();
    if let Some(starts_at) = starts_at {
        let first = Booking {
            provider: provider.unwrap_or(StaffId::from_u128(0)),
            starts_at,
            duration_mins: form.duration_mins,
            guests: guests.clone(),
            service_type: None,
            location: None,
            staff: Vec::new(),
        };
        match booking::check_start(starts_at, now)
            .and_then(|()| booking::weekly(&first, form.repeat_weeks, now))
        {
            Ok(series) => starts = series.iter().map(|b| b.starts_at).collect(),
            Err(e) => {
                let field = if e.field == "repeat_weeks" {
                    "repeat_weeks"
                } else {
                    "starts_at"
                };
                errors.push(by_field(e, field));
            }
        }
    }
    match (provider, starts.first()) {
        (Some(provider), Some(starts_at)) if errors.is_empty() => Ok(ReadBooking {
            booking: Booking {
                provider,
                starts_at: *starts_at,
                duration_mins: form.duration_mins,
                guests,
                service_type: None,
                location: None,
                staff: Vec::new(),
            },
            repeat_weeks: form.repeat_weeks,
            include_me: form.include_me,
            starts,
        }),
        _ => Err(errors),
    }
}

/// A session start in the clinic's words: "Monday 7 December, 09:30".
pub fn words(at: Timestamp, tz: &TimeZone) -> String {
    to_jiff(at)
        .to_zoned(tz.clone())
        .strftime("%A %-d %B, %H:%M")
        .to_string()
}

/// A refusal from the clinic server, by the form's field when it names one ("starts_at: …").
pub fn refusal_by_field(message: &str) -> Option<FieldError> {
    let (field, said) = message.split_once(": ")?;
    let field = match field {
        "starts_at" => "starts_at",
        "repeat_weeks" => "repeat_weeks",
        "duration_mins" => "duration_mins",
        "guests" | "name" => "guests",
        "provider" => "provider",
        _ => return None,
    };
    Some(field_error(field, said))
}

/// The booking form for the next appointment of a visit's patient: them as the only guest
/// (reached as they gave), with the default length, a week from today at the same time of
/// day, with the provider the patient is assigned to or was last seen by (of `providers`).
pub fn next_appointment(
    visit: &Visit,
    providers: &[StaffId],
    tz: &TimeZone,
    now: Timestamp,
) -> BookingForm {
    let name = visit.patient.name.to_string();
    let (first_name, last_name) = match name.rsplit_once(' ') {
        Some((first, last)) => (first.to_owned(), last.to_owned()),
        None => (name, String::new()),
    };
    let (contact_by, contact) = match visit.patient.contact.as_ref() {
        Some(Contact { email: Some(e), .. }) => (ContactBy::Email, e.as_str().to_owned()),
        Some(Contact { phone: Some(p), .. }) => (ContactBy::Sms, p.as_str().to_owned()),
        _ => (ContactBy::Email, String::new()),
    };
    let provider = visit.assigned_provider.or_else(|| {
        frontdesk_domain::queue::seen_by(visit)
            .into_iter()
            .rev()
            .find(|s| providers.contains(s))
    });
    let in_a_week =
        to_jiff(now + frontdesk_domain::Span::from_mins(7 * 24 * 60)).to_zoned(tz.clone());
    BookingForm {
        provider,
        include_me: false,
        guests: vec![GuestForm {
            first_name,
            last_name,
            contact_by,
            contact,
        }],
        date: in_a_week.date().to_string(),
        time: format!("{:02}:00", in_a_week.hour()),
        duration_mins: DEFAULT_DURATION_MINS,
        repeat_weeks: 1,
    }
}
