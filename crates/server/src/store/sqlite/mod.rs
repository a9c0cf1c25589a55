//! The embedded store: one SQLite file in WAL mode. All writes go through one writer thread
//! that owns the only writing connection (SQLite has one writer anyway). Visit commands that
//! queue up while it works are committed together (group commit): each command applies whole
//! or not at all (see [`writer`]), and nobody is answered before the commit that holds
//! their command. Reads use a pool of their own connections on tokio's blocking threads,
//! so they never wait on writes.
//!
//! This module owns the handle, opening the file and the two ways in (the reader pool and
//! the writer's queue); the work itself is split by job: [`schema`], [`writer`],
//! [`checkpoint`], [`event_log`], [`visits`], [`directory`] (clinics and rooms), [`staff`],
//! [`sessions`], [`messages`], and [`dispatch`], where each [`Store`] method is sent to
//! one of the two ways in.

use crate::events::LiveBudget;
use crate::store::rows::availability_str;
use crate::store::rows::{corrupt, from_json, parse_id, to_json};
use crate::store::{StoreError, WriteRefused};
use at_rest::DbKey;
use checkpoint::WAL_KEPT_BYTES;
use directory::Directory;
use event_log::Hub;
use rusqlite::Connection;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use writer::Job;

pub mod at_rest;
mod audit;
mod checkpoint;
mod directory;
mod dispatch;
mod event_log;
mod fhir;
mod messages;
mod schema;
mod sessions;
mod staff;
mod visits;
mod writer;

/// Read connections (reads beyond this many wait their turn).
const READERS: usize = 8;

struct Inner {
    path: PathBuf,
    key: Option<DbKey>,
    jobs: std::sync::mpsc::Sender<Job>,
    readers: Mutex<Vec<Connection>>,
    /// At most this many reads at once, so at most this many read connections.
    read_slots: Arc<tokio::sync::Semaphore>,
    hub: Arc<Hub>,
    secret: [u8; 32],
    directory: Mutex<Directory>,
    /// Dropped with the store, which ends the checkpointer.
    _checkpoints: std::sync::mpsc::Sender<()>,
    /// Last, so that it goes after the channels above, which end these threads.
    _threads: Threads,
}

/// The store's own threads (the checkpointer, then the writer), waited for when the store
/// goes: each has closed its connection before the store is gone. A connection left to close
/// while the process exits can crash it (SQLCipher's clean-up at exit frees what the close
/// still uses).
struct Threads(Vec<std::thread::JoinHandle<()>>);

impl Drop for Threads {
    fn drop(&mut self) {
        for thread in self.0.drain(..) {
            // A job holding the last handle to the store ends on the writer itself.
            if thread.thread().id() != std::thread::current().id() {
                let _ = thread.join();
            }
        }
    }
}

/// How to open the store, beyond its path.
#[derive(Clone, Debug, Default)]
pub struct OpenOptions {
    /// Derive patients' links from this secret rather than the one kept in the database.
    pub link_secret: Option<[u8; 32]>,
    /// The database is encrypted with this key (a new one is created encrypted).
    pub key: Option<DbKey>,
}

/// The SQLite store. Cheap to clone.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.inner.path)
            .finish()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a connection leaves it usable: SQLite rolled the transaction back.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn db(e: impl std::fmt::Display) -> StoreError {
    StoreError::Database(e.to_string())
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        if let rusqlite::Error::SqliteFailure(f, msg) = &e
            && f.code == rusqlite::ErrorCode::ConstraintViolation
        {
            return StoreError::Duplicate(msg.clone().unwrap_or_else(|| "record".into()));
        }
        db(e)
    }
}

impl From<rusqlite::Error> for WriteRefused {
    fn from(e: rusqlite::Error) -> Self {
        WriteRefused::Store(e.into())
    }
}

/// Creates a missing database file readable by this user only, before SQLite opens it:
/// SQLite gives the `-wal` and `-shm` files it makes the database file's permissions.
fn create_private(path: &Path) -> Result<(), StoreError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            warn_if_others_can_read(path);
            Ok(())
        }
        Err(e) => Err(db(format!("cannot create {}: {e}", path.display()))),
    }
}

