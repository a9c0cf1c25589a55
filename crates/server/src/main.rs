//! `frontdesk-server`: serve the clinic API, run the demo clinic, or set a clinic up.

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use frontdesk_domain::{Availability, Role};
use frontdesk_server::admin::{self, NewRoom, NewStaff};
use frontdesk_server::links::LinkSecret;
use frontdesk_server::messages::transport::{Mailer, SmsHook};
use frontdesk_server::model::{AfterHours, IntakeQuestion, OfficeHours, QuestionKind};
use frontdesk_server::store::Store;
use frontdesk_server::{
    AppState, Clock, Database, DbKey, HashCost, PgStore, Settings, SqliteStore, demo, launch,
};
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
    /// The database as a URL, for every command: `sqlite:///var/lib/frontdesk/clinic.db`, or
    /// `sqlite:clinic.db` relative to here, or PostgreSQL (`postgres://user:pw@host/db`, which
    /// several server processes can share). Wins over `--db PATH`, its SQLite shorthand.
    #[arg(long, global = true, env = "FRONTDESK_DATABASE_URL")]
    database_url: Option<String>,
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
        #[command(flatten)]
        outbound: Outbound,
        #[command(flatten)]
        bounds: Bounds,
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
        #[command(flatten)]
        outbound: Outbound,
        #[command(flatten)]
        bounds: Bounds,
    },
    /// Bring the database's schema up to date (every command does so on opening it) and say
    /// which version it is at.
    Migrate {
        #[arg(long, env = "FRONTDESK_DB", default_value = "frontdesk.db")]
        db: PathBuf,
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
    /// The audit trail.
    Audit {
        #[command(subcommand)]
        action: AuditCmd,
    },
}

#[derive(Subcommand, Debug)]
enum AuditCmd {
    /// Check every clinic's audit chain (or one's): exits non-zero naming the first record
    /// that was changed or removed.
    Verify {
        #[arg(long, env = "FRONTDESK_DB", default_value = "frontdesk.db")]
        db: PathBuf,
        /// Only this clinic (its slug).
        #[arg(long)]
        clinic: Option<String>,
    },
}

/// How much work one client may ask for; each left out keeps the server's default.
#[derive(clap::Args, Debug)]
struct Bounds {
    /// Patients arriving per client address per minute.
    #[arg(long, env = "FRONTDESK_ARRIVALS_PER_ADDRESS_PER_MINUTE")]
    arrivals_per_address_per_minute: Option<usize>,
    /// Patients arriving in one room per minute.
    #[arg(long, env = "FRONTDESK_ARRIVALS_PER_ROOM_PER_MINUTE")]
    arrivals_per_room_per_minute: Option<usize>,
    /// Intake saves per client address per minute.
    #[arg(long)]
    intake_updates_per_address_per_minute: Option<usize>,
    /// Password and PIN checks run at once.
    #[arg(long)]
    secret_checks_at_once: Option<usize>,
    /// Time a client gets to send a request's line and headers, in milliseconds.
    #[arg(long)]
    request_head_timeout_ms: Option<u64>,
    /// A connection quiet both ways this long is closed, in milliseconds.
    #[arg(long)]
    idle_connection_timeout_ms: Option<u64>,
    /// A proxy in front of this server (an address or CIDR range, such as 127.0.0.1 or
    /// 10.0.0.0/8) whose X-Forwarded-For names the client address the per-address limits
    /// count; repeat for several. From anyone else the header is ignored.
    #[arg(long = "trusted-proxy", value_name = "IP_OR_CIDR")]
    trusted_proxies: Vec<frontdesk_server::limits::TrustedProxy>,
    /// Days audit records are kept; older ones are pruned (default six years).
    #[arg(long, env = "FRONTDESK_AUDIT_RETENTION_DAYS")]
    audit_retention_days: Option<u64>,
    /// Connections to PostgreSQL this process uses at most for requests (default 8). More
    /// than the database's cores in all, over every replica, makes commands slower: they
    /// queue for the clinic's counter row while its holder waits for a core.
    #[arg(long, env = "FRONTDESK_DATABASE_CONNECTIONS")]
    database_connections: Option<usize>,
}

