//! `dns_sd_configs`: targets from DNS lookups repeated every `refresh_interval`.
//!
//! One group per configured name, with that name as its source. As in
//! Prometheus's `discovery/dns`:
//! - SRV: each record gives `target:port` (the target's final dot removed),
//!   with `__meta_dns_srv_record_target` (as in the record, dot kept) and
//!   `__meta_dns_srv_record_port`;
//! - A / AAAA: each address with the configured port (`[v6]:port`);
//! - MX / NS: each exchange / name server with the configured port, with
//!   `__meta_dns_mx_record_target` / `__meta_dns_ns_record_target`;
//! - every target has `__meta_dns_name`, the name as configured; CNAMEs in
//!   the answer are skipped.
//!
//! A name that does not exist, or has no records of the type, gives an empty
//! group. A lookup that fails otherwise keeps that name's previous group.
//! The system resolver (`/etc/resolv.conf`, its search list and `ndots`) is
//! read again at every refresh.

use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::NetError;
use hickory_resolver::proto::rr::{RData, RecordType};
use hickory_resolver::TokioResolver;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::{metrics, LabelSet, TargetGroup, ADDRESS_LABEL};
use crate::config::{DnsRecordType, DnsSdConfig};

/// The name that was looked up.
pub const NAME_LABEL: &str = "__meta_dns_name";
/// An SRV record's target, as in the record.
pub const SRV_TARGET_LABEL: &str = "__meta_dns_srv_record_target";
/// An SRV record's port.
pub const SRV_PORT_LABEL: &str = "__meta_dns_srv_record_port";
/// An MX record's exchange, as in the record.
pub const MX_TARGET_LABEL: &str = "__meta_dns_mx_record_target";
/// An NS record's name server, as in the record.
pub const NS_TARGET_LABEL: &str = "__meta_dns_ns_record_target";

/// An answer record, reduced to what discovery uses. Names are in ASCII
/// form with their final dot, as DNS libraries print them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DnsRecord {
    /// An SRV record.
    Srv {
        /// Target host name.
        target: String,
        /// Port.
        port: u16,
    },
    /// An A record.
    A(Ipv4Addr),
    /// An AAAA record.
    Aaaa(Ipv6Addr),
    /// An MX record's exchange.
    Mx(String),
    /// An NS record's name server.
    Ns(String),
    /// A CNAME (skipped).
    Cname,
    /// Anything else (skipped with a warning).
    Other(String),
}

/// `net.JoinHostPort`: brackets around hosts that contain a colon.
pub fn join_host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// The group for `name` from its answer records; `port` is the configured
/// port (used for every type but SRV).
pub fn group_from_records(name: &str, port: u16, records: &[DnsRecord]) -> TargetGroup {
    let mut targets = Vec::new();
    for r in records {
        let mut t = LabelSet::new();
        let address = match r {
            DnsRecord::Srv { target, port } => {
                t.insert(SRV_TARGET_LABEL.to_string(), target.clone());
                t.insert(SRV_PORT_LABEL.to_string(), port.to_string());
                join_host_port(target.trim_end_matches('.'), *port)
            }
            DnsRecord::A(ip) => join_host_port(&ip.to_string(), port),
            DnsRecord::Aaaa(ip) => join_host_port(&ip.to_string(), port),
            DnsRecord::Mx(host) => {
                t.insert(MX_TARGET_LABEL.to_string(), host.clone());
                join_host_port(host.trim_end_matches('.'), port)
            }
            DnsRecord::Ns(host) => {
                t.insert(NS_TARGET_LABEL.to_string(), host.clone());
                join_host_port(host.trim_end_matches('.'), port)
            }
            DnsRecord::Cname => continue,
            DnsRecord::Other(what) => {
                tracing::warn!(name, record = %what, "dns_sd: invalid record");
                continue;
            }
        };
        t.insert(ADDRESS_LABEL.to_string(), address);
        t.insert(NAME_LABEL.to_string(), name.to_string());
        targets.push(t);
    }
    TargetGroup {
        source: name.to_string(),
        targets,
        labels: LabelSet::new(),
    }
}

