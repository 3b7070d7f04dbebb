//! The figures of a scrape benchmark: raw readings in, derived figures and their text and JSON
//! forms out.

use std::fmt::Write as _;

use serde::Serialize;

/// Samples strata adds to each scrape: `up` and the four `scrape_*` series, as Prometheus does.
pub const SYNTHETIC_PER_SCRAPE: u32 = 5;
/// Samples in a head chunk before it is cut and later flushed to the block store
/// (strata-storage's `SAMPLES_PER_CHUNK`).
pub const SAMPLES_PER_CHUNK: u32 = 120;

/// Readings taken at the two ends of the measured window and during it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Readings {
    /// Wall-clock seconds between the first and the last reading.
    pub window_seconds: f64,
    /// strata's `strata_tsdb_head_samples_appended_total` at the start and the end.
    pub samples_appended: (f64, f64),
    /// strata's `strata_tsdb_head_series` at the end.
    pub head_series: f64,
    /// strata's CPU seconds (user + system, all threads) at the start and the end.
    pub strata_cpu_seconds: (f64, f64),
    /// The load generator's own CPU seconds at the start and the end.
    pub loadgen_cpu_seconds: (f64, f64),
    /// strata's resident set size, sampled every few seconds over the window.
    pub rss_bytes: Vec<u64>,
    /// Load averages (1, 5, 15 min) at the start and the end.
    pub load_average: ([f64; 3], [f64; 3]),
    /// Active targets at the end, and how many of them were up.
    pub targets_total: usize,
    /// Of `targets_total`, those whose last scrape succeeded.
    pub targets_up: usize,
    /// Bytes of strata's data directory at the end.
    pub data_dir_bytes: u64,
}

/// What was run.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Setup {
    /// Simulated targets.
    pub targets: u32,
    /// Series per target.
    pub series_per_target: u32,
    /// Scrape interval in seconds.
    pub interval_seconds: f64,
    /// Warm-up before the window, in seconds.
    pub warmup_seconds: f64,
    /// The strata binary measured.
    pub strata_bin: String,
    /// Its PID.
    pub strata_pid: u32,
    /// The work directory (config, target list, log, data).
    pub work_dir: String,
    /// Whether the work directory was kept after the run.
    pub work_dir_kept: bool,
    /// Processors online.
    pub cpus: u64,
}

/// The benchmark's result, as printed (text) or serialised (`--json`). Figures that cannot be
/// computed (nothing ingested, no series) are `None`, `null` in JSON.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct BenchReport {
    /// What was run.
    #[serde(flatten)]
    pub setup: Setup,
    /// Length of the measured window, seconds.
    pub duration_seconds: f64,
    /// Samples strata appended to its head during the window (scraped samples plus the five
    /// synthetic `up`/`scrape_*` samples of each scrape).
    pub samples_appended: u64,
    /// Samples appended per second.
    pub ingest_samples_per_second: f64,
    /// What the targets offer: targets × series / interval (synthetic samples not counted).
    pub offered_samples_per_second: f64,
    /// strata's CPU seconds over the window.
    pub strata_cpu_seconds: f64,
    /// strata's CPU seconds per wall second (1.0 = one core busy).
    pub strata_cpu_cores: f64,
    /// strata's CPU seconds per million appended samples.
    pub cpu_seconds_per_million_samples: Option<f64>,
    /// Series in strata's head at the end.
    pub active_series: u64,
    /// Mean of the RSS samples, bytes.
    pub rss_mean_bytes: u64,
    /// Largest RSS sample, bytes.
    pub rss_max_bytes: u64,
    /// Number of RSS samples taken.
    pub rss_samples: usize,
    /// Largest RSS divided by the active series (the whole process, not only the head).
    pub rss_bytes_per_active_series: Option<f64>,
    /// Active targets at the end.
    pub targets_total: usize,
    /// Targets up at the end.
    pub targets_up: usize,
    /// Targets whose last scrape failed at the end (or that strata did not list).
    pub scrapes_failed: usize,
    /// The load generator's CPU seconds over the window (targets and measuring).
    pub loadgen_cpu_seconds: f64,
    /// The load generator's CPU seconds per wall second.
    pub loadgen_cpu_cores: f64,
    /// Load averages (1, 5, 15 min) at the start of the window.
    pub load_average_start: [f64; 3],
    /// Load averages at the end of the window.
    pub load_average_end: [f64; 3],
    /// Bytes of strata's data directory at the end.
    pub data_dir_bytes: u64,
    /// What limits these figures: a window too short for chunk flushes or scrape alignment,
    /// missed scrapes. Empty when nothing was noticed.
    pub notes: Vec<String>,
}

