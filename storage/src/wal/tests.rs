//! Behaviour of the log as files on disk: what goes in comes back out, across
//! rotation, checkpoints, crashes and damage.

use super::dir::{checkpoint_name, segment_name};
use super::record::tests::sample_records;
use super::segment::{HEADER_LEN, MAGIC};
use super::*;
use crate::{Labels, SeriesRef};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn opts(segment_size: u64) -> WalOptions {
    WalOptions {
        segment_size,
        sync_interval: Duration::ZERO,
    }
}

fn commit(i: u64) -> Record {
    Record::Commit {
        series: vec![(
            SeriesRef(i),
            Labels::new([("__name__", "m"), ("i", &*i.to_string())]).unwrap(),
        )],
        samples: (0..3)
            .map(|k| RefSample {
                r: SeriesRef(i),
                t: 1_700_000_000_000 + k,
                v: (i * 10 + k as u64) as f64,
            })
            .collect(),
    }
}

fn replay_all(dir: &Path) -> (Vec<Record>, ReplayStats) {
    let mut got = Vec::new();
    let stats = Wal::replay(dir, |r| got.push(r)).expect("replay");
    (got, stats)
}

fn segment_files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| dir::parse_segment_name(n).is_some())
        .collect();
    v.sort();
    v
}

fn seg(dir: &Path, i: u64) -> PathBuf {
    dir.join(segment_name(i))
}

/// Byte ranges of the frames in a segment file, found by walking it.
fn frame_ranges(data: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut v = Vec::new();
    let mut off = HEADER_LEN;
    while let segment::Frame::Record { next, .. } = segment::next_frame(data, off) {
        v.push(off..next);
        off = next;
    }
    v
}

/// A log in `dir` with `recs` in segment 1, closed by dropping it.
fn write_segment(dir: &Path, recs: &[Record]) -> Vec<u8> {
    let wal = Wal::open(dir, opts(1 << 20)).unwrap();
    for r in recs {
        wal.log(r).unwrap();
    }
    drop(wal);
    fs::read(seg(dir, 1)).unwrap()
}

#[test]
fn every_record_kind_round_trips_through_a_file() {
    let d = tempfile::tempdir().unwrap();
    let recs = sample_records();
    write_segment(d.path(), &recs);
    let (got, stats) = replay_all(d.path());
    assert_eq!(got, recs);
    assert_eq!(stats.records, recs.len() as u64);
    assert_eq!(stats.samples, 6);
    assert_eq!(stats.series, 3);
    assert_eq!(
        stats.torn_tails + stats.corrupt_records_skipped + stats.segments_moved_aside,
        0
    );
}

#[test]
fn log_commit_writes_the_same_record_as_log() {
    let d = tempfile::tempdir().unwrap();
    let wal = Wal::open(d.path(), opts(1 << 20)).unwrap();
    let l = Labels::from_pairs(&[("job", "a")]);
    let samples = [RefSample {
        r: SeriesRef(1),
        t: 5,
        v: crate::stale_nan(),
    }];
    wal.log_commit(&[(SeriesRef(1), &l)], &samples).unwrap();
    // The appender's own buffer holds owned labels.
    let owned: Vec<(SeriesRef, Labels)> = vec![(SeriesRef(1), l.clone())];
    wal.log_commit(&owned, &samples).unwrap();
    drop(wal);
    let (got, _) = replay_all(d.path());
    let want = Record::Commit {
        series: owned,
        samples: samples.to_vec(),
    };
    assert_eq!(got, [want.clone(), want]);
}

#[test]
fn missing_directory_replays_nothing() {
    let d = tempfile::tempdir().unwrap();
    let (got, stats) = replay_all(&d.path().join("nope"));
    assert!(got.is_empty());
    assert_eq!(stats, ReplayStats::default());
}

