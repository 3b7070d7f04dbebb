//! WAL records and their payload encoding (before compression and framing).
//!
//! Payload layout (all varints LEB128, signed ones zig-zag):
//!
//! ```text
//! u8 version (1) | u8 type | body
//! type 1, Commit:    uvarint n_series, n × { varint ref − previous ref (first: − 0),
//!                                            uvarint n_labels, n_labels × { bytes name, bytes value } }
//!                    uvarint n_samples, if n_samples > 0: { uvarint base_ref, varint base_t,
//!                                            n_samples × { varint ref − base_ref, varint t − base_t, u64 LE bits(v) } }
//! type 2, HeadChunk: uvarint ref, bytes chunk
//! bytes = uvarint length then the bytes
//! ```
//!
//! Values are stored as their raw bits so every NaN payload, including the
//! staleness marker, comes back exactly.

use super::encoding::{put_bytes, put_uvarint, put_varint, Reader};
use crate::{Labels, LabelsError, SeriesRef, Timestamp};

/// Version byte that starts every payload this code writes.
pub(super) const PAYLOAD_VERSION: u8 = 1;

const TYPE_COMMIT: u8 = 1;
const TYPE_HEAD_CHUNK: u8 = 2;

/// One sample of a series known by ref.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RefSample {
    /// The series.
    pub r: SeriesRef,
    /// Milliseconds since the epoch.
    pub t: Timestamp,
    /// The value.
    pub v: f64,
}

/// Equal when ref, time and the value's *bits* match: the WAL must give back
/// exactly what it was given, and NaN payloads such as the staleness marker
/// are distinct values here.
impl PartialEq for RefSample {
    fn eq(&self, o: &Self) -> bool {
        self.r == o.r && self.t == o.t && self.v.to_bits() == o.v.to_bits()
    }
}

impl Eq for RefSample {}

/// What one WAL record holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Record {
    /// One appender commit: series created by it (ref + labels) and its samples.
    Commit {
        /// Series first seen in this commit, with the refs the head gave them.
        series: Vec<(SeriesRef, Labels)>,
        /// Every sample of the commit, in append order.
        samples: Vec<RefSample>,
    },
    /// Checkpoint only: the open (not yet persisted) XOR chunk of one head
    /// series, raw bytes.
    HeadChunk {
        /// The series.
        r: SeriesRef,
        /// The chunk's bytes as `XorChunk::bytes` returns them.
        chunk: Vec<u8>,
    },
}

/// Why a payload could not be decoded. Offsets are within the uncompressed payload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum DecodeError {
    /// The payload ended early.
    #[error("payload ends at byte {at} while reading {what}")]
    Truncated {
        /// Offset of the field.
        at: usize,
        /// The field.
        what: &'static str,
    },
    /// A varint longer than 64 bits.
    #[error("varint at byte {at} is longer than 64 bits")]
    VarintOverflow {
        /// Offset of the varint.
        at: usize,
    },
    /// A count larger than the rest of the payload could hold.
    #[error("{what} count {n} at byte {at} exceeds the rest of the payload")]
    CountTooLarge {
        /// Offset of the count.
        at: usize,
        /// The count.
        n: u64,
        /// What was counted.
        what: &'static str,
    },
    /// Written by a newer strata; not corruption.
    #[error("payload version {found} is newer than the supported {supported}")]
    NewerVersion {
        /// The version byte.
        found: u8,
        /// [`PAYLOAD_VERSION`].
        supported: u8,
    },
    /// Version byte 0, which no writer uses.
    #[error("payload version 0 is not a version")]
    ZeroVersion,
    /// A record type this version does not know.
    #[error("unknown record type {0}")]
    UnknownType(u8),
    /// A label string is not UTF-8.
    #[error("{what} at byte {at} is not UTF-8")]
    InvalidUtf8 {
        /// Offset of the string's length.
        at: usize,
        /// Which string.
        what: &'static str,
    },
    /// A label set breaks the [`Labels`] invariants.
    #[error("labels of series {series}: {source}")]
    BadLabels {
        /// The series' ref.
        series: u64,
        /// Which invariant.
        source: LabelsError,
    },
    /// A label with an empty value, which no writer produces (`Labels` drops them).
    #[error("labels of series {series}: empty value for {name:?}")]
    EmptyLabelValue {
        /// The series' ref.
        series: u64,
        /// The label name.
        name: String,
    },
    /// Bytes left after the record's last field.
    #[error("{0} bytes after the end of the record")]
    TrailingBytes(usize),
    /// The compressed bytes are not valid snappy.
    #[error("snappy: {0}")]
    Snappy(#[from] snap::Error),
}

