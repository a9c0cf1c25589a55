//! Sign-in, arrival and intake budgets ([`AttemptBudgets`]) kept in PostgreSQL, so every
//! process counts the same attempts: the 11th wrong password in a minute is refused whichever
//! process it reaches. The semantics are [`crate::limits::MemoryBudgets`]'s: one row per
//! attempt still in the window; a reservation takes from every budget or none, in one call of
//! the schema's `reserve_attempts`, which holds each key's transaction-scoped advisory lock
//! (taken in key order, so two reservations sharing keys never deadlock) for that statement;
//! a release deletes the rows it added.

use super::cached::Cached;
use super::{Fail, big};
use crate::error::AppError;
use crate::limits::{AttemptBudgets, Charge, Reservation, WINDOW, bounded, wait_until};
use crate::store::StoreError;
use deadpool_postgres::Pool;
use frontdesk_domain::Timestamp;

#[derive(Clone)]
pub(super) struct PgBudgets {
    pub(super) pool: Pool,
}

impl std::fmt::Debug for PgBudgets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PgBudgets")
    }
}

/// The lock and row key of a charge: its budget's kind and its key.
fn lock_key(c: &Charge) -> String {
    format!("{}:{}", c.budget.kind, c.key)
}

#[async_trait::async_trait]
impl AttemptBudgets for PgBudgets {
    async fn reserve(&self, charges: Vec<Charge>, now: Timestamp) -> Result<Reservation, AppError> {
        let charges = bounded(charges);
        if charges.is_empty() {
            return Ok(Reservation::new(charges, now));
        }
        let keys: Vec<String> = charges.iter().map(lock_key).collect();
        let limits: Vec<i64> = charges.iter().map(|c| big(c.budget.per_minute)).collect();
        let at = now.as_millis();
        let window_start = (now - WINDOW).as_millis();
        // One statement (the schema's `reserve_attempts`): its locks last as long as it does.
        let full: Result<Vec<(i32, Option<i64>)>, Fail> = async {
            let client = self.pool.get().await?;
            let rows = client
                .fetch(
                    "SELECT refused, oldest FROM reserve_attempts($1, $2, $3, $4)",
                    &[&keys, &limits, &at, &window_start],
                )
                .await?;
            Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
        }
        .await;
        // The refusal names the budget that frees up last: before then, a retry is refused too.
        let mut refused: Option<(&'static str, std::time::Duration)> = None;
        for (place, oldest) in full.map_err(StoreError::from)? {
            let Some(c) = usize::try_from(place - 1).ok().and_then(|i| charges.get(i)) else {
                continue;
            };
            let oldest = oldest.map_or(now, Timestamp::from_millis);
            let wait = wait_until(oldest + WINDOW, now);
            if refused.is_none_or(|(_, w)| wait > w) {
                refused = Some((c.budget.what, wait));
            }
        }
        match refused {
            Some((what, retry_after)) => Err(AppError::RateLimited { what, retry_after }),
            None => Ok(Reservation::new(charges, now)),
        }
    }

    async fn release(&self, reservation: Reservation) {
        let at = reservation.at().as_millis();
        let keys: Vec<String> = reservation.charges().iter().map(lock_key).collect();
        if keys.is_empty() {
            return;
        }
        let given_back: Result<u64, Fail> = async {
            let client = self.pool.get().await?;
            Ok(client
                .run(
                    "DELETE FROM attempts WHERE id IN (
                         SELECT DISTINCT ON (key) id FROM attempts
                         WHERE key = ANY($1) AND at = $2 ORDER BY key, id)",
                    &[&keys, &at],
                )
                .await?)
        }
        .await;
        if let Err(e) = given_back {
            tracing::warn!(error = %StoreError::from(e), "cannot give a sign-in attempt back");
        }
    }
}
