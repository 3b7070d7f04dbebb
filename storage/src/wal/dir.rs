//! The WAL directory: names of segments and checkpoints, and listing them.
//!
//! ```text
//! wal/00000007                    segment 7
//! wal/checkpoint.00000006/        replaces segments ≤ 6; holds segments 00000001…
//! wal/checkpoint.00000009.tmp/    a checkpoint being written (ignored by replay)
//! wal/corrupt/                    damaged files moved aside, never read again
//! ```

use super::WalError;
use std::fs;
use std::path::{Path, PathBuf};

/// Subdirectory that damaged files are moved to.
pub(super) const CORRUPT_DIR: &str = "corrupt";
const CHECKPOINT_PREFIX: &str = "checkpoint.";
/// Suffix of anything still being written: a checkpoint directory or a
/// repaired segment.
pub(super) const TMP_SUFFIX: &str = ".tmp";

/// File name of segment `i`: at least 8 decimal digits.
pub(super) fn segment_name(i: u64) -> String {
    format!("{i:08}")
}

/// Directory name of the checkpoint covering segments ≤ `i`.
pub(super) fn checkpoint_name(i: u64) -> String {
    format!("{CHECKPOINT_PREFIX}{i:08}")
}

/// The index in a segment file name, if it is one.
pub(super) fn parse_segment_name(name: &str) -> Option<u64> {
    if name.len() < 8 || !name.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    name.parse().ok()
}

/// What a WAL directory holds, each list sorted by index.
#[derive(Debug, Default)]
pub(super) struct Listing {
    /// Segment files.
    pub(super) segments: Vec<(u64, PathBuf)>,
    /// Complete checkpoint directories.
    pub(super) checkpoints: Vec<(u64, PathBuf)>,
    /// Half-written checkpoints and repairs a crash left behind.
    pub(super) leftovers: Vec<PathBuf>,
}

/// Lists `dir`, which must exist. Names it does not know are ignored.
pub(super) fn list(dir: &Path) -> Result<Listing, WalError> {
    let mut l = Listing::default();
    let entries = fs::read_dir(dir).map_err(|e| WalError::io(dir, "list", e))?;
    for entry in entries {
        let entry = entry.map_err(|e| WalError::io(dir, "list", e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let path = entry.path();
        if name.ends_with(TMP_SUFFIX) {
            l.leftovers.push(path);
        } else if let Some(i) = parse_segment_name(name) {
            l.segments.push((i, path));
        } else if let Some(i) = name.strip_prefix(CHECKPOINT_PREFIX).and_then(parse_segment_name) {
            l.checkpoints.push((i, path));
        }
    }
    l.segments.sort_unstable();
    l.checkpoints.sort_unstable();
    Ok(l)
}

/// The segment files of a checkpoint directory, sorted.
pub(super) fn checkpoint_files(dir: &Path) -> Result<Vec<(u64, PathBuf)>, WalError> {
    Ok(list(dir)?.segments)
}

/// Makes the entries of `dir` (creations, renames, deletions) durable.
pub(super) fn sync_dir(dir: &Path) -> Result<(), WalError> {
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| WalError::io(dir, "fsync directory", e))
}

/// Total size of the files directly in `dir`.
pub(super) fn files_size(dir: &Path) -> Result<u64, WalError> {
    let mut total = 0;
    for entry in fs::read_dir(dir).map_err(|e| WalError::io(dir, "list", e))? {
        let entry = entry.map_err(|e| WalError::io(dir, "list", e))?;
        let md = entry.metadata().map_err(|e| WalError::io(entry.path(), "stat", e))?;
        if md.is_file() {
            total += md.len();
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_eight_digits_and_parse_back() {
        assert_eq!(segment_name(1), "00000001");
        assert_eq!(checkpoint_name(42), "checkpoint.00000042");
        assert_eq!(parse_segment_name("00000001"), Some(1));
        assert_eq!(parse_segment_name("123456789"), Some(123_456_789));
        for bad in ["0000001", "0000000a", "00000001.tmp", "+0000001", "corrupt"] {
            assert_eq!(parse_segment_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn listing_sorts_and_separates_leftovers() {
        let d = tempfile::tempdir().unwrap();
        for n in ["00000010", "00000002", "notes.txt", "00000003.tmp"] {
            fs::write(d.path().join(n), b"").unwrap();
        }
        for n in [
            "checkpoint.00000005",
            "checkpoint.00000001",
            "checkpoint.00000009.tmp",
            "corrupt",
        ] {
            fs::create_dir(d.path().join(n)).unwrap();
        }
        let l = list(d.path()).unwrap();
        let idx = |v: &[(u64, PathBuf)]| v.iter().map(|(i, _)| *i).collect::<Vec<_>>();
        assert_eq!(idx(&l.segments), [2, 10]);
        assert_eq!(idx(&l.checkpoints), [1, 5]);
        assert_eq!(l.leftovers.len(), 2);
    }
}
