//! Putting the server together: the router with its layers, and
//! starting it on a listener the caller bound (tests and the console's demo mode bind
//! 127.0.0.1:0 and read the port back).

use crate::error::AppError;
use crate::state::{AppState, Settings};
use crate::store::Store;
use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::future::Future;
use std::net::SocketAddr;
use tokio::net::TcpListener;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

/// Errors that are not ours (unmatched routes, wrong methods, the body limit, timeouts) come
/// out of axum and tower-http as plain text; give them the same `{code, message}` body.
async fn errors_in_shape(res: Response) -> Response {
    let status = res.status();
    let is_json = res.headers().get(header::CONTENT_TYPE).is_some_and(|v| {
        let v = v.as_bytes();
        // FHIR's refusals are OperationOutcomes, already in their own shape.
        v.starts_with(b"application/json") || v.starts_with(b"application/fhir+json")
    });
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
        field: None,
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
        .layer(axum::middleware::from_fn(crate::privacy::no_store))
        .merge(pages)
        .layer(TraceLayer::new_for_http().make_span_with(crate::privacy::request_span))
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
    let relay = state
        .store
        .session_ends()
        .map(|heard| tokio::spawn(relay_session_ends(state.clone(), heard)));
    let settings = state.settings.clone();
    let audit = state.audit.clone();
    let served = crate::connections::serve(listener, router(state), &settings, shutdown).await;
    // Reads recorded in the last moment wait to be written together: write them before going.
    audit.flush().await;
    background.abort();
    if let Some(relay) = relay {
        relay.abort();
    }
    served
}

/// On a store other processes share: tells them of sessions that end here, and closes the
/// streams here of sessions that ended there.
async fn relay_session_ends(
    state: AppState,
    mut heard: tokio::sync::broadcast::Receiver<crate::auth::SessionEnded>,
) {
    let mut ending_here = state.sessions.tell_others();
    loop {
        tokio::select! {
            Some(ended) = ending_here.recv() => {
                if let Err(e) = state.store.announce_session_end(&ended).await {
                    // Their tokens fail anyway (no process caches a session); only the
                    // streams elsewhere stay open until they read their session again.
                    tracing::warn!(error = %e, "cannot tell other processes a session ended");
                }
            }
            told = heard.recv() => match told {
                Ok(ended) => state.sessions.heard(ended),
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "missed notices of sessions ended elsewhere");
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            },
        }
    }
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
        let state = AppState::open(settings).await?;
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
