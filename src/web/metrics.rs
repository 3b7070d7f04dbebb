//! strata's own metrics in the Prometheus text format: process, allocator,
//! build and storage figures.

use std::fmt::Write as _;

use super::AppState;

/// Writes one family: HELP, TYPE and a single unlabelled sample.
fn family(out: &mut String, name: &str, kind: &str, help: &str, value: f64) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
    let _ = writeln!(out, "{name} {}", fmt_value(value));
}

/// Integers without a fraction, others in Rust's shortest round-trip form.
fn fmt_value(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// Resident memory, CPU seconds, open fds, max fds, from /proc.
fn process_figures() -> Option<(f64, f64, f64, f64, f64)> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split(' ').collect();
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as f64;
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    let vsize: f64 = f.get(20)?.parse().ok()?;
    let rss: f64 = f.get(21)?.parse().ok()?;
    let fds = std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count() as f64)
        .unwrap_or(0.0);
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we pass.
    let max_fds = if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == 0 {
        lim.rlim_cur as f64
    } else {
        0.0
    };
    Some(((utime + stime) / ticks, rss * page, fds, max_fds, vsize))
}

/// The whole `/metrics` body.
pub(super) fn render(st: &AppState) -> String {
    let mut out = String::with_capacity(8192);
    let _ = writeln!(
        out,
        "# HELP strata_build_info A metric with a constant '1' value labeled by version."
    );
    let _ = writeln!(out, "# TYPE strata_build_info gauge");
    let _ = writeln!(out, "strata_build_info{{version=\"{}\"}} 1", env!("CARGO_PKG_VERSION"));
    if let Some((cpu, rss, fds, max_fds, vsize)) = process_figures() {
        family(
            &mut out,
            "process_cpu_seconds_total",
            "counter",
            "Total user and system CPU time spent in seconds.",
            cpu,
        );
        family(
            &mut out,
            "process_resident_memory_bytes",
            "gauge",
            "Resident memory size in bytes.",
            rss,
        );
        family(
            &mut out,
            "process_virtual_memory_bytes",
            "gauge",
            "Virtual memory size in bytes.",
            vsize,
        );
        family(
            &mut out,
            "process_open_fds",
            "gauge",
            "Number of open file descriptors.",
            fds,
        );
        family(
            &mut out,
            "process_max_fds",
            "gauge",
            "Maximum number of open file descriptors.",
            max_fds,
        );
    }
    family(
        &mut out,
        "process_start_time_seconds",
        "gauge",
        "Start time of the process since unix epoch in seconds.",
        st.start_time,
    );
    if tikv_jemalloc_ctl::epoch::advance().is_ok() {
        if let (Ok(alloc), Ok(res)) = (
            tikv_jemalloc_ctl::stats::allocated::read(),
            tikv_jemalloc_ctl::stats::resident::read(),
        ) {
            family(
                &mut out,
                "strata_jemalloc_allocated_bytes",
                "gauge",
                "Bytes allocated by the application.",
                alloc as f64,
            );
            family(
                &mut out,
                "strata_jemalloc_resident_bytes",
                "gauge",
                "Bytes in physically resident pages mapped by the allocator.",
                res as f64,
            );
        }
    }
    let ready = st.db.get().is_some();
    family(
        &mut out,
        "strata_ready",
        "gauge",
        "Whether storage is open and the server is ready (1) or starting (0).",
        if ready { 1.0 } else { 0.0 },
    );
    if let Some(db) = st.db.get() {
        storage(&mut out, &db.stats());
    }
    if let Some(scrape) = st.scrape.get() {
        scrape_figures(&mut out, &scrape.targets());
    }
    out
}

