//! What can go wrong talking to a WebDriver server, and the W3C error codes tests branch on.

use std::fmt;

/// What can go wrong talking to the WebDriver server.
#[derive(Debug)]
pub enum WebDriverError {
    /// The HTTP request itself failed (connection refused, timeout, bad body).
    Http(reqwest::Error),
    /// The remote end answered with a W3C error (`no such element`, `session not created`, ...).
    Command {
        /// HTTP status.
        status: u16,
        /// W3C error code, e.g. `no such element`.
        error: String,
        message: String,
    },
    /// The remote end answered something that is not W3C WebDriver.
    Protocol(String),
    /// A `wait_*` helper gave up.
    Timeout(String),
    Io(std::io::Error),
}

impl WebDriverError {
    /// True for the W3C `no such element` error.
    pub fn is_no_such_element(&self) -> bool {
        self.is_w3c("no such element")
    }

    /// True for `stale element reference` (the element left the DOM). Chromium says the same
    /// thing as an "unknown error" when the page was replaced between finding an element and
    /// using it (a form that redirects, a page that reloads itself).
    pub fn is_stale(&self) -> bool {
        self.is_w3c("stale element reference")
            || matches!(self, WebDriverError::Command { message, .. }
                if message.contains("does not belong to the document"))
    }

    /// True for `no such alert` (no `alert()`, `confirm()` or `prompt()` is open).
    pub fn is_no_such_alert(&self) -> bool {
        self.is_w3c("no such alert")
    }

    fn is_w3c(&self, code: &str) -> bool {
        matches!(self, WebDriverError::Command { error, .. } if error == code)
    }
}

impl fmt::Display for WebDriverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WebDriverError::Http(e) => write!(f, "webdriver http: {e}"),
            WebDriverError::Command {
                status,
                error,
                message,
            } => write!(f, "webdriver {status} {error}: {message}"),
            WebDriverError::Protocol(m) => write!(f, "webdriver protocol: {m}"),
            WebDriverError::Timeout(m) => write!(f, "timed out waiting for {m}"),
            WebDriverError::Io(e) => write!(f, "io: {e}"),
        }
    }
}

impl std::error::Error for WebDriverError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            WebDriverError::Http(e) => Some(e),
            WebDriverError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<reqwest::Error> for WebDriverError {
    fn from(e: reqwest::Error) -> Self {
        WebDriverError::Http(e)
    }
}

impl From<std::io::Error> for WebDriverError {
    fn from(e: std::io::Error) -> Self {
        WebDriverError::Io(e)
    }
}

/// A WebDriver call's result.
pub type Result<T, E = WebDriverError> = std::result::Result<T, E>;
