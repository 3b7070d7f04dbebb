//! The database as a user of the crate sees it.

use std::time::Duration;

use strata_storage::{is_stale_nan, stale_nan, AppendError, Db, Error, Labels, MatchOp, Matcher, Options};

fn opts() -> Options {
    Options {
        maintenance_interval: None,
        ..Options::default()
    }
}

fn l(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(pairs)
}

fn samples(db: &Db, m: &[Matcher]) -> Vec<(String, Vec<(i64, f64)>)> {
    db.querier(i64::MIN, i64::MAX)
        .select(m)
        .unwrap()
        .iter()
        .map(|s| (s.labels.to_string(), s.collect_samples().unwrap()))
        .collect()
}

#[test]
fn committed_samples_are_read_back_in_label_order() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), opts()).unwrap();
    let mut app = db.appender();
    for (i, inst) in ["b:9100", "a:9100", "c:9100"].iter().enumerate() {
        let labels = l(&[("__name__", "up"), ("instance", inst), ("job", "node")]);
        for k in 0..300 {
            app.append_labels(&labels, k * 15_000, (k + i as i64) as f64).unwrap();
        }
    }
    assert_eq!(app.commit().unwrap().appended, 900);
    let got = samples(&db, &[Matcher::equal("job", "node")]);
    let names: Vec<_> = got.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        vec![
            r#"{__name__="up", instance="a:9100", job="node"}"#,
            r#"{__name__="up", instance="b:9100", job="node"}"#,
            r#"{__name__="up", instance="c:9100", job="node"}"#,
        ]
    );
    assert_eq!(got[0].1.len(), 300);
    assert_eq!(got[0].1[299], (299 * 15_000, 300.0));
    let q = db
        .querier(15_000, 45_000)
        .select(&[Matcher::equal("instance", "a:9100")])
        .unwrap();
    assert_eq!(
        q[0].collect_samples().unwrap(),
        vec![(15_000, 2.0), (30_000, 3.0), (45_000, 4.0)]
    );
}

#[test]
fn rejected_samples_follow_prometheus_rules() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), opts()).unwrap();
    let s = l(&[("__name__", "x")]);
    let mut app = db.appender();
    let r = app.append_labels(&s, 10_000_000, 1.0).unwrap();
    app.commit().unwrap();
    let mut app = db.appender();
    assert_eq!(
        app.append(r, 10_000_000, 1.0),
        Ok(()),
        "identical duplicate is accepted"
    );
    assert_eq!(app.append(r, 10_000_000, 2.0), Err(AppendError::Duplicate));
    assert_eq!(app.append(r, 9_999_999, 2.0), Err(AppendError::OutOfOrder));
    let other = app.series_ref(&l(&[("__name__", "y")]));
    assert_eq!(
        app.append(other, 10_000_000 - 3_600_001, 1.0),
        Err(AppendError::OutOfBounds)
    );
    assert_eq!(
        app.append(strata_storage::SeriesRef(999), 1, 1.0),
        Err(AppendError::UnknownSeries(999))
    );
    app.commit().unwrap();
    let st = db.stats();
    assert_eq!(
        (
            st.duplicate_samples_total,
            st.out_of_order_samples_total,
            st.out_of_bounds_samples_total
        ),
        (1, 1, 1)
    );
    assert_eq!(
        samples(&db, &[Matcher::equal("__name__", "x")])[0].1,
        vec![(10_000_000, 1.0)]
    );
}

#[test]
fn rollback_discards_the_batch() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), opts()).unwrap();
    let mut app = db.appender();
    app.append_labels(&l(&[("__name__", "x")]), 1, 1.0).unwrap();
    app.rollback();
    assert!(samples(&db, &[Matcher::equal("__name__", "x")]).is_empty());
}

