//! The `alerting` section: where alerts go and how they are relabeled first (spec §6.6).

use std::fmt;
use std::path::Path;

use serde::Deserialize;

use super::discovery::{validate_sd, DnsSdConfig, FileSdConfig, HttpSdConfig, ServiceDiscovery};
use super::error::{Invalid, YamlPath};
use super::http_client::{with_http_client, HttpClientConfig};
use super::scrape::{Scheme, StaticConfigs};
use super::yaml::non_null_list;
use super::PromDuration;
use crate::labels::NameValidationScheme;
use crate::relabel::RelabelConfig;

/// Alertmanager API version; only `v2` exists nowadays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AlertmanagerApiVersion {
    /// `/api/v2/alerts`.
    #[default]
    V2,
}

impl fmt::Display for AlertmanagerApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("v2")
    }
}

impl<'de> Deserialize<'de> for AlertmanagerApiVersion {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        super::yaml::scalar_with(d, |s| match s.unwrap_or("") {
            "v2" => Ok(AlertmanagerApiVersion::V2),
            other => Err(format!(
                "expected Alertmanager api version to be one of [v2] but got {other}"
            )),
        })
    }
}

non_null_list!(alert_relabel_list, "empty or null alert relabeling rule");
non_null_list!(
    am_target_relabel_list,
    "empty or null Alertmanager target relabeling rule"
);
non_null_list!(
    am_alert_relabel_list,
    "empty or null Alertmanager alert relabeling rule"
);

macro_rules! rules_newtype {
    ($(#[$m:meta])* $name:ident, $reader:ident) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Default)]
        pub struct $name(pub Vec<RelabelConfig>);

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $reader(d).map($name)
            }
        }

        impl std::ops::Deref for $name {
            type Target = Vec<RelabelConfig>;
            fn deref(&self) -> &Vec<RelabelConfig> {
                &self.0
            }
        }
    };
}

rules_newtype!(
    /// `relabel_configs` of an Alertmanager list: rules over discovered Alertmanagers.
    AlertmanagerRelabelConfigs,
    am_target_relabel_list
);
rules_newtype!(
    /// `alert_relabel_configs` of one Alertmanager list: rules over alerts sent to it.
    AlertmanagerAlertRelabelConfigs,
    am_alert_relabel_list
);

with_http_client! {
    /// One `alertmanagers` entry: a set of Alertmanagers and how to reach them.
    pub struct AlertmanagerConfig (RawAlertmanagerConfig, http_default = HttpClientConfig::default()) {
        /// `http` or `https`.
        pub scheme: Scheme = Scheme::Http,
        /// Prefix of the push path: alerts go to `<path_prefix>/api/v2/alerts`.
        pub path_prefix: String = String::new(),
        /// Timeout of one push (default 10s).
        pub timeout: PromDuration = PromDuration(10_000),
        /// API version (only `v2`).
        pub api_version: AlertmanagerApiVersion = AlertmanagerApiVersion::V2,
        /// Rules over discovered Alertmanager targets.
        pub relabel_configs: AlertmanagerRelabelConfigs = AlertmanagerRelabelConfigs::default(),
        /// Rules over alerts sent to these Alertmanagers.
        pub alert_relabel_configs: AlertmanagerAlertRelabelConfigs = AlertmanagerAlertRelabelConfigs::default(),
        /// Fixed Alertmanager addresses.
        pub static_configs: StaticConfigs = StaticConfigs::default(),
        /// Alertmanager addresses from files.
        pub file_sd_configs: Vec<FileSdConfig> = Vec::new(),
        /// Alertmanager addresses from HTTP endpoints.
        pub http_sd_configs: Vec<HttpSdConfig> = Vec::new(),
        /// Alertmanager addresses from DNS.
        pub dns_sd_configs: Vec<DnsSdConfig> = Vec::new(),
    }
}

impl AlertmanagerConfig {
    /// The discovery sections of this list.
    pub fn service_discovery(&self) -> ServiceDiscovery<'_> {
        ServiceDiscovery {
            static_configs: &self.static_configs,
            file_sd_configs: &self.file_sd_configs,
            http_sd_configs: &self.http_sd_configs,
            dns_sd_configs: &self.dns_sd_configs,
        }
    }

    fn validate(&mut self, scheme: NameValidationScheme, dir: &Path, path: &YamlPath) -> Result<(), Invalid> {
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
        if self.timeout.0 == 0 {
            self.timeout = PromDuration(10_000);
        }
        for (key, rules) in [
            ("alert_relabel_configs", &mut self.alert_relabel_configs.0),
            ("relabel_configs", &mut self.relabel_configs.0),
        ] {
            for (i, r) in rules.iter_mut().enumerate() {
                r.validate(scheme).map_err(|e| path.key(key).index(i).err(e))?;
            }
        }
        Ok(())
    }
}

non_null_list!(alertmanager_list, "empty or null alertmanager config section");

/// The `alerting` section.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertingConfig {
    /// Rules over every alert, applied after external labels are added.
    #[serde(deserialize_with = "alert_relabel_list")]
    pub alert_relabel_configs: Vec<RelabelConfig>,
    /// Where alerts are sent.
    #[serde(deserialize_with = "alertmanager_list")]
    pub alertmanagers: Vec<AlertmanagerConfig>,
}

impl AlertingConfig {
    pub(crate) fn validate(
        &mut self,
        scheme: NameValidationScheme,
        dir: &Path,
        path: &YamlPath,
    ) -> Result<(), Invalid> {
        for (i, r) in self.alert_relabel_configs.iter_mut().enumerate() {
            r.validate(scheme)
                .map_err(|e| path.key("alert_relabel_configs").index(i).err(e))?;
        }
        for (i, am) in self.alertmanagers.iter_mut().enumerate() {
            am.validate(scheme, dir, &path.key("alertmanagers").index(i))?;
        }
        Ok(())
    }
}
