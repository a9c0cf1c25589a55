//! WebKit set up for what the console is: one long-lived page whose files are inside the app,
//! not a web browser. Linux only (WebKitGTK); elsewhere the platform's defaults stand.

use tauri::{Runtime, WebviewWindow};

/// What WebKit must find in the environment when it starts, beyond what the person set: the
/// console never draws with the GPU (see [`tune`]), so the app's own process need not load the
/// GL driver either. Without these, WebKit opens an EGL display in the app's process only to
/// learn which GPU device to name to its web process (and whether DMA-BUF rendering works),
/// which loads the driver (on a machine without a GPU, Mesa's software one with LLVM):
/// about 20 MiB of the app's memory for nothing it uses.
/// - `WEBKIT_DISABLE_DMABUF_RENDERER=1`: no GPU buffers between the processes (the web process
///   draws into shared memory, as it does anyway with hardware acceleration never used);
/// - `WEBKIT_WEB_RENDER_DEVICE_FILE`: the device to name, found without EGL (the first render
///   node in /dev/dri, or /dev/null where there is none: nothing here renders on it);
/// - `JSC_useJIT=0`: the page's scripts run in JavaScriptCore's interpreter, compiled to
///   nothing. They are short handlers for clicks and pushes, never hot loops: with 2,000 in
///   the queue an arrival still reaches the screen well inside its 50 ms (about 12 ms later
///   than with the compilers), and the web process is 6–7 MiB smaller (the compilers' code, the
///   code they make, and their memory);
/// - `MALLOC_MMAP_THRESHOLD_` and `MALLOC_TRIM_THRESHOLD_` (128 KiB, the C library's starting
///   values, see [`ALLOCATOR_THRESHOLD`]): fixed, so WebKit's processes give memory they free
///   back to the system. Left to itself, the C library raises both after each large block is
///   freed (up to 32 MiB), and what the page's start-up freed stays in the heap all day: about
///   2 MiB of the web process. The app's own process is set the same way by `main`, which is
///   too late for variables (the C library reads them as a process starts).
///
/// A variable the person set is left as they set it.
#[cfg(target_os = "linux")]
pub fn environment() -> Vec<(&'static str, String)> {
    wanted(|name| std::env::var_os(name).is_some())
}

#[cfg(not(target_os = "linux"))]
pub fn environment() -> Vec<(&'static str, String)> {
    Vec::new()
}

/// The size from which the C library maps a block on its own and gives it back when freed, and
/// the free space at the heap's top it gives back: its starting value for both, made fixed.
#[cfg(target_os = "linux")]
pub const ALLOCATOR_THRESHOLD: usize = 128 * 1024;

/// A variable's name and how to work out its value.
#[cfg(target_os = "linux")]
type Setting = (&'static str, fn() -> String);

/// [`environment`], with `is_set` telling which variables are set already.
#[cfg(target_os = "linux")]
fn wanted(is_set: impl Fn(&str) -> bool) -> Vec<(&'static str, String)> {
    let defaults: [Setting; 5] = [
        ("WEBKIT_DISABLE_DMABUF_RENDERER", || "1".to_owned()),
        ("WEBKIT_WEB_RENDER_DEVICE_FILE", render_node),
        ("JSC_useJIT", || "0".to_owned()),
        ("MALLOC_MMAP_THRESHOLD_", || ALLOCATOR_THRESHOLD.to_string()),
        ("MALLOC_TRIM_THRESHOLD_", || ALLOCATOR_THRESHOLD.to_string()),
    ];
    defaults
        .into_iter()
        .filter(|(name, _)| !is_set(name))
        .map(|(name, value)| (name, value()))
        .collect()
}

/// The machine's first GPU render node, or /dev/null.
#[cfg(target_os = "linux")]
fn render_node() -> String {
    let mut nodes: Vec<String> = std::fs::read_dir("/dev/dri")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().to_string_lossy().into_owned())
        .filter(|p| p.starts_with("/dev/dri/renderD"))
        .collect();
    nodes.sort();
    nodes
        .into_iter()
        .next()
        .unwrap_or_else(|| "/dev/null".to_owned())
}

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

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::wanted;

    #[test]
    fn sets_what_is_missing_and_keeps_what_the_person_set() {
        let all = wanted(|_| false);
        let names: Vec<&str> = all.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            [
                "WEBKIT_DISABLE_DMABUF_RENDERER",
                "WEBKIT_WEB_RENDER_DEVICE_FILE",
                "JSC_useJIT",
                "MALLOC_MMAP_THRESHOLD_",
                "MALLOC_TRIM_THRESHOLD_"
            ]
        );
        let device = &all[1].1;
        assert!(
            device == "/dev/null" || device.starts_with("/dev/dri/renderD"),
            "{device}"
        );
        assert_eq!(all[2].1, "0");
        assert_eq!((all[3].1.as_str(), all[4].1.as_str()), ("131072", "131072"));

        let kept = wanted(|name| name == "JSC_useJIT");
        assert!(kept.iter().all(|(n, _)| *n != "JSC_useJIT"), "{kept:?}");
        assert_eq!(kept.len(), 4);
    }
}
