//! Test support for every suite in the workspace (the server's own tests, the whole-system
//! tests in `tests/`, the desktop shell's tests): one way to start the real clinic server on
//! loopback, to make a patient arrive, to call the API, to wait for background work and to
//! drive a page over W3C WebDriver. Suites keep only what is theirs alone.
//!
//! - [`server`]: [`TestServer`], the real server in this process on 127.0.0.1:0 with a temp
//!   SQLite file or a fresh PostgreSQL database ([`Backend`], [`both_backends!`]), settings
//!   adjustable, the demo clinic seeded when asked, stop and restart, replicas on PostgreSQL.
//! - [`process`]: the `frontdesk-server` binary as a child process on a free port.
//! - [`clinics`]: a second clinic beside the demo one, for tenancy tests.
//! - [`figures`]: medians and percentiles a test works out for itself.
//! - [`calls`]: the API as the console and the pages call it, and the demo clinic's sign-ins.
//! - [`patients`]: a patient comes through a room's front door, or opens their link.
//! - [`pg`]: [`PgCluster`], a throwaway PostgreSQL cluster per test binary, a fresh database
//!   per test.
//! - [`stream`]: the live event stream, opened as the console opens it.
//! - [`wait`]: poll until something holds.
//! - [`webdriver`]: a W3C WebDriver client for the app (tauri-driver) and headless Chromium.
//! - [`base64`]: decoding, for screenshots.
#![forbid(unsafe_code)]

pub mod base64;
pub mod calls;
pub mod clinics;
pub mod figures;
pub mod patients;
pub mod pg;
pub mod process;
pub mod proxy;
pub mod server;
pub mod stream;
pub mod wait;
pub mod webdriver;

pub use calls::{
    ADMIN, Answer, DESK_PASSWORD, Login, OMAR, PRIYA, RECEPTION, SCHEDULER, get_json, sign_in_to,
};
pub use clinics::OtherClinic;
pub use figures::percentile_ms;
pub use patients::{Arrival, LinkOpened, arrive, open_link};
pub use pg::PgCluster;
pub use process::{serve_binary, serve_binary_at};
pub use server::{Backend, ServerBuilder, TestServer, init_tracing};
pub use stream::Ws;
pub use wait::eventually;
