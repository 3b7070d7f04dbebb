//! Flags of `strata-loadgen`.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use super::bench::ScrapeBenchConfig;
use super::TargetsConfig;
use crate::config::PromDuration;

/// strata-loadgen: simulated load for benchmarking a strata host.
#[derive(Debug, Parser)]
#[command(name = "strata-loadgen", version, about, long_about = None)]
pub struct LoadgenCli {
    /// What to simulate.
    #[command(subcommand)]
    pub command: Command,
}

/// The load generator's modes.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve simulated node_exporter-like targets on /metrics. Prints one line per target,
    /// `target <i> listening on <ip>:<port>`, once all are bound; stops on SIGINT or SIGTERM.
    Targets(TargetsArgs),
    /// Start simulated targets and a strata that scrapes them, let it warm up, and report its
    /// ingest rate, CPU seconds per million samples and RSS per active series.
    ScrapeBench(ScrapeBenchArgs),
}

/// Flags of `strata-loadgen targets`.
#[derive(Debug, Args)]
pub struct TargetsArgs {
    /// Number of targets; target i listens on base-port + i.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=65_535))]
    pub targets: u32,

    /// Series (sample lines) per target.
    #[arg(long, value_name = "M", value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    pub series: u32,

    /// IP address the targets listen on.
    #[arg(long, value_name = "IP", default_value = "127.0.0.1")]
    pub listen: IpAddr,

    /// Port of the first target; 0 gives every target an ephemeral port (see the printed lines).
    #[arg(long = "base-port", value_name = "P", default_value_t = 9100)]
    pub base_port: u16,

    /// Percentage of each target's series replaced per minute by series with a new `pod` label.
    #[arg(long, value_name = "PCT_PER_MIN", default_value_t = 0.0, value_parser = parse_churn)]
    pub churn: f64,

    /// Seed of every simulated value.
    #[arg(long, value_name = "S", default_value_t = 1)]
    pub seed: u64,
}

impl TargetsArgs {
    /// The serving configuration these flags describe.
    pub fn config(&self) -> TargetsConfig {
        TargetsConfig {
            targets: self.targets,
            series: self.series,
            listen: self.listen,
            base_port: self.base_port,
            churn_pct_per_min: self.churn,
            seed: self.seed,
        }
    }
}

/// Flags of `strata-loadgen scrape-bench`.
#[derive(Debug, Args)]
pub struct ScrapeBenchArgs {
    /// Number of simulated targets.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=65_535))]
    pub targets: u32,

    /// Series (sample lines) per target.
    #[arg(long, value_name = "M", value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    pub series: u32,

    /// strata's scrape interval (Prometheus duration syntax).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_positive_duration)]
    pub interval: Duration,

    /// Time between all targets being up and the start of the measurement.
    #[arg(long, value_name = "DURATION", default_value = "2m", value_parser = parse_duration)]
    pub warmup: Duration,

    /// Length of the measurement.
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_positive_duration)]
    pub duration: Duration,

    /// The strata binary to measure [default: `strata` next to this executable].
    #[arg(long = "strata-bin", value_name = "PATH")]
    pub strata_bin: Option<PathBuf>,

    /// Keep the work directory (configuration, target list, strata's log and data).
    #[arg(long = "keep-dir")]
    pub keep_dir: bool,

    /// Print the report as one JSON object instead of text.
    #[arg(long)]
    pub json: bool,

    /// Seed of every simulated value.
    #[arg(long, value_name = "S", default_value_t = 1)]
    pub seed: u64,
}

impl ScrapeBenchArgs {
    /// The benchmark these flags describe.
    pub fn config(&self) -> ScrapeBenchConfig {
        ScrapeBenchConfig {
            targets: self.targets,
            series: self.series,
            interval: self.interval,
            warmup: self.warmup,
            duration: self.duration,
            strata_bin: self.strata_bin.clone(),
            keep_dir: self.keep_dir,
            seed: self.seed,
        }
    }
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    PromDuration::parse(s)
        .map(PromDuration::to_std)
        .map_err(|e| e.to_string())
}

fn parse_positive_duration(s: &str) -> Result<Duration, String> {
    match parse_duration(s)? {
        d if d.is_zero() => Err(format!("expected a duration of more than 0, got {s:?}")),
        d => Ok(d),
    }
}

