//! Staff commands on visits, and opening requests and scheduled sessions. A command comes
//! whole to `/v1/visits/{id}/commands` (the domain's `Command` as JSON), or through a route of
//! its own that builds it; both end in [`run`]. A command takes `If-Match: <version>` unless
//! the domain says it does not depend on the version (a message, a new priority), and may
//! take an `Idempotency-Key`.

use super::staff::PageQuery;
use super::{ApiJson, ApiQuery, CommandHeaders, IdempotencyKey, NewVisit, path_id};
use crate::audit::Action;
use crate::auth::StaffAuth;
use crate::error::{AppError, ErrorBody};
use crate::limits::ClientAddr;
use crate::model::CommandReply;
use crate::service::{self, Opened};
use crate::state::AppState;
use crate::store::Committed;
use axum::Json;
use axum::extract::{Path, State};
use frontdesk_api::{
    AssignBody, CancelBody, MessageBody, NoteBody, PriorityBody, RequestBody, RescheduleBody,
    ScheduleBody, TransferBody,
};
use frontdesk_domain::{Command, Visit};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Another clinic's visit is a 404 whatever a body names: checked before resolving references.
async fn visible(state: &AppState, who: &StaffAuth, id: &str) -> Result<(), AppError> {
    state
        .store
        .visit(who.session.staff.clinic_id, path_id(id, "visit")?)
        .await?
        .map(|_| ())
        .ok_or(AppError::NotFound("visit"))
}

/// Every staff command on a visit ends here, whichever route it came by.
async fn run(
    state: &AppState,
    who: &StaffAuth,
    id: &str,
    command: Command,
    h: CommandHeaders,
) -> Result<Committed, AppError> {
    let expected_version = h.version_for(&command)?;
    let visit_id = path_id(id, "visit")?;
    let store = state.store.as_ref();
    let reader = service::reader(store, &who.session).await?;
    // Acting on a visit reads it: one the person may not read is not found, as on a read
    // (decided on the visit the write reads).
    let whole = reader.reads_everything();
    let done = service::staff_command_read_by(
        store,
        state.now(),
        &who.session,
        (!whole).then(|| reader.clone()),
        visit_id,
        command,
        (expected_version, h.idempotency_key),
    )
    .await;
    if whole {
        return done;
    }
    // Answered with what the person may read of the visit, refused or not.
    match done {
        Ok(mut committed) => {
            // The store's reply as values (its JSON is the same reply whole): narrowed, then
            // encoded once.
            let reply = &mut committed.reply;
            reader.answer(&mut reply.visit, &mut reply.entries);
            committed.reply_json = serde_json::to_string(reply)
                .map_err(|e| AppError::internal(format!("a command reply: {e}")))?;
            Ok(committed)
        }
        Err(AppError::Conflict {
            code,
            message,
            visit,
            held_by,
        }) => match reader.visit(*visit) {
            Some(visit) => Err(AppError::Conflict {
                code,
                message,
                visit: Box::new(visit),
                held_by,
            }),
            // Moved out of their sight meanwhile (another desk transferred it).
            None => Err(AppError::NotFound("visit")),
        },
        Err(e) => Err(e),
    }
}

/// Any staff command, as the domain's `Command` in JSON (tagged by `"command"`). The patient's
/// own commands are refused (`forbidden`), as on every staff route.
#[utoipa::path(post, path = "/v1/visits/{id}/commands", tag = "visits", security(("bearer" = [])),
    request_body(content = Object, description = "a command, tagged by `command`: `{\"command\":\"claim\"}`, `{\"command\":\"message\",\"text\":\"...\"}`, `{\"command\":\"transfer\",\"to\":{\"kind\":\"room\",\"room\":\"...\"},\"note\":\"...\"}`, ..."),
    params(
        ("id" = String, Path, description = "visit id"),
        ("If-Match" = Option<String>, Header, description = "the visit version acted on; required unless the command is message or set_priority"),
        ("Idempotency-Key" = Option<String>, Header, description = "retries with the same key are applied once"),
    ),
    responses(
        (status = 200, body = CommandReply),
        (status = 400, description = "If-Match missing where the command needs it", body = ErrorBody),
        (status = 403, description = "not a command this person may issue", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "stale version, lost race or invalid transition; carries the visit and who holds it", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn command(
    State(state): State<AppState>,
    who: StaffAuth,
    Path(id): Path<String>,
    h: CommandHeaders,
    ApiJson(command): ApiJson<Command>,
) -> Result<Committed, AppError> {
    // A missing version is told before anything is looked up, as on the per-action routes.
    h.version_for(&command)?;
    let clinic = who.session.staff.clinic_id;
    service::check_references(
        state.store.as_ref(),
        clinic,
        path_id(&id, "visit")?,
        &command,
    )
    .await?;
    run(&state, &who, &id, command, h).await
}

#[utoipa::path(get, path = "/v1/visits/{id}", tag = "visits", security(("bearer" = [])),
    params(("id" = String, Path, description = "visit id")),
    responses((status = 200, description = "the visit with its history", body = Object), (status = 404, body = ErrorBody)))]
