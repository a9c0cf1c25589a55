//! The engine: owns the cache, the outbox, the live stream and the alert decisions, and hands
//! the console a [`View`] to draw and [`Notice`]s to show. Two tasks run while it lives: one
//! keeps the cache in step with the server (catch-up, stream, resync), one drains the outbox in
//! order.

mod alerts;
mod outbox;
mod sync;

use outbox::outbox_task;
use sync::sync_task;

use crate::api::ApiClient;
use crate::error::ClientError;
use crate::rows::{RowBook, Sent, ViewChanges};
use crate::seal::CacheKey;
use crate::state::ClinicState;
use crate::store::Outcome;
use crate::store::{Action, ActionKind, Store};
use crate::view::{ConnectionState, ConnectionView, View};
use frontdesk_domain::alerts::Notice;
use frontdesk_domain::{Availability, Command, RoomId, StaffId, Timestamp, VisitId};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::{Notify, mpsc, oneshot, watch};
use tokio::task::JoinHandle;

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
    /// Seals the cache; the console keeps it in the OS keyring.
    pub cache_key: CacheKey,
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
    /// The email of the person whose token the engine starts with, when known. A cache last
    /// written for someone else (at a clinic station where another person switched on) is not
    /// taken for theirs: the engine acts as nobody in particular until a snapshot says who.
    pub person_email: Option<String>,
}

