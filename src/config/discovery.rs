//! Service discovery sections of a scrape job or Alertmanager list:
//! `static_configs`, `file_sd_configs`, `http_sd_configs`, `dns_sd_configs`.
//! These are the inputs of `crate::discovery`; each is validated (and its
//! relative file names resolved) when the configuration loads.

use std::path::Path;

use serde::Deserialize;

use super::error::{Invalid, YamlPath};
use super::http_client::{check_url, with_http_client, HttpClientConfig};
use super::yaml::{null_as_default, StringMap};
use super::{join_dir, PromDuration};

/// One `static_configs` entry: a fixed target group.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StaticConfig {
    /// `host:port` addresses; each becomes a target's `__address__`.
    #[serde(deserialize_with = "null_as_default")]
    pub targets: Vec<String>,
    /// Labels given to every target of the group, in name order.
    #[serde(deserialize_with = "null_as_default")]
    pub labels: StringMap,
}

impl StaticConfig {
    pub(crate) fn validate(&self, path: &YamlPath) -> Result<(), Invalid> {
        for name in self.labels.0.keys() {
            if name.is_empty() {
                return Err(path.key("labels").err(format!("{name:?} is not a valid label name")));
            }
        }
        Ok(())
    }

    /// Prometheus refuses URLs where addresses belong, unless relabeling may fix them up.
    pub(crate) fn check_addresses(&self, path: &YamlPath) -> Result<(), Invalid> {
        for (i, t) in self.targets.iter().enumerate() {
            if t.contains('/') {
                return Err(path
                    .key("targets")
                    .index(i)
                    .err(format!("{t:?} is not a valid hostname")));
            }
        }
        Ok(())
    }
}

/// One `file_sd_configs` entry: target groups read from JSON or YAML files.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FileSdConfig {
    /// File names or globs (`*` in the last path element only), ending in
    /// `.json`, `.yml` or `.yaml`; joined with the configuration file's directory.
    #[serde(deserialize_with = "null_as_default")]
    pub files: Vec<String>,
    /// How often the files are re-read besides watching them (default 5m).
    pub refresh_interval: PromDuration,
}

impl Default for FileSdConfig {
    fn default() -> Self {
        FileSdConfig {
            files: Vec::new(),
            refresh_interval: PromDuration(5 * 60_000),
        }
    }
}

impl FileSdConfig {
    pub(crate) fn validate(&mut self, dir: &Path, path: &YamlPath) -> Result<(), Invalid> {
        if self.files.is_empty() {
            return Err(path.err("file service discovery config must contain at least one path name"));
        }
        for (i, f) in self.files.iter_mut().enumerate() {
            if !is_file_sd_pattern(f) {
                return Err(path
                    .key("files")
                    .index(i)
                    .err(format!("path name {f:?} is not valid for file discovery")));
            }
            *f = join_dir(dir, f);
        }
        if self.refresh_interval.0 == 0 {
            self.refresh_interval = FileSdConfig::default().refresh_interval;
        }
        Ok(())
    }
}

/// `^[^*]*(\*[^/]*)?\.(json|yml|yaml|JSON|YML|YAML)$`
fn is_file_sd_pattern(f: &str) -> bool {
    let Some((stem, ext)) = f.rsplit_once('.') else {
        return false;
    };
    if !matches!(ext, "json" | "yml" | "yaml" | "JSON" | "YML" | "YAML") {
        return false;
    }
    match stem.split_once('*') {
        None => true,
        Some((_, after)) => !after.contains('/') && !after.contains('*'),
    }
}

with_http_client! {
    /// One `http_sd_configs` entry: target groups fetched as JSON from a URL.
    pub struct HttpSdConfig (RawHttpSdConfig, http_default = HttpClientConfig::default()) {
        /// The URL to fetch (http or https).
        pub url: String = String::new(),
        /// How often to fetch it (default 1m).
        pub refresh_interval: PromDuration = PromDuration(60_000),
    }
}

