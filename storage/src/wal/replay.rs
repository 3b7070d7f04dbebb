//! Reading the log back on start: the newest checkpoint, then every later segment.
//!
//! Damage rules, in the order they are checked for each file:
//!
//! - A header of a *newer* format version, or a record whose payload
//!   version is newer, stops replay with [`WalError::UnsupportedVersion`]:
//!   the data is fine, this binary is too old.
//! - A garbage header: the file is moved aside whole, with a warning.
//! - A torn tail (the file ends inside a frame, or only zero bytes remain)
//!   in a segment: the end of what a writer managed before a crash. Logged at
//!   info and counted; the file is left as it is. This holds for *any*
//!   segment, not only the newest: [`Wal::open`](super::Wal::open) always
//!   starts a new segment, so after a crash and restart the torn segment is
//!   no longer the last one. Inside a checkpoint, which was fsynced before
//!   it was renamed into place, a torn tail is damage like any other.
//! - A bad payload CRC or an undecodable payload: that record is skipped and
//!   counted, reading continues with the next frame (the length was sound).
//! - A bad length: the rest of the file cannot be framed; reading the file
//!   stops.
//!
//! A file with skipped records or a bad length is moved aside to `corrupt/`,
//! its intact records written back in its place (see [`super::repair`]);
//! replay then goes on with the next file.

use super::dir::{self, checkpoint_name, segment_name};
use super::record::{self, DecodeError, PAYLOAD_VERSION};
use super::repair::move_aside;
use super::segment::{self, check_header, Frame, HeaderCheck, HEADER_LEN, SEGMENT_VERSION};
use super::{Record, WalError};
use std::path::Path;

/// What a replay found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ReplayStats {
    /// The checkpoint replayed first (it covers segments ≤ this index).
    pub checkpoint: Option<u64>,
    /// Index of the last segment read, if any.
    pub last_segment: Option<u64>,
    /// Segment files read, checkpoint files included.
    pub files: u64,
    /// Bytes of those files.
    pub bytes: u64,
    /// Records delivered.
    pub records: u64,
    /// Series creations delivered.
    pub series: u64,
    /// Samples delivered.
    pub samples: u64,
    /// Files that ended inside a frame: where a crash stopped a writer.
    pub torn_tails: u64,
    /// Records lost to a bad CRC, bad length or undecodable payload.
    pub corrupt_records_skipped: u64,
    /// Files moved to `corrupt/`.
    pub segments_moved_aside: u64,
}

/// How damage in a file is treated.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    /// A live segment: a torn tail is where a writer stopped.
    Segment,
    /// Part of a checkpoint `n`: fsynced before publication, so any damage is corruption.
    Checkpoint(u64),
}

/// See [`super::Wal::replay`].
pub(super) fn replay(wal_dir: &Path, mut visit: impl FnMut(Record)) -> Result<ReplayStats, WalError> {
    let mut stats = ReplayStats::default();
    if !wal_dir.exists() {
        return Ok(stats);
    }
    let listing = dir::list(wal_dir)?;
    let mut rd = FileReader::default();
    if let Some((n, cp_dir)) = listing.checkpoints.last() {
        stats.checkpoint = Some(*n);
        for (_, path) in dir::checkpoint_files(cp_dir)? {
            rd.read(wal_dir, &path, Source::Checkpoint(*n), &mut visit, &mut stats)?;
        }
    }
    let after = stats.checkpoint.unwrap_or(0);
    let mut prev: Option<u64> = None;
    // Segments ≤ the checkpoint are still here only if a crash interrupted
    // their deletion; the checkpoint holds their state.
    for (i, path) in listing.segments.iter().filter(|(i, _)| *i > after) {
        if let Some(p) = prev.filter(|p| p + 1 != *i) {
            tracing::warn!(
                dir = %wal_dir.display(),
                "WAL segments {} to {} are missing; replaying what remains",
                segment_name(p + 1),
                segment_name(i - 1),
            );
        }
        prev = Some(*i);
        rd.read(wal_dir, path, Source::Segment, &mut visit, &mut stats)?;
        stats.last_segment = Some(*i);
    }
    Ok(stats)
}

