//! Which process runs the timers and the notifier: the one holding a PostgreSQL session
//! advisory lock on a connection of its own. The lock is PostgreSQL's to keep: it is released
//! when that connection ends, so when the leading process dies (or its connection is cut) the
//! next process to ask takes the lock and leads. A process that finds its connection broken
//! counts itself a follower until it has connected again and won the lock.
//!
//! Leadership is asked for every background round, so for one round two processes may both
//! believe they lead (the old leader's connection died mid-round): everything a leader does is
//! safe to do twice (a message's key queues it once, a timer's command is version-guarded).
//!
//! The same connection holds a second lock, this process's own ([`ALIVE`], keyed by its replica
//! name), for as long as it is connected: a message this process claimed for sending is known
//! to be orphaned the moment the process dies, rather than when its claim's lease runs out
//! (`messages::claim_due`, [`CLAIMER_GONE`]).

use tokio_postgres::{Client, Config, NoTls};

/// Any number shared by every Frontdesk process: the lock the leader holds.
const LEADER_LOCK: i64 = 0x0046_726f_6e74_6c64;

/// The first key of each process's own lock (`pg_advisory_lock(ALIVE, hashtext(replica))`);
/// the second is its replica name's hash.
pub(super) const ALIVE: i32 = 0x4644_4c56;

/// SQL: the process that claimed a `messages` row (`claimed_by`) holds its own lock no more —
/// it died, or lost its connection to the database. Any number below is [`ALIVE`].
pub(super) const CLAIMER_GONE: &str = "NOT EXISTS (
    SELECT 1 FROM pg_locks l
    WHERE l.locktype = 'advisory' AND l.classid = 1178881110 AND l.objsubid = 2
      AND l.objid = hashtext(messages.claimed_by)::oid AND l.granted
      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()))";

struct Held {
    client: Client,
    driver: tokio::task::JoinHandle<()>,
    leading: bool,
}

impl Drop for Held {
    fn drop(&mut self) {
        // The connection closes, and with it the lock.
        self.driver.abort();
    }
}

pub(super) struct Leader {
    config: Config,
    /// This process's name on its claims, the key of its own lock.
    replica: String,
    held: tokio::sync::Mutex<Option<Held>>,
}

impl Leader {
    pub(super) fn new(config: Config, replica: String) -> Self {
        Self {
            config,
            replica,
            held: tokio::sync::Mutex::new(None),
        }
    }

    /// The connection holding this process's own lock, connected (and the lock taken) first
    /// if it is not.
    async fn connected<'a>(
        &self,
        slot: &'a mut Option<Held>,
    ) -> Result<&'a mut Held, tokio_postgres::Error> {
        if slot.as_ref().is_some_and(|h| h.client.is_closed()) {
            *slot = None;
        }
        if slot.is_none() {
            let (client, connection) = self.config.connect(NoTls).await?;
            let driver = tokio::spawn(async move {
                if let Err(e) = connection.await {
                    tracing::warn!(error = %e, "the leader lock's connection failed");
                }
            });
            let held = Held {
                client,
                driver,
                leading: false,
            };
            held.client
                .execute(
                    "SELECT pg_advisory_lock($1, hashtext($2))",
                    &[&ALIVE, &self.replica],
                )
                .await?;
            *slot = Some(held);
        }
        Ok(slot.as_mut().expect("connected above"))
    }

    /// Whether this process holds its own lock now, so its claims count as a live process's.
    pub(super) async fn alive(&self) -> bool {
        let mut slot = self.held.lock().await;
        match self.connected(&mut slot).await {
            Ok(held) => held.client.simple_query("SELECT 1").await.is_ok(),
            Err(e) => {
                tracing::warn!(error = %e, "cannot connect to hold this process's lock");
                *slot = None;
                false
            }
        }
    }

    /// Whether this process leads now: it holds the lock on a connection that still answers.
    pub(super) async fn lead(&self) -> bool {
        let mut slot = self.held.lock().await;
        let held = match self.connected(&mut slot).await {
            Ok(held) => held,
            Err(e) => {
                tracing::warn!(error = %e, "cannot connect to ask for the leader lock");
                *slot = None;
                return false;
            }
        };
        let asked = if held.leading {
            // Still connected, so still holding it.
            held.client.simple_query("SELECT 1").await.map(|_| true)
        } else {
            held.client
                .query_one("SELECT pg_try_advisory_lock($1)", &[&LEADER_LOCK])
                .await
                .map(|row| row.get::<_, bool>(0))
        };
        match asked {
            Ok(leading) => {
                if leading && !held.leading {
                    tracing::info!("this process now runs the timers and the notifier");
                }
                held.leading = leading;
                leading
            }
            Err(e) => {
                tracing::warn!(error = %e, "lost the leader lock's connection");
                *slot = None;
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_claimers_lock_is_looked_for_under_this_process_lock_number() {
        assert!(super::CLAIMER_GONE.contains(&format!("l.classid = {} ", super::ALIVE)));
    }
}
