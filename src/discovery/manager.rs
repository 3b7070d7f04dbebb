//! The discovery manager: runs the providers of every named set of
//! discovery sections and publishes their merged groups.
//!
//! Each provider runs as one tokio task that owns its state and sends its
//! full list of groups when it changes. A single manager task receives those
//! lists, keeps the latest per provider and publishes
//! `set name → groups` through a `watch` channel, at most once per debounce
//! interval (Prometheus: 5 s), so that a burst of changes becomes one
//! update. No lock is shared between tasks.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::{dns_sd, file_sd, http_sd, metrics, static_sd, TargetGroup};
use crate::config::{Config, DnsSdConfig, FileSdConfig, HttpSdConfig, ServiceDiscovery, StaticConfig};

/// What the manager publishes: the groups of every configured set, by name.
/// Sets without any group are present with an empty list.
pub type TargetSets = Arc<HashMap<String, Vec<TargetGroup>>>;

/// The discovery sections of one set (a scrape job, an Alertmanager list), owned.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SdSet {
    /// `static_configs`.
    pub static_configs: Vec<StaticConfig>,
    /// `file_sd_configs`.
    pub file_sd_configs: Vec<FileSdConfig>,
    /// `http_sd_configs`.
    pub http_sd_configs: Vec<HttpSdConfig>,
    /// `dns_sd_configs`.
    pub dns_sd_configs: Vec<DnsSdConfig>,
}

impl From<ServiceDiscovery<'_>> for SdSet {
    fn from(sd: ServiceDiscovery<'_>) -> SdSet {
        SdSet {
            static_configs: sd.static_configs.to_vec(),
            file_sd_configs: sd.file_sd_configs.to_vec(),
            http_sd_configs: sd.http_sd_configs.to_vec(),
            dns_sd_configs: sd.dns_sd_configs.to_vec(),
        }
    }
}

/// The configuration of one provider.
#[derive(Debug, Clone, PartialEq)]
pub enum SdConfig {
    /// All `static_configs` of a set, as one provider (groups `"0"`, `"1"`, …).
    Static(Vec<StaticConfig>),
    /// One `file_sd_configs` entry.
    File(FileSdConfig),
    /// One `http_sd_configs` entry.
    Http(Box<HttpSdConfig>),
    /// One `dns_sd_configs` entry.
    Dns(DnsSdConfig),
}

impl SdSet {
    /// The providers of the set, in configuration order; identical entries
    /// are run once, as Prometheus does.
    pub fn providers(&self) -> Vec<SdConfig> {
        let mut out: Vec<SdConfig> = Vec::new();
        if !self.static_configs.is_empty() {
            out.push(SdConfig::Static(self.static_configs.clone()));
        }
        let rest = self
            .file_sd_configs
            .iter()
            .cloned()
            .map(SdConfig::File)
            .chain(self.http_sd_configs.iter().map(|h| SdConfig::Http(Box::new(h.clone()))))
            .chain(self.dns_sd_configs.iter().cloned().map(SdConfig::Dns));
        for c in rest {
            if !out.contains(&c) {
                out.push(c);
            }
        }
        out
    }
}

/// The sets of the scrape jobs, named by job.
pub fn scrape_sd_sets(cfg: &Config) -> Vec<(String, SdSet)> {
    cfg.scrape_configs
        .iter()
        .map(|sc| (sc.job_name.clone(), SdSet::from(sc.service_discovery())))
        .collect()
}

/// The sets of the `alerting.alertmanagers` entries, named `config-<i>` as
/// Prometheus's notifier names them.
pub fn alertmanager_sd_sets(cfg: &Config) -> Vec<(String, SdSet)> {
    cfg.alerting
        .alertmanagers
        .iter()
        .enumerate()
        .map(|(i, am)| (format!("config-{i}"), SdSet::from(am.service_discovery())))
        .collect()
}

enum Msg {
    /// A provider's complete list of groups.
    Update { id: u64, groups: Vec<TargetGroup> },
    /// The configured sets and their providers, in order.
    Layout(Vec<(String, Vec<u64>)>),
}

struct Provider {
    id: u64,
    set: String,
    cfg: SdConfig,
    task: JoinHandle<()>,
}

/// Runs discovery for a configuration; see the module documentation.
pub struct DiscoveryManager {
    providers: Vec<Provider>,
    next_id: u64,
    msg_tx: mpsc::Sender<Msg>,
    out_rx: watch::Receiver<TargetSets>,
    run: Option<JoinHandle<()>>,
}

/// Prometheus's debounce interval.
pub const DEFAULT_DEBOUNCE: Duration = Duration::from_secs(5);

/// How long the first change after a quiet period waits for others, so that
/// providers starting together (static, then files) land in one update.
const SETTLE: Duration = Duration::from_millis(50);

