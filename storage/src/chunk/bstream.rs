//! Most-significant-bit-first bit streams, as Prometheus's `chunkenc/bstream.go`.

/// Appends bits to a byte vector. Bits not yet written in the last byte are zero.
#[derive(Clone, Default)]
pub(crate) struct BitWriter {
    /// Bits still free in the last byte of the stream (0 = the last byte is full).
    free: u8,
}

impl BitWriter {
    /// A writer whose stream already ends with `free` unused bits.
    pub(crate) fn with_free(free: u8) -> Self {
        BitWriter { free }
    }

    #[inline]
    pub(crate) fn write_bit(&mut self, buf: &mut Vec<u8>, bit: bool) {
        if self.free == 0 {
            buf.push(0);
            self.free = 8;
        }
        self.free -= 1;
        if bit {
            *buf.last_mut().expect("pushed above") |= 1 << self.free;
        }
    }

    /// Writes the low `n` bits of `value` (n ≤ 64), most significant first.
    #[inline]
    pub(crate) fn write_bits(&mut self, buf: &mut Vec<u8>, value: u64, mut n: u8) {
        while n > 0 {
            if self.free == 0 {
                buf.push(0);
                self.free = 8;
            }
            let take = self.free.min(n);
            let shift = n - take;
            let bits = ((value >> shift) & ((1u64 << take) - 1)) as u8;
            *buf.last_mut().expect("pushed above") |= bits << (self.free - take);
            self.free -= take;
            n -= take;
        }
    }

    #[inline]
    pub(crate) fn write_byte(&mut self, buf: &mut Vec<u8>, b: u8) {
        self.write_bits(buf, b as u64, 8);
    }
}

/// Reads bits from a byte slice; every read reports running off the end.
#[derive(Clone)]
pub(crate) struct BitReader<'a> {
    data: &'a [u8],
    /// Position in bits from the start of `data`.
    pos: usize,
}

impl<'a> BitReader<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        BitReader { data, pos: 0 }
    }

    /// Bits consumed so far.
    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    #[inline]
    pub(crate) fn read_bit(&mut self) -> Option<bool> {
        let byte = *self.data.get(self.pos >> 3)?;
        let bit = (byte >> (7 - (self.pos & 7))) & 1 == 1;
        self.pos += 1;
        Some(bit)
    }

    /// Reads `n` ≤ 64 bits as the low bits of the result.
    #[inline]
    pub(crate) fn read_bits(&mut self, n: u8) -> Option<u64> {
        if n == 0 {
            return Some(0);
        }
        let n = n as usize;
        if self.pos + n > self.data.len() * 8 {
            return None;
        }
        let i = self.pos >> 3;
        let off = self.pos & 7;
        // Fast path: one unaligned 8-byte load covers the field.
        if off + n <= 64 && i + 8 <= self.data.len() {
            let w = u64::from_be_bytes(self.data[i..i + 8].try_into().expect("8 bytes"));
            self.pos += n;
            return Some((w << off) >> (64 - n));
        }
        let mut out = 0u64;
        let mut need = n;
        while need > 0 {
            let byte = self.data[self.pos >> 3] as u64;
            let avail = 8 - (self.pos & 7);
            let take = avail.min(need);
            let bits = (byte >> (avail - take)) & ((1u64 << take) - 1);
            out = (out << take) | bits;
            self.pos += take;
            need -= take;
        }
        Some(out)
    }

    #[inline]
    pub(crate) fn read_byte(&mut self) -> Option<u8> {
        self.read_bits(8).map(|b| b as u8)
    }

    /// Go's `binary.ReadUvarint` over the bit stream.
    pub(crate) fn read_uvarint(&mut self) -> Option<u64> {
        let mut x = 0u64;
        let mut s = 0u32;
        for i in 0..10 {
            let b = self.read_byte()?;
            if b < 0x80 {
                if i == 9 && b > 1 {
                    return None; // overflows 64 bits
                }
                return Some(x | (b as u64) << s);
            }
            x |= ((b & 0x7f) as u64) << s;
            s += 7;
        }
        None
    }

    /// Go's `binary.ReadVarint` (zig-zag) over the bit stream.
    pub(crate) fn read_varint(&mut self) -> Option<i64> {
        let ux = self.read_uvarint()?;
        let mut x = (ux >> 1) as i64;
        if ux & 1 != 0 {
            x = !x;
        }
        Some(x)
    }
}

/// Go's `binary.PutUvarint`.
pub(crate) fn put_uvarint(w: &mut BitWriter, buf: &mut Vec<u8>, mut x: u64) {
    while x >= 0x80 {
        w.write_byte(buf, (x as u8) | 0x80);
        x >>= 7;
    }
    w.write_byte(buf, x as u8);
}

/// Go's `binary.PutVarint` (zig-zag).
pub(crate) fn put_varint(w: &mut BitWriter, buf: &mut Vec<u8>, x: i64) {
    let mut ux = (x as u64) << 1;
    if x < 0 {
        ux = !ux;
    }
    put_uvarint(w, buf, ux);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_round_trip_across_byte_boundaries() {
        let mut buf = Vec::new();
        let mut w = BitWriter::default();
        let fields: Vec<(u64, u8)> = vec![(1, 1), (0b101, 3), (0x3fff, 14), (u64::MAX, 64), (0, 5), (0x1234, 17)];
        for &(v, n) in &fields {
            w.write_bits(&mut buf, v, n);
        }
        let mut r = BitReader::new(&buf);
        for &(v, n) in &fields {
            let mask = if n == 64 { u64::MAX } else { (1u64 << n) - 1 };
            assert_eq!(r.read_bits(n), Some(v & mask), "field of {n} bits");
        }
    }

    #[test]
    fn varints_match_go() {
        for x in [0i64, 1, -1, 63, -64, 64, 1 << 40, -(1 << 40), i64::MAX, i64::MIN] {
            let mut buf = Vec::new();
            let mut w = BitWriter::default();
            put_varint(&mut w, &mut buf, x);
            assert_eq!(BitReader::new(&buf).read_varint(), Some(x));
        }
        let mut buf = Vec::new();
        put_uvarint(&mut BitWriter::default(), &mut buf, 300);
        assert_eq!(buf, vec![0xac, 0x02]);
    }
}
