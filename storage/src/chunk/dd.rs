//! The decimal-delta chunk (encoding 2): how completed chunks are kept in
//! the block store when it is smaller than their XOR form.
//!
//! Exporters write decimals (`2803.62`, `1.756872e+06`); as binary floats
//! their XOR differences look random and cost 4–6 bytes a sample. Here the
//! values of a chunk are scaled by one power of ten into integers, which
//! grow by small, often constant steps, and those steps are written as
//! zig-zag varints with runs of zeros collapsed. Timestamps are written the
//! same way as deltas of deltas. Layout in docs/format/chunk.md.
//!
//! Only chunks whose every value survives the round trip bit for bit are
//! written this way (so never NaN, infinities, the stale marker or −0);
//! everything else stays XOR. Head chunks are always XOR, byte for byte as
//! Prometheus writes them.

use super::ChunkError;
use crate::Timestamp;

/// Encoding byte of the decimal-delta chunk.
pub const ENCODING_DD: u8 = 2;

/// Largest power of ten tried; 10^22 is the largest exact in an f64.
const MAX_EXP: u32 = 18;
/// Integers beyond this lose precision as f64.
const MAX_MANTISSA: f64 = 9_007_199_254_740_992.0; // 2^53

static POW10: [f64; 23] = {
    let mut t = [1.0f64; 23];
    let mut i = 1;
    while i < 23 {
        t[i] = t[i - 1] * 10.0;
        i += 1;
    }
    t
};

fn put_uvarint(out: &mut Vec<u8>, mut x: u64) {
    while x >= 0x80 {
        out.push((x as u8) | 0x80);
        x >>= 7;
    }
    out.push(x as u8);
}

fn zigzag(x: i64) -> u64 {
    ((x << 1) ^ (x >> 63)) as u64
}

fn unzigzag(u: u64) -> i64 {
    ((u >> 1) as i64) ^ -((u & 1) as i64)
}

/// The smallest exponent `e` with `v == m / 10^e` for an integer `m`.
fn decimal_exp(v: f64) -> Option<u32> {
    if !v.is_finite() || (v == 0.0 && v.is_sign_negative()) {
        return None;
    }
    (0..=MAX_EXP).find(|&e| {
        let m = (v * POW10[e as usize]).round();
        m.abs() < MAX_MANTISSA && (m / POW10[e as usize]).to_bits() == v.to_bits()
    })
}

/// Writes a sequence of integers as tokens: a run of `k` zeros is the
/// uvarint `(k - 1) << 1`, a non-zero `x` is `zigzag(x) << 1 | 1`... with
/// `zigzag(x) - 1` so that the smallest steps stay one byte.
fn put_runs(out: &mut Vec<u8>, xs: impl Iterator<Item = i64>) {
    let mut zeros = 0u64;
    for x in xs {
        if x == 0 {
            zeros += 1;
            continue;
        }
        if zeros > 0 {
            put_uvarint(out, (zeros - 1) << 1);
            zeros = 0;
        }
        put_uvarint(out, ((zigzag(x) - 1) << 1) | 1);
    }
    if zeros > 0 {
        put_uvarint(out, (zeros - 1) << 1);
    }
}

/// Encodes samples (strictly increasing timestamps) if every value is a
/// decimal with at most 15–16 significant digits; `None` otherwise.
pub fn encode(samples: &[(Timestamp, f64)]) -> Option<Vec<u8>> {
    let first = samples.first()?;
    let mut e = 0;
    for &(_, v) in samples {
        e = e.max(decimal_exp(v)?);
    }
    let scale = POW10[e as usize];
    let mut ms = Vec::with_capacity(samples.len());
    for &(_, v) in samples {
        let m = (v * scale).round();
        if m.abs() >= MAX_MANTISSA || (m / scale).to_bits() != v.to_bits() {
            return None;
        }
        ms.push(m as i64);
    }
    let mut out = Vec::with_capacity(16 + samples.len());
    out.push(1); // layout version
    put_uvarint(&mut out, samples.len() as u64);
    put_uvarint(&mut out, zigzag(first.0));
    if samples.len() > 1 {
        put_uvarint(&mut out, zigzag(samples[1].0.wrapping_sub(first.0)));
        put_runs(
            &mut out,
            samples.windows(3).map(|w| {
                let d1 = w[1].0.wrapping_sub(w[0].0);
                let d2 = w[2].0.wrapping_sub(w[1].0);
                d2.wrapping_sub(d1)
            }),
        );
    }
    // Values: deltas, or deltas of deltas when that is smaller (steady counters).
    let deltas: Vec<i64> = ms.windows(2).map(|w| w[1].wrapping_sub(w[0])).collect();
    let mut by_delta = Vec::new();
    put_runs(&mut by_delta, deltas.iter().copied());
    let mut by_dod = Vec::new();
    if let Some(&d0) = deltas.first() {
        put_uvarint(&mut by_dod, zigzag(d0));
        put_runs(&mut by_dod, deltas.windows(2).map(|w| w[1].wrapping_sub(w[0])));
    }
    let (mode, stream) = if !by_dod.is_empty() && by_dod.len() < by_delta.len() {
        (1u8, by_dod)
    } else {
        (0u8, by_delta)
    };
    out.push(e as u8);
    out.push(mode);
    put_uvarint(&mut out, zigzag(ms[0]));
    out.extend_from_slice(&stream);
    Some(out)
}