impl EngineConfig {
    pub fn new(server_url: &str, cache_path: PathBuf, cache_key: CacheKey) -> Self {
        EngineConfig {
            server_url: server_url.to_string(),
            cache_path,
            cache_key,
            dead_after: Duration::from_secs(15),
            page_size: 1_000,
            first_in_queue_only: false,
            alert_rooms: None,
            utc_offset_minutes: 0,
            person_email: None,
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

/// Who the engine acts as. At a clinic station another person may switch on while the engine
/// runs ([`Engine::switch_person`]): the engine then sends their token, and keeps the tokens of
/// those before them for the actions they left in the outbox.
#[derive(Default)]
struct Acting {
    /// The token of the person switched to; None: the [`TokenProvider`]'s.
    token: Option<String>,
    /// The person the token belongs to, as the server last said (a snapshot's `me`, a
    /// switch's answer) or the cache agrees; None until known.
    staff: Option<StaffId>,
    /// Those who were at this station before, by their tokens.
    earlier: HashMap<StaffId, String>,
}

/// A person switching on the station, handed to the live stream (see [`Engine::switch_person`]).
struct Switch {
    token: String,
    done: oneshot::Sender<Result<(), ClientError>>,
}

/// How long a person switching on the station waits for the stream to take them.
const SWITCH_WAIT: Duration = Duration::from_secs(10);

struct Inner {
    config: Mutex<EngineConfig>,
    api: ApiClient,
    tokens: Arc<dyn TokenProvider>,
    acting: Mutex<Acting>,
    switches: mpsc::Sender<Switch>,
    /// Taken by the live stream while it is open.
    switches_rx: tokio::sync::Mutex<mpsc::Receiver<Switch>>,
    store: Mutex<Store>,
    state: Mutex<ClinicState>,
    /// The view's rows as last made (see [`crate::rows`]).
    rows: Mutex<RowBook>,
    link: Mutex<Link>,
    /// Bumped after every change the view should show.
    changes: watch::Sender<u64>,
    notices: mpsc::UnboundedSender<Notice>,
    outbox_wake: Notify,
    /// "Try the server now": wakes the sync task from its wait between attempts, and drops a
    /// connection that may have died while the machine slept.
    reconnect: Notify,
    /// The machine woke up: a live-looking connection is dropped and made again.
    woke: Notify,
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
        let store = Store::open(&config.cache_path, &config.cache_key)?;
        let state = store.load()?;
        let api = ApiClient::new(&config.server_url)?;
        let acting = Acting {
            staff: state
                .me
                .as_ref()
                .filter(|me| {
                    config
                        .person_email
                        .as_ref()
                        .is_none_or(|e| e.eq_ignore_ascii_case(&me.email))
                })
                .map(|me| me.id),
            ..Acting::default()
        };
        let (notices, notices_rx) = mpsc::unbounded_channel();
        let (switches, switches_rx) = mpsc::channel(1);
        let inner = Arc::new(Inner {
            config: Mutex::new(config),
            api,
            tokens,
            acting: Mutex::new(acting),
            switches,
            switches_rx: tokio::sync::Mutex::new(switches_rx),
            store: Mutex::new(store),
            state: Mutex::new(state),
            rows: Mutex::new(RowBook::default()),
            link: Mutex::new(Link {
                state: ConnectionState::Connecting,
                offline_since: None,
            }),
            changes: watch::channel(0).0,
            notices,
            outbox_wake: Notify::new(),
            reconnect: Notify::new(),
            woke: Notify::new(),
            stop: watch::channel(false).0,
            resyncs: std::sync::atomic::AtomicU64::new(0),
        });
        let tasks = vec![
            tokio::spawn(sync_task(inner.clone())),
            tokio::spawn(outbox_task(inner.clone())),
            tokio::spawn(sync::wake_watch(inner.clone())),
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

    /// What the console should show now, whole, and what a screen sent it holds.
    pub fn view_and_sent(&self) -> (View, Sent) {
        let (connection, outcomes, now) = self.refresh_rows();
        lock(&self.inner.rows).view(connection, outcomes, now)
    }

    /// What the console should show now.
    pub fn view(&self) -> View {
        self.view_and_sent().0
    }

    /// What changed since a screen was sent `sent` (brought up to date): the rows that
    /// changed or left, and the header's figures.
    pub fn changes_since(&self, sent: &mut Sent) -> ViewChanges {
        let (connection, outcomes, now) = self.refresh_rows();
        lock(&self.inner.rows).changes(sent, connection, outcomes, now)
    }

    /// Patients in the Waiting section of my rooms' queue, as last refreshed.
    pub fn waiting(&self) -> usize {
        lock(&self.inner.rows).waiting()
    }

    /// Brings the rows up to date: only visits that changed since are made again.
    fn refresh_rows(&self) -> (ConnectionView, Vec<Outcome>, Timestamp) {
        let inner = &self.inner;
        let now = now();
        let offset = lock(&inner.config).utc_offset_minutes;
        // Lock order, everywhere: state, then store.
        let state = lock(&inner.state);
        let store = lock(&inner.store);
        let pending = store.pending_now();
        let connection = {
            let link = lock(&inner.link);
            ConnectionView {
                state: link.state,
                since: link.offline_since.map(Timestamp::as_millis),
                as_of: state.as_of.map(Timestamp::as_millis),
                pending: pending.len(),
            }
        };
        lock(&inner.rows).refresh(
            &state,
            pending,
            store.dismissed_now(),
            now,
            local_day(now, offset),
        );
        let outcomes = store.outcomes().unwrap_or_default();
        (connection, outcomes, now)
    }

    /// Where a session request to `provider` goes: their own room, or else my first room.
    pub fn request_room(&self, provider: frontdesk_domain::StaffId) -> Option<RoomId> {
        let state = lock(&self.inner.state);
        state
            .rooms
            .values()
            .find(|r| r.provider == Some(provider))
            .map(|r| r.id)
            .or_else(|| state.me.as_ref().and_then(|m| m.rooms.first().copied()))
    }

    /// Puts an answered request away from the providers board.
    pub fn dismiss_request(&self, visit: VisitId) -> Result<(), ClientError> {
        lock(&self.inner.store).dismiss_request(visit, now())?;
        self.inner.bump();
        Ok(())
    }

    /// The clinic as last confirmed (its settings: alerts without names, …).
    pub fn clinic(&self) -> Option<frontdesk_api::Clinic> {
        lock(&self.inner.state).clinic.clone()
    }

    /// Actions waiting in the outbox.
    pub fn pending_count(&self) -> usize {
        lock(&self.inner.store).pending_now().len()
    }

    /// The link to the server as it stands, without building a view.
    pub fn connection_state(&self) -> ConnectionState {
        lock(&self.inner.link).state
    }

    /// How many times the engine replaced its state with a snapshot (first sync included).
    pub fn resyncs(&self) -> u64 {
        self.inner
            .resyncs
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Reads the confirmed state in place (no copy of every visit), for answers worked out
    /// from it on demand such as the calendar's pages.
    pub fn read_state<T>(&self, read: impl FnOnce(&ClinicState) -> T) -> T {
        read(&lock(&self.inner.state))
    }

    /// The confirmed state (for tests and diagnostics).
    pub fn confirmed(&self) -> ClinicState {
        lock(&self.inner.state).clone()
    }

    /// A visit as last confirmed, with its whole history (for the details panel).
    pub fn visit(&self, id: VisitId) -> Option<frontdesk_domain::Visit> {
        let state = lock(&self.inner.state);
        state
            .visits
            .get(&id)
            .or_else(|| state.today.get(&id))
            .map(|v| frontdesk_domain::Visit::clone(v))
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

    /// Another person switched on this clinic station (`token` is their new station session):
    /// the open stream is handed to them (the server checks the token), the engine acts as them
    /// from now on and shows what they may see, and keeps its connection, cache and outbox.
    /// What the person before queued still goes out as that person. Fails, changing nothing,
    /// when there is no open stream, the server refuses, or no answer comes in time; the
    /// console then starts an engine for the new person instead.
    pub fn switch_person(
        &self,
        token: &str,
    ) -> impl Future<Output = Result<(), ClientError>> + Send + 'static {
        let inner = self.inner.clone();
        let token = token.to_owned();
        async move {
            if lock(&inner.link).state != ConnectionState::Online {
                return Err(ClientError::Network("no open stream to hand over".into()));
            }
            let (done, answer) = oneshot::channel();
            inner
                .switches
                .try_send(Switch { token, done })
                .map_err(|_| ClientError::Network("another switch is under way".into()))?;
            match tokio::time::timeout(SWITCH_WAIT, answer).await {
                Ok(Ok(taken)) => taken,
                Ok(Err(_)) => Err(ClientError::Network(
                    "the stream closed before taking the switch".into(),
                )),
                Err(_) => Err(ClientError::Network(
                    "the server did not answer the switch".into(),
                )),
            }
        }
    }

    fn enqueue(&self, kind: ActionKind) -> Result<String, ClientError> {
        let action = Action {
            // Time-ordered, so the server files the keys of a console's actions side by side.
            action_id: uuid::Uuid::now_v7().to_string(),
            at: now(),
            by: self.inner.person(),
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

    /// Tries the server now instead of at the next retry ("Reconnect now", or the machine
    /// woke up). A live connection is left alone.
    pub fn reconnect_now(&self) {
        self.inner.reconnect.notify_waiters();
        self.inner.outbox_wake.notify_one();
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
        lock(&self.acting)
            .token
            .clone()
            .or_else(|| self.tokens.token())
            .ok_or(ClientError::SignedOut)
    }

    /// The person the engine acts as now (None until known).
    fn person(&self) -> Option<StaffId> {
        lock(&self.acting).staff
    }

    /// A snapshot, taken with the token sent now, says whose it is.
    fn confirm_person(&self, me: Option<StaffId>) {
        if me.is_some() {
            lock(&self.acting).staff = me;
        }
    }

    /// The stream took the switch to `staff`: their token is sent from now on, and the token of
    /// the person before is kept for what they left in the outbox.
    fn take_over(&self, token: String, staff: StaffId) {
        let before = self.person();
        let before_token = self.token().ok();
        let mut acting = lock(&self.acting);
        if let (Some(before), Some(before_token)) = (before, before_token)
            && before != staff
        {
            acting.earlier.insert(before, before_token);
        }
        acting.earlier.remove(&staff);
        acting.token = Some(token);
        acting.staff = Some(staff);
    }

    /// The token an action goes out with: its author's. None when that person was at this
    /// station before and their token is no longer known here (the action is then not sent).
    fn token_for(&self, action: &Action) -> Result<Option<String>, ClientError> {
        let person = self.person();
        if action.by.is_some() && person.is_none() {
            return Err(ClientError::Network(
                "waiting for the server to say who is signed in".into(),
            ));
        }
        if action.queued_by(person) {
            return self.token().map(Some);
        }
        Ok(action
            .by
            .and_then(|by| lock(&self.acting).earlier.get(&by).cloned()))
    }

    /// The token of a person before is no longer any use (their session ended).
    fn forget_earlier(&self, staff: StaffId) {
        lock(&self.acting).earlier.remove(&staff);
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
}
