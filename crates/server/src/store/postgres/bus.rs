//! Live events across processes. Each seq this process commits is handed to its own
//! subscribers at once and announced to the other processes just after the commit: a notice
//! on `frontdesk_events` carrying `REPLICA clinic:seq clinic:seq …`, the latest seq of each
//! clinic committed here in the last couple of milliseconds. Each process keeps one listening
//! connection; for each seq heard of it reads the clinic's events by seq from the last one it
//! handed on, and hands them to its subscribers (the in-process fan-out, [`ClinicFeed`]) in seq
//! order. A notice lost, late or out of order is therefore harmless: the next one, or this
//! process's own commit, backfills the gap; and every second the process looks at the seqs of
//! the clinics it has subscribers for, so a commit whose process died before its notice went
//! out still reaches them. When the listening connection drops, a new one is made and every
//! clinic followed here is caught up.
//!
//! The notice is not sent inside the command's own statement (`pg_notify` at commit) because
//! PostgreSQL queues notices in commit order by putting the commits of every transaction that
//! notifies in one line: on a durable cluster each clinic's commands then waited for every
//! other clinic's WAL flush.

use super::big;
use super::cached::Cached;
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
use tokio::sync::mpsc;
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

/// How long a notice waits for more commits to announce with it.
const NOTICE_WINDOW: Duration = Duration::from_millis(2);

/// A notice's payload stays under this (PostgreSQL takes up to 8,000 bytes).
const NOTICE_BYTES: usize = 7_000;

/// How often the seqs of the clinics with subscribers here are looked at, for a commit whose
/// notice never came.
const LOOK_EVERY: Duration = Duration::from_secs(1);

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

/// What the announcer is told.
enum Announce {
    /// A seq committed here.
    Committed(ClinicId, u64),
    /// Send what is waiting now, then answer.
    Flush(tokio::sync::oneshot::Sender<()>),
}

/// How long [`Bus::flush`] waits for its notices to go.
const FLUSH_WAIT: Duration = Duration::from_secs(2);

/// The process's end of the event bus: subscribe here; it hears commits from every process.
pub(super) struct Bus {
    shared: Arc<Shared>,
    /// Seqs committed here, to announce to the other processes.
    announce: mpsc::UnboundedSender<Announce>,
    listener: tokio::task::JoinHandle<()>,
    announcer: tokio::task::JoinHandle<()>,
}

impl Drop for Bus {
    fn drop(&mut self) {
        self.listener.abort();
        self.announcer.abort();
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
        let (announce, committed) = mpsc::unbounded_channel();
        let announcer = tokio::spawn(announce_commits(shared.clone(), committed));
        Self {
            shared,
            announce,
            listener,
            announcer,
        }
    }

    /// Sessions ended in other processes, from now on.
    pub(super) fn session_ends(&self) -> tokio::sync::broadcast::Receiver<SessionEnded> {
        self.shared.session_ends.subscribe()
    }

    pub(super) fn feed(&self, clinic: ClinicId) -> Arc<ClinicFeed> {
        self.shared.followed(clinic).feed.clone()
    }

    /// This process committed `seq` for `clinic`: hand it on here without waiting for a
    /// notice, and announce it to the other processes.
    pub(super) fn committed(&self, clinic: ClinicId, seq: u64) {
        // The announcer stops only with the bus.
        let _ = self.announce.send(Announce::Committed(clinic, seq));
        let shared = self.shared.clone();
        tokio::spawn(async move { shared.catch_up(clinic, seq).await });
    }

