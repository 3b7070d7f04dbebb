//! The newest sample of a series, readable without blocking its writer.

use std::sync::atomic::{fence, AtomicI64, AtomicU64, Ordering};

/// A sequence lock around one `(t, v)` pair. The single writer is whoever
/// holds the series' state lock; readers never block it and retry on a torn
/// read (writes are a few nanoseconds, so retries are rare).
pub(crate) struct LatestSlot {
    seq: AtomicU64,
    t: AtomicI64,
    v: AtomicU64,
}

impl Default for LatestSlot {
    fn default() -> Self {
        LatestSlot {
            seq: AtomicU64::new(0),
            t: AtomicI64::new(i64::MIN),
            v: AtomicU64::new(0),
        }
    }
}

impl LatestSlot {
    /// Publishes a new newest sample. Callers serialise writes (series lock).
    #[inline]
    pub(crate) fn store(&self, t: i64, v: u64) {
        let s = self.seq.load(Ordering::Relaxed);
        self.seq.store(s.wrapping_add(1), Ordering::Relaxed);
        fence(Ordering::Release);
        self.t.store(t, Ordering::Relaxed);
        self.v.store(v, Ordering::Relaxed);
        self.seq.store(s.wrapping_add(2), Ordering::Release);
    }

    /// The newest `(t, value bits)`, or `None` if the series has no sample.
    #[inline]
    pub(crate) fn load(&self) -> Option<(i64, u64)> {
        loop {
            let s1 = self.seq.load(Ordering::Acquire);
            if s1 & 1 == 1 {
                std::hint::spin_loop();
                continue;
            }
            let t = self.t.load(Ordering::Relaxed);
            let v = self.v.load(Ordering::Relaxed);
            fence(Ordering::Acquire);
            if self.seq.load(Ordering::Relaxed) == s1 {
                return (t != i64::MIN).then_some((t, v));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn readers_never_see_a_torn_pair() {
        let slot = Arc::new(LatestSlot::default());
        assert_eq!(slot.load(), None);
        let w = {
            let slot = slot.clone();
            std::thread::spawn(move || {
                for i in 1..200_000i64 {
                    slot.store(i, (i as u64).wrapping_mul(3));
                }
            })
        };
        for _ in 0..200_000 {
            if let Some((t, v)) = slot.load() {
                assert_eq!(v, (t as u64).wrapping_mul(3));
            }
        }
        w.join().unwrap();
    }
}
