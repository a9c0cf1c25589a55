//! The clinic's events: paged (`/v1/events`) and live over a WebSocket (`/v1/stream`). The
//! stream sends the backlog after the client's last seq, then live events, in seq order and
//! each once; a subscriber that falls behind the live buffer is told to resync and closed.

use super::ApiQuery;
use crate::auth::{StaffAuth, bearer};
use crate::error::{AppError, ErrorBody};
use crate::events::{Event, Frame};
use crate::state::AppState;
use crate::store::Store;
use axum::Json;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, Request, State};
use axum::response::Response;
use frontdesk_api::EventPage;
use frontdesk_domain::ClinicId;
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use std::sync::Arc;
use tokio::sync::broadcast::error::RecvError;
use utoipa::IntoParams;

use super::staff::PageQuery;

#[utoipa::path(get, path = "/v1/events", tag = "sync", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = EventPage), (status = 401, body = ErrorBody)))]
pub async fn events(
    State(state): State<AppState>,
    who: StaffAuth,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<EventPage>, AppError> {
    let limit = q.limit();
    let events = state
        .store
        .events_after(who.session.staff.clinic_id, q.after, limit)
        .await?;
    Ok(Json(EventPage {
        more: events.len() == limit as usize,
        next_after: events.last().map_or(q.after, |e| e.seq),
        events,
    }))
}

#[derive(Deserialize, IntoParams)]
pub struct StreamQuery {
    /// The last seq the client has; the stream starts after it.
    #[serde(default)]
    pub after: u64,
    /// The staff token, for clients that cannot set headers on a WebSocket.
    pub token: Option<String>,
}

impl std::fmt::Debug for StreamQuery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamQuery")
            .field("after", &self.after)
            .finish_non_exhaustive()
    }
}

#[utoipa::path(get, path = "/v1/stream", tag = "sync", params(StreamQuery), security(("bearer" = [])),
    responses((status = 101, description = "WebSocket of frames: {type: event, event}, {type: heartbeat, seq}, {type: resync, seq}"),
        (status = 400, description = "not a WebSocket upgrade request (code `bad_request`)", body = ErrorBody),
        (status = 401, body = ErrorBody)))]
pub async fn stream(State(state): State<AppState>, req: Request) -> Result<Response, AppError> {
    let (mut parts, _) = req.into_parts();
    let ApiQuery(q) = ApiQuery::<StreamQuery>::from_request_parts(&mut parts, &state).await?;
    let token = bearer(&parts)
        .map(str::to_owned)
        .or(q.token)
        .ok_or(AppError::Unauthorized)?;
    let who = StaffAuth::from_token(&state, &token).await?;
    let ws = WebSocketUpgrade::from_request_parts(&mut parts, &state)
        .await
        .map_err(|e| AppError::BadRequest(e.to_string()))?;
    let clinic = who.session.staff.clinic_id;
    Ok(ws.on_upgrade(move |socket| async move {
        if let Err(e) = run(socket, state, clinic, q.after, token).await {
            tracing::debug!(error = %e, "stream ended");
        }
    }))
}

fn frame(f: &Frame) -> Result<Message, AppError> {
    serde_json::to_string(f)
        .map(|s| Message::Text(s.into()))
        .map_err(AppError::internal)
}

async fn backlog(
    store: &Arc<dyn Store>,
    clinic: ClinicId,
    after: u64,
    up_to: Option<u64>,
) -> Result<Vec<Event>, AppError> {
    let mut out = Vec::new();
    let mut last = after;
    loop {
        let page = store.events_after(clinic, last, 500).await?;
        let full = page.len() == 500;
        for e in page {
            if up_to.is_some_and(|u| e.seq > u) {
                return Ok(out);
            }
            last = e.seq;
            out.push(e);
        }
        if !full {
            return Ok(out);
        }
    }
}

async fn run(
    socket: WebSocket,
    state: AppState,
    clinic: ClinicId,
    after: u64,
    token: String,
) -> Result<(), AppError> {
    let (mut tx, mut rx_client) = socket.split();
    let send_err = |e: axum::Error| AppError::Internal(e.to_string());
    // Subscribe before reading the backlog: whatever commits in between is in both, and the
    // seq check below drops the copy.
    let mut live = state.store.subscribe(clinic);
    let mut last = after;
    for event in backlog(&state.store, clinic, last, None).await? {
        last = event.seq;
        tx.send(frame(&Frame::Event { event })?)
            .await
            .map_err(send_err)?;
    }
    let mut heartbeat = tokio::time::interval(state.settings.heartbeat);
    heartbeat.reset();
    // A session ended meanwhile (signed out, expired, its station ended) ends its stream too.
    let mut recheck = tokio::time::interval(state.settings.heartbeat);
    recheck.reset();
    loop {
        tokio::select! {
            got = live.recv() => match got {
                Ok(published) => {
                    if published.seq <= last {
                        continue;
                    }
                    if published.seq > last + 1 {
                        // Never expected (commits publish in order), but a gap must not pass.
                        for event in backlog(&state.store, clinic, last, Some(published.seq - 1)).await? {
                            tx.send(frame(&Frame::Event { event })?).await.map_err(send_err)?;
                        }
                    }
                    tx.send(Message::Text(published.frame.clone())).await.map_err(send_err)?;
                    last = published.seq;
                    // A heartbeat is for a quiet line: the event just sent says as much.
                    heartbeat.reset();
                }
                Err(RecvError::Lagged(_)) => {
                    tx.send(frame(&Frame::Resync { seq: last })?).await.map_err(send_err)?;
                    let _ = tx.send(Message::Close(None)).await;
                    return Ok(());
                }
                Err(RecvError::Closed) => return Ok(()),
            },
            _ = heartbeat.tick() => {
                tx.send(frame(&Frame::Heartbeat { seq: last })?).await.map_err(send_err)?;
            }
            _ = recheck.tick() => {
                if let Err(AppError::Unauthorized) = StaffAuth::from_token(&state, &token).await {
                    let _ = tx.send(Message::Close(None)).await;
                    return Ok(());
                }
            }
            msg = rx_client.next() => match msg {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return Ok(()),
                Some(Ok(_)) => {}
            },
        }
    }
}
