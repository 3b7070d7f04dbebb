//! One segment file: an 8-byte header, then framed records back to back.
//!
//! ```text
//! header: "STRAWAL" (7 bytes) | u8 format version (1)
//! frame:  u32 LE len | u32 LE CRC32(len bytes) | u32 LE CRC32(payload) | len bytes snappy payload
//! ```
//!
//! The length has its own checksum so that a damaged length is told apart
//! from a record cut short by a crash: the first makes the rest of the file
//! unframeable (corruption), the second is the normal end of a log that was
//! being written when the process died (a torn tail).

use super::WalError;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;

/// First 7 bytes of every segment file.
pub(super) const MAGIC: [u8; 7] = *b"STRAWAL";
/// The segment format version this code writes and reads.
pub(super) const SEGMENT_VERSION: u8 = 1;
/// Bytes before the first frame.
pub(super) const HEADER_LEN: usize = 8;
/// Bytes of a frame before its payload.
pub(super) const FRAME_HEADER_LEN: usize = 12;
/// Largest uncompressed payload accepted; far beyond any real commit, small
/// enough that a damaged length cannot make replay allocate without bound.
pub(super) const MAX_PAYLOAD_LEN: usize = 1 << 30;

/// The segment header bytes.
pub(super) fn header() -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[..7].copy_from_slice(&MAGIC);
    h[7] = SEGMENT_VERSION;
    h
}

/// What the first bytes of a file say about it.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum HeaderCheck {
    /// A header this code reads.
    Valid,
    /// Fewer than 8 bytes, all matching a header: a segment whose creation a
    /// crash interrupted. It holds no records.
    Short,
    /// Our magic with a version byte above [`SEGMENT_VERSION`].
    Newer(u8),
    /// Not a segment header.
    Garbage,
}

/// Classifies the start of a file.
pub(super) fn check_header(data: &[u8]) -> HeaderCheck {
    let want = header();
    if data.len() < HEADER_LEN {
        return if want.starts_with(data) {
            HeaderCheck::Short
        } else {
            HeaderCheck::Garbage
        };
    }
    if data[..7] != MAGIC {
        return HeaderCheck::Garbage;
    }
    match data[7] {
        SEGMENT_VERSION => HeaderCheck::Valid,
        v if v > SEGMENT_VERSION => HeaderCheck::Newer(v),
        _ => HeaderCheck::Garbage,
    }
}

/// Creates segment file `path`, which must not exist, with its header, and
/// makes both the header and the directory entry durable.
pub(super) fn create(path: &Path) -> Result<File, WalError> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| WalError::io(path, "create", e))?;
    let written = f
        .write_all(&header())
        .map_err(|e| WalError::io(path, "write header", e))
        .and_then(|()| f.sync_all().map_err(|e| WalError::io(path, "fsync", e)));
    if let Err(e) = written {
        // So that a retry (the index is fixed) can create it again.
        let _ = std::fs::remove_file(path);
        return Err(e);
    }
    if let Some(dir) = path.parent() {
        super::dir::sync_dir(dir)?;
    }
    Ok(f)
}

/// Compresses `payload` and writes the whole frame into `frame` (cleared
/// first), ready for one `write(2)`.
pub(super) fn encode_frame(enc: &mut snap::raw::Encoder, payload: &[u8], frame: &mut Vec<u8>) -> Result<(), WalError> {
    if payload.len() > MAX_PAYLOAD_LEN {
        return Err(WalError::RecordTooLarge {
            len: payload.len(),
            max: MAX_PAYLOAD_LEN,
        });
    }
    frame.clear();
    frame.resize(FRAME_HEADER_LEN + snap::raw::max_compress_len(payload.len()), 0);
    let n = enc
        .compress(payload, &mut frame[FRAME_HEADER_LEN..])
        .expect("output sized by max_compress_len and input within snappy's limit");
    frame.truncate(FRAME_HEADER_LEN + n);
    let len = (n as u32).to_le_bytes();
    let data_crc = crc32fast::hash(&frame[FRAME_HEADER_LEN..]);
    frame[0..4].copy_from_slice(&len);
    frame[4..8].copy_from_slice(&crc32fast::hash(&len).to_le_bytes());
    frame[8..12].copy_from_slice(&data_crc.to_le_bytes());
    Ok(())
}

/// Decompresses a frame's payload into `out` (cleared first).
pub(super) fn decompress(
    dec: &mut snap::raw::Decoder,
    compressed: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), super::record::DecodeError> {
    let n = snap::raw::decompress_len(compressed)?;
    if n > MAX_PAYLOAD_LEN {
        return Err(snap::Error::TooBig {
            given: n as u64,
            max: MAX_PAYLOAD_LEN as u64,
        }
        .into());
    }
    out.clear();
    out.resize(n, 0);
    let got = dec.decompress(compressed, out)?;
    out.truncate(got);
    Ok(())
}

