//! Calling the clinic API the way the console and the patient pages do, for tests that check
//! the wire itself: a request in, an [`Answer`] (status, JSON body, replay flag) out. Also the
//! demo clinic's sign-ins, and the two calls a test makes against a server it did not start
//! in-process (a `frontdesk-server` child process).

use crate::server::TestServer;
use frontdesk_server::demo::DEMO_SLUG;
use frontdesk_server::model::RoomInfo;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A sign-in: (email, password).
pub type Login<'a> = (&'a str, &'a str);

/// The demo clinic's receptionist, Rita.
pub const RECEPTION: Login<'static> = ("reception@demo.clinic", "demo-reception");
/// Dr. Priya Shah, a provider.
pub const PRIYA: Login<'static> = ("priya@demo.clinic", "demo-provider");
/// Dr. Omar Haddad, a provider.
pub const OMAR: Login<'static> = ("omar@demo.clinic", "demo-provider");
/// The demo clinic's admin.
pub const ADMIN: Login<'static> = ("admin@demo.clinic", "demo-admin");
/// The demo clinic's scheduler.
pub const SCHEDULER: Login<'static> = ("scheduler@demo.clinic", "demo-scheduler");

/// What the server answered: status and JSON body (`Null` if empty, a JSON string if the
/// body is not JSON).
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
    /// The answer is a replay of an earlier request with the same idempotency key.
    pub replayed: bool,
}

impl Answer {
    /// The error body's `code` ("" if none).
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }

    /// The version of the visit in the answer.
    pub fn version(&self) -> u64 {
        self.body["visit"]["version"]
            .as_u64()
            .expect("a visit in the answer")
    }

    /// The status of the visit in the answer ("" if none).
    pub fn status_of_visit(&self) -> &str {
        self.body["visit"]["status"].as_str().unwrap_or("")
    }
}

impl TestServer {
    /// Any request: `token` as the bearer, `headers` added, `body` as JSON.
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
        let res = req.send().await.expect("the request reaches the server");
        let status = res.status();
        let replayed = res.headers().contains_key("idempotent-replayed");
        let text = res.text().await.expect("the answer's body");
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

    /// A staff member's GET.
    pub async fn get(&self, path: &str, token: &str) -> Answer {
        self.send(Method::GET, path, Some(token), None, &[]).await
    }

    /// A patient's request, made with their patient token.
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

    /// An admin's change to a member of staff (`PUT /v1/staff/{id}`).
    pub async fn edit_staff(&self, token: &str, id: &str, change: Value) -> Answer {
        let path = format!("/v1/staff/{id}");
        self.send(Method::PUT, &path, Some(token), Some(change), &[])
            .await
    }

    /// Signs in to the demo clinic (as a demo account, or staff a test added); gives the
    /// bearer token.
    pub async fn sign_in(&self, (email, password): Login<'_>) -> String {
        self.sign_in_at(DEMO_SLUG, email, password).await
    }

    /// Signs in to any clinic on this server; gives the bearer token.
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
        a.body["token"].as_str().expect("a token").to_owned()
    }

    /// A visit as staff see it.
    pub async fn visit(&self, token: &str, id: &str) -> Value {
        let a = self.get(&format!("/v1/visits/{id}"), token).await;
        assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
        a.body
    }

    /// The clinic's latest event sequence number, as `token` sees it.
    pub async fn last_seq(&self, token: &str) -> u64 {
        self.get("/v1/snapshot", token).await.body["seq"]
            .as_u64()
            .expect("a seq in the snapshot")
    }

    /// The id of the demo clinic's room called `name`.
    pub fn room_id(&self, name: &str) -> String {
        self.room(name).id.to_string()
    }

    /// The demo clinic's room called `name` (Reception is one of them).
    pub fn room(&self, name: &str) -> &RoomInfo {
        self.demo()
            .rooms
            .iter()
            .find(|r| r.name == name)
            .unwrap_or_else(|| panic!("no room {name}"))
    }

    /// The id of the demo clinic's member of staff with this email.
    pub fn staff_id(&self, email: &str) -> String {
        self.demo()
            .staff_by_email(email)
            .unwrap_or_else(|| panic!("no staff {email}"))
            .id
            .to_string()
    }
}

