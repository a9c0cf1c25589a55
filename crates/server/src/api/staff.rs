//! What staff read and set about themselves and their clinic: me, availability, PIN, alerts,
//! rooms, staff, the queue, the snapshot and (for admins) the audit log.

use super::{ApiJson, ApiQuery};
use crate::admin::{self, ClinicSettings, NewRoom, NewStaff, StaffChange};
use crate::audit::{Action, AuditRecord};
use crate::auth::StaffAuth;
use crate::error::{AppError, ErrorBody};
use crate::events::EventBody;
use crate::limits::ClientAddr;
use crate::model::{AlertSubscription, Clinic, QueueItem, RoomInfo, Snapshot, StaffInfo};
use crate::service;
use crate::state::AppState;
use crate::store::{Delivery, DeliveryState};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use frontdesk_api::{AvailabilityBody, PinBody};
use frontdesk_domain::{ActorRef, Change, Reader, Role, RoomId, Status, Timestamp, VisitId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[utoipa::path(get, path = "/v1/me", tag = "staff", security(("bearer" = [])),
    responses((status = 200, body = StaffInfo), (status = 401, body = ErrorBody)))]
pub async fn me(who: StaffAuth) -> Json<StaffInfo> {
    Json(who.session.staff)
}

#[utoipa::path(get, path = "/v1/me/availability", tag = "staff", security(("bearer" = [])),
    responses((status = 200, body = AvailabilityBody)))]
pub async fn availability(who: StaffAuth) -> Json<AvailabilityBody> {
    Json(AvailabilityBody {
        availability: who.session.staff.availability,
    })
}

#[utoipa::path(put, path = "/v1/me/availability", tag = "staff", security(("bearer" = [])),
    request_body = AvailabilityBody, responses((status = 200, body = StaffInfo), (status = 422, body = ErrorBody)))]
pub async fn set_availability(
    State(state): State<AppState>,
    who: StaffAuth,
    ApiJson(body): ApiJson<AvailabilityBody>,
) -> Result<Json<StaffInfo>, AppError> {
    let staff = &who.session.staff;
    let (info, _) = state
        .store
        .set_availability(staff.clinic_id, staff.id, body.availability, state.now())
        .await?
        .ok_or(AppError::Unauthorized)?;
    state.sessions.forget_staff(staff.id);
    Ok(Json(info))
}

#[utoipa::path(put, path = "/v1/me/pin", tag = "staff", security(("bearer" = [])),
    request_body = PinBody, responses((status = 204, description = "PIN set"), (status = 422, body = ErrorBody)))]
pub async fn set_pin(
    State(state): State<AppState>,
    who: StaffAuth,
    from: ClientAddr,
    ApiJson(body): ApiJson<PinBody>,
) -> Result<StatusCode, AppError> {
    let hash = admin::pin_hash(body.pin, state.settings.hash_cost).await?;
    let staff = &who.session.staff;
    state.store.set_pin(staff.clinic_id, staff.id, hash).await?;
    let none = serde_json::Value::Null;
    state
        .audit_event(&who.session, &from, Action::PIN_CHANGED, none)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/v1/me/alerts", tag = "staff", security(("bearer" = [])),
    responses((status = 200, body = Vec<AlertSubscription>)))]
pub async fn alerts(
    State(state): State<AppState>,
    who: StaffAuth,
) -> Result<Json<Vec<AlertSubscription>>, AppError> {
    let staff = &who.session.staff;
    Ok(Json(
        state
            .store
            .alert_subscriptions(staff.clinic_id, staff.id)
            .await?,
    ))
}

#[utoipa::path(put, path = "/v1/me/alerts", tag = "staff", security(("bearer" = [])),
    request_body = Vec<AlertSubscription>, responses((status = 200, body = Vec<AlertSubscription>), (status = 422, body = ErrorBody)))]
