//! FHIR R4 over HTTP: search a day's Encounters and Appointments (`searchset` Bundles), and
//! take in Appointments from a practice management system, one or a `transaction` Bundle.
//! Answers are `application/fhir+json`; a refusal is an OperationOutcome.

use super::ApiQuery;
use crate::audit::Action;
use crate::auth::StaffAuth;
use crate::error::AppError;
use crate::limits::ClientAddr;
use crate::service::fhir::{self as svc, ImportError, Imported};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use frontdesk_domain::fhir::export::{self, Names};
use frontdesk_domain::fhir::import::{Incoming, Issue, read_appointment};
use frontdesk_domain::fhir::resources::{
    Appointment, Bundle, BundleEntry, BundleResponse, OperationOutcome,
};
use serde::{Deserialize, Serialize};

const FHIR_JSON: &str = "application/fhir+json";

/// A FHIR resource answered as `application/fhir+json`, never cached (it names patients).
fn fhir(status: StatusCode, body: &impl Serialize, location: Option<String>) -> Response {
    let json = serde_json::to_vec(body).unwrap_or_default();
    let mut res = (
        status,
        [
            (header::CONTENT_TYPE, FHIR_JSON),
            (header::CACHE_CONTROL, "no-store"),
        ],
        json,
    )
        .into_response();
    if let Some(l) = location.and_then(|l| l.parse().ok()) {
        res.headers_mut().insert(header::LOCATION, l);
    }
    res
}

/// A refusal, as an OperationOutcome.
#[derive(Debug)]
pub struct FhirError(ImportError);

impl From<AppError> for FhirError {
    fn from(e: AppError) -> Self {
        FhirError(ImportError::App(e))
    }
}

impl From<ImportError> for FhirError {
    fn from(e: ImportError) -> Self {
        FhirError(e)
    }
}

impl IntoResponse for FhirError {
    fn into_response(self) -> Response {
        let (status, issues) = match self.0 {
            ImportError::Issues(issues) => (
                StatusCode::BAD_REQUEST,
                issues
                    .into_iter()
                    .map(|i| (i.code.to_owned(), i.diagnostics, Some(i.expression)))
                    .collect(),
            ),
            ImportError::App(e) => {
                let status = e.status();
                let code = match status.as_u16() {
                    401 => "login",
                    403 => "forbidden",
                    404 => "not-found",
                    409 => "conflict",
                    429 => "throttled",
                    400..=499 => "invalid",
                    _ => "exception",
                };
                if status.is_server_error() {
                    tracing::error!("fhir: {e:?}");
                }
                (status, vec![(code.to_owned(), e.to_string(), None)])
            }
        };
        fhir(status, &OperationOutcome::errors(issues), None)
    }
}

/// `date=YYYY-MM-DD` (clinic-local), optionally prefixed `eq`, `ge`, `gt`, `le` or `lt`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct DateSearch {
    /// The clinic-local day, `YYYY-MM-DD`; with a prefix (`ge2026-12-01`) the 31 days from or up to it.
    pub date: String,
}

fn base(state: &AppState) -> String {
    let public = state
        .settings
        .public_url
        .as_deref()
        .unwrap_or("http://localhost");
    format!("{}/v1/fhir", public.trim_end_matches('/'))
}

/// The visits of the span `date` asks for that the caller may read.
async fn search(
    state: &AppState,
    who: &StaffAuth,
    date: &str,
) -> Result<(Vec<frontdesk_domain::Visit>, Names), AppError> {
    let store = state.store.as_ref();
    let span = svc::date_span(store, state.now(), &who.session, date).await?;
    svc::visits_between(store, &who.session, span).await
}

/// Records a search as a read of the visits it answered.
async fn audited(
    state: &AppState,
    who: &StaffAuth,
    from: &ClientAddr,
    kind: &str,
    date: &str,
    ids: Vec<frontdesk_domain::VisitId>,
) {
    let detail = serde_json::json!({"resource": kind, "date": date});
    state
        .audit_read(&who.session, from, Action::FHIR_READ, ids, detail)
        .await;
}

/// A day's visits as FHIR R4 Encounters.
#[utoipa::path(get, path = "/v1/fhir/Encounter", tag = "fhir", security(("bearer" = [])),
    params(DateSearch),
    responses((status = 200, description = "a searchset Bundle of Encounters", content_type = "application/fhir+json", body = Object),
        (status = 400, description = "an OperationOutcome: not a date", content_type = "application/fhir+json", body = Object),
        (status = 401, description = "an OperationOutcome: sign in first", content_type = "application/fhir+json", body = Object)))]
