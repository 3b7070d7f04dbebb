//! Moving damaged files aside.
//!
//! Nothing the WAL could not read is ever deleted: the damaged file goes to
//! `wal/corrupt/` as it was, for a human or a better tool. The records that
//! *were* intact are written back under the original name, so that the next
//! replay (after another crash, before a checkpoint has captured them) still
//! finds them and no longer trips over the damage.

use super::dir::{sync_dir, CORRUPT_DIR, TMP_SUFFIX};
use super::segment::header;
use super::WalError;
use std::fs;
use std::io::Write;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// Moves `path` (whose bytes are `data`) to `wal_dir/corrupt/<aside_name>`
/// (with a `.1`, `.2`… suffix if taken) and, if `keep` names any intact frames
/// of `data`, writes a segment of just those in its place. Crash-safe: at
/// every point either the original or the repaired file is at `path`.
pub(super) fn move_aside(
    wal_dir: &Path,
    path: &Path,
    aside_name: &str,
    data: &[u8],
    keep: &[Range<usize>],
) -> Result<PathBuf, WalError> {
    let corrupt = wal_dir.join(CORRUPT_DIR);
    fs::create_dir_all(&corrupt).map_err(|e| WalError::io(&corrupt, "create directory", e))?;
    let dest = free_name(&corrupt, aside_name);
    let parent = path.parent().unwrap_or(wal_dir);
    if keep.is_empty() {
        fs::rename(path, &dest).map_err(|e| WalError::io(path, "move aside", e))?;
        sync_dir(&corrupt)?;
        sync_dir(parent)?;
        return Ok(dest);
    }
    // A hard link keeps the original's bytes at `dest` while `path` is
    // replaced; a copy where the file system has no links.
    if fs::hard_link(path, &dest).is_err() {
        fs::write(&dest, data)
            .and_then(|()| fs::File::open(&dest)?.sync_all())
            .map_err(|e| WalError::io(&dest, "copy aside", e))?;
    }
    sync_dir(&corrupt)?;
    sync_dir(wal_dir)?;

    let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
    tmp_name.push(TMP_SUFFIX);
    let tmp = parent.join(tmp_name);
    let write = || -> std::io::Result<()> {
        let mut f = fs::File::create(&tmp)?;
        let mut out = Vec::with_capacity(keep.iter().map(|r| r.len()).sum::<usize>() + 8);
        out.extend_from_slice(&header());
        for r in keep {
            out.extend_from_slice(&data[r.clone()]);
        }
        f.write_all(&out)?;
        f.sync_all()
    };
    write().map_err(|e| WalError::io(&tmp, "write repaired segment", e))?;
    fs::rename(&tmp, path).map_err(|e| WalError::io(path, "replace with repaired segment", e))?;
    sync_dir(parent)?;
    Ok(dest)
}

/// `dir/name`, or `dir/name.N` for the smallest N ≥ 1 that does not exist.
fn free_name(dir: &Path, name: &str) -> PathBuf {
    let p = dir.join(name);
    if !p.exists() {
        return p;
    }
    (1u64..)
        .map(|n| dir.join(format!("{name}.{n}")))
        .find(|p| !p.exists())
        .expect("some suffix is free")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn damaged_file_is_kept_and_intact_frames_written_back() {
        let d = tempfile::tempdir().unwrap();
        let seg = d.path().join("00000003");
        let mut data = header().to_vec();
        data.extend_from_slice(b"AAAAxxxxBBBB");
        fs::write(&seg, &data).unwrap();
        let dest = move_aside(d.path(), &seg, "00000003", &data, &[8..12, 16..20]).unwrap();
        assert_eq!(dest, d.path().join("corrupt/00000003"));
        assert_eq!(fs::read(&dest).unwrap(), data);
        assert_eq!(fs::read(&seg).unwrap(), [&header()[..], b"AAAABBBB"].concat());
        assert!(!d.path().join("00000003.tmp").exists());
    }

    #[test]
    fn unreadable_file_is_renamed_and_names_never_collide() {
        let d = tempfile::tempdir().unwrap();
        for round in 0..3 {
            let seg = d.path().join("00000001");
            fs::write(&seg, [round]).unwrap();
            move_aside(d.path(), &seg, "00000001", &[round], &[]).unwrap();
            assert!(!seg.exists());
        }
        let c = d.path().join("corrupt");
        assert_eq!(fs::read(c.join("00000001")).unwrap(), [0]);
        assert_eq!(fs::read(c.join("00000001.1")).unwrap(), [1]);
        assert_eq!(fs::read(c.join("00000001.2")).unwrap(), [2]);
    }
}
