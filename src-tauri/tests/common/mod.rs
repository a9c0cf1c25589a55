//! What the app's mock-runtime tests share: the app on Tauri's mock runtime with its commands
//! and a console attached, and a way to invoke a command as the UI does.

use frontdesk_console::{Console, InMemory, Notices};
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;
use tauri::test::{INVOKE_KEY, MockRuntime, get_ipc_response};
use tauri::webview::InvokeRequest;

/// The app built on `builder` (the mock runtime, with whatever plugins a test adds), its main
/// window, and its console keeping files in `data_dir` and secrets in memory.
pub(crate) struct MockApp {
    pub(crate) webview: tauri::WebviewWindow<MockRuntime>,
    pub(crate) console: Arc<Console>,
    /// Kept for as long as the test runs: the app, and its alerts' way out.
    _app: tauri::App<MockRuntime>,
    _notices: Notices,
}

pub(crate) fn mock_app(builder: tauri::Builder<MockRuntime>, data_dir: &Path) -> MockApp {
    let app = frontdesk::with_commands(builder)
        .build(tauri::generate_context!())
        .unwrap();
    let (console, notices) =
        frontdesk::attach_console(app.handle(), data_dir.into(), Box::new(InMemory::default()));
    let webview = tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .unwrap();
    MockApp {
        webview,
        console,
        _app: app,
        _notices: notices,
    }
}

/// Invokes a command the way the UI does; the answer or the error, as JSON.
pub(crate) fn invoke(
    webview: &tauri::WebviewWindow<MockRuntime>,
    cmd: &str,
    args: Value,
) -> Result<Value, Value> {
    get_ipc_response(
        webview,
        InvokeRequest {
            cmd: cmd.into(),
            callback: tauri::ipc::CallbackFn(0),
            error: tauri::ipc::CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: tauri::ipc::InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .map(|body| body.deserialize::<Value>().unwrap())
}
