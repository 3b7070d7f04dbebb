//! The log as the head uses it: appending records, syncing, cutting
//! segments, checkpointing.
//!
//! Concurrency: a record is encoded and compressed in the calling thread's
//! own buffers, outside any lock; the lock is held only for the `write(2)` of
//! the finished frame (and, once per segment, for rotation). An `fsync`
//! never holds it: syncs run on a clone of the file handle, and callers
//! waiting for one share it (group commit).

use super::dir::{self, segment_name, sync_dir};
use super::record::{self, RefSample};
use super::replay::{self, ReplayStats};
use super::segment::{self, encode_frame};
use super::{checkpoint, Record, WalError};
use crate::{Labels, SeriesRef};
use parking_lot::{Condvar, Mutex, MutexGuard};
use std::borrow::Borrow;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// How the log writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WalOptions {
    /// A new segment is started before a record would take the current one
    /// past this size. A single larger record gets a segment of its own.
    pub segment_size: u64,
    /// Longest time a logged record may wait for `fsync`, i.e. what a power
    /// loss can take. Zero: every [`Wal::log`] fsyncs before returning.
    pub sync_interval: Duration,
}

impl Default for WalOptions {
    fn default() -> Self {
        WalOptions {
            segment_size: 128 << 20,
            sync_interval: Duration::from_secs(1),
        }
    }
}

/// An open write-ahead log. `Send + Sync`; share it by reference or `Arc`.
///
/// Dropping it stops the background syncer and fsyncs what is left.
pub(crate) struct Wal {
    shared: Arc<Shared>,
    syncer: Option<JoinHandle<()>>,
}

struct Shared {
    dir: PathBuf,
    opts: WalOptions,
    inner: Mutex<Inner>,
    /// Serializes fsyncs so that waiters find their record already synced
    /// by the one ahead of them. Taken before `inner`, never after.
    sync_lock: Mutex<()>,
    /// Serializes checkpoints. Taken before `inner`, never after.
    checkpoint_lock: Mutex<()>,
    stop: Mutex<bool>,
    stop_cv: Condvar,
}

struct Inner {
    /// The segment being appended to; shared with syncs in flight.
    file: Arc<File>,
    index: u64,
    size: u64,
    /// Closed segments still on disk: index → bytes.
    closed: BTreeMap<u64, u64>,
    /// The newest checkpoint: index, bytes.
    checkpoint: Option<(u64, u64)>,
    /// Records written / known durable, counted since open.
    written: u64,
    synced: u64,
    /// A write failed part-way, leaving a torn frame at the end of the
    /// segment; the next record must go to a fresh one.
    cut_before_next: bool,
    poisoned: Option<String>,
}

/// Per-thread encode buffers, so concurrent appenders compress in parallel
/// and no commit allocates once the buffers have grown.
struct EncodeBufs {
    enc: snap::raw::Encoder,
    payload: Vec<u8>,
    frame: Vec<u8>,
}

thread_local! {
    static BUFS: RefCell<EncodeBufs> = RefCell::new(EncodeBufs {
        enc: snap::raw::Encoder::new(),
        payload: Vec::new(),
        frame: Vec::new(),
    });
}

/// Buffers above this are released after use: one huge commit should not pin
/// its memory in every thread that ever logged.
const MAX_KEPT_BUFFER: usize = 4 << 20;

impl Wal {
    /// Opens (creates) `dir` for appending: starts a new segment after the
    /// highest existing one, never appending to an old, possibly torn one.
    /// Finishes what a crash interrupted: removes half-written checkpoints and
    /// repairs, and segments and checkpoints the newest checkpoint replaces.
    /// Call [`Wal::replay`] first; a log opened without replay is still valid.
    pub(crate) fn open(dir: &Path, opts: WalOptions) -> Result<Wal, WalError> {
        fs::create_dir_all(dir).map_err(|e| WalError::io(dir, "create directory", e))?;
        if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            sync_dir(parent)?;
        }
        let listing = dir::list(dir)?;
        for p in &listing.leftovers {
            let r = if p.is_dir() {
                fs::remove_dir_all(p)
            } else {
                fs::remove_file(p)
            };
            r.map_err(|e| WalError::io(p, "remove leftover", e))?;
        }
        let mut checkpoint = None;
        if let Some((n, path)) = listing.checkpoints.last() {
            checkpoint = Some((*n, dir::files_size(path)?));
        }
        let covered = checkpoint.map_or(0, |(n, _)| n);
        remove_covered(dir, covered, &listing)?;

