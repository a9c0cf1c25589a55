//! The Reports workspace: a manager's figures for a day, week or month, read from the clinic
//! server with the session's token, and their CSV saved where the computer keeps downloads.
//! Who may read them is the server's answer (the domain's `Workspace::Reports`).

use super::Console;
use crate::error::UiError;
use frontdesk_client::api::{ApiClient, ReportQuery};
use frontdesk_domain::report::Report;

impl Console {
    /// The server and the session's token, for a person at the unlocked console.
    fn signed_in_api(&self) -> Result<(ApiClient, String), UiError> {
        self.ensure_unlocked()?;
        self.touch();
        let (api, token, _) = self.api_and_token().ok_or_else(UiError::signed_out)?;
        Ok((api, token.ok_or_else(UiError::signed_out)?))
    }

    /// The report the Reports workspace shows. It needs the server.
    pub async fn report(&self, query: ReportQuery) -> Result<Report, UiError> {
        let (api, token) = self.signed_in_api()?;
        Ok(api.report(&token, &query).await?)
    }

    /// "Export CSV": saves the report as the server writes it in the computer's downloads,
    /// and says where.
    pub async fn export_report(&self, query: ReportQuery) -> Result<String, UiError> {
        let (api, token) = self.signed_in_api()?;
        let csv = api.report_csv(&token, &query).await?;
        let name = format!(
            "frontdesk-report-{}-{}.csv",
            query.period.as_str(),
            query.date.as_deref().unwrap_or("today")
        );
        self.host
            .save_download(&name, csv.as_bytes())
            .map_err(|e| UiError::new("save_failed", format!("Could not save the report: {e}")))
    }
}
