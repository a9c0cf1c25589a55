//! The clinic's event stream on the wire (what each committed change looks like to the console,
//! and the frames of the WebSocket) and the live fan-out that hands committed events to the
//! clinic's open streams. A visit event carries the change (the visit id, its new version and
//! the entries the command added); a client lays the entries on its copy.
//!
//! The fan-out is bounded in bytes: each subscriber has an inbox holding what it has not taken
//! yet, and an inbox that would hold more than its [`LiveBudget`] is emptied and marked lagged
//! instead (the stream then tells its console to resync and catch up by pages). Inboxes share
//! one buffer per event, and each holds the newest events it has not taken, so all a clinic's
//! inboxes together hold no more than one budget of bytes, however many subscribers it has.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

pub use frontdesk_api::{Event, EventBody, Frame};
use frontdesk_domain::access::{Audience, Detail, Reader, entries_need_redacting, redact_entries};
use frontdesk_domain::{HistoryEntry, VisitId};

/// An event as fanned out to live subscribers: serialized once, sent to many.
#[derive(Clone, Debug)]
pub struct Published {
    pub seq: u64,
    /// The full `Frame::Event` text; clones share one buffer.
    pub frame: axum::extract::ws::Utf8Bytes,
    /// Who may read it (a visit's change); None: everyone (staff and rooms).
    pub audience: Option<Arc<Audience>>,
    /// The frame as readers who see less of the visit get it, for each such detail the
    /// change had something to leave out for (intake answers, for a scheduler).
    pub redacted: Vec<(Detail, axum::extract::ws::Utf8Bytes)>,
    /// What a reader who may not see it gets instead (seq, clinic and time only).
    withheld: axum::extract::ws::Utf8Bytes,
}

fn frame_text(event_json: &str) -> axum::extract::ws::Utf8Bytes {
    format!(r#"{{"type":"event","event":{event_json}}}"#).into()
}

impl Published {
    pub fn new(seq: u64, event_json: &str) -> Self {
        Self {
            seq,
            frame: frame_text(event_json),
            audience: None,
            redacted: Vec::new(),
            withheld: Default::default(),
        }
    }

    /// A visit's change, for the readers its audience allows, each with what they may see.
    /// `head` is the event's seq, clinic and time (its body is not read).
    pub fn for_audience(
        head: Event,
        visit_id: VisitId,
        version: u64,
        entries: &[HistoryEntry],
        event_json: &str,
        audience: Audience,
    ) -> Self {
        let redacted = frontdesk_domain::access::partial_details()
            .into_iter()
            .filter(|d| entries_need_redacting(entries, *d))
            .filter_map(|d| {
                let mut entries = entries.to_vec();
                redact_entries(&mut entries, d);
                let copy = Event {
                    body: EventBody::Visit {
                        visit_id,
                        version,
                        entries,
                    },
                    ..head.clone()
                };
                Some((d, frame_text(&serde_json::to_string(&copy).ok()?)))
            })
            .collect();
        let withheld = Event {
            body: EventBody::Withheld,
            ..head
        };
        Self {
            seq: withheld.seq,
            frame: frame_text(event_json),
            audience: Some(Arc::new(audience)),
            redacted,
            withheld: frame_text(&serde_json::to_string(&withheld).unwrap_or_default()),
        }
    }

    /// The frame this reader gets: the event, the event with what they may not see left
    /// out, or only its seq ([`event_for`] decides the same for a page of events).
    pub fn frame_for(&self, reader: &Reader) -> &axum::extract::ws::Utf8Bytes {
        let Some(audience) = &self.audience else {
            return &self.frame;
        };
        match reader.detail(audience) {
            None => &self.withheld,
            Some(d) => self
                .redacted
                .iter()
                .find(|(x, _)| *x == d)
                .map_or(&self.frame, |(_, f)| f),
        }
    }

    /// What holding it costs: the frame's text.
    pub fn bytes(&self) -> usize {
        self.frame.len()
    }
}

/// An event as this reader may see it: whole, with what they may not see left out, or
/// withheld (its seq only). `audience` None: everyone reads it (staff and rooms).
pub fn event_for(reader: &Reader, mut event: Event, audience: Option<&Audience>) -> Event {
    let Some(audience) = audience else {
        return event;
    };
    match reader.detail(audience) {
        None => Event {
            body: EventBody::Withheld,
            ..event
        },
        Some(d) => {
            redact_event(&mut event, d);
            event
        }
    }
}

fn redact_event(event: &mut Event, detail: Detail) {
    if let EventBody::Visit { entries, .. } = &mut event.body {
        redact_entries(entries, detail);
    }
}

/// How far a live subscriber may fall behind before it is told to resync.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LiveBudget {
    /// Events not yet taken.
    pub events: usize,
    /// Bytes of event frames not yet taken.
    pub bytes: usize,
}

