//! The patient pages over HTTP (front door, waiting screen, intake, leave, bad input, guessed
//! links) and in a real browser: headless Chromium driven over W3C WebDriver.

use frontdesk_testkit::webdriver::{ChromiumLaunch, WebDriver, WebDriverError};
use frontdesk_testkit::{RECEPTION, TestServer};
use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};
use std::time::Duration;

const SCRIPT: &str = "<script>alert(1)</script>";
const SCRIPT_ESCAPED: &str = "&lt;script&gt;alert(1)&lt;/script&gt;";

/// A client that shows redirects instead of following them.
fn browserless() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

struct Html {
    status: StatusCode,
    headers: header::HeaderMap,
    body: String,
}

impl Html {
    async fn of(res: reqwest::Response) -> Html {
        Html {
            status: res.status(),
            headers: res.headers().clone(),
            body: res.text().await.unwrap(),
        }
    }

    /// The cookie named `name` this answer sets, if any.
    fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok()?.strip_prefix(&format!("{name}=")))
            .map(|rest| rest.split(';').next().unwrap_or_default().to_owned())
            .next()
    }
}

/// A patient's link (`/wait/{token}`, as texts and emails carry it) and what a browser that
/// opened it does on the waiting screen (`/wait/{token}/leave` stands for "the Leave button on
/// that screen"): the screen's own address, and the token the browser holds in its cookie.
fn on_screen(path: &str) -> Option<(String, String)> {
    let rest = path.strip_prefix("/wait/")?;
    let (token, action) = rest.split_once('/').unwrap_or((rest, ""));
    let screen = if action.is_empty() {
        "/wait".to_owned()
    } else {
        format!("/wait/{action}")
    };
    Some((screen, token.to_owned()))
}

fn with_link_cookie(req: reqwest::RequestBuilder, token: &str) -> reqwest::RequestBuilder {
    req.header(header::COOKIE, format!("fd_patient={token}"))
}

/// Opens `path` as a browser does; a patient's link is traded for the cookie first, and the
/// waiting screen it leads to is what comes back.
async fn get_page(app: &TestServer, path: &str) -> Html {
    let first = Html::of(browserless().get(app.url(path)).send().await.unwrap()).await;
    let Some((screen, _)) = on_screen(path) else {
        return first;
    };
    if first.status != StatusCode::SEE_OTHER {
        return first;
    }
    assert_eq!(first.headers[header::LOCATION], screen);
    let token = first
        .cookie("fd_patient")
        .expect("the link sets the cookie");
    let req = with_link_cookie(browserless().get(app.url(&screen)), &token);
    Html::of(req.send().await.unwrap()).await
}

async fn post_form(app: &TestServer, path: &str, form: &[(&str, &str)]) -> Html {
    let req = match on_screen(path) {
        Some((screen, token)) => with_link_cookie(browserless().post(app.url(&screen)), &token),
        None => browserless().post(app.url(path)),
    };
    Html::of(req.form(form).send().await.unwrap()).await
}

/// The link of the waiting screen a joined patient was sent to, from the cookie that holds it.
fn link_of(p: &Html) -> String {
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    assert_eq!(p.headers[header::LOCATION], "/wait");
    let token = p.cookie("fd_patient").expect("the patient's cookie");
    assert!(token.starts_with("fdp_") && token.len() == 68, "{token}");
    format!("/wait/{token}")
}

fn is_html(p: &Html) -> bool {
    p.headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.to_str().unwrap().starts_with("text/html"))
}

fn door(app: &TestServer) -> String {
    format!("/join/demo/{}", app.room_id("Reception"))
}

/// A server on a clock the test moves, doing its timed work (departures, reminders) often.
async fn app_with_a_clock_to_move() -> (TestServer, frontdesk_server::Clock) {
    let app = TestServer::builder()
        .demo_clinic()
        .settings(|s| s.background_tick = Duration::from_millis(50))
        .start()
        .await;
    let clock = app.clock();
    (app, clock)
}

/// What the waiting screen sends as it goes away (`path` is its link, `/wait/{token}`).
async fn close_the_page(app: &TestServer, path: &str) {
    let p = post_form(app, &format!("{path}/closed"), &[]).await;
    assert_eq!(p.status, StatusCode::NO_CONTENT);
}

/// Joins through the front door; returns the patient's link and token.
async fn join(app: &TestServer, name: &str) -> (String, String) {
    let p = post_form(
        app,
        &door(app),
        &[("name", name), ("phone", "+61 400 000 001")],
    )
    .await;
    let link = link_of(&p);
    let token = link.strip_prefix("/wait/").unwrap().to_owned();
    (link, token)
}

async fn open_visits(app: &TestServer, staff: &str) -> Vec<Value> {
    let a = app.get("/v1/snapshot", staff).await;
    a.body["visits"].as_array().unwrap().clone()
}

async fn queue_item(app: &TestServer, staff: &str, name: &str) -> Value {
    let a = app.get("/v1/queue", staff).await;
    a.body
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["patient_name"] == name)
        .unwrap_or_else(|| panic!("{name} is not in the queue: {:?}", a.body))
        .clone()
}

#[tokio::test]
async fn the_front_door_shows_the_room_and_an_accessible_form() {
    let app = TestServer::with_demo().await;
    let p = get_page(&app, &door(&app)).await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(is_html(&p));
    for text in [
        "Demo Family Clinic",
        "<h1>Reception</h1>",
        "The front desk will be with you shortly.",
        "In an emergency call 000",
        "<label for=\"name\">Your name</label>",
        "<label for=\"phone\">Phone number</label>",
        "<label for=\"email\">Email</label>",
        "name=\"viewport\"",
        "Office hours",
    ] {
        assert!(p.body.contains(text), "missing {text:?} in {}", p.body);
    }
    let csp = p.headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("'sha256-"),
        "{csp}"
    );
    assert_eq!(p.headers[header::REFERRER_POLICY], "no-referrer");
}

