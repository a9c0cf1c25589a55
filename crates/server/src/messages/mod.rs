//! What the server does on its own, beside answering requests, every `background_tick`:
//!
//! 1. **Notify.** Reads each clinic's events past the notifier's mark and queues the emails
//!    and texts they call for ([`compose`]), moving the mark in the same transaction. A crash
//!    before that commit reads the same events again; a message's key keeps it queued once.
//! 2. **Deliver.** Sends what is due from the queue, oldest first, and records each attempt:
//!    sent; tried again later with a growing delay; or failed for good (admins list failures).
//!    A message is marked `sending` before it goes out; one left `sending` by a crash goes
//!    out again at the next start (see [`transport`] for how a receiver can drop a repeat).
//!    Reminders of a session that is over by the time they fall due are skipped.
//! 3. **Keep time.** A patient whose waiting page closed and did not come back is marked
//!    `left`; a scheduled session no guest came to is marked `no_show` once it is
//!    `no_show_after` past its start.
//! 4. **Sweep.** Every `sweep_every`, old idempotency records and sessions are forgotten
//!    ([`crate::store::Store::sweep`]), judged by the same clock that stamped them.
//!
//! Every time read here comes from the server's clock, so tests move it instead of waiting.
//!
//! **Several processes on one database** (PostgreSQL). Notifying, keeping time and sweeping
//! are done by one process at a time, the leader ([`crate::store::Store::lead`]: a session
//! advisory lock held on a connection of its own, so PostgreSQL frees it when the leader dies
//! and the next process to ask takes over; a lease row would need a clock and an expiry to be
//! judged, the lock needs neither). Every process delivers: each round claims its messages in
//! the database (`FOR UPDATE SKIP LOCKED`, marked `sending` by this process for a lease), so
//! each message goes out from one process; at start a process requeues only claims whose lease
//! ran out, never another live process's messages in flight.

pub mod compose;
pub mod transport;

use crate::error::AppError;
use crate::events::EventBody;
use crate::service;
use crate::state::AppState;
use crate::store::{Attempt, Channel, Delivery};
use frontdesk_domain::{Command, Span, Visit, VisitId};
use std::collections::HashMap;
use transport::SendError;

/// Tries before a message counts as failed.
pub const MAX_ATTEMPTS: u32 = 8;

/// Delay before try `attempts + 1`: 30 s, 1 min, 2 min, … at most an hour.
pub fn retry_delay(attempts: u32) -> Span {
    let secs = 30i64 << attempts.saturating_sub(1).min(7);
    Span::from_secs(secs.min(3600))
}

/// Runs until the task is dropped. `base_url` is where the patient pages are served.
pub async fn run(state: AppState, base_url: String) {
    match state.store.requeue_interrupted().await {
        Ok(0) => {}
        Ok(n) => tracing::info!(messages = n, "sending again what a stopped server left"),
        Err(e) => tracing::warn!(error = %e, "cannot look for interrupted messages"),
    }
    let mut tick = tokio::time::interval(state.settings.background_tick);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // How often to sweep is housekeeping, not clinic time: the monotonic clock decides it.
    let mut swept_at: Option<std::time::Instant> = None;
    loop {
        tick.tick().await;
        let leading = state.store.lead().await;
        if leading && swept_at.is_none_or(|at| at.elapsed() >= state.settings.sweep_every) {
            swept_at = Some(std::time::Instant::now());
            if let Err(e) = state.store.sweep(state.now()).await {
                tracing::warn!(error = %e, "sweeping old records failed");
            }
            let kept_from = state.now()
                - Span::from_millis(
                    state
                        .settings
                        .audit_retention
                        .as_millis()
                        .min(i64::MAX as u128) as i64,
                );
            if let Err(e) = state.store.prune_audit(kept_from).await {
                tracing::warn!(error = %e, "pruning old audit records failed");
            }
        }
        if leading && let Err(e) = notify(&state, &base_url).await {
            tracing::warn!(error = %e, "notifier: will try again");
        }
        if let Err(e) = deliver(&state).await {
            tracing::warn!(error = %e, "delivery: will try again");
        }
        if leading && let Err(e) = keep_time(&state).await {
            tracing::warn!(error = %e, "timers: will try again");
        }
    }
}

/// A visit as it stood at `version`, replayed from its history.
fn visit_as_of(visit: &Visit, version: u64) -> Option<Visit> {
    let upto = visit.history.partition_point(|e| e.version <= version);
    Visit::replay(visit.id, &visit.history[..upto]).ok()
}

/// Events read per clinic per round.
const PAGE: u32 = 500;

async fn notify(state: &AppState, base_url: &str) -> Result<(), AppError> {
    let store = state.store.as_ref();
    for (clinic_id, mark) in store.unnotified().await? {
        let events = store.events_after(clinic_id, mark, PAGE).await?;
        let Some(through) = events.last().map(|e| e.seq) else {
            continue;
        };
        let Some(clinic) = store.clinic(clinic_id).await? else {
            continue;
        };
        let rooms = store.rooms(clinic_id).await?;
        let staff = store.staff(clinic_id).await?;
        let subscriptions = store.clinic_subscriptions(clinic_id).await?;
        let secret = store.secret();
        let wide = compose::Clinicwide {
            clinic: &clinic,
            rooms: &rooms,
            staff: &staff,
            subscriptions: &subscriptions,
            base_url,
            secret: &secret,
        };
        let mut whole: HashMap<VisitId, Visit> = HashMap::new();
        let mut messages = Vec::new();
        for event in &events {
            let EventBody::Visit {
                visit_id, version, ..
            } = &event.body
            else {
                continue;
            };
            if !whole.contains_key(visit_id)
                && let Some(v) = store.visit(clinic_id, *visit_id).await?
            {
                whole.insert(*visit_id, v);
            }
            // The visit as this event left it, whatever came after.
            let Some(as_of) = whole.get(visit_id).and_then(|v| visit_as_of(v, *version)) else {
                continue;
            };
            messages.extend(wide.messages_for(event, &as_of));
        }
        store
            .queue_messages(clinic_id, through, messages, state.now())
            .await?;
    }
    Ok(())
}

