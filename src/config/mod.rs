//! strata's configuration file, in Prometheus's format.
//!
//! [`load`] reads the file (or the embedded default), deserialises it into the
//! model below with Prometheus's defaults, refusing unknown fields, then
//! validates it as Prometheus's `config.Load` does: jobs inherit from
//! `global`, relabel rules are checked, relative file names are joined with
//! the file's directory, `scrape_config_files` are read and merged. Every
//! refusal names the file, line, column and YAML path:
//!
//! ```text
//! strata.yml:12:21: scrape_configs[1].scrape_timeout: scrape timeout greater than scrape interval for scrape config with job name "node"
//! ```
//!
//! The model: [`Config`] → [`GlobalConfig`], [`ScrapeConfig`] (with
//! [`HttpClientConfig`] and the discovery sections [`StaticConfig`],
//! [`FileSdConfig`], [`HttpSdConfig`], [`DnsSdConfig`]), [`AlertingConfig`],
//! [`RemoteWriteConfig`]. Relabel rules are [`crate::relabel::RelabelConfig`].
//! `$VAR` in values is not expanded (Prometheus does not by default).

mod alerting;
mod discovery;
mod duration;
mod error;
mod global;
mod http_client;
mod remote_write;
mod scrape;
mod size;
pub(crate) mod yaml;

use std::collections::{HashMap, HashSet};
use std::path::{Component, Path, PathBuf};

use serde::Deserialize;

pub use alerting::{
    AlertingConfig, AlertmanagerAlertRelabelConfigs, AlertmanagerApiVersion, AlertmanagerConfig,
    AlertmanagerRelabelConfigs,
};
pub use discovery::{DnsRecordType, DnsSdConfig, FileSdConfig, HttpSdConfig, ServiceDiscovery, StaticConfig};
pub use duration::{DurationError, PromDuration};
pub use error::ConfigError;
pub use global::{GlobalConfig, ScrapeProtocol};
pub use http_client::{Authorization, BasicAuth, HttpClientConfig, Secret, TlsConfig, TlsVersion};
pub use remote_write::{MetadataConfig, QueueConfig, RemoteWriteConfig, WriteRelabelConfigs};
pub use scrape::{FallbackProtocol, MetricRelabelConfigs, Scheme, ScrapeConfig, StaticConfigs, TargetRelabelConfigs};
pub use size::{parse_size, ByteSize, SizeError};
pub use yaml::StringMap;

use error::{from_yaml_error, Invalid, YamlPath};
use yaml::{non_null_list, null_as_default};

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

impl Source {
    /// The directory relative file names in the configuration are resolved
    /// against: the file's own directory (the working directory for the embedded default).
    pub fn dir(&self) -> PathBuf {
        match self {
            Source::File(p) => match p.parent() {
                Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
                _ => PathBuf::from("."),
            },
            Source::Embedded => PathBuf::from("."),
        }
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::File(p) => write!(f, "{}", p.display()),
            Source::Embedded => f.write_str("<embedded config/strata.yml>"),
        }
    }
}

/// A loaded and validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where it came from.
    pub source: Source,
    /// The file's text, as served by `/api/v1/status/config`.
    pub text: String,
    /// The `global` section, resolved.
    pub global: GlobalConfig,
    /// Rule file globs, joined with the configuration file's directory.
    pub rule_files: Vec<String>,
    /// Globs of extra files of `scrape_configs`, joined with the configuration file's directory.
    pub scrape_config_files: Vec<String>,
    /// Every scrape job: the file's own, then those of `scrape_config_files`
    /// in glob order. Job names are unique.
    pub scrape_configs: Vec<ScrapeConfig>,
    /// The `alerting` section.
    pub alerting: AlertingConfig,
    /// The `remote_write` endpoints.
    pub remote_write: Vec<RemoteWriteConfig>,
    /// Things accepted but ignored (e.g. `global.query_log_file`), for the log.
    pub warnings: Vec<String>,
}

non_null_list!(scrape_config_list, "empty or null scrape config section");
non_null_list!(remote_write_list, "empty or null remote write config section");

