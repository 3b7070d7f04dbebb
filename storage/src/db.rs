//! Opening, closing and reading the database as a whole.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::{Condvar, Mutex};

use crate::appender::Appender;
use crate::blockstore::BlockStore;
use crate::head::Head;
use crate::index::Index;
use crate::latest::Latest;
use crate::querier::Querier;
use crate::stats::{Counters, Stats};
use crate::wal::{Wal, WalOptions};
use crate::{Error, Matcher, SeriesRef, Timestamp};

/// Version of the data directory layout; written to `FORMAT`.
pub const FORMAT_VERSION: u32 = 1;
const FORMAT_FILE: &str = "FORMAT";
const FORMAT_MAGIC: &str = "strata-tsdb";

/// Tuning and retention of a [`Db`].
#[derive(Debug, Clone)]
pub struct Options {
    /// Drop blocks whose end is older than the newest sample minus this (ms). `None` keeps all.
    pub retention_time: Option<i64>,
    /// Drop the oldest blocks while the store is bigger than this (bytes).
    pub retention_size: Option<u64>,
    /// WAL segment size.
    pub wal_segment_size: u64,
    /// How often the WAL is fsynced; zero syncs every commit.
    pub wal_sync_interval: Duration,
    /// Checkpoint the WAL once it has this many segments.
    pub wal_checkpoint_segments: usize,
    /// Width of a block and of a chunk range (ms); Prometheus uses 2 h.
    pub block_range: i64,
    /// Rebuild the index segment once its tail holds this many series.
    pub index_tail_limit: usize,
    /// Period of the background maintenance (flush, checkpoint, index, retention).
    /// `None` runs no background thread; call [`Db::maintain`] yourself.
    pub maintenance_interval: Option<Duration>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            retention_time: Some(15 * 24 * 3600 * 1000),
            retention_size: None,
            wal_segment_size: 128 << 20,
            wal_sync_interval: Duration::from_secs(1),
            wal_checkpoint_segments: 4,
            block_range: 2 * 3600 * 1000,
            index_tail_limit: 50_000,
            maintenance_interval: Some(Duration::from_secs(1)),
        }
    }
}

/// Shared state behind [`Db`], [`Appender`] and [`Querier`].
pub(crate) struct Inner {
    pub(crate) dir: PathBuf,
    pub(crate) opts: Options,
    pub(crate) head: Head,
    pub(crate) wal: Wal,
    pub(crate) blocks: BlockStore,
    pub(crate) index: Index,
    /// Series created since the last flush, to be written to the series column family.
    pub(crate) new_series: Mutex<Vec<SeriesRef>>,
    /// Held shared by a commit from its WAL write until its samples are in
    /// the head, and exclusively by a checkpoint while it cuts the segment:
    /// so every record in a segment a checkpoint covers is in the head
    /// snapshot that replaces it.
    pub(crate) commit_gate: parking_lot::RwLock<()>,
    pub(crate) counters: Counters,
    /// Serialises maintenance passes (background thread and explicit calls).
    pub(crate) maintenance: Mutex<crate::maintenance::State>,
    _lock: File,
}