impl Bounds {
    fn apply(self, s: &mut Settings) {
        let ms = Duration::from_millis;
        let or = |given: Option<usize>, default: &mut usize| *default = given.unwrap_or(*default);
        or(
            self.arrivals_per_address_per_minute,
            &mut s.arrivals_per_address_per_minute,
        );
        or(
            self.arrivals_per_room_per_minute,
            &mut s.arrivals_per_room_per_minute,
        );
        or(
            self.intake_updates_per_address_per_minute,
            &mut s.intake_updates_per_address_per_minute,
        );
        or(self.secret_checks_at_once, &mut s.secret_checks_at_once);
        or(self.database_connections, &mut s.database_connections);
        s.database_connections = s.database_connections.max(1);
        s.request_head_timeout = self
            .request_head_timeout_ms
            .map_or(s.request_head_timeout, ms);
        s.idle_connection_timeout = self
            .idle_connection_timeout_ms
            .map_or(s.idle_connection_timeout, ms);
        s.trusted_proxies = self.trusted_proxies;
        if let Some(days) = self.audit_retention_days {
            s.audit_retention = Duration::from_secs(days.max(1) * 24 * 3600);
        }
    }
}

/// Links in messages, and how email and SMS go out.
#[derive(clap::Args, Debug)]
struct Outbound {
    /// Where patients reach this server, for links in emails and texts.
    #[arg(long, env = "FRONTDESK_PUBLIC_URL")]
    public_url: Option<String>,
    /// SMTP relay: smtp://host:25, smtp://host:587?tls=required, smtps://user:pass@host:465.
    #[arg(long, env = "FRONTDESK_SMTP_URL", hide_env_values = true)]
    smtp_url: Option<String>,
    /// Sender of emails.
    #[arg(
        long,
        env = "FRONTDESK_MAIL_FROM",
        default_value = "Frontdesk <no-reply@localhost>"
    )]
    mail_from: String,
    /// SMS gateway webhook: each text is POSTed there as JSON {id, to, body}.
    #[arg(long, env = "FRONTDESK_SMS_WEBHOOK", hide_env_values = true)]
    sms_webhook: Option<String>,
    /// Run the server's clock this many milliseconds ahead (or behind, negative) of the
    /// system's: for rehearsing reminders and office hours.
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    clock_offset_ms: i64,
    /// How often background work (messages, timers) runs, in milliseconds.
    #[arg(long, default_value_t = 1000)]
    background_tick_ms: u64,
    /// A file holding the secret guests' links are derived from (at least 32 characters;
    /// `openssl rand -hex 32 > link.key; chmod 600 link.key`). Kept apart from the database,
    /// a copy of the database alone cannot make links. Without it (or
    /// FRONTDESK_LINK_SECRET), a secret kept in the database is used. Changing it stops the
    /// links already sent for booked sessions from working.
    #[arg(long, value_name = "PATH")]
    link_secret_file: Option<PathBuf>,
    /// The link secret itself, from the environment (see --link-secret-file, which wins).
    #[arg(
        long = "link-secret",
        env = "FRONTDESK_LINK_SECRET",
        hide = true,
        hide_env_values = true
    )]
    link_secret: Option<String>,
    /// How long a patient's link works while the visit is open, in hours from when it opened
    /// (a booked session: from its start), for clinics that do not set their own.
    #[arg(long, default_value_t = 12)]
    open_link_hours: u64,
    /// A file holding the key the database is encrypted with at rest (at least 32
    /// characters: `openssl rand -hex 32 > db.key; chmod 600 db.key`). A new database is
    /// created encrypted; an existing one must have been created with the same key. Also
    /// FRONTDESK_DB_KEY_FILE, or the key itself in FRONTDESK_DB_KEY; the admin commands
    /// read those two.
    #[arg(long, value_name = "PATH", env = "FRONTDESK_DB_KEY_FILE")]
    db_key_file: Option<PathBuf>,
}

/// The database key from a file, or from FRONTDESK_DB_KEY; None when neither is given.
fn db_key(file: Option<&std::path::Path>) -> Result<Option<DbKey>> {
    if let Some(path) = file {
        return Ok(Some(DbKey::from_file(path).map_err(anyhow::Error::msg)?));
    }
    match std::env::var("FRONTDESK_DB_KEY") {
        Ok(text) => Ok(Some(DbKey::from_text(&text).map_err(anyhow::Error::msg)?)),
        Err(_) => Ok(None),
    }
}

