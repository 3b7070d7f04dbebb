//! One series in the head: labels, open chunk, completed chunks waiting for
//! the block store, and the newest-sample slot.

use std::sync::Arc;

use parking_lot::Mutex;

use super::latest::LatestSlot;
use crate::chunk::XorChunk;
use crate::{Labels, SeriesRef, Timestamp};

/// Prometheus's default target of samples per chunk (spec §5.2).
pub(crate) const SAMPLES_PER_CHUNK: u16 = 120;
/// Cut before a chunk could pass 1024 bytes: the next sample may need 19.
const MAX_BYTES_PER_CHUNK: usize = 1024 - 19;

/// A completed chunk, immutable, shared with readers.
#[derive(Clone)]
pub(crate) struct SealedChunk {
    pub(crate) min_t: Timestamp,
    pub(crate) max_t: Timestamp,
    pub(crate) bytes: Arc<[u8]>,
}

/// The chunk samples are appended to.
pub(crate) struct OpenChunk {
    pub(crate) min_t: Timestamp,
    pub(crate) chunk: XorChunk,
}

/// Mutable part of a series, behind its lock.
pub(crate) struct SeriesState {
    pub(crate) open: Option<OpenChunk>,
    /// Completed chunks not yet in the block store, oldest first.
    pub(crate) sealed: Vec<SealedChunk>,
    /// Timestamp at which the open chunk is cut (spec §5.2).
    next_at: Timestamp,
    /// Newest timestamp ever appended (survives chunk flushes); `i64::MIN` if none.
    pub(crate) max_t: Timestamp,
    pub(crate) max_v: u64,
}

/// A head series.
pub(crate) struct MemSeries {
    pub(crate) r: SeriesRef,
    pub(crate) labels: Labels,
    pub(crate) latest: LatestSlot,
    pub(crate) state: Mutex<SeriesState>,
}

/// What happened to one sample offered to a series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AppendOutcome {
    /// Appended.
    Appended { chunk_cut: bool },
    /// Same timestamp and same value bits as the newest sample: accepted, no-op.
    IdenticalDuplicate,
    /// Same timestamp, different value.
    Duplicate,
    /// Older than the newest sample.
    OutOfOrder,
}

impl MemSeries {
    pub(crate) fn new(r: SeriesRef, labels: Labels) -> Self {
        MemSeries {
            r,
            labels,
            latest: LatestSlot::default(),
            state: Mutex::new(SeriesState {
                open: None,
                sealed: Vec::new(),
                next_at: i64::MIN,
                max_t: i64::MIN,
                max_v: 0,
            }),
        }
    }

    /// Appends under the series lock and publishes the newest sample.
    pub(crate) fn append(&self, t: Timestamp, v: f64, chunk_range: i64) -> AppendOutcome {
        let mut st = self.state.lock();
        let out = st.append(t, v, chunk_range);
        if let AppendOutcome::Appended { .. } = out {
            self.latest.store(t, v.to_bits());
        }
        out
    }

    /// Adopts an encoded chunk from a WAL checkpoint as the series' open chunk
    /// (sealing the current one, if any), without re-encoding its samples.
    /// Returns the chunk's time range and whether a chunk was sealed; `None`
    /// when the chunk does not fit after the series' newest sample (the
    /// caller then appends sample by sample, which applies the usual rules).
    pub(crate) fn restore_chunk(&self, bytes: &[u8], chunk_range: i64) -> Option<(Timestamp, Timestamp, bool)> {
        let chunk = XorChunk::from_bytes(bytes).ok()?;
        let n = chunk.num_samples();
        let mut it = chunk.iter();
        let (min_t, _) = it.next()?;
        let mut st = self.state.lock();
        if st.max_t != i64::MIN && min_t <= st.max_t {
            return None;
        }
        // Re-derive the cut time exactly as appends did: the range end, then
        // the prediction made when the chunk held a quarter of its target.
        let mut next_at = range_end(min_t, chunk_range);
        if n > SAMPLES_PER_CHUNK / 4 {
            let t_quarter = chunk
                .iter()
                .nth(SAMPLES_PER_CHUNK as usize / 4 - 1)
                .map_or(min_t, |s| s.0);
            next_at = compute_chunk_end(min_t, t_quarter, next_at, 4.0);
        }
        let sealed = st.seal_open();
        let (max_t, max_v) = (chunk.last_t(), chunk.last_v().to_bits());
        st.open = Some(OpenChunk { min_t, chunk });
        st.next_at = next_at;
        st.max_t = max_t;
        st.max_v = max_v;
        self.latest.store(max_t, max_v);
        Some((min_t, max_t, sealed))
    }

