//! The embedded store: one SQLite file in WAL mode. All writes go through one writer thread
//! that owns the only writing connection (SQLite has one writer anyway). Visit commands that
//! queue up while it works are committed together (group commit): each command applies whole
//! or not at all (see [`commit_group`]), and nobody is answered before the commit that holds
//! their command. Reads use a pool of their own connections on tokio's blocking threads,
//! so they never wait on writes.

use super::{
    Attempt, Committed, Delivery, DeliveryState, Idempotency, NewMessage, NewSession, SnapshotData,
    StaffEdit, StaffSecrets, Store, StoreError, VisitWrite, WriteAction, WriteRefused,
};
use crate::events::{Event, EventBody, Published};
use crate::model::{
    AfterHours, AlertSubscription, Clinic, CommandReply, OfficeHours, RoomInfo, Session, StaffInfo,
    Station,
};
use async_trait::async_trait;
use frontdesk_domain::{Availability, ClinicId, Roles, RoomId, StaffId, Timestamp, Visit, VisitId};
use rusqlite::{Connection, OptionalExtension, params};
use rusqlite_migration::{M, Migrations};

mod messages;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::broadcast;

const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE clinics (
    id TEXT PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    seq INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE rooms (
    id TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    name TEXT NOT NULL,
    provider_id TEXT,
    office_hours TEXT NOT NULL DEFAULT '[]',
    emergency_info TEXT,
    waiting_message TEXT,
    intake_questions TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX rooms_by_clinic ON rooms(clinic_id);
CREATE TABLE staff (
    id TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    roles TEXT NOT NULL,
    availability TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    pin_hash TEXT,
    UNIQUE (clinic_id, email)
);
CREATE TABLE room_members (
    room_id TEXT NOT NULL REFERENCES rooms(id),
    staff_id TEXT NOT NULL REFERENCES staff(id),
    PRIMARY KEY (room_id, staff_id)
);
CREATE INDEX room_members_by_staff ON room_members(staff_id);
CREATE TABLE alert_subscriptions (
    staff_id TEXT NOT NULL REFERENCES staff(id),
    room_id TEXT NOT NULL REFERENCES rooms(id),
    desktop INTEGER NOT NULL,
    email INTEGER NOT NULL,
    sms INTEGER NOT NULL,
    PRIMARY KEY (staff_id, room_id)
);
CREATE TABLE stations (
    id TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    revoked_at INTEGER
);
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    staff_id TEXT NOT NULL REFERENCES staff(id),
    station_id TEXT REFERENCES stations(id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE TABLE visits (
    id TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    room_id TEXT NOT NULL,
    status TEXT NOT NULL,
    version INTEGER NOT NULL,
    patient_token_hash TEXT UNIQUE,
    data TEXT NOT NULL
);
CREATE INDEX visits_by_status ON visits(clinic_id, status);
CREATE TABLE events (
    clinic_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    visit_id TEXT,
    payload TEXT NOT NULL,
    PRIMARY KEY (clinic_id, seq)
) WITHOUT ROWID;
CREATE TABLE idempotency (
    clinic_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status INTEGER NOT NULL,
    response TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (clinic_id, scope, key)
) WITHOUT ROWID;
"#,
    r#"
ALTER TABLE clinics ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';
ALTER TABLE clinics ADD COLUMN video_link_template TEXT;
ALTER TABLE rooms ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';
ALTER TABLE staff ADD COLUMN phone TEXT;
CREATE TABLE visit_tokens (
    token_hash TEXT PRIMARY KEY,
    visit_id TEXT NOT NULL REFERENCES visits(id),
    guest INTEGER
) WITHOUT ROWID;
CREATE TABLE server_keys (
    name TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
CREATE TABLE notifier (
    clinic_id TEXT PRIMARY KEY REFERENCES clinics(id),
    seq INTEGER NOT NULL
);
CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    key TEXT NOT NULL,
    visit_id TEXT,
    kind TEXT NOT NULL,
    channel TEXT NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    due_at INTEGER NOT NULL,
    only_while_open INTEGER NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    next_at INTEGER NOT NULL,
    sent_at INTEGER,
    created_at INTEGER NOT NULL,
    UNIQUE (clinic_id, key)
);
CREATE INDEX messages_due ON messages(state, next_at);
CREATE INDEX messages_by_clinic ON messages(clinic_id, id);
CREATE INDEX visits_scheduled ON visits(status) WHERE status = 'scheduled';
"#,
    // An idempotency record keeps the seq of its event rather than a copy of the reply: the
    // event holds the visit as it was answered, and a record stays small (its key is random,
    // so every record lands on a page of its own).
    r#"
ALTER TABLE idempotency ADD COLUMN seq INTEGER;
"#,
    // Patients whose waiting page closed, marked `left` at `leave_at` unless the page comes
    // back first; kept here so a restart in between still marks them.
    r#"
CREATE TABLE departures (
    visit_id TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    leave_at INTEGER NOT NULL
) WITHOUT ROWID;
"#,
];

const OPEN_STATUSES: &str = "('scheduled','requested','intake','waiting','in_call','on_hold')";

/// Live subscribers per clinic.
struct Hub {
    capacity: usize,
    senders: Mutex<HashMap<ClinicId, broadcast::Sender<Arc<Published>>>>,
}

impl Hub {
    fn sender(&self, clinic: ClinicId) -> broadcast::Sender<Arc<Published>> {
        lock(&self.senders)
            .entry(clinic)
            .or_insert_with(|| broadcast::channel(self.capacity).0)
            .clone()
    }

    fn publish(&self, clinic: ClinicId, published: Published) {
        // No subscriber is fine: the event is in the table for whoever comes later.
        let _ = self.sender(clinic).send(Arc::new(published));
    }
}

type Reply = tokio::sync::oneshot::Sender<Result<Committed, WriteRefused>>;

/// Any other write: runs alone, in its own transaction if it opens one.
type OtherWrite = Box<dyn FnOnce(&mut Connection, &Hub) + Send>;

enum Job {
    Visit(VisitWrite, Reply),
    Other(OtherWrite),
}

/// Read connections (reads beyond this many wait their turn).
const READERS: usize = 8;

/// Most visit commands committed together.
const MAX_GROUP: usize = 256;

struct Inner {
    path: PathBuf,
    jobs: std::sync::mpsc::Sender<Job>,
    readers: Mutex<Vec<Connection>>,
    /// At most this many reads at once, so at most this many read connections.
    read_slots: Arc<tokio::sync::Semaphore>,
    hub: Arc<Hub>,
    secret: [u8; 32],
    directory: Mutex<Directory>,
    /// Dropped with the store, which ends the checkpointer.
    _checkpoints: std::sync::mpsc::Sender<()>,
}

/// How long a clinic and its rooms are used as read before being read again: changes through
/// this store are seen at once, changes by another process (the admin commands) within this.
const DIRECTORY_FRESH: std::time::Duration = std::time::Duration::from_secs(1);

/// Clinics and their rooms as last read, so a patient coming through a front-door link (a
/// clinic slug and a room) costs no database read. A clinic's slug never changes; its name,
/// time zone and call link may.
#[derive(Default)]
struct Directory {
    clinics: HashMap<ClinicId, (std::time::Instant, Clinic)>,
    slugs: HashMap<String, ClinicId>,
    rooms: HashMap<ClinicId, (std::time::Instant, Vec<RoomInfo>)>,
    /// Count changes, so a read that raced one is not kept.
    clinic_changes: u64,
    room_changes: u64,
}

impl Directory {
    fn add_clinic(&mut self, clinic: &Clinic, read_at: std::time::Instant) {
        self.slugs.insert(clinic.slug.clone(), clinic.id);
        self.clinics.insert(clinic.id, (read_at, clinic.clone()));
    }

    fn fresh_clinic(&self, id: ClinicId) -> Option<Clinic> {
        self.clinics
            .get(&id)
            .filter(|(read_at, _)| read_at.elapsed() < DIRECTORY_FRESH)
            .map(|(_, clinic)| clinic.clone())
    }

    fn fresh_rooms(&self, clinic: ClinicId) -> Option<Vec<RoomInfo>> {
        self.rooms
            .get(&clinic)
            .filter(|(read_at, _)| read_at.elapsed() < DIRECTORY_FRESH)
            .map(|(_, rooms)| rooms.clone())
    }
}

/// Copies the WAL back into the database file every second, on its own connection. The writer
/// has automatic checkpoints turned off so a slow disk flush never holds up a commit (in WAL
/// mode with `synchronous = NORMAL` a commit itself does not wait for the disk; a committed
/// transaction survives the process being killed, only not a power cut before the next flush).
///
/// The WAL starts again from its beginning only when a write begins with every frame copied
/// back, which never happens under steady writes while the copying runs beside them: the WAL
/// would grow without end, every commit then extending a file the flush is busy with. So past
/// [`WAL_RESTART_BYTES`] the checkpointer catches up, flushes what it copied, and leaves the
/// writer to copy the little written meanwhile, between two groups: a stall of two small
/// flushes, at most every [`RESTART_EVERY`] seconds unless the WAL passes [`WAL_MAX_BYTES`].
fn run_checkpointer(
    path: &Path,
    stop: &std::sync::mpsc::Receiver<()>,
    jobs: &std::sync::mpsc::Sender<Job>,
) {
    let Ok(conn) = connect(path) else {
        tracing::error!("checkpointer cannot open the database; the WAL will grow");
        return;
    };
    let page_size: i64 = conn
        .query_row("PRAGMA page_size", [], |r| r.get(0))
        .unwrap_or(4096);
    let mut wal_path = path.as_os_str().to_owned();
    wal_path.push("-wal");
    let mut ticks = 0u64;
    let mut restarted = 0u64;
    while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
        stop.recv_timeout(std::time::Duration::from_secs(1))
    {
        let mut frames = checkpoint(&conn);
        ticks += 1;
        let wal = frames * page_size;
        if wal >= WAL_RESTART_BYTES && (ticks >= restarted + RESTART_EVERY || wal >= WAL_MAX_BYTES)
        {
            // Catch up until little is left, so the writer's stall is little more than the two
            // flushes.
            for _ in 0..4 {
                let before = frames;
                frames = checkpoint(&conn);
                if frames - before < 1024 {
                    break;
                }
            }
            // Under steady writes those passes never found the WAL copied to its end, so SQLite
            // left what they copied unflushed; flush it here, so the writer's own pass flushes
            // only the little it copies.
            let flushed = flush_database_file(path).and_then(|()| {
                std::fs::OpenOptions::new()
                    .write(true)
                    .open(&wal_path)?
                    .sync_data()
            });
            if let Err(e) = flushed {
                tracing::warn!(error = %e, "flushing before a WAL restart failed");
            }
            let _ = jobs.send(Job::Other(Box::new(|conn, _| {
                checkpoint(conn);
            })));
            restarted = ticks;
        }
    }
}

/// How large the WAL may grow under steady writes before the writer helps it start again.
const WAL_RESTART_BYTES: i64 = 32 * 1024 * 1024;

/// Seconds at least between two such stalls of the writer...
const RESTART_EVERY: u64 = 5;

/// ...unless the WAL has grown past this (a few seconds of the heaviest writes).
const WAL_MAX_BYTES: i64 = 512 * 1024 * 1024;

/// What a restarted WAL is cut back to: above what the heaviest writes add between two
/// restarts, so a restarted WAL is reused, not cut short and grown again.
const WAL_KEPT_BYTES: i64 = 1024 * 1024 * 1024;

/// Flushes a database file to disk through a descriptor of its own, opened once and never
/// closed: closing any descriptor of a file drops every POSIX lock this process holds on it,
/// SQLite's own included. (The WAL file carries no locks; it is opened afresh each time.)
fn flush_database_file(path: &Path) -> std::io::Result<()> {
    static OPEN: Mutex<Vec<(PathBuf, std::fs::File)>> = Mutex::new(Vec::new());
    let mut open = lock(&OPEN);
    let i = match open.iter().position(|(p, _)| p == path) {
        Some(i) => i,
        None => {
            let file = std::fs::OpenOptions::new().write(true).open(path)?;
            open.push((path.to_path_buf(), file));
            open.len() - 1
        }
    };
    open[i].1.sync_data()
}

/// Copies what it can of the WAL into the database file; the WAL's size in frames.
fn checkpoint(conn: &Connection) -> i64 {
    match conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get(1)) {
        Ok(frames) => frames,
        Err(e) => {
            tracing::warn!(error = %e, "checkpoint failed");
            0
        }
    }
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

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
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

fn connect(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path).map_err(db)?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;
         PRAGMA foreign_keys = ON;
         PRAGMA busy_timeout = 5000;",
    )
    .map_err(db)?;
    Ok(conn)
}

