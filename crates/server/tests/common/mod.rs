//! The test rig: a real server on 127.0.0.1:0 with a fresh SQLite file, the demo clinic seeded
//! into it, and a small HTTP client that speaks the API the way the console does.
#![allow(dead_code, unreachable_pub)]

use frontdesk_server::demo::{self, DemoClinic};
use frontdesk_server::{HashCost, RunningServer, Settings};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::Once;
use tempfile::TempDir;

pub const RECEPTION: (&str, &str) = ("reception@demo.clinic", "demo-reception");
pub const PRIYA: (&str, &str) = ("priya@demo.clinic", "demo-provider");
pub const OMAR: (&str, &str) = ("omar@demo.clinic", "demo-provider");
pub const ADMIN: (&str, &str) = ("admin@demo.clinic", "demo-admin");
pub const SCHEDULER: (&str, &str) = ("scheduler@demo.clinic", "demo-scheduler");

pub mod sinks;

/// Starts the real server binary (`bin`) serving `db` on a free port, with `extra` arguments,
/// and reads the address it bound.
pub fn serve_binary(
    bin: &str,
    db: &std::path::Path,
    extra: &[&str],
) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(bin)
        .args(["serve", "--db"])
        .arg(db)
        .args(["--listen", "127.0.0.1:0"])
        .args(extra)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    (child, url)
}

/// GETs `url` with a bearer token and reads the JSON answer.
pub async fn get_json(http: &reqwest::Client, url: &str, token: &str) -> Value {
    http.get(url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Signs in to a server at `url` (not necessarily a [`TestApp`]) and gives the bearer token.
pub async fn sign_in_to(
    http: &reqwest::Client,
    url: &str,
    clinic: &str,
    email: &str,
    password: &str,
) -> String {
    let res: Value = http
        .post(format!("{url}/v1/auth/sign-in"))
        .json(&serde_json::json!({"clinic": clinic, "email": email, "password": password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    res["token"]
        .as_str()
        .unwrap_or_else(|| panic!("sign-in as {email} failed: {res}"))
        .to_owned()
}

/// Polls `check` every 50 ms until it gives a value, for at most `secs` seconds.
pub async fn eventually<T, F, Fut>(secs: u64, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let until = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            std::time::Instant::now() < until,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

pub fn init_tracing() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            tracing_subscriber::fmt()
                .with_env_filter(std::env::var("TEST_LOG").unwrap_or_else(|_| "info".into()))
                .with_test_writer()
                .init();
        }
    });
}

pub fn test_settings(dir: &TempDir) -> Settings {
    let mut s = Settings::new(dir.path().join("frontdesk.db"));
    s.hash_cost = HashCost::Fast;
    s
}

pub struct TestApp {
    pub server: RunningServer,
    pub demo: DemoClinic,
    pub http: reqwest::Client,
    pub dir: TempDir,
}

/// An answer: status and JSON body (Null if none).
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
    pub replayed: bool,
}

impl Answer {
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }

    pub fn version(&self) -> u64 {
        self.body["visit"]["version"]
            .as_u64()
            .expect("a visit in the answer")
    }

    pub fn status_of_visit(&self) -> &str {
        self.body["visit"]["status"].as_str().unwrap_or("")
    }
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(tweak: impl FnOnce(&mut Settings)) -> Self {
        init_tracing();
        let dir = tempfile::tempdir().unwrap();
        let mut settings = test_settings(&dir);
        tweak(&mut settings);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = RunningServer::start(settings, listener).await.unwrap();
        let demo = demo::seed_demo_at(server.store(), HashCost::Fast, &server.state.settings.clock)
            .await
            .unwrap();
        Self {
            server,
            demo,
            http: reqwest::Client::new(),
            dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.url())
    }

    pub fn room(&self, name: &str) -> String {
        self.demo
            .rooms
            .iter()
            .find(|r| r.name == name)
            .unwrap_or_else(|| panic!("no room {name}"))
            .id
            .to_string()
    }

    pub fn staff_id(&self, email: &str) -> String {
        self.demo.staff_by_email(email).unwrap().id.to_string()
    }

    pub async fn sign_in(&self, (email, password): (&str, &str)) -> String {
        self.sign_in_at("demo", email, password).await
    }

    pub async fn sign_in_at(&self, clinic: &str, email: &str, password: &str) -> String {
        let a = self
            .send(
                Method::POST,
                "/v1/auth/sign-in",
                None,
                Some(json!({"clinic": clinic, "email": email, "password": password})),
                &[],
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "sign-in failed: {:?}", a.body);
        a.body["token"].as_str().unwrap().to_owned()
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut req = self.http.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let replayed = res.headers().contains_key("idempotent-replayed");
        let text = res.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Answer {
            status,
            body,
            replayed,
        }
    }

    /// An admin's change to a member of staff (`PUT /v1/staff/{id}`).
    pub async fn edit_staff(&self, token: &str, id: &str, change: Value) -> Answer {
        let path = format!("/v1/staff/{id}");
        self.send(Method::PUT, &path, Some(token), Some(change), &[])
            .await
    }

    pub async fn get(&self, path: &str, token: &str) -> Answer {
        self.send(Method::GET, path, Some(token), None, &[]).await
    }

    /// A staff command on a visit, at the version the caller saw.
    pub async fn command(
        &self,
        token: &str,
        visit: &str,
        op: &str,
        version: u64,
        body: Option<Value>,
    ) -> Answer {
        let v = version.to_string();
        self.send(
            Method::POST,
            &format!("/v1/visits/{visit}/{op}"),
            Some(token),
            body,
            &[("if-match", &v)],
        )
        .await
    }

    /// A patient comes through a room's front door. Returns (visit id, patient token, version).
    pub async fn arrive(&self, room: &str, name: &str) -> (String, String, u64) {
        let a = self
            .send(
                Method::POST,
                &format!("/v1/join/demo/{room}"),
                None,
                Some(json!({"name": name, "phone": "+61 400 000 000"})),
                &[],
            )
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
        (
            a.body["visit"]["id"].as_str().unwrap().to_owned(),
            a.body["patient_token"].as_str().unwrap().to_owned(),
            a.version(),
        )
    }

    /// A patient arrives at Reception and finishes the intake: waiting, ready to be seen.
    pub async fn waiting_patient(&self, name: &str) -> (String, String, u64) {
        let (id, token, _) = self.arrive(&self.room("Reception"), name).await;
        let a = self
            .patient(
                &token,
                Method::PUT,
                "/v1/patient/visit/intake",
                Some(json!({"answers": {"Reason for visit": "Sore throat"}})),
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
        let a = self
            .patient(
                &token,
                Method::POST,
                "/v1/patient/visit/finish-intake",
                None,
            )
            .await;
        assert_eq!(a.body["status"], "waiting");
        let version = a.body["version"].as_u64().unwrap();
        (id, token, version)
    }

    pub async fn patient(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Answer {
        self.send(method, path, None, body, &[("x-patient-token", token)])
            .await
    }

    pub async fn visit(&self, token: &str, id: &str) -> Value {
        let a = self.get(&format!("/v1/visits/{id}"), token).await;
        assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
        a.body
    }

    pub async fn last_seq(&self, token: &str) -> u64 {
        self.get("/v1/snapshot", token).await.body["seq"]
            .as_u64()
            .unwrap()
    }
}
