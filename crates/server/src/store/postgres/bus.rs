//! Live events across processes. Every transaction that takes a clinic's seq also runs
//! `pg_notify('frontdesk_events', 'clinic:seq')`, which PostgreSQL delivers at commit to every
//! listening connection. Each process keeps one such connection; for each notice it reads the
//! clinic's events by seq from the last one it handed on, and hands them to its subscribers
//! (the in-process fan-out, [`ClinicFeed`]) in seq order. A notice lost or out of order is
//! therefore harmless: the next one, or this process's own commit, backfills the gap. When the
//! listening connection drops, a new one is made and every clinic followed here is caught up.

use super::big;
use crate::auth::SessionEnded;
use crate::events::{ClinicFeed, LiveBudget, Published};
use crate::store::StoreError;
use crate::store::rows::parse_id;
use crate::store::rows::{event_audience, published_from_row};
use deadpool_postgres::Pool;
use frontdesk_domain::ClinicId;
use futures_util::StreamExt;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio_postgres::{AsyncMessage, GenericClient, NoTls};

/// The channel commits are announced on.
pub(super) const CHANNEL: &str = "frontdesk_events";

/// The channel ended sessions are announced on: `REPLICA NOTICE` (see
/// [`SessionEnded::to_wire`]); a process skips its own.
pub(super) const SESSIONS_CHANNEL: &str = "frontdesk_sessions";

/// Ended sessions heard of and not yet taken by this process's session cache.
const SESSION_ENDS_KEPT: usize = 256;

/// Announces that sessions ended in process `replica`.
pub(super) async fn announce_session_end<C: GenericClient + Sync>(
    c: &C,
    replica: &str,
    ended: &SessionEnded,
) -> Result<(), StoreError> {
    c.execute(
        "SELECT pg_notify($1, $2)",
        &[&SESSIONS_CHANNEL, &format!("{replica} {}", ended.to_wire())],
    )
    .await
    .map_err(|e| super::pg_error(&e))?;
    Ok(())
}

/// Events read per query while catching a clinic up.
const PAGE: i64 = 500;

/// How long to wait before listening again after the connection dropped.
const RELISTEN: Duration = Duration::from_millis(200);

/// One clinic's live subscribers here, and how far they have been handed events.
struct Followed {
    feed: Arc<ClinicFeed>,
    /// The last seq handed on; None until the first (then the subscribers' own backlog read
    /// covers anything before it).
    handed: tokio::sync::Mutex<Option<u64>>,
}

struct Shared {
    pool: Pool,
    budget: LiveBudget,
    clinics: Mutex<HashMap<ClinicId, Arc<Followed>>>,
    /// This process, as named in its session notices.
    replica: String,
    session_ends: tokio::sync::broadcast::Sender<SessionEnded>,
}

/// The process's end of the event bus: subscribe here; it hears commits from every process.
pub(super) struct Bus {
    shared: Arc<Shared>,
    listener: tokio::task::JoinHandle<()>,
}

