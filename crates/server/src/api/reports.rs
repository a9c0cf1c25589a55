//! Reports for the clinic's managers: a day's, week's or month's waits, calls and outcomes,
//! for the clinic or one room, as JSON or CSV. The figures are the domain's
//! (`frontdesk_domain::report`); this module picks the window in the clinic's time zone,
//! fetches the histories and the providers, and writes the CSV.

use super::ApiQuery;
use crate::audit::Action;
use crate::auth::StaffAuth;
use crate::error::{AppError, ErrorBody};
use crate::limits::ClientAddr;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use frontdesk_domain::report::{self, Period, ProviderName, Report, Spread};
use frontdesk_domain::{Role, RoomId, Workspace};
use serde::Deserialize;
use utoipa::IntoParams;

/// Which report.
#[derive(Debug, Deserialize, IntoParams)]
pub struct ReportQuery {
    /// `day`, `week` (Monday to Sunday) or `month` (default `day`).
    pub period: Option<String>,
    /// A clinic-local date in the period, `YYYY-MM-DD` (default today).
    pub date: Option<String>,
    /// Only the visits that were in this room (default the whole clinic).
    pub room: Option<String>,
}

#[utoipa::path(get, path = "/v1/reports/summary", tag = "admin", security(("bearer" = [])), params(ReportQuery),
    responses((status = 200, description = "the report: `window`, `room`, `visits`, `arrivals`, `by_hour` (24 clinic-local hours), `wait_for_staff`, `wait_for_provider` and `time_in_call` (count, median_ms, p90_ms), `outcomes` and one line per provider in `providers`", body = Object),
        (status = 400, description = "not a period (day, week, month) or not a date (YYYY-MM-DD)", body = ErrorBody),
        (status = 403, description = "reports are for the clinic's admins", body = ErrorBody),
        (status = 404, description = "no such room in this clinic", body = ErrorBody)))]
pub async fn summary(
    State(state): State<AppState>,
    who: StaffAuth,
    from: ClientAddr,
    ApiQuery(q): ApiQuery<ReportQuery>,
) -> Result<Json<Report>, AppError> {
    Ok(Json(report_for(&state, &who, &from, &q, "json").await?))
}

#[utoipa::path(get, path = "/v1/reports/summary.csv", tag = "admin", security(("bearer" = [])), params(ReportQuery),
    responses((status = 200, description = "the same report as CSV (`text/csv`): a line for the clinic, one per provider and one per hour; durations in seconds", body = String),
        (status = 400, description = "not a period (day, week, month) or not a date (YYYY-MM-DD)", body = ErrorBody),
        (status = 403, description = "reports are for the clinic's admins", body = ErrorBody),
        (status = 404, description = "no such room in this clinic", body = ErrorBody)))]
pub async fn summary_csv(
    State(state): State<AppState>,
    who: StaffAuth,
    from: ClientAddr,
    ApiQuery(q): ApiQuery<ReportQuery>,
) -> Result<Response, AppError> {
    let report = report_for(&state, &who, &from, &q, "csv").await?;
    let name = format!(
        "attachment; filename=\"report-{}-{}.csv\"",
        report.window.period.as_str(),
        report.window.first_day
    );
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/csv; charset=utf-8".to_owned(),
            ),
            (axum::http::header::CONTENT_DISPOSITION, name),
        ],
        to_csv(&report),
    )
        .into_response())
}

