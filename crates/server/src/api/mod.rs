//! The HTTP surface under `/v1`: the route table, and the small extractors every handler
//! shares (JSON bodies and ids whose rejections speak our error shape, command headers).
//! Handlers parse, call the service, and map; they hold no rules.

pub mod accounts;
pub mod auth;
pub mod events;
pub mod fhir;
pub mod patient;
pub mod reports;
pub mod setup;
pub mod staff;
pub mod visits;

use crate::error::AppError;
use crate::state::AppState;
use crate::store::Committed;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use frontdesk_domain::Command;
use serde::de::DeserializeOwned;
use std::str::FromStr;

pub fn routes() -> Router<AppState> {
    use visits as v;
    Router::new()
        .route("/healthz", get(healthz))
        .route("/v1/openapi.json", get(openapi))
        .route("/v1/auth/sign-in", post(auth::sign_in))
        .route("/v1/auth/sign-out", post(auth::sign_out))
        .route(
            "/v1/stations",
            get(auth::stations).post(auth::register_station),
        )
        .route("/v1/stations/{station}", delete(auth::revoke_station))
        .route("/v1/stations/switch", post(auth::switch_on_station))
        .route("/v1/me", get(staff::me))
        .route(
            "/v1/me/availability",
            get(staff::availability).put(staff::set_availability),
        )
        .route("/v1/me/pin", put(staff::set_pin))
        .route("/v1/me/alerts", get(staff::alerts).put(staff::set_alerts))
        .route("/v1/rooms", get(staff::rooms).post(staff::create_room))
        .route("/v1/rooms/{room}", put(staff::update_room))
        .route("/v1/rooms/hours-preview", post(setup::hours_preview))
        .route("/v1/clinic", get(staff::clinic).put(staff::update_clinic))
        .route("/v1/deliveries", get(staff::deliveries))
        .route("/v1/deliveries/{id}/retry", post(setup::retry_delivery))
        .route("/v1/staff", get(staff::staff).post(staff::create_staff))
        .route("/v1/staff/{staff}", put(staff::update_staff))
        .route("/v1/staff/{staff}/deactivate", post(accounts::deactivate))
        .route("/v1/staff/{staff}/pin", put(setup::set_staff_pin))
        .route("/v1/staff/{staff}/reactivate", post(accounts::reactivate))
        .route(
            "/v1/staff/{staff}/sign-out",
            post(accounts::sign_out_everywhere),
        )
        .route(
            "/v1/staff/{staff}/password-reset",
            post(accounts::send_password_reset),
        )
        .route("/v1/auth/password-reset", post(accounts::reset_password))
        .route("/v1/me/password", put(accounts::change_password))
        .route("/v1/queue", get(staff::queue))
        .route("/v1/snapshot", get(staff::snapshot))
        .route("/v1/audit", get(staff::audit))
        .route("/v1/audit/export", get(staff::export_audit))
        .route("/v1/visits/{id}/audit", get(staff::visit_trail))
        .route("/v1/reports/summary", get(reports::summary))
        .route("/v1/reports/summary.csv", get(reports::summary_csv))
        .route("/v1/events", get(events::events))
        .route("/v1/stream", get(events::stream))
        .route("/v1/rooms/{room}/requests", post(v::request_session))
        .route("/v1/rooms/{room}/scheduled", post(v::schedule))
        .route("/v1/visits", get(v::finished))
        .route("/v1/visits/{id}", get(v::visit))
        .route("/v1/visits/{id}/history", get(v::history))
        .route("/v1/visits/{id}/commands", post(v::command))
        .route("/v1/visits/{id}/claim", post(v::claim))
        .route("/v1/visits/{id}/take-over", post(v::take_over))
        .route("/v1/visits/{id}/join", post(v::join))
        .route("/v1/visits/{id}/leave-call", post(v::leave_call))
        .route("/v1/visits/{id}/end-call", post(v::end_call))
        .route("/v1/visits/{id}/transfer", post(v::transfer))
        .route("/v1/visits/{id}/assign", post(v::assign))
        .route("/v1/visits/{id}/decline", post(v::decline))
        .route("/v1/visits/{id}/message", post(v::message))
        .route("/v1/visits/{id}/priority", post(v::set_priority))
        .route("/v1/visits/{id}/accept", post(v::accept))
        .route(
            "/v1/visits/{id}/accept-and-enter",
            post(v::accept_and_enter),
        )
        .route("/v1/visits/{id}/cancel", post(v::cancel))
        .route("/v1/visits/{id}/no-show", post(v::no_show))
        .route("/v1/visits/{id}/reschedule", post(v::reschedule))
        .route("/v1/fhir", post(fhir::transaction))
        .route("/v1/fhir/Encounter", get(fhir::encounters))
        .route(
            "/v1/fhir/Appointment",
            get(fhir::appointments).post(fhir::import_appointment),
        )
        .route("/v1/join/{clinic}/{room}", post(patient::arrive))
        .route(
            "/v1/join/{clinic}/{room}/request",
            post(patient::request_session),
        )
        .route("/v1/patient/visit", get(patient::visit))
        .route("/v1/patient/visit/intake", put(patient::update_intake))
        .route(
            "/v1/patient/visit/finish-intake",
            post(patient::finish_intake),
        )
        .route("/v1/patient/visit/leave", post(patient::leave))
        .fallback(|| async { AppError::NotFound("route") })
}

