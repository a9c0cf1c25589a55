//! The clinic's events: paged (`/v1/events`) and live over a WebSocket (`/v1/stream`). The
//! stream sends the backlog after the client's last seq a page at a time, then live events, in
//! seq order and each once. It ends when the console falls further behind than its budget
//! (told to resync first), when a frame cannot go out in time, and as soon as its session ends.
//!
//! The one thing a console says on it is `reauth` (a person switching on a clinic station): the
//! stream then serves the station's new session, on the same connection.

use super::ApiQuery;
use crate::audit::Action;
use crate::auth::{SessionEnded, StaffAuth, bearer};
use crate::error::{AppError, ErrorBody};
use crate::events::{EventBody, Frame, Lagged, event_for};
use crate::limits::ClientAddr;
use crate::state::AppState;
use crate::store::Store;
use axum::Json;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use axum::extract::{FromRequestParts, Request, State};
use axum::response::Response;
use frontdesk_api::{ClientFrame, EventPage};
use frontdesk_domain::{ClinicId, Reader, StaffId};
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use std::time::Duration;
use tokio::sync::broadcast;
use tokio::time::MissedTickBehavior;
use utoipa::IntoParams;

use super::staff::PageQuery;

/// Events read from the store at once while a stream catches up: all a stream holds of its
/// backlog at any moment.
const BACKLOG_PAGE: u32 = 500;

#[utoipa::path(get, path = "/v1/events", tag = "sync", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = EventPage), (status = 401, body = ErrorBody)))]
pub async fn events(
    State(state): State<AppState>,
    who: StaffAuth,
    from: ClientAddr,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<EventPage>, AppError> {
    let limit = q.limit();
    let store = state.store.as_ref();
    let reader = crate::service::reader(store, &who.session).await?;
    let events = store
        .events_with_audience(who.session.staff.clinic_id, q.after, limit)
        .await?;
    let page = EventPage {
        more: events.len() == limit as usize,
        next_after: events.last().map_or(q.after, |(e, _)| e.seq),
        events: events
            .into_iter()
            .map(|(e, audience)| event_for(&reader, e, audience.as_ref()))
            .collect(),
    };
    let visits: Vec<_> = page
        .events
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::Visit { visit_id, .. } => Some(*visit_id),
            _ => None,
        })
        .collect();
    let detail = serde_json::json!({"after": q.after, "through": page.next_after});
    state
        .audit_read(&who.session, &from, Action::EVENTS_READ, visits, detail)
        .await;
    Ok(Json(page))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct StreamQuery {
    /// The last seq the client has; the stream starts after it.
    #[serde(default)]
    pub after: u64,
}

/// The read buffer of a stream's socket (see [`stream`]).
const STREAM_READ_BUFFER: usize = 4 * 1024;

/// The token comes only in the `Authorization` header of the upgrade request: a token in the
/// URL would end up in proxies' and servers' access logs.
#[utoipa::path(get, path = "/v1/stream", tag = "sync", security(("bearer" = [])), params(StreamQuery),
    responses((status = 101, description = "WebSocket of frames: {type: event, event}, {type: heartbeat, seq}, {type: resync, seq}, and the answers to the console's {type: reauth, token}: {type: reauthed, staff, seq} or {type: error, code, message}"),
        (status = 400, description = "not a WebSocket upgrade request (code `bad_request`)", body = ErrorBody),
        (status = 401, body = ErrorBody)))]
pub async fn stream(State(state): State<AppState>, req: Request) -> Result<Response, AppError> {
    let (mut parts, _) = req.into_parts();
    let ApiQuery(q) = ApiQuery::<StreamQuery>::from_request_parts(&mut parts, &state).await?;
    // Listen before checking the token: a sign-out landing in between is then heard.
    let ended = state.sessions.ended();
    let token = bearer(&parts).ok_or(AppError::Unauthorized)?.to_owned();
    let who = StaffAuth::from_token(&state, &token).await?;
    let ws = WebSocketUpgrade::from_request_parts(&mut parts, &state)
        .await
        .map_err(|e| AppError::BadRequest(e.to_string()))?;
    let reader = crate::service::reader(state.store.as_ref(), &who.session).await?;
    let from = ClientAddr::from_request_parts(&mut parts, &state).await?;
    let detail = serde_json::json!({"after": q.after});
    state
        .audit_read(&who.session, &from, Action::STREAM_OPENED, [], detail)
        .await;
    let session = Session {
        token,
        who,
        reader,
        ended,
    };
    // Counted as the server answers the upgrade, not when the upgraded socket reaches us: the
    // client holds its open stream as soon as it reads the answer, which can be before then.
    state
        .streams_opened
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    // A console sends next to nothing (pings, a close), and the stream's loop asks the socket
    // for it every time it goes round: tungstenite zero-fills its whole read buffer before each
    // read, so the default 128 KiB cost a thousand streams 128 MB of memset per event.
    Ok(ws
        .read_buffer_size(STREAM_READ_BUFFER)
        .on_upgrade(move |socket| async move {
            if let Err(e) = run(socket, state, session, q.after).await {
                tracing::debug!(error = %e, "stream ended");
            }
        }))
}

