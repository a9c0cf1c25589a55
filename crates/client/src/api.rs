//! The clinic API over HTTP: one method per call the console makes. Errors come back as
//! [`ClientError`], which says whether trying again can help.

use crate::error::ClientError;
use frontdesk_api::auth::{NewStation, SignIn, StationRegistered, SwitchOn, Token};
use frontdesk_api::{AvailabilityBody, CommandReply, ErrorBody, Event, Snapshot};
use frontdesk_domain::{Availability, Command, VisitId};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::time::Duration;

/// Which report a manager asks for: the period holding `date` (clinic-local `YYYY-MM-DD`,
/// today if None), for one room or the whole clinic.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct ReportQuery {
    pub period: frontdesk_domain::report::Period,
    #[serde(default)]
    pub date: Option<String>,
    #[serde(default)]
    pub room: Option<frontdesk_domain::RoomId>,
}

/// An answer to a successful sign-in: the wire's session token.
pub type SignedIn = Token;

#[derive(Clone, Debug)]
pub struct ApiClient {
    base: String,
    http: reqwest::Client,
}

impl ApiClient {
    /// `base` is the clinic server's URL, e.g. `https://clinic.example.org`. Patient data only
    /// travels encrypted: plain `http://` is refused except to this computer (the demo, tests).
    pub fn new(base: &str) -> Result<ApiClient, ClientError> {
        let url = reqwest::Url::parse(base)
            .map_err(|_| ClientError::InsecureServer(format!("{base} is not a web address")))?;
        let host = url.host_str().unwrap_or_default();
        let loopback = host.eq_ignore_ascii_case("localhost")
            || host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        match url.scheme() {
            "https" => {}
            "http" if loopback => {}
            _ => {
                return Err(ClientError::InsecureServer(format!(
                    "{base} is not encrypted: use the clinic's https:// address"
                )));
            }
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(15))
            .build()
            .map_err(|e| ClientError::Network(e.to_string()))?;
        Ok(ApiClient {
            base: base.trim_end_matches('/').to_string(),
            http,
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub(crate) fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
    ) -> RequestBuilder {
        let req = self.http.request(method, format!("{}{path}", self.base));
        match token {
            Some(t) => req.bearer_auth(t),
            None => req,
        }
    }

    pub(crate) async fn send<T: DeserializeOwned>(req: RequestBuilder) -> Result<T, ClientError> {
        let resp = req.send().await?;
        Self::read(resp).await
    }

    pub(crate) async fn read<T: DeserializeOwned>(resp: Response) -> Result<T, ClientError> {
        let status = resp.status();
        if status.is_success() {
            return Ok(resp.json::<T>().await?);
        }
        if status == StatusCode::UNAUTHORIZED {
            return Err(ClientError::SignedOut);
        }
        let code = status.as_u16();
        match resp.json::<ErrorBody>().await {
            Ok(b) => Err(ClientError::Api {
                status: code,
                code: b.code,
                message: b.message,
                held_by: b.held_by,
                visit: b.visit,
            }),
            Err(_) => Err(ClientError::Api {
                status: code,
                code: if code >= 500 {
                    "server_error"
                } else {
                    "bad_request"
                }
                .into(),
                message: format!("the clinic server answered {status}"),
                held_by: None,
                visit: None,
            }),
        }
    }

    pub async fn sign_in(
        &self,
        clinic: &str,
        email: &str,
        password: &str,
    ) -> Result<SignedIn, ClientError> {
        let req = self
            .request(Method::POST, "/v1/auth/sign-in", None)
            .json(&SignIn {
                clinic: clinic.to_owned(),
                email: email.to_owned(),
                password: password.to_owned(),
            });
        match Self::send(req).await {
            // At sign-in a 401 is an answer about the credentials, not a lost session.
            Err(ClientError::SignedOut) => Err(ClientError::Api {
                status: 401,
                code: "unauthorized".into(),
                message: "Wrong clinic, email or password.".into(),
                held_by: None,
                visit: None,
            }),
            other => other,
        }
    }

    pub async fn sign_out(&self, token: &str) -> Result<(), ClientError> {
        let resp = self
            .request(Method::POST, "/v1/auth/sign-out", Some(token))
            .send()
            .await?;
        if resp.status().is_success() || resp.status() == StatusCode::UNAUTHORIZED {
            Ok(())
        } else {
            Self::read::<Value>(resp).await.map(|_| ())
        }
    }

    pub async fn health(&self) -> Result<(), ClientError> {
        let resp = self.request(Method::GET, "/healthz", None).send().await?;
        if resp.status().is_success() {
            Ok(())
        } else {
            Err(ClientError::Network(format!(
                "health check answered {}",
                resp.status()
            )))
        }
    }

    pub async fn snapshot(&self, token: &str) -> Result<Snapshot, ClientError> {
        Self::send(self.request(Method::GET, "/v1/snapshot", Some(token))).await
    }

    /// A page of the visits that finished on the clinic's day (today when `day` is None).
    pub async fn finished_visits(
        &self,
        token: &str,
        day: Option<&str>,
        after: Option<&str>,
        limit: u32,
    ) -> Result<frontdesk_api::FinishedVisits, ClientError> {
        let mut query = vec![("limit", limit.to_string())];
        if let Some(day) = day {
            query.push(("day", day.to_owned()));
        }
        if let Some(after) = after {
            query.push(("after", after.to_owned()));
        }
        let req = self
            .request(Method::GET, "/v1/visits", Some(token))
            .query(&query);
        Self::send(req).await
    }

    /// Events after `after`, oldest first, at most `limit`.
    pub async fn events(
        &self,
        token: &str,
        after: u64,
        limit: u32,
    ) -> Result<Vec<Event>, ClientError> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Page {
            Bare(Vec<Event>),
            Wrapped { events: Vec<Event> },
        }
        let req = self
            .request(Method::GET, "/v1/events", Some(token))
            .query(&[("after", after.to_string()), ("limit", limit.to_string())]);
        Ok(match Self::send::<Page>(req).await? {
            Page::Bare(e) | Page::Wrapped { events: e } => e,
        })
    }

    /// Sends one staff command, the domain's `Command` whole. `key` makes a resend apply once;
    /// `expected_version` is the visit version it was decided on (None for commands that do
    /// not need one).
    pub async fn command(
        &self,
        token: &str,
        visit: VisitId,
        command: &Command,
        expected_version: Option<u64>,
        key: &str,
    ) -> Result<CommandReply, ClientError> {
        let mut req = self
            .request(
                Method::POST,
                &format!("/v1/visits/{visit}/commands"),
                Some(token),
            )
            .header("Idempotency-Key", key)
            .json(command);
        if let Some(v) = expected_version {
            req = req.header("If-Match", v.to_string());
        }
        Self::send(req).await
    }

    pub async fn set_availability(
        &self,
        token: &str,
        availability: Availability,
        key: &str,
    ) -> Result<Value, ClientError> {
        let req = self
            .request(Method::PUT, "/v1/me/availability", Some(token))
            .header("Idempotency-Key", key)
            .json(&AvailabilityBody { availability });
        Self::send(req).await
    }

    /// Asks `provider` for a session with a patient, in `room`; `key` makes a resend apply
    /// once. Returns the new visit.
    pub async fn request_session(
        &self,
        token: &str,
        room: frontdesk_domain::RoomId,
        patient_name: &str,
        provider: frontdesk_domain::StaffId,
        key: &str,
    ) -> Result<frontdesk_domain::Visit, ClientError> {
        #[derive(serde::Deserialize)]
        struct Opened {
            visit: frontdesk_domain::Visit,
        }
        let req = self
            .request(
                Method::POST,
                &format!("/v1/rooms/{room}/requests"),
                Some(token),
            )
            .header("Idempotency-Key", key)
            .json(&serde_json::json!({
                "patient": { "name": patient_name },
                "provider": provider,
            }));
        Ok(Self::send::<Opened>(req).await?.visit)
    }

    /// Books a session in `room` (`repeat_weeks` sessions in all, a week apart; `include_me`
    /// adds me to its staff); `key` makes a resend book once. Returns the visits booked, the
    /// first first.
    pub async fn schedule(
        &self,
        token: &str,
        room: frontdesk_domain::RoomId,
        booking: &frontdesk_domain::Booking,
        repeat_weeks: u32,
        include_me: bool,
        key: &str,
    ) -> Result<Vec<frontdesk_domain::Visit>, ClientError> {
        #[derive(serde::Deserialize)]
        struct Opened {
            visit: frontdesk_domain::Visit,
        }
        #[derive(serde::Deserialize)]
        struct Scheduled {
            visit: frontdesk_domain::Visit,
            #[serde(default)]
            repeats: Vec<Opened>,
        }
        let req = self
            .request(
                Method::POST,
                &format!("/v1/rooms/{room}/scheduled"),
                Some(token),
            )
            .header("Idempotency-Key", key)
            .json(&serde_json::json!({
                "booking": booking,
                "repeat_weeks": repeat_weeks,
                "include_me": include_me,
            }));
        let answer = Self::send::<Scheduled>(req).await?;
        let mut visits = vec![answer.visit];
        visits.extend(answer.repeats.into_iter().map(|o| o.visit));
        Ok(visits)
    }

    /// A manager's report (`/v1/reports/summary`) of the `period` holding `date` (today if
    /// None), for `room` or the whole clinic.
    pub async fn report(
        &self,
        token: &str,
        query: &ReportQuery,
    ) -> Result<frontdesk_domain::report::Report, ClientError> {
        Self::send(self.report_request(token, "summary", query)).await
    }

    /// The same report as CSV, as the server writes it.
    pub async fn report_csv(
        &self,
        token: &str,
        query: &ReportQuery,
    ) -> Result<String, ClientError> {
        let resp = self
            .report_request(token, "summary.csv", query)
            .send()
            .await?;
        if resp.status().is_success() {
            return Ok(resp.text().await?);
        }
        // A refusal is JSON like any other: read as one, it is the error (never a success).
        Err(Self::read::<Value>(resp)
            .await
            .err()
            .unwrap_or_else(|| ClientError::Network("the report could not be read".into())))
    }

    fn report_request(&self, token: &str, what: &str, q: &ReportQuery) -> RequestBuilder {
        let mut params = vec![("period", q.period.as_str().to_owned())];
        params.extend(q.date.clone().map(|d| ("date", d)));
        params.extend(q.room.map(|r| ("room", r.to_string())));
        self.request(Method::GET, &format!("/v1/reports/{what}"), Some(token))
            .query(&params)
    }

    /// The WebSocket URL of the live stream after `seq`.
    pub fn stream_url(&self, after: u64) -> String {
        let ws = if let Some(rest) = self.base.strip_prefix("https://") {
            format!("wss://{rest}")
        } else if let Some(rest) = self.base.strip_prefix("http://") {
            format!("ws://{rest}")
        } else {
            self.base.clone()
        };
        format!("{ws}/v1/stream?after={after}")
    }
}

impl ApiClient {
    /// A staff member switches on at a registered clinic station with their PIN.
    pub async fn switch_on_station(
        &self,
        device_token: &str,
        email: &str,
        pin: &str,
    ) -> Result<SignedIn, ClientError> {
        let req = self
            .request(Method::POST, "/v1/stations/switch", None)
            .json(&SwitchOn {
                device_token: device_token.to_owned(),
                email: email.to_owned(),
                pin: pin.to_owned(),
            });
        let resp = req.send().await?;
        if resp.status() != StatusCode::UNAUTHORIZED {
            return Self::read(resp).await;
        }
        // Not signed out (there is no session yet): a wrong PIN, or a station that is no more.
        let body = resp.json::<ErrorBody>().await.ok();
        let (code, message) = match body {
            Some(b) if b.code == "station_unknown" => (b.code, b.message),
            _ => ("unauthorized".to_owned(), "Wrong PIN.".to_owned()),
        };
        Err(ClientError::Api {
            status: 401,
            code,
            message,
            held_by: None,
            visit: None,
        })
    }

