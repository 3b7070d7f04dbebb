//! The `global` section: defaults for every job, rule evaluation timing and
//! external labels.

use std::fmt;
use std::path::Path;

use serde::Deserialize;

use super::error::{Invalid, YamlPath};
use super::yaml::{null_as_default, scalar_with, StringMap};
use super::{ByteSize, PromDuration};
use crate::labels::NameValidationScheme;

/// A scrape protocol a job offers in its `Accept` header (`scrape_protocols`)
/// or assumes for a bad `Content-Type` (`fallback_scrape_protocol`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScrapeProtocol {
    /// `PrometheusProto`: delimited protobuf `MetricFamily` messages.
    PrometheusProto,
    /// `OpenMetricsText0.0.1`.
    OpenMetricsText0_0_1,
    /// `OpenMetricsText1.0.0`.
    OpenMetricsText1_0_0,
    /// `PrometheusText0.0.4`: the classic text format.
    PrometheusText0_0_4,
    /// `PrometheusText1.0.0`: the text format with UTF-8 names.
    PrometheusText1_0_0,
}

impl ScrapeProtocol {
    /// Every protocol, in the (sorted) order Prometheus lists them in errors.
    pub const ALL: [ScrapeProtocol; 5] = [
        ScrapeProtocol::OpenMetricsText0_0_1,
        ScrapeProtocol::OpenMetricsText1_0_0,
        ScrapeProtocol::PrometheusProto,
        ScrapeProtocol::PrometheusText0_0_4,
        ScrapeProtocol::PrometheusText1_0_0,
    ];

    /// Prometheus 3.x's default offer: OpenMetrics first, then the text formats.
    pub const DEFAULT: [ScrapeProtocol; 4] = [
        ScrapeProtocol::OpenMetricsText1_0_0,
        ScrapeProtocol::OpenMetricsText0_0_1,
        ScrapeProtocol::PrometheusText1_0_0,
        ScrapeProtocol::PrometheusText0_0_4,
    ];

    /// The name used in configuration files.
    pub fn as_str(self) -> &'static str {
        match self {
            ScrapeProtocol::PrometheusProto => "PrometheusProto",
            ScrapeProtocol::OpenMetricsText0_0_1 => "OpenMetricsText0.0.1",
            ScrapeProtocol::OpenMetricsText1_0_0 => "OpenMetricsText1.0.0",
            ScrapeProtocol::PrometheusText0_0_4 => "PrometheusText0.0.4",
            ScrapeProtocol::PrometheusText1_0_0 => "PrometheusText1.0.0",
        }
    }

    /// The media type and parameters offered for it in `Accept`.
    pub fn header_value(self) -> &'static str {
        match self {
            ScrapeProtocol::PrometheusProto => {
                "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"
            }
            ScrapeProtocol::OpenMetricsText0_0_1 => "application/openmetrics-text;version=0.0.1",
            ScrapeProtocol::OpenMetricsText1_0_0 => "application/openmetrics-text;version=1.0.0",
            ScrapeProtocol::PrometheusText0_0_4 => "text/plain;version=0.0.4",
            ScrapeProtocol::PrometheusText1_0_0 => "text/plain;version=1.0.0",
        }
    }

    /// Parses a configuration name (case-sensitive, as in Prometheus).
    pub fn parse(s: &str) -> Result<ScrapeProtocol, String> {
        ScrapeProtocol::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = ScrapeProtocol::ALL.iter().map(|p| p.as_str()).collect();
                format!("unknown scrape protocol {s}, supported: [{}]", names.join(" "))
            })
    }
}

impl fmt::Display for ScrapeProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ScrapeProtocol {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        scalar_with(d, |s| ScrapeProtocol::parse(s.unwrap_or("")))
    }
}

/// Checks a `scrape_protocols` list: non-empty, known, no duplicates.
pub(crate) fn validate_scrape_protocols(list: &[ScrapeProtocol]) -> Result<(), String> {
    if list.is_empty() {
        return Err("scrape_protocols cannot be empty".to_string());
    }
    for (i, p) in list.iter().enumerate() {
        if list[..i].contains(p) {
            let names: Vec<&str> = list.iter().map(|p| p.as_str()).collect();
            return Err(format!(
                "duplicated protocol in scrape_protocols, got [{}]",
                names.join(" ")
            ));
        }
    }
    Ok(())
}

impl<'de> Deserialize<'de> for NameValidationScheme {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        scalar_with(d, |s| match s.unwrap_or("") {
            "" | "utf8" => Ok(NameValidationScheme::Utf8),
            "legacy" => Ok(NameValidationScheme::Legacy),
            other => Err(format!(
                "unknown name validation method specified, must be either '', 'legacy' or 'utf8', got {other}"
            )),
        })
    }
}