impl Drop for Bus {
    fn drop(&mut self) {
        self.listener.abort();
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Bus {
    pub(super) fn start(
        config: tokio_postgres::Config,
        pool: Pool,
        budget: LiveBudget,
        replica: String,
    ) -> Self {
        let shared = Arc::new(Shared {
            pool,
            budget,
            clinics: Mutex::new(HashMap::new()),
            replica,
            session_ends: tokio::sync::broadcast::channel(SESSION_ENDS_KEPT).0,
        });
        let listener = tokio::spawn(listen(config, shared.clone()));
        Self { shared, listener }
    }

    /// Sessions ended in other processes, from now on.
    pub(super) fn session_ends(&self) -> tokio::sync::broadcast::Receiver<SessionEnded> {
        self.shared.session_ends.subscribe()
    }

    pub(super) fn feed(&self, clinic: ClinicId) -> Arc<ClinicFeed> {
        self.shared.followed(clinic).feed.clone()
    }

    /// This process committed `seq` for `clinic`: hand it on without waiting for the notice.
    pub(super) fn committed(&self, clinic: ClinicId, seq: u64) {
        let shared = self.shared.clone();
        tokio::spawn(async move { shared.catch_up(clinic, seq).await });
    }
}

impl Shared {
    fn followed(&self, clinic: ClinicId) -> Arc<Followed> {
        lock(&self.clinics)
            .entry(clinic)
            .or_insert_with(|| {
                Arc::new(Followed {
                    feed: ClinicFeed::new(self.budget),
                    handed: tokio::sync::Mutex::new(None),
                })
            })
            .clone()
    }

    /// Hands on the clinic's events after the last handed on, through `seq` at least.
    async fn catch_up(&self, clinic: ClinicId, seq: u64) {
        let followed = self.followed(clinic);
        let mut handed = followed.handed.lock().await;
        if handed.is_some_and(|h| h >= seq) {
            return;
        }
        if followed.feed.subscribers() == 0 {
            // Nobody to hand them to; a subscriber from now on reads what it missed itself.
            *handed = Some(seq);
            return;
        }
        let mut from = handed.unwrap_or(seq.saturating_sub(1));
        loop {
            match self.events_after(clinic, from).await {
                Ok(events) => {
                    let full = events.len() as i64 == PAGE;
                    for (s, published) in events {
                        followed.feed.publish(published);
                        from = s;
                    }
                    *handed = Some(from);
                    if !full {
                        return;
                    }
                }
                Err(e) => {
                    // The next notice or commit tries again; a subscriber that sees the gap
                    // reads it itself.
                    tracing::warn!(error = %e, %clinic, "could not read events to hand on");
                    return;
                }
            }
        }
    }

    async fn events_after(
        &self,
        clinic: ClinicId,
        after: u64,
    ) -> Result<Vec<(u64, Published)>, StoreError> {
        let client = self
            .pool
            .get()
            .await
            .map_err(|e| StoreError::Database(e.to_string()))?;
        let rows = client
            .query(
                "SELECT seq, payload, kind, audience FROM events WHERE clinic_id = $1 AND seq > $2
                 ORDER BY seq LIMIT $3",
                &[&clinic.to_string(), &big(after), &PAGE],
            )
            .await
            .map_err(|e| StoreError::Database(e.to_string()))?;
        rows.iter()
            .map(|r| {
                let audience = event_audience(r.get(2), r.get::<_, Option<&str>>(3))?;
                let published = published_from_row(r.get(1), audience)?;
                Ok((r.get::<_, i64>(0) as u64, published))
            })
            .collect()
    }

    /// Every clinic followed here, caught up to its current seq (after listening again).
    async fn catch_up_all(&self) {
        let clinics: Vec<ClinicId> = lock(&self.clinics).keys().copied().collect();
        for clinic in clinics {
            let seq = match self.current_seq(clinic).await {
                Ok(seq) => seq,
                Err(e) => {
                    tracing::warn!(error = %e, %clinic, "could not read the clinic's seq");
                    continue;
                }
            };
            self.catch_up(clinic, seq).await;
        }
    }

    async fn current_seq(&self, clinic: ClinicId) -> Result<u64, StoreError> {
        let client = self
            .pool
            .get()
            .await
            .map_err(|e| StoreError::Database(e.to_string()))?;
        let row = client
            .query_opt(
                "SELECT seq FROM clinics WHERE id = $1",
                &[&clinic.to_string()],
            )
            .await
            .map_err(|e| StoreError::Database(e.to_string()))?;
        Ok(row.map_or(0, |r| r.get::<_, i64>(0) as u64))
    }
}

impl Shared {
    /// A session notice, `REPLICA NOTICE`: handed on unless this process sent it.
    fn session_ended(&self, payload: &str) {
        let Some((replica, notice)) = payload.split_once(' ') else {
            return;
        };
        if replica == self.replica {
            return;
        }
        if let Some(ended) = SessionEnded::from_wire(notice) {
            // Nobody taking them is fine.
            let _ = self.session_ends.send(ended);
        }
    }
}

/// A notice's payload, `clinic:seq`.
fn parse_notice(payload: &str) -> Option<(ClinicId, u64)> {
    let (clinic, seq) = payload.rsplit_once(':')?;
    Some((parse_id(clinic).ok()?, seq.parse().ok()?))
}

/// Listens for notices for as long as the store lives, connecting again when it must.
async fn listen(config: tokio_postgres::Config, shared: Arc<Shared>) {
    let mut first = true;
    loop {
        match config.connect(NoTls).await {
            Ok((client, mut connection)) => {
                let (tx, mut notices) = tokio::sync::mpsc::unbounded_channel();
                let driver = tokio::spawn(async move {
                    let mut messages =
                        futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
                    while let Some(message) = messages.next().await {
                        match message {
                            Ok(AsyncMessage::Notification(n)) => {
                                let notice = (n.channel().to_owned(), n.payload().to_owned());
                                if tx.send(notice).is_err() {
                                    break;
                                }
                            }
                            Ok(_) => {}
                            Err(e) => {
                                tracing::warn!(error = %e, "the event listener's connection failed");
                                break;
                            }
                        }
                    }
                });
                if let Err(e) = client
                    .batch_execute(&format!("LISTEN {CHANNEL}; LISTEN {SESSIONS_CHANNEL}"))
                    .await
                {
                    tracing::warn!(error = %e, "could not listen for events");
                } else {
                    if !first {
                        // Whatever committed while nobody listened.
                        shared.catch_up_all().await;
                    }
                    while let Some((channel, payload)) = notices.recv().await {
                        if channel == SESSIONS_CHANNEL {
                            shared.session_ended(&payload);
                        } else if let Some((clinic, seq)) = parse_notice(&payload) {
                            shared.catch_up(clinic, seq).await;
                        }
                    }
                }
                drop(client);
                driver.abort();
            }
            Err(e) => tracing::warn!(error = %e, "could not connect to listen for events"),
        }
        first = false;
        tokio::time::sleep(RELISTEN).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notice_names_the_clinic_and_the_seq() {
        let clinic = ClinicId::from_u128(7);
        assert_eq!(parse_notice(&format!("{clinic}:42")), Some((clinic, 42)));
        assert_eq!(parse_notice("not a notice"), None);
        assert_eq!(parse_notice(&format!("{clinic}:x")), None);
    }
}
