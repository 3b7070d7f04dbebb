//! Scrape pools: one per job, holding one loop per target. Pools follow
//! configuration reloads and target-group updates; a loop whose target and
//! settings are unchanged keeps running across both.

use std::collections::{BTreeMap, HashMap};
use std::hash::Hasher;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use parking_lot::Mutex;
use reqwest::header::HeaderValue;
use strata_storage::{Db, Labels};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::append::{Limits, Metadata, SampleRules, TargetAppender};
use super::scrape_loop::{Health, LoopSettings, LoopShared, ScrapeLoop, Stop, TargetState};
use crate::config::{Config, ScrapeConfig, ScrapeProtocol};
use crate::discovery::targets::{build_target, DroppedTarget, Target};
use crate::discovery::TargetGroup;
use crate::exposition::Format;
use crate::http_client::HttpClient;
use crate::labels::LabelsBuilder;

/// The `Accept` header for a list of protocols (spec §2.3).
pub fn accept_header(protocols: &[ScrapeProtocol]) -> String {
    let mut parts = Vec::new();
    let mut w = ScrapeProtocol::ALL.len() + 1;
    for p in protocols {
        let mt = match p {
            ScrapeProtocol::PrometheusProto => {
                "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"
            }
            ScrapeProtocol::OpenMetricsText0_0_1 => "application/openmetrics-text;version=0.0.1",
            ScrapeProtocol::OpenMetricsText1_0_0 => "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8",
            ScrapeProtocol::PrometheusText0_0_4 => "text/plain;version=0.0.4",
            ScrapeProtocol::PrometheusText1_0_0 => "text/plain;version=1.0.0;escaping=allow-utf-8",
        };
        parts.push(format!("{mt};q=0.{w}"));
        w = w.saturating_sub(1);
    }
    parts.push(format!("*/*;q=0.{w}"));
    parts.join(",")
}

fn fallback_format(p: ScrapeProtocol) -> Format {
    match p {
        ScrapeProtocol::PrometheusProto => Format::Protobuf,
        ScrapeProtocol::OpenMetricsText0_0_1 | ScrapeProtocol::OpenMetricsText1_0_0 => Format::OpenMetrics,
        ScrapeProtocol::PrometheusText0_0_4 | ScrapeProtocol::PrometheusText1_0_0 => Format::PromText,
    }
}

fn pairs(l: &Labels) -> Vec<(String, String)> {
    l.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
}

fn map(l: &Labels) -> BTreeMap<String, String> {
    l.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
}

/// FNV-1a, 64 bit.
struct Fnv(u64);
impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x100000001b3);
        }
    }
}
fn fnv(parts: &[&[u8]]) -> u64 {
    let mut h = Fnv(0xcbf29ce484222325);
    for p in parts {
        h.write(p);
    }
    h.finish()
}

/// Identity of a target inside its pool: its labels and URL.
fn target_key(t: &Target) -> u64 {
    let mut h = Fnv(0xcbf29ce484222325);
    for (n, v) in t.labels.iter() {
        h.write(n.as_bytes());
        h.write(&[0xff]);
        h.write(v.as_bytes());
        h.write(&[0xff]);
    }
    h.write(t.url.as_bytes());
    h.finish()
}

/// Everything about a job's config that its loops depend on; a change restarts them.
#[derive(Clone, PartialEq)]
struct PoolKey {
    cfg: ScrapeConfigFingerprint,
}

/// The scrape config rendered for comparison (the config types compare by value).
type ScrapeConfigFingerprint = String;

fn fingerprint(cfg: &ScrapeConfig) -> ScrapeConfigFingerprint {
    format!("{cfg:?}")
}

struct LoopHandle {
    target: Target,
    /// The pool-level error every scrape of this loop reports (target_limit, client).
    forced_error: Option<String>,
    shared: Arc<LoopShared>,
    stop: watch::Sender<Stop>,
    task: JoinHandle<()>,
}

struct Pool {
    cfg: Arc<ScrapeConfig>,
    key: PoolKey,
    client: Result<HttpClient, String>,
    loops: HashMap<u64, LoopHandle>,
    /// Active targets in discovery order, for the API.
    order: Vec<u64>,
    dropped: Vec<DroppedTarget>,
    dropped_count: usize,
    groups: Vec<TargetGroup>,
}

