//! The desktop alerts the app raised, as the end-to-end suite sees them: a reader for the log
//! that python-dbusmock's `notification_daemon` template writes for every
//! `org.freedesktop.Notifications` call. Under `tests/e2e/env.sh` that log is
//! `FRONTDESK_NOTIFY_LOG`, beside a private session bus and an X server.
//!
//! ```no_run
//! # async fn demo() -> Result<(), frontdesk_testkit::webdriver::WebDriverError> {
//! use frontdesk_tests::notifications::NotificationLog;
//! use std::time::Duration;
//! let notes = NotificationLog::from_env().unwrap();
//! let seen = notes.wait_for_count(1, Duration::from_secs(10)).await?;
//! assert_eq!(seen[0].summary, "Jordan Smith arrived");
//! # Ok(()) }
//! ```

use frontdesk_testkit::webdriver::{Result, WebDriverError, poll_until};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// One `org.freedesktop.Notifications.Notify` call, as recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// Seconds since the epoch, as logged (millisecond precision).
    pub timestamp: f64,
    pub app_name: String,
    pub replaces_id: u32,
    pub icon: String,
    pub summary: String,
    pub body: String,
    /// The actions list as dbusmock printed it, e.g. `["default", "Open"]`.
    pub actions: String,
    /// The hints dict as dbusmock printed it, e.g. `{"urgency": 2, "category": "im.received"}`.
    pub hints: String,
    pub expire_timeout: i32,
}

impl Notification {
    /// A hint's value as printed: strings without their quotes, bytes/ints as digits,
    /// booleans as `True`/`False`. `None` if the hint is absent.
    pub fn hint(&self, key: &str) -> Option<&str> {
        let needle = format!("\"{key}\": ");
        let start = self.hints.find(&needle)? + needle.len();
        let rest = &self.hints[start..];
        if let Some(quoted) = rest.strip_prefix('"') {
            let end = quoted
                .find("\", \"")
                .or_else(|| quoted.rfind("\"}"))
                .unwrap_or(quoted.len());
            Some(&quoted[..end])
        } else {
            let end = rest.find([',', '}']).unwrap_or(rest.len());
            Some(rest[..end].trim())
        }
    }

    /// The `urgency` hint (0 low, 1 normal, 2 critical), if sent.
    pub fn urgency(&self) -> Option<u8> {
        self.hint("urgency")?.parse().ok()
    }
}

/// Parses a dbusmock log into the `Notify` calls it recorded, in order. Other entries
/// (`GetCapabilities`, `CloseNotification`, signals) are skipped.
///
/// The format, one entry per call, is `<unix time with 3 decimals> <Method> <args>`, where
/// strings are printed in double quotes *without escaping* (so a body with a newline spans
/// lines, and a quote inside a string is printed as is):
///
/// ```text
/// 1795308547.600 Notify "frontdesk" 0 "" "Hello" "World" [] {} 5000
/// ```
///
/// The parser splits entries at lines that start with a timestamp and a method name, and takes
/// a `Notify` entry apart from both ends. What it cannot tell apart: an app name containing
/// `" <digits> "`, an icon containing `" "`, or a summary containing `" "` (those are split at
/// their first such occurrence).
pub fn parse_notify_log(text: &str) -> Vec<Notification> {
    let mut entries: Vec<String> = Vec::new();
    for line in text.split('\n') {
        if entry_start(line) {
            entries.push(line.to_string());
        } else if let Some(last) = entries.last_mut() {
            last.push('\n');
            last.push_str(line);
        }
    }
    entries
        .iter()
        .filter_map(|e| parse_notify_entry(e.strip_suffix('\n').unwrap_or(e)))
        .collect()
}

/// `1795308547.600 Word...`: digits, a dot, three digits, a space, a letter.
fn entry_start(line: &str) -> bool {
    let Some((ts, rest)) = line.split_once(' ') else {
        return false;
    };
    let Some((secs, millis)) = ts.split_once('.') else {
        return false;
    };
    !secs.is_empty()
        && secs.bytes().all(|b| b.is_ascii_digit())
        && millis.len() == 3
        && millis.bytes().all(|b| b.is_ascii_digit())
        && rest.starts_with(|c: char| c.is_ascii_alphabetic())
}

