//! Background work: moving completed chunks to the block store, checkpointing
//! the WAL, rebuilding the index segment, and retention.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::blockstore::ChunkWrite;
use crate::chunk::XorIter;
use crate::db::Inner;
use crate::head::{Head, SealedChunk};
use crate::index::Index;
use crate::stats::Counters;
use crate::wal::{Record, ReplayStats, Wal};
use crate::{Error, SeriesRef};

/// Series per batch when flushing and per record when checkpointing.
const BATCH: usize = 4096;
const CHECKPOINT_SERIES_PER_RECORD: u64 = 256;
const RETENTION_EVERY: Duration = Duration::from_secs(30);
const INDEX_REBUILD_EVERY: Duration = Duration::from_secs(300);

/// When each periodic task last ran.
pub(crate) struct State {
    last_retention: Option<Instant>,
    last_rebuild: Instant,
}

impl Default for State {
    fn default() -> Self {
        State {
            last_retention: None,
            last_rebuild: Instant::now(),
        }
    }
}

/// One maintenance pass. Errors are logged and counted; the next pass retries.
pub(crate) fn run(inner: &Inner) {
    let mut state = inner.maintenance.lock();
    if let Err(e) = flush(inner) {
        tracing::error!(error = %e, "flushing chunks to the block store");
    }
    if inner.wal.segment_count() >= inner.opts.wal_checkpoint_segments {
        if let Err(e) = checkpoint_locked(inner) {
            tracing::error!(error = %e, "checkpointing the WAL");
        }
    }
    let tail = inner.index.tail_len();
    if inner.index.needs_rebuild()
        || tail >= inner.opts.index_tail_limit
        || (tail > 0 && state.last_rebuild.elapsed() >= INDEX_REBUILD_EVERY)
    {
        state.last_rebuild = Instant::now();
        if let Err(e) = rebuild_index_locked(inner) {
            tracing::error!(error = %e, "rebuilding the index segment");
        }
    }
    if state.last_retention.is_none_or(|t| t.elapsed() >= RETENTION_EVERY) {
        state.last_retention = Some(Instant::now());
        if let Err(e) = retention(inner) {
            tracing::error!(error = %e, "applying retention");
        }
    }
}

/// Writes every completed chunk waiting in the head, and the labels of new
/// series, to the block store; then drops those chunks from memory.
pub(crate) fn flush(inner: &Inner) -> Result<(), Error> {
    let head = &inner.head;
    let mut refs = head.take_pending_flush();
    refs.sort_unstable();
    refs.dedup();
    let mut new_series = std::mem::take(&mut *inner.new_series.lock());
    new_series.sort_unstable();
    new_series.dedup();
    let mut new_iter = new_series.chunks(BATCH);
    let mut ref_iter = refs.chunks(BATCH);
    loop {
        let (refs, news) = (ref_iter.next(), new_iter.next());
        if refs.is_none() && news.is_none() {
            return Ok(());
        }
        let refs = refs.unwrap_or(&[]);
        let news = news.unwrap_or(&[]);
        let taken: Vec<(SeriesRef, Vec<SealedChunk>)> = refs
            .iter()
            .filter_map(|&r| {
                let s = head.get(r)?;
                let st = s.state.lock();
                (!st.sealed.is_empty()).then(|| (r, st.sealed.clone()))
            })
            .collect();
        let writes: Vec<ChunkWrite<'_>> = taken
            .iter()
            .flat_map(|(r, cs)| {
                cs.iter().map(move |c| ChunkWrite {
                    r: *r,
                    min_t: c.min_t,
                    max_t: c.max_t,
                    bytes: &c.bytes,
                })
            })
            .collect();
        let labels: Vec<_> = news
            .iter()
            .filter_map(|&r| head.get(r).map(|s| (r, &s.labels)))
            .collect();
        if let Err(e) = inner.blocks.write(&writes, &labels) {
            inner.counters.flush_failures.fetch_add(1, Ordering::Relaxed);
            // Put everything not yet written back for the next pass.
            for &r in refs.iter().chain(ref_iter.flatten()) {
                head.mark_pending_flush(r);
            }
            let mut ns = inner.new_series.lock();
            ns.extend(news.iter().chain(new_iter.flatten()));
            return Err(e.into());
        }
        inner
            .counters
            .chunks_flushed
            .fetch_add(writes.len() as u64, Ordering::Relaxed);
        for (r, cs) in &taken {
            if let Some(s) = head.get(*r) {
                let mut st = s.state.lock();
                // Only the chunks written leave; newer ones were pushed behind them.
                st.sealed.drain(..cs.len());
                if st.sealed.is_empty() {
                    st.sealed = Vec::new();
                }
            }
        }
    }
}