pub async fn encounters(
    State(state): State<AppState>,
    who: Result<StaffAuth, AppError>,
    from: ClientAddr,
    q: Result<ApiQuery<DateSearch>, AppError>,
) -> Result<Response, FhirError> {
    let (who, ApiQuery(q)) = (who?, q?);
    let (visits, names) = search(&state, &who, &q.date).await?;
    let resources: Vec<_> = visits
        .iter()
        .map(|v| (v.id.to_string(), export::encounter(v, &names)))
        .collect();
    let base = base(&state);
    let url = format!("{base}/Encounter?date={}", q.date);
    audited(
        &state,
        &who,
        &from,
        "Encounter",
        &q.date,
        visits.iter().map(|v| v.id).collect(),
    )
    .await;
    let bundle = export::searchset("Encounter", &base, &url, resources);
    Ok(fhir(StatusCode::OK, &bundle, None))
}

/// A day's booked sessions as FHIR R4 Appointments.
#[utoipa::path(get, path = "/v1/fhir/Appointment", tag = "fhir", security(("bearer" = [])),
    params(DateSearch),
    responses((status = 200, description = "a searchset Bundle of Appointments", content_type = "application/fhir+json", body = Object),
        (status = 400, description = "an OperationOutcome: not a date", content_type = "application/fhir+json", body = Object),
        (status = 401, description = "an OperationOutcome: sign in first", content_type = "application/fhir+json", body = Object)))]
pub async fn appointments(
    State(state): State<AppState>,
    who: Result<StaffAuth, AppError>,
    from: ClientAddr,
    q: Result<ApiQuery<DateSearch>, AppError>,
) -> Result<Response, FhirError> {
    let (who, ApiQuery(q)) = (who?, q?);
    let (visits, names) = search(&state, &who, &q.date).await?;
    let booked: Vec<_> = visits.into_iter().filter(|v| v.booking.is_some()).collect();
    let external = svc::external_of(state.store.as_ref(), &who.session, &booked).await?;
    let resources: Vec<_> = booked
        .iter()
        .filter_map(|v| {
            export::appointment(v, &names, external.get(&v.id)).map(|a| (v.id.to_string(), a))
        })
        .collect();
    let base = base(&state);
    let url = format!("{base}/Appointment?date={}", q.date);
    audited(
        &state,
        &who,
        &from,
        "Appointment",
        &q.date,
        booked.iter().map(|v| v.id).collect(),
    )
    .await;
    let bundle = export::searchset("Appointment", &base, &url, resources);
    Ok(fhir(StatusCode::OK, &bundle, None))
}

fn structure(at: &str, e: &serde_json::Error) -> FhirError {
    FhirError(ImportError::Issues(vec![Issue::new(
        "structure",
        at,
        format!("not a FHIR JSON resource of the expected shape: {e}"),
    )]))
}

/// The answer for one Appointment taken in: the session as an Appointment.
async fn answered(
    state: &AppState,
    who: &StaffAuth,
    i: &Imported,
) -> Result<Appointment, AppError> {
    let names = svc::names(state.store.as_ref(), who.session.staff.clinic_id).await?;
    export::appointment(&i.visit, &names, Some(&i.external))
        .ok_or_else(|| AppError::internal("an imported visit without a booking"))
}

fn status_of(i: &Imported) -> StatusCode {
    if i.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    }
}

/// One Appointment from a practice management system: books the session (201), answers the
/// same session when sent again (200), reschedules or cancels it when its identifier comes
/// with a new start or `cancelled`.
#[utoipa::path(post, path = "/v1/fhir/Appointment", tag = "fhir", security(("bearer" = [])),
    request_body(content = Object, content_type = "application/fhir+json", description = "an R4 Appointment"),
    responses((status = 201, description = "booked", content_type = "application/fhir+json", body = Object),
        (status = 200, description = "already booked as sent, rescheduled or cancelled", content_type = "application/fhir+json", body = Object),
        (status = 400, description = "an OperationOutcome: what is wrong; nothing changed", content_type = "application/fhir+json", body = Object),
        (status = 401, description = "an OperationOutcome: sign in first", content_type = "application/fhir+json", body = Object),
        (status = 403, description = "an OperationOutcome: only schedulers and admins", content_type = "application/fhir+json", body = Object),
        (status = 404, description = "an OperationOutcome: a session it names is gone", content_type = "application/fhir+json", body = Object),
        (status = 409, description = "an OperationOutcome: the session changed meanwhile", content_type = "application/fhir+json", body = Object)))]