/// The session a stream serves, what its person may read, and the notices that would end it.
/// Everything the stream knows of who it serves is here, and changes only in
/// [`Session::switch_to`] and [`Session::refresh`]: what depends on the person (the notices that
/// end the stream, and the filter events go through) is read from it, so a switch carries it all
/// over.
struct Session {
    token: String,
    who: StaffAuth,
    /// The filter every event goes through, from the session as it is now: when its person
    /// changes (their rooms or roles, or who is signed in on a station), so does this.
    reader: Reader,
    ended: broadcast::Receiver<SessionEnded>,
}

impl Session {
    fn clinic(&self) -> ClinicId {
        self.who.session.staff.clinic_id
    }

    /// A `reauth`: the stream serves the session of `token` from now on, if that is a live
    /// session on a clinic station of this clinic, and the stream serves a session on that
    /// station already (another person switching on) or the same person's password session
    /// (someone who signed in with their password unlocking the station with their PIN).
    /// Otherwise nothing changes.
    async fn switch_to(&mut self, state: &AppState, token: &str) -> Result<StaffId, AppError> {
        let who = StaffAuth::from_token(state, token).await?;
        let (now, next) = (&self.who.session, &who.session);
        let takes_over = next.station.is_some()
            && next.staff.clinic_id == self.clinic()
            && (next.station == now.station
                || (now.station.is_none() && next.staff.id == now.staff.id));
        if !takes_over {
            return Err(AppError::Forbidden(
                "only a session on this clinic station (another person's, or the same \
                 person's) can take over this stream"
                    .into(),
            ));
        }
        let staff = who.session.staff.id;
        self.reader = crate::service::reader(state.store.as_ref(), &who.session).await?;
        self.token = token.to_owned();
        self.who = who;
        Ok(staff)
    }

    /// Reads the session again and follows it: false when it ended (expired, or ended in
    /// another server process).
    async fn refresh(&mut self, state: &AppState) -> Result<bool, AppError> {
        match StaffAuth::from_token(state, &self.token).await {
            Ok(who) => {
                self.reader = crate::service::reader(state.store.as_ref(), &who.session).await?;
                self.who = who;
                Ok(true)
            }
            Err(AppError::Unauthorized) => Ok(false),
            Err(_) => Ok(true),
        }
    }

    /// Reads the session again (it expired, or ended in another server process).
    async fn still_valid(&self, state: &AppState) -> bool {
        !matches!(
            StaffAuth::from_token(state, &self.token).await,
            Err(AppError::Unauthorized)
        )
    }

    /// Waits until a notice ends this session. Safe to cancel.
    async fn ends(&mut self, state: &AppState) {
        loop {
            match self.ended.recv().await {
                Ok(notice) if notice.ends(&self.who.token_hash, &self.who.session) => return,
                Ok(_) => {}
                // Notices were missed: ask the store instead.
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    if !self.still_valid(state).await {
                        return;
                    }
                }
                // The server is going away.
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    }

    /// Whether a notice that came meanwhile ends this session, without waiting.
    async fn ended_meanwhile(&mut self, state: &AppState) -> bool {
        use broadcast::error::TryRecvError;
        loop {
            match self.ended.try_recv() {
                Ok(notice) if notice.ends(&self.who.token_hash, &self.who.session) => return true,
                Ok(_) => {}
                Err(TryRecvError::Lagged(_)) => return !self.still_valid(state).await,
                Err(TryRecvError::Empty | TryRecvError::Closed) => return false,
            }
        }
    }
}

/// The sending half of the socket: every frame must go out within the write timeout.
struct Line {
    tx: SplitSink<WebSocket, Message>,
    write_timeout: Duration,
}

impl Line {
    async fn send(&mut self, message: Message) -> Result<(), AppError> {
        let sending = self.tx.send(message);
        tokio::pin!(sending);
        // Most frames go straight into the socket's buffer: only one that has to wait gets a
        // timer (a fan-out to a thousand streams would otherwise set and clear a thousand).
        let sent = match futures_util::poll!(&mut sending) {
            std::task::Poll::Ready(sent) => sent,
            std::task::Poll::Pending => tokio::time::timeout(self.write_timeout, sending)
                .await
                .map_err(|_| {
                    AppError::Internal(format!(
                        "a frame did not go out within {:?}",
                        self.write_timeout
                    ))
                })?,
        };
        sent.map_err(|e| AppError::Internal(e.to_string()))
    }

    async fn send_frame(&mut self, f: &Frame) -> Result<(), AppError> {
        let text = serde_json::to_string(f).map_err(AppError::internal)?;
        self.send(Message::Text(text.into())).await
    }

