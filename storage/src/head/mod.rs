//! The head: every series seen since the last restart's checkpoint, in memory.

mod latest;
mod series;

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::OnceLock;

use parking_lot::Mutex;

use crate::labels::Interner;
use crate::{Labels, SeriesRef, Timestamp};

pub(crate) use series::{AppendOutcome, MemSeries, SealedChunk};

/// Series slots per page of the slab.
const PAGE_BITS: u32 = 12;
const PAGE_SIZE: usize = 1 << PAGE_BITS;
/// Pages in the page table: 2^16 × 4096 = 268 M series.
const MAX_PAGES: usize = 1 << 16;
/// Stripes of the label-hash map; a power of two.
const STRIPES: usize = 64;

type Page = Box<[OnceLock<MemSeries>]>;

/// All head series, addressed by [`SeriesRef`] through a two-level slab (no
/// lock on lookup) and by label hash through a striped map.
pub(crate) struct Head {
    pages: Box<[OnceLock<Page>]>,
    by_hash: Box<[Mutex<HashMap<u64, SmallRefs>>]>,
    next_ref: AtomicU64,
    num_series: AtomicU64,
    interner: Interner,
    /// Newest / oldest sample timestamp in the head (`i64::MIN` / `MAX` when empty).
    max_t: AtomicI64,
    min_t: AtomicI64,
    /// Series with completed chunks that the flusher has not taken yet.
    pending_flush: Mutex<Vec<SeriesRef>>,
    pub(crate) chunk_range: i64,
}

/// Refs sharing one label hash; almost always one.
enum SmallRefs {
    One(SeriesRef),
    Many(Vec<SeriesRef>),
}

impl Head {
    pub(crate) fn new(chunk_range: i64) -> Head {
        Head {
            pages: (0..MAX_PAGES).map(|_| OnceLock::new()).collect(),
            by_hash: (0..STRIPES).map(|_| Mutex::new(HashMap::new())).collect(),
            next_ref: AtomicU64::new(1),
            num_series: AtomicU64::new(0),
            interner: Interner::default(),
            max_t: AtomicI64::new(i64::MIN),
            min_t: AtomicI64::new(i64::MAX),
            pending_flush: Mutex::new(Vec::new()),
            chunk_range,
        }
    }

    /// The series with this ref, if it is in the head.
    #[inline]
    pub(crate) fn get(&self, r: SeriesRef) -> Option<&MemSeries> {
        let page = usize::try_from(r.0 >> PAGE_BITS).ok()?;
        self.pages.get(page)?.get()?[(r.0 as usize) & (PAGE_SIZE - 1)].get()
    }

