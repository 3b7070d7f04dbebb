//! Time as the generator sees it: real, or moved by hand so tests can simulate minutes of churn
//! without waiting.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Time since a run began. Cloning shares the clock.
#[derive(Debug, Clone)]
pub struct Clock(Source);

#[derive(Debug, Clone)]
enum Source {
    System(Instant),
    Manual(Arc<AtomicU64>),
}

impl Clock {
    /// A clock that starts now and follows the system's monotonic time.
    pub fn system() -> Clock {
        Clock(Source::System(Instant::now()))
    }

    /// A clock that stands at zero until [`Clock::advance`] moves it.
    pub fn manual() -> Clock {
        Clock(Source::Manual(Arc::new(AtomicU64::new(0))))
    }

    /// Time since the clock started.
    pub fn elapsed(&self) -> Duration {
        match &self.0 {
            Source::System(start) => start.elapsed(),
            Source::Manual(nanos) => Duration::from_nanos(nanos.load(Ordering::Relaxed)),
        }
    }

    /// Moves a manual clock forward by `by` and returns true; a system clock is left alone and
    /// false is returned.
    pub fn advance(&self, by: Duration) -> bool {
        match &self.0 {
            Source::System(_) => false,
            Source::Manual(nanos) => {
                let by = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
                let _ = nanos.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| Some(n.saturating_add(by)));
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_advanced_and_clones_share_it() {
        let c = Clock::manual();
        let shared = c.clone();
        assert_eq!(c.elapsed(), Duration::ZERO);
        assert!(c.advance(Duration::from_secs(90)));
        assert_eq!(shared.elapsed(), Duration::from_secs(90));
        assert!(!Clock::system().advance(Duration::from_secs(1)));
    }
}
