//! Signing in and clinic stations: what the console sends and what it gets back. Debug output
//! never shows a password, PIN or device token.

use crate::{StaffInfo, Station};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct SignIn {
    /// The clinic's slug, as in its front-door link.
    pub clinic: String,
    pub email: String,
    pub password: String,
}

impl std::fmt::Debug for SignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignIn")
            .field("clinic", &self.clinic)
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

/// A signed-in session.
#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct Token {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    /// Milliseconds since the epoch.
    pub expires_at: i64,
    pub staff: StaffInfo,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Token")
            .field("expires_at", &self.expires_at)
            .field("staff", &self.staff)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct NewStation {
    pub name: String,
}

#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct StationRegistered {
    pub station: Station,
    /// Kept on the station; shown once.
    pub device_token: String,
}

impl std::fmt::Debug for StationRegistered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StationRegistered")
            .field("station", &self.station)
            .finish_non_exhaustive()
    }
}

/// A member of staff switches on a registered clinic station with their PIN.
#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct SwitchOn {
    pub device_token: String,
    pub email: String,
    pub pin: String,
}

impl std::fmt::Debug for SwitchOn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SwitchOn")
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}
