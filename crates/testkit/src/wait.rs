//! Waiting for something that happens in the background (a timer, a stream, another
//! process): poll until it holds, and fail with what was awaited if it never does.

use std::future::Future;
use std::time::{Duration, Instant};

/// Polls `check` every 50 ms until it gives a value, for at most `secs` seconds; panics with
/// `what` after that (a hang guard, not a speed check).
pub async fn eventually<T, F, Fut>(secs: u64, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let until = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < until, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
