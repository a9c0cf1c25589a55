//! The one error type of the server and the one place errors become HTTP answers. Every 4xx and
//! 5xx leaves here as `{code, message}`; a conflict also carries the visit as it stands now and
//! who holds the patient, so the console can show the reason without asking again.

use crate::model::StaffRef;
use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use frontdesk_domain::Visit;
use std::time::Duration;

pub use frontdesk_api::ErrorBody;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Validation(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("sign in first (missing, unknown, expired or revoked token)")]
    Unauthorized,
    #[error("wrong email, password or PIN")]
    BadCredentials,
    /// A device token no station holds (never registered, or ended by an admin).
    #[error(
        "this computer is not a registered clinic station (an admin may have ended it); sign in with your password"
    )]
    UnknownStation,
    /// The account was deactivated by an admin (told only once the password or PIN was right).
    #[error("this account has been deactivated; ask an admin of the clinic")]
    AccountDeactivated,
    /// Too many wrong station PINs in a row: the PIN works again after a password sign-in.
    #[error(
        "your PIN is locked after too many wrong tries; sign in with your password to unlock it"
    )]
    PinLocked,
    /// A password reset link unknown, already used or past its time.
    #[error("this password reset link has expired or was already used; ask an admin for a new one")]
    ResetLinkExpired,
    /// Changing one's password: the current one given is wrong (the session is fine).
    #[error("the current password is wrong")]
    WrongPassword,
    /// Only a deactivated account may hold no role.
    #[error("{0}")]
    NoRole(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A patient's or guest's link past its time (see [`crate::links::link_expired`]).
    #[error("this link has expired")]
    LinkExpired,
    /// A state conflict on a visit: lost race, stale version or a transition the status forbids.
    #[error("{message}")]
    Conflict {
        code: &'static str,
        message: String,
        visit: Box<Visit>,
        held_by: Vec<StaffRef>,
    },
    /// A conflict told to a patient: the reason, without the staff's view of the visit.
    #[error("{message}")]
    PatientConflict { code: &'static str, message: String },
    #[error("{0}")]
    Duplicate(String),
    /// Only a failed email or text can be sent again.
    #[error("{0}")]
    NotFailed(String),
    #[error("this Idempotency-Key was already used for a different request")]
    IdempotencyKeyReused,
    /// The room is outside its office hours and takes no one now.
    #[error("the clinic is closed now{}", reopens.as_ref().map(|r| format!("; it opens {r}")).unwrap_or_default())]
    Closed { reopens: Option<String> },
    /// A budget of attempts is spent (see [`crate::limits`]); try again after `retry_after`.
    #[error("too many {what}; try again in {} seconds", retry_after.as_secs().max(1))]
    RateLimited {
        what: &'static str,
        retry_after: Duration,
    },
    /// Every password check is taken; nothing was checked or counted.
    #[error("the server is busy checking other sign-ins; try again in a moment")]
    Busy { retry_after: Duration },
    #[error("the request body is too large")]
    PayloadTooLarge,
    #[error("internal error")]
    Internal(String),
}

impl AppError {
    pub fn code(&self) -> &'static str {
        match self {
            AppError::BadRequest(_) => "bad_request",
            AppError::Validation(_) => "validation",
            AppError::UnsupportedMediaType(_) => "unsupported_media_type",
            AppError::Unauthorized | AppError::BadCredentials => "unauthorized",
            AppError::UnknownStation => "station_unknown",
            AppError::AccountDeactivated => "account_deactivated",
            AppError::PinLocked => "pin_locked",
            AppError::ResetLinkExpired => "reset_link_expired",
            AppError::NoRole(_) => "no_role",
            AppError::WrongPassword => "wrong_password",
            AppError::Forbidden(_) => "forbidden",
            AppError::NotFound(_) => "not_found",
            AppError::LinkExpired => "link_expired",
            AppError::Conflict { code, .. } => code,
            AppError::PatientConflict { code, .. } => code,
            AppError::Duplicate(_) => "duplicate",
            AppError::NotFailed(_) => "not_failed",
            AppError::IdempotencyKeyReused => "idempotency_key_reused",
            AppError::Closed { .. } => "closed",
            AppError::RateLimited { .. } => "rate_limited",
            AppError::Busy { .. } => "busy",
            AppError::PayloadTooLarge => "payload_too_large",
            AppError::Internal(_) => "internal",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Validation(_) | AppError::IdempotencyKeyReused => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::Unauthorized | AppError::BadCredentials | AppError::UnknownStation => {
                StatusCode::UNAUTHORIZED
            }
            AppError::Forbidden(_) | AppError::AccountDeactivated | AppError::WrongPassword => {
                StatusCode::FORBIDDEN
            }
            AppError::PinLocked => StatusCode::LOCKED,
            AppError::ResetLinkExpired => StatusCode::GONE,
            AppError::NoRole(_) => StatusCode::CONFLICT,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::LinkExpired => StatusCode::GONE,
            AppError::Conflict { .. }
            | AppError::PatientConflict { .. }
            | AppError::Duplicate(_)
            | AppError::NotFailed(_)
            | AppError::Closed { .. } => StatusCode::CONFLICT,
            AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn internal(e: impl std::fmt::Display) -> Self {
        AppError::Internal(e.to_string())
    }

    /// When asking again may succeed, for refusals that know it.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            AppError::RateLimited { retry_after, .. } | AppError::Busy { retry_after } => {
                Some(*retry_after)
            }
            _ => None,
        }
    }
}

/// Sets `Retry-After` (whole seconds) when a refusal knows when to ask again: the JSON answer
/// and the patient's page both carry it.
pub fn set_retry_after(res: &mut Response, after: Option<Duration>) {
    if let Some(after) = after {
        res.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(after.as_secs().max(1)),
        );
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let AppError::Internal(detail) = &self {
            // The detail stays in the log; the client gets a stable body.
            tracing::error!(%detail, "internal error");
        }
        let code = self.code().to_owned();
        let message = self.to_string();
        let retry_after = self.retry_after();
        let (visit, held_by) = match self {
            AppError::Conflict { visit, held_by, .. } => (Some(visit), Some(held_by)),
            _ => (None, None),
        };
        let field = (status == StatusCode::UNPROCESSABLE_ENTITY)
            .then(|| ErrorBody::field_of(&message))
            .flatten();
        let body = ErrorBody {
            code,
            message,
            visit,
            held_by,
            field,
        };
        let mut res = (status, Json(body)).into_response();
        set_retry_after(&mut res, retry_after);
        res
    }
}

impl From<JsonRejection> for AppError {
    fn from(r: JsonRejection) -> Self {
        let text = r.body_text();
        match r.status() {
            StatusCode::PAYLOAD_TOO_LARGE => AppError::PayloadTooLarge,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => AppError::UnsupportedMediaType(text),
            StatusCode::UNPROCESSABLE_ENTITY => AppError::Validation(text),
            _ => AppError::BadRequest(text),
        }
    }
}

impl From<QueryRejection> for AppError {
    fn from(r: QueryRejection) -> Self {
        AppError::BadRequest(r.body_text())
    }
}

impl From<frontdesk_domain::InputError> for AppError {
    fn from(e: frontdesk_domain::InputError) -> Self {
        AppError::Validation(e.to_string())
    }
}

impl From<crate::store::StoreError> for AppError {
    fn from(e: crate::store::StoreError) -> Self {
        match e {
            crate::store::StoreError::Duplicate(what) => AppError::Duplicate(what),
            other => AppError::internal(other),
        }
    }
}
