//! Real receivers for what the server sends: an SMTP server and an SMS webhook, both on
//! loopback, recording every message that reached them in full. Only the server's own suites
//! send mail and texts, so this stays with them rather than in the shared test kit.
// Each test binary that includes this module uses only part of it.
#![allow(dead_code, unreachable_pub)]

use serde_json::Value;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One email as the SMTP server received it.
#[derive(Clone, Debug)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    /// The message as sent (headers and body), dot-unstuffed.
    pub data: String,
}

impl Mail {
    pub fn header(&self, name: &str) -> Option<String> {
        let prefix = format!("{}:", name.to_ascii_lowercase());
        self.data
            .lines()
            .take_while(|l| !l.is_empty())
            .find(|l| l.to_ascii_lowercase().starts_with(&prefix))
            .map(|l| l[prefix.len()..].trim().to_owned())
    }

    pub fn subject(&self) -> String {
        self.header("Subject").unwrap_or_default()
    }

    /// The body, with quoted-printable soft line breaks joined.
    pub fn body(&self) -> String {
        let body = self.data.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        body.replace("=\r\n", "").replace("=3D", "=")
    }
}

/// How the SMTP server behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum SmtpMode {
    Accept = 0,
    /// Answers every MAIL FROM with 451 (try again later).
    TryLater = 1,
    /// Takes the connection and says nothing: a client waits, mid-send.
    Stall = 2,
    /// Takes each message in full (it is recorded) and then never answers: the relay has it,
    /// the client never hears so.
    TakeThenHang = 3,
}

#[derive(Clone)]
pub struct SmtpSink {
    pub port: u16,
    pub mail: Arc<Mutex<Vec<Mail>>>,
    mode: Arc<AtomicU8>,
}

impl SmtpSink {
    pub async fn start(mode: SmtpMode) -> Self {
        Self::start_on(0, mode).await
    }

    /// On a given port (0: any), to come back where a server expects its relay.
    pub async fn start_on(port: u16, mode: SmtpMode) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        let sink = SmtpSink {
            port: listener.local_addr().unwrap().port(),
            mail: Arc::default(),
            mode: Arc::new(AtomicU8::new(mode as u8)),
        };
        let s = sink.clone();
        tokio::spawn(async move {
            while let Ok((conn, _)) = listener.accept().await {
                let s = s.clone();
                tokio::spawn(async move {
                    let _ = s.session(conn).await;
                });
            }
        });
        sink
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn set_mode(&self, mode: SmtpMode) {
        self.mode.store(mode as u8, Ordering::SeqCst);
    }

    fn mode(&self) -> u8 {
        self.mode.load(Ordering::SeqCst)
    }

    pub fn received(&self) -> Vec<Mail> {
        self.mail.lock().unwrap().clone()
    }

    /// Mail to `to` whose subject contains `subject`.
    pub fn to(&self, to: &str, subject: &str) -> Vec<Mail> {
        self.received()
            .into_iter()
            .filter(|m| m.to.iter().any(|t| t == to) && m.subject().contains(subject))
            .collect()
    }

    async fn session(&self, conn: tokio::net::TcpStream) -> std::io::Result<()> {
        if self.mode() == SmtpMode::Stall as u8 {
            // Hold the connection open without a word until the client gives up or dies.
            let mut r = BufReader::new(conn);
            let mut line = String::new();
            while r.read_line(&mut line).await? > 0 {
                line.clear();
            }
            return Ok(());
        }
        let (r, mut w) = conn.into_split();
        let mut r = BufReader::new(r);
        w.write_all(b"220 sink.test ESMTP\r\n").await?;
        let (mut from, mut to) = (String::new(), Vec::new());
        let mut line = String::new();
        loop {
            line.clear();
            if r.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            let upper = line.to_ascii_uppercase();
            let arg = |l: &str| {
                l.split_once(':')
                    .map(|(_, a)| a.trim().trim_matches(['<', '>']).to_owned())
                    .unwrap_or_default()
            };
            let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                b"250-sink.test\r\n250 8BITMIME\r\n"
            } else if upper.starts_with("MAIL FROM") {
                if self.mode() == SmtpMode::TryLater as u8 {
                    b"451 4.3.0 try again later\r\n"
                } else {
                    from = arg(&line);
                    to.clear();
                    b"250 OK\r\n"
                }
            } else if upper.starts_with("RCPT TO") {
                to.push(arg(&line));
                b"250 OK\r\n"
            } else if upper.starts_with("DATA") {
                w.write_all(b"354 go ahead\r\n").await?;
                let mut data = String::new();
                loop {
                    line.clear();
                    if r.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" {
                        break;
                    }
                    data.push_str(line.strip_prefix('.').unwrap_or(&line));
                }
                self.mail.lock().unwrap().push(Mail {
                    from: from.clone(),
                    to: to.clone(),
                    data,
                });
                if self.mode() == SmtpMode::TakeThenHang as u8 {
                    while r.read_line(&mut line).await? > 0 {
                        line.clear();
                    }
                    return Ok(());
                }
                b"250 OK queued\r\n"
            } else if upper.starts_with("QUIT") {
                w.write_all(b"221 bye\r\n").await?;
                return Ok(());
            } else if upper.starts_with("RSET") || upper.starts_with("NOOP") {
                b"250 OK\r\n"
            } else {
                b"502 not here\r\n"
            };
            w.write_all(reply).await?;
        }
    }
}

/// One text as the SMS webhook received it.
#[derive(Clone, Debug)]
pub struct Text {
    pub to: String,
    pub body: String,
    pub idempotency_key: String,
}