impl HttpSdConfig {
    pub(crate) fn validate(&mut self, dir: &Path, path: &YamlPath) -> Result<(), Invalid> {
        if self.url.is_empty() {
            return Err(path.err("URL is missing"));
        }
        check_url(&self.url, &["http", "https"]).map_err(|e| path.key("url").err(e))?;
        if self.refresh_interval.0 == 0 {
            self.refresh_interval = PromDuration(60_000);
        }
        self.http_client.validate(dir, path)
    }
}

/// The DNS record type a `dns_sd_configs` entry asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DnsRecordType {
    /// SRV records: each gives a host and port.
    #[default]
    Srv,
    /// A records (needs `port`).
    A,
    /// AAAA records (needs `port`).
    Aaaa,
    /// MX records (needs `port`).
    Mx,
    /// NS records (needs `port`).
    Ns,
}

impl DnsRecordType {
    /// The name as written in configuration files.
    pub fn as_str(self) -> &'static str {
        match self {
            DnsRecordType::Srv => "SRV",
            DnsRecordType::A => "A",
            DnsRecordType::Aaaa => "AAAA",
            DnsRecordType::Mx => "MX",
            DnsRecordType::Ns => "NS",
        }
    }
}

impl<'de> Deserialize<'de> for DnsRecordType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s: String = null_as_default(d)?;
        match s.to_uppercase().as_str() {
            "" | "SRV" => Ok(DnsRecordType::Srv),
            "A" => Ok(DnsRecordType::A),
            "AAAA" => Ok(DnsRecordType::Aaaa),
            "MX" => Ok(DnsRecordType::Mx),
            "NS" => Ok(DnsRecordType::Ns),
            _ => Err(serde::de::Error::custom(format_args!(
                "invalid DNS-SD records type {s}"
            ))),
        }
    }
}

/// One `dns_sd_configs` entry: targets from periodic DNS lookups.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DnsSdConfig {
    /// Names to look up.
    #[serde(deserialize_with = "null_as_default")]
    pub names: Vec<String>,
    /// Record type (default SRV).
    #[serde(rename = "type")]
    pub record_type: DnsRecordType,
    /// Port of the targets; required for every type but SRV.
    #[serde(deserialize_with = "null_as_default")]
    pub port: u16,
    /// How often to look the names up again (default 30s).
    pub refresh_interval: PromDuration,
}

impl Default for DnsSdConfig {
    fn default() -> Self {
        DnsSdConfig {
            names: Vec::new(),
            record_type: DnsRecordType::Srv,
            port: 0,
            refresh_interval: PromDuration(30_000),
        }
    }
}

impl DnsSdConfig {
    pub(crate) fn validate(&mut self, path: &YamlPath) -> Result<(), Invalid> {
        if self.names.is_empty() {
            return Err(path.err("DNS-SD config must contain at least one SRV record name"));
        }
        if self.record_type != DnsRecordType::Srv && self.port == 0 {
            return Err(path.err("a port is required in DNS-SD configs for all record types except SRV"));
        }
        if self.refresh_interval.0 == 0 {
            self.refresh_interval = DnsSdConfig::default().refresh_interval;
        }
        Ok(())
    }
}

/// The discovery sections a scrape job or Alertmanager list may have.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ServiceDiscovery<'a> {
    /// `static_configs`.
    pub static_configs: &'a [StaticConfig],
    /// `file_sd_configs`.
    pub file_sd_configs: &'a [FileSdConfig],
    /// `http_sd_configs`.
    pub http_sd_configs: &'a [HttpSdConfig],
    /// `dns_sd_configs`.
    pub dns_sd_configs: &'a [DnsSdConfig],
}