/// An open database. Cheap to share behind an `Arc`; all methods take `&self`.
pub struct Db {
    pub(crate) inner: Arc<Inner>,
    stop: Arc<(Mutex<bool>, Condvar)>,
    worker: Option<std::thread::JoinHandle<()>>,
    closed: bool,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Reads or writes the `FORMAT` file, refusing a newer layout.
fn check_format(dir: &Path) -> Result<(), Error> {
    let path = dir.join(FORMAT_FILE);
    match std::fs::read_to_string(&path) {
        Ok(s) => {
            let bad = |reason: &str| Error::BadFormatFile {
                path: path.clone(),
                reason: reason.to_string(),
            };
            let mut words = s.split_whitespace();
            if words.next() != Some(FORMAT_MAGIC) {
                return Err(bad("does not start with \"strata-tsdb\""));
            }
            let found: u32 = words
                .next()
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| bad("no version number"))?;
            if found > FORMAT_VERSION {
                return Err(Error::FormatTooNew {
                    path,
                    found,
                    supported: FORMAT_VERSION,
                });
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::write(&path, format!("{FORMAT_MAGIC} {FORMAT_VERSION}\n")).map_err(io(&path))
        }
        Err(e) => Err(io(&path)(e)),
    }
}

impl Db {
    /// Opens (creating if needed) the database in `dir`: checks the format
    /// version, opens the block store and index, replays the WAL into the head
    /// and starts background maintenance.
    pub fn open(dir: impl AsRef<Path>, opts: Options) -> Result<Db, Error> {
        let dir = dir.as_ref().to_path_buf();
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let lock_path = dir.join("lock");
        let lock = File::create(&lock_path).map_err(io(&lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => return Err(Error::Locked { path: dir }),
            Err(std::fs::TryLockError::Error(e)) => return Err(io(&lock_path)(e)),
        }
        check_format(&dir)?;
        let blocks = BlockStore::open(&dir.join("blocks"), opts.block_range)?;
        let index = Index::open(&dir.join("index"))?;
        let head = Head::new(opts.block_range);
        if let Some(r) = blocks.max_series_ref()? {
            head.reserve_refs_up_to(r);
        }
        let counters = Counters::default();
        let wal_dir = dir.join("wal");
        let replay = crate::maintenance::replay_wal(&wal_dir, &head, &index, &counters)?;
        tracing::info!(
            records = replay.records,
            series = head.num_series(),
            corrupt = replay.corrupt_records_skipped,
            "WAL replayed"
        );
        let persisted = blocks.max_series_ref()?.map_or(0, |r| r.0);
        let mut new_series = Vec::new();
        head.for_each(|s| {
            if s.r.0 > persisted {
                new_series.push(s.r);
            }
        });
        // Series the block store knows that the index has not caught up with
        // (a crash between flush and index rebuild), or all of them if the
        // index segment was unreadable and has been moved aside.
        let rebuild = index.needs_rebuild();
        for (r, l) in blocks.all_series_after(if rebuild { None } else { index.max_segment_ref() })? {
            index.add(r, l);
        }
        if rebuild {
            head.for_each(|s| index.add(s.r, s.labels.clone()));
            index.rebuild(|_| false)?;
        }
        let wal = Wal::open(
            &wal_dir,
            WalOptions {
                segment_size: opts.wal_segment_size,
                sync_interval: opts.wal_sync_interval,
            },
        )?;
        let interval = opts.maintenance_interval;
        let inner = Arc::new(Inner {
            dir,
            opts,
            head,
            wal,
            blocks,
            index,
            new_series: Mutex::new(new_series),
            commit_gate: parking_lot::RwLock::new(()),
            counters,
            maintenance: Mutex::new(crate::maintenance::State::default()),
            _lock: lock,
        });
        if replay.corrupt_records_skipped > 0 || replay.segments_moved_aside > 0 {
            // What was readable now lives only in the head: checkpoint it so a
            // crash before the next checkpoint does not lose it too.
            tracing::warn!("the WAL had damaged records; checkpointing what was recovered");
            crate::maintenance::checkpoint(&inner)?;
        }
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let worker = interval.map(|every| {
            let inner = inner.clone();
            let stop = stop.clone();
            std::thread::Builder::new()
                .name("strata-tsdb-maint".into())
                .spawn(move || loop {
                    {
                        let mut stopped = stop.0.lock();
                        if !*stopped {
                            stop.1.wait_for(&mut stopped, every);
                        }
                        if *stopped {
                            return;
                        }
                    }
                    crate::maintenance::run(&inner);
                })
                .expect("spawning a thread")
        });
        Ok(Db {
            inner,
            stop,
            worker,
            closed: false,
        })
    }

    /// A new batch of samples.
    pub fn appender(&self) -> Appender {
        Appender::new(self.inner.clone())
    }

    /// Reads samples with timestamps in `[mint, maxt]`.
    pub fn querier(&self, mint: Timestamp, maxt: Timestamp) -> Querier {
        Querier {
            inner: self.inner.clone(),
            mint,
            maxt,
        }
    }

    /// The newest sample of every series matching `matchers` whose newest
    /// sample lies in `[mint, maxt]`, in label order. Reads one slot per series;
    /// no chunk is decoded unless a series has samples newer than `maxt`.
    pub fn latest(&self, matchers: &[Matcher], mint: Timestamp, maxt: Timestamp) -> Result<Latest, Error> {
        Ok(Latest::new(
            self.inner.clone(),
            self.inner.index.select(matchers),
            mint,
            maxt,
        ))
    }

    /// Label names of the series matching `matchers` (all series when empty), sorted.
    pub fn label_names(&self, matchers: &[Matcher]) -> Vec<String> {
        self.inner.index.label_names(matchers)
    }

    /// Values of label `name` among the series matching `matchers`, sorted.
    pub fn label_values(&self, name: &str, matchers: &[Matcher]) -> Vec<String> {
        self.inner.index.label_values(name, matchers)
    }

    /// Runs one maintenance pass now: flush completed chunks, checkpoint the
    /// WAL if due, rebuild the index if its tail is large, apply retention.
    pub fn maintain(&self) {
        crate::maintenance::run(&self.inner);
    }

    /// Flushes completed chunks and checkpoints the WAL now, whatever its size.
    pub fn checkpoint(&self) -> Result<(), Error> {
        crate::maintenance::checkpoint(&self.inner)
    }

    /// Rebuilds the index segment from the segment and its tail now.
    pub fn rebuild_index(&self) -> Result<(), Error> {
        crate::maintenance::rebuild_index(&self.inner)
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// Current figures.
    pub fn stats(&self) -> Stats {
        let i = &self.inner;
        let c = &i.counters;
        let l = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
        Stats {
            head_series: i.head.num_series(),
            head_min_time: i.head.min_time(),
            head_max_time: i.head.max_time(),
            head_interned_strings: i.head.interned_strings() as u64,
            samples_appended_total: l(&c.samples_appended),
            out_of_order_samples_total: l(&c.out_of_order),
            duplicate_samples_total: l(&c.duplicate),
            out_of_bounds_samples_total: l(&c.out_of_bounds),
            commits_total: l(&c.commits),
            chunks_flushed_total: l(&c.chunks_flushed),
            flush_failures_total: l(&c.flush_failures),
            checkpoints_total: l(&c.checkpoints),
            checkpoint_failures_total: l(&c.checkpoint_failures),
            index_rebuilds_total: l(&c.index_rebuilds),
            index_rebuild_failures_total: l(&c.index_rebuild_failures),
            retention_deletions_total: l(&c.retention_deletions),
            wal_corrupt_records_total: l(&c.wal_replay_corrupt),
            wal_replay_unknown_series_total: l(&c.wal_replay_unknown_series),
            wal_bytes: i.wal.size_bytes(),
            wal_segments: i.wal.segment_count() as u64,
            block_store_bytes: i.blocks.size_bytes(),
            block_store_chunks: i.blocks.estimated_chunks(),
            index_series: i.index.len() as u64,
            index_tail_series: i.index.tail_len() as u64,
            index_segment_bytes: i.index.segment_bytes(),
        }
    }

    /// Stops maintenance, flushes completed chunks and syncs the WAL.
    pub fn close(mut self) -> Result<(), Error> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> Result<(), Error> {
        self.closed = true;
        *self.stop.0.lock() = true;
        self.stop.1.notify_all();
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
        crate::maintenance::flush(&self.inner)?;
        self.inner.wal.sync()?;
        self.inner.blocks.flush()?;
        Ok(())
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        if !self.closed {
            if let Err(e) = self.shutdown() {
                tracing::error!(error = %e, "closing the database");
            }
        }
    }
}