impl BenchReport {
    /// Derives the figures from the readings.
    pub fn new(setup: Setup, r: &Readings) -> BenchReport {
        let secs = r.window_seconds;
        let per_sec = |v: f64| if secs > 0.0 { v / secs } else { 0.0 };
        // Counters only grow; a negative difference would mean strata restarted.
        let appended = (r.samples_appended.1 - r.samples_appended.0).max(0.0);
        let strata_cpu = (r.strata_cpu_seconds.1 - r.strata_cpu_seconds.0).max(0.0);
        let loadgen_cpu = (r.loadgen_cpu_seconds.1 - r.loadgen_cpu_seconds.0).max(0.0);
        let rss_max = r.rss_bytes.iter().copied().max().unwrap_or(0);
        let rss_mean = if r.rss_bytes.is_empty() {
            0
        } else {
            (r.rss_bytes.iter().map(|&b| b as u128).sum::<u128>() / r.rss_bytes.len() as u128) as u64
        };
        let offered = if setup.interval_seconds > 0.0 {
            f64::from(setup.targets) * f64::from(setup.series_per_target) / setup.interval_seconds
        } else {
            0.0
        };
        let expected_targets = setup.targets as usize;
        BenchReport {
            duration_seconds: secs,
            samples_appended: appended as u64,
            ingest_samples_per_second: per_sec(appended),
            offered_samples_per_second: offered,
            strata_cpu_seconds: strata_cpu,
            strata_cpu_cores: per_sec(strata_cpu),
            cpu_seconds_per_million_samples: (appended > 0.0).then(|| strata_cpu / (appended / 1e6)),
            active_series: r.head_series.max(0.0) as u64,
            rss_mean_bytes: rss_mean,
            rss_max_bytes: rss_max,
            rss_samples: r.rss_bytes.len(),
            rss_bytes_per_active_series: (r.head_series >= 1.0 && rss_max > 0).then(|| rss_max as f64 / r.head_series),
            targets_total: r.targets_total,
            targets_up: r.targets_up,
            scrapes_failed: expected_targets.max(r.targets_total).saturating_sub(r.targets_up),
            loadgen_cpu_seconds: loadgen_cpu,
            loadgen_cpu_cores: per_sec(loadgen_cpu),
            load_average_start: r.load_average.0,
            load_average_end: r.load_average.1,
            data_dir_bytes: r.data_dir_bytes,
            notes: Vec::new(),
            setup,
        }
        .with_notes()
    }

    fn with_notes(mut self) -> BenchReport {
        let s = &self.setup;
        let interval = s.interval_seconds;
        if interval <= 0.0 || self.duration_seconds <= 0.0 {
            return self;
        }
        let scrapes = self.duration_seconds / interval;
        if scrapes < 30.0 {
            self.notes.push(format!(
                "the window holds {scrapes:.1} scrapes per target; ingest is exact to one scrape \
                 (about {:.0}%): use a --duration of 30 intervals or more",
                100.0 / scrapes.max(1.0)
            ));
        }
        let chunk_period = f64::from(SAMPLES_PER_CHUNK) * interval;
        if self.duration_seconds < chunk_period {
            self.notes.push(format!(
                "the window is shorter than one head-chunk period ({SAMPLES_PER_CHUNK} scrapes = {chunk_period:.0}s): \
                 chunk flushes to the block store, which come in bursts at that period, are {}; \
                 for steady-state figures use --warmup and --duration of {chunk_period:.0}s or more",
                if s.warmup_seconds + self.duration_seconds < chunk_period {
                    "not yet measured and the head's chunks are not yet full"
                } else {
                    "measured only in part"
                }
            ));
        }
        let expected = f64::from(s.targets) * f64::from(s.series_per_target + SYNTHETIC_PER_SCRAPE) / interval;
        if expected > 0.0 && self.ingest_samples_per_second < 0.9 * expected {
            self.notes.push(format!(
                "ingest is {:.0}% of the {expected:.0} samples/s the targets should give: scrapes were missed, late \
                 or refused",
                100.0 * self.ingest_samples_per_second / expected
            ));
        }
        self
    }

