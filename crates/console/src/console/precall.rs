//! The pre-call check: can this computer take a video visit right now? The clinic server, the
//! live updates, desktop notifications, the keyring, a camera and a microphone.

use super::Console;
use frontdesk_client::view::ConnectionState;
use serde::Serialize;
use std::time::Instant;

/// One line of the check: what was looked at, whether it is fine, and what was found.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct Check {
    pub name: String,
    pub ok: bool,
    pub detail: String,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct PrecallReport {
    pub checks: Vec<Check>,
}

fn check(name: &str, ok: bool, detail: impl Into<String>) -> Check {
    Check {
        name: name.into(),
        ok,
        detail: detail.into(),
    }
}

impl Console {
    /// Runs every check; a failing one says why, the rest still run.
    pub async fn precall_check(&self) -> PrecallReport {
        let mut checks = Vec::new();
        match self.api_and_token() {
            Some((api, _, link)) => {
                let started = Instant::now();
                let health = api.health().await;
                let ms = started.elapsed().as_millis();
                checks.push(match health {
                    Ok(()) => check("Clinic server", true, format!("Reachable, {ms} ms")),
                    Err(e) => check("Clinic server", false, e.to_string()),
                });
                checks.push(check(
                    "Live updates",
                    link == ConnectionState::Online,
                    match link {
                        ConnectionState::Online => "Connected".to_string(),
                        other => format!("Not connected ({})", format!("{other:?}").to_lowercase()),
                    },
                ));
            }
            None => checks.push(check("Clinic server", false, "Not signed in")),
        }
        checks.push(match self.host.notification_service() {
            Ok(service) => check("Desktop notifications", true, service),
            Err(e) => check("Desktop notifications", false, e),
        });
        let secrets = self.host.secrets();
        let probe = "precall-probe";
        let keyring = secrets
            .set(probe, "ok")
            .and_then(|_| secrets.get(probe))
            .and_then(|v| secrets.delete(probe).map(|_| v));
        checks.push(match keyring {
            Ok(Some(v)) if v == "ok" => check("Keyring", true, "Usable"),
            Ok(_) => check("Keyring", false, "Stored secrets do not come back"),
            Err(e) => check("Keyring", false, e),
        });
        let devices = self.host.media_devices();
        checks.push(devices_check("Camera", devices.cameras, "No camera found"));
        checks.push(devices_check(
            "Microphone",
            devices.microphones,
            "No microphone found",
        ));
        PrecallReport { checks }
    }
}

/// "2 found", or what is missing.
fn devices_check(name: &str, count: usize, none: &str) -> Check {
    if count > 0 {
        check(name, true, format!("{count} found"))
    } else {
        check(name, false, none)
    }
}
