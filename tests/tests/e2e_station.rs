//! A clinic station, end to end: the app binary driven over WebDriver in WebKit under Xvfb,
//! against a real clinic server on loopback, with the notification recorder on D-Bus and a real
//! unlocked Secret Service holding the station's device token. Run it through
//! `tests/e2e/env.sh` (the test suite does).
//!
//! The receptionist signs in on the front desk's station. While it is locked, an arrival is
//! announced without the patient's name; unlocked with her PIN, names come back. Then Dr Shah
//! switches on with hers: the console changes person on the same WebSocket connection (the
//! server opens no new stream) and the sign-in page never shows.
//!
//! From the station's providers board the receptionist asks Dr Shah for a session: she declines
//! with a note, which the station shows with a Dismiss; a second request she accepts, and the
//! station joins the call (the app's browser is a recorder here, `FRONTDESK_OPENER`).

use frontdesk_domain::{Command, Note};
use frontdesk_testkit::webdriver::{WebDriver, poll_until, testid};
use frontdesk_tests::TestClinic;
use frontdesk_tests::e2e::{
    WAIT, app_binary, click, fill, link_recorder, links_opened, row, shot, sign_in_rita_at,
    staff_does,
};
use frontdesk_tests::notifications::{Notification, NotificationLog};

/// Puts a secret in the desktop's keyring where the console looks for it, with the desktop's
/// own tool (as the keyring crate files it: service, username, target).
fn keyring_store(user: &str, secret: &str) {
    use std::io::Write;
    let mut child = std::process::Command::new("secret-tool")
        .args(["store", "--label", "Frontdesk test"])
        .args([
            "service",
            "frontdesk",
            "username",
            user,
            "target",
            "default",
        ])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("secret-tool");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(secret.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success(), "stored {user}");
}

/// A patient arrives in Reception; returns the one desktop alert recorded for it.
async fn arrival_alert(clinic: &TestClinic, notices: &NotificationLog, name: &str) -> Notification {
    let before = notices.count();
    clinic.arrive(&clinic.room("Reception"), name).await;
    let recorded = notices.wait_for_count(before + 1, WAIT).await.unwrap();
    recorded[before].clone()
}

/// Unlocks with a PIN, as the person given (None: the one signed in).
async fn unlock(wd: &WebDriver, email: Option<&str>, pin: &str) {
    if let Some(email) = email {
        click(wd, &testid("lock-switch-user")).await;
        fill(wd, "lock-email", email).await;
    }
    fill(wd, "lock-pin", pin).await;
    click(wd, &testid("lock-submit")).await;
}

/// Watches the page for the sign-in form from now on, however briefly it shows: whether it
/// has shown since (the page's own observer sees every change to the document).
const WATCH_FOR_SIGN_IN: &str = r#"
    window.__signInShown = !!document.querySelector('[data-testid="signin-server"]');
    new MutationObserver(() => {
        if (document.querySelector('[data-testid="signin-server"]')) window.__signInShown = true;
    }).observe(document.documentElement, { childList: true, subtree: true });
    return window.__signInShown;"#;

async fn sign_in_shown(wd: &WebDriver) -> bool {
    let shown = wd
        .execute("return window.__signInShown === true || !!document.querySelector('[data-testid=\"signin-server\"]');", vec![])
        .await
        .unwrap();
    shown.as_bool().unwrap_or(true)
}

/// One app at a time: tauri-driver serves one session, and a second copy of the app would hand
/// over to the first (it is single-instance).
static ONE_APP: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The front desk's station (registered by the clinic's admin, its device token in the
/// keyring) and the app on it signed in as the receptionist; `env` goes to the app too.
async fn front_desk_station(
    clinic: &TestClinic,
    data: &std::path::Path,
    env: &[(&str, &str)],
) -> WebDriver {
    let device = clinic.register_station("Front desk 1").await;
    keyring_store(&format!("station|{}", clinic.url()), &device);
    let data_dir = data.join("app").to_string_lossy().to_string();
    let mut env = env.to_vec();
    env.push(("FRONTDESK_DATA_DIR", data_dir.as_str()));
    let wd = WebDriver::from_env(app_binary(), &env)
        .await
        .expect("app session");
    let address = format!("{}/{}", clinic.url(), clinic.demo().clinic.slug);
    sign_in_rita_at(&wd, &address).await;
    wd
}

/// Asks Dr Shah for a session with `patient` on the providers board; returns the request's
/// visit once the station shows it waiting for her.
async fn request_dr_shah(wd: &WebDriver, shah: &str, patient: &str) -> String {
    click(wd, &format!("{shah} {}", testid("request-session"))).await;
    fill(wd, "request-patient", patient).await;
    click(wd, &testid("request-send")).await;
    let css = "[data-testid=\"my-request\"][data-answer=\"pending\"]";
    let pending = wd
        .wait_for(css, WAIT)
        .await
        .expect("the request waiting for Dr Shah");
    pending.attribute("data-visit-id").await.unwrap().unwrap()
}

