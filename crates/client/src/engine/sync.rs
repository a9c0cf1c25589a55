//! Keeping confirmed state in step with the server: catch up by event pages, follow the live
//! stream, and take a snapshot when a gap or the server says so.

use super::{Inner, Switch, lock, now};
use crate::error::ClientError;
use crate::state::{Changed, ClinicState};
use crate::view::ConnectionState;
use backon::{BackoffBuilder, ExponentialBackoff, ExponentialBuilder};
use frontdesk_api::{ClientFrame, Frame};
use futures_util::{SinkExt, StreamExt};
use std::sync::Arc;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

impl Inner {
    /// Replaces confirmed state with a fresh snapshot, alerting for what happened meanwhile.
    pub(super) async fn resync(&self) -> Result<(), ClientError> {
        self.set_link(ConnectionState::Resyncing);
        let snapshot = self.api.snapshot(&self.token()?).await?;
        let first_time = {
            let state = lock(&self.state);
            state.seq == 0 && state.visits.is_empty()
        };
        let (next, changed) = {
            let previous = lock(&self.state);
            ClinicState::from_snapshot(snapshot, &previous, now())
        };
        lock(&self.store).replace_all(&next)?;
        self.confirm_person(next.me.as_ref().map(|m| m.id));
        *lock(&self.state) = next;
        // The day view: the visits that finished today (the snapshot holds open ones only).
        self.fetch_today().await?;
        self.resyncs
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // On the very first sync the queue itself says who is waiting: no flood of alerts.
        if !first_time {
            self.raise_alerts(&changed)?;
        }
        self.bump();
        Ok(())
    }

    /// Takes the server's list of the visits that finished today, page by page, as the day
    /// view's (events then keep it live).
    pub(super) async fn fetch_today(&self) -> Result<(), ClientError> {
        let token = self.token()?;
        let mut finished = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = self
                .api
                .finished_visits(&token, None, after.as_deref(), 500)
                .await?;
            finished.extend(page.visits);
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        let offset = lock(&self.config).utc_offset_minutes;
        let day = super::local_day(now(), offset);
        let mut state = lock(&self.state);
        let changed = state.set_today(finished, day.0);
        lock(&self.store).save_changes(&state, &changed)?;
        drop(state);
        self.bump();
        Ok(())
    }

    /// Lays a batch of events on and persists it. Returns what changed (for alerts) and
    /// whether the batch ran into a gap.
    pub(super) fn take_events(
        &self,
        events: Vec<frontdesk_api::Event>,
    ) -> Result<(Changed, bool), ClientError> {
        let (changed, gap) = {
            let mut state = lock(&self.state);
            let (changed, gap) = state.apply_events(events, now());
            lock(&self.store).save_changes(&state, &changed)?;
            (changed, gap)
        };
        if !changed.is_empty() {
            self.bump();
        }
        if let Some(gap) = gap {
            tracing::info!(
                expected = gap.expected,
                got = gap.got,
                "gap in events; resyncing"
            );
        }
        Ok((changed, gap.is_none()))
    }
}

/// How often the wake watch looks at the clocks, and how far the wall clock may run ahead of
/// the monotonic one before it counts as a sleep (or a suspended VM) and not as jitter.
const WAKE_TICK: Duration = Duration::from_secs(2);
const WAKE_JUMP: Duration = Duration::from_secs(4);

/// Whether the wall clock ran further than the monotonic clock by more than `WAKE_JUMP`:
/// the machine slept (the monotonic clock stops while it sleeps) or the clock was set.
pub(crate) fn woke_up(monotonic: Duration, wall: Duration) -> bool {
    wall > monotonic + WAKE_JUMP
}

