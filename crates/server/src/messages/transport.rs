//! The ways out: email through an SMTP relay, text messages through an HTTP webhook.
//!
//! Every message carries its queue id, as the email's `Message-ID` and as the webhook's
//! `Idempotency-Key`, so a relay or SMS gateway can drop a repeat in the one case the queue
//! cannot rule out: the server dying after the relay took the message but before the queue
//! recorded it as sent.

use crate::store::Delivery;
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

/// Why a send did not go through.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Worth trying again later (the relay is down, a timeout, a 5xx).
    #[error("{0}")]
    Temporary(String),
    /// Trying again will not help (a refused address, a 4xx from the webhook).
    #[error("{0}")]
    Permanent(String),
}

/// How long one send may take.
const SEND_TIMEOUT: Duration = Duration::from_secs(20);

/// An SMTP relay, e.g. `smtp://127.0.0.1:25` (plain), `smtp://relay:587?tls=required`
/// (STARTTLS) or `smtps://user:pass@relay:465`.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").field("from", &self.from).finish()
    }
}

impl Mailer {
    pub fn new(url: &str, from: &str) -> Result<Self, String> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| format!("SMTP relay {url:?}: {e}"))?
            .timeout(Some(SEND_TIMEOUT))
            .build();
        let from = from
            .parse()
            .map_err(|e| format!("sender address {from:?}: {e}"))?;
        Ok(Self { transport, from })
    }

    pub async fn send(&self, m: &Delivery) -> Result<(), SendError> {
        let to: Mailbox =
            m.to.parse()
                .map_err(|e| SendError::Permanent(format!("bad address {:?}: {e}", m.to)))?;
        // Delivery is at least once, not exactly once: if the server dies after the relay took
        // the message but before the queue recorded it as sent, the restart sends it again. The
        // Message-ID is made from the queue id only, so that second copy carries the same one
        // as the first and a receiver that drops repeated Message-IDs shows it once; one that
        // does not will show it twice (tested in tests/crash.rs).
        let domain = self.from.email.domain().to_owned();
        let email = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(m.subject.clone())
            .message_id(Some(format!("<frontdesk-{}@{domain}>", m.id)))
            .header(ContentType::TEXT_PLAIN)
            .body(m.body.clone())
            .map_err(|e| SendError::Permanent(format!("cannot build the email: {e}")))?;
        match self.transport.send(email).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => Err(SendError::Permanent(e.to_string())),
            Err(e) => Err(SendError::Temporary(e.to_string())),
        }
    }
}

/// An SMS gateway behind an HTTP webhook: each text is a POST of
/// `{"id": …, "to": "+61…", "body": "…"}` with an `Idempotency-Key` header. A 2xx answer
/// means sent; 429 and 5xx are tried again later; other 4xx are final.
#[derive(Clone, Debug)]
pub struct SmsHook {
    url: String,
    client: reqwest::Client,
}

impl SmsHook {
    pub fn new(url: &str) -> Result<Self, String> {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(format!("SMS webhook {url:?}: give an http(s) address"));
        }
        let client = reqwest::Client::builder()
            .timeout(SEND_TIMEOUT)
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self {
            url: url.to_owned(),
            client,
        })
    }

    pub async fn send(&self, m: &Delivery) -> Result<(), SendError> {
        let res = self
            .client
            .post(&self.url)
            // The same on every try of this message, a resend after a crash included (see
            // `Mailer::send`): a gateway that honours it sends the text once.
            .header("Idempotency-Key", format!("frontdesk-{}", m.id))
            .json(&serde_json::json!({"id": m.id, "to": m.to, "body": m.body}))
            .send()
            .await
            .map_err(|e| SendError::Temporary(e.to_string()))?;
        let status = res.status();
        if status.is_success() {
            Ok(())
        } else if status.as_u16() == 429 || status.is_server_error() {
            Err(SendError::Temporary(format!(
                "the SMS gateway answered {status}"
            )))
        } else {
            Err(SendError::Permanent(format!(
                "the SMS gateway answered {status}"
            )))
        }
    }
}

/// What this server can send with.
#[derive(Clone, Debug, Default)]
pub struct Transports {
    pub email: Option<Mailer>,
    pub sms: Option<SmsHook>,
}