/// The file as written.
#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct Document {
    #[serde(deserialize_with = "null_as_default")]
    global: GlobalConfig,
    #[serde(deserialize_with = "null_as_default")]
    rule_files: Vec<String>,
    #[serde(deserialize_with = "null_as_default")]
    scrape_config_files: Vec<String>,
    #[serde(deserialize_with = "scrape_config_list")]
    scrape_configs: Vec<ScrapeConfig>,
    #[serde(deserialize_with = "null_as_default")]
    alerting: AlertingConfig,
    #[serde(deserialize_with = "remote_write_list")]
    remote_write: Vec<RemoteWriteConfig>,
}

/// A file named by `scrape_config_files`: only `scrape_configs`.
#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct ScrapeConfigsFile {
    #[serde(deserialize_with = "scrape_config_list")]
    scrape_configs: Vec<ScrapeConfig>,
}

/// Loads `path`, or the embedded default when `None`.
pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
    match path {
        Some(p) => load_str(Source::File(p.to_path_buf()), &read(p)?),
        None => load_str(Source::Embedded, EMBEDDED),
    }
}

/// Loads a configuration from `text`; `source` names it in messages and
/// gives the directory relative file names are resolved against.
pub fn load_str(source: Source, text: &str) -> Result<Config, ConfigError> {
    let file = source.to_string();
    let dir = source.dir();
    let mut doc: Document = parse(&file, text)?;
    let mut warnings = Vec::new();
    validate(&mut doc, &dir, &mut warnings).map_err(|e| e.into_error(&file, text))?;
    merge_scrape_config_files(&mut doc, &file, text)?;
    Ok(Config {
        source,
        text: text.to_string(),
        global: doc.global,
        rule_files: doc.rule_files,
        scrape_config_files: doc.scrape_config_files,
        scrape_configs: doc.scrape_configs,
        alerting: doc.alerting,
        remote_write: doc.remote_write,
        warnings,
    })
}

impl Config {
    /// The rule files the `rule_files` globs name now, as Prometheus's
    /// `promtool check config` finds them: a pattern without `*` must name an existing file.
    pub fn rule_file_paths(&self) -> Result<Vec<PathBuf>, ConfigError> {
        let file = self.source.to_string();
        let mut out = Vec::new();
        for (i, pattern) in self.rule_files.iter().enumerate() {
            let at = || YamlPath::root().key("rule_files").index(i);
            let found = glob_files(pattern).map_err(|e| at().err(e).into_error(&file, &self.text))?;
            if !pattern.contains('*') && found.is_empty() {
                return Err(at()
                    .err(format!("{pattern:?} does not point to an existing file"))
                    .into_error(&file, &self.text));
            }
            out.extend(found);
        }
        Ok(out)
    }
}

fn read(p: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(p).map_err(|e| ConfigError::Read {
        path: p.to_path_buf(),
        source: e,
    })
}

fn parse<T: serde::de::DeserializeOwned>(file: &str, text: &str) -> Result<T, ConfigError> {
    let de = yaml_serde::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| from_yaml_error(file, e))
}

/// `^[^*]*(\*[^/]*)?$`: at most one `*`, in the last path element.
fn is_file_glob(p: &str) -> bool {
    match p.split_once('*') {
        None => true,
        Some((_, after)) => !after.contains('*') && !after.contains('/'),
    }
}