/// Watches for the machine waking: then the connection is tried again at once (a connection
/// from before the sleep is most likely dead, and waiting for its heartbeat to time out
/// would leave the queue stale for seconds).
pub(super) async fn wake_watch(inner: Arc<Inner>) {
    let mut stop = inner.stop.subscribe();
    loop {
        let (mono, wall) = (std::time::Instant::now(), std::time::SystemTime::now());
        tokio::select! {
            _ = tokio::time::sleep(WAKE_TICK) => {}
            _ = stop.changed() => return,
        }
        let wall = wall.elapsed().unwrap_or_default();
        if woke_up(mono.elapsed(), wall) {
            tracing::info!(?wall, "the machine woke up; reconnecting");
            inner.woke.notify_waiters();
            inner.reconnect.notify_waiters();
        }
    }
}

pub(super) fn backoff() -> ExponentialBackoff {
    ExponentialBuilder::default()
        .with_jitter()
        .with_min_delay(Duration::from_millis(250))
        // A front desk wants the queue back within seconds of the network: retry often, with
        // jitter so a clinic's consoles do not all knock at once. The jitter adds up to the
        // delay again, so no wait is longer than 3 s.
        .with_max_delay(Duration::from_millis(1_500))
        .with_max_times(usize::MAX)
        .build()
}

/// Keeps confirmed state in step with the server for as long as the engine lives.
pub(super) async fn sync_task(inner: Arc<Inner>) {
    let mut delays = backoff();
    let mut stop = inner.stop.subscribe();
    while !inner.stopped() {
        match sync_once(&inner, &mut delays).await {
            Ok(()) => {}
            Err(ClientError::SignedOut) => inner.set_link(ConnectionState::SignedOut),
            Err(e) => {
                tracing::debug!(error = %e, "sync interrupted");
                inner.set_link(ConnectionState::Offline);
            }
        }
        let delay = delays.next().unwrap_or(Duration::from_secs(3));
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = inner.reconnect.notified() => {}
            _ = stop.changed() => {}
        }
    }
}

