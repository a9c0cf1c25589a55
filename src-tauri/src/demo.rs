//! Demo mode: a clinic server in this process on loopback, with the demo clinic seeded and its
//! simulated patients, and the console signed in as the demo receptionist on a registered
//! station (PIN 2222 unlocks).

use crate::console::Console;
use frontdesk_server::demo::{ACCOUNTS, DEMO_SLUG, seed_demo, simulate};
use frontdesk_server::{HashCost, RunningServer, Settings};
use std::path::Path;
use std::time::Duration;

pub const DEMO_DESK: &str = "reception@demo.clinic";

/// Keeps the demo server alive as long as the app.
#[derive(Debug)]
pub struct DemoServer(pub RunningServer);

fn password(email: &str) -> Result<&'static str, String> {
    ACCOUNTS
        .iter()
        .find(|a| a.email == email)
        .map(|a| a.password)
        .ok_or_else(|| format!("no demo account {email}"))
}

pub async fn start(console: &Console, dir: &Path) -> Result<DemoServer, String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let server = RunningServer::start(Settings::new(dir.join("clinic.db")), listener)
        .await
        .map_err(|e| e.to_string())?;
    let demo = seed_demo(server.store(), HashCost::Standard)
        .await
        .map_err(|e| e.to_string())?;
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
            .map_err(|e| e.to_string())?;
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
    // Register this computer as a clinic station, as the clinic's admin would.
    let api = frontdesk_client::api::ApiClient::new(&server.url()).map_err(|e| e.to_string())?;
    let admin = api
        .sign_in(
            DEMO_SLUG,
            "admin@demo.clinic",
            password("admin@demo.clinic")?,
        )
        .await
        .map_err(|e| e.to_string())?;
    let station = api
        .register_station(&admin.token, "Front desk (demo)")
        .await
        .map_err(|e| e.to_string())?;
    console
        .sign_in(&address, DEMO_DESK, password(DEMO_DESK)?, false)
        .await
        .map_err(|e| e.message)?;
    console.make_station(&station).map_err(|e| e.message)?;
    eprintln!("Frontdesk demo: clinic server at {address}");
    for a in ACCOUNTS {
        eprintln!(
            "  {:<24} password {:<16} PIN {}",
            a.email, a.password, a.pin
        );
    }
    Ok(DemoServer(server))
}