fn parse_id<T: std::str::FromStr>(s: &str) -> Result<T, StoreError> {
    s.parse().map_err(|_| corrupt(format!("bad id {s:?}")))
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(corrupt)
}

fn from_json<T: serde::de::DeserializeOwned>(s: &str) -> Result<T, StoreError> {
    serde_json::from_str(s).map_err(corrupt)
}

fn availability_str(a: Availability) -> &'static str {
    a.as_str()
}

fn parse_availability(s: &str) -> Result<Availability, StoreError> {
    from_json(&format!("\"{s}\""))
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub fn open(path: impl AsRef<Path>, stream_buffer: usize) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let mut writer = connect(&path)?;
        Migrations::new(MIGRATIONS.iter().map(|m| M::up(m)).collect())
            .to_latest(&mut writer)
            .map_err(db)?;
        let hub = Arc::new(Hub {
            capacity: stream_buffer.max(1),
            senders: Mutex::new(HashMap::new()),
        });
        writer
            .execute_batch(&format!(
                "PRAGMA wal_autocheckpoint = 0; PRAGMA journal_size_limit = {WAL_KEPT_BYTES};"
            ))
            .map_err(db)?;
        let secret = messages::server_secret(&writer)?;
        let (jobs, queue) = std::sync::mpsc::channel();
        let (checkpoints, stop) = std::sync::mpsc::channel();
        let checkpoint_path = path.clone();
        // Its clone of `jobs` goes when the store drops `checkpoints`, so the writer still ends.
        let sweeps = jobs.clone();
        std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || run_checkpointer(&checkpoint_path, &stop, &sweeps))
            .map_err(db)?;
        let writer_hub = hub.clone();
        // The thread ends when the store (every sender) is dropped.
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run_writer(writer, &writer_hub, &queue))
            .map_err(db)?;
        Ok(Self {
            inner: Arc::new(Inner {
                path,
                jobs,
                readers: Mutex::new(Vec::new()),
                directory: Mutex::new(Directory::default()),
                read_slots: Arc::new(tokio::sync::Semaphore::new(READERS)),
                hub,
                secret,
                _checkpoints: checkpoints,
            }),
        })
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
                None => connect(&inner.path)?,
            };
            let out = f(&conn);
            lock(&inner.readers).push(conn);
            out
        })
        .await
        .map_err(db)?
    }

    /// A clinic from the database, remembered in the directory.
    async fn read_clinic(
        &self,
        by: &'static str,
        value: String,
    ) -> Result<Option<Clinic>, StoreError> {
        let changes = lock(&self.inner.directory).clinic_changes;
        let read_at = std::time::Instant::now();
        let clinic = self
            .read(move |c| Ok(load_clinic(c, by, &value)?.map(|(c, _)| c)))
            .await?;
        if let Some(clinic) = &clinic {
            let mut directory = lock(&self.inner.directory);
            if directory.clinic_changes == changes {
                directory.add_clinic(clinic, read_at);
            }
        }
        Ok(clinic)
    }
}

