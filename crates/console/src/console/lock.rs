//! The console's lock: it locks itself after the idle minutes the settings give, and hides
//! every patient while locked. The signed-in person's password opens it; on a registered
//! clinic station a PIN does, and may switch the station to another person.

use super::{Console, lock, station_key};
use crate::error::UiError;
use crate::settings::split_clinic_address;
use crate::state::AppState;
use frontdesk_domain::Availability;
use std::time::{Duration, Instant};

/// How often the idle clock is read. The lock may come this much later than the setting says.
const IDLE_CHECK: Duration = Duration::from_secs(5);

impl Console {
    pub(super) fn ensure_unlocked(&self) -> Result<(), UiError> {
        if *lock(&self.locked) {
            Err(UiError::new("locked", "The console is locked."))
        } else {
            Ok(())
        }
    }

    /// Someone used the console: the idle clock starts again.
    pub fn touch(&self) {
        *lock(&self.last_activity) = Instant::now();
    }

    pub fn lock_now(&self) -> AppState {
        let away = self.settings().unavailable_when_locked;
        if let Some(s) = lock(&self.session).as_ref() {
            let was_locked = std::mem::replace(&mut *lock(&self.locked), true);
            if away && !was_locked {
                // Through the normal availability action: queued, sent, shown to everyone.
                let now = s.engine.view().me.map(|m| m.staff.availability);
                if let Some(now) = now.filter(|a| *a != Availability::Unavailable) {
                    match s.engine.set_availability(Availability::Unavailable) {
                        Ok(_) => *lock(&self.before_lock) = Some(now),
                        Err(e) => log::warn!("could not set unavailable on lock: {e}"),
                    }
                }
            }
            self.bump();
        }
        self.app_state()
    }

    /// Locks the console if it has been idle longer than the setting. Returns whether it did.
    pub fn lock_if_idle(&self) -> bool {
        let minutes = self.settings().lock_after_minutes;
        if minutes == 0 || *lock(&self.locked) || lock(&self.session).is_none() {
            return false;
        }
        if lock(&self.last_activity).elapsed() >= Duration::from_secs(u64::from(minutes) * 60) {
            self.lock_now();
            return true;
        }
        false
    }

    /// The idle lock: reads the idle clock every few seconds, as long as the console runs.
    pub async fn lock_when_idle(&self) {
        loop {
            tokio::time::sleep(IDLE_CHECK).await;
            self.lock_if_idle();
        }
    }

    /// Unlocks with a PIN. On a clinic station the PIN is checked by the server and may switch
    /// to another person (`staff_email`); elsewhere the signed-in person's password unlocks.
    pub async fn unlock(&self, pin: &str, staff_email: Option<&str>) -> Result<AppState, UiError> {
        let (base, current_email, api) = {
            let session = lock(&self.session);
            let s = session.as_ref().ok_or_else(UiError::signed_out)?;
            (s.base.clone(), s.email.clone(), s.engine.api().clone())
        };
        let email = staff_email
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .unwrap_or(&current_email)
            .to_string();
        let device = self
            .host
            .secrets()
            .get(&station_key(&base))
            .map_err(|e| UiError::new("keyring", e))?;
        let on_station = device.is_some();
        let signed_in = match device {
            Some(device) => match api.switch_on_station(&device, &email, pin).await {
                Err(e) if e.code() == "station_unknown" => {
                    // An admin ended this station: forget it, and ask for the password.
                    self.forget_station(&base)?;
                    return Err(UiError::new(
                        "station_unknown",
                        "This computer is no longer a clinic station (an admin ended it). \
                         Unlock with your password.",
                    ));
                }
                other => other?,
            },
            None => {
                if email.to_lowercase() != current_email.to_lowercase() {
                    return Err(UiError::new(
                        "forbidden",
                        "Switching user needs a clinic station; sign out instead.",
                    ));
                }
                let server = lock(&self.prefs).server.clone().unwrap_or_default();
                let (_, clinic) =
                    split_clinic_address(&server).map_err(|e| UiError::new("validation", e))?;
                api.sign_in(&clinic, &email, pin).await?
            }
        };
        let before_lock = lock(&self.before_lock).take();
        if email.to_lowercase() == current_email.to_lowercase() {
            let moving = lock(&self.session).as_ref().map(|s| {
                *lock(&s.token.0) = Some(signed_in.token.clone());
                // Back at the desk: the availability the lock took away comes back.
                if let Some(before) = before_lock
                    && let Err(e) = s.engine.set_availability(before)
                {
                    log::warn!("could not restore availability on unlock: {e}");
                }
                // The open stream moves onto the station session too, so that the next person
                // to switch on can take it over. If it cannot, the next connection uses it.
                s.engine.switch_person(&signed_in.token)
            });
            if let Some(moving) = moving.filter(|_| on_station)
                && let Err(e) = moving.await
            {
                log::info!("the stream stays on the session before until it reconnects: {e}");
            }
        } else {
            self.switch_person(&base, &email, &signed_in.token).await?;
        }
        *lock(&self.locked) = false;
        self.touch();
        self.bump();
        Ok(self.app_state())
    }

    /// Another person takes the station. The running engine is handed to them: the server
    /// re-authenticates its open stream, and the queue, the cache and the outbox stay (what the
    /// person before queued still goes out as them), with no sign-in screen in between. When it
    /// cannot be (offline, or the server did not take it), they get an engine of their own.
    async fn switch_person(&self, base: &str, email: &str, token: &str) -> Result<(), UiError> {
        let handing_over = lock(&self.session)
            .as_ref()
            .map(|s| s.engine.switch_person(token));
        let handed_over = match handing_over {
            Some(handing_over) => handing_over.await,
            None => return Err(UiError::signed_out()),
        };
        match handed_over {
            Ok(()) => {
                if let Some(s) = lock(&self.session).as_mut() {
                    *lock(&s.token.0) = Some(token.to_owned());
                    email.clone_into(&mut s.email);
                }
            }
            Err(e) => {
                // Each person's cache stays theirs; the new session takes the old one's place
                // in one step, so no screen ever shows nobody signed in.
                log::info!("switching person with a new engine: {e}");
                self.start_session(base, email, token)?;
            }
        }
        Ok(())
    }

    fn forget_station(&self, base: &str) -> Result<(), UiError> {
        self.host
            .secrets()
            .delete(&station_key(base))
            .map_err(|e| UiError::new("keyring", e))?;
        if let Some(s) = lock(&self.session).as_mut() {
            s.station = false;
        }
        self.bump();
        Ok(())
    }

    /// Registers this computer as a clinic station (its device token goes to the keyring).
    pub fn make_station(&self, device_token: &str) -> Result<(), UiError> {
        let mut session = lock(&self.session);
        let s = session.as_mut().ok_or_else(UiError::signed_out)?;
        self.host
            .secrets()
            .set(&station_key(&s.base), device_token)
            .map_err(|e| UiError::new("keyring", e))?;
        s.station = true;
        drop(session);
        self.bump();
        Ok(())
    }
}
