//! The per-target scrape cache: raw series text → series ref, so that a
//! steady-state sample costs one hash of its bytes and one map lookup, with
//! no label decoding and no allocation; and the bookkeeping for staleness
//! markers (spec §2.8, §2.9).
//!
//! Keys are 128-bit xxh3 hashes of the series bytes exactly as the target
//! wrote them, not the bytes themselves: a target with a million series
//! would otherwise keep a second copy of every series text. Two different
//! texts of one target colliding in 128 bits is not a practical event
//! (about 2^-88 for a million series).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use strata_storage::SeriesRef;

/// Entries unseen for this many scrapes are forgotten (their series may come
/// back; they are then looked up again).
const FORGET_AFTER: u64 = 10;

/// Hasher for keys that are already hashes: takes the low 64 bits as is.
#[derive(Default)]
pub(crate) struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only reached for key types other than u128; fold them in.
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u128(&mut self, i: u128) {
        self.0 = i as u64;
    }
}

type KeyMap<V> = HashMap<u128, V, BuildHasherDefault<KeyHasher>>;

/// The key of a series text.
#[inline]
pub(crate) fn key_of(series: &[u8]) -> u128 {
    xxhash_rust::xxh3::xxh3_128(series)
}

/// What the cache knows of one series text.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry {
    /// The stored series, or `None` when metric relabeling drops it.
    pub(crate) r: Option<SeriesRef>,
    /// Iteration in which the series was last appended without an explicit
    /// timestamp (what staleness tracks); 0 = never.
    tracked: u64,
    /// Iteration in which the text was last seen at all.
    seen: u64,
}

/// Per-target cache; owned by the target's scrape loop (no locking).
#[derive(Default)]
pub(crate) struct ScrapeCache {
    entries: KeyMap<Entry>,
    /// The current scrape iteration, starting at 1; 0 is "never".
    iter: u64,
}

/// How a looked-up sample relates to this scrape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Seen {
    /// First time in this scrape.
    First,
    /// The same series text came earlier in this scrape.
    Again,
}

impl ScrapeCache {
    /// A cache at iteration 1.
    pub(crate) fn new() -> ScrapeCache {
        ScrapeCache {
            entries: KeyMap::default(),
            iter: 1,
        }
    }

    /// Number of series texts known.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// The entry for `key`, marking it seen in this scrape.
    #[inline]
    pub(crate) fn get(&mut self, key: u128) -> Option<(Entry, Seen)> {
        let iter = self.iter;
        self.entries.get_mut(&key).map(|e| {
            let seen = if e.seen == iter { Seen::Again } else { Seen::First };
            e.seen = iter;
            (*e, seen)
        })
    }

    /// Remembers a series text met for the first time.
    pub(crate) fn insert(&mut self, key: u128, r: Option<SeriesRef>) {
        self.entries.insert(
            key,
            Entry {
                r,
                tracked: 0,
                seen: self.iter,
            },
        );
    }

    /// Records that the series of `key` got a sample without an explicit
    /// timestamp in this scrape, so it goes stale if a later scrape lacks it.
    #[inline]
    pub(crate) fn track(&mut self, key: u128) {
        if let Some(e) = self.entries.get_mut(&key) {
            e.tracked = self.iter;
        }
    }

