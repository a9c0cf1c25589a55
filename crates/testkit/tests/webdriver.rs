//! The WebDriver client against real WebDriver servers. Each test returns at once where its
//! browser is not there: the WebKit one runs only under `tests/e2e/env.sh`.

use frontdesk_testkit::webdriver::{
    AppLaunch, ChromiumLaunch, WebDriver, WebDriverError, keys, poll_until, testid,
};
use serde_json::json;
use std::path::Path;
use std::time::Duration;

/// tauri-driver serves one session at a time.
static ONE_WEBKIT: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const MINIBROWSER: &str = "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser";

/// A session whose browser stops answering (as the app once did mid-command on a loaded
/// machine, leaving WebKit's WebDriver waiting for ever and every later test with it) is ended
/// by force when it is dropped, and the next session works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_whose_app_stops_answering_does_not_hold_up_the_next() {
    let Ok(url) = std::env::var("FRONTDESK_WEBDRIVER_URL") else {
        return;
    };
    if !Path::new(MINIBROWSER).exists() {
        return;
    }
    let _one = ONE_WEBKIT.lock().await;
    let launch = || AppLaunch::new(MINIBROWSER).arg("--automation");
    let stuck = WebDriver::new_session_with(&url, launch())
        .await
        .expect("session");
    let pid = stuck.app_pid().expect("the app's process id");
    let stopped = std::process::Command::new("kill")
        .args(["-STOP", &pid.to_string()])
        .status()
        .unwrap();
    assert!(stopped.success());
    drop(stuck);
    // Killed, it is gone (or a zombie its parent has yet to reap) once the kernel has
    // delivered the signal.
    let state = || {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        stat.rsplit_once(')')
            .and_then(|(_, rest)| rest.trim().chars().next())
    };
    let gone = poll_until(Duration::from_secs(10), "the stuck app gone", || async {
        Ok(matches!(state(), None | Some('Z' | 'X')).then_some(()))
    })
    .await;
    assert!(gone.is_ok(), "the stuck app is still there: {:?}", state());

    let next = WebDriver::new_session_with(&url, launch())
        .await
        .expect("the next session starts");
    next.navigate("data:text/html,<title>next</title>")
        .await
        .unwrap();
    assert_eq!(next.title().await.unwrap(), "next");
    next.delete_session().await.unwrap();
}

