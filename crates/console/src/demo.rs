//! Demo mode (the `demo` feature): a clinic server in this process on loopback, with the demo
//! clinic seeded and its simulated patients, and the console signed in as the demo
//! receptionist on a registered station (PIN 2222 unlocks). A console built without the
//! feature carries no server.

use crate::console::Console;
use crate::error::UiError;
use frontdesk_server::demo::{ACCOUNTS, DEMO_SLUG, seed_demo, simulate};
use frontdesk_server::{HashCost, RunningServer, Settings};
use std::path::Path;
use std::time::Duration;

/// The account the demo signs in as: the front desk.
pub const DEMO_DESK: &str = "reception@demo.clinic";

/// Keeps the demo server alive as long as the app.
#[derive(Debug)]
pub struct DemoServer(pub RunningServer);

fn failed(e: impl std::fmt::Display) -> UiError {
    UiError::new("demo", format!("The demo clinic did not start: {e}"))
}

fn password(email: &str) -> Result<&'static str, UiError> {
    ACCOUNTS
        .iter()
        .find(|a| a.email == email)
        .map(|a| a.password)
        .ok_or_else(|| failed(format!("no demo account {email}")))
}

/// Starts the demo clinic with its files in `dir` and signs `console` in to it.
pub async fn start(console: &Console, dir: &Path) -> Result<DemoServer, UiError> {
    console.set_progress("Starting the demo clinic's server…");
    std::fs::create_dir_all(dir).map_err(failed)?;
    // Each demo is a new clinic morning (its hours around now, a line already waiting): the
    // last run's clinic goes.
    for file in ["clinic.db", "clinic.db-wal", "clinic.db-shm"] {
        match std::fs::remove_file(dir.join(file)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(failed(e)),
            _ => {}
        }
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(failed)?;
    let server = RunningServer::start(Settings::new(dir.join("clinic.db")), listener)
        .await
        .map_err(failed)?;
    console.set_progress("Seeding the demo clinic: rooms, staff and this morning's patients…");
    // The demo's passwords are printed for all to see: hashing them cheaply starts it in seconds.
    let demo = seed_demo(server.store(), HashCost::Fast)
        .await
        .map_err(failed)?;
    // The front desk is staffed: the receptionist takes patients (and gets alerts).
    if let Some(desk) = demo.staff_by_email(DEMO_DESK) {
        server
            .store()
            .set_availability(
                demo.clinic.id,
                desk.id,
                frontdesk_domain::Availability::Available,
                server.state.now(),
            )
            .await
            .map_err(failed)?;
    }
    let store = server.state.store.clone();
    tokio::spawn(simulate(
        store,
        server.state.settings.clock.clone(),
        demo,
        Duration::from_secs(4),
        std::future::pending::<()>(),
    ));
    let address = format!("{}/{DEMO_SLUG}", server.url());
    console.set_progress("Signing in at the front desk…");
    // Register this computer as a clinic station, as the clinic's admin would.
    let api = frontdesk_client::api::ApiClient::new(&server.url())?;
    let admin = api
        .sign_in(
            DEMO_SLUG,
            "admin@demo.clinic",
            password("admin@demo.clinic")?,
        )
        .await?;
    let station = api
        .register_station(&admin.token, "Front desk (demo)")
        .await?;
    console
        .sign_in(&address, DEMO_DESK, password(DEMO_DESK)?, false)
        .await?;
    console.make_station(&station)?;
    console.set_progress("");
    eprintln!("Frontdesk demo: clinic server at {address}");
    for a in ACCOUNTS {
        eprintln!(
            "  {:<24} password {:<16} PIN {}",
            a.email, a.password, a.pin
        );
    }
    Ok(DemoServer(server))
}
