//! Sessions of the real `frontdesk` app through `tauri-driver`: which binary, its arguments,
//! and the environment it needs (tauri-driver has no option for that, so a small generated
//! `/bin/sh` wrapper `exec`s the app with it set).

use super::{AppProcess, Held, Result, WebDriver, WebDriverError};
use serde_json::json;
use std::path::{Path, PathBuf};

/// How to launch the app for a session.
#[derive(Debug, Clone, Default)]
pub struct AppLaunch {
    /// Path of the app binary (e.g. `$CARGO_TARGET_DIR/debug/frontdesk`).
    pub application: PathBuf,
    /// Command-line arguments (passed by tauri-driver as `tauri:options.args`).
    pub args: Vec<String>,
    /// Extra environment for the app, set by the generated wrapper script.
    pub env: Vec<(String, String)>,
}

impl AppLaunch {
    pub fn new(application: impl Into<PathBuf>) -> AppLaunch {
        AppLaunch {
            application: application.into(),
            ..AppLaunch::default()
        }
    }

    pub fn arg(mut self, arg: impl Into<String>) -> AppLaunch {
        self.args.push(arg.into());
        self
    }

    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> AppLaunch {
        self.env.push((key.into(), value.into()));
        self
    }
}

impl WebDriver {
    /// Starts the app at `application` under the WebDriver server at `webdriver_url`
    /// (tauri-driver, e.g. `FRONTDESK_WEBDRIVER_URL`), with `env` added to its environment.
    pub async fn new_session(
        webdriver_url: &str,
        application: impl AsRef<Path>,
        env: &[(&str, &str)],
    ) -> Result<WebDriver> {
        let mut launch = AppLaunch::new(application.as_ref());
        for (k, v) in env {
            launch = launch.env(*k, *v);
        }
        WebDriver::new_session_with(webdriver_url, launch).await
    }

    /// As [`WebDriver::new_session`], using `FRONTDESK_WEBDRIVER_URL` (set by `env.sh`).
    pub async fn from_env(
        application: impl AsRef<Path>,
        env: &[(&str, &str)],
    ) -> Result<WebDriver> {
        let url = std::env::var("FRONTDESK_WEBDRIVER_URL").map_err(|_| {
            WebDriverError::Protocol(
                "FRONTDESK_WEBDRIVER_URL is not set: run under tests/e2e/env.sh".into(),
            )
        })?;
        WebDriver::new_session(&url, application, env).await
    }

    /// Starts a session of the app with full control over the launch (args and env).
    pub async fn new_session_with(webdriver_url: &str, launch: AppLaunch) -> Result<WebDriver> {
        if !launch.application.exists() {
            return Err(WebDriverError::Io(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("app binary {} does not exist", launch.application.display()),
            )));
        }
        let application = std::path::absolute(&launch.application)?;
        // Always through the wrapper: it also writes the app's process id down, so a session
        // whose app stops answering can be ended by force (see `Held::app`).
        let dir = tempfile::Builder::new()
            .prefix("frontdesk-app-")
            .tempdir()?;
        let script = dir.path().join("frontdesk-with-env");
        let pid_file = dir.path().join("app.pid");
        std::fs::write(&script, env_wrapper(&application, &launch.env, &pid_file))?;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))?;
        let capabilities = json!({
            "capabilities": {
                "alwaysMatch": {
                    "tauri:options": {
                        "application": script,
                        "args": launch.args,
                    }
                }
            }
        });
        let held = Held {
            scratch: Some(dir),
            webkit_under_xvfb: true,
            app: Some(AppProcess {
                pid_file,
                exe: std::fs::canonicalize(&application)?,
            }),
            ..Held::default()
        };
        WebDriver::open(webdriver_url, capabilities, held).await
    }
}

/// A `/bin/sh` script that runs `app` with `env` added, passing its arguments through, after
/// writing its process id (which `exec` keeps) to `pid_file`.
fn env_wrapper(app: &Path, env: &[(String, String)], pid_file: &Path) -> String {
    let mut s = String::from("#!/bin/sh\n");
    s.push_str(&format!(
        "echo $$ > {}\n",
        shell_quote(&pid_file.to_string_lossy())
    ));
    for (k, v) in env {
        s.push_str(&format!("export {k}={}\n", shell_quote(v)));
    }
    s.push_str(&format!(
        "exec {} \"$@\"\n",
        shell_quote(&app.to_string_lossy())
    ));
    s
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webdriver::testid;

    #[test]
    fn env_wrapper_quotes() {
        let s = env_wrapper(
            Path::new("/opt/my app/frontdesk"),
            &[("A".into(), "it's".into())],
            Path::new("/tmp/x/app.pid"),
        );
        assert_eq!(
            s,
            "#!/bin/sh\necho $$ > '/tmp/x/app.pid'\nexport A='it'\\''s'\nexec '/opt/my app/frontdesk' \"$@\"\n"
        );
        assert_eq!(testid("lock"), "[data-testid=\"lock\"]");
    }
}
