//! Exponential backoff with full jitter for transient failures.

use std::time::Duration;

use std::future::Future;

use rand::Rng;
use tokio_util::sync::CancellationToken;

use super::apply::Cancelled;
use super::waiter::Waiter;

/// Delays grow from `initial` by doubling up to `max`; each wait is drawn uniformly from
/// `[delay / 2, delay]` so that processors retrying together spread out.
#[derive(Debug, Clone)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    pub fn new(initial: Duration, max: Duration) -> Self {
        Self { initial, max, next: initial }
    }

    /// Starts at 100 ms and stops growing at 10 s, so a recovered database is noticed within
    /// about 10 s.
    pub fn for_database() -> Self {
        Self::new(Duration::from_millis(100), Duration::from_secs(10))
    }

    /// Returns the next wait and doubles the delay for the time after.
    pub fn next_delay(&mut self) -> Duration {
        let current = self.next;
        self.next = (current * 2).min(self.max);
        let low = current / 2;
        let millis = rand::rng().random_range(low.as_millis()..=current.as_millis());
        Duration::from_millis(u64::try_from(millis).unwrap_or(u64::MAX))
    }

    pub fn reset(&mut self) {
        self.next = self.initial;
    }
}

/// Runs `operation` until it succeeds, waiting with backoff between attempts and logging each
/// failure as `what`. Returns `Err(Cancelled)` when `cancel` fires during a wait.
pub async fn retry_until_ok<T, E, F, Fut>(
    what: &str,
    mut backoff: Backoff,
    waiter: &Waiter,
    cancel: &CancellationToken,
    mut operation: F,
) -> Result<T, Cancelled>
where
    E: std::fmt::Display,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    loop {
        match operation().await {
            Ok(value) => return Ok(value),
            Err(error) => {
                let delay = backoff.next_delay();
                tracing::warn!(%error, delay_ms = delay.as_millis(), "{what} failed, retrying");
                waiter.wait(delay, cancel).await?;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_caps() {
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_millis(400));
        let delays: Vec<Duration> = (0..5).map(|_| backoff.next_delay()).collect();
        assert!(delays[0] >= Duration::from_millis(50), "{:?}", delays[0]);
        assert!(delays[0] <= Duration::from_millis(100), "{:?}", delays[0]);
        assert!(delays[1] >= Duration::from_millis(100), "{:?}", delays[1]);
        assert!(delays[1] <= Duration::from_millis(200), "{:?}", delays[1]);
        for delay in &delays[2..] {
            assert!(*delay >= Duration::from_millis(200), "{delay:?}");
            assert!(*delay <= Duration::from_millis(400), "{delay:?}");
        }
    }

    #[test]
    fn backoff_reset_starts_over() {
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(1));
        backoff.next_delay();
        backoff.next_delay();
        backoff.reset();
        assert!(backoff.next_delay() <= Duration::from_millis(100));
    }
}