    /// Checks a sample against the newest committed one without locking.
    pub(crate) fn check(&self, t: Timestamp, v: f64) -> AppendOutcome {
        match self.latest.load() {
            Some((lt, _)) if t < lt => AppendOutcome::OutOfOrder,
            Some((lt, lv)) if t == lt => {
                if lv == v.to_bits() {
                    AppendOutcome::IdenticalDuplicate
                } else {
                    AppendOutcome::Duplicate
                }
            }
            _ => AppendOutcome::Appended { chunk_cut: false },
        }
    }
}

impl SeriesState {
    fn append(&mut self, t: Timestamp, v: f64, chunk_range: i64) -> AppendOutcome {
        if self.max_t != i64::MIN {
            if t < self.max_t {
                return AppendOutcome::OutOfOrder;
            }
            if t == self.max_t {
                return if self.max_v == v.to_bits() {
                    AppendOutcome::IdenticalDuplicate
                } else {
                    AppendOutcome::Duplicate
                };
            }
        }
        let mut cut = false;
        let need_new = match &self.open {
            None => true,
            Some(o) => {
                let n = o.chunk.num_samples();
                if o.chunk.bytes().len() > MAX_BYTES_PER_CHUNK {
                    true
                } else {
                    if n == SAMPLES_PER_CHUNK / 4 {
                        self.next_at = compute_chunk_end(o.min_t, o.chunk.last_t(), self.next_at, 4.0);
                    }
                    t >= self.next_at || n >= SAMPLES_PER_CHUNK * 2
                }
            }
        };
        if need_new {
            cut = self.seal_open();
            self.open = Some(OpenChunk {
                min_t: t,
                chunk: XorChunk::with_capacity(64),
            });
            self.next_at = range_end(t, chunk_range);
        }
        self.open.as_mut().expect("opened above").chunk.append(t, v);
        self.max_t = t;
        self.max_v = v.to_bits();
        AppendOutcome::Appended { chunk_cut: cut }
    }

    /// Moves the open chunk, if it has samples, to `sealed`. True if it did.
    pub(crate) fn seal_open(&mut self) -> bool {
        match self.open.take() {
            Some(o) if o.chunk.num_samples() > 0 => {
                self.sealed.push(SealedChunk {
                    min_t: o.min_t,
                    max_t: o.chunk.last_t(),
                    bytes: Arc::from(o.chunk.bytes()),
                });
                true
            }
            _ => false,
        }
    }
}

/// End of the chunk range containing `t`: `(t / width) * width + width`,
/// with floor division so negative times behave.
pub(crate) fn range_end(t: Timestamp, width: i64) -> Timestamp {
    t.saturating_sub(t.rem_euclid(width)).saturating_add(width)
}

