//! The clinic's events as a page of `/v1/events`.

use crate::Event;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct EventPage {
    pub events: Vec<Event>,
    /// Pass as `after` for the next page.
    pub next_after: u64,
    pub more: bool,
}
