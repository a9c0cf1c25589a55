//! The patient's side: arrive through a room's front door (or ask for a named provider), fill
//! the intake, see their own visit, leave. A patient acts only through the token arrive gave.

use super::{ApiJson, IdempotencyKey, NewVisit, path_id};
use crate::auth::PatientAuth;
use crate::error::{AppError, ErrorBody};
use crate::limits::ClientAddr;
use crate::links::{self, ARRIVAL_COOKIE};
use crate::service::{self, Opened, PatientView};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use frontdesk_api::{IntakeBody, PatientBody, PatientRequestBody};
use frontdesk_domain::Command;

#[utoipa::path(post, path = "/v1/join/{clinic}/{room}", tag = "patient", request_body = PatientBody,
    params(("clinic" = String, Path, description = "clinic slug"), ("room" = String, Path, description = "room id"),
        ("Idempotency-Key" = Option<String>, Header, description = "a retry with the same key gets the same visit, and its token when it sends back the `fd_arrival` cookie of the first answer")),
    responses((status = 201, description = "the visit and the patient's token", body = Opened),
        (status = 409, description = "the room is closed now (code `closed`)", body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, description = "a bad name, or neither a phone number nor an email", body = ErrorBody),
        (status = 429, description = "too many arrivals from this address or in this room (code `rate_limited`, with `Retry-After`)", body = ErrorBody)))]
pub async fn arrive(
    State(state): State<AppState>,
    from: ClientAddr,
    Path((clinic, room)): Path<(String, String)>,
    IdempotencyKey(key): IdempotencyKey,
    headers: HeaderMap,
    ApiJson(body): ApiJson<PatientBody>,
) -> Result<Response, AppError> {
    let room = path_id(&room, "room")?;
    // An unknown front door is "not found" whatever the body holds.
    let (clinic, room) = service::front_door(state.store.as_ref(), &clinic, room).await?;
    state.limits.arrival(&from, room.id, state.now()).await?;
    let patient = body.into_arriving_patient()?;
    let mut opened = service::arrive_at(
        state.store.as_ref(),
        state.now(),
        &clinic,
        &room,
        patient,
        key.clone(),
    )
    .await?;
    links::withhold_token_from_strangers(&state, &headers, room.id, key.as_deref(), &mut opened);
    let first_time = !opened.replayed;
    let mut res = NewVisit(opened).into_response();
    if let Some(key) = key.filter(|_| first_time) {
        // What a retry of this arrival shows to be from the same client.
        let proof = links::arrival_proof(&state.store.secret(), room.id, &key);
        res.headers_mut().append(
            header::SET_COOKIE,
            links::set_cookie(&state.settings, ARRIVAL_COOKIE, &proof),
        );
    }
    Ok(res)
}

#[utoipa::path(post, path = "/v1/join/{clinic}/{room}/request", tag = "patient", request_body = PatientRequestBody,
    params(("clinic" = String, Path, description = "clinic slug"), ("room" = String, Path, description = "room id")),
    responses((status = 201, description = "the request (declined at once if the provider is unavailable)", body = Opened),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn request_session(
    State(state): State<AppState>,
    from: ClientAddr,
    Path((clinic, room)): Path<(String, String)>,
    ApiJson(body): ApiJson<PatientRequestBody>,
) -> Result<(StatusCode, Json<Opened>), AppError> {
    let room = path_id(&room, "room")?;
    state.limits.arrival(&from, room, state.now()).await?;
    let clinic = state
        .store
        .clinic_by_slug(&clinic)
        .await?
        .ok_or(AppError::NotFound("clinic"))?;
    let opened = service::request_session(
        state.store.as_ref(),
        state.now(),
        service::Requester::Patient { clinic: clinic.id },
        room,
        body.patient.into_patient()?,
        body.provider,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(opened)))
}

#[utoipa::path(get, path = "/v1/patient/visit", tag = "patient", security(("patient" = [])),
    responses((status = 200, body = PatientView), (status = 401, body = ErrorBody),
        (status = 410, description = "the visit ended over a day ago; its link has expired (code `link_expired`)", body = ErrorBody)))]
pub async fn visit(
    State(state): State<AppState>,
    me: PatientAuth,
) -> Result<Json<PatientView>, AppError> {
    // The waiting screen asks every few seconds: it is open.
    state
        .departures
        .back(state.store.as_ref(), me.visit.id)
        .await?;
    Ok(Json(
        service::patient_view(state.store.as_ref(), &me.visit).await?,
    ))
}

async fn act(
    state: &AppState,
    me: &PatientAuth,
    command: Command,
) -> Result<Json<PatientView>, AppError> {
    let done =
        service::patient_command(state.store.as_ref(), state.now(), &me.visit, command).await?;
    Ok(Json(
        service::patient_view(state.store.as_ref(), &done.reply.visit).await?,
    ))
}

#[utoipa::path(put, path = "/v1/patient/visit/intake", tag = "patient", security(("patient" = [])),
    request_body = IntakeBody,
    responses((status = 200, body = PatientView), (status = 409, body = ErrorBody), (status = 410, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn update_intake(
    State(state): State<AppState>,
    from: ClientAddr,
    me: PatientAuth,
    ApiJson(body): ApiJson<IntakeBody>,
) -> Result<Json<PatientView>, AppError> {
    state
        .limits
        .intake_update(&from, me.visit.id, state.now())
        .await?;
    let answers: Vec<(String, String)> = body
        .answers
        .iter()
        .map(|(q, a)| (q.to_string(), a.to_string()))
        .collect();
    let store = state.store.as_ref();
    let visit = service::save_intake(store, state.now(), &me.visit, &answers, false).await?;
    Ok(Json(service::patient_view(store, &visit).await?))
}

#[utoipa::path(post, path = "/v1/patient/visit/finish-intake", tag = "patient", security(("patient" = [])),
    responses((status = 200, body = PatientView), (status = 409, body = ErrorBody), (status = 410, body = ErrorBody)))]
pub async fn finish_intake(
    State(state): State<AppState>,
    me: PatientAuth,
) -> Result<Json<PatientView>, AppError> {
    act(&state, &me, Command::FinishIntake).await
}

#[utoipa::path(post, path = "/v1/patient/visit/leave", tag = "patient", security(("patient" = [])),
    responses((status = 200, body = PatientView), (status = 409, body = ErrorBody), (status = 410, body = ErrorBody)))]
pub async fn leave(
    State(state): State<AppState>,
    me: PatientAuth,
) -> Result<Json<PatientView>, AppError> {
    act(&state, &me, Command::Leave).await
}
