//! The console as an application: who is signed in, the running engine, settings, and the
//! state the UI draws; the lock is in `lock`, the pre-call check in `precall`. The desktop
//! app's Tauri commands are one-line calls into these methods.

pub(crate) mod admin;
mod calendar;
mod lock;
pub(crate) mod precall;
mod push;
mod reports;

use crate::Notices;
use crate::error::UiError;
use crate::host::Host;
use crate::settings::{Prefs, Settings, split_clinic_address};
use crate::state::{AppState, Screen, signed_out_view};
use frontdesk_client::api::ApiClient;
use frontdesk_client::view::ConnectionState;
use frontdesk_client::{ClientError, Engine, EngineConfig, TokenProvider};
use frontdesk_domain::{Availability, Command, VisitId};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};

/// The token the engine sends; replaced when another person switches on at a station.
#[derive(Debug, Default)]
struct TokenCell(Mutex<Option<String>>);

impl TokenProvider for TokenCell {
    fn token(&self) -> Option<String> {
        self.0.lock().ok().and_then(|t| t.clone())
    }
}

struct Session {
    /// The API's base URL.
    base: String,
    /// This computer is registered as a station with this server.
    station: bool,
    email: String,
    /// Whose cache the engine keeps: the person it started for (another may have switched on
    /// at this station since; the engine, its cache and outbox stayed).
    cache_owner: String,
    token: Arc<TokenCell>,
    engine: Engine,
}

/// A staff action in the outbox: the UI follows it by this id in the states that follow.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct Queued {
    pub action_id: String,
}

/// How a session ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ending {
    /// Its person signs out: the server is told, and what the session kept here is deleted.
    SignOut,
    /// The server ended it already: what it kept here is deleted.
    EndedByServer,
    /// Another session takes its place (a sign-in, a person switching on a station); each
    /// person's cache stays theirs.
    Replaced,
}

/// The console application.
pub struct Console {
    data_dir: PathBuf,
    host: Arc<dyn Host>,
    prefs: Mutex<Prefs>,
    session: Mutex<Option<Session>>,
    locked: Mutex<bool>,
    /// The availability the person had when the lock set them unavailable (the setting), to
    /// give back when they unlock.
    before_lock: Mutex<Option<Availability>>,
    last_activity: Mutex<Instant>,
    changes: watch::Sender<u64>,
    notices: mpsc::UnboundedSender<frontdesk_domain::alerts::Notice>,
    /// False while the app is still picking up the last session (see [`Console::starting`]).
    started: watch::Sender<bool>,
    /// What start-up is doing now, for the loading page ("Seeding the demo clinic…").
    progress: Mutex<String>,
    /// Why the last session ended, when the server ended it; shown on the sign-in screen.
    session_ended: Mutex<Option<String>>,
    /// The number of the last push to the UI, and whether the next must be the whole state.
    pushes: push::Pushes,
}

impl std::fmt::Debug for Console {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Console")
            .field("data_dir", &self.data_dir)
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn token_key(base: &str, email: &str) -> String {
    format!("token|{base}|{}", email.to_lowercase())
}

fn cache_key_name(base: &str, email: &str) -> String {
    format!("cache-key|{base}|{}", email.to_lowercase())
}

fn station_key(base: &str) -> String {
    format!("station|{base}")
}

impl Console {
    /// A console keeping its files in `data_dir` on `host`. The receiver yields the desktop
    /// alerts to raise; hand it to [`Console::deliver_alerts`].
    pub fn new(data_dir: PathBuf, host: Arc<dyn Host>) -> (Console, Notices) {
        let _ = std::fs::create_dir_all(&data_dir);
        let prefs = Prefs::load(&data_dir.join("settings.json"));
        let (notices, rx) = mpsc::unbounded_channel();
        let console = Console {
            data_dir,
            host,
            prefs: Mutex::new(prefs),
            session: Mutex::new(None),
            locked: Mutex::new(false),
            before_lock: Mutex::new(None),
            last_activity: Mutex::new(Instant::now()),
            changes: watch::channel(0).0,
            notices,
            started: watch::channel(true).0,
            progress: Mutex::new(String::new()),
            session_ended: Mutex::new(None),
            pushes: push::Pushes::default(),
        };
        (console, rx)
    }