fn record_type(t: DnsRecordType) -> RecordType {
    match t {
        DnsRecordType::Srv => RecordType::SRV,
        DnsRecordType::A => RecordType::A,
        DnsRecordType::Aaaa => RecordType::AAAA,
        DnsRecordType::Mx => RecordType::MX,
        DnsRecordType::Ns => RecordType::NS,
    }
}

fn from_rdata(d: &RData) -> DnsRecord {
    match d {
        RData::SRV(s) => DnsRecord::Srv {
            target: s.target.to_ascii(),
            port: s.port,
        },
        RData::A(a) => DnsRecord::A(a.0),
        RData::AAAA(a) => DnsRecord::Aaaa(a.0),
        RData::MX(m) => DnsRecord::Mx(m.exchange.to_ascii()),
        RData::NS(n) => DnsRecord::Ns(n.0.to_ascii()),
        RData::CNAME(_) => DnsRecord::Cname,
        other => DnsRecord::Other(other.to_string()),
    }
}

/// The system resolver, from `/etc/resolv.conf`. Responses are not cached:
/// every refresh asks the servers again, as Prometheus does.
pub fn system_resolver() -> Result<TokioResolver, NetError> {
    let mut b = TokioResolver::builder_tokio()?;
    b.options_mut().cache_size = 0;
    b.build()
}

/// A resolver that asks only `server` over UDP (for tests and special setups).
pub fn resolver_for(server: SocketAddr) -> Result<TokioResolver, NetError> {
    let mut conn = ConnectionConfig::udp();
    conn.port = server.port();
    let ns = NameServerConfig::new(server.ip(), true, vec![conn]);
    let mut b = TokioResolver::builder_with_config(
        ResolverConfig::from_name_servers(vec![ns]),
        TokioRuntimeProvider::default(),
    );
    let opts = b.options_mut();
    opts.cache_size = 0;
    opts.attempts = 1;
    opts.timeout = Duration::from_secs(2);
    b.build()
}

/// Looks `name` up. A name without records of the type (or that does not
/// exist) gives no records rather than an error.
pub async fn lookup(resolver: &TokioResolver, name: &str, t: DnsRecordType) -> Result<Vec<DnsRecord>, NetError> {
    metrics::DNS_LOOKUPS.inc();
    match resolver.lookup(name, record_type(t)).await {
        Ok(l) => Ok(l.answers().iter().map(|r| from_rdata(&r.data)).collect()),
        Err(e) if e.is_no_records_found() => Ok(Vec::new()),
        Err(e) => {
            metrics::DNS_LOOKUP_FAILURES.inc();
            Err(e)
        }
    }
}

/// One `dns_sd_configs` entry and the groups it last found.
#[derive(Debug)]
pub struct DnsDiscovery {
    cfg: DnsSdConfig,
    last: HashMap<String, TargetGroup>,
}

impl DnsDiscovery {
    /// A provider for `cfg`.
    pub fn new(cfg: DnsSdConfig) -> DnsDiscovery {
        DnsDiscovery {
            cfg,
            last: HashMap::new(),
        }
    }

    /// Looks every name up (concurrently) and returns one group per name, in
    /// configuration order; a failed name keeps its previous group, if any.
    pub async fn refresh(&mut self, resolver: &TokioResolver) -> Vec<TargetGroup> {
        let mut lookups = JoinSet::new();
        for (i, name) in self.cfg.names.iter().enumerate() {
            let (r, name, t) = (resolver.clone(), name.clone(), self.cfg.record_type);
            lookups.spawn(async move { (i, lookup(&r, &name, t).await) });
        }
        let mut results = vec![None; self.cfg.names.len()];
        while let Some(done) = lookups.join_next().await {
            if let Ok((i, r)) = done {
                results[i] = Some(r);
            }
        }
        let mut out = Vec::new();
        for (name, result) in self.cfg.names.iter().zip(results) {
            match result {
                Some(Ok(records)) => {
                    let g = group_from_records(name, self.cfg.port, &records);
                    self.last.insert(name.clone(), g.clone());
                    out.push(g);
                }
                Some(Err(e)) => {
                    tracing::error!(name = %name, err = %e, "dns_sd: error refreshing DNS targets");
                    out.extend(self.last.get(name).cloned());
                }
                None => out.extend(self.last.get(name).cloned()),
            }
        }
        out
    }
}

