//! Prometheus's XOR float chunk (encoding 1), byte for byte (spec §5.1).
//!
//! Layout: 2-byte big-endian sample count, then a bit stream: the first
//! timestamp as a zig-zag varint and the first value's 64 raw bits; the second
//! timestamp as an unsigned varint delta; later timestamps as
//! delta-of-deltas in 0/14/17/20/64-bit buckets; every value after the first
//! XORed with its predecessor and written with a leading/trailing-zero window.

use super::bstream::{put_uvarint, put_varint, BitReader, BitWriter};
use super::ChunkError;
use crate::Timestamp;

/// An XOR chunk that samples can be appended to.
#[derive(Clone)]
pub struct XorChunk {
    /// Header (2 bytes) then the bit stream.
    b: Vec<u8>,
    w: BitWriter,
    t: i64,
    v: u64,
    t_delta: u64,
    leading: u8,
    trailing: u8,
}

impl Default for XorChunk {
    fn default() -> Self {
        Self::new()
    }
}

impl XorChunk {
    /// An empty chunk.
    pub fn new() -> Self {
        Self::with_capacity(2)
    }

    /// An empty chunk with room for `cap` bytes before it reallocates.
    pub fn with_capacity(cap: usize) -> Self {
        let mut b = Vec::with_capacity(cap.max(2));
        b.extend_from_slice(&[0, 0]);
        XorChunk {
            b,
            w: BitWriter::default(),
            t: 0,
            v: 0,
            t_delta: 0,
            leading: 0xff,
            trailing: 0,
        }
    }

    /// Reopens encoded bytes for appending. One decoding pass restores the
    /// appender's state; the bytes are adopted as they are, not re-encoded.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ChunkError> {
        let mut it = XorIter::new(bytes)?;
        for _ in it.by_ref() {}
        if let Some(e) = it.err() {
            return Err(e);
        }
        let used_bits = it.r.position();
        let used = 2 + used_bits.div_ceil(8);
        if used != bytes.len() {
            return Err(ChunkError::Truncated("bytes follow the last sample"));
        }
        let free = ((8 - used_bits % 8) % 8) as u8;
        Ok(XorChunk {
            b: bytes.to_vec(),
            w: BitWriter::with_free(free),
            t: it.t,
            v: it.v,
            t_delta: it.t_delta,
            leading: if it.total > 1 && it.leading_set {
                it.leading
            } else {
                0xff
            },
            trailing: it.trailing,
        })
    }

    /// Number of samples held.
    pub fn num_samples(&self) -> u16 {
        u16::from_be_bytes([self.b[0], self.b[1]])
    }

    /// The encoded chunk: header and bit stream.
    pub fn bytes(&self) -> &[u8] {
        &self.b
    }

    /// Heap bytes held, including unused capacity.
    pub fn heap_bytes(&self) -> usize {
        self.b.capacity()
    }

    /// Releases spare capacity (for chunks that are complete).
    pub fn shrink(&mut self) {
        self.b.shrink_to_fit();
    }

    /// Iterates the samples.
    pub fn iter(&self) -> XorIter<'_> {
        XorIter::new(&self.b).expect("a chunk we encoded has a header")
    }

    /// Timestamp of the newest sample (meaningless when empty).
    pub fn last_t(&self) -> i64 {
        self.t
    }

    /// Value of the newest sample (meaningless when empty).
    pub fn last_v(&self) -> f64 {
        f64::from_bits(self.v)
    }

    /// Appends a sample. The caller guarantees `t` is greater than the last
    /// timestamp; the chunk itself does not check (the head does, once).
    /// Panics if the chunk already holds 65535 samples.
    pub fn append(&mut self, t: Timestamp, v: f64) {
        let num = self.num_samples();
        let vb = v.to_bits();
        let b = &mut self.b;
        let w = &mut self.w;
        let mut t_delta = 0;
        match num {
            0 => {
                put_varint(w, b, t);
                w.write_bits(b, vb, 64);
            }
            1 => {
                t_delta = t.wrapping_sub(self.t) as u64;
                put_uvarint(w, b, t_delta);
                write_xor(w, b, vb, self.v, &mut self.leading, &mut self.trailing);
            }
            _ => {
                t_delta = t.wrapping_sub(self.t) as u64;
                let dod = t_delta.wrapping_sub(self.t_delta) as i64;
                if dod == 0 {
                    w.write_bit(b, false);
                } else if bit_range(dod, 14) {
                    w.write_bits(b, 0b10, 2);
                    w.write_bits(b, dod as u64, 14);
                } else if bit_range(dod, 17) {
                    w.write_bits(b, 0b110, 3);
                    w.write_bits(b, dod as u64, 17);
                } else if bit_range(dod, 20) {
                    w.write_bits(b, 0b1110, 4);
                    w.write_bits(b, dod as u64, 20);
                } else {
                    w.write_bits(b, 0b1111, 4);
                    w.write_bits(b, dod as u64, 64);
                }
                write_xor(w, b, vb, self.v, &mut self.leading, &mut self.trailing);
            }
        }
        self.t = t;
        self.v = vb;
        self.t_delta = t_delta;
        let n = (num + 1).to_be_bytes();
        self.b[0] = n[0];
        self.b[1] = n[1];
    }
}