#[tokio::test]
async fn posting_the_front_door_opens_a_visit_and_redirects_to_the_waiting_screen() {
    let app = TestServer::with_demo().await;
    let staff = app.sign_in(RECEPTION).await;
    let (wait, _) = join(&app, "Ana Door").await;
    let item = queue_item(&app, &staff, "Ana Door").await;
    assert_eq!(item["status"], "intake", "in the queue from the first step");
    assert_eq!(item["contact"]["phone"], "+61400000001");

    let p = get_page(&app, &wait).await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(is_html(&p));
    for text in [
        "You are in the queue",
        "Waiting as Ana Door",
        "Reason for visit",
        "Date of birth",
        "In an emergency call 000",
        "The front desk will be with you shortly.",
        "No messages yet.",
        "Leave the waiting room",
    ] {
        assert!(p.body.contains(text), "missing {text:?} in {}", p.body);
    }
    assert_eq!(p.headers[header::CACHE_CONTROL], "no-store");
    // Nothing about staff on the patient's page.
    assert!(!p.body.contains("demo.clinic"));
}

#[tokio::test]
async fn the_intake_form_saves_answers_and_done_finishes_it() {
    let app = TestServer::with_demo().await;
    let staff = app.sign_in(RECEPTION).await;
    let (wait, _) = join(&app, "Ben Intake").await;

    let p = post_form(
        &app,
        &format!("{wait}/intake"),
        &[
            ("q:Reason for visit", "Cough"),
            ("q:Date of birth", ""),
            ("action", "save"),
        ],
    )
    .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let item = queue_item(&app, &staff, "Ben Intake").await;
    assert_eq!(item["intake"]["Reason for visit"], "Cough");
    assert_eq!(item["status"], "intake");
    let p = get_page(&app, &wait).await;
    assert!(
        p.body.contains(">Cough</textarea>"),
        "saved answers are shown again"
    );

    // Too long an answer: told, nothing saved.
    let long = "x".repeat(2_001);
    let p = post_form(
        &app,
        &format!("{wait}/intake"),
        &[("q:Date of birth", &long), ("action", "done")],
    )
    .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        p.body
            .contains("An answer must be at most 2000 characters (got 2001)."),
        "{}",
        p.body
    );
    let p = post_form(&app, &format!("{wait}/intake"), &[("action", "save")]).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        p.body.contains("Please answer at least one question"),
        "{}",
        p.body
    );
    let item = queue_item(&app, &staff, "Ben Intake").await;
    assert_eq!(item["status"], "intake");
    assert!(item["intake"].get("Date of birth").is_none());

    let p = post_form(
        &app,
        &format!("{wait}/intake"),
        &[("q:Date of birth", "1 May 1980"), ("action", "done")],
    )
    .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let item = queue_item(&app, &staff, "Ben Intake").await;
    assert_eq!(item["status"], "waiting");
    assert_eq!(item["intake"]["Date of birth"], "1 May 1980");
    let p = get_page(&app, &wait).await;
    assert!(p.body.contains("You are in the waiting room"));
    assert!(
        !p.body.contains("id=\"intake\""),
        "the form is gone once done"
    );
}

