//! `strata-loadgen scrape-bench`: what a strata costs to scrape a fleet, measured from outside.
//!
//! The run starts N simulated targets in this process, writes a Prometheus configuration with
//! one job whose targets come from a file_sd JSON file, starts the strata binary on a free
//! 127.0.0.1 port with a fresh data directory, waits until it is ready and every target is up,
//! lets it warm up, and then measures over a window:
//!
//! - ingest: the growth of strata's `strata_tsdb_head_samples_appended_total`;
//! - CPU: utime + stime of the strata process from `/proc/PID/stat` (all its threads);
//! - memory: VmRSS from `/proc/PID/status`, sampled every [`RSS_EVERY`];
//! - active series: `strata_tsdb_head_series` at the end;
//! - context: the load generator's own CPU (so a reader can see the targets were not the
//!   bottleneck) and the machine's load average at both ends.
//!
//! strata is stopped (SIGTERM, then SIGKILL) and the work directory removed however the run
//! ends: the [`process`] guards do it on drop, so an error, a panic or a dropped future (Ctrl-C)
//! cleans up too.

mod process;
mod procfs;
mod report;
mod strata_api;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::config::PromDuration;
use crate::loadgen::{start_targets, Clock, LoadgenError, TargetsConfig};

pub use process::STOP_GRACE;
pub use procfs::{parse_loadavg, parse_stat_cpu_ticks, parse_status_rss_bytes};
pub use report::{BenchReport, Readings, Setup};
pub use strata_api::{metric_value, targets_health, TargetsHealth, HEAD_SERIES, SAMPLES_APPENDED};

use process::{dir_bytes, StrataProcess, WorkDir};
use procfs::Proc;

/// How often strata's RSS is sampled during the window.
pub const RSS_EVERY: Duration = Duration::from_secs(2);
/// How long strata may take to open its storage and answer `/-/ready`.
const READY_TIMEOUT: Duration = Duration::from_secs(120);
/// How often readiness and target health are polled.
const POLL_EVERY: Duration = Duration::from_millis(500);
/// The job name in the written configuration.
pub const JOB: &str = "loadgen";

/// What `scrape-bench` runs.
#[derive(Debug, Clone)]
pub struct ScrapeBenchConfig {
    /// Simulated targets.
    pub targets: u32,
    /// Series per target.
    pub series: u32,
    /// strata's scrape interval.
    pub interval: Duration,
    /// Time between all targets being up and the start of the window.
    pub warmup: Duration,
    /// Length of the measured window.
    pub duration: Duration,
    /// The strata binary; `None`: the `strata` next to the running executable.
    pub strata_bin: Option<PathBuf>,
    /// Keep the work directory (config, target list, strata's log and data) after the run.
    pub keep_dir: bool,
    /// Seed of the simulated values.
    pub seed: u64,
}

/// Why a benchmark could not produce a report.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// A flag or input that cannot work (exit code 2).
    #[error("{0}")]
    Usage(String),
    /// Preparing the run failed: files, ports, the targets.
    #[error("{0}")]
    Setup(String),
    /// strata exited on its own.
    #[error("strata exited ({status}) {during}; its last log lines:\n{log}")]
    StrataExited {
        /// The exit status.
        status: String,
        /// What the benchmark was doing.
        during: &'static str,
        /// The end of strata's log.
        log: String,
    },
    /// strata did not get somewhere in time.
    #[error("timed out after {after:?} waiting for {what}: {detail}")]
    Timeout {
        /// What was awaited.
        what: &'static str,
        /// How long.
        after: Duration,
        /// The last thing seen.
        detail: String,
    },
    /// A figure could not be read.
    #[error("{0}")]
    Measure(String),
}

/// The strata binary to measure: `explicit` if given, else `strata` in the directory of the
/// running executable. It must be an existing file.
pub fn resolve_strata_bin(explicit: Option<&Path>) -> Result<PathBuf, BenchError> {
    let bin = match explicit {
        Some(p) => p.to_path_buf(),
        None => {
            let exe = std::env::current_exe().map_err(|e| {
                BenchError::Usage(format!("cannot find the running executable: {e}; pass --strata-bin"))
            })?;
            exe.parent().unwrap_or(Path::new(".")).join("strata")
        }
    };
    if !bin.is_file() {
        return Err(BenchError::Usage(format!(
            "no strata binary at {}{}",
            bin.display(),
            if explicit.is_none() {
                "; pass --strata-bin PATH"
            } else {
                ""
            }
        )));
    }
    Ok(bin)
}

