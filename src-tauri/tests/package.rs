//! The console as a front-desk PC installs it: the Tauri bundler's `.deb` (reusing this debug
//! build), unpacked into a throwaway root, with its desktop entry, icons and Debian
//! dependencies where the desktop and apt expect them; the installed binary answers
//! `--version` and opens its window on the test desktop (tests/e2e/env.sh's).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// `target/` of this build (`target/debug/deps/package-HASH` → `target`).
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.ancestors().nth(3).expect("target dir").to_path_buf()
}

/// Runs a command to its end; its standard output, or the test fails with what it said.
fn run(command: &mut Command) -> String {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("{command:?}: {e}"));
    assert!(
        out.status.success(),
        "{command:?}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Builds the `.deb` with the Tauri CLI (tests/setup.sh installs it) over this debug build.
fn build_deb(target: &Path) -> PathBuf {
    let src_tauri = Path::new(env!("CARGO_MANIFEST_DIR"));
    run(Command::new("cargo")
        .args(["tauri", "build", "--debug", "--bundles", "deb", "--ci"])
        .current_dir(src_tauri)
        .env("CARGO_TARGET_DIR", target));
    let dir = target.join("debug/bundle/deb");
    let version = env!("CARGO_PKG_VERSION");
    let deb = dir.join(format!("Frontdesk_{version}_amd64.deb"));
    assert!(deb.exists(), "no {} in {}", deb.display(), dir.display());
    deb
}

/// Whether an X window called `title` is on the display.
fn window_up(title: &str) -> bool {
    Command::new("xwininfo")
        .args(["-root", "-tree"])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains(&format!("\"{title}\"")))
}

#[test]
fn the_deb_installs_the_console_with_its_desktop_entry_icons_and_dependencies() {
    let deb = build_deb(&target_dir());

    let depends = run(Command::new("dpkg-deb")
        .args(["-f"])
        .arg(&deb)
        .arg("Depends"));
    for needed in [
        "libwebkit2gtk-4.1-0",
        "libgtk-3-0",
        "libayatana-appindicator3-1",
        "xdg-utils",
    ] {
        assert!(
            depends.contains(needed),
            "Depends lacks {needed}: {depends}"
        );
    }

    let root = tempfile::tempdir().unwrap();
    run(Command::new("dpkg").arg("-x").arg(&deb).arg(root.path()));
    let entry =
        std::fs::read_to_string(root.path().join("usr/share/applications/Frontdesk.desktop"))
            .expect("a desktop entry in usr/share/applications");
    for line in [
        "Exec=frontdesk",
        "Icon=frontdesk",
        "Name=Frontdesk",
        "Type=Application",
    ] {
        assert!(entry.lines().any(|l| l == line), "no `{line}` in:\n{entry}");
    }
    for size in ["32x32", "128x128", "256x256@2"] {
        let icon = root
            .path()
            .join(format!("usr/share/icons/hicolor/{size}/apps/frontdesk.png"));
        assert!(icon.exists(), "no icon at {}", icon.display());
    }

    let binary = root.path().join("usr/bin/frontdesk");
    let version = run(Command::new(&binary).arg("--version"));
    assert_eq!(
        version.trim(),
        format!("frontdesk {}", env!("CARGO_PKG_VERSION"))
    );

    // Started as the desktop entry starts it, it opens its window (the sign-in screen: this
    // computer has no session).
    assert!(
        !window_up("Frontdesk"),
        "another Frontdesk window is already up"
    );
    let data = tempfile::tempdir().unwrap();
    let mut app = Command::new(&binary)
        .env("FRONTDESK_DATA_DIR", data.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut up = false;
    while Instant::now() < deadline {
        if let Ok(Some(status)) = app.try_wait() {
            panic!("the installed console stopped before its window opened: {status}");
        }
        if window_up("Frontdesk") {
            up = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = app.kill();
    let _ = app.wait();
    assert!(up, "the installed console's window never opened");
}
