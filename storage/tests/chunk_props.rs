//! Property tests of the XOR chunk codec: whatever goes in comes out, bit for bit.

use proptest::prelude::*;
use strata_storage::chunk::{XorChunk, XorIter};
use strata_storage::STALE_NAN_BITS;

/// Timestamps: strictly increasing, with steps from 1 ms to 2^40 ms, including
/// patterns whose delta-of-delta is negative or hits a bucket edge.
fn timestamps() -> impl Strategy<Value = Vec<i64>> {
    let step = prop_oneof![
        4 => Just(15_000i64),
        2 => 1i64..100_000,
        1 => prop::sample::select(vec![8_192i64, 8_193, 65_536, 65_537, 524_288, 524_289, 1 << 20, 1 << 40]),
        1 => 1i64..(1i64 << 40),
    ];
    (-(1i64 << 40)..(1i64 << 40), prop::collection::vec(step, 0..240)).prop_map(|(start, steps)| {
        let mut t = start;
        let mut out = vec![t];
        for s in steps {
            t += s;
            out.push(t);
        }
        out
    })
}

/// Values: random bits (every NaN payload), the stale marker, and the
/// slowly-changing shapes real series have.
fn value() -> impl Strategy<Value = u64> {
    prop_oneof![
        3 => any::<u64>(),
        1 => Just(STALE_NAN_BITS),
        1 => Just(f64::NAN.to_bits()),
        1 => Just((-0.0f64).to_bits()),
        1 => Just(f64::INFINITY.to_bits()),
        3 => (0u32..1000).prop_map(|x| (x as f64).to_bits()),
        2 => Just(1.0f64.to_bits()),
    ]
}

fn series() -> impl Strategy<Value = Vec<(i64, u64)>> {
    timestamps().prop_flat_map(|ts| {
        let n = ts.len();
        prop::collection::vec(value(), n).prop_map(move |vs| ts.iter().copied().zip(vs).collect())
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn round_trip_is_bit_exact(samples in series()) {
        let mut c = XorChunk::new();
        for &(t, v) in &samples {
            c.append(t, f64::from_bits(v));
        }
        let mut it = XorIter::new(c.bytes()).unwrap();
        let got: Vec<(i64, u64)> = it.by_ref().map(|(t, v)| (t, v.to_bits())).collect();
        prop_assert_eq!(it.err(), None);
        prop_assert_eq!(got, samples.clone());
        prop_assert_eq!(c.num_samples() as usize, samples.len());
    }

    #[test]
    fn seek_finds_the_first_sample_at_or_after(samples in series(), probe in any::<i64>()) {
        let mut c = XorChunk::new();
        for &(t, v) in &samples {
            c.append(t, f64::from_bits(v));
        }
        let mut it = XorIter::new(c.bytes()).unwrap();
        let want = samples.iter().find(|s| s.0 >= probe).map(|s| (s.0, s.1));
        prop_assert_eq!(it.seek(probe).map(|(t, v)| (t, v.to_bits())), want);
    }

    #[test]
    fn damaged_bytes_never_panic(samples in series(), flips in prop::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..4), cut in any::<prop::sample::Index>()) {
        let mut c = XorChunk::new();
        for &(t, v) in &samples {
            c.append(t, f64::from_bits(v));
        }
        let mut b = c.bytes().to_vec();
        for (i, x) in flips {
            let i = i.index(b.len());
            b[i] ^= x;
        }
        let b = &b[..cut.index(b.len() + 1)];
        if let Ok(mut it) = XorIter::new(b) {
            for _ in it.by_ref() {}
            let _ = it.err();
        }
        let _ = XorChunk::from_bytes(b);
    }
}

/// Decimals as exporters write them: an integer mantissa and a few decimals, parsed from text.
fn decimal() -> impl Strategy<Value = f64> {
    (-(1i64 << 40)..(1i64 << 40), 0u32..7).prop_map(|(m, d)| {
        let s = if d == 0 {
            m.to_string()
        } else {
            let p = 10i64.pow(d);
            format!(
                "{}{}.{:0w$}",
                if m < 0 { "-" } else { "" },
                m.abs() / p,
                m.abs() % p,
                w = d as usize
            )
        };
        s.parse().unwrap()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// The block store's decimal-delta form of a completed chunk reads back
    /// exactly the XOR chunk's samples, whatever it holds (chunks it cannot
    /// represent stay XOR).
    #[test]
    fn compacted_chunks_read_back_bit_for_bit(
        ts in timestamps(),
        vals in prop::collection::vec(prop_oneof![3 => decimal().prop_map(f64::to_bits), 1 => value()], 241),
    ) {
        let mut c = XorChunk::new();
        for (t, v) in ts.iter().zip(&vals) {
            c.append(*t, f64::from_bits(*v));
        }
        let want: Vec<(i64, u64)> = XorIter::new(c.bytes()).unwrap().map(|(t, v)| (t, v.to_bits())).collect();
        let (enc, bytes) = strata_storage::chunk::compact(c.bytes());
        let got: Vec<(i64, u64)> = strata_storage::chunk::ChunkSamples::new(enc, &bytes)
            .unwrap()
            .map(|(t, v)| (t, v.to_bits()))
            .collect();
        prop_assert_eq!(got, want);
        prop_assert!(bytes.len() <= c.bytes().len());
    }

    /// Damaged decimal-delta bytes never panic the reader.
    #[test]
    fn damaged_decimal_delta_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        if let Ok(mut it) = strata_storage::chunk::DdSamples::new(&bytes) {
            for _ in it.by_ref().take(10_000) {}
            let _ = it.err();
        }
    }
}
