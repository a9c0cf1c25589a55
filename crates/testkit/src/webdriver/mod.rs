//! A small W3C WebDriver client: one session, its elements, waits that poll, screenshots.
//! It drives the real `frontdesk` app through `tauri-driver` ([`WebDriver::new_session`],
//! under `tests/e2e/env.sh`) and the patient pages in headless Chromium through
//! `chromedriver` ([`WebDriver::start_chromium`]); past the session's start both are plain
//! W3C WebDriver.
//!
//! ```no_run
//! # async fn demo() -> Result<(), frontdesk_testkit::webdriver::WebDriverError> {
//! use frontdesk_testkit::webdriver::{ChromiumLaunch, WebDriver, testid};
//! use std::time::Duration;
//! let browser = WebDriver::start_chromium(ChromiumLaunch::from_env().phone_screen(390, 844)).await?;
//! browser.navigate("http://127.0.0.1:8080/join/demo/reception").await?;
//! browser.type_into("#name", "Gia Browser").await?;
//! browser.click("form button[type=submit]").await?;
//! browser.wait_for_text("#status", "You are in the queue", Duration::from_secs(15)).await?;
//! browser.screenshot("/tmp/wait.png").await?;
//! browser.delete_session().await?;
//! # Ok(()) }
//! ```

mod chromium;
mod element;
mod error;
mod tauri;

pub use chromium::ChromiumLaunch;
pub use element::Element;
pub use error::{Result, WebDriverError};
pub use tauri::AppLaunch;

use serde_json::{Value, json};
use std::future::Future;
use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

/// The key W3C WebDriver uses for an element reference in JSON.
pub const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// How often the `wait_*` helpers poll.
pub const POLL_EVERY: Duration = Duration::from_millis(100);

/// Special keys for [`Element::send_keys`] and [`WebDriver::press_keys`] (W3C code points).
pub mod keys {
    pub const BACKSPACE: &str = "\u{E003}";
    pub const TAB: &str = "\u{E004}";
    pub const ENTER: &str = "\u{E007}";
    pub const SHIFT: &str = "\u{E008}";
    pub const CONTROL: &str = "\u{E009}";
    pub const ALT: &str = "\u{E00A}";
    pub const ESCAPE: &str = "\u{E00C}";
    pub const SPACE: &str = "\u{E00D}";
    pub const ARROW_LEFT: &str = "\u{E012}";
    pub const ARROW_UP: &str = "\u{E013}";
    pub const ARROW_RIGHT: &str = "\u{E014}";
    pub const ARROW_DOWN: &str = "\u{E015}";
    pub const DELETE: &str = "\u{E017}";
}

/// A CSS selector for a `data-testid`: `testid("signin-email")` is
/// `[data-testid="signin-email"]`.
pub fn testid(id: &str) -> String {
    format!("[data-testid=\"{id}\"]")
}

