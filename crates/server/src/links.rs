//! A patient's link and what stands in for it once opened. The link in a text or an email
//! carries the patient token; the first visit to it trades the token for a cookie and sends the
//! browser on to an address without it, so the token is not left in the browser's history, a
//! proxy's log or the address bar a patient shares. Also: how long a link keeps working, and the
//! proof that a retried arrival comes from the client that made the first one.

use crate::auth::derived_token;
use crate::state::{AppState, Settings};
use axum::http::{HeaderMap, HeaderValue, header};
use frontdesk_api::{Clinic, Opened};
use frontdesk_domain::{RoomId, Span, Timestamp, Visit};

/// The cookie holding the patient token of the waiting screen this browser opened.
pub const PATIENT_COOKIE: &str = "fd_patient";

/// The cookie proving "I made this arrival" (see [`arrival_proof`]).
pub const ARRIVAL_COOKIE: &str = "fd_arrival";

/// The waiting screen's address once the link's token is in the cookie.
pub const WAITING_SCREEN: &str = "/wait";

/// How long a patient's or guest's link keeps working after its visit ended (any terminal
/// status), by the server's clock: long enough to read the last word on the waiting screen
/// again, short enough that an old link in a text message or a browser's history no longer
/// opens anyone's visit.
pub const LINK_LIFETIME_AFTER_END: Span = Span::from_secs(24 * 3600);

/// The secret links are derived from, given to the server from outside its database (an
/// environment variable or a key file), so a copy of the database alone cannot make links.
/// Its `Debug` shows nothing of it.
#[derive(Clone)]
pub struct LinkSecret([u8; 32]);

impl std::fmt::Debug for LinkSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkSecret(..)")
    }
}

const LINK_SECRET: (&str, &[u8]) = ("link secret", b"frontdesk link secret\0");

impl LinkSecret {
    /// From text of at least 32 characters (`openssl rand -hex 32` makes one); surrounding
    /// whitespace, such as a key file's last newline, is not part of it.
    pub fn from_text(text: &str) -> Result<Self, String> {
        crate::auth::secrets::key_from_text(LINK_SECRET.0, LINK_SECRET.1, text).map(Self)
    }

    /// From a key file holding the secret as text.
    pub fn from_file(path: &std::path::Path) -> Result<Self, String> {
        crate::auth::secrets::key_from_file(LINK_SECRET.0, LINK_SECRET.1, path).map(Self)
    }

    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// Whether a link no longer opens its visit at `now`: an open visit's after the clinic's
/// `open_link_hours`, or the server's `open_link_lifetime` when the clinic sets none.
pub fn link_expired(
    visit: &Visit,
    clinic: Option<&Clinic>,
    now: Timestamp,
    settings: &Settings,
) -> bool {
    if visit.status.is_terminal() {
        return visit.updated_at + LINK_LIFETIME_AFTER_END <= now;
    }
    // An open visit's link lasts a working day from when it could first be used: when the visit
    // opened, or for a session booked ahead, when the session starts.
    let from = visit
        .booking
        .as_ref()
        .map_or(visit.created_at, |b| b.starts_at.max(visit.created_at));
    let lifetime = match clinic.and_then(|c| c.open_link_hours) {
        Some(hours) => Span::from_secs(i64::from(hours) * 3600),
        None => Span::from_millis(settings.open_link_lifetime.as_millis() as i64),
    };
    from + lifetime <= now
}

/// Cookies are marked `Secure` when patients reach the server over https (its public URL, as
/// a TLS proxy in front of it serves it).
pub fn secure_cookies(settings: &Settings) -> bool {
    settings.public_url.as_deref().is_some_and(|u| {
        u.get(..8)
            .is_some_and(|s| s.eq_ignore_ascii_case("https://"))
    })
}

/// A `Set-Cookie` value only this site's own pages send back, and no script reads.
pub fn set_cookie(settings: &Settings, name: &str, value: &str) -> HeaderValue {
    let secure = if secure_cookies(settings) {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Strict{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("fd_invalid=; Max-Age=0"))
}

/// The value of cookie `name` in the request, if sent.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"'))
}

/// What the client that made an arrival holds and no one else does: made from the server's
/// secret, the room and the arrival's idempotency key. Someone who knows the key, the name and
/// the phone can replay the arrival, but without this they do not get the patient's token.
pub fn arrival_proof(secret: &[u8; 32], room: RoomId, key: &str) -> String {
    derived_token(secret, "fda_", &["arrival-proof", &room.to_string(), key])
}

/// Whether the request carries the proof for the arrival keyed `key` in `room`.
pub fn holds_arrival_proof(state: &AppState, headers: &HeaderMap, room: RoomId, key: &str) -> bool {
    let expected = arrival_proof(&state.store.secret(), room, key);
    cookie(headers, ARRIVAL_COOKIE).is_some_and(|given| {
        // Compare as hashes so the time taken says nothing about how much of the proof matched.
        crate::auth::token_hash(given) == crate::auth::token_hash(&expected)
    })
}

/// A replayed arrival keeps the patient token only for the client that made the arrival.
pub fn withhold_token_from_strangers(
    state: &AppState,
    headers: &HeaderMap,
    room: RoomId,
    key: Option<&str>,
    opened: &mut Opened,
) {
    let ours = key.is_some_and(|k| holds_arrival_proof(state, headers, room, k));
    if opened.replayed && !ours {
        opened.patient_token = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_read_by_name_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; fd_patient=fdp_abc; fd_arrival=\"fda_x\""),
        );
        assert_eq!(cookie(&h, PATIENT_COOKIE), Some("fdp_abc"));
        assert_eq!(cookie(&h, ARRIVAL_COOKIE), Some("fda_x"));
        assert_eq!(cookie(&h, "fd"), None);
    }

    #[test]
    fn a_link_secret_is_long_and_never_shown() {
        assert!(LinkSecret::from_text("short").is_err());
        let a = LinkSecret::from_text(&"k".repeat(40)).unwrap();
        let b = LinkSecret::from_text(&format!("{}\n", "k".repeat(40))).unwrap();
        assert_eq!(a.bytes(), b.bytes());
        assert_eq!(format!("{a:?}"), "LinkSecret(..)");
    }

    #[test]
    fn cookies_are_secure_behind_https_only() {
        let mut s = Settings::new("unused.db");
        let value = |s: &Settings| set_cookie(s, PATIENT_COOKIE, "fdp_x");
        assert_eq!(
            value(&s),
            "fd_patient=fdp_x; Path=/; HttpOnly; SameSite=Strict"
        );
        s.public_url = Some("HTTPS://clinic.example".into());
        assert!(value(&s).to_str().unwrap().ends_with("; Secure"));
    }
}