impl DiscoveryManager {
    /// A manager that publishes at most once per `debounce`. Must be called
    /// within a tokio runtime.
    pub fn new(debounce: Duration) -> DiscoveryManager {
        let (msg_tx, msg_rx) = mpsc::channel(64);
        let (out_tx, out_rx) = watch::channel(TargetSets::default());
        let run = tokio::spawn(run(msg_rx, out_tx, debounce));
        DiscoveryManager {
            providers: Vec::new(),
            next_id: 0,
            msg_tx,
            out_rx,
            run: Some(run),
        }
    }

    /// A receiver of the published target sets.
    pub fn subscribe(&self) -> watch::Receiver<TargetSets> {
        self.out_rx.clone()
    }

    /// Number of running provider tasks (finished static providers included).
    pub fn provider_count(&self) -> usize {
        self.providers.len()
    }

    /// Starts or restarts discovery for the scrape jobs of `cfg`.
    pub async fn apply_config(&mut self, cfg: &Config) {
        self.apply(scrape_sd_sets(cfg)).await
    }

    /// Makes the running providers those of `sets`: providers whose set and
    /// section are unchanged keep running (and keep their groups); the
    /// others are stopped, and new ones started.
    pub async fn apply(&mut self, sets: Vec<(String, SdSet)>) {
        let mut old = std::mem::take(&mut self.providers);
        let mut layout = Vec::with_capacity(sets.len());
        for (set, sd) in sets {
            let mut ids = Vec::new();
            for cfg in sd.providers() {
                let p = match old.iter().position(|p| p.set == set && p.cfg == cfg) {
                    Some(i) => old.swap_remove(i),
                    None => {
                        let id = self.next_id;
                        self.next_id += 1;
                        Provider {
                            id,
                            set: set.clone(),
                            task: spawn_provider(id, cfg.clone(), self.msg_tx.clone()),
                            cfg,
                        }
                    }
                };
                ids.push(p.id);
                self.providers.push(p);
            }
            layout.push((set, ids));
        }
        // Stopped providers must have sent their last message before the
        // layout that forgets them.
        for p in old {
            p.task.abort();
            let _ = p.task.await;
        }
        let _ = self.msg_tx.send(Msg::Layout(layout)).await;
    }

    /// Stops every provider and the manager task, and waits for them.
    pub async fn stop(mut self) {
        for p in std::mem::take(&mut self.providers) {
            p.task.abort();
            let _ = p.task.await;
        }
        if let Some(run) = self.run.take() {
            run.abort();
            let _ = run.await;
        }
    }
}

impl Drop for DiscoveryManager {
    fn drop(&mut self) {
        for p in &self.providers {
            p.task.abort();
        }
        if let Some(run) = &self.run {
            run.abort();
        }
    }
}

fn spawn_provider(id: u64, cfg: SdConfig, msg_tx: mpsc::Sender<Msg>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let (tx, mut rx) = mpsc::channel(1);
        let provider = async move {
            match cfg {
                SdConfig::Static(c) => static_sd::run(c, tx).await,
                SdConfig::File(c) => file_sd::run(c, tx).await,
                SdConfig::Http(c) => http_sd::run(*c, tx).await,
                SdConfig::Dns(c) => dns_sd::run(c, tx).await,
            }
        };
        let forward = async move {
            while let Some(groups) = rx.recv().await {
                if msg_tx.send(Msg::Update { id, groups }).await.is_err() {
                    break;
                }
            }
        };
        tokio::join!(provider, forward);
    })
}

async fn run(mut rx: mpsc::Receiver<Msg>, out: watch::Sender<TargetSets>, debounce: Duration) {
    let mut groups: HashMap<u64, Vec<TargetGroup>> = HashMap::new();
    let mut layout: Vec<(String, Vec<u64>)> = Vec::new();
    let mut dirty_since: Option<Instant> = None;
    let mut last_publish: Option<Instant> = None;
    loop {
        let deadline = dirty_since.map(|since| {
            let settled = since + SETTLE.min(debounce);
            match last_publish {
                Some(t) => settled.max(t + debounce),
                None => settled,
            }
        });
        tokio::select! {
            msg = rx.recv() => {
                match msg {
                    None => return,
                    Some(Msg::Update { id, groups: g }) => {
                        groups.insert(id, g);
                    }
                    Some(Msg::Layout(l)) => {
                        groups.retain(|id, _| l.iter().any(|(_, ids)| ids.contains(id)));
                        layout = l;
                    }
                }
                dirty_since.get_or_insert_with(Instant::now);
            }
            _ = sleep_until(deadline), if deadline.is_some() => {
                dirty_since = None;
                last_publish = Some(Instant::now());
                let sets: HashMap<String, Vec<TargetGroup>> = layout
                    .iter()
                    .map(|(set, ids)| {
                        let merged = ids.iter().filter_map(|id| groups.get(id)).flatten().cloned().collect();
                        (set.clone(), merged)
                    })
                    .collect();
                let changed = out.send_if_modified(|cur| {
                    if **cur == sets {
                        return false;
                    }
                    *cur = Arc::new(sets);
                    true
                });
                if changed {
                    metrics::UPDATES.inc();
                }
            }
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}
