//! Discovery providers and the manager, against real files, an HTTP server
//! and a DNS responder on 127.0.0.1. Every wait is bounded.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use hickory_resolver::proto::op::{Message, ResponseCode};
use hickory_resolver::proto::rr::rdata::{A, AAAA, CNAME, MX, NS, SRV};
use hickory_resolver::proto::rr::{Name, RData, Record, RecordType};
use strata::config::{load_str, Config, DnsRecordType, DnsSdConfig, FileSdConfig, PromDuration, Source};
use strata::discovery::{dns_sd, file_sd, http_sd, metrics, DiscoveryManager, TargetGroup, TargetSets};
use tokio::sync::{mpsc, watch};

const WAIT: Duration = Duration::from_secs(5);

async fn next(rx: &mut mpsc::Receiver<Vec<TargetGroup>>, what: &str) -> Vec<TargetGroup> {
    match tokio::time::timeout(WAIT, rx.recv()).await {
        Ok(Some(g)) => g,
        Ok(None) => panic!("{what}: provider stopped"),
        Err(_) => panic!("{what}: no update within {WAIT:?}"),
    }
}

fn addresses(groups: &[TargetGroup]) -> Vec<String> {
    groups
        .iter()
        .flat_map(|g| g.targets.iter().map(|t| t["__address__"].clone()))
        .collect()
}

/// Waits until `cond` holds, polling every 20 ms, for at most `WAIT`.
async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !cond() {
        assert!(Instant::now() < deadline, "{what}: not within {WAIT:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn config(text: &str) -> Config {
    load_str(Source::Embedded, text).unwrap_or_else(|e| panic!("{text}\n{e}"))
}

// ---------------------------------------------------------------- file_sd

#[tokio::test]
async fn file_sd_sees_edits_keeps_broken_files_and_forgets_deleted_ones() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.yml");
    std::fs::write(&a, "- targets: ['a1:9100']\n  labels: {env: prod}\n").unwrap();
    let cfg = FileSdConfig {
        files: vec![dir.path().join("*.yml").display().to_string()],
        // Long enough that only the watch can explain a quick update.
        refresh_interval: PromDuration(3_600_000),
    };
    let (tx, mut rx) = mpsc::channel(8);
    let task = tokio::spawn(file_sd::run(cfg, tx));

    let g = next(&mut rx, "initial read").await;
    assert_eq!(addresses(&g), ["a1:9100"]);
    assert_eq!(g[0].source, format!("{}:0", a.display()));
    assert_eq!(g[0].labels["__meta_filepath"], a.display().to_string());
    assert_eq!(g[0].labels["env"], "prod");

    std::fs::write(&a, "- targets: ['a1:9100', 'a2:9100']\n").unwrap();
    assert_eq!(addresses(&next(&mut rx, "edit").await), ["a1:9100", "a2:9100"]);

    // Half written: refused, the old groups stay. A second file shows it.
    std::fs::write(&a, "- targets: ['a1:9100', 'a3").unwrap();
    let b = dir.path().join("b.yml");
    std::fs::write(&b, "- targets: ['b1:9100']\n").unwrap();
    assert_eq!(
        addresses(&next(&mut rx, "new file next to a broken one").await),
        ["a1:9100", "a2:9100", "b1:9100"]
    );

    std::fs::remove_file(&a).unwrap();
    assert_eq!(addresses(&next(&mut rx, "deletion").await), ["b1:9100"]);

    // A file moved into place atomically, as configuration tools write them.
    let tmp = dir.path().join("c.tmp");
    std::fs::write(&tmp, "- targets: ['c1:9100']\n").unwrap();
    std::fs::rename(&tmp, dir.path().join("c.yml")).unwrap();
    assert_eq!(addresses(&next(&mut rx, "rename").await), ["b1:9100", "c1:9100"]);

    drop(rx);
    tokio::time::timeout(WAIT, task)
        .await
        .expect("provider stops when its receiver is gone")
        .unwrap();
}

#[tokio::test]
async fn file_sd_rereads_on_refresh_interval_when_the_directory_appears_later() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("later");
    let cfg = FileSdConfig {
        files: vec![sub.join("*.json").display().to_string()],
        refresh_interval: PromDuration(200),
    };
    let (tx, mut rx) = mpsc::channel(8);
    let _task = tokio::spawn(file_sd::run(cfg, tx));
    assert!(next(&mut rx, "nothing yet").await.is_empty());
    std::fs::create_dir(&sub).unwrap();
    std::fs::write(sub.join("t.json"), r#"[{"targets": ["j1:1"]}]"#).unwrap();
    assert_eq!(addresses(&next(&mut rx, "periodic refresh").await), ["j1:1"]);
}

