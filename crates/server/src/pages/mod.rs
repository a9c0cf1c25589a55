//! The pages patients see, rendered here with a little plain JavaScript on top: a room's front
//! door (`/join/{clinic}/{room}`), and the waiting screen with the intake form (`/wait`).
//! Handlers parse, call the same service functions as the JSON API, and render; the rules stay
//! in the domain and the service. The HTML comes from templates that escape every value by
//! default (through [`render::esc`]), and the live updates write text nodes only.
//!
//! A patient's link (`/wait/{token}`) carries the patient token (256 random bits): opening it
//! puts the token in a cookie and sends the browser on to `/wait` (see [`crate::links`]), so
//! no page, script or address after that holds it. Pages are served with
//! `Referrer-Policy: no-referrer` and `Cache-Control: no-store`, and allow only their own
//! inline style and script (by hash) under a strict Content-Security-Policy.

pub mod render;

use crate::api::path_id;
use crate::auth::PatientAuth;
use crate::error::AppError;
use crate::hours::openness;
use crate::limits::ClientAddr;
use crate::links::{self, ARRIVAL_COOKIE, PATIENT_COOKIE, WAITING_SCREEN};
use crate::model::{Clinic, RoomInfo};
use crate::service;
use crate::state::AppState;
use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use frontdesk_domain::{Command, InputError, Patient, PersonName};
use serde::Deserialize;

pub use crate::departures::Departures;
pub use render::esc;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/join/{clinic}/{room}", get(front_door).post(join))
        .route("/join/{clinic}/{room}/button.js", get(button_js))
        .route("/wait/{token}", get(open_link))
        .route(WAITING_SCREEN, get(wait))
        .route("/wait/intake", post(intake))
        .route("/wait/leave", post(leave))
        .route("/wait/arrive", post(guest_arrive))
        .route("/wait/closed", post(closed))
}

/// An HTML page with the headers every patient page carries.
#[derive(Debug)]
pub struct Page {
    pub status: StatusCode,
    pub html: String,
}

impl Page {
    fn new(status: StatusCode, html: String) -> Self {
        Self { status, html }
    }
}

fn page_headers(res: &mut Response) {
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_str(&render::content_security_policy())
            .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'")),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        let mut res = (
            self.status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            self.html,
        )
            .into_response();
        page_headers(&mut res);
        res
    }
}

/// 303 See Other to `to` (after a form post), with the page headers.
fn see_other(to: &str) -> Response {
    let mut res = axum::response::Redirect::to(to).into_response();
    page_headers(&mut res);
    res
}

/// 303 to the waiting screen, leaving the patient token in this browser's cookie.
fn to_waiting_screen(state: &AppState, token: &str) -> Response {
    let mut res = see_other(WAITING_SCREEN);
    res.headers_mut().append(
        header::SET_COOKIE,
        links::set_cookie(&state.settings, PATIENT_COOKIE, token),
    );
    res
}

/// An error as a page a patient can read: no codes, no internals, no data.
fn error_page(e: AppError) -> Response {
    let status = e.status();
    let (title, text) = match &e {
        AppError::LinkExpired => (
            "This link has expired",
            "Links to a waiting room work for a limited time. If you still need to be seen, open the clinic's link again.",
        ),
        AppError::NotFound(_) | AppError::Unauthorized => (
            "This link is no longer valid",
            "The link may have expired or been copied incompletely. If you still need to be seen, open the clinic's link again.",
        ),
        AppError::Internal(_) => (
            "Something went wrong",
            "Please try again in a moment. If this keeps happening, contact the clinic.",
        ),
        AppError::RateLimited { .. } | AppError::Busy { .. } => (
            "Please wait a moment",
            "Too many requests came from here just now. Please go back and try again in a minute.",
        ),
        _ => ("We could not do that", ""),
    };
    if let AppError::Internal(detail) = &e {
        tracing::error!(%detail, "internal error on a patient page");
    }
    let text = if text.is_empty() {
        e.to_string()
    } else {
        text.to_owned()
    };
    let mut res = Page::new(status, render::message_page(title, &text)).into_response();
    crate::error::set_retry_after(&mut res, e.retry_after());
    res
}