#[utoipa::path(get, path = "/healthz", tag = "meta", responses((status = 200, description = "the server is up")))]
pub async fn healthz() -> &'static str {
    "ok"
}

#[utoipa::path(get, path = "/v1/openapi.json", tag = "meta", responses((status = 200, description = "this document")))]
pub async fn openapi() -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        crate::openapi::document(),
    )
        .into_response()
}

/// A JSON body whose rejections (syntax, wrong fields, invalid values, too large, wrong
/// content type) become our error shape.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        Json::<T>::from_request(req, state)
            .await
            .map(|Json(v)| ApiJson(v))
            .map_err(AppError::from)
    }
}

/// Query strings, rejected in our error shape.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| ApiQuery(q.0))
            .map_err(AppError::from)
    }
}

/// An id from the path. A malformed id names nothing, so it is "not found", like any unknown id.
pub fn path_id<T: FromStr>(raw: &str, what: &'static str) -> Result<T, AppError> {
    raw.parse().map_err(|_| AppError::NotFound(what))
}

/// `If-Match: <version>` (the visit version the command was decided on) and an optional
/// `Idempotency-Key`. The version may be left out only where the command does not depend on
/// it (see [`CommandHeaders::version_for`]).
#[derive(Clone, Debug)]
pub struct CommandHeaders {
    pub expected_version: Option<u64>,
    pub idempotency_key: Option<String>,
}

impl CommandHeaders {
    /// The version `command` is decided on: required when the domain says the command
    /// depends on what its sender saw, otherwise whatever the sender gave.
    pub fn version_for(&self, command: &Command) -> Result<Option<u64>, AppError> {
        match self.expected_version {
            None if command.needs_version() => Err(if_match_missing()),
            given => Ok(given),
        }
    }
}

fn if_match_missing() -> AppError {
    AppError::BadRequest(
        "If-Match: give the visit version you acted on, e.g. If-Match: \"3\"".into(),
    )
}

/// `Idempotency-Key` alone, for commands that open a visit.
#[derive(Clone, Debug)]
pub struct IdempotencyKey(pub Option<String>);

fn idempotency_key(parts: &Parts) -> Result<Option<String>, AppError> {
    let Some(v) = parts.headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = v
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 200)
        .ok_or_else(|| {
            AppError::BadRequest("Idempotency-Key: 1 to 200 visible characters".into())
        })?;
    Ok(Some(key.to_owned()))
}

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        idempotency_key(parts).map(IdempotencyKey)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CommandHeaders {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        let expected_version = match parts.headers.get(axum::http::header::IF_MATCH) {
            None => None,
            Some(raw) => Some(
                raw.to_str()
                    .ok()
                    .and_then(|raw| {
                        raw.trim()
                            .trim_start_matches("W/")
                            .trim_matches('"')
                            .parse()
                            .ok()
                    })
                    .ok_or_else(if_match_missing)?,
            ),
        };
        Ok(Self {
            expected_version,
            idempotency_key: idempotency_key(parts)?,
        })
    }
}

/// A new visit: 201 with the visit and its token (marked when it answers a retry).
#[derive(Debug)]
pub struct NewVisit(pub crate::service::Opened);

impl IntoResponse for NewVisit {
    fn into_response(self) -> Response {
        let replayed = self.0.replayed;
        let mut res = (StatusCode::CREATED, Json(self.0)).into_response();
        if replayed {
            res.headers_mut()
                .insert("idempotent-replayed", HeaderValue::from_static("true"));
        }
        res
    }
}

impl IntoResponse for Committed {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::OK);
        let mut res = (
            status,
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            self.reply_json,
        )
            .into_response();
        if self.replayed {
            res.headers_mut()
                .insert("idempotent-replayed", HeaderValue::from_static("true"));
        }
        res
    }
}
