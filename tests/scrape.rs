//! Scraping real peers and simulated targets, end to end through the
//! strata binary: what gets stored, what `/api/v1/targets` says, and what
//! bad targets do.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use common::*;
use strata_storage::{is_stale_nan, Db, MatchOp, Matcher, Options};

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

fn active_targets(addr: &str) -> Vec<serde_json::Value> {
    get_json(addr, "/api/v1/targets?state=active")["data"]["activeTargets"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Waits until all `count` active targets are up (a first scrape may time out
/// on a loaded machine; the next one is what counts) and returns them.
fn wait_up(addr: &str, count: usize) -> Vec<serde_json::Value> {
    let mut last = Vec::new();
    wait_until(Duration::from_secs(60), "targets up", || {
        last = active_targets(addr);
        last.len() == count && last.iter().all(|t| t["health"] == "up")
    });
    last
}

fn open(dir: &Path) -> Db {
    Db::open(
        dir,
        Options {
            maintenance_interval: None,
            ..Options::default()
        },
    )
    .unwrap()
}

/// A stored series: labels and samples.
type Stored = (BTreeMap<String, String>, Vec<(i64, f64)>);

/// `(labels, samples)` of every series matching.
fn select(db: &Db, m: &[Matcher]) -> Vec<Stored> {
    db.querier(i64::MIN, i64::MAX)
        .select(m)
        .unwrap()
        .iter()
        .map(|s| {
            (
                s.labels.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect(),
                s.collect_samples().unwrap(),
            )
        })
        .collect()
}

fn eq(n: &str, v: &str) -> Matcher {
    Matcher::equal(n, v)
}

#[test]
fn scrapes_real_node_exporter_and_prometheus_with_job_instance_and_up() {
    if !have("prometheus-node-exporter") || !have("prometheus") {
        eprintln!("SKIPPED: prometheus-node-exporter or prometheus not installed (.ci/test installs them)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let ne_addr = format!("127.0.0.1:{}", free_port());
    let _ne = peer(
        "node_exporter",
        "prometheus-node-exporter",
        &[format!("--web.listen-address={ne_addr}")],
        ne_addr.clone(),
        "/metrics",
    );
    let prom_addr = format!("127.0.0.1:{}", free_port());
    let prom_cfg = write(tmp.path(), "prom.yml", "global:\n  scrape_interval: 1h\n");
    let prom_data = tmp.path().join("prom-data");
    let _prom = peer(
        "prometheus",
        "prometheus",
        &[
            format!("--config.file={prom_cfg}"),
            format!("--storage.tsdb.path={}", prom_data.display()),
            format!("--web.listen-address={prom_addr}"),
        ],
        prom_addr.clone(),
        "/-/ready",
    );
    let cfg = write(
        tmp.path(),
        "strata.yml",
        &format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n\
             - job_name: node\n  static_configs:\n  - targets: ['{ne_addr}']\n\
             - job_name: prometheus\n  static_configs:\n  - targets: ['{prom_addr}']\n"
        ),
    );
    let data = tmp.path().join("data");
    let mut s = strata(&data, &[&format!("--config.file={cfg}")]);
    let targets = wait_up(&s.addr, 2);
    for t in &targets {
        assert_eq!(t["health"], "up", "{t}");
        assert_eq!(t["lastError"], "", "{t}");
        assert_eq!(t["scrapeInterval"], "1s");
    }
    // Two scrapes at least, so the first stored samples are committed twice over.
    std::thread::sleep(Duration::from_millis(2500));
    s.stop(Duration::from_secs(20));

    let db = open(&data);
    let cpu = select(&db, &[eq("__name__", "node_cpu_seconds_total")]);
    assert!(!cpu.is_empty(), "no node_cpu_seconds_total stored");
    for (l, samples) in &cpu {
        assert_eq!(l["job"], "node");
        assert_eq!(l["instance"], ne_addr);
        assert!(l.contains_key("cpu") && l.contains_key("mode"), "{l:?}");
        assert!(samples.len() >= 2, "{l:?}: {samples:?}");
        // Counters from a real exporter: never decreasing.
        assert!(samples.windows(2).all(|w| w[1].1 >= w[0].1));
    }
    let build = select(&db, &[eq("__name__", "prometheus_build_info")]);
    assert_eq!(build.len(), 1, "{build:?}");
    assert_eq!(build[0].0["job"], "prometheus");
    assert_eq!(build[0].0["instance"], prom_addr);
    for (job, inst) in [("node", &ne_addr), ("prometheus", &prom_addr)] {
        let up = select(&db, &[eq("__name__", "up"), eq("job", job)]);
        assert_eq!(up.len(), 1, "{job}: {up:?}");
        assert_eq!(up[0].0["instance"], *inst);
        // The newest scrape succeeded (an earlier one may have timed out on a loaded machine).
        assert_eq!(up[0].1.last().map(|x| x.1), Some(1.0), "{job}: {:?}", up[0].1);
        let scraped = select(&db, &[eq("__name__", "scrape_samples_scraped"), eq("job", job)]);
        assert!(scraped[0].1.iter().all(|(_, v)| *v > 10.0), "{job}: {:?}", scraped[0].1);
    }
    // Timestamps are the scrape's, on a 1 s grid within the tolerance.
    let up = &select(&db, &[eq("__name__", "up"), eq("job", "node")])[0].1;
    for w in up.windows(2) {
        let d = w[1].0 - w[0].0;
        assert!((900..=1100).contains(&d) || d % 1000 == 0, "scrape spacing {d} ms");
    }
}

/// A tiny HTTP server answering each path with a fixed response.
async fn serve_bodies(routes: Vec<(&'static str, &'static str, Vec<u8>, u16)>) -> std::net::SocketAddr {
    use axum::http::{header, StatusCode};
    use axum::response::IntoResponse;
    let mut app = axum::Router::new();
    for (path, ct, body, status) in routes {
        app = app.route(
            path,
            axum::routing::get(move || {
                let body = body.clone();
                async move {
                    let mut r = (StatusCode::from_u16(status).unwrap(), body).into_response();
                    if !ct.is_empty() {
                        r.headers_mut().insert(header::CONTENT_TYPE, ct.parse().unwrap());
                    }
                    r
                }
            }),
        );
    }
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await });
    addr
}

#[test]
fn bad_bodies_fail_their_target_only_with_a_clear_error_and_stale_markers() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    const TEXT: &str = "text/plain; version=0.0.4";
    let big: Vec<u8> = {
        let mut b = Vec::with_capacity(100 << 20);
        let mut i = 0u64;
        while b.len() < 100 << 20 {
            b.extend_from_slice(format!("big_metric{{i=\"{i}\"}} {i}\n").as_bytes());
            i += 1;
        }
        b
    };
    // Every target is good for its first scrapes (so it has series to mark
    // stale) and then turns bad: the server flips after a few requests.
    let good = b"# TYPE ok_total counter\nok_total 1\nother 2\n".to_vec();
    let bad: Vec<(&'static str, &'static str, Vec<u8>, &'static str)> = vec![
        ("/truncated", TEXT, b"ok_total 1\nother{a=\"b\"".to_vec(), "line 2"),
        (
            "/escape",
            TEXT,
            b"ok_total 1\nother{a=\"\\q\\\"} 2\n".to_vec(),
            "line 2",
        ),
        (
            "/duplicate",
            TEXT,
            b"ok_total 1\nother 2\nother 3\n".to_vec(),
            "duplicate",
        ),
        (
            "/utf8",
            TEXT,
            b"ok_total 1\nother{a=\"\xff\xfe\"} 2\n".to_vec(),
            "UTF-8",
        ),
        ("/ctype", "application/x-foo", good.clone(), "Content-Type"),
        ("/big", TEXT, big, "body size limit exceeded"),
        ("/status", TEXT, good.clone(), "HTTP status 500"),
    ];
    let (addr, flip) = rt.block_on(async {
        let flip = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut app = axum::Router::new();
        for (path, ct, body, _) in bad.clone() {
            let (good, flip) = (good.clone(), flip.clone());
            app = app.route(
                path,
                axum::routing::get(move || {
                    let (good, body, flip) = (good.clone(), body.clone(), flip.clone());
                    async move {
                        use axum::response::IntoResponse;
                        if !flip.load(std::sync::atomic::Ordering::SeqCst) {
                            return ([(axum::http::header::CONTENT_TYPE, TEXT)], good).into_response();
                        }
                        let status = if path == "/status" { 500 } else { 200 };
                        let mut r = (axum::http::StatusCode::from_u16(status).unwrap(), body).into_response();
                        r.headers_mut()
                            .insert(axum::http::header::CONTENT_TYPE, ct.parse().unwrap());
                        r
                    }
                }),
            );
        }
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(l, app).await });
        (addr, flip)
    });
    let good_addr = rt.block_on(serve_bodies(vec![("/metrics", TEXT, b"fine 1\n".to_vec(), 200)]));
    let tmp = tempfile::tempdir().unwrap();
    let mut jobs = String::new();
    for (path, _, _, _) in &bad {
        let name = path.trim_start_matches('/');
        jobs.push_str(&format!(
            "- job_name: {name}\n  metrics_path: {path}\n  body_size_limit: 50MB\n  scrape_interval: 3s\n  scrape_timeout: 3s\n  static_configs:\n  - targets: ['{addr}']\n"
        ));
    }
    jobs.push_str(&format!(
        "- job_name: good\n  static_configs:\n  - targets: ['{good_addr}']\n"
    ));
    let cfg = write(
        tmp.path(),
        "strata.yml",
        &format!("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n{jobs}"),
    );
    let data = tmp.path().join("data");
    let mut s = strata(&data, &[&format!("--config.file={cfg}")]);
    let n = bad.len() + 1;
    wait_up(&s.addr, n);
    flip.store(true, std::sync::atomic::Ordering::SeqCst);
    let mut last = Vec::new();
    // On a loaded machine a scrape may time out first; wait for each target's own error.
    wait_until(Duration::from_secs(90), "bad targets down with their errors", || {
        last = active_targets(&s.addr);
        let good_up = last.iter().any(|t| t["scrapePool"] == "good" && t["health"] == "up");
        good_up
            && bad.iter().all(|(path, _, _, want)| {
                last.iter().any(|t| {
                    t["scrapePool"] == path.trim_start_matches('/')
                        && t["health"] == "down"
                        && t["lastError"].as_str().is_some_and(|e| e.contains(want))
                })
            })
    });
    for (path, _, _, want) in &bad {
        let t = last
            .iter()
            .find(|t| t["scrapePool"] == path.trim_start_matches('/'))
            .unwrap();
        let err = t["lastError"].as_str().unwrap();
        assert!(err.contains(want), "{path}: lastError {err:?} lacks {want:?}");
    }
    let good_t = last.iter().find(|t| t["scrapePool"] == "good").unwrap();
    assert_eq!(good_t["health"], "up");
    std::thread::sleep(Duration::from_millis(1500));
    s.stop(Duration::from_secs(20));
    drop(rt);

    let db = open(&data);
    for (path, _, _, _) in &bad {
        let job = path.trim_start_matches('/');
        let up = select(&db, &[eq("__name__", "up"), eq("job", job)]);
        let last_up = up[0].1.last().unwrap().1;
        assert_eq!(last_up, 0.0, "{job}: up {:?}", up[0].1);
        // The series of the good scrapes were marked stale when the target
        // turned bad, except those the failed attempt saw again before its
        // error (spec §2.8): the duplicate body repeats `other` itself.
        let other = select(&db, &[eq("__name__", "other"), eq("job", job)]);
        let marked = other[0].1.iter().any(|(_, v)| is_stale_nan(*v));
        assert_eq!(marked, job != "duplicate", "{job}: samples {:?}", other[0].1);
    }
    let fine = select(&db, &[eq("__name__", "up"), eq("job", "good")]);
    assert_eq!(fine[0].1.last().map(|x| x.1), Some(1.0), "{:?}", fine[0].1);
}

