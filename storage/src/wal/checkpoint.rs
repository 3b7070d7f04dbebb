//! Writing a checkpoint directory.
//!
//! The records go into `checkpoint.NNNNNNNN.tmp/` as ordinary segment files;
//! every file and the directory are fsynced, the directory is renamed to
//! `checkpoint.NNNNNNNN` and the WAL directory fsynced. Only then does the
//! checkpoint exist for replay, complete; a crash before that leaves a
//! `.tmp` directory that replay ignores and the next open removes.

use super::dir::{checkpoint_name, segment_name, sync_dir, TMP_SUFFIX};
use super::segment::{self, encode_frame};
use super::{record, Record, WalError};
use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Writes the checkpoint covering segments ≤ `upto` into `wal_dir` and
/// publishes it. Returns its directory and total size in bytes.
pub(super) fn write(
    wal_dir: &Path,
    upto: u64,
    segment_size: u64,
    records: impl Iterator<Item = Record>,
) -> Result<(PathBuf, u64), WalError> {
    let fin = wal_dir.join(checkpoint_name(upto));
    let tmp = wal_dir.join(format!("{}{TMP_SUFFIX}", checkpoint_name(upto)));
    if tmp.exists() {
        fs::remove_dir_all(&tmp).map_err(|e| WalError::io(&tmp, "remove stale checkpoint", e))?;
    }
    fs::create_dir(&tmp).map_err(|e| WalError::io(&tmp, "create directory", e))?;

    let mut w = Writer {
        dir: tmp.clone(),
        index: 0,
        file: None,
        size: 0,
        total: 0,
    };
    let mut enc = snap::raw::Encoder::new();
    let (mut payload, mut frame) = (Vec::new(), Vec::new());
    for rec in records {
        payload.clear();
        record::encode(&rec, &mut payload);
        encode_frame(&mut enc, &payload, &mut frame)?;
        w.append(&frame, segment_size)?;
    }
    w.close()?;
    sync_dir(&tmp)?;
    fs::rename(&tmp, &fin).map_err(|e| WalError::io(&tmp, "publish checkpoint", e))?;
    sync_dir(wal_dir)?;
    Ok((fin, w.total))
}

/// Buffered writer of a checkpoint's segment files; unlike the live log it
/// need not reach the kernel per record, only be fsynced before publication.
struct Writer {
    dir: PathBuf,
    index: u64,
    file: Option<BufWriter<fs::File>>,
    size: u64,
    total: u64,
}

impl Writer {
    fn path(&self) -> PathBuf {
        self.dir.join(segment_name(self.index))
    }

    fn append(&mut self, frame: &[u8], segment_size: u64) -> Result<(), WalError> {
        let full = self.size > segment::HEADER_LEN as u64 && self.size + frame.len() as u64 > segment_size;
        if self.file.is_none() || full {
            self.close()?;
            self.index += 1;
            let f = segment::create(&self.path())?;
            self.file = Some(BufWriter::with_capacity(1 << 20, f));
            self.size = segment::HEADER_LEN as u64;
            self.total += self.size;
        }
        let f = self.file.as_mut().expect("opened above");
        let written = f.write_all(frame);
        written.map_err(|e| WalError::io(self.path(), "write", e))?;
        self.size += frame.len() as u64;
        self.total += frame.len() as u64;
        Ok(())
    }

    fn close(&mut self) -> Result<(), WalError> {
        let path = self.path();
        if let Some(f) = self.file.take() {
            let f = f
                .into_inner()
                .map_err(|e| WalError::io(&path, "write", e.into_error()))?;
            f.sync_all().map_err(|e| WalError::io(&path, "fsync", e))?;
        }
        Ok(())
    }
}
