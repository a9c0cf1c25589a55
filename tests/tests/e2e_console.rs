//! The real console, end to end: the app binary driven over WebDriver in WebKit under Xvfb,
//! against a real clinic server on loopback, with a real notification recorder on D-Bus and a
//! real unlocked Secret Service. Run it through `tests/e2e/env.sh` (the test suite does).
//!
//! One front-desk shift, as a receptionist lives it: sign in, a patient arrives and is
//! announced once, claim, leave the call (on hold), transfer to a provider, go unavailable,
//! message a patient, lose the server, act offline, get it back, lock the screen.

use frontdesk_client::api::ApiClient;
use frontdesk_testkit::webdriver::{WebDriver, poll_until, testid};
use frontdesk_tests::e2e::{RITA, WAIT, app_binary, click, fill_in_rita, row, row_status, shot};
use frontdesk_tests::notifications::NotificationLog;
use frontdesk_tests::{CuttingProxy, TestClinic};
use serde_json::Value;
use std::path::PathBuf;
use std::time::Duration;

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

/// What the page looks like around a button a click seemed not to reach: what is at its
/// centre, what has focus, which dialog is open and the state's screen (for a failure message).
async fn where_clicks_go(wd: &WebDriver, id: &str) -> String {
    let script = r#"
        const b = document.querySelector(`[data-testid="${arguments[0]}"]`);
        const r = b && b.getBoundingClientRect();
        const at = r && document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
        const describe = (e) => e ? `${e.tagName}#${e.id}.${e.className} [${e.getAttribute('data-testid')}] "${(e.innerText || '').slice(0, 60)}"` : 'none';
        return JSON.stringify({
            button: describe(b), rect: r, disabled: b && b.disabled, at_centre: describe(at),
            focus: describe(document.activeElement),
            dialogs: [...document.querySelectorAll('[role=dialog]')].map(describe),
            toasts: [...document.querySelectorAll('.toast, [role=alert]')].map(describe),
            viewport: [window.innerWidth, window.innerHeight],
        });"#;
    match wd.execute(script, vec![serde_json::json!(id)]).await {
        Ok(v) => v.as_str().unwrap_or_default().to_owned(),
        Err(e) => format!("(could not look: {e})"),
    }
}

/// One app at a time: tauri-driver serves one session, and a second copy of the app would hand
/// over to the first (it is single-instance).
static ONE_APP: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_front_desk_shift_in_the_real_app() {
    let _one = ONE_APP.lock().await;
    let mut clinic = TestClinic::start().await;
    let proxy = CuttingProxy::start(clinic.addr()).await;
    let admin = clinic.sign_in("admin@demo.clinic").await;
    let notices = NotificationLog::from_env().expect("run under tests/e2e/env.sh");
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().to_string_lossy().to_string();
    let wd = WebDriver::from_env(app_binary(), &[("FRONTDESK_DATA_DIR", data_dir.as_str())])
        .await
        .expect("app session");

    // Sign in, with "keep me signed in": the token lands in the keyring.
    let address = format!("{}/{}", proxy.url(), clinic.demo().clinic.slug);
    wd.wait_for(&testid("signin-server"), WAIT).await.unwrap();
    let field = wd.find(&testid("signin-server")).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(&address).await.unwrap();
    fill_in_rita(&wd).await;
    // Ticked as a person would: click, and look that it took (a click that lands while the
    // form is still settling its layout misses, as it would for a person).
    for _ in 0..5 {
        let remember = wd.find(&testid("signin-remember")).await.unwrap();
        if remember.is_selected().await.unwrap() {
            break;
        }
        remember.click().await.unwrap();
    }
    assert!(
        wd.find(&testid("signin-remember"))
            .await
            .unwrap()
            .is_selected()
            .await
            .unwrap(),
        "keep me signed in is ticked"
    );
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
    assert_eq!(
        alert.hint("sound-name"),
        Some("message-new-instant"),
        "with the alert sound (on by default)"
    );

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
        .demo()
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
    if let Err(e) = wd.wait_for(&testid("transfer-kind-provider"), WAIT).await {
        shot("transfer-not-open");
        panic!(
            "the transfer dialog did not open: {e}; {}",
            where_clicks_go(&wd, "action-transfer").await
        );
    }
    wd.find(&testid("transfer-kind-provider"))
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
    let rita_id = clinic.demo().staff_by_email(RITA).unwrap().id;
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

    // Sound off in the settings: the next alert is silent.
    click(&wd, &testid("open-settings")).await;
    let sound = wd.wait_for(&testid("settings-sound"), WAIT).await.unwrap();
    assert!(sound.is_selected().await.unwrap(), "sound is on by default");
    sound.click().await.unwrap();
    click(
        &wd,
        &format!("{} {}", testid("settings-dialog"), testid("dialog-confirm")),
    )
    .await;
    wd.wait_gone(&testid("settings-dialog"), WAIT)
        .await
        .unwrap();

    // The server goes away. The console says so, keeps the queue, and takes an action.
    let before = notices.count();
    let ben = clinic.arrive(&clinic.room("Reception"), "Ben Okoro").await;
    wd.wait_for(&row(&ben), WAIT).await.unwrap();
    let recorded = notices.wait_for_count(before + 1, WAIT).await.unwrap();
    assert_eq!(recorded[before].summary, "Ben Okoro is waiting");
    assert_eq!(recorded[before].hint("sound-name"), None, "no sound");
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

    // The next morning: Frontdesk starts again and opens on the queue, signed in from the
    // keyring, without asking for the password.
    let wd = WebDriver::from_env(app_binary(), &[("FRONTDESK_DATA_DIR", data_dir.as_str())])
        .await
        .expect("app session after a restart");
    wd.wait_for(&row(&ben), WAIT).await.unwrap();
    assert!(
        wd.find(&testid("signin-server")).await.is_err(),
        "no sign-in screen after a restart"
    );
    wd.delete_session().await.unwrap();
}

