//! What the end-to-end suites share: the app binary they drive, screenshots of the desktop,
//! and the queue's rows as WebDriver finds and clicks them.

use crate::TestClinic;
use frontdesk_client::api::ApiClient;
use frontdesk_domain::{Command, VisitId};
use frontdesk_testkit::webdriver::{WebDriver, poll_until, testid};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long a suite waits for what a person would wait for.
pub const WAIT: Duration = Duration::from_secs(30);

/// The demo receptionist's email.
pub const RITA: &str = "reception@demo.clinic";

/// The app binary of this build, beside the test binary that calls this
/// (`target/debug/deps/<suite>-HASH` → `target/debug/frontdesk`).
pub fn app_binary() -> PathBuf {
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
pub fn shot(name: &str) {
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

/// The CSS selector of a visit's row in the queue.
pub fn row(visit: &str) -> String {
    format!("[data-testid=\"queue-row\"][data-visit-id=\"{visit}\"]")
}

/// Waits until a visit's row shows `status`.
pub async fn row_status(wd: &WebDriver, visit: &str, status: &str) {
    let css = format!("{}[data-status=\"{status}\"]", row(visit));
    wd.wait_for(&css, WAIT)
        .await
        .unwrap_or_else(|e| panic!("row {visit} to be {status}: {e}"));
}

/// Clicks the element once it is there.
pub async fn click(wd: &WebDriver, css: &str) {
    wd.wait_for(css, WAIT)
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("clicking {css}: {e}"));
}

/// A member of staff's command on a visit, over the API, at the version the server has now
/// (someone else at the clinic, acting while the console under test looks on).
pub async fn staff_does(clinic: &TestClinic, token: &str, visit: &str, command: Command) {
    let api = ApiClient::new(&clinic.url()).unwrap();
    let id: VisitId = visit.parse().unwrap();
    let version = api.visit(token, id).await.unwrap().version;
    let key = format!("e2e-{visit}-{}-{version}", command.name());
    api.command(token, id, &command, Some(version), &key)
        .await
        .unwrap_or_else(|e| panic!("{} on {visit}: {e}", command.name()));
}

/// Types `text` into a field (by its test id) once it is there, replacing what it held.
pub async fn fill(wd: &WebDriver, field: &str, text: &str) {
    let el = wd
        .wait_for(&testid(field), WAIT)
        .await
        .unwrap_or_else(|e| panic!("{field}: {e}"));
    el.clear().await.unwrap();
    el.send_keys(text).await.unwrap();
}

/// Fills in the sign-in form's email and password as the demo receptionist.
pub async fn fill_in_rita(wd: &WebDriver) {
    fill(wd, "signin-email", RITA).await;
    fill(wd, "signin-password", "demo-reception").await;
}

/// Signs in as the demo receptionist at `address` (the server's URL and the clinic's name)
/// and waits for the clinic's queue.
pub async fn sign_in_rita_at(wd: &WebDriver, address: &str) {
    fill_in_rita(wd).await;
    fill(wd, "signin-server", address).await;
    click(wd, &testid("signin-submit")).await;
    wd.wait_for_text(&testid("clinic-name"), "Demo", WAIT)
        .await
        .expect("signed in");
}

/// A program that stands in for the browser: it writes each link it is asked to open to a file.
pub fn link_recorder(dir: &Path) -> (PathBuf, PathBuf) {
    let log = dir.join("opened.log");
    let program = dir.join("open-link");
    std::fs::write(
        &program,
        format!("#!/bin/sh\nprintf '%s\\n' \"$1\" >> '{}'\n", log.display()),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
    (program, log)
}

/// The links the app opened in the browser (as [`link_recorder`] wrote them), once it opened
/// any.
pub async fn links_opened(log: &Path) -> Vec<String> {
    poll_until(WAIT, "a link opened in the browser", || async {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        Ok((!text.is_empty()).then(|| text.lines().map(str::to_owned).collect()))
    })
    .await
    .unwrap()
}