/// The client against tauri-driver, the browser being WebKitGTK's MiniBrowser (from
/// libwebkit2gtk-4.1), driven as the app is.
#[tokio::test]
async fn live_webdriver_round_trip() {
    let Ok(url) = std::env::var("FRONTDESK_WEBDRIVER_URL") else {
        return;
    };
    let app = MINIBROWSER;
    if !Path::new(app).exists() {
        return;
    }
    let _one = ONE_WEBKIT.lock().await;
    // MiniBrowser needs `--automation` (a Tauri app is switched by the env tauri-driver sets);
    // the env entry sends the launch through the generated wrapper script.
    let launch = AppLaunch::new(app)
        .arg("--automation")
        .env("FRONTDESK_E2E_PROBE", "it's on");
    let d = WebDriver::new_session_with(&url, launch)
        .await
        .expect("session");
    // As the patient pages do: without it a phone lays the page out 980 pixels wide.
    let page = "<meta name=viewport content=\"width=device-width\"><title>rig</title>\
        <input data-testid=name value=x>\
        <button data-testid=go onclick=\"document.querySelector('[data-testid=out]')\
        .textContent='Hi '+document.querySelector('[data-testid=name]').value\">Go</button>\
        <div data-testid=out data-state=idle></div>\
        <select data-testid=sel><option value=a>A</option><option value=b>B</option></select>\
        <div class=row>1</div><div class=row>2</div>";
    d.navigate(&format!("data:text/html,{}", page.replace('#', "%23")))
        .await
        .expect("navigate");
    assert_eq!(d.title().await.unwrap(), "rig");
    let name = d
        .wait_for(&testid("name"), Duration::from_secs(10))
        .await
        .unwrap();
    name.clear().await.unwrap();
    assert_eq!(name.property("value").await.unwrap(), json!(""));
    name.send_keys("Rita").await.unwrap();
    d.find_testid("go").await.unwrap().click().await.unwrap();
    let text = d
        .wait_for_text(&testid("out"), "Hi Rita", Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(text, "Hi Rita");
    let out = d.find_testid("out").await.unwrap();
    assert_eq!(
        out.attribute("data-state").await.unwrap().as_deref(),
        Some("idle")
    );
    assert_eq!(out.attribute("data-nope").await.unwrap(), None);
    assert!(out.is_displayed().await.unwrap());
    assert_eq!(d.find_all(".row").await.unwrap().len(), 2);
    let sel = d.find_testid("sel").await.unwrap();
    sel.select_value("b").await.unwrap();
    assert_eq!(sel.property("value").await.unwrap(), json!("b"));
    let sum = d
        .execute("return arguments[0] + 1;", vec![json!(41)])
        .await
        .unwrap();
    assert_eq!(sum, json!(42));
    let tag = d
        .execute("return arguments[0].tagName;", vec![out.as_arg()])
        .await
        .unwrap();
    assert_eq!(tag, json!("DIV"));
    name.click().await.unwrap();
    d.press_keys(&format!("!{}", keys::BACKSPACE))
        .await
        .unwrap();
    d.press_keys("?").await.unwrap();
    assert_eq!(name.property("value").await.unwrap(), json!("Rita?"));
    let missing = d.find("#missing").await.unwrap_err();
    assert!(missing.is_no_such_element(), "{missing}");
    let slow = d.wait_for("#missing", Duration::from_millis(300)).await;
    assert!(matches!(slow, Err(WebDriverError::Timeout(_))));
    let shot = std::env::temp_dir().join("frontdesk-e2e-rig-selftest.png");
    d.screenshot(&shot).await.unwrap();
    let png = std::fs::read(&shot).unwrap();
    assert!(png.starts_with(b"\x89PNG"));
    d.delete_session().await.unwrap();
}

/// The client against chromedriver and headless Chromium on a phone-sized screen, as the
/// patient pages' tests use it.
#[tokio::test]
async fn headless_chromium_round_trip() -> Result<(), WebDriverError> {
    let launch = ChromiumLaunch::from_env().phone_screen(390, 844);
    if !launch.chromium.exists() || !launch.chromedriver.exists() {
        return Ok(());
    }
    let d = WebDriver::start_chromium(launch).await?;
    // As the patient pages do: without it a phone lays the page out 980 pixels wide.
    let page = "<meta name=viewport content=\"width=device-width\"><title>rig</title>\
        <label for=name>Name</label><input id=name>\
        <button id=go onclick=\"document.getElementById('out').textContent=\
        'Hi '+document.getElementById('name').value\">Go</button>\
        <div id=out>nobody yet</div><div id=hidden hidden>x</div>\
        <button id=warn onclick=\"alert('careful')\">Warn</button>";
    d.navigate(&format!("data:text/html,{page}")).await?;
    assert_eq!(d.title().await?, "rig");
    let width = d.execute("return window.innerWidth;", vec![]).await?;
    assert_eq!(width, json!(390), "the phone's width");
    d.type_into("#name", "Gia").await?;
    d.click("#go").await?;
    let text = d
        .wait_for_text("#out", "Hi Gia", Duration::from_secs(5))
        .await?;
    assert_eq!(text, "Hi Gia");
    assert!(d.is_shown("#out").await?);
    assert!(!d.is_shown("#hidden").await?, "hidden");
    assert!(!d.is_shown("#missing").await?, "absent");
    let never = d
        .wait_for_text("#out", "Bye", Duration::from_millis(300))
        .await
        .unwrap_err();
    assert!(never.to_string().contains("it shows \"Hi Gia\""), "{never}");
    assert_eq!(d.alert_text().await?, None);
    d.click("#warn").await?;
    assert_eq!(d.alert_text().await?.as_deref(), Some("careful"));
    d.post("alert/dismiss", json!({})).await?;
    let shot = std::env::temp_dir().join("frontdesk-chromium-rig-selftest.png");
    d.screenshot(&shot).await?;
    assert!(std::fs::read(&shot)?.starts_with(b"\x89PNG"));
    d.delete_session().await
}