/// The X window of the app's main window, by its title.
fn frontdesk_window() -> Option<String> {
    let out = std::process::Command::new("xwininfo")
        .args(["-root", "-tree"])
        .output()
        .expect("xwininfo");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find(|l| l.contains("\"Frontdesk\": (\"frontdesk\""))
        .and_then(|l| l.split_whitespace().next())
        .map(str::to_string)
}

/// Whether an X window is on screen (mapped and viewable).
fn on_screen(window: &str) -> bool {
    let out = std::process::Command::new("xwininfo")
        .args(["-id", window])
        .output()
        .expect("xwininfo");
    String::from_utf8_lossy(&out.stdout).contains("Map State: IsViewable")
}

/// Takes a window off the screen from outside the app, as hiding it in a window manager would
/// (the test desktop has no window manager; GDK asks the X server directly).
fn hide_window(window: &str) {
    let script = "import sys, gi\n\
gi.require_version('Gdk', '3.0'); gi.require_version('GdkX11', '3.0')\n\
from gi.repository import Gdk, GdkX11\n\
Gdk.init([]); d = Gdk.Display.get_default()\n\
w = GdkX11.X11Window.foreign_new_for_display(d, int(sys.argv[1], 16))\n\
w.hide(); d.sync()\n";
    let status = std::process::Command::new("/usr/bin/python3")
        .args(["-c", script, window])
        .status()
        .expect("python3 with GDK");
    assert!(status.success(), "hiding window {window}");
}

async fn window_rect(wd: &WebDriver) -> (i64, i64, i64, i64) {
    let r = wd.get("window/rect").await.unwrap();
    let n = |k: &str| r[k].as_f64().unwrap_or_default().round() as i64;
    (n("x"), n("y"), n("width"), n("height"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_start_brings_the_first_window_back_and_the_window_keeps_its_place() {
    let _one = ONE_APP.lock().await;
    let _forget = ForgetWindowPlace;
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().to_string_lossy().to_string();
    let env = [("FRONTDESK_DATA_DIR", data_dir.as_str())];
    let wd = WebDriver::from_env(app_binary(), &env)
        .await
        .expect("app session");
    wd.wait_for(&testid("signin-server"), WAIT).await.unwrap();

    // Moved and resized, then the app is ended (not closed cleanly): the next start opens the
    // window where and as it was. (This comes first: WebKit's WebDriver moves a window only
    // once GTK agrees it is not minimised, and a window hidden from outside the app, as
    // below, can leave GTK thinking so for a while on a loaded machine.)
    wd.post(
        "window/rect",
        serde_json::json!({"x": 40, "y": 30, "width": 1100, "height": 700}),
    )
    .await
    .unwrap();
    let placed = window_rect(&wd).await;
    assert_eq!((placed.2, placed.3), (1100, 700), "{placed:?}");
    tokio::time::sleep(Duration::from_secs(2)).await; // the app saves once it has settled
    wd.delete_session().await.unwrap();
    let wd = WebDriver::from_env(app_binary(), &env)
        .await
        .expect("app session");
    wd.wait_for(&testid("signin-server"), WAIT).await.unwrap();
    assert_eq!(window_rect(&wd).await, placed, "restored");

    // Someone starts Frontdesk again while it is running out of sight: no second copy, and
    // the one running comes back on screen, where it was.
    let window = poll_until(WAIT, "the app's window", || async {
        Ok(frontdesk_window())
    })
    .await
    .unwrap();
    hide_window(&window);
    poll_until(WAIT, "the window hidden", || async {
        Ok((!on_screen(&window)).then_some(()))
    })
    .await
    .unwrap();
    let mut second = std::process::Command::new(app_binary())
        .env("FRONTDESK_DATA_DIR", &data_dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + WAIT;
    let exit = loop {
        if let Some(exit) = second.try_wait().unwrap() {
            break exit;
        }
        if std::time::Instant::now() > deadline {
            let _ = second.kill();
            panic!("the second start is still running after {WAIT:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(exit.success(), "the second start ends by itself: {exit:?}");
    poll_until(WAIT, "the first window back on screen", || async {
        Ok(on_screen(&window).then_some(()))
    })
    .await
    .unwrap();
    assert_eq!(
        frontdesk_window().as_deref(),
        Some(window.as_str()),
        "one window"
    );
    // The first one still answers. WebKit's WebDriver can lose a command sent while GTK still
    // takes the window for hidden (it then waits on it for ever), so each look is bounded and
    // tried again; a page that stopped answering fails all of them.
    poll_until(WAIT, "the first window's page answering", || async {
        match tokio::time::timeout(Duration::from_secs(8), wd.find(&testid("signin-server"))).await
        {
            Ok(found) => found.map(|_| Some(())),
            Err(_) => {
                eprintln!("the page did not answer within 8 s; looking again");
                Ok(None)
            }
        }
    })
    .await
    .expect("the first one still works");
    wd.delete_session().await.unwrap();
}

/// Forgets the window's saved place when dropped (even when the test fails), so other tests
/// start from the default window.
struct ForgetWindowPlace;

impl Drop for ForgetWindowPlace {
    fn drop(&mut self) {
        if let Some(config) = std::env::var_os("XDG_CONFIG_HOME") {
            let saved = PathBuf::from(config).join("clinic.frontdesk.console/.window-state.json");
            let _ = std::fs::remove_file(saved);
        }
    }
}