/// A label value escaped for the text format: `\\`, `\"` and `\n`.
fn esc(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Targets per pool and health, and the last scrape's duration and samples.
fn scrape_figures(out: &mut String, snap: &crate::scrape::TargetsSnapshot) {
    use std::collections::BTreeMap;
    let mut by: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    let mut samples: BTreeMap<&str, u64> = BTreeMap::new();
    let mut duration: BTreeMap<&str, f64> = BTreeMap::new();
    for t in &snap.active {
        *by.entry((t.pool.as_str(), t.state.health.as_str())).or_default() += 1;
        *samples.entry(t.pool.as_str()).or_default() += t.state.last_samples;
        *duration.entry(t.pool.as_str()).or_default() += t.state.last_scrape_duration.as_secs_f64();
    }
    let _ = writeln!(
        out,
        "# HELP strata_scrape_targets Active targets per scrape pool and health of their last scrape."
    );
    let _ = writeln!(out, "# TYPE strata_scrape_targets gauge");
    for ((pool, health), n) in &by {
        let _ = writeln!(
            out,
            "strata_scrape_targets{{pool=\"{}\",health=\"{health}\"}} {n}",
            esc(pool)
        );
    }
    let _ = writeln!(
        out,
        "# HELP strata_scrape_dropped_targets Targets relabeling dropped, per scrape pool."
    );
    let _ = writeln!(out, "# TYPE strata_scrape_dropped_targets gauge");
    for (pool, n) in &snap.dropped_counts {
        let _ = writeln!(out, "strata_scrape_dropped_targets{{pool=\"{}\"}} {n}", esc(pool));
    }
    let _ = writeln!(
        out,
        "# HELP strata_scrape_last_samples Samples appended by the last scrape of each target, summed per pool."
    );
    let _ = writeln!(out, "# TYPE strata_scrape_last_samples gauge");
    for (pool, n) in &samples {
        let _ = writeln!(out, "strata_scrape_last_samples{{pool=\"{}\"}} {n}", esc(pool));
    }
    let _ = writeln!(
        out,
        "# HELP strata_scrape_last_duration_seconds Duration of the last scrape of each target, summed per pool."
    );
    let _ = writeln!(out, "# TYPE strata_scrape_last_duration_seconds gauge");
    for (pool, d) in &duration {
        let _ = writeln!(
            out,
            "strata_scrape_last_duration_seconds{{pool=\"{}\"}} {}",
            esc(pool),
            fmt_value(*d)
        );
    }
}

fn storage(out: &mut String, s: &strata_storage::Stats) {
    let opt = |v: Option<i64>| v.map_or(0.0, |t| t as f64);
    let rows: [(&str, &str, &str, f64); 25] = [
        (
            "strata_tsdb_head_series",
            "gauge",
            "Series in the head.",
            s.head_series as f64,
        ),
        (
            "strata_tsdb_head_min_time",
            "gauge",
            "Oldest sample time in the head (ms).",
            opt(s.head_min_time),
        ),
        (
            "strata_tsdb_head_max_time",
            "gauge",
            "Newest sample time in the head (ms).",
            opt(s.head_max_time),
        ),
        (
            "strata_tsdb_head_interned_strings",
            "gauge",
            "Distinct label strings held by the head.",
            s.head_interned_strings as f64,
        ),
        (
            "strata_tsdb_head_samples_appended_total",
            "counter",
            "Samples appended to the head.",
            s.samples_appended_total as f64,
        ),
        (
            "strata_tsdb_out_of_order_samples_total",
            "counter",
            "Samples refused as out of order.",
            s.out_of_order_samples_total as f64,
        ),
        (
            "strata_tsdb_duplicate_samples_total",
            "counter",
            "Samples refused as duplicates with a different value.",
            s.duplicate_samples_total as f64,
        ),
        (
            "strata_tsdb_out_of_bounds_samples_total",
            "counter",
            "Samples refused as older than the head accepts.",
            s.out_of_bounds_samples_total as f64,
        ),
        (
            "strata_tsdb_commits_total",
            "counter",
            "Appender commits.",
            s.commits_total as f64,
        ),
        (
            "strata_tsdb_chunks_flushed_total",
            "counter",
            "Completed chunks written to the block store.",
            s.chunks_flushed_total as f64,
        ),
        (
            "strata_tsdb_flush_failures_total",
            "counter",
            "Failed chunk flushes (retried).",
            s.flush_failures_total as f64,
        ),
        (
            "strata_tsdb_checkpoints_total",
            "counter",
            "WAL checkpoints written.",
            s.checkpoints_total as f64,
        ),
        (
            "strata_tsdb_checkpoint_failures_total",
            "counter",
            "WAL checkpoints that failed.",
            s.checkpoint_failures_total as f64,
        ),
        (
            "strata_tsdb_index_rebuilds_total",
            "counter",
            "Postings index segment rebuilds.",
            s.index_rebuilds_total as f64,
        ),
        (
            "strata_tsdb_index_rebuild_failures_total",
            "counter",
            "Failed postings index rebuilds.",
            s.index_rebuild_failures_total as f64,
        ),
        (
            "strata_tsdb_retention_deletions_total",
            "counter",
            "Block ranges dropped by retention.",
            s.retention_deletions_total as f64,
        ),
        (
            "strata_tsdb_wal_corrupt_records_total",
            "counter",
            "Corrupt WAL records skipped at open.",
            s.wal_corrupt_records_total as f64,
        ),
        (
            "strata_tsdb_wal_replay_unknown_series_total",
            "counter",
            "WAL samples dropped at open because no record named their series.",
            s.wal_replay_unknown_series_total as f64,
        ),
        (
            "strata_tsdb_wal_bytes",
            "gauge",
            "Bytes of WAL segments and checkpoints.",
            s.wal_bytes as f64,
        ),
        (
            "strata_tsdb_wal_segments",
            "gauge",
            "WAL segment files.",
            s.wal_segments as f64,
        ),
        (
            "strata_tsdb_block_store_bytes",
            "gauge",
            "Bytes of the RocksDB block store.",
            s.block_store_bytes as f64,
        ),
        (
            "strata_tsdb_block_store_chunks",
            "gauge",
            "Chunks in the block store (estimate).",
            s.block_store_chunks as f64,
        ),
        (
            "strata_tsdb_index_series",
            "gauge",
            "Series in the postings index.",
            s.index_series as f64,
        ),
        (
            "strata_tsdb_index_tail_series",
            "gauge",
            "Series in the index's in-memory tail.",
            s.index_tail_series as f64,
        ),
        (
            "strata_tsdb_index_segment_bytes",
            "gauge",
            "Bytes of the mapped index segment.",
            s.index_segment_bytes as f64,
        ),
    ];
    for (name, kind, help, v) in rows {
        family(out, name, kind, help, v);
    }
}