/// Prometheus's hashmod: the last 8 bytes of MD5, big-endian, mod n.
fn hashmod(s: &str, n: u64) -> u64 {
    strata::relabel::hashmod(s, n)
}

#[test]
fn four_shards_split_forty_targets_exactly_as_prometheus_does() {
    let tmp = tempfile::tempdir().unwrap();
    // Targets that refuse connections: shards still list them as active.
    let addrs: Vec<String> = (0..40).map(|i| format!("127.0.0.1:{}", 1 + i * 7)).collect();
    let list = addrs.iter().map(|a| format!("'{a}'")).collect::<Vec<_>>().join(", ");
    let shard_cfg = |i: u32| {
        format!(
            "global:\n  scrape_interval: 1m\n  external_labels:\n    shard: '{i}'\nscrape_configs:\n\
             - job_name: sharded\n  static_configs:\n  - targets: [{list}]\n  relabel_configs:\n\
             \x20 - source_labels: [__address__]\n    modulus: 4\n    target_label: __tmp_hash\n    action: hashmod\n\
             \x20 - source_labels: [__tmp_hash]\n    regex: '^{i}$'\n    action: keep\n"
        )
    };
    let mut seen: BTreeMap<String, u32> = BTreeMap::new();
    let mut shards = Vec::new();
    for i in 0..4u32 {
        let cfg = write(tmp.path(), &format!("shard-{i}.yml"), &shard_cfg(i));
        let s = strata(
            &tmp.path().join(format!("data-{i}")),
            &[&format!("--config.file={cfg}")],
        );
        let mut got = Vec::new();
        wait_until(Duration::from_secs(30), "shard targets", || {
            let d = get_json(&s.addr, "/api/v1/targets")["data"].clone();
            got = d["activeTargets"].as_array().cloned().unwrap_or_default();
            let dropped = d["droppedTargets"].as_array().map_or(0, |a| a.len());
            !got.is_empty() && got.len() + dropped == 40
        });
        for t in &got {
            let a = t["discoveredLabels"]["__address__"].as_str().unwrap().to_string();
            assert_eq!(hashmod(&a, 4), u64::from(i), "{a} kept by shard {i}");
            assert!(seen.insert(a, i).is_none(), "a target kept twice");
        }
        shards.push(s);
    }
    assert_eq!(seen.len(), 40, "every target kept by exactly one shard");

    // A real Prometheus with the same shard config keeps the same targets.
    if !have("prometheus") {
        eprintln!("SKIPPED the Prometheus comparison: prometheus not installed");
        return;
    }
    for i in [0u32, 3] {
        let cfg = write(tmp.path(), &format!("prom-shard-{i}.yml"), &shard_cfg(i));
        let addr = format!("127.0.0.1:{}", free_port());
        let _p = peer(
            "prometheus",
            "prometheus",
            &[
                format!("--config.file={cfg}"),
                format!("--storage.tsdb.path={}", tmp.path().join(format!("prom-{i}")).display()),
                format!("--web.listen-address={addr}"),
            ],
            addr.clone(),
            "/-/ready",
        );
        let mut theirs = BTreeSet::new();
        wait_until(Duration::from_secs(30), "prometheus targets", || {
            theirs = get_json(&addr, "/api/v1/targets?state=active")["data"]["activeTargets"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["discoveredLabels"]["__address__"].as_str().unwrap().to_string())
                .collect();
            !theirs.is_empty()
        });
        let ours: BTreeSet<String> = seen.iter().filter(|(_, s)| **s == i).map(|(a, _)| a.clone()).collect();
        assert_eq!(theirs, ours, "shard {i}");
    }
}

