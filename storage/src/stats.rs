//! Figures about the database, for `/metrics` and the status API.

use std::sync::atomic::AtomicU64;

use crate::Timestamp;

/// Monotonic counters kept by the database.
#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) samples_appended: AtomicU64,
    pub(crate) out_of_order: AtomicU64,
    pub(crate) duplicate: AtomicU64,
    pub(crate) out_of_bounds: AtomicU64,
    pub(crate) commits: AtomicU64,
    pub(crate) chunks_flushed: AtomicU64,
    pub(crate) flush_failures: AtomicU64,
    pub(crate) checkpoints: AtomicU64,
    pub(crate) checkpoint_failures: AtomicU64,
    pub(crate) index_rebuilds: AtomicU64,
    pub(crate) index_rebuild_failures: AtomicU64,
    pub(crate) retention_deletions: AtomicU64,
    pub(crate) wal_replay_corrupt: AtomicU64,
    pub(crate) wal_replay_unknown_series: AtomicU64,
}

/// A snapshot of the database's figures.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stats {
    /// Series in the head.
    pub head_series: u64,
    /// Oldest and newest sample time in the head.
    pub head_min_time: Option<Timestamp>,
    /// Newest sample time in the head.
    pub head_max_time: Option<Timestamp>,
    /// Distinct label strings held by the head.
    pub head_interned_strings: u64,
    /// Samples that entered the head since open.
    pub samples_appended_total: u64,
    /// Samples refused as out of order.
    pub out_of_order_samples_total: u64,
    /// Samples refused as duplicates (same time, different value).
    pub duplicate_samples_total: u64,
    /// Samples refused as too old for the head.
    pub out_of_bounds_samples_total: u64,
    /// Appender commits.
    pub commits_total: u64,
    /// Chunks written to the block store.
    pub chunks_flushed_total: u64,
    /// Failed flushes (retried).
    pub flush_failures_total: u64,
    /// WAL checkpoints written.
    pub checkpoints_total: u64,
    /// WAL checkpoints that failed.
    pub checkpoint_failures_total: u64,
    /// Postings index segment rebuilds.
    pub index_rebuilds_total: u64,
    /// Failed index rebuilds.
    pub index_rebuild_failures_total: u64,
    /// Blocks dropped by retention.
    pub retention_deletions_total: u64,
    /// Corrupt WAL records skipped at the last open.
    pub wal_corrupt_records_total: u64,
    /// WAL samples dropped at the last open because no record named their series.
    pub wal_replay_unknown_series_total: u64,
    /// Bytes of WAL segments and checkpoints.
    pub wal_bytes: u64,
    /// WAL segment files.
    pub wal_segments: u64,
    /// Bytes of the block store (SST files and memtables).
    pub block_store_bytes: u64,
    /// Chunks in the block store (estimate).
    pub block_store_chunks: u64,
    /// Series in the postings index.
    pub index_series: u64,
    /// Series in the index's in-memory tail.
    pub index_tail_series: u64,
    /// Bytes of the index segment file.
    pub index_segment_bytes: u64,
}
