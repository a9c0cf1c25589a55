//! The scale-out store: PostgreSQL, shared by any number of server processes. There is no
//! single writer: every write commits on its own on a pooled connection, made correct by the
//! database —
//! - a visit command reads its visit (and whether its idempotency key was used before), is
//!   decided, and is written by one statement that commits on its own ([`visits`]'s
//!   `write_in_one_statement`): the visit only at the version it was decided on
//!   (`WHERE id = $1 AND version = $2`; a command that lost the race is decided again on the
//!   visit as it now is), its history, the clinic's next `seq` from its counter row (so seqs are
//!   gap-free and in commit order; the row is locked for that statement only), the event, the
//!   key (unique: a second use fails the statement, and the command is answered the first
//!   answer);
//! - a command whose key was used before, and every other write, is a transaction
//!   ([`transaction`]); there the key is claimed with `INSERT … ON CONFLICT DO NOTHING` first
//!   thing, so a concurrent retry waits for the first and answers its answer;
//! - serialization failures and deadlocks (40001, 40P01) run the write again.
//!
//! Live events reach this process's subscribers through [`bus`]: each seq committed is handed
//! to this process's subscribers at once and announced to the other processes by a notice of
//! `(clinic, seq)` sent just after the commit (a few commits' seqs to one notice); one listening
//! connection per process reads the events by seq and hands them on in order, and looks at the
//! followed clinics' seqs every second in case a process died between a commit and its notice.
//! The same connection hears of sessions that ended in other processes, so their streams here
//! close.
//!
//! Background work is shared out through the database: [`leader`] picks the one process that
//! runs the timers and the notifier; due messages are claimed for sending with
//! `FOR UPDATE SKIP LOCKED` by the process that sends them ([`messages`]), and a process that
//! dies frees its claims at once (it holds a lock of its own while it lives, in [`leader`]).
//!
//! Every statement of the request paths is prepared once per pooled connection and kept
//! ([`cached`]): a statement is then one round trip, not two. A process keeps few connections
//! (8 unless told otherwise): a clinic's commands take turns at its counter row, and with many
//! more connections than the database has cores, the one holding the row waits for a core.
//!
//! The work is split by job: [`schema`] (migrations), [`bus`], [`audit`] (events with who may
//! read them, and the audit trail's hash chains), [`visits`], [`directory`]
//! (clinics, rooms, staff), [`sessions`] (sessions, stations, resets), [`messages`] (the
//! outbox, the notifier's mark, departures) and [`dispatch`] (the [`Store`] trait).

use crate::events::LiveBudget;
use crate::store::{StoreError, WriteRefused};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use std::sync::Arc;
use tokio_postgres::NoTls;
use tokio_postgres::error::SqlState;

mod audit;
mod budgets;
mod bus;
mod cached;
mod directory;
mod dispatch;
mod fhir;
mod leader;
mod messages;
mod schema;
mod sessions;
mod visits;

/// Connections a process keeps to the database at most unless told otherwise (the server's
/// `--database-connections`).
const POOL_SIZE: usize = 8;

/// How often a transaction that met a serialization failure, a deadlock or a concurrent change
/// of its visit runs again before the write gives up.
const MAX_TRIES: u32 = 50;

/// Why a transaction did not commit.
#[derive(Debug)]
pub(super) enum Fail {
    /// Run it again: a serialization failure, a deadlock, or the visit changed meanwhile.
    Retry,
    Refused(WriteRefused),
}

fn pg_error(e: &tokio_postgres::Error) -> StoreError {
    match (e.code(), e.as_db_error()) {
        (Some(code), Some(db)) if *code == SqlState::UNIQUE_VIOLATION => {
            StoreError::Duplicate(duplicate_of(db.table(), db.detail()))
        }
        _ => StoreError::Database(e.to_string()),
    }
}

/// What a unique violation is about, in the words the SQLite store uses ("UNIQUE constraint
/// failed: staff.clinic_id, staff.email"), from the table and the detail PostgreSQL gives
/// ("Key (clinic_id, email)=(…) already exists."), so both stores refuse alike.
fn duplicate_of(table: Option<&str>, detail: Option<&str>) -> String {
    let table = table.unwrap_or("record");
    let columns = detail
        .and_then(|d| d.strip_prefix("Key ("))
        .and_then(|d| d.split_once(")="))
        .map(|(columns, _)| columns);
    match columns {
        Some(columns) => {
            let named: Vec<String> = columns
                .split(", ")
                .map(|c| format!("{table}.{c}"))
                .collect();
            format!("UNIQUE constraint failed: {}", named.join(", "))
        }
        None => format!("UNIQUE constraint failed: {table}"),
    }
}

impl From<tokio_postgres::Error> for Fail {
    fn from(e: tokio_postgres::Error) -> Self {
        match e.code() {
            Some(code)
                if *code == SqlState::T_R_SERIALIZATION_FAILURE
                    || *code == SqlState::T_R_DEADLOCK_DETECTED =>
            {
                Fail::Retry
            }
            _ => Fail::Refused(WriteRefused::Store(pg_error(&e))),
        }
    }
}

impl From<StoreError> for Fail {
    fn from(e: StoreError) -> Self {
        Fail::Refused(WriteRefused::Store(e))
    }
}

impl From<WriteRefused> for Fail {
    fn from(e: WriteRefused) -> Self {
        Fail::Refused(e)
    }
}

