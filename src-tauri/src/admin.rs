//! The Admin workspace's commands: one line each into the console (`Console::admin_rooms`, ...).

use crate::Shared;
use frontdesk_api::admin::{Delivery, DeliveryState, HoursPreview, NewRoom, NewStaff, StaffChange};
use frontdesk_api::{AlertSubscription, OfficeHours, StaffInfo, Station};
use frontdesk_console::{RoomEntry, UiError};

fn id<T: std::str::FromStr>(raw: &str, what: &str) -> Result<T, UiError> {
    raw.parse()
        .map_err(|_| UiError::new("not_found", format!("No such {what}.")))
}

#[tauri::command]
pub(crate) async fn admin_rooms(console: Shared<'_>) -> Result<Vec<RoomEntry>, UiError> {
    console.admin_rooms().await
}

#[tauri::command]
pub(crate) async fn save_room(
    console: Shared<'_>,
    room_id: Option<String>,
    room: NewRoom,
) -> Result<RoomEntry, UiError> {
    let room_id = room_id.map(|r| id(&r, "room")).transpose()?;
    console.save_room(room_id, room).await
}

#[tauri::command]
pub(crate) async fn preview_hours(
    console: Shared<'_>,
    office_hours: Vec<OfficeHours>,
) -> Result<HoursPreview, UiError> {
    console.preview_hours(office_hours).await
}

#[tauri::command]
pub(crate) async fn admin_staff(console: Shared<'_>) -> Result<Vec<StaffInfo>, UiError> {
    console.admin_staff().await
}

#[tauri::command]
pub(crate) async fn invite_staff(
    console: Shared<'_>,
    staff: NewStaff,
) -> Result<StaffInfo, UiError> {
    console.invite_staff(staff).await
}

#[tauri::command]
pub(crate) async fn change_staff(
    console: Shared<'_>,
    staff_id: String,
    change: StaffChange,
) -> Result<StaffInfo, UiError> {
    console.change_staff(id(&staff_id, "person")?, change).await
}

#[tauri::command]
pub(crate) async fn set_staff_active(
    console: Shared<'_>,
    staff_id: String,
    active: bool,
) -> Result<StaffInfo, UiError> {
    console
        .set_staff_active(id(&staff_id, "person")?, active)
        .await
}

#[tauri::command]
pub(crate) async fn sign_out_everywhere(
    console: Shared<'_>,
    staff_id: String,
) -> Result<(), UiError> {
    console.sign_out_everywhere(id(&staff_id, "person")?).await
}

#[tauri::command]
pub(crate) async fn set_staff_pin(
    console: Shared<'_>,
    staff_id: String,
    pin: String,
) -> Result<(), UiError> {
    console.set_staff_pin(id(&staff_id, "person")?, &pin).await
}

#[tauri::command]
pub(crate) async fn send_password_reset(
    console: Shared<'_>,
    staff_id: String,
) -> Result<String, UiError> {
    console.send_password_reset(id(&staff_id, "person")?).await
}

#[tauri::command]
pub(crate) async fn admin_stations(console: Shared<'_>) -> Result<Vec<Station>, UiError> {
    console.admin_stations().await
}

#[tauri::command]
pub(crate) async fn end_station(console: Shared<'_>, station_id: String) -> Result<(), UiError> {
    console.end_station(id(&station_id, "station")?).await
}

#[tauri::command]
pub(crate) async fn deliveries(
    console: Shared<'_>,
    state: Option<DeliveryState>,
) -> Result<Vec<Delivery>, UiError> {
    console.deliveries(state).await
}

#[tauri::command]
pub(crate) async fn retry_delivery(
    console: Shared<'_>,
    delivery_id: i64,
) -> Result<Delivery, UiError> {
    console.retry_delivery(delivery_id).await
}

#[tauri::command]
pub(crate) async fn my_alerts(console: Shared<'_>) -> Result<Vec<AlertSubscription>, UiError> {
    console.my_alerts().await
}

#[tauri::command]
pub(crate) async fn set_my_alerts(
    console: Shared<'_>,
    alerts: Vec<AlertSubscription>,
) -> Result<Vec<AlertSubscription>, UiError> {
    console.set_my_alerts(alerts).await
}
