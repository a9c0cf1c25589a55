//! The Frontdesk desktop app: a thin Tauri shell over the console engine.
//!
//! - [`console`]: the application without Tauri (sign-in, engine, lock, settings, state);
//! - this file: Tauri commands (one line each), events to the UI, desktop notifications, the
//!   tray, the idle lock, and demo mode;
//! - [`secrets`]: the OS keyring; [`settings`]: preferences on disk; [`precall`]: checks.
#![forbid(unsafe_code)]

pub mod console;
pub mod demo;
pub mod precall;
pub mod secrets;
pub mod settings;
mod webkit;

use console::{AppState, Console, UiError};
use frontdesk_domain::alerts::Notice;
use frontdesk_domain::{Availability, Command, VisitId};
use settings::Settings;
use std::sync::Arc;
use std::time::Duration;
use tauri::menu::{Menu, MenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Emitter, Manager, Runtime, State, WindowEvent};
use tauri_plugin_window_state::{AppHandleExt, StateFlags};
use tokio::sync::watch;

type Shared<'a> = State<'a, Arc<Console>>;

fn visit_id(raw: &str) -> Result<VisitId, UiError> {
    raw.parse()
        .map_err(|_| UiError::new("not_found", "No such patient."))
}

#[tauri::command]
async fn app_state(console: Shared<'_>) -> Result<AppState, UiError> {
    Ok(console.state_once_started().await)
}

#[tauri::command]
async fn sign_in(
    console: Shared<'_>,
    server: String,
    email: String,
    password: String,
    remember: bool,
) -> Result<AppState, UiError> {
    console.sign_in(&server, &email, &password, remember).await
}

#[tauri::command]
async fn sign_out(console: Shared<'_>) -> Result<AppState, UiError> {
    Ok(console.sign_out().await)
}

#[tauri::command]
async fn visit_details(
    console: Shared<'_>,
    visit_id: String,
) -> Result<frontdesk_domain::Visit, UiError> {
    console.visit_details(self::visit_id(&visit_id)?).await
}

#[derive(serde::Serialize)]
struct Queued {
    action_id: String,
}

#[tauri::command]
fn act(console: Shared<'_>, visit_id: String, command: Command) -> Result<Queued, UiError> {
    let action_id = console.act(self::visit_id(&visit_id)?, command)?;
    Ok(Queued { action_id })
}

#[tauri::command]
fn set_availability(console: Shared<'_>, availability: Availability) -> Result<AppState, UiError> {
    console.set_availability(availability)
}

#[tauri::command]
fn dismiss_outcome(console: Shared<'_>, action_id: String) -> Result<AppState, UiError> {
    console.dismiss_outcome(&action_id)
}

#[tauri::command]
fn lock(console: Shared<'_>) -> AppState {
    console.lock_now()
}

#[tauri::command]
async fn unlock(
    console: Shared<'_>,
    pin: String,
    staff_email: Option<String>,
) -> Result<AppState, UiError> {
    console.unlock(&pin, staff_email.as_deref()).await
}

#[tauri::command]
fn save_settings<R: Runtime>(
    app: AppHandle<R>,
    console: Shared<'_>,
    settings: Settings,
) -> Result<AppState, UiError> {
    let state = console.save_settings(settings.clone())?;
    apply_autostart(&app, settings.autostart);
    Ok(state)
}

#[tauri::command]
async fn precall_check(console: Shared<'_>) -> Result<precall::PrecallReport, UiError> {
    Ok(precall::run(&console).await)
}

#[tauri::command]
fn activity(console: Shared<'_>) {
    console.touch();
}

/// When the process started, for start-up timing.
static STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// The UI has the queue on screen for the first time: say how long start-up took.
#[tauri::command]
fn first_paint(rows: usize) {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let ms = STARTED.get().map_or(0, |t| t.elapsed().as_millis());
        log::info!("first queue painted: {rows} rows, {ms} ms after start");
        eprintln!("frontdesk: first queue painted: {rows} rows, {ms} ms after start");
    });
}

/// These patients' rows are on screen for the first time: say when, to the microsecond of the
/// wall clock, so an arrival can be timed from the server's commit to the screen.
#[tauri::command]
fn rows_painted(visit_ids: Vec<String>) {
    let at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros());
    for id in visit_ids {
        log::info!("row on screen: {id} at {at} us");
    }
}

/// Every command the UI may call.
fn commands<R: Runtime>() -> impl Fn(tauri::ipc::Invoke<R>) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        app_state,
        sign_in,
        sign_out,
        visit_details,
        act,
        set_availability,
        dismiss_outcome,
        lock,
        unlock,
        save_settings,
        precall_check,
        activity,
        first_paint,
        rows_painted
    ]
}

