//! `frontdesk-server`: serve the clinic API, run the demo clinic, or set a clinic up.

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use frontdesk_domain::{Availability, Role};
use frontdesk_server::admin::{self, NewRoom, NewStaff};
use frontdesk_server::store::Store;
use frontdesk_server::{AppState, HashCost, Settings, SqliteStore, demo, launch};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(
    name = "frontdesk-server",
    version,
    about = "The hosted clinic API for Frontdesk"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Serve the API.
    Serve {
        #[arg(long, env = "FRONTDESK_DB", default_value = "frontdesk.db")]
        db: PathBuf,
        #[arg(long, env = "FRONTDESK_LISTEN", default_value = "127.0.0.1:8080")]
        listen: String,
    },
    /// Serve a seeded demo clinic with simulated patients coming and going.
    Demo {
        #[arg(long, default_value = "frontdesk-demo.db")]
        db: PathBuf,
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// How often the simulator takes a step, in milliseconds.
        #[arg(long, default_value_t = 3000)]
        tick_ms: u64,
    },
    /// Clinics.
    Clinic {
        #[command(subcommand)]
        action: ClinicCmd,
    },
    /// Rooms of a clinic.
    Room {
        #[command(subcommand)]
        action: RoomCmd,
    },
    /// Staff of a clinic.
    Staff {
        #[command(subcommand)]
        action: StaffCmd,
    },
}

#[derive(Subcommand, Debug)]
enum ClinicCmd {
    Create {
        #[arg(long, env = "FRONTDESK_DB", default_value = "frontdesk.db")]
        db: PathBuf,
        /// Short name used in links and at sign-in (a-z, 0-9, -).
        #[arg(long)]
        slug: String,
        #[arg(long)]
        name: String,
    },
}

#[derive(Subcommand, Debug)]
enum RoomCmd {
    Create {
        #[arg(long, env = "FRONTDESK_DB", default_value = "frontdesk.db")]
        db: PathBuf,
        /// The clinic's slug.
        #[arg(long)]
        clinic: String,
        #[arg(long)]
        name: String,
        /// Make it this provider's own room (their email).
        #[arg(long)]
        provider: Option<String>,
        #[arg(long)]
        waiting_message: Option<String>,
        #[arg(long)]
        emergency_info: Option<String>,
        /// A question on the room's intake form (repeat for more).
        #[arg(long = "intake-question")]
        intake_questions: Vec<String>,
    },
}

#[derive(Subcommand)]
enum StaffCmd {
    Create {
        #[arg(long, env = "FRONTDESK_DB", default_value = "frontdesk.db")]
        db: PathBuf,
        #[arg(long)]
        clinic: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: String,
        /// admin, receptionist, provider or scheduler (repeat for more).
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// Better given through the environment than on the command line.
        #[arg(long, env = "FRONTDESK_PASSWORD", hide_env_values = true)]
        password: String,
        #[arg(long)]
        pin: Option<String>,
        /// A room this person works in, by name (repeat for more).
        #[arg(long = "room")]
        rooms: Vec<String>,
    },
}

impl std::fmt::Debug for StaffCmd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StaffCmd(..)")
    }
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn init_tracing() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_http=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

async fn bind(listen: &str) -> Result<tokio::net::TcpListener> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    say(&format!("listening on http://{}", listener.local_addr()?));
    Ok(listener)
}

fn open_store(db: &PathBuf) -> Result<SqliteStore> {
    SqliteStore::open(db, 16).with_context(|| format!("cannot open {}", db.display()))
}

async fn clinic_id(store: &dyn Store, slug: &str) -> Result<frontdesk_domain::ClinicId> {
    Ok(store
        .clinic_by_slug(slug)
        .await?
        .with_context(|| format!("no clinic {slug:?}"))?
        .id)
}