struct Reader<'a> {
    b: &'a [u8],
    i: usize,
}

impl Reader<'_> {
    fn uvarint(&mut self) -> Result<u64, ChunkError> {
        let mut x = 0u64;
        let mut shift = 0;
        loop {
            let c = *self.b.get(self.i).ok_or(ChunkError::Truncated("varint"))?;
            self.i += 1;
            if shift >= 64 {
                return Err(ChunkError::Truncated("varint too long"));
            }
            x |= u64::from(c & 0x7f) << shift;
            if c < 0x80 {
                return Ok(x);
            }
            shift += 7;
        }
    }

    fn byte(&mut self) -> Result<u8, ChunkError> {
        let c = *self.b.get(self.i).ok_or(ChunkError::Truncated("header"))?;
        self.i += 1;
        Ok(c)
    }
}

/// A token stream: runs of zeros and non-zero values.
#[derive(Default)]
struct Runs {
    zeros: u64,
}

impl Runs {
    fn next(&mut self, r: &mut Reader<'_>) -> Result<i64, ChunkError> {
        if self.zeros > 0 {
            self.zeros -= 1;
            return Ok(0);
        }
        let u = r.uvarint()?;
        if u & 1 == 0 {
            self.zeros = u >> 1;
            return Ok(0);
        }
        Ok(unzigzag((u >> 1) + 1))
    }
}

/// Iterator over a decimal-delta chunk. Stops early at damage; see [`DdIter::err`].
pub struct DdIter<'a> {
    r: Reader<'a>,
    n: u64,
    read: u64,
    t: i64,
    dt: i64,
    m: i64,
    dm: i64,
    scale: f64,
    dod_values: bool,
    t_runs: Runs,
    v_runs: Runs,
    err: Option<ChunkError>,
}

impl<'a> DdIter<'a> {
    /// Reads the header.
    pub fn new(b: &'a [u8]) -> Result<DdIter<'a>, ChunkError> {
        let mut r = Reader { b, i: 0 };
        let version = r.byte()?;
        if version != 1 {
            return Err(ChunkError::UnknownEncoding(version));
        }
        let n = r.uvarint()?;
        // The XOR chunks this encoding replaces hold at most 2^16 - 1 samples.
        if n > u64::from(u16::MAX) {
            return Err(ChunkError::Truncated("sample count out of range"));
        }
        Ok(DdIter {
            r,
            n,
            read: 0,
            t: 0,
            dt: 0,
            m: 0,
            dm: 0,
            scale: 1.0,
            dod_values: false,
            t_runs: Runs::default(),
            v_runs: Runs::default(),
            err: None,
        })
    }

    /// Why iteration stopped early, if it did.
    pub fn err(&self) -> Option<ChunkError> {
        self.err.clone()
    }

    /// The timestamps come first in the stream, then the values: the
    /// timestamps are decoded up front into `ts` (a chunk is small).
    fn step(&mut self, ts: &mut Vec<i64>) -> Result<(), ChunkError> {
        // Timestamps.
        self.t = unzigzag(self.r.uvarint()?);
        ts.push(self.t);
        if self.n > 1 {
            self.dt = unzigzag(self.r.uvarint()?);
            self.t = self.t.wrapping_add(self.dt);
            ts.push(self.t);
            for _ in 2..self.n {
                let dod = self.t_runs.next(&mut self.r)?;
                self.dt = self.dt.wrapping_add(dod);
                self.t = self.t.wrapping_add(self.dt);
                ts.push(self.t);
            }
        }
        let e = self.r.byte()?;
        if u32::from(e) > MAX_EXP {
            return Err(ChunkError::Truncated("exponent out of range"));
        }
        self.scale = POW10[e as usize];
        self.dod_values = match self.r.byte()? {
            0 => false,
            1 => true,
            _ => return Err(ChunkError::Truncated("unknown value mode")),
        };
        self.m = unzigzag(self.r.uvarint()?);
        Ok(())
    }
}

/// A decoded decimal-delta chunk: timestamps first, values streamed.
pub struct DdSamples<'a> {
    it: DdIter<'a>,
    ts: Vec<i64>,
}