/// Whether `x` fits the `nbits`-wide dod bucket: `−(2^(n−1)−1) ≤ x ≤ 2^(n−1)`.
#[inline]
fn bit_range(x: i64, nbits: u8) -> bool {
    let half = 1i64 << (nbits - 1);
    -(half - 1) <= x && x <= half
}

#[inline]
fn write_xor(w: &mut BitWriter, b: &mut Vec<u8>, new: u64, cur: u64, leading: &mut u8, trailing: &mut u8) {
    let delta = new ^ cur;
    if delta == 0 {
        w.write_bit(b, false);
        return;
    }
    w.write_bit(b, true);
    // Prometheus clamps leading zeros to 31 so they fit 5 bits.
    let new_leading = (delta.leading_zeros() as u8).min(31);
    let new_trailing = delta.trailing_zeros() as u8;
    if *leading != 0xff && new_leading >= *leading && new_trailing >= *trailing {
        w.write_bit(b, false);
        w.write_bits(b, delta >> *trailing, 64 - *leading - *trailing);
        return;
    }
    *leading = new_leading;
    *trailing = new_trailing;
    w.write_bit(b, true);
    w.write_bits(b, new_leading as u64, 5);
    let sigbits = 64 - new_leading - new_trailing;
    // 64 significant bits are written as 0: the field has 6 bits.
    w.write_bits(b, sigbits as u64, 6);
    w.write_bits(b, delta >> new_trailing, sigbits);
}

/// Decodes an XOR chunk. Yields `(t, v)`; on malformed input it stops and
/// [`XorIter::err`] says why.
#[derive(Clone)]
pub struct XorIter<'a> {
    r: BitReader<'a>,
    total: u16,
    read: u16,
    t: i64,
    v: u64,
    t_delta: u64,
    leading: u8,
    trailing: u8,
    /// Whether a leading/trailing window has been read (the appender's
    /// `leading != 0xff`).
    leading_set: bool,
    err: Option<ChunkError>,
}

impl<'a> XorIter<'a> {
    /// Starts decoding `bytes` (header included).
    pub fn new(bytes: &'a [u8]) -> Result<XorIter<'a>, ChunkError> {
        if bytes.len() < 2 {
            return Err(ChunkError::Truncated("no sample-count header"));
        }
        Ok(XorIter {
            r: BitReader::new(&bytes[2..]),
            total: u16::from_be_bytes([bytes[0], bytes[1]]),
            read: 0,
            t: 0,
            v: 0,
            t_delta: 0,
            leading: 0,
            trailing: 0,
            leading_set: false,
            err: None,
        })
    }

    /// Number of samples the header announces.
    pub fn len_hint(&self) -> u16 {
        self.total
    }

    /// Why decoding stopped early, if it did.
    pub fn err(&self) -> Option<ChunkError> {
        self.err.clone()
    }

    /// Advances to the first sample with timestamp ≥ `t` and returns it.
    pub fn seek(&mut self, t: Timestamp) -> Option<(Timestamp, f64)> {
        if self.read > 0 && self.t >= t {
            return Some((self.t, f64::from_bits(self.v)));
        }
        self.find(|&(st, _)| st >= t)
    }

    fn fail(&mut self, what: &'static str) -> Option<(Timestamp, f64)> {
        self.err = Some(ChunkError::Truncated(what));
        self.read = self.total;
        None
    }

    fn read_value(&mut self) -> Option<()> {
        if !self.r.read_bit()? {
            return Some(());
        }
        if self.r.read_bit()? {
            self.leading = self.r.read_bits(5)? as u8;
            let mut mbits = self.r.read_bits(6)? as u8;
            if mbits == 0 {
                mbits = 64;
            }
            if self.leading + mbits > 64 {
                return None;
            }
            self.trailing = 64 - self.leading - mbits;
            self.leading_set = true;
        }
        let mbits = 64u8.checked_sub(self.leading + self.trailing)?;
        let bits = self.r.read_bits(mbits)?;
        self.v ^= bits.checked_shl(self.trailing as u32).unwrap_or(0);
        Some(())
    }

    fn step(&mut self) -> Option<()> {
        match self.read {
            0 => {
                self.t = self.r.read_varint()?;
                self.v = self.r.read_bits(64)?;
            }
            1 => {
                self.t_delta = self.r.read_uvarint()?;
                self.t = self.t.wrapping_add(self.t_delta as i64);
                self.read_value()?;
            }
            _ => {
                let mut d = 0u8;
                for _ in 0..4 {
                    d <<= 1;
                    if !self.r.read_bit()? {
                        break;
                    }
                    d |= 1;
                }
                let sz = match d {
                    0b0 => 0,
                    0b10 => 14,
                    0b110 => 17,
                    0b1110 => 20,
                    _ => 64,
                };
                let dod = if sz == 0 {
                    0
                } else if sz == 64 {
                    self.r.read_bits(64)? as i64
                } else {
                    let mut bits = self.r.read_bits(sz)?;
                    // Negative values come back as large unsigned ones.
                    if bits > (1 << (sz - 1)) {
                        bits = bits.wrapping_sub(1 << sz);
                    }
                    bits as i64
                };
                self.t_delta = (self.t_delta as i64).wrapping_add(dod) as u64;
                self.t = self.t.wrapping_add(self.t_delta as i64);
                self.read_value()?;
            }
        }
        Some(())
    }
}

impl Iterator for XorIter<'_> {
    type Item = (Timestamp, f64);