pub async fn visit(
    State(state): State<AppState>,
    who: StaffAuth,
    from: ClientAddr,
    Path(id): Path<String>,
) -> Result<Json<Visit>, AppError> {
    let store = state.store.as_ref();
    let visit = service::visit_for(store, &who.session, path_id(&id, "visit")?).await?;
    let none = serde_json::Value::Null;
    state
        .audit_read(&who.session, &from, Action::VISIT_READ, [visit.id], none)
        .await;
    Ok(Json(visit))
}

/// Which finished visits: a clinic-local day, a page at a time.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct FinishedQuery {
    /// The clinic-local day, `YYYY-MM-DD` (default: today in the clinic's time zone).
    pub day: Option<String>,
    /// The previous page's `next`.
    pub after: Option<String>,
    /// At most this many (1 to 500, default 100).
    pub limit: Option<u32>,
}

/// The visits of the caller's clinic that finished on a day (the console's "Today"), whole,
/// in the order they finished. Another clinic's visits are never listed.
#[utoipa::path(get, path = "/v1/visits", tag = "visits", security(("bearer" = [])),
    params(FinishedQuery),
    responses((status = 200, body = frontdesk_api::FinishedVisits), (status = 400, description = "not a day, or not a page's `next`", body = ErrorBody)))]
pub async fn finished(
    State(state): State<AppState>,
    who: StaffAuth,
    from: ClientAddr,
    ApiQuery(q): ApiQuery<FinishedQuery>,
) -> Result<Json<frontdesk_api::FinishedVisits>, AppError> {
    let page = service::finished_on(
        state.store.as_ref(),
        state.now(),
        &who.session,
        q.day.as_deref(),
        q.after.as_deref(),
        q.limit.unwrap_or(100).clamp(1, 500),
    )
    .await?;
    let visits: Vec<_> = page.visits.iter().map(|v| v.id).collect();
    let detail = serde_json::json!({"day": page.day});
    state
        .audit_read(&who.session, &from, Action::VISITS_LISTED, visits, detail)
        .await;
    Ok(Json(page))
}

/// A visit's history, a page at a time, oldest first.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct HistoryPage {
    #[schema(value_type = Vec<Object>)]
    pub entries: Vec<frontdesk_domain::HistoryEntry>,
    /// Pass as `after` for the next page: the last version given.
    pub next_after: u64,
    pub more: bool,
}

#[utoipa::path(get, path = "/v1/visits/{id}/history", tag = "visits", security(("bearer" = [])),
    params(("id" = String, Path, description = "visit id"), PageQuery),
    responses((status = 200, body = HistoryPage), (status = 404, body = ErrorBody)))]