impl Outbound {
    fn apply(self, settings: &mut Settings) -> Result<()> {
        settings.public_url = self.public_url;
        settings.clock = Clock::offset(self.clock_offset_ms);
        settings.background_tick = Duration::from_millis(self.background_tick_ms.max(10));
        settings.open_link_lifetime = Duration::from_secs(self.open_link_hours.max(1) * 3600);
        settings.db_key = db_key(self.db_key_file.as_deref())?;
        settings.link_secret = match (&self.link_secret_file, &self.link_secret) {
            (Some(path), _) => Some(LinkSecret::from_file(path).map_err(anyhow::Error::msg)?),
            (None, Some(text)) => Some(LinkSecret::from_text(text).map_err(anyhow::Error::msg)?),
            (None, None) => None,
        };
        if let Some(url) = &self.smtp_url {
            settings.transports.email =
                Some(Mailer::new(url, &self.mail_from).map_err(anyhow::Error::msg)?);
        }
        if let Some(url) = &self.sms_webhook {
            settings.transports.sms = Some(SmsHook::new(url).map_err(anyhow::Error::msg)?);
        }
        Ok(())
    }
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
        /// The clinic's time zone, e.g. Australia/Sydney (office hours are read in it).
        #[arg(long, default_value = "UTC")]
        time_zone: String,
        /// The call link shown to a patient being seen; {clinic}, {room} and {visit} are
        /// filled in, e.g. https://video.example/{clinic}/{visit}.
        #[arg(long)]
        video_link: Option<String>,
        /// Desktop alerts never carry patients' names on the clinic's consoles (screens in
        /// view of the waiting room); a locked console's never do anyway.
        #[arg(long)]
        nameless_alerts: bool,
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
        /// A question on the room's intake form (repeat for more). Plain text is a free-text
        /// question; "Label?=yes/no" a yes/no one; "Label=First|Second|Third" a choice.
        #[arg(long = "intake-question")]
        intake_questions: Vec<String>,
        /// Office hours, e.g. "mon-fri 09:00-17:00" or "sat 10:00-12:00" (repeat for more).
        #[arg(long = "open")]
        open: Vec<String>,
        /// Outside office hours, let patients join the queue marked after-hours (otherwise
        /// the front door says the clinic is closed and takes no one).
        #[arg(long)]
        accept_after_hours: bool,
        /// Show waiting patients their place in line.
        #[arg(long)]
        show_place_in_line: bool,
        /// Typical minutes per patient, for an estimated wait.
        #[arg(long)]
        minutes_per_patient: Option<u32>,
    },
}

const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// "mon-fri 09:00-17:00" → one `OfficeHours` per day.
fn parse_open(s: &str) -> Result<Vec<OfficeHours>> {
    let bad = || anyhow::anyhow!("office hours {s:?}: write e.g. \"mon-fri 09:00-17:00\"");
    let (days, times) = s.trim().split_once(' ').ok_or_else(bad)?;
    let (opens, closes) = times.trim().split_once('-').ok_or_else(bad)?;
    let day = |d: &str| {
        DAY_NAMES
            .iter()
            .position(|n| d.eq_ignore_ascii_case(n))
            .ok_or_else(bad)
    };
    let (first, last) = match days.split_once('-') {
        Some((a, b)) => (day(a)?, day(b)?),
        None => (day(days)?, day(days)?),
    };
    if last < first {
        return Err(bad());
    }
    Ok((first..=last)
        .map(|d| OfficeHours {
            day: d as u8,
            opens: opens.to_owned(),
            closes: closes.to_owned(),
        })
        .collect())
}

