//! The real console at a busy front desk, end to end: the app binary driven over WebDriver in
//! WebKit under Xvfb, against a real clinic server on loopback. Run it through
//! `tests/e2e/env.sh` (the test suite does).
//!
//! Patients arrive, a provider has one on hold and another in a call; the receptionist reads
//! the queue as it is laid out for triage (Waiting, longest wait first, then With staff), finds
//! a patient by name, claims one and opens the call in the browser. The app's browser is a
//! recorder here (`FRONTDESK_OPENER`, like `BROWSER`), so the test sees the link it was given.

use frontdesk_client::api::ApiClient;
use frontdesk_domain::Command;
use frontdesk_testkit::webdriver::{WebDriver, keys, poll_until, testid};
use frontdesk_tests::TestClinic;
use frontdesk_tests::e2e::staff_does;
use frontdesk_tests::e2e::{
    WAIT, app_binary, click, fill_in_rita, link_recorder, links_opened, row, row_status, shot,
};

/// The patients' names down the queue, as drawn, with the section each row sits in.
async fn queue_as_drawn(wd: &WebDriver) -> Vec<(String, String)> {
    let script = r#"
        return [...document.querySelectorAll('[data-testid="queue-row"]')].map((r) => [
            r.dataset.section || '',
            r.querySelector('[data-testid="row-name"]').textContent.trim(),
        ]);"#;
    let v = wd.execute(script, vec![]).await.expect("the queue's rows");
    v.as_array()
        .expect("rows")
        .iter()
        .map(|p| {
            (
                p[0].as_str().unwrap_or_default().to_owned(),
                p[1].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// The titles of the X server's windows (the app's main window among them).
fn window_titles() -> String {
    let out = std::process::Command::new("xwininfo")
        .args(["-root", "-tree"])
        .output()
        .expect("xwininfo");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// What the desktop's clipboard holds, read as another program would (GTK, from outside).
fn clipboard() -> String {
    let script = "import gi\n\
gi.require_version('Gtk', '3.0')\n\
from gi.repository import Gtk, Gdk\n\
print(Gtk.Clipboard.get(Gdk.SELECTION_CLIPBOARD).wait_for_text() or '', end='')\n";
    let out = std::process::Command::new("/usr/bin/python3")
        .args(["-c", script])
        .output()
        .expect("python3 with GTK");
    assert!(out.status.success(), "reading the clipboard: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_front_desk_triages_finds_claims_and_opens_the_call() {
    let clinic = TestClinic::start().await;
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().join("app").to_string_lossy().to_string();
    let (opener, opened) = link_recorder(data.path());
    let opener = opener.to_string_lossy().to_string();
    let wd = WebDriver::from_env(
        app_binary(),
        &[
            ("FRONTDESK_DATA_DIR", data_dir.as_str()),
            ("FRONTDESK_OPENER", opener.as_str()),
        ],
    )
    .await
    .expect("app session");

    // Sign in as the receptionist. The address box's sample, typed as it stands, is refused as
    // a sample; the clinic's own address signs in.
    fill_in_rita(&wd).await;
    let field = wd.find(&testid("signin-server")).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys("https://clinic.example.org").await.unwrap();
    click(&wd, &testid("signin-submit")).await;
    let refusal = wd
        .wait_for(&testid("signin-error"), WAIT)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(refusal.contains("only an example"), "{refusal}");
    assert!(!refusal.contains("Add your clinic's name"), "{refusal}");
    let address = format!("{}/{}", clinic.url(), clinic.demo().clinic.slug);
    field.clear().await.unwrap();
    field.send_keys(&address).await.unwrap();
    click(&wd, &testid("signin-submit")).await;
    wd.wait_for_text(&testid("clinic-name"), "Demo", WAIT)
        .await
        .expect("signed in");

    // Morning rush in Reception: Ana first, then Ben, Cleo, Dan and Eli.
    let reception = clinic.room("Reception");
    let mut ids = Vec::new();
    for name in [
        "Ana Pereira",
        "Ben Okoro",
        "Cleo Park",
        "Dan Moss",
        "Eli Shaw",
    ] {
        ids.push(clinic.arrive(&reception, name).await);
    }
    let (ana, ben, cleo, dan) = (&ids[0], &ids[1], &ids[2], &ids[3]);
    // Dr Shah sees Ana and steps out (Ana on hold), then takes Ben into a call.
    let priya = clinic.sign_in("priya@demo.clinic").await;
    staff_does(&clinic, &priya, ana, Command::Claim).await;
    staff_does(&clinic, &priya, ana, Command::LeaveCall).await;
    staff_does(&clinic, &priya, ben, Command::Claim).await;
    row_status(&wd, ana, "on_hold").await;
    row_status(&wd, ben, "in_call").await;

    // Cleo has waited longest of those still waiting: she heads the Waiting section; Ana and
    // Ben are with staff, below it. The room is on every row.
    let drawn = queue_as_drawn(&wd).await;
    let waiting: Vec<&str> = drawn
        .iter()
        .filter(|(s, _)| s == "waiting")
        .map(|(_, n)| n.as_str())
        .collect();
    let with_staff: Vec<&str> = drawn
        .iter()
        .filter(|(s, _)| s == "with_staff")
        .map(|(_, n)| n.as_str())
        .collect();
    assert_eq!(
        waiting,
        ["Cleo Park", "Dan Moss", "Eli Shaw"],
        "as drawn: {drawn:?}"
    );
    assert_eq!(drawn[0].1, "Cleo Park", "the first row of all: {drawn:?}");
    assert_eq!(with_staff.len(), 2, "{drawn:?}");
    assert!(
        with_staff.contains(&"Ana Pereira") && with_staff.contains(&"Ben Okoro"),
        "{drawn:?}"
    );
    let section_count = wd
        .find(&format!(
            "{} {}",
            testid("section-waiting"),
            testid("section-count")
        ))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(section_count, "3");
    let room = wd
        .find(&format!("{} {}", row(cleo), testid("row-room")))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(room, "Reception");
    // The window's title counts those waiting, for the taskbar.
    poll_until(WAIT, "the waiting count in the window title", || async {
        Ok(window_titles()
            .contains("\"Frontdesk — 3 waiting\"")
            .then_some(()))
    })
    .await
    .unwrap();

    // "/" goes to the search box; a name narrows the queue to that patient.
    wd.press_keys("/").await.unwrap();
    let focused = wd.active_element().await.unwrap();
    assert_eq!(
        focused.attribute("data-testid").await.unwrap().as_deref(),
        Some("queue-search"),
        "the / key focuses the search"
    );
    focused.send_keys("dan").await.unwrap();
    poll_until(WAIT, "the search to narrow the queue", || async {
        let drawn = queue_as_drawn(&wd).await;
        Ok((drawn.len() == 1).then_some(drawn))
    })
    .await
    .map(|drawn| assert_eq!(drawn[0].1, "Dan Moss"))
    .unwrap();

    // Claim Dan, then open the call: the browser is handed Dan's call link.
    click(&wd, &row(dan)).await;
    wd.wait_for_text(&testid("details-name"), "Dan Moss", WAIT)
        .await
        .unwrap();
    click(&wd, &testid("action-claim")).await;
    row_status(&wd, dan, "in_call").await;
    wd.wait_for(&format!("{} {}", row(dan), testid("row-call-timer")), WAIT)
        .await
        .expect("the call timer on Dan's row");
    click(&wd, &format!("{} {}", row(dan), testid("row-open-call"))).await;
    let link = format!("https://meet.jit.si/frontdesk-demo-{dan}");
    assert_eq!(links_opened(&opened).await, std::slice::from_ref(&link));
    // A message to Dan: the "queued" note is gone once the server has it.
    let input = wd.find(&testid("message-input")).await.unwrap();
    input.send_keys("Joining you now").await.unwrap();
    click(&wd, &testid("message-send")).await;
    let admin = clinic.sign_in("admin@demo.clinic").await;
    poll_until(WAIT, "the message on the server", || async {
        let api = ApiClient::new(&clinic.url()).unwrap();
        let v = api.visit(&admin, dan.parse().unwrap()).await.unwrap();
        Ok(v.messages
            .iter()
            .any(|m| m.text.as_str() == "Joining you now")
            .then_some(()))
    })
    .await
    .unwrap();
    wd.wait_gone(&testid("message-queued"), WAIT)
        .await
        .expect("no 'message queued' note once confirmed");

    // Copy link puts the same link on the clipboard: the button says so once it has.
    click(&wd, &format!("{} {}", row(dan), testid("row-copy-link"))).await;
    wd.wait_for_text(
        &format!("{} {}", row(dan), testid("row-copy-link")),
        "Copied",
        WAIT,
    )
    .await
    .expect("the link copied");
    assert_eq!(clipboard(), link, "what a paste would give");

    // Esc in the search box clears it and brings the whole queue back: Dan is with staff now.
    wd.find(&testid("queue-search"))
        .await
        .unwrap()
        .send_keys(keys::ESCAPE)
        .await
        .unwrap();
    poll_until(WAIT, "the whole queue back", || async {
        let drawn = queue_as_drawn(&wd).await;
        Ok((drawn.len() == 5).then_some(drawn))
    })
    .await
    .map(|drawn| {
        assert_eq!(drawn[0].1, "Cleo Park", "{drawn:?}");
        assert!(
            drawn.contains(&("with_staff".into(), "Dan Moss".into())),
            "{drawn:?}"
        );
    })
    .unwrap();

    // A patient waits in Dr Shah's room: not in Reception's queue, but in "All rooms", with
    // the room on the row.
    let shah_room = clinic.room("Dr. Shah's room");
    let fay = clinic.arrive(&shah_room, "Fay Lund").await;
    // The room filter appears once another room's patient is in the engine's queue.
    let filter = wd.wait_for(&testid("room-filter"), WAIT).await.unwrap();
    let options = wd
        .execute(
            "return [...arguments[0].options].map((o) => o.textContent.trim());",
            vec![filter.as_arg()],
        )
        .await
        .unwrap();
    assert_eq!(options[0], "My rooms (5)", "{options}");
    assert_eq!(options[1], "All rooms (6)", "{options}");
    assert!(wd.find(&row(&fay)).await.is_err(), "not in my rooms' queue");
    filter.select_value("all").await.unwrap();
    let fay_room = wd
        .wait_for(&format!("{} {}", row(&fay), testid("row-room")), WAIT)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(fay_room, "Dr. Shah's room");
    wd.find(&testid("room-filter"))
        .await
        .unwrap()
        .select_value("mine")
        .await
        .unwrap();
    wd.wait_gone(&row(&fay), WAIT).await.unwrap();

    // "?" lists the shortcuts (from the queue, not while typing in a field); Esc closes it.
    click(&wd, &row(cleo)).await;
    wd.press_keys("?").await.unwrap();
    let list = wd
        .wait_for(&testid("keys-list"), WAIT)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(list.contains("Search the queue by name"), "{list}");
    wd.press_keys(keys::ESCAPE).await.unwrap();
    wd.wait_gone(&testid("keys-dialog"), WAIT).await.unwrap();

    // A long morning: with 20 in the queue, at least 16 rows are in view at 1280×800.
    for i in 0..15 {
        clinic
            .arrive(&reception, &format!("Walk-in Patient {}", i + 1))
            .await;
    }
    poll_until(WAIT, "twenty rows", || async {
        let drawn = queue_as_drawn(&wd).await;
        Ok((drawn.len() == 20).then_some(()))
    })
    .await
    .unwrap();
    let in_view = wd
        .execute(
            r#"
            const list = document.querySelector('[data-testid="queue-list"]').getBoundingClientRect();
            const bottom = Math.min(list.bottom, window.innerHeight);
            return [...document.querySelectorAll('[data-testid="queue-row"]')]
                .filter((r) => { const b = r.getBoundingClientRect(); return b.top >= list.top - 1 && b.bottom <= bottom + 1; })
                .length;"#,
            vec![],
        )
        .await
        .unwrap();
    let size = wd
        .execute(
            r#"
            const list = document.querySelector('[data-testid="queue-list"]').getBoundingClientRect();
            const row = document.querySelector('[data-testid="queue-row"]').getBoundingClientRect();
            return `${window.innerWidth}x${window.innerHeight} (list from ${list.top} to ${list.bottom}, rows ${row.height} px)`;"#,
            vec![],
        )
        .await
        .unwrap();
    shot("queue-triage");
    assert!(
        in_view.as_u64().unwrap_or(0) >= 16,
        "{in_view} rows in view in a {size} window"
    );
    wd.delete_session().await.unwrap();
}
