//! Draining the outbox: each queued staff action is sent in order, with its idempotency key,
//! until the server answers; refusals become outcomes for the person who acted.

use super::sync::backoff;
use super::{Inner, lock, now};
use crate::error::ClientError;
use crate::state::Changed;
use crate::store::{Action, ActionKind, Outcome};
use frontdesk_api::CommandReply;
use frontdesk_domain::{Command, VisitId};
use std::sync::Arc;

/// Sends queued actions, oldest first, for as long as the engine lives.
pub(super) async fn outbox_task(inner: Arc<Inner>) {
    let mut delays = backoff();
    let mut stop = inner.stop.subscribe();
    while !inner.stopped() {
        let wait = match drain(&inner).await {
            Ok(()) => {
                delays = backoff();
                None
            }
            Err(e) => {
                tracing::debug!(error = %e, "outbox waiting to retry");
                delays.next()
            }
        };
        let wake = inner.outbox_wake.notified();
        match wait {
            Some(delay) => tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = wake => {}
                _ = stop.changed() => {}
            },
            None => tokio::select! {
                _ = wake => {}
                _ = stop.changed() => {}
            },
        }
    }
}

/// Sends one visit command, against the version it was decided on when the command needs
/// one (a message or a new priority does not: the server lays it on the visit as it is).
async fn send_command(
    inner: &Arc<Inner>,
    token: &str,
    visit_id: VisitId,
    command: &Command,
    expected_version: Option<u64>,
    key: &str,
) -> Result<CommandReply, ClientError> {
    inner
        .api
        .command(token, visit_id, command, expected_version, key)
        .await
}

/// Lays the change a command's answer carries onto confirmed state and the cache.
fn lay_and_save(inner: &Arc<Inner>, reply: &CommandReply) -> Result<(), ClientError> {
    // Lock order, everywhere: state, then store.
    let mut state = lock(&inner.state);
    let mut store = lock(&inner.store);
    let id = reply.visit.id;
    if state.lay_answer(id, reply.visit.version, &reply.entries) {
        let changed = Changed {
            visits: [id].into(),
            ..Changed::default()
        };
        store.save_changes(&state, &changed)?;
    }
    Ok(())
}

/// Sends every pending action in order. Stops at the first one that may succeed later.
async fn drain(inner: &Arc<Inner>) -> Result<(), ClientError> {
    loop {
        let next = lock(&inner.store).pending()?.into_iter().next();
        let Some(action) = next else {
            return Ok(());
        };
        let Some(token) = inner.token_for(&action)? else {
            // Queued by someone who was at this station before, whose token this engine no
            // longer has: it must not go out as the person here now.
            hold(
                inner,
                &action,
                "Not sent: it was queued by the person at this station before.",
            )?;
            continue;
        };
        let by_earlier = !action.queued_by(inner.person());
        let result = match &action.kind {
            ActionKind::Visit {
                visit_id,
                command,
                expected_version,
            } => send_command(
                inner,
                &token,
                *visit_id,
                command,
                *expected_version,
                &action.action_id,
            )
            .await
            .map(Some),
            ActionKind::Availability { availability } => inner
                .api
                .set_availability(&token, *availability, &action.action_id)
                .await
                .map(|_| None),
        };
        match result {
            Ok(reply) => {
                lock(&inner.store).confirm(&action.action_id)?;
                if let Some(reply) = reply {
                    lay_and_save(inner, &reply)?;
                }
                inner.bump();
            }
            Err(ClientError::SignedOut) if by_earlier => {
                // The person before is signed out by now: their action cannot go as them.
                if let Some(by) = action.by {
                    inner.forget_earlier(by);
                }
                hold(
                    inner,
                    &action,
                    "Not sent: the session of the person at this station before has ended.",
                )?;
            }
            Err(e) if e.is_retryable() => {
                lock(&inner.store).note_attempt(&action.action_id, &e.to_string())?;
                return Err(e);
            }
            Err(e) => {
                // The refusal's visit is its state without history: the stream brings the
                // change itself, so it is not laid on here.
                let held_by = match &e {
                    ClientError::Api { held_by, .. } => held_by.clone(),
                    _ => None,
                };
                let (visit_id, command) = what(&action);
                let message = match (&held_by, e.code()) {
                    (Some(who), "already_claimed") if !who.is_empty() => format!(
                        "Already claimed by {}",
                        who.iter()
                            .map(|s| s.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    _ => e.to_string(),
                };
                let outcome = Outcome {
                    action_id: action.action_id.clone(),
                    visit_id,
                    command,
                    code: e.code().to_string(),
                    message,
                    held_by,
                };
                lock(&inner.store).reject(&outcome, now())?;
                inner.bump();
            }
        }
    }
}

/// The visit an action is on, if any, and its command's name.
fn what(action: &Action) -> (Option<VisitId>, String) {
    match &action.kind {
        ActionKind::Visit {
            visit_id, command, ..
        } => (Some(*visit_id), command.name().to_string()),
        ActionKind::Availability { .. } => (None, "set_availability".to_string()),
    }
}

/// Takes an action that cannot go out as its author out of the outbox and shows why.
fn hold(inner: &Arc<Inner>, action: &Action, why: &str) -> Result<(), ClientError> {
    let (visit_id, command) = what(action);
    let outcome = Outcome {
        action_id: action.action_id.clone(),
        visit_id,
        command,
        code: "not_sent".into(),
        message: why.into(),
        held_by: None,
    };
    lock(&inner.store).reject(&outcome, now())?;
    inner.bump();
    Ok(())
}
