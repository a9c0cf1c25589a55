//! The clinic API calls of the console's Admin workspace: rooms, staff, stations, the outbound
//! emails and texts, and one's own alert subscriptions. Admin-only on the server, which says
//! no (403) to anyone else.

use crate::api::ApiClient;
use crate::error::ClientError;
use frontdesk_api::admin::{
    Delivery, DeliveryState, HoursDraft, HoursPreview, NewRoom, NewStaff, StaffChange,
};
use frontdesk_api::{AlertSubscription, OfficeHours, RoomInfo, StaffInfo, Station};
use frontdesk_domain::{RoomId, StaffId};
use reqwest::{Method, StatusCode};
use serde::Deserialize;

impl ApiClient {
    /// A call answered with no body (204), or an error.
    async fn no_content(&self, method: Method, path: &str, token: &str) -> Result<(), ClientError> {
        let resp = self.request(method, path, Some(token)).send().await?;
        if resp.status() == StatusCode::NO_CONTENT || resp.status().is_success() {
            return Ok(());
        }
        Self::read::<serde_json::Value>(resp).await.map(|_| ())
    }

    pub async fn rooms(&self, token: &str) -> Result<Vec<RoomInfo>, ClientError> {
        Self::send(self.request(Method::GET, "/v1/rooms", Some(token))).await
    }

    /// Creates a room (`room` None) or replaces a room's settings.
    pub async fn save_room(
        &self,
        token: &str,
        room: Option<RoomId>,
        settings: &NewRoom,
    ) -> Result<RoomInfo, ClientError> {
        let req = match room {
            None => self.request(Method::POST, "/v1/rooms", Some(token)),
            Some(id) => self.request(Method::PUT, &format!("/v1/rooms/{id}"), Some(token)),
        };
        Self::send(req.json(settings)).await
    }

    pub async fn hours_preview(
        &self,
        token: &str,
        office_hours: Vec<OfficeHours>,
    ) -> Result<HoursPreview, ClientError> {
        let req = self
            .request(Method::POST, "/v1/rooms/hours-preview", Some(token))
            .json(&HoursDraft { office_hours });
        Self::send(req).await
    }

    pub async fn staff(&self, token: &str) -> Result<Vec<StaffInfo>, ClientError> {
        Self::send(self.request(Method::GET, "/v1/staff", Some(token))).await
    }

    pub async fn create_staff(
        &self,
        token: &str,
        new: &NewStaff,
    ) -> Result<StaffInfo, ClientError> {
        Self::send(
            self.request(Method::POST, "/v1/staff", Some(token))
                .json(new),
        )
        .await
    }

    pub async fn change_staff(
        &self,
        token: &str,
        id: StaffId,
        change: &StaffChange,
    ) -> Result<StaffInfo, ClientError> {
        let req = self
            .request(Method::PUT, &format!("/v1/staff/{id}"), Some(token))
            .json(change);
        Self::send(req).await
    }

    /// Deactivates (`active` false) or reactivates a member of staff.
    pub async fn set_staff_active(
        &self,
        token: &str,
        id: StaffId,
        active: bool,
    ) -> Result<StaffInfo, ClientError> {
        let what = if active { "reactivate" } else { "deactivate" };
        let path = format!("/v1/staff/{id}/{what}");
        Self::send(self.request(Method::POST, &path, Some(token))).await
    }

    /// Ends every session of a member of staff, stations included.
    pub async fn sign_out_everywhere(&self, token: &str, id: StaffId) -> Result<(), ClientError> {
        let path = format!("/v1/staff/{id}/sign-out");
        self.no_content(Method::POST, &path, token).await
    }

    /// Sets a member of staff's station PIN (a locked one works again).
    pub async fn set_staff_pin(
        &self,
        token: &str,
        id: StaffId,
        pin: &str,
    ) -> Result<(), ClientError> {
        let path = format!("/v1/staff/{id}/pin");
        let req = self
            .request(Method::PUT, &path, Some(token))
            .json(&serde_json::json!({ "pin": pin }));
        let resp = req.send().await?;
        if resp.status().is_success() {
            return Ok(());
        }
        Self::read::<serde_json::Value>(resp).await.map(|_| ())
    }

    /// Emails a member of staff a one-time code to set a new password; gives the address.
    pub async fn send_password_reset(
        &self,
        token: &str,
        id: StaffId,
    ) -> Result<String, ClientError> {
        #[derive(Deserialize)]
        struct Sent {
            email: String,
        }
        let path = format!("/v1/staff/{id}/password-reset");
        let sent: Sent = Self::send(self.request(Method::POST, &path, Some(token))).await?;
        Ok(sent.email)
    }

    pub async fn stations(&self, token: &str) -> Result<Vec<Station>, ClientError> {
        Self::send(self.request(Method::GET, "/v1/stations", Some(token))).await
    }

    /// Ends a station: its device token and every session on it stop working.
    pub async fn end_station(&self, token: &str, id: uuid::Uuid) -> Result<(), ClientError> {
        let path = format!("/v1/stations/{id}");
        self.no_content(Method::DELETE, &path, token).await
    }

    /// The clinic's outbound emails and texts, newest first; only those in `state` if given.
    pub async fn deliveries(
        &self,
        token: &str,
        state: Option<DeliveryState>,
    ) -> Result<Vec<Delivery>, ClientError> {
        let mut req = self.request(Method::GET, "/v1/deliveries", Some(token));
        if let Some(state) = state {
            let name = serde_json::to_value(state)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            req = req.query(&[("state", name)]);
        }
        Self::send(req).await
    }

    /// Sends a failed email or text once more.
    pub async fn retry_delivery(&self, token: &str, id: i64) -> Result<Delivery, ClientError> {
        let path = format!("/v1/deliveries/{id}/retry");
        Self::send(self.request(Method::POST, &path, Some(token))).await
    }

    pub async fn my_alerts(&self, token: &str) -> Result<Vec<AlertSubscription>, ClientError> {
        Self::send(self.request(Method::GET, "/v1/me/alerts", Some(token))).await
    }

    pub async fn set_my_alerts(
        &self,
        token: &str,
        alerts: &[AlertSubscription],
    ) -> Result<Vec<AlertSubscription>, ClientError> {
        let req = self
            .request(Method::PUT, "/v1/me/alerts", Some(token))
            .json(alerts);
        Self::send(req).await
    }
}