impl Record {
    /// Number of samples carried (0 for a head chunk).
    pub(crate) fn sample_count(&self) -> usize {
        match self {
            Record::Commit { samples, .. } => samples.len(),
            Record::HeadChunk { .. } => 0,
        }
    }

    /// Number of series created (0 for a head chunk).
    pub(crate) fn series_count(&self) -> usize {
        match self {
            Record::Commit { series, .. } => series.len(),
            Record::HeadChunk { .. } => 0,
        }
    }
}

/// Appends the payload of `rec` to `out`.
pub(super) fn encode(rec: &Record, out: &mut Vec<u8>) {
    match rec {
        Record::Commit { series, samples } => encode_commit(series.iter().map(|(r, l)| (*r, l)), samples, out),
        Record::HeadChunk { r, chunk } => {
            out.push(PAYLOAD_VERSION);
            out.push(TYPE_HEAD_CHUNK);
            put_uvarint(out, r.0);
            put_bytes(out, chunk);
        }
    }
}

/// Appends the payload of a commit to `out`, from borrowed parts so the
/// appender need not build a [`Record`].
pub(super) fn encode_commit<'a>(
    series: impl ExactSizeIterator<Item = (SeriesRef, &'a Labels)>,
    samples: &[RefSample],
    out: &mut Vec<u8>,
) {
    out.push(PAYLOAD_VERSION);
    out.push(TYPE_COMMIT);
    put_uvarint(out, series.len() as u64);
    let mut prev = 0u64;
    for (r, labels) in series {
        // Series of one commit usually get consecutive refs: deltas are one byte.
        put_varint(out, r.0.wrapping_sub(prev) as i64);
        prev = r.0;
        put_uvarint(out, labels.len() as u64);
        for (n, v) in labels.iter() {
            put_bytes(out, n.as_bytes());
            put_bytes(out, v.as_bytes());
        }
    }
    put_uvarint(out, samples.len() as u64);
    if let Some(base) = samples.first() {
        put_uvarint(out, base.r.0);
        put_varint(out, base.t);
        for s in samples {
            // Wrapping arithmetic keeps any i64/u64 exact, however far apart.
            put_varint(out, s.r.0.wrapping_sub(base.r.0) as i64);
            put_varint(out, s.t.wrapping_sub(base.t));
            out.extend_from_slice(&s.v.to_bits().to_le_bytes());
        }
    }
}

/// Decodes one uncompressed payload. Never panics, whatever the bytes.
pub(super) fn decode(payload: &[u8]) -> Result<Record, DecodeError> {
    let mut rd = Reader::new(payload);
    match rd.u8("version")? {
        0 => return Err(DecodeError::ZeroVersion),
        PAYLOAD_VERSION => {}
        found => {
            return Err(DecodeError::NewerVersion {
                found,
                supported: PAYLOAD_VERSION,
            })
        }
    }
    let rec = match rd.u8("record type")? {
        TYPE_COMMIT => decode_commit(&mut rd)?,
        TYPE_HEAD_CHUNK => {
            let r = SeriesRef(rd.uvarint("chunk series ref")?);
            let chunk = rd.bytes("chunk bytes")?.to_vec();
            Record::HeadChunk { r, chunk }
        }
        t => return Err(DecodeError::UnknownType(t)),
    };
    match rd.remaining() {
        0 => Ok(rec),
        n => Err(DecodeError::TrailingBytes(n)),
    }
}

