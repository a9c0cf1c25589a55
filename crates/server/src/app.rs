//! Putting the server together: settings, shared state, the router with its layers, and
//! starting it on a listener the caller bound (tests and the console's demo mode bind
//! 127.0.0.1:0 and read the port back).

use crate::auth::{HashCost, RateLimiter, SessionCache};
use crate::clock::Clock;
use crate::error::AppError;
use crate::messages::transport::Transports;
use crate::store::Store;
use crate::store::sqlite::SqliteStore;
use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use frontdesk_domain::Timestamp;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

#[derive(Clone, Debug)]
pub struct Settings {
    /// The SQLite file (created if missing).
    pub db_path: PathBuf,
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
    /// A request taking longer than this is answered 408.
    pub request_timeout: Duration,
    /// How long a password sign-in lasts.
    pub session_ttl: Duration,
    /// How long a PIN switch on a station lasts.
    pub station_session_ttl: Duration,
    /// Idle time before the stream sends a heartbeat.
    pub heartbeat: Duration,
    /// Live events buffered per clinic; a subscriber further behind is told to resync.
    pub stream_buffer: usize,
    /// Failed sign-ins allowed per email (and per station) per minute.
    pub sign_in_failures_per_minute: usize,
    /// Failed sign-ins allowed per client address per minute.
    pub sign_in_failures_per_ip_per_minute: usize,
    /// Cost of hashing passwords created through the API.
    pub hash_cost: HashCost,
    /// How long a resolved session is trusted before it is read again (zero: every request).
    pub session_cache_ttl: Duration,
    /// The time everything reads (see [`Clock`]).
    pub clock: Clock,
    /// Where patients reach this server, for links in emails and texts
    /// (`https://clinic.example`); by default the address it listens on.
    pub public_url: Option<String>,
    /// How email and SMS go out (none set up: such messages are recorded as failed).
    pub transports: Transports,
    /// How often the background work runs: notifying, delivering, timers.
    pub background_tick: Duration,
    /// A scheduled session no guest joined is a no-show this long after its start.
    pub no_show_after: Duration,
    /// How often old idempotency records and sessions are swept (see [`crate::store::Store::sweep`]).
    pub sweep_every: Duration,
}

impl Settings {
    pub fn new(db_path: impl Into<PathBuf>) -> Self {
        Self {
            db_path: db_path.into(),
            body_limit: 64 * 1024,
            request_timeout: Duration::from_secs(15),
            session_ttl: Duration::from_secs(12 * 3600),
            station_session_ttl: Duration::from_secs(8 * 3600),
            heartbeat: Duration::from_secs(10),
            stream_buffer: 4096,
            sign_in_failures_per_minute: 10,
            sign_in_failures_per_ip_per_minute: 100,
            hash_cost: HashCost::Standard,
            session_cache_ttl: Duration::from_secs(2),
            clock: Clock::system(),
            public_url: None,
            transports: Transports::default(),
            background_tick: Duration::from_secs(1),
            no_show_after: Duration::from_secs(30 * 60),
            sweep_every: Duration::from_secs(60),
        }
    }
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub settings: Arc<Settings>,
    pub email_limiter: Arc<RateLimiter>,
    pub ip_limiter: Arc<RateLimiter>,
    pub sessions: Arc<SessionCache>,
    pub departures: Arc<crate::pages::Departures>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, settings: Settings) -> Self {
        let minute = Duration::from_secs(60);
        Self {
            email_limiter: Arc::new(RateLimiter::new(
                settings.sign_in_failures_per_minute,
                minute,
            )),
            ip_limiter: Arc::new(RateLimiter::new(
                settings.sign_in_failures_per_ip_per_minute,
                minute,
            )),
            sessions: Arc::new(SessionCache::new(settings.session_cache_ttl)),
            departures: Arc::default(),
            store,
            settings: Arc::new(settings),
        }
    }

    /// The time now, by the server's clock.
    pub fn now(&self) -> Timestamp {
        self.settings.clock.now()
    }

    /// Opens the SQLite store the settings name (running its migrations).
    pub fn open(settings: Settings) -> Result<Self, AppError> {
        let store = SqliteStore::open(&settings.db_path, settings.stream_buffer)?;
        Ok(Self::new(Arc::new(store), settings))
    }
}

/// Errors that are not ours (unmatched routes, wrong methods, the body limit, timeouts) come
/// out of axum and tower-http as plain text; give them the same `{code, message}` body.
async fn errors_in_shape(res: Response) -> Response {
    let status = res.status();
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return res;
    }
    let (code, message) = match status {
        StatusCode::NOT_FOUND => ("not_found", "no such route"),
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "method not allowed here"),
        StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "the request body is too large"),
        StatusCode::REQUEST_TIMEOUT => ("timeout", "the request took too long"),
        s if s.is_client_error() => ("bad_request", "the request could not be understood"),
        _ => ("internal", "internal error"),
    };
    let body = crate::error::ErrorBody {
        code: code.into(),
        message: message.into(),
        visit: None,
        held_by: None,
    };
    (status, axum::Json(body)).into_response()
}

/// The whole HTTP surface with its layers.
pub fn router(state: AppState) -> Router {
    let settings = state.settings.clone();
    let timeout =
        || TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, settings.request_timeout);
    // The patient pages answer errors as pages, so they get their own copy of the layers.
    let pages = crate::pages::routes()
        .with_state(state.clone())
        .layer(timeout())
        .layer(RequestBodyLimitLayer::new(settings.body_limit))
        .layer(axum::middleware::map_response(
            crate::pages::errors_as_pages,
        ));
    crate::api::routes()
        .with_state(state)
        .layer(timeout())
        .layer(RequestBodyLimitLayer::new(settings.body_limit))
        // Outside the limit and the timeout, so their plain-text answers get our shape too.
        .layer(axum::middleware::map_response(errors_in_shape))
        .merge(pages)
        .layer(TraceLayer::new_for_http())
}

/// Serves on `listener` until `shutdown` completes.
pub async fn launch(
    state: AppState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let base_url =
        crate::messages::base_url(state.settings.public_url.as_deref(), listener.local_addr()?);
    // Before the first request, so a page coming back finds its departure to cancel.
    match state.departures.load(state.store.as_ref()).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(
            patients = n,
            "closed waiting pages still in their grace time"
        ),
        Err(e) => tracing::warn!(error = %e, "cannot read pending departures"),
    }
    let background = tokio::spawn(crate::messages::run(state.clone(), base_url));
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    background.abort();
    served
}

/// A server running in this process: for tests and the console's demo mode.
#[derive(Debug)]
pub struct RunningServer {
    pub addr: SocketAddr,
    pub state: AppState,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl RunningServer {
    /// Opens the store and serves on `listener` in the background.
    pub async fn start(settings: Settings, listener: TcpListener) -> Result<Self, AppError> {
        let state = AppState::open(settings)?;
        Self::start_with(state, listener).await
    }

    pub async fn start_with(state: AppState, listener: TcpListener) -> Result<Self, AppError> {
        let addr = listener.local_addr().map_err(AppError::internal)?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(launch(state.clone(), listener, async {
            let _ = stopped.await;
        }));
        Ok(Self {
            addr,
            state,
            stop: Some(stop),
            task,
        })
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn store(&self) -> &dyn Store {
        self.state.store.as_ref()
    }

    /// Stops accepting, lets requests in flight finish, and waits.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}
