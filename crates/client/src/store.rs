//! The console's local SQLite file: the cached clinic (rooms, staff, open visits, the last
//! applied `seq`), the outbox of staff actions not yet confirmed, the outcomes of rejected
//! actions, and the keys of alerts already raised. Credentials never come here.
//!
//! The engine keeps the clinic in memory ([`crate::state::ClinicState`]) and writes through to
//! this file; each batch of events, and each outbox step, is one transaction.
//!
//! Every body is sealed with the console's cache key ([`crate::seal`]): ids, versions and
//! times are readable, nothing a patient said or is called is. The file is created readable by
//! its owner only, and is deleted with its key when the person signs out.

use crate::error::ClientError;
use crate::seal::{CacheKey, Sealer};
use crate::state::ClinicState;
use frontdesk_api::{Clinic, RoomInfo, StaffInfo};
use frontdesk_domain::{Command, Timestamp, Visit, VisitId};
use rusqlite::{Connection, OptionalExtension, params};
use rusqlite_migration::{M, Migrations};
use serde::{Deserialize, Serialize};
use std::path::Path;

const MIGRATIONS: &[M<'static>] = &[
    M::up(
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
     CREATE TABLE rooms (id TEXT PRIMARY KEY, body TEXT NOT NULL);
     CREATE TABLE staff (id TEXT PRIMARY KEY, body TEXT NOT NULL);
     CREATE TABLE visits (
         id TEXT PRIMARY KEY,
         version INTEGER NOT NULL,
         body TEXT NOT NULL
     );
     CREATE TABLE outbox (
         pos INTEGER PRIMARY KEY AUTOINCREMENT,
         action_id TEXT NOT NULL UNIQUE,
         body TEXT NOT NULL,
         created_at INTEGER NOT NULL,
         attempts INTEGER NOT NULL DEFAULT 0,
         last_error TEXT
     );
     CREATE TABLE outcomes (
         action_id TEXT PRIMARY KEY,
         body TEXT NOT NULL,
         created_at INTEGER NOT NULL
     );
     CREATE TABLE alerted (key TEXT PRIMARY KEY, at INTEGER NOT NULL);",
    ),
    // The day view's finished visits, sealed like the open ones.
    M::up(
        "CREATE TABLE finished (id TEXT PRIMARY KEY, version INTEGER NOT NULL, body TEXT NOT NULL);",
    ),
];

/// What a staff member asked for, as it waits in the outbox. Its `action_id` is also the
/// `Idempotency-Key` the server sees, so a resend after a crash is applied once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct Action {
    pub action_id: String,
    pub at: Timestamp,
    /// Who queued it: at a clinic station another person may have switched on since, and the
    /// action still goes out as the one who made it (never as the next person). None in an
    /// outbox written before this was kept: the person signed in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<frontdesk_domain::StaffId>,
    #[serde(flatten)]
    pub kind: ActionKind,
}