// ---------------------------------------------------------------- http_sd

#[derive(Clone)]
struct HttpState {
    reply: Arc<Mutex<(StatusCode, &'static str, String)>>,
    hits: Arc<AtomicUsize>,
    headers: Arc<Mutex<HeaderMap>>,
}

impl HttpState {
    fn new(body: &str) -> HttpState {
        HttpState {
            reply: Arc::new(Mutex::new((StatusCode::OK, "application/json", body.to_string()))),
            hits: Arc::new(AtomicUsize::new(0)),
            headers: Arc::new(Mutex::new(HeaderMap::new())),
        }
    }

    fn set(&self, status: StatusCode, content_type: &'static str, body: &str) {
        *self.reply.lock().unwrap() = (status, content_type, body.to_string());
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

async fn sd_handler(State(s): State<HttpState>, headers: HeaderMap) -> impl IntoResponse {
    s.hits.fetch_add(1, Ordering::SeqCst);
    *s.headers.lock().unwrap() = headers;
    let (status, ct, body) = s.reply.lock().unwrap().clone();
    (status, [(axum::http::header::CONTENT_TYPE, ct)], body)
}

async fn http_server(state: HttpState) -> SocketAddr {
    let app = axum::Router::new()
        .route("/sd", axum::routing::get(sd_handler))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

const GOOD: &str = r#"[{"targets": ["h1:9100", "h2:9100"], "labels": {"dc": "fra1"}}]"#;

#[tokio::test]
async fn http_sd_fetches_keeps_the_last_good_groups_on_errors_and_follows_changes() {
    let state = HttpState::new(GOOD);
    let addr = http_server(state.clone()).await;
    let url = format!("http://{addr}/sd");
    let cfg = config(&format!(
        "scrape_configs:\n  - job_name: h\n    http_sd_configs:\n      - url: {url}\n        refresh_interval: 100ms\n        basic_auth: {{username: u, password: p}}\n"
    ));
    let sd = cfg.scrape_configs[0].http_sd_configs[0].clone();
    let (tx, mut rx) = mpsc::channel(8);
    let _task = tokio::spawn(http_sd::run(sd, tx));

    let g = next(&mut rx, "first fetch").await;
    assert_eq!(addresses(&g), ["h1:9100", "h2:9100"]);
    assert_eq!(g[0].source, format!("{url}:0"));
    assert_eq!(g[0].labels["__meta_url"], url);
    assert_eq!(g[0].labels["dc"], "fra1");
    {
        let h = state.headers.lock().unwrap();
        assert_eq!(h["accept"], "application/json");
        assert_eq!(h["x-prometheus-refresh-interval-seconds"], "0.1");
        assert_eq!(h["authorization"], "Basic dTpw");
    }

    for (status, ct, body, what) in [
        (StatusCode::INTERNAL_SERVER_ERROR, "application/json", GOOD, "HTTP 500"),
        (StatusCode::OK, "application/json", "[{\"targets\": ", "bad JSON"),
        (StatusCode::OK, "text/plain", GOOD, "wrong content type"),
    ] {
        let failures = metrics::HTTP_FAILURES.get();
        state.set(status, ct, body);
        eventually(what, || metrics::HTTP_FAILURES.get() >= failures + 2).await;
        assert!(
            rx.try_recv().is_err(),
            "{what}: a failed refresh must not change the groups"
        );
    }

    state.set(
        StatusCode::OK,
        "application/json; charset=utf-8",
        r#"[{"targets": ["h3:9100"]}]"#,
    );
    let g = next(&mut rx, "changed body").await;
    assert_eq!(addresses(&g), ["h3:9100"]);
    assert!(!g[0].labels.contains_key("dc"));
}

// ---------------------------------------------------------------- dns_sd

type Zone = Arc<Mutex<HashMap<(String, RecordType), Vec<RData>>>>;

/// A tiny authoritative-looking DNS server on UDP: answers from `zone`,
/// NXDOMAIN for unknown names, SERVFAIL for everything while `fail` is set.
async fn dns_server(zone: Zone, fail: Arc<Mutex<bool>>) -> SocketAddr {
    let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = sock.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buf = [0u8; 1500];
        loop {
            let Ok((n, peer)) = sock.recv_from(&mut buf).await else {
                return;
            };
            let Ok(q) = Message::from_vec(&buf[..n]) else { continue };
            let Some(query) = q.queries.first().cloned() else {
                continue;
            };
            let mut resp = Message::response(q.metadata.id, q.metadata.op_code);
            resp.metadata.recursion_desired = q.metadata.recursion_desired;
            resp.metadata.recursion_available = true;
            resp.add_query(query.clone());
            let key = (query.name().to_ascii().to_lowercase(), query.query_type());
            if *fail.lock().unwrap() {
                resp.metadata.response_code = ResponseCode::ServFail;
            } else {
                match zone.lock().unwrap().get(&key) {
                    Some(rdatas) => {
                        for r in rdatas {
                            resp.add_answer(Record::from_rdata(query.name().clone(), 0, r.clone()));
                        }
                    }
                    None => resp.metadata.response_code = ResponseCode::NXDomain,
                }
            }
            if let Ok(bytes) = resp.to_vec() {
                let _ = sock.send_to(&bytes, peer).await;
            }
        }
    });
    addr
}

fn name(s: &str) -> Name {
    Name::from_ascii(s).unwrap()
}

fn dns_cfg(names: &[&str], t: DnsRecordType, port: u16) -> DnsSdConfig {
    DnsSdConfig {
        names: names.iter().map(|s| s.to_string()).collect(),
        record_type: t,
        port,
        refresh_interval: PromDuration(100),
    }
}

#[tokio::test]
async fn dns_sd_maps_records_to_targets_as_upstream() {
    let zone: Zone = Arc::default();
    {
        let mut z = zone.lock().unwrap();
        z.insert(
            ("_node._tcp.example.test.".into(), RecordType::SRV),
            vec![
                RData::SRV(SRV::new(0, 0, 9100, name("db1.example.test."))),
                RData::SRV(SRV::new(0, 0, 9101, name("db2.example.test."))),
            ],
        );
        z.insert(
            ("web.example.test.".into(), RecordType::A),
            vec![
                RData::CNAME(CNAME(name("web.example.test."))),
                RData::A(A::new(192, 0, 2, 1)),
                RData::A(A::new(192, 0, 2, 2)),
            ],
        );
        z.insert(
            ("web.example.test.".into(), RecordType::AAAA),
            vec![RData::AAAA(AAAA::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1))],
        );
        z.insert(
            ("example.test.".into(), RecordType::MX),
            vec![RData::MX(MX::new(10, name("mail.example.test.")))],
        );
        z.insert(
            ("example.test.".into(), RecordType::NS),
            vec![RData::NS(NS(name("ns1.example.test.")))],
        );
    }
    let fail = Arc::new(Mutex::new(false));
    let server = dns_server(zone.clone(), fail.clone()).await;
    let resolver = dns_sd::resolver_for(server).unwrap();