    #[inline]
    fn next(&mut self) -> Option<(Timestamp, f64)> {
        if self.read >= self.total {
            return None;
        }
        if self.step().is_none() {
            return self.fail("bit stream ends before the header's sample count");
        }
        self.read += 1;
        Some((self.t, f64::from_bits(self.v)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::STALE_NAN_BITS;

    fn round_trip(samples: &[(i64, f64)]) {
        let mut c = XorChunk::new();
        for &(t, v) in samples {
            c.append(t, v);
        }
        let mut it = c.iter();
        let got: Vec<(i64, u64)> = it.by_ref().map(|(t, v)| (t, v.to_bits())).collect();
        let want: Vec<(i64, u64)> = samples.iter().map(|&(t, v)| (t, v.to_bits())).collect();
        assert_eq!(it.err(), None);
        assert_eq!(got, want);
        let mut reopened = XorChunk::from_bytes(c.bytes()).unwrap();
        assert_eq!(reopened.bytes(), c.bytes());
        // Appending to the reopened chunk gives the same bytes as appending to the original.
        let mut orig = c.clone();
        let last = samples.last().map_or(0, |s| s.0);
        for (i, v) in [3.25, 3.25, -1e300, 7.0].into_iter().enumerate() {
            orig.append(last + 1 + i as i64 * 1000, v);
            reopened.append(last + 1 + i as i64 * 1000, v);
        }
        assert_eq!(reopened.bytes(), orig.bytes());
    }

    #[test]
    fn one_sample_chunk() {
        round_trip(&[(1_700_000_000_000, 42.5)]);
    }

    #[test]
    fn every_dod_bucket_and_sign() {
        let mut t = 1_000i64;
        let mut d = 15_000i64;
        let mut s = vec![(t, 1.0)];
        for dod in [
            0,
            1,
            -1,
            8192,
            -8191,
            8193,
            -8192,
            65536,
            -65535,
            65537,
            524288,
            -524287,
            524289,
            -524288,
            1 << 40,
            -(1 << 40),
        ] {
            d += dod;
            t += d;
            s.push((t, t as f64 * 0.5));
        }
        round_trip(&s);
    }

    #[test]
    fn stale_marker_and_nan_payloads_keep_their_bits() {
        round_trip(&[
            (1, 1.0),
            (2, f64::from_bits(STALE_NAN_BITS)),
            (3, f64::from_bits(0x7ff8_0000_0000_0001)),
            (4, f64::NAN),
            (5, -0.0),
            (6, f64::INFINITY),
        ]);
    }

    #[test]
    fn known_bytes_for_a_tiny_series() {
        // Two samples, hand-derived from spec §5.1: varint(1000)=0xd0 0x0f,
        // 64 raw bits of 1.0, uvarint(15)=0x0f, then an unchanged value = bit 0.
        let mut c = XorChunk::new();
        c.append(1000, 1.0);
        c.append(1015, 1.0);
        assert_eq!(c.bytes(), &[0, 2, 0xd0, 0x0f, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0, 0x0f, 0x00]);
    }

    #[test]
    fn seek_lands_on_first_sample_at_or_after() {
        let mut c = XorChunk::new();
        for i in 0..10 {
            c.append(i * 10, i as f64);
        }
        let mut it = c.iter();
        assert_eq!(it.seek(35), Some((40, 4.0)));
        assert_eq!(it.seek(20), Some((40, 4.0)));
        assert_eq!(it.next(), Some((50, 5.0)));
        assert_eq!(it.seek(1000), None);
    }

    #[test]
    fn truncated_bytes_give_an_error_not_a_panic() {
        let mut c = XorChunk::new();
        for i in 0..50 {
            c.append(i * 1000 + (i * i) % 7, (i as f64).sqrt());
        }
        let bytes = c.bytes();
        for cut in 0..bytes.len() {
            match XorIter::new(&bytes[..cut]) {
                Err(_) => assert!(cut < 2),
                Ok(mut it) => {
                    let n = it.by_ref().count();
                    assert!(n < 50 || cut == bytes.len());
                    assert!(it.err().is_some() || n == 50, "cut {cut}");
                }
            }
        }
    }
}
