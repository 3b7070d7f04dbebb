//! Byte layouts of the block store's keys and values (docs/format/blockstore.md).

use crate::wal::put_uvarint;
use crate::{Label, Labels, SeriesRef, Timestamp};

/// Version byte leading every chunk and series value.
pub(crate) const VALUE_VERSION: u8 = 1;

/// Maps an i64 to a u64 whose big-endian bytes sort like the signed number.
#[inline]
pub(crate) fn order_i64(t: i64) -> u64 {
    (t as u64) ^ (1 << 63)
}

#[inline]
pub(crate) fn unorder_i64(u: u64) -> i64 {
    (u ^ (1 << 63)) as i64
}

/// Chunk key: `block start | series ref | chunk min time`, 24 bytes, so one
/// block's chunks are one contiguous range and, within it, one series' chunks.
pub(crate) fn chunk_key(block_start: Timestamp, r: SeriesRef, min_t: Timestamp) -> [u8; 24] {
    let mut k = [0u8; 24];
    k[..8].copy_from_slice(&order_i64(block_start).to_be_bytes());
    k[8..16].copy_from_slice(&r.0.to_be_bytes());
    k[16..].copy_from_slice(&order_i64(min_t).to_be_bytes());
    k
}

/// Prefix of every chunk key of a block (8 bytes) or of a series in a block (16 bytes).
pub(crate) fn block_prefix(block_start: Timestamp) -> [u8; 8] {
    order_i64(block_start).to_be_bytes()
}

pub(crate) fn block_series_prefix(block_start: Timestamp, r: SeriesRef) -> [u8; 16] {
    let mut k = [0u8; 16];
    k[..8].copy_from_slice(&order_i64(block_start).to_be_bytes());
    k[8..].copy_from_slice(&r.0.to_be_bytes());
    k
}

/// Splits a chunk key.
pub(crate) fn parse_chunk_key(k: &[u8]) -> Option<(Timestamp, SeriesRef, Timestamp)> {
    if k.len() != 24 {
        return None;
    }
    let u = |r: std::ops::Range<usize>| u64::from_be_bytes(k[r].try_into().expect("8 bytes"));
    Some((unorder_i64(u(0..8)), SeriesRef(u(8..16)), unorder_i64(u(16..24))))
}

/// Why a stored value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ValueError {
    #[error("value shorter than its framing ({0} bytes)")]
    Short(usize),
    #[error("checksum mismatch (stored {stored:08x}, computed {computed:08x})")]
    Checksum { stored: u32, computed: u32 },
    #[error("value version {0} is newer than this strata understands ({VALUE_VERSION})")]
    Version(u8),
    #[error("malformed value: {0}")]
    Malformed(&'static str),
}

/// Appends CRC32 (IEEE) of `body` in little endian.
fn seal(mut body: Vec<u8>) -> Vec<u8> {
    let c = crc32fast::hash(&body);
    body.extend_from_slice(&c.to_le_bytes());
    body
}

/// Checks framing, checksum and version; returns the bytes after the version byte.
fn open(v: &[u8]) -> Result<&[u8], ValueError> {
    if v.len() < 5 {
        return Err(ValueError::Short(v.len()));
    }
    let (body, crc) = v.split_at(v.len() - 4);
    let stored = u32::from_le_bytes(crc.try_into().expect("4 bytes"));
    let computed = crc32fast::hash(body);
    if stored != computed {
        return Err(ValueError::Checksum { stored, computed });
    }
    if body[0] != VALUE_VERSION {
        return Err(ValueError::Version(body[0]));
    }
    Ok(&body[1..])
}

/// Chunk value: version, encoding byte, max time (8 bytes BE, ordered), chunk bytes, CRC32.
pub(crate) fn encode_chunk(encoding: u8, max_t: Timestamp, chunk: &[u8]) -> Vec<u8> {
    let mut b = Vec::with_capacity(chunk.len() + 14);
    b.push(VALUE_VERSION);
    b.push(encoding);
    b.extend_from_slice(&order_i64(max_t).to_be_bytes());
    b.extend_from_slice(chunk);
    seal(b)
}

/// Decoded chunk value: `(encoding, max_t, chunk bytes)`.
pub(crate) fn decode_chunk(v: &[u8]) -> Result<(u8, Timestamp, &[u8]), ValueError> {
    let b = open(v)?;
    if b.len() < 9 {
        return Err(ValueError::Malformed("chunk value without encoding and max time"));
    }
    let max_t = unorder_i64(u64::from_be_bytes(b[1..9].try_into().expect("8 bytes")));
    Ok((b[0], max_t, &b[9..]))
}

