// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

// `--version` answers on standard output, as command-line programs do.
#[allow(clippy::print_stdout)]
fn main() {
    // Answered before any window or plugin starts: a packaging check, or a person asking.
    if std::env::args()
        .skip(1)
        .any(|a| a == "--version" || a == "-V")
    {
        println!("frontdesk {}", env!("CARGO_PKG_VERSION"));
        return;
    }
    for (name, value) in frontdesk::webkit::environment() {
        // SAFETY: nothing else runs yet (no thread has been started, no library reads the
        // environment meanwhile), the one time `set_var` is sound.
        #[allow(unsafe_code)]
        unsafe {
            std::env::set_var(name, value)
        };
    }
    frontdesk::run();
}