/// The app's commands and state on any runtime (the mock one in tests).
pub fn with_console<R: Runtime>(
    builder: tauri::Builder<R>,
    console: Arc<Console>,
) -> tauri::Builder<R> {
    builder.manage(console).invoke_handler(commands())
}

/// Starting with the desktop session (the settings' "start at login"): an XDG autostart entry
/// on Linux, written or removed when the setting is saved.
pub fn autostart_plugin<R: Runtime>() -> tauri::plugin::TauriPlugin<R> {
    tauri_plugin_autostart::init(tauri_plugin_autostart::MacosLauncher::LaunchAgent, None)
}

fn apply_autostart<R: Runtime>(app: &AppHandle<R>, on: bool) {
    // Absent when the plugin is not loaded (the mock runtime in tests).
    let Some(launcher) = app.try_state::<tauri_plugin_autostart::AutoLaunchManager>() else {
        return;
    };
    let result = if on {
        launcher.enable()
    } else {
        launcher.disable()
    };
    if let Err(e) = result {
        log::warn!("autostart: {e}");
    }
}

/// Where the app keeps its files: `FRONTDESK_DATA_DIR` if set (tests), else the OS's.
fn data_dir<R: Runtime>(app: &AppHandle<R>) -> std::path::PathBuf {
    std::env::var_os("FRONTDESK_DATA_DIR")
        .map(Into::into)
        .or_else(|| app.path().app_data_dir().ok())
        .unwrap_or_else(|| std::env::temp_dir().join("frontdesk"))
}

/// The keyring when it works, else memory (nothing is kept; the person signs in each time).
fn secrets() -> Arc<dyn secrets::Secrets> {
    let keyring = secrets::Keyring;
    let probe = "startup-probe";
    let works = secrets::Secrets::set(&keyring, probe, "ok")
        .and_then(|_| secrets::Secrets::delete(&keyring, probe))
        .is_ok();
    if works {
        Arc::new(keyring)
    } else {
        log::warn!("no usable keyring: sign-in will not be remembered");
        Arc::new(secrets::InMemory::default())
    }
}

fn show_main<R: Runtime>(app: &AppHandle<R>) {
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.unminimize();
        let _ = w.show();
        let _ = w.set_focus();
    }
}

/// The sound an alert asks the desktop to play (a freedesktop sound theme name).
pub const ALERT_SOUND: &str = "message-new-instant";

/// The desktop notification for a notice: with the alert sound when the setting is on.
pub fn desktop_alert(notice: &Notice, sound: bool) -> notify_rust::Notification {
    let mut n = notify_rust::Notification::new();
    n.appname("Frontdesk")
        .summary(&notice.summary)
        .body(&notice.body)
        .action("default", "Open")
        .hint(notify_rust::Hint::Category("presence.online".into()));
    if sound {
        n.sound_name(ALERT_SOUND);
    }
    n
}

/// Shows one desktop notification; clicking it brings the console forward on that visit.
fn notify<R: Runtime>(app: &AppHandle<R>, notice: Notice, sound: bool) {
    let n = desktop_alert(&notice, sound);
    let app = app.clone();
    let visit = notice.visit_id.to_string();
    std::thread::spawn(move || match n.show() {
        Ok(handle) => handle.wait_for_action(|action| {
            if action == "default" {
                show_main(&app);
                let _ = app.emit("focus_visit", serde_json::json!({ "visit_id": visit }));
            }
        }),
        Err(e) => log::warn!("desktop notification failed: {e}"),
    });
}

/// What the tray says: how many patients wait.
pub fn tray_text(waiting: usize) -> String {
    format!("{waiting} waiting")
}

/// Sends every change to the UI as one `state` event, and the number waiting to `show_count`
/// (the tray) each time it changes. Runs as long as the console does.
pub async fn forward_changes<R: Runtime>(
    app: AppHandle<R>,
    console: Arc<Console>,
    mut show_count: impl FnMut(usize) + Send + 'static,
) {
    let mut changes = console.changes();
    let mut last_count = usize::MAX;
    loop {
        let state = console.app_state();
        let _ = app.emit("state", &state);
        // Counted from the state just sent (empty while locked), not built again.
        let count = state
            .view
            .queue
            .iter()
            .filter(|r| r.status.is_waiting())
            .count();
        if count != last_count {
            show_count(count);
            last_count = count;
        }
        // A change after a quiet spell is sent at once; the rest of a burst of events waits
        // for the next 30 ms tick and goes as one repaint.
        tokio::time::sleep(Duration::from_millis(30)).await;
        if changes.changed().await.is_err() {
            break;
        }
        changes.borrow_and_update();
    }
}

