//! # strata-storage: strata's time-series database
//!
//! A *series* is a sorted label set (`{__name__="up", job="node"}`) plus its
//! samples: `(timestamp in ms, f64)` pairs in strictly increasing time order.
//! Every series gets a dense [`SeriesRef`] when first seen; refs are never
//! reused.
//!
//! Samples flow through four places:
//!
//! - **Head** (in memory): every active series with its open *chunk*, a
//!   Gorilla/XOR-compressed run of up to ~120 samples in Prometheus's exact bit
//!   format, and a fixed-size slot with its newest sample that readers take
//!   without blocking writers.
//! - **WAL**: before an [`Appender`]'s commit touches the head it is written as
//!   one CRC-checked, snappy-compressed record; replayed on open.
//! - **Block store** (RocksDB): completed chunks, keyed
//!   `block start (2h) | series ref | chunk min time`, so a time range is one
//!   contiguous key range and retention drops whole ranges.
//! - **Postings index**: for each `name="value"` pair the series having it,
//!   in immutable memory-mapped segment files (series numbered in label order,
//!   so an intersection comes out sorted) plus an in-memory tail of new series.
//!
//! ```no_run
//! use strata_storage::{Db, Options, Labels, Matcher};
//! let db = Db::open("data", Options::default()).unwrap();
//! let mut app = db.appender();
//! app.append_labels(&Labels::from_pairs(&[("__name__", "up"), ("job", "node")]), 1_000, 1.0).unwrap();
//! app.commit().unwrap();
//! let latest = db.latest(&[Matcher::equal("job", "node")], 0, 2_000).unwrap();
//! for s in latest.iter() {
//!     println!("{} {} {}", s.labels, s.t, s.v);
//! }
//! ```
//!
//! Every on-disk format is documented in `docs/format/` of the repository.

mod appender;
mod blockstore;
pub mod chunk;
mod db;
mod error;
mod head;
mod index;
mod labels;
mod latest;
mod maintenance;
mod matcher;
mod querier;
mod stats;
mod wal;

pub use appender::{AppendError, Appender, CommitStats};
pub use blockstore::BlockStoreError;
pub use db::{Db, Options, FORMAT_VERSION};
pub use error::Error;
#[doc(hidden)]
pub use index::bench_api;
pub use index::IndexError;
pub use labels::{compare_pairs, Label, Labels, LabelsError, METRIC_NAME};
pub use latest::{Latest, LatestSample, SeriesLabels};
pub use matcher::{matches_all, MatchOp, Matcher, MatcherError};
pub use querier::{Querier, Series, SeriesSamples};
pub use stats::Stats;
pub use wal::WalError;

/// Milliseconds since the Unix epoch: the only time unit of storage.
pub type Timestamp = i64;

/// Dense, never-reused identifier of a series within one database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SeriesRef(pub u64);

/// Bit pattern of Prometheus's staleness marker, a NaN that means "this series
/// ended here". Compared by bits, never by value.
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// The staleness marker as an `f64`.
pub fn stale_nan() -> f64 {
    f64::from_bits(STALE_NAN_BITS)
}

/// True when `v` is exactly the staleness marker (other NaNs are ordinary values).
pub fn is_stale_nan(v: f64) -> bool {
    v.to_bits() == STALE_NAN_BITS
}