#[test]
fn simulated_targets_are_scraped_and_a_removed_target_goes_stale() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let running = rt.block_on(async {
        strata::loadgen::start_targets(
            &strata::loadgen::TargetsConfig {
                targets: 3,
                series: 200,
                listen: "127.0.0.1".parse().unwrap(),
                base_port: 0,
                churn_pct_per_min: 0.0,
                seed: 1,
            },
            strata::loadgen::Clock::system(),
        )
        .await
        .unwrap()
    });
    let addrs: Vec<String> = running.addrs().iter().map(|a| a.to_string()).collect();
    let tmp = tempfile::tempdir().unwrap();
    let sd = tmp.path().join("targets.json");
    let groups = |a: &[String]| serde_json::json!([{"targets": a, "labels": {"env": "test"}}]).to_string();
    std::fs::write(&sd, groups(&addrs)).unwrap();
    let cfg = write(
        tmp.path(),
        "strata.yml",
        &format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n\
             - job_name: sim\n  file_sd_configs:\n  - files: ['{}']\n",
            sd.display()
        ),
    );
    let data = tmp.path().join("data");
    let mut s = strata(&data, &[&format!("--config.file={cfg}"), "--web.enable-lifecycle"]);
    let t = wait_up(&s.addr, 3);
    assert!(t.iter().all(|t| t["labels"]["env"] == "test"), "{t:?}");
    let md = get_json(&s.addr, "/api/v1/metadata")["data"].clone();
    assert!(md.as_object().is_some_and(|m| m.len() > 5), "{md}");
    // The file loses a target: it leaves the API at once and its series go stale.
    std::fs::write(&sd, groups(&addrs[..2])).unwrap();
    wait_until(Duration::from_secs(30), "target removed", || {
        active_targets(&s.addr).len() == 2
    });
    let gone = addrs[2].clone();
    // End-of-run staleness waits for the next missed scrape plus an interval and 10%.
    std::thread::sleep(Duration::from_millis(3500));
    s.stop(Duration::from_secs(20));
    drop(running);
    drop(rt);

    let db = open(&data);
    let all = select(&db, &[Matcher::new(MatchOp::Regex, "instance", ".+").unwrap()]);
    let by_inst: BTreeMap<&str, usize> = all.iter().fold(BTreeMap::new(), |mut m, (l, _)| {
        *m.entry(l["instance"].as_str()).or_default() += 1;
        m
    });
    for a in &addrs {
        assert!(by_inst.get(a.as_str()).copied().unwrap_or(0) >= 200, "{a}: {by_inst:?}");
    }
    let gone_series = select(&db, &[eq("instance", &gone)]);
    let stale = gone_series
        .iter()
        .filter(|(_, s)| s.last().is_some_and(|x| is_stale_nan(x.1)))
        .count();
    assert_eq!(
        stale,
        gone_series.len(),
        "every series of the removed target ends stale"
    );
    let kept = select(&db, &[eq("instance", &addrs[0]), eq("__name__", "up")]);
    assert!(!is_stale_nan(kept[0].1.last().unwrap().1));
}