/// Runs the provider with the system resolver until `tx` is closed.
pub async fn run(cfg: DnsSdConfig, tx: mpsc::Sender<Vec<TargetGroup>>) {
    run_with(cfg, None, tx).await
}

/// Runs the provider until `tx` is closed, asking `resolver` (or the system
/// resolver, read anew at every refresh, when `None`).
pub async fn run_with(cfg: DnsSdConfig, resolver: Option<TokioResolver>, tx: mpsc::Sender<Vec<TargetGroup>>) {
    let interval = Duration::from_millis(cfg.refresh_interval.0.max(1));
    let mut sd = DnsDiscovery::new(cfg);
    let mut last_sent: Option<Vec<TargetGroup>> = None;
    loop {
        let resolver = match &resolver {
            Some(r) => Some(r.clone()),
            None => match system_resolver() {
                Ok(r) => Some(r),
                Err(e) => {
                    metrics::DNS_LOOKUP_FAILURES.inc();
                    tracing::error!(err = %e, "dns_sd: could not load resolv.conf");
                    None
                }
            },
        };
        if let Some(r) = resolver {
            let groups = tokio::select! {
                _ = tx.closed() => return,
                g = sd.refresh(&r) => g,
            };
            if last_sent.as_ref() != Some(&groups) {
                if tx.send(groups.clone()).await.is_err() {
                    return;
                }
                last_sent = Some(groups);
            }
        }
        tokio::select! {
            _ = tx.closed() => return,
            _ = tokio::time::sleep(interval) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addrs(g: &TargetGroup) -> Vec<&str> {
        g.targets.iter().map(|t| t[ADDRESS_LABEL].as_str()).collect()
    }

    #[test]
    fn srv_records_give_their_own_ports_and_meta_labels() {
        let g = group_from_records(
            "_node._tcp.example.org",
            0,
            &[
                DnsRecord::Srv {
                    target: "db1.example.org.".into(),
                    port: 9100,
                },
                DnsRecord::Srv {
                    target: "db2.example.org.".into(),
                    port: 9101,
                },
            ],
        );
        assert_eq!(g.source, "_node._tcp.example.org");
        assert_eq!(addrs(&g), ["db1.example.org:9100", "db2.example.org:9101"]);
        assert_eq!(g.targets[0][SRV_TARGET_LABEL], "db1.example.org.");
        assert_eq!(g.targets[1][SRV_PORT_LABEL], "9101");
        assert_eq!(g.targets[0][NAME_LABEL], "_node._tcp.example.org");
    }

    #[test]
    fn address_records_use_the_configured_port_and_skip_cnames() {
        let g = group_from_records(
            "web.example.org",
            8080,
            &[
                DnsRecord::Cname,
                DnsRecord::A(Ipv4Addr::new(192, 0, 2, 1)),
                DnsRecord::Aaaa("2001:db8::1".parse().unwrap()),
                DnsRecord::Other("TXT hello".into()),
            ],
        );
        assert_eq!(addrs(&g), ["192.0.2.1:8080", "[2001:db8::1]:8080"]);
        assert!(!g.targets[0].contains_key(SRV_TARGET_LABEL));
        let g = group_from_records(
            "example.org",
            25,
            &[
                DnsRecord::Mx("mail.example.org.".into()),
                DnsRecord::Ns("ns1.example.org.".into()),
            ],
        );
        assert_eq!(addrs(&g), ["mail.example.org:25", "ns1.example.org:25"]);
        assert_eq!(g.targets[0][MX_TARGET_LABEL], "mail.example.org.");
        assert_eq!(g.targets[1][NS_TARGET_LABEL], "ns1.example.org.");
        assert!(group_from_records("gone.example.org", 80, &[]).targets.is_empty());
    }
}
