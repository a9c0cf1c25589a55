//! How the app binary opens. The shipped console (built without the `demo` feature) carries no
//! clinic server: asked for the demo, it says so and stops rather than opening a window.

#[cfg(not(feature = "demo"))]
#[test]
fn a_console_built_without_the_demo_says_so_when_asked_for_one() {
    let data = tempfile::tempdir().unwrap();
    for (args, env) in [
        (vec!["--demo"], None),
        (vec![], Some(("FRONTDESK_DEMO", "1"))),
    ] {
        let mut app = std::process::Command::new(env!("CARGO_BIN_EXE_frontdesk"));
        app.args(&args).env("FRONTDESK_DATA_DIR", data.path());
        if let Some((name, value)) = env {
            app.env(name, value);
        }
        let out = app.output().unwrap();
        let said = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?} {env:?}: {said}");
        assert!(said.contains("this build has no demo"), "{said}");
        assert!(
            said.contains("src-tauri/demo.sh"),
            "says how to get one: {said}"
        );
    }
}