fn parse_notify_entry(entry: &str) -> Option<Notification> {
    let (ts, rest) = entry.split_once(' ')?;
    let timestamp: f64 = ts.parse().ok()?;
    let rest = rest.strip_prefix("Notify \"")?;

    // app name, up to `" <replaces_id> "`
    let (app_name, replaces_id, rest) = split_app_and_id(rest)?;
    // icon, up to `" "`
    let (icon, rest) = rest.split_once("\" \"")?;

    // From the end: ` <timeout>`, then `{hints}`, then `[actions]` after the body's `" `.
    let (head, timeout) = rest.rsplit_once(' ')?;
    let expire_timeout: i32 = timeout.trim().parse().ok()?;
    let head = head.strip_suffix('}')?;
    let mut split = None;
    let mut search_end = head.len();
    while let Some(p) = head[..search_end].rfind("\" [") {
        let tail = &head[p + 2..];
        if let Some(q) = tail.find("] {") {
            split = Some((p, q));
            break;
        }
        search_end = p;
    }
    let (p, q) = split?;
    let texts = &head[..p];
    let tail = &head[p + 2..];
    let actions = tail[..=q].to_string();
    let hints = format!("{}}}", &tail[q + 2..]);
    let (summary, body) = texts.split_once("\" \"")?;

    Some(Notification {
        timestamp,
        app_name: app_name.to_string(),
        replaces_id,
        icon: icon.to_string(),
        summary: summary.to_string(),
        body: body.to_string(),
        actions,
        hints,
        expire_timeout,
    })
}