    /// Says why, if the line still takes it, then ends it.
    async fn close(mut self, code: u16, reason: &'static str) {
        let _ = self
            .send(Message::Close(Some(CloseFrame {
                code,
                reason: reason.into(),
            })))
            .await;
    }
}

/// Why a stream was closed, as its close frame says.
const RESYNC: &str = "resync";
const SIGNED_OUT: &str = "signed out";

/// How the backlog ended.
enum Backlog {
    Sent,
    SessionEnded,
}

/// Sends the clinic's events after `*last` (up to `through`, if given) a page at a time,
/// moving `*last` on with each one sent.
async fn send_backlog(
    line: &mut Line,
    state: &AppState,
    session: &mut Session,
    last: &mut u64,
    through: Option<u64>,
) -> Result<Backlog, AppError> {
    let store: &dyn Store = state.store.as_ref();
    loop {
        let page = store
            .events_with_audience(session.clinic(), *last, BACKLOG_PAGE)
            .await?;
        let full = page.len() == BACKLOG_PAGE as usize;
        for (event, audience) in page {
            if through.is_some_and(|t| event.seq > t) {
                return Ok(Backlog::Sent);
            }
            let seq = event.seq;
            let event = event_for(&session.reader, event, audience.as_ref());
            line.send_frame(&Frame::Event { event }).await?;
            *last = seq;
        }
        if !full {
            return Ok(Backlog::Sent);
        }
        // A long catch-up must not outlive its session.
        if session.ended_meanwhile(state).await {
            return Ok(Backlog::SessionEnded);
        }
    }
}

async fn run(
    socket: WebSocket,
    state: AppState,
    mut session: Session,
    after: u64,
) -> Result<(), AppError> {
    let (tx, mut rx_client) = socket.split();
    let mut line = Line {
        tx,
        write_timeout: state.settings.stream_write_timeout,
    };
    // Subscribe before reading the backlog: whatever commits in between is in both, and the
    // seq check below drops the copy.
    let mut live = state.store.subscribe(session.clinic());
    let mut last = after;
    if let Backlog::SessionEnded =
        send_backlog(&mut line, &state, &mut session, &mut last, None).await?
    {
        line.close(close_code::POLICY, SIGNED_OUT).await;
        return Ok(());
    }
    // A heartbeat is for a quiet line. The clock ticks twice per heartbeat period and a
    // heartbeat goes only if nothing (heartbeats included) went out since the tick before: an
    // idle line gets one per period, a line is never quiet for a whole period, and a busy line
    // sets no timer per event.
    let mut heartbeat =
        tokio::time::interval((state.settings.heartbeat / 2).max(Duration::from_millis(1)));
    heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
    heartbeat.reset();
    let mut sent_since_tick = false;
    // Sign-outs and revoked stations in this process are heard at once (`session.ends`); this
    // catches sessions that expired or ended in another server process.
    let mut recheck = tokio::time::interval(state.settings.heartbeat);
    recheck.set_missed_tick_behavior(MissedTickBehavior::Delay);
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
                        let through = Some(published.seq - 1);
                        if let Backlog::SessionEnded =
                            send_backlog(&mut line, &state, &mut session, &mut last, through).await?
                        {
                            line.close(close_code::POLICY, SIGNED_OUT).await;
                            return Ok(());
                        }
                    }
                    let frame = published.frame_for(&session.reader).clone();
                    line.send(Message::Text(frame)).await?;
                    last = published.seq;
                    sent_since_tick = true;
                }
                Err(Lagged) => {
                    line.send_frame(&Frame::Resync { seq: last }).await?;
                    line.close(close_code::AGAIN, RESYNC).await;
                    return Ok(());
                }
            },
            _ = heartbeat.tick() => {
                if !std::mem::take(&mut sent_since_tick) {
                    line.send_frame(&Frame::Heartbeat { seq: last }).await?;
                    sent_since_tick = true;
                }
            }
            () = session.ends(&state) => {
                line.close(close_code::POLICY, SIGNED_OUT).await;
                return Ok(());
            }
            _ = recheck.tick() => {
                if !session.refresh(&state).await? {
                    line.close(close_code::POLICY, SIGNED_OUT).await;
                    return Ok(());
                }
            }
            msg = rx_client.next() => match msg {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return Ok(()),
                Some(Ok(Message::Text(text))) => {
                    let answer = match serde_json::from_str::<ClientFrame>(text.as_str()) {
                        Ok(ClientFrame::Reauth { token }) => {
                            session.switch_to(&state, &token).await.map(|staff| {
                                Frame::Reauthed { staff, seq: last }
                            })
                        }
                        Err(e) => Err(AppError::BadRequest(format!("not a frame this stream takes: {e}"))),
                    };
                    let answer = answer.unwrap_or_else(|e| Frame::Error {
                        code: e.code().to_owned(),
                        message: e.to_string(),
                    });
                    line.send_frame(&answer).await?;
                    sent_since_tick = true;
                }
                Some(Ok(_)) => {}
            },
        }
    }
}