impl From<deadpool_postgres::PoolError> for Fail {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        Fail::Refused(WriteRefused::Store(StoreError::Database(e.to_string())))
    }
}

impl From<Fail> for WriteRefused {
    fn from(f: Fail) -> Self {
        match f {
            Fail::Retry => WriteRefused::Store(StoreError::Database(format!(
                "gave up after {MAX_TRIES} tries against concurrent writes"
            ))),
            Fail::Refused(r) => r,
        }
    }
}

impl From<Fail> for StoreError {
    fn from(f: Fail) -> Self {
        match WriteRefused::from(f) {
            WriteRefused::Store(e) => e,
            other => StoreError::Database(other.to_string()),
        }
    }
}

/// Runs `$body` in a transaction on a pooled connection (`$tx` names it), committing after it,
/// and runs it again (on a fresh read of everything) when it fails with [`Fail::Retry`]. The
/// body may use `?` on database and store errors. Gives `Result<_, Fail>`.
macro_rules! transaction {
    ($store:expr, |$tx:ident| $body:block) => {{
        let mut tries = 0u32;
        loop {
            let done: Result<_, $crate::store::postgres::Fail> = async {
                let mut client = $store.pool.get().await?;
                let raw = client.transaction().await?;
                let $tx: &deadpool_postgres::Transaction<'_> = &raw;
                let out = $body;
                raw.commit().await?;
                Ok(out)
            }
            .await;
            match done {
                Err($crate::store::postgres::Fail::Retry)
                    if tries < $crate::store::postgres::MAX_TRIES =>
                {
                    tries += 1;
                }
                other => break other,
            }
        }
    }};
}
pub(super) use transaction;

struct Inner {
    pool: Pool,
    bus: bus::Bus,
    secret: [u8; 32],
    leader: leader::Leader,
    /// Names this process on the messages it claims for sending.
    replica: String,
}

/// The PostgreSQL store. Cheap to clone.
#[derive(Clone)]
pub struct PgStore {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password: say only that it is PostgreSQL.
        f.write_str("PgStore")
    }
}

/// The options this store takes from a URL that are not the connection's own.
fn pg_config(url: &str) -> Result<tokio_postgres::Config, StoreError> {
    url.parse()
        .map_err(|e| StoreError::Database(format!("not a PostgreSQL URL: {e}")))
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://…` or `postgresql://…`), brings its
    /// schema up to date and starts listening for other processes' commits. `live` is how far
    /// a live subscriber may fall behind.
    pub async fn connect(url: &str, live: impl Into<LiveBudget>) -> Result<Self, StoreError> {
        Self::connect_with(url, live, None, POOL_SIZE).await
    }

    /// [`PgStore::connect`], deriving patients' links from `link_secret` rather than the
    /// secret kept in the database, with at most `connections` pooled for requests.
    pub async fn connect_with(
        url: &str,
        live: impl Into<LiveBudget>,
        link_secret: Option<[u8; 32]>,
        connections: usize,
    ) -> Result<Self, StoreError> {
        let config = pg_config(url)?;
        let manager = Manager::from_config(
            config.clone(),
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(connections.max(1))
            .build()
            .map_err(|e| StoreError::Database(e.to_string()))?;
        {
            let mut client = pool.get().await.map_err(Fail::from)?;
            schema::migrate(&mut client).await?;
        }
        let secret = match link_secret {
            Some(given) => given,
            None => messages::server_secret(&pool).await?,
        };
        let replica = uuid::Uuid::new_v4().to_string();
        let leader = leader::Leader::new(config.clone(), replica.clone());
        let bus = bus::Bus::start(config, pool.clone(), live.into(), replica.clone());
        Ok(Self {
            inner: Arc::new(Inner {
                pool,
                bus,
                secret,
                leader,
                replica,
            }),
        })
    }

    /// The version the database's schema is at (its count of migrations applied).
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        let client = self.inner.pool.get().await.map_err(Fail::from)?;
        schema::version(&**client).await
    }

    /// Runs [`schema::migrate`] alone: connects, migrates, says the version.
    pub async fn migrate(url: &str) -> Result<i64, StoreError> {
        let (mut client, connection) = pg_config(url)?
            .connect(NoTls)
            .await
            .map_err(|e| pg_error(&e))?;
        let driver = tokio::spawn(connection);
        schema::migrate(&mut client).await?;
        let version = schema::version(&client).await;
        drop(client);
        let _ = driver.await;
        version
    }
}

/// Reads text columns into the array the shared row decoders take.
fn text_columns<const N: usize>(
    row: &tokio_postgres::Row,
) -> Result<[Option<String>; N], StoreError> {
    let mut out: [Option<String>; N] = std::array::from_fn(|_| None);
    for (i, slot) in out.iter_mut().enumerate() {
        *slot = row
            .try_get::<_, Option<String>>(i)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    }
    Ok(out)
}

/// The server's millisecond times and counts as PostgreSQL's BIGINT.
fn big(n: impl TryInto<i64>) -> i64 {
    n.try_into().unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_unique_violation_is_told_as_the_sqlite_store_tells_it() {
        assert_eq!(
            duplicate_of(
                Some("staff"),
                Some("Key (clinic_id, email)=(c, a@b.org) already exists.")
            ),
            "UNIQUE constraint failed: staff.clinic_id, staff.email"
        );
        assert_eq!(
            duplicate_of(Some("clinics"), None),
            "UNIQUE constraint failed: clinics"
        );
    }
}