fn validate(doc: &mut Document, dir: &Path, warnings: &mut Vec<String>) -> Result<(), Invalid> {
    let root = YamlPath::root();
    doc.global.validate(dir, &root.key("global"), warnings)?;
    for (key, what, list) in [
        ("rule_files", "rule file", &mut doc.rule_files),
        (
            "scrape_config_files",
            "scrape config file",
            &mut doc.scrape_config_files,
        ),
    ] {
        for (i, f) in list.iter_mut().enumerate() {
            if !is_file_glob(f) {
                return Err(root.key(key).index(i).err(format!("invalid {what} path {f:?}")));
            }
            *f = join_dir(dir, f);
        }
    }
    let mut jobs = HashSet::new();
    for (i, sc) in doc.scrape_configs.iter_mut().enumerate() {
        let p = root.key("scrape_configs").index(i);
        sc.validate(&doc.global, dir, &p)?;
        if !jobs.insert(sc.job_name.clone()) {
            return Err(p
                .key("job_name")
                .err(format!("found multiple scrape configs with job name {:?}", sc.job_name)));
        }
    }
    let scheme = doc.global.metric_name_validation_scheme;
    doc.alerting.validate(scheme, dir, &root.key("alerting"))?;
    let mut names = HashSet::new();
    for (i, rw) in doc.remote_write.iter_mut().enumerate() {
        let p = root.key("remote_write").index(i);
        if !rw.name.is_empty() && !names.insert(rw.name.clone()) {
            return Err(p.key("name").err(format!(
                "found multiple remote write configs with job name {:?}",
                rw.name
            )));
        }
        rw.validate(scheme, dir, &p)?;
    }
    Ok(())
}

/// Reads the files `scrape_config_files` names and appends their jobs, as
/// Prometheus's `GetScrapeConfigs` does. Their relative file names are
/// resolved against their own directory.
fn merge_scrape_config_files(doc: &mut Document, file: &str, text: &str) -> Result<(), ConfigError> {
    let mut first_seen: HashMap<String, String> = doc
        .scrape_configs
        .iter()
        .map(|sc| (sc.job_name.clone(), "main config file".to_string()))
        .collect();
    for (i, pattern) in doc.scrape_config_files.iter().enumerate() {
        let files = glob_files(pattern).map_err(|e| {
            YamlPath::root()
                .key("scrape_config_files")
                .index(i)
                .err(format!("error retrieving scrape config files for {pattern:?}: {e}"))
                .into_error(file, text)
        })?;
        for path in files {
            let inc_text = read(&path)?;
            let inc_name = path.display().to_string();
            let inc: ScrapeConfigsFile = parse(&inc_name, &inc_text)?;
            let inc_dir = Source::File(path.clone()).dir();
            for (j, mut sc) in inc.scrape_configs.into_iter().enumerate() {
                let p = YamlPath::root().key("scrape_configs").index(j);
                sc.validate(&doc.global, &inc_dir, &p)
                    .map_err(|e| e.into_error(&inc_name, &inc_text))?;
                if let Some(first) = first_seen.get(&sc.job_name) {
                    return Err(p
                        .key("job_name")
                        .err(format!(
                            "found multiple scrape configs with job name {:?}, first found in {first}",
                            sc.job_name
                        ))
                        .into_error(&inc_name, &inc_text));
                }
                let abs = std::path::absolute(&path).unwrap_or_else(|_| path.clone());
                first_seen.insert(sc.job_name.clone(), format!("{:?}", abs.display().to_string()));
                doc.scrape_configs.push(sc);
            }
        }
    }
    Ok(())
}

/// The existing files matching `pattern`, sorted.
fn glob_files(pattern: &str) -> Result<Vec<PathBuf>, String> {
    let paths = glob::glob(pattern).map_err(|e| e.to_string())?;
    let mut out: Vec<PathBuf> = paths.filter_map(Result::ok).collect();
    out.sort();
    Ok(out)
}

/// Joins a relative file name with `dir` and cleans it lexically (like Go's
/// `filepath.Join`); empty and absolute names are returned unchanged.
pub(crate) fn join_dir(dir: &Path, name: &str) -> String {
    if name.is_empty() || Path::new(name).is_absolute() {
        return name.to_string();
    }
    let mut out: Vec<Component<'_>> = Vec::new();
    let joined = dir.join(name);
    for c in joined.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.last() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir) => {}
                _ => out.push(c),
            },
            other => out.push(other),
        }
    }
    if out.is_empty() {
        return ".".to_string();
    }
    out.iter().collect::<PathBuf>().display().to_string()
}

#[cfg(test)]
mod tests;