pub async fn set_alerts(
    State(state): State<AppState>,
    who: StaffAuth,
    ApiJson(body): ApiJson<Vec<AlertSubscription>>,
) -> Result<Json<Vec<AlertSubscription>>, AppError> {
    let staff = &who.session.staff;
    let rooms = state.store.rooms(staff.clinic_id).await?;
    if let Some(s) = body
        .iter()
        .find(|s| !rooms.iter().any(|r| r.id == s.room_id))
    {
        return Err(AppError::Validation(format!(
            "room_id: no room {} in this clinic",
            s.room_id
        )));
    }
    state
        .store
        .set_alert_subscriptions(staff.clinic_id, staff.id, body)
        .await?;
    alerts(State(state), who).await
}

#[utoipa::path(get, path = "/v1/rooms", tag = "staff", security(("bearer" = [])),
    responses((status = 200, body = Vec<RoomInfo>)))]
pub async fn rooms(
    State(state): State<AppState>,
    who: StaffAuth,
) -> Result<Json<Vec<RoomInfo>>, AppError> {
    Ok(Json(state.store.rooms(who.session.staff.clinic_id).await?))
}

#[utoipa::path(post, path = "/v1/rooms", tag = "admin", security(("bearer" = [])),
    request_body = NewRoom, responses((status = 201, body = RoomInfo), (status = 403, body = ErrorBody)))]
pub async fn create_room(
    State(state): State<AppState>,
    who: StaffAuth,
    from: ClientAddr,
    ApiJson(body): ApiJson<NewRoom>,
) -> Result<(StatusCode, Json<RoomInfo>), AppError> {
    who.require(Role::Admin)?;
    let room = admin::create_room(
        state.store.as_ref(),
        who.session.staff.clinic_id,
        body,
        state.now(),
    )
    .await?;
    audit_room(&state, &who, &from, &room).await?;
    Ok((StatusCode::CREATED, Json(room)))
}

#[utoipa::path(put, path = "/v1/rooms/{room}", tag = "admin", security(("bearer" = [])),
    params(("room" = String, Path, description = "room id")),
    request_body = NewRoom, responses((status = 200, body = RoomInfo), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update_room(
    State(state): State<AppState>,
    who: StaffAuth,
    from: ClientAddr,
    Path(room): Path<String>,
    ApiJson(body): ApiJson<NewRoom>,
) -> Result<Json<RoomInfo>, AppError> {
    who.require(Role::Admin)?;
    let room = super::path_id(&room, "room")?;
    let clinic = who.session.staff.clinic_id;
    let room = admin::update_room(state.store.as_ref(), clinic, room, body, state.now()).await?;
    audit_room(&state, &who, &from, &room).await?;
    Ok(Json(room))
}

#[utoipa::path(get, path = "/v1/clinic", tag = "staff", security(("bearer" = [])),
    responses((status = 200, body = Clinic)))]
pub async fn clinic(
    State(state): State<AppState>,
    who: StaffAuth,
) -> Result<Json<Clinic>, AppError> {
    let clinic = state
        .store
        .clinic(who.session.staff.clinic_id)
        .await?
        .ok_or(AppError::NotFound("clinic"))?;
    Ok(Json(clinic))
}

#[utoipa::path(put, path = "/v1/clinic", tag = "admin", security(("bearer" = [])),
    request_body = ClinicSettings, responses((status = 200, body = Clinic), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_clinic(
    State(state): State<AppState>,
    who: StaffAuth,
    from: ClientAddr,
    ApiJson(body): ApiJson<ClinicSettings>,
) -> Result<Json<Clinic>, AppError> {
    who.require(Role::Admin)?;
    let clinic = who.session.staff.clinic_id;
    let detail = serde_json::to_value(&body).map_err(AppError::internal)?;
    let clinic = admin::update_clinic(state.store.as_ref(), clinic, body).await?;
    state
        .audit_event(&who.session, &from, Action::CLINIC_CHANGED, detail)
        .await?;
    Ok(Json(clinic))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct DeliveriesQuery {
    /// Only messages in this state (pending, sending, sent, skipped, failed).
    pub state: Option<DeliveryState>,
    /// At most this many, newest first (1 to 1000, default 100).
    pub limit: Option<u32>,
}

#[utoipa::path(get, path = "/v1/deliveries", tag = "admin", security(("bearer" = [])), params(DeliveriesQuery),
    responses((status = 200, description = "the clinic's outbound emails and texts, newest first", body = Vec<Delivery>), (status = 403, body = ErrorBody)))]
