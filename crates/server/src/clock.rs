//! The one clock everything time-dependent reads: visit times, session expiry, office hours,
//! reminders, retries. It is the system clock shifted by an offset, so time keeps flowing in
//! tests too, but a test (or `serve --clock-offset-ms`) can move it to "24 hours before the
//! session" without sleeping. Nothing in the server reads the system's time any other way
//! (only caches and connection timeouts use the monotonic `Instant`, which no clinic time is
//! compared with; the budgets of attempts read this clock, so a test can move past a lockout).

use frontdesk_domain::{Span, Timestamp};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

#[derive(Clone, Debug, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
}

fn system_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self::default()
    }

    /// The system clock shifted by `offset_ms` (negative: in the past).
    pub fn offset(offset_ms: i64) -> Self {
        let c = Self::default();
        c.offset_ms.store(offset_ms, Ordering::Relaxed);
        c
    }

    pub fn now(&self) -> Timestamp {
        Timestamp::from_millis(system_ms() + self.offset_ms.load(Ordering::Relaxed))
    }

    /// From now on, the time reads `at` (and flows on from there).
    pub fn set(&self, at: Timestamp) {
        self.offset_ms
            .store(at.as_millis() - system_ms(), Ordering::Relaxed);
    }

    pub fn advance(&self, by: Span) {
        self.offset_ms.fetch_add(by.as_millis(), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_and_advance_move_every_copy() {
        let clock = Clock::system();
        let copy = clock.clone();
        let target = Timestamp::from_millis(1_000_000_000_000);
        clock.set(target);
        let read = copy.now().as_millis() - target.as_millis();
        assert!((0..5_000).contains(&read), "{read}");
        copy.advance(Span::from_millis(3_600_000));
        let read = clock.now().as_millis() - target.as_millis();
        assert!((3_600_000..3_605_000).contains(&read), "{read}");
    }
}
