//! Signing in and out, and clinic stations (a long-lived device token; staff switch on it with
//! their PIN).

use super::ApiJson;
use crate::auth::{
    STAFF_TOKEN_PREFIX, STATION_TOKEN_PREFIX, StaffAuth, new_token, token_hash,
    verify_secret_blocking,
};
use crate::error::{AppError, ErrorBody};
use crate::model::{StaffInfo, Station};
use crate::state::AppState;
use crate::store::NewSession;
use axum::Json;
use axum::extract::{ConnectInfo, FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use frontdesk_api::auth::{NewStation, SignIn, StationRegistered, SwitchOn, Token};
use frontdesk_domain::{Email, Role};
use std::net::SocketAddr;
use std::time::Duration;

/// The client's address, when the server knows it (rate limiting keys on it).
#[derive(Clone, Debug)]
pub struct ClientAddr(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or_else(|| "unknown".to_owned(), |c| c.0.ip().to_string());
        Ok(Self(ip))
    }
}

async fn issue(
    state: &AppState,
    staff: StaffInfo,
    station: Option<uuid::Uuid>,
    ttl: Duration,
) -> Result<Token, AppError> {
    let token = new_token(STAFF_TOKEN_PREFIX)?;
    let created_at = state.now().as_millis();
    let expires_at = created_at + ttl.as_millis() as i64;
    state
        .store
        .create_session(NewSession {
            token_hash: token_hash(&token),
            clinic: staff.clinic_id,
            staff: staff.id,
            station,
            created_at,
            expires_at,
        })
        .await?;
    Ok(Token {
        token,
        expires_at,
        staff,
    })
}

/// Checks a secret under the rate limits; counts a failure against every key.
async fn guarded<T>(
    state: &AppState,
    email_key: String,
    ip_key: String,
    attempt: impl Future<Output = Result<Option<T>, AppError>>,
) -> Result<T, AppError> {
    let email_keys = [email_key];
    let ip_keys = [ip_key];
    if !state.email_limiter.allows(&email_keys) || !state.ip_limiter.allows(&ip_keys) {
        return Err(AppError::RateLimited);
    }
    match attempt.await? {
        Some(v) => Ok(v),
        None => {
            state.email_limiter.record_failure(&email_keys);
            state.ip_limiter.record_failure(&ip_keys);
            Err(AppError::BadCredentials)
        }
    }
}

#[utoipa::path(post, path = "/v1/auth/sign-in", tag = "auth", request_body = SignIn,
    responses((status = 200, body = Token), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn sign_in(
    State(state): State<AppState>,
    ClientAddr(ip): ClientAddr,
    ApiJson(body): ApiJson<SignIn>,
) -> Result<Json<Token>, AppError> {
    let email = Email::parse(&body.email)
        .map_or_else(|_| body.email.trim().to_owned(), |e| e.as_str().to_owned());
    let email_key = format!("email:{}/{}", body.clinic, email.to_lowercase());
    let store = state.store.clone();
    let staff = guarded(&state, email_key, format!("ip:{ip}"), async move {
        let Some(clinic) = store.clinic_by_slug(&body.clinic).await? else {
            return Ok(None);
        };
        let Some((staff, secrets)) = store.staff_with_secrets(clinic.id, &email).await? else {
            return Ok(None);
        };
        Ok(verify_secret_blocking(body.password, secrets.password_hash)
            .await
            .then_some(staff))
    })
    .await?;
    let ttl = state.settings.session_ttl;
    Ok(Json(issue(&state, staff, None, ttl).await?))
}

#[utoipa::path(post, path = "/v1/auth/sign-out", tag = "auth", security(("bearer" = [])),
    responses((status = 204, description = "the token no longer works"), (status = 401, body = ErrorBody)))]
pub async fn sign_out(
    State(state): State<AppState>,
    who: StaffAuth,
) -> Result<StatusCode, AppError> {
    state
        .store
        .revoke_session(&who.token_hash, state.now().as_millis())
        .await?;
    state.sessions.end(&who.token_hash);
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/v1/stations", tag = "auth", request_body = NewStation, security(("bearer" = [])),
    responses((status = 201, body = StationRegistered), (status = 403, body = ErrorBody)))]
pub async fn register_station(
    State(state): State<AppState>,
    who: StaffAuth,
    ApiJson(body): ApiJson<NewStation>,
) -> Result<(StatusCode, Json<StationRegistered>), AppError> {
    who.require(Role::Admin)?;
    let station = Station {
        id: uuid::Uuid::new_v4(),
        clinic_id: who.session.staff.clinic_id,
        name: frontdesk_domain::Label::parse(&body.name)?.to_string(),
    };
    let device_token = new_token(STATION_TOKEN_PREFIX)?;
    state
        .store
        .create_station(station.clone(), token_hash(&device_token))
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(StationRegistered {
            station,
            device_token,
        }),
    ))
}

#[utoipa::path(get, path = "/v1/stations", tag = "admin", security(("bearer" = [])),
    responses((status = 200, description = "the clinic's registered stations", body = Vec<Station>), (status = 403, body = ErrorBody)))]
pub async fn stations(
    State(state): State<AppState>,
    who: StaffAuth,
) -> Result<Json<Vec<Station>>, AppError> {
    who.require(Role::Admin)?;
    Ok(Json(
        state.store.stations(who.session.staff.clinic_id).await?,
    ))
}

#[utoipa::path(delete, path = "/v1/stations/{station}", tag = "admin", security(("bearer" = [])),
    params(("station" = String, Path, description = "station id")),
    responses((status = 204, description = "the station's device token and every session on it have ended"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke_station(
    State(state): State<AppState>,
    who: StaffAuth,
    Path(station): Path<String>,
) -> Result<StatusCode, AppError> {
    who.require(Role::Admin)?;
    let station: uuid::Uuid = super::path_id(&station, "station")?;
    let clinic = who.session.staff.clinic_id;
    if !state
        .store
        .revoke_station(clinic, station, state.now().as_millis())
        .await?
    {
        return Err(AppError::NotFound("station"));
    }
    state.sessions.end_station(station);
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/v1/stations/switch", tag = "auth", request_body = SwitchOn,
    responses((status = 200, body = Token), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn switch_on_station(
    State(state): State<AppState>,
    ClientAddr(ip): ClientAddr,
    ApiJson(body): ApiJson<SwitchOn>,
) -> Result<Json<Token>, AppError> {
    let station = state
        .store
        .station_by_token(&token_hash(&body.device_token))
        .await?
        .ok_or(AppError::UnknownStation)?;
    let email = Email::parse(&body.email)
        .map_or_else(|_| body.email.trim().to_owned(), |e| e.as_str().to_owned());
    let key = format!("station:{}/{}", station.id, email.to_lowercase());
    let store = state.store.clone();
    let clinic = station.clinic_id;
    let staff = guarded(&state, key, format!("ip:{ip}"), async move {
        let Some((staff, secrets)) = store.staff_with_secrets(clinic, &email).await? else {
            return Ok(None);
        };
        let Some(pin_hash) = secrets.pin_hash else {
            return Ok(None);
        };
        Ok(verify_secret_blocking(body.pin, pin_hash)
            .await
            .then_some(staff))
    })
    .await?;
    let ttl = state.settings.station_session_ttl;
    Ok(Json(issue(&state, staff, Some(station.id), ttl).await?))
}