impl Action {
    /// Whether `person` queued it (an action of unknown author counts as theirs).
    pub fn queued_by(&self, person: Option<frontdesk_domain::StaffId>) -> bool {
        self.by.is_none() || self.by == person
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum ActionKind {
    Visit {
        visit_id: VisitId,
        command: Command,
        /// The visit version the person acted on (None for commands that cannot conflict).
        expected_version: Option<u64>,
    },
    Availability {
        availability: frontdesk_domain::Availability,
    },
}

/// A rejected action, kept until the person who made it has seen it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct Outcome {
    pub action_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visit_id: Option<VisitId>,
    pub command: String,
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_by: Option<Vec<frontdesk_api::StaffRef>>,
}

/// The cache file's name for one person on one server: each person has their own cache, so a
/// station's next user never sees another's outbox. A hash, so the email is not on disk in clear.
pub fn cache_file_name(base: &str, email: &str) -> String {
    let key = format!("{base}|{}", email.to_lowercase());
    let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("cache-{hash:016x}.db")
}

#[derive(Debug)]
pub struct Store {
    conn: Connection,
    sealer: Sealer,
    /// The outbox, its refusals and the put-away requests as they are on disk: read once when
    /// the cache opens and kept in step with every write, so drawing the view reads no file.
    held: Held,
}

#[derive(Debug, Default)]
struct Held {
    pending: Vec<Action>,
    outcomes: Vec<Outcome>,
    dismissed: std::collections::BTreeSet<VisitId>,
}

/// What the key check seals: a cache whose check opens was sealed with this key.
const KEY_CHECK: &[u8] = b"frontdesk cache";

/// Writes the cached JSON body of each changed directory entry (a room, a member of staff).
fn upsert_bodies<K: Ord + std::fmt::Display, V: Serialize>(
    tx: &rusqlite::Transaction<'_>,
    sealer: &Sealer,
    table: &str,
    changed: &std::collections::BTreeSet<K>,
    all: &std::collections::BTreeMap<K, V>,
) -> Result<(), ClientError> {
    let mut upsert = tx.prepare_cached(&format!(
        "INSERT INTO {table} (id, body) VALUES (?1, ?2)
         ON CONFLICT(id) DO UPDATE SET body = excluded.body"
    ))?;
    for id in changed {
        if let Some(body) = all.get(id) {
            let id = id.to_string();
            let sealed = sealer.seal(&format!("{table}:{id}"), &json(body)?)?;
            upsert.execute(params![id, sealed])?;
        }
    }
    Ok(())
}

fn json<T: Serialize>(value: &T) -> Result<Vec<u8>, ClientError> {
    serde_json::to_vec(value).map_err(|e| ClientError::Corrupt(e.to_string()))
}

fn parse<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, ClientError> {
    serde_json::from_slice(bytes).map_err(|e| ClientError::Corrupt(e.to_string()))
}

/// Creates the cache file readable and writable by its owner only (SQLite gives its journal
/// files the same mode), before SQLite opens it.
fn create_private(path: &Path) -> Result<(), ClientError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
        .open(path)
        .map(drop)
        .map_err(|e| ClientError::Corrupt(format!("cannot create {}: {e}", path.display())))
}

impl Store {
    /// Opens (creating if needed) the cache file sealed with `key` and brings its schema up
    /// to date. A cache sealed with another key answers [`ClientError::CacheKey`].
    pub fn open(path: &Path, key: &CacheKey) -> Result<Store, ClientError> {
        create_private(path)?;
        let conn = Connection::open(path)?;
        Self::prepare(conn, key)
    }

    pub fn open_in_memory(key: &CacheKey) -> Result<Store, ClientError> {
        Self::prepare(Connection::open_in_memory()?, key)
    }