/// One target as `/api/v1/targets` shows it.
#[derive(Debug, Clone)]
pub struct ActiveTarget {
    /// Job.
    pub pool: String,
    /// Labels before relabeling.
    pub discovered_labels: BTreeMap<String, String>,
    /// Labels attached to samples.
    pub labels: BTreeMap<String, String>,
    /// Scrape URL.
    pub url: String,
    /// Interval.
    pub interval: Duration,
    /// Timeout.
    pub timeout: Duration,
    /// Outcome of the last scrape.
    pub state: TargetState,
}

/// A target relabeling dropped, as `/api/v1/targets` shows it.
#[derive(Debug, Clone)]
pub struct DroppedInfo {
    /// Job.
    pub pool: String,
    /// Labels before relabeling.
    pub discovered_labels: BTreeMap<String, String>,
}

/// Targets of every pool.
#[derive(Debug, Clone, Default)]
pub struct TargetsSnapshot {
    /// Scraped targets, by pool then discovery order.
    pub active: Vec<ActiveTarget>,
    /// Dropped targets (as many as `keep_dropped_targets` allows).
    pub dropped: Vec<DroppedInfo>,
    /// Dropped targets per pool, all of them counted.
    pub dropped_counts: BTreeMap<String, usize>,
}

/// Metadata one target exposed, for `/api/v1/targets/metadata`.
#[derive(Debug, Clone)]
pub struct TargetMetadata {
    /// The target's sample-facing labels.
    pub target: BTreeMap<String, String>,
    /// Family name.
    pub metric: String,
    /// Type, help, unit.
    pub metadata: Metadata,
}

/// All scrape pools of the server.
pub struct ScrapeManager {
    db: Arc<Db>,
    seed: u64,
    pools: Mutex<BTreeMap<String, Pool>>,
}

impl ScrapeManager {
    /// A manager appending to `db`. `seed` spreads this server's scrape
    /// offsets (spec §2.5: hostname and external labels).
    pub fn new(db: Arc<Db>, seed: u64) -> ScrapeManager {
        ScrapeManager {
            db,
            seed,
            pools: Mutex::new(BTreeMap::new()),
        }
    }

    /// The offset seed Prometheus derives from the host name and external labels.
    pub fn seed_for(hostname: &str, external_labels: &BTreeMap<String, String>) -> u64 {
        let rendered: Vec<String> = external_labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
        let s = format!("{hostname}{{{}}}", rendered.join(", "));
        fnv(&[s.as_bytes()])
    }

    /// Applies a (re)loaded configuration: new jobs get pools, removed jobs
    /// stop (their series go stale), changed jobs restart their loops
    /// without a gap in staleness tracking. Must run inside a tokio runtime.
    pub fn apply_config(&self, cfg: &Config) {
        let mut pools = self.pools.lock();
        let wanted: HashMap<&str, &ScrapeConfig> =
            cfg.scrape_configs.iter().map(|c| (c.job_name.as_str(), c)).collect();
        pools.retain(|job, pool| {
            if wanted.contains_key(job.as_str()) {
                return true;
            }
            for (_, l) in pool.loops.drain() {
                let _ = l.stop.send(Stop::Removed);
            }
            false
        });
        for (job, sc) in wanted {
            let key = PoolKey { cfg: fingerprint(sc) };
            match pools.get_mut(job) {
                Some(p) if p.key == key => {}
                Some(p) => {
                    p.cfg = Arc::new(sc.clone());
                    p.key = key;
                    p.client = HttpClient::new(&sc.http_client).map_err(|e| format!("job {job}: {e}"));
                    let groups = std::mem::take(&mut p.groups);
                    // Restart every loop with the new settings.
                    self.sync_pool(job, p, groups, true);
                }
                None => {
                    let client = HttpClient::new(&sc.http_client).map_err(|e| format!("job {job}: {e}"));
                    if let Err(e) = &client {
                        tracing::error!(error = %e, "scrape pool cannot build its HTTP client");
                    }
                    pools.insert(
                        job.to_string(),
                        Pool {
                            cfg: Arc::new(sc.clone()),
                            key,
                            client,
                            loops: HashMap::new(),
                            order: Vec::new(),
                            dropped: Vec::new(),
                            dropped_count: 0,
                            groups: Vec::new(),
                        },
                    );
                }
            }
        }
    }