fn decode_commit(rd: &mut Reader<'_>) -> Result<Record, DecodeError> {
    // Smallest encodings: a series is a ref delta and a label count (2 bytes),
    // a label two empty strings (2), a sample two deltas and the value (10).
    let n_series = rd.count(2, "series")?;
    let mut series = Vec::with_capacity(n_series);
    let mut prev = 0u64;
    for _ in 0..n_series {
        let r = prev.wrapping_add(rd.varint("series ref")? as u64);
        prev = r;
        let n_labels = rd.count(2, "labels")?;
        let mut pairs = Vec::with_capacity(n_labels);
        for _ in 0..n_labels {
            let name = rd.str("label name")?;
            let value = rd.str("label value")?;
            if value.is_empty() {
                return Err(DecodeError::EmptyLabelValue {
                    series: r,
                    name: name.to_owned(),
                });
            }
            pairs.push((name, value));
        }
        let labels = Labels::new(pairs).map_err(|source| DecodeError::BadLabels { series: r, source })?;
        series.push((SeriesRef(r), labels));
    }
    let n_samples = rd.count(10, "samples")?;
    let mut samples = Vec::with_capacity(n_samples);
    if n_samples > 0 {
        let base_r = rd.uvarint("base ref")?;
        let base_t = rd.varint("base time")?;
        for _ in 0..n_samples {
            let r = base_r.wrapping_add(rd.varint("sample ref")? as u64);
            let t = base_t.wrapping_add(rd.varint("sample time")?);
            let v = f64::from_bits(rd.u64_le("sample value")?);
            samples.push(RefSample { r: SeriesRef(r), t, v });
        }
    }
    Ok(Record::Commit { series, samples })
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::STALE_NAN_BITS;
    use proptest::prelude::*;

    /// Records exercising every field's extremes; shared with the file-level tests.
    pub(in crate::wal) fn sample_records() -> Vec<Record> {
        let big = 1i64 << 40;
        vec![
            Record::Commit {
                series: vec![],
                samples: vec![],
            },
            Record::Commit {
                series: vec![
                    (SeriesRef(7), Labels::from_pairs(&[("__name__", "up"), ("job", "node")])),
                    (
                        SeriesRef(8),
                        Labels::from_pairs(&[("__name__", "up"), ("job", "ünïcödé ✓")]),
                    ),
                    (SeriesRef(3), Labels::default()),
                ],
                samples: vec![
                    RefSample {
                        r: SeriesRef(7),
                        t: big,
                        v: 1.0,
                    },
                    RefSample {
                        r: SeriesRef(8),
                        t: -big,
                        v: f64::from_bits(STALE_NAN_BITS),
                    },
                    RefSample {
                        r: SeriesRef(3),
                        t: 0,
                        v: f64::from_bits(0x7ff8_0000_dead_beef),
                    },
                    RefSample {
                        r: SeriesRef(u64::MAX),
                        t: i64::MAX,
                        v: -0.0,
                    },
                    RefSample {
                        r: SeriesRef(0),
                        t: i64::MIN,
                        v: f64::NEG_INFINITY,
                    },
                ],
            },
            Record::Commit {
                series: vec![],
                samples: vec![RefSample {
                    r: SeriesRef(1),
                    t: 1_700_000_000_000,
                    v: f64::NAN,
                }],
            },
            Record::HeadChunk {
                r: SeriesRef(42),
                chunk: vec![0, 2, 0xd0, 0x0f, 0xff],
            },
            Record::HeadChunk {
                r: SeriesRef(43),
                chunk: vec![],
            },
        ]
    }

    fn round_trip(rec: &Record) -> Record {
        let mut buf = Vec::new();
        encode(rec, &mut buf);
        decode(&buf).unwrap_or_else(|e| panic!("{rec:?} encoded to {buf:?}, decoding failed: {e}"))
    }

    #[test]
    fn every_record_kind_round_trips_bit_exactly() {
        for rec in sample_records() {
            let back = round_trip(&rec);
            assert_eq!(back, rec, "expected {rec:?}, got {back:?}");
        }
    }

    #[test]
    fn borrowed_commit_encodes_like_the_record() {
        let rec = &sample_records()[1];
        let Record::Commit { series, samples } = rec else {
            unreachable!()
        };
        let mut a = Vec::new();
        let mut b = Vec::new();
        encode(rec, &mut a);
        encode_commit(series.iter().map(|(r, l)| (*r, l)), samples, &mut b);
        assert_eq!(a, b);
    }

    #[test]
    fn known_bytes_for_a_small_commit() {
        let rec = Record::Commit {
            series: vec![(SeriesRef(5), Labels::from_pairs(&[("a", "b")]))],
            samples: vec![
                RefSample {
                    r: SeriesRef(5),
                    t: 1000,
                    v: 1.0,
                },
                RefSample {
                    r: SeriesRef(4),
                    t: 999,
                    v: 2.0,
                },
            ],
        };
        let mut buf = Vec::new();
        encode(&rec, &mut buf);
        #[rustfmt::skip]
        let want = [
            1, 1,                       // version, type Commit
            1, 10, 1, 1, b'a', 1, b'b', // 1 series: zig-zag(5), 1 label "a"="b"
            2, 5, 0xd0, 0x0f,           // 2 samples, base ref 5, base t zig-zag(1000)
            0, 0, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, // +0 +0 1.0
            1, 1, 0, 0, 0, 0, 0, 0, 0, 0x40,    // −1 −1 2.0
        ];
        assert_eq!(buf, want);
    }

    #[test]
    fn newer_payload_version_is_reported_as_such() {
        assert_eq!(
            decode(&[2, 1, 0, 0]),
            Err(DecodeError::NewerVersion { found: 2, supported: 1 })
        );
        assert_eq!(decode(&[0]), Err(DecodeError::ZeroVersion));
        assert_eq!(decode(&[1, 9]), Err(DecodeError::UnknownType(9)));
    }

    #[test]
    fn invalid_utf8_and_bad_labels_are_errors() {
        // One series, ref 1, one label whose name is 0xff.
        let bad_utf8 = [1, 1, 1, 2, 1, 1, 0xff, 1, b'x', 0];
        assert!(matches!(decode(&bad_utf8), Err(DecodeError::InvalidUtf8 { .. })));
        let dup = [1, 1, 1, 2, 2, 1, b'a', 1, b'x', 1, b'a', 1, b'y', 0];
        assert!(matches!(decode(&dup), Err(DecodeError::BadLabels { series: 1, .. })));
        let empty_name = [1, 1, 1, 2, 1, 0, 1, b'x', 0];
        assert!(matches!(decode(&empty_name), Err(DecodeError::BadLabels { .. })));
        let empty_value = [1, 1, 1, 2, 1, 1, b'a', 0, 0];
        assert!(matches!(decode(&empty_value), Err(DecodeError::EmptyLabelValue { .. })));
    }

    #[test]
    fn trailing_bytes_are_an_error() {
        let mut buf = Vec::new();
        encode(&sample_records()[0], &mut buf);
        buf.push(0);
        assert_eq!(decode(&buf), Err(DecodeError::TrailingBytes(1)));
    }

    #[test]
    fn every_truncation_of_a_payload_is_an_error() {
        for rec in sample_records() {
            let mut buf = Vec::new();
            encode(&rec, &mut buf);
            for n in 0..buf.len() {
                assert!(decode(&buf[..n]).is_err(), "{rec:?} cut at {n} decoded");
            }
        }
    }

    fn arb_labels() -> impl Strategy<Value = Labels> {
        proptest::collection::btree_map("[a-z_]{1,8}", "\\PC{1,8}", 0..5).prop_map(|m| Labels::new(m).unwrap())
    }

    fn arb_record() -> impl Strategy<Value = Record> {
        let commit = (
            proptest::collection::vec((any::<u64>(), arb_labels()), 0..4),
            proptest::collection::vec((any::<u64>(), any::<i64>(), any::<u64>()), 0..20),
        )
            .prop_map(|(series, samples)| Record::Commit {
                series: series.into_iter().map(|(r, l)| (SeriesRef(r), l)).collect(),
                samples: samples
                    .into_iter()
                    .map(|(r, t, v)| RefSample {
                        r: SeriesRef(r),
                        t,
                        v: f64::from_bits(v),
                    })
                    .collect(),
            });
        let chunk = (any::<u64>(), proptest::collection::vec(any::<u8>(), 0..64))
            .prop_map(|(r, chunk)| Record::HeadChunk { r: SeriesRef(r), chunk });
        prop_oneof![commit, chunk]
    }

    proptest! {
        #[test]
        fn any_record_round_trips(rec in arb_record()) {
            prop_assert_eq!(round_trip(&rec), rec);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = decode(&bytes);
        }

        #[test]
        fn damaged_payloads_never_panic(rec in arb_record(), pos in any::<usize>(), x in 1u8..) {
            let mut buf = Vec::new();
            encode(&rec, &mut buf);
            let i = pos % buf.len();
            buf[i] ^= x;
            let _ = decode(&buf);
        }
    }
}
