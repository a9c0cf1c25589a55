//! Signing in and out, and clinic stations (a long-lived device token; staff switch on it with
//! their PIN).

use super::ApiJson;
use crate::audit::Action;
use crate::auth::{STAFF_TOKEN_PREFIX, STATION_TOKEN_PREFIX, StaffAuth, new_token, token_hash};
use crate::error::{AppError, ErrorBody};
use crate::limits::ClientAddr;
use crate::model::{StaffInfo, Station};
use crate::state::AppState;
use crate::store::{Channel, NewMessage, NewSession};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use frontdesk_api::auth::{NewStation, SignIn, StationRegistered, SwitchOn, Token};
use frontdesk_domain::{Email, Role};
use std::time::Duration;

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

/// Who a secret was for, if there is such a person, with the hash it must match (none: no PIN).
type Found<T> = Option<(T, Option<String>)>;

/// Checks a secret under the sign-in budgets. The attempt is taken from the account's and the
/// address's budgets before anything is looked up or checked, and given back only when the
/// secret is right (or the server could not check it), so concurrent guesses cannot get more
/// checks than the budget allows. Unknown accounts cost the same check as known ones.
pub(super) async fn guarded<T>(
    state: &AppState,
    account: String,
    from: &ClientAddr,
    secret: String,
    lookup: impl Future<Output = Result<Found<T>, AppError>>,
) -> Result<T, AppError> {
    let reservation = state.limits.sign_in(account, from, state.now()).await?;
    let outcome = async {
        let (who, hash) = lookup.await?.map_or((None, None), |(w, h)| (Some(w), h));
        let right = state.secret_checks.check(secret, hash).await?;
        Ok(who.filter(|_| right))
    }
    .await;
    match outcome {
        Ok(None) => Err(AppError::BadCredentials),
        Ok(Some(who)) => {
            state.limits.release(reservation).await;
            Ok(who)
        }
        Err(e) => {
            state.limits.release(reservation).await;
            Err(e)
        }
    }
}

#[utoipa::path(post, path = "/v1/auth/sign-in", tag = "auth", request_body = SignIn,
    responses((status = 200, body = Token), (status = 401, body = ErrorBody),
        (status = 403, description = "the password is right but an admin deactivated the account (code `account_deactivated`)", body = ErrorBody),
        (status = 429, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn sign_in(
    State(state): State<AppState>,
    from: ClientAddr,
    ApiJson(body): ApiJson<SignIn>,
) -> Result<Json<Token>, AppError> {
    let email = Email::parse(&body.email)
        .map_or_else(|_| body.email.trim().to_owned(), |e| e.as_str().to_owned());
    let account = format!("{}/{}", body.clinic, email.to_lowercase());
    let store = state.store.as_ref();
    let clinic = store.clinic_by_slug(&body.clinic).await?.map(|c| c.id);
    let checked = guarded(&state, account, &from, body.password, async {
        let Some(clinic) = clinic else {
            return Ok(None);
        };
        let found = store.staff_with_secrets(clinic, &email).await?;
        Ok(found
            .map(|(staff, secrets)| ((staff, secrets.pin_failures), Some(secrets.password_hash))))
    })
    .await
    .and_then(|(staff, failures)| {
        if staff.deactivated {
            Err(AppError::AccountDeactivated)
        } else {
            Ok((staff, failures))
        }
    });
    let outcome = checked.as_ref().map(|(s, _)| s.id);
    let by = serde_json::json!({"by": "password"});
    state
        .audit_sign_in(clinic, &from, &email, outcome, by)
        .await?;
    let (staff, pin_failures) = checked?;
    // The password proves who they are: a PIN locked by wrong tries works again.
    if pin_failures > 0 {
        store.clear_pin_failures(staff.clinic_id, staff.id).await?;
    }
    let ttl = state.settings.session_ttl;
    Ok(Json(issue(&state, staff, None, ttl).await?))
}

#[utoipa::path(post, path = "/v1/auth/sign-out", tag = "auth", security(("bearer" = [])),
    responses((status = 204, description = "the token no longer works"), (status = 401, body = ErrorBody)))]
pub async fn sign_out(
    State(state): State<AppState>,
    who: StaffAuth,
    from: ClientAddr,
) -> Result<StatusCode, AppError> {
    state
        .store
        .revoke_session(&who.token_hash, state.now().as_millis())
        .await?;
    state.sessions.end(&who.token_hash);
    let none = serde_json::Value::Null;
    state
        .audit_event(&who.session, &from, Action::SIGNED_OUT, none)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/v1/stations", tag = "auth", request_body = NewStation, security(("bearer" = [])),
    responses((status = 201, body = StationRegistered), (status = 403, body = ErrorBody)))]