pub async fn deliveries(
    State(state): State<AppState>,
    who: StaffAuth,
    from: ClientAddr,
    ApiQuery(q): ApiQuery<DeliveriesQuery>,
) -> Result<Json<Vec<Delivery>>, AppError> {
    who.require_read(Reader::deliveries, "deliveries")?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let clinic = who.session.staff.clinic_id;
    let mut list = state.store.deliveries(clinic, q.state, limit).await?;
    // A reset code is for the person it was sent to: an admin who read it could sign in as
    // them.
    for d in &mut list {
        d.body = super::accounts::hide_reset_codes(&d.body);
    }
    let visits: Vec<VisitId> = list.iter().filter_map(|d| d.visit_id).collect();
    let none = serde_json::Value::Null;
    state
        .audit_read(&who.session, &from, Action::DELIVERIES_READ, visits, none)
        .await;
    Ok(Json(list))
}

#[utoipa::path(get, path = "/v1/staff", tag = "staff", security(("bearer" = [])),
    responses((status = 200, body = Vec<StaffInfo>)))]
pub async fn staff(
    State(state): State<AppState>,
    who: StaffAuth,
) -> Result<Json<Vec<StaffInfo>>, AppError> {
    Ok(Json(state.store.staff(who.session.staff.clinic_id).await?))
}

#[utoipa::path(post, path = "/v1/staff", tag = "admin", security(("bearer" = [])),
    request_body = NewStaff, responses((status = 201, body = StaffInfo), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_staff(
    State(state): State<AppState>,
    who: StaffAuth,
    from: ClientAddr,
    ApiJson(body): ApiJson<NewStaff>,
) -> Result<(StatusCode, Json<StaffInfo>), AppError> {
    who.require(Role::Admin)?;
    let cost = state.settings.hash_cost;
    let staff = admin::create_staff(
        state.store.as_ref(),
        who.session.staff.clinic_id,
        body,
        cost,
        state.now(),
    )
    .await?;
    let detail = grants(&staff);
    state
        .audit_event(&who.session, &from, Action::STAFF_CREATED, detail)
        .await?;
    Ok((StatusCode::CREATED, Json(staff)))
}

#[utoipa::path(put, path = "/v1/staff/{staff}", tag = "admin", security(("bearer" = [])),
    params(("staff" = String, Path, description = "staff id")),
    request_body = StaffChange, responses((status = 200, body = StaffInfo), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, description = "a field is not valid, or no roles for an account still active (only a deactivated one may hold none)", body = ErrorBody)))]
pub async fn update_staff(
    State(state): State<AppState>,
    who: StaffAuth,
    from: ClientAddr,
    Path(staff): Path<String>,
    ApiJson(body): ApiJson<StaffChange>,
) -> Result<Json<StaffInfo>, AppError> {
    who.require(Role::Admin)?;
    let id = super::path_id(&staff, "staff")?;
    let me = &who.session.staff;
    let store = state.store.as_ref();
    let info = admin::update_staff(store, me.clinic_id, me.id, id, body, state.now()).await?;
    state.sessions.forget_staff(id);
    let detail = grants(&info);
    state
        .audit_event(&who.session, &from, Action::STAFF_CHANGED, detail)
        .await?;
    Ok(Json(info))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct QueueQuery {
    /// One room; without it, the rooms I work in.
    pub room: Option<String>,
}

#[utoipa::path(get, path = "/v1/queue", tag = "staff", security(("bearer" = [])), params(QueueQuery),
    responses((status = 200, body = Vec<QueueItem>), (status = 404, body = ErrorBody)))]
pub async fn queue(
    State(state): State<AppState>,
    who: StaffAuth,
    from: ClientAddr,
    ApiQuery(q): ApiQuery<QueueQuery>,
) -> Result<Json<Vec<QueueItem>>, AppError> {
    let room: Option<RoomId> = q
        .room
        .as_deref()
        .map(|r| super::path_id(r, "room"))
        .transpose()?;
    let rows = service::queue_for(state.store.as_ref(), state.now(), &who.session, room).await?;
    let visits: Vec<VisitId> = rows.iter().map(|r| r.visit_id).collect();
    let detail = serde_json::json!({"room": room});
    state
        .audit_read(&who.session, &from, Action::QUEUE_READ, visits, detail)
        .await;
    Ok(Json(rows))
}

