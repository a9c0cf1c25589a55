//! The Calendar workspace, end to end: the app binary driven over WebDriver in WebKit under
//! Xvfb, against a real clinic server on loopback whose email goes to a real SMTP server (the
//! server suites' sink). Run it through `tests/e2e/env.sh` (the test suite does).
//!
//! The scheduler signs in, opens the Calendar (the clinic's other sessions this week already
//! in it), books a weekly session with two guests; each guest gets the booking by email; the
//! session shows in the week; she moves it to the afternoon and the guests are told.

#[path = "../../crates/server/tests/sinks/mod.rs"]
mod sinks;

use frontdesk_client::api::ApiClient;
use frontdesk_domain::{Booking, Contact, Guest, PersonName, Timestamp};
use frontdesk_server::messages::transport::Mailer;
use frontdesk_testkit::webdriver::{WebDriver, poll_until, testid};
use frontdesk_tests::TestClinic;
use frontdesk_tests::e2e::{WAIT, app_binary, click, fill, shot};
use sinks::{SmtpMode, SmtpSink};
use std::time::Duration;

const SCHEDULER: &str = "scheduler@demo.clinic";
const ANA: &str = "ana.pereira@example.org";
const BEN: &str = "ben.okoro@example.org";

/// Sets a field the way typing into it would (date and time inputs take no keys in WebKit's
/// driver): its value, then the `input` and `change` events the page listens to.
async fn set_value(wd: &WebDriver, css: &str, value: &str) {
    let el = wd
        .wait_for(css, WAIT)
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"));
    wd.execute(
        "const [el, v] = arguments; el.value = v; \
         el.dispatchEvent(new Event('input', {bubbles: true})); \
         el.dispatchEvent(new Event('change', {bubbles: true})); \
         el.dispatchEvent(new Event('blur'));",
        vec![el.as_arg(), serde_json::json!(value)],
    )
    .await
    .unwrap_or_else(|e| panic!("setting {css}: {e}"));
}

/// Types into a field of the `i`th guest of the booking form.
async fn guest_field(wd: &WebDriver, i: usize, field: &str, text: &str) {
    let css = format!(
        "[data-testid=\"booking-guest\"][data-index=\"{i}\"] {}",
        testid(field)
    );
    let el = wd
        .wait_for(&css, WAIT)
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"));
    el.clear().await.unwrap();
    el.send_keys(text).await.unwrap();
}

/// The clinic's other sessions this week, booked over the API: the week as it is before the
/// scheduler books hers.
async fn other_sessions(clinic: &TestClinic, token: &str) {
    let api = ApiClient::new(&clinic.url()).unwrap();
    let now = frontdesk_client::engine::now();
    // (provider, days from today, clinic-local start in minutes, length, guest): the clinic's
    // time zone is UTC.
    let plan = [
        (
            "omar@demo.clinic",
            1,
            9 * 60,
            30,
            "Lena Fischer",
            "lena@example.org",
        ),
        (
            "priya@demo.clinic",
            1,
            11 * 60 + 30,
            45,
            "Tom Reyes",
            "tom@example.org",
        ),
        (
            "omar@demo.clinic",
            2,
            8 * 60 + 30,
            60,
            "Yuki Sato",
            "yuki@example.org",
        ),
        (
            "priya@demo.clinic",
            2,
            13 * 60,
            30,
            "Maria Costa",
            "maria@example.org",
        ),
        (
            "priya@demo.clinic",
            3,
            9 * 60 + 30,
            30,
            "Noah Klein",
            "noah@example.org",
        ),
        (
            "omar@demo.clinic",
            3,
            12 * 60,
            45,
            "Sara Lind",
            "sara@example.org",
        ),
    ];
    const DAY: i64 = 24 * 60 * 60_000;
    let midnight = now.as_millis() - now.as_millis().rem_euclid(DAY);
    for (provider, days, start, minutes, guest, email) in plan {
        let provider = clinic.demo().staff_by_email(provider).unwrap().id;
        let at = Timestamp::from_millis(midnight + days * DAY + start * 60_000);
        let booking = Booking {
            provider,
            starts_at: at,
            duration_mins: minutes,
            guests: vec![Guest {
                name: PersonName::parse(guest).unwrap(),
                contact: Contact::parse(None, Some(email)).unwrap(),
                arrived: false,
            }],
            service_type: None,
            location: None,
            staff: Vec::new(),
        };
        let room = clinic
            .demo()
            .rooms
            .iter()
            .find(|r| r.provider == Some(provider))
            .unwrap()
            .id;
        let key = format!("e2e-calendar-{guest}");
        api.schedule(token, room, &booking, 1, false, &key)
            .await
            .unwrap_or_else(|e| panic!("booking {guest}: {e}"));
    }
}