#[test]
fn reload_applies_a_good_file_and_refuses_a_bad_one() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let a = rt.block_on(serve_bodies(vec![(
        "/metrics",
        "text/plain; version=0.0.4",
        b"x 1\n".to_vec(),
        200,
    )]));
    let tmp = tempfile::tempdir().unwrap();
    let job = |name: &str| {
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n\
             - job_name: {name}\n  static_configs:\n  - targets: ['{a}']\n"
        )
    };
    let cfg = write(tmp.path(), "strata.yml", &job("one"));
    let s = strata(
        &tmp.path().join("data"),
        &[&format!("--config.file={cfg}"), "--web.enable-lifecycle"],
    );
    let t = wait_up(&s.addr, 1);
    assert_eq!(t[0]["scrapePool"], "one");
    let before = t[0]["lastScrape"].clone();

    std::fs::write(&cfg, "scrape_configs:\n- job_name: [\n").unwrap();
    let (code, body) = try_request(&s.addr, "POST", "/-/reload").unwrap();
    assert_eq!(code, 500);
    assert!(body.starts_with("failed to reload config: "), "{body}");
    assert!(
        body.contains("strata.yml:"),
        "error names the file and position: {body}"
    );
    // Still scraping with the old config, without a gap.
    wait_until(Duration::from_secs(10), "scrapes continue", || {
        let t = active_targets(&s.addr);
        t.len() == 1 && t[0]["scrapePool"] == "one" && t[0]["lastScrape"] != before
    });

    std::fs::write(&cfg, job("two")).unwrap();
    let (code, _) = try_request(&s.addr, "POST", "/-/reload").unwrap();
    assert_eq!(code, 200);
    wait_until(Duration::from_secs(30), "new job", || {
        let t = active_targets(&s.addr);
        t.len() == 1 && t[0]["scrapePool"] == "two" && t[0]["health"] == "up"
    });
    let (code, _) = get(&s.addr, "/-/reload");
    assert_eq!(code, 405);
    // strata's own metrics count its targets by pool and health.
    let (code, metrics) = get(&s.addr, "/metrics");
    assert_eq!(code, 200);
    assert!(
        metrics.contains("strata_scrape_targets{pool=\"two\",health=\"up\"} 1"),
        "{metrics}"
    );
    drop(rt);
}