/// A question as the command line writes it (see `--intake-question`).
fn parse_question(s: &str) -> IntakeQuestion {
    match s.rsplit_once('=') {
        Some((label, "yes/no")) => IntakeQuestion {
            label: label.trim().to_owned(),
            kind: QuestionKind::YesNo,
            options: Vec::new(),
        },
        Some((label, options)) if options.contains('|') => IntakeQuestion {
            label: label.trim().to_owned(),
            kind: QuestionKind::Choice,
            options: options.split('|').map(|o| o.trim().to_owned()).collect(),
        },
        _ => IntakeQuestion::text(s.trim()),
    }
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
        /// Reception: read every room's visits (the front desk), not only those of `--room`.
        #[arg(long)]
        all_rooms: bool,
        /// Mobile number for SMS alerts.
        #[arg(long)]
        phone: Option<String>,
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

fn open_sqlite(db: &PathBuf) -> Result<SqliteStore> {
    let file = std::env::var_os("FRONTDESK_DB_KEY_FILE").map(PathBuf::from);
    let options = frontdesk_server::store::sqlite::OpenOptions {
        key: db_key(file.as_deref())?,
        ..Default::default()
    };
    SqliteStore::open_with(db, 16, options).with_context(|| format!("cannot open {}", db.display()))
}

async fn open_store(database: &Database) -> Result<Arc<dyn Store>> {
    Ok(match database {
        Database::Sqlite(db) => Arc::new(open_sqlite(db)?),
        Database::Postgres(url) => Arc::new(
            PgStore::connect(url, 16)
                .await
                .with_context(|| format!("cannot open {database:?}"))?,
        ),
    })
}

async fn clinic_id(store: &dyn Store, slug: &str) -> Result<frontdesk_domain::ClinicId> {
    Ok(store
        .clinic_by_slug(slug)
        .await?
        .with_context(|| format!("no clinic {slug:?}"))?
        .id)
}

/// The database a URL names: an SQLite file (`sqlite:PATH`, `sqlite://PATH`, `sqlite:///ABS`)
/// or PostgreSQL (`postgres://…`, `postgresql://…`, passed on whole); `db` when no URL is
/// given.
fn database(db: PathBuf, url: Option<&str>) -> Result<Database> {
    let Some(url) = url else {
        return Ok(Database::Sqlite(db));
    };
    let (scheme, rest) = url.split_once(':').with_context(|| {
        format!("{url:?} is not a database URL (try sqlite:///path/to/clinic.db)")
    })?;
    match scheme.to_ascii_lowercase().as_str() {
        "sqlite" => {
            let path = rest.strip_prefix("//").unwrap_or(rest);
            if path.is_empty() || path.contains('?') {
                bail!(
                    "{url:?}: a SQLite URL names a file, e.g. sqlite:///var/lib/frontdesk/clinic.db (no options)"
                );
            }
            Ok(Database::Sqlite(PathBuf::from(path)))
        }
        "postgres" | "postgresql" => {
            if std::env::var_os("FRONTDESK_DB_KEY").is_some()
                || std::env::var_os("FRONTDESK_DB_KEY_FILE").is_some()
            {
                bail!(
                    "a database key encrypts an SQLite file; PostgreSQL's data is protected by the database server (unset FRONTDESK_DB_KEY / FRONTDESK_DB_KEY_FILE)"
                );
            }
            Ok(Database::Postgres(url.to_owned()))
        }
        other => {
            bail!("{url:?}: unknown kind of database {other:?}; give a sqlite: or postgres: URL")
        }
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    init_tracing();
    let cli = Cli::parse();
    let url = cli.database_url.as_deref();
    match cli.command {
        Cmd::Audit {
            action: AuditCmd::Verify { db, clinic },
        } => {
            let store = open_store(&database(db, url)?).await?;
            let store = store.as_ref();
            let clinics = match clinic {
                Some(slug) => vec![clinic_id(store, &slug).await?],
                None => store.audit_clinics().await?,
            };
            let mut broken = Vec::new();
            for id in clinics {
                let name = store
                    .clinic(id)
                    .await?
                    .map_or_else(|| id.to_string(), |c| c.slug);
                match frontdesk_server::audit::verify(store, id).await? {
                    Ok(n) => say(&format!("clinic {name}: {n} records, chain intact")),
                    Err(e) => {
                        say(&format!("clinic {name}: {e}"));
                        broken.push(format!("{name}: {e}"));
                    }
                }
            }
            if !broken.is_empty() {
                bail!("the audit chain is broken ({})", broken.join("; "));
            }
        }
        Cmd::Migrate { db } => {
            let (name, version) = match database(db, url)? {
                Database::Sqlite(db) => {
                    let version = open_sqlite(&db)?.schema_version().await?;
                    (db.display().to_string(), version)
                }
                Database::Postgres(url) => {
                    let version = PgStore::migrate(&url)
                        .await
                        .context("cannot migrate the PostgreSQL database")?;
                    ("the PostgreSQL database".to_owned(), version)
                }
            };
            say(&format!("{name} is at schema version {version}"));
        }
        Cmd::Serve {
            db,
            listen,
            outbound,
            bounds,
        } => {
            let mut settings = Settings::on(database(db, url)?);
            outbound.apply(&mut settings)?;
            bounds.apply(&mut settings);
            let state = AppState::open(settings).await?;
            let store = state.store.clone();
            let listener = bind(&listen).await?;
            launch(state, listener, shutdown_signal()).await?;
            store.flush().await;
        }
        Cmd::Demo {
            db,
            listen,
            tick_ms,
            outbound,
            bounds,
        } => {
            let mut settings = Settings::on(database(db, url)?);
            outbound.apply(&mut settings)?;
            bounds.apply(&mut settings);
            let state = AppState::open(settings).await?;
            let seeded = demo::seed_demo_at(
                state.store.as_ref(),
                HashCost::Standard,
                &state.settings.clock,
            )
            .await?;
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
            let base = frontdesk_server::messages::base_url(
                state.settings.public_url.as_deref(),
                listener.local_addr()?,
            );
            say("patients join through each room's front door:");
            for r in &seeded.rooms {
                say(&format!(
                    "  {:<18} {base}/join/{}/{}",
                    r.name, seeded.clinic.slug, r.id
                ));
            }
            let store: Arc<dyn Store> = state.store.clone();
            let tick = Duration::from_millis(tick_ms.max(100));
            tokio::spawn(demo::simulate(
                store.clone(),
                state.settings.clock.clone(),
                seeded,
                tick,
                std::future::pending::<()>(),
            ));
            launch(state, listener, shutdown_signal()).await?;
            store.flush().await;
        }
        Cmd::Clinic {
            action:
                ClinicCmd::Create {
                    db,
                    slug,
                    name,
                    time_zone,
                    video_link,
                    nameless_alerts,
                },
        } => {
            let store = open_store(&database(db, url)?).await?;
            let store = store.as_ref();
            let clinic = admin::create_clinic(store, &slug, &name).await?;
            let settings = admin::ClinicSettings {
                name: None,
                time_zone: Some(time_zone),
                video_link_template: video_link,
                nameless_alerts: Some(nameless_alerts),
                open_link_hours: None,
            };
            let clinic = admin::update_clinic(store, clinic.id, settings).await?;
            store.flush().await;
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
                    open,
                    accept_after_hours,
                    show_place_in_line,
                    minutes_per_patient,
                },
        } => {
            let store = open_store(&database(db, url)?).await?;
            let store = store.as_ref();
            let clinic = clinic_id(store, &clinic).await?;
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
                store,
                clinic,
                NewRoom {
                    name,
                    provider,
                    office_hours: open
                        .iter()
                        .map(|o| parse_open(o))
                        .collect::<Result<Vec<_>>>()?
                        .concat(),
                    emergency_info,
                    waiting_message,
                    intake_questions: intake_questions.iter().map(|q| parse_question(q)).collect(),
                    after_hours: if accept_after_hours {
                        AfterHours::Accept
                    } else {
                        AfterHours::Refuse
                    },
                    show_place_in_line,
                    minutes_per_patient,
                },
                // The admin commands run on their own, on the system clock.
                Clock::system().now(),
            )
            .await?;
            store.flush().await;
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
                    all_rooms: every_room,
                    phone,
                },
        } => {
            let store = open_store(&database(db, url)?).await?;
            let store = store.as_ref();
            let clinic = clinic_id(store, &clinic).await?;
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
                store,
                clinic,
                NewStaff {
                    name,
                    email,
                    roles,
                    password,
                    pin,
                    rooms: room_ids,
                    all_rooms: every_room,
                    availability: Some(Availability::Unavailable),
                    phone,
                },
                HashCost::Standard,
                Clock::system().now(),
            )
            .await?;
            store.flush().await;
            say(&format!("staff {} ({})", staff.id, staff.email));
        }
    }
    Ok(())
}
