//! The floor under the console's start-up figures: the same Tauri window (size, CSP, custom
//! protocol, IPC) on the same WebKit, showing a page with nothing in it. It prints when that
//! page has been painted, the way the console reports its first queue, so `console_perf` can
//! set one beside the other.
//!
//!     cargo build --release -p frontdesk --example empty_window
#![allow(clippy::print_stderr)]

use std::borrow::Cow;
use std::sync::OnceLock;
use std::time::Instant;
use tauri::utils::assets::{AssetKey, AssetsIter, CspHash};
use tauri::{App, Assets, Runtime};

static STARTED: OnceLock<Instant> = OnceLock::new();

const PAGE: &str = r#"<!doctype html>
<html lang="en">
  <head><meta charset="UTF-8" /><title>Frontdesk</title></head>
  <body><script type="module" src="/empty.js"></script></body>
</html>
"#;

/// After the next frame has been drawn, like the console's own report.
const SCRIPT: &str = "requestAnimationFrame(() => setTimeout(() => \
     window.__TAURI_INTERNALS__.invoke('painted')));\n";

/// One empty page instead of the console's UI.
struct EmptyPage;

impl<R: Runtime> Assets<R> for EmptyPage {
    fn setup(&self, _app: &App<R>) {}

    fn get(&self, key: &AssetKey) -> Option<Cow<'_, [u8]>> {
        match key.as_ref().trim_start_matches('/') {
            "" | "index.html" => Some(Cow::Borrowed(PAGE.as_bytes())),
            "empty.js" => Some(Cow::Borrowed(SCRIPT.as_bytes())),
            _ => None,
        }
    }

    fn iter(&self) -> Box<AssetsIter<'_>> {
        Box::new(std::iter::empty())
    }

    fn csp_hashes(&self, _html_path: &AssetKey) -> Box<dyn Iterator<Item = CspHash<'_>> + '_> {
        Box::new(std::iter::empty())
    }
}

#[tauri::command]
fn painted() {
    let ms = STARTED.get().map_or(0, |t| t.elapsed().as_millis());
    eprintln!("frontdesk: empty window painted: {ms} ms after start");
}

fn main() {
    STARTED.get_or_init(Instant::now);
    let mut context = tauri::generate_context!();
    context.set_assets(Box::new(EmptyPage));
    tauri::Builder::default()
        .invoke_handler(tauri::generate_handler![painted])
        .run(context)
        .expect("the empty window runs");
}