/// The password of the desks made by [`TestServer::add_desks`].
pub const DESK_PASSWORD: &str = "desk-password";

impl TestServer {
    /// Adds `count` receptionists to the demo clinic (`Desk 0` at `desk0@demo.clinic`, …, all
    /// with [`DESK_PASSWORD`], each looking over every room as a front desk does); gives their
    /// emails.
    pub async fn add_desks(&self, count: usize) -> Vec<String> {
        let mut emails = Vec::with_capacity(count);
        for i in 0..count {
            let email = format!("desk{i}@demo.clinic");
            frontdesk_server::admin::create_staff(
                self.server().store(),
                self.demo().clinic.id,
                frontdesk_server::admin::NewStaff {
                    name: format!("Desk {i}"),
                    email: email.clone(),
                    roles: vec![frontdesk_domain::Role::Receptionist],
                    password: DESK_PASSWORD.into(),
                    pin: None,
                    rooms: vec![],
                    all_rooms: true,
                    availability: None,
                    phone: None,
                },
                frontdesk_server::HashCost::Fast,
                self.server().state.now(),
            )
            .await
            .expect("the desk is added");
            emails.push(email);
        }
        emails
    }

    /// Adds a second clinic (`other`, with one room) beside the demo clinic, with an admin who
    /// also books sessions; gives that admin's token. For tests that one clinic's staff find
    /// nothing of another's.
    pub async fn another_clinic_admin(&self) -> String {
        use frontdesk_server::admin;
        let (store, now) = (self.server().store(), self.server().state.now());
        let clinic = admin::create_clinic(store, "other", "Other Clinic")
            .await
            .expect("the clinic is added");
        let room = admin::NewRoom {
            name: "Front desk".into(),
            ..admin::NewRoom::default()
        };
        let room = admin::create_room(store, clinic.id, room, now)
            .await
            .expect("the room is added");
        let olga = admin::NewStaff {
            name: "Olga Other".into(),
            email: "olga@other.clinic".into(),
            roles: vec![
                frontdesk_domain::Role::Admin,
                frontdesk_domain::Role::Scheduler,
            ],
            password: "other-password".into(),
            pin: None,
            rooms: vec![room.id],
            all_rooms: false,
            availability: None,
            phone: None,
        };
        admin::create_staff(
            store,
            clinic.id,
            olga,
            frontdesk_server::HashCost::Fast,
            now,
        )
        .await
        .expect("the admin is added");
        self.sign_in_at("other", "olga@other.clinic", "other-password")
            .await
    }

    /// The WebSocket upgrade request for the clinic's stream after `after`, the token in the
    /// `Authorization` header.
    pub fn stream_request(
        &self,
        token: &str,
        after: u64,
    ) -> tokio_tungstenite::tungstenite::handshake::client::Request {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let base = self.base_url().replace("http://", "ws://");
        let mut req = format!("{base}/v1/stream?after={after}")
            .into_client_request()
            .expect("a stream URL");
        req.headers_mut().insert(
            "authorization",
            format!("Bearer {token}").parse().expect("a header value"),
        );
        req
    }
}

/// GETs `url` with a bearer token and reads the JSON answer.
pub async fn get_json(http: &reqwest::Client, url: &str, token: &str) -> Value {
    http.get(url)
        .bearer_auth(token)
        .send()
        .await
        .expect("the request reaches the server")
        .json()
        .await
        .expect("a JSON answer")
}

/// Signs in to a server at `url` (one not started in this process) and gives the token.
pub async fn sign_in_to(
    http: &reqwest::Client,
    url: &str,
    clinic: &str,
    email: &str,
    password: &str,
) -> String {
    let res: Value = http
        .post(format!("{url}/v1/auth/sign-in"))
        .json(&json!({"clinic": clinic, "email": email, "password": password}))
        .send()
        .await
        .expect("the request reaches the server")
        .json()
        .await
        .expect("a JSON answer");
    res["token"]
        .as_str()
        .unwrap_or_else(|| panic!("sign-in as {email} failed: {res}"))
        .to_owned()
}