    /// Series tracked in the previous completed iteration and not in this
    /// one: they need a staleness marker now.
    pub(crate) fn stale(&self) -> impl Iterator<Item = SeriesRef> + '_ {
        let prev = self.iter - 1;
        self.entries
            .values()
            .filter(move |e| prev > 0 && e.tracked == prev)
            .filter_map(|e| e.r)
    }

    /// Every series tracked in the current or the previous iteration: what
    /// a target that goes away marks stale.
    pub(crate) fn live(&self) -> impl Iterator<Item = SeriesRef> + '_ {
        let (prev, cur) = (self.iter - 1, self.iter);
        self.entries
            .values()
            .filter(move |e| e.tracked > 0 && (e.tracked == prev || e.tracked == cur))
            .filter_map(|e| e.r)
    }

    /// Ends the iteration: what was tracked now becomes "previous". With
    /// `forget`, entries not seen for a while are dropped (not after failed
    /// scrapes, which saw nothing).
    pub(crate) fn iter_done(&mut self, forget: bool) {
        if forget {
            let iter = self.iter;
            self.entries.retain(|_, e| e.seen + FORGET_AFTER > iter);
        }
        self.iter += 1;
    }

    /// Forgets one series text.
    pub(crate) fn remove(&mut self, key: u128) {
        self.entries.remove(&key);
    }

    /// Forgets everything (e.g. when metric relabeling rules change).
    pub(crate) fn clear(&mut self) {
        self.entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs(it: impl Iterator<Item = SeriesRef>) -> Vec<u64> {
        let mut v: Vec<u64> = it.map(|r| r.0).collect();
        v.sort_unstable();
        v
    }

    #[test]
    fn a_series_missing_from_the_next_scrape_is_stale_once() {
        let mut c = ScrapeCache::new();
        let (a, b) = (key_of(b"a"), key_of(b"b{x=\"1\"}"));
        c.insert(a, Some(SeriesRef(1)));
        c.track(a);
        c.insert(b, Some(SeriesRef(2)));
        c.track(b);
        assert_eq!(refs(c.stale()), Vec::<u64>::new());
        c.iter_done(true);

        assert_eq!(c.get(a).map(|(e, s)| (e.r, s)), Some((Some(SeriesRef(1)), Seen::First)));
        c.track(a);
        assert_eq!(refs(c.stale()), vec![2]);
        c.iter_done(true);
        // Reported once: b was not tracked in the iteration just finished.
        c.get(a);
        c.track(a);
        assert_eq!(refs(c.stale()), Vec::<u64>::new());
    }

    #[test]
    fn a_failed_scrape_marks_everything_and_the_next_marks_nothing() {
        let mut c = ScrapeCache::new();
        let a = key_of(b"a");
        c.insert(a, Some(SeriesRef(1)));
        c.track(a);
        c.iter_done(true);
        // Failed scrape: nothing seen.
        assert_eq!(refs(c.stale()), vec![1]);
        c.iter_done(false);
        assert_eq!(refs(c.stale()), Vec::<u64>::new());
        // Back: known again without a lookup.
        assert!(c.get(a).is_some());
    }

    #[test]
    fn samples_with_their_own_timestamps_are_not_tracked() {
        let mut c = ScrapeCache::new();
        let a = key_of(b"a");
        c.insert(a, Some(SeriesRef(1)));
        c.iter_done(true);
        c.get(a);
        c.iter_done(true);
        assert_eq!(refs(c.stale()), Vec::<u64>::new());
    }

    #[test]
    fn the_same_text_twice_in_one_scrape_is_reported() {
        let mut c = ScrapeCache::new();
        let a = key_of(b"a");
        c.insert(a, Some(SeriesRef(1)));
        assert_eq!(c.get(a).map(|(_, s)| s), Some(Seen::Again));
        c.iter_done(true);
        assert_eq!(c.get(a).map(|(_, s)| s), Some(Seen::First));
    }

    #[test]
    fn dropped_series_are_cached_without_a_ref_and_never_stale() {
        let mut c = ScrapeCache::new();
        let a = key_of(b"dropped");
        c.insert(a, None);
        c.track(a);
        c.iter_done(true);
        assert_eq!(c.get(a).map(|(e, _)| e.r), Some(None));
        c.iter_done(true);
        assert_eq!(refs(c.stale()), Vec::<u64>::new());
    }

    #[test]
    fn entries_unseen_for_a_while_are_forgotten() {
        let mut c = ScrapeCache::new();
        c.insert(key_of(b"a"), Some(SeriesRef(1)));
        for _ in 0..FORGET_AFTER {
            c.iter_done(true);
        }
        assert_eq!(c.len(), 1, "kept while unseen for {FORGET_AFTER} scrapes");
        c.iter_done(true);
        assert_eq!(c.len(), 0);
    }

    #[test]
    fn live_is_what_a_vanished_target_marks() {
        let mut c = ScrapeCache::new();
        let (a, b) = (key_of(b"a"), key_of(b"b"));
        c.insert(a, Some(SeriesRef(1)));
        c.track(a);
        c.insert(b, Some(SeriesRef(2)));
        c.track(b);
        c.iter_done(true);
        assert_eq!(refs(c.live()), vec![1, 2]);
    }
}
