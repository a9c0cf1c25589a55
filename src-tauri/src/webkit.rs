//! WebKit set up for what the console is: one long-lived page whose files are inside the app,
//! not a web browser. Linux only (WebKitGTK); elsewhere the platform's defaults stand.

use tauri::{Runtime, WebviewWindow};

/// Applies the console's WebKit settings to a window's webview.
#[cfg(target_os = "linux")]
pub(crate) fn tune<R: Runtime>(window: &WebviewWindow<R>) {
    let applied = window.with_webview(|webview| {
        use webkit2gtk::{
            CacheModel, HardwareAccelerationPolicy, SettingsExt, WebContextExt, WebViewExt,
        };
        let view = webview.inner();
        if let Some(context) = view.context() {
            // The smallest memory caches: nothing is fetched twice from a network here.
            context.set_cache_model(CacheModel::DocumentViewer);
        }
        if let Some(settings) = WebViewExt::settings(&view) {
            // There is no "back" to go to: keep no previous page in memory.
            settings.set_enable_page_cache(false);
            // A list of text and badges draws fine in software; a GL context per window
            // costs tens of megabytes on a front-desk PC.
            settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
        }
    });
    if let Err(e) = applied {
        log::warn!("webview settings: {e}");
    }
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn tune<R: Runtime>(_window: &WebviewWindow<R>) {}
