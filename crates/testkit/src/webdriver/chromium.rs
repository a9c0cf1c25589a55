//! Sessions of headless Chromium through a `chromedriver` this process starts on a free
//! loopback port: for the patient pages, which run in a phone's browser rather than in the
//! app. The driver runs in a process group of its own (the browser it starts joins it), so
//! when the session ends, even by a failing test's drop, no browser outlives the test.

use super::{Held, Result, WebDriver, WebDriverError};
use serde_json::{Value, json};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Where Debian's `chromium` package puts the browser.
const CHROMIUM: &str = "/usr/bin/chromium";
/// Where Debian's `chromium-driver` package puts its WebDriver.
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// How to start headless Chromium for a session.
#[derive(Debug, Clone)]
pub struct ChromiumLaunch {
    pub chromium: PathBuf,
    pub chromedriver: PathBuf,
    /// A phone-sized viewport (width, height in CSS pixels), if set.
    pub phone_screen: Option<(u32, u32)>,
}

impl ChromiumLaunch {
    /// Debian's binaries, or those `FRONTDESK_CHROMIUM` / `FRONTDESK_CHROMEDRIVER` name.
    pub fn from_env() -> ChromiumLaunch {
        let path = |var: &str, default: &str| {
            std::env::var_os(var).map_or_else(|| PathBuf::from(default), PathBuf::from)
        };
        ChromiumLaunch {
            chromium: path("FRONTDESK_CHROMIUM", CHROMIUM),
            chromedriver: path("FRONTDESK_CHROMEDRIVER", CHROMEDRIVER),
            phone_screen: None,
        }
    }

    /// Emulates a phone's screen of `width` x `height` (headless windows have a minimum
    /// width, so the window alone cannot be made that narrow).
    pub fn phone_screen(mut self, width: u32, height: u32) -> ChromiumLaunch {
        self.phone_screen = Some((width, height));
        self
    }

    fn capabilities(&self, profile: &std::path::Path) -> Value {
        let mut args = vec![
            "--headless".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--no-first-run".into(),
            format!("--user-data-dir={}", profile.display()),
        ];
        let mut options = json!({"binary": self.chromium});
        if let Some((width, height)) = self.phone_screen {
            args.push(format!("--window-size={width},{height}"));
            options["mobileEmulation"] =
                json!({"deviceMetrics": {"width": width, "height": height, "pixelRatio": 1.0}});
        }
        options["args"] = json!(args);
        json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": options,
        }}})
    }
}

/// A WebDriver server process this session started; stopped (its whole process group) when
/// dropped, which is after the session was ended.
#[derive(Debug)]
pub(super) struct DriverService {
    child: Child,
}

impl Drop for DriverService {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl WebDriver {
    /// Starts chromedriver on a free loopback port and opens a headless Chromium session
    /// with a fresh profile.
    pub async fn start_chromium(launch: ChromiumLaunch) -> Result<WebDriver> {
        for (path, package) in [
            (&launch.chromium, "chromium"),
            (&launch.chromedriver, "chromium-driver"),
        ] {
            if !path.exists() {
                return Err(WebDriverError::Io(std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    format!(
                        "{} is missing: this test needs headless Chromium and its WebDriver. \
                         Install the Debian packages `chromium` and `chromium-driver` \
                         (bash tests/e2e/install.sh does), or point FRONTDESK_CHROMIUM / \
                         FRONTDESK_CHROMEDRIVER at them ({package}).",
                        path.display()
                    ),
                )));
            }
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let child = Command::new(&launch.chromedriver)
            .arg(format!("--port={port}"))
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let service = DriverService { child };
        let url = format!("http://127.0.0.1:{port}");
        wait_until_ready(&url).await?;
        let profile = tempfile::tempdir()?;
        let held = Held {
            _service: Some(service),
            scratch: None,
            webkit_under_xvfb: false,
            app: None,
        };
        let capabilities = launch.capabilities(profile.path());
        let mut driver = WebDriver::open(&url, capabilities, held).await?;
        driver.held.scratch = Some(profile);
        Ok(driver)
    }
}

/// Waits for a freshly started WebDriver server to say it is ready.
async fn wait_until_ready(url: &str) -> Result<()> {
    let http = reqwest::Client::new();
    super::poll_until(
        Duration::from_secs(20),
        "chromedriver to be ready",
        || async {
            let Ok(res) = http.get(format!("{url}/status")).send().await else {
                return Ok(None);
            };
            let status: Value = res.json().await.unwrap_or_default();
            Ok((status["value"]["ready"] == true).then_some(()))
        },
    )
    .await
}