/// Errors that come from the layers (body too large, timeout, wrong method) as readable pages.
pub async fn errors_as_pages(res: Response) -> Response {
    let status = res.status();
    let is_html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if is_html || !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let text = match status {
        StatusCode::PAYLOAD_TOO_LARGE => {
            "What you sent is too long. Please shorten it and try again."
        }
        StatusCode::REQUEST_TIMEOUT => "That took too long. Please try again.",
        StatusCode::METHOD_NOT_ALLOWED => {
            "This page cannot be opened that way. Please use the clinic's link."
        }
        s if s.is_client_error() => "The request could not be understood. Please try again.",
        _ => "Something went wrong. Please try again in a moment.",
    };
    Page::new(status, render::message_page("We could not do that", text)).into_response()
}

/// A person's input error in words: "Your name must not be empty."
fn human(e: &InputError) -> String {
    human_text(e.field, &e.message)
}

/// The same for an error already flattened to "field: message" by the service.
fn human_message(m: &str) -> String {
    match m.split_once(": ") {
        Some((field, message)) => human_text(field, message),
        None => m.to_owned(),
    }
}

fn human_text(field: &str, message: &str) -> String {
    let label = match field {
        "contact" => {
            return "Please give a phone number or an email, so the clinic can reach you.".into();
        }
        "answers" => return format!("Please {message}."),
        "name" => "Your name",
        "phone" => "The phone number",
        "email" => "The email",
        "answer" => "An answer",
        "label" => "A question",
        _ => return message.to_owned(),
    };
    format!("{label} {message}.")
}

/// The front-door form as posted.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct JoinForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub email: String,
    /// Made when the form is shown: a double-submitted form opens one visit.
    #[serde(default)]
    pub nonce: String,
}

impl JoinForm {
    /// The front door asks for a name and at least one of phone and email.
    fn to_patient(&self) -> Result<Patient, InputError> {
        frontdesk_domain::front_door_patient(
            PersonName::parse(&self.name)?,
            Some(&self.phone),
            Some(&self.email),
        )
    }
}

async fn door(state: &AppState, clinic: &str, room: &str) -> Result<(Clinic, RoomInfo), AppError> {
    let room = path_id(room, "room")?;
    service::front_door(state.store.as_ref(), clinic, room).await
}

async fn front_door(
    State(state): State<AppState>,
    Path((clinic, room)): Path<(String, String)>,
) -> Response {
    match door(&state, &clinic, &room).await {
        Ok((clinic, room)) => {
            let open = openness(&clinic.time_zone, &room.office_hours, state.now());
            let form = JoinForm {
                nonce: crate::auth::new_token("").unwrap_or_default(),
                ..JoinForm::default()
            };
            let mut res = Page::new(
                StatusCode::OK,
                render::front_door(&clinic, &room, &open, &form, None),
            )
            .into_response();
            // A double-submitted form is answered with the patient's link only if it comes
            // from this browser.
            let proof = links::arrival_proof(&state.store.secret(), room.id, &form.nonce);
            res.headers_mut().append(
                header::SET_COOKIE,
                links::set_cookie(&state.settings, ARRIVAL_COOKIE, &proof),
            );
            res
        }
        Err(e) => error_page(e),
    }
}