    /// One visit with its whole history (for one no longer in the cache).
    pub async fn visit(
        &self,
        token: &str,
        id: VisitId,
    ) -> Result<frontdesk_domain::Visit, ClientError> {
        Self::send(self.request(Method::GET, &format!("/v1/visits/{id}"), Some(token))).await
    }
}

impl ApiClient {
    /// An admin registers this computer as a clinic station; returns its device token.
    pub async fn register_station(&self, token: &str, name: &str) -> Result<String, ClientError> {
        let req = self
            .request(Method::POST, "/v1/stations", Some(token))
            .json(&NewStation {
                name: name.to_owned(),
            });
        Ok(Self::send::<StationRegistered>(req).await?.device_token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patient_data_goes_to_the_clinic_only_over_https_or_to_this_computer() {
        for ok in [
            "https://clinic.example.org",
            "http://127.0.0.1:8080",
            "http://localhost:8080/",
            "http://[::1]:9000",
        ] {
            assert!(ApiClient::new(ok).is_ok(), "{ok}");
        }
        for refused in [
            "http://clinic.example.org",
            "http://10.0.0.5:8080",
            "ftp://clinic.example.org",
            "clinic.example.org",
        ] {
            let err = ApiClient::new(refused).expect_err(refused);
            assert_eq!(err.code(), "insecure_server", "{refused}");
        }
    }
}
