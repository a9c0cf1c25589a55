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
    frontdesk::run();
}