fn parse_churn(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("expected a percentage per minute of 0 or more, got {s:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_flags_parse_into_a_config() {
        let cli = LoadgenCli::try_parse_from([
            "strata-loadgen",
            "targets",
            "--targets",
            "3",
            "--series=200",
            "--listen",
            "127.0.0.2",
            "--base-port",
            "0",
            "--churn",
            "2.5",
            "--seed",
            "9",
        ])
        .unwrap();
        let Command::Targets(a) = cli.command else {
            panic!("not the targets mode");
        };
        let c = a.config();
        assert_eq!((c.targets, c.series, c.base_port, c.seed), (3, 200, 0, 9));
        assert_eq!(c.listen.to_string(), "127.0.0.2");
        assert_eq!(c.churn_pct_per_min, 2.5);
    }

    #[test]
    fn scrape_bench_flags_have_the_documented_defaults() {
        let cli = LoadgenCli::try_parse_from([
            "strata-loadgen",
            "scrape-bench",
            "--targets",
            "1000",
            "--series",
            "1000",
        ])
        .unwrap();
        let Command::ScrapeBench(a) = cli.command else {
            panic!("not the scrape-bench mode");
        };
        let c = a.config();
        assert_eq!((c.targets, c.series), (1000, 1000));
        assert_eq!(c.interval, Duration::from_secs(10));
        assert_eq!(c.warmup, Duration::from_secs(120));
        assert_eq!(c.duration, Duration::from_secs(300));
        assert_eq!(c.strata_bin, None);
        assert!(!c.keep_dir && !a.json);

        let cli = LoadgenCli::try_parse_from([
            "strata-loadgen",
            "scrape-bench",
            "--targets=5",
            "--series=100",
            "--interval=1s500ms",
            "--warmup=0",
            "--duration=5s",
            "--strata-bin=/opt/strata",
            "--keep-dir",
            "--json",
        ])
        .unwrap();
        let Command::ScrapeBench(a) = cli.command else {
            panic!("not the scrape-bench mode");
        };
        let c = a.config();
        assert_eq!(c.interval, Duration::from_millis(1500));
        assert_eq!(c.warmup, Duration::ZERO);
        assert_eq!(c.strata_bin.as_deref(), Some(std::path::Path::new("/opt/strata")));
        assert!(c.keep_dir && a.json);
    }

    #[test]
    fn bad_flags_are_usage_errors() {
        for args in [
            vec!["strata-loadgen"],
            vec!["strata-loadgen", "targets", "--series", "10"],
            vec!["strata-loadgen", "targets", "--targets", "0", "--series", "10"],
            vec![
                "strata-loadgen",
                "targets",
                "--targets",
                "1",
                "--series",
                "10",
                "--churn",
                "-5",
            ],
            vec![
                "strata-loadgen",
                "targets",
                "--targets",
                "1",
                "--series",
                "10",
                "--churn",
                "lots",
            ],
            vec![
                "strata-loadgen",
                "targets",
                "--targets",
                "1",
                "--series",
                "10",
                "--listen",
                "localhost:1",
            ],
            vec![
                "strata-loadgen",
                "targets",
                "--targets",
                "1",
                "--series",
                "10",
                "--base-port",
                "70000",
            ],
            vec!["strata-loadgen", "federate"],
            vec!["strata-loadgen", "scrape-bench", "--series", "10"],
            vec!["strata-loadgen", "scrape-bench", "--targets", "0", "--series", "10"],
            vec![
                "strata-loadgen",
                "scrape-bench",
                "--targets",
                "1",
                "--series",
                "1",
                "--interval",
                "0s",
            ],
            vec![
                "strata-loadgen",
                "scrape-bench",
                "--targets",
                "1",
                "--series",
                "1",
                "--interval",
                "10",
            ],
            vec![
                "strata-loadgen",
                "scrape-bench",
                "--targets",
                "1",
                "--series",
                "1",
                "--duration",
                "0",
            ],
            vec![
                "strata-loadgen",
                "scrape-bench",
                "--targets",
                "1",
                "--series",
                "1",
                "--warmup",
                "1.5m",
            ],
            vec![
                "strata-loadgen",
                "scrape-bench",
                "--targets",
                "1",
                "--series",
                "1",
                "--json=yes",
            ],
        ] {
            let e = LoadgenCli::try_parse_from(&args).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{args:?}");
        }
    }
}