impl LiveBudget {
    /// The bytes a subscriber may fall behind by when only a count of events is given.
    pub const DEFAULT_BYTES: usize = 4 * 1024 * 1024;
}

/// A count of events alone keeps the default byte budget.
impl From<usize> for LiveBudget {
    fn from(events: usize) -> Self {
        Self {
            events,
            bytes: Self::DEFAULT_BYTES,
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing here can be left half-changed by a panic: every update is one assignment.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[derive(Default)]
struct Waiting {
    frames: VecDeque<Arc<Published>>,
    bytes: usize,
    lagged: bool,
}

/// One subscriber's events not yet taken.
struct Inbox {
    waiting: Mutex<Waiting>,
    /// Woken on every change; a wake-up with no one waiting is kept for the next wait.
    wake: tokio::sync::Notify,
}

/// A clinic's live subscribers.
pub struct ClinicFeed {
    budget: LiveBudget,
    inboxes: Mutex<FeedInboxes>,
}

impl std::fmt::Debug for ClinicFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClinicFeed")
            .field("budget", &self.budget)
            .field("subscribers", &self.subscribers())
            .finish()
    }
}

#[derive(Default)]
struct FeedInboxes {
    next_id: u64,
    by_id: HashMap<u64, Arc<Inbox>>,
}

impl ClinicFeed {
    pub fn new(budget: LiveBudget) -> Arc<Self> {
        Arc::new(Self {
            budget,
            inboxes: Mutex::default(),
        })
    }

    /// Live events from now on, in the order they are published.
    pub fn subscribe(self: &Arc<Self>) -> Subscription {
        let inbox = Arc::new(Inbox {
            waiting: Mutex::default(),
            wake: tokio::sync::Notify::new(),
        });
        let mut inboxes = lock(&self.inboxes);
        let id = inboxes.next_id;
        inboxes.next_id += 1;
        inboxes.by_id.insert(id, inbox.clone());
        Subscription {
            feed: self.clone(),
            id,
            inbox,
        }
    }

    /// Hands a committed event to every subscriber; one with no room left for it lags.
    pub fn publish(&self, published: Published) {
        let published = Arc::new(published);
        let size = published.bytes();
        let budget = self.budget;
        for inbox in lock(&self.inboxes).by_id.values() {
            let mut waiting = lock(&inbox.waiting);
            if waiting.lagged {
                continue;
            }
            if waiting.frames.len() >= budget.events.max(1)
                || (waiting.bytes + size > budget.bytes && !waiting.frames.is_empty())
            {
                // Past its budget: what it holds is of no use any more, so let it go now.
                *waiting = Waiting {
                    lagged: true,
                    ..Waiting::default()
                };
            } else {
                waiting.bytes += size;
                waiting.frames.push_back(published.clone());
            }
            drop(waiting);
            inbox.wake.notify_one();
        }
    }