/// The date (`YYYY-MM-DD`) of the day after today in the week on screen, moving to the next
/// week when today is its last day.
async fn tomorrow_on_screen(wd: &WebDriver) -> String {
    let script = "const heads = [...document.querySelectorAll('[data-testid=\"day-head\"]')]; \
                  const i = heads.findIndex((h) => h.classList.contains('today')); \
                  return i >= 0 && i + 1 < heads.length ? heads[i + 1].dataset.date : null;";
    let found = wd.execute(script, vec![]).await.unwrap();
    if let Some(date) = found.as_str() {
        return date.to_owned();
    }
    click(wd, &testid("calendar-next")).await;
    poll_until(WAIT, "next week's first day", || async {
        let first = wd
            .execute(
                "return document.querySelector('[data-testid=\"day-head\"]').dataset.date;",
                vec![],
            )
            .await?;
        Ok(first.as_str().map(str::to_owned))
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduler_books_a_weekly_session_with_two_guests_and_moves_it() {
    let smtp = SmtpSink::start(SmtpMode::Accept).await;
    let smtp_url = smtp.url();
    let clinic = TestClinic::start_with(move |s| {
        s.background_tick = Duration::from_millis(100);
        s.transports.email =
            Some(Mailer::new(&smtp_url, "Demo Clinic <desk@demo.clinic>").unwrap());
    })
    .await;
    let token = clinic.sign_in(SCHEDULER).await;
    other_sessions(&clinic, &token).await;

    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().join("app").to_string_lossy().to_string();
    let wd = WebDriver::from_env(app_binary(), &[("FRONTDESK_DATA_DIR", data_dir.as_str())])
        .await
        .expect("app session");
    fill(&wd, "signin-email", SCHEDULER).await;
    fill(&wd, "signin-password", "demo-scheduler").await;
    let address = format!("{}/{}", clinic.url(), clinic.demo().clinic.slug);
    fill(&wd, "signin-server", &address).await;
    click(&wd, &testid("signin-submit")).await;
    wd.wait_for_text(&testid("clinic-name"), "Demo", WAIT)
        .await
        .expect("signed in");

    // The Calendar, this week.
    click(&wd, &testid("workspace-calendar")).await;
    wd.wait_for(&testid("calendar-grid"), WAIT)
        .await
        .expect("the week");
    let day = tomorrow_on_screen(&wd).await;

    // Book: Dr. Shah, Ana by email and Ben by email, 10:00 for 45 minutes, three weeks.
    click(&wd, &testid("book-session")).await;
    wd.wait_for(&testid("booking-form"), WAIT).await.unwrap();
    let priya = clinic
        .demo()
        .staff_by_email("priya@demo.clinic")
        .unwrap()
        .id;
    set_value(&wd, &testid("booking-provider"), &priya.to_string()).await;
    guest_field(&wd, 0, "guest-first-name", "Ana").await;
    guest_field(&wd, 0, "guest-last-name", "Pereira").await;
    guest_field(&wd, 0, "guest-contact", ANA).await;
    click(&wd, &testid("add-guest")).await;
    guest_field(&wd, 1, "guest-first-name", "Ben").await;
    guest_field(&wd, 1, "guest-last-name", "Okoro").await;
    guest_field(&wd, 1, "guest-contact", "not an address").await;
    set_value(&wd, &testid("booking-date"), &day).await;
    set_value(&wd, &testid("booking-time"), "10:00").await;
    set_value(&wd, &testid("booking-duration"), "45").await;
    set_value(&wd, &testid("booking-repeat"), "3").await;
    // The domain's reading, by the field, as it is typed.
    click(&wd, &testid("booking-submit")).await;
    let said = wd
        .wait_for(&testid("error-guests.1.contact"), WAIT)
        .await
        .expect("the bad address named by its field")
        .text()
        .await
        .unwrap();
    assert!(!said.is_empty());
    guest_field(&wd, 1, "guest-contact", BEN).await;
    wd.wait_gone(&testid("error-guests.1.contact"), WAIT)
        .await
        .expect("the address is good now");
    wd.wait_for_text(&testid("booking-summary"), "Books 3 sessions", WAIT)
        .await
        .expect("three weekly sessions");
    // The form from its top, as it opens.
    wd.execute(
        "document.querySelector('[data-testid=\"booking-form\"]').scrollTop = 0; document.activeElement.blur();",
        vec![],
    )
    .await
    .unwrap();
    shot("calendar-book");
    click(&wd, &testid("booking-submit")).await;
    wd.wait_for_text(&testid("calendar-notice"), "3 sessions booked", WAIT)
        .await
        .expect("booked");

    // Each guest gets the booking at the SMTP server.
    poll_until(WAIT, "the booking emails", || async {
        Ok(
            (smtp.to(ANA, "is booked").len() == 3 && smtp.to(BEN, "is booked").len() == 3)
                .then_some(()),
        )
    })
    .await
    .unwrap();
    assert!(
        smtp.to(ANA, "is booked")[0]
            .body()
            .contains("Dr. Priya Shah")
    );

    // In the week, on its day at 10:00.
    let block = format!("{}[data-status=\"scheduled\"]", testid("calendar-session"));
    let ours = poll_until(WAIT, "the session in the week", || async {
        for el in wd.find_all(&block).await? {
            if el.text().await?.contains("Ana Pereira, Ben Okoro") {
                return Ok(Some(
                    el.attribute("data-visit-id").await?.unwrap_or_default(),
                ));
            }
        }
        Ok(None)
    })
    .await
    .unwrap();
    let ours_css = format!("{}[data-visit-id=\"{ours}\"]", testid("calendar-session"));
    wd.wait_for_text(&ours_css, "10:00–10:45", WAIT)
        .await
        .expect("at 10:00 for 45 minutes");
    shot("calendar-week");

    // Moved to 14:30: the week shows it there and the guests are told.
    click(&wd, &ours_css).await;
    click(&wd, &testid("reschedule")).await;
    set_value(&wd, &testid("move-time"), "14:30").await;
    click(&wd, &testid("move-save")).await;
    wd.wait_for_text(&ours_css, "14:30–15:15", WAIT)
        .await
        .expect("the session at its new time");
    poll_until(WAIT, "the guests told of the move", || async {
        Ok(
            (smtp.to(ANA, "has moved").len() == 1 && smtp.to(BEN, "has moved").len() == 1)
                .then_some(()),
        )
    })
    .await
    .unwrap();
    let moved = smtp.to(ANA, "has moved")[0].body();
    assert!(moved.contains("14:30"), "{moved}");
    wd.delete_session().await.unwrap();
}