#[tokio::test]
async fn the_leave_button_marks_the_visit_left() {
    let app = TestServer::with_demo().await;
    let staff = app.sign_in(RECEPTION).await;
    let (wait, _) = join(&app, "Cy Leaver").await;
    let id = queue_item(&app, &staff, "Cy Leaver").await["visit_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let p = post_form(&app, &format!("{wait}/leave"), &[]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert_eq!(app.visit(&staff, &id).await["status"], "left");
    let p = get_page(&app, &wait).await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.body.contains("You have left the waiting room"));
    assert!(
        p.body.contains("id=\"leave\" hidden"),
        "no leave button once gone"
    );
    // Leaving twice is harmless.
    let p = post_form(&app, &format!("{wait}/leave"), &[]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
}

/// A patient's or guest's link keeps working for a day after its visit ended (to read the last
/// word again), then only says it has expired: no data, nothing changed, and the JSON API
/// answers 410 `link_expired`. A visit still open keeps its link while the clinic's limit for
/// open visits lasts (here two days; the limit itself is tested in `links.rs`).
#[tokio::test]
async fn a_link_expires_a_day_after_its_visit_ended_and_then_shows_nothing() {
    let clock = frontdesk_server::Clock::system();
    let c = clock.clone();
    let app = TestServer::builder()
        .demo_clinic()
        .settings(move |s| {
            s.clock = c;
            s.open_link_lifetime = Duration::from_secs(48 * 3600);
        })
        .start()
        .await;
    let staff = app.sign_in(RECEPTION).await;
    let (wait, token) = join(&app, "Eli Expired").await;
    let (still_waiting, waiting_token) = join(&app, "Noa Patient").await;
    let id = queue_item(&app, &staff, "Eli Expired").await["visit_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let p = post_form(&app, &format!("{wait}/leave"), &[]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    let ended = app.visit(&staff, &id).await;
    assert_eq!(ended["status"], "left");

    // A scheduled session's guest, whose session is cancelled.
    let scheduler = app.sign_in(frontdesk_testkit::SCHEDULER).await;
    let starts = clock.now().as_millis() + 2 * 3_600_000;
    let booked = app
        .send(
            Method::POST,
            &format!("/v1/rooms/{}/scheduled", app.room_id("Dr. Shah's room")),
            Some(&scheduler),
            Some(json!({"booking": {
                "provider": app.staff_id(frontdesk_testkit::PRIYA.0),
                "starts_at": starts,
                "guests": [{"name": "Gil Guest", "contact": {"email": "gil@example.org"}}]
            }})),
            &[],
        )
        .await;
    assert_eq!(booked.status, StatusCode::CREATED, "{:?}", booked.body);
    let session = booked.body["visit"]["id"].as_str().unwrap().to_owned();
    let cancelled = app
        .command(&scheduler, &session, "cancel", 1, Some(json!({})))
        .await;
    assert_eq!(
        cancelled.status_of_visit(),
        "cancelled",
        "{:?}",
        cancelled.body
    );
    let guest_token = frontdesk_server::service::guest_token(
        &app.server().store().secret(),
        session.parse().unwrap(),
        0,
    );
    let guest_link = format!("/wait/{guest_token}");

    // Within the day: the last word can still be read.
    clock.advance(frontdesk_domain::Span::from_secs(23 * 3600));
    let p = get_page(&app, &wait).await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(
        p.body.contains("You have left the waiting room"),
        "{}",
        p.body
    );
    assert_eq!(get_page(&app, &guest_link).await.status, StatusCode::OK);
    let a = app
        .patient(&token, Method::GET, "/v1/patient/visit", None)
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);

    // Past a day after the end: expired, for the page, its forms and the API alike.
    clock.advance(frontdesk_domain::Span::from_secs(3600 + 60));
    for link in [&wait, &guest_link] {
        let p = get_page(&app, link).await;
        assert_eq!(p.status, StatusCode::GONE, "{link}");
        assert!(is_html(&p));
        assert!(p.body.contains("This link has expired"), "{}", p.body);
        for secret in [
            "Eli Expired",
            "Gil Guest",
            "Reception",
            "Shah",
            "left the waiting",
        ] {
            assert!(!p.body.contains(secret), "{link} shows {secret}");
        }
    }
    for path in [
        format!("{wait}/leave"),
        format!("{wait}/intake"),
        format!("{guest_link}/arrive"),
    ] {
        let p = post_form(&app, &path, &[("action", "done")]).await;
        assert_eq!(p.status, StatusCode::GONE, "{path}");
        assert!(p.body.contains("This link has expired"), "{path}");
    }
    for (method, path) in [
        (Method::GET, "/v1/patient/visit"),
        (Method::POST, "/v1/patient/visit/leave"),
        (Method::POST, "/v1/patient/visit/finish-intake"),
    ] {
        for t in [&token, &guest_token] {
            let a = app.patient(t, method.clone(), path, None).await;
            assert_eq!(a.status, StatusCode::GONE, "{path}: {:?}", a.body);
            assert_eq!(a.code(), "link_expired", "{path}");
            assert!(
                a.body.get("visit").is_none_or(Value::is_null),
                "{:?}",
                a.body
            );
        }
    }

    // Nothing changed; the patient still waiting keeps a working link.
    let staff = app.sign_in(RECEPTION).await;
    let after = app.visit(&staff, &id).await;
    assert_eq!(after["version"], ended["version"]);
    assert_eq!(after["status"], "left");
    let p = get_page(&app, &still_waiting).await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.body.contains("Noa Patient"));
    let a = app
        .patient(&waiting_token, Method::GET, "/v1/patient/visit", None)
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    assert_eq!(a.body["status"], "intake");
}

#[tokio::test]
async fn script_in_a_name_a_message_and_a_note_is_shown_as_text() {
    let app = TestServer::with_demo().await;
    let staff = app.sign_in(RECEPTION).await;

    // Refused input is echoed back into the form, escaped.
    let p = post_form(&app, &door(&app), &[("name", SCRIPT)]).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!p.body.contains(SCRIPT), "{}", p.body);
    assert!(p.body.contains(&format!("value=\"{SCRIPT_ESCAPED}\"")));

    let p = post_form(
        &app,
        &door(&app),
        &[
            ("name", "\"><img src=x onerror=alert(2)>"),
            ("email", "a@b.co"),
        ],
    )
    .await;
    let page = get_page(&app, &link_of(&p)).await;
    assert!(!page.body.contains("<img src=x"), "{}", page.body);
    assert!(
        page.body
            .contains("&quot;&gt;&lt;img src=x onerror=alert(2)&gt;")
    );

    let (wait, _) = join(&app, SCRIPT).await;
    let item = queue_item(&app, &staff, SCRIPT).await;
    let id = item["visit_id"].as_str().unwrap();
    let a = app
        .command(
            &staff,
            id,
            "message",
            item["version"].as_u64().unwrap(),
            Some(json!({"text": SCRIPT})),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    let a = app
        .command(
            &staff,
            id,
            "decline",
            a.version(),
            Some(json!({"note": format!("{SCRIPT} & 'bye'")})),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);

    let p = get_page(&app, &wait).await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(
        !p.body.contains(SCRIPT),
        "raw markup in the page: {}",
        p.body
    );
    assert!(p.body.contains(&format!("Waiting as {SCRIPT_ESCAPED}")));
    assert!(
        p.body.contains(&format!("<li>{SCRIPT_ESCAPED}</li>")),
        "{}",
        p.body
    );
    assert!(
        p.body
            .contains(&format!("{SCRIPT_ESCAPED} &amp; &#39;bye&#39;"))
    );
    assert!(p.body.contains("The clinic could not see you this time"));
}