/// Prometheus's `computeChunkEndTime`: when a chunk holds a quarter of its
/// target, predict an end so the rest of the range fills evenly.
fn compute_chunk_end(start: i64, cur: i64, max_t: i64, ratio_to_full: f64) -> i64 {
    let n = (max_t - start) as f64 / ((cur - start + 1) as f64 * ratio_to_full);
    if n <= 1.0 {
        return max_t;
    }
    (start as f64 + (max_t - start) as f64 / n.floor()) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    const RANGE: i64 = 2 * 3600 * 1000;

    fn series() -> MemSeries {
        MemSeries::new(SeriesRef(1), Labels::from_pairs(&[("a", "b")]))
    }

    #[test]
    fn out_of_order_and_duplicates_follow_prometheus() {
        let s = series();
        assert!(matches!(s.append(1000, 1.0, RANGE), AppendOutcome::Appended { .. }));
        assert_eq!(s.append(1000, 1.0, RANGE), AppendOutcome::IdenticalDuplicate);
        assert_eq!(s.append(1000, 2.0, RANGE), AppendOutcome::Duplicate);
        assert_eq!(s.append(999, 2.0, RANGE), AppendOutcome::OutOfOrder);
        assert_eq!(s.check(999, 2.0), AppendOutcome::OutOfOrder);
        assert_eq!(s.check(1000, 1.0), AppendOutcome::IdenticalDuplicate);
    }

    #[test]
    fn chunks_hold_about_120_samples_at_a_steady_rate() {
        let s = series();
        // 15 s interval from a range start: 480 samples per 2 h range → 4 chunks of 120.
        for i in 0..480 {
            s.append(i * 15_000, i as f64, RANGE);
        }
        let st = s.state.lock();
        let sizes: Vec<u16> = st
            .sealed
            .iter()
            .map(|c| crate::chunk::XorIter::new(&c.bytes).unwrap().len_hint())
            .collect();
        assert_eq!(sizes, vec![120, 120, 120]);
        assert_eq!(st.open.as_ref().unwrap().chunk.num_samples(), 120);
    }

    #[test]
    fn chunks_are_cut_at_the_range_boundary() {
        let s = series();
        s.append(RANGE - 10_000, 1.0, RANGE);
        s.append(RANGE - 1, 1.0, RANGE);
        s.append(RANGE, 1.0, RANGE);
        let st = s.state.lock();
        assert_eq!(st.sealed.len(), 1);
        assert_eq!(st.sealed[0].max_t, RANGE - 1);
        assert_eq!(st.open.as_ref().unwrap().min_t, RANGE);
    }

    #[test]
    fn chunks_never_pass_1024_bytes() {
        let s = series();
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for i in 0..2000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            s.append(i * 1000 + (x % 977) as i64, f64::from_bits(x), RANGE);
        }
        let st = s.state.lock();
        assert!(st.sealed.iter().all(|c| c.bytes.len() <= 1024));
        assert!(st.sealed.len() > 5);
    }

    #[test]
    fn a_restored_chunk_continues_exactly_like_the_original() {
        let a = series();
        for i in 0..100 {
            a.append(i * 15_000 + (i % 3), i as f64, RANGE);
        }
        let bytes = a.state.lock().open.as_ref().unwrap().chunk.bytes().to_vec();
        let b = series();
        assert!(b.restore_chunk(&bytes, RANGE).is_some());
        for i in 100..600 {
            a.append(i * 15_000, i as f64, RANGE);
            b.append(i * 15_000, i as f64, RANGE);
        }
        let (sa, sb) = (a.state.lock(), b.state.lock());
        let cuts = |st: &SeriesState| {
            st.sealed
                .iter()
                .map(|c| (c.min_t, c.max_t, c.bytes.to_vec()))
                .collect::<Vec<_>>()
        };
        assert_eq!(cuts(&sa), cuts(&sb));
        assert_eq!(b.latest.load(), a.latest.load());
        drop((sa, sb));
        assert!(
            b.restore_chunk(&bytes, RANGE).is_none(),
            "an older chunk is not adopted"
        );
    }

    #[test]
    fn latest_slot_tracks_the_newest_sample() {
        let s = series();
        s.append(5, 1.5, RANGE);
        s.append(7, 2.5, RANGE);
        s.append(6, 9.0, RANGE);
        assert_eq!(s.latest.load(), Some((7, 2.5f64.to_bits())));
    }
}
