//! The Admin workspace: what a clinic admin sets up from the console. Each call goes to the
//! clinic API with the signed-in person's token; the server decides who may (an admin) and
//! whether the input holds, and its refusals come back as they are, with the field they name.

use super::{Console, lock};
use crate::error::UiError;
use frontdesk_api::admin::{Delivery, DeliveryState, HoursPreview, NewRoom, NewStaff, StaffChange};
use frontdesk_api::{AlertSubscription, OfficeHours, RoomInfo, StaffInfo, Station};
use frontdesk_client::TokenProvider;
use frontdesk_client::api::ApiClient;
use frontdesk_domain::{RoomId, StaffId};
use serde::Serialize;

/// A room with the links a clinic puts on its website for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct RoomEntry {
    pub room: RoomInfo,
    /// The room's front door: patients open it to wait.
    pub front_door: String,
    /// A button for the clinic's web page that opens the front door.
    pub button_html: String,
}

/// The room's front-door link on the clinic server at `base`, and a button that opens it.
fn entry(base: &str, slug: &str, room: RoomInfo) -> RoomEntry {
    let front_door = format!("{base}/join/{slug}/{}", room.id);
    let button_html = format!(
        "<a href=\"{href}\" target=\"_blank\" rel=\"noopener\" style=\"display:inline-block;\
         padding:12px 20px;border-radius:8px;background:#0f6e6e;color:#fff;\
         font:600 16px/1.2 system-ui,sans-serif;text-decoration:none\">{label}</a>",
        href = frontdesk_domain::escape_html(&front_door),
        label = frontdesk_domain::escape_html(&format!("See us online: {}", room.name)),
    );
    RoomEntry {
        room,
        front_door,
        button_html,
    }
}

impl Console {
    /// The signed-in session's API and token, for an admin call.
    fn admin_api(&self) -> Result<(ApiClient, String), UiError> {
        self.ensure_unlocked()?;
        self.touch();
        let session = lock(&self.session);
        let s = session.as_ref().ok_or_else(UiError::signed_out)?;
        let token = s.token.token().ok_or_else(UiError::signed_out)?;
        Ok((s.engine.api().clone(), token))
    }

    fn clinic_slug(&self) -> Result<String, UiError> {
        lock(&self.session)
            .as_ref()
            .and_then(|s| s.engine.clinic())
            .map(|c| c.slug)
            .ok_or_else(|| UiError::new("offline", "The clinic is not loaded yet; try again."))
    }

    /// The clinic's rooms, each with its front-door link and button.
    pub async fn admin_rooms(&self) -> Result<Vec<RoomEntry>, UiError> {
        let (api, token) = self.admin_api()?;
        let rooms = api.rooms(&token).await?;
        let slug = self.clinic_slug()?;
        Ok(rooms
            .into_iter()
            .map(|r| entry(api.base(), &slug, r))
            .collect())
    }

    /// Creates a room (`room` None) or replaces a room's settings.
    pub async fn save_room(
        &self,
        room: Option<RoomId>,
        settings: NewRoom,
    ) -> Result<RoomEntry, UiError> {
        let (api, token) = self.admin_api()?;
        let saved = api.save_room(&token, room, &settings).await?;
        let slug = self.clinic_slug()?;
        Ok(entry(api.base(), &slug, saved))
    }

    /// Whether a room with these hours would take patients now, by the server's rule.
    pub async fn preview_hours(&self, hours: Vec<OfficeHours>) -> Result<HoursPreview, UiError> {
        let (api, token) = self.admin_api()?;
        Ok(api.hours_preview(&token, hours).await?)
    }

    pub async fn admin_staff(&self) -> Result<Vec<StaffInfo>, UiError> {
        let (api, token) = self.admin_api()?;
        Ok(api.staff(&token).await?)
    }

    pub async fn invite_staff(&self, new: NewStaff) -> Result<StaffInfo, UiError> {
        let (api, token) = self.admin_api()?;
        Ok(api.create_staff(&token, &new).await?)
    }

    pub async fn change_staff(
        &self,
        id: StaffId,
        change: StaffChange,
    ) -> Result<StaffInfo, UiError> {
        let (api, token) = self.admin_api()?;
        Ok(api.change_staff(&token, id, &change).await?)
    }

    pub async fn set_staff_active(&self, id: StaffId, active: bool) -> Result<StaffInfo, UiError> {
        let (api, token) = self.admin_api()?;
        Ok(api.set_staff_active(&token, id, active).await?)
    }

    pub async fn sign_out_everywhere(&self, id: StaffId) -> Result<(), UiError> {
        let (api, token) = self.admin_api()?;
        Ok(api.sign_out_everywhere(&token, id).await?)
    }

    /// Sets the person's station PIN (a locked one works again).
    pub async fn set_staff_pin(&self, id: StaffId, pin: &str) -> Result<(), UiError> {
        let (api, token) = self.admin_api()?;
        Ok(api.set_staff_pin(&token, id, pin).await?)
    }

    /// Emails the person a one-time code to set a new password; gives the address it went to.
    pub async fn send_password_reset(&self, id: StaffId) -> Result<String, UiError> {
        let (api, token) = self.admin_api()?;
        Ok(api.send_password_reset(&token, id).await?)
    }

    pub async fn admin_stations(&self) -> Result<Vec<Station>, UiError> {
        let (api, token) = self.admin_api()?;
        Ok(api.stations(&token).await?)
    }

    pub async fn end_station(&self, id: uuid::Uuid) -> Result<(), UiError> {
        let (api, token) = self.admin_api()?;
        Ok(api.end_station(&token, id).await?)
    }

    pub async fn deliveries(&self, state: Option<DeliveryState>) -> Result<Vec<Delivery>, UiError> {
        let (api, token) = self.admin_api()?;
        Ok(api.deliveries(&token, state).await?)
    }

    pub async fn retry_delivery(&self, id: i64) -> Result<Delivery, UiError> {
        let (api, token) = self.admin_api()?;
        Ok(api.retry_delivery(&token, id).await?)
    }

    pub async fn my_alerts(&self) -> Result<Vec<AlertSubscription>, UiError> {
        let (api, token) = self.admin_api()?;
        Ok(api.my_alerts(&token).await?)
    }

    pub async fn set_my_alerts(
        &self,
        alerts: Vec<AlertSubscription>,
    ) -> Result<Vec<AlertSubscription>, UiError> {
        let (api, token) = self.admin_api()?;
        Ok(api.set_my_alerts(&token, &alerts).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_button_carries_the_front_door_link_and_the_room_name_safely() {
        let nil = uuid::Uuid::nil();
        let room: RoomInfo = serde_json::from_value(serde_json::json!({
            "id": nil, "clinic_id": nil, "name": "Kids & \"Teens\" <2>",
        }))
        .unwrap();
        let e = entry("https://north.example", "north", room);
        assert_eq!(
            e.front_door,
            format!("https://north.example/join/north/{nil}")
        );
        assert!(
            e.button_html
                .contains(&format!("href=\"https://north.example/join/north/{nil}\""))
        );
        assert!(
            e.button_html
                .contains("Kids &amp; &quot;Teens&quot; &lt;2&gt;"),
            "{}",
            e.button_html
        );
    }
}
