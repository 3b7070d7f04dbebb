//! Rebuilds running while other threads add and select.

use std::sync::atomic::{AtomicBool, Ordering};

use super::m;
use crate::index::Index;
use crate::{Labels, MatchOp, SeriesRef};

const SERIES: u64 = 3_000;

fn series(i: u64) -> Labels {
    let name = format!("m{}", i % 7);
    let id = format!("{i}");
    Labels::new([("__name__", name.as_str()), ("id", id.as_str())]).unwrap()
}

#[test]
fn rebuild_while_another_thread_adds_and_selects() {
    let dir = tempfile::tempdir().unwrap();
    let index = Index::open(dir.path()).unwrap();
    let done = AtomicBool::new(false);
    let matchers = [m("__name__", MatchOp::Regex, "m[0-3]")];
    std::thread::scope(|s| {
        s.spawn(|| {
            for i in 0..SERIES {
                index.add(SeriesRef(i), series(i));
            }
            done.store(true, Ordering::Release);
        });
        s.spawn(|| {
            let mut last = 0;
            let mut rounds = 0;
            while !done.load(Ordering::Acquire) || rounds == 0 {
                let sel = index.select(&matchers);
                let got: Vec<(SeriesRef, Labels)> = sel.iter().map(|s| (s.r, s.labels.to_labels())).collect();
                assert_eq!(got.len(), sel.len());
                // Series are only added, and a rebuild swaps the segment and
                // trims the tail in one step, so a later select never sees fewer.
                assert!(got.len() >= last, "{} after {last}", got.len());
                last = got.len();
                for w in got.windows(2) {
                    assert!(w[0].1 < w[1].1, "out of order: {:?} then {:?}", w[0].1, w[1].1);
                }
                for (r, labels) in &got {
                    assert_eq!(labels, &series(r.0));
                }
                rounds += 1;
            }
        });
        s.spawn(|| {
            while !done.load(Ordering::Acquire) {
                index.rebuild(|_| false).unwrap();
            }
        });
    });
    index.rebuild(|_| false).unwrap();
    assert_eq!(index.len(), SERIES as usize);
    assert_eq!(index.tail_len(), 0);
    for i in (0..SERIES).step_by(97) {
        assert_eq!(index.find(&series(i)), Some(SeriesRef(i)));
    }
    let want = (0..SERIES).filter(|i| i % 7 <= 3).count();
    assert_eq!(index.select(&matchers).len(), want);
}