#[test]
fn open_starts_a_new_segment_after_the_highest() {
    let d = tempfile::tempdir().unwrap();
    write_segment(d.path(), &[commit(1)]);
    let wal = Wal::open(d.path(), opts(1 << 20)).unwrap();
    assert_eq!(wal.current_segment(), 2);
    wal.log(&commit(2)).unwrap();
    assert_eq!(wal.segment_count(), 2);
    drop(wal);
    assert_eq!(segment_files(d.path()), ["00000001", "00000002"]);
    assert_eq!(replay_all(d.path()).0, [commit(1), commit(2)]);
}

#[test]
fn records_rotate_across_segments_without_splitting() {
    let d = tempfile::tempdir().unwrap();
    let size = 300;
    let wal = Wal::open(d.path(), opts(size)).unwrap();
    let recs: Vec<Record> = (0..50).map(commit).collect();
    for r in &recs {
        wal.log(r).unwrap();
    }
    // One record bigger than a whole segment gets a segment of its own.
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let noise = (0..2000)
        .map(|_| {
            // xorshift: incompressible bytes, so the record stays larger than a segment.
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    let huge = Record::HeadChunk {
        r: SeriesRef(9),
        chunk: noise,
    };
    wal.log(&huge).unwrap();
    wal.log(&commit(99)).unwrap();
    let n = wal.segment_count();
    let total = wal.size_bytes();
    drop(wal);

    let files = segment_files(d.path());
    assert_eq!(files.len(), n);
    assert!(n > 5, "expected many segments of {size} bytes, got {n}");
    let mut on_disk = 0;
    let mut oversized = 0;
    for f in &files {
        let data = fs::read(d.path().join(f)).unwrap();
        on_disk += data.len() as u64;
        // Every segment parses to its end: no record was split.
        let ranges = frame_ranges(&data);
        assert_eq!(ranges.last().map_or(HEADER_LEN, |r| r.end), data.len(), "{f}");
        if data.len() as u64 > size {
            assert_eq!(ranges.len(), 1, "{f} is over size with several records");
            oversized += 1;
        }
    }
    assert_eq!(oversized, 1);
    assert_eq!(on_disk, total);
    let (got, stats) = replay_all(d.path());
    let mut want = recs;
    want.push(huge);
    want.push(commit(99));
    assert_eq!(got, want);
    assert_eq!(stats.last_segment, Some(n as u64));
}

#[test]
fn cut_segment_returns_the_closed_index() {
    let d = tempfile::tempdir().unwrap();
    let wal = Wal::open(d.path(), opts(1 << 20)).unwrap();
    wal.log(&commit(1)).unwrap();
    assert_eq!(wal.cut_segment().unwrap(), 1);
    assert_eq!(wal.cut_segment().unwrap(), 2);
    wal.log(&commit(2)).unwrap();
    assert_eq!(wal.segment_count(), 3);
    drop(wal);
    assert_eq!(replay_all(d.path()).0, [commit(1), commit(2)]);
}

#[test]
fn checkpoint_replays_first_then_later_segments() {
    let d = tempfile::tempdir().unwrap();
    let wal = Wal::open(d.path(), opts(1 << 20)).unwrap();
    for i in 0..5 {
        wal.log(&commit(i)).unwrap();
    }
    let upto = wal.cut_segment().unwrap();
    wal.log(&commit(5)).unwrap();
    let state = vec![
        commit(100),
        Record::HeadChunk {
            r: SeriesRef(100),
            chunk: vec![1, 2, 3],
        },
    ];
    wal.checkpoint(upto, state.clone().into_iter()).unwrap();
    wal.log(&commit(6)).unwrap();
    drop(wal);

    let (got, stats) = replay_all(d.path());
    let mut want = state;
    want.extend([commit(5), commit(6)]);
    assert_eq!(got, want);
    assert_eq!(stats.checkpoint, Some(upto));
}

#[test]
fn checkpoint_deletes_covered_segments_and_older_checkpoints() {
    let d = tempfile::tempdir().unwrap();
    let wal = Wal::open(d.path(), opts(1 << 20)).unwrap();
    for i in 0..3 {
        wal.log(&commit(i)).unwrap();
        wal.cut_segment().unwrap();
    }
    // Segments 1–3 closed, 4 live.
    wal.checkpoint(2, [commit(10)].into_iter()).unwrap();
    assert_eq!(segment_files(d.path()), ["00000003", "00000004"]);
    assert!(d.path().join(checkpoint_name(2)).is_dir());
    assert_eq!(wal.segment_count(), 2);
    let before = wal.size_bytes();

    wal.checkpoint(3, [commit(11)].into_iter()).unwrap();
    assert_eq!(segment_files(d.path()), ["00000004"]);
    assert!(!d.path().join(checkpoint_name(2)).exists());
    assert!(d.path().join(checkpoint_name(3)).is_dir());
    assert_eq!(wal.segment_count(), 1);
    assert!(wal.size_bytes() < before);

    assert!(matches!(
        wal.checkpoint(3, std::iter::empty()),
        Err(WalError::CheckpointNotNewer { upto: 3, newest: 3 })
    ));
    assert!(matches!(
        wal.checkpoint(4, std::iter::empty()),
        Err(WalError::CheckpointCoversLiveSegment { upto: 4, live: 4 })
    ));
    drop(wal);
    assert_eq!(replay_all(d.path()).0, [commit(11)]);
}

#[test]
fn large_checkpoint_spans_several_files() {
    let d = tempfile::tempdir().unwrap();
    let wal = Wal::open(d.path(), opts(500)).unwrap();
    let upto = wal.cut_segment().unwrap();
    let state: Vec<Record> = (0..40).map(commit).collect();
    wal.checkpoint(upto, state.clone().into_iter()).unwrap();
    drop(wal);
    let files = segment_files(&d.path().join(checkpoint_name(upto)));
    assert!(files.len() > 3, "checkpoint files: {files:?}");
    assert_eq!(replay_all(d.path()).0, state);
}

#[test]
fn interrupted_checkpoint_is_ignored_and_cleaned_up() {
    let d = tempfile::tempdir().unwrap();
    write_segment(d.path(), &[commit(1)]);
    // A crash while writing checkpoint 1: a .tmp directory with a file.
    let tmp = d.path().join(format!("{}.tmp", checkpoint_name(1)));
    fs::create_dir(&tmp).unwrap();
    fs::write(tmp.join("00000001"), segment::header()).unwrap();
    assert_eq!(replay_all(d.path()).0, [commit(1)]);
    drop(Wal::open(d.path(), opts(1 << 20)).unwrap());
    assert!(!tmp.exists());
    assert_eq!(replay_all(d.path()).0, [commit(1)]);
}

#[test]
fn segments_left_behind_by_a_crash_after_checkpoint_are_skipped_then_removed() {
    let d = tempfile::tempdir().unwrap();
    let wal = Wal::open(d.path(), opts(1 << 20)).unwrap();
    wal.log(&commit(1)).unwrap();
    let upto = wal.cut_segment().unwrap();
    wal.log(&commit(2)).unwrap();
    wal.checkpoint(upto, [commit(100)].into_iter()).unwrap();
    drop(wal);
    // Put segment 1 back as if its deletion had not happened.
    let d2 = tempfile::tempdir().unwrap();
    write_segment(d2.path(), &[commit(1)]);
    fs::copy(seg(d2.path(), 1), seg(d.path(), 1)).unwrap();

    assert_eq!(replay_all(d.path()).0, [commit(100), commit(2)]);
    let wal = Wal::open(d.path(), opts(1 << 20)).unwrap();
    assert!(!seg(d.path(), 1).exists());
    assert_eq!(wal.current_segment(), 3);
}

#[test]
fn torn_tail_keeps_earlier_records_and_survives_later_segments() {
    let d = tempfile::tempdir().unwrap();
    let data = write_segment(d.path(), &[commit(1), commit(2), commit(3)]);
    let ranges = frame_ranges(&data);
    // Cut the last record in the middle, as a crash during write(2) would.
    let cut = ranges[2].start + 5;
    fs::write(seg(d.path(), 1), &data[..cut]).unwrap();

    let (got, stats) = replay_all(d.path());
    assert_eq!(got, [commit(1), commit(2)]);
    assert_eq!(stats.torn_tails, 1);
    assert_eq!(stats.corrupt_records_skipped, 0);
    assert_eq!(stats.segments_moved_aside, 0);

    // After restart the torn segment is no longer the last one; still a torn tail.
    let wal = Wal::open(d.path(), opts(1 << 20)).unwrap();
    wal.log(&commit(4)).unwrap();
    drop(wal);
    let (got, stats) = replay_all(d.path());
    assert_eq!(got, [commit(1), commit(2), commit(4)]);
    assert_eq!(stats.torn_tails, 1);
    assert_eq!(stats.segments_moved_aside, 0);
    assert!(!d.path().join(dir::CORRUPT_DIR).exists());
}

#[test]
fn zero_filled_tail_is_torn_not_corrupt() {
    let d = tempfile::tempdir().unwrap();
    let mut data = write_segment(d.path(), &[commit(1)]);
    data.extend_from_slice(&[0; 4096]);
    fs::write(seg(d.path(), 1), &data).unwrap();
    let (got, stats) = replay_all(d.path());
    assert_eq!(got, [commit(1)]);
    assert_eq!((stats.torn_tails, stats.segments_moved_aside), (1, 0));
}

#[test]
fn flipped_byte_mid_segment_skips_that_record_and_moves_the_file_aside() {
    let d = tempfile::tempdir().unwrap();
    let wal = Wal::open(d.path(), opts(1 << 20)).unwrap();
    for i in 1..=4 {
        wal.log(&commit(i)).unwrap();
    }
    wal.cut_segment().unwrap();
    wal.log(&commit(5)).unwrap();
    drop(wal);
    let original = fs::read(seg(d.path(), 1)).unwrap();
    let ranges = frame_ranges(&original);
    let mut damaged = original.clone();
    damaged[ranges[1].start + 15] ^= 0x10; // inside the second record's payload
    fs::write(seg(d.path(), 1), &damaged).unwrap();

    let (got, stats) = replay_all(d.path());
    assert_eq!(got, [commit(1), commit(3), commit(4), commit(5)]);
    assert_eq!(stats.corrupt_records_skipped, 1);
    assert_eq!(stats.segments_moved_aside, 1);
    // The damaged file is kept as it was; the intact records stay replayable.
    let aside = d.path().join(dir::CORRUPT_DIR).join("00000001");
    assert_eq!(fs::read(aside).unwrap(), damaged);
    let (again, stats) = replay_all(d.path());
    assert_eq!(again, [commit(1), commit(3), commit(4), commit(5)]);
    assert_eq!(stats.corrupt_records_skipped + stats.segments_moved_aside, 0);
}

#[test]
fn damaged_length_stops_that_segment_but_not_the_next() {
    let d = tempfile::tempdir().unwrap();
    let wal = Wal::open(d.path(), opts(1 << 20)).unwrap();
    for i in 1..=3 {
        wal.log(&commit(i)).unwrap();
    }
    wal.cut_segment().unwrap();
    wal.log(&commit(4)).unwrap();
    drop(wal);
    let mut data = fs::read(seg(d.path(), 1)).unwrap();
    let ranges = frame_ranges(&data);
    data[ranges[1].start + 1] ^= 0x01; // the second record's length
    fs::write(seg(d.path(), 1), &data).unwrap();

    let (got, stats) = replay_all(d.path());
    assert_eq!(got, [commit(1), commit(4)]);
    assert_eq!(stats.corrupt_records_skipped, 1);
    assert_eq!(stats.segments_moved_aside, 1);
    assert_eq!(stats.torn_tails, 0);
}

#[test]
fn garbage_header_is_moved_aside_and_the_rest_replayed() {
    let d = tempfile::tempdir().unwrap();
    let wal = Wal::open(d.path(), opts(1 << 20)).unwrap();
    wal.log(&commit(1)).unwrap();
    wal.cut_segment().unwrap();
    wal.log(&commit(2)).unwrap();
    drop(wal);
    fs::write(seg(d.path(), 1), b"this is not a WAL segment").unwrap();
    let (got, stats) = replay_all(d.path());
    assert_eq!(got, [commit(2)]);
    assert_eq!(stats.segments_moved_aside, 1);
    assert!(!seg(d.path(), 1).exists());
    assert!(d.path().join(dir::CORRUPT_DIR).join("00000001").exists());
}

#[test]
fn newer_segment_version_is_an_error_naming_the_file() {
    let d = tempfile::tempdir().unwrap();
    let mut data = write_segment(d.path(), &[commit(1)]);
    data[7] = 9;
    fs::write(seg(d.path(), 1), &data).unwrap();
    let err = Wal::replay(d.path(), |_| {}).unwrap_err();
    match &err {
        WalError::UnsupportedVersion {
            path,
            offset,
            found,
            supported,
        } => {
            assert_eq!(path, &seg(d.path(), 1));
            assert_eq!((*offset, *found, *supported), (7, 9, 1));
        }
        e => panic!("expected UnsupportedVersion, got {e}"),
    }
    assert!(err.to_string().contains("00000001"), "{err}");
    // Nothing was moved: the file is fine for a newer strata.
    assert_eq!(fs::read(seg(d.path(), 1)).unwrap(), data);
}

#[test]
fn newer_payload_version_is_an_error_naming_file_and_offset() {
    let d = tempfile::tempdir().unwrap();
    write_segment(d.path(), &[commit(1)]);
    // Hand-frame a payload of version 2 after the first record.
    let mut frame = Vec::new();
    segment::encode_frame(&mut snap::raw::Encoder::new(), &[2, 1, 0, 0], &mut frame).unwrap();
    let mut data = fs::read(seg(d.path(), 1)).unwrap();
    let off = data.len() as u64;
    data.extend_from_slice(&frame);
    fs::write(seg(d.path(), 1), &data).unwrap();
    match Wal::replay(d.path(), |_| {}) {
        Err(WalError::UnsupportedVersion {
            offset,
            found: 2,
            supported: 1,
            ..
        }) => {
            assert_eq!(offset, off)
        }
        r => panic!("expected UnsupportedVersion, got {r:?}"),
    }
}

#[test]
fn segment_whose_creation_was_interrupted_is_empty_not_corrupt() {
    let d = tempfile::tempdir().unwrap();
    write_segment(d.path(), &[commit(1)]);
    fs::write(seg(d.path(), 2), &MAGIC[..3]).unwrap();
    let (got, stats) = replay_all(d.path());
    assert_eq!(got, [commit(1)]);
    assert_eq!((stats.torn_tails, stats.segments_moved_aside), (1, 0));
}

#[test]
fn damaged_checkpoint_file_is_moved_aside_and_segments_still_replayed() {
    let d = tempfile::tempdir().unwrap();
    let wal = Wal::open(d.path(), opts(1 << 20)).unwrap();
    let upto = wal.cut_segment().unwrap();
    wal.checkpoint(upto, [commit(1), commit(2)].into_iter()).unwrap();
    wal.log(&commit(3)).unwrap();
    drop(wal);
    let cp = d.path().join(checkpoint_name(upto)).join("00000001");
    let mut data = fs::read(&cp).unwrap();
    data.truncate(data.len() - 1); // a checkpoint is fsynced whole: this is damage
    fs::write(&cp, &data).unwrap();
    let (got, stats) = replay_all(d.path());
    assert_eq!(got, [commit(1), commit(3)]);
    assert_eq!(stats.corrupt_records_skipped, 1);
    assert_eq!(stats.segments_moved_aside, 1);
    let aside = d
        .path()
        .join(dir::CORRUPT_DIR)
        .join(format!("{}-00000001", checkpoint_name(upto)));
    assert_eq!(fs::read(aside).unwrap(), data);
}

/// Replays a copy of `data` as the only segment; the records and stats.
fn replay_bytes(data: &[u8]) -> Result<(Vec<Record>, ReplayStats), WalError> {
    let d = tempfile::tempdir().unwrap();
    fs::write(seg(d.path(), 1), data).unwrap();
    let mut got = Vec::new();
    let stats = Wal::replay(d.path(), |r| got.push(r))?;
    Ok((got, stats))
}

#[test]
fn truncation_at_every_offset_delivers_every_whole_record() {
    let d = tempfile::tempdir().unwrap();
    let recs = sample_records();
    let data = write_segment(d.path(), &recs);
    let ranges = frame_ranges(&data);
    for cut in 0..=data.len() {
        let (got, stats) = replay_bytes(&data[..cut]).unwrap();
        let whole = ranges.iter().filter(|r| r.end <= cut).count();
        assert_eq!(got, recs[..whole], "cut at {cut}");
        let on_boundary = cut == HEADER_LEN || ranges.iter().any(|r| r.end == cut);
        assert_eq!(stats.torn_tails, u64::from(!on_boundary), "cut at {cut}");
        assert_eq!(
            stats.corrupt_records_skipped + stats.segments_moved_aside,
            0,
            "cut at {cut}"
        );
    }
}

#[test]
fn every_single_bit_flip_loses_at_most_the_damaged_record() {
    let d = tempfile::tempdir().unwrap();
    let recs = sample_records();
    let data = write_segment(d.path(), &recs);
    let ranges = frame_ranges(&data);
    for pos in 0..data.len() {
        for bit in 0..8 {
            let mut bad = data.clone();
            bad[pos] ^= 1 << bit;
            let Ok((got, stats)) = replay_bytes(&bad) else {
                // Only the header's version byte can turn into a newer version.
                assert_eq!(pos, 7, "error for a flip at {pos}.{bit}");
                continue;
            };
            let Some(hit) = ranges.iter().position(|r| r.contains(&pos)) else {
                assert!(got.is_empty(), "flip in the header at {pos}.{bit} delivered records");
                assert_eq!(stats.segments_moved_aside, 1);
                continue;
            };
            // CRC32 catches every single-bit error: nothing damaged is
            // delivered, everything before the damage is.
            assert_eq!(got[..hit], recs[..hit], "flip at {pos}.{bit}");
            let rest: Vec<&Record> = recs[hit + 1..].iter().collect();
            let after: Vec<&Record> = got[hit..].iter().collect();
            assert!(
                after.is_empty() || after == rest,
                "flip at {pos}.{bit}: after the damage got {after:?}"
            );
            assert_eq!(stats.corrupt_records_skipped, 1, "flip at {pos}.{bit}");
            assert_eq!(stats.segments_moved_aside, 1, "flip at {pos}.{bit}");
        }
    }
}

mod damage {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Any bytes overwritten anywhere, and any cut: no panic, every record
        /// before the first damaged byte delivered intact, nothing invented.
        #[test]
        fn random_damage_never_panics_or_invents_records(
            hits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
            cut in any::<prop::sample::Index>(),
        ) {
            let d = tempfile::tempdir().unwrap();
            let recs = sample_records();
            let data = write_segment(d.path(), &recs);
            let ranges = frame_ranges(&data);
            let mut bad = data.clone();
            let mut first = data.len();
            for (i, x) in &hits {
                let p = i.index(bad.len());
                if bad[p] != *x {
                    bad[p] = *x;
                    first = first.min(p);
                }
            }
            bad.truncate(cut.index(bad.len() + 1));
            first = first.min(bad.len());
            if let Ok((got, _)) = replay_bytes(&bad) {
                let intact = ranges.iter().filter(|r| r.end <= first).count();
                prop_assert!(got.len() >= intact, "lost intact records: got {} of {}", got.len(), intact);
                prop_assert_eq!(&got[..intact], &recs[..intact]);
                for r in &got[intact..] {
                    prop_assert!(recs.contains(r), "invented record {:?}", r);
                }
            }
        }
    }
}

#[test]
fn concurrent_loggers_lose_nothing() {
    for sync_interval in [Duration::ZERO, Duration::from_millis(5)] {
        let d = tempfile::tempdir().unwrap();
        let wal = Wal::open(
            d.path(),
            WalOptions {
                segment_size: 4096,
                sync_interval,
            },
        )
        .unwrap();
        let threads = 6u64;
        let per = 150u64;
        std::thread::scope(|s| {
            for t in 0..threads {
                let wal = &wal;
                s.spawn(move || {
                    for k in 0..per {
                        wal.log(&commit(t * 1000 + k)).unwrap();
                    }
                });
            }
        });
        assert!(wal.segment_count() > 1);
        drop(wal);
        let (got, stats) = replay_all(d.path());
        assert_eq!(stats.records, threads * per);
        let mut want: Vec<Record> = (0..threads)
            .flat_map(|t| (0..per).map(move |k| commit(t * 1000 + k)))
            .collect();
        // Each thread's own records stay in order; across threads any interleaving.
        for t in 0..threads {
            let mine: Vec<&Record> = got
                .iter()
                .filter(|r| matches!(r, Record::Commit { series, .. } if series[0].0 .0 / 1000 == t))
                .collect();
            let expect: Vec<&Record> = want
                .iter()
                .filter(|r| matches!(r, Record::Commit { series, .. } if series[0].0 .0 / 1000 == t))
                .collect();
            assert_eq!(mine, expect, "thread {t}");
        }
        want.sort_by_key(|r| match r {
            Record::Commit { series, .. } => series[0].0,
            _ => unreachable!(),
        });
        let mut got = got;
        got.sort_by_key(|r| match r {
            Record::Commit { series, .. } => series[0].0,
            _ => unreachable!(),
        });
        assert_eq!(got, want);
    }
}

#[test]
fn wal_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Wal>();
}

