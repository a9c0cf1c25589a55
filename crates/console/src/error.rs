//! The console's one error type: what the UI shows when something is refused or fails.

use frontdesk_client::ClientError;
use serde::Serialize;

/// An error as the UI shows it: a stable code it can switch on, and a sentence for the person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct UiError {
    pub code: String,
    pub message: String,
    /// The field of the form the message is about, when the server named one (`name`,
    /// `office_hours`, `password`, ...): the UI shows the message beside it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub field: Option<String>,
}

impl UiError {
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        UiError {
            code: code.into(),
            message: message.into(),
            field: None,
        }
    }

    /// Sign in first: there is no session to act in.
    pub(crate) fn signed_out() -> Self {
        UiError::new("unauthorized", "Sign in first.")
    }
}

impl From<ClientError> for UiError {
    fn from(e: ClientError) -> Self {
        let message = match &e {
            ClientError::Network(_) => {
                "Cannot reach the clinic server. Check the address and the network.".to_string()
            }
            _ => e.to_string(),
        };
        UiError {
            field: e.field(),
            ..UiError::new(e.code(), message)
        }
    }
}