/// What lies at one offset of a segment.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Frame<'a> {
    /// The end of the data, exactly on a frame boundary.
    End,
    /// An intact frame; the next one starts at `next`.
    Record {
        /// The compressed payload, CRC-checked.
        compressed: &'a [u8],
        /// Offset of the following frame.
        next: usize,
    },
    /// The length is sound but the payload's CRC is not: this record is
    /// lost, the next one starts at `next`.
    BadCrc {
        /// Offset of the following frame.
        next: usize,
    },
    /// The length field is damaged, so nothing after it can be framed.
    BadLength,
    /// The data ends inside this frame, or only zero bytes remain (a file
    /// system may zero-fill blocks that were allocated but never written
    /// before a power loss): where a writer stopped, not damage.
    Torn {
        /// Which of the above.
        why: &'static str,
    },
}

/// Reads the frame starting at `off` of a whole segment's bytes.
pub(super) fn next_frame(data: &[u8], off: usize) -> Frame<'_> {
    let rest = &data[off.min(data.len())..];
    if rest.is_empty() {
        return Frame::End;
    }
    if rest.len() < FRAME_HEADER_LEN {
        return Frame::Torn {
            why: "frame header incomplete",
        };
    }
    let u32_at = |i: usize| u32::from_le_bytes(rest[i..i + 4].try_into().expect("4 bytes"));
    let (len, len_crc, data_crc) = (u32_at(0), u32_at(4), u32_at(8));
    if crc32fast::hash(&rest[0..4]) != len_crc {
        if rest.iter().all(|&b| b == 0) {
            return Frame::Torn {
                why: "zero-filled tail",
            };
        }
        return Frame::BadLength;
    }
    let len = len as usize;
    if len > snap::raw::max_compress_len(MAX_PAYLOAD_LEN) {
        return Frame::BadLength;
    }
    let end = FRAME_HEADER_LEN + len;
    if end > rest.len() {
        return Frame::Torn {
            why: "record extends past the end of the file",
        };
    }
    let compressed = &rest[FRAME_HEADER_LEN..end];
    let next = off + end;
    if crc32fast::hash(compressed) != data_crc {
        return Frame::BadCrc { next };
    }
    Frame::Record { compressed, next }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framed(payload: &[u8]) -> Vec<u8> {
        let mut f = Vec::new();
        encode_frame(&mut snap::raw::Encoder::new(), payload, &mut f).unwrap();
        f
    }

    #[test]
    fn header_is_magic_then_version() {
        assert_eq!(&header(), b"STRAWAL\x01");
        assert_eq!(check_header(&header()), HeaderCheck::Valid);
        assert_eq!(check_header(b"STRAWAL\x07"), HeaderCheck::Newer(7));
        assert_eq!(check_header(b"STRAWAL\x00"), HeaderCheck::Garbage);
        assert_eq!(check_header(b"XTRAWAL\x01"), HeaderCheck::Garbage);
        assert_eq!(check_header(b""), HeaderCheck::Short);
        assert_eq!(check_header(b"STRA"), HeaderCheck::Short);
        assert_eq!(check_header(b"STRX"), HeaderCheck::Garbage);
    }

    #[test]
    fn frame_round_trips_through_compression() {
        let payload = b"hello hello hello hello hello".to_vec();
        let f = framed(&payload);
        let Frame::Record { compressed, next } = next_frame(&f, 0) else {
            panic!("expected a record, got {:?}", next_frame(&f, 0));
        };
        assert_eq!(next, f.len());
        let mut out = Vec::new();
        decompress(&mut snap::raw::Decoder::new(), compressed, &mut out).unwrap();
        assert_eq!(out, payload);
        assert_eq!(next_frame(&f, next), Frame::End);
    }

    #[test]
    fn damaged_payload_is_bad_crc_and_skippable() {
        let mut f = framed(b"abcdef");
        let last = f.len() - 1;
        f[last] ^= 1;
        assert_eq!(next_frame(&f, 0), Frame::BadCrc { next: f.len() });
    }

    #[test]
    fn damaged_length_is_bad_length_not_torn() {
        let mut f = framed(b"abcdef");
        f[0] ^= 0x80;
        assert_eq!(next_frame(&f, 0), Frame::BadLength);
    }

    #[test]
    fn cut_frames_and_zero_tails_are_torn() {
        let f = framed(b"abcdef");
        for n in 1..f.len() {
            assert!(
                matches!(next_frame(&f[..n], 0), Frame::Torn { .. }),
                "cut at {n}: {:?}",
                next_frame(&f[..n], 0)
            );
        }
        assert!(matches!(next_frame(&[0; 100], 0), Frame::Torn { .. }));
    }
}
