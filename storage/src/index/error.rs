//! What can go wrong when writing or opening an index segment.

use std::fmt;
use std::path::PathBuf;

use crate::SeriesRef;

/// A part of a segment file, named in [`IndexError::Corrupt`] so that a report
/// points at the bytes that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// Magic and version byte at the start of the file.
    Header,
    /// Distinct label strings, sorted.
    Symbols,
    /// Per ordinal: series ref and label pairs.
    Series,
    /// Series refs in ascending order with their ordinals.
    Refs,
    /// The ordinal lists of all label pairs, back to back.
    Postings,
    /// Where each label pair's ordinal list starts, sorted by pair.
    PostingsTable,
    /// Section offsets and checksums at the end of the file.
    Footer,
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Section::Header => "header",
            Section::Symbols => "symbols",
            Section::Series => "series",
            Section::Refs => "refs",
            Section::Postings => "postings",
            Section::PostingsTable => "postings table",
            Section::Footer => "footer",
        })
    }
}

/// Why the index could not write or read a segment.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// The file system refused an operation.
    #[error("index {path}: {op}: {source}")]
    Io {
        /// File or directory involved.
        path: PathBuf,
        /// What was being done, e.g. `"rename into place"`.
        op: &'static str,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a valid segment: a checksum failed, or the bytes do not
    /// describe a well-formed segment. Nothing is read from such a file.
    #[error("index segment {path} is corrupt in its {section} section: {reason}")]
    Corrupt {
        /// The segment file.
        path: PathBuf,
        /// The part that failed.
        section: Section,
        /// What exactly failed, for the operator.
        reason: String,
    },
    /// The file was written by a newer strata with a format this build cannot read.
    #[error("index segment {path} has format version {found}; this build reads versions up to {supported}")]
    UnsupportedVersion {
        /// The segment file.
        path: PathBuf,
        /// Version byte in the file.
        found: u8,
        /// Newest version this build reads.
        supported: u8,
    },
    /// Two different label sets were given the same series ref; refs identify
    /// exactly one series, so the segment would be ambiguous.
    #[error("index segment {path}: series ref {} is given to two label sets", series_ref.0)]
    DuplicateRef {
        /// The segment file being written.
        path: PathBuf,
        /// The ref used twice.
        series_ref: SeriesRef,
    },
    /// A section outgrew the 32-bit offsets of the format.
    #[error("index segment {path}: the {section} section would exceed 4 GiB")]
    TooLarge {
        /// The segment file being written.
        path: PathBuf,
        /// The section that is too big.
        section: Section,
    },
}

impl IndexError {
    pub(super) fn io(path: impl Into<PathBuf>, op: &'static str, source: std::io::Error) -> Self {
        IndexError::Io {
            path: path.into(),
            op,
            source,
        }
    }
}