    let mut srv = dns_sd::DnsDiscovery::new(dns_cfg(
        &["_node._tcp.example.test", "_none._tcp.example.test"],
        DnsRecordType::Srv,
        0,
    ));
    let g = srv.refresh(&resolver).await;
    assert_eq!(g.len(), 2);
    assert_eq!(addresses(&g[..1]), ["db1.example.test:9100", "db2.example.test:9101"]);
    let t = &g[0].targets[1];
    assert_eq!(t["__meta_dns_name"], "_node._tcp.example.test");
    assert_eq!(t["__meta_dns_srv_record_target"], "db2.example.test.");
    assert_eq!(t["__meta_dns_srv_record_port"], "9101");
    assert_eq!(g[1].source, "_none._tcp.example.test");
    assert!(g[1].targets.is_empty(), "NXDOMAIN gives an empty group");

    // A failing server keeps each name's last group.
    *fail.lock().unwrap() = true;
    assert_eq!(srv.refresh(&resolver).await, g);
    *fail.lock().unwrap() = false;

    for (t, name, port, want, meta) in [
        (
            DnsRecordType::A,
            "web.example.test",
            8080,
            vec!["192.0.2.1:8080", "192.0.2.2:8080"],
            None,
        ),
        (
            DnsRecordType::Aaaa,
            "web.example.test",
            8080,
            vec!["[2001:db8::1]:8080"],
            None,
        ),
        (
            DnsRecordType::Mx,
            "example.test",
            25,
            vec!["mail.example.test:25"],
            Some(("__meta_dns_mx_record_target", "mail.example.test.")),
        ),
        (
            DnsRecordType::Ns,
            "example.test",
            53,
            vec!["ns1.example.test:53"],
            Some(("__meta_dns_ns_record_target", "ns1.example.test.")),
        ),
    ] {
        let g = dns_sd::DnsDiscovery::new(dns_cfg(&[name], t, port))
            .refresh(&resolver)
            .await;
        assert_eq!(addresses(&g), want, "{t:?}");
        if let Some((label, value)) = meta {
            assert_eq!(g[0].targets[0][label], value, "{t:?}");
        }
    }
}

#[tokio::test]
async fn dns_sd_provider_follows_record_changes() {
    let zone: Zone = Arc::default();
    let key = ("svc.example.test.".to_string(), RecordType::A);
    zone.lock()
        .unwrap()
        .insert(key.clone(), vec![RData::A(A::new(10, 0, 0, 1))]);
    let server = dns_server(zone.clone(), Arc::default()).await;
    let resolver = dns_sd::resolver_for(server).unwrap();
    let (tx, mut rx) = mpsc::channel(8);
    let _task = tokio::spawn(dns_sd::run_with(
        dns_cfg(&["svc.example.test"], DnsRecordType::A, 9100),
        Some(resolver),
        tx,
    ));
    assert_eq!(addresses(&next(&mut rx, "first lookup").await), ["10.0.0.1:9100"]);
    zone.lock().unwrap().insert(key, vec![RData::A(A::new(10, 0, 0, 2))]);
    assert_eq!(addresses(&next(&mut rx, "changed record").await), ["10.0.0.2:9100"]);
}

// ---------------------------------------------------------------- manager

async fn published(rx: &mut watch::Receiver<TargetSets>, what: &str, want: impl Fn(&TargetSets) -> bool) -> TargetSets {
    let deadline = Instant::now() + WAIT;
    loop {
        let cur = rx.borrow_and_update().clone();
        if want(&cur) {
            return cur;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, rx.changed()).await {
            Ok(Ok(())) => {}
            _ => panic!("{what}: not published within {WAIT:?}; last: {cur:?}"),
        }
    }
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

#[tokio::test]
async fn manager_merges_providers_per_job() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("f.yml"), "- targets: ['f1:1']\n");
    let cfg = config(&format!(
        "scrape_configs:\n  - job_name: a\n    static_configs:\n      - targets: ['s1:1']\n      - targets: ['s2:1']\n    file_sd_configs:\n      - files: ['{0}/*.yml']\n      - files: ['{0}/*.yml']\n  - job_name: b\n    static_configs:\n      - targets: ['b1:1']\n  - job_name: empty\n",
        dir.path().display()
    ));
    let mut m = DiscoveryManager::new(Duration::from_millis(100));
    let mut rx = m.subscribe();
    m.apply_config(&cfg).await;
    assert_eq!(m.provider_count(), 3, "identical file_sd entries run once");
    let sets = published(&mut rx, "all jobs", |s| s.get("a").is_some_and(|g| g.len() == 3)).await;
    let a = &sets["a"];
    assert_eq!(addresses(a), ["s1:1", "s2:1", "f1:1"]);
    assert_eq!((a[0].source.as_str(), a[1].source.as_str()), ("0", "1"));
    assert_eq!(addresses(&sets["b"]), ["b1:1"]);
    assert!(sets["empty"].is_empty());
    m.stop().await;
}