pub async fn import_appointment(
    State(state): State<AppState>,
    who: Result<StaffAuth, AppError>,
    body: Bytes,
) -> Result<Response, FhirError> {
    let who = who?;
    let a: Appointment = serde_json::from_slice(&body).map_err(|e| structure("Appointment", &e))?;
    let incoming = read_appointment(&a, "Appointment").map_err(ImportError::Issues)?;
    let mut done = svc::import(
        state.store.as_ref(),
        state.now(),
        &who.session,
        vec![("Appointment".into(), incoming)],
    )
    .await?;
    let i = done
        .pop()
        .ok_or_else(|| AppError::internal("nothing imported"))?;
    let resource = answered(&state, &who, &i).await?;
    Ok(fhir(
        status_of(&i),
        &resource,
        Some(format!("Appointment/{}", i.visit.id)),
    ))
}

/// A `transaction` Bundle of Appointments: all are taken in, or none.
#[utoipa::path(post, path = "/v1/fhir", tag = "fhir", security(("bearer" = [])),
    request_body(content = Object, content_type = "application/fhir+json", description = "an R4 transaction Bundle of Appointments"),
    responses((status = 200, description = "a transaction-response Bundle", content_type = "application/fhir+json", body = Object),
        (status = 400, description = "an OperationOutcome: what is wrong; nothing changed", content_type = "application/fhir+json", body = Object),
        (status = 401, description = "an OperationOutcome: sign in first", content_type = "application/fhir+json", body = Object),
        (status = 403, description = "an OperationOutcome: only schedulers and admins", content_type = "application/fhir+json", body = Object),
        (status = 404, description = "an OperationOutcome: a session it names is gone", content_type = "application/fhir+json", body = Object),
        (status = 409, description = "an OperationOutcome: the session changed meanwhile", content_type = "application/fhir+json", body = Object)))]
pub async fn transaction(
    State(state): State<AppState>,
    who: Result<StaffAuth, AppError>,
    body: Bytes,
) -> Result<Response, FhirError> {
    let who = who?;
    let bundle: Bundle<Appointment> =
        serde_json::from_slice(&body).map_err(|e| structure("Bundle", &e))?;
    if bundle.resource_type != "Bundle" || bundle.kind != "transaction" {
        return Err(ImportError::Issues(vec![Issue::new(
            "not-supported",
            "Bundle.type",
            "send a Bundle of type transaction",
        )])
        .into());
    }
    let mut issues = Vec::new();
    let mut incoming: Vec<(String, Incoming)> = Vec::new();
    for (n, entry) in bundle.entry.iter().enumerate() {
        let at = format!("Bundle.entry[{n}].resource");
        match entry.resource.as_ref().map(|a| read_appointment(a, &at)) {
            Some(Ok(i)) => incoming.push((at, i)),
            Some(Err(e)) => issues.extend(e),
            None => issues.push(Issue::new("required", &at, "each entry needs a resource")),
        }
    }
    if incoming.is_empty() && issues.is_empty() {
        issues.push(Issue::new(
            "required",
            "Bundle.entry",
            "the Bundle has no entries",
        ));
    }
    if !issues.is_empty() {
        return Err(ImportError::Issues(issues).into());
    }
    let done = svc::import(state.store.as_ref(), state.now(), &who.session, incoming).await?;
    let mut entry = Vec::with_capacity(done.len());
    for i in &done {
        let status = status_of(i);
        entry.push(BundleEntry {
            full_url: Some(format!("{}/Appointment/{}", base(&state), i.visit.id)),
            resource: Some(answered(&state, &who, i).await?),
            search: None,
            request: None,
            response: Some(BundleResponse {
                status: format!(
                    "{} {}",
                    status.as_u16(),
                    status.canonical_reason().unwrap_or("")
                ),
                location: Some(format!("Appointment/{}", i.visit.id)),
            }),
        });
    }
    let reply = Bundle {
        resource_type: "Bundle".into(),
        kind: "transaction-response".into(),
        total: None,
        link: Vec::new(),
        entry,
    };
    Ok(fhir(StatusCode::OK, &reply, None))
}
