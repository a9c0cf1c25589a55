//! The pre-call check: can this computer take a video visit right now?

use crate::console::Console;
use frontdesk_client::view::ConnectionState;
use serde::Serialize;
use std::time::Instant;

#[derive(Clone, Debug, Serialize)]
pub struct Check {
    pub name: String,
    pub ok: bool,
    pub detail: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct PrecallReport {
    pub checks: Vec<Check>,
}

fn check(name: &str, ok: bool, detail: impl Into<String>) -> Check {
    Check {
        name: name.into(),
        ok,
        detail: detail.into(),
    }
}

pub async fn run(console: &Console) -> PrecallReport {
    let mut checks = Vec::new();
    match console.api_and_token() {
        Some((api, _, link)) => {
            let started = Instant::now();
            let health = api.health().await;
            let ms = started.elapsed().as_millis();
            checks.push(match health {
                Ok(()) => check("Clinic server", true, format!("Reachable, {ms} ms")),
                Err(e) => check("Clinic server", false, e.to_string()),
            });
            checks.push(check(
                "Live updates",
                link == ConnectionState::Online,
                match link {
                    ConnectionState::Online => "Connected".to_string(),
                    other => format!("Not connected ({})", format!("{other:?}").to_lowercase()),
                },
            ));
        }
        None => checks.push(check("Clinic server", false, "Not signed in")),
    }
    checks.push(match notify_rust::get_server_information() {
        Ok(info) => check(
            "Desktop notifications",
            true,
            format!("{} {}", info.name, info.version),
        ),
        Err(e) => check("Desktop notifications", false, e.to_string()),
    });
    let probe = "precall-probe";
    let keyring = console
        .secrets()
        .set(probe, "ok")
        .and_then(|_| console.secrets().get(probe))
        .and_then(|v| console.secrets().delete(probe).map(|_| v));
    checks.push(match keyring {
        Ok(Some(v)) if v == "ok" => check("Keyring", true, "Usable"),
        Ok(_) => check("Keyring", false, "Stored secrets do not come back"),
        Err(e) => check("Keyring", false, e),
    });
    let cameras = count_entries("/dev", "video");
    checks.push(check(
        "Camera",
        cameras > 0,
        if cameras > 0 {
            format!("{cameras} found")
        } else {
            "No camera found".into()
        },
    ));
    let microphones = count_entries("/dev/snd", "pcmC").min(
        // Capture devices end in 'c'.
        std::fs::read_dir("/dev/snd")
            .map(|d| {
                d.filter_map(Result::ok)
                    .filter(|e| e.file_name().to_string_lossy().ends_with('c'))
                    .count()
            })
            .unwrap_or(0),
    );
    checks.push(check(
        "Microphone",
        microphones > 0,
        if microphones > 0 {
            format!("{microphones} found")
        } else {
            "No microphone found".into()
        },
    ));
    PrecallReport { checks }
}

fn count_entries(dir: &str, prefix: &str) -> usize {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
                .count()
        })
        .unwrap_or(0)
}