#[tokio::test]
async fn bad_front_door_input_is_explained_and_creates_nothing() {
    let app = TestServer::with_demo().await;
    let staff = app.sign_in(RECEPTION).await;
    let long_name = "N".repeat(500);
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            vec![("name", ""), ("phone", "0400 000 000")],
            "Your name must not be empty.",
        ),
        (
            vec![("name", "   "), ("phone", "0400 000 000")],
            "Your name must not be empty.",
        ),
        (
            vec![("name", &long_name), ("phone", "0400 000 000")],
            "Your name must be at most 80 characters (got 500).",
        ),
        (
            vec![("name", "Dee")],
            "Please give a phone number or an email",
        ),
        (
            vec![("name", "Dee"), ("phone", "555-CALL-NOW")],
            "The phone number may hold only digits",
        ),
        (
            vec![("name", "Dee"), ("email", "dee@")],
            "The email must look like name@example.org",
        ),
        (
            vec![("name", "Dee\u{7}"), ("email", "d@e.co")],
            "must not contain control characters",
        ),
    ];
    for (form, message) in cases {
        let p = post_form(&app, &door(&app), &form).await;
        assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{form:?}");
        assert!(is_html(&p));
        assert!(p.body.contains("role=\"alert\""), "{form:?}");
        assert!(
            p.body.contains(message),
            "{form:?}: wanted {message:?} in {}",
            p.body
        );
        assert!(
            p.body.contains("<form method=\"post\""),
            "the form is shown again"
        );
    }

    // Not a form at all.
    let res = browserless()
        .post(app.url(&door(&app)))
        .header(header::CONTENT_TYPE, "application/json")
        .body("{\"name\":\"Eve\"}")
        .send()
        .await
        .unwrap();
    assert!(res.status().is_client_error(), "{}", res.status());
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("We could not read the form")
    );

    // Far too large.
    let huge = "x".repeat(200_000);
    let res = browserless()
        .post(app.url(&door(&app)))
        .form(&[("name", huge.as_str()), ("phone", "0400000000")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        res.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(res.text().await.unwrap().contains("too long"));

    assert!(
        open_visits(&app, &staff).await.is_empty(),
        "no visit was created"
    );
}

#[tokio::test]
async fn guessed_or_unknown_links_get_a_clear_page_and_no_data() {
    let app = TestServer::with_demo().await;
    let staff = app.sign_in(RECEPTION).await;
    join(&app, "Fay Real").await;
    let guessed = format!("fdp_{}", "0".repeat(64));
    for path in [
        format!("/wait/{guessed}"),
        "/wait/nonsense".to_owned(),
        format!("/wait/{staff}"),
        format!("/wait/fdp_{}", "a".repeat(5_000)),
    ] {
        let p = get_page(&app, &path).await;
        assert_eq!(p.status, StatusCode::NOT_FOUND, "{path}");
        assert!(is_html(&p));
        assert!(p.body.contains("This link is no longer valid"), "{path}");
        for secret in ["Reception", "Demo Family Clinic", "Fay Real", "000"] {
            assert!(!p.body.contains(secret), "{path} shows {secret}");
        }
    }
    for path in [
        format!("/wait/{guessed}/leave"),
        format!("/wait/{guessed}/intake"),
    ] {
        let p = post_form(&app, &path, &[("action", "done")]).await;
        assert_eq!(p.status, StatusCode::NOT_FOUND, "{path}");
        assert!(p.body.contains("This link is no longer valid"));
    }
    // Unknown clinic or room in a front-door link.
    for path in [
        format!("/join/nope/{}", app.room_id("Reception")),
        format!("/join/demo/{}", uuid_like()),
        "/join/demo/not-a-room".to_owned(),
    ] {
        let p = get_page(&app, &path).await;
        assert_eq!(p.status, StatusCode::NOT_FOUND, "{path}");
        assert!(is_html(&p));
    }
    // The patient's own visit is untouched.
    assert_eq!(open_visits(&app, &staff).await.len(), 1);
}

#[tokio::test]
async fn the_embeddable_button_links_to_the_front_door() {
    let app = TestServer::with_demo().await;
    let res = browserless()
        .get(app.url(&format!("{}/button.js", door(&app))))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    let js = res.text().await.unwrap();
    assert!(js.contains(&format!("\"{}\"", door(&app))), "{js}");
    assert!(js.contains("document.currentScript"));
    assert!(js.contains("textContent"));
    let p = get_page(&app, &format!("/join/demo/{}/button.js", uuid_like())).await;
    assert_eq!(p.status, StatusCode::NOT_FOUND);
}

fn uuid_like() -> &'static str {
    "6f1c9d7e-0000-4000-8000-000000000000"
}

// ---------------------------------------------------------------------------------------------
// The real browser: headless Chromium on a phone-sized screen, over W3C WebDriver.

/// How long a page gets to show what a test waits for.
const SHOWN_WITHIN: Duration = Duration::from_secs(15);

/// A fresh headless Chromium with a phone's screen, as a patient meets the pages.
async fn phone_browser() -> Result<WebDriver, WebDriverError> {
    WebDriver::start_chromium(ChromiumLaunch::from_env().phone_screen(390, 844)).await
}

/// No `alert()` is open: no script a patient or staff member typed has run.
async fn assert_no_alert_open(browser: &WebDriver) -> Result<(), WebDriverError> {
    let alert = browser.alert_text().await?;
    assert_eq!(alert, None, "a script ran: an alert is open");
    Ok(())
}

/// The page as a patient on a phone meets it: nothing wider than the screen (no sideways
/// scrolling), and every field has a label a screen reader reads out.
async fn assert_fits_the_phone_and_fields_are_labelled(
    browser: &WebDriver,
    what: &str,
) -> Result<(), WebDriverError> {
    let script = "const wide = document.documentElement.scrollWidth - window.innerWidth;
        const unlabelled = [...document.querySelectorAll('input:not([type=hidden]),textarea,select')]
          .filter(e => e.offsetParent !== null && e.labels.length === 0 && !e.getAttribute('aria-label'))
          .map(e => e.id || e.name);
        return {wide, width: window.innerWidth, unlabelled};";
    let got = browser.execute(script, vec![]).await?;
    assert_eq!(got["width"], 390, "{what}: a phone-sized screen");
    assert!(
        got["wide"].as_i64().unwrap() <= 0,
        "{what} scrolls sideways: {got}"
    );
    assert_eq!(
        got["unlabelled"],
        json!([]),
        "{what}: fields without a label"
    );
    Ok(())
}

