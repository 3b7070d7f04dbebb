//! The write-ahead log: every appender commit, durable before it touches the head.
//!
//! The log is a directory of numbered *segment* files (`00000001`,
//! `00000002`…). Each segment starts with an 8-byte header and holds framed
//! records: a length, CRC32s, and a snappy-compressed [`Record`]. One commit is
//! one record, written with a single `write(2)` before [`Wal::log`] returns,
//! so a crash of the process loses nothing committed; an `fsync` every
//! `sync_interval` bounds what a power loss can take.
//!
//! The head keeps the log short with *checkpoints*: `checkpoint.NNNNNNNN/`
//! holds the head's live state (series, open chunks) in the same segment
//! format and replaces every segment numbered `NNNNNNNN` or lower, which are
//! then deleted.
//!
//! On start, [`Wal::replay`] delivers the newest checkpoint and then every later
//! segment, in order; damaged records are skipped and counted, and a damaged
//! file is moved to `corrupt/` (its intact records written back in its place)
//! rather than deleted. [`Wal::open`] then starts a fresh segment.
//!
//! ```ignore
//! let stats = Wal::replay(dir, |rec| head.apply(rec))?;
//! let wal = Wal::open(dir, WalOptions::default())?;
//! wal.log(&Record::Commit { series, samples })?;
//! ```
//!
//! The byte layout is documented in `docs/format/wal.md`.

mod checkpoint;
mod dir;
mod encoding;
mod record;
mod repair;
mod replay;
mod segment;
mod writer;

#[cfg(test)]
mod tests;

use std::io;
use std::path::PathBuf;

pub(crate) use encoding::put_uvarint;
pub(crate) use record::{Record, RefSample};
pub(crate) use replay::ReplayStats;
pub(crate) use writer::{Wal, WalOptions};

/// Why a WAL operation failed. Every variant that concerns a file names it.
///
/// `pub` rather than `pub(crate)`: the crate's public error type carries it.
#[derive(Debug, thiserror::Error)]
pub enum WalError {
    /// A file-system call failed.
    #[error("{}: {op}: {source}", path.display())]
    Io {
        /// The file or directory the call was about.
        path: PathBuf,
        /// What was being done, e.g. `"fsync"`.
        op: &'static str,
        /// The OS error.
        source: io::Error,
    },
    /// A segment or record was written by a newer strata. Nothing is moved
    /// aside: the data is probably fine, this binary is too old to read it.
    #[error(
        "{} at byte {offset}: format version {found} is newer than the supported {supported}; \
         upgrade strata or move the WAL away",
        path.display()
    )]
    UnsupportedVersion {
        /// The segment file.
        path: PathBuf,
        /// Byte offset of the version byte's frame within the file.
        offset: u64,
        /// The version found.
        found: u8,
        /// The newest version this binary reads.
        supported: u8,
    },
    /// A record's payload is larger than a frame can hold.
    #[error("WAL record of {len} bytes exceeds the limit of {max} bytes")]
    RecordTooLarge {
        /// Uncompressed payload length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A checkpoint may only cover closed segments; cut the segment first.
    #[error("checkpoint up to segment {upto} would cover the live segment {live}; call cut_segment first")]
    CheckpointCoversLiveSegment {
        /// The requested last covered segment.
        upto: u64,
        /// The segment being appended to.
        live: u64,
    },
    /// A checkpoint must cover more than the newest existing one.
    #[error("checkpoint up to segment {upto} is not newer than the existing checkpoint {newest}")]
    CheckpointNotNewer {
        /// The requested last covered segment.
        upto: u64,
        /// The newest existing checkpoint.
        newest: u64,
    },
    /// An earlier write or fsync failed, so what reached the disk is unknown
    /// (after a failed fsync the kernel may have dropped the dirty pages); the
    /// log refuses further records until the process restarts and replays.
    #[error("WAL is unusable after an earlier failure on {}: {cause}", path.display())]
    Poisoned {
        /// The segment the failure happened on.
        path: PathBuf,
        /// The original error, as text.
        cause: String,
    },
}

impl WalError {
    /// Shorthand for [`WalError::Io`].
    fn io(path: impl Into<PathBuf>, op: &'static str, source: io::Error) -> WalError {
        WalError::Io {
            path: path.into(),
            op,
            source,
        }
    }
}
