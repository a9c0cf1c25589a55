//! The Calendar workspace's commands: a page of the calendar, the booking form checked as it
//! is typed and sent, moving a session, and the form for a patient's next appointment. The
//! rules are the domain's (see `crate::calendar`); booking needs the server, moving a session
//! goes through the outbox like every command on a visit.

use super::{Console, lock};
use crate::calendar::{
    self, BookingCheck, BookingDone, BookingForm, CalendarQuery, CalendarView, FieldError,
};
use crate::error::UiError;
use frontdesk_client::{ClientError, TokenProvider};
use frontdesk_domain::{Command, VisitId};

impl Console {
    /// A page of the calendar, from the sessions this console holds.
    pub fn calendar(&self, query: &CalendarQuery) -> Result<CalendarView, UiError> {
        self.ensure_unlocked()?;
        let state = self.with_engine(|e| e.confirmed())?;
        Ok(calendar::calendar(
            &state,
            query,
            frontdesk_client::engine::now(),
        ))
    }

    /// The booking form read through the domain's rules, as it is typed.
    pub fn check_booking(&self, form: &BookingForm) -> Result<BookingCheck, UiError> {
        self.ensure_unlocked()?;
        let (tz, providers) = self.with_engine(|e| {
            e.read_state(|s| {
                (
                    calendar::clinic_zone(s.clinic.as_ref()),
                    calendar::provider_ids(s),
                )
            })
        })?;
        Ok(
            match calendar::read_booking(form, &providers, &tz, frontdesk_client::engine::now()) {
                Ok(read) => BookingCheck {
                    errors: Vec::new(),
                    sessions: read
                        .starts
                        .iter()
                        .map(|s| calendar::words(*s, &tz))
                        .collect(),
                },
                Err(errors) => BookingCheck {
                    errors,
                    sessions: Vec::new(),
                },
            },
        )
    }

    /// Books the form's sessions with the clinic server (it needs the server: the sessions show
    /// once it has them). What it refuses comes back by the field it is about.
    pub async fn book_session(&self, form: &BookingForm) -> Result<BookingDone, UiError> {
        self.ensure_unlocked()?;
        self.touch();
        let (state, api, token, room) = {
            let session = lock(&self.session);
            let s = session.as_ref().ok_or_else(UiError::signed_out)?;
            let state = s.engine.confirmed();
            let room = form.provider.and_then(|p| s.engine.request_room(p));
            (state, s.engine.api().clone(), s.token.token(), room)
        };
        let token = token.ok_or_else(UiError::signed_out)?;
        let tz = calendar::clinic_zone(state.clinic.as_ref());
        let providers = calendar::provider_ids(&state);
        let read =
            match calendar::read_booking(form, &providers, &tz, frontdesk_client::engine::now()) {
                Ok(read) => read,
                Err(errors) => {
                    return Ok(BookingDone {
                        errors,
                        booked: Vec::new(),
                    });
                }
            };
        let room = room.ok_or_else(|| {
            UiError::new("validation", "There is no room to book this provider in.")
        })?;
        let key = uuid::Uuid::new_v4().to_string();
        let sent = api
            .schedule(
                &token,
                room,
                &read.booking,
                read.repeat_weeks,
                read.include_me,
                &key,
            )
            .await;
        match sent {
            Ok(visits) => Ok(BookingDone {
                errors: Vec::new(),
                booked: visits.iter().map(|v| v.id).collect(),
            }),
            Err(ClientError::Api { code, message, .. }) if code == "validation" => {
                let error = calendar::refusal_by_field(&message).unwrap_or(FieldError {
                    field: "form".into(),
                    message,
                });
                Ok(BookingDone {
                    errors: vec![error],
                    booked: Vec::new(),
                })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Moves a booked session to the clinic-local `date` and `time`, for `duration_mins`. The
    /// move is checked by the domain first (a bad time comes back by its field) and then
    /// queued like any command on a visit.
    pub fn reschedule_session(
        &self,
        visit: VisitId,
        date: &str,
        time: &str,
        duration_mins: u32,
    ) -> Result<BookingDone, UiError> {
        self.ensure_unlocked()?;
        let state = self.with_engine(|e| e.confirmed())?;
        let tz = calendar::clinic_zone(state.clinic.as_ref());
        let mut errors = Vec::new();
        let starts_at = calendar::read_start(date, time, &tz, &mut errors);
        let v = state
            .visits
            .get(&visit)
            .ok_or_else(|| UiError::new("not_found", "This session is no longer booked."))?;
        let (Some(starts_at), Some(actor)) = (starts_at, calendar::actor_of(&state)) else {
            return Ok(BookingDone {
                errors,
                booked: Vec::new(),
            });
        };
        let command = Command::Reschedule {
            starts_at,
            duration_mins,
        };
        let checked = frontdesk_domain::permits(v, &actor, &command).and_then(|()| {
            let booking = v.booking.as_ref();
            booking
                .map(|b| {
                    frontdesk_domain::booking::check_reschedule(
                        b,
                        starts_at,
                        duration_mins,
                        frontdesk_client::engine::now(),
                    )
                })
                .transpose()
                .map(|_| ())
                .map_err(Into::into)
        });
        if let Err(e) = checked {
            return match e {
                frontdesk_domain::DomainError::Invalid(e) => Ok(BookingDone {
                    errors: vec![FieldError {
                        field: e.field.into(),
                        message: e.message,
                    }],
                    booked: Vec::new(),
                }),
                other => Err(UiError::new(other.code(), other.to_string())),
            };
        }
        self.act(visit, command)?;
        Ok(BookingDone {
            errors: Vec::new(),
            booked: vec![visit],
        })
    }

    /// The booking form for the next appointment of a visit's patient.
    pub async fn next_appointment(&self, visit: VisitId) -> Result<BookingForm, UiError> {
        let v = self.visit_details(visit).await?;
        let state = self.with_engine(|e| e.confirmed())?;
        let tz = calendar::clinic_zone(state.clinic.as_ref());
        let providers = calendar::provider_ids(&state);
        Ok(calendar::next_appointment(
            &v,
            &providers,
            &tz,
            frontdesk_client::engine::now(),
        ))
    }
}
