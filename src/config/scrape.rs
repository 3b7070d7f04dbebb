//! `scrape_configs` entries: one scrape job each.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::Deserialize;

use super::discovery::{validate_sd, DnsSdConfig, FileSdConfig, HttpSdConfig, ServiceDiscovery, StaticConfig};
use super::error::{Invalid, YamlPath};
use super::global::{validate_scrape_protocols, GlobalConfig, ScrapeProtocol};
use super::http_client::{with_http_client, HttpClientConfig};
use super::yaml::non_null_list;
use super::{ByteSize, PromDuration};
use crate::labels::NameValidationScheme;
use crate::relabel::RelabelConfig;

/// URL scheme of a job's scrapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scheme {
    /// `http` (default).
    #[default]
    Http,
    /// `https`.
    Https,
}

impl Scheme {
    /// `http` or `https`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Scheme {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s: String = super::yaml::null_as_default(d)?;
        match s.as_str() {
            "" | "http" => Ok(Scheme::Http),
            "https" => Ok(Scheme::Https),
            _ => Err(serde::de::Error::custom(format_args!(
                "unknown scheme {s:?}: want http or https"
            ))),
        }
    }
}

non_null_list!(static_configs_list, "empty or null section in static_configs");
non_null_list!(
    target_relabel_list,
    "empty or null target relabeling rule in scrape config"
);
non_null_list!(
    metric_relabel_list,
    "empty or null metric relabeling rule in scrape config"
);

/// A `deserialize_with` function name cannot be given to the macro, so the
/// lists whose null entries have their own message use these newtypes.
macro_rules! list_newtype {
    ($(#[$m:meta])* $name:ident<$t:ty>, $reader:ident) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Default)]
        pub struct $name(pub Vec<$t>);

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $reader(d).map($name)
            }
        }

        impl std::ops::Deref for $name {
            type Target = Vec<$t>;
            fn deref(&self) -> &Vec<$t> {
                &self.0
            }
        }

        impl std::ops::DerefMut for $name {
            fn deref_mut(&mut self) -> &mut Vec<$t> {
                &mut self.0
            }
        }
    };
}

list_newtype!(
    /// `static_configs` (null entries refused).
    StaticConfigs<StaticConfig>,
    static_configs_list
);
list_newtype!(
    /// `relabel_configs` of a job (null entries refused).
    TargetRelabelConfigs<RelabelConfig>,
    target_relabel_list
);
list_newtype!(
    /// `metric_relabel_configs` of a job (null entries refused).
    MetricRelabelConfigs<RelabelConfig>,
    metric_relabel_list
);

with_http_client! {
    /// One scrape job. After loading, every inherited field is resolved from
    /// `global` (interval, timeout, limits, protocols, name validation).
    pub struct ScrapeConfig (RawScrapeConfig, http_default = HttpClientConfig::default()) {
        /// Job name: the `job` label of its targets. Required, unique.
        pub job_name: String = String::new(),
        /// Keep the target's own labels when they clash with target labels.
        pub honor_labels: bool = false,
        /// Use the timestamps targets expose (default true).
        pub honor_timestamps: bool = true,
        /// Write staleness markers for series with explicit timestamps.
        pub track_timestamps_staleness: bool = false,
        /// Query parameters of every scrape URL (`__param_<name>` labels override the first value).
        pub params: BTreeMap<String, Vec<String>> = BTreeMap::new(),
        /// How often to scrape (default `global.scrape_interval`).
        pub scrape_interval: PromDuration = PromDuration(0),
        /// Scrape timeout (default min(`global.scrape_timeout`, `scrape_interval`)).
        pub scrape_timeout: PromDuration = PromDuration(0),
        /// Protocols offered, most wanted first (default global's or Prometheus's).
        pub scrape_protocols: Option<Vec<ScrapeProtocol>> = None,
        /// Protocol assumed when a target's `Content-Type` is missing or unknown.
        pub fallback_scrape_protocol: FallbackProtocol = FallbackProtocol(None),
        /// Path of the metrics endpoint (default `/metrics`).
        pub metrics_path: String = "/metrics".to_string(),
        /// `http` or `https`.
        pub scheme: Scheme = Scheme::Http,
        /// Ask targets for gzip (default true).
        pub enable_compression: bool = true,
        /// Largest uncompressed body accepted (0 = unlimited; default global's).
        pub body_size_limit: ByteSize = ByteSize(0),
        /// Most samples per scrape after metric relabeling (0 = unlimited; default global's).
        pub sample_limit: u64 = 0,
        /// Most targets after target relabeling (0 = unlimited; default global's).
        pub target_limit: u64 = 0,
        /// Most labels per sample (0 = unlimited; default global's).
        pub label_limit: u64 = 0,
        /// Longest label name (0 = unlimited; default global's).
        pub label_name_length_limit: u64 = 0,
        /// Longest label value (0 = unlimited; default global's).
        pub label_value_length_limit: u64 = 0,
        /// Most dropped targets remembered for the API (0 = all; default global's).
        pub keep_dropped_targets: u64 = 0,
        /// Which label names are valid (default global's).
        pub metric_name_validation_scheme: Option<NameValidationScheme> = None,
        /// Rules applied to discovered targets.
        pub relabel_configs: TargetRelabelConfigs = TargetRelabelConfigs::default(),
        /// Rules applied to scraped samples.
        pub metric_relabel_configs: MetricRelabelConfigs = MetricRelabelConfigs::default(),
        /// Fixed target groups.
        pub static_configs: StaticConfigs = StaticConfigs::default(),
        /// Target groups from files.
        pub file_sd_configs: Vec<FileSdConfig> = Vec::new(),
        /// Target groups from HTTP endpoints.
        pub http_sd_configs: Vec<HttpSdConfig> = Vec::new(),
        /// Targets from DNS.
        pub dns_sd_configs: Vec<DnsSdConfig> = Vec::new(),
    }
}

