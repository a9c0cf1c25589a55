//! The engine: owns the cache, the outbox, the live stream and the alert decisions, and hands
//! the console a [`View`] to draw and [`Notice`]s to show. Two tasks run while it lives: one
//! keeps the cache in step with the server (catch-up, stream, resync), one drains the outbox in
//! order.

use crate::api::ApiClient;
use crate::error::ClientError;
use crate::state::{Changed, ClinicState};
use crate::store::{Action, ActionKind, Outcome, Store};
use crate::view::{self, ConnectionState, ConnectionView, View};
use backon::{BackoffBuilder, ExponentialBackoff, ExponentialBuilder};
use frontdesk_api::Frame;
use frontdesk_domain::alerts::{Notice, Recipient, alerts_for, coalesce};
use frontdesk_domain::queue::queue_order;
use frontdesk_domain::{Availability, Command, Role, RoomId, Timestamp, VisitId};
use futures_util::{SinkExt, StreamExt};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// Where the engine gets the bearer token: the app keeps it in the OS keyring, tests in memory.
pub trait TokenProvider: Send + Sync + 'static {
    fn token(&self) -> Option<String>;
}

impl TokenProvider for String {
    fn token(&self) -> Option<String> {
        Some(self.clone())
    }
}

#[derive(Clone, Debug)]
pub struct EngineConfig {
    pub server_url: String,
    pub cache_path: PathBuf,
    /// No frame (event or heartbeat) for this long means the connection is dead.
    pub dead_after: Duration,
    /// Events fetched per page when catching up.
    pub page_size: u32,
    /// Only the first patient in a room's queue alerts; later ones only show.
    pub first_in_queue_only: bool,
    /// Rooms to raise arrival alerts for; None means "my rooms".
    pub alert_rooms: Option<Vec<RoomId>>,
    /// Minutes east of UTC of the clinic's local time, for "today's sessions".
    pub utc_offset_minutes: i32,
}

impl EngineConfig {
    pub fn new(server_url: &str, cache_path: PathBuf) -> Self {
        EngineConfig {
            server_url: server_url.to_string(),
            cache_path,
            dead_after: Duration::from_secs(15),
            page_size: 1_000,
            first_in_queue_only: false,
            alert_rooms: None,
            utc_offset_minutes: 0,
        }
    }
}

/// The wall clock, as the domain counts time.
pub fn now() -> Timestamp {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    Timestamp::from_millis(ms)
}

#[derive(Debug)]
struct Link {
    state: ConnectionState,
    offline_since: Option<Timestamp>,
}