fn my_request(visit: &str, answer: &str) -> String {
    format!("[data-testid=\"my-request\"][data-visit-id=\"{visit}\"][data-answer=\"{answer}\"]")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_station_asks_dr_shah_for_a_session_is_declined_with_a_note_then_accepted_and_joins() {
    let _one = ONE_APP.lock().await;
    let clinic = TestClinic::start().await;
    let data = tempfile::tempdir().unwrap();
    let (opener, opened) = link_recorder(data.path());
    let opener = opener.to_string_lossy().to_string();
    let wd = front_desk_station(
        &clinic,
        data.path(),
        &[("FRONTDESK_OPENER", opener.as_str())],
    )
    .await;
    let priya = clinic.sign_in("priya@demo.clinic").await;
    let shah_id = clinic
        .demo()
        .staff_by_email("priya@demo.clinic")
        .unwrap()
        .id;
    let shah = format!("[data-testid=\"provider\"][data-provider-id=\"{shah_id}\"]");
    click(&wd, &testid("tab-providers")).await;

    // Dr Shah declines the first request with a note: the station shows it, with Dismiss.
    let sam = request_dr_shah(&wd, &shah, "Sam Rivera").await;
    let note = "Fully booked today, please try Dr Haddad";
    let decline = Command::Decline {
        note: Note::parse(note).unwrap(),
    };
    staff_does(&clinic, &priya, &sam, decline).await;
    let declined = my_request(&sam, "declined");
    wd.wait_for(&declined, WAIT).await.expect("declined");
    let shown = wd
        .find(&format!("{declined} {}", testid("request-note")))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(shown, note);
    click(&wd, &format!("{declined} {}", testid("request-dismiss"))).await;
    wd.wait_gone(&declined, WAIT).await.expect("dismissed");

    // The second she accepts and enters: the station joins the call, which opens in the
    // browser with the visit's link.
    let tia = request_dr_shah(&wd, &shah, "Tia Novak").await;
    staff_does(&clinic, &priya, &tia, Command::AcceptAndEnter).await;
    let accepted = my_request(&tia, "accepted");
    wd.wait_for(&accepted, WAIT).await.expect("accepted");
    click(&wd, &format!("{accepted} {}", testid("request-join"))).await;
    let link = format!("https://meet.jit.si/frontdesk-demo-{tia}");
    assert_eq!(links_opened(&opened).await, [link]);
    let rita = clinic
        .demo()
        .staff_by_email("reception@demo.clinic")
        .unwrap()
        .id;
    let admin = clinic.sign_in("admin@demo.clinic").await;
    let visit = clinic
        .snapshot(&admin)
        .await
        .visits
        .into_iter()
        .find(|v| v.id.to_string() == tia)
        .expect("Tia's visit");
    assert!(
        visit.in_call.contains(&rita) && visit.in_call.contains(&shah_id),
        "the station joined Dr Shah in the call: {:?}",
        visit.in_call
    );
    wd.delete_session().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_station_hides_names_while_locked_and_switches_person_on_the_same_connection() {
    let _one = ONE_APP.lock().await;
    let clinic = TestClinic::start().await;
    let notices = NotificationLog::from_env().expect("run under tests/e2e/env.sh");
    let data = tempfile::tempdir().unwrap();
    let wd = front_desk_station(&clinic, data.path(), &[]).await;

    // Unlocked, an arrival is announced by name.
    let alert = arrival_alert(&clinic, &notices, "Ana Pereira").await;
    assert_eq!(alert.summary, "Ana Pereira is waiting");

    // Locked: the next arrival's alert says a patient is waiting, and nothing of who.
    click(&wd, &testid("lock")).await;
    wd.wait_for_text(&testid("lock-screen"), "This station is locked", WAIT)
        .await
        .unwrap();
    let alert = arrival_alert(&clinic, &notices, "Ben Okoro").await;
    assert_eq!(alert.summary, "A patient is waiting");
    assert_eq!(alert.body, "Arrived in Reception");
    for part in ["Ben", "Okoro"] {
        assert!(
            !alert.summary.contains(part) && !alert.body.contains(part),
            "no name in {alert:?}"
        );
    }
    let page = wd.page_source().await.unwrap();
    assert!(!page.contains("Ben Okoro") && !page.contains("Ana Pereira"));
    shot("station-locked");

    // Rita unlocks with her PIN: the queue again, and alerts with names again.
    unlock(&wd, None, "2222").await;
    wd.wait_gone(&testid("lock-screen"), WAIT).await.unwrap();
    wd.wait_for_text(".me-name", "Rita Reception", WAIT)
        .await
        .unwrap();
    let alert = arrival_alert(&clinic, &notices, "Cleo Park").await;
    assert_eq!(alert.summary, "Cleo Park is waiting");
    let streams = clinic.streams_opened();

    // Dr Shah switches on at the station with her PIN, the page watched throughout.
    click(&wd, &testid("lock")).await;
    wd.wait_for(&testid("lock-screen"), WAIT).await.unwrap();
    wd.execute(WATCH_FOR_SIGN_IN, vec![]).await.unwrap();
    unlock(&wd, Some("priya@demo.clinic"), "3333").await;
    poll_until(WAIT, "Dr Shah's console", || async {
        assert!(!sign_in_shown(&wd).await, "the sign-in page showed");
        let name = match wd.find(".me-name").await {
            Ok(el) => el.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        Ok((name == "Dr. Priya Shah").then_some(()))
    })
    .await
    .unwrap();
    assert!(!sign_in_shown(&wd).await, "the sign-in page never showed");
    assert_eq!(
        clinic.streams_opened(),
        streams,
        "the same WebSocket connection carries Dr Shah's console"
    );
    // And it is live for her: a new arrival shows.
    let dee = clinic.arrive(&clinic.room("Reception"), "Dee Ahmed").await;
    wd.wait_for(&row(&dee), WAIT).await.unwrap();
    assert_eq!(clinic.streams_opened(), streams);
    wd.delete_session().await.unwrap();
}