// The checked-in example segment: decoding it pins the documented format.

fn fixture_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/wal/00000001")
}

/// The records in `tests/fixtures/wal/00000001`, as `docs/format/wal.md` lists them.
fn fixture_records() -> Vec<Record> {
    let mut one_sample_chunk = crate::chunk::XorChunk::new();
    one_sample_chunk.append(1_700_000_015_000, 1.0);
    vec![
        Record::Commit {
            series: vec![
                (
                    SeriesRef(1),
                    Labels::from_pairs(&[("__name__", "up"), ("instance", "a:9100"), ("job", "node")]),
                ),
                (
                    SeriesRef(2),
                    Labels::from_pairs(&[("__name__", "up"), ("instance", "b:9100"), ("job", "node")]),
                ),
            ],
            samples: vec![
                RefSample {
                    r: SeriesRef(1),
                    t: 1_700_000_000_000,
                    v: 1.0,
                },
                RefSample {
                    r: SeriesRef(2),
                    t: 1_700_000_000_000,
                    v: 0.0,
                },
            ],
        },
        Record::Commit {
            series: vec![],
            samples: vec![
                RefSample {
                    r: SeriesRef(1),
                    t: 1_700_000_015_000,
                    v: 1.0,
                },
                RefSample {
                    r: SeriesRef(2),
                    t: 1_700_000_015_000,
                    v: crate::stale_nan(),
                },
            ],
        },
        Record::Commit {
            series: vec![],
            samples: vec![],
        },
        Record::HeadChunk {
            r: SeriesRef(1),
            chunk: one_sample_chunk.bytes().to_vec(),
        },
    ]
}

#[test]
#[ignore = "regenerates the checked-in fixture; run by hand after a deliberate format change"]
fn generate_fixture_segment() {
    let d = tempfile::tempdir().unwrap();
    let data = write_segment(d.path(), &fixture_records());
    fs::create_dir_all(fixture_path().parent().unwrap()).unwrap();
    fs::write(fixture_path(), data).unwrap();
}

#[test]
fn checked_in_segment_decodes_to_its_documented_records() {
    let data = fs::read(fixture_path()).expect("tests/fixtures/wal/00000001 is checked in");
    assert_eq!(&data[..HEADER_LEN], b"STRAWAL\x01");
    let (got, stats) = replay_bytes(&data).unwrap();
    assert_eq!(got, fixture_records());
    assert_eq!(
        stats.torn_tails + stats.corrupt_records_skipped + stats.segments_moved_aside,
        0
    );
    assert_eq!(stats.bytes, data.len() as u64);
}