/// Polls `attempt` every [`POLL_EVERY`] until it yields `Some`, or fails with
/// [`WebDriverError::Timeout`] naming `what` after `timeout`. An `Err` from `attempt` ends the
/// wait at once (return `Ok(None)` for "not yet").
pub async fn poll_until<T, F, Fut>(timeout: Duration, what: &str, mut attempt: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(v) = attempt().await? {
            return Ok(v);
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(WebDriverError::Timeout(format!(
                "{what} (after {timeout:?})"
            )));
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
}

/// What a session holds until it ends: the remote end it started, scratch files.
#[derive(Debug, Default)]
struct Held {
    /// A WebDriver server this session started (chromedriver); stopped after the session.
    _service: Option<chromium::DriverService>,
    /// A browser profile or the app's env wrapper script.
    scratch: Option<tempfile::TempDir>,
    /// The session is the app in WebKitGTK under Xvfb, whose WebDriver has two gaps worked
    /// around here: its screenshot call can hang (the X screen is captured instead) and its
    /// Get Element Text answers "" for visible elements (`innerText` is read instead).
    webkit_under_xvfb: bool,
    /// The app this session started. If the session cannot be ended (its app stopped
    /// answering a command, which WebKit's WebDriver then waits on for ever), the app is
    /// killed, so the WebDriver server is free for the next test instead of hanging them all.
    app: Option<AppProcess>,
}

/// Where a session's app wrote its process id, and which binary that process must be running
/// (so a reused id is never killed).
#[derive(Debug)]
struct AppProcess {
    pid_file: std::path::PathBuf,
    exe: std::path::PathBuf,
}

impl AppProcess {
    fn pid(&self) -> Option<u32> {
        std::fs::read_to_string(&self.pid_file)
            .ok()
            .and_then(|s| s.trim().parse::<u32>().ok())
    }

    /// Kills the app if it is still running.
    fn kill(&self) {
        let Some(pid) = self.pid() else {
            return;
        };
        let running = std::fs::read_link(format!("/proc/{pid}/exe")).ok();
        if running.as_deref() != Some(self.exe.as_path()) {
            return;
        }
        eprintln!("webdriver: the session could not be ended; killing its app (pid {pid})");
        let _ = std::process::Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
    }
}

impl Held {
    /// After a failed attempt to end the session: kills the app it started, if any.
    fn end_app_by_force(&self) {
        if let Some(app) = &self.app {
            app.kill();
        }
    }
}

/// One WebDriver session: one running instance of the app or the browser.
///
/// End it with [`WebDriver::delete_session`]; if it is dropped without that (a failed
/// assertion), the drop sends the DELETE itself (blocking, best effort) so the app or the
/// browser does not outlive the test.
#[derive(Debug)]
pub struct WebDriver {
    http: reqwest::Client,
    server: String,
    session_id: String,
    /// `{server}/session/{id}`
    base: String,
    deleted: bool,
    // Dropped after `Drop::drop` has ended the session.
    held: Held,
}

impl WebDriver {
    /// Opens a session on the WebDriver server at `webdriver_url` with these W3C
    /// `capabilities` (the whole `{"capabilities": ...}` body).
    pub async fn with_capabilities(webdriver_url: &str, capabilities: Value) -> Result<WebDriver> {
        WebDriver::open(webdriver_url, capabilities, Held::default()).await
    }

    async fn open(webdriver_url: &str, capabilities: Value, held: Held) -> Result<WebDriver> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()?;
        let server = webdriver_url.trim_end_matches('/').to_string();
        let resp = http
            .post(format!("{server}/session"))
            .json(&capabilities)
            .send()
            .await?;
        let value = unwrap_response(resp).await?;
        let session_id = value["sessionId"]
            .as_str()
            .ok_or_else(|| WebDriverError::Protocol(format!("no sessionId in {value}")))?
            .to_string();
        let base = format!("{server}/session/{session_id}");
        Ok(WebDriver {
            http,
            server,
            session_id,
            base,
            deleted: false,
            held,
        })
    }

    pub fn session_id(&self) -> &str {
        &self.session_id
    }

    /// The process id of the app this session started through tauri-driver (`None` for a
    /// browser session).
    pub fn app_pid(&self) -> Option<u32> {
        self.held.app.as_ref().and_then(AppProcess::pid)
    }

    // --- raw commands ---

    /// `GET {session}/{path}`; returns the W3C `value`.
    pub async fn get(&self, path: &str) -> Result<Value> {
        let resp = self
            .http
            .get(format!("{}/{path}", self.base))
            .send()
            .await?;
        unwrap_response(resp).await
    }

    /// `POST {session}/{path}` with a JSON body; returns the W3C `value`.
    pub async fn post(&self, path: &str, body: Value) -> Result<Value> {
        let resp = self
            .http
            .post(format!("{}/{path}", self.base))
            .json(&body)
            .send()
            .await?;
        unwrap_response(resp).await
    }

    // --- elements ---

    /// The first element matching the CSS selector (`no such element` if none).
    pub async fn find(&self, css: &str) -> Result<Element<'_>> {
        let v = self
            .post("element", json!({"using": "css selector", "value": css}))
            .await?;
        Element::from_value(self, &v)
    }

    /// Every element matching the CSS selector (possibly none).
    pub async fn find_all(&self, css: &str) -> Result<Vec<Element<'_>>> {
        let v = self
            .post("elements", json!({"using": "css selector", "value": css}))
            .await?;
        element::elements_from(self, &v)
    }

    /// The element with `data-testid="{id}"`.
    pub async fn find_testid(&self, id: &str) -> Result<Element<'_>> {
        self.find(&testid(id)).await
    }

    /// Clicks the first element matching `css`.
    pub async fn click(&self, css: &str) -> Result<()> {
        self.find(css).await?.click().await
    }

    /// Clicks into the field matching `css`, as a person would, and types `text`.
    pub async fn type_into(&self, css: &str, text: &str) -> Result<()> {
        let field = self.find(css).await?;
        field.click().await?;
        field.send_keys(text).await
    }

    /// Whether an element matches `css` and is displayed (false if none does, or it left
    /// the page while being asked).
    pub async fn is_shown(&self, css: &str) -> Result<bool> {
        match self.find(css).await {
            Ok(e) => match e.is_displayed().await {
                Err(err) if err.is_stale() => Ok(false),
                shown => shown,
            },
            Err(e) if e.is_no_such_element() => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Polls until an element matches `css`, then returns it (one that leaves the page while
    /// being found is looked for again).
    pub async fn wait_for(&self, css: &str, timeout: Duration) -> Result<Element<'_>> {
        poll_until(timeout, &format!("element {css}"), || async {
            match self.find(css).await {
                Ok(e) => Ok(Some(e)),
                Err(e) if e.is_no_such_element() || e.is_stale() => Ok(None),
                Err(e) => Err(e),
            }
        })
        .await
    }

    /// Polls until an element matches `css` and is displayed.
    pub async fn wait_for_visible(&self, css: &str, timeout: Duration) -> Result<Element<'_>> {
        poll_until(timeout, &format!("visible element {css}"), || async {
            for e in self.find_all(css).await? {
                match e.is_displayed().await {
                    Ok(true) => return Ok(Some(e)),
                    Ok(false) => {}
                    Err(err) if err.is_stale() => {}
                    Err(err) => return Err(err),
                }
            }
            Ok(None)
        })
        .await
    }

    /// Polls until no element matches `css`. An element leaving the page while it is being
    /// found (WebKit then answers "stale element reference") is asked about again.
    pub async fn wait_gone(&self, css: &str, timeout: Duration) -> Result<()> {
        poll_until(timeout, &format!("{css} to go away"), || async {
            match self.find_all(css).await {
                Ok(found) => Ok(found.is_empty().then_some(())),
                Err(e) if e.is_stale() => Ok(None),
                Err(e) => Err(e),
            }
        })
        .await
    }

    /// Polls until the first element matching `css` has text containing `needle`; returns the
    /// whole text. On a timeout the error says what the element showed last.
    pub async fn wait_for_text(
        &self,
        css: &str,
        needle: &str,
        timeout: Duration,
    ) -> Result<String> {
        let last_seen = std::sync::Mutex::new(None::<String>);
        let found = poll_until(timeout, &format!("{css} to contain {needle:?}"), || async {
            let text = match self.find(css).await {
                Ok(e) => match e.text().await {
                    Ok(t) => t,
                    Err(err) if err.is_stale() => return Ok(None),
                    Err(err) => return Err(err),
                },
                Err(e) if e.is_no_such_element() => return Ok(None),
                Err(e) => return Err(e),
            };
            if text.contains(needle) {
                return Ok(Some(text));
            }
            *last_seen.lock().expect("not poisoned") = Some(text);
            Ok(None)
        })
        .await;
        match (found, last_seen.into_inner().expect("not poisoned")) {
            (Err(WebDriverError::Timeout(what)), Some(shown)) => Err(WebDriverError::Timeout(
                format!("{what}; it shows {shown:?}"),
            )),
            (found, _) => found,
        }
    }

    /// The element that has focus.
    pub async fn active_element(&self) -> Result<Element<'_>> {
        let v = self.get("element/active").await?;
        Element::from_value(self, &v)
    }

    // --- keyboard (to whatever has focus) ---

    /// Types `text` to the focused element through the W3C actions API (each char is a key
    /// down + up; use [`keys`] for Enter, Escape, arrows, ...). For page-level shortcuts.
    pub async fn press_keys(&self, text: &str) -> Result<()> {
        let mut actions = Vec::new();
        for c in text.chars() {
            let k = c.to_string();
            actions.push(json!({"type": "keyDown", "value": k}));
            actions.push(json!({"type": "keyUp", "value": k}));
        }
        self.post(
            "actions",
            json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]}),
        )
        .await?;
        self.http
            .delete(format!("{}/actions", self.base))
            .send()
            .await?;
        Ok(())
    }

    // --- scripts, page, dialogs, screenshots ---

    /// Runs `script` (a function body; use `arguments[0]`, ... and `return`) in the page.
    /// Pass elements with [`Element::as_arg`].
    pub async fn execute(&self, script: &str, args: Vec<Value>) -> Result<Value> {
        self.post("execute/sync", json!({"script": script, "args": args}))
            .await
    }

    /// Runs an async `script`: it must call `arguments[arguments.length - 1](result)`.
    pub async fn execute_async(&self, script: &str, args: Vec<Value>) -> Result<Value> {
        self.post("execute/async", json!({"script": script, "args": args}))
            .await
    }

    /// Loads `url` in the window (the app normally loads its own page; in the app this is
    /// for tests of the rig itself, e.g. a `data:` URL).
    pub async fn navigate(&self, url: &str) -> Result<()> {
        self.post("url", json!({ "url": url })).await.map(|_| ())
    }

    pub async fn title(&self) -> Result<String> {
        self.get_string("title").await
    }

    pub async fn url(&self) -> Result<String> {
        self.get_string("url").await
    }

    /// The page's HTML (for failure messages).
    pub async fn page_source(&self) -> Result<String> {
        self.get_string("source").await
    }

    async fn get_string(&self, path: &str) -> Result<String> {
        Ok(self
            .get(path)
            .await?
            .as_str()
            .unwrap_or_default()
            .to_string())
    }

    /// The text of the open `alert()`, `confirm()` or `prompt()`, if one is open (a page
    /// that runs injected script shows one).
    pub async fn alert_text(&self) -> Result<Option<String>> {
        match self.get("alert/text").await {
            Ok(v) => Ok(Some(v.as_str().unwrap_or_default().to_string())),
            Err(e) if e.is_no_such_alert() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Saves a PNG of the window to `path` (parent dirs are created).
    ///
    /// The call gets 15 s. In the app it has been seen to hang forever under Xvfb (it works
    /// against MiniBrowser), so there, after that or on an error, the whole X screen is
    /// captured instead with ImageMagick (`import -window root`).
    pub async fn screenshot(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let webdriver = tokio::time::timeout(Duration::from_secs(15), async {
            let v = self.get("screenshot").await?;
            write_png(&v, path)
        })
        .await;
        match webdriver {
            Ok(Ok(())) => Ok(()),
            _ if self.held.webkit_under_xvfb => screenshot_x11(path).await,
            Ok(Err(e)) => Err(e),
            Err(_) => Err(WebDriverError::Timeout("a screenshot (after 15s)".into())),
        }
    }

    /// Sets the window's size, e.g. for screenshots of a known size.
    pub async fn set_window_rect(&self, width: u32, height: u32) -> Result<()> {
        self.post("window/rect", json!({"width": width, "height": height}))
            .await?;
        Ok(())
    }

    /// Ends the session: the app or the browser is closed. If the WebDriver server does not
    /// answer, the app is killed (see `Held::app`) and the error returned.
    pub async fn delete_session(mut self) -> Result<()> {
        self.deleted = true;
        let deleted = tokio::time::timeout(Duration::from_secs(60), async {
            let resp = self.http.delete(&self.base).send().await?;
            unwrap_response(resp).await.map(|_| ())
        })
        .await
        .unwrap_or_else(|_| {
            Err(WebDriverError::Timeout(
                "ending the session (after 60s)".into(),
            ))
        });
        if deleted.is_err() {
            self.held.end_app_by_force();
        }
        deleted
    }
}

impl Drop for WebDriver {
    fn drop(&mut self) {
        if self.deleted {
            return;
        }
        // Async drop is not possible; a plain blocking HTTP/1.1 DELETE keeps a failed test from
        // leaving the app running (tauri-driver serves one session at a time). No answer means
        // the server is stuck on this session's app: killing it frees the server.
        let ended = blocking_delete(&self.server, &format!("/session/{}", self.session_id));
        if ended.is_err() {
            self.held.end_app_by_force();
        }
    }
}

fn blocking_delete(server: &str, path: &str) -> std::io::Result<()> {
    let hostport = server
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap_or_default();
    let addr = std::net::ToSocketAddrs::to_socket_addrs(hostport)?
        .next()
        .ok_or_else(|| std::io::Error::other("no address"))?;
    let mut stream = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    stream.set_read_timeout(Some(Duration::from_secs(20)))?;
    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
    write!(
        stream,
        "DELETE {path} HTTP/1.1\r\nHost: {hostport}\r\n\
         Content-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    // The answer comes once the app or browser has closed.
    let mut sink = Vec::new();
    stream.read_to_end(&mut sink)?;
    Ok(())
}

/// Turns a W3C response into its `value`, or a [`WebDriverError::Command`].
async fn unwrap_response(resp: reqwest::Response) -> Result<Value> {
    let status = resp.status();
    let text = resp.text().await?;
    let body: Value = serde_json::from_str(&text).map_err(|_| {
        WebDriverError::Protocol(format!("HTTP {status}, body is not JSON: {text:.500}"))
    })?;
    let value = body.get("value").cloned().unwrap_or(Value::Null);
    if let Some(error) = value.get("error").and_then(Value::as_str)
        && (!status.is_success() || value.get("message").is_some())
    {
        return Err(WebDriverError::Command {
            status: status.as_u16(),
            error: error.to_string(),
            message: value["message"].as_str().unwrap_or_default().to_string(),
        });
    }
    if !status.is_success() {
        return Err(WebDriverError::Protocol(format!(
            "HTTP {status}: {text:.500}"
        )));
    }
    Ok(value)
}

/// Saves a PNG of the whole X screen (`DISPLAY`) with ImageMagick's `import -window root`.
pub async fn screenshot_x11(path: &Path) -> Result<()> {
    create_parent(path)?;
    let out = tokio::process::Command::new("import")
        .args(["-window", "root"])
        .arg(format!("png:{}", path.display()))
        .output()
        .await?;
    if out.status.success() {
        Ok(())
    } else {
        Err(WebDriverError::Protocol(format!(
            "import -window root failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )))
    }
}

/// Writes a screenshot's `value` (base64 PNG) to `path`.
fn write_png(v: &Value, path: &Path) -> Result<()> {
    let b64 = v
        .as_str()
        .ok_or_else(|| WebDriverError::Protocol("screenshot is not a string".into()))?;
    let png = crate::base64::decode(b64)
        .ok_or_else(|| WebDriverError::Protocol("screenshot is not base64".into()))?;
    if !png.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Err(WebDriverError::Protocol("screenshot is not a PNG".into()));
    }
    create_parent(path)?;
    std::fs::write(path, png)?;
    Ok(())
}

fn create_parent(path: &Path) -> std::io::Result<()> {
    match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(parent) => std::fs::create_dir_all(parent),
        None => Ok(()),
    }
}
