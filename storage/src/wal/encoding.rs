//! Byte-level primitives of the record payload: LEB128 varints (as Go's
//! `encoding/binary` writes them), zig-zag signed varints, little-endian
//! fixed-width integers and length-prefixed byte strings.

use super::record::DecodeError;

/// Appends `x` as an unsigned LEB128 varint (1–10 bytes).
pub(crate) fn put_uvarint(out: &mut Vec<u8>, mut x: u64) {
    while x >= 0x80 {
        out.push(x as u8 | 0x80);
        x >>= 7;
    }
    out.push(x as u8);
}

/// Appends `x` zig-zag encoded, so small negative numbers stay short.
pub(super) fn put_varint(out: &mut Vec<u8>, x: i64) {
    put_uvarint(out, ((x << 1) ^ (x >> 63)) as u64);
}

/// Appends a uvarint length then the bytes.
pub(super) fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_uvarint(out, b.len() as u64);
    out.extend_from_slice(b);
}

/// Reads the primitives back from a payload; every method fails rather than
/// panics when the bytes run out or are malformed.
pub(super) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `buf`.
    pub(super) fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    /// Bytes not read yet.
    pub(super) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// One byte.
    pub(super) fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        let b = *self
            .buf
            .get(self.pos)
            .ok_or(DecodeError::Truncated { at: self.pos, what })?;
        self.pos += 1;
        Ok(b)
    }

    /// An unsigned LEB128 varint of at most 64 bits.
    pub(super) fn uvarint(&mut self, what: &'static str) -> Result<u64, DecodeError> {
        let start = self.pos;
        let mut x = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.u8(what)?;
            // The tenth byte may only carry the single top bit.
            if shift == 63 && b > 1 {
                return Err(DecodeError::VarintOverflow { at: start });
            }
            x |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(x);
            }
        }
        Err(DecodeError::VarintOverflow { at: start })
    }

    /// A zig-zag signed varint.
    pub(super) fn varint(&mut self, what: &'static str) -> Result<i64, DecodeError> {
        let u = self.uvarint(what)?;
        Ok((u >> 1) as i64 ^ -((u & 1) as i64))
    }

    /// A little-endian `u64`.
    pub(super) fn u64_le(&mut self, what: &'static str) -> Result<u64, DecodeError> {
        let b = self.take(8, what)?;
        Ok(u64::from_le_bytes(b.try_into().expect("take returned 8 bytes")))
    }

    /// A count that is about to size a `Vec`: refused if even `min_bytes_each`
    /// per element would not fit in what is left, so damaged data cannot make
    /// the decoder allocate gigabytes.
    pub(super) fn count(&mut self, min_bytes_each: usize, what: &'static str) -> Result<usize, DecodeError> {
        let at = self.pos;
        let n = self.uvarint(what)?;
        if n.saturating_mul(min_bytes_each as u64) > self.remaining() as u64 {
            return Err(DecodeError::CountTooLarge { at, n, what });
        }
        Ok(n as usize)
    }

    /// A uvarint length then that many bytes.
    pub(super) fn bytes(&mut self, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let at = self.pos;
        let n = self.uvarint(what)?;
        if n > self.remaining() as u64 {
            return Err(DecodeError::Truncated { at, what });
        }
        self.take(n as usize, what)
    }

    /// A length-prefixed UTF-8 string.
    pub(super) fn str(&mut self, what: &'static str) -> Result<&'a str, DecodeError> {
        let at = self.pos;
        let b = self.bytes(what)?;
        std::str::from_utf8(b).map_err(|_| DecodeError::InvalidUtf8 { at, what })
    }

    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        if n > self.remaining() {
            return Err(DecodeError::Truncated { at: self.pos, what });
        }
        let b = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_at_every_width() {
        let mut vals: Vec<u64> = (0..64).map(|s| 1u64 << s).collect();
        vals.extend((0..64).map(|s| (1u64 << s) - 1));
        vals.push(u64::MAX);
        let mut buf = Vec::new();
        for &v in &vals {
            put_uvarint(&mut buf, v);
            put_varint(&mut buf, v as i64);
        }
        let mut r = Reader::new(&buf);
        for &v in &vals {
            assert_eq!(r.uvarint("u").unwrap(), v);
            assert_eq!(r.varint("i").unwrap(), v as i64);
        }
        assert_eq!(r.remaining(), 0);
    }

    #[test]
    fn small_negative_varints_stay_short() {
        let mut buf = Vec::new();
        put_varint(&mut buf, -1);
        assert_eq!(buf, [1]);
    }

    #[test]
    fn overlong_varint_is_an_error() {
        let buf = [0xff; 11];
        assert_eq!(
            Reader::new(&buf).uvarint("x"),
            Err(DecodeError::VarintOverflow { at: 0 })
        );
        // Ten bytes whose last one carries more than bit 63.
        let mut buf = [0xff; 10];
        buf[9] = 0x02;
        assert_eq!(
            Reader::new(&buf).uvarint("x"),
            Err(DecodeError::VarintOverflow { at: 0 })
        );
    }

    #[test]
    fn length_beyond_the_end_is_truncation() {
        let mut buf = Vec::new();
        put_uvarint(&mut buf, 1 << 40);
        buf.push(b'a');
        assert_eq!(
            Reader::new(&buf).bytes("s"),
            Err(DecodeError::Truncated { at: 0, what: "s" })
        );
    }

    #[test]
    fn huge_count_is_refused_before_allocating() {
        let mut buf = Vec::new();
        put_uvarint(&mut buf, u64::MAX);
        assert!(matches!(
            Reader::new(&buf).count(1, "n"),
            Err(DecodeError::CountTooLarge { .. })
        ));
    }
}