    /// Announces every seq committed here so far, now rather than within the notice window:
    /// for a process about to exit (an admin command, a server shutting down), whose commits
    /// the other processes would otherwise only find at their next look.
    pub(super) async fn flush(&self) {
        let (done, sent) = tokio::sync::oneshot::channel();
        if self.announce.send(Announce::Flush(done)).is_ok()
            && tokio::time::timeout(FLUSH_WAIT, sent).await.is_err()
        {
            tracing::warn!("the last commits' notices did not go out in time");
        }
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

    /// The clinics followed here (only those with subscribers, unless `all`), each caught up
    /// to its current seq: after listening again, and every [`LOOK_EVERY`].
    async fn catch_up_followed(&self, all: bool) {
        let clinics: Vec<String> = lock(&self.clinics)
            .iter()
            .filter(|(_, followed)| all || followed.feed.subscribers() > 0)
            .map(|(clinic, _)| clinic.to_string())
            .collect();
        if clinics.is_empty() {
            return;
        }
        let seqs = match self.current_seqs(&clinics).await {
            Ok(seqs) => seqs,
            Err(e) => {
                tracing::warn!(error = %e, "could not read the followed clinics' seqs");
                return;
            }
        };
        for (clinic, seq) in seqs {
            self.catch_up(clinic, seq).await;
        }
    }

    async fn current_seqs(&self, clinics: &[String]) -> Result<Vec<(ClinicId, u64)>, StoreError> {
        let client = self
            .pool
            .get()
            .await
            .map_err(|e| StoreError::Database(e.to_string()))?;
        let rows = client
            .fetch(
                "SELECT id, seq FROM clinics WHERE id = ANY($1)",
                &[&clinics],
            )
            .await
            .map_err(|e| StoreError::Database(e.to_string()))?;
        rows.iter()
            .map(|r| Ok((parse_id(r.get(0))?, r.get::<_, i64>(1) as u64)))
            .collect()
    }

    /// Announces the seqs committed here, each clinic's latest, in as few notices as fit.
    async fn announce(&self, latest: &HashMap<ClinicId, u64>) -> Result<(), StoreError> {
        let client = self
            .pool
            .get()
            .await
            .map_err(|e| StoreError::Database(e.to_string()))?;
        for payload in notices(&self.replica, latest) {
            client
                .run("SELECT pg_notify($1, $2)", &[&CHANNEL, &payload])
                .await
                .map_err(|e| StoreError::Database(e.to_string()))?;
        }
        Ok(())
    }

    /// A notice of seqs committed: handed on unless this process sent it.
    async fn seqs_heard(&self, payload: &str) {
        let Some((replica, seqs)) = payload.split_once(' ') else {
            return;
        };
        if replica == self.replica {
            return;
        }
        for (clinic, seq) in seqs.split(' ').filter_map(parse_notice) {
            self.catch_up(clinic, seq).await;
        }
    }
}

/// The payloads announcing `latest` from `replica`: `REPLICA clinic:seq clinic:seq …`, each
/// under [`NOTICE_BYTES`].
fn notices(replica: &str, latest: &HashMap<ClinicId, u64>) -> Vec<String> {
    let mut payloads = Vec::new();
    let mut payload = String::from(replica);
    for (clinic, seq) in latest {
        let pair = format!(" {clinic}:{seq}");
        if payload.len() + pair.len() > NOTICE_BYTES && payload.len() > replica.len() {
            payloads.push(std::mem::replace(&mut payload, String::from(replica)));
        }
        payload.push_str(&pair);
    }
    if payload.len() > replica.len() {
        payloads.push(payload);
    }
    payloads
}

/// Announces what this process commits, a few commits to a notice, until the bus is dropped.
async fn announce_commits(shared: Arc<Shared>, mut told: mpsc::UnboundedReceiver<Announce>) {
    while let Some(first) = told.recv().await {
        // Each clinic's latest seq told within the window, up to a flush if one comes.
        let mut latest = HashMap::new();
        let until = tokio::time::Instant::now() + NOTICE_WINDOW;
        let mut next = Some(first);
        let flushed = loop {
            match next {
                Some(Announce::Committed(clinic, seq)) => {
                    let at = latest.entry(clinic).or_insert(seq);
                    *at = (*at).max(seq);
                }
                Some(Announce::Flush(done)) => break Some(done),
                None => break None,
            }
            next = tokio::time::timeout_at(until, told.recv())
                .await
                .ok()
                .flatten();
        };
        if !latest.is_empty()
            && let Err(e) = shared.announce(&latest).await
        {
            // The other processes look at their clinics' seqs every second.
            tracing::warn!(error = %e, "could not announce commits to the other processes");
        }
        if let Some(done) = flushed {
            let _ = done.send(());
        }
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
                        shared.catch_up_followed(true).await;
                    }
                    let mut look = tokio::time::interval(LOOK_EVERY);
                    look.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                    loop {
                        tokio::select! {
                            notice = notices.recv() => {
                                let Some((channel, payload)) = notice else { break };
                                if channel == SESSIONS_CHANNEL {
                                    shared.session_ended(&payload);
                                } else {
                                    shared.seqs_heard(&payload).await;
                                }
                            }
                            _ = look.tick() => shared.catch_up_followed(false).await,
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

    #[test]
    fn commits_are_announced_each_clinic_once_in_notices_that_fit() {
        let latest: HashMap<ClinicId, u64> = (0..400u128)
            .map(|n| (ClinicId::from_u128(n), n as u64 + 1))
            .collect();
        let payloads = notices("replica-a", &latest);
        assert!(payloads.len() > 1, "400 clinics do not fit one notice");
        let mut heard = HashMap::new();
        for payload in &payloads {
            assert!(payload.len() <= NOTICE_BYTES, "{} bytes", payload.len());
            let (replica, seqs) = payload.split_once(' ').expect("a replica, then seqs");
            assert_eq!(replica, "replica-a");
            for (clinic, seq) in seqs.split(' ').filter_map(parse_notice) {
                assert!(
                    heard.insert(clinic, seq).is_none(),
                    "{clinic} announced twice"
                );
            }
        }
        assert_eq!(heard, latest);
        assert!(notices("replica-a", &HashMap::new()).is_empty());
    }
}