#[test]
fn series_of_a_rolled_back_batch_survive_a_restart_with_later_samples() {
    let dir = tempfile::tempdir().unwrap();
    let labels = l(&[("__name__", "up"), ("job", "a")]);
    {
        let db = Db::open(dir.path(), opts()).unwrap();
        // The batch that created the series is refused; the series stays.
        let mut app = db.appender();
        app.append_labels(&labels, 1_000, 1.0).unwrap();
        app.rollback();
        // A later batch finds it in the head and only logs samples.
        let mut app = db.appender();
        app.append_labels(&labels, 2_000, 2.0).unwrap();
        app.commit().unwrap();
        // Dropped without commit: a rollback too.
        let mut app = db.appender();
        app.append_labels(&l(&[("__name__", "up"), ("job", "b")]), 2_000, 1.0)
            .unwrap();
        drop(app);
        let mut app = db.appender();
        app.append_labels(&l(&[("__name__", "up"), ("job", "b")]), 3_000, 3.0)
            .unwrap();
        app.commit().unwrap();
        db.close().unwrap();
    }
    let db = Db::open(dir.path(), opts()).unwrap();
    assert_eq!(
        samples(&db, &[Matcher::equal("__name__", "up")]),
        vec![
            (r#"{__name__="up", job="a"}"#.to_string(), vec![(2_000, 2.0)]),
            (r#"{__name__="up", job="b"}"#.to_string(), vec![(3_000, 3.0)]),
        ]
    );
    assert_eq!(db.stats().wal_replay_unknown_series_total, 0);
}

#[test]
fn samples_logged_before_their_series_record_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let labels = l(&[("__name__", "up"), ("job", "a")]);
    {
        let db = Db::open(dir.path(), opts()).unwrap();
        // The creator has not committed yet when another batch for the same
        // series commits: the WAL holds samples before the series record.
        let mut creator = db.appender();
        creator.append_labels(&labels, 1_000, 1.0).unwrap();
        let mut other = db.appender();
        other.append_labels(&labels, 2_000, 2.0).unwrap();
        other.commit().unwrap();
        creator.commit().unwrap();
        db.close().unwrap();
    }
    let db = Db::open(dir.path(), opts()).unwrap();
    // The creator's sample lost the race at commit (older than the newest);
    // the other batch's sample must not be lost on replay.
    assert_eq!(
        samples(&db, &[Matcher::equal("job", "a")]),
        vec![(r#"{__name__="up", job="a"}"#.to_string(), vec![(2_000, 2.0)])]
    );
    assert_eq!(db.stats().wal_replay_unknown_series_total, 0);
}

#[test]
fn restart_replays_the_wal_and_checkpoints_keep_everything() {
    let dir = tempfile::tempdir().unwrap();
    let series: Vec<Labels> = (0..50)
        .map(|i| l(&[("__name__", "m"), ("i", &i.to_string())]))
        .collect();
    let write = |db: &Db, from: i64, to: i64| {
        for k in from..to {
            let mut app = db.appender();
            for s in &series {
                app.append_labels(s, k * 10_000, k as f64).unwrap();
            }
            app.commit().unwrap();
        }
    };
    {
        let db = Db::open(dir.path(), opts()).unwrap();
        write(&db, 0, 1000); // several chunks per series, some flushed
        db.maintain();
        db.checkpoint().unwrap();
        write(&db, 1000, 1100);
        // The unclean case (SIGKILL) is tests/crash.rs; here the WAL after
        // the checkpoint is replayed on top of the checkpoint.
        db.close().unwrap();
    }
    let db = Db::open(dir.path(), opts()).unwrap();
    let got = samples(&db, &[Matcher::equal("__name__", "m")]);
    assert_eq!(got.len(), 50);
    for (name, s) in &got {
        assert_eq!(s.len(), 1100, "{name}");
        assert!(s
            .iter()
            .enumerate()
            .all(|(k, &(t, v))| t == k as i64 * 10_000 && v == k as f64));
    }
    assert_eq!(db.stats().head_series, 50);
    db.close().unwrap();
    let db = Db::open(dir.path(), opts()).unwrap();
    assert_eq!(samples(&db, &[Matcher::equal("i", "7")])[0].1.len(), 1100);
}

#[test]
fn latest_reads_the_newest_sample_in_the_window_in_label_order() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), opts()).unwrap();
    let mut app = db.appender();
    app.append_labels(&l(&[("__name__", "b")]), 1_000, 1.0).unwrap();
    app.append_labels(&l(&[("__name__", "b")]), 2_000, 2.0).unwrap();
    app.append_labels(&l(&[("__name__", "a")]), 1_500, 3.0).unwrap();
    app.append_labels(&l(&[("__name__", "c")]), 100, 4.0).unwrap();
    app.append_labels(&l(&[("__name__", "d")]), 1_000, 5.0).unwrap();
    app.append_labels(&l(&[("__name__", "d")]), 1_900, stale_nan()).unwrap();
    app.append_labels(&l(&[("__name__", "e")]), 1_000, 6.0).unwrap();
    app.append_labels(&l(&[("__name__", "e")]), 9_000, 7.0).unwrap();
    app.commit().unwrap();
    let latest = db.latest(&[], 1_000, 2_000).unwrap();
    let got: Vec<(String, i64, u64)> = latest
        .iter()
        .map(|s| (s.labels.to_labels().to_string(), s.t, s.v.to_bits()))
        .collect();
    assert_eq!(got.len(), 4, "{got:?}");
    assert_eq!(got[0], (r#"{__name__="a"}"#.into(), 1_500, 3.0f64.to_bits()));
    assert_eq!(got[1], (r#"{__name__="b"}"#.into(), 2_000, 2.0f64.to_bits()));
    assert_eq!(got[2].1, 1_900);
    assert!(
        is_stale_nan(f64::from_bits(got[2].2)),
        "the stale marker is returned; callers decide"
    );
    // A series with a sample after the window falls back to its newest sample inside it.
    assert_eq!(got[3], (r#"{__name__="e"}"#.into(), 1_000, 6.0f64.to_bits()));
}

#[test]
fn label_names_and_values_come_from_the_index() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), opts()).unwrap();
    let mut app = db.appender();
    app.append_labels(&l(&[("__name__", "up"), ("job", "a")]), 1, 1.0)
        .unwrap();
    app.append_labels(&l(&[("__name__", "up"), ("job", "b"), ("zone", "z")]), 1, 1.0)
        .unwrap();
    app.commit().unwrap();
    assert_eq!(db.label_names(&[]), vec!["__name__", "job", "zone"]);
    assert_eq!(db.label_values("job", &[]), vec!["a", "b"]);
    db.rebuild_index().unwrap();
    let re = Matcher::new(MatchOp::Regex, "job", "b|c").unwrap();
    assert_eq!(db.label_values("zone", &[re]), vec!["z"]);
    assert_eq!(db.stats().index_tail_series, 0);
    assert_eq!(db.stats().index_series, 2);
}

#[test]
fn retention_drops_whole_old_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let h = 3_600_000i64;
    let db = Db::open(
        dir.path(),
        Options {
            retention_time: Some(6 * h),
            ..opts()
        },
    )
    .unwrap();
    let s = l(&[("__name__", "r")]);
    for k in 0..(24 * 60) {
        let mut app = db.appender();
        app.append_labels(&s, k * 60_000, k as f64).unwrap();
        app.commit().unwrap();
    }
    db.maintain();
    let got = &samples(&db, &[Matcher::equal("__name__", "r")])[0].1;
    // Newest sample at 23:59; cutoff 17:59 → blocks before 16:00 are gone.
    assert_eq!(got.first().unwrap().0, 16 * h);
    assert_eq!(got.last().unwrap().0, 24 * h - 60_000);
    assert!(db.stats().retention_deletions_total >= 1);
}

#[test]
fn a_newer_format_is_refused_with_both_versions() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("FORMAT"), "strata-tsdb 99\n").unwrap();
    let e = Db::open(dir.path(), opts()).err().unwrap();
    assert!(
        matches!(
            e,
            Error::FormatTooNew {
                found: 99,
                supported: 1,
                ..
            }
        ),
        "{e}"
    );
    assert!(
        e.to_string().contains("99") && e.to_string().contains("version 1"),
        "{e}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("FORMAT")).unwrap(),
        "strata-tsdb 99\n"
    );
}

