//! Who is asking: opaque bearer tokens (random, stored only as SHA-256, expiring, revocable),
//! argon2id for passwords and station PINs, and the extractors that turn a request into a
//! signed-in staff member or a patient's own visit. How many sign-in attempts an account or an
//! address gets is [`crate::limits`]' job.
//!
//! Split by job: [`secrets`] (tokens, hashing and the bounded checks), [`sessions`] (the
//! session cache and the notices of ended sessions), and here the extractors, which need the
//! server's state.

pub mod secrets;
pub mod sessions;

pub use secrets::{
    HashCost, PATIENT_TOKEN_PREFIX, RESET_TOKEN_PREFIX, STAFF_TOKEN_PREFIX, STATION_TOKEN_PREFIX,
    SecretChecks, derived_token, hash_secret, hex, new_token, token_hash, verify_secret,
};
pub use sessions::{SessionCache, SessionEnded};

use crate::error::AppError;
use crate::model::Session;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use frontdesk_domain::Visit;

/// The bearer token of a request, if any.
pub fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// A signed-in member of staff. Rejects with 401 otherwise.
#[derive(Clone, Debug)]
pub struct StaffAuth {
    pub session: Session,
    pub token_hash: String,
}

impl StaffAuth {
    pub async fn from_token(state: &AppState, token: &str) -> Result<Self, AppError> {
        if !token.starts_with(STAFF_TOKEN_PREFIX) {
            return Err(AppError::Unauthorized);
        }
        let token_hash = token_hash(token);
        let now = state.now().as_millis();
        if let Some(session) = state.sessions.get(&token_hash, now) {
            return Ok(Self {
                session,
                token_hash,
            });
        }
        let session = state
            .store
            .session(&token_hash, now)
            .await?
            .ok_or(AppError::Unauthorized)?;
        state.sessions.put(token_hash.clone(), session.clone());
        Ok(Self {
            session,
            token_hash,
        })
    }

    /// Refuses what the domain's minimum-necessary table does not let this person read
    /// (deliveries, the audit trail), whatever rooms they work in.
    pub fn require_read(
        &self,
        may: fn(&frontdesk_domain::Reader) -> bool,
        what: &str,
    ) -> Result<(), AppError> {
        if may(&self.session.staff.reader(&[])) {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!("{what}: not for your role")))
        }
    }

    pub fn require(&self, role: frontdesk_domain::Role) -> Result<(), AppError> {
        if self.session.staff.roles.has(role) {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!(
                "only {role} staff may do this"
            )))
        }
    }
}

impl FromRequestParts<AppState> for StaffAuth {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let token = bearer(parts).ok_or(AppError::Unauthorized)?;
        Self::from_token(state, token).await
    }
}

/// The patient acting through their own visit's token (bearer, `X-Patient-Token`, or the
/// waiting screen's cookie).
#[derive(Clone, Debug)]
pub struct PatientAuth {
    pub visit: Visit,
    pub token_hash: String,
    /// Set when the token is a scheduled session's guest link: which guest.
    pub guest: Option<usize>,
}

impl FromRequestParts<AppState> for PatientAuth {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let token = parts
            .headers
            .get("x-patient-token")
            .and_then(|v| v.to_str().ok())
            .or_else(|| bearer(parts))
            .or_else(|| crate::links::cookie(&parts.headers, crate::links::PATIENT_COOKIE))
            .ok_or(AppError::Unauthorized)?;
        Self::from_token(state, token)
            .await?
            .ok_or(AppError::Unauthorized)
    }
}

impl PatientAuth {
    /// The visit a patient token opens now; None for anything that is not a patient token we
    /// know, [`AppError::LinkExpired`] for one past its time (see [`crate::links::link_expired`]).
    pub async fn from_token(state: &AppState, token: &str) -> Result<Option<Self>, AppError> {
        if !token.starts_with(PATIENT_TOKEN_PREFIX) || token.len() > 200 {
            return Ok(None);
        }
        let token_hash = token_hash(token);
        let Some((visit, guest)) = state.store.visit_for_token(&token_hash).await? else {
            return Ok(None);
        };
        let clinic = state.store.clinic(visit.clinic_id).await?;
        if crate::links::link_expired(&visit, clinic.as_ref(), state.now(), &state.settings) {
            return Err(AppError::LinkExpired);
        }
        Ok(Some(Self {
            visit,
            token_hash,
            guest,
        }))
    }
}
