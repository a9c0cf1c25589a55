//! The engine's one error type. Each failure says whether trying again later can help, which is
//! what the outbox and the stream need to know.

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server could not be reached, or the connection broke: try again later.
    #[error("cannot reach the clinic server: {0}")]
    Network(String),
    /// The server answered with an error body.
    #[error("{message}")]
    Api {
        status: u16,
        code: String,
        message: String,
        /// Set on a 409: who holds the patient, and the visit as it stands.
        held_by: Option<Vec<frontdesk_api::StaffRef>>,
        visit: Option<Box<frontdesk_domain::Visit>>,
    },
    /// No token, or the server no longer accepts it: sign in again.
    #[error("signed out: sign in again")]
    SignedOut,
    #[error("local cache: {0}")]
    Store(#[from] rusqlite::Error),
    #[error("unexpected data: {0}")]
    Corrupt(String),
    /// The cache was sealed with another key (the keyring lost it, or the file came from
    /// elsewhere): nothing in it can be read, so it is to be deleted and fetched again.
    #[error("the local cache cannot be opened with this computer's key")]
    CacheKey,
    /// The server address would carry patient data unencrypted, or is not an address.
    #[error("{0}")]
    InsecureServer(String),
}

impl ClientError {
    /// Whether the same request may succeed later without anyone changing it.
    pub fn is_retryable(&self) -> bool {
        match self {
            ClientError::Network(_) => true,
            ClientError::Api { status, .. } => *status >= 500 || *status == 429 || *status == 408,
            ClientError::SignedOut => true,
            ClientError::Store(_)
            | ClientError::Corrupt(_)
            | ClientError::CacheKey
            | ClientError::InsecureServer(_) => false,
        }
    }

    /// The field of the request a refusal is about, when the server named one (a 422 whose
    /// message reads "field: what is wrong").
    pub fn field(&self) -> Option<String> {
        match self {
            ClientError::Api {
                status: 422,
                message,
                ..
            } => frontdesk_api::ErrorBody::field_of(message),
            _ => None,
        }
    }

    /// A stable code for the UI.
    pub fn code(&self) -> &str {
        match self {
            ClientError::Network(_) => "unreachable",
            ClientError::Api { code, .. } => code,
            ClientError::SignedOut => "unauthorized",
            ClientError::Store(_) => "cache",
            ClientError::Corrupt(_) => "corrupt",
            ClientError::CacheKey => "cache_key",
            ClientError::InsecureServer(_) => "insecure_server",
        }
    }
}

impl From<reqwest::Error> for ClientError {
    fn from(e: reqwest::Error) -> Self {
        if e.is_decode() {
            ClientError::Corrupt(e.to_string())
        } else {
            ClientError::Network(e.to_string())
        }
    }
}