/// Messages sent per round at most.
const BATCH: u32 = 50;

async fn deliver(state: &AppState) -> Result<(), AppError> {
    let store = state.store.as_ref();
    let due = store.due_messages(state.now(), BATCH).await?;
    // Each session a reminder is about, as it stands (still on, and when it starts), read
    // once per round.
    let mut sessions: HashMap<frontdesk_domain::VisitId, Option<Option<i64>>> = HashMap::new();
    for m in due {
        if m.only_while_open
            && let Some(v) = m.visit_id
        {
            let session = match sessions.get(&v) {
                Some(s) => *s,
                None => {
                    let visit = store.visit(m.clinic_id, v).await?;
                    let s = visit
                        .filter(|v| !v.status.is_terminal())
                        .map(|v| v.booking.map(|b| b.starts_at.as_millis()));
                    sessions.insert(v, s);
                    s
                }
            };
            let skip = match (session, reminder_start(&m.key)) {
                (None, _) => Some("the session is over"),
                (Some(starts), Some(for_start)) if starts != Some(for_start) => {
                    Some("the session has moved")
                }
                _ => None,
            };
            if let Some(reason) = skip {
                let reason = reason.to_owned();
                store
                    .record_attempt(m.id, Attempt::Skipped { reason }, state.now())
                    .await?;
                continue;
            }
        }
        let outcome = send(state, &m).await;
        let now = state.now();
        let attempt = match outcome {
            Ok(()) => Attempt::Sent,
            Err(SendError::Temporary(error)) if m.attempts + 1 < MAX_ATTEMPTS => {
                tracing::info!(id = m.id, %error, "message not sent; will try again");
                Attempt::Retry {
                    error,
                    next_at: now + retry_delay(m.attempts + 1),
                }
            }
            Err(SendError::Temporary(error) | SendError::Permanent(error)) => {
                tracing::warn!(id = m.id, %error, "message failed");
                Attempt::Failed { error }
            }
        };
        store.record_attempt(m.id, attempt, now).await?;
    }
    Ok(())
}

/// The session start a reminder was made for, from its key (`…@<start ms>:<channel>:<to>`).
fn reminder_start(key: &str) -> Option<i64> {
    let (_, rest) = key.split_once('@')?;
    rest.split(':').next()?.parse().ok()
}

async fn send(state: &AppState, m: &Delivery) -> Result<(), SendError> {
    let t = &state.settings.transports;
    let not_set_up =
        |what: &str| SendError::Permanent(format!("{what} is not set up on this server"));
    match m.channel {
        Channel::Email => {
            let mailer = t.email.as_ref().ok_or_else(|| not_set_up("email"))?;
            mark_sending(state, m).await?;
            mailer.send(m).await
        }
        Channel::Sms => {
            let hook = t.sms.as_ref().ok_or_else(|| not_set_up("SMS"))?;
            mark_sending(state, m).await?;
            hook.send(m).await
        }
    }
}

async fn mark_sending(state: &AppState, m: &Delivery) -> Result<(), SendError> {
    state
        .store
        .record_attempt(m.id, Attempt::Sending, state.now())
        .await
        .map_err(|e| SendError::Temporary(e.to_string()))
}

async fn keep_time(state: &AppState) -> Result<(), AppError> {
    let store = state.store.as_ref();
    let now = state.now();
    for (clinic, id) in state.departures.gone(store, now).await? {
        if !state.departures.take(store, id, now).await? {
            continue;
        }
        if let Some(visit) = store.visit(clinic, id).await? {
            // A failure to write keeps the departure for the next tick.
            service::left_by_closing_the_page(store, now, &visit).await?;
        }
        state.departures.done(store, id).await?;
    }
    let after = Span::from_millis(state.settings.no_show_after.as_millis() as i64);
    for visit in store.scheduled_visits().await? {
        let Some(b) = &visit.booking else { continue };
        if b.starts_at + after <= now {
            let _ = service::system_command(store, now, &visit, Command::MarkNoShow).await;
        }
    }
    Ok(())
}

/// Where the patient pages are, for links in messages.
pub fn base_url(public_url: Option<&str>, bound: std::net::SocketAddr) -> String {
    match public_url {
        Some(u) => u.trim_end_matches('/').to_owned(),
        None => format!("http://{bound}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_to_an_hour() {
        let secs: Vec<i64> = (1..=9).map(|a| retry_delay(a).as_millis() / 1000).collect();
        assert_eq!(secs, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
    }

    #[test]
    fn a_reminder_names_the_start_it_is_for_whatever_the_address() {
        let email = "reminder-1h:0193:1@1790000000000:email:mia@example.org";
        assert_eq!(reminder_start(email), Some(1_790_000_000_000));
        let sms = "reminder-24h:0193:0@1790000000000:sms:+447700900123";
        assert_eq!(reminder_start(sms), Some(1_790_000_000_000));
        // Keys made before reminders carried their start: never taken as moved.
        assert_eq!(
            reminder_start("reminder-1h:0193:0:email:mia@example.org"),
            None
        );
        assert_eq!(reminder_start("booked:0193:0:sms:+447700900123"), None);
    }
}