#[tokio::main]
async fn main() -> Result<()> {
    init_tracing();
    match Cli::parse().command {
        Cmd::Serve { db, listen } => {
            let state = AppState::open(Settings::new(db))?;
            let listener = bind(&listen).await?;
            launch(state, listener, shutdown_signal()).await?;
        }
        Cmd::Demo {
            db,
            listen,
            tick_ms,
        } => {
            let state = AppState::open(Settings::new(db))?;
            let seeded = demo::seed_demo(state.store.as_ref(), HashCost::Standard).await?;
            let listener = bind(&listen).await?;
            say(&format!(
                "demo clinic {:?} (slug {:?}); sign in with:",
                seeded.clinic.name, seeded.clinic.slug
            ));
            for a in demo::ACCOUNTS {
                let roles: Vec<&str> = a.roles.iter().map(|r| r.as_str()).collect();
                say(&format!(
                    "  {:<24} password {:<16} PIN {}  ({})",
                    a.email,
                    a.password,
                    a.pin,
                    roles.join(", ")
                ));
            }
            for r in &seeded.rooms {
                say(&format!(
                    "  front door: POST /v1/join/{}/{}  ({})",
                    seeded.clinic.slug, r.id, r.name
                ));
            }
            let store: Arc<dyn Store> = state.store.clone();
            let tick = Duration::from_millis(tick_ms.max(100));
            tokio::spawn(demo::simulate(
                store,
                seeded,
                tick,
                std::future::pending::<()>(),
            ));
            launch(state, listener, shutdown_signal()).await?;
        }
        Cmd::Clinic {
            action: ClinicCmd::Create { db, slug, name },
        } => {
            let store = open_store(&db)?;
            let clinic = admin::create_clinic(&store, &slug, &name).await?;
            say(&format!("clinic {} ({})", clinic.id, clinic.slug));
        }
        Cmd::Room {
            action:
                RoomCmd::Create {
                    db,
                    clinic,
                    name,
                    provider,
                    waiting_message,
                    emergency_info,
                    intake_questions,
                },
        } => {
            let store = open_store(&db)?;
            let clinic = clinic_id(&store, &clinic).await?;
            let provider = match provider {
                Some(email) => Some(
                    store
                        .staff(clinic)
                        .await?
                        .into_iter()
                        .find(|s| s.email.eq_ignore_ascii_case(&email))
                        .with_context(|| format!("no staff {email:?}"))?
                        .id,
                ),
                None => None,
            };
            let room = admin::create_room(
                &store,
                clinic,
                NewRoom {
                    name,
                    provider,
                    office_hours: Vec::new(),
                    emergency_info,
                    waiting_message,
                    intake_questions,
                },
            )
            .await?;
            say(&format!("room {} ({})", room.id, room.name));
        }
        Cmd::Staff {
            action:
                StaffCmd::Create {
                    db,
                    clinic,
                    name,
                    email,
                    roles,
                    password,
                    pin,
                    rooms,
                },
        } => {
            let store = open_store(&db)?;
            let clinic = clinic_id(&store, &clinic).await?;
            let roles = roles
                .iter()
                .map(|r| serde_json::from_value::<Role>(serde_json::Value::String(r.clone())))
                .collect::<Result<Vec<_>, _>>()
                .context("roles are admin, receptionist, provider or scheduler")?;
            let all_rooms = store.rooms(clinic).await?;
            let mut room_ids = Vec::new();
            for r in &rooms {
                let Some(room) = all_rooms
                    .iter()
                    .find(|x| x.name == *r || x.id.to_string() == *r)
                else {
                    bail!("no room {r:?}");
                };
                room_ids.push(room.id);
            }
            let staff = admin::create_staff(
                &store,
                clinic,
                NewStaff {
                    name,
                    email,
                    roles,
                    password,
                    pin,
                    rooms: room_ids,
                    availability: Some(Availability::Unavailable),
                },
                HashCost::Standard,
            )
            .await?;
            say(&format!("staff {} ({})", staff.id, staff.email));
        }
    }
    Ok(())
}