/// Splits `app" 12 "rest` into (`app`, 12, `rest`).
fn split_app_and_id(s: &str) -> Option<(&str, u32, &str)> {
    let mut from = 0;
    while let Some(i) = s[from..].find("\" ").map(|i| i + from) {
        let after = &s[i + 2..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && after[digits..].starts_with(" \"") {
            let id = after[..digits].parse().ok()?;
            return Some((&s[..i], id, &after[digits + 2..]));
        }
        from = i + 1;
    }
    None
}

/// The recorder's log file (`FRONTDESK_NOTIFY_LOG` under `env.sh`).
#[derive(Debug, Clone)]
pub struct NotificationLog {
    path: PathBuf,
}

impl NotificationLog {
    pub fn new(path: impl Into<PathBuf>) -> NotificationLog {
        NotificationLog { path: path.into() }
    }

    /// The log named by `FRONTDESK_NOTIFY_LOG`, if set.
    pub fn from_env() -> Option<NotificationLog> {
        std::env::var_os("FRONTDESK_NOTIFY_LOG").map(NotificationLog::new)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every notification recorded so far (none if the file does not exist yet).
    pub fn read(&self) -> std::io::Result<Vec<Notification>> {
        match std::fs::read(&self.path) {
            Ok(bytes) => Ok(parse_notify_log(&String::from_utf8_lossy(&bytes))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    /// How many notifications are recorded now.
    pub fn count(&self) -> usize {
        self.read().map(|n| n.len()).unwrap_or(0)
    }

    /// Waits until at least `n` notifications are recorded; returns all of them.
    pub async fn wait_for_count(&self, n: usize, timeout: Duration) -> Result<Vec<Notification>> {
        poll_until(
            timeout,
            &format!("{n} notification(s) in {}", self.path.display()),
            || async {
                let all = self.read()?;
                Ok((all.len() >= n).then_some(all))
            },
        )
        .await
    }

    /// Waits for a notification, recorded after the first `after` ones, that satisfies `pred`.
    /// Use `after = log.count()` taken before the action that should notify.
    pub async fn wait_for_match(
        &self,
        after: usize,
        timeout: Duration,
        pred: impl Fn(&Notification) -> bool,
    ) -> Result<Notification> {
        poll_until(timeout, "a matching notification", || async {
            Ok(self.read()?.into_iter().skip(after).find(|n| pred(n)))
        })
        .await
    }

    /// Waits for exactly `n` notifications: at least `n` within `timeout`, and still exactly
    /// `n` after a further `quiet` period ("one arrival gives one alert").
    pub async fn expect_exactly(
        &self,
        n: usize,
        timeout: Duration,
        quiet: Duration,
    ) -> Result<Vec<Notification>> {
        self.wait_for_count(n, timeout).await?;
        tokio::time::sleep(quiet).await;
        let all = self.read()?;
        if all.len() == n {
            Ok(all)
        } else {
            Err(WebDriverError::Protocol(format!(
                "expected exactly {n} notification(s), got {}: {all:#?}",
                all.len()
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Captured from python3-dbusmock 0.28.7 (`notification_daemon` template) after
    /// `gdbus call ... Notify frontdesk 0 '' 'Hello' 'World' '[]' '{}' 5000`, a second Notify
    /// with a quote in the summary, a newline in the body, actions and hints, and then
    /// GetCapabilities and CloseNotification (which also emits NotificationClosed).
    const SAMPLE: &str = r#"1795308547.600 Notify "frontdesk" 0 "" "Hello" "World" [] {} 5000
1795308547.605 Notify "Frontdesk" 0 "dialog-information" "Jordan "J" Smith arrived" "Waiting in Reception
second line" ["default", "Open"] {"urgency": 2, "category": "im.received", "desktop-entry": "frontdesk", "transient": True} 5000
1795308450.681 GetCapabilities
1795308450.700 CloseNotification 1
1795308450.700 emit /org/freedesktop/Notifications org.freedesktop.Notifications.NotificationClosed 1 1
"#;

    #[test]
    fn parses_the_captured_dbusmock_log() {
        let all = parse_notify_log(SAMPLE);
        assert_eq!(all.len(), 2, "{all:#?}");

        let first = &all[0];
        assert_eq!(first.app_name, "frontdesk");
        assert_eq!(first.replaces_id, 0);
        assert_eq!(first.icon, "");
        assert_eq!(first.summary, "Hello");
        assert_eq!(first.body, "World");
        assert_eq!(first.actions, "[]");
        assert_eq!(first.hints, "{}");
        assert_eq!(first.expire_timeout, 5000);
        assert!((first.timestamp - 1_795_308_547.6).abs() < 1e-3);
        assert_eq!(first.urgency(), None);

        let second = &all[1];
        assert_eq!(second.app_name, "Frontdesk");
        assert_eq!(second.icon, "dialog-information");
        assert_eq!(second.summary, "Jordan \"J\" Smith arrived");
        assert_eq!(second.body, "Waiting in Reception\nsecond line");
        assert_eq!(second.actions, r#"["default", "Open"]"#);
        assert_eq!(second.urgency(), Some(2));
        assert_eq!(second.hint("category"), Some("im.received"));
        assert_eq!(second.hint("desktop-entry"), Some("frontdesk"));
        assert_eq!(second.hint("transient"), Some("True"));
        assert_eq!(second.hint("sound-name"), None);
        assert_eq!(second.expire_timeout, 5000);
    }

    #[test]
    fn tolerates_odd_text_and_partial_lines() {
        let log = "1.000 Notify \"a\" 3 \"\" \"S\" \"body with \"x\" [y] inside\" [] {} -1\n\
                   2.000 Notify \"b\" 0 \"\" \"cut off";
        let all = parse_notify_log(log);
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].replaces_id, 3);
        assert_eq!(all[0].body, "body with \"x\" [y] inside");
        assert_eq!(all[0].expire_timeout, -1);
        assert!(parse_notify_log("").is_empty());
    }

    #[tokio::test]
    async fn log_file_waits() {
        let dir = tempfile::tempdir().unwrap();
        let log = NotificationLog::new(dir.path().join("n.log"));
        assert_eq!(log.count(), 0);
        std::fs::write(log.path(), SAMPLE).unwrap();
        let all = log.wait_for_count(2, Duration::from_secs(1)).await.unwrap();
        assert_eq!(all.len(), 2);
        let hit = log
            .wait_for_match(1, Duration::from_secs(1), |n| n.summary.contains("Jordan"))
            .await
            .unwrap();
        assert_eq!(hit.app_name, "Frontdesk");
        assert!(
            log.wait_for_count(3, Duration::from_millis(200))
                .await
                .is_err()
        );
        assert!(
            log.expect_exactly(2, Duration::from_secs(1), Duration::from_millis(50))
                .await
                .is_ok()
        );
    }
}
