//! Crash safety: a writer process killed with SIGKILL mid-stream loses no
//! committed sample.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use strata_storage::{Db, Labels, Matcher, Options};

const THREADS: usize = 4;
const CHILD_ENV: &str = "STRATA_CRASH_CHILD_DIR";

fn crash_opts() -> Options {
    Options {
        // Small segments and a fast maintenance loop, so the kill can land in
        // the middle of a checkpoint, a flush or an index rebuild.
        wal_segment_size: 64 << 10,
        wal_checkpoint_segments: 3,
        index_tail_limit: 50,
        maintenance_interval: Some(Duration::from_millis(20)),
        block_range: 60_000,
        ..Options::default()
    }
}

fn series_labels(thread: usize, i: usize) -> Labels {
    Labels::new([
        ("__name__", "crash_test".to_string()),
        ("thread", thread.to_string()),
        ("i", i.to_string()),
    ])
    .unwrap()
}

/// Runs in the child process: appends forever, printing every committed timestamp.
/// All threads draw timestamps from one clock, as scrapes do from wall time, so
/// no thread falls behind the head's lower bound.
#[test]
#[ignore = "child half of sigkill_loses_no_committed_sample"]
fn crash_child() {
    let Ok(dir) = std::env::var(CHILD_ENV) else { return };
    let db = std::sync::Arc::new(Db::open(&dir, crash_opts()).unwrap());
    // Resume after the newest sample of an earlier round.
    let start = db
        .latest(&[Matcher::equal("__name__", "crash_test")], i64::MIN, i64::MAX)
        .unwrap()
        .iter()
        .map(|s| s.t)
        .max()
        .unwrap_or(0);
    let clock = std::sync::Arc::new(std::sync::atomic::AtomicI64::new(start / 1000 + 1));
    let out = std::sync::Arc::new(std::sync::Mutex::new(std::io::stdout()));
    let handles: Vec<_> = (0..THREADS)
        .map(|th| {
            let (db, out, clock) = (db.clone(), out.clone(), clock.clone());
            std::thread::spawn(move || loop {
                let t = clock.fetch_add(1, std::sync::atomic::Ordering::SeqCst) * 1000;
                let mut app = db.appender();
                // A new series now and then, so series records are in flight too.
                let n = 3 + (t / 1000) as usize / 200;
                let ok = (0..n).all(|i| app.append_labels(&series_labels(th, i), t, value(t, i)).is_ok());
                if !ok {
                    // Refused (a thread stalled past the head's bounds): roll back, report nothing.
                    app.rollback();
                    continue;
                }
                app.commit().unwrap();
                use std::io::Write;
                let mut o = out.lock().unwrap();
                writeln!(o, "COMMITTED {th} {t}").unwrap();
                o.flush().unwrap();
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

fn value(t: i64, i: usize) -> f64 {
    (t as f64) * 0.5 + i as f64
}

#[test]
fn sigkill_loses_no_committed_sample() {
    let dir = tempfile::tempdir().unwrap();
    // Every timestamp each thread saw committed, over all rounds.
    let mut committed: [BTreeSet<i64>; THREADS] = Default::default();
    for round in 0..3 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--ignored", "--exact", "crash_child", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut lines = 0;
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(rest) = line.strip_prefix("COMMITTED ") {
                let mut p = rest.split(' ');
                let th: usize = p.next().unwrap().parse().unwrap();
                let t: i64 = p.next().unwrap().parse().unwrap();
                committed[th].insert(t);
                lines += 1;
            }
            if lines >= 1500 || Instant::now() > deadline {
                break;
            }
        }
        // SAFETY: kill(2) on the pid of the child this test spawned.
        unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
        let _ = child.wait();
        assert!(lines > 0, "round {round}: the child committed nothing");

        let db = Db::open(
            dir.path(),
            Options {
                maintenance_interval: None,
                ..crash_opts()
            },
        )
        .unwrap();
        let q = db.querier(i64::MIN, i64::MAX);
        for (th, want) in committed.iter().enumerate() {
            let sel = q
                .select(&[Matcher::equal("thread", &th.to_string()), Matcher::equal("i", "0")])
                .unwrap();
            if want.is_empty() {
                continue;
            }
            assert_eq!(sel.len(), 1, "round {round}: series of thread {th} missing");
            let samples = sel[0].collect_samples().unwrap();
            // Samples committed but killed before they were reported may be there too.
            let got: BTreeSet<i64> = samples.iter().map(|s| s.0).collect();
            let lost: Vec<i64> = want.difference(&got).copied().collect();
            assert!(
                lost.is_empty(),
                "round {round}, thread {th}: committed samples lost: {lost:?}"
            );
            for &(t, v) in &samples {
                assert_eq!(v, value(t, 0), "round {round}, thread {th}: value at {t}");
            }
        }
        db.close().unwrap();
    }
}