/// `fallback_scrape_protocol`; `None` when unset (absent, null or empty).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FallbackProtocol(pub Option<ScrapeProtocol>);

impl<'de> Deserialize<'de> for FallbackProtocol {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        super::yaml::scalar_with(d, |s| match s.unwrap_or("") {
            "" => Ok(FallbackProtocol(None)),
            s => ScrapeProtocol::parse(s)
                .map(|p| FallbackProtocol(Some(p)))
                .map_err(|e| format!("invalid fallback_scrape_protocol: {e}")),
        })
    }
}

impl ScrapeConfig {
    /// The label name rules of this job (resolved when loaded).
    pub fn name_validation_scheme(&self) -> NameValidationScheme {
        self.metric_name_validation_scheme.unwrap_or_default()
    }

    /// The protocols this job offers (resolved when loaded).
    pub fn protocols(&self) -> &[ScrapeProtocol] {
        self.scrape_protocols.as_deref().unwrap_or(&ScrapeProtocol::DEFAULT)
    }

    /// The job's discovery sections.
    pub fn service_discovery(&self) -> ServiceDiscovery<'_> {
        ServiceDiscovery {
            static_configs: &self.static_configs,
            file_sd_configs: &self.file_sd_configs,
            http_sd_configs: &self.http_sd_configs,
            dns_sd_configs: &self.dns_sd_configs,
        }
    }

    /// Checks the job and fills in what it inherits from `global`, as
    /// Prometheus's `ScrapeConfig.Validate` does; relative file names are joined with `dir`.
    pub(crate) fn validate(&mut self, global: &GlobalConfig, dir: &Path, path: &YamlPath) -> Result<(), Invalid> {
        if self.job_name.is_empty() {
            return Err(path.key("job_name").err("job_name is empty"));
        }
        let job = self.job_name.clone();
        self.http_client.validate(dir, path)?;
        validate_sd(
            &self.static_configs,
            &mut self.file_sd_configs,
            &mut self.http_sd_configs,
            &mut self.dns_sd_configs,
            self.relabel_configs.is_empty(),
            dir,
            path,
        )?;
        if self.scrape_interval.0 == 0 {
            self.scrape_interval = global.scrape_interval;
        }
        if self.scrape_timeout > self.scrape_interval {
            return Err(path.key("scrape_timeout").err(format!(
                "scrape timeout greater than scrape interval for scrape config with job name {job:?}"
            )));
        }
        if self.scrape_timeout.0 == 0 {
            self.scrape_timeout = global.scrape_timeout.min(self.scrape_interval);
        }
        if self.body_size_limit.0 == 0 {
            self.body_size_limit = global.body_size_limit;
        }
        for (mine, global) in [
            (&mut self.sample_limit, global.sample_limit),
            (&mut self.target_limit, global.target_limit),
            (&mut self.label_limit, global.label_limit),
            (&mut self.label_name_length_limit, global.label_name_length_limit),
            (&mut self.label_value_length_limit, global.label_value_length_limit),
            (&mut self.keep_dropped_targets, global.keep_dropped_targets),
        ] {
            if *mine == 0 {
                *mine = global;
            }
        }
        if self.scrape_protocols.is_none() {
            self.scrape_protocols = Some(
                global
                    .scrape_protocols
                    .clone()
                    .unwrap_or_else(|| ScrapeProtocol::DEFAULT.to_vec()),
            );
        }
        if let Some(list) = &self.scrape_protocols {
            validate_scrape_protocols(list).map_err(|e| {
                path.key("scrape_protocols")
                    .err(format!("{e} for scrape config with job name {job:?}"))
            })?;
        }
        let scheme = *self
            .metric_name_validation_scheme
            .get_or_insert(global.metric_name_validation_scheme);
        for (key, rules) in [
            ("relabel_configs", &mut self.relabel_configs.0),
            ("metric_relabel_configs", &mut self.metric_relabel_configs.0),
        ] {
            for (i, r) in rules.iter_mut().enumerate() {
                r.validate(scheme).map_err(|e| path.key(key).index(i).err(e))?;
            }
        }
        Ok(())
    }
}
