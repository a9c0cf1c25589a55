//! The real console, end to end: the app binary driven over WebDriver in WebKit under Xvfb,
//! against a real clinic server on loopback, with a real notification recorder on D-Bus and a
//! real unlocked Secret Service. Run it through `tests/e2e/env.sh` (the test suite does).
//!
//! One front-desk shift, as a receptionist lives it: sign in, a patient arrives and is
//! announced once, claim, leave the call (on hold), transfer to a provider, go unavailable,
//! message a patient, lose the server, act offline, get it back, lock the screen.

use frontdesk_client::api::ApiClient;
use frontdesk_tests::e2e::{NotificationLog, WebDriver, poll_until, testid};
use frontdesk_tests::{CuttingProxy, TestClinic};
use serde_json::Value;
use std::path::PathBuf;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);
const RITA: &str = "reception@demo.clinic";

fn app_binary() -> PathBuf {
    // tests/…/deps/e2e_console-HASH → the workspace's target/debug/frontdesk.
    let exe = std::env::current_exe().expect("test binary path");
    let debug = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/debug");
    let app = debug.join("frontdesk");
    assert!(
        app.exists(),
        "build the app first: {} is missing",
        app.display()
    );
    app
}

/// Takes a screenshot of the desktop (the app's window on Xvfb) into the suite's screenshot
/// folder (the README shows some of them). The X server's own picture, as a person would see
/// it: WebKitWebDriver's element snapshot does not finish under Xvfb here.
fn shot(name: &str) {
    let dir = std::env::var_os("FRONTDESK_SCREENSHOT_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("frontdesk-screenshots"));
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    let path = dir.join(format!("{name}.png"));
    let status = std::process::Command::new("import")
        .args(["-window", "root"])
        .arg(&path)
        .status()
        .expect("imagemagick's import");
    assert!(status.success(), "screenshot {name}");
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    assert!(
        size > 10_000,
        "screenshot {name} has a picture ({size} bytes)"
    );
}

fn row(visit: &str) -> String {
    format!("[data-testid=\"queue-row\"][data-visit-id=\"{visit}\"]")
}

async fn row_status(wd: &WebDriver, visit: &str, status: &str) {
    let css = format!("{}[data-status=\"{status}\"]", row(visit));
    wd.wait_for(&css, WAIT)
        .await
        .unwrap_or_else(|e| panic!("row {visit} to be {status}: {e}"));
}

/// The server's view of a visit, as the clinic's admin sees it.
async fn server_visit(clinic: &TestClinic, admin: &str, id: &str) -> frontdesk_domain::Visit {
    ApiClient::new(&clinic.url())
        .unwrap()
        .visit(admin, id.parse().unwrap())
        .await
        .unwrap()
}

/// What the keyring holds for a key, read with the desktop's own tool.
fn keyring_lookup(user: &str) -> Option<String> {
    let out = std::process::Command::new("secret-tool")
        .args(["lookup", "service", "frontdesk", "username", user])
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    (!text.trim().is_empty()).then(|| text.trim().to_string())
}

/// What the desktop does when someone clicks a notification: the daemon emits
/// `ActionInvoked(id, "default")` on the session bus (here the recorder does, on request).
fn click_notification(id: u32) {
    let status = std::process::Command::new("gdbus")
        .args([
            "call",
            "--session",
            "--dest",
            "org.freedesktop.Notifications",
            "--object-path",
            "/org/freedesktop/Notifications",
            "--method",
            "org.freedesktop.DBus.Mock.EmitSignal",
            "org.freedesktop.Notifications",
            "ActionInvoked",
            "us",
        ])
        .arg(format!("[<uint32 {id}>, <'default'>]"))
        .stdout(std::process::Stdio::null())
        .status()
        .expect("gdbus");
    assert!(status.success(), "clicking notification {id}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_front_desk_shift_in_the_real_app() {
    let mut clinic = TestClinic::start().await;
    let proxy = CuttingProxy::start(clinic.addr).await;
    let admin = clinic.sign_in("admin@demo.clinic").await;
    let notices = NotificationLog::from_env().expect("run under tests/e2e/env.sh");
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().to_string_lossy().to_string();
    let wd = WebDriver::from_env(app_binary(), &[("FRONTDESK_DATA_DIR", data_dir.as_str())])
        .await
        .expect("app session");

    // Sign in, with "keep me signed in": the token lands in the keyring.
    let address = format!("{}/{}", proxy.url(), clinic.demo.clinic.slug);
    wd.wait_for(&testid("signin-server"), WAIT).await.unwrap();
    let field = wd.find(&testid("signin-server")).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(&address).await.unwrap();
    wd.find(&testid("signin-email"))
        .await
        .unwrap()
        .send_keys(RITA)
        .await
        .unwrap();
    wd.find(&testid("signin-password"))
        .await
        .unwrap()
        .send_keys("demo-reception")
        .await
        .unwrap();
    let remember = wd.find(&testid("signin-remember")).await.unwrap();
    if !remember.is_selected().await.unwrap() {
        remember.click().await.unwrap();
    }
    shot("sign-in");
    wd.find(&testid("signin-submit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    if let Err(e) = wd.wait_for_text(&testid("clinic-name"), "Demo", WAIT).await {
        shot("sign-in-failed");
        let error = match wd.find(&testid("signin-error")).await {
            Ok(el) => el.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        panic!("signed in: {e}; the sign-in form says {error:?}");
    }
    let token = keyring_lookup(&format!("token|{}|{RITA}", proxy.url()));
    assert!(
        token.is_some_and(|t| t.len() > 20),
        "the token is in the keyring"
    );

    // A patient arrives: the row appears and exactly one desktop alert is recorded.
    let before = notices.count();
    let ana = clinic
        .arrive(&clinic.room("Reception"), "Ana Pereira")
        .await;
    wd.wait_for(&row(&ana), WAIT).await.unwrap();
    let recorded = notices.wait_for_count(before + 1, WAIT).await.unwrap();
    let alert = &recorded[before];
    assert_eq!(alert.summary, "Ana Pereira is waiting");
    assert_eq!(alert.body, "Arrived in Reception");
    assert_eq!(alert.app_name, "Frontdesk");

    // Clicking the alert brings the console forward with that patient selected. The
    // recorder numbers notifications from 1, so Ana's is the next after those before it.
    click_notification(before as u32 + 1);
    wd.wait_for_text(&testid("details-name"), "Ana Pereira", WAIT)
        .await
        .unwrap();

    // Claim, then leave the call: the patient is on hold, ready for a provider.
    wd.find(&row(&ana)).await.unwrap().click().await.unwrap();
    wd.wait_for_text(&testid("details-name"), "Ana Pereira", WAIT)
        .await
        .unwrap();
    wd.find(&testid("action-claim"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    row_status(&wd, &ana, "in_call").await;
    wd.wait_for(&testid("action-leave-call"), WAIT)
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    row_status(&wd, &ana, "on_hold").await;
    shot("queue-details");

    // Message the patient, with a quick message.
    let input = wd.find(&testid("message-input")).await.unwrap();
    input
        .send_keys("We are running 5 minutes late")
        .await
        .unwrap();
    wd.find(&testid("message-send"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    poll_until(WAIT, "the message on the server", || async {
        let v = server_visit(&clinic, &admin, &ana).await;
        Ok(v.messages
            .iter()
            .any(|m| m.text.as_str() == "We are running 5 minutes late")
            .then_some(()))
    })
    .await
    .unwrap();

    // Transfer to Dr. Shah's queue with a note.
    let priya = clinic
        .demo
        .staff_by_email("priya@demo.clinic")
        .unwrap()
        .id
        .to_string();
    wd.find(&testid("action-transfer"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wd.wait_for(&testid("transfer-kind-provider"), WAIT)
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wd.wait_for(&testid("transfer-provider"), WAIT)
        .await
        .unwrap()
        .select_value(&priya)
        .await
        .unwrap();
    wd.find(&testid("dialog-note"))
        .await
        .unwrap()
        .send_keys("Repeat prescription")
        .await
        .unwrap();
    wd.find(&testid("dialog-confirm"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    poll_until(WAIT, "the transfer on the server", || async {
        let v = server_visit(&clinic, &admin, &ana).await;
        Ok(
            (v.assigned_provider.map(|p| p.to_string()) == Some(priya.clone())
                && v.status == frontdesk_domain::Status::Waiting)
                .then_some(()),
        )
    })
    .await
    .unwrap();

    // Going unavailable shows at once and reaches the server.
    wd.find(&testid("availability"))
        .await
        .unwrap()
        .select_value("unavailable")
        .await
        .unwrap();
    let rita_id = clinic.demo.staff_by_email(RITA).unwrap().id;
    poll_until(WAIT, "unavailable on the server", || async {
        let snap = clinic.snapshot(&admin).await;
        Ok(snap
            .staff
            .iter()
            .any(|s| {
                s.id == rita_id && s.availability == frontdesk_domain::Availability::Unavailable
            })
            .then_some(()))
    })
    .await
    .unwrap();
    wd.find(&testid("availability"))
        .await
        .unwrap()
        .select_value("available")
        .await
        .unwrap();

    // The server goes away. The console says so, keeps the queue, and takes an action.
    let ben = clinic.arrive(&clinic.room("Reception"), "Ben Okoro").await;
    wd.wait_for(&row(&ben), WAIT).await.unwrap();
    proxy.set_down(true);
    clinic.stop().await;
    wd.wait_for(
        &format!("{}[data-state=\"offline\"]", testid("connection-banner")),
        WAIT,
    )
    .await
    .unwrap();
    wd.find(&row(&ben)).await.unwrap().click().await.unwrap();
    wd.wait_for_text(&testid("details-name"), "Ben Okoro", WAIT)
        .await
        .unwrap();
    wd.find(&testid("action-claim"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let banner = wd
        .wait_for_text(
            &testid("connection-banner"),
            "1 action waiting to send",
            WAIT,
        )
        .await
        .unwrap();
    assert!(banner.contains("Offline"), "{banner}");
    assert!(banner.contains("showing the queue as of"), "{banner}");
    wd.wait_for(&format!("{}[data-pending=\"true\"]", row(&ben)), WAIT)
        .await
        .unwrap();
    shot("offline");

    // Back online: the claim is sent, once.
    clinic.restart().await;
    proxy.set_down(false);
    row_status(&wd, &ben, "in_call").await;
    wd.wait_gone(&testid("connection-banner"), WAIT)
        .await
        .unwrap();
    let v = server_visit(&clinic, &admin, &ben).await;
    let claims = v
        .history
        .iter()
        .filter(|e| matches!(e.change, frontdesk_domain::Change::Claimed { .. }))
        .count();
    assert_eq!(claims, 1, "applied once");

    // Lock: no patient detail on screen; the password unlocks (this is not a station).
    wd.find(&testid("lock"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wd.wait_for(&testid("lock-screen"), WAIT).await.unwrap();
    let page = wd.page_source().await.unwrap();
    assert!(
        !page.contains("Ana Pereira") && !page.contains("Ben Okoro"),
        "nothing shows"
    );
    shot("lock");
    wd.find(&testid("lock-pin"))
        .await
        .unwrap()
        .send_keys("0000")
        .await
        .unwrap();
    wd.find(&testid("lock-submit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wd.wait_for(&testid("lock-error"), WAIT).await.unwrap();
    let pin = wd.find(&testid("lock-pin")).await.unwrap();
    pin.clear().await.unwrap();
    pin.send_keys("demo-reception").await.unwrap();
    wd.find(&testid("lock-submit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wd.wait_for(&row(&ben), WAIT).await.unwrap();

    // One alert per arrival over the whole shift.
    let all: Vec<Value> = notices
        .read()
        .unwrap()
        .iter()
        .filter(|n| n.app_name == "Frontdesk")
        .map(|n| Value::String(n.summary.clone()))
        .collect();
    assert_eq!(
        all,
        vec![
            Value::String("Ana Pereira is waiting".into()),
            Value::String("Ben Okoro is waiting".into())
        ]
    );
    wd.delete_session().await.unwrap();
}