pub async fn history(
    State(state): State<AppState>,
    who: StaffAuth,
    from: ClientAddr,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<HistoryPage>, AppError> {
    let clinic = who.session.staff.clinic_id;
    let id = path_id(&id, "visit")?;
    // Read as the visit is: one the caller may not read is not found.
    let store = state.store.as_ref();
    let reader = service::reader(store, &who.session).await?;
    let visit = store
        .visit(clinic, id)
        .await?
        .ok_or(AppError::NotFound("visit"))?;
    let detail = reader
        .detail(&frontdesk_domain::Audience::of(&visit))
        .ok_or(AppError::NotFound("visit"))?;
    // Whole versions only: a page never ends halfway through one command's entries.
    let limit = q.limit();
    let mut entries = state
        .store
        .visit_history(clinic, id, q.after, limit + 1)
        .await?
        .ok_or(AppError::NotFound("visit"))?;
    let more = entries.len() > limit as usize;
    if more {
        let cut = entries[limit as usize].version;
        entries.retain(|e| e.version < cut);
        if entries.is_empty() {
            // One command with more entries than a page: give it whole.
            entries = state
                .store
                .visit_history(clinic, id, q.after, u32::MAX)
                .await?
                .unwrap_or_default()
                .into_iter()
                .filter(|e| e.version == cut)
                .collect();
        }
    }
    let next_after = entries.last().map_or(q.after, |e| e.version);
    frontdesk_domain::access::redact_entries(&mut entries, detail);
    let none = serde_json::Value::Null;
    state
        .audit_read(&who.session, &from, Action::HISTORY_READ, [id], none)
        .await;
    Ok(Json(HistoryPage {
        entries,
        next_after,
        more,
    }))
}

/// Commands with no body.
macro_rules! bare_command {
    ($name:ident, $path:literal, $command:expr, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(post, path = $path, tag = "visits", security(("bearer" = [])),
            params(
                ("id" = String, Path, description = "visit id"),
                ("If-Match" = String, Header, description = "the visit version acted on"),
                ("Idempotency-Key" = Option<String>, Header, description = "retries with the same key are applied once"),
            ),
            responses(
                (status = 200, body = CommandReply),
                (status = 404, body = ErrorBody),
                (status = 409, description = "stale version, lost race or invalid transition; carries the visit and who holds it", body = ErrorBody),
            ))]
        pub async fn $name(
            State(state): State<AppState>,
            who: StaffAuth,
            Path(id): Path<String>,
            h: CommandHeaders,
        ) -> Result<Committed, AppError> {
            run(&state, &who, &id, $command, h).await
        }
    };
}

/// Commands with a JSON body.
/// `$if_match` is `Option<String>` where the command does not depend on the version.
macro_rules! body_command {
    ($name:ident, $path:literal, $body:ty, $if_match:ty, $doc:literal, |$s:ident, $who:ident, $b:ident, $id:ident| $make:expr) => {
        #[doc = $doc]
        #[utoipa::path(post, path = $path, tag = "visits", security(("bearer" = [])), request_body = $body,
            params(
                ("id" = String, Path, description = "visit id"),
                ("If-Match" = $if_match, Header, description = "the visit version acted on"),
                ("Idempotency-Key" = Option<String>, Header, description = "retries with the same key are applied once"),
            ),
            responses(
                (status = 200, body = CommandReply),
                (status = 404, body = ErrorBody),
                (status = 409, description = "stale version, lost race or invalid transition; carries the visit and who holds it", body = ErrorBody),
                (status = 422, body = ErrorBody),
            ))]
        pub async fn $name(
            State($s): State<AppState>,
            $who: StaffAuth,
            Path($id): Path<String>,
            h: CommandHeaders,
            ApiJson($b): ApiJson<$body>,
        ) -> Result<Committed, AppError> {
            let command = $make;
            run(&$s, &$who, &$id, command, h).await
        }
    };
}

bare_command!(
    claim,
    "/v1/visits/{id}/claim",
    Command::Claim,
    "Take a waiting patient into a call."
);
bare_command!(
    take_over,
    "/v1/visits/{id}/take-over",
    Command::TakeOver,
    "Take over a patient assigned to another provider and take them into a call (recorded as taken over from them)."
);
bare_command!(
    join,
    "/v1/visits/{id}/join",
    Command::Join,
    "Join a call already going on."
);
bare_command!(
    leave_call,
    "/v1/visits/{id}/leave-call",
    Command::LeaveCall,
    "Leave the call; the last one out puts the patient on hold."
);
bare_command!(
    end_call,
    "/v1/visits/{id}/end-call",
    Command::EndCall,
    "End the call for everyone; the visit is completed."
);
bare_command!(
    accept,
    "/v1/visits/{id}/accept",
    Command::Accept,
    "Accept a session request into my queue."
);
bare_command!(
    accept_and_enter,
    "/v1/visits/{id}/accept-and-enter",
    Command::AcceptAndEnter,
    "Accept a session request and go straight into the call."
);
bare_command!(
    no_show,
    "/v1/visits/{id}/no-show",
    Command::MarkNoShow,
    "Mark a scheduled session as a no-show."
);