/// The visits as last committed, kept by the writer thread so a command does not re-read and
/// re-parse what it wrote a moment ago. Sound because this thread is the only writer of
/// visits to the file (one server process per SQLite file).
type VisitCache = HashMap<VisitId, Visit>;

/// Most visits the writer keeps in memory; past it, it starts afresh.
const MAX_CACHED_VISITS: usize = 50_000;

fn run_writer(mut conn: Connection, hub: &Hub, queue: &std::sync::mpsc::Receiver<Job>) {
    let mut cache = VisitCache::new();
    while let Ok(first) = queue.recv() {
        let mut group = Vec::new();
        let mut next = Some(first);
        while let Some(job) = next.take() {
            match job {
                Job::Visit(w, reply) => group.push((w, reply)),
                Job::Other(f) => {
                    // Keep the order jobs came in: commit what is pending first.
                    commit_group(&mut conn, hub, &mut cache, std::mem::take(&mut group));
                    f(&mut conn, hub);
                }
            }
            if group.len() < MAX_GROUP {
                next = queue.try_recv().ok();
            }
        }
        commit_group(&mut conn, hub, &mut cache, group);
    }
}

/// What one pass over a group did: each command's answer (with the event to publish) in
/// order, the visits it changed, and how the commit went.
struct GroupPass {
    done: Vec<Result<(Committed, Option<Published>), WriteRefused>>,
    changed: VisitCache,
    committed: rusqlite::Result<()>,
}

/// Applies a group's commands in one transaction. With `savepoints`, each runs in its own, so
/// a failing statement refuses only its command. Without, a failing statement (after which
/// the transaction may hold half a command) rolls the whole pass back and gives None.
fn group_pass(
    conn: &mut Connection,
    cache: &VisitCache,
    group: &[(VisitWrite, Reply)],
    savepoints: bool,
) -> Option<GroupPass> {
    let mut tx = match conn.transaction() {
        Ok(tx) => tx,
        Err(e) => {
            return Some(GroupPass {
                done: Vec::new(),
                changed: VisitCache::new(),
                committed: Err(e),
            });
        }
    };
    // What this group changed, seen by its later commands; kept only if the commit succeeds.
    let mut changed = VisitCache::new();
    let mut done = Vec::with_capacity(group.len());
    for (w, _) in group {
        let known = changed.get(&w.visit_id).or_else(|| cache.get(&w.visit_id));
        let outcome = if savepoints {
            tx.savepoint().map_err(WriteRefused::from).and_then(|sp| {
                let out = write_visit_in(&sp, known, w)?;
                sp.commit()?;
                Ok(out)
            })
        } else {
            match write_visit_in(&tx, known, w) {
                Err(WriteRefused::Store(_)) => return None,
                other => other,
            }
        };
        if let Ok((c, Some(_))) = &outcome {
            changed.insert(c.reply.visit.id, c.reply.visit.clone());
        }
        done.push(outcome);
    }
    let committed = tx.commit();
    Some(GroupPass {
        done,
        changed,
        committed,
    })
}

/// Applies a group of visit commands and commits them all at once; replies and live events go
/// out only after the commit. A refusal by the domain writes nothing, and the statements after
/// a decision fail only when the database does, so a group first runs without a savepoint
/// per command (each costs statements and a copy of every page it touches); should a
/// statement fail, the group runs again with them.
fn commit_group(
    conn: &mut Connection,
    hub: &Hub,
    cache: &mut VisitCache,
    group: Vec<(VisitWrite, Reply)>,
) {
    if group.is_empty() {
        return;
    }
    let Some(pass) =
        group_pass(conn, cache, &group, false).or_else(|| group_pass(conn, cache, &group, true))
    else {
        return;
    };
    let GroupPass {
        done,
        changed,
        committed,
    } = pass;
    if committed.is_ok() {
        if cache.len() + changed.len() > MAX_CACHED_VISITS {
            cache.clear();
        }
        for (id, visit) in changed {
            if visit.status.is_terminal() {
                cache.remove(&id);
            } else {
                cache.insert(id, visit);
            }
        }
    }
    let mut done = done.into_iter();
    for (w, reply) in group {
        let answer = match (done.next(), &committed) {
            (Some(Ok((c, published))), Ok(())) => {
                if let Some(p) = published {
                    hub.publish(w.clinic, p);
                }
                Ok(c)
            }
            (Some(Err(refused)), _) => Err(refused),
            (_, Err(e)) => Err(WriteRefused::Store(db(e))),
            (None, Ok(())) => Err(WriteRefused::Store(db("command not applied"))),
        };
        let _ = reply.send(answer);
    }
}

fn next_seq(tx: &Connection, clinic: ClinicId) -> Result<u64, StoreError> {
    let seq: Option<i64> = tx
        .prepare_cached("UPDATE clinics SET seq = seq + 1 WHERE id = ?1 RETURNING seq")?
        .query_row([clinic.to_string()], |r| r.get(0))
        .optional()?;
    let seq = seq.ok_or_else(|| corrupt(format!("no clinic {clinic}")))?;
    Ok(seq as u64)
}

/// Records an event in the transaction; returns what to publish once it commits.
fn record_event(
    tx: &Connection,
    clinic: ClinicId,
    at: Timestamp,
    body: EventBody,
) -> Result<Published, StoreError> {
    let seq = next_seq(tx, clinic)?;
    let visit_id = match &body {
        EventBody::Visit { visit_id, .. } => Some(visit_id.to_string()),
        _ => None,
    };
    let kind = body.kind();
    let event = Event {
        seq,
        clinic_id: clinic,
        at,
        body,
    };
    let payload = to_json(&event)?;
    insert_event(tx, clinic, seq, at, kind, visit_id, payload)
}

