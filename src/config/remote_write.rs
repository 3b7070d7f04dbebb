//! `remote_write` entries. Parsed and validated here; sending is `crate::remote`'s.

use std::path::Path;

use serde::Deserialize;

use super::error::{Invalid, YamlPath};
use super::http_client::{check_url, with_http_client, HttpClientConfig};
use super::yaml::{non_null_list, null_as_default, StringMap};
use super::PromDuration;
use crate::labels::NameValidationScheme;
use crate::relabel::RelabelConfig;

/// `queue_config`: how samples are batched and retried.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QueueConfig {
    /// Samples buffered per shard (default 10000).
    #[serde(deserialize_with = "null_as_default")]
    pub capacity: u64,
    /// Most concurrent shards (default 50).
    #[serde(deserialize_with = "null_as_default")]
    pub max_shards: u64,
    /// Fewest shards (default 1).
    #[serde(deserialize_with = "null_as_default")]
    pub min_shards: u64,
    /// Most samples per request (default 2000).
    #[serde(deserialize_with = "null_as_default")]
    pub max_samples_per_send: u64,
    /// Longest a sample waits in a shard before it is sent (default 5s).
    pub batch_send_deadline: PromDuration,
    /// First retry delay (default 30ms).
    pub min_backoff: PromDuration,
    /// Longest retry delay (default 5s).
    pub max_backoff: PromDuration,
    /// Retry on HTTP 429 as on 5xx.
    #[serde(rename = "retry_on_http_429", deserialize_with = "null_as_default")]
    pub retry_on_http_429: bool,
    /// Drop samples older than this instead of sending them (0 = never).
    pub sample_age_limit: PromDuration,
}

impl Default for QueueConfig {
    /// Prometheus's `DefaultQueueConfig`.
    fn default() -> Self {
        QueueConfig {
            capacity: 10_000,
            max_shards: 50,
            min_shards: 1,
            max_samples_per_send: 2000,
            batch_send_deadline: PromDuration(5_000),
            min_backoff: PromDuration(30),
            max_backoff: PromDuration(5_000),
            retry_on_http_429: false,
            sample_age_limit: PromDuration(0),
        }
    }
}

/// `metadata_config`: whether and how often metric metadata is sent.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetadataConfig {
    /// Send metadata (default true).
    #[serde(deserialize_with = "null_as_default")]
    pub send: bool,
    /// How often (default 1m).
    pub send_interval: PromDuration,
    /// Most metadata entries per request (default 2000).
    #[serde(deserialize_with = "null_as_default")]
    pub max_samples_per_send: u64,
}

impl Default for MetadataConfig {
    fn default() -> Self {
        MetadataConfig {
            send: true,
            send_interval: PromDuration(60_000),
            max_samples_per_send: 2000,
        }
    }
}

non_null_list!(
    write_relabel_list,
    "empty or null relabeling rule in remote write config"
);

/// `write_relabel_configs` (null entries refused).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WriteRelabelConfigs(pub Vec<RelabelConfig>);

impl<'de> Deserialize<'de> for WriteRelabelConfigs {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        write_relabel_list(d).map(WriteRelabelConfigs)
    }
}

with_http_client! {
    /// One `remote_write` endpoint.
    pub struct RemoteWriteConfig (RawRemoteWriteConfig, http_default = HttpClientConfig::remote_write_default()) {
        /// Endpoint URL (required).
        pub url: String = String::new(),
        /// Name, unique among remote writes when set.
        pub name: String = String::new(),
        /// Timeout of one request (default 30s).
        pub remote_timeout: PromDuration = PromDuration(30_000),
        /// Extra HTTP headers (reserved ones refused).
        pub headers: StringMap = StringMap::default(),
        /// Rules over series before they are sent.
        pub write_relabel_configs: WriteRelabelConfigs = WriteRelabelConfigs::default(),
        /// Send exemplars too.
        pub send_exemplars: bool = false,
        /// Send native histograms too.
        pub send_native_histograms: bool = false,
        /// Batching and retries.
        pub queue_config: QueueConfig = QueueConfig::default(),
        /// Metadata sending.
        pub metadata_config: MetadataConfig = MetadataConfig::default(),
    }
}

/// Headers Prometheus sets itself, which `headers` may not override.
const RESERVED_HEADERS: [&str; 16] = [
    "host",
    "content-encoding",
    "content-length",
    "content-type",
    "user-agent",
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "www-authenticate",
    "accept-encoding",
    "x-prometheus-remote-write-version",
    "x-prometheus-remote-read-version",
    "x-amz-date",
    "x-amz-security-token",
    "x-amz-content-sha256",
];

impl RemoteWriteConfig {
    pub(crate) fn validate(
        &mut self,
        scheme: NameValidationScheme,
        dir: &Path,
        path: &YamlPath,
    ) -> Result<(), Invalid> {
        if self.url.is_empty() {
            return Err(path.err("url for remote_write is empty"));
        }
        check_url(&self.url, &["http", "https"]).map_err(|e| path.key("url").err(e))?;
        for name in self.headers.0.keys() {
            let lower = name.to_lowercase();
            let p = path.key("headers").key(name);
            if lower == "authorization" {
                return Err(p.err(
                    "authorization header must be changed via the basic_auth, authorization, oauth2, sigv4, azuread or google_iam parameter",
                ));
            }
            if RESERVED_HEADERS.contains(&lower.as_str()) {
                return Err(p.err(format!("{name} is a reserved header. It must not be changed")));
            }
        }
        if self.remote_timeout.0 == 0 {
            self.remote_timeout = PromDuration(30_000);
        }
        self.http_client.validate(dir, path)?;
        for (i, r) in self.write_relabel_configs.0.iter_mut().enumerate() {
            r.validate(scheme)
                .map_err(|e| path.key("write_relabel_configs").index(i).err(e))?;
        }
        Ok(())
    }
}
