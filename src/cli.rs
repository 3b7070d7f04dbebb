//! Command-line flags, with Prometheus's names.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, ValueEnum};

use crate::config::{parse_size, PromDuration};

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// `ts=… level=info msg="…" key=value`
    Logfmt,
    /// One JSON object per line.
    Json,
}

/// Minimum level logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogLevel {
    /// Everything.
    Debug,
    /// Normal operation.
    Info,
    /// Problems that strata works around.
    Warn,
    /// Failures.
    Error,
}

/// strata: a Prometheus-compatible federation appliance.
#[derive(Debug, Parser)]
#[command(name = "strata", version, about, long_about = None)]
pub struct Cli {
    /// Prometheus configuration file. Without it, the embedded default (config/strata.yml) is used.
    #[arg(long = "config.file", value_name = "FILE")]
    pub config_file: Option<PathBuf>,

    /// Base path for metrics storage.
    #[arg(long = "storage.tsdb.path", value_name = "DIR", default_value = "data/")]
    pub storage_path: PathBuf,

    /// How long to retain samples in storage (Prometheus duration, e.g. 15d). 0 keeps them forever unless a size is set.
    #[arg(long = "storage.tsdb.retention.time", value_name = "DURATION", default_value = "15d", value_parser = parse_duration)]
    pub retention_time: PromDuration,

    /// Maximum bytes of storage blocks to retain (e.g. 512MB, base 2). 0 disables.
    #[arg(long = "storage.tsdb.retention.size", value_name = "SIZE", default_value = "0", value_parser = parse_size_flag)]
    pub retention_size: u64,

    /// Address to listen on for the web interface, API and telemetry.
    #[arg(long = "web.listen-address", value_name = "ADDR", default_value = "0.0.0.0:9090")]
    pub listen_address: SocketAddr,

    /// Only log messages at this level or above.
    #[arg(long = "log.level", value_enum, default_value = "info")]
    pub log_level: LogLevel,

    /// Output format of log messages.
    #[arg(long = "log.format", value_enum, default_value = "logfmt")]
    pub log_format: LogFormat,
}

fn parse_duration(s: &str) -> Result<PromDuration, String> {
    PromDuration::parse(s).map_err(|e| e.to_string())
}

fn parse_size_flag(s: &str) -> Result<u64, String> {
    parse_size(s).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_flag_names_are_accepted() {
        let c = Cli::try_parse_from([
            "strata",
            "--config.file=/etc/strata/strata.yml",
            "--storage.tsdb.path=/var/lib/strata",
            "--storage.tsdb.retention.time=30d",
            "--storage.tsdb.retention.size=10GB",
            "--web.listen-address=127.0.0.1:9999",
            "--log.level=debug",
            "--log.format=json",
        ])
        .unwrap();
        assert_eq!(c.retention_time, PromDuration(30 * 86_400_000));
        assert_eq!(c.retention_size, 10 << 30);
        assert_eq!(c.listen_address.port(), 9999);
        assert_eq!(c.log_format, LogFormat::Json);
    }

    #[test]
    fn defaults_match_prometheus() {
        let c = Cli::try_parse_from(["strata"]).unwrap();
        assert_eq!(c.retention_time.to_string(), "15d");
        assert_eq!(c.retention_size, 0);
        assert_eq!(c.listen_address.to_string(), "0.0.0.0:9090");
        assert_eq!(c.storage_path, PathBuf::from("data/"));
        assert_eq!(c.log_format, LogFormat::Logfmt);
    }

    #[test]
    fn bad_values_and_unknown_flags_are_usage_errors() {
        for args in [
            vec!["strata", "--storage.tsdb.retention.time=1.5h"],
            vec!["strata", "--storage.tsdb.retention.size=lots"],
            vec!["strata", "--log.format=xml"],
            vec!["strata", "--no.such.flag"],
        ] {
            let e = Cli::try_parse_from(&args).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{args:?}");
        }
    }
}