fn insert_event(
    tx: &Connection,
    clinic: ClinicId,
    seq: u64,
    at: Timestamp,
    kind: &str,
    visit_id: Option<String>,
    payload: String,
) -> Result<Published, StoreError> {
    tx.prepare_cached(
        "INSERT INTO events (clinic_id, seq, at, kind, visit_id, payload) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![clinic.to_string(), seq as i64, at.as_millis(), kind, visit_id, payload])?;
    Ok(Published::new(seq, &payload))
}

/// A visit event's JSON, in the field order `Event` serializes to, around the visit JSON
/// already made for the visits table (a visit is the bulk of the event; make it once).
fn visit_event_json(
    seq: u64,
    clinic: ClinicId,
    at: Timestamp,
    visit_id: VisitId,
    entries: &[frontdesk_domain::HistoryEntry],
    visit_json: &str,
) -> Result<String, StoreError> {
    Ok(format!(
        r#"{{"seq":{seq},"clinic_id":"{clinic}","at":{},"kind":"visit","visit_id":"{visit_id}","entries":{},"visit":{visit_json}}}"#,
        at.as_millis(),
        to_json(&entries)?
    ))
}

fn text_columns<const N: usize>(r: &rusqlite::Row<'_>) -> rusqlite::Result<[Option<String>; N]> {
    let mut out: [Option<String>; N] = std::array::from_fn(|_| None);
    for (i, slot) in out.iter_mut().enumerate() {
        *slot = r.get(i)?;
    }
    Ok(out)
}

fn room_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<[Option<String>; 9]> {
    text_columns(r)
}

const ROOM_COLUMNS: &str = "id, clinic_id, name, provider_id, office_hours, emergency_info, waiting_message, intake_questions, settings";

/// A room's front-door settings, kept together in one JSON column.
#[derive(Default, serde::Serialize, serde::Deserialize)]
struct RoomSettings {
    #[serde(default)]
    after_hours: AfterHours,
    #[serde(default)]
    show_place_in_line: bool,
    #[serde(default)]
    minutes_per_patient: Option<u32>,
}

fn room_settings_json(room: &RoomInfo) -> Result<String, StoreError> {
    to_json(&RoomSettings {
        after_hours: room.after_hours,
        show_place_in_line: room.show_place_in_line,
        minutes_per_patient: room.minutes_per_patient,
    })
}

fn room_from_cols(c: [Option<String>; 9]) -> Result<RoomInfo, StoreError> {
    let [
        id,
        clinic,
        name,
        provider,
        hours,
        emergency,
        waiting,
        questions,
        settings,
    ] = c;
    let settings: RoomSettings = from_json(settings.as_deref().unwrap_or("{}"))?;
    let need = |v: Option<String>| v.ok_or_else(|| corrupt("missing room column"));
    Ok(RoomInfo {
        id: parse_id(&need(id)?)?,
        clinic_id: parse_id(&need(clinic)?)?,
        name: need(name)?,
        provider: provider.as_deref().map(parse_id).transpose()?,
        office_hours: from_json::<Vec<OfficeHours>>(&need(hours)?)?,
        emergency_info: emergency,
        waiting_message: waiting,
        intake_questions: from_json(&need(questions)?)?,
        after_hours: settings.after_hours,
        show_place_in_line: settings.show_place_in_line,
        minutes_per_patient: settings.minutes_per_patient,
    })
}

fn load_rooms(conn: &Connection, clinic: ClinicId) -> Result<Vec<RoomInfo>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {ROOM_COLUMNS} FROM rooms WHERE clinic_id = ?1 ORDER BY provider_id IS NOT NULL, name"
    ))?;
    let rows = stmt.query_map([clinic.to_string()], room_from_row)?;
    rows.map(|r| room_from_cols(r?)).collect()
}

const STAFF_COLUMNS: &str = "s.id, s.clinic_id, s.name, s.email, s.roles, s.availability, \
     (SELECT group_concat(room_id) FROM room_members m WHERE m.staff_id = s.id), \
     s.password_hash, s.pin_hash, s.phone";

fn staff_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<[Option<String>; 10]> {
    text_columns(r)
}

fn staff_from_cols(c: [Option<String>; 10]) -> Result<(StaffInfo, StaffSecrets), StoreError> {
    let [
        id,
        clinic,
        name,
        email,
        roles,
        availability,
        rooms,
        password,
        pin,
        phone,
    ] = c;
    let need = |v: Option<String>| v.ok_or_else(|| corrupt("missing staff column"));
    let mut rooms: Vec<RoomId> = rooms
        .unwrap_or_default()
        .split(',')
        .filter(|s| !s.is_empty())
        .map(parse_id)
        .collect::<Result<_, _>>()?;
    rooms.sort();
    Ok((
        StaffInfo {
            id: parse_id(&need(id)?)?,
            clinic_id: parse_id(&need(clinic)?)?,
            name: need(name)?,
            email: need(email)?,
            phone,
            roles: from_json::<Roles>(&need(roles)?)?,
            availability: parse_availability(&need(availability)?)?,
            rooms,
        },
        StaffSecrets {
            password_hash: need(password)?,
            pin_hash: pin,
        },
    ))
}

fn load_staff(conn: &Connection, clinic: ClinicId) -> Result<Vec<StaffInfo>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {STAFF_COLUMNS} FROM staff s WHERE s.clinic_id = ?1 ORDER BY s.name"
    ))?;
    let rows = stmt.query_map([clinic.to_string()], staff_from_row)?;
    rows.map(|r| staff_from_cols(r?).map(|(s, _)| s)).collect()
}

/// Reads the member of staff as just changed in `tx`, records their staff event, commits and
/// tells the live subscribers.
fn commit_staff_change(
    tx: rusqlite::Transaction<'_>,
    hub: &Hub,
    clinic: ClinicId,
    staff: StaffId,
    at: Timestamp,
) -> Result<(StaffInfo, u64), StoreError> {
    let info = load_one_staff(&tx, clinic, staff)?.ok_or_else(|| corrupt("staff vanished"))?;
    let published = record_event(
        &tx,
        clinic,
        at,
        EventBody::Staff {
            staff: info.clone(),
        },
    )?;
    tx.commit()?;
    let seq = published.seq;
    hub.publish(clinic, published);
    Ok((info, seq))
}

fn load_one_staff(
    conn: &Connection,
    clinic: ClinicId,
    id: StaffId,
) -> Result<Option<StaffInfo>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {STAFF_COLUMNS} FROM staff s WHERE s.clinic_id = ?1 AND s.id = ?2"
    ))?;
    let row = stmt
        .query_row([clinic.to_string(), id.to_string()], staff_from_row)
        .optional()?;
    row.map(|c| staff_from_cols(c).map(|(s, _)| s)).transpose()
}

fn load_clinic(
    conn: &Connection,
    by: &str,
    value: &str,
) -> Result<Option<(Clinic, u64)>, StoreError> {
    let sql = format!(
        "SELECT id, slug, name, seq, time_zone, video_link_template FROM clinics WHERE {by} = ?1"
    );
    let row = conn
        .query_row(&sql, [value], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, Option<String>>(5)?,
            ))
        })
        .optional()?;
    row.map(|(id, slug, name, seq, time_zone, video_link_template)| {
        Ok((
            Clinic {
                id: parse_id(&id)?,
                slug,
                name,
                time_zone,
                video_link_template,
            },
            seq as u64,
        ))
    })
    .transpose()
}