    /// New target groups from discovery, per job.
    pub fn sync(&self, groups: &HashMap<String, Vec<TargetGroup>>) {
        let mut pools = self.pools.lock();
        for (job, pool) in pools.iter_mut() {
            let g = groups.get(job).cloned().unwrap_or_default();
            self.sync_pool(job, pool, g, false);
        }
    }

    fn sync_pool(&self, job: &str, pool: &mut Pool, groups: Vec<TargetGroup>, restart: bool) {
        let cfg = pool.cfg.clone();
        let mut targets = Vec::new();
        let mut dropped = Vec::new();
        let mut dropped_count = 0;
        let mut lb = LabelsBuilder::new();
        let keep = cfg.keep_dropped_targets;
        for g in &groups {
            for (index, t) in g.targets.iter().enumerate() {
                match build_target(&mut lb, &cfg, t, &g.labels) {
                    Ok(t) => targets.push(t),
                    Err(mut d) => {
                        d.source = g.source.clone();
                        d.index = index;
                        if d.reason.is_some() {
                            // Invalid targets are logged, as upstream; the API lists those relabeling dropped.
                            tracing::warn!(job, target = %d.failure_message().unwrap_or_default(), "dropping an invalid target");
                            continue;
                        }
                        dropped_count += 1;
                        if keep == 0 || (dropped.len() as u64) < keep {
                            dropped.push(d);
                        }
                    }
                }
            }
        }
        pool.groups = groups;
        pool.dropped = dropped;
        pool.dropped_count = dropped_count;
        let limit_err = (cfg.target_limit > 0 && targets.len() as u64 > cfg.target_limit).then(|| {
            format!(
                "target_limit exceeded (number of targets: {}, limit: {})",
                targets.len(),
                cfg.target_limit
            )
        });
        let mut keep: HashMap<u64, LoopHandle> = HashMap::new();
        let mut order = Vec::with_capacity(targets.len());
        for t in targets {
            let key = target_key(&t);
            if keep.contains_key(&key) {
                continue;
            }
            order.push(key);
            let old = pool.loops.remove(&key);
            let forced_changed = old.as_ref().is_some_and(|o| o.forced_error != limit_err);
            match old {
                Some(h) if !restart && !forced_changed => {
                    keep.insert(key, h);
                }
                old => {
                    let appender = old.map(|h| {
                        let _ = h.stop.send(Stop::Quiet);
                        h.task.abort();
                        h.shared
                    });
                    match self.start_loop(job, &cfg, pool.client.clone(), t, appender, limit_err.clone()) {
                        Some(h) => {
                            keep.insert(key, h);
                        }
                        None => {
                            order.pop();
                        }
                    }
                }
            }
        }
        // Targets that went away.
        for (_, h) in pool.loops.drain() {
            let _ = h.stop.send(Stop::Removed);
        }
        pool.loops = keep;
        pool.order = order;
    }