/// Buffers reused from file to file.
#[derive(Default)]
struct FileReader {
    dec: snap::raw::Decoder,
    payload: Vec<u8>,
}

impl FileReader {
    fn read(
        &mut self,
        wal_dir: &Path,
        path: &Path,
        source: Source,
        visit: &mut impl FnMut(Record),
        stats: &mut ReplayStats,
    ) -> Result<(), WalError> {
        // A whole segment in memory (≤ segment_size plus one record) keeps
        // the framing logic a plain walk over a slice; replay runs once.
        let data = std::fs::read(path).map_err(|e| WalError::io(path, "read", e))?;
        stats.files += 1;
        stats.bytes += data.len() as u64;
        let aside_name = || match source {
            Source::Segment => path_name(path),
            Source::Checkpoint(n) => format!("{}-{}", checkpoint_name(n), path_name(path)),
        };

        match check_header(&data) {
            HeaderCheck::Valid => {}
            HeaderCheck::Short if source == Source::Segment => {
                tracing::info!(path = %path.display(), "WAL segment ends inside its header (creation interrupted); no records");
                stats.torn_tails += 1;
                return Ok(());
            }
            HeaderCheck::Newer(found) => {
                return Err(WalError::UnsupportedVersion {
                    path: path.to_owned(),
                    offset: (HEADER_LEN - 1) as u64,
                    found,
                    supported: SEGMENT_VERSION,
                })
            }
            HeaderCheck::Short | HeaderCheck::Garbage => {
                let dest = move_aside(wal_dir, path, &aside_name(), &data, &[])?;
                tracing::warn!(
                    path = %path.display(),
                    moved_to = %dest.display(),
                    "WAL file has no valid segment header; moved aside unread",
                );
                stats.segments_moved_aside += 1;
                return Ok(());
            }
        }

        let mut off = HEADER_LEN;
        let mut intact = Vec::new();
        let mut damaged = false;
        let corrupt = |stats: &mut ReplayStats, off: usize, what: &dyn std::fmt::Display| {
            stats.corrupt_records_skipped += 1;
            tracing::warn!(path = %path.display(), offset = off, "corrupt WAL record skipped: {what}");
        };
        loop {
            match segment::next_frame(&data, off) {
                Frame::End => break,
                Frame::Record { compressed, next } => {
                    let decoded = segment::decompress(&mut self.dec, compressed, &mut self.payload)
                        .and_then(|()| record::decode(&self.payload));
                    match decoded {
                        Ok(rec) => {
                            stats.records += 1;
                            stats.series += rec.series_count() as u64;
                            stats.samples += rec.sample_count() as u64;
                            visit(rec);
                            intact.push(off..next);
                        }
                        Err(DecodeError::NewerVersion { found, .. }) => {
                            return Err(WalError::UnsupportedVersion {
                                path: path.to_owned(),
                                offset: off as u64,
                                found,
                                supported: PAYLOAD_VERSION,
                            })
                        }
                        Err(e) => {
                            corrupt(stats, off, &e);
                            damaged = true;
                        }
                    }
                    off = next;
                }
                Frame::BadCrc { next } => {
                    corrupt(stats, off, &"payload CRC mismatch");
                    damaged = true;
                    off = next;
                }
                Frame::Torn { why } if source == Source::Segment => {
                    tracing::info!(
                        path = %path.display(),
                        offset = off,
                        "WAL segment ends in a torn record ({why}), as after a crash; earlier records kept",
                    );
                    stats.torn_tails += 1;
                    break;
                }
                Frame::Torn { why } => {
                    corrupt(stats, off, &format_args!("checkpoint file cut short: {why}"));
                    damaged = true;
                    break;
                }
                Frame::BadLength => {
                    corrupt(stats, off, &"record length damaged; rest of the file unreadable");
                    damaged = true;
                    break;
                }
            }
        }
        if damaged {
            let dest = move_aside(wal_dir, path, &aside_name(), &data, &intact)?;
            tracing::warn!(
                path = %path.display(),
                moved_to = %dest.display(),
                intact_records = intact.len(),
                "damaged WAL file moved aside; its intact records were written back in its place",
            );
            stats.segments_moved_aside += 1;
        }
        Ok(())
    }
}

fn path_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
