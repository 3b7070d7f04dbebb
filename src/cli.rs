//! Command-line flags, with Prometheus's names.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::config::{self, parse_size, PromDuration};

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

    /// Enable shutdown and reload via HTTP request (`POST /-/reload`, `POST /-/quit`).
    #[arg(long = "web.enable-lifecycle")]
    pub enable_lifecycle: bool,

    /// Only log messages at this level or above.
    #[arg(long = "log.level", value_enum, default_value = "info")]
    pub log_level: LogLevel,

    /// Output format of log messages.
    #[arg(long = "log.format", value_enum, default_value = "logfmt")]
    pub log_format: LogFormat,

    /// A tool to run instead of the server.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands: tools that run and exit instead of starting the server.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check files without starting the server, like promtool.
    Check {
        /// What to check.
        #[command(subcommand)]
        what: Check,
    },
}

/// The `check` tools.
#[derive(Debug, Subcommand)]
pub enum Check {
    /// Check configuration files: syntax, validity, and that their rule file globs resolve.
    Config {
        /// Configuration files to check.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
}

/// Runs `check config` over `files` the way `promtool check config` reports:
/// `Checking FILE`, warnings, `SUCCESS` lines on `out`, `FAILED: <error>` on
/// `err`. Returns whether every file passed.
pub fn check_config(files: &[PathBuf], out: &mut dyn Write, err: &mut dyn Write) -> bool {
    let mut all_ok = true;
    for file in files {
        let _ = writeln!(out, "Checking {}", file.display());
        match check_config_file(file, out) {
            Ok(rule_files) => {
                let _ = writeln!(out, "  SUCCESS: {rule_files} rule files found");
                let _ = writeln!(
                    out,
                    " SUCCESS: {} is valid prometheus config file syntax",
                    file.display()
                );
            }
            Err(e) => {
                all_ok = false;
                let _ = out.flush();
                let _ = writeln!(err, "  FAILED: {e}");
            }
        }
        let _ = writeln!(out);
    }
    all_ok
}

/// Loads one file, prints its warnings, and counts the rule files it names.
fn check_config_file(file: &std::path::Path, out: &mut dyn Write) -> Result<usize, config::ConfigError> {
    let cfg = config::load(Some(file))?;
    for w in &cfg.warnings {
        let _ = writeln!(out, "  WARNING: {w}");
    }
    for job in &cfg.scrape_configs {
        for sd in &job.file_sd_configs {
            for pattern in &sd.files {
                let found = glob::glob(pattern).map(|mut g| g.next().is_some()).unwrap_or(false);
                if !found {
                    let _ = writeln!(
                        out,
                        "  WARNING: file {pattern:?} for file_sd in scrape job {:?} does not exist",
                        job.job_name
                    );
                }
            }
        }
    }
    Ok(cfg.rule_file_paths()?.len())
}

fn parse_duration(s: &str) -> Result<PromDuration, String> {
    PromDuration::parse(s).map_err(|e| e.to_string())
}

fn parse_size_flag(s: &str) -> Result<u64, String> {
    parse_size(s).map_err(|e| e.to_string())
}

/// Exit code for bad usage and unusable inputs, as Prometheus's kingpin uses.
pub const EXIT_USAGE: u8 = 2;

/// Parses the command line of a strata binary. `--help` and `--version`
/// print and exit 0; any other problem prints clap's first line (which names
/// the flag and what is wrong) prefixed with `program`, and exits 2.
pub fn parse_args<P: Parser>(program: &str) -> Result<P, std::process::ExitCode> {
    P::try_parse().map_err(|e| {
        use clap::error::ErrorKind;
        if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
            let _ = e.print();
            return std::process::ExitCode::SUCCESS;
        }
        let text = e.to_string();
        let first = text.lines().next().unwrap_or("invalid arguments");
        eprintln!("{program}: {first} (try --help)");
        std::process::ExitCode::from(EXIT_USAGE)
    })
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
    fn check_config_subcommand_parses_and_keeps_flags() {
        let c = Cli::try_parse_from(["strata", "check", "config", "a.yml", "b.yml"]).unwrap();
        match c.command {
            Some(Command::Check {
                what: Check::Config { files },
            }) => assert_eq!(files, [PathBuf::from("a.yml"), PathBuf::from("b.yml")]),
            other => panic!("{other:?}"),
        }
        assert!(Cli::try_parse_from(["strata", "check", "config"]).is_err());
        let c = Cli::try_parse_from(["strata", "--log.level=debug"]).unwrap();
        assert!(c.command.is_none());
    }

    #[test]
    fn check_config_reports_like_promtool() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.yml");
        std::fs::create_dir(dir.path().join("rules")).unwrap();
        std::fs::write(dir.path().join("rules/a.yml"), "groups: []\n").unwrap();
        std::fs::write(
            &good,
            "rule_files: [rules/*.yml]\nscrape_configs:\n  - job_name: a\n    file_sd_configs: [{files: [nope/*.json]}]\n",
        )
        .unwrap();
        let bad = dir.path().join("bad.yml");
        std::fs::write(
            &bad,
            "scrape_configs:\n  - job_name: a\n    scrape_interval: 5s\n    scrape_timeout: 6s\n",
        )
        .unwrap();
        let (mut out, mut err) = (Vec::new(), Vec::new());
        assert!(!check_config(&[good.clone(), bad.clone()], &mut out, &mut err));
        let out = String::from_utf8(out).unwrap();
        let err = String::from_utf8(err).unwrap();
        let g = good.display();
        assert!(out.contains(&format!("Checking {g}\n  WARNING: file \"")), "{out}");
        assert!(
            out.contains("nope/*.json\" for file_sd in scrape job \"a\" does not exist\n"),
            "{out}"
        );
        assert!(
            out.contains(&format!(
                "  SUCCESS: 1 rule files found\n SUCCESS: {g} is valid prometheus config file syntax\n\n"
            )),
            "{out}"
        );
        assert!(out.contains(&format!("Checking {}\n", bad.display())), "{out}");
        assert_eq!(err, format!("  FAILED: {}:4:21: scrape_configs[0].scrape_timeout: scrape timeout greater than scrape interval for scrape config with job name \"a\"\n", bad.display()));
        let (mut out, mut err) = (Vec::new(), Vec::new());
        assert!(check_config(&[good], &mut out, &mut err));
        assert!(err.is_empty());
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