/// Validates the discovery sections of the section at `path`.
pub(crate) fn validate_sd(
    static_configs: &[StaticConfig],
    file_sd: &mut [FileSdConfig],
    http_sd: &mut [HttpSdConfig],
    dns_sd: &mut [DnsSdConfig],
    check_addresses: bool,
    dir: &Path,
    path: &YamlPath,
) -> Result<(), Invalid> {
    for (i, s) in static_configs.iter().enumerate() {
        let p = path.key("static_configs").index(i);
        s.validate(&p)?;
        if check_addresses {
            s.check_addresses(&p)?;
        }
    }
    for (i, f) in file_sd.iter_mut().enumerate() {
        f.validate(dir, &path.key("file_sd_configs").index(i))?;
    }
    for (i, h) in http_sd.iter_mut().enumerate() {
        h.validate(dir, &path.key("http_sd_configs").index(i))?;
    }
    for (i, d) in dns_sd.iter_mut().enumerate() {
        d.validate(&path.key("dns_sd_configs").index(i))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_sd_patterns() {
        for (f, ok) in [
            ("targets.json", true),
            ("dir/*.yml", true),
            ("dir/*.slow.yaml", true),
            ("*/x.yml", false),
            ("a*b*.json", false),
            ("targets.txt", false),
            ("targets", false),
            ("T.JSON", true),
        ] {
            assert_eq!(is_file_sd_pattern(f), ok, "{f}");
        }
    }

    #[test]
    fn defaults_and_validation() {
        let mut f: FileSdConfig = yaml_serde::from_str("files: [a/*.json]").unwrap();
        f.validate(Path::new("/etc/strata"), &YamlPath::root()).unwrap();
        assert_eq!(f.files, ["/etc/strata/a/*.json"]);
        assert_eq!(f.refresh_interval.to_string(), "5m");

        let mut h: HttpSdConfig = yaml_serde::from_str("url: http://sd.example:8080/targets").unwrap();
        h.validate(Path::new("."), &YamlPath::root()).unwrap();
        assert_eq!(h.refresh_interval.to_string(), "1m");
        assert!(h.http_client.follow_redirects && h.http_client.enable_http2);

        let mut d: DnsSdConfig = yaml_serde::from_str("names: [_node._tcp.example.org]").unwrap();
        d.validate(&YamlPath::root()).unwrap();
        assert_eq!(
            (d.record_type, d.refresh_interval.to_string()),
            (DnsRecordType::Srv, "30s".to_string())
        );
        let d: DnsSdConfig = yaml_serde::from_str("{names: [x], type: aaaa, port: 9100}").unwrap();
        assert_eq!(d.record_type, DnsRecordType::Aaaa);
    }

    #[test]
    fn invalid_sections_have_upstream_texts() {
        let cases: [(&str, &str); 8] = [
            (
                "file: {files: []}",
                "file service discovery config must contain at least one path name",
            ),
            (
                "file: {files: [a.txt]}",
                "path name \"a.txt\" is not valid for file discovery",
            ),
            ("http: {}", "URL is missing"),
            ("http: {url: 'ftp://x/y'}", "URL scheme must be 'http' or 'https'"),
            ("http: {url: 'http://'}", "host is missing in URL"),
            (
                "dns: {names: []}",
                "DNS-SD config must contain at least one SRV record name",
            ),
            (
                "dns: {names: [x], type: A}",
                "a port is required in DNS-SD configs for all record types except SRV",
            ),
            ("dns: {names: [x], type: TXT}", "invalid DNS-SD records type TXT"),
        ];
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct T {
            file: Option<FileSdConfig>,
            http: Option<HttpSdConfig>,
            dns: Option<DnsSdConfig>,
        }
        for (yaml, want) in cases {
            let got = yaml_serde::from_str::<T>(yaml)
                .map_err(|e| e.to_string())
                .and_then(|mut t| {
                    let p = YamlPath::root();
                    let r = match (&mut t.file, &mut t.http, &mut t.dns) {
                        (Some(f), _, _) => f.validate(Path::new("."), &p),
                        (_, Some(h), _) => h.validate(Path::new("."), &p),
                        (_, _, Some(d)) => d.validate(&p),
                        _ => Ok(()),
                    };
                    r.map_err(|e| e.message)
                });
            assert!(
                got.as_ref().is_err_and(|e| e.contains(want)),
                "{yaml}: want {want:?}, got {got:?}"
            );
        }
        let s: StaticConfig = yaml_serde::from_str("targets: ['http://bad']").unwrap();
        let e = s
            .check_addresses(&YamlPath::root().key("static_configs").index(0))
            .unwrap_err();
        assert_eq!(e.message, "\"http://bad\" is not a valid hostname");
        assert_eq!(e.path.to_string(), "static_configs[0].targets[0]");
    }
}