    /// Deletes a cache file and its journal: what sign-out leaves of a person's cache.
    pub fn destroy(path: &Path) -> Result<(), ClientError> {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut file = path.as_os_str().to_owned();
            file.push(suffix);
            match std::fs::remove_file(&file) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(ClientError::Corrupt(format!(
                        "cannot delete {}: {e}",
                        path.display()
                    )));
                }
            }
        }
        Ok(())
    }

    fn prepare(mut conn: Connection, key: &CacheKey) -> Result<Store, ClientError> {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // A crash may lose the last moment of cache (it is re-fetched), never the outbox's
        // order or an acknowledged removal: NORMAL in WAL keeps each commit atomic.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // 512 KiB of pages kept in memory (SQLite's default is 2,000 KiB): the cache is read whole
        // once at start and then written a visit at a time, and a page it needs again comes
        // from the system's file cache in microseconds.
        conn.pragma_update(None, "cache_size", -512)?;
        Migrations::from_slice(MIGRATIONS)
            .to_latest(&mut conn)
            .map_err(|e| ClientError::Corrupt(format!("cache migration: {e}")))?;
        let mut store = Store {
            conn,
            sealer: Sealer::new(key),
            held: Held::default(),
        };
        store.check_key()?;
        store.held = Held {
            pending: store.bodies("outbox", "action_id", "pos")?,
            outcomes: store.bodies("outcomes", "action_id", "created_at, action_id")?,
            dismissed: store.read_dismissed()?,
        };
        Ok(store)
    }

    /// Proves the key opens this cache, sealing a new (or older, unsealed) cache on the way.
    fn check_key(&mut self) -> Result<(), ClientError> {
        let check: Option<Vec<u8>> = self
            .conn
            .query_row("SELECT value FROM meta WHERE key = 'key_check'", [], |r| {
                r.get(0)
            })
            .optional()?;
        match check {
            Some(sealed) => self.sealer.open("meta:key_check", &sealed).map(drop),
            None => self.seal_unsealed(),
        }
    }

    /// A cache written before bodies were sealed keeps only its outbox (the actions not yet
    /// sent), sealed now; the clinic is fetched again from the server.
    fn seal_unsealed(&mut self) -> Result<(), ClientError> {
        let plain: Vec<(String, String, i64)> = self
            .conn
            .prepare("SELECT action_id, CAST(body AS TEXT), created_at FROM outbox ORDER BY pos")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?;
        let check = self.sealer.seal("meta:key_check", KEY_CHECK)?;
        let tx = self.conn.transaction()?;
        tx.execute_batch(
            "DELETE FROM rooms; DELETE FROM staff; DELETE FROM visits; DELETE FROM finished; DELETE FROM meta;
             DELETE FROM outbox; DELETE FROM outcomes;",
        )?;
        for (action_id, body, at) in plain {
            let sealed = self
                .sealer
                .seal(&format!("outbox:{action_id}"), body.as_bytes())?;
            tx.execute(
                "INSERT INTO outbox (action_id, body, created_at) VALUES (?1, ?2, ?3)",
                params![action_id, sealed, at],
            )?;
        }
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('key_check', ?1)",
            [check],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn meta_plain(&self, key: &str) -> Result<Option<String>, ClientError> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    fn meta_sealed<T: for<'de> Deserialize<'de>>(
        &self,
        key: &str,
    ) -> Result<Option<T>, ClientError> {
        let sealed: Option<Vec<u8>> = self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?;
        sealed
            .map(|s| parse(&self.sealer.open(&format!("meta:{key}"), &s)?))
            .transpose()
    }

    /// Every sealed body of a table, opened, in the order of `order`.
    fn bodies<T: for<'de> Deserialize<'de>>(
        &self,
        table: &str,
        key_column: &str,
        order: &str,
    ) -> Result<Vec<T>, ClientError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {key_column}, body FROM {table} ORDER BY {order}"
        ))?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
        })?;
        rows.map(|row| {
            let (id, sealed) = row?;
            parse(&self.sealer.open(&format!("{table}:{id}"), &sealed)?)
        })
        .collect()
    }

    fn seal(&self, table: &str, id: &str, body: &impl Serialize) -> Result<Vec<u8>, ClientError> {
        self.sealer.seal(&format!("{table}:{id}"), &json(body)?)
    }

    /// Loads the cached clinic as it was last confirmed.
    pub fn load(&self) -> Result<ClinicState, ClientError> {
        let mut state = ClinicState::default();
        state.seq = self
            .meta_plain("seq")?
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        state.clinic = self.meta_sealed::<Clinic>("clinic")?;
        state.me = self.meta_sealed::<StaffInfo>("me")?;
        state.as_of = self
            .meta_plain("as_of")?
            .and_then(|s| s.parse().ok())
            .map(Timestamp::from_millis);
        for room in self.bodies::<RoomInfo>("rooms", "id", "id")? {
            state.rooms.insert(room.id, room);
        }
        for s in self.bodies::<StaffInfo>("staff", "id", "id")? {
            state.staff.insert(s.id, s);
        }
        for v in self.bodies::<Visit>("visits", "id", "id")? {
            state.visits.insert(v.id, Box::new(v));
        }
        let finished = self.bodies::<Visit>("finished", "id", "id")?;
        state.set_today(finished, Timestamp::from_millis(i64::MIN));
        Ok(state)
    }

    /// Replaces the whole cache with a snapshot's state (first sign-in, or a resync).
    pub fn replace_all(&mut self, state: &ClinicState) -> Result<(), ClientError> {
        let tx = self.conn.transaction()?;
        tx.execute_batch(
            "DELETE FROM rooms; DELETE FROM staff; DELETE FROM visits; DELETE FROM finished;",
        )?;
        {
            let all_rooms = state.rooms.keys().copied().collect();
            upsert_bodies(&tx, &self.sealer, "rooms", &all_rooms, &state.rooms)?;
            let all_staff = state.staff.keys().copied().collect();
            upsert_bodies(&tx, &self.sealer, "staff", &all_staff, &state.staff)?;
            let mut visit =
                tx.prepare("INSERT INTO visits (id, version, body) VALUES (?1, ?2, ?3)")?;
            for v in state.visits.values() {
                let id = v.id.to_string();
                let sealed = self.sealer.seal(&format!("visits:{id}"), &json(v)?)?;
                visit.execute(params![id, v.version as i64, sealed])?;
            }
            let mut done =
                tx.prepare("INSERT INTO finished (id, version, body) VALUES (?1, ?2, ?3)")?;
            for v in state.today.values() {
                let id = v.id.to_string();
                let sealed = self.sealer.seal(&format!("finished:{id}"), &json(v)?)?;
                done.execute(params![id, v.version as i64, sealed])?;
            }
        }
        write_meta(&tx, &self.sealer, state)?;
        tx.commit()?;
        Ok(())
    }

    /// Writes what a batch of events changed, and the new `seq`, in one transaction.
    pub fn save_changes(
        &mut self,
        state: &ClinicState,
        changed: &crate::state::Changed,
    ) -> Result<(), ClientError> {
        let tx = self.conn.transaction()?;
        {
            upsert_bodies(&tx, &self.sealer, "rooms", &changed.rooms, &state.rooms)?;
            upsert_bodies(&tx, &self.sealer, "staff", &changed.staff, &state.staff)?;
            let mut upsert = tx.prepare_cached(
                "INSERT INTO visits (id, version, body) VALUES (?1, ?2, ?3)
                 ON CONFLICT(id) DO UPDATE SET version = excluded.version, body = excluded.body",
            )?;
            let mut delete = tx.prepare_cached("DELETE FROM visits WHERE id = ?1")?;
            let mut upsert_finished = tx.prepare_cached(
                "INSERT INTO finished (id, version, body) VALUES (?1, ?2, ?3)
                 ON CONFLICT(id) DO UPDATE SET version = excluded.version, body = excluded.body",
            )?;
            let mut delete_finished = tx.prepare_cached("DELETE FROM finished WHERE id = ?1")?;
            for id in &changed.visits {
                match state.visits.get(id) {
                    Some(v) => {
                        let id = id.to_string();
                        let sealed = self.sealer.seal(&format!("visits:{id}"), &json(v)?)?;
                        upsert.execute(params![id, v.version as i64, sealed])?;
                    }
                    None => {
                        delete.execute([id.to_string()])?;
                    }
                }
                match state.today.get(id) {
                    Some(v) => {
                        let id = id.to_string();
                        let sealed = self.sealer.seal(&format!("finished:{id}"), &json(v)?)?;
                        upsert_finished.execute(params![id, v.version as i64, sealed])?;
                    }
                    None => {
                        delete_finished.execute([id.to_string()])?;
                    }
                }
            }
        }
        write_meta(&tx, &self.sealer, state)?;
        tx.commit()?;
        Ok(())
    }

    /// Forgets the signed-in clinic entirely (sign-out, or another person signs in).
    pub fn clear(&mut self) -> Result<(), ClientError> {
        self.conn.execute_batch(
            "DELETE FROM rooms; DELETE FROM staff; DELETE FROM visits; DELETE FROM finished;
             DELETE FROM meta WHERE key <> 'key_check';
             DELETE FROM outbox; DELETE FROM outcomes; DELETE FROM alerted;",
        )?;
        self.held = Held::default();
        Ok(())
    }

    // ---- the outbox

    /// Writes an action to the outbox. It is durable when this returns.
    pub fn enqueue(&mut self, action: &Action) -> Result<(), ClientError> {
        self.conn.execute(
            "INSERT INTO outbox (action_id, body, created_at) VALUES (?1, ?2, ?3)",
            params![
                action.action_id,
                self.seal("outbox", &action.action_id, action)?,
                action.at.as_millis()
            ],
        )?;
        self.held.pending.push(action.clone());
        Ok(())
    }

    /// The actions still to send, oldest first.
    pub fn pending(&self) -> Result<Vec<Action>, ClientError> {
        Ok(self.held.pending.clone())
    }

    /// The actions still to send, oldest first, without copying them.
    pub fn pending_now(&self) -> &[Action] {
        &self.held.pending
    }

    /// The server confirmed the action: it leaves the outbox.
    pub fn confirm(&mut self, action_id: &str) -> Result<(), ClientError> {
        self.conn
            .execute("DELETE FROM outbox WHERE action_id = ?1", [action_id])?;
        self.held.pending.retain(|a| a.action_id != action_id);
        Ok(())
    }

    /// The server refused the action: it leaves the outbox and its outcome is kept to show.
    pub fn reject(&mut self, outcome: &Outcome, at: Timestamp) -> Result<(), ClientError> {
        let sealed = self.seal("outcomes", &outcome.action_id, outcome)?;
        let tx = self.conn.transaction()?;
        tx.execute(
            "DELETE FROM outbox WHERE action_id = ?1",
            [&outcome.action_id],
        )?;
        tx.execute(
            "INSERT OR REPLACE INTO outcomes (action_id, body, created_at) VALUES (?1, ?2, ?3)",
            params![outcome.action_id, sealed, at.as_millis()],
        )?;
        tx.commit()?;
        self.held
            .pending
            .retain(|a| a.action_id != outcome.action_id);
        self.held
            .outcomes
            .retain(|o| o.action_id != outcome.action_id);
        self.held.outcomes.push(outcome.clone());
        Ok(())
    }

    /// Notes a failed attempt that will be retried.
    pub fn note_attempt(&mut self, action_id: &str, error: &str) -> Result<(), ClientError> {
        self.conn.execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?2 WHERE action_id = ?1",
            params![action_id, error],
        )?;
        Ok(())
    }

    pub fn outcomes(&self) -> Result<Vec<Outcome>, ClientError> {
        Ok(self.held.outcomes.clone())
    }

    pub fn dismiss(&mut self, action_id: &str) -> Result<(), ClientError> {
        self.conn
            .execute("DELETE FROM outcomes WHERE action_id = ?1", [action_id])?;
        self.held.outcomes.retain(|o| o.action_id != action_id);
        Ok(())
    }

    // ---- alerts already raised

    /// Records alert keys; returns those not seen before, in the given order.
    /// Remembers that the person put an answered session request away (kept beside the alert
    /// keys, and forgotten with them after two days: the request is long over by then).
    pub fn dismiss_request(&mut self, visit: VisitId, at: Timestamp) -> Result<(), ClientError> {
        self.conn.execute(
            "INSERT OR IGNORE INTO alerted (key, at) VALUES (?1, ?2)",
            params![format!("dismissed:{visit}"), at.as_millis()],
        )?;
        self.held.dismissed.insert(visit);
        Ok(())
    }

    /// The session requests the person put away.
    pub fn dismissed_requests(&self) -> Result<std::collections::BTreeSet<VisitId>, ClientError> {
        Ok(self.held.dismissed.clone())
    }

    /// The session requests the person put away, without copying them.
    pub fn dismissed_now(&self) -> &std::collections::BTreeSet<VisitId> {
        &self.held.dismissed
    }

    fn read_dismissed(&self) -> Result<std::collections::BTreeSet<VisitId>, ClientError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT key FROM alerted WHERE key LIKE 'dismissed:%'")?;
        let keys = stmt.query_map([], |r| r.get::<_, String>(0))?;
        let mut out = std::collections::BTreeSet::new();
        for key in keys {
            if let Some(id) = key?.strip_prefix("dismissed:").and_then(|k| k.parse().ok()) {
                out.insert(id);
            }
        }
        Ok(out)
    }

    pub fn first_time(
        &mut self,
        keys: &[String],
        at: Timestamp,
    ) -> Result<Vec<String>, ClientError> {
        let tx = self.conn.transaction()?;
        let mut fresh = Vec::new();
        {
            let mut insert =
                tx.prepare_cached("INSERT OR IGNORE INTO alerted (key, at) VALUES (?1, ?2)")?;
            for key in keys {
                if insert.execute(params![key, at.as_millis()])? == 1 {
                    fresh.push(key.clone());
                }
            }
        }
        // Keys older than two days can no longer come back (those visits are long over).
        tx.execute(
            "DELETE FROM alerted WHERE at < ?1",
            [at.as_millis() - 2 * 24 * 3_600_000],
        )?;
        tx.commit()?;
        Ok(fresh)
    }
}

fn write_meta(
    tx: &rusqlite::Transaction<'_>,
    sealer: &Sealer,
    state: &ClinicState,
) -> Result<(), ClientError> {
    let mut put = tx.prepare_cached(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    )?;
    put.execute(params!["seq", state.seq.to_string()])?;
    if let Some(c) = &state.clinic {
        put.execute(params!["clinic", sealer.seal("meta:clinic", &json(c)?)?])?;
    }
    if let Some(me) = &state.me {
        put.execute(params!["me", sealer.seal("meta:me", &json(me)?)?])?;
    }
    if let Some(at) = state.as_of {
        put.execute(params!["as_of", at.as_millis().to_string()])?;
    }
    Ok(())
}