async fn join(
    State(state): State<AppState>,
    from: ClientAddr,
    Path((clinic, room)): Path<(String, String)>,
    headers: HeaderMap,
    form: Result<Form<JoinForm>, FormRejection>,
) -> Response {
    let (clinic, room) = match door(&state, &clinic, &room).await {
        Ok(found) => found,
        Err(e) => return error_page(e),
    };
    let at = state.now();
    if let Err(e) = state.limits.arrival(&from, room.id, at).await {
        return error_page(e);
    }
    let open = openness(&clinic.time_zone, &room.office_hours, at);
    let again = |status: StatusCode, form: &JoinForm, error: &str| {
        Page::new(
            status,
            render::front_door(&clinic, &room, &open, form, Some(error)),
        )
        .into_response()
    };
    let form = match form {
        Ok(Form(form)) => form,
        Err(r) => {
            let text = "We could not read the form. Please fill it in again.";
            return again(r.status(), &JoinForm::default(), text);
        }
    };
    let patient = match form.to_patient() {
        Ok(p) => p,
        Err(e) => return again(StatusCode::UNPROCESSABLE_ENTITY, &form, &human(&e)),
    };
    let key = Some(form.nonce.clone()).filter(|n| !n.is_empty() && n.len() <= 100);
    let store = state.store.as_ref();
    match service::arrive_at(store, at, &clinic, &room, patient, key.clone()).await {
        Ok(mut opened) => {
            links::withhold_token_from_strangers(
                &state,
                &headers,
                room.id,
                key.as_deref(),
                &mut opened,
            );
            match opened.patient_token {
                Some(token) => to_waiting_screen(&state, &token),
                // A replay from another browser: whoever joined has their screen already.
                None if opened.replayed => see_other(WAITING_SCREEN),
                None => error_page(AppError::internal("a new visit came without its token")),
            }
        }
        Err(AppError::Validation(m)) => {
            again(StatusCode::UNPROCESSABLE_ENTITY, &form, &human_message(&m))
        }
        Err(e @ AppError::Closed { .. }) => again(StatusCode::CONFLICT, &form, &e.to_string()),
        Err(e) => error_page(e),
    }
}

/// The embeddable button: a clinic's website adds
/// `<script src="https://HOST/join/CLINIC/ROOM/button.js"></script>` where the button should
/// appear, and the script puts a link to the room's front door there.
async fn button_js(
    State(state): State<AppState>,
    Path((clinic, room)): Path<(String, String)>,
) -> Response {
    match door(&state, &clinic, &room).await {
        Ok((clinic, room)) => (
            [
                (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
                (header::CACHE_CONTROL, "public, max-age=300"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            render::button_js(&clinic, &room),
        )
            .into_response(),
        Err(e) => error_page(e),
    }
}

/// The waiting screen, optionally re-shown after a refused intake with what was typed.
async fn waiting_screen(
    state: &AppState,
    me: &PatientAuth,
    refused: Option<(&str, &[(String, String)])>,
) -> Response {
    let store = state.store.as_ref();
    let view = match service::patient_view(store, &me.visit).await {
        Ok(v) => v,
        Err(e) => return error_page(e),
    };
    let room = match service::room_of(store, &me.visit).await {
        Ok(r) => r,
        Err(e) => return error_page(e),
    };
    let status = if refused.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let guest = me
        .guest
        .and_then(|g| me.visit.booking.as_ref()?.guests.get(g));
    let name = guest.map_or(me.visit.patient.name.as_str(), |g| g.name.as_str());
    let joining = guest.is_some_and(|g| !g.arrived) && !me.visit.status.is_terminal();
    Page::new(
        status,
        render::waiting(name, &view, &room.office_hours, joining, refused),
    )
    .into_response()
}

/// The patient whose link this browser opened (their token is in its cookie).
async fn patient(state: &AppState, headers: &HeaderMap) -> Result<PatientAuth, Response> {
    let token = links::cookie(headers, PATIENT_COOKIE).unwrap_or_default();
    patient_by_token(state, token).await
}

async fn patient_by_token(state: &AppState, token: &str) -> Result<PatientAuth, Response> {
    match PatientAuth::from_token(state, token).await {
        Ok(Some(me)) => Ok(me),
        Ok(None) => Err(error_page(AppError::NotFound("visit"))),
        Err(e) => Err(error_page(e)),
    }
}

/// The link from a text, an email or the front door: its token goes into this browser's
/// cookie and the browser on to `/wait`, so the token stays out of the address bar, the
/// history and every log of addresses from here on.
async fn open_link(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    match patient_by_token(&state, &token).await {
        Ok(_) => to_waiting_screen(&state, &token),
        Err(res) => res,
    }
}

/// Whether the browser says another site started this request: it then holds back our
/// `SameSite=Strict` cookie, even right after a link of ours set it.
fn started_elsewhere(headers: &HeaderMap) -> bool {
    headers
        .get("sec-fetch-site")
        .is_some_and(|v| v != "same-origin" && v != "none")
}

async fn wait(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if links::cookie(&headers, PATIENT_COOKIE).is_none() && started_elsewhere(&headers) {
        return Page::new(StatusCode::OK, render::continue_page()).into_response();
    }
    match patient(&state, &headers).await {
        Ok(me) => waiting_screen(&state, &me, None).await,
        Err(res) => res,
    }
}

/// Intake fields are named `q:<question>`; the button pressed is `action` (`save` or `done`).
async fn intake(
    State(state): State<AppState>,
    from: ClientAddr,
    headers: HeaderMap,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let me = match patient(&state, &headers).await {
        Ok(me) => me,
        Err(res) => return res,
    };
    let limited = state.limits.intake_update(&from, me.visit.id, state.now());
    if let Err(e) = limited.await {
        return error_page(e);
    }
    let Ok(Form(fields)) = form else {
        let text = "We could not read your answers. Please try again.";
        return waiting_screen(&state, &me, Some((text, &[]))).await;
    };
    let finish = fields.iter().any(|(k, v)| k == "action" && v == "done");
    let answers: Vec<(String, String)> = fields
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("q:")?.to_owned(), v.clone())))
        .collect();
    match service::save_intake(
        state.store.as_ref(),
        state.now(),
        &me.visit,
        &answers,
        finish,
    )
    .await
    {
        Ok(_) => see_other(WAITING_SCREEN),
        Err(e) => {
            let text = match &e {
                AppError::Validation(m) => human_message(m),
                AppError::PatientConflict { .. } => {
                    "Your answers can no longer be changed.".to_owned()
                }
                _ => return error_page(e),
            };
            waiting_screen(&state, &me, Some((&text, &answers))).await
        }
    }
}

