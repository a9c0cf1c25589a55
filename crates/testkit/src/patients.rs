//! Simulated patients: someone comes through a room's front door over HTTP, as the patient
//! pages and a clinic's own website do, and (for the server's suites) fills in the intake and
//! waits. One way for every suite to make a patient arrive.

use crate::calls::Answer;
use crate::server::TestServer;
use frontdesk_server::demo::DEMO_SLUG;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// The phone number simulated patients give at the front door.
pub const PATIENT_PHONE: &str = "+61 400 000 000";

/// What the front door hands a patient who came in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arrival {
    pub visit_id: String,
    /// The patient's own token (`x-patient-token`, and the waiting screen's link).
    pub patient_token: String,
    /// The new visit's version.
    pub version: u64,
}

/// A patient called `name` comes through the front door of room `room` of clinic `clinic`
/// (its slug) on the server at `base_url`.
pub async fn arrive(
    http: &reqwest::Client,
    base_url: &str,
    clinic: &str,
    room: &str,
    name: &str,
) -> Arrival {
    let res = http
        .post(format!("{base_url}/v1/join/{clinic}/{room}"))
        .json(&json!({"name": name, "phone": PATIENT_PHONE}))
        .send()
        .await
        .expect("the front door answers");
    let status = res.status();
    let body: Value = res.json().await.expect("a JSON answer from the front door");
    assert_eq!(status, StatusCode::CREATED, "{name} arriving: {body}");
    Arrival {
        visit_id: body["visit"]["id"].as_str().expect("a visit id").to_owned(),
        patient_token: body["patient_token"]
            .as_str()
            .expect("a patient token")
            .to_owned(),
        version: body["visit"]["version"].as_u64().expect("a version"),
    }
}

impl TestServer {
    /// A patient comes through the front door of the demo clinic's room `room` (its id).
    /// Returns (visit id, patient token, version).
    pub async fn arrive(&self, room: &str, name: &str) -> (String, String, u64) {
        let a = arrive(&self.http, &self.base_url(), DEMO_SLUG, room, name).await;
        (a.visit_id, a.patient_token, a.version)
    }

    /// The patient saves intake answers (`{"question": "answer", ...}`) from the form.
    pub async fn answer_intake(&self, token: &str, answers: Value) -> Answer {
        let body = json!({ "answers": answers });
        self.patient(token, Method::PUT, "/v1/patient/visit/intake", Some(body))
            .await
    }

    /// The patient says the intake form is done.
    pub async fn finish_intake(&self, token: &str) -> Answer {
        self.patient(token, Method::POST, "/v1/patient/visit/finish-intake", None)
            .await
    }

    /// A patient arrives at Reception and finishes the intake: waiting, ready to be seen.
    /// Returns (visit id, patient token, version).
    pub async fn waiting_patient(&self, name: &str) -> (String, String, u64) {
        let (id, token, _) = self.arrive(&self.room_id("Reception"), name).await;
        let answers = json!({"Reason for visit": "Sore throat"});
        let a = self.answer_intake(&token, answers).await;
        assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
        let a = self.finish_intake(&token).await;
        assert_eq!(a.body["status"], "waiting");
        let version = a.body["version"].as_u64().expect("a version");
        (id, token, version)
    }
}

/// A patient's browser opening their link (as a text or an email carries it,
/// `http://HOST/wait/TOKEN`): the link answers with the patient's cookie and a redirect to
/// the waiting screen, which the browser then opens with that cookie.
#[derive(Debug, Clone)]
pub struct LinkOpened {
    /// `http://HOST`
    pub base_url: String,
    /// The `Cookie` header the browser sends on the waiting screen from now on.
    pub cookie: String,
    /// What the link itself answered (303 when it opened the screen, an error page otherwise).
    pub status: StatusCode,
    /// The waiting screen (or the error page the link answered with).
    pub html: String,
}

/// Opens `link` as a browser would (see [`LinkOpened`]).
pub async fn open_link(link: &str) -> LinkOpened {
    let http = no_redirects();
    let (base_url, _) = link.split_once("/wait/").expect("a patient's link");
    let res = http.get(link).send().await.expect("the link answers");
    let status = res.status();
    let cookie = res
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next())
        .find(|c| c.starts_with("fd_patient="))
        .unwrap_or_default()
        .to_owned();
    let html = if status == StatusCode::SEE_OTHER {
        http.get(format!("{base_url}/wait"))
            .header(reqwest::header::COOKIE, &cookie)
            .send()
            .await
            .expect("the waiting screen answers")
            .text()
            .await
            .expect("the waiting screen")
    } else {
        res.text().await.expect("the link's page")
    };
    LinkOpened {
        base_url: base_url.to_owned(),
        cookie,
        status,
        html,
    }
}

impl LinkOpened {
    /// Presses a button on the waiting screen: posts its form (`/wait/arrive`, `/wait/leave`).
    pub async fn press(&self, action: &str) -> reqwest::Response {
        no_redirects()
            .post(format!("{}/wait/{action}", self.base_url))
            .header(reqwest::header::COOKIE, &self.cookie)
            .send()
            .await
            .expect("the waiting screen's form answers")
    }

    /// Opens the waiting screen again, as a reload does.
    pub async fn reload(&self) -> String {
        no_redirects()
            .get(format!("{}/wait", self.base_url))
            .header(reqwest::header::COOKIE, &self.cookie)
            .send()
            .await
            .expect("the waiting screen answers")
            .text()
            .await
            .expect("the waiting screen")
    }
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client")
}
