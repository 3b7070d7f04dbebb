//! The database's error type.

use std::path::PathBuf;

use crate::blockstore::BlockStoreError;
use crate::index::IndexError;
use crate::wal::WalError;

/// Errors of [`crate::Db`].
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or directory could not be used.
    #[error("{path}: {source}")]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// Another process holds the data directory.
    #[error("{path}: data directory is in use by another process")]
    Locked {
        /// The data directory.
        path: PathBuf,
    },
    /// The data directory was written by a newer strata.
    #[error("{path}: data directory has format version {found}, this strata reads up to version {supported}")]
    FormatTooNew {
        /// The format file.
        path: PathBuf,
        /// Version found on disk.
        found: u32,
        /// Newest version this build reads.
        supported: u32,
    },
    /// The format file exists but does not say which version it is.
    #[error("{path}: unreadable format file: {reason}")]
    BadFormatFile {
        /// The format file.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
    /// The write-ahead log failed.
    #[error(transparent)]
    Wal(#[from] WalError),
    /// The postings index failed.
    #[error(transparent)]
    Index(#[from] IndexError),
    /// The block store failed.
    #[error(transparent)]
    BlockStore(#[from] BlockStoreError),
    /// A chunk could not be decoded.
    #[error("series {series}: corrupt chunk: {reason}")]
    CorruptChunk {
        /// Ref of the series.
        series: u64,
        /// What the decoder said.
        reason: String,
    },
}