fn load_visit(
    conn: &Connection,
    clinic: ClinicId,
    id: VisitId,
) -> Result<Option<Visit>, StoreError> {
    let data: Option<String> = conn
        .prepare_cached("SELECT data FROM visits WHERE id = ?1 AND clinic_id = ?2")?
        .query_row([id.to_string(), clinic.to_string()], |r| r.get(0))
        .optional()?;
    data.map(|d| from_json(&d)).transpose()
}

fn load_open_visits(conn: &Connection, clinic: ClinicId) -> Result<Vec<Visit>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT data FROM visits WHERE clinic_id = ?1 AND status IN {OPEN_STATUSES}"
    ))?;
    let rows = stmt.query_map([clinic.to_string()], |r| r.get::<_, String>(0))?;
    rows.map(|r| from_json(&r?)).collect()
}

/// One visit command inside the caller's transaction. Returns the answer and, unless it was
/// a replay, the event to publish once committed.
fn write_visit_in(
    tx: &Connection,
    known: Option<&Visit>,
    w: &VisitWrite,
) -> Result<(Committed, Option<Published>), WriteRefused> {
    let clinic = w.clinic.to_string();
    if let Some(idem) = &w.idempotency
        && let Some(saved) = saved_response(tx, &clinic, idem)?
    {
        return Ok((saved, None));
    }
    let (outcome, status, token_hash, guest_tokens) = match &w.action {
        WriteAction::Open {
            outcome,
            patient_token_hash,
            guest_token_hashes,
        } => {
            if outcome.visit.id != w.visit_id || outcome.visit.clinic_id != w.clinic {
                return Err(
                    StoreError::Corrupt("opened visit does not match the write".into()).into(),
                );
            }
            (
                outcome.as_ref().clone(),
                201u16,
                patient_token_hash.as_deref(),
                guest_token_hashes.as_slice(),
            )
        }
        WriteAction::Change(decide) => {
            let loaded;
            let current = match known {
                // Another clinic's visit does not exist for this one.
                Some(v) if v.clinic_id != w.clinic => return Err(WriteRefused::NotFound),
                Some(v) => v,
                None => {
                    loaded = load_visit(tx, w.clinic, w.visit_id)?.ok_or(WriteRefused::NotFound)?;
                    &loaded
                }
            };
            let outcome = decide(current).map_err(|error| WriteRefused::Domain {
                error,
                visit: Box::new(current.clone()),
            })?;
            (outcome, 200u16, None, &[][..])
        }
    };
    let visit = outcome.visit;
    let data = to_json(&visit)?;
    if status == 201 {
        tx.prepare_cached(
            "INSERT INTO visits (id, clinic_id, room_id, status, version, patient_token_hash, data)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?
        .execute(params![
            visit.id.to_string(),
            clinic,
            visit.room_id.to_string(),
            visit.status.as_str(),
            visit.version as i64,
            token_hash,
            data
        ])?;
        for (guest, hash) in guest_tokens.iter().enumerate() {
            tx.prepare_cached(
                "INSERT INTO visit_tokens (token_hash, visit_id, guest) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![hash, visit.id.to_string(), guest as i64])?;
        }
    } else {
        tx.prepare_cached(
            "UPDATE visits SET room_id = ?3, status = ?4, version = ?5, data = ?6
             WHERE id = ?1 AND clinic_id = ?2",
        )?
        .execute(params![
            visit.id.to_string(),
            clinic,
            visit.room_id.to_string(),
            visit.status.as_str(),
            visit.version as i64,
            data
        ])?;
    }
    let seq = next_seq(tx, w.clinic)?;
    let reply_json = format!(r#"{{"seq":{seq},"visit":{data}}}"#);
    let payload = visit_event_json(seq, w.clinic, w.at, visit.id, &outcome.entries, &data)?;
    let published = insert_event(
        tx,
        w.clinic,
        seq,
        w.at,
        "visit",
        Some(visit.id.to_string()),
        payload,
    )?;
    if let Some(idem) = &w.idempotency {
        tx.prepare_cached(
            "INSERT INTO idempotency (clinic_id, scope, key, fingerprint, status, response, created_at, seq)
             VALUES (?1, ?2, ?3, ?4, ?5, '', ?6, ?7)",
        )?
        .execute(params![
            clinic,
            idem.scope,
            idem.key,
            idem.fingerprint,
            status,
            w.at.as_millis(),
            seq as i64
        ])?;
    }
    let reply = CommandReply { seq, visit };
    Ok((
        Committed {
            status,
            reply,
            reply_json,
            replayed: false,
        },
        Some(published),
    ))
}

/// The reply to a command as it was first answered, from the event it recorded.
fn answered_from_event(tx: &Connection, clinic: &str, seq: i64) -> Result<String, StoreError> {
    let payload: String = tx
        .prepare_cached("SELECT payload FROM events WHERE clinic_id = ?1 AND seq = ?2")?
        .query_row(params![clinic, seq], |r| r.get(0))
        .optional()?
        .ok_or_else(|| corrupt(format!("no event {seq} for an idempotency record")))?;
    /// The visit exactly as written into the event (and so into the first reply).
    #[derive(serde::Deserialize)]
    struct Answered<'a> {
        #[serde(borrow)]
        visit: &'a serde_json::value::RawValue,
    }
    let event: Answered<'_> = serde_json::from_str(&payload).map_err(corrupt)?;
    Ok(format!(r#"{{"seq":{seq},"visit":{}}}"#, event.visit.get()))
}

fn saved_response(
    tx: &Connection,
    clinic: &str,
    idem: &Idempotency,
) -> Result<Option<Committed>, WriteRefused> {
    let row: Option<(String, u16, String, Option<i64>)> = tx
        .prepare_cached(
            "SELECT fingerprint, status, response, seq FROM idempotency
             WHERE clinic_id = ?1 AND scope = ?2 AND key = ?3",
        )?
        .query_row(params![clinic, idem.scope, idem.key], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    let Some((fingerprint, status, response, seq)) = row else {
        return Ok(None);
    };
    if fingerprint != idem.fingerprint {
        return Err(WriteRefused::KeyReused);
    }
    // Records written before the seq column carry the reply itself.
    let response = match seq {
        Some(seq) => answered_from_event(tx, clinic, seq)?,
        None => response,
    };
    Ok(Some(Committed {
        status,
        reply: from_json(&response)?,
        reply_json: response,
        replayed: true,
    }))
}

#[async_trait]
impl Store for SqliteStore {
    async fn create_clinic(&self, clinic: Clinic) -> Result<(), StoreError> {
        self.write(move |conn, _| {
            conn.execute(
                "INSERT INTO clinics (id, slug, name, time_zone, video_link_template)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    clinic.id.to_string(),
                    clinic.slug,
                    clinic.name,
                    clinic.time_zone,
                    clinic.video_link_template
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn clinic(&self, id: ClinicId) -> Result<Option<Clinic>, StoreError> {
        if let Some(known) = lock(&self.inner.directory).fresh_clinic(id) {
            return Ok(Some(known));
        }
        self.read_clinic("id", id.to_string()).await
    }

    async fn clinic_by_slug(&self, slug: &str) -> Result<Option<Clinic>, StoreError> {
        {
            let directory = lock(&self.inner.directory);
            if let Some(known) = directory
                .slugs
                .get(slug)
                .and_then(|id| directory.fresh_clinic(*id))
            {
                return Ok(Some(known));
            }
        }
        self.read_clinic("slug", slug.to_owned()).await
    }

    async fn put_room(&self, room: RoomInfo, at: Timestamp) -> Result<u64, StoreError> {
        let clinic = room.clinic_id;
        let written = self.write(move |conn, hub| {
            let tx = conn.transaction()?;
            tx.execute(
                "INSERT INTO rooms (id, clinic_id, name, provider_id, office_hours, emergency_info, waiting_message, intake_questions, settings)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, provider_id = excluded.provider_id,
                   office_hours = excluded.office_hours, emergency_info = excluded.emergency_info,
                   waiting_message = excluded.waiting_message, intake_questions = excluded.intake_questions,
                   settings = excluded.settings
                 WHERE rooms.clinic_id = excluded.clinic_id",
                params![
                    room.id.to_string(),
                    room.clinic_id.to_string(),
                    room.name,
                    room.provider.map(|p| p.to_string()),
                    to_json(&room.office_hours)?,
                    room.emergency_info,
                    room.waiting_message,
                    to_json(&room.intake_questions)?,
                    room_settings_json(&room)?
                ],
            )?;
            let clinic = room.clinic_id;
            let mut published = Vec::new();
            // A provider works in their own room: that changes them too, so say so.
            if let Some(provider) = room.provider {
                let added = tx.execute(
                    "INSERT OR IGNORE INTO room_members (room_id, staff_id) VALUES (?1, ?2)",
                    [room.id.to_string(), provider.to_string()],
                )?;
                if added > 0
                    && let Some(staff) = load_one_staff(&tx, clinic, provider)?
                {
                    published.push(record_event(&tx, clinic, at, EventBody::Staff { staff })?);
                }
            }
            published.push(record_event(&tx, clinic, at, EventBody::Room { room: Box::new(room) })?);
            tx.commit()?;
            let seq = published.last().map_or(0, |p| p.seq);
            for p in published {
                hub.publish(clinic, p);
            }
            Ok(seq)
        })
        .await;
        let mut directory = lock(&self.inner.directory);
        directory.room_changes += 1;
        directory.rooms.remove(&clinic);
        written
    }

    async fn rooms(&self, clinic: ClinicId) -> Result<Vec<RoomInfo>, StoreError> {
        let changes = {
            let directory = lock(&self.inner.directory);
            if let Some(rooms) = directory.fresh_rooms(clinic) {
                return Ok(rooms);
            }
            directory.room_changes
        };
        let read_at = std::time::Instant::now();
        let rooms = self.read(move |c| load_rooms(c, clinic)).await?;
        let mut directory = lock(&self.inner.directory);
        if directory.room_changes == changes {
            directory.rooms.insert(clinic, (read_at, rooms.clone()));
        }
        Ok(rooms)
    }

    async fn create_staff(
        &self,
        staff: StaffInfo,
        secrets: StaffSecrets,
        at: Timestamp,
    ) -> Result<u64, StoreError> {
        self.write(move |conn, hub| {
            let tx = conn.transaction()?;
            tx.execute(
                "INSERT INTO staff (id, clinic_id, name, email, roles, availability, password_hash, pin_hash, phone)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    staff.id.to_string(),
                    staff.clinic_id.to_string(),
                    staff.name,
                    staff.email,
                    to_json(&staff.roles)?,
                    availability_str(staff.availability),
                    secrets.password_hash,
                    secrets.pin_hash,
                    staff.phone
                ],
            )?;
            for room in &staff.rooms {
                let n = tx.execute(
                    "INSERT OR IGNORE INTO room_members (room_id, staff_id)
                     SELECT id, ?2 FROM rooms WHERE id = ?1 AND clinic_id = ?3",
                    [room.to_string(), staff.id.to_string(), staff.clinic_id.to_string()],
                )?;
                if n == 0 {
                    return Err(corrupt(format!("no room {room} in this clinic")));
                }
            }
            let clinic = staff.clinic_id;
            let published = record_event(&tx, clinic, at, EventBody::Staff { staff })?;
            tx.commit()?;
            let seq = published.seq;
            hub.publish(clinic, published);
            Ok(seq)
        })
        .await
    }

    async fn staff(&self, clinic: ClinicId) -> Result<Vec<StaffInfo>, StoreError> {
        self.read(move |c| load_staff(c, clinic)).await
    }

    async fn staff_with_secrets(
        &self,
        clinic: ClinicId,
        email: &str,
    ) -> Result<Option<(StaffInfo, StaffSecrets)>, StoreError> {
        let email = email.to_owned();
        self.read(move |c| {
            let row = c
                .prepare_cached(&format!(
                    "SELECT {STAFF_COLUMNS} FROM staff s WHERE s.clinic_id = ?1 AND s.email = ?2"
                ))?
                .query_row([clinic.to_string(), email], staff_from_row)
                .optional()?;
            row.map(staff_from_cols).transpose()
        })
        .await
    }

    async fn sweep(&self, now: Timestamp) -> Result<usize, StoreError> {
        let day_ago = now.as_millis() - 86_400_000;
        self.write(move |conn, _| {
            let idempotency =
                conn.execute("DELETE FROM idempotency WHERE created_at < ?1", [day_ago])?;
            let sessions = conn.execute("DELETE FROM sessions WHERE expires_at < ?1", [day_ago])?;
            Ok(idempotency + sessions)
        })
        .await
    }

    async fn set_pin(
        &self,
        clinic: ClinicId,
        staff: StaffId,
        pin_hash: String,
    ) -> Result<(), StoreError> {
        self.write(move |conn, _| {
            conn.execute(
                "UPDATE staff SET pin_hash = ?3 WHERE id = ?1 AND clinic_id = ?2",
                [staff.to_string(), clinic.to_string(), pin_hash],
            )?;
            Ok(())
        })
        .await
    }

    async fn update_staff(
        &self,
        clinic: ClinicId,
        staff: StaffId,
        edit: StaffEdit,
        at: Timestamp,
    ) -> Result<Option<(StaffInfo, u64)>, StoreError> {
        self.write(move |conn, hub| {
            let tx = conn.transaction()?;
            let (id, clinic_id) = (staff.to_string(), clinic.to_string());
            let roles = edit.roles.as_ref().map(to_json).transpose()?;
            let n = tx.execute(
                "UPDATE staff SET name = COALESCE(?3, name), roles = COALESCE(?4, roles),
                     phone = CASE WHEN ?5 THEN ?6 ELSE phone END
                 WHERE id = ?1 AND clinic_id = ?2",
                params![
                    id,
                    clinic_id,
                    edit.name,
                    roles,
                    edit.phone.is_some(),
                    edit.phone.flatten()
                ],
            )?;
            if n == 0 {
                return Ok(None);
            }
            if let Some(rooms) = &edit.rooms {
                tx.execute("DELETE FROM room_members WHERE staff_id = ?1", [&id])?;
                for room in rooms {
                    let n = tx.execute(
                        "INSERT OR IGNORE INTO room_members (room_id, staff_id)
                         SELECT id, ?2 FROM rooms WHERE id = ?1 AND clinic_id = ?3",
                        [room.to_string(), id.clone(), clinic_id.clone()],
                    )?;
                    if n == 0 {
                        return Err(corrupt(format!("no room {room} in this clinic")));
                    }
                }
            }
            commit_staff_change(tx, hub, clinic, staff, at).map(Some)
        })
        .await
    }

    async fn set_availability(
        &self,
        clinic: ClinicId,
        staff: StaffId,
        availability: Availability,
        at: Timestamp,
    ) -> Result<Option<(StaffInfo, u64)>, StoreError> {
        self.write(move |conn, hub| {
            let tx = conn.transaction()?;
            let n = tx.execute(
                "UPDATE staff SET availability = ?3 WHERE id = ?1 AND clinic_id = ?2",
                [
                    staff.to_string(),
                    clinic.to_string(),
                    availability_str(availability).to_owned(),
                ],
            )?;
            if n == 0 {
                return Ok(None);
            }
            commit_staff_change(tx, hub, clinic, staff, at).map(Some)
        })
        .await
    }

    async fn alert_subscriptions(
        &self,
        clinic: ClinicId,
        staff: StaffId,
    ) -> Result<Vec<AlertSubscription>, StoreError> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT a.room_id, a.desktop, a.email, a.sms FROM alert_subscriptions a
                 JOIN staff s ON s.id = a.staff_id
                 WHERE a.staff_id = ?1 AND s.clinic_id = ?2 ORDER BY a.room_id",
            )?;
            let rows = stmt.query_map([staff.to_string(), clinic.to_string()], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, bool>(1)?,
                    r.get::<_, bool>(2)?,
                    r.get::<_, bool>(3)?,
                ))
            })?;
            rows.map(|r| {
                let (room, desktop, email, sms) = r?;
                Ok(AlertSubscription {
                    room_id: parse_id(&room)?,
                    desktop,
                    email,
                    sms,
                })
            })
            .collect()
        })
        .await
    }

    async fn set_alert_subscriptions(
        &self,
        clinic: ClinicId,
        staff: StaffId,
        subscriptions: Vec<AlertSubscription>,
    ) -> Result<(), StoreError> {
        self.write(move |conn, _| {
            let tx = conn.transaction()?;
            tx.execute(
                "DELETE FROM alert_subscriptions WHERE staff_id = ?1
                 AND staff_id IN (SELECT id FROM staff WHERE clinic_id = ?2)",
                [staff.to_string(), clinic.to_string()],
            )?;
            for s in subscriptions {
                let n = tx.execute(
                    "INSERT INTO alert_subscriptions (staff_id, room_id, desktop, email, sms)
                     SELECT ?1, r.id, ?3, ?4, ?5 FROM rooms r JOIN staff s ON s.id = ?1
                     WHERE r.id = ?2 AND r.clinic_id = ?6 AND s.clinic_id = ?6",
                    params![
                        staff.to_string(),
                        s.room_id.to_string(),
                        s.desktop,
                        s.email,
                        s.sms,
                        clinic.to_string()
                    ],
                )?;
                if n == 0 {
                    return Err(StoreError::Corrupt(format!("no room {}", s.room_id)));
                }
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn create_session(&self, s: NewSession) -> Result<(), StoreError> {
        self.write(move |conn, _| {
            conn.execute(
                "INSERT INTO sessions (token_hash, clinic_id, staff_id, station_id, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    s.token_hash,
                    s.clinic.to_string(),
                    s.staff.to_string(),
                    s.station.map(|x| x.to_string()),
                    s.created_at,
                    s.expires_at
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn session(&self, token_hash: &str, now: i64) -> Result<Option<Session>, StoreError> {
        let token_hash = token_hash.to_owned();
        self.read(move |c| {
            let row: Option<(String, String, Option<String>, i64)> = c
                .prepare_cached(
                    "SELECT clinic_id, staff_id, station_id, expires_at FROM sessions
                     WHERE token_hash = ?1 AND revoked_at IS NULL AND expires_at > ?2",
                )?
                .query_row(params![token_hash, now], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })
                .optional()?;
            let Some((clinic, staff, station, expires_at)) = row else {
                return Ok(None);
            };
            let Some(staff) = load_one_staff(c, parse_id(&clinic)?, parse_id(&staff)?)? else {
                return Ok(None);
            };
            Ok(Some(Session {
                staff,
                station: station.as_deref().map(parse_id).transpose()?,
                expires_at,
            }))
        })
        .await
    }

    async fn revoke_session(&self, token_hash: &str, now: i64) -> Result<(), StoreError> {
        let token_hash = token_hash.to_owned();
        self.write(move |conn, _| {
            conn.execute(
                "UPDATE sessions SET revoked_at = ?2 WHERE token_hash = ?1 AND revoked_at IS NULL",
                params![token_hash, now],
            )?;
            Ok(())
        })
        .await
    }

    async fn create_station(&self, station: Station, token_hash: String) -> Result<(), StoreError> {
        self.write(move |conn, _| {
            conn.execute(
                "INSERT INTO stations (id, clinic_id, name, token_hash) VALUES (?1, ?2, ?3, ?4)",
                params![
                    station.id.to_string(),
                    station.clinic_id.to_string(),
                    station.name,
                    token_hash
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn station_by_token(&self, token_hash: &str) -> Result<Option<Station>, StoreError> {
        let token_hash = token_hash.to_owned();
        self.read(move |c| {
            let row: Option<(String, String, String)> = c
                .query_row(
                    "SELECT id, clinic_id, name FROM stations WHERE token_hash = ?1 AND revoked_at IS NULL",
                    [token_hash],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            row.map(|(id, clinic, name)| {
                Ok(Station {
                    id: parse_id(&id)?,
                    clinic_id: parse_id(&clinic)?,
                    name,
                })
            })
            .transpose()
        })
        .await
    }

    async fn stations(&self, clinic: ClinicId) -> Result<Vec<Station>, StoreError> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, name FROM stations
                 WHERE clinic_id = ?1 AND revoked_at IS NULL ORDER BY name, id",
            )?;
            let rows = stmt.query_map([clinic.to_string()], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })?;
            rows.map(|r| {
                let (id, name) = r?;
                Ok(Station {
                    id: parse_id(&id)?,
                    clinic_id: clinic,
                    name,
                })
            })
            .collect()
        })
        .await
    }

    async fn revoke_station(
        &self,
        clinic: ClinicId,
        station: uuid::Uuid,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.write(move |conn, _| {
            let tx = conn.transaction()?;
            let (id, clinic) = (station.to_string(), clinic.to_string());
            let n = tx.execute(
                "UPDATE stations SET revoked_at = ?3
                 WHERE id = ?1 AND clinic_id = ?2 AND revoked_at IS NULL",
                params![id, clinic, now],
            )?;
            if n == 0 {
                return Ok(false);
            }
            tx.execute(
                "UPDATE sessions SET revoked_at = ?3
                 WHERE station_id = ?1 AND clinic_id = ?2 AND revoked_at IS NULL",
                params![id, clinic, now],
            )?;
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    async fn write_visit(&self, write: VisitWrite) -> Result<Committed, WriteRefused> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let stopped = || WriteRefused::Store(db("the writer has stopped"));
        self.inner
            .jobs
            .send(Job::Visit(write, tx))
            .map_err(|_| stopped())?;
        rx.await.map_err(|_| stopped())?
    }

    async fn visit(&self, clinic: ClinicId, id: VisitId) -> Result<Option<Visit>, StoreError> {
        self.read(move |c| load_visit(c, clinic, id)).await
    }

    async fn open_visits(&self, clinic: ClinicId) -> Result<Vec<Visit>, StoreError> {
        self.read(move |c| load_open_visits(c, clinic)).await
    }

    async fn events_after(
        &self,
        clinic: ClinicId,
        after: u64,
        limit: u32,
    ) -> Result<Vec<Event>, StoreError> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT payload FROM events WHERE clinic_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
            )?;
            let rows = stmt.query_map(
                params![clinic.to_string(), after.min(i64::MAX as u64) as i64, limit],
                |r| r.get::<_, String>(0),
            )?;
            rows.map(|r| from_json(&r?)).collect()
        })
        .await
    }

    async fn snapshot(&self, clinic: ClinicId) -> Result<Option<SnapshotData>, StoreError> {
        self.read(move |c| {
            // One read transaction: everything reflects exactly `seq`.
            c.execute_batch("BEGIN")?;
            let out = (|| {
                let Some((info, seq)) = load_clinic(c, "id", &clinic.to_string())? else {
                    return Ok(None);
                };
                Ok(Some(SnapshotData {
                    seq,
                    clinic: info,
                    rooms: load_rooms(c, clinic)?,
                    staff: load_staff(c, clinic)?,
                    open_visits: load_open_visits(c, clinic)?,
                }))
            })();
            c.execute_batch("COMMIT")?;
            out
        })
        .await
    }

    fn subscribe(&self, clinic: ClinicId) -> broadcast::Receiver<Arc<Published>> {
        self.inner.hub.sender(clinic).subscribe()
    }

    fn secret(&self) -> [u8; 32] {
        self.inner.secret
    }

    async fn visit_for_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<(Visit, Option<usize>)>, StoreError> {
        let token_hash = token_hash.to_owned();
        self.read(move |c| messages::visit_for_token(c, &token_hash))
            .await
    }

    async fn clinic_subscriptions(
        &self,
        clinic: ClinicId,
    ) -> Result<Vec<(StaffId, AlertSubscription)>, StoreError> {
        self.read(move |c| messages::clinic_subscriptions(c, clinic))
            .await
    }

    async fn unnotified(&self) -> Result<Vec<(ClinicId, u64)>, StoreError> {
        self.read(messages::unnotified).await
    }

    async fn queue_messages(
        &self,
        clinic: ClinicId,
        through: u64,
        messages: Vec<NewMessage>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.write(move |conn, _| messages::queue(conn, clinic, through, &messages, now))
            .await
    }

    async fn due_messages(&self, now: Timestamp, limit: u32) -> Result<Vec<Delivery>, StoreError> {
        self.read(move |c| messages::due(c, now, limit)).await
    }

    async fn requeue_interrupted(&self) -> Result<usize, StoreError> {
        self.write(|conn, _| messages::requeue_interrupted(conn))
            .await
    }

    async fn record_attempt(
        &self,
        id: i64,
        attempt: Attempt,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.write(move |conn, _| messages::record_attempt(conn, id, &attempt, now))
            .await
    }

    async fn deliveries(
        &self,
        clinic: ClinicId,
        state: Option<DeliveryState>,
        limit: u32,
    ) -> Result<Vec<Delivery>, StoreError> {
        self.read(move |c| messages::deliveries(c, clinic, state, limit))
            .await
    }

    async fn depart_at(
        &self,
        clinic: ClinicId,
        visit: VisitId,
        leave_at: Timestamp,
    ) -> Result<(), StoreError> {
        self.write(move |conn, _| {
            conn.execute(
                "INSERT INTO departures (visit_id, clinic_id, leave_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (visit_id) DO UPDATE SET leave_at = excluded.leave_at",
                params![visit.to_string(), clinic.to_string(), leave_at.as_millis()],
            )?;
            Ok(())
        })
        .await
    }

    async fn cancel_departure(&self, visit: VisitId) -> Result<(), StoreError> {
        self.write(move |conn, _| {
            conn.execute(
                "DELETE FROM departures WHERE visit_id = ?1",
                [visit.to_string()],
            )?;
            Ok(())
        })
        .await
    }

    async fn departures(&self) -> Result<Vec<(ClinicId, VisitId, Timestamp)>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT clinic_id, visit_id, leave_at FROM departures ORDER BY leave_at",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })?;
            rows.map(|r| {
                let (clinic, visit, at) = r?;
                Ok((
                    parse_id(&clinic)?,
                    parse_id(&visit)?,
                    Timestamp::from_millis(at),
                ))
            })
            .collect()
        })
        .await
    }

    async fn scheduled_visits(&self) -> Result<Vec<Visit>, StoreError> {
        self.read(|c| {
            let mut stmt =
                c.prepare_cached("SELECT data FROM visits WHERE status = 'scheduled'")?;
            let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
            rows.map(|r| from_json(&r?)).collect()
        })
        .await
    }

    async fn update_clinic(&self, clinic: Clinic) -> Result<(), StoreError> {
        let id = clinic.id;
        let written = self.write(move |conn, _| {
            conn.execute(
                "UPDATE clinics SET name = ?2, time_zone = ?3, video_link_template = ?4 WHERE id = ?1",
                params![
                    clinic.id.to_string(),
                    clinic.name,
                    clinic.time_zone,
                    clinic.video_link_template
                ],
            )?;
            Ok(())
        })
        .await;
        // Read again on next use, whatever the write did.
        let mut directory = lock(&self.inner.directory);
        directory.clinic_changes += 1;
        directory.clinics.remove(&id);
        written
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use frontdesk_domain::Status;

    #[test]
    fn a_hand_built_visit_event_is_exactly_what_event_serializes_to() {
        use frontdesk_domain::{Actor, Context, Opening, Patient, PersonName, RoomId, open};
        let clinic = ClinicId::from_u128(1);
        let ctx = Context {
            actor: Actor::Patient,
            at: Timestamp::from_millis(1_700_000_000_000),
            expected_version: None,
        };
        let opening = Opening::Arrive {
            room: RoomId::from_u128(2),
            patient: Patient {
                name: PersonName::parse("Ana \"Quote\" P.").unwrap(),
                contact: None,
            },
            has_intake: true,
            after_hours: false,
        };
        let outcome = open(VisitId::from_u128(3), clinic, &ctx, opening).unwrap();
        let typed = Event {
            seq: 7,
            clinic_id: clinic,
            at: ctx.at,
            body: EventBody::Visit {
                visit_id: outcome.visit.id,
                entries: outcome.entries.clone(),
                visit: Box::new(outcome.visit.clone()),
            },
        };
        let built = visit_event_json(
            7,
            clinic,
            ctx.at,
            outcome.visit.id,
            &outcome.entries,
            &to_json(&outcome.visit).unwrap(),
        )
        .unwrap();
        assert_eq!(built, to_json(&typed).unwrap());
        assert_eq!(from_json::<Event>(&built).unwrap(), typed);
    }

    #[test]
    fn open_statuses_are_the_non_terminal_ones() {
        for s in Status::ALL {
            let listed = OPEN_STATUSES.contains(&format!("'{}'", s.as_str()));
            assert_eq!(listed, !s.is_terminal(), "{s}");
        }
    }
}