/// An existing database is left as its owner set it up, but said to be open to others.
fn warn_if_others_can_read(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(
                path = %path.display(),
                mode = format!("{:o}", meta.permissions().mode() & 0o777),
                "the database holds patient data and other users can open it; chmod 600 it"
            );
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// How long a connection waits for a lock before it gives up.
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

fn connect(path: &Path, key: Option<&DbKey>) -> Result<Connection, StoreError> {
    let conn = Connection::open(path).map_err(db)?;
    match key {
        Some(key) => at_rest::unlock(&conn, key)?,
        None => {
            if let Err(e) = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
                r.get::<_, i64>(0)
            }) {
                return Err(db(format!(
                    "{e}: if the database was created with a key, give the same key"
                )));
            }
        }
    }
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;
         PRAGMA foreign_keys = ON;",
    )
    .map_err(db)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(db)?;
    Ok(conn)
}

fn text_columns<const N: usize>(r: &rusqlite::Row<'_>) -> rusqlite::Result<[Option<String>; N]> {
    let mut out: [Option<String>; N] = std::array::from_fn(|_| None);
    for (i, slot) in out.iter_mut().enumerate() {
        *slot = r.get(i)?;
    }
    Ok(out)
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    /// `live` is how far a live subscriber may fall behind (a count of events alone keeps the
    /// default byte budget).
    pub fn open(path: impl AsRef<Path>, live: impl Into<LiveBudget>) -> Result<Self, StoreError> {
        Self::open_with(path, live, OpenOptions::default())
    }

    /// [`SqliteStore::open`] with the options given: links derived from the given secret
    /// instead of the one kept in the database, the database encrypted with a key.
    pub fn open_with(
        path: impl AsRef<Path>,
        live: impl Into<LiveBudget>,
        options: OpenOptions,
    ) -> Result<Self, StoreError> {
        let OpenOptions { link_secret, key } = options;
        let path = path.as_ref().to_path_buf();
        create_private(&path)?;
        let mut writer = connect(&path, key.as_ref())?;
        schema::migrate(&mut writer)?;
        let hub = Arc::new(Hub {
            budget: live.into(),
            feeds: Mutex::new(HashMap::new()),
        });
        writer
            .execute_batch(&format!(
                "PRAGMA wal_autocheckpoint = 0; PRAGMA journal_size_limit = {WAL_KEPT_BYTES};"
            ))
            .map_err(db)?;
        let secret = match link_secret {
            Some(given) => given,
            None => messages::server_secret(&writer)?,
        };
        let (jobs, queue) = std::sync::mpsc::channel();
        let (checkpoints, stop) = std::sync::mpsc::channel();
        let checkpoint_path = path.clone();
        let checkpoint_key = key.clone();
        // Its clone of `jobs` goes when the store drops `checkpoints`, so the writer still ends.
        let sweeps = jobs.clone();
        let checkpointer = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                checkpoint::run_checkpointer(
                    &checkpoint_path,
                    checkpoint_key.as_ref(),
                    &stop,
                    &sweeps,
                )
            })
            .map_err(db)?;
        let writer_hub = hub.clone();
        // The thread ends when the store (every sender) is dropped.
        let writer_thread = std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || writer::run_writer(writer, &writer_hub, &queue))
            .map_err(db)?;
        Ok(Self {
            inner: Arc::new(Inner {
                path,
                key,
                jobs,
                readers: Mutex::new(Vec::new()),
                directory: Mutex::new(Directory::default()),
                read_slots: Arc::new(tokio::sync::Semaphore::new(READERS)),
                hub,
                secret,
                _checkpoints: checkpoints,
                _threads: Threads(vec![checkpointer, writer_thread]),
            }),
        })
    }

    /// The version the database's schema is at (its count of migrations applied).
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        self.read(|conn| {
            conn.query_row("PRAGMA user_version", [], |r| r.get(0))
                .map_err(db)
        })
        .await
    }

    async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection, &Hub) -> Result<T, StoreError> + Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job = Job::Other(Box::new(move |conn, hub| {
            let _ = tx.send(f(conn, hub));
        }));
        self.inner
            .jobs
            .send(job)
            .map_err(|_| db("the writer has stopped"))?;
        rx.await.map_err(|_| db("the writer has stopped"))?
    }

    async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        // Waiting here, not on a blocking thread, keeps a burst (a thousand consoles
        // reconnecting) from opening a connection each.
        let permit = self
            .inner
            .read_slots
            .clone()
            .acquire_owned()
            .await
            .map_err(db)?;
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let conn = match lock(&inner.readers).pop() {
                Some(c) => c,
                None => connect(&inner.path, inner.key.as_ref())?,
            };
            let out = f(&conn);
            lock(&inner.readers).push(conn);
            out
        })
        .await
        .map_err(db)?
    }
}