async fn leave(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let me = match patient(&state, &headers).await {
        Ok(me) => me,
        Err(res) => return res,
    };
    let left =
        service::patient_command(state.store.as_ref(), state.now(), &me.visit, Command::Leave)
            .await;
    match left {
        // Already over (ended, declined, left): the screen says so.
        Ok(_) | Err(AppError::PatientConflict { .. }) => see_other(WAITING_SCREEN),
        Err(e) => error_page(e),
    }
}

/// A scheduled session's guest confirms it is them and joins the provider's queue.
async fn guest_arrive(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let me = match patient(&state, &headers).await {
        Ok(me) => me,
        Err(res) => return res,
    };
    let Some(guest) = me.guest else {
        return see_other(WAITING_SCREEN);
    };
    let store = state.store.as_ref();
    let joined = service::patient_command(
        store,
        state.now(),
        &me.visit,
        Command::GuestArrive { guest },
    )
    .await;
    match joined {
        // Already joined, or the session is over: the screen says where things stand.
        Ok(_) | Err(AppError::PatientConflict { .. }) | Err(AppError::Validation(_)) => {
            see_other(WAITING_SCREEN)
        }
        Err(e) => error_page(e),
    }
}

/// The waiting screen was closed (sent by the page as it goes away).
async fn closed(State(state): State<AppState>, headers: HeaderMap) -> StatusCode {
    let token = links::cookie(&headers, PATIENT_COOKIE).unwrap_or_default();
    match PatientAuth::from_token(&state, token).await {
        Ok(Some(me))
            if me.visit.status.left_by_closing_the_waiting_screen() && me.guest.is_none() =>
        {
            let store = state.store.as_ref();
            match state.departures.closed(store, &me.visit, state.now()).await {
                Ok(()) => StatusCode::NO_CONTENT,
                Err(e) => AppError::from(e).status(),
            }
        }
        Ok(_) => StatusCode::NO_CONTENT,
        Err(e) => e.status(),
    }
}
