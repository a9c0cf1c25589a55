//! Sign-in, arrival and intake budgets ([`AttemptBudgets`]) kept in PostgreSQL, so every
//! process counts the same attempts: the 11th wrong password in a minute is refused whichever
//! process it reaches. The semantics are [`crate::limits::MemoryBudgets`]'s: one row per
//! attempt still in the window; a reservation takes from every budget or none, in one
//! transaction that holds each key's transaction-scoped advisory lock (taken in key order, so
//! two reservations sharing keys never deadlock); a release deletes the rows it added.

use super::cached::Cached;
use super::{Fail, transaction};
use crate::error::AppError;
use crate::limits::{AttemptBudgets, Charge, Reservation, WINDOW, wait_until};
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
        let mut keys: Vec<String> = charges.iter().map(lock_key).collect();
        keys.sort();
        keys.dedup();
        let at = now.as_millis();
        let window_start = (now - WINDOW).as_millis();
        let refused = transaction!(self, |tx| {
            for key in &keys {
                tx.run(
                    "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
                    &[key],
                )
                .await?;
            }
            // The refusal names the budget that frees up last: before then, a retry is
            // refused too.
            let mut refused: Option<(&'static str, std::time::Duration)> = None;
            for c in &charges {
                let key = lock_key(c);
                tx.run(
                    "DELETE FROM attempts WHERE key = $1 AND at <= $2",
                    &[&key, &window_start],
                )
                .await?;
                let row = tx
                    .fetch_one(
                        "SELECT count(*), min(at) FROM attempts WHERE key = $1",
                        &[&key],
                    )
                    .await?;
                let (count, oldest): (i64, Option<i64>) = (row.get(0), row.get(1));
                if count as usize >= c.budget.per_minute {
                    let oldest = oldest.map_or(now, Timestamp::from_millis);
                    let wait = wait_until(oldest + WINDOW, now);
                    if refused.is_none_or(|(_, w)| wait > w) {
                        refused = Some((c.budget.what, wait));
                    }
                }
            }
            if refused.is_none() {
                for c in &charges {
                    tx.run(
                        "INSERT INTO attempts (key, at) VALUES ($1, $2)",
                        &[&lock_key(c), &at],
                    )
                    .await?;
                }
            }
            refused
        })
        .map_err(StoreError::from)?;
        match refused {
            Some((what, retry_after)) => Err(AppError::RateLimited { what, retry_after }),
            None => Ok(Reservation::new(charges, now)),
        }
    }

    async fn release(&self, reservation: Reservation) {
        let at = reservation.at().as_millis();
        let keys: Vec<String> = reservation.charges().iter().map(lock_key).collect();
        let given_back: Result<(), Fail> = transaction!(self, |tx| {
            for key in &keys {
                tx.run(
                    "DELETE FROM attempts WHERE id = (
                         SELECT id FROM attempts WHERE key = $1 AND at = $2 LIMIT 1)",
                    &[key, &at],
                )
                .await?;
            }
        });
        if let Err(e) = given_back {
            tracing::warn!(error = %StoreError::from(e), "cannot give a sign-in attempt back");
        }
    }
}