pub async fn register_station(
    State(state): State<AppState>,
    who: StaffAuth,
    from: ClientAddr,
    ApiJson(body): ApiJson<NewStation>,
) -> Result<(StatusCode, Json<StationRegistered>), AppError> {
    who.require(Role::Admin)?;
    let station = Station {
        id: uuid::Uuid::new_v4(),
        clinic_id: who.session.staff.clinic_id,
        name: frontdesk_domain::Label::parse(&body.name)?.to_string(),
        last_seen_at: None,
    };
    let device_token = new_token(STATION_TOKEN_PREFIX)?;
    state
        .store
        .create_station(station.clone(), token_hash(&device_token))
        .await?;
    let detail = serde_json::json!({"station": station.id, "name": station.name});
    state
        .audit_event(&who.session, &from, Action::STATION_REGISTERED, detail)
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
    from: ClientAddr,
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
    let detail = serde_json::json!({"station": station});
    state
        .audit_event(&who.session, &from, Action::STATION_ENDED, detail)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/v1/stations/switch", tag = "auth", request_body = SwitchOn,
    responses((status = 200, body = Token), (status = 401, body = ErrorBody),
        (status = 403, description = "the PIN is right but an admin deactivated the account (code `account_deactivated`)", body = ErrorBody),
        (status = 423, description = "too many wrong PINs in a row across the clinic's stations: the PIN works again after a password sign-in (code `pin_locked`)", body = ErrorBody),
        (status = 429, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn switch_on_station(
    State(state): State<AppState>,
    from: ClientAddr,
    ApiJson(body): ApiJson<SwitchOn>,
) -> Result<Json<Token>, AppError> {
    let station = state
        .store
        .station_by_token(&token_hash(&body.device_token))
        .await?
        .ok_or(AppError::UnknownStation)?;
    let email = Email::parse(&body.email)
        .map_or_else(|_| body.email.trim().to_owned(), |e| e.as_str().to_owned());
    let switched = switch(&state, &from, &station, &email, body.pin).await;
    let outcome = switched.as_ref().map(|t| t.staff.id);
    let detail = serde_json::json!({"by": "pin", "station": station.id});
    state
        .audit_sign_in(Some(station.clinic_id), &from, &email, outcome, detail)
        .await?;
    switched.map(Json)
}

/// Checks a PIN on a station and signs its person in there.
async fn switch(
    state: &AppState,
    from: &ClientAddr,
    station: &Station,
    email: &str,
    pin: String,
) -> Result<Token, AppError> {
    let account = format!("station:{}/{}", station.id, email.to_lowercase());
    let store = state.store.as_ref();
    let limit = state.settings.pin_tries_before_lock;
    // Which wrong-in-a-row try this is for the person, taken before the PIN is checked.
    let mut tried: Option<(StaffInfo, u32)> = None;
    let checked = guarded(state, account, from, pin, async {
        let Some((staff, secrets)) = store.staff_with_secrets(station.clinic_id, email).await?
        else {
            return Ok(None);
        };
        let Some(pin_hash) = secrets.pin_hash else {
            return Ok(Some((staff, None)));
        };
        let try_number = store
            .take_pin_try(staff.clinic_id, staff.id, limit)
            .await?
            .ok_or(AppError::PinLocked)?;
        tried = Some((staff.clone(), try_number));
        Ok(Some((staff, Some(pin_hash))))
    })
    .await;
    let staff = match checked {
        Ok(staff) => staff,
        Err(AppError::BadCredentials) => {
            return match tried {
                Some((staff, n)) if n >= limit => {
                    alert_pin_locked(state, &staff, station, limit).await;
                    Err(AppError::PinLocked)
                }
                _ => Err(AppError::BadCredentials),
            };
        }
        Err(e) => {
            // The PIN was not checked (busy, or the server failed): the try does not count.
            if let Some((staff, _)) = tried
                && let Err(gone) = store.give_back_pin_try(staff.clinic_id, staff.id).await
            {
                tracing::warn!(error = %gone, "cannot give back an unchecked PIN try");
            }
            return Err(e);
        }
    };
    if tried.is_some() {
        store.clear_pin_failures(staff.clinic_id, staff.id).await?;
    }
    if staff.deactivated {
        return Err(AppError::AccountDeactivated);
    }
    let ttl = state.settings.station_session_ttl;
    issue(state, staff, Some(station.id), ttl).await
}

/// Tells the clinic's admins by email that a person's PIN just locked. The lock holds whether
/// or not the email can be queued.
async fn alert_pin_locked(state: &AppState, staff: &StaffInfo, station: &Station, tries: u32) {
    let now = state.now();
    let admins = match state.store.staff(staff.clinic_id).await {
        Ok(all) => all
            .into_iter()
            .filter(|s| s.roles.has(Role::Admin) && !s.deactivated),
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the admins to tell of a locked PIN");
            return;
        }
    };
    for admin in admins {
        let message = NewMessage {
            key: format!("pin_locked:{}:{}:{}", staff.id, now.as_millis(), admin.id),
            visit: None,
            kind: "pin_locked".into(),
            channel: Channel::Email,
            to: admin.email,
            subject: format!("{}'s station PIN is locked", staff.name),
            body: format!(
                "{name}'s PIN was locked after {tries} wrong tries in a row at clinic stations, \
                 the last at \"{station}\". Stations will not take it until {name} signs in with \
                 their password. If {name} did not make these tries, someone may be guessing at \
                 an unattended station.\n",
                name = staff.name,
                station = station.name,
            ),
            due_at: now,
            only_while_open: false,
        };
        if let Err(e) = state
            .store
            .queue_message(staff.clinic_id, message, now)
            .await
        {
            tracing::warn!(error = %e, "cannot queue the locked PIN alert");
        }
    }
}
