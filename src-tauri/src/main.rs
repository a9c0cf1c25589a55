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
    // This process's own allocator, as its WebKit processes are told through the environment
    // (see `webkit::environment`): fixed thresholds, so what start-up frees goes back. A
    // threshold the person set in the environment stands.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    for (param, variable) in [
        (libc::M_MMAP_THRESHOLD, "MALLOC_MMAP_THRESHOLD_"),
        (libc::M_TRIM_THRESHOLD, "MALLOC_TRIM_THRESHOLD_"),
    ] {
        if std::env::var_os(variable).is_none() {
            // SAFETY: `mallopt` only sets the allocator's parameters; no thread runs yet.
            #[allow(unsafe_code)]
            unsafe {
                libc::mallopt(param, frontdesk::webkit::ALLOCATOR_THRESHOLD as libc::c_int)
            };
        }
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