/// The `global` section. After validation every duration is resolved
/// (zero means "Prometheus's default" in the file, never after loading).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default = "GlobalConfig::unset", deny_unknown_fields)]
pub struct GlobalConfig {
    /// How often jobs scrape unless they say otherwise (default 1m).
    pub scrape_interval: PromDuration,
    /// Scrape timeout unless a job says otherwise (default min(10s, scrape_interval)).
    pub scrape_timeout: PromDuration,
    /// Protocols offered by jobs that do not list their own; `None` for the default.
    #[serde(deserialize_with = "null_as_default")]
    pub scrape_protocols: Option<Vec<ScrapeProtocol>>,
    /// How often rule groups are evaluated unless they say otherwise (default 1m).
    pub evaluation_interval: PromDuration,
    /// How far in the past rules evaluate by default (default 0).
    pub rule_query_offset: PromDuration,
    /// Labels added to series and alerts leaving this server (federation,
    /// remote write, Alertmanager), in name order. Empty values are dropped.
    #[serde(deserialize_with = "null_as_default")]
    pub external_labels: StringMap,
    /// Accepted for compatibility and ignored (with a warning): strata keeps no query log.
    #[serde(deserialize_with = "null_as_default")]
    pub query_log_file: String,
    /// Default `body_size_limit` of jobs (0 = unlimited).
    pub body_size_limit: ByteSize,
    /// Default `sample_limit` of jobs (0 = unlimited).
    #[serde(deserialize_with = "null_as_default")]
    pub sample_limit: u64,
    /// Default `target_limit` of jobs (0 = unlimited).
    #[serde(deserialize_with = "null_as_default")]
    pub target_limit: u64,
    /// Default `label_limit` of jobs (0 = unlimited).
    #[serde(deserialize_with = "null_as_default")]
    pub label_limit: u64,
    /// Default `label_name_length_limit` of jobs (0 = unlimited).
    #[serde(deserialize_with = "null_as_default")]
    pub label_name_length_limit: u64,
    /// Default `label_value_length_limit` of jobs (0 = unlimited).
    #[serde(deserialize_with = "null_as_default")]
    pub label_value_length_limit: u64,
    /// Default `keep_dropped_targets` of jobs (0 = keep all).
    #[serde(deserialize_with = "null_as_default")]
    pub keep_dropped_targets: u64,
    /// Which label names are valid (default `utf8`, as in Prometheus 3.x).
    #[serde(deserialize_with = "null_as_default")]
    pub metric_name_validation_scheme: NameValidationScheme,
}

impl Default for GlobalConfig {
    /// Prometheus's defaults, resolved.
    fn default() -> Self {
        GlobalConfig {
            scrape_interval: PromDuration(60_000),
            scrape_timeout: PromDuration(10_000),
            evaluation_interval: PromDuration(60_000),
            ..GlobalConfig::unset()
        }
    }
}

impl GlobalConfig {
    /// Every field at Go's zero value: what an absent key means before validation.
    fn unset() -> Self {
        GlobalConfig {
            scrape_interval: PromDuration(0),
            scrape_timeout: PromDuration(0),
            scrape_protocols: None,
            evaluation_interval: PromDuration(0),
            rule_query_offset: PromDuration(0),
            external_labels: StringMap::default(),
            query_log_file: String::new(),
            body_size_limit: ByteSize(0),
            sample_limit: 0,
            target_limit: 0,
            label_limit: 0,
            label_name_length_limit: 0,
            label_value_length_limit: 0,
            keep_dropped_targets: 0,
            metric_name_validation_scheme: NameValidationScheme::Utf8,
        }
    }

    /// The external labels as `(name, value)` pairs in name order.
    pub fn external_labels(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.external_labels.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    pub(crate) fn validate(&mut self, _dir: &Path, path: &YamlPath, warnings: &mut Vec<String>) -> Result<(), Invalid> {
        let scheme = self.metric_name_validation_scheme;
        for name in self.external_labels.0.keys() {
            if !scheme.is_valid_label_name(name) {
                return Err(path
                    .key("external_labels")
                    .key(name)
                    .err(format!("{name:?} is not a valid label name")));
            }
        }
        self.external_labels.0.retain(|_, v| !v.is_empty());
        let defaults = GlobalConfig::default();
        if self.scrape_interval.0 == 0 {
            self.scrape_interval = defaults.scrape_interval;
        }
        if self.scrape_timeout > self.scrape_interval {
            return Err(path
                .key("scrape_timeout")
                .err("global scrape timeout greater than scrape interval"));
        }
        if self.scrape_timeout.0 == 0 {
            self.scrape_timeout = defaults.scrape_timeout.min(self.scrape_interval);
        }
        if self.evaluation_interval.0 == 0 {
            self.evaluation_interval = defaults.evaluation_interval;
        }
        if let Some(list) = &self.scrape_protocols {
            validate_scrape_protocols(list)
                .map_err(|e| path.key("scrape_protocols").err(format!("{e} for global config")))?;
        }
        if !self.query_log_file.is_empty() {
            warnings.push(format!(
                "global.query_log_file {:?} is ignored: strata does not log queries",
                self.query_log_file
            ));
        }
        Ok(())
    }
}
