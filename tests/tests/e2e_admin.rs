//! The Admin workspace, end to end: the app binary driven over WebDriver in WebKit under Xvfb,
//! against a real clinic server on loopback, and the patient's front door in headless Chromium.
//! Run it through `tests/e2e/env.sh` (the test suite does).
//!
//! The demo admin signs in, opens Admin and adds a room: office hours (the line beside them
//! says whether the room would be open now, as the server answers for the hours as typed) and
//! an intake question. The room's front-door link, copied from the room, opens in a browser: it
//! shows the hours and takes the patient in, and the waiting screen asks the question. Then the
//! staff list; then the receptionist signs in on the same console and has no Admin (nor
//! Calendar nor Reports).

use frontdesk_testkit::webdriver::{ChromiumLaunch, WebDriver, testid};
use frontdesk_tests::TestClinic;
use frontdesk_tests::e2e::{WAIT, app_binary, click, fill, shot, sign_in_rita_at};
use serde_json::json;

const ROOM: &str = "Skin clinic";
const QUESTION: &str = "What would you like us to look at?";

/// Today's weekday in the clinic's time zone (the demo clinic keeps UTC), 0 = Monday.
fn today() -> usize {
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        / 86_400;
    // 1 January 1970 was a Thursday.
    ((days + 3) % 7) as usize
}

/// Sets day `day`'s first opening hours in the room editor (opening the day if it is closed).
async fn set_hours(wd: &WebDriver, day: usize, opens: &str, closes: &str) {
    let first = testid(&format!("hours-{day}-0-opens"));
    if wd.find(&first).await.is_err() {
        press(wd, &format!("hours-add-{day}")).await;
    }
    fill(wd, &format!("hours-{day}-0-opens"), opens).await;
    fill(wd, &format!("hours-{day}-0-closes"), closes).await;
}

/// Scrolls a control of the editor to the middle of its pane (WebKit's driver does not scroll
/// a nested pane to an element for us).
async fn into_view(wd: &WebDriver, id: &str) {
    let css = testid(id);
    wd.wait_for(&css, WAIT).await.expect(id);
    wd.execute(
        "document.querySelector(arguments[0]).scrollIntoView({block: 'center'})",
        vec![json!(css)],
    )
    .await
    .unwrap();
}

async fn press(wd: &WebDriver, id: &str) {
    into_view(wd, id).await;
    click(wd, &testid(id)).await;
}

async fn type_in(wd: &WebDriver, id: &str, text: &str) {
    into_view(wd, id).await;
    fill(wd, id, text).await;
}