    /// One JSON object on one line.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| format!("{{\"error\":\"cannot encode the report: {e}\"}}"))
    }

    /// The human-readable report.
    pub fn to_text(&self) -> String {
        let s = &self.setup;
        let opt = |v: Option<f64>, digits: usize| v.map_or_else(|| "n/a".to_string(), |v| format!("{v:.digits$}"));
        let mut o = String::new();
        let _ = writeln!(
            o,
            "scrape-bench: {} targets x {} series every {}s; warm-up {}s; measured {:.1}s",
            s.targets, s.series_per_target, s.interval_seconds, s.warmup_seconds, self.duration_seconds
        );
        let _ = writeln!(o, "  strata                 {} (pid {})", s.strata_bin, s.strata_pid);
        let _ = writeln!(
            o,
            "  ingest                 {:.0} samples/s appended ({} in the window; targets offer {:.0}/s plus {SYNTHETIC_PER_SCRAPE} synthetic per scrape)",
            self.ingest_samples_per_second, self.samples_appended, self.offered_samples_per_second
        );
        let _ = writeln!(
            o,
            "  strata CPU             {:.2} s = {:.3} cores; {} CPU-s per 1M samples",
            self.strata_cpu_seconds,
            self.strata_cpu_cores,
            opt(self.cpu_seconds_per_million_samples, 3)
        );
        let _ = writeln!(
            o,
            "  strata RSS             mean {}, max {} over {} samples",
            bytes(self.rss_mean_bytes),
            bytes(self.rss_max_bytes),
            self.rss_samples
        );
        let _ = writeln!(
            o,
            "  memory per series      {} bytes (max RSS / {} active series)",
            opt(self.rss_bytes_per_active_series, 0),
            self.active_series
        );
        let _ = writeln!(
            o,
            "  targets                {} up of {}; scrapes failed at the end: {}",
            self.targets_up, s.targets, self.scrapes_failed
        );
        let _ = writeln!(
            o,
            "  load generator CPU     {:.2} s = {:.3} cores (targets and measuring)",
            self.loadgen_cpu_seconds, self.loadgen_cpu_cores
        );
        let la = |l: [f64; 3]| format!("{:.2} {:.2} {:.2}", l[0], l[1], l[2]);
        let _ = writeln!(
            o,
            "  load average           start {}, end {} ({} CPUs)",
            la(self.load_average_start),
            la(self.load_average_end),
            s.cpus
        );
        let _ = writeln!(o, "  data directory         {}", bytes(self.data_dir_bytes));
        if s.work_dir_kept {
            let _ = writeln!(o, "  work directory kept    {}", s.work_dir);
        }
        for n in &self.notes {
            let _ = writeln!(o, "  note: {n}");
        }
        o
    }
}