body_command!(
    transfer,
    "/v1/visits/{id}/transfer",
    TransferBody,
    String,
    "Send the patient to another room or a provider's queue, with a note.",
    |state, who, body, id| {
        visible(&state, &who, &id).await?;
        Command::Transfer {
            to: service::transfer_target(
                state.store.as_ref(),
                who.session.staff.clinic_id,
                body.room,
                body.provider,
            )
            .await?,
            note: body.note,
        }
    }
);

body_command!(
    assign,
    "/v1/visits/{id}/assign",
    AssignBody,
    String,
    "Assign the patient to a provider, who is alerted and claims.",
    |state, who, body, id| {
        let command = Command::Assign {
            provider: body.provider,
            note: body.note,
        };
        let clinic = who.session.staff.clinic_id;
        service::check_references(
            state.store.as_ref(),
            clinic,
            path_id(&id, "visit")?,
            &command,
        )
        .await?;
        command
    }
);

body_command!(
    decline,
    "/v1/visits/{id}/decline",
    NoteBody,
    String,
    "Decline a patient or a request, with a note the patient sees.",
    |_state, _who, body, id| Command::Decline { note: body.note }
);

body_command!(
    message,
    "/v1/visits/{id}/message",
    MessageBody,
    Option<String>,
    "Show a message on the patient's waiting screen.",
    |_state, _who, body, id| Command::Message { text: body.text }
);

body_command!(
    set_priority,
    "/v1/visits/{id}/priority",
    PriorityBody,
    Option<String>,
    "Set triage priority (routine, urgent, emergency) with a triage note.",
    |_state, _who, body, id| Command::SetPriority {
        priority: body.priority,
        note: body.note
    }
);

body_command!(
    cancel,
    "/v1/visits/{id}/cancel",
    CancelBody,
    String,
    "Cancel a scheduled session or an open request.",
    |_state, _who, body, id| Command::Cancel { note: body.note }
);

body_command!(
    reschedule,
    "/v1/visits/{id}/reschedule",
    RescheduleBody,
    String,
    "Move a booked session to another start (and length); its guests and provider are told.",
    |_state, _who, body, id| Command::Reschedule {
        starts_at: body.starts_at,
        duration_mins: body.duration_mins
    }
);

#[utoipa::path(post, path = "/v1/rooms/{room}/requests", tag = "visits", security(("bearer" = [])),
    request_body = RequestBody,
    params(("room" = String, Path, description = "room id"),
        ("Idempotency-Key" = Option<String>, Header, description = "retries with the same key are applied once")),
    responses((status = 201, body = Opened), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn request_session(
    State(state): State<AppState>,
    who: StaffAuth,
    Path(room): Path<String>,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(body): ApiJson<RequestBody>,
) -> Result<NewVisit, AppError> {
    let room = path_id(&room, "room")?;
    let opened = service::request_session(
        state.store.as_ref(),
        state.now(),
        service::Requester::Staff {
            who: &who.session,
            idempotency_key: key,
        },
        room,
        body.patient.into_patient()?,
        body.provider,
    )
    .await?;
    Ok(NewVisit(opened))
}

/// The first session booked, and the weekly repeats after it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Scheduled {
    #[serde(flatten)]
    pub first: Opened,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub repeats: Vec<Opened>,
}

#[utoipa::path(post, path = "/v1/rooms/{room}/scheduled", tag = "visits", security(("bearer" = [])),
    request_body = ScheduleBody,
    params(("room" = String, Path, description = "room id"),
        ("Idempotency-Key" = Option<String>, Header, description = "retries with the same key are applied once")),
    responses((status = 201, body = Scheduled), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn schedule(
    State(state): State<AppState>,
    who: StaffAuth,
    Path(room): Path<String>,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(body): ApiJson<ScheduleBody>,
) -> Result<(axum::http::StatusCode, Json<Scheduled>), AppError> {
    let room = path_id(&room, "room")?;
    let repeat = service::Repeat {
        weeks: body.repeat_weeks,
        include_me: body.include_me,
    };
    let store = state.store.as_ref();
    let mut sessions = service::schedule(
        store,
        state.now(),
        &who.session,
        room,
        body.booking,
        repeat,
        key,
    )
    .await?
    .into_iter();
    let first = sessions
        .next()
        .ok_or_else(|| AppError::internal("no session booked"))?;
    let reply = Scheduled {
        first,
        repeats: sessions.collect(),
    };
    Ok((axum::http::StatusCode::CREATED, Json(reply)))
}