/// Explicit checkpoint (see [`crate::Db::checkpoint`]).
pub(crate) fn checkpoint(inner: &Inner) -> Result<(), Error> {
    let _state = inner.maintenance.lock();
    checkpoint_locked(inner)
}

/// Replaces all closed WAL segments by a snapshot of the head: every series'
/// labels and the samples of its chunks not yet in the block store.
fn checkpoint_locked(inner: &Inner) -> Result<(), Error> {
    let head = &inner.head;
    // A series idle for a whole chunk range will cut its chunk at its next
    // sample anyway; sealing it now moves its data to the block store and
    // keeps it out of the checkpoint.
    if let Some(hmax) = head.max_time() {
        head.for_each(|s| {
            let mut st = s.state.lock();
            let idle = st
                .open
                .as_ref()
                .is_some_and(|o| o.chunk.last_t() < hmax - head.chunk_range);
            if idle && st.seal_open() {
                head.mark_pending_flush(s.r);
            }
        });
    }
    // Commits in flight finish applying to the head before the cut; later
    // ones log to the new segment, which the checkpoint does not cover.
    let upto = {
        let _no_commit_in_flight = inner.commit_gate.write();
        inner.wal.cut_segment()?
    };
    flush(inner)?;
    let result = inner.wal.checkpoint(upto, checkpoint_records(head));
    match &result {
        Ok(()) => inner.counters.checkpoints.fetch_add(1, Ordering::Relaxed),
        Err(_) => inner.counters.checkpoint_failures.fetch_add(1, Ordering::Relaxed),
    };
    Ok(result?)
}

/// Records describing the head, produced lazily in batches of series.
fn checkpoint_records(head: &Head) -> impl Iterator<Item = Record> + '_ {
    let end = head.next_ref().0;
    (0..end)
        .step_by(CHECKPOINT_SERIES_PER_RECORD as usize)
        .flat_map(move |start| {
            let mut series = Vec::new();
            let mut chunks = Vec::new();
            for r in start..(start + CHECKPOINT_SERIES_PER_RECORD).min(end) {
                let Some(s) = head.get(SeriesRef(r)) else { continue };
                series.push((s.r, s.labels.clone()));
                let st = s.state.lock();
                for c in &st.sealed {
                    chunks.push(Record::HeadChunk {
                        r: s.r,
                        chunk: c.bytes.to_vec(),
                    });
                }
                if let Some(o) = &st.open {
                    if o.chunk.num_samples() > 0 {
                        chunks.push(Record::HeadChunk {
                            r: s.r,
                            chunk: o.chunk.bytes().to_vec(),
                        });
                    }
                }
            }
            let mut recs = Vec::with_capacity(chunks.len() + 1);
            if !series.is_empty() {
                recs.push(Record::Commit {
                    series,
                    samples: Vec::new(),
                });
            }
            recs.extend(chunks);
            recs
        })
}

/// Explicit index rebuild (see [`crate::Db::rebuild_index`]).
pub(crate) fn rebuild_index(inner: &Inner) -> Result<(), Error> {
    let _state = inner.maintenance.lock();
    rebuild_index_locked(inner)
}

fn rebuild_index_locked(inner: &Inner) -> Result<(), Error> {
    let r = inner.index.rebuild(|_| false);
    match &r {
        Ok(()) => inner.counters.index_rebuilds.fetch_add(1, Ordering::Relaxed),
        Err(_) => inner.counters.index_rebuild_failures.fetch_add(1, Ordering::Relaxed),
    };
    Ok(r?)
}