    fn start_loop(
        &self,
        job: &str,
        cfg: &ScrapeConfig,
        client: Result<HttpClient, String>,
        target: Target,
        previous: Option<Arc<LoopShared>>,
        limit_err: Option<String>,
    ) -> Option<LoopHandle> {
        let rules = SampleRules {
            target_labels: pairs(&target.target_labels),
            honor_labels: cfg.honor_labels,
            honor_timestamps: cfg.honor_timestamps,
            track_timestamps_staleness: cfg.track_timestamps_staleness,
            metric_relabel: cfg.metric_relabel_configs.0.clone().into(),
            limits: Limits {
                sample_limit: cfg.sample_limit,
                label_limit: cfg.label_limit,
                label_name_length_limit: cfg.label_name_length_limit,
                label_value_length_limit: cfg.label_value_length_limit,
            },
        };
        let shared = match previous {
            Some(s) => {
                s.appender.lock().set_rules(rules);
                s
            }
            None => Arc::new(LoopShared {
                state: Mutex::new(TargetState::default()),
                appender: Mutex::new(TargetAppender::new(rules)),
            }),
        };
        let (client, client_err) = match client {
            Ok(c) => (c, None),
            Err(e) => match HttpClient::new(&Default::default()) {
                Ok(c) => (c, Some(e)),
                Err(_) => return None,
            },
        };
        let h = target_key(&target);
        let iv = target.interval.to_std().as_nanos().max(1);
        let offset = Duration::from_nanos(((h ^ self.seed) as u128 % iv) as u64);
        let settings = LoopSettings {
            url: target.url.clone(),
            interval: target.interval.to_std(),
            timeout: target.timeout.to_std(),
            accept: HeaderValue::from_str(&accept_header(cfg.protocols())).unwrap_or(HeaderValue::from_static("*/*")),
            compression: cfg.enable_compression,
            body_size_limit: cfg.body_size_limit.0,
            fallback: cfg.fallback_scrape_protocol.0.map(fallback_format),
            target_labels: pairs(&target.target_labels),
            offset,
            forced_error: limit_err.clone().or(client_err),
        };
        let (tx, rx) = watch::channel(Stop::Run);
        let l = ScrapeLoop {
            settings,
            shared: shared.clone(),
            client,
            db: self.db.clone(),
            stop: rx,
        };
        tracing::debug!(job, url = %target.url, "starting scrape loop");
        let task = tokio::spawn(l.run());
        Some(LoopHandle {
            target,
            forced_error: limit_err,
            shared,
            stop: tx,
            task,
        })
    }

    /// Stops every loop without staleness markers (server shutdown) and
    /// waits for them.
    pub async fn shutdown(&self) {
        let handles: Vec<LoopHandle> = {
            let mut pools = self.pools.lock();
            pools
                .values_mut()
                .flat_map(|p| p.loops.drain().map(|(_, h)| h))
                .collect()
        };
        for h in &handles {
            let _ = h.stop.send(Stop::Quiet);
        }
        for h in handles {
            let _ = h.task.await;
        }
    }

    /// Targets for the API.
    pub fn targets(&self) -> TargetsSnapshot {
        let pools = self.pools.lock();
        let mut snap = TargetsSnapshot::default();
        for (job, p) in pools.iter() {
            for key in &p.order {
                let Some(h) = p.loops.get(key) else { continue };
                snap.active.push(ActiveTarget {
                    pool: job.clone(),
                    discovered_labels: h.target.discovered_labels.clone(),
                    labels: map(&h.target.target_labels),
                    url: h.target.url.clone(),
                    interval: h.target.interval.to_std(),
                    timeout: h.target.timeout.to_std(),
                    state: h.shared.state.lock().clone(),
                });
            }
            for d in &p.dropped {
                snap.dropped.push(DroppedInfo {
                    pool: job.clone(),
                    discovered_labels: d.discovered_labels.clone(),
                });
            }
            snap.dropped_counts.insert(job.clone(), p.dropped_count);
        }
        snap
    }

    /// Metadata of every active target.
    pub fn metadata(&self) -> Vec<TargetMetadata> {
        let pools = self.pools.lock();
        let mut out = Vec::new();
        for p in pools.values() {
            for key in &p.order {
                let Some(h) = p.loops.get(key) else { continue };
                let target = map(&h.target.target_labels);
                let ta = h.shared.appender.lock();
                let mut fams: Vec<(&str, &Metadata)> = ta.metadata().collect();
                fams.sort_by(|a, b| a.0.cmp(b.0));
                for (metric, m) in fams {
                    out.push(TargetMetadata {
                        target: target.clone(),
                        metric: metric.to_string(),
                        metadata: m.clone(),
                    });
                }
            }
        }
        out
    }

    /// Health of every active target, for tests and `/metrics`.
    pub fn health(&self) -> Vec<(String, Health)> {
        self.targets()
            .active
            .into_iter()
            .map(|t| (t.url, t.state.health))
            .collect()
    }

    /// When the last scrape of any target happened (for readiness checks in tests).
    pub fn last_scrape(&self) -> Option<SystemTime> {
        self.targets().active.iter().filter_map(|t| t.state.last_scrape).max()
    }
}