    /// The folder the console keeps its files in.
    pub fn data_dir(&self) -> &std::path::Path {
        &self.data_dir
    }

    /// The app is picking up the last session beside the window's start rather than before
    /// it: until [`Console::started`], [`Console::state_once_started`] waits, so the UI never
    /// shows the sign-in screen to someone who is in fact still signed in.
    pub fn starting(&self) {
        self.started.send_replace(false);
    }

    /// Start-up is over (whether or not a session was picked up).
    pub fn started(&self) {
        self.set_progress("");
        self.started.send_replace(true);
    }

    /// What start-up is doing now, in a line for the loading page ("" when nothing to say).
    pub fn progress(&self) -> String {
        lock(&self.progress).clone()
    }

    pub fn set_progress(&self, line: &str) {
        line.clone_into(&mut lock(&self.progress));
    }

    /// What the UI draws, once start-up is over.
    pub async fn state_once_started(&self) -> AppState {
        let mut started = self.started.subscribe();
        // The sender lives as long as this console, so this only ends when started.
        let _ = started.wait_for(|s| *s).await;
        self.app_state()
    }

    /// Fires whenever what the UI shows may have changed.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    fn bump(&self) {
        self.changes.send_modify(|n| *n += 1);
    }

    /// Raises each notice as a desktop alert, with the sound as the settings say at that
    /// moment. Runs until the console is gone.
    pub async fn deliver_alerts(&self, mut notices: Notices) {
        while let Some(notice) = notices.recv().await {
            // A locked station is a screen anyone at the desk may read: no names on it. Some
            // clinics want no names in any alert, their screens being in view of patients.
            let nameless_clinic = lock(&self.session)
                .as_ref()
                .and_then(|s| s.engine.clinic())
                .is_some_and(|c| c.nameless_alerts);
            let notice = if *lock(&self.locked) || nameless_clinic {
                notice.without_names()
            } else {
                notice
            };
            self.host.alert(&notice, self.settings().sound);
        }
    }

    pub fn settings(&self) -> Settings {
        lock(&self.prefs).settings.clone()
    }

    fn save_prefs(&self) -> Result<(), UiError> {
        lock(&self.prefs)
            .save(&self.data_dir.join("settings.json"))
            .map_err(|e| UiError::new("settings", e))
    }