/// Drops whole blocks older than the retention time, then the oldest blocks
/// while the store is over the retention size (never the newest two blocks).
fn retention(inner: &Inner) -> Result<(), Error> {
    let Some(hmax) = inner.head.max_time() else {
        return Ok(());
    };
    let blocks = &inner.blocks;
    let range = inner.opts.block_range;
    if let Some(rt) = inner.opts.retention_time {
        let cutoff = blocks.block_start(hmax.saturating_sub(rt));
        if blocks.oldest_block()?.is_some_and(|b| b < cutoff) {
            tracing::info!(
                before = cutoff,
                "retention: dropping blocks older than the retention time"
            );
            blocks.delete_blocks_before(cutoff)?;
            inner.counters.retention_deletions.fetch_add(1, Ordering::Relaxed);
        }
    }
    if let Some(limit) = inner.opts.retention_size {
        let keep_from = blocks.block_start(hmax) - range;
        while blocks.size_bytes() + inner.wal.size_bytes() > limit {
            let Some(oldest) = blocks.oldest_block()? else { break };
            if oldest >= keep_from {
                break;
            }
            tracing::info!(
                block = oldest,
                limit,
                "retention: store over its size limit, dropping the oldest block"
            );
            blocks.delete_blocks_before(oldest + range)?;
            blocks.flush()?;
            inner.counters.retention_deletions.fetch_add(1, Ordering::Relaxed);
        }
    }
    Ok(())
}

/// Replays the WAL into the head (and new series into the index).
pub(crate) fn replay_wal(dir: &Path, head: &Head, index: &Index, counters: &Counters) -> Result<ReplayStats, Error> {
    // WAL refs of label sets the head already had under another ref.
    let mut remap: HashMap<SeriesRef, SeriesRef> = HashMap::new();
    // Samples whose series record comes later in the log: a concurrent
    // appender that created the series had not logged it yet.
    let mut early: HashMap<SeriesRef, Vec<(i64, f64)>> = HashMap::new();
    let apply = |s: &crate::head::MemSeries, t: i64, v: f64| {
        if let crate::head::AppendOutcome::Appended { .. } = head.append(s, t, v) {
            head.update_bounds(t, t);
        }
    };
    let append = |r: SeriesRef,
                  t: i64,
                  v: f64,
                  remap: &HashMap<SeriesRef, SeriesRef>,
                  early: &mut HashMap<SeriesRef, Vec<(i64, f64)>>| {
        let r = remap.get(&r).copied().unwrap_or(r);
        match head.get(r) {
            Some(s) => apply(s, t, v),
            None => early.entry(r).or_default().push((t, v)),
        }
    };
    let stats = Wal::replay(dir, |rec| match rec {
        Record::Commit { series, samples } => {
            for (r, l) in series {
                let (got, created) = head.get_or_create(&l, Some(r));
                if got != r {
                    remap.insert(r, got);
                } else if created {
                    // Ignored by the index when it already has this ref.
                    index.add(r, l);
                }
                if let Some(pending) = early.remove(&r) {
                    let s = head.get(got).expect("just created");
                    for (t, v) in pending {
                        apply(s, t, v);
                    }
                }
            }
            for s in samples {
                append(s.r, s.t, s.v, &remap, &mut early);
            }
        }
        Record::HeadChunk { r, chunk } => {
            let r = remap.get(&r).copied().unwrap_or(r);
            let Some(s) = head.get(r) else {
                counters.wal_replay_unknown_series.fetch_add(1, Ordering::Relaxed);
                return;
            };
            if let Some((min_t, max_t, sealed)) = s.restore_chunk(&chunk, head.chunk_range) {
                head.update_bounds(min_t, max_t);
                if sealed {
                    head.mark_pending_flush(r);
                }
                return;
            }
            // Overlaps what the series has, or does not decode cleanly:
            // append what can be read, sample by sample.
            match XorIter::new(&chunk) {
                Ok(mut it) => {
                    for (t, v) in it.by_ref() {
                        append(r, t, v, &remap, &mut early);
                    }
                    if let Some(e) = it.err() {
                        tracing::warn!(series = r.0, error = %e, "checkpoint chunk is corrupt; kept its readable samples");
                        counters.wal_replay_corrupt.fetch_add(1, Ordering::Relaxed);
                    }
                }
                Err(e) => {
                    tracing::warn!(series = r.0, error = %e, "checkpoint chunk is corrupt; skipped");
                    counters.wal_replay_corrupt.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    })?;
    let unknown: usize = early.values().map(Vec::len).sum();
    if unknown > 0 {
        tracing::warn!(
            samples = unknown,
            series = early.len(),
            "WAL replay: samples of series the log never names were dropped"
        );
        counters
            .wal_replay_unknown_series
            .fetch_add(unknown as u64, Ordering::Relaxed);
    }
    counters
        .wal_replay_corrupt
        .fetch_add(stats.corrupt_records_skipped, Ordering::Relaxed);
    Ok(stats)
}