        let mut closed = BTreeMap::new();
        for (i, path) in listing.segments.iter().filter(|(i, _)| *i > covered) {
            let md = fs::metadata(path).map_err(|e| WalError::io(path, "stat", e))?;
            closed.insert(*i, md.len());
        }
        let last = listing.segments.last().map_or(0, |(i, _)| *i);
        let index = last.max(covered) + 1;
        let file = segment::create(&dir.join(segment_name(index)))?;

        let shared = Arc::new(Shared {
            dir: dir.to_owned(),
            opts,
            inner: Mutex::new(Inner {
                file: Arc::new(file),
                index,
                size: segment::HEADER_LEN as u64,
                closed,
                checkpoint,
                written: 0,
                synced: 0,
                cut_before_next: false,
                poisoned: None,
            }),
            sync_lock: Mutex::new(()),
            checkpoint_lock: Mutex::new(()),
            stop: Mutex::new(false),
            stop_cv: Condvar::new(),
        });
        let syncer = if shared.opts.sync_interval.is_zero() {
            None
        } else {
            let s = shared.clone();
            let h = std::thread::Builder::new()
                .name("strata-wal-sync".into())
                .spawn(move || s.sync_periodically())
                .map_err(|e| WalError::io(dir, "start sync thread", e))?;
            Some(h)
        };
        Ok(Wal { shared, syncer })
    }

    /// Replays the newest complete checkpoint, then every segment after it,
    /// in order, calling `visit` for each intact record. Needs no open `Wal`
    /// and must not run while one is open on `dir`: damaged files are moved
    /// aside (see the module docs of `replay` for the rules). A missing `dir`
    /// replays nothing.
    pub(crate) fn replay(dir: &Path, visit: impl FnMut(Record)) -> Result<ReplayStats, WalError> {
        replay::replay(dir, visit)
    }

    /// Encodes, compresses and writes one record; returns once it is in the
    /// file (a process crash cannot lose it). With a zero `sync_interval` it
    /// is also fsynced; otherwise the background syncer does that within
    /// the interval. Starts a new segment first if this one is full.
    #[cfg(test)]
    pub(crate) fn log(&self, rec: &Record) -> Result<(), WalError> {
        self.log_with(|out| record::encode(rec, out))
    }

    /// [`Wal::log`] of a [`Record::Commit`] built from borrowed parts, for
    /// the appender's commit path: the appender keeps its own buffers (labels
    /// owned or borrowed) and never builds a `Record`; once the thread's
    /// encode buffers have grown, nothing is allocated per call.
    pub(crate) fn log_commit<L: Borrow<Labels>>(
        &self,
        series: &[(SeriesRef, L)],
        samples: &[RefSample],
    ) -> Result<(), WalError> {
        self.log_with(|out| {
            let series = series.iter().map(|(r, l)| (*r, l.borrow()));
            record::encode_commit(series, samples, out)
        })
    }

    fn log_with(&self, encode: impl FnOnce(&mut Vec<u8>)) -> Result<(), WalError> {
        let seq = BUFS.with(|b| {
            let mut b = b.borrow_mut();
            let EncodeBufs { enc, payload, frame } = &mut *b;
            payload.clear();
            encode(payload);
            let r = encode_frame(enc, payload, frame).and_then(|()| self.shared.append(frame));
            for buf in [payload, frame] {
                if buf.capacity() > MAX_KEPT_BUFFER {
                    *buf = Vec::new();
                }
            }
            r
        })?;
        if self.shared.opts.sync_interval.is_zero() {
            self.shared.sync_to(seq)?;
        }
        Ok(())
    }

    /// Fsyncs every record logged so far.
    pub(crate) fn sync(&self) -> Result<(), WalError> {
        let seq = self.shared.inner.lock().written;
        self.shared.sync_to(seq)
    }

    /// Fsyncs and closes the current segment and starts a new one; returns
    /// the index of the segment just closed (what a checkpoint may now cover).
    pub(crate) fn cut_segment(&self) -> Result<u64, WalError> {
        let mut inner = self.shared.inner.lock();
        inner.check_poisoned(&self.shared.dir)?;
        self.shared.rotate(&mut inner)
    }

    /// Writes a checkpoint covering all segments ≤ `upto` from `records` (the
    /// head's state: series and open chunks), then deletes those segments and
    /// older checkpoints. `upto` must be a closed segment (see
    /// [`Wal::cut_segment`]) newer than the existing checkpoint. Appends go on
    /// meanwhile.
    pub(crate) fn checkpoint(&self, upto: u64, records: impl Iterator<Item = Record>) -> Result<(), WalError> {
        let s = &*self.shared;
        let _one_at_a_time = s.checkpoint_lock.lock();
        {
            let inner = s.inner.lock();
            if upto >= inner.index {
                return Err(WalError::CheckpointCoversLiveSegment {
                    upto,
                    live: inner.index,
                });
            }
            if let Some((newest, _)) = inner.checkpoint.filter(|(n, _)| upto <= *n) {
                return Err(WalError::CheckpointNotNewer { upto, newest });
            }
        }
        let (_, bytes) = checkpoint::write(&s.dir, upto, s.opts.segment_size, records)?;
        {
            let mut inner = s.inner.lock();
            inner.checkpoint = Some((upto, bytes));
            inner.closed.retain(|i, _| *i > upto);
        }
        tracing::debug!(dir = %s.dir.display(), upto, bytes, "WAL checkpoint written");
        remove_covered(&s.dir, upto, &dir::list(&s.dir)?)
    }

    /// Bytes of all segment and checkpoint files.
    pub(crate) fn size_bytes(&self) -> u64 {
        let inner = self.shared.inner.lock();
        inner.size + inner.closed.values().sum::<u64>() + inner.checkpoint.map_or(0, |(_, b)| b)
    }

    /// Number of segment files, the one being written included (checkpoint files not).
    pub(crate) fn segment_count(&self) -> usize {
        self.shared.inner.lock().closed.len() + 1
    }

    /// Index of the segment being written.
    #[cfg(test)]
    pub(crate) fn current_segment(&self) -> u64 {
        self.shared.inner.lock().index
    }
}

