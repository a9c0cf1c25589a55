//! The Frontdesk desktop app: the Tauri shell over the console (`frontdesk-console`).
//!
//! - this file: the Tauri commands (one line each) and `run()`, a few named setup steps
//!   (plugins, start-up, tray, window state, desktop alerts, idle lock);
//! - [`host`]: the computer under the console (keyring, notifications, autostart, devices);
//! - `webkit`: the webview's settings on Linux.
//!
//! Built with the `demo` feature, `--demo` serves a seeded demo clinic from inside the app.
#![forbid(unsafe_code)]

mod admin;
pub mod host;
pub mod webkit;

use frontdesk_console::calendar::{
    BookingCheck, BookingDone, BookingForm, CalendarQuery, CalendarView,
};
use frontdesk_console::{
    AppState, Console, Notices, PrecallReport, Push, Queued, ReportQuery, Secrets, Settings,
    UiError,
};
use frontdesk_domain::{Availability, Command, VisitId};
use host::DesktopHost;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use tauri::menu::{Menu, MenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{App, AppHandle, Emitter, Manager, Runtime, State, WindowEvent};
use tauri_plugin_window_state::{AppHandleExt, StateFlags};
use tokio::sync::watch;

type Shared<'a> = State<'a, Arc<Console>>;

fn visit_id(raw: &str) -> Result<VisitId, UiError> {
    raw.parse()
        .map_err(|_| UiError::new("not_found", "No such patient."))
}

#[tauri::command]
async fn app_state(console: Shared<'_>) -> Result<AppState, UiError> {
    starting_up("the page asked for the state", since_start());
    let state = console.state_once_started().await;
    starting_up("the state is answered", since_start());
    Ok(state)
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

#[tauri::command]
fn act(console: Shared<'_>, visit_id: String, command: Command) -> Result<Queued, UiError> {
    console.act(self::visit_id(&visit_id)?, command)
}

/// Opens the visit's call (the one I am in) in the default browser.
#[tauri::command]
fn open_call(console: Shared<'_>, visit_id: String) -> Result<String, UiError> {
    console.open_call(self::visit_id(&visit_id)?)
}

#[tauri::command]
fn set_availability(console: Shared<'_>, availability: Availability) -> Result<AppState, UiError> {
    console.set_availability(availability)
}

#[tauri::command]
async fn request_session(
    console: Shared<'_>,
    provider: String,
    patient_name: String,
) -> Result<AppState, UiError> {
    let provider = provider
        .parse()
        .map_err(|_| UiError::new("validation", "That is not one of the clinic's providers."))?;
    console.request_session(provider, &patient_name).await
}

/// The Reports workspace's figures.
#[tauri::command]
async fn report(
    console: Shared<'_>,
    query: ReportQuery,
) -> Result<frontdesk_domain::report::Report, UiError> {
    console.report(query).await
}

/// "Export CSV": saves the report in the downloads folder; answers where.
#[tauri::command]
async fn export_report(console: Shared<'_>, query: ReportQuery) -> Result<String, UiError> {
    console.export_report(query).await
}

#[tauri::command]
fn dismiss_request(console: Shared<'_>, visit_id: String) -> Result<AppState, UiError> {
    console.dismiss_request(self::visit_id(&visit_id)?)
}

/// A page of the Calendar workspace.
#[tauri::command]
fn calendar(console: Shared<'_>, query: CalendarQuery) -> Result<CalendarView, UiError> {
    console.calendar(&query)
}

/// The booking form read through the domain's rules, as it is typed.
#[tauri::command]
fn check_booking(console: Shared<'_>, form: BookingForm) -> Result<BookingCheck, UiError> {
    console.check_booking(&form)
}

#[tauri::command]
async fn book_session(console: Shared<'_>, form: BookingForm) -> Result<BookingDone, UiError> {
    console.book_session(&form).await
}

#[tauri::command]
fn reschedule_session(
    console: Shared<'_>,
    visit_id: String,
    date: String,
    time: String,
    duration_mins: u32,
) -> Result<BookingDone, UiError> {
    console.reschedule_session(self::visit_id(&visit_id)?, &date, &time, duration_mins)
}

/// The booking form for a patient's next appointment.
#[tauri::command]
async fn next_appointment(console: Shared<'_>, visit_id: String) -> Result<BookingForm, UiError> {
    console.next_appointment(self::visit_id(&visit_id)?).await
}

/// The UI missed a push: the next one is the whole state.
#[tauri::command]
fn resend_state(console: Shared<'_>) {
    console.resend_whole();
}

/// What start-up is doing now, for the loading page.
#[tauri::command]
fn start_progress(console: Shared<'_>) -> String {
    console.progress()
}

#[tauri::command]
fn reconnect_now(console: Shared<'_>) -> Result<AppState, UiError> {
    console.reconnect_now()
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
fn save_settings(console: Shared<'_>, settings: Settings) -> Result<AppState, UiError> {
    console.save_settings(settings)
}

#[tauri::command]
async fn precall_check(console: Shared<'_>) -> Result<PrecallReport, UiError> {
    Ok(console.precall_check().await)
}

#[tauri::command]
fn activity(console: Shared<'_>) {
    console.touch();
}

/// When the process started, for start-up timing.
static STARTED: OnceLock<Instant> = OnceLock::new();

/// Whether the queue has been painted once: start-up is over.
static PAINTED: AtomicBool = AtomicBool::new(false);

/// Logs a step of start-up with its time since the process started, until the queue is first
/// painted (the log then says where a slow start spent its time).
fn starting_up(step: &str, ms: u128) {
    if !PAINTED.load(Ordering::Relaxed) {
        log::info!("start-up: {step} at {ms} ms");
    }
}

/// Milliseconds since the process started.
fn since_start() -> u128 {
    STARTED.get().map_or(0, |t| t.elapsed().as_millis())
}

/// The page's own steps of start-up: each step with its time on the page's clock, and that
/// clock's reading as it sent them.
#[derive(Debug, serde::Deserialize)]
struct PageSteps {
    marks: Vec<(String, f64)>,
    now: f64,
}

/// The UI has the queue on screen for the first time: say how long start-up took, and when the
/// page took its steps.
#[tauri::command]
fn first_paint(rows: usize, steps: Option<PageSteps>) {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let ms = since_start();
        if let Some(PageSteps { marks, now }) = steps {
            for (step, at) in marks {
                let at = (ms as f64 - (now - at)).max(0.0) as u128;
                starting_up(&format!("the page {step}"), at);
            }
        }
        log::info!("first queue painted: {rows} rows, {ms} ms after start");
        PAINTED.store(true, Ordering::Relaxed);
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

/// Every command the UI may call, on any runtime (the mock one in tests).
pub fn with_commands<R: Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder.invoke_handler(tauri::generate_handler![
        app_state,
        sign_in,
        sign_out,
        visit_details,
        act,
        open_call,
        set_availability,
        dismiss_outcome,
        reconnect_now,
        start_progress,
        request_session,
        dismiss_request,
        report,
        export_report,
        lock,
        unlock,
        save_settings,
        precall_check,
        activity,
        first_paint,
        rows_painted,
        resend_state,
        calendar,
        check_booking,
        book_session,
        reschedule_session,
        next_appointment,
        admin::admin_rooms,
        admin::save_room,
        admin::preview_hours,
        admin::admin_staff,
        admin::invite_staff,
        admin::change_staff,
        admin::set_staff_active,
        admin::sign_out_everywhere,
        admin::send_password_reset,
        admin::set_staff_pin,
        admin::admin_stations,
        admin::end_station,
        admin::deliveries,
        admin::retry_delivery,
        admin::my_alerts,
        admin::set_my_alerts
    ])
}

/// The console on this app's desktop, keeping its files in `data_dir` and its secrets in
/// `secrets`; the commands reach it from now on. The receiver yields its desktop alerts.
pub fn attach_console<R: Runtime>(
    app: &AppHandle<R>,
    data_dir: PathBuf,
    secrets: Box<dyn Secrets>,
) -> (Arc<Console>, Notices) {
    let host = DesktopHost::new(app.clone(), secrets);
    let (console, notices) = Console::new(data_dir, Arc::new(host));
    let console = Arc::new(console);
    app.manage(console.clone());
    (console, notices)
}

/// Starting with the desktop session (the settings' "start at login"): an XDG autostart entry
/// on Linux, written or removed when the setting is saved.
pub fn autostart_plugin<R: Runtime>() -> tauri::plugin::TauriPlugin<R> {
    tauri_plugin_autostart::init(tauri_plugin_autostart::MacosLauncher::LaunchAgent, None)
}

/// Sends every change to the UI, as a `state` event (the whole state) or a `changes` event
/// (what changed since the last push), and the number waiting to `show_count` (the tray) each
/// time it changes. Runs as long as the console does.
pub async fn forward_changes<R: Runtime>(
    app: AppHandle<R>,
    console: Arc<Console>,
    show_count: impl FnMut(usize) + Send + 'static,
) {
    // FRONTDESK_REPORT_PUSHES=1 prints the size of each push (the console's benchmark reads it).
    let report = std::env::var_os("FRONTDESK_REPORT_PUSHES").is_some_and(|v| v == "1");
    let send = move |push: &Push| {
        if report {
            report_push(push);
        }
        let _ = match push {
            Push::State(state) => app.emit("state", state),
            Push::Changes(changes) => app.emit("changes", changes),
        };
    };
    console.forward_changes(send, show_count).await;
}

/// Prints what a push carries to the UI, in bytes of JSON, as the UI receives it.
fn report_push(push: &Push) {
    let (kind, bytes) = match push {
        Push::State(state) => ("state", serde_json::to_string(state).map_or(0, |s| s.len())),
        Push::Changes(changes) => (
            "changes",
            serde_json::to_string(changes).map_or(0, |s| s.len()),
        ),
    };
    log::info!("pushed {kind}: {bytes} bytes");
}

/// What the tray says: how many patients wait.
pub fn tray_text(waiting: usize) -> String {
    format!("{waiting} waiting")
}

/// The main window's title: how many patients wait, when any do, so it shows in the taskbar.
pub fn window_title(waiting: usize) -> String {
    if waiting == 0 {
        "Frontdesk".into()
    } else {
        format!("Frontdesk — {}", tray_text(waiting))
    }
}

pub(crate) fn show_main<R: Runtime>(app: &AppHandle<R>) {
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.unminimize();
        let _ = w.show();
        let _ = w.set_focus();
    }
}

/// How this run opens.
#[derive(Clone, Copy, Debug)]
enum Opening {
    /// Where the last run left off (signed in if the keyring still has the token).
    LastSession,
    /// A demo clinic served from inside the app.
    #[cfg(feature = "demo")]
    Demo,
}

impl Opening {
    fn from_command_line() -> Opening {
        let demo = std::env::args().any(|a| a == "--demo")
            || std::env::var_os("FRONTDESK_DEMO").is_some_and(|v| v == "1");
        if demo {
            demo_opening()
        } else {
            Opening::LastSession
        }
    }
}

#[cfg(feature = "demo")]
fn demo_opening() -> Opening {
    Opening::Demo
}

/// The shipped console carries no clinic server: asking it for the demo is a mistake to say
/// plainly, not a console that opens on an empty sign-in screen.
#[cfg(not(feature = "demo"))]
fn demo_opening() -> Opening {
    eprintln!(
        "frontdesk: this build has no demo (it carries no clinic server). \
         Run the demo with: bash src-tauri/demo.sh"
    );
    std::process::exit(2)
}

/// Where the app keeps its files: `FRONTDESK_DATA_DIR` if set (tests), else the OS's.
fn data_dir<R: Runtime>(app: &AppHandle<R>) -> PathBuf {
    std::env::var_os("FRONTDESK_DATA_DIR")
        .map(Into::into)
        .or_else(|| app.path().app_data_dir().ok())
        .unwrap_or_else(|| std::env::temp_dir().join("frontdesk"))
}

/// Starts the desktop app.
pub fn run() {
    STARTED.get_or_init(Instant::now);
    let opening = Opening::from_command_line();
    let result = with_commands(plugins(tauri::Builder::default()))
        .setup(move |app| {
            starting_up("the window is made", since_start());
            if let Some(window) = app.get_webview_window("main") {
                webkit::tune(&window);
            }
            let handle = app.handle();
            let keyring = frontdesk_console::usable_or_in_memory(host::Keyring);
            let (console, notices) = attach_console(handle, data_dir(handle), keyring);
            open(handle, console.clone(), opening);
            tray(app, console.clone())?;
            keep_window_state(app);
            desktop_alerts(console.clone(), notices);
            idle_lock(console);
            starting_up("the shell is set up", since_start());
            Ok(())
        })
        .run(tauri::generate_context!());
    if let Err(e) = result {
        eprintln!("frontdesk: {e}");
        std::process::exit(1);
    }
}

/// One window per desktop session, the log, the window's place, and starting at login.
fn plugins<R: Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder
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
        .plugin(autostart_plugin())
}

/// Picks up the last session (or starts the demo) beside WebKit rather than before it:
/// nothing here holds up the window's page, and the UI waits for it before drawing.
// Only the demo needs the app (to keep its server alive as long as the app).
#[cfg_attr(not(feature = "demo"), allow(unused_variables))]
fn open<R: Runtime>(app: &AppHandle<R>, console: Arc<Console>, opening: Opening) {
    console.starting();
    match opening {
        Opening::LastSession => {
            tauri::async_runtime::spawn(async move {
                console.clone().resume_last_session().await;
                starting_up("the last session is picked up", since_start());
                console.started();
            });
        }
        #[cfg(feature = "demo")]
        Opening::Demo => {
            let app = app.clone();
            tauri::async_runtime::spawn(async move {
                let dir = console.data_dir().join("demo");
                match frontdesk_console::demo::start(&console, &dir).await {
                    Ok(server) => {
                        app.manage(server);
                    }
                    Err(e) => log::error!("demo mode: {}", e.message),
                }
                console.started();
            });
        }
    }
}

/// The tray and the window's title: how many wait, and a way back to the window. Every change reaches the UI as one
/// `state` event, and the tray's count.
fn tray<R: Runtime>(app: &App<R>, console: Arc<Console>) -> tauri::Result<()> {
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
    let window = app.get_webview_window("main");
    let show_count = move |n| {
        let _ = tray.set_tooltip(Some(tray_text(n)));
        let _ = tray.set_title(Some(n.to_string()));
        if let Some(w) = &window {
            let _ = w.set_title(&window_title(n));
        }
    };
    tauri::async_runtime::spawn(forward_changes(app.handle().clone(), console, show_count));
    Ok(())
}

/// The window's size and place are kept as soon as they settle, not only at a clean exit: a
/// front-desk PC's session usually ends by logging out or shutting down.
fn keep_window_state<R: Runtime>(app: &App<R>) {
    let Some(window) = app.get_webview_window("main") else {
        return;
    };
    let (moved_tx, mut moved) = watch::channel(());
    window.on_window_event(move |e| {
        if matches!(e, WindowEvent::Moved(_) | WindowEvent::Resized(_)) {
            let _ = moved_tx.send(());
        }
    });
    let app = app.handle().clone();
    tauri::async_runtime::spawn(async move {
        while moved.changed().await.is_ok() {
            tokio::time::sleep(Duration::from_millis(500)).await;
            moved.borrow_and_update();
            if let Err(e) = app.save_window_state(StateFlags::all()) {
                log::warn!("window state: {e}");
            }
        }
    });
}

/// Desktop alerts, as long as the app runs.
fn desktop_alerts(console: Arc<Console>, notices: Notices) {
    tauri::async_runtime::spawn(async move { console.deliver_alerts(notices).await });
}

/// The idle lock, as long as the app runs.
fn idle_lock(console: Arc<Console>) {
    tauri::async_runtime::spawn(async move { console.lock_when_idle().await });
}