#[test]
fn a_second_open_of_the_same_dir_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let _db = Db::open(dir.path(), opts()).unwrap();
    let e = Db::open(dir.path(), opts()).err().unwrap();
    assert!(matches!(e, Error::Locked { .. }), "{e}");
}

#[test]
fn an_unusable_data_dir_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, "x").unwrap();
    let e = Db::open(&file, opts()).err().unwrap();
    assert!(e.to_string().contains("not-a-dir"), "{e}");
}

#[test]
fn background_maintenance_flushes_and_rebuilds() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(
        dir.path(),
        Options {
            maintenance_interval: Some(Duration::from_millis(10)),
            index_tail_limit: 10,
            ..Options::default()
        },
    )
    .unwrap();
    for k in 0..400 {
        let mut app = db.appender();
        for i in 0..20 {
            app.append_labels(&l(&[("__name__", "bg"), ("i", &i.to_string())]), k * 15_000, 1.0)
                .unwrap();
        }
        app.commit().unwrap();
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while (db.stats().chunks_flushed_total < 60 || db.stats().index_tail_series > 0)
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    let st = db.stats();
    assert!(st.chunks_flushed_total >= 60, "{st:?}");
    assert_eq!(st.index_tail_series, 0, "{st:?}");
    assert_eq!(samples(&db, &[Matcher::equal("__name__", "bg")]).len(), 20);
}