impl Drop for Wal {
    fn drop(&mut self) {
        *self.shared.stop.lock() = true;
        self.shared.stop_cv.notify_all();
        if let Some(h) = self.syncer.take() {
            let _ = h.join();
        }
        if let Err(e) = self.sync() {
            tracing::error!("final WAL sync failed: {e}");
        }
    }
}

impl Shared {
    /// Writes one frame with a single `write_all`; returns its sequence number.
    fn append(&self, frame: &[u8]) -> Result<u64, WalError> {
        let mut inner = self.inner.lock();
        inner.check_poisoned(&self.dir)?;
        let full = inner.size > segment::HEADER_LEN as u64 && inner.size + frame.len() as u64 > self.opts.segment_size;
        if inner.cut_before_next || full {
            self.rotate(&mut inner)?;
        }
        if let Err(e) = (&*inner.file).write_all(frame) {
            inner.cut_before_next = true;
            return Err(WalError::io(self.segment_path(inner.index), "write", e));
        }
        inner.size += frame.len() as u64;
        inner.written += 1;
        Ok(inner.written)
    }

    /// Closes the current segment (fsynced) and creates the next.
    fn rotate(&self, inner: &mut MutexGuard<'_, Inner>) -> Result<u64, WalError> {
        let old = inner.index;
        if let Err(e) = inner.file.sync_data() {
            let err = WalError::io(self.segment_path(old), "fsync", e);
            inner.poisoned = Some(err.to_string());
            return Err(err);
        }
        inner.synced = inner.written;
        let file = segment::create(&self.segment_path(old + 1))?;
        let old_size = inner.size;
        inner.closed.insert(old, old_size);
        inner.file = Arc::new(file);
        inner.index = old + 1;
        inner.size = segment::HEADER_LEN as u64;
        inner.cut_before_next = false;
        Ok(old)
    }

    /// Returns once record `seq` is durable, fsyncing if nobody has yet.
    fn sync_to(&self, seq: u64) -> Result<(), WalError> {
        let _waiters_share = self.sync_lock.lock();
        let (file, index, target) = {
            let inner = self.inner.lock();
            inner.check_poisoned(&self.dir)?;
            if inner.synced >= seq {
                return Ok(());
            }
            // Everything written before the current segment was synced when
            // it was closed, so syncing this file covers all of `written`.
            (inner.file.clone(), inner.index, inner.written)
        };
        let r = file.sync_data();
        let mut inner = self.inner.lock();
        match r {
            Ok(()) => {
                inner.synced = inner.synced.max(target);
                Ok(())
            }
            Err(e) => {
                let err = WalError::io(self.segment_path(index), "fsync", e);
                inner.poisoned = Some(err.to_string());
                Err(err)
            }
        }
    }

