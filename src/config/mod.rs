//! strata's configuration file, in Prometheus's format.
//!
//! This revision loads the file and checks that it is a YAML mapping; the
//! full Prometheus model (global, scrape_configs, rule_files, alerting,
//! remote_write) with strict field checking grows here with scraping.

mod duration;
mod size;

use std::path::{Path, PathBuf};

pub use duration::{DurationError, PromDuration};
pub use size::{parse_size, SizeError};

/// The default configuration compiled into the binary (`config/strata.yml`).
pub const EMBEDDED: &str = include_str!("../../config/strata.yml");

/// Where a configuration came from, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The file given with `--config.file`.
    File(PathBuf),
    /// The built-in default.
    Embedded,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::File(p) => write!(f, "{}", p.display()),
            Source::Embedded => f.write_str("<embedded config/strata.yml>"),
        }
    }
}

/// A loaded configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where it came from.
    pub source: Source,
    /// The file's text, as served by `/api/v1/status/config`.
    pub text: String,
    /// The parsed document.
    pub doc: yaml_serde::Value,
}

/// Why a configuration was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The YAML did not parse.
    #[error("{source_name}: {message}")]
    Parse {
        /// File name (or `<embedded …>`).
        source_name: String,
        /// Parser message with line and column.
        message: String,
    },
}

/// Loads `path`, or the embedded default when `None`.
pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
    let (source, text) = match path {
        Some(p) => (
            Source::File(p.to_path_buf()),
            std::fs::read_to_string(p).map_err(|e| ConfigError::Read {
                path: p.to_path_buf(),
                source: e,
            })?,
        ),
        None => (Source::Embedded, EMBEDDED.to_string()),
    };
    let doc: yaml_serde::Value = yaml_serde::from_str(&text).map_err(|e| ConfigError::Parse {
        source_name: source.to_string(),
        message: e.to_string(),
    })?;
    if !(doc.is_mapping() || doc.is_null()) {
        return Err(ConfigError::Parse {
            source_name: source.to_string(),
            message: "the top level must be a mapping (global:, scrape_configs:, …)".into(),
        });
    }
    Ok(Config { source, text, doc })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_default_loads() {
        let c = load(None).unwrap();
        assert_eq!(c.source, Source::Embedded);
        assert!(c.doc.get("scrape_configs").is_some());
    }

    #[test]
    fn bad_yaml_names_the_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("bad.yml");
        std::fs::write(&p, "global:\n  scrape_interval: 15s\n bad: [\n").unwrap();
        let e = load(Some(&p)).unwrap_err().to_string();
        assert!(e.contains("bad.yml") && e.contains("line"), "{e}");
    }

    #[test]
    fn missing_file_is_an_error_naming_it() {
        let e = load(Some(Path::new("/nonexistent/strata.yml")))
            .unwrap_err()
            .to_string();
        assert!(e.contains("/nonexistent/strata.yml"), "{e}");
    }
}
