//! Sessions of the real `frontdesk` app through `tauri-driver`: which binary, its arguments,
//! and the environment it needs (tauri-driver has no option for that, so a small generated
//! `/bin/sh` wrapper `exec`s the app with it set).

use super::{Held, Result, WebDriver, WebDriverError};
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
        let (binary, scratch) = if launch.env.is_empty() {
            (application, None)
        } else {
            let dir = tempfile::Builder::new()
                .prefix("frontdesk-app-")
                .tempdir()?;
            let script = dir.path().join("frontdesk-with-env");
            std::fs::write(&script, env_wrapper(&application, &launch.env))?;
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))?;
            (script, Some(dir))
        };
        let capabilities = json!({
            "capabilities": {
                "alwaysMatch": {
                    "tauri:options": {
                        "application": binary,
                        "args": launch.args,
                    }
                }
            }
        });
        let held = Held {
            scratch,
            webkit_under_xvfb: true,
            ..Held::default()
        };
        WebDriver::open(webdriver_url, capabilities, held).await
    }
}

/// A `/bin/sh` script that runs `app` with `env` added, passing its arguments through.
fn env_wrapper(app: &Path, env: &[(String, String)]) -> String {
    let mut s = String::from("#!/bin/sh\n");
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
        );
        assert_eq!(
            s,
            "#!/bin/sh\nexport A='it'\\''s'\nexec '/opt/my app/frontdesk' \"$@\"\n"
        );
        assert_eq!(testid("lock"), "[data-testid=\"lock\"]");
    }
}