    /// How many streams follow the clinic now.
    pub fn subscribers(&self) -> usize {
        lock(&self.inboxes).by_id.len()
    }
}

/// The subscriber fell further behind than its budget; events were dropped for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the subscriber fell behind its budget")]
pub struct Lagged;

/// One stream's view of the clinic's live events. Dropping it unsubscribes.
pub struct Subscription {
    feed: Arc<ClinicFeed>,
    id: u64,
    inbox: Arc<Inbox>,
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl Subscription {
    /// The next event, waiting for one; [`Lagged`] once it fell behind (and ever after).
    /// Safe to cancel: an event is taken only when it is returned.
    pub async fn recv(&mut self) -> Result<Arc<Published>, Lagged> {
        loop {
            {
                let mut waiting = lock(&self.inbox.waiting);
                if waiting.lagged {
                    return Err(Lagged);
                }
                if let Some(next) = waiting.frames.pop_front() {
                    waiting.bytes -= next.bytes();
                    return Ok(next);
                }
            }
            // A publish between the check above and here left a wake-up for this wait.
            self.inbox.wake.notified().await;
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        lock(&self.feed.inboxes).by_id.remove(&self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(seq: u64, size: usize) -> Published {
        Published::new(
            seq,
            &format!(r#"{{"seq":{seq},"pad":"{}"}}"#, "x".repeat(size)),
        )
    }

    #[tokio::test]
    async fn subscribers_take_each_event_once_in_order() {
        let feed = ClinicFeed::new(LiveBudget::from(100));
        let mut a = feed.subscribe();
        let mut b = feed.subscribe();
        for seq in 1..=3 {
            feed.publish(event(seq, 10));
        }
        for sub in [&mut a, &mut b] {
            for seq in 1..=3 {
                assert_eq!(sub.recv().await.unwrap().seq, seq);
            }
        }
    }

    #[tokio::test]
    async fn a_subscriber_past_its_byte_budget_lags_and_lets_go_of_what_it_held() {
        let one = event(1, 1_000).bytes();
        let feed = ClinicFeed::new(LiveBudget {
            events: 1_000,
            bytes: 3 * one,
        });
        let mut slow = feed.subscribe();
        let mut quick = feed.subscribe();
        for seq in 1..=4 {
            feed.publish(event(seq, 1_000));
            assert_eq!(quick.recv().await.unwrap().seq, seq);
        }
        assert_eq!(slow.recv().await.unwrap_err(), Lagged);
        assert_eq!(lock(&slow.inbox.waiting).bytes, 0, "nothing kept for it");
        assert!(lock(&slow.inbox.waiting).frames.is_empty());
        feed.publish(event(5, 1_000));
        assert_eq!(quick.recv().await.unwrap().seq, 5, "the others go on");
        assert_eq!(
            slow.recv().await.unwrap_err(),
            Lagged,
            "and it stays lagged"
        );
    }

    #[tokio::test]
    async fn a_subscriber_past_its_event_budget_lags() {
        let feed = ClinicFeed::new(LiveBudget {
            events: 2,
            bytes: usize::MAX,
        });
        let mut slow = feed.subscribe();
        for seq in 1..=3 {
            feed.publish(event(seq, 1));
        }
        assert_eq!(slow.recv().await.unwrap_err(), Lagged);
    }

    #[tokio::test]
    async fn one_event_larger_than_the_budget_still_reaches_a_subscriber_that_kept_up() {
        let feed = ClinicFeed::new(LiveBudget {
            events: 10,
            bytes: 100,
        });
        let mut sub = feed.subscribe();
        feed.publish(event(1, 1_000));
        assert_eq!(sub.recv().await.unwrap().seq, 1);
    }

    #[tokio::test]
    async fn a_waiting_subscriber_wakes_for_the_next_event_and_leaving_unsubscribes() {
        let feed = ClinicFeed::new(LiveBudget::from(10));
        let mut sub = feed.subscribe();
        let waiter = tokio::spawn(async move { sub.recv().await.map(|p| p.seq) });
        tokio::task::yield_now().await;
        feed.publish(event(7, 1));
        assert_eq!(waiter.await.unwrap(), Ok(7));
        assert_eq!(feed.subscribers(), 0, "the dropped subscription left");
    }
}