struct Inner {
    config: Mutex<EngineConfig>,
    api: ApiClient,
    tokens: Arc<dyn TokenProvider>,
    store: Mutex<Store>,
    state: Mutex<ClinicState>,
    link: Mutex<Link>,
    /// Bumped after every change the view should show.
    changes: watch::Sender<u64>,
    notices: mpsc::UnboundedSender<Notice>,
    outbox_wake: Notify,
    stop: watch::Sender<bool>,
    resyncs: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("api", &self.api).finish()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves data we still trust more than nothing.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A running engine. Dropping it stops its tasks.
#[derive(Debug)]
pub struct Engine {
    inner: Arc<Inner>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Engine {
    fn drop(&mut self) {
        let _ = self.inner.stop.send(true);
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Engine {
    /// Opens the cache and starts syncing. The cached queue is available from
    /// [`Engine::view`] at once, before the server has answered.
    pub fn start(
        config: EngineConfig,
        tokens: Arc<dyn TokenProvider>,
    ) -> Result<(Engine, mpsc::UnboundedReceiver<Notice>), ClientError> {
        let store = Store::open(&config.cache_path)?;
        let state = store.load()?;
        let api = ApiClient::new(&config.server_url)?;
        let (notices, notices_rx) = mpsc::unbounded_channel();
        let inner = Arc::new(Inner {
            config: Mutex::new(config),
            api,
            tokens,
            store: Mutex::new(store),
            state: Mutex::new(state),
            link: Mutex::new(Link {
                state: ConnectionState::Connecting,
                offline_since: None,
            }),
            changes: watch::channel(0).0,
            notices,
            outbox_wake: Notify::new(),
            stop: watch::channel(false).0,
            resyncs: std::sync::atomic::AtomicU64::new(0),
        });
        let tasks = vec![
            tokio::spawn(sync_task(inner.clone())),
            tokio::spawn(outbox_task(inner.clone())),
        ];
        Ok((Engine { inner, tasks }, notices_rx))
    }

    /// Subscribes to "something changed": read [`Engine::view`] when it fires.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.inner.changes.subscribe()
    }

    pub fn api(&self) -> &ApiClient {
        &self.inner.api
    }

    /// What the console should show now.
    pub fn view(&self) -> View {
        let inner = &self.inner;
        let now = now();
        let (pending, outcomes) = {
            let store = lock(&inner.store);
            (
                store.pending().unwrap_or_default(),
                store.outcomes().unwrap_or_default(),
            )
        };
        let offset = lock(&inner.config).utc_offset_minutes;
        let state = lock(&inner.state);
        let connection = {
            let link = lock(&inner.link);
            ConnectionView {
                state: link.state,
                since: link.offline_since.map(Timestamp::as_millis),
                as_of: state.as_of.map(Timestamp::as_millis),
                pending: pending.len(),
            }
        };
        view::build(
            &state,
            &pending,
            outcomes,
            connection,
            now,
            local_day(now, offset),
        )
    }

    /// How many times the engine replaced its state with a snapshot (first sync included).
    pub fn resyncs(&self) -> u64 {
        self.inner
            .resyncs
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The confirmed state (for tests and diagnostics).
    pub fn confirmed(&self) -> ClinicState {
        lock(&self.inner.state).clone()
    }

    /// A visit as last confirmed, with its whole history (for the details panel).
    pub fn visit(&self, id: VisitId) -> Option<frontdesk_domain::Visit> {
        lock(&self.inner.state).visits.get(&id).cloned()
    }

    /// Queues a staff action on a visit. It is durable when this returns; the server's answer
    /// arrives later through the view (confirmed state, or an outcome if refused).
    pub fn act(&self, visit_id: VisitId, command: Command) -> Result<String, ClientError> {
        let expected_version = if !command.needs_version() {
            None
        } else {
            let ahead = lock(&self.inner.store)
                .pending()?
                .iter()
                .filter(
                    |a| matches!(&a.kind, ActionKind::Visit { visit_id: v, .. } if *v == visit_id),
                )
                .count() as u64;
            let state = lock(&self.inner.state);
            // Each of my earlier actions on this visit will add one version when it lands.
            state.visits.get(&visit_id).map(|v| v.version + ahead)
        };
        self.enqueue(ActionKind::Visit {
            visit_id,
            command,
            expected_version,
        })
    }

    /// Queues a change of my availability; the view shows it at once, marked pending.
    pub fn set_availability(&self, availability: Availability) -> Result<String, ClientError> {
        self.enqueue(ActionKind::Availability { availability })
    }

    fn enqueue(&self, kind: ActionKind) -> Result<String, ClientError> {
        let action = Action {
            action_id: uuid::Uuid::new_v4().to_string(),
            at: now(),
            kind,
        };
        lock(&self.inner.store).enqueue(&action)?;
        self.inner.bump();
        self.inner.outbox_wake.notify_one();
        Ok(action.action_id)
    }

    pub fn dismiss_outcome(&self, action_id: &str) -> Result<(), ClientError> {
        lock(&self.inner.store).dismiss(action_id)?;
        self.inner.bump();
        Ok(())
    }

    /// Changes alert preferences while running.
    pub fn set_alert_options(&self, first_in_queue_only: bool, alert_rooms: Option<Vec<RoomId>>) {
        let mut config = lock(&self.inner.config);
        config.first_in_queue_only = first_in_queue_only;
        config.alert_rooms = alert_rooms;
    }

    /// Asks the sync task to reconnect now (after sleep, or a network change).
    pub fn reconnect_now(&self) {
        self.inner.outbox_wake.notify_one();
        let _ = self.inner.stop.send(false);
    }
}

/// The span of the local day containing `now`.
fn local_day(now: Timestamp, offset_minutes: i32) -> (Timestamp, Timestamp) {
    const DAY: i64 = 86_400_000;
    let offset = i64::from(offset_minutes) * 60_000;
    let local = now.as_millis() + offset;
    let start = local - local.rem_euclid(DAY) - offset;
    (
        Timestamp::from_millis(start),
        Timestamp::from_millis(start + DAY),
    )
}

impl Inner {
    fn bump(&self) {
        self.changes.send_modify(|n| *n += 1);
    }

    fn token(&self) -> Result<String, ClientError> {
        self.tokens.token().ok_or(ClientError::SignedOut)
    }

    fn set_link(&self, state: ConnectionState) {
        {
            let mut link = lock(&self.link);
            if link.state == state {
                return;
            }
            match state {
                ConnectionState::Offline | ConnectionState::SignedOut => {
                    link.offline_since.get_or_insert_with(now);
                }
                ConnectionState::Online => link.offline_since = None,
                _ => {}
            }
            link.state = state;
        }
        self.bump();
    }

    fn stopped(&self) -> bool {
        *self.stop.borrow()
    }

    /// Replaces confirmed state with a fresh snapshot, alerting for what happened meanwhile.
    async fn resync(&self) -> Result<(), ClientError> {
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
        *lock(&self.state) = next;
        self.resyncs
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // On the very first sync the queue itself says who is waiting: no flood of alerts.
        if !first_time {
            self.raise_alerts(&changed)?;
        }
        self.bump();
        Ok(())
    }

    /// Lays a batch of events on and persists it. Returns what changed (for alerts) and
    /// whether the batch ran into a gap.
    fn take_events(
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

    /// Decides alerts for what changed and sends the ones never raised before.
    fn raise_alerts(&self, changed: &Changed) -> Result<(), ClientError> {
        if changed.visit_changes.is_empty() {
            return Ok(());
        }
        let (first_only, alert_rooms) = {
            let c = lock(&self.config);
            (c.first_in_queue_only, c.alert_rooms.clone())
        };
        let pending = lock(&self.store).pending()?;
        let state = lock(&self.state);
        let Some(me) = state.me.as_ref() else {
            return Ok(());
        };
        let rooms = alert_rooms.unwrap_or_else(|| view::my_rooms(&state));
        let recipient = Recipient {
            me: me.id,
            is_provider: me.roles.has(Role::Provider),
            availability: view::effective_availability(&state, &pending).unwrap_or(me.availability),
            subscribed_rooms: &rooms,
            first_in_queue_only: first_only,
        };
        let mut alerts = Vec::new();
        for change in &changed.visit_changes {
            let Some(visit) = state.visits.get(&change.visit_id) else {
                continue;
            };
            let ahead = state
                .visits
                .values()
                .filter(|v| {
                    v.id != visit.id
                        && v.room_id == visit.room_id
                        && v.status.is_waiting()
                        && queue_order(v, visit).is_lt()
                })
                .count();
            alerts.extend(alerts_for(&recipient, visit, &change.new_entries, ahead));
        }
        if alerts.is_empty() {
            return Ok(());
        }
        let keys: Vec<String> = alerts.iter().map(|a| a.key()).collect();
        let fresh = lock(&self.store).first_time(&keys, now())?;
        alerts.retain(|a| fresh.contains(&a.key()));
        let room_name = |id: RoomId| {
            state
                .rooms
                .get(&id)
                .map(|r| r.name.clone())
                .unwrap_or_else(|| "a room".into())
        };
        for notice in coalesce(alerts, room_name) {
            let _ = self.notices.send(notice);
        }
        Ok(())
    }
}

fn backoff() -> ExponentialBackoff {
    ExponentialBuilder::default()
        .with_jitter()
        .with_min_delay(Duration::from_millis(250))
        .with_max_delay(Duration::from_secs(20))
        .with_max_times(usize::MAX)
        .build()
}

/// Keeps confirmed state in step with the server for as long as the engine lives.
async fn sync_task(inner: Arc<Inner>) {
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
        let delay = delays.next().unwrap_or(Duration::from_secs(20));
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = stop.changed() => {}
        }
    }
}

/// One connection's life: catch up, then follow the live stream until it breaks.
async fn sync_once(inner: &Arc<Inner>, delays: &mut ExponentialBackoff) -> Result<(), ClientError> {
    let token = inner.token()?;
    if lock(&inner.state).seq == 0 {
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
    loop {
        let frame = tokio::select! {
            frame = tokio::time::timeout(dead_after, ws.next()) => frame,
            _ = stop.changed() => return Ok(()),
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
            Ok(Frame::Resync { .. }) => {
                inner.resync().await?;
                return Ok(());
            }
            Err(e) => tracing::warn!(error = %e, "unreadable frame"),
        }
    }
}

/// Sends queued actions, oldest first, for as long as the engine lives.
async fn outbox_task(inner: Arc<Inner>) {
    let mut delays = backoff();
    let mut stop = inner.stop.subscribe();
    while !inner.stopped() {
        let wait = match drain(&inner).await {
            Ok(()) => {
                delays = backoff();
                None
            }
            Err(e) => {
                tracing::debug!(error = %e, "outbox waiting to retry");
                delays.next()
            }
        };
        let wake = inner.outbox_wake.notified();
        match wait {
            Some(delay) => tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = wake => {}
                _ = stop.changed() => {}
            },
            None => tokio::select! {
                _ = wake => {}
                _ = stop.changed() => {}
            },
        }
    }
}

/// Sends one visit command. A command that cannot conflict with others' work (a message, a
/// priority) carries no version of its own: it is sent against the latest confirmed version,
/// and if the visit moved on meanwhile it is sent again against the version the server names.
async fn send_command(
    inner: &Arc<Inner>,
    token: &str,
    visit_id: VisitId,
    command: &Command,
    expected_version: Option<u64>,
    key: &str,
) -> Result<frontdesk_domain::Visit, ClientError> {
    if let Some(expected) = expected_version {
        return inner
            .api
            .command(token, visit_id, command, Some(expected), key)
            .await
            .map(|r| r.visit);
    }
    let mut version = lock(&inner.state).visits.get(&visit_id).map(|v| v.version);
    for _ in 0..5 {
        match inner
            .api
            .command(token, visit_id, command, version, key)
            .await
        {
            Err(ClientError::Api {
                code,
                visit: Some(current),
                ..
            }) if code == "version_conflict" && Some(current.version) != version => {
                version = Some(current.version);
                lay_and_save(inner, &current)?;
            }
            other => return other.map(|r| r.visit),
        }
    }
    Err(ClientError::Network(
        "the visit keeps changing; will try again".into(),
    ))
}

/// Takes a visit the server answered with into confirmed state and the cache.
fn lay_and_save(inner: &Arc<Inner>, visit: &frontdesk_domain::Visit) -> Result<(), ClientError> {
    // Lock order, everywhere: state, then store.
    let mut state = lock(&inner.state);
    let mut store = lock(&inner.store);
    if state.lay_visit(visit) {
        let changed = Changed {
            visits: [visit.id].into(),
            ..Changed::default()
        };
        store.save_changes(&state, &changed)?;
    }
    Ok(())
}

/// Sends every pending action in order. Stops at the first one that may succeed later.
async fn drain(inner: &Arc<Inner>) -> Result<(), ClientError> {
    loop {
        let next = lock(&inner.store).pending()?.into_iter().next();
        let Some(action) = next else {
            return Ok(());
        };
        let token = inner.token()?;
        let result = match &action.kind {
            ActionKind::Visit {
                visit_id,
                command,
                expected_version,
            } => send_command(
                inner,
                &token,
                *visit_id,
                command,
                *expected_version,
                &action.action_id,
            )
            .await
            .map(Some),
            ActionKind::Availability { availability } => inner
                .api
                .set_availability(&token, *availability, &action.action_id)
                .await
                .map(|_| None),
        };
        match result {
            Ok(visit) => {
                lock(&inner.store).confirm(&action.action_id)?;
                if let Some(visit) = visit {
                    lay_and_save(inner, &visit)?;
                }
                inner.bump();
            }
            Err(e) if e.is_retryable() => {
                lock(&inner.store).note_attempt(&action.action_id, &e.to_string())?;
                return Err(e);
            }
            Err(e) => {
                let (held_by, visit) = match &e {
                    ClientError::Api { held_by, visit, .. } => (held_by.clone(), visit.clone()),
                    _ => (None, None),
                };
                let (visit_id, command) = match &action.kind {
                    ActionKind::Visit {
                        visit_id, command, ..
                    } => (Some(*visit_id), command.name().to_string()),
                    ActionKind::Availability { .. } => (None, "set_availability".to_string()),
                };
                let message = match (&held_by, e.code()) {
                    (Some(who), "already_claimed") if !who.is_empty() => format!(
                        "Already claimed by {}",
                        who.iter()
                            .map(|s| s.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    _ => e.to_string(),
                };
                let outcome = Outcome {
                    action_id: action.action_id.clone(),
                    visit_id,
                    command,
                    code: e.code().to_string(),
                    message,
                    held_by,
                };
                lock(&inner.store).reject(&outcome, now())?;
                if let Some(visit) = visit {
                    lay_and_save(inner, &visit)?;
                }
                inner.bump();
            }
        }
    }
}