    /// Body of the background syncer: every interval, fsync what is unsynced.
    fn sync_periodically(&self) {
        let mut stop = self.stop.lock();
        while !*stop {
            self.stop_cv.wait_for(&mut stop, self.opts.sync_interval);
            if *stop {
                break;
            }
            MutexGuard::unlocked(&mut stop, || {
                let seq = self.inner.lock().written;
                if let Err(e) = self.sync_to(seq) {
                    tracing::error!("WAL sync failed: {e}");
                }
            });
        }
    }

    fn segment_path(&self, i: u64) -> PathBuf {
        self.dir.join(segment_name(i))
    }
}

impl Inner {
    fn check_poisoned(&self, dir: &Path) -> Result<(), WalError> {
        match &self.poisoned {
            None => Ok(()),
            Some(cause) => Err(WalError::Poisoned {
                path: dir.join(segment_name(self.index)),
                cause: cause.clone(),
            }),
        }
    }
}

/// Deletes segments ≤ `upto` and checkpoints older than `upto`: the newest
/// checkpoint holds their state. Tries every file; reports the first failure.
fn remove_covered(dir: &Path, upto: u64, listing: &dir::Listing) -> Result<(), WalError> {
    let mut first_err = None;
    let segs = listing.segments.iter().filter(|(i, _)| *i <= upto);
    for (_, p) in segs {
        if let Err(e) = fs::remove_file(p) {
            first_err.get_or_insert(WalError::io(p, "remove covered segment", e));
        }
    }
    for (_, p) in listing.checkpoints.iter().filter(|(i, _)| *i < upto) {
        if let Err(e) = fs::remove_dir_all(p) {
            first_err.get_or_insert(WalError::io(p, "remove old checkpoint", e));
        }
    }
    if let Err(e) = sync_dir(dir) {
        first_err.get_or_insert(e);
    }
    first_err.map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn commit() -> Record {
        Record::Commit {
            series: vec![],
            samples: vec![RefSample {
                r: SeriesRef(1),
                t: 1,
                v: 1.0,
            }],
        }
    }

    fn counts(wal: &Wal) -> (u64, u64) {
        let i = wal.shared.inner.lock();
        (i.written, i.synced)
    }

    #[test]
    fn zero_interval_syncs_before_log_returns() {
        let d = tempfile::tempdir().unwrap();
        let wal = Wal::open(
            d.path(),
            WalOptions {
                sync_interval: Duration::ZERO,
                ..WalOptions::default()
            },
        )
        .unwrap();
        assert!(wal.syncer.is_none());
        for n in 1..=3 {
            wal.log(&commit()).unwrap();
            assert_eq!(counts(&wal), (n, n));
        }
    }

    #[test]
    fn background_syncer_syncs_within_the_interval() {
        let d = tempfile::tempdir().unwrap();
        let wal = Wal::open(
            d.path(),
            WalOptions {
                sync_interval: Duration::from_millis(20),
                ..WalOptions::default()
            },
        )
        .unwrap();
        wal.log(&commit()).unwrap();
        let start = Instant::now();
        while counts(&wal).1 < 1 {
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "record still unsynced after {:?}",
                start.elapsed()
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn explicit_sync_covers_everything_logged() {
        let d = tempfile::tempdir().unwrap();
        let wal = Wal::open(d.path(), WalOptions::default()).unwrap();
        wal.log(&commit()).unwrap();
        wal.log(&commit()).unwrap();
        wal.sync().unwrap();
        assert_eq!(counts(&wal), (2, 2));
    }

    #[test]
    fn record_after_a_failed_write_goes_to_a_fresh_segment() {
        let d = tempfile::tempdir().unwrap();
        let wal = Wal::open(d.path(), WalOptions::default()).unwrap();
        wal.log(&commit()).unwrap();
        // What a write(2) failing part-way leaves behind.
        wal.shared.inner.lock().cut_before_next = true;
        wal.log(&commit()).unwrap();
        assert_eq!(wal.current_segment(), 2);
        assert_eq!(wal.segment_count(), 2);
    }

    #[test]
    fn failed_fsync_refuses_further_records() {
        let d = tempfile::tempdir().unwrap();
        let wal = Wal::open(d.path(), WalOptions::default()).unwrap();
        wal.shared.inner.lock().poisoned = Some("fsync: EIO".into());
        for r in [wal.log(&commit()), wal.sync(), wal.cut_segment().map(|_| ())] {
            match r {
                Err(WalError::Poisoned { path, cause }) => {
                    assert_eq!(path, d.path().join("00000001"));
                    assert_eq!(cause, "fsync: EIO");
                }
                r => panic!("expected Poisoned, got {r:?}"),
            }
        }
    }
}