/// The strata configuration: one job scraping every `interval` the targets of `targets.json`
/// (resolved against the configuration file's directory), with no rules.
pub fn render_config(interval: Duration) -> String {
    let interval = PromDuration(interval.as_millis().min(u128::from(u64::MAX)) as u64);
    format!(
        "# Written by strata-loadgen scrape-bench.\n\
         scrape_configs:\n\
         \x20 - job_name: {JOB}\n\
         \x20   scrape_interval: {interval}\n\
         \x20   file_sd_configs:\n\
         \x20     - files: [targets.json]\n"
    )
}

/// The file_sd target list: one group holding every target address.
pub fn render_file_sd(addrs: &[SocketAddr]) -> String {
    let targets: Vec<String> = addrs.iter().map(|a| a.to_string()).collect();
    serde_json::json!([{ "targets": targets, "labels": {} }]).to_string()
}

/// Runs the benchmark; `progress` receives a line at each phase. Must run on a multi-thread
/// tokio runtime, inside `block_on` or a worker task (see [`StrataProcess::spawn`] for why).
pub async fn run_scrape_bench(cfg: &ScrapeBenchConfig, progress: &dyn Fn(&str)) -> Result<BenchReport, BenchError> {
    if cfg.interval.is_zero() {
        return Err(BenchError::Usage("--interval must be more than 0".into()));
    }
    if cfg.duration.is_zero() {
        return Err(BenchError::Usage("--duration must be more than 0".into()));
    }
    let bin = resolve_strata_bin(cfg.strata_bin.as_deref())?;

    let targets_cfg = TargetsConfig {
        targets: cfg.targets,
        series: cfg.series,
        listen: IpAddr::V4(Ipv4Addr::LOCALHOST),
        base_port: 0,
        churn_pct_per_min: 0.0,
        seed: cfg.seed,
    };
    let fleet = start_targets(&targets_cfg, Clock::system())
        .await
        .map_err(|e| match e {
            LoadgenError::Config(m) => BenchError::Usage(m),
            e => BenchError::Setup(e.to_string()),
        })?;

    let dir = WorkDir::create(cfg.keep_dir).map_err(BenchError::Setup)?;
    write(&dir.path().join("targets.json"), &render_file_sd(fleet.addrs()))?;
    let config_file = dir.path().join("strata.yml");
    write(&config_file, &render_config(cfg.interval))?;
    let data = dir.path().join("data");
    let port = free_port()?;
    let addr = format!("127.0.0.1:{port}");
    let args = vec![
        format!("--config.file={}", config_file.display()),
        format!("--storage.tsdb.path={}", data.display()),
        format!("--web.listen-address={addr}"),
        "--log.format=logfmt".to_string(),
    ];
    let strata = StrataProcess::spawn(&bin, &args, &dir.path().join("strata.log")).map_err(BenchError::Setup)?;
    // Fields drop in order: strata stops before its directory is removed.
    let mut run = Run { strata, dir };
    progress(&format!(
        "started strata (pid {}) on {addr}; work directory {}",
        run.strata.pid(),
        run.dir.path().display()
    ));

    let client = crate::http_client::build_client(&Default::default(), Duration::from_secs(30))
        .map_err(|e| BenchError::Setup(format!("cannot build an HTTP client: {e}")))?;
    let base = format!("http://{addr}");

    // Ready: storage open.
    let started = Instant::now();
    loop {
        run.alive("waiting for /-/ready")?;
        let last = match get(&client, &format!("{base}/-/ready")).await {
            Ok((200, _)) => break,
            Ok((code, body)) => format!("HTTP {code}: {}", body.trim()),
            Err(e) => e,
        };
        if started.elapsed() > READY_TIMEOUT {
            return Err(BenchError::Timeout {
                what: "strata's /-/ready",
                after: READY_TIMEOUT,
                detail: last,
            });
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
    progress(&format!(
        "strata ready after {:.1}s; waiting for {} targets to be up",
        started.elapsed().as_secs_f64(),
        cfg.targets
    ));

    // Every target scraped successfully once: discovery, its debounce, and one interval.
    let up_limit = Duration::from_secs(60) + cfg.interval * 3;
    let started = Instant::now();
    loop {
        run.alive("waiting for the targets")?;
        let h = targets(&client, &base).await;
        let last = match &h {
            Ok(h) if h.total == cfg.targets as usize && h.up == h.total => break,
            Ok(h) => format!(
                "{} of {} up, {} listed{}",
                h.up,
                cfg.targets,
                h.total,
                h.first_problem.as_deref().map(|p| format!("; {p}")).unwrap_or_default()
            ),
            Err(e) => e.clone(),
        };
        if started.elapsed() > up_limit {
            return Err(BenchError::Timeout {
                what: "every target to be up",
                after: up_limit,
                detail: last,
            });
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
    progress(&format!("all targets up; warming up for {}", fmt_duration(cfg.warmup)));

    let warm_end = Instant::now() + cfg.warmup;
    while Instant::now() < warm_end {
        run.alive("warming up")?;
        tokio::time::sleep(
            warm_end
                .saturating_duration_since(Instant::now())
                .min(Duration::from_secs(1)),
        )
        .await;
    }
    progress(&format!("measuring for {}", fmt_duration(cfg.duration)));

    let pid = Proc::Pid(run.strata.pid());
    let metrics0 = metrics(&client, &base).await?;
    let cpu0 = pid.cpu_seconds().map_err(BenchError::Measure)?;
    let self0 = Proc::SelfProc.cpu_seconds().map_err(BenchError::Measure)?;
    let load0 = procfs::loadavg().map_err(BenchError::Measure)?;
    let t0 = Instant::now();
    let mut rss = vec![pid.rss_bytes().map_err(BenchError::Measure)?];
    let end = t0 + cfg.duration;
    loop {
        let now = Instant::now();
        if now >= end {
            break;
        }
        tokio::time::sleep((end - now).min(RSS_EVERY)).await;
        run.alive("measuring")?;
        rss.push(pid.rss_bytes().map_err(BenchError::Measure)?);
    }
    let metrics1 = metrics(&client, &base).await?;
    let cpu1 = pid.cpu_seconds().map_err(BenchError::Measure)?;
    let self1 = Proc::SelfProc.cpu_seconds().map_err(BenchError::Measure)?;
    let window = t0.elapsed();
    let load1 = procfs::loadavg().map_err(BenchError::Measure)?;
    let health = targets(&client, &base).await.map_err(BenchError::Measure)?;

    let figure = |body: &str, name: &str| {
        metric_value(body, name).ok_or_else(|| BenchError::Measure(format!("strata's /metrics has no {name}")))
    };
    let readings = Readings {
        window_seconds: window.as_secs_f64(),
        samples_appended: (
            figure(&metrics0, SAMPLES_APPENDED)?,
            figure(&metrics1, SAMPLES_APPENDED)?,
        ),
        head_series: figure(&metrics1, HEAD_SERIES)?,
        strata_cpu_seconds: (cpu0, cpu1),
        loadgen_cpu_seconds: (self0, self1),
        rss_bytes: rss,
        load_average: (load0, load1),
        targets_total: health.total,
        targets_up: health.up,
        data_dir_bytes: dir_bytes(&data),
    };
    let setup = Setup {
        targets: cfg.targets,
        series_per_target: cfg.series,
        interval_seconds: cfg.interval.as_secs_f64(),
        warmup_seconds: cfg.warmup.as_secs_f64(),
        strata_bin: bin.display().to_string(),
        strata_pid: run.strata.pid(),
        work_dir: run.dir.path().display().to_string(),
        work_dir_kept: run.dir.kept(),
        cpus: procfs::cpus_online(),
    };
    let report = BenchReport::new(setup, &readings);

    progress("stopping strata");
    let (status, killed) = run.strata.stop(STOP_GRACE);
    if killed {
        progress(&format!("strata did not stop within {STOP_GRACE:?} of SIGTERM; killed"));
    } else if let Some(st) = status.filter(|s| !s.success()) {
        progress(&format!("strata exited with {st} after SIGTERM"));
    }
    drop(run);
    if let Err(e) = fleet.shutdown().await {
        progress(&format!("stopping the targets: {e}"));
    }
    Ok(report)
}

/// The strata child and its work directory. Fields drop in declaration order, so strata has
/// stopped before its files are removed.
struct Run {
    strata: StrataProcess,
    dir: WorkDir,
}

impl Run {
    /// An error carrying strata's log if it has exited.
    fn alive(&mut self, during: &'static str) -> Result<(), BenchError> {
        match self.strata.exit_status() {
            None => Ok(()),
            Some(st) => Err(BenchError::StrataExited {
                status: st.to_string(),
                during,
                log: self.strata.log_tail(10),
            }),
        }
    }
}

fn write(path: &Path, text: &str) -> Result<(), BenchError> {
    std::fs::write(path, text).map_err(|e| BenchError::Setup(format!("cannot write {}: {e}", path.display())))
}

/// A port on 127.0.0.1 that was free a moment ago. The targets are already bound, and nothing
/// else of this run opens ports before strata binds it.
fn free_port() -> Result<u16, BenchError> {
    std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| BenchError::Setup(format!("cannot find a free port on 127.0.0.1: {e}")))
}

async fn get(client: &reqwest::Client, url: &str) -> Result<(u16, String), String> {
    let resp = client.get(url).send().await.map_err(|e| format!("GET {url}: {e}"))?;
    let code = resp.status().as_u16();
    let body = resp
        .text()
        .await
        .map_err(|e| format!("GET {url}: reading the body: {e}"))?;
    Ok((code, body))
}

async fn get_ok(client: &reqwest::Client, url: &str) -> Result<String, String> {
    match get(client, url).await? {
        (200, body) => Ok(body),
        (code, body) => Err(format!("GET {url}: HTTP {code}: {}", body.trim())),
    }
}

async fn metrics(client: &reqwest::Client, base: &str) -> Result<String, BenchError> {
    get_ok(client, &format!("{base}/metrics"))
        .await
        .map_err(BenchError::Measure)
}

async fn targets(client: &reqwest::Client, base: &str) -> Result<TargetsHealth, String> {
    let body = get_ok(client, &format!("{base}/api/v1/targets?state=active")).await?;
    targets_health(&body)
}

fn fmt_duration(d: Duration) -> String {
    PromDuration(d.as_millis().min(u128::from(u64::MAX)) as u64).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_is_valid_and_scrapes_the_file_sd_targets_at_the_interval() {
        let dir = tempfile::tempdir().unwrap();
        let addrs: Vec<SocketAddr> = vec!["127.0.0.1:4001".parse().unwrap(), "127.0.0.1:4002".parse().unwrap()];
        std::fs::write(dir.path().join("targets.json"), render_file_sd(&addrs)).unwrap();
        let file = dir.path().join("strata.yml");
        std::fs::write(&file, render_config(Duration::from_secs(10))).unwrap();
        let cfg = crate::config::load(Some(&file)).unwrap();
        assert_eq!(cfg.scrape_configs.len(), 1);
        let job = &cfg.scrape_configs[0];
        assert_eq!(job.job_name, JOB);
        assert_eq!(job.scrape_interval, PromDuration(10_000));
        assert_eq!(job.scrape_timeout, PromDuration(10_000));
        assert!(cfg.rule_files.is_empty());

        let sd: serde_json::Value = serde_json::from_str(&render_file_sd(&addrs)).unwrap();
        assert_eq!(
            sd[0]["targets"],
            serde_json::json!(["127.0.0.1:4001", "127.0.0.1:4002"])
        );
    }

    #[test]
    fn short_intervals_get_a_timeout_no_longer_than_the_interval() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("strata.yml");
        std::fs::write(&file, render_config(Duration::from_millis(1500))).unwrap();
        let cfg = crate::config::load(Some(&file)).unwrap();
        assert_eq!(cfg.scrape_configs[0].scrape_interval, PromDuration(1500));
        assert_eq!(cfg.scrape_configs[0].scrape_timeout, PromDuration(1500));
    }

    #[test]
    fn a_missing_strata_binary_is_a_usage_error_naming_the_path() {
        let e = resolve_strata_bin(Some(Path::new("/nonexistent/strata"))).unwrap_err();
        assert!(matches!(e, BenchError::Usage(_)));
        assert!(e.to_string().contains("/nonexistent/strata"), "{e}");
        assert!(resolve_strata_bin(Some(Path::new("/bin/sh"))).is_ok());
        assert!(resolve_strata_bin(Some(Path::new("/tmp"))).is_err());
    }
}
