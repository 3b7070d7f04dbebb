//! Damaged files on disk: a clear error or a skipped, logged record — never a
//! panic, never silently wrong data, and nothing deleted.

use std::path::{Path, PathBuf};

use strata_storage::{Db, Labels, Matcher, Options};

fn opts() -> Options {
    Options {
        maintenance_interval: None,
        ..Options::default()
    }
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

fn flip(path: &Path, at: usize) {
    let mut b = std::fs::read(path).unwrap();
    let i = at.min(b.len() - 1);
    b[i] ^= 0x5a;
    std::fs::write(path, b).unwrap();
}

/// Writes `commits` commits of 10 series each.
fn fill(dir: &Path, commits: i64) {
    let db = Db::open(dir, opts()).unwrap();
    for k in 0..commits {
        let mut app = db.appender();
        for i in 0..10 {
            let l = Labels::new([("__name__", "c".to_string()), ("i", i.to_string())]).unwrap();
            app.append_labels(&l, k * 15_000, k as f64).unwrap();
        }
        app.commit().unwrap();
    }
    db.close().unwrap();
}

fn read_all(db: &Db) -> Result<Vec<Vec<(i64, f64)>>, strata_storage::Error> {
    db.querier(i64::MIN, i64::MAX)
        .select(&[Matcher::equal("__name__", "c")])?
        .iter()
        .map(|s| s.collect_samples())
        .collect()
}

#[test]
fn a_flipped_byte_in_a_wal_segment_skips_that_record_and_keeps_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    fill(dir.path(), 200);
    let segs: Vec<PathBuf> = files_under(&dir.path().join("wal"))
        .into_iter()
        .filter(|p| std::fs::metadata(p).unwrap().len() > 64)
        .collect();
    assert!(!segs.is_empty());
    let seg = &segs[0];
    let len = std::fs::metadata(seg).unwrap().len() as usize;
    flip(seg, len / 2);
    let db = Db::open(dir.path(), opts()).unwrap();
    let all = read_all(&db).unwrap();
    assert_eq!(all.len(), 10);
    for s in &all {
        // Every sample that survived is one that was written.
        assert!(s.iter().all(|&(t, v)| t == v as i64 * 15_000));
        assert!(
            !s.is_empty() && s.len() < 200,
            "the damaged record's samples are gone, earlier ones kept"
        );
    }
    assert!(db.stats().wal_corrupt_records_total >= 1);
    // Nothing deleted: the damaged segment is still on disk (moved aside or in place).
    let total: u64 = files_under(&dir.path().join("wal"))
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum();
    assert!(total >= len as u64);
    // What was recovered survives the next restart too.
    let before: usize = all.iter().map(|s| s.len()).sum();
    db.close().unwrap();
    let db = Db::open(dir.path(), opts()).unwrap();
    let after: usize = read_all(&db).unwrap().iter().map(|s| s.len()).sum();
    assert_eq!(before, after);
}

#[test]
fn a_flipped_byte_in_the_index_segment_moves_it_aside_and_rebuilds() {
    let dir = tempfile::tempdir().unwrap();
    fill(dir.path(), 20);
    {
        let db = Db::open(dir.path(), opts()).unwrap();
        db.maintain();
        db.rebuild_index().unwrap();
        db.close().unwrap();
    }
    let segs: Vec<PathBuf> = files_under(&dir.path().join("index"));
    assert_eq!(segs.len(), 1, "{segs:?}");
    let len = std::fs::metadata(&segs[0]).unwrap().len() as usize;
    flip(&segs[0], len / 2);
    let db = Db::open(dir.path(), opts()).unwrap();
    let all = read_all(&db).unwrap();
    assert_eq!(all.len(), 10);
    assert!(all.iter().all(|s| s.len() == 20));
    let names: Vec<String> = files_under(&dir.path().join("index"))
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().any(|n| n.contains("corrupt")),
        "damaged segment kept aside: {names:?}"
    );
}

#[test]
fn a_flipped_byte_in_the_block_store_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    // Enough samples that chunks are completed and flushed to RocksDB.
    fill(dir.path(), 1000);
    {
        let db = Db::open(dir.path(), opts()).unwrap();
        db.checkpoint().unwrap();
        db.close().unwrap();
    }
    let ssts: Vec<PathBuf> = files_under(&dir.path().join("blocks"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "sst"))
        .collect();
    assert!(!ssts.is_empty(), "chunks were flushed to SST files");
    for sst in &ssts {
        let len = std::fs::metadata(sst).unwrap().len() as usize;
        flip(sst, len / 3);
    }
    // Either open reports the damage, or reads do; nothing panics and no wrong sample is served.
    match Db::open(dir.path(), opts()) {
        Err(e) => assert!(!e.to_string().is_empty()),
        Ok(db) => match read_all(&db) {
            Err(e) => assert!(
                e.to_string().contains("orrupt") || e.to_string().contains("block store"),
                "{e}"
            ),
            Ok(all) => {
                for s in &all {
                    assert!(s.iter().all(|&(t, v)| t == v as i64 * 15_000), "wrong data served");
                }
            }
        },
    }
}