#[tokio::test]
async fn manager_publishes_at_most_once_per_debounce_interval() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("f.yml");
    write(&f, "- targets: ['x:0']\n");
    let cfg = config(&format!(
        "scrape_configs:\n  - job_name: a\n    file_sd_configs:\n      - files: ['{}']\n",
        f.display()
    ));
    let debounce = Duration::from_millis(400);
    let mut m = DiscoveryManager::new(debounce);
    let mut rx = m.subscribe();
    m.apply_config(&cfg).await;
    published(&mut rx, "first", |s| s.contains_key("a")).await;

    let writer = tokio::spawn(async move {
        for i in 1..=12 {
            write(&f, &format!("- targets: ['x:{i}']\n"));
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    });
    let mut times = Vec::new();
    let deadline = Instant::now() + WAIT;
    loop {
        let done = rx.borrow().get("a").is_some_and(|g| addresses(g) == ["x:12"]);
        if done {
            break;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        tokio::time::timeout(left, rx.changed())
            .await
            .expect("the last edit is published")
            .unwrap();
        times.push(Instant::now());
    }
    writer.await.unwrap();
    assert!(
        times.len() >= 2,
        "edits over ~1.8 s give several updates: {}",
        times.len()
    );
    assert!(
        times.len() <= 6,
        "12 edits within ~1.8 s are coalesced: {} updates",
        times.len()
    );
    for w in times.windows(2) {
        // Allow for the receiving task being scheduled a little late.
        assert!(
            w[1] - w[0] >= debounce - Duration::from_millis(50),
            "updates {:?} apart",
            w[1] - w[0]
        );
    }
    m.stop().await;
}

#[tokio::test]
async fn manager_reload_restarts_only_changed_providers_and_stop_ends_them() {
    let kept = HttpState::new(r#"[{"targets": ["k:1"]}]"#);
    let changed = HttpState::new(r#"[{"targets": ["c:1"]}]"#);
    let kept_url = format!("http://{}/sd", http_server(kept.clone()).await);
    let changed_url = format!("http://{}/sd", http_server(changed.clone()).await);
    let text = |tag: &str, third_job: &str| {
        format!(
            "scrape_configs:\n  - job_name: a\n    static_configs: [{{targets: ['s:{tag}']}}]\n    http_sd_configs:\n      - {{url: '{kept_url}', refresh_interval: 1h}}\n  - job_name: b\n    http_sd_configs:\n      - {{url: '{changed_url}?v={tag}', refresh_interval: 1h}}\n{third_job}"
        )
    };
    let mut m = DiscoveryManager::new(Duration::from_millis(50));
    let mut rx = m.subscribe();
    m.apply_config(&config(&text("1", ""))).await;
    published(&mut rx, "initial", |s| {
        s.get("a").is_some_and(|g| g.len() == 2) && s.get("b").is_some_and(|g| g.len() == 1)
    })
    .await;
    assert_eq!((kept.hits(), changed.hits()), (1, 1));

    m.apply_config(&config(&text(
        "2",
        "  - job_name: c\n    static_configs: [{targets: ['c:9']}]\n",
    )))
    .await;
    let sets = published(&mut rx, "after reload", |s| {
        s.get("a").is_some_and(|g| addresses(g) == ["s:2", "k:1"])
            && s.get("b").is_some_and(|g| !g.is_empty())
            && s.contains_key("c")
    })
    .await;
    assert_eq!(addresses(&sets["b"]), ["c:1"]);
    eventually("the changed provider fetches again", || changed.hits() == 2).await;
    assert_eq!(kept.hits(), 1, "an unchanged provider is not restarted");

    m.apply_config(&config(
        "scrape_configs:\n  - job_name: c\n    static_configs: [{targets: ['c:9']}]\n",
    ))
    .await;
    let sets = published(&mut rx, "jobs removed", |s| s.len() == 1).await;
    assert_eq!(addresses(&sets["c"]), ["c:9"]);
    assert_eq!(m.provider_count(), 1);

    m.stop().await;
    tokio::time::timeout(WAIT, async { while rx.changed().await.is_ok() {} })
        .await
        .expect("the manager task has ended");
}

#[tokio::test]
async fn alertmanager_sets_are_named_like_upstream() {
    let cfg = config(
        "alerting:\n  alertmanagers:\n    - static_configs: [{targets: ['am1:9093']}]\n    - static_configs: [{targets: ['am2:9093']}]\n",
    );
    let sets = strata::discovery::alertmanager_sd_sets(&cfg);
    let names: Vec<&str> = sets.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["config-0", "config-1"]);
    let mut m = DiscoveryManager::new(Duration::from_millis(10));
    let mut rx = m.subscribe();
    m.apply(sets).await;
    let got = published(&mut rx, "alertmanagers", |s| {
        s.len() == 2 && s.values().all(|g| !g.is_empty())
    })
    .await;
    assert_eq!(addresses(&got["config-1"]), ["am2:9093"]);
    m.stop().await;
}
