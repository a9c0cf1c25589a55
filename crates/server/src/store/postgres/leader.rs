//! Which process runs the timers and the notifier: the one holding a PostgreSQL session
//! advisory lock on a connection of its own. The lock is PostgreSQL's to keep: it is released
//! when that connection ends, so when the leading process dies (or its connection is cut) the
//! next process to ask takes the lock and leads. A process that finds its connection broken
//! counts itself a follower until it has connected again and won the lock.
//!
//! Leadership is asked for every background round, so for one round two processes may both
//! believe they lead (the old leader's connection died mid-round): everything a leader does is
//! safe to do twice (a message's key queues it once, a timer's command is version-guarded).

use tokio_postgres::{Client, Config, NoTls};

/// Any number shared by every Frontdesk process: the lock the leader holds.
const LEADER_LOCK: i64 = 0x0046_726f_6e74_6c64;

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
    held: tokio::sync::Mutex<Option<Held>>,
}

impl Leader {
    pub(super) fn new(config: Config) -> Self {
        Self {
            config,
            held: tokio::sync::Mutex::new(None),
        }
    }

    /// Whether this process leads now: it holds the lock on a connection that still answers.
    pub(super) async fn lead(&self) -> bool {
        let mut slot = self.held.lock().await;
        if slot.as_ref().is_some_and(|h| h.client.is_closed()) {
            *slot = None;
        }
        if slot.is_none() {
            match self.config.connect(NoTls).await {
                Ok((client, connection)) => {
                    let driver = tokio::spawn(async move {
                        if let Err(e) = connection.await {
                            tracing::warn!(error = %e, "the leader lock's connection failed");
                        }
                    });
                    *slot = Some(Held {
                        client,
                        driver,
                        leading: false,
                    });
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot connect to ask for the leader lock");
                    return false;
                }
            }
        }
        let Some(held) = slot.as_mut() else {
            return false;
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