fn get_uvarint(b: &mut &[u8]) -> Option<u64> {
    let mut x = 0u64;
    for i in 0..10 {
        let (&c, rest) = b.split_first()?;
        *b = rest;
        x |= ((c & 0x7f) as u64) << (7 * i);
        if c < 0x80 {
            return Some(x);
        }
    }
    None
}

/// Series value: version, label count (uvarint), then per label name and value
/// as uvarint length + UTF-8, CRC32.
pub(crate) fn encode_series(labels: &Labels) -> Vec<u8> {
    let mut b = vec![VALUE_VERSION];
    put_uvarint(&mut b, labels.len() as u64);
    for (n, v) in labels.iter() {
        put_uvarint(&mut b, n.len() as u64);
        b.extend_from_slice(n.as_bytes());
        put_uvarint(&mut b, v.len() as u64);
        b.extend_from_slice(v.as_bytes());
    }
    seal(b)
}

pub(crate) fn decode_series(v: &[u8]) -> Result<Labels, ValueError> {
    let mut b = open(v)?;
    let n = get_uvarint(&mut b).ok_or(ValueError::Malformed("label count"))?;
    let mut out = Vec::with_capacity(n.min(64) as usize);
    let mut s = || -> Result<std::sync::Arc<str>, ValueError> {
        let len = get_uvarint(&mut b).ok_or(ValueError::Malformed("string length"))? as usize;
        if len > b.len() {
            return Err(ValueError::Malformed("string runs past the value"));
        }
        let (str_bytes, rest) = b.split_at(len);
        b = rest;
        std::str::from_utf8(str_bytes)
            .map(std::sync::Arc::from)
            .map_err(|_| ValueError::Malformed("label is not UTF-8"))
    };
    for _ in 0..n {
        let name = s()?;
        let value = s()?;
        out.push(Label { name, value });
    }
    Labels::from_labels(out).map_err(|_| ValueError::Malformed("invalid label set"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_keys_sort_by_block_then_series_then_time_including_negative_times() {
        let a = chunk_key(-7_200_000, SeriesRef(9), -100);
        let b = chunk_key(0, SeriesRef(1), 5);
        let c = chunk_key(0, SeriesRef(1), 6);
        let d = chunk_key(0, SeriesRef(2), 0);
        assert!(a < b && b < c && c < d);
        assert_eq!(parse_chunk_key(&c), Some((0, SeriesRef(1), 6)));
    }

    #[test]
    fn values_round_trip_and_detect_flipped_bits() {
        let v = encode_chunk(1, 12345, &[0, 1, 2, 3]);
        assert_eq!(decode_chunk(&v).unwrap(), (1, 12345, &[0u8, 1, 2, 3][..]));
        for i in 0..v.len() {
            let mut bad = v.clone();
            bad[i] ^= 0x10;
            assert!(decode_chunk(&bad).is_err(), "flip at {i} went unnoticed");
        }
        let l = Labels::from_pairs(&[("__name__", "up"), ("job", "ñode")]);
        assert_eq!(decode_series(&encode_series(&l)).unwrap(), l);
    }

    /// The example in docs/format/blockstore.md.
    #[test]
    fn documented_example_decodes() {
        let key = [
            0x80, 0, 0, 0, 0, 0x6d, 0xdd, 0x00, 0, 0, 0, 0, 0, 0, 0, 7, 0x80, 0, 0, 0, 0, 0x6d, 0xdd, 0x03,
        ];
        assert_eq!(parse_chunk_key(&key), Some((7_200_000, SeriesRef(7), 7_200_003)));
        let value = [
            0x01, 0x01, 0x80, 0, 0, 0, 0, 0x6d, 0xdd, 0x03, 0x00, 0x01, 0x86, 0xf4, 0xee, 0x06, 0x3f, 0xf0, 0, 0, 0, 0,
            0, 0, 0x9b, 0xc5, 0x66, 0x12,
        ];
        let (enc, max_t, chunk) = decode_chunk(&value).unwrap();
        assert_eq!((enc, max_t), (1, 7_200_003));
        let samples: Vec<_> = crate::chunk::XorIter::new(chunk).unwrap().collect();
        assert_eq!(samples, vec![(7_200_003, 1.0)]);
    }

    /// The series example in docs/format/blockstore.md.
    #[test]
    fn documented_series_example_decodes() {
        let value = [
            0x01, 0x02, 0x08, b'_', b'_', b'n', b'a', b'm', b'e', b'_', b'_', 0x02, b'u', b'p', 0x03, b'j', b'o', b'b',
            0x04, b'n', b'o', b'd', b'e', 0x51, 0xbd, 0xaf, 0xc6,
        ];
        let labels = Labels::from_pairs(&[("__name__", "up"), ("job", "node")]);
        assert_eq!(decode_series(&value).unwrap(), labels);
        assert_eq!(encode_series(&labels), value);
    }
}
