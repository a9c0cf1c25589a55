//! Small helpers for the console's Admin workspace: trying office hours out before saving a
//! room, sending a failed email or text once more, and setting a person's station PIN.

use super::ApiJson;
use crate::audit::Action;
use crate::auth::StaffAuth;
use crate::error::{AppError, ErrorBody};
use crate::hours::{Openness, openness};
use crate::limits::ClientAddr;
use crate::state::AppState;
use crate::store::{Delivery, DeliveryState};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use frontdesk_api::PinBody;
use frontdesk_api::admin::{HoursDraft, HoursPreview};
use frontdesk_domain::{Reader, Role};

#[utoipa::path(post, path = "/v1/rooms/hours-preview", tag = "admin", security(("bearer" = [])),
    request_body = HoursDraft,
    responses((status = 200, description = "whether a room with these hours takes patients now, by the front door's rule, in the clinic's time zone", body = HoursPreview),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn hours_preview(
    State(state): State<AppState>,
    who: StaffAuth,
    ApiJson(body): ApiJson<HoursDraft>,
) -> Result<Json<HoursPreview>, AppError> {
    who.require(Role::Admin)?;
    crate::admin::check_office_hours(&body.office_hours)?;
    let clinic = state
        .store
        .clinic(who.session.staff.clinic_id)
        .await?
        .ok_or(AppError::NotFound("clinic"))?;
    let now = state.now();
    let (local_day, local_time) = crate::hours::local_day_and_time(&clinic.time_zone, now);
    let (open, reopens) = match openness(&clinic.time_zone, &body.office_hours, now) {
        Openness::Open => (true, None),
        Openness::Closed { reopens } => (false, reopens),
    };
    Ok(Json(HoursPreview {
        open,
        reopens,
        time_zone: clinic.time_zone,
        local_time,
        local_day,
    }))
}

#[utoipa::path(post, path = "/v1/deliveries/{id}/retry", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path, description = "delivery id")),
    responses((status = 200, description = "the failed message is queued to go again now, once (one more failure leaves it failed)", body = Delivery),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "the message is not failed (code `not_failed`): it is queued, being sent, sent or skipped", body = ErrorBody)))]
pub async fn retry_delivery(
    State(state): State<AppState>,
    who: StaffAuth,
    from: ClientAddr,
    Path(id): Path<String>,
) -> Result<Json<Delivery>, AppError> {
    who.require_read(Reader::deliveries, "deliveries")?;
    let id: i64 = super::path_id(&id, "delivery")?;
    let clinic = who.session.staff.clinic_id;
    let (queued, mut delivery) = state
        .store
        .retry_delivery(clinic, id, state.now())
        .await?
        .ok_or(AppError::NotFound("delivery"))?;
    if !queued {
        let what = match delivery.state {
            DeliveryState::Pending | DeliveryState::Sending => "is already on its way",
            DeliveryState::Sent => "was sent",
            DeliveryState::Skipped => "was skipped",
            DeliveryState::Failed => "failed",
        };
        return Err(AppError::NotFailed(format!(
            "only a failed message can be sent again; this one {what}"
        )));
    }
    delivery.body = super::accounts::hide_reset_codes(&delivery.body);
    let detail = serde_json::json!({"delivery": id, "kind": delivery.kind});
    state
        .audit_event(&who.session, &from, Action::DELIVERY_RETRIED, detail)
        .await?;
    Ok(Json(delivery))
}

#[utoipa::path(put, path = "/v1/staff/{staff}/pin", tag = "admin", security(("bearer" = [])),
    params(("staff" = String, Path, description = "staff id")), request_body = PinBody,
    responses((status = 204, description = "their station PIN is set (a locked one works again)"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_staff_pin(
    State(state): State<AppState>,
    who: StaffAuth,
    from: ClientAddr,
    Path(staff): Path<String>,
    ApiJson(body): ApiJson<PinBody>,
) -> Result<StatusCode, AppError> {
    who.require(Role::Admin)?;
    let target = super::accounts::staff_of_clinic(&state, &who, &staff).await?;
    let hash = crate::admin::pin_hash(body.pin, state.settings.hash_cost).await?;
    state
        .store
        .set_pin(target.clinic_id, target.id, hash)
        .await?;
    let detail = serde_json::json!({"staff": target.id});
    state
        .audit_event(&who.session, &from, Action::PIN_CHANGED, detail)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