/// Bytes in binary units with one decimal.
fn bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut i = 0;
    while v >= 1024.0 && i + 1 < UNITS.len() {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", UNITS[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> Setup {
        Setup {
            targets: 1000,
            series_per_target: 1000,
            interval_seconds: 10.0,
            warmup_seconds: 120.0,
            strata_bin: "/usr/bin/strata".into(),
            strata_pid: 42,
            work_dir: "/tmp/x".into(),
            work_dir_kept: false,
            cpus: 2,
        }
    }

    fn readings() -> Readings {
        Readings {
            window_seconds: 300.0,
            samples_appended: (1_000_000.0, 31_150_000.0),
            head_series: 1_005_000.0,
            strata_cpu_seconds: (50.0, 68.09),
            loadgen_cpu_seconds: (10.0, 40.0),
            rss_bytes: vec![900 << 20, 1000 << 20, 1100 << 20],
            load_average: ([0.5, 0.4, 0.3], [1.5, 1.2, 0.8]),
            targets_total: 1000,
            targets_up: 998,
            data_dir_bytes: 5 << 30,
        }
    }

    #[test]
    fn figures_are_differences_over_the_window() {
        let r = BenchReport::new(setup(), &readings());
        assert_eq!(r.samples_appended, 30_150_000);
        assert!((r.ingest_samples_per_second - 100_500.0).abs() < 1e-6);
        assert!((r.offered_samples_per_second - 100_000.0).abs() < 1e-9);
        assert!((r.strata_cpu_seconds - 18.09).abs() < 1e-9);
        assert!((r.strata_cpu_cores - 0.0603).abs() < 1e-9);
        assert!((r.cpu_seconds_per_million_samples.unwrap() - 0.6).abs() < 1e-9);
        assert_eq!(r.rss_mean_bytes, 1000 << 20);
        assert_eq!(r.rss_max_bytes, 1100 << 20);
        assert_eq!(r.rss_samples, 3);
        let per = r.rss_bytes_per_active_series.unwrap();
        assert!((per - (1100u64 << 20) as f64 / 1_005_000.0).abs() < 1e-9);
        assert_eq!((r.targets_up, r.scrapes_failed), (998, 2));
        assert!((r.loadgen_cpu_cores - 0.1).abs() < 1e-9);
        assert_eq!(r.load_average_end, [1.5, 1.2, 0.8]);
        // 5 minutes at 10 s: 30 scrapes, but less than a 20-minute chunk period; ingest as expected.
        assert_eq!(r.notes.len(), 1, "{:?}", r.notes);
        assert!(r.notes[0].contains("shorter than one head-chunk period (120 scrapes = 1200s)"));
        assert!(r.notes[0].contains("not yet measured"), "{}", r.notes[0]);
    }

    #[test]
    fn the_chunk_size_is_the_one_storage_cuts_at() {
        let src = include_str!("../../../storage/src/head/series.rs");
        assert!(
            src.contains(&format!("const SAMPLES_PER_CHUNK: u16 = {SAMPLES_PER_CHUNK};")),
            "storage/src/head/series.rs changed its chunk size"
        );
    }

    #[test]
    fn notes_name_short_windows_and_missed_scrapes() {
        let mut rd = readings();
        rd.window_seconds = 1500.0;
        rd.samples_appended = (0.0, 1500.0 * 100_500.0);
        let r = BenchReport::new(setup(), &rd);
        assert!(r.notes.is_empty(), "{:?}", r.notes);

        rd.window_seconds = 100.0;
        rd.samples_appended = (0.0, 100.0 * 50_000.0);
        let mut s = setup();
        s.warmup_seconds = 1200.0;
        let r = BenchReport::new(s, &rd);
        assert_eq!(r.notes.len(), 3, "{:?}", r.notes);
        assert!(r.notes[0].contains("10.0 scrapes per target"), "{}", r.notes[0]);
        assert!(r.notes[1].contains("measured only in part"), "{}", r.notes[1]);
        assert!(
            r.notes[2].contains("ingest is 50% of the 100500 samples/s"),
            "{}",
            r.notes[2]
        );
        assert!(r.to_text().contains("  note: ingest is 50%"));
    }

    #[test]
    fn missing_targets_count_as_failed_and_empty_windows_give_no_ratios() {
        let mut rd = readings();
        rd.targets_total = 990;
        rd.targets_up = 990;
        rd.samples_appended = (5.0, 5.0);
        rd.head_series = 0.0;
        rd.rss_bytes.clear();
        let r = BenchReport::new(setup(), &rd);
        assert_eq!(r.scrapes_failed, 10);
        assert_eq!(r.cpu_seconds_per_million_samples, None);
        assert_eq!(r.rss_bytes_per_active_series, None);
        assert_eq!((r.rss_mean_bytes, r.rss_max_bytes), (0, 0));
        let j: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
        assert!(j["cpu_seconds_per_million_samples"].is_null());
        assert!(r.to_text().contains("n/a CPU-s per 1M samples"));
    }

    #[test]
    fn json_is_one_flat_object_with_the_setup() {
        let j = BenchReport::new(setup(), &readings()).to_json();
        assert_eq!(j.lines().count(), 1);
        let v: serde_json::Value = serde_json::from_str(&j).unwrap();
        assert_eq!(v["targets"], 1000);
        assert_eq!(v["strata_pid"], 42);
        assert_eq!(v["samples_appended"], 30_150_000);
        assert_eq!(v["load_average_start"][0], 0.5);
    }

    #[test]
    fn text_names_every_figure() {
        let t = BenchReport::new(setup(), &readings()).to_text();
        for want in [
            "100500 samples/s",
            "0.600 CPU-s per 1M samples",
            "mean 1000.0 MiB, max 1.1 GiB over 3 samples",
            "1148 bytes (max RSS / 1005000 active series)",
            "998 up of 1000; scrapes failed at the end: 2",
            "start 0.50 0.40 0.30, end 1.50 1.20 0.80 (2 CPUs)",
            "5.0 GiB",
        ] {
            assert!(t.contains(want), "missing {want:?} in:\n{t}");
        }
        assert_eq!(bytes(512), "512 B");
    }
}