    /// Picks up where the last run left off: signed in if "keep me signed in" was chosen and
    /// the keyring still has the token. Call from within the async runtime.
    pub fn resume(&self) -> Result<bool, UiError> {
        let prefs = lock(&self.prefs).clone();
        let (Some(server), Some(email), true) = (prefs.server, prefs.email, prefs.remember) else {
            return Ok(false);
        };
        let (base, _) = split_clinic_address(&server).map_err(|e| UiError::new("validation", e))?;
        let token = self
            .host
            .secrets()
            .get(&token_key(&base, &email))
            .map_err(|e| UiError::new("keyring", e))?;
        match token {
            Some(token) => {
                self.start_session(&base, &email, &token)?;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// [`Console::resume`] at start-up: off the async threads (the keyring and the cache
    /// block), and a failure only means the sign-in screen.
    pub async fn resume_last_session(self: Arc<Self>) {
        let console = self.clone();
        match tokio::task::spawn_blocking(move || console.resume()).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => log::warn!("could not resume the last session: {}", e.message),
            Err(e) => log::error!("resuming the last session failed: {e}"),
        }
    }

    /// Signs in with email and password; with `remember`, the token goes to the keyring.
    pub async fn sign_in(
        &self,
        server: &str,
        email: &str,
        password: &str,
        remember: bool,
    ) -> Result<AppState, UiError> {
        let (base, clinic) =
            split_clinic_address(server).map_err(|e| UiError::new("validation", e))?;
        let email = email.trim();
        if email.is_empty() || password.is_empty() {
            return Err(UiError::new("validation", "Enter your email and password."));
        }
        let api = ApiClient::new(&base)?;
        let signed_in = api.sign_in(&clinic, email, password).await?;
        self.end_session(Ending::Replaced).await;
        *lock(&self.session_ended) = None;
        if remember {
            self.host
                .secrets()
                .set(&token_key(&base, email), &signed_in.token)
                .map_err(|e| UiError::new("keyring", format!("Could not use the keyring: {e}")))?;
        }
        {
            let mut prefs = lock(&self.prefs);
            prefs.server = Some(server.trim().to_string());
            prefs.email = Some(email.to_string());
            prefs.remember = remember;
        }
        self.save_prefs()?;
        self.start_session(&base, email, &signed_in.token)?;
        *lock(&self.locked) = false;
        self.touch();
        self.first_sync(Duration::from_secs(5)).await;
        Ok(self.app_state())
    }

    /// Waits (briefly) for the first snapshot, so the console opens on a filled queue rather
    /// than an empty one that fills a moment later.
    async fn first_sync(&self, limit: Duration) {
        let mut changes = self.changes();
        let synced = || {
            lock(&self.session)
                .as_ref()
                .is_some_and(|s| s.engine.confirmed().me.is_some())
        };
        let _ = tokio::time::timeout(limit, async {
            while !synced() {
                if changes.changed().await.is_err() {
                    break;
                }
            }
        })
        .await;
    }

    fn start_session(&self, base: &str, email: &str, token: &str) -> Result<(), UiError> {
        let cell = Arc::new(TokenCell(Mutex::new(Some(token.to_string()))));
        let cache_path = self.cache_path(base, email);
        let cache_key = self.cache_key(base, email, &cache_path)?;
        let settings = self.settings();
        let mut config = EngineConfig::new(base, cache_path, cache_key);
        config.first_in_queue_only = settings.first_in_queue_only;
        config.utc_offset_minutes = local_utc_offset_minutes();
        config.person_email = Some(email.to_owned());
        let (engine, mut engine_notices) = Engine::start(config, cell.clone())?;
        let mut engine_changes = engine.changes();
        let changes = self.changes.clone();
        tokio::spawn(async move {
            while engine_changes.changed().await.is_ok() {
                changes.send_modify(|n| *n += 1);
            }
        });
        let notices = self.notices.clone();
        tokio::spawn(async move {
            while let Some(n) = engine_notices.recv().await {
                if notices.send(n).is_err() {
                    break;
                }
            }
        });
        let station = matches!(self.host.secrets().get(&station_key(base)), Ok(Some(_)));
        *lock(&self.session) = Some(Session {
            base: base.to_string(),
            station,
            email: email.to_string(),
            cache_owner: email.to_string(),
            token: cell,
            engine,
        });
        self.bump();
        Ok(())
    }

    /// Signs out: the token is revoked and forgotten, and this person's cache is deleted.
    pub async fn sign_out(&self) -> AppState {
        self.end_session(Ending::SignOut).await;
        self.bump();
        self.app_state()
    }

    /// When the server has ended the running session (signed out elsewhere, the station ended
    /// by an admin, expired), closes it as a sign-out would: the engine stops, and the token,
    /// the cache and its key are deleted, since nobody may read that clinic's data here any
    /// more. The sign-in screen then says why, and how many actions were never sent. Returns
    /// whether it closed one.
    pub async fn close_ended_session(&self) -> bool {
        let unsent = {
            let session = lock(&self.session);
            match session.as_ref() {
                Some(s) if s.engine.connection_state() == ConnectionState::SignedOut => {
                    s.engine.pending_count()
                }
                _ => return false,
            }
        };
        let mut why = "Your session ended: you were signed out elsewhere, this station was \
                       ended by an admin, or the session expired. Sign in again."
            .to_owned();
        if unsent > 0 {
            why.push_str(&format!(
                " {unsent} action{} made since the connection dropped could not be sent; \
                 check the queue.",
                if unsent == 1 { "" } else { "s" }
            ));
        }
        // Said before the session goes, so no state shows the sign-in screen without why.
        *lock(&self.session_ended) = Some(why);
        self.end_session(Ending::EndedByServer).await;
        self.bump();
        true
    }

    async fn end_session(&self, ending: Ending) {
        let Some(session) = lock(&self.session).take() else {
            return;
        };
        let (base, email) = (session.base.clone(), session.email.clone());
        let cache_owner = session.cache_owner.clone();
        let forget = ending != Ending::Replaced;
        if forget {
            if ending == Ending::SignOut
                && let Some(token) = session.token.token()
            {
                let _ = session.engine.api().sign_out(&token).await;
            }
            let _ = self.host.secrets().delete(&token_key(&base, &email));
            lock(&self.prefs).remember = false;
            let _ = self.save_prefs();
        }
        // The engine stops with the session; only then may its cache go.
        drop(session);
        if forget {
            self.forget_cache(&base, &cache_owner);
        }
    }

    fn cache_path(&self, base: &str, email: &str) -> std::path::PathBuf {
        self.data_dir
            .join(frontdesk_client::store::cache_file_name(base, email))
    }

    /// The key that seals this person's cache, from the keyring; a new one (and a new cache)
    /// when there is none or the cache was sealed with a key the keyring no longer has.
    fn cache_key(
        &self,
        base: &str,
        email: &str,
        path: &std::path::Path,
    ) -> Result<frontdesk_client::CacheKey, UiError> {
        let name = cache_key_name(base, email);
        let kept = self
            .host
            .secrets()
            .get(&name)
            .map_err(|e| UiError::new("keyring", format!("The keyring cannot be read: {e}")))?
            .and_then(|hex| frontdesk_client::CacheKey::from_hex(&hex));
        if let Some(key) = kept {
            match frontdesk_client::store::Store::open(path, &key) {
                Ok(_) => return Ok(key),
                Err(ClientError::CacheKey) => {}
                Err(e) => return Err(e.into()),
            }
        }
        let _ = frontdesk_client::store::Store::destroy(path);
        let key = frontdesk_client::CacheKey::generate()?;
        self.host
            .secrets()
            .set(&name, &key.to_hex())
            .map_err(|e| UiError::new("keyring", format!("The keyring cannot be written: {e}")))?;
        Ok(key)
    }

    /// Deletes a person's cache file and its key: nothing of the clinic stays on this PC.
    fn forget_cache(&self, base: &str, email: &str) {
        if let Err(e) = frontdesk_client::store::Store::destroy(&self.cache_path(base, email)) {
            log::warn!("cache not deleted: {e}");
        }
        let _ = self.host.secrets().delete(&cache_key_name(base, email));
    }

    fn with_engine<T>(&self, f: impl FnOnce(&Engine) -> T) -> Result<T, UiError> {
        let session = lock(&self.session);
        let s = session.as_ref().ok_or_else(UiError::signed_out)?;
        Ok(f(&s.engine))
    }

    /// What the UI draws. While locked, no patient detail leaves this function.
    pub fn app_state(&self) -> AppState {
        self.app_state_and_sent().0
    }

    /// What the UI draws, and (on the queue screen) what a screen sent it holds.
    fn app_state_and_sent(&self) -> (AppState, Option<frontdesk_client::rows::Sent>) {
        let prefs = lock(&self.prefs).clone();
        let locked = *lock(&self.locked);
        let session = lock(&self.session);
        let station = session.as_ref().is_some_and(|s| s.station);
        let (screen, view, sent) = match session.as_ref() {
            None => (Screen::SignIn, signed_out_view(), None),
            Some(s) => {
                let (mut view, sent) = s.engine.view_and_sent();
                if locked {
                    view.queue.clear();
                    view.requests.clear();
                    view.sessions.clear();
                    view.today.clear();
                    for p in &mut view.providers {
                        p.requests.clear();
                    }
                    view.outcomes.clear();
                    (Screen::Locked, view, None)
                } else {
                    (Screen::Queue, view, Some(sent))
                }
            }
        };
        let state = AppState {
            push: self.pushes.last(),
            screen,
            server_url: prefs.server,
            email: prefs.email,
            settings: prefs.settings,
            station,
            session_ended: lock(&self.session_ended).clone(),
            view,
        };
        (state, sent)
    }

    /// A visit with its history, intake and messages, for the details panel.
    pub async fn visit_details(&self, id: VisitId) -> Result<frontdesk_domain::Visit, UiError> {
        self.ensure_unlocked()?;
        let (cached, api, token) = {
            let session = lock(&self.session);
            let s = session.as_ref().ok_or_else(UiError::signed_out)?;
            (s.engine.visit(id), s.engine.api().clone(), s.token.token())
        };
        if let Some(v) = cached {
            return Ok(v);
        }
        let token = token.ok_or_else(UiError::signed_out)?;
        Ok(api.visit(&token, id).await?)
    }

    /// Opens the call I am in on this visit in the default browser, by the link the engine's
    /// view gives those in the call (never a link the UI hands in).
    pub fn open_call(&self, id: VisitId) -> Result<String, UiError> {
        self.ensure_unlocked()?;
        self.touch();
        let link = self
            .with_engine(|e| e.view())?
            .queue
            .into_iter()
            .find(|r| r.visit_id == id)
            .and_then(|r| r.call_link)
            .ok_or_else(|| {
                UiError::new(
                    "no_call_link",
                    "There is no call link for you on this patient: claim or join the call first.",
                )
            })?;
        self.host
            .open_link(&link)
            .map_err(|e| UiError::new("open_failed", format!("Could not open the call: {e}")))?;
        Ok(link)
    }

    /// Queues a staff action; its result shows in the state that follows.
    pub fn act(&self, id: VisitId, command: Command) -> Result<Queued, UiError> {
        self.ensure_unlocked()?;
        self.touch();
        let action_id = self.with_engine(|e| e.act(id, command))??;
        Ok(Queued { action_id })
    }

    pub fn set_availability(&self, availability: Availability) -> Result<AppState, UiError> {
        self.ensure_unlocked()?;
        self.with_engine(|e| e.set_availability(availability))??;
        Ok(self.app_state())
    }

    /// "Request session" on the providers board: asks the provider for a session with the
    /// patient named. It needs the server (the request then shows under the provider as
    /// pending until they answer).
    pub async fn request_session(
        &self,
        provider: frontdesk_domain::StaffId,
        patient_name: &str,
    ) -> Result<AppState, UiError> {
        self.ensure_unlocked()?;
        let (api, token, room) = {
            let session = lock(&self.session);
            let s = session.as_ref().ok_or_else(UiError::signed_out)?;
            (
                s.engine.api().clone(),
                s.token.token(),
                s.engine.request_room(provider),
            )
        };
        let token = token.ok_or_else(UiError::signed_out)?;
        let room = room.ok_or_else(|| {
            UiError::new("validation", "There is no room to ask this provider in.")
        })?;
        let key = uuid::Uuid::new_v4().to_string();
        api.request_session(&token, room, patient_name.trim(), provider, &key)
            .await?;
        Ok(self.app_state())
    }

    /// Puts an answered session request away from the providers board.
    pub fn dismiss_request(&self, visit: VisitId) -> Result<AppState, UiError> {
        self.with_engine(|e| e.dismiss_request(visit))??;
        Ok(self.app_state())
    }

    /// "Reconnect now": tries the server at once instead of at the next retry.
    pub fn reconnect_now(&self) -> Result<AppState, UiError> {
        self.with_engine(|e| e.reconnect_now())?;
        Ok(self.app_state())
    }

    pub fn dismiss_outcome(&self, action_id: &str) -> Result<AppState, UiError> {
        self.with_engine(|e| e.dismiss_outcome(action_id))??;
        Ok(self.app_state())
    }

    /// Saves the settings dialog, and starts with the desktop session or not as it says.
    pub fn save_settings(&self, settings: Settings) -> Result<AppState, UiError> {
        if settings
            .quick_messages
            .iter()
            .any(|m| frontdesk_domain::MessageText::parse(m).is_err())
        {
            return Err(UiError::new(
                "validation",
                "Quick messages must be 1 to 1000 characters.",
            ));
        }
        if settings.lock_after_minutes > 24 * 60 {
            return Err(UiError::new(
                "validation",
                "Lock after at most 1440 minutes.",
            ));
        }
        lock(&self.prefs).settings = settings.clone();
        self.save_prefs()?;
        let _ = self.with_engine(|e| e.set_alert_options(settings.first_in_queue_only, None));
        // The setting is kept either way; the desktop's own entry is best effort.
        if let Err(e) = self.host.set_autostart(settings.autostart) {
            log::warn!("autostart: {e}");
        }
        self.bump();
        Ok(self.app_state())
    }

    /// The running engine's API, token and connection, for checks.
    fn api_and_token(&self) -> Option<(ApiClient, Option<String>, ConnectionState)> {
        lock(&self.session).as_ref().map(|s| {
            (
                s.engine.api().clone(),
                s.token.token(),
                s.engine.connection_state(),
            )
        })
    }
}

/// The local time zone's offset from UTC now, as the OS would show it (its time zone files;
/// UTC when it names none).
fn local_utc_offset_minutes() -> i32 {
    let zone = jiff::tz::TimeZone::system();
    zone.to_offset(jiff::Timestamp::now()).seconds() / 60
}