#[derive(Clone)]
pub struct SmsSink {
    pub url: String,
    pub texts: Arc<Mutex<Vec<Text>>>,
    failing: Arc<AtomicU8>,
}

impl SmsSink {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/sms", listener.local_addr().unwrap());
        let texts: Arc<Mutex<Vec<Text>>> = Arc::default();
        let failing = Arc::new(AtomicU8::new(0));
        let (t, f) = (texts.clone(), failing.clone());
        let app = axum::Router::new().route(
            "/sms",
            axum::routing::post(
                move |headers: axum::http::HeaderMap, body: axum::Json<Value>| {
                    let (t, f) = (t.clone(), f.clone());
                    async move {
                        let mode = f.load(Ordering::SeqCst);
                        if mode == 1 {
                            return axum::http::StatusCode::SERVICE_UNAVAILABLE;
                        }
                        t.lock().unwrap().push(Text {
                            to: body["to"].as_str().unwrap_or_default().to_owned(),
                            body: body["body"].as_str().unwrap_or_default().to_owned(),
                            idempotency_key: headers
                                .get("idempotency-key")
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or_default()
                                .to_owned(),
                        });
                        if mode == 2 {
                            // Taken, but the answer never comes.
                            std::future::pending::<()>().await;
                        }
                        axum::http::StatusCode::ACCEPTED
                    }
                },
            ),
        );
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        SmsSink {
            url,
            texts,
            failing,
        }
    }

    pub fn set_failing(&self, failing: bool) {
        self.failing.store(u8::from(failing), Ordering::SeqCst);
    }

    /// Each text is taken (recorded) and then never answered; `false` answers normally again.
    pub fn set_take_then_hang(&self, hang: bool) {
        self.failing
            .store(if hang { 2 } else { 0 }, Ordering::SeqCst);
    }

    pub fn received(&self) -> Vec<Text> {
        self.texts.lock().unwrap().clone()
    }

    pub fn to(&self, to: &str, containing: &str) -> Vec<Text> {
        self.received()
            .into_iter()
            .filter(|t| t.to == to && t.body.contains(containing))
            .collect()
    }
}

/// Subscribes a new receptionist, Nina, to Reception's arrivals by email and SMS; gives her
/// session token.
pub async fn nina_hears_of_arrivals(app: &frontdesk_testkit::TestServer) -> String {
    let admin = app.sign_in(frontdesk_testkit::ADMIN).await;
    let reception_room = app.room_id("Reception");
    let nina = app
        .send(
            reqwest::Method::POST,
            "/v1/staff",
            Some(&admin),
            Some(serde_json::json!({
                "name": "Nina Nurse", "email": "nina@demo.clinic", "roles": ["receptionist"],
                "password": "nina-password", "phone": "+61 400 999 888",
                "rooms": [reception_room]
            })),
            &[],
        )
        .await;
    assert_eq!(nina.status, reqwest::StatusCode::CREATED, "{:?}", nina.body);
    let nina = app.sign_in(("nina@demo.clinic", "nina-password")).await;
    let subscribed = app
        .send(
            reqwest::Method::PUT,
            "/v1/me/alerts",
            Some(&nina),
            Some(serde_json::json!([{"room_id": reception_room, "desktop": true, "email": true, "sms": true}])),
            &[],
        )
        .await;
    assert_eq!(
        subscribed.status,
        reqwest::StatusCode::OK,
        "{:?}",
        subscribed.body
    );
    nina
}

/// A demo clinic's server whose email goes to a real SMTP sink and (when asked) whose texts go
/// to a real SMS webhook, with a clock the test moves and a fast background tick.
pub struct Rig {
    pub app: frontdesk_testkit::TestServer,
    pub clock: frontdesk_server::Clock,
    pub smtp: SmtpSink,
    pub sms: SmsSink,
}

pub async fn rig(backend: frontdesk_testkit::Backend, smtp_mode: SmtpMode, with_sms: bool) -> Rig {
    use frontdesk_server::messages::transport::{Mailer, SmsHook};
    let smtp = SmtpSink::start(smtp_mode).await;
    let sms = SmsSink::start().await;
    let clock = frontdesk_server::Clock::system();
    let (c, smtp_url, sms_url) = (clock.clone(), smtp.url(), sms.url.clone());
    let app = frontdesk_testkit::TestServer::builder()
        .on(backend)
        .demo_clinic()
        .settings(move |s| {
            s.clock = c;
            s.background_tick = std::time::Duration::from_millis(50);
            s.transports.email =
                Some(Mailer::new(&smtp_url, "Demo Clinic <desk@demo.clinic>").unwrap());
            if with_sms {
                s.transports.sms = Some(SmsHook::new(&sms_url).unwrap());
            }
        })
        .start()
        .await;
    Rig {
        app,
        clock,
        smtp,
        sms,
    }
}

/// A patient arrives at Reception with `contact` (name included) and the front desk declines
/// them with `note`, which the server then sends them. Gives the visit id.
pub async fn declined_at_reception(
    app: &frontdesk_testkit::TestServer,
    contact: Value,
    note: &str,
) -> String {
    let reception = app.sign_in(frontdesk_testkit::RECEPTION).await;
    let room = app.room_id("Reception");
    let path = format!("/v1/join/demo/{room}");
    let arrived = app
        .send(reqwest::Method::POST, &path, None, Some(contact), &[])
        .await;
    let id = arrived.body["visit"]["id"].as_str().unwrap().to_owned();
    let note = serde_json::json!({ "note": note });
    let declined = app
        .command(&reception, &id, "decline", arrived.version(), Some(note))
        .await;
    assert_eq!(declined.status_of_visit(), "declined");
    id
}