async fn sign_in(wd: &WebDriver, address: &str, email: &str, password: &str) {
    fill(wd, "signin-server", address).await;
    fill(wd, "signin-email", email).await;
    fill(wd, "signin-password", password).await;
    click(wd, &testid("signin-submit")).await;
    wd.wait_for_text(&testid("clinic-name"), "Demo", WAIT)
        .await
        .expect("signed in");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_sets_up_a_room_its_front_door_follows_and_reception_has_no_admin() {
    let clinic = TestClinic::start().await;
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().join("app").to_string_lossy().to_string();
    let wd = WebDriver::from_env(app_binary(), &[("FRONTDESK_DATA_DIR", data_dir.as_str())])
        .await
        .expect("app session");
    let address = format!("{}/{}", clinic.url(), clinic.demo().clinic.slug);
    sign_in(&wd, &address, "admin@demo.clinic", "demo-admin").await;

    // Admin, from the header; the rooms the clinic has.
    click(&wd, &testid("workspace-admin")).await;
    wd.wait_for_text(&testid("room-list"), "Reception", WAIT)
        .await
        .expect("the clinic's rooms");

    // A new room: its hours today only in the first minute of the day, so closed now...
    click(&wd, &testid("room-new")).await;
    fill(&wd, "room-name", ROOM).await;
    let day = today();
    set_hours(&wd, day, "00:00", "00:01").await;
    wd.wait_for_text(&testid("hours-preview"), "Closed now — opens", WAIT)
        .await
        .expect("closed for those hours");
    // ... then all day today: open now.
    fill(&wd, &format!("hours-{day}-0-closes"), "23:59").await;
    wd.wait_for("[data-testid=\"hours-preview\"][data-open=\"true\"]", WAIT)
        .await
        .expect("open for those hours");
    let preview = wd
        .find(&testid("hours-preview"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(preview.trim(), "Open now");
    // A slip shows as it is typed and goes when it is fixed.
    fill(&wd, &format!("hours-{day}-0-opens"), "9am").await;
    wd.wait_for_text(&testid("hours-error"), "HH:MM", WAIT)
        .await
        .expect("the slip shown");
    fill(&wd, &format!("hours-{day}-0-opens"), "00:00").await;
    wd.wait_gone(&testid("hours-error"), WAIT)
        .await
        .expect("the slip gone");

    press(&wd, "question-add").await;
    type_in(&wd, "question-0-label", QUESTION).await;
    type_in(&wd, "room-emergency", "In an emergency call 000.").await;
    press(&wd, "room-save").await;
    wd.wait_for(&testid("room-link"), WAIT)
        .await
        .expect("the saved room's front-door link");
    let front_door = wd
        .execute(
            "return document.querySelector('[data-testid=room-link]').value",
            vec![],
        )
        .await
        .unwrap()
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        front_door.starts_with(&format!("{}/join/demo/", clinic.url())),
        "{front_door}"
    );
    wd.wait_for_text(&testid("room-list"), ROOM, WAIT)
        .await
        .expect("the new room listed");
    // The saved room opens again with the server's answer for its hours.
    wd.wait_for("[data-testid=\"hours-preview\"][data-open=\"true\"]", WAIT)
        .await
        .expect("open now, saved");
    wd.execute(
        "document.querySelector('[data-testid=room-editor]').scrollIntoView({block: 'start'})",
        vec![],
    )
    .await
    .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    shot("admin-rooms");

    // The server has the room as it was set.
    let admin = clinic.sign_in("admin@demo.clinic").await;
    let rooms = reqwest::Client::new()
        .get(format!("{}/v1/rooms", clinic.url()))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    let saved = rooms
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == ROOM)
        .expect("the room on the server")
        .clone();
    assert_eq!(saved["intake_questions"], json!([QUESTION]));
    assert!(
        saved["office_hours"]
            .as_array()
            .unwrap()
            .contains(&json!({"day": day, "opens": "00:00", "closes": "23:59"})),
        "{saved}"
    );

    // The patient opens the link in a browser: open now, the hours shown, and in they come to
    // the question.
    let browser = WebDriver::start_chromium(ChromiumLaunch::from_env().phone_screen(390, 844))
        .await
        .expect("chromium");
    browser.navigate(&front_door).await.unwrap();
    let page = browser
        .wait_for("main", WAIT)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(ROOM), "{page}");
    // The hours sit folded under "Office hours" while the room is open.
    let hours = browser
        .execute(
            "return document.querySelector('#office-hours').textContent",
            vec![],
        )
        .await
        .unwrap();
    let day_name = frontdesk_server::hours::day_name(day as u8);
    assert!(
        hours
            .as_str()
            .unwrap()
            .contains(&format!("{day_name} 00:00–23:59")),
        "the office hours: {hours}"
    );
    assert!(page.contains("In an emergency call 000."), "{page}");
    assert!(
        browser.find("#closed").await.is_err(),
        "not closed now: {page}"
    );
    browser.type_into("#name", "Ada Moss").await.unwrap();
    browser.type_into("#phone", "0400 111 222").await.unwrap();
    browser.click("button[type=submit]").await.unwrap();
    browser
        .wait_for_text("#intake", QUESTION, WAIT)
        .await
        .expect("the intake question on the waiting screen");
    browser.delete_session().await.unwrap();

    // Staff: everyone, with roles and rooms.
    click(&wd, &testid("admin-section-staff")).await;
    wd.wait_for_text(&testid("staff-table"), "Rita", WAIT)
        .await
        .expect("the staff list");
    click(&wd, "[data-testid=\"staff-row\"] .row-link").await;
    wd.wait_for(&testid("staff-editor"), WAIT).await.unwrap();
    // The X server's picture follows WebKit's painting, a frame or two behind the page.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    shot("admin-staff");

    // The receptionist on this console: no Admin, nor Calendar nor Reports.
    click(&wd, &testid("open-settings")).await;
    click(&wd, &testid("sign-out")).await;
    sign_in_rita_at(&wd, &address).await;
    for w in ["admin", "calendar", "reports"] {
        assert!(
            wd.find(&testid(&format!("workspace-{w}"))).await.is_err(),
            "the receptionist has no {w} button"
        );
    }
    assert!(wd.find(&testid("admin-screen")).await.is_err());
    wd.delete_session().await.unwrap();
}