#[utoipa::path(get, path = "/v1/snapshot", tag = "sync", security(("bearer" = [])),
    responses((status = 200, body = Snapshot)))]
pub async fn snapshot(
    State(state): State<AppState>,
    who: StaffAuth,
    from: ClientAddr,
) -> Result<Json<Snapshot>, AppError> {
    let snapshot = service::snapshot(state.store.as_ref(), &who.session).await?;
    let visits: Vec<VisitId> = snapshot.visits.iter().map(|v| v.id).collect();
    let detail = serde_json::json!({"seq": snapshot.seq});
    state
        .audit_read(&who.session, &from, Action::SNAPSHOT_READ, visits, detail)
        .await;
    Ok(Json(snapshot))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct PageQuery {
    /// Return what came after this seq (0 for the beginning).
    #[serde(default)]
    pub after: u64,
    /// At most this many (1 to 1000, default 100).
    pub limit: Option<u32>,
}

impl PageQuery {
    pub fn limit(&self) -> u32 {
        self.limit.unwrap_or(100).clamp(1, 1000)
    }
}

/// One line of the audit trail.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditEntry {
    pub seq: u64,
    #[schema(value_type = String)]
    pub visit_id: VisitId,
    pub version: u64,
    #[schema(value_type = i64)]
    pub at: Timestamp,
    #[schema(value_type = Object)]
    pub actor: ActorRef,
    #[schema(value_type = Object)]
    pub change: Change,
    #[schema(value_type = String)]
    pub status: Status,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    /// Pass as `after` for the next page.
    pub next_after: u64,
    pub more: bool,
}

#[utoipa::path(get, path = "/v1/audit", tag = "admin", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = AuditPage), (status = 403, body = ErrorBody)))]
pub async fn audit(
    State(state): State<AppState>,
    who: StaffAuth,
    from: ClientAddr,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<AuditPage>, AppError> {
    who.require_read(Reader::audit, "the audit trail")?;
    let limit = q.limit();
    let events = state
        .store
        .events_after(who.session.staff.clinic_id, q.after, limit)
        .await?;
    let more = events.len() == limit as usize;
    let next_after = events.last().map_or(q.after, |e| e.seq);
    let visits: Vec<VisitId> = events
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::Visit { visit_id, .. } => Some(*visit_id),
            _ => None,
        })
        .collect();
    let detail = serde_json::json!({"after": q.after, "through": next_after});
    state
        .audit_read(&who.session, &from, Action::EVENTS_READ, visits, detail)
        .await;
    let entries = events
        .into_iter()
        .flat_map(|e| match e.body {
            EventBody::Visit {
                visit_id, entries, ..
            } => entries
                .into_iter()
                .map(|h| AuditEntry {
                    seq: e.seq,
                    visit_id,
                    version: h.version,
                    at: h.at,
                    actor: h.actor,
                    change: h.change,
                    status: h.status,
                })
                .collect(),
            _ => Vec::new(),
        })
        .collect();
    Ok(Json(AuditPage {
        entries,
        next_after,
        more,
    }))
}

/// What a staff record's audit entry says was granted: roles, rooms, every room.
fn grants(staff: &StaffInfo) -> serde_json::Value {
    serde_json::json!({
        "staff": staff.id,
        "roles": staff.roles,
        "rooms": staff.rooms,
        "all_rooms": staff.all_rooms,
        "deactivated": staff.deactivated,
    })
}

async fn audit_room(
    state: &AppState,
    who: &StaffAuth,
    from: &ClientAddr,
    room: &RoomInfo,
) -> Result<(), AppError> {
    let detail = serde_json::json!({"room": room.id, "name": room.name});
    state
        .audit_event(&who.session, from, Action::ROOM_CHANGED, detail)
        .await
}