async fn report_for(
    state: &AppState,
    who: &StaffAuth,
    from: &ClientAddr,
    q: &ReportQuery,
    format: &str,
) -> Result<Report, AppError> {
    if !Workspace::Reports.allowed(who.session.staff.roles) {
        return Err(AppError::Forbidden("reports: not for your role".into()));
    }
    let period = match q.period.as_deref() {
        None => Period::Day,
        Some(p) => Period::parse(p).ok_or_else(|| {
            AppError::BadRequest(format!("period: {p:?} is not day, week or month"))
        })?,
    };
    let store = state.store.as_ref();
    let clinic_id = who.session.staff.clinic_id;
    let clinic = store
        .clinic(clinic_id)
        .await?
        .ok_or(AppError::NotFound("clinic"))?;
    let window =
        crate::hours::period_window(&clinic.time_zone, period, q.date.as_deref(), state.now())
            .ok_or_else(|| {
                let date = q.date.as_deref().unwrap_or_default();
                AppError::BadRequest(format!("date: {date:?} is not a date (YYYY-MM-DD)"))
            })?;
    let room: Option<RoomId> = match q.room.as_deref() {
        None | Some("") => None,
        Some(raw) => {
            let id: RoomId = super::path_id(raw, "room")?;
            if !store.rooms(clinic_id).await?.iter().any(|r| r.id == id) {
                return Err(AppError::NotFound("room"));
            }
            Some(id)
        }
    };
    let providers: Vec<ProviderName> = store
        .staff(clinic_id)
        .await?
        .into_iter()
        .filter(|s| s.roles.has(Role::Provider))
        .map(|s| ProviderName {
            id: s.id,
            name: s.name,
        })
        .collect();
    let histories = store
        .report_histories(clinic_id, window.from, window.to)
        .await?;
    let local_hour = crate::hours::local_hour(&clinic.time_zone);
    let detail = serde_json::json!({
        "period": period.as_str(),
        "from": window.first_day,
        "to": window.last_day,
        "room": room,
        "format": format,
    });
    let report = report::summarize(&histories, window, room, &providers, &local_hour);
    state
        .audit_read(&who.session, from, Action::REPORT_READ, [], detail)
        .await;
    Ok(report)
}

/// The report as CSV: one line for the clinic, one per provider, one per hour of the day,
/// under one header (a column a line does not have is empty). Durations are in seconds, to
/// the millisecond.
pub fn to_csv(r: &Report) -> String {
    let mut out = String::from(
        "scope,hour,provider_id,provider,visits,arrivals,seen,completed,left,declined,no_show,cancelled,open,\
         wait_for_staff_median_s,wait_for_staff_p90_s,wait_for_provider_median_s,wait_for_provider_p90_s,\
         time_in_call_median_s,time_in_call_p90_s\n",
    );
    let o = &r.outcomes;
    let mut line = |cells: Vec<String>| {
        out.push_str(
            &cells
                .iter()
                .map(|c| csv_field(c))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push('\n');
    };
    let counts = |o: &report::Outcomes| {
        [
            o.completed,
            o.left,
            o.declined,
            o.no_show,
            o.cancelled,
            o.open,
        ]
        .map(|n| n.to_string())
    };
    let mut clinic = vec![
        "clinic".into(),
        String::new(),
        String::new(),
        String::new(),
        r.visits.to_string(),
        r.arrivals.to_string(),
        String::new(),
    ];
    clinic.extend(counts(o));
    clinic.extend(seconds(&r.wait_for_staff));
    clinic.extend(seconds(&r.wait_for_provider));
    clinic.extend(seconds(&r.time_in_call));
    line(clinic);
    for p in &r.providers {
        let mut cells = vec![
            "provider".into(),
            String::new(),
            p.provider.to_string(),
            p.name.clone(),
            p.visits.to_string(),
            String::new(),
            p.seen.to_string(),
        ];
        cells.extend(counts(&p.outcomes));
        cells.extend(["", ""].map(String::from));
        cells.extend(seconds(&p.wait_for_provider));
        cells.extend(seconds(&p.time_in_call));
        line(cells);
    }
    for h in &r.by_hour {
        let mut cells = vec![
            "hour".into(),
            h.hour.to_string(),
            String::new(),
            String::new(),
        ];
        cells.extend([String::new(), h.arrivals.to_string()]);
        cells.extend(std::iter::repeat_n(String::new(), 7));
        cells.extend(seconds(&h.wait_for_staff));
        cells.extend(std::iter::repeat_n(String::new(), 4));
        line(cells);
    }
    out
}

/// A spread's median and 90th percentile in seconds to the millisecond ("" when none).
fn seconds(s: &Spread) -> [String; 2] {
    let text = |ms: Option<i64>| {
        ms.map(|ms| format!("{}.{:03}", ms / 1000, ms % 1000))
            .unwrap_or_default()
    };
    [text(s.median_ms), text(s.p90_ms)]
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_keep_the_milliseconds() {
        let s = Spread {
            count: 2,
            median_ms: Some(61_005),
            p90_ms: None,
        };
        assert_eq!(seconds(&s), ["61.005".to_owned(), String::new()]);
        assert_eq!(csv_field("Dr. Shah, MD"), "\"Dr. Shah, MD\"");
    }
}
