//! Service discovery: where targets come from, and how a discovered target
//! becomes a scrape target.
//!
//! A *provider* watches one discovery section of the configuration and sends
//! the complete list of [`TargetGroup`]s it knows whenever that list changes:
//! [`static_sd`] (fixed groups), [`file_sd`] (JSON/YAML files, watched),
//! [`http_sd`] (a JSON endpoint, polled) and [`dns_sd`] (SRV/A/AAAA/MX/NS
//! lookups, polled). A provider that fails to refresh keeps sending what it
//! last knew, as Prometheus does.
//!
//! The [`DiscoveryManager`] runs the providers of every named set of
//! discovery sections (a scrape job, or an Alertmanager list), merges their
//! groups per set and publishes the result through a `tokio::sync::watch`
//! channel, at most once per debounce interval. On reload it restarts only
//! the providers whose section changed.
//!
//! [`targets::build_targets`] turns a job's groups into [`targets::Target`]s
//! (spec §2.2): defaults from the job, relabeling, validation, `instance`,
//! and the scrape URL.
//!
//! ```
//! use strata::discovery::{static_sd, targets::build_targets};
//! let cfg = strata::config::load(None).unwrap();
//! let job = &cfg.scrape_configs[0];
//! let groups = static_sd::groups(&job.static_configs);
//! let (active, dropped) = build_targets(job, &groups, job.name_validation_scheme());
//! assert_eq!(active[0].url, "http://localhost:9090/metrics");
//! assert!(dropped.is_empty());
//! ```

pub mod dns_sd;
pub mod file_sd;
mod group;
pub mod http_sd;
mod manager;
pub mod metrics;
pub mod static_sd;
pub mod targets;

pub use group::{parse_json_groups, parse_yaml_groups, GroupFormatError, LabelSet, TargetGroup};
pub use manager::{
    alertmanager_sd_sets, scrape_sd_sets, DiscoveryManager, SdConfig, SdSet, TargetSets, DEFAULT_DEBOUNCE,
};

/// The label holding a target's `host:port`.
pub const ADDRESS_LABEL: &str = "__address__";
/// Prefix of labels that discovery attaches and target construction removes.
pub const META_LABEL_PREFIX: &str = "__meta_";