/// One connection's life: catch up, then follow the live stream until it breaks.
async fn sync_once(inner: &Arc<Inner>, delays: &mut ExponentialBackoff) -> Result<(), ClientError> {
    let token = inner.token()?;
    // A snapshot also says whose the token is, when the cache could not.
    if lock(&inner.state).seq == 0 || inner.person().is_none() {
        inner.resync().await?;
    }
    // Catch up page by page; alerts wait until the end, so someone who arrived and left while
    // we were away is not announced.
    let page = lock(&inner.config).page_size;
    let mut caught_up = Changed::default();
    loop {
        let after = lock(&inner.state).seq;
        let events = inner.api.events(&token, after, page).await?;
        let full_page = events.len() >= page as usize;
        let (changed, in_order) = inner.take_events(events)?;
        caught_up.merge(changed);
        if !in_order {
            inner.raise_alerts(&caught_up)?;
            caught_up = Changed::default();
            inner.resync().await?;
            continue;
        }
        if !full_page {
            break;
        }
    }
    inner.raise_alerts(&caught_up)?;
    // Back after a while (or started from the cache): the day's finished visits again.
    inner.fetch_today().await?;
    let after = lock(&inner.state).seq;
    let mut request = inner
        .api
        .stream_url(after)
        .into_client_request()
        .map_err(|e| ClientError::Network(e.to_string()))?;
    let bearer = format!("Bearer {token}")
        .parse()
        .map_err(|_| ClientError::SignedOut)?;
    request.headers_mut().insert("Authorization", bearer);
    let (mut ws, _) = tokio_tungstenite::connect_async(request)
        .await
        .map_err(|e| match e {
            tokio_tungstenite::tungstenite::Error::Http(resp) if resp.status() == 401 => {
                ClientError::SignedOut
            }
            e => ClientError::Network(e.to_string()),
        })?;
    inner.set_link(ConnectionState::Online);
    *delays = backoff();
    // Anything queued while offline can go now.
    inner.outbox_wake.notify_one();
    let dead_after = lock(&inner.config).dead_after;
    let mut stop = inner.stop.subscribe();
    // A person switching on the station: handed to this stream while it is open.
    let mut switches = inner.switches_rx.lock().await;
    let mut switching: Option<Switch> = None;
    loop {
        let frame = tokio::select! {
            frame = tokio::time::timeout(dead_after, ws.next()) => frame,
            _ = stop.changed() => return Ok(()),
            _ = inner.woke.notified() => {
                return Err(ClientError::Network("woke up: connecting again".into()));
            }
            Some(switch) = switches.recv(), if switching.is_none() => {
                let reauth = ClientFrame::Reauth { token: switch.token.clone() };
                let text = serde_json::to_string(&reauth)
                    .map_err(|e| ClientError::Network(e.to_string()))?;
                ws.send(Message::Text(text.into()))
                    .await
                    .map_err(|e| ClientError::Network(e.to_string()))?;
                switching = Some(switch);
                continue;
            }
        };
        let message = match frame {
            Err(_) => return Err(ClientError::Network("no heartbeat from the server".into())),
            Ok(None) => return Err(ClientError::Network("stream closed".into())),
            Ok(Some(Err(e))) => return Err(ClientError::Network(e.to_string())),
            Ok(Some(Ok(m))) => m,
        };
        let text = match message {
            Message::Text(t) => t,
            Message::Ping(p) => {
                let _ = ws.send(Message::Pong(p)).await;
                continue;
            }
            Message::Close(_) => return Err(ClientError::Network("stream closed".into())),
            _ => continue,
        };
        match serde_json::from_str::<Frame>(&text) {
            Ok(Frame::Event { event }) => {
                let (changed, in_order) = inner.take_events(vec![event])?;
                inner.raise_alerts(&changed)?;
                if !in_order {
                    inner.resync().await?;
                    return Ok(());
                }
            }
            Ok(Frame::Heartbeat { .. }) => {}
            Ok(Frame::Reauthed { staff, .. }) => {
                if let Some(switch) = switching.take() {
                    let _ = switch.done.send(switched(inner, switch.token, staff).await);
                }
            }
            Ok(Frame::Error { code, message }) => {
                tracing::warn!(%code, %message, "the server refused a frame");
                if let Some(switch) = switching.take() {
                    let _ = switch.done.send(Err(ClientError::Api {
                        status: 403,
                        code,
                        message,
                        held_by: None,
                        visit: None,
                    }));
                }
            }
            Ok(Frame::Resync { .. }) => {
                inner.resync().await?;
                return Ok(());
            }
            Err(e) => tracing::warn!(error = %e, "unreadable frame"),
        }
    }
}

/// The stream took a person switching on the station: the engine acts as them from here on,
/// and shows what they may see (a snapshot of their own, over the same connection's server).
async fn switched(
    inner: &Arc<Inner>,
    token: String,
    staff: frontdesk_domain::StaffId,
) -> Result<(), ClientError> {
    let another = inner.person() != Some(staff);
    inner.take_over(token, staff);
    if another {
        inner.resync().await?;
        inner.set_link(ConnectionState::Online);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sleep_shows_as_the_wall_clock_running_ahead_of_the_monotonic_one() {
        let tick = Duration::from_secs(2);
        assert!(!woke_up(tick, tick), "awake");
        assert!(!woke_up(tick, tick + Duration::from_secs(1)), "jitter");
        assert!(
            woke_up(tick, Duration::from_secs(600)),
            "ten minutes asleep"
        );
        assert!(
            !woke_up(tick, Duration::ZERO),
            "the clock set back is not a sleep"
        );
    }

    #[test]
    fn retries_come_within_three_seconds_with_jitter() {
        let delays: Vec<Duration> = backoff().take(20).collect();
        assert!(
            delays.iter().all(|d| *d <= Duration::from_secs(3)),
            "{delays:?}"
        );
        assert!(
            delays.iter().any(|d| *d != delays[19]),
            "jittered: {delays:?}"
        );
        assert!(
            delays[0] < Duration::from_secs(1),
            "the first retry is quick: {delays:?}"
        );
    }
}