#[tokio::test]
async fn a_patient_waits_in_a_real_browser_while_staff_act() -> Result<(), WebDriverError> {
    let app = TestServer::with_demo().await;
    let staff = app.sign_in(RECEPTION).await;
    let browser = phone_browser().await?;

    // A clinic's website (another origin) with the embeddable button; it leads to the front door.
    let site = format!(
        "<!doctype html><title>Our clinic</title><p>Our clinic</p><script src=\"{}/button.js\"></script>",
        app.url(&door(&app))
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let site_url = format!("http://{}/", listener.local_addr().unwrap());
    let website = axum::Router::new().route(
        "/",
        axum::routing::get(move || async move { axum::response::Html(site) }),
    );
    tokio::spawn(async move { axum::serve(listener, website).await });
    browser.navigate(&site_url).await?;
    browser
        .wait_for_text(
            "a[data-frontdesk-button]",
            "Join the waiting room",
            SHOWN_WITHIN,
        )
        .await?;
    browser.click("a[data-frontdesk-button]").await?;

    // The front door.
    browser
        .wait_for_text("h1", "Reception", SHOWN_WITHIN)
        .await?;
    assert!(browser.url().await?.ends_with(&door(&app)));
    browser
        .wait_for_text("h1", "Reception", SHOWN_WITHIN)
        .await?;
    browser.screenshot("/tmp/patient-door.png").await?;
    assert_fits_the_phone_and_fields_are_labelled(&browser, "the front door").await?;
    browser.type_into("#name", "Gia Browser").await?;
    browser.type_into("#phone", "+61 400 123 456").await?;
    browser.click("form button[type=submit]").await?;
    browser
        .wait_for_text("#status", "You are in the queue", SHOWN_WITHIN)
        .await?;
    // The token went into the cookie: the address bar shows none.
    let address = browser.url().await?;
    assert!(
        address.ends_with("/wait") && !address.contains("fdp_"),
        "{address}"
    );
    let item = queue_item(&app, &staff, "Gia Browser").await;
    assert_eq!(item["status"], "intake");
    let id = item["visit_id"].as_str().unwrap().to_owned();

    // Intake: an answer is saved as the patient leaves the field, before Done.
    browser.screenshot("/tmp/patient-intake.png").await?;
    assert_fits_the_phone_and_fields_are_labelled(&browser, "the intake form").await?;
    browser.type_into("#q0", "Sore throat").await?;
    browser.click("#q1").await?;
    browser
        .wait_for_text("#intake-saved", "Answer saved.", SHOWN_WITHIN)
        .await?;
    let item = queue_item(&app, &staff, "Gia Browser").await;
    assert_eq!(item["intake"]["Reason for visit"], "Sore throat");
    browser.type_into("#q1", "2 March 1990").await?;
    // A yes/no question is a pair of radio buttons, saved when chosen.
    browser.click("#q2-0").await?;
    browser
        .wait_for_text("#intake-saved", "Answer saved.", SHOWN_WITHIN)
        .await?;
    browser.click("#intake-done").await?;
    browser
        .wait_for_text("#status", "You are in the waiting room", SHOWN_WITHIN)
        .await?;
    assert!(!browser.is_shown("#intake").await?);
    let visit = app.visit(&staff, &id).await;
    assert_eq!(visit["status"], "waiting");
    assert_eq!(visit["intake"]["Date of birth"], "2 March 1990");
    assert_eq!(visit["intake"]["First visit to the clinic?"], "Yes");
    let mut version = visit["version"].as_u64().unwrap();
    // Reception shows place in line and an estimated wait.
    browser
        .wait_for_text("#place", "in line", SHOWN_WITHIN)
        .await?;
    assert!(!browser.is_shown("#call").await?);

    // A staff message appears live, as text.
    let text = format!("{SCRIPT} Dr. Shah is running 5 minutes late.");
    let a = app
        .command(&staff, &id, "message", version, Some(json!({"text": text})))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    version = a.version();
    browser
        .wait_for_text("#messages", "running 5 minutes late", SHOWN_WITHIN)
        .await?;
    assert_eq!(browser.find("#messages li").await?.text().await?, text);
    assert!(!browser.is_shown("#no-messages").await?);
    assert_no_alert_open(&browser).await?;
    browser.screenshot("/tmp/patient-wait.png").await?;
    assert_fits_the_phone_and_fields_are_labelled(&browser, "the waiting screen").await?;

    // Claimed: being seen.
    let a = app.command(&staff, &id, "claim", version, None).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    version = a.version();
    browser
        .wait_for_text("#status", "You are being seen", SHOWN_WITHIN)
        .await?;
    // The call's link, from the clinic's template, appears while being seen.
    browser
        .wait_for_text("#call-link", "Join the call", SHOWN_WITHIN)
        .await?;
    let href = browser
        .execute("return document.getElementById('call-link').href;", vec![])
        .await?;
    assert_eq!(
        href,
        json!(format!("https://meet.jit.si/frontdesk-demo-{id}"))
    );
    assert!(!browser.is_shown("#place").await?);
    browser.screenshot("/tmp/patient-in-call.png").await?;
    assert_fits_the_phone_and_fields_are_labelled(&browser, "the screen in a call").await?;

    // The last one out of the call: on hold.
    let a = app.command(&staff, &id, "leave-call", version, None).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    version = a.version();
    browser
        .wait_for_text("#status", "You are on hold", SHOWN_WITHIN)
        .await?;
    assert!(!browser.is_shown("#call").await?, "no call link on hold");
    browser
        .wait_for_text("#status-detail", "You'll be seen shortly", SHOWN_WITHIN)
        .await?;

    // Declined with a note the patient reads.
    let note = "Please book a regular appointment for this.";
    let a = app
        .command(&staff, &id, "decline", version, Some(json!({"note": note})))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    browser
        .wait_for_text(
            "#status",
            "The clinic could not see you this time",
            SHOWN_WITHIN,
        )
        .await?;
    browser
        .wait_for_text("#decline-note", note, SHOWN_WITHIN)
        .await?;
    assert!(browser.is_shown("#decline").await?);
    assert!(!browser.is_shown("#welcome").await?);
    assert!(
        !browser.is_shown("#leave").await?,
        "nothing to leave any more"
    );
    browser.screenshot("/tmp/patient-declined.png").await?;
    assert_no_alert_open(&browser).await?;
    browser.delete_session().await
}

/// Closing the waiting page counts as leaving once it stays closed past the grace time; a
/// reload does not.
#[tokio::test]
async fn closing_the_waiting_page_marks_the_visit_left_but_a_reload_does_not()
-> Result<(), WebDriverError> {
    let (app, clock) = app_with_a_clock_to_move().await;
    let staff = app.sign_in(RECEPTION).await;
    let (path, _) = join(&app, "Lou Leaving").await;
    let id = queue_item(&app, &staff, "Lou Leaving").await["visit_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let browser = phone_browser().await?;
    let page = app.url(&path);
    browser.navigate(&page).await?;
    browser
        .wait_for_text("#status", "You are in the queue", SHOWN_WITHIN)
        .await?;

    // A reload: the page goes away and comes straight back.
    browser.navigate(&page).await?;
    browser
        .wait_for_text("#status", "You are in the queue", SHOWN_WITHIN)
        .await?;
    tokio::time::sleep(Duration::from_millis(2_500)).await; // at least one poll
    clock.advance(frontdesk_domain::Span::from_secs(60));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(app.visit(&staff, &id).await["status"], "intake");

    // Closed for good (the browser goes elsewhere): after the grace time, the patient left.
    browser.navigate("about:blank").await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        app.visit(&staff, &id).await["status"],
        "intake",
        "not before the grace time"
    );
    clock.advance(frontdesk_domain::Span::from_secs(46));
    frontdesk_testkit::eventually(10, "the visit marked left", || async {
        (app.visit(&staff, &id).await["status"] == "left").then_some(())
    })
    .await;
    browser.delete_session().await
}

/// A closed waiting page's departure is kept in the database: the server restarting inside
/// the grace time still marks the patient `left`, and a page that came back before the
/// restart stays cancelled after it.
#[tokio::test]
async fn a_closed_page_is_still_marked_left_when_the_server_restarts_within_the_grace_time() {
    let (mut app, clock) = app_with_a_clock_to_move().await;
    let staff = app.sign_in(RECEPTION).await;
    let (gone_path, _) = join(&app, "Rae Restart").await;
    let (back_path, back_token) = join(&app, "Bo Back").await;
    let id_of = |name: &'static str| {
        let (app, staff) = (&app, &staff);
        async move {
            queue_item(app, staff, name).await["visit_id"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let (gone, back) = (id_of("Rae Restart").await, id_of("Bo Back").await);
    // Both pages close (what the page's beacon sends); one comes back (its next poll).
    for path in [&gone_path, &back_path] {
        close_the_page(&app, path).await;
    }
    let a = app
        .patient(&back_token, Method::GET, "/v1/patient/visit", None)
        .await;
    assert_eq!(a.status, StatusCode::OK);

    // The server stops ten seconds in and starts again on the same database.
    clock.advance(frontdesk_domain::Span::from_secs(10));
    app.restart().await;
    let staff = app.sign_in(RECEPTION).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        app.visit(&staff, &gone).await["status"],
        "intake",
        "not before the grace time"
    );

    clock.advance(frontdesk_domain::Span::from_secs(36));
    frontdesk_testkit::eventually(10, "the closed page's visit marked left", || async {
        (app.visit(&staff, &gone).await["status"] == "left").then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.visit(&staff, &back).await["status"], "intake");
}

/// A room that does not show the place in line shows neither it nor the estimated wait, on
/// the waiting screen or in the patient's API; switching the setting on shows both.
#[tokio::test]
async fn place_in_line_and_estimated_wait_stay_hidden_while_the_room_setting_is_off() {
    let app = TestServer::with_demo().await;
    let admin = app.sign_in(frontdesk_testkit::ADMIN).await;
    let settings = |show: bool| json!({"name": "Quiet room", "show_place_in_line": show, "minutes_per_patient": 12});
    let a = app
        .send(
            Method::POST,
            "/v1/rooms",
            Some(&admin),
            Some(settings(false)),
            &[],
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
    let room = a.body["id"].as_str().unwrap().to_owned();
    let mut tokens = Vec::new();
    for name in ["Ida First", "Jo Second"] {
        let (_, token, _) = app.arrive(&room, name).await;
        tokens.push(token);
    }
    let second = &tokens[1];
    let a = app
        .patient(second, Method::GET, "/v1/patient/visit", None)
        .await;
    assert_eq!(a.body["status"], "waiting", "{:?}", a.body);
    assert!(a.body.get("position").is_none(), "{:?}", a.body);
    assert!(
        a.body.get("estimated_wait_minutes").is_none(),
        "{:?}",
        a.body
    );
    let p = get_page(&app, &format!("/wait/{second}")).await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.body.contains("id=\"place\" hidden></p>"), "{}", p.body);
    // (The page's script has the words, for live updates; the page itself says nothing.)
    assert!(!p.body.contains("about 12 minutes"), "{}", p.body);
    assert!(!p.body.contains("in line.</p>"), "{}", p.body);

    // The same room with the setting on.
    let a = app
        .send(
            Method::PUT,
            &format!("/v1/rooms/{room}"),
            Some(&admin),
            Some(settings(true)),
            &[],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    frontdesk_testkit::eventually(5, "the place in line shown", || async {
        let a = app
            .patient(second, Method::GET, "/v1/patient/visit", None)
            .await;
        (a.body["position"] == 2).then_some(())
    })
    .await;
    let a = app
        .patient(second, Method::GET, "/v1/patient/visit", None)
        .await;
    assert_eq!(a.body["estimated_wait_minutes"], 12, "{:?}", a.body);
    let p = get_page(&app, &format!("/wait/{second}")).await;
    assert!(
        p.body.contains(
            "id=\"place\">You are number 2 in line. Estimated wait: about 12 minutes.</p>"
        ),
        "{}",
        p.body
    );
}

/// An admin's settings for a room: office hours in the clinic's zone, what happens outside
/// them, a typed question and the estimated wait.
async fn room_with_hours(app: &TestServer, after_hours: &str) -> String {
    let admin = app.sign_in(frontdesk_testkit::ADMIN).await;
    let a = app
        .send(
            Method::PUT,
            "/v1/clinic",
            Some(&admin),
            Some(json!({"time_zone": "Australia/Sydney"})),
            &[],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    assert_eq!(a.body["time_zone"], "Australia/Sydney");
    let hours: Vec<Value> = (0..5)
        .map(|d| json!({"day": d, "opens": "09:00", "closes": "17:00"}))
        .collect();
    let a = app
        .send(
            Method::POST,
            "/v1/rooms",
            Some(&admin),
            Some(json!({
                "name": "Clinic B",
                "office_hours": hours,
                "emergency_info": "Call 000 in an emergency.",
                "after_hours": after_hours,
                "show_place_in_line": true,
                "minutes_per_patient": 12,
                "intake_questions": [
                    "Reason for visit",
                    {"label": "How do you feel?", "kind": "choice", "options": ["Better", "Same", "Worse"]}
                ]
            })),
            &[],
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
    a.body["id"].as_str().unwrap().to_owned()
}

/// 2026-11-22T03:00Z is Sunday 14:00 in Sydney; 2026-11-23T00:00Z is Monday 11:00 there.
const SUNDAY_AFTERNOON_SYDNEY: i64 = 1_795_316_400_000;
const MONDAY_MORNING_SYDNEY: i64 = 1_795_392_000_000;

async fn app_at(at: i64) -> (TestServer, frontdesk_server::Clock) {
    let app = TestServer::builder()
        .demo_clinic()
        .clock_at(frontdesk_domain::Timestamp::from_millis(at))
        .start()
        .await;
    let clock = app.clock();
    (app, clock)
}

#[tokio::test]
async fn outside_office_hours_the_front_door_says_closed_and_takes_no_one() {
    let (app, clock) = app_at(SUNDAY_AFTERNOON_SYDNEY).await;
    let room = room_with_hours(&app, "refuse").await;
    let staff = app.sign_in(frontdesk_testkit::ADMIN).await;
    let before = open_visits(&app, &staff).await.len();
    let door = format!("/join/demo/{room}");
    let p = get_page(&app, &door).await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.body.contains("The clinic is closed now"), "{}", p.body);
    assert!(
        p.body.contains("It opens again tomorrow at 09:00"),
        "{}",
        p.body
    );
    assert!(p.body.contains("Call 000 in an emergency."));
    assert!(!p.body.contains("<form"), "no way to join: {}", p.body);
    let p = post_form(
        &app,
        &door,
        &[("name", "Sam Sunday"), ("phone", "0400 000 002")],
    )
    .await;
    assert_eq!(p.status, StatusCode::CONFLICT);
    assert!(p.body.contains("closed"), "{}", p.body);
    let a = app
        .send(
            Method::POST,
            &format!("/v1/join/demo/{room}"),
            None,
            Some(json!({"name": "Sam Sunday", "phone": "0400 000 002"})),
            &[],
        )
        .await;
    assert_eq!(a.status, StatusCode::CONFLICT);
    assert_eq!(a.code(), "closed");
    assert_eq!(
        open_visits(&app, &staff).await.len(),
        before,
        "nothing opened"
    );

    // Monday morning in Sydney: open.
    clock.set(frontdesk_domain::Timestamp::from_millis(
        MONDAY_MORNING_SYDNEY,
    ));
    let p = get_page(&app, &door).await;
    assert!(!p.body.contains("closed now"), "{}", p.body);
    let p = post_form(
        &app,
        &door,
        &[("name", "Mo Monday"), ("phone", "0400 000 003")],
    )
    .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
}

#[tokio::test]
async fn a_room_that_takes_after_hours_patients_marks_them_and_says_so() {
    let (app, _clock) = app_at(SUNDAY_AFTERNOON_SYDNEY).await;
    let room = room_with_hours(&app, "accept").await;
    let staff = app.sign_in(frontdesk_testkit::ADMIN).await;
    let door = format!("/join/demo/{room}");
    let p = get_page(&app, &door).await;
    assert!(p.body.contains("The clinic is closed now"), "{}", p.body);
    assert!(p.body.contains("You can still join"), "{}", p.body);
    assert!(p.body.contains("<form"));
    let p = post_form(
        &app,
        &door,
        &[("name", "Ava After"), ("phone", "0400 000 004")],
    )
    .await;
    let wait = get_page(&app, &link_of(&p)).await;
    assert!(
        wait.body.contains("You joined outside office hours"),
        "{}",
        wait.body
    );
    let visit = open_visits(&app, &staff)
        .await
        .into_iter()
        .find(|v| v["patient"]["name"] == "Ava After")
        .unwrap();
    assert_eq!(visit["after_hours"], true);
}

#[tokio::test]
async fn a_choice_question_takes_only_its_choices_and_the_wait_is_estimated() {
    let (app, _clock) = app_at(MONDAY_MORNING_SYDNEY).await;
    let room = room_with_hours(&app, "refuse").await;
    let door = format!("/join/demo/{room}");
    let mut tokens = Vec::new();
    for name in ["First Patient", "Second Patient"] {
        let p = post_form(&app, &door, &[("name", name), ("phone", "0400 000 005")]).await;
        tokens.push(link_of(&p).strip_prefix("/wait/").unwrap().to_owned());
    }
    let second = &tokens[1];
    let page = get_page(&app, &format!("/wait/{second}")).await;
    assert!(page.body.contains("type=\"radio\""), "{}", page.body);
    let p = post_form(
        &app,
        &format!("/wait/{second}/intake"),
        &[("q:How do you feel?", "Terrible"), ("action", "save")],
    )
    .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.body.contains("is not one of the choices"), "{}", p.body);
    let a = app
        .answer_intake(second, json!({"How do you feel?": "Terrible"}))
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(a.code(), "validation");
    let a = app.answer_intake(second, json!({"Shoe size": "44"})).await;
    assert_eq!(
        a.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "only the room's questions"
    );
    let p = post_form(
        &app,
        &format!("/wait/{second}/intake"),
        &[("q:How do you feel?", "Worse"), ("action", "done")],
    )
    .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let v = app
        .patient(second, Method::GET, "/v1/patient/visit", None)
        .await
        .body;
    assert_eq!(v["intake"]["How do you feel?"], "Worse");
    assert_eq!(v["position"], 2);
    assert_eq!(v["estimated_wait_minutes"], 12);
    let page = get_page(&app, &format!("/wait/{second}")).await;
    assert!(
        page.body
            .contains("You are number 2 in line. Estimated wait: about 12 minutes."),
        "{}",
        page.body
    );
}

/// A retried arrival opens one visit; the retry gets the patient's link back only from the
/// client that sent the first (it holds the cookie the first answer set). Someone else who
/// knows the key, the name and the phone gets the visit's answer without the link.
#[tokio::test]
async fn a_retried_arrival_opens_one_visit_and_only_its_sender_gets_the_same_link() {
    let app = TestServer::with_demo().await;
    let staff = app.sign_in(RECEPTION).await;
    let path = format!("/v1/join/demo/{}", app.room_id("Reception"));
    let send = |cookie: Option<String>| {
        let mut req = browserless()
            .post(app.url(&path))
            .header("idempotency-key", "tap-1")
            .json(&json!({"name": "Rita Retry", "phone": "0400 000 006"}));
        if let Some(c) = cookie {
            req = req.header(header::COOKIE, format!("fd_arrival={c}"));
        }
        async move {
            let res = Html::of(req.send().await.unwrap()).await;
            let body: Value = serde_json::from_str(&res.body).unwrap();
            (res, body)
        }
    };
    let (first, a) = send(None).await;
    assert_eq!(first.status, StatusCode::CREATED, "{a}");
    let proof = first
        .cookie("fd_arrival")
        .expect("the first answer's cookie");
    let (mine, b) = send(Some(proof.clone())).await;
    let (theirs, c) = send(None).await;
    let (forged, d) = send(Some(format!("{proof}0"))).await;
    for (res, body) in [(&mine, &b), (&theirs, &c), (&forged, &d)] {
        assert_eq!(res.status, StatusCode::CREATED, "{body}");
        assert!(res.headers.contains_key("idempotent-replayed"));
        assert_eq!(a["visit"]["id"], body["visit"]["id"]);
    }
    assert!(
        a["patient_token"]
            .as_str()
            .is_some_and(|t| t.starts_with("fdp_"))
    );
    assert_eq!(a["patient_token"], b["patient_token"]);
    for body in [&c, &d] {
        assert!(body.get("patient_token").is_none(), "{body}");
    }

    // The form's own key: a double-submitted front door opens one visit, and sends the same
    // browser (it holds the cookie the front door set with the form) to the same screen.
    let page = get_page(&app, &door(&app)).await;
    let nonce = page
        .body
        .split("name=\"nonce\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_owned();
    let door_proof = page.cookie("fd_arrival").expect("the front door's cookie");
    let form = [
        ("name", "Dee Double"),
        ("phone", "0400 000 007"),
        ("nonce", nonce.as_str()),
    ];
    let submit = |cookie: Option<&str>| {
        let mut req = browserless().post(app.url(&door(&app))).form(&form);
        if let Some(c) = cookie {
            req = req.header(header::COOKIE, format!("fd_arrival={c}"));
        }
        async move { Html::of(req.send().await.unwrap()).await }
    };
    let x = submit(Some(&door_proof)).await;
    let y = submit(Some(&door_proof)).await;
    let z = submit(None).await;
    assert_eq!(link_of(&x), link_of(&y));
    assert_eq!(z.status, StatusCode::SEE_OTHER);
    assert_eq!(z.headers[header::LOCATION], "/wait");
    assert_eq!(
        z.cookie("fd_patient"),
        None,
        "a stranger's replay gets no link"
    );
    let names: Vec<Value> = open_visits(&app, &staff)
        .await
        .into_iter()
        .map(|v| v["patient"]["name"].clone())
        .collect();
    assert_eq!(names.iter().filter(|n| *n == "Rita Retry").count(), 1);
    assert_eq!(names.iter().filter(|n| *n == "Dee Double").count(), 1);
}

/// The call's link opens a page of its own: a patient in a call who closes the waiting screen
/// has not left, while one who closes it while waiting has, once the grace time is over.
#[tokio::test]
async fn closing_the_waiting_screen_during_a_call_does_not_end_the_visit() {
    let (app, clock) = app_with_a_clock_to_move().await;
    let staff = app.sign_in(RECEPTION).await;
    let (in_call_path, _) = join(&app, "Cal Incall").await;
    let (waiting_path, _) = join(&app, "Wes Waiting").await;
    let in_call = queue_item(&app, &staff, "Cal Incall").await;
    let waiting = queue_item(&app, &staff, "Wes Waiting").await;
    let id = in_call["visit_id"].as_str().unwrap().to_owned();
    let claimed = app
        .command(
            &staff,
            &id,
            "claim",
            in_call["version"].as_u64().unwrap(),
            None,
        )
        .await;
    assert_eq!(claimed.status, StatusCode::OK, "{:?}", claimed.body);
    for path in [&in_call_path, &waiting_path] {
        close_the_page(&app, path).await;
    }
    clock.advance(frontdesk_domain::Span::from_secs(46));
    let waiting_id = waiting["visit_id"].as_str().unwrap().to_owned();
    frontdesk_testkit::eventually(10, "the waiting patient marked left", || async {
        (app.visit(&staff, &waiting_id).await["status"] == "left").then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.visit(&staff, &id).await["status"], "in_call");
}