impl<'a> DdSamples<'a> {
    /// Decodes the header and timestamps of `b`.
    pub fn new(b: &'a [u8]) -> Result<DdSamples<'a>, ChunkError> {
        let mut it = DdIter::new(b)?;
        let mut ts = Vec::with_capacity(it.n.min(4096) as usize);
        if it.n > 0 {
            it.step(&mut ts)?;
        }
        Ok(DdSamples { it, ts })
    }

    /// Number of samples.
    pub fn len_hint(&self) -> u64 {
        self.it.n
    }

    /// Why iteration stopped early, if it did.
    pub fn err(&self) -> Option<ChunkError> {
        self.it.err()
    }
}

impl Iterator for DdSamples<'_> {
    type Item = (Timestamp, f64);

    fn next(&mut self) -> Option<(Timestamp, f64)> {
        let it = &mut self.it;
        if it.read >= it.n || it.err.is_some() {
            return None;
        }
        let i = it.read as usize;
        if i > 0 {
            let x = match (i, it.dod_values) {
                (1, true) => it.r.uvarint().map(unzigzag),
                (_, true) => it.v_runs.next(&mut it.r),
                (_, false) => it.v_runs.next(&mut it.r),
            };
            match x {
                Ok(x) => {
                    if it.dod_values {
                        it.dm = if i == 1 { x } else { it.dm.wrapping_add(x) };
                        it.m = it.m.wrapping_add(it.dm);
                    } else {
                        it.m = it.m.wrapping_add(x);
                    }
                }
                Err(e) => {
                    it.err = Some(e);
                    return None;
                }
            }
        }
        it.read += 1;
        Some((self.ts[i], it.m as f64 / it.scale))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(samples: &[(i64, f64)]) -> Option<usize> {
        let b = encode(samples)?;
        let got: Vec<(i64, u64)> = DdSamples::new(&b).unwrap().map(|(t, v)| (t, v.to_bits())).collect();
        let want: Vec<(i64, u64)> = samples.iter().map(|&(t, v)| (t, v.to_bits())).collect();
        assert_eq!(got, want);
        Some(b.len())
    }

    #[test]
    fn exporter_values_round_trip_bit_for_bit() {
        let t0 = 1_700_000_000_000;
        // What an exporter writes: 2 decimals, parsed from text as a scraper does.
        let cpu: Vec<(i64, f64)> = (0..120)
            .map(|i| {
                let hundredths = 280_362 + i * 667;
                let text = format!("{}.{:02}", hundredths / 100, hundredths % 100);
                (t0 + i * 15_000, text.parse().unwrap())
            })
            .collect();
        let n = round_trip(&cpu).unwrap();
        assert!(n < 120 * 3, "{n} bytes");
        let constant: Vec<(i64, f64)> = (0..120).map(|i| (t0 + i * 15_000, 1.0)).collect();
        assert!(round_trip(&constant).unwrap() < 20);
        let ints: Vec<(i64, f64)> = (0..120)
            .map(|i| (t0 + i * 15_001, 1.756872e6 + (i * i) as f64))
            .collect();
        round_trip(&ints).unwrap();
        round_trip(&[(5, 0.1)]).unwrap();
        round_trip(&[(-5, -1e-9), (7, 3.3), (1 << 40, 1e6)]).unwrap();
        // One exponent per chunk: 1e-9 and 1e15 together need more than 53 bits.
        assert!(encode(&[(1, 1e-9), (2, 1e15)]).is_none());
        round_trip(&[(1, 0.0), (2, 0.0)]).unwrap();
    }

    #[test]
    fn values_without_an_exact_decimal_are_refused() {
        assert!(encode(&[(1, f64::NAN)]).is_none());
        assert!(encode(&[(1, crate::stale_nan())]).is_none());
        assert!(encode(&[(1, f64::INFINITY)]).is_none());
        assert!(encode(&[(1, -0.0)]).is_none());
        // 17 significant digits: no integer below 2^53 times a power of ten.
        assert!(encode(&[(1, 0.1 + 0.2)]).is_none());
        assert!(encode(&[(1, 1e300)]).is_none());
        assert!(encode(&[]).is_none());
    }

    #[test]
    fn damaged_bytes_stop_with_an_error() {
        let b = encode(&[(1, 1.5), (2, 2.5), (3, 4.5)]).unwrap();
        for cut in 0..b.len() {
            match DdSamples::new(&b[..cut]) {
                Err(_) => {}
                Ok(mut it) => {
                    let n = it.by_ref().count();
                    assert!(n < 3 || it.err().is_none());
                    if n < 3 {
                        assert!(it.err().is_some(), "cut at {cut}: stopped silently after {n}");
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod doc_example {
    use super::*;

    /// The example in docs/format/chunk.md, byte for byte.
    #[test]
    fn documented_example_decodes() {
        let bytes = [0x01, 0x03, 0xd0, 0x0f, 0xd0, 0x0f, 0x00, 0x01, 0x00, 0x1e, 0x27, 0x4f];
        let samples = [(1000, 1.5), (2000, 2.5), (3000, 4.5)];
        assert_eq!(encode(&samples).unwrap(), bytes);
        let got: Vec<(i64, f64)> = DdSamples::new(&bytes).unwrap().collect();
        assert_eq!(got, samples);
    }
}