/// Starts the desktop app.
pub fn run() {
    STARTED.get_or_init(std::time::Instant::now);
    let demo_mode = std::env::args().any(|a| a == "--demo")
        || std::env::var_os("FRONTDESK_DEMO").is_some_and(|v| v == "1");
    let builder = tauri::Builder::default()
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            show_main(app);
        }))
        .plugin(
            tauri_plugin_log::Builder::new()
                .level(log::LevelFilter::Info)
                // The network and keyring crates narrate every frame at debug level.
                .level_for("tungstenite", log::LevelFilter::Warn)
                .level_for("tokio_tungstenite", log::LevelFilter::Warn)
                .level_for("keyring", log::LevelFilter::Warn)
                .build(),
        )
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .plugin(tauri_plugin_opener::init())
        .plugin(autostart_plugin());
    let result = builder.setup(move |app| {
        let handle = app.handle().clone();
        if let Some(window) = app.get_webview_window("main") {
            webkit::tune(&window);
        }
        let dir = data_dir(&handle);
        let (console, mut notices) = Console::new(dir.clone(), secrets());
        let console = Arc::new(console);
        app.manage(console.clone());
        // The keyring, the cache and (in demo mode) the clinic server start beside WebKit
        // rather than before it: nothing here holds up the window's page.
        console.starting();
        let (c, h) = (console.clone(), handle.clone());
        tauri::async_runtime::spawn(async move {
            if demo_mode {
                match demo::start(&c, &dir.join("demo")).await {
                    Ok(server) => {
                        h.manage(server);
                    }
                    Err(e) => log::error!("demo mode: {e}"),
                }
            } else {
                let resumer = c.clone();
                match tauri::async_runtime::spawn_blocking(move || resumer.resume()).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => log::warn!("could not resume the last session: {}", e.message),
                    Err(e) => log::error!("resuming the last session failed: {e}"),
                }
            }
            c.started();
        });

        // The tray: how many wait, and a way back to the window.
        let show = MenuItem::with_id(app, "show", "Show Frontdesk", true, None::<&str>)?;
        let quit = MenuItem::with_id(app, "quit", "Quit", true, None::<&str>)?;
        let menu = Menu::with_items(app, &[&show, &quit])?;
        let mut tray = TrayIconBuilder::with_id("main")
            .tooltip("Frontdesk")
            .menu(&menu)
            .on_menu_event(|app, event| match event.id.as_ref() {
                "show" => show_main(app),
                "quit" => app.exit(0),
                _ => {}
            });
        if let Some(icon) = app.default_window_icon() {
            tray = tray.icon(icon.clone());
        }
        let tray = tray.build(app)?;

        // Every change reaches the UI as one `state` event, and the tray's count.
        tauri::async_runtime::spawn(forward_changes(handle.clone(), console.clone(), move |n| {
            let text = tray_text(n);
            let _ = tray.set_tooltip(Some(&text));
            let _ = tray.set_title(Some(n.to_string()));
        }));

        // The window's size and place are kept as soon as they settle, not only at a clean
        // exit: a front-desk PC's session usually ends by logging out or shutting down.
        if let Some(window) = app.get_webview_window("main") {
            let (moved_tx, mut moved) = watch::channel(());
            window.on_window_event(move |e| {
                if matches!(e, WindowEvent::Moved(_) | WindowEvent::Resized(_)) {
                    let _ = moved_tx.send(());
                }
            });
            let h = handle.clone();
            tauri::async_runtime::spawn(async move {
                while moved.changed().await.is_ok() {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    moved.borrow_and_update();
                    if let Err(e) = h.save_window_state(StateFlags::all()) {
                        log::warn!("window state: {e}");
                    }
                }
            });
        }

        // Desktop alerts.
        let (c, h) = (console.clone(), handle.clone());
        tauri::async_runtime::spawn(async move {
            while let Some(notice) = notices.recv().await {
                notify(&h, notice, c.settings().sound);
            }
        });

        // The idle lock, and the live wait times' clock.
        let c = console.clone();
        tauri::async_runtime::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(5)).await;
                c.lock_if_idle();
            }
        });
        Ok(())
    });
    if let Err(e) = result
        .invoke_handler(commands())
        .run(tauri::generate_context!())
    {
        eprintln!("frontdesk: {e}");
        std::process::exit(1);
    }
}