/// Which audit records to export.
#[derive(Debug, Deserialize, IntoParams)]
pub struct ExportQuery {
    /// The first clinic-local day, `YYYY-MM-DD`.
    pub from: String,
    /// The last clinic-local day, `YYYY-MM-DD` (included).
    pub to: String,
    /// `jsonl` (one record a line, the default) or `csv`.
    pub format: Option<String>,
    /// Records after this place in the chain (the previous answer's `X-Next-After`).
    #[serde(default)]
    pub after: u64,
    /// At most this many (1 to 100,000, default 10,000).
    pub limit: Option<u32>,
}

#[utoipa::path(get, path = "/v1/audit/export", tag = "admin", security(("bearer" = [])), params(ExportQuery),
    responses((status = 200, description = "the records of those days in chain order, as JSON lines (`application/x-ndjson`) or CSV (`text/csv`); `X-Next-After` when there are more", body = Vec<crate::audit::ChainedRecord>),
        (status = 400, description = "not a day, or not a format", body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn export_audit(
    State(state): State<AppState>,
    who: StaffAuth,
    from: ClientAddr,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> Result<axum::response::Response, AppError> {
    use axum::response::IntoResponse;
    who.require_read(Reader::audit, "the audit trail")?;
    let csv = match q.format.as_deref().unwrap_or("jsonl") {
        "jsonl" => false,
        "csv" => true,
        _ => return Err(AppError::BadRequest("format: jsonl or csv".into())),
    };
    let store = state.store.as_ref();
    let clinic_id = who.session.staff.clinic_id;
    let clinic = store
        .clinic(clinic_id)
        .await?
        .ok_or(AppError::NotFound("clinic"))?;
    let day = |d: &str| {
        crate::hours::day_span(&clinic.time_zone, Some(d), state.now())
            .ok_or_else(|| AppError::BadRequest(format!("{d:?}: expected YYYY-MM-DD")))
    };
    let (_, start, _) = day(&q.from)?;
    let (_, _, end) = day(&q.to)?;
    let limit = q.limit.unwrap_or(10_000).clamp(1, 100_000);
    let entries = store
        .audit_range(clinic_id, (start, end), q.after, limit)
        .await?;
    let body = if csv {
        crate::audit::to_csv(&entries)
    } else {
        let mut out = String::new();
        for e in &entries {
            out.push_str(&serde_json::to_string(e).map_err(AppError::internal)?);
            out.push('\n');
        }
        out
    };
    let detail = serde_json::json!({"from": q.from, "to": q.to, "format": if csv { "csv" } else { "jsonl" }, "records": entries.len()});
    state
        .audit_event(&who.session, &from, Action::AUDIT_EXPORTED, detail)
        .await?;
    let content_type = if csv {
        "text/csv; charset=utf-8"
    } else {
        "application/x-ndjson"
    };
    let mut res = ([(axum::http::header::CONTENT_TYPE, content_type)], body).into_response();
    if entries.len() == limit as usize
        && let Some(last) = entries.last()
    {
        res.headers_mut()
            .insert("x-next-after", axum::http::HeaderValue::from(last.n));
    }
    Ok(res)
}

#[utoipa::path(get, path = "/v1/visits/{id}/audit", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, description = "visit id")),
    responses((status = 200, description = "everyone who read or changed the visit, in order of time", body = Vec<crate::audit::TrailLine>),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn visit_trail(
    State(state): State<AppState>,
    who: StaffAuth,
    from: ClientAddr,
    Path(id): Path<String>,
) -> Result<Json<Vec<crate::audit::TrailLine>>, AppError> {
    who.require_read(Reader::audit, "the audit trail")?;
    let id: VisitId = super::path_id(&id, "visit")?;
    let clinic = who.session.staff.clinic_id;
    let store = state.store.as_ref();
    let visit = store
        .visit(clinic, id)
        .await?
        .ok_or(AppError::NotFound("visit"))?;
    // Written (with the reads waiting) before the trail is read, so the trail shows this look
    // at it too.
    let record = AuditRecord::by(&who.session, &from, state.now(), Action::VISIT_TRAIL_READ);
    state.audit.now(record.visits([id])).await?;
    Ok(Json(
        crate::audit::visit_trail(store, clinic, id, &visit.history).await?,
    ))
}