    /// Asks the CPU to start loading the slot of `r`: a walk in label order
    /// visits the slab out of order, and overlapping those cache misses is
    /// what makes it fast. Never faults; does nothing for an unknown ref.
    #[inline]
    pub(crate) fn prefetch(&self, r: SeriesRef) {
        #[cfg(target_arch = "x86_64")]
        {
            let Ok(page) = usize::try_from(r.0 >> PAGE_BITS) else {
                return;
            };
            let Some(page) = self.pages.get(page).and_then(|p| p.get()) else {
                return;
            };
            let slot = page.as_ptr().wrapping_add((r.0 as usize) & (PAGE_SIZE - 1)) as *const i8;
            let size = std::mem::size_of::<OnceLock<MemSeries>>();
            let mut off = 0;
            while off < size {
                // SAFETY: prefetch is a hint; it never faults, even on an invalid address.
                unsafe {
                    std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(slot.wrapping_add(off))
                };
                off += 64;
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = r;
    }

    /// The head series with exactly these labels.
    pub(crate) fn find(&self, labels: &Labels) -> Option<SeriesRef> {
        let h = labels.hash64();
        let stripe = self.by_hash[(h as usize) & (STRIPES - 1)].lock();
        match stripe.get(&h)? {
            SmallRefs::One(r) => (self.get(*r)?.labels == *labels).then_some(*r),
            SmallRefs::Many(v) => v
                .iter()
                .copied()
                .find(|r| self.get(*r).is_some_and(|s| s.labels == *labels)),
        }
    }

    /// Returns the series with these labels, creating it (with a fresh ref, or
    /// `known_ref` when the caller knows its persistent ref) if absent. The
    /// bool is true when this call created it.
    pub(crate) fn get_or_create(&self, labels: &Labels, known_ref: Option<SeriesRef>) -> (SeriesRef, bool) {
        let h = labels.hash64();
        let mut stripe = self.by_hash[(h as usize) & (STRIPES - 1)].lock();
        if let Some(refs) = stripe.get(&h) {
            let found = match refs {
                SmallRefs::One(r) => (self.get(*r).is_some_and(|s| s.labels == *labels)).then_some(*r),
                SmallRefs::Many(v) => v
                    .iter()
                    .copied()
                    .find(|r| self.get(*r).is_some_and(|s| s.labels == *labels)),
            };
            if let Some(r) = found {
                return (r, false);
            }
        }
        let r = match known_ref {
            Some(r) => {
                self.next_ref.fetch_max(r.0 + 1, Ordering::Relaxed);
                r
            }
            None => SeriesRef(self.next_ref.fetch_add(1, Ordering::Relaxed)),
        };
        self.insert(r, labels);
        match stripe.get_mut(&h) {
            None => {
                stripe.insert(h, SmallRefs::One(r));
            }
            Some(SmallRefs::One(o)) => {
                let o = *o;
                stripe.insert(h, SmallRefs::Many(vec![o, r]));
            }
            Some(SmallRefs::Many(v)) => v.push(r),
        }
        (r, true)
    }

    fn insert(&self, r: SeriesRef, labels: &Labels) {
        let page_no = (r.0 >> PAGE_BITS) as usize;
        assert!(page_no < MAX_PAGES, "series ref {} beyond the head's capacity", r.0);
        let page = self.pages[page_no].get_or_init(|| (0..PAGE_SIZE).map(|_| OnceLock::new()).collect());
        let labels = self.interner.intern_labels(labels);
        if page[(r.0 as usize) & (PAGE_SIZE - 1)]
            .set(MemSeries::new(r, labels))
            .is_ok()
        {
            self.num_series.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Appends one sample to a series (which must exist) and keeps the head's
    /// bookkeeping: time bounds and the queue of series with completed chunks.
    pub(crate) fn append(&self, s: &MemSeries, t: Timestamp, v: f64) -> AppendOutcome {
        let out = s.append(t, v, self.chunk_range);
        if let AppendOutcome::Appended { chunk_cut } = out {
            if chunk_cut {
                self.pending_flush.lock().push(s.r);
            }
        }
        out
    }

    /// Records that samples between `min_t` and `max_t` entered the head.
    pub(crate) fn update_bounds(&self, min_t: Timestamp, max_t: Timestamp) {
        self.max_t.fetch_max(max_t, Ordering::Relaxed);
        self.min_t.fetch_min(min_t, Ordering::Relaxed);
    }

    /// Newest timestamp in the head, `None` when empty.
    pub(crate) fn max_time(&self) -> Option<Timestamp> {
        let t = self.max_t.load(Ordering::Relaxed);
        (t != i64::MIN).then_some(t)
    }

    /// Oldest timestamp in the head, `None` when empty.
    pub(crate) fn min_time(&self) -> Option<Timestamp> {
        let t = self.min_t.load(Ordering::Relaxed);
        (t != i64::MAX).then_some(t)
    }

    /// Takes the refs of series that have completed chunks to flush.
    pub(crate) fn take_pending_flush(&self) -> Vec<SeriesRef> {
        std::mem::take(&mut *self.pending_flush.lock())
    }

    /// Marks a series as having completed chunks to flush.
    pub(crate) fn mark_pending_flush(&self, r: SeriesRef) {
        self.pending_flush.lock().push(r);
    }

    /// Number of head series.
    pub(crate) fn num_series(&self) -> u64 {
        self.num_series.load(Ordering::Relaxed)
    }

    /// The next ref a new series would get.
    pub(crate) fn next_ref(&self) -> SeriesRef {
        SeriesRef(self.next_ref.load(Ordering::Relaxed))
    }

    /// Makes sure new series get refs above `r` (refs are never reused).
    pub(crate) fn reserve_refs_up_to(&self, r: SeriesRef) {
        self.next_ref.fetch_max(r.0 + 1, Ordering::Relaxed);
    }

    /// Visits every head series in ref order.
    pub(crate) fn for_each(&self, mut f: impl FnMut(&MemSeries)) {
        let last = self.next_ref.load(Ordering::Relaxed);
        let pages = ((last >> PAGE_BITS) as usize + 1).min(MAX_PAGES);
        for p in self.pages[..pages].iter() {
            if let Some(page) = p.get() {
                for s in page.iter().filter_map(|c| c.get()) {
                    f(s);
                }
            }
        }
    }

    /// Distinct label strings held by the interner.
    pub(crate) fn interned_strings(&self) -> usize {
        self.interner.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_or_create_is_idempotent_and_refs_are_dense() {
        let h = Head::new(7_200_000);
        let a = Labels::from_pairs(&[("job", "a")]);
        let b = Labels::from_pairs(&[("job", "b")]);
        assert_eq!(h.get_or_create(&a, None), (SeriesRef(1), true));
        assert_eq!(h.get_or_create(&b, None), (SeriesRef(2), true));
        assert_eq!(h.get_or_create(&a, None), (SeriesRef(1), false));
        assert_eq!(h.find(&b), Some(SeriesRef(2)));
        assert_eq!(h.get(SeriesRef(2)).unwrap().labels, b);
        assert!(h.get(SeriesRef(3)).is_none());
        assert_eq!(h.num_series(), 2);
    }

    #[test]
    fn known_refs_are_kept_and_later_refs_go_above_them() {
        let h = Head::new(7_200_000);
        let a = Labels::from_pairs(&[("job", "a")]);
        assert_eq!(h.get_or_create(&a, Some(SeriesRef(5000))), (SeriesRef(5000), true));
        let (r, _) = h.get_or_create(&Labels::from_pairs(&[("job", "b")]), None);
        assert_eq!(r, SeriesRef(5001));
        let mut seen = vec![];
        h.for_each(|s| seen.push(s.r));
        assert_eq!(seen, vec![SeriesRef(5000), SeriesRef(5001)]);
    }
}
